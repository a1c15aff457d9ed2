"""Training: learning on the lecture's examples, stop rules, determinism, divergence, optimizers by hand."""

import math

import numpy as np
import pytest

import relunet
from relunet.engine import LOSSES, MLP, SGD, Adam, DivergenceError, Momentum, RelunetError, Trainer, fit
from relunet.engine.losses import SoftmaxCrossEntropy
from relunet.engine.optim import make_schedule


# ----------------------------------------------------------------------------- learning (the lecture's claims)
def test_linear_classifier_cannot_learn_the_lecture_example():
    X, y = relunet.make_dataset("lecture", seed=0)
    model = MLP([2, 2], seed=0)
    fit(model, X, y, epochs=300, lr=0.1)
    assert model.score(X, y) < 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_layer_relu_net_learns_the_lecture_example_with_per_sample_sgd(seed):
    X, y = relunet.make_dataset("lecture", seed=seed)
    model = MLP([2, 8, 2], seed=seed)
    history = fit(model, X, y, epochs=500, lr=0.1, batch_size=1, target_loss=0.01, seed=seed)
    assert model.score(X, y) == 1.0
    assert history.stop_reason == "target loss" and history.loss[-1] <= 0.01


def test_two_layer_relu_net_learns_xor():
    X, y = relunet.make_dataset("xor", seed=0)
    model = MLP([2, 8, 2], seed=0)
    fit(model, X, y, epochs=100, lr=0.1)
    assert model.score(X, y) == 1.0


def test_deep_net_learns_three_arm_spiral():
    X, y = relunet.make_dataset("spiral", classes=3, seed=0)
    model = MLP([2, 64, 64, 3], seed=0)
    fit(model, X, y, epochs=300, lr=0.01, batch_size=32, optimizer="adam")
    assert model.score(X, y) >= 0.99


def test_regression_net_fits_noise_free_sine():
    X, y = relunet.make_dataset("sine", seed=0)
    model = MLP([1, 64, 1], task="regression", seed=0)
    fit(model, X, y, epochs=800, lr=0.005, batch_size=10, optimizer="adam")
    assert relunet.evaluate(model, X, y)["mse"] < 1e-3


# ----------------------------------------------------------------------------- determinism and the fused path
@pytest.mark.parametrize("options", [dict(batch_size=1), dict(batch_size=7, optimizer="adam", lr=0.01),
                                     dict(batch_size=1, optimizer="nesterov", validation=0.2)])
def test_same_seed_same_data_same_options_give_bit_identical_weights(options):
    X, y = relunet.make_dataset("moons", seed=3)
    runs = []
    for _ in range(2):
        model = MLP([2, 16, 2], seed=5)
        fit(model, X, y, epochs=5, seed=9, **options)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        assert np.array_equal(a, b)
    model = MLP([2, 16, 2], seed=5)
    fit(model, X, y, epochs=5, seed=10, **options)
    assert not np.array_equal(model.get_weights()[0], runs[0][0])


def _hand_sgd(model, X, y, order, lr, weight_decay=0.0):
    """Per-sample SGD done the slow, obvious way: forward, loss, backward, SGD.step for each token."""
    opt, params = SGD(weight_decay=weight_decay), model.parameters()
    t = model.encode_labels(y)
    for i in order:
        z, tape = model.forward(X[i:i + 1])
        opt.step(params, model.backward(tape, LOSSES[model.loss]().value_and_grad(z, t[i:i + 1])[1]), lr)


@pytest.mark.parametrize("sizes,activation,task", [([2, 16, 3], "relu", "classification"),
                                                   ([2, 8, 8, 2], "tanh", "classification"),
                                                   ([3, 5, 4], "leaky_relu", "classification"),
                                                   ([1, 12, 1], "relu", "regression"),
                                                   ([2, 3], "relu", "classification")])
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("backend", ["reference", "auto"])
def test_trainer_per_sample_sgd_equals_forward_backward_and_sgd_step(sizes, activation, task, weight_decay, backend):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, sizes[0]))
    y = rng.integers(0, sizes[-1], 60) if task == "classification" else rng.normal(size=60)
    a, b = MLP(sizes, activation, task, seed=1), MLP(sizes, activation, task, seed=1)
    fit(a, X, y, epochs=2, lr=0.05, weight_decay=weight_decay, seed=3, backend=backend)
    draws = np.random.default_rng(3)
    _hand_sgd(b, X, y, np.concatenate([draws.permutation(60), draws.permutation(60)]), 0.05, weight_decay)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------- stop rules and history
