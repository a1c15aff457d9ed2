"""The compiled kernels compute the reference's numbers: weights after 200 updates, the loss and accuracy
accumulated inside the kernel, the optimizer's state, and the forward pass.

The reference here is tests/kernels/npref.py, the maths written out with batch matrices in NumPy (no
shared code with the kernels); test_trainer_backends.py holds the kernels equal to the engine's own
Trainer(backend="reference").
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from relunet import kernels
from relunet.engine.errors import RelunetError
from relunet.kernels import KernelConfig

from . import npref

ACTS = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
LOSSES = ["cross_entropy", "mse", "logistic", "poisson"]
OPTIMIZERS = ["sgd", "momentum", "nesterov", "adam"]
N = 40
UPDATES = 200


def _problem(rng, sizes, loss, dtype, onehot=False):
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        params += [(rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(dtype),
                   (0.1 * rng.standard_normal(n_out)).astype(dtype)]
    X = rng.standard_normal((N, sizes[0])).astype(dtype)
    return params, X, _targets(rng, loss, sizes[-1], onehot, dtype)


def _targets(rng, loss, K, onehot, dtype):
    """The engine's targets: class indices (cross-entropy, one-hot logistic), 0/1 (binary and multi-label
    logistic), counts with zeros among them (Poisson), numbers (squared error)."""
    if loss == "cross_entropy" or (loss == "logistic" and onehot):
        return rng.integers(0, K, N)
    if loss == "logistic":
        return rng.integers(0, 2, (N, K)).astype(dtype)
    if loss == "poisson":
        return rng.poisson(1.0, (N, K)).astype(dtype)
    return rng.standard_normal((N, K)).astype(dtype)


def _order(rng, batch):
    """Enough shuffled epochs for UPDATES updates of `batch` tokens."""
    epochs = -(-UPDATES * batch // N)
    return np.concatenate([rng.permutation(N) for _ in range(epochs)])[:UPDATES * batch].astype(np.int64)


def _error(a, b):
    return max(float(np.max(np.abs(x.astype(np.float64) - y))) / max(1.0, float(np.max(np.abs(y))))
               for x, y in zip(a, b))


configs = st.fixed_dictionaries({
    "widths": st.lists(st.integers(1, 64), min_size=2, max_size=5),  # depth 1-4: 2-5 widths
    "acts": st.lists(st.sampled_from(ACTS), min_size=3, max_size=3),
    "slope": st.sampled_from([0.01, 0.2]),
    "loss": st.sampled_from(LOSSES),
    "onehot": st.booleans(),  # logistic: class-index targets (K > 1), else 0/1 labels (binary, multi-label)
    "optimizer": st.sampled_from(OPTIMIZERS),
    "eps_style": st.sampled_from(["pytorch", "sklearn"]),
    "weight_decay": st.sampled_from([0.0, 1e-3]),
    "decay_scaling": st.sampled_from(["constant", "batch"]),
    "batch": st.sampled_from([1, 5, N]),
    "weighted": st.booleans(),
    "seed": st.integers(0, 2 ** 16),
})


def _config(d, n_hidden):
    acts = tuple((d["acts"][i % 3], d["slope"] if d["acts"][i % 3] == "leaky_relu" else 0.0) for i in range(n_hidden))
    return KernelConfig(acts, loss=d["loss"], optimizer=d["optimizer"], momentum=0.9, eps_style=d["eps_style"],
                        weight_decay=d["weight_decay"], decay_scaling=d["decay_scaling"])


def _run_both(d, dtype):
    rng = np.random.default_rng(d["seed"])
    sizes = d["widths"]
    indices = d["loss"] == "cross_entropy" or (d["loss"] == "logistic" and d["onehot"])
    if indices:
        sizes = sizes[:-1] + [max(2, sizes[-1])]
    config = _config(d, len(sizes) - 2)
    params, X, T = _problem(rng, sizes, d["loss"], dtype, d["onehot"])
    order = _order(rng, d["batch"])
    w = rng.uniform(0.0, 2.0, N).astype(dtype) if d["weighted"] else None
    # Poisson's exp(z) multiplies z's rounding by f: a gentler rate keeps its runs where 1e-12 is rounding
    lr = 1e-3 if d["optimizer"] == "adam" or d["loss"] == "poisson" else 0.01
    ref = [p.astype(np.float64) for p in params]
    got = [p.copy() for p in params]
    ref_state, got_state = {}, {}
    nudged = [np.nextafter(p, np.inf) for p in ref]  # every initial weight one rounding step away
    args = (X.astype(np.float64), T if indices else T.astype(np.float64), order, d["batch"], lr,
            None if w is None else w.astype(np.float64))
    n_batches = -(-len(order) // d["batch"])
    ref_parts, got_parts = np.zeros((n_batches, 2)), np.full((n_batches, 2), np.nan)
    with np.errstate(all="ignore"):
        r = npref.train(config, ref, ref_state, *args, batches=ref_parts)
        npref.train(config, nudged, {}, *args)
    # A run that blows up (a deep net of identities with squared error can), or a chaotic one (many logistic
    # labels at a high rate) amplifies rounding without bound: equality to rounding is asked of trainings that
    # stay in range and that a rounding step at the start moves by no more than 1e-14 at the end.
    assume(all(np.isfinite(p).all() and np.abs(p).max() < 100 for p in ref))
    assume(_error(nudged, ref) <= 1e-14)
    g = kernels.train(config, got, got_state, X, T, order, d["batch"], lr, w, batches=got_parts)
    return config, ref, got, ref_state, got_state, (*r, ref_parts), (*g, got_parts), X


@settings(max_examples=40)
@given(configs)
def test_float64_weights_after_200_updates_equal_the_reference(d):
    config, ref, got, ref_state, got_state, r, g, _ = _run_both(d, np.float64)
    assert _error(got, ref) <= 1e-12
    assert g[2] == r[2] == -(-len(_order(np.random.default_rng(0), d["batch"])) // d["batch"])
    assert g[1] == r[1]  # correct tokens (0 for squared error)
    assert abs(g[0] - r[0]) <= 1e-12 * max(1.0, abs(r[0]))
    # each batch's data-loss sum and L2 term, measured before its update, and their total the loss sum
    assert np.abs(g[3] - r[3]).max() <= 1e-12 * max(1.0, np.abs(r[3]).max())
    assert abs(g[3].sum() - g[0]) <= 1e-12 * max(1.0, abs(g[0]))
    for name in ("velocity", "m", "v"):
        if name in ref_state:
            assert _error(got_state[name], ref_state[name]) <= 1e-12
    assert got_state.get("t", 0) == ref_state.get("t", 0)


@settings(max_examples=15)
@given(configs)
def test_float32_weights_follow_the_float64_reference(d):
    config, ref, got, *_ = _run_both(d, np.float32)
    assert all(p.dtype == np.float32 for p in got)
    assert _error(got, ref) <= 2e-4


@settings(max_examples=15)
@given(configs)
def test_forward_equals_the_references_outputs(d):
    config, _, got, *_, X = _run_both(d, np.float64)
    np.testing.assert_allclose(kernels.forward(config, got, X), npref.forward(config, got, X), rtol=1e-12,
                               atol=1e-12)
    f32 = kernels.forward(config, [p.astype(np.float32) for p in got], X.astype(np.float32))
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32, npref.forward(config, got, X), rtol=1e-3, atol=1e-4)


def test_state_carries_over_between_calls_so_runs_can_be_split_or_alternate():
    """Momentum and Adam state live in the dict: 120 + 80 updates equal 200 in one call, and the kernel can
    hand over to the reference half way."""
    rng = np.random.default_rng(1)
    sizes = [3, 7, 4]
    for opt in ("momentum", "nesterov", "adam"):
        config = KernelConfig((("tanh", 0.0),), optimizer=opt)
        params, X, T = _problem(rng, sizes, "cross_entropy", np.float64)
        order = _order(rng, 5)
        one = [p.copy() for p in params]
        s_one = {}
        kernels.train(config, one, s_one, X, T, order, 5, 0.01)
        split = [p.copy() for p in params]
        s_split = {}
        kernels.train(config, split, s_split, X, T, order[:600], 5, 0.01)
        npref.train(config, split, s_split, X, T, order[600:], 5, 0.01)
        assert _error(split, one) <= 1e-12
        assert s_split.get("t") == s_one.get("t")


def test_empty_order_changes_nothing_and_bad_input_is_refused():
    config = KernelConfig((("relu", 0.0),))
    rng = np.random.default_rng(2)
    params, X, T = _problem(rng, [2, 3, 2], "cross_entropy", np.float64)
    before = [p.copy() for p in params]
    assert kernels.train(config, params, {}, X, T, np.zeros(0, np.int64), 4, 0.1) == (0.0, 0, 0)
    assert _error(params, before) == 0
    with pytest.raises(RelunetError, match="2 activations for 1 hidden"):
        kernels.train(KernelConfig((("relu", 0.0),) * 2), params, {}, X, T, np.arange(3), 1, 0.1)
    assert not kernels.supports(KernelConfig((("relu", 0.0),), loss="hinge"))
    assert all(kernels.supports(KernelConfig((("relu", 0.0),), loss=loss)) for loss in LOSSES)
    assert not kernels.supports(KernelConfig((("softplus", 0.0),)))
    assert kernels.supports(KernelConfig((("leaky_relu", 0.3),), loss="mse", optimizer="adam", eps_style="sklearn"))
    assert kernels.available()


def test_mini_batch_products_by_loops_equal_those_by_blas(monkeypatch):
    """The core install has no SciPy: the mini-batch kernel then multiplies with compiled loops."""
    rng = np.random.default_rng(5)
    config = KernelConfig((("relu", 0.0), ("tanh", 0.0)), optimizer="momentum", weight_decay=1e-3)
    params, X, T = _problem(rng, [3, 17, 9, 4], "cross_entropy", np.float64)
    order = _order(rng, 5)
    ref = [p.copy() for p in params]
    npref.train(config, ref, {}, X, T, order, 5, 0.01)
    for blas in (True, False):
        monkeypatch.setattr(kernels, "_blas", blas)
        got = [p.copy() for p in params]
        kernels.train(config, got, {}, X, T, order, 5, 0.01)
        assert _error(got, ref) <= 1e-12


def test_import_relunet_loads_neither_numba_nor_scipy():
    """Numba is imported when a kernel is first needed; SciPy only by what needs it."""
    import subprocess
    import sys

    code = "import sys, relunet; print(sorted(m for m in ('numba', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_compiled_kernel_releases_the_gil():
    """nogil: the playground trains in a thread while its event loop keeps answering clicks."""
    from numba.core.registry import CPUDispatcher

    compiled = kernels._kernels()
    dispatchers = {name: f for name, f in vars(compiled).items() if isinstance(f, CPUDispatcher)}
    assert {"train", "train_batched", "forward", "_update", "mm_nt"} <= set(dispatchers)
    assert [name for name, f in dispatchers.items() if not f.targetoptions.get("nogil")] == []
