"""relunet's estimators against scikit-learn's own MLPClassifier/MLPRegressor on the same data.

Where the update rule is the same (all of sgd, adam and lbfgs, with scikit-learn's initial weights, visiting
order, L2 term and stop rules), the weights after several epochs agree to 1e-12 in float64, and so do the
loss curves, the validation scores and the number of epochs run.
"""

import pickle
import warnings

import joblib
import numpy as np
import pytest

pytest.importorskip("sklearn")

from scipy import sparse  # noqa: E402
from sklearn.datasets import make_blobs, make_multilabel_classification  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402

from relunet.sklearn import ReLUNetClassifier, ReLUNetRegressor  # noqa: E402

N = 90
RNG = np.random.RandomState(0)
X, Y3 = make_blobs(N, centers=3, n_features=4, random_state=0)
X = (X - X.mean(axis=0)) / X.std(axis=0)
TARGETS = {
    "multiclass": Y3,
    "binary": (Y3 == 1).astype(int),
    "multilabel": make_multilabel_classification(N, n_features=4, n_classes=3, random_state=0)[1],
    "regression": np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2],
    "multi-output": np.column_stack([np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2], np.abs(X[:, 3])]),
    "poisson": RNG.poisson(np.exp(0.5 * X[:, 0])),
}
WEIGHTS = RNG.uniform(0.2, 2.0, N)


def pair(target, **kw):
    """relunet's and scikit-learn's estimator for a target kind, with the same parameters."""
    kw = {**dict(hidden_layer_sizes=(6, 5), max_iter=6, random_state=1, learning_rate_init=0.05), **kw}
    if target == "poisson":
        kw.update(loss="poisson", learning_rate_init=0.01)
    if target in ("regression", "multi-output", "poisson"):
        return ReLUNetRegressor(**kw), MLPRegressor(**kw)
    return ReLUNetClassifier(**kw), MLPClassifier(**kw)


def fit_both(target, sample_weight=None, **kw):
    ours, theirs = pair(target, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning: a few epochs on purpose
        ours.fit(X, TARGETS[target], sample_weight=sample_weight)
        theirs.fit(X, TARGETS[target], sample_weight=sample_weight)
    return ours, theirs


def assert_same_weights(ours, theirs, atol=1e-12):
    assert len(ours.coefs_) == len(theirs.coefs_)
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


def assert_same_fit(ours, theirs):
    assert_same_weights(ours, theirs)
    assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-12)
    if theirs.solver != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)
        assert ours.best_loss_ == pytest.approx(theirs.best_loss_, rel=1e-12)
    for attr in ("n_outputs_", "n_layers_", "out_activation_", "n_features_in_"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


# alpha, batch size (30 divides N = 90, 16 does not), sample weights
SETTINGS = {"plain": (0.0, 30, None), "alpha-batch16-weights": (0.01, 16, WEIGHTS)}
SOLVERS = {"sgd": dict(solver="sgd"), "adam": dict(solver="adam"), "lbfgs": dict(solver="lbfgs")}
SGD_RULES = {
    "no-momentum": dict(momentum=0.0),
    "momentum": dict(momentum=0.9, nesterovs_momentum=False),
    "momentum-1.0": dict(momentum=1.0, learning_rate_init=0.01),
    "invscaling": dict(learning_rate="invscaling", learning_rate_init=0.3, power_t=0.3),
    "adaptive": dict(learning_rate="adaptive", tol=0.5, n_iter_no_change=1),  # the rate is divided twice
}


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel", "regression", "multi-output", "poisson"])
def test_same_weights_as_scikit_learn(target, solver, setting):
    if target == "multi-output" and solver == "lbfgs":
        return _multi_output_lbfgs(setting)  # a documented difference, checked another way
    alpha, batch_size, w = SETTINGS[setting]
    ours, theirs = fit_both(target, sample_weight=w, alpha=alpha, batch_size=batch_size, **SOLVERS[solver])
    assert_same_fit(ours, theirs)
    if target in ("multiclass", "binary", "multilabel"):
        # to 1e-9 relative, small probabilities included
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-9, atol=0)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        np.testing.assert_array_equal(ours.classes_, theirs.classes_)
    else:
        np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("solver, batch_size", [("sgd", 16), ("adam", 16), ("sgd", 1)])
