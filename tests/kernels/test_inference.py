"""The compiled forward kernel and the model's predictions through it (engine.train.choose_inference): equal to
the reference's NumPy forward pass for every activation, depth, task and loss; the model uses it only for inputs
of at least INFERENCE_ROWS rows (a smaller prediction never imports Numba) of piece-wise linear networks of at least
INFERENCE_MACS multiply-adds per row (the equality tests lower that to 0, so every drawn network takes the kernel)."""

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import relunet
from relunet import kernels
from relunet.engine.activations import LeakyReLU, ReLU
from relunet.engine.losses import LOSSES
from relunet.engine import train
from relunet.engine.train import INFERENCE_ROWS, choose_inference

ACTS = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
# (task, loss, outputs' kind): every loss's output function, and logistic's three kinds of classifier
KINDS = [("classification", "cross_entropy", None), ("classification", "logistic", "binary"),
         ("classification", "logistic", "multilabel"), ("classification", "logistic", "onehot"),
         ("regression", "mse", None), ("regression", "poisson", None)]
ROWS = INFERENCE_ROWS + 123  # full blocks of the kernel's 512 rows and a part of one


def _model(widths, acts, kind, dtype, seed):
    task, loss, labels = kind
    sizes = list(widths)
    if labels == "binary":
        sizes[-1] = 1
    elif loss == "cross_entropy" or labels:
        sizes[-1] = max(2, sizes[-1])
    activation = [LeakyReLU(0.2) if a == "leaky_relu" else a for a in acts[:len(sizes) - 2]]
    classes = list(range(sizes[-1])) if labels == "onehot" else None
    return relunet.MLP(sizes, activation, task, classes=classes, dtype=dtype, seed=seed, loss=loss)


def _reference(model, X):
    """z and f by the reference engine's NumPy forward pass."""
    z = model.forward(np.asarray(X, model.dtype))[0]
    return z, LOSSES[model.loss]().output(z)


def _compiled_calls(monkeypatch):
    calls = []
    forward = kernels.forward
    monkeypatch.setattr(kernels, "forward", lambda *a, **k: calls.append(len(a[2])) or forward(*a, **k))
    return calls


def _check(model, X, monkeypatch):
    """The kernel's z and f for every network; the model's predictions through the kernel for piece-wise linear
    ones (choose_inference leaves tanh and sigmoid networks to NumPy, whose vectorised tanh is faster)."""
    z, f = _reference(model, X)
    tol = dict(rtol=1e-12, atol=1e-12) if model.dtype == np.float64 else dict(rtol=1e-6, atol=1e-6)
    config = kernels.config_for(model)
    np.testing.assert_allclose(kernels.forward(config, model.parameters(), X, excitation=True), z,
                               rtol=tol["rtol"], atol=tol["atol"] * max(1.0, float(np.abs(z).max())))
    np.testing.assert_allclose(kernels.forward(config, model.parameters(), X), f, rtol=tol["rtol"],
                               atol=tol["atol"] * max(1.0, float(np.abs(f).max())))
    calls = _compiled_calls(monkeypatch)
    monkeypatch.setattr(train, "INFERENCE_MACS", 0)
    got = model.decision_function(X)
    assert got.dtype == model.dtype
    np.testing.assert_allclose(got, z, rtol=tol["rtol"], atol=tol["atol"] * max(1.0, float(np.abs(z).max())))
    if model.task == "classification":
        proba = model.predict_proba(X)
        np.testing.assert_allclose(proba, np.hstack([1 - f, f]) if f.shape[1] == 1 else f, **tol)
        if model.dtype == np.float64:  # labels from z; in float32 a point within rounding of a boundary may flip
            ref = (z > 0).astype(np.int64) if model.multilabel else \
                model.classes[(z[:, 0] > 0).astype(int) if z.shape[1] == 1 else z.argmax(axis=1)]
            np.testing.assert_array_equal(model.predict(X), ref)
    else:
        out = model.predict(X)
        np.testing.assert_allclose(out, f[:, 0] if f.shape[1] == 1 else f, rtol=tol["rtol"],
                                   atol=tol["atol"] * max(1.0, float(np.abs(f).max())))
    if all(a.piecewise_linear for a in model.activations):  # the compiled kernel computed every one of them
        assert calls and calls == [len(X)] * len(calls)
    else:
        assert calls == []


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: "-".join(filter(None, k[1:])))
@pytest.mark.parametrize("act", ACTS)
def test_every_activation_and_loss_predicts_as_the_reference(act, kind, monkeypatch):
    X = np.random.default_rng(1).standard_normal((ROWS, 3)) * 2
    for depth, dtype in ((1, "float64"), (2, "float32"), (3, "float64"), (4, "float32")):
        model = _model([3, 17, 64, 9, 4][:depth] + [4], [act] * 3, kind, dtype, seed=depth)
        _check(model, X, monkeypatch)


