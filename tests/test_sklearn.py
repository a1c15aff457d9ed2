"""relunet's scikit-learn estimators: every scikit-learn estimator check, plus behaviour against MLPClassifier."""

import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_blobs, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import relunet  # noqa: E402
from relunet.sklearn import ReLUNetClassifier, ReLUNetRegressor  # noqa: E402

# Small networks and few epochs keep the ~60 checks per estimator quick; the learning rate is raised so
# that the checks' accuracy (> 0.83) and R^2 (> 0.5) thresholds are met within them.
CHECK_PARAMS = dict(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=0.02, random_state=0)


@parametrize_with_checks([ReLUNetClassifier(**CHECK_PARAMS), ReLUNetRegressor(**CHECK_PARAMS)])
def test_sklearn_estimator_checks(estimator, check, monkeypatch):
    # check_array_api_input (NumPy inputs with array-API dispatch on) runs only when this is set.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def blobs(n=200, seed=0):
    X, y = make_blobs(n_samples=n, centers=3, random_state=seed)
    return StandardScaler().fit_transform(X), y


def test_training_matches_a_hand_written_minibatch_loop():
    # The estimator's objective is scikit-learn's: batch mean cross-entropy + alpha/2 ||W||^2 / batch.
    # Recompute the same SGD run with plain NumPy and compare the weights.
    X, y = blobs(50)
    clf = ReLUNetClassifier(hidden_layer_sizes=(5,), solver="sgd", momentum=0.0, alpha=0.3, batch_size=16,
                            learning_rate_init=0.1, max_iter=3, shuffle=False, random_state=1, tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    # initial weights: the same seed path as fit (random_state -> first draw -> MLP init)
    rs = np.random.RandomState(1)
    m = relunet.MLP([2, 5, 3], seed=np.random.default_rng(rs.randint(np.iinfo(np.int32).max)))
    W1, b1, W2, b2 = m.get_weights()
    losses = []
    for _ in range(3):
        total = 0.0
        for s in range(0, 50, 16):
            xb, yb = X[s:s + 16], y[s:s + 16]
            nb = len(xb)
            z1 = xb @ W1.T + b1
            h = np.maximum(z1, 0)
            z2 = h @ W2.T + b2
            f = np.exp(z2 - z2.max(1, keepdims=True))
            f /= f.sum(1, keepdims=True)
            total += (np.mean(-np.log(f[np.arange(nb), yb])) + 0.15 * (np.sum(W1 ** 2) + np.sum(W2 ** 2)) / nb) * nb
            dz2 = f.copy()
            dz2[np.arange(nb), yb] -= 1
            dz2 /= nb
            dW2, db2 = dz2.T @ h + 0.3 * W2 / nb, dz2.sum(0)
            dz1 = (dz2 @ W2) * (z1 > 0)
            dW1, db1 = dz1.T @ xb + 0.3 * W1 / nb, dz1.sum(0)
            W1, b1, W2, b2 = W1 - 0.1 * dW1, b1 - 0.1 * db1, W2 - 0.1 * dW2, b2 - 0.1 * db2
        losses.append(total / 50)
    for got, want in zip(clf.coefs_ + clf.intercepts_, [W1.T, W2.T, b1, b2]):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(clf.loss_curve_, losses, rtol=1e-12)
    assert clf.n_iter_ == 3 and clf.coefs_[0].shape == (2, 5) and clf.coefs_[1].shape == (5, 3)


def test_sample_weight_two_equals_a_repeated_row():
    X, y = blobs(40)
    w = np.ones(40)
    w[:7] = 2.0
    Xr, yr = np.vstack([X, X[:7]]), np.concatenate([y, y[:7]])
    kw = dict(hidden_layer_sizes=(8,), max_iter=30, random_state=3, shuffle=False, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = ReLUNetClassifier(**kw).fit(X, y, sample_weight=w)
        b = ReLUNetClassifier(**kw).fit(Xr, yr)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)


def test_reaches_mlpclassifier_accuracy_and_probabilities_are_consistent():
    X, y = blobs(300, seed=4)
    Xt, yt = X[:200], y[:200]
    Xv, yv = X[200:], y[200:]
    kw = dict(hidden_layer_sizes=(32,), max_iter=200, random_state=0, learning_rate_init=0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = ReLUNetClassifier(**kw).fit(Xt, yt)
        theirs = MLPClassifier(**kw).fit(Xt, yt)
    assert ours.score(Xv, yv) >= theirs.score(Xv, yv) - 0.02
    P = ours.predict_proba(Xv)
    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(np.exp(ours.predict_log_proba(Xv)), P, rtol=1e-10)
    np.testing.assert_array_equal(ours.predict(Xv), ours.classes_[P.argmax(axis=1)])
    # model_ is a relunet MLP with the same predictions (usable with relunet's geometry and plots)
    np.testing.assert_array_equal(ours.model_.predict(Xv), ours.predict(Xv))
    assert isinstance(ours.model_, relunet.MLP) and "MLP([2, 32, 3]" in repr(ours.model_)


def test_early_stopping_keeps_the_best_validation_epoch():
    X, y = blobs(300, seed=1)
    clf = ReLUNetClassifier(hidden_layer_sizes=(16,), early_stopping=True, validation_fraction=0.2,
                            n_iter_no_change=3, max_iter=100, random_state=0, learning_rate_init=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == len(clf.loss_curve_) == len(clf.validation_loss_curve_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.n_iter_ < 100  # stopped by the rule, n_iter_no_change epochs after the best


def test_target_loss_stops_training():
    X, y = blobs(200, seed=2)
    clf = ReLUNetClassifier(hidden_layer_sizes=(16,), target_loss=0.2, max_iter=500, random_state=0,
                            learning_rate_init=0.02).fit(X, y)
    assert clf.loss_curve_[-1] <= 0.2 < min(clf.loss_curve_[:-1])


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "logistic", "identity"])
def test_activations_map_to_relunet(activation):
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    reg = ReLUNetRegressor(hidden_layer_sizes=(4,), activation=activation, max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        reg.fit(X, y / 100)
    want = {"logistic": "sigmoid"}.get(activation, activation)
    assert reg.model_.activation_names == [want]
    h = relunet.get_activation(want).forward(X @ reg.coefs_[0] + reg.intercepts_[0])
    np.testing.assert_allclose(reg.predict(X), (h @ reg.coefs_[1] + reg.intercepts_[1])[:, 0], rtol=1e-12)


def test_partial_fit_continues_and_needs_classes():
    X, y = blobs(120, seed=5)
    clf = ReLUNetClassifier(hidden_layer_sizes=(8,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:60], y[:60], classes=[0, 1, 2])
    clf.partial_fit(X[60:], y[60:])
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 2
    with pytest.raises(ValueError, match="not one of the classes"):
        clf.partial_fit(X[:3], [0, 1, 7])
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(X[:, :1], y)


def test_errors_are_scikit_learns():
    clf = ReLUNetClassifier(max_iter=2)
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((1, 2)))
    X, y = blobs(30)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(Xn, y)
    Xi = X.copy()
    Xi[1, 1] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        clf.fit(Xi, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but ReLUNetClassifier is expecting 2"):
        clf.predict(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="solver"):
        ReLUNetClassifier(solver="lbfgs").fit(X, y)
    with pytest.raises(ValueError, match="2 classes"):
        ReLUNetClassifier().fit(X, np.zeros(len(X)))


def test_pipeline_cross_val_grid_search_and_pickle():
    X, y = make_blobs(n_samples=150, centers=3, random_state=0, cluster_std=2.0)
    pipe = make_pipeline(StandardScaler(), ReLUNetClassifier(hidden_layer_sizes=(8,), max_iter=40, random_state=0,
                                                             learning_rate_init=0.02))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3)
        # the same pipeline with scikit-learn's own MLP (same parameters but relunet's two)
        shared = {k: v for k, v in pipe[-1].get_params().items() if k not in ("dtype", "target_loss")}
        theirs = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(**shared)), X, y, cv=3)
        assert scores.shape == (3,) and abs(scores.mean() - theirs.mean()) < 0.1
        grid = GridSearchCV(pipe, {"relunetclassifier__hidden_layer_sizes": [(4,), (8, 8)],
                                   "relunetclassifier__activation": ["relu", "tanh"]}, cv=3).fit(X, y)
    assert set(grid.best_params_) == {"relunetclassifier__hidden_layer_sizes", "relunetclassifier__activation"}
    best = grid.best_estimator_
    again = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(again.predict_proba(X), best.predict_proba(X))
    # the unpickled optimizer still updates the unpickled model's weights
    clf = again[-1]
    before = [c.copy() for c in clf.coefs_]
    clf.partial_fit(again[0].transform(X), y)
    assert any(not np.array_equal(a, b) for a, b in zip(before, clf.coefs_))