def test_history_records_every_epoch():
    X, y = relunet.make_dataset("xor", n=40, seed=0)
    model = MLP([2, 6, 2])
    h = fit(model, X, y, epochs=7, batch_size=8, validation=0.25)
    assert len(h) == 7 and h.epoch == list(range(1, 8))
    assert all(0 <= a <= 1 for a in h.accuracy + h.val_accuracy)
    assert h.updates == [4 * e for e in range(1, 8)]  # 30 training tokens in batches of 8
    assert h.stop_reason == "max epochs"


def test_epoch_loss_is_the_mean_of_the_losses_before_each_update():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 2)), np.array([0, 1, 0, 1, 1, 0])
    model, check = MLP([2, 3, 2], seed=0), MLP([2, 3, 2], seed=0)
    h = fit(model, X, y, epochs=1, batch_size=1, shuffle=False, lr=0.1)
    opt, losses = SGD(), []
    for i in range(6):
        z, tape = check.forward(X[i:i + 1])
        loss, dz = SoftmaxCrossEntropy().value_and_grad(z, y[i:i + 1])
        losses.append(loss)
        opt.step(check.parameters(), check.backward(tape, dz), 0.1)
    assert h.loss[0] == pytest.approx(np.mean(losses), rel=1e-12)


def test_epoch_record_lists_each_batch_as_a_hand_computed_loop():
    """rows, weight, data-loss sum (the weighted mean loss times the weight) and L2 term of each batch, measured
    before its update, and the epoch's loss their ratio; batches of 4 over 10 tokens, the last one partial."""
    rng = np.random.default_rng(1)
    X, y, w = rng.normal(size=(10, 3)), rng.integers(0, 2, 10), rng.uniform(0.5, 2.0, 10)
    model, check = MLP([3, 4, 2], seed=0), MLP([3, 4, 2], seed=0)
    opt = SGD(weight_decay=0.1, decay_scaling="batch")
    record = Trainer(model, X, y, optimizer=opt, lr=0.1, batch_size=4, shuffle=False, sample_weight=w,
                     backend="reference").run_epoch()
    hand = SGD(weight_decay=0.1, decay_scaling="batch")
    for i, s in enumerate(range(0, 10, 4)):
        z, tape = check.forward(X[s:s + 4])
        loss, dz = SoftmaxCrossEntropy().value_and_grad(z, y[s:s + 4], w[s:s + 4])
        W2 = sum(float((W ** 2).sum()) for W in check.parameters()[0::2])
        assert record["batch_rows"][i] == len(z) and record["batch_weight"][i] == pytest.approx(w[s:s + 4].sum())
        assert record["batch_loss"][i] == pytest.approx(loss * w[s:s + 4].sum(), rel=1e-12)
        assert record["batch_penalty"][i] == pytest.approx(0.05 * W2, rel=1e-12)
        hand.step(check.parameters(), check.backward(tape, dz), 0.1, float(w[s:s + 4].sum()))
    parts = record["batch_loss"] + record["batch_penalty"]
    assert record["loss"] == pytest.approx(parts.sum() / w.sum(), rel=1e-12)


def test_sparse_inputs_are_checked_as_dense_ones():
    """A SciPy sparse X gets the dense input's sentences: its width, NaN, its row count against the labels."""
    import scipy.sparse as sparse
    model, y = MLP([3, 4, 2], seed=0), np.array([0, 1, 0, 1])
    for X in (np.eye(4, 5), np.array([[np.nan, 0, 1]] * 4), np.eye(3)):
        with pytest.raises(RelunetError) as dense:
            Trainer(model, X, y)
        with pytest.raises(RelunetError) as as_sparse:
            Trainer(model, sparse.csr_matrix(X), y)
        assert str(as_sparse.value) == str(dense.value)


def test_target_loss_stops_training():
    X, y = relunet.make_dataset("lecture", seed=0)
    h = fit(MLP([2, 8, 2]), X, y, epochs=1000, lr=0.1, target_loss=0.05)
    assert h.stop_reason == "target loss" and h.loss[-1] <= 0.05 and len(h) < 1000
    assert all(v > 0.05 for v in h.loss[:-1])


def test_patience_stops_when_the_loss_stops_improving():
    X, y = relunet.make_dataset("random", n=40, seed=0)
    h = fit(MLP([2, 2]), X, y, epochs=500, lr=0.5, patience=5, min_delta=1e-3)
    assert h.stop_reason == "patience" and len(h) < 500
    best = min(h.loss[:-5])
    assert all(v > best - 1e-3 for v in h.loss[-5:])