@settings(max_examples=25)
@given(st.fixed_dictionaries({
    "widths": st.lists(st.integers(1, 64), min_size=2, max_size=5),  # depth 1-4
    "acts": st.lists(st.sampled_from(ACTS), min_size=3, max_size=3),
    "kind": st.sampled_from(KINDS),
    "dtype": st.sampled_from(["float64", "float32"]),
    "seed": st.integers(0, 1000),
}))
def test_drawn_networks_predict_as_the_reference(d):
    model = _model(d["widths"], d["acts"], d["kind"], d["dtype"], d["seed"])
    X = np.random.default_rng(d["seed"]).standard_normal((ROWS, d["widths"][0]))
    with pytest.MonkeyPatch.context() as monkeypatch:
        _check(model, X, monkeypatch)


def test_small_inputs_custom_activations_and_the_reference_switch_take_numpy(monkeypatch):
    calls = _compiled_calls(monkeypatch)
    model = relunet.MLP([2, 32, 32, 3], seed=0)
    X = np.random.default_rng(0).standard_normal((INFERENCE_ROWS, 2))
    model.predict_proba(X[:-1])
    assert calls == [] and choose_inference(model, INFERENCE_ROWS - 1) is None
    relunet.MLP([2, 32, 32, 3], activation="tanh").predict_proba(X)
    relunet.MLP([2, 16, 16, 3]).predict_proba(X)  # 336 multiply-adds a row: NumPy
    assert calls == []

    class Bent(ReLU):  # a user's own activation: its maths may not be ReLU's
        pass

    custom = relunet.MLP([2, 32, 32, 3], activation=Bent(), seed=0)
    np.testing.assert_allclose(custom.predict_proba(X), _reference(custom, X)[1], rtol=1e-12, atol=1e-15)
    assert calls == []
    monkeypatch.setenv("RELUNET_BACKEND", "reference")
    model.predict_proba(X)
    assert calls == []
    monkeypatch.delenv("RELUNET_BACKEND")
    model.predict_proba(X)
    assert calls == [INFERENCE_ROWS]


def _numba_loaded_after(code, **env):
    code = f"import sys, numpy as np, relunet; {code}; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, **env}).stdout
    return out.strip() == "True"


def test_numba_is_imported_only_for_predictions_from_the_threshold_on():
    """`relunet.MLP([2, 3]).predict(np.zeros((1, 2)))` and anything below INFERENCE_ROWS rows stay in NumPy."""
    n = INFERENCE_ROWS
    small = f"m = relunet.MLP([2, 16, 3]); m.predict(np.zeros((1, 2))); m.predict_proba(np.zeros(({n - 1}, 2)))"
    assert not _numba_loaded_after(small)
    assert not _numba_loaded_after(f"relunet.MLP([2, 3]).decision_function(np.zeros(({n}, 2)))",
                                   RELUNET_BACKEND="reference")
    # relunet demo's maps: a 2-8-2 network on 300 x 300 points (32 multiply-adds a row)
    assert not _numba_loaded_after("relunet.MLP([2, 8, 2]).predict_proba(np.zeros((90000, 2)))")
    # (from INFERENCE_ROWS rows on the kernel runs: test_small_inputs_..._take_numpy counts its calls)


def test_threads_training_and_predicting_at_once_get_the_sequential_numbers():
    """The kernels release the GIL (the playground trains in one thread and draws the map in another): both
    compute what they compute alone. (BLAS's thread count afterwards is not asserted here: OpenBLAS's setter
    is not thread-safe against the NumPy products the Trainer runs between kernel calls, so a count changed
    under one of them may not stick; test_overlapping_... checks the kernels' own bookkeeping.)"""
    import threading

    X, y = relunet.make_dataset("spiral", n=400, classes=3, seed=0)
    grid = np.random.default_rng(0).uniform(-1, 1, (INFERENCE_ROWS * 3, 2))
    alone, together = relunet.MLP([2, 32, 32, 3], seed=0), relunet.MLP([2, 32, 32, 3], seed=0)
    viewer = relunet.MLP([2, 64, 64, 3], seed=1)
    relunet.fit(alone, X, y, epochs=20, batch_size=8)
    maps_alone = viewer.predict_proba(grid)
    maps = []
    painter = threading.Thread(target=lambda: maps.extend(viewer.predict_proba(grid) for _ in range(20)))
    painter.start()
    relunet.fit(together, X, y, epochs=20, batch_size=8)
    painter.join()
    assert all(np.array_equal(m, maps_alone) for m in maps) and len(maps) == 20
    assert all(np.array_equal(a, b) for a, b in zip(together.parameters(), alone.parameters()))


def test_overlapping_kernel_calls_lift_the_one_thread_limit_only_when_the_last_ends():
    """Two calls' limits ending out of order (the map's starts inside an epoch and ends after it) would each
    restore the count they found: the second would put back the first's limit for good."""
    from threadpoolctl import threadpool_info, threadpool_limits

    relunet.MLP([2, 32, 32, 3]).predict_proba(np.zeros((INFERENCE_ROWS, 2)))  # SciPy's BLAS and the controller loaded
    sizes = np.array([2, 8, 3])
    threads = lambda: sorted(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")  # noqa: E731
    with threadpool_limits(2, "blas"):
        epoch, view = kernels._blas_threads(sizes, 8), kernels._blas_threads(sizes, 1)
        epoch.__enter__()
        view.__enter__()
        assert set(threads()) == {1}
        epoch.__exit__(None, None, None)
        assert set(threads()) == {1}  # the view's products still run
        view.__exit__(None, None, None)
        assert set(threads()) == {2}
