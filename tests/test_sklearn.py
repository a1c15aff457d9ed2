"""relunet's scikit-learn estimators: every scikit-learn estimator check, scikit-learn's parameter validation,
and what relunet adds (class_weight, callbacks, the two-way softmax, leaky ReLU, target_loss, the divergence
error). Equality with MLPClassifier/MLPRegressor themselves is in test_sklearn_parity.py."""

import pickle
import re
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_blobs, make_regression  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.neural_network import MLPClassifier, MLPRegressor  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.class_weight import compute_sample_weight  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import relunet  # noqa: E402
from relunet.sklearn import ReLUNetClassifier, ReLUNetRegressor  # noqa: E402

# Small networks and few epochs keep the ~65 checks per estimator quick; the learning rate is raised so
# that the checks' accuracy (> 0.83) and R^2 (> 0.5) thresholds are met within them.
CHECK_PARAMS = dict(hidden_layer_sizes=(16,), max_iter=60, learning_rate_init=0.02, random_state=0)


@parametrize_with_checks([ReLUNetClassifier(**CHECK_PARAMS), ReLUNetRegressor(**CHECK_PARAMS)])
def test_sklearn_estimator_checks(estimator, check, monkeypatch):
    # check_array_api_input (NumPy inputs with array-API dispatch on) runs only when this is set.
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def blobs(n=200, seed=0, centers=3):
    X, y = make_blobs(n_samples=n, centers=centers, random_state=seed)
    return StandardScaler().fit_transform(X), y


def quiet_fit(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


def test_every_scikit_learn_parameter_with_its_default():
    for ours, theirs in ((ReLUNetClassifier(), MLPClassifier()), (ReLUNetRegressor(), MLPRegressor())):
        mine, sk = ours.get_params(), theirs.get_params()
        assert {k: mine[k] for k in sk} == sk
        assert set(mine) - set(sk) <= {"class_weight", "binary_output", "callbacks", "target_loss", "dtype"}
    # positional arguments in scikit-learn's order (the regressor's loss first)
    assert ReLUNetRegressor("poisson", (8,), "tanh").get_params()["activation"] == "tanh"


@pytest.mark.parametrize("param, value", [("alpha", -1.0), ("solver", "newton"), ("momentum", 1.5),
                                          ("n_iter_no_change", 0), ("max_fun", 0), ("validation_fraction", 1.0),
                                          ("activation", "softplus"), ("learning_rate", "step")])
def test_invalid_parameters_raise_scikit_learns_error(param, value):
    X, y = blobs(30)
    with pytest.raises(ValueError) as ours:
        ReLUNetClassifier(**{param: value}).fit(X, y)
    with pytest.raises(ValueError) as theirs:
        MLPClassifier(**{param: value}).fit(X, y)
    assert type(ours.value) is type(theirs.value)
    if param != "activation":  # relunet adds 'leaky_relu' to the options
        # (the options are a set, printed in the process's hash order)
        ours_msg, theirs_msg = (re.sub(r"\{.*\}", "{...}", str(e.value)) for e in (ours, theirs))
        assert ours_msg == theirs_msg.replace("MLPClassifier", "ReLUNetClassifier")


def test_values_scikit_learn_accepts_are_accepted():
    X, y = blobs(60)
    clf = quiet_fit(ReLUNetClassifier(hidden_layer_sizes=5, n_iter_no_change=np.inf, validation_fraction=0.0,
                                      momentum=1.0, solver="sgd", max_iter=7, learning_rate_init=1e-3), X, y)
    assert clf.n_iter_ == 7  # n_iter_no_change=inf never stops early
    with pytest.raises(ValueError, match="The validation set is too small"):
        ReLUNetClassifier(early_stopping=True, validation_fraction=0.01).fit(X[:50], y[:50])


def test_unfitted_and_wrong_inputs_are_scikit_learns_errors():
    clf = ReLUNetClassifier(max_iter=2)
    with pytest.raises(NotFittedError):
        clf.predict(np.zeros((1, 2)))
    X, y = blobs(30)
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        clf.fit(Xn, y)
    quiet_fit(clf, X, y)
    with pytest.raises(ValueError, match="X has 3 features, but ReLUNetClassifier is expecting 2"):
        clf.predict(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="classes must be passed on the first call to partial_fit"):
        ReLUNetClassifier().partial_fit(X, y)
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'"):  # as MLPClassifier's
        ReLUNetRegressor(solver="lbfgs").partial_fit
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        ReLUNetRegressor(early_stopping=True).partial_fit(X, y)


def test_binary_problems_use_one_logistic_output_or_relunets_softmax():
    X, y = blobs(200, seed=3, centers=2)
    kw = dict(hidden_layer_sizes=(8,), max_iter=100, learning_rate_init=0.02, random_state=0)
    logistic = quiet_fit(ReLUNetClassifier(**kw), X, y)
    two_way = quiet_fit(ReLUNetClassifier(binary_output="softmax", **kw), X, y)
    assert (logistic.n_outputs_, logistic.out_activation_, logistic.model_.loss) == (1, "logistic", "logistic")
    assert (two_way.n_outputs_, two_way.out_activation_, two_way.model_.loss) == (2, "softmax", "cross_entropy")
    for clf in (logistic, two_way):
        P = clf.predict_proba(X)
        assert P.shape == (200, 2) and clf.score(X, y) > 0.95
        np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), P, rtol=1e-10)
        # decision_function is the logit of classes_[1]: its sign is the prediction
        np.testing.assert_array_equal(clf.predict(X), clf.classes_[(clf.decision_function(X) > 0).astype(int)])
    # the two-way softmax's probabilities are those of its log-odds through one sigmoid
    np.testing.assert_allclose(two_way.predict_proba(X)[:, 1], 1 / (1 + np.exp(-two_way.decision_function(X))),
                               rtol=1e-12)