def test_early_stopping_restores_the_best_validation_weights():
    X, y = relunet.make_dataset("random", n=60, seed=1)  # random labels: validation loss soon rises
    model = MLP([2, 64, 2], seed=0)
    best = {}

    def remember(trainer, record):
        if record["val_loss"] <= min(trainer.history.val_loss):
            best["w"] = trainer.model.get_weights()

    h = fit(model, X, y, epochs=300, lr=0.05, validation=0.3, patience=10, callbacks=[remember])
    assert h.stop_reason == "patience"
    assert h.best_epoch == int(np.argmin(h.val_loss)) + 1 < len(h)
    for a, b in zip(model.get_weights(), best["w"]):
        np.testing.assert_array_equal(a, b)


def test_callback_can_stop_training():
    X, y = relunet.make_dataset("xor", n=20, seed=0)
    h = fit(MLP([2, 4, 2]), X, y, epochs=50, callbacks=[lambda trainer, record: record["epoch"] == 3])
    assert len(h) == 3 and h.stop_reason == "callback"


def test_no_shuffle_visits_tokens_in_order():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 2)), rng.integers(0, 2, 10)
    a, b = MLP([2, 3, 2], seed=0), MLP([2, 3, 2], seed=0)
    fit(a, X, y, epochs=1, shuffle=False)
    _hand_sgd(b, X, y, np.arange(10), 0.01)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-13, atol=1e-15)


def test_step_advances_single_updates_across_epochs():
    X, y = relunet.make_dataset("xor", n=10, seed=0)
    trainer = Trainer(MLP([2, 4, 2]), X, y, batch_size=4)  # 3 updates per epoch
    assert trainer.step(2) == []
    records = trainer.step(5)
    assert [r["epoch"] for r in records] == [1, 2] and trainer.updates == 7


def test_epoch_position_and_updates_left():
    X, y = relunet.make_dataset("xor", n=10, seed=0)
    trainer = Trainer(MLP([2, 4, 2]), X, y, batch_size=4)  # updates of 4, 4, 2 tokens
    assert trainer.epoch_position == 0 and trainer.updates_left_in_epoch == 3
    trainer.step(1)
    assert trainer.epoch_position == 4 and trainer.updates_left_in_epoch == 2
    trainer.step(2)
    assert trainer.epoch_position == 0 and trainer.updates_left_in_epoch == 3 and trainer.epoch == 1


def test_epochs_zero_leaves_the_initial_weights():
    X, y = relunet.make_dataset("xor", n=10, seed=0)
    model = MLP([2, 4, 2], seed=3)
    w = model.get_weights()
    h = fit(model, X, y, epochs=0)
    assert len(h) == 0
    for a, b in zip(model.get_weights(), w):
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- divergence
@pytest.mark.parametrize("options", [dict(batch_size=1), dict(batch_size=16, optimizer="momentum")])
def test_divergence_stops_with_a_clear_error_and_keeps_finite_weights(options):
    X, y = relunet.make_dataset("sine", seed=0)
    model = MLP([1, 32, 32, 1], task="regression", seed=0)
    with pytest.raises(DivergenceError) as err:
        fit(model, X, y * 1e3, epochs=50, lr=10.0, **options)
    msg = str(err.value)
    assert f"epoch {err.value.epoch}" in msg and "smaller learning rate" in msg
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert err.value.history.stop_reason == "diverged"


# ----------------------------------------------------------------------------- optimizers against hand-worked steps
def _one(value):
    return [np.array([[value]]), np.array([0.0])]


def test_sgd_momentum_and_nesterov_follow_pytorch_form():
    W = _one(1.0)
    opt = Momentum(0.9)
    opt.step(W, _one(0.5), 0.1)     # v = 0.5, W = 1 - 0.05
    opt.step(W, _one(0.5), 0.1)     # v = 0.9*0.5 + 0.5 = 0.95, W = 0.95 - 0.095
    assert W[0][0, 0] == pytest.approx(0.855, abs=1e-15)
    assert opt.state["velocity"][0][0, 0] == pytest.approx(0.95)
    W = _one(1.0)
    Momentum(0.9, nesterov=True).step(W, _one(0.5), 0.1)  # v = 0.5, W = 1 - 0.1*(0.5 + 0.45)
    assert W[0][0, 0] == pytest.approx(0.905, abs=1e-15)


def test_weight_decay_applies_to_weights_only():
    params = [np.array([[2.0]]), np.array([3.0])]
    SGD(weight_decay=0.5).step(params, _one(0.0), 0.1)
    assert params[0][0, 0] == pytest.approx(2.0 - 0.1 * 0.5 * 2.0) and params[1][0] == 3.0
    params = [np.array([[2.0]]), np.array([3.0])]
    SGD(weight_decay=0.5, decay_scaling="batch").step(params, _one(0.0), 0.1, batch_len=4)
    assert params[0][0, 0] == pytest.approx(2.0 - 0.1 * 0.5 * 2.0 / 4)  # scikit-learn's alpha W / batch


