"""Engine v2: forward state belongs to the call, shared activation objects, pickled estimators keep learning,
divergence after the last update, and one clear error for each kind of bad argument (issues 9 and 10)."""

import io

import numpy as np
import pytest

import relunet
from relunet.engine import (MLP, SGD, Adam, DivergenceError, LeakyReLU, Momentum, RelunetError, Trainer, fit,
                            loss_and_gradients)


def test_predict_between_forward_and_backward_does_not_change_the_gradients():
    rng = np.random.default_rng(0)
    model = MLP([2, 8, 8, 3], seed=0)
    X, t = rng.normal(size=(5, 2)), np.array([0, 1, 2, 1, 0])
    want = loss_and_gradients(model, X, t)[1]
    z, tape = model.forward(X)
    model.predict(rng.normal(size=(50, 2)))  # inference in between: a new user's natural move
    model.forward(rng.normal(size=(7, 2)))
    got = model.backward(tape, relunet.LOSSES["cross_entropy"]().value_and_grad(z, t)[1])
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("backend", ["reference", "auto"])
@pytest.mark.parametrize("sizes", [[3, 6, 6, 4], [3, 7, 5, 4]])
def test_one_activation_object_in_several_layers_trains_like_separate_objects(sizes, backend):
    X, y = relunet.make_dataset("spiral", n=60, classes=4, seed=0)
    X = np.c_[X, X[:, :1] * X[:, 1:]]
    shared = LeakyReLU(0.2)
    a = MLP(sizes, activation=shared, seed=1)
    b = MLP(sizes, activation=[LeakyReLU(0.2), LeakyReLU(0.2)], seed=1)
    for m in (a, b):
        fit(m, X, y, epochs=5, batch_size=4, optimizer="momentum", lr=0.05, seed=2, backend=backend)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.activations[0] is not a.activations[1] is not shared