@pytest.mark.parametrize("target", ["multiclass", "binary", "multilabel", "regression", "multi-output", "poisson"])
def test_alpha_without_sample_weights_as_scikit_learn(target, solver, batch_size):
    # The Trainer's epoch loss holds scikit-learn's L2 term (decay_scaling="batch"), so each epoch is one run
    # of the Trainer (the kernels' when they support the network); several squared-error outputs, whose data
    # loss scikit-learn divides by K but not the L2 term, step batch by batch.
    ours, theirs = fit_both(target, alpha=0.01, batch_size=batch_size, solver=solver,
                            max_iter=3 if batch_size == 1 else 6)
    assert_same_fit(ours, theirs)


def _multi_output_lbfgs(setting):
    # For several outputs scikit-learn hands SciPy the squared loss averaged over the K outputs with the
    # gradient of their sum, an inconsistent pair; relunet minimises the sum (the objective of its gradient,
    # and of the stochastic solvers) and reports loss_ as scikit-learn does: that sum / K + the L2 term.
    alpha, _, w = SETTINGS[setting]
    ours, theirs = fit_both("multi-output", sample_weight=w, alpha=alpha, solver="lbfgs", max_iter=30)
    Y = TARGETS["multi-output"]
    z = ours.predict(X)
    weights = np.ones(N) if w is None else w
    data = 0.5 * np.average(((z - Y) ** 2).sum(axis=1), weights=weights) / 2
    penalty = 0.5 * alpha * sum((c ** 2).sum() for c in ours.coefs_) / weights.sum()
    assert ours.loss_ == pytest.approx(data + penalty, rel=1e-10)
    assert ours.score(X, Y) == pytest.approx(theirs.score(X, Y), abs=0.05) and ours.score(X, Y) > 0.8


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("rule", SGD_RULES)
def test_sgd_rules_and_schedules_as_scikit_learn(rule, setting):
    # invscaling and adaptive change the rate between epochs (counted in samples, as scikit-learn counts); the
    # velocity is then carried over in scikit-learn's form, so momentum and Nesterov stay equal too.
    alpha, batch_size, w = SETTINGS[setting]
    ours, theirs = fit_both("multiclass", sample_weight=w, solver="sgd", alpha=alpha, batch_size=batch_size,
                            **SGD_RULES[rule])
    assert_same_fit(ours, theirs)


@pytest.mark.parametrize("target", ["multiclass", "binary", "regression"])
def test_early_stopping_as_scikit_learn(target):
    # the same validation rows (stratified for one output), scores, best epoch and restored weights
    ours, theirs = fit_both(target, early_stopping=True, validation_fraction=0.2, n_iter_no_change=2, max_iter=40,
                            alpha=1e-3, learning_rate_init=0.02)
    assert_same_fit(ours, theirs)
    np.testing.assert_allclose(ours.validation_scores_, theirs.validation_scores_, rtol=1e-12)
    assert ours.best_validation_score_ == pytest.approx(theirs.best_validation_score_, rel=1e-12)
    assert ours.best_loss_ is None
    assert len(ours.validation_loss_curve_) == ours.n_iter_ < 40