def test_adam_first_steps_by_hand():
    W, opt = _one(1.0), Adam()
    opt.step(W, _one(0.2), 0.01)  # bias-corrected m = g, v = g^2: step = lr * g / (|g| + eps)
    assert W[0][0, 0] == pytest.approx(1.0 - 0.01 * 0.2 / (0.2 + 1e-8), abs=1e-15)
    opt.step(W, _one(-0.4), 0.01)
    m = (0.9 * 0.1 * 0.2 + 0.1 * -0.4) / (1 - 0.9 ** 2)
    v = (0.999 * 0.001 * 0.04 + 0.001 * 0.16) / (1 - 0.999 ** 2)
    assert W[0][0, 0] == pytest.approx(1.0 - 0.01 * 0.2 / (0.2 + 1e-8) - 0.01 * m / (math.sqrt(v) + 1e-8),
                                       abs=1e-14)
    assert opt.state["t"] == 2


def test_adam_sklearn_eps_style_equals_scikit_learns_adam():
    from sklearn.neural_network._stochastic_optimizers import AdamOptimizer

    rng = np.random.default_rng(0)
    ours = [rng.normal(size=(3, 2)), rng.normal(size=3)]
    theirs = [p.copy() for p in ours]
    opt, ref = Adam(eps_style="sklearn"), AdamOptimizer(theirs, learning_rate_init=0.01)
    for _ in range(5):
        grads = [rng.normal(size=(3, 2)), rng.normal(size=3)]
        opt.step(ours, grads, 0.01)
        ref.update_params(theirs, grads)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


def test_learning_rate_schedules():
    assert make_schedule("invscaling", power=0.5)(0.1, 3) == pytest.approx(0.05)
    assert make_schedule("step", step_size=10, gamma=0.5)(0.1, 25) == pytest.approx(0.025)
    X, y = relunet.make_dataset("xor", n=20, seed=0)
    h = fit(MLP([2, 4, 2]), X, y, epochs=4, lr=0.2, schedule="invscaling")
    assert h.lr == pytest.approx([0.2 / math.sqrt(e) for e in range(1, 5)])


@pytest.mark.parametrize("kwargs,message", [
    (dict(lr=0.0), "learning rate must be a finite number above 0"),
    (dict(lr=-1.0), "learning rate"),
    (dict(batch_size=0), "batch size must be a positive integer"),
    (dict(momentum=1.5, optimizer="momentum"), "momentum must be at most 1"),
    (dict(optimizer="rmsprop"), "unknown optimizer 'rmsprop'"),
    (dict(validation=1.5), "validation fraction must be in [0, 1)"),
    (dict(schedule="cosine"), "unknown learning-rate schedule"),
])
def test_bad_training_options_raise_one_clear_value_error(kwargs, message):
    X, y = relunet.make_dataset("xor", n=20, seed=0)
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace(")", r"\)")):
        fit(MLP([2, 4, 2]), X, y, epochs=1, **kwargs)


def test_bad_data_raises_clear_errors():
    model = MLP([2, 4, 2])
    with pytest.raises(RelunetError, match="has 3 features but the model expects 2"):
        fit(model, np.zeros((5, 3)), np.zeros(5, int))
    with pytest.raises(RelunetError, match="NaN or infinite"):
        fit(model, np.array([[0.0, np.nan]]), np.array([0]))
    with pytest.raises(RelunetError, match="not one of the model's classes"):
        fit(model, np.zeros((2, 2)), np.array([0, 7]))
    with pytest.raises(RelunetError, match="empty"):
        fit(model, np.zeros((0, 2)), np.zeros(0, int))
    with pytest.raises(RelunetError, match="layer sizes must be positive integers"):
        MLP([2, 0, 2])


def test_sampling_with_replacement_draws_tokens_independently():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 2)), rng.integers(0, 2, 10)
    a, b = MLP([2, 3, 2], seed=0), MLP([2, 3, 2], seed=0)
    fit(a, X, y, epochs=3, shuffle="replacement", seed=4)
    draws = np.random.default_rng(4)
    for _ in range(3):
        _hand_sgd(b, X, y, draws.integers(0, 10, 10), 0.01)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-13, atol=1e-15)
    with pytest.raises(RelunetError, match="shuffle must be"):
        fit(a, X, y, epochs=1, shuffle="sometimes")