def test_verbose_shows_a_tqdm_bar(capsys):
    X, y = blobs(40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ReLUNetClassifier(hidden_layer_sizes=(4,), max_iter=3, verbose=True).fit(X, y)
    err = capsys.readouterr().err
    assert "ReLUNetClassifier" in err and "/3" in err and "epoch" in err


@pytest.mark.parametrize("schedule, last_lr", [("constant", 0.1), ("invscaling", 0.1 / 4 ** 0.25),
                                               ("step", 0.1)])
def test_learning_rate_schedules_count_epochs(schedule, last_lr):
    X, y = blobs(60)
    clf = ReLUNetClassifier(hidden_layer_sizes=(4,), solver="sgd", learning_rate=schedule, power_t=0.25,
                            learning_rate_init=0.1, max_iter=4, tol=0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf._lr == pytest.approx(last_lr, rel=1e-15)  # the rate of the 4th epoch (epoch index 3)


def test_adaptive_divides_the_rate_by_five_when_stuck():
    X, y = blobs(60)
    # With tol=10 only epoch 1 improves (on the initial best loss, infinity); then the count of epochs without
    # improvement passes n_iter_no_change=1 after epochs 3 and 5, and each time the rate is divided by 5.
    clf = ReLUNetClassifier(hidden_layer_sizes=(4,), solver="sgd", learning_rate="adaptive", tol=10.0,
                            n_iter_no_change=1, learning_rate_init=0.1, max_iter=6, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    assert clf.n_iter_ == 6 and clf._lr == pytest.approx(0.1 / 5 ** 2, rel=1e-12)


def test_regressor_multi_output_and_partial_fit():
    X, Y = make_regression(n_samples=80, n_features=4, n_targets=2, random_state=0)
    Y = Y / Y.std(axis=0)
    reg = ReLUNetRegressor(hidden_layer_sizes=(16,), max_iter=200, learning_rate_init=0.01, random_state=0).fit(X, Y)
    assert reg.predict(X).shape == (80, 2) and reg.n_outputs_ == 2 and reg.score(X, Y) > 0.9
    n = reg.n_iter_
    reg.partial_fit(X, Y)
    assert reg.n_iter_ == n + 1 and len(reg.loss_curve_) == n + 1


def test_divergence_is_a_clear_error_and_keeps_finite_weights():
    X, y = make_regression(n_samples=50, n_features=3, random_state=0)
    reg = ReLUNetRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1.0, momentum=0.0,
                           max_iter=50, random_state=0)
    with pytest.raises(relunet.DivergenceError, match="diverged in epoch"):
        reg.fit(X * 1e3, y * 1e3)
    assert all(np.all(np.isfinite(c)) for c in reg.coefs_ + reg.intercepts_)