def test_a_pickled_estimator_keeps_learning_under_partial_fit():
    joblib = pytest.importorskip("joblib")
    from relunet.sklearn import ReLUNetRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    reg = ReLUNetRegressor(hidden_layer_sizes=(8,), max_iter=20, learning_rate_init=0.01, random_state=0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reg.fit(X, X[:, 0] - X[:, 1])
    buf = io.BytesIO()
    joblib.dump(reg, buf)
    buf.seek(0)
    loaded = joblib.load(buf)
    x, target = np.array([[0.5, 0.5]]), 10.0
    before = float(loaded.predict(x)[0])
    for _ in range(50):
        loaded.partial_fit(x, [target])
    after = float(loaded.predict(x)[0])
    assert abs(after - target) < 0.5 * abs(before - target)
    np.testing.assert_array_equal(reg.predict(x), [before])  # the original is untouched


def test_divergence_in_the_last_update_is_caught_and_the_weights_restored():
    """One update with a huge learning rate: the loss before it is finite, the weights after it are not."""
    X, y = relunet.make_dataset("sine", seed=0)
    model = MLP([1, 8, 1], task="regression", seed=0)
    w0 = model.get_weights()
    with pytest.raises(DivergenceError, match="learning rate") as err:
        fit(model, X, y, epochs=1, lr=1e300, batch_size=len(X))
    assert err.value.epoch == 1
    for a, b in zip(model.get_weights(), w0):
        np.testing.assert_array_equal(a, b)


def test_the_divergence_message_names_the_scale_of_the_data():
    X, y = relunet.make_dataset("sine", seed=0)
    model = MLP([1, 32, 32, 1], task="regression", seed=0)
    with pytest.raises(DivergenceError, match="scale the data") as err:
        fit(model, X, y * 1e3, epochs=50, lr=10.0)
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert "smaller learning rate" in str(err.value)


@pytest.mark.parametrize("X, y, words", [
    (np.array([[1e200, 0.0], [0.0, 1.0]]), [0, 1], "overflow"),
    (np.array([[1e30, 0.0], [0.0, 1.0]]), [0, 1], "float32"),
    (np.zeros((2, 2)), [0, 1e20], "exact small integer"),
    (np.zeros((2, 2)), [0, 0.5], "exact small integer"),
    (np.zeros((2, 2)), [0, np.nan], "exact small integer"),
])
def test_inputs_that_would_overflow_and_inexact_labels_are_refused(X, y, words):
    model = MLP([2, 4, 2], dtype="float32" if words == "float32" else "float64")
    with pytest.raises(RelunetError, match=words):
        fit(model, X, np.array(y), epochs=1)


def test_float_labels_that_are_exact_integers_are_accepted():
    model = MLP([2, 4, 2])
    fit(model, np.zeros((2, 2)), np.array([0.0, 1.0]), epochs=1)
    with pytest.raises(RelunetError, match="overflow"):
        fit(MLP([1, 2, 1], task="regression"), np.zeros((2, 1)), np.array([0.0, 1e200]), epochs=1)


def _bad_calls():
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    m = MLP([2, 3, 2])
    return [
        (lambda: MLP([2, 3], activation="foo"), "'foo'"),
        (lambda: MLP("23"), "'23'"),
        (lambda: MLP(5), "5"),
        (lambda: MLP([2, 3], task=3), "3"),
        (lambda: MLP([2, 3], dtype="int8"), "'int8'"),
        (lambda: MLP([2, 3], dtype=object()), "object"),
        (lambda: MLP([2, 3], seed="x"), "'x'"),
        (lambda: MLP([2, 3], classes=5), "5"),
        (lambda: MLP([2, 3, 2], activation=7), "7"),
        (lambda: MLP([2, 3], loss="hinge"), "'hinge'"),
        (lambda: MLP([2, 3], init="zeros"), "'zeros'"),
        (lambda: Trainer(None, X, y), "None"),
        (lambda: Trainer("model", X, y), "'model'"),
        (lambda: fit(m, X, y, lr="fast"), "'fast'"),
        (lambda: fit(m, X, y, lr=None), "None"),
        (lambda: fit(m, X, y, batch_size="2"), "'2'"),
        (lambda: fit(m, X, y, optimizer=3), "3"),
        (lambda: fit(m, X, y, momentum="x", optimizer="momentum"), "'x'"),
        (lambda: fit(m, X, y, weight_decay=[1]), "[1]"),
        (lambda: fit(m, X, y, decay_scaling="sometimes"), "'sometimes'"),
        (lambda: fit(m, X, y, callbacks=3), "3"),
        (lambda: fit(m, X, y, callbacks=[3]), "3"),
        (lambda: fit(m, X, y, shuffle="x"), "'x'"),
        (lambda: fit(m, X, y, backend="gpu"), "'gpu'"),
        (lambda: fit(m, X, y, sample_weight=[1, 2]), "[1, 2]"),
        (lambda: fit(m, X, y, sample_weight="abcd"), "'abcd'"),
        (lambda: fit(m, X, y, validation="x"), "'x'"),
        (lambda: fit(m, X, y, validation_data=3), "validation_data"),
        (lambda: fit(m, X, y, seed=-1), "-1"),
        (lambda: fit(m, X, y, epochs="3"), "'3'"),
        (lambda: fit(m, X, y, epochs=1, target_loss="x"), "'x'"),
        (lambda: fit(m, X, y, schedule=5), "5"),
        (lambda: fit(m, "X", y), "numbers"),
        (lambda: fit(m, X, "abcd"), "labels"),
        (lambda: SGD(weight_decay="x"), "'x'"),
        (lambda: Momentum(momentum=None), "None"),
        (lambda: Adam(betas=3), "3"),
        (lambda: Adam(eps="x"), "'x'"),
        (lambda: Adam(eps_style="keras"), "'keras'"),
        (lambda: m.set_weights(3), "3"),
        (lambda: m.set_weights([np.zeros((3, 2)), "b", np.zeros((2, 3)), np.zeros(2)]), "b1"),
    ]


@pytest.mark.parametrize("i", range(len(_bad_calls())))
def test_wrong_arguments_raise_one_relunet_sentence_naming_the_value(i):
    call, words = _bad_calls()[i]
    with pytest.raises(RelunetError) as err:
        call()
    assert words in str(err.value), str(err.value)


def test_reference_backend_is_forced_by_the_environment(monkeypatch):
    from relunet.engine.train import choose_backend

    model = MLP([2, 4, 2])
    monkeypatch.setenv("RELUNET_BACKEND", "reference")
    assert choose_backend("auto", model, SGD()) is None
    assert choose_backend("kernel", model, SGD()) is None


def test_training_refuses_weights_that_are_not_finite():
    model = MLP([2, 3, 2])
    model.linears[0].W[0, 0] = np.nan
    with pytest.raises(RelunetError, match="NaN or infinite"):
        fit(model, np.zeros((4, 2)), np.array([0, 1, 0, 1]), epochs=1)
