"""scikit-learn's conventions in the engine itself, checked against scikit-learn's MLP from the same weights:
the epoch loss with the L2 term (decay_scaling="batch"), multi-label networks, Momentum(momentum=1.0), a
sigmoid output that keeps tiny probabilities; and the logistic epoch accuracy, epoch numbering from an offset."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

import relunet
from relunet import MLP, Trainer
from relunet.engine.errors import DivergenceError, RelunetError
from relunet.engine.losses import Logistic
from relunet.engine.optim import SGD, Momentum

N = 40
X, Y_MULTICLASS = make_blobs(N, n_features=3, centers=3, random_state=0)
Y_MULTILABEL = make_multilabel_classification(N, n_features=3, n_classes=3, random_state=1)[1]
Y_REGRESSION = X @ np.array([0.5, -1.0, 0.2]) + 0.3
TARGETS = {"multiclass": Y_MULTICLASS, "binary": Y_MULTICLASS % 2, "multilabel": Y_MULTILABEL,
           "regression": Y_REGRESSION}


def sklearn_from_one_epoch(target, **params):
    """scikit-learn's MLP after one epoch (plain SGD, fixed order) and relunet's MLP with its weights: the
    next fit(warm_start) continues from exactly these weights."""
    est = (MLPRegressor if target == "regression" else MLPClassifier)(
        hidden_layer_sizes=(6,), solver="sgd", shuffle=False, max_iter=1, warm_start=True, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, TARGETS[target])
    task = "regression" if target == "regression" else "classification"
    loss = {"multiclass": "cross_entropy", "regression": "mse"}.get(target, "logistic")
    model = MLP([3, 6, est.n_outputs_], task=task, loss=loss,
                classes=est.classes_ if target == "multiclass" else None)
    model.set_weights([(W.T, b) for W, b in zip(est.coefs_, est.intercepts_)])
    return est, model


def more_epochs(est, target, epochs):
    """scikit-learn's next `epochs` epochs: their losses, and its weights as relunet's [W1, b1, ...]."""
    est.set_params(max_iter=epochs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, TARGETS[target])
    return est.loss_curve_[-epochs:], [p for W, b in zip(est.coefs_, est.intercepts_) for p in (W.T, b)]


@pytest.mark.parametrize("target, backend", [("multiclass", "reference"), ("multiclass", "kernel"),
                                             ("binary", "reference"), ("multilabel", "reference"),
                                             ("regression", "reference"), ("regression", "kernel")])
@pytest.mark.parametrize("batch_size", [1, 7])  # 7 leaves a partial last batch of 5
def test_epoch_loss_with_batch_scaled_decay_is_scikit_learns(target, backend, batch_size):
    """With decay_scaling="batch" the Trainer's epoch loss is scikit-learn's loss_curve_: each batch's loss
    plus 0.5 alpha |W|^2 / batch_len, measured before its update, averaged over the tokens."""
    alpha, lr = 0.05, 0.05
    est, model = sklearn_from_one_epoch(target, alpha=alpha, momentum=0.0, batch_size=batch_size,
                                        learning_rate_init=lr)
    y = TARGETS[target]
    trainer = Trainer(model, X, y, optimizer=SGD(weight_decay=alpha, decay_scaling="batch"), lr=lr,
                      batch_size=batch_size, shuffle=False, backend=backend)
    ours = [trainer.run_epoch()["loss"] for _ in range(3)]
    theirs, weights = more_epochs(est, target, 3)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for a, b in zip(model.parameters(), weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_constant_decay_reports_the_data_loss_alone():
    """decay_scaling="constant" (PyTorch's convention) leaves the L2 term out of the reported loss."""
    model = MLP([3, 4, 3], seed=0)
    before = relunet.engine.loss_and_gradients(model, X[:1], Y_MULTICLASS[:1])[0]
    record = Trainer(model, X[:1], Y_MULTICLASS[:1], weight_decay=0.5, backend="reference").run_epoch()
    assert record["loss"] == pytest.approx(before, rel=1e-15)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("backend", ["reference", "kernel"])
def test_momentum_one_is_accepted_and_trains_as_scikit_learn(nesterov, backend):
    """Momentum(momentum=1.0): the velocity never decays, as in scikit-learn's MLP (which accepts it)."""
    est, model = sklearn_from_one_epoch("multiclass", alpha=0.0, momentum=1.0, nesterovs_momentum=nesterov,
                                        batch_size=10, learning_rate_init=0.01)
    trainer = Trainer(model, X, Y_MULTICLASS, optimizer=Momentum(1.0, nesterov=nesterov), lr=0.01, batch_size=10,
                      shuffle=False, backend=backend)
    ours = [trainer.run_epoch()["loss"] for _ in range(3)]
    theirs, weights = more_epochs(est, "multiclass", 3)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    for a, b in zip(model.parameters(), weights):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    with pytest.raises(RelunetError, match="at most 1"):
        Momentum(1.01)


def test_multilabel_model_predicts_scikit_learns_indicator_matrix():
    """loss="logistic", several outputs, no classes: a multi-label model. It takes and predicts (N, K) 0/1
    matrices, its probabilities and (subset-accuracy) score are scikit-learn's, and a model file keeps it."""
    est, model = sklearn_from_one_epoch("multilabel", alpha=0.0, momentum=0.0, batch_size=10)
    assert model.multilabel and model.classes is None
    np.testing.assert_allclose(model.predict_proba(X), est.predict_proba(X), rtol=1e-13)
    np.testing.assert_array_equal(model.predict(X), est.predict(X))
    assert model.score(X, Y_MULTILABEL) == est.score(X, Y_MULTILABEL) == relunet.evaluate(model, X, Y_MULTILABEL)[
        "accuracy"]
    assert not MLP([3, 6, 3], loss="logistic", classes=["a", "b", "c"]).multilabel  # one-hot multi-class
    with pytest.raises(RelunetError, match=r"multi-label model must be an \(N, 3\) matrix"):
        Trainer(model, X, Y_MULTICLASS)
    with pytest.raises(RelunetError, match="must be 0 or 1, got 2.0"):
        model.score(X, Y_MULTILABEL * 2)


def test_multilabel_model_file_round_trip(tmp_path):
    model = MLP([3, 5, 4], loss="logistic", seed=3)
    relunet.save(model, tmp_path / "m.npz")
    back = relunet.load(tmp_path / "m.npz")
    assert back.multilabel and back.loss == "logistic"
    np.testing.assert_array_equal(back.predict(X), model.predict(X))


@pytest.mark.parametrize("classes, batch_size", [(["a", "b", "c"], N), (None, N), (["a", "b", "c"], 1)])
def test_logistic_epoch_accuracy_is_the_accuracy_of_predict(classes, batch_size):
    """The epoch accuracy counts what predict says: argmax for one-hot multi-class logistic outputs, every
    label for multi-label ones. With one update per epoch, it is score() on the weights before the update."""
    model = MLP([3, 8, 3], loss="logistic", classes=classes, seed=2)
    y = np.array(classes)[Y_MULTICLASS] if classes else Y_MULTILABEL
    before = model.score(X, y)
    if batch_size == 1:  # token by token, by hand: was each token's prediction right just before its update?
        right = 0
        probe = model.copy()
        for i in range(N):
            right += int(probe.predict(X[i:i + 1])[0] == y[i])
            Trainer(probe, X[i:i + 1], y[i:i + 1], lr=0.1, shuffle=False, backend="reference").run_epoch()
        before = right / N
    record = Trainer(model, X, y, lr=0.1, batch_size=batch_size, shuffle=False, backend="reference").run_epoch()
    assert record["accuracy"] == pytest.approx(before, abs=1e-15) and before > 0


def test_sigmoid_output_keeps_tiny_probabilities():
    """Logistic.output is the logistic function to a few ulps everywhere (SciPy's expit as the reference):
    no overflow at -800, and e^-60 is not rounded to 0 as 1 - (1 - p) would."""
    from scipy.special import expit

    z = np.concatenate([np.linspace(-700, 700, 2801), [-60.0, -38.5, 0.0, 1e-300]])[:, None]
    with np.errstate(all="raise"):
        f = Logistic().output(z)
    np.testing.assert_allclose(f, expit(z), rtol=1e-15, atol=0)
    assert f[-4, 0] == pytest.approx(np.exp(-60.0), rel=1e-15) and Logistic().output(np.array([[-800.0]]))[0, 0] == 0
    f32 = Logistic().output(np.array([[-80.0, 0.5]], np.float32))
    assert f32.dtype == np.float32 and f32[0, 0] == pytest.approx(np.exp(-80.0), rel=1e-6)


@pytest.mark.parametrize("backend", ["reference", "kernel"])
def test_epochs_are_numbered_on_from_a_set_epoch(backend):
    """Setting trainer.epoch numbers the next epochs (and a divergence) on from there; the schedule follows."""
    trainer = Trainer(MLP([3, 4, 1], task="regression", seed=0), X, Y_REGRESSION, lr=0.01, schedule="invscaling",
                      backend=backend)
    trainer.epoch = 3
    record = trainer.run_epoch()
    assert record["epoch"] == 4 and record["lr"] == pytest.approx(0.01 / 2.0)
    trainer.lr = 1e6
    with pytest.raises(DivergenceError, match="diverged in epoch 5") as e:
        trainer.run_epoch()
    assert e.value.epoch == 5