def test_warm_start_continues_as_scikit_learn():
    for early_stopping in (False, True):
        ours, theirs = pair("multiclass", warm_start=True, early_stopping=early_stopping, max_iter=4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for est in (ours, theirs):
                est.fit(X, Y3)
                first = [c.copy() for c in est.coefs_]
                est.set_params(learning_rate_init=0.02).fit(X, Y3)
        assert not np.array_equal(first[0], ours.coefs_[0])  # it went on from the first fit's weights
        assert_same_fit(ours, theirs)
        assert len(ours.loss_curve_) == 8


def test_partial_fit_sequence_as_scikit_learn():
    ours, theirs = pair("multiclass", solver="adam", alpha=1e-3)
    for est in (ours, theirs):
        for start in (0, 30, 60, 0):
            est.partial_fit(X[start:start + 30], Y3[start:start + 30], classes=[0, 1, 2])
    assert_same_fit(ours, theirs)  # Adam's moments and step count carried over between calls
    assert ours.n_iter_ == 1 and len(ours.loss_curve_) == 4 and ours.t_ == 120


def test_multilabel_partial_fit_needs_no_classes():
    # scikit-learn (issue #12505) requires classes even for an indicator matrix, whose labels are its columns
    Y = TARGETS["multilabel"]
    ours, theirs = pair("multilabel", solver="sgd")
    for _ in range(3):
        ours.partial_fit(X, Y)
        theirs.partial_fit(X, Y, classes=[0, 1, 2])
    assert_same_fit(ours, theirs)
    assert ours.predict(X).shape == (N, 3) and set(np.unique(ours.predict(X))) <= {0, 1}


def test_one_class_is_fitted_as_scikit_learn():
    y = np.full(N, 7)
    ours, theirs = pair("binary", max_iter=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y)
        theirs.fit(X, y)
    assert_same_fit(ours, theirs)
    np.testing.assert_array_equal(ours.predict(X), np.full(N, 7))
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), rtol=0, atol=1e-12)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_as_scikit_learn(fmt):
    Xs = sparse.random(N, 6, density=0.3, format=fmt, random_state=0)
    ours, theirs = pair("multiclass", alpha=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(Xs, Y3)
        theirs.fit(Xs, Y3)
        dense = pair("multiclass", alpha=1e-3)[0].fit(Xs.toarray(), Y3)
    assert_same_weights(ours, dense, atol=0)  # sparse input trains exactly as its dense copy
    assert_same_weights(ours, theirs, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(Xs), theirs.predict_proba(Xs), rtol=0, atol=1e-12)


@pytest.mark.parametrize("settings", [
    dict(solver="sgd", batch_size=1, momentum=0.9, alpha=1e-3, weighted=True),
    dict(solver="adam", batch_size=16, alpha=0.01, weighted=True),
    dict(solver="adam", batch_size=7, early_stopping=True, weighted=False),
    dict(solver="lbfgs", alpha=0.01, weighted=True),
], ids=["sgd-b1-weights", "adam-b16-weights", "adam-early-stopping", "lbfgs-weights"])
@pytest.mark.parametrize("target", ["multiclass", "multi-output"])
def test_sparse_input_densified_block_by_block(monkeypatch, settings, target):
    """Sparse input is densified 20 rows at a time here (90 rows: 5 blocks, the last partial; batches of 16
    and 7 straddle no block): the fit, the loss curve and the predictions are the dense fit's and scikit-learn's."""
    from relunet.engine import blocks

    monkeypatch.setattr(blocks, "BLOCK_VALUES", 6 * 20)
    settings = dict(settings)
    w = WEIGHTS if settings.pop("weighted") else None
    Xs = sparse.random(N, 6, density=0.4, format="csr", random_state=1)
    y = TARGETS[target]
    fits = []
    for data in (Xs, Xs.toarray()):
        ours, theirs = pair(target, **settings)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fits.append(ours.fit(data, y, sample_weight=w))
            theirs.fit(Xs, y, sample_weight=w)
    sparse_fit, dense_fit = fits
    assert_same_weights(sparse_fit, dense_fit, atol=1e-12)
    assert_same_fit(sparse_fit, theirs)
    predict = "predict_proba" if target == "multiclass" else "predict"
    np.testing.assert_allclose(getattr(sparse_fit, predict)(Xs), getattr(theirs, predict)(Xs), rtol=0, atol=1e-12)
    assert sparse_fit.score(Xs, y) == pytest.approx(theirs.score(Xs, y), abs=1e-12)


def test_many_sparse_features_are_never_densified_whole():
    """20,000 x 5,000 at 0.1% density would take 800 MB dense: the fit and the predictions stay within a few
    blocks of rows (tracemalloc's peak under 5% of that; about 19 MB: a block of 8 MB and the kernel's copy of
    its batch) and are scikit-learn's."""
    import tracemalloc

    rng = np.random.default_rng(0)  # 100,000 entries at random places (sparse.random takes seconds to draw them)
    rows, cols = rng.integers(0, 20_000, 100_000), rng.integers(0, 5_000, 100_000)
    Xs = sparse.csr_matrix((rng.random(100_000), (rows, cols)), shape=(20_000, 5_000))
    y = np.asarray(Xs[:, :50].sum(axis=1)).ravel() > 0.02
    kw = dict(hidden_layer_sizes=(2,), solver="sgd", batch_size=200, max_iter=1, random_state=0)
    ours, theirs = ReLUNetClassifier(**kw), MLPClassifier(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ReLUNetClassifier(**kw).fit(Xs[:400], y[:400])  # loads the compiled kernel: its memory is not the data's
        tracemalloc.start()
        try:
            proba = ours.fit(Xs, y).predict_proba(Xs)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        theirs.fit(Xs, y)
    assert peak < 0.05 * Xs.shape[0] * Xs.shape[1] * 8
    assert_same_fit(ours, theirs)
    np.testing.assert_allclose(proba, theirs.predict_proba(Xs), rtol=0, atol=1e-12)


def test_float32_trains_and_predicts_in_float32():
    X32 = X.astype(np.float32)
    ours, theirs = pair("multiclass", solver="sgd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X32, Y3)
        theirs.fit(X32, Y3)
    assert ours.model_.dtype == np.float32 and ours.coefs_[0].dtype == np.float32
    assert ours.predict_proba(X32).dtype == np.float32 == theirs.predict_proba(X32).dtype
    assert_same_weights(ours, theirs, atol=1e-5)  # float32 rounding, summed in another order


def test_assigned_weights_continue_training_as_scikit_learn():
    # start relunet from scikit-learn's weights (assigned as a list and item by item), then train both on
    ours, theirs = pair("regression", solver="sgd", momentum=0.0, shuffle=False, random_state=5)
    other = pair("regression", solver="sgd", random_state=7)[0]
    y = TARGETS["regression"]
    theirs.partial_fit(X, y)
    other.partial_fit(X, y)
    ours.partial_fit(X, y)
    ours.coefs_ = [c.copy() for c in theirs.coefs_]
    for i, b in enumerate(theirs.intercepts_):
        ours.intercepts_[i] = b
    for _ in range(3):
        ours.partial_fit(X, y)
        theirs.partial_fit(X, y)
    assert_same_weights(ours, theirs)
    with pytest.raises(ValueError, match=r"coefs_\[0\] must have shape \(4, 6\), got \(6, 4\)"):
        ours.coefs_[0] = np.zeros((6, 4))


@pytest.mark.parametrize("early_stopping", [False, True])
def test_verbose_prints_scikit_learns_lines(capsys, early_stopping):
    ours, theirs = pair("multiclass", verbose=True, early_stopping=early_stopping, n_iter_no_change=2, max_iter=30,
                        tol=0.05)
    ours.fit(X, Y3)
    ours_out = capsys.readouterr().out
    theirs.fit(X, Y3)
    theirs_out = capsys.readouterr().out
    assert ours_out == theirs_out and ours_out.startswith("Iteration 1, loss = ")
    assert "consecutive epochs. Stopping." in ours_out
    assert ("Validation score: " in ours_out) == early_stopping


@pytest.mark.parametrize("dump", ["pickle", "joblib"])
def test_saved_and_loaded_estimators_keep_training(tmp_path, dump):
    ours = pair("regression", solver="adam", max_iter=3)[0]
    y = TARGETS["regression"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours.fit(X, y)
    if dump == "pickle":
        loaded = pickle.loads(pickle.dumps(ours))
    else:
        joblib.dump(ours, tmp_path / "est.joblib")
        loaded = joblib.load(tmp_path / "est.joblib")
    before = loaded.predict(X)
    np.testing.assert_array_equal(before, ours.predict(X))
    for _ in range(20):
        loaded.partial_fit(X, y)
        ours.partial_fit(X, y)
    assert np.abs(loaded.predict(X) - before).max() > 1e-3  # it still learns
    assert_same_weights(loaded, ours, atol=0)  # from the saved optimizer state, exactly as the original