def test_class_weight_is_a_sample_weight_per_class():
    X, y = blobs(90, seed=2)
    kw = dict(hidden_layer_sizes=(6,), max_iter=5, random_state=0, solver="sgd")
    for cw in ({0: 3.0, 2: 0.5}, "balanced"):
        y_skewed = np.where(np.arange(90) < 20, y, 1)
        a = quiet_fit(ReLUNetClassifier(class_weight=cw, **kw), X, y_skewed)
        b = quiet_fit(ReLUNetClassifier(**kw), X, y_skewed, sample_weight=compute_sample_weight(cw, y_skewed))
        for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            np.testing.assert_array_equal(p, q)
    # with sample weights too: the product
    w = np.linspace(0.5, 1.5, 90)
    a = quiet_fit(ReLUNetClassifier(class_weight={0: 3.0}, **kw), X, y, sample_weight=w)
    b = quiet_fit(ReLUNetClassifier(**kw), X, y, sample_weight=w * np.where(y == 0, 3.0, 1.0))
    np.testing.assert_array_equal(a.coefs_[0], b.coefs_[0])
    with pytest.raises(ValueError, match="class_weight 'balanced' is not supported for partial_fit"):
        ReLUNetClassifier(class_weight="balanced").partial_fit(X, y, classes=[0, 1, 2])


def test_callbacks_see_every_epoch_and_can_stop():
    X, y = blobs(100)
    seen = []

    def record(est, history):
        seen.append((est.n_iter_, list(history["loss"])))
        return est.n_iter_ == 3

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a callback's stop is not a failure to converge
        clf = ReLUNetClassifier(hidden_layer_sizes=(4,), max_iter=50, callbacks=[record], random_state=0).fit(X, y)
    assert clf.n_iter_ == 3 and [s[0] for s in seen] == [1, 2, 3] and seen[-1][1] == clf.loss_curve_
    # L-BFGS calls them after every iteration
    seen.clear()
    lbfgs = ReLUNetClassifier(hidden_layer_sizes=(4,), solver="lbfgs", callbacks=record, random_state=0).fit(X, y)
    assert lbfgs.n_iter_ == 3 and len(lbfgs.loss_curve_) == 3 and lbfgs.loss_ == lbfgs.loss_curve_[-1]


def test_target_loss_stops_training():
    X, y = blobs(200, seed=2)
    clf = ReLUNetClassifier(hidden_layer_sizes=(16,), target_loss=0.2, max_iter=500, random_state=0,
                            learning_rate_init=0.02).fit(X, y)
    assert clf.loss_curve_[-1] <= 0.2 < min(clf.loss_curve_[:-1])


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "logistic", "identity"])
def test_activations_map_to_relunet(activation):
    X, y = make_regression(n_samples=60, n_features=3, random_state=0)
    reg = quiet_fit(ReLUNetRegressor(hidden_layer_sizes=(4,), activation=activation, max_iter=2, random_state=0),
                    X, y / 100)
    want = {"logistic": "sigmoid"}.get(activation, activation)
    assert reg.model_.activation_names == [want]
    h = relunet.get_activation(want).forward(X @ reg.coefs_[0] + reg.intercepts_[0])
    np.testing.assert_allclose(reg.predict(X), (h @ reg.coefs_[1] + reg.intercepts_[1])[:, 0], rtol=1e-12)


def test_leaky_relu_reaches_relus_accuracy():
    X, y = blobs(300, seed=4)
    kw = dict(hidden_layer_sizes=(32,), max_iter=150, random_state=0, learning_rate_init=0.01)
    relu = quiet_fit(ReLUNetClassifier(**kw), X[:200], y[:200])
    leaky = quiet_fit(ReLUNetClassifier(activation="leaky_relu", **kw), X[:200], y[:200])
    assert leaky.score(X[200:], y[200:]) >= relu.score(X[200:], y[200:]) - 0.02


def test_divergence_is_relunets_error_and_keeps_finite_weights():
    X, y = make_regression(n_samples=80, n_features=3, random_state=0)
    for early_stopping in (False, True):
        reg = ReLUNetRegressor(hidden_layer_sizes=(8,), solver="sgd", learning_rate_init=1.0, momentum=0.0,
                               max_iter=50, random_state=0, early_stopping=early_stopping)
        with pytest.raises(relunet.DivergenceError, match="diverged in epoch") as e:
            reg.fit(X * 1e3, y * 1e3)
        assert e.value.epoch == reg.n_iter_ + 1 == len(reg.loss_curve_) + 1  # the estimator's epoch count
        assert f"in epoch {e.value.epoch}: " in str(e.value)
        assert all(np.all(np.isfinite(c)) for c in reg.coefs_ + reg.intercepts_)


def test_model_is_a_relunet_mlp_with_the_same_predictions():
    X, y = blobs(150)
    clf = quiet_fit(ReLUNetClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0), X, y)
    assert isinstance(clf.model_, relunet.MLP) and "MLP([2, 8, 3]" in repr(clf.model_)
    np.testing.assert_array_equal(clf.model_.predict(X), clf.predict(X))
    np.testing.assert_allclose(clf.model_.predict_proba(X), clf.predict_proba(X), rtol=1e-12)


def test_pipeline_cross_val_grid_search_and_pickle():
    X, y = make_blobs(n_samples=150, centers=3, random_state=0, cluster_std=2.0)
    pipe = make_pipeline(StandardScaler(), ReLUNetClassifier(hidden_layer_sizes=(8,), max_iter=40, random_state=0,
                                                             learning_rate_init=0.02))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=3)
        # the same pipeline with scikit-learn's own MLP scores the same: the fits are the same
        shared = {k: v for k, v in pipe[-1].get_params().items() if k in MLPClassifier().get_params()}
        theirs = cross_val_score(make_pipeline(StandardScaler(), MLPClassifier(**shared)), X, y, cv=3)
        np.testing.assert_allclose(scores, theirs, rtol=1e-12)
        grid = GridSearchCV(pipe, {"relunetclassifier__hidden_layer_sizes": [(4,), (8, 8)],
                                   "relunetclassifier__activation": ["relu", "tanh"]}, cv=3).fit(X, y)
    assert set(grid.best_params_) == {"relunetclassifier__hidden_layer_sizes", "relunetclassifier__activation"}
    best = grid.best_estimator_
    again = pickle.loads(pickle.dumps(best))
    np.testing.assert_array_equal(again.predict_proba(X), best.predict_proba(X))
    assert clone(best[-1]).get_params() == best[-1].get_params()


def test_fitted_networks_export_to_onnx_with_their_output_function(tmp_path):
    # the estimators' one-logistic-output classifiers and Poisson regressors keep their output in ONNX
    ort = pytest.importorskip("onnxruntime")
    from relunet.export import to_onnx

    X, y = blobs(60, centers=2)
    clf = quiet_fit(ReLUNetClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0), X, y)
    Y = np.column_stack([y, X[:, 0] > 0]).astype(int)
    multilabel = quiet_fit(ReLUNetClassifier(hidden_layer_sizes=(5,), max_iter=5, random_state=0), X, Y)
    poisson = quiet_fit(ReLUNetRegressor("poisson", (5,), max_iter=5, random_state=0), X, y)
    for est, want in ((clf, clf.predict_proba(X)[:, 1:]), (multilabel, multilabel.predict_proba(X)),
                      (poisson, poisson.predict(X)[:, None])):
        to_onnx(est.model_, tmp_path / "m.onnx")
        got = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"x": X})[0]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
