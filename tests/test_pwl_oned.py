"""1-D knots, the PWL-to-network compiler, the approximation study and the region bounds."""

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import relunet
from relunet.engine.errors import RelunetError
from relunet.pwl import (compile_function, compile_pwl, knots, model_bound, one_layer_bound, oned_bound,
                         serra_bound)
from relunet.pwl.approx import approximation_study, max_error


def random_1d(sizes, activation="relu", seed=0, spread=2.0):
    rng = np.random.default_rng(seed)
    model = relunet.MLP(sizes, activation, task="regression", seed=seed)
    model.set_weights([w if w.ndim == 2 else rng.normal(0, spread, w.shape) for w in model.get_weights()])
    return model


def pieces_by_sampling(model, a, b, n=200_001):
    """Activation patterns on a dense grid: every change lies between two neighbouring samples."""
    x = np.linspace(a, b, n)[:, None]
    weights = model.get_weights()
    h, bits = x, []
    for li, act in enumerate(model.activations):
        z = h @ weights[2 * li].T + weights[2 * li + 1]
        bits.append(z > 0)
        h = np.where(z > 0, z, getattr(act, "slope", 0.0) * z)
    B = np.concatenate(bits, axis=1)
    return x[:, 0], np.flatnonzero(np.any(B[1:] != B[:-1], axis=1))


@pytest.mark.parametrize("sizes,activation", [([1, 64, 64, 1], "relu"), ([1, 8, 8, 8, 2], "leaky_relu"),
                                              ([1, 30, 1], "relu")])
def test_knots_match_forward_pass_and_sampled_pattern_changes(sizes, activation):
    model = random_1d(sizes, activation, seed=2)
    k = knots(model, (-3.0, 3.0))
    assert k.knots[0] == -3.0 and k.knots[-1] == 3.0 and np.all(np.diff(k.knots) > 0)
    assert k.pieces == len(k.knots) - 1 <= model_bound(model) == oned_bound(sizes[1:-1])
    # The affine pieces are the network.
    x = np.linspace(-3, 3, 50_001)
    idx = np.clip(np.searchsorted(k.knots, x, side="right") - 1, 0, k.pieces - 1)
    z = k.slopes[idx] * x[:, None] + k.intercepts[idx]
    np.testing.assert_allclose(z, model.decision_function(x[:, None]), atol=1e-9 * max(1, np.abs(z).max()), rtol=0)
    np.testing.assert_allclose(k.values, model.decision_function(k.knots[:, None]), atol=1e-9 * max(1, np.abs(z).max()))
    # Every pattern change seen on a fine grid has a knot between the two samples, and every knot
    # (not closer than the grid spacing to another) shows up as a change.
    xs, changes = pieces_by_sampling(model, -3.0, 3.0)
    j = np.searchsorted(k.knots, xs[changes])
    assert np.all((k.knots[j] >= xs[changes]) & (k.knots[j] <= xs[changes + 1]))
    inner = k.breakpoints
    far = np.diff(k.knots).min() > 2 * (xs[1] - xs[0])
    if far:
        assert len(changes) == len(inner)
    # Patterns differ between neighbouring pieces.
    p = k.patterns
    assert all(a != b for a, b in zip(p[:-1], p[1:]))


def test_knots_errors_and_defaults():
    with pytest.raises(RelunetError, match="one input"):
        knots(relunet.MLP([2, 4, 2]), (0, 1))
    with pytest.raises(RelunetError, match="piece-wise linear"):
        knots(relunet.MLP([1, 4, 1], "sigmoid", task="regression"), (0, 1))
    with pytest.raises(RelunetError, match="interval"):
        knots(relunet.MLP([1, 4, 1], task="regression"))
    with pytest.raises(RelunetError, match="a < b"):
        knots(relunet.MLP([1, 4, 1], task="regression"), (1, 1))
    model = random_1d([1, 5, 1])
    model.box = [-1.0, 2.0]
    assert knots(model).knots[[0, -1]].tolist() == [-1.0, 2.0]
    lin = relunet.MLP([1, 1], task="regression")
    k = knots(lin, (0, 1))
    assert k.pieces == 1 and k.slopes[0, 0] == lin.linears[0].W[0, 0]


# ----------------------------------------------------------------------------- compiler
@settings(max_examples=40, deadline=None)
@given(data=st.data(), p=st.integers(1, 40))
def test_compiler_round_trip(data, p):
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    t = np.sort(rng.uniform(-10, 10, p + 1))
    if np.any(np.diff(t) < 1e-3):
        t = np.linspace(-10, 10, p + 1) + rng.uniform(-1e-3, 1e-3, p + 1)
    v = rng.normal(0, 3, p + 1)
    model = compile_pwl(t, v)
    assert model.sizes == [1, p + 1, 1] and model.task == "regression"
    k = knots(model, (t[0], t[-1]))
    assert k.pieces == p
    np.testing.assert_allclose(k.knots, t, atol=1e-12, rtol=0)
    np.testing.assert_allclose(k.values[:, 0], v, atol=1e-9 * (1 + np.abs(v).max()), rtol=0)
    # The network is the interpolant (np.interp) inside, and continues with the end slopes outside.
    x = np.linspace(t[0] - 1, t[-1] + 1, 4001)
    s0, s1 = (v[1] - v[0]) / (t[1] - t[0]), (v[-1] - v[-2]) / (t[-1] - t[-2])
    expect = np.interp(x, t, v) + np.where(x < t[0], s0 * (x - t[0]), 0) + np.where(x > t[-1], s1 * (x - t[-1]), 0)
    np.testing.assert_allclose(model.predict(x[:, None]), expect, atol=1e-9 * (1 + np.abs(v).max() * 20))


def test_compiler_errors():
    with pytest.raises(RelunetError, match="increasing"):
        compile_pwl([0, 1, 1], [0, 1, 2])
    with pytest.raises(RelunetError, match="at least 2"):
        compile_pwl([0], [0])
    with pytest.raises(RelunetError, match="finite"):
        compile_pwl([0, np.inf], [0, 1])
    with pytest.raises(RelunetError, match="pieces"):
        compile_function(np.sin, (0, 1), 0)


def test_sine_error_times_n_squared_tends_to_4_935():
    f, interval = relunet.data.TARGETS["sine"]
    model, t, v = compile_function(f, interval, 128)
    err = max_error(model, f, interval, 128)
    limit = (2 * np.pi) ** 2 / 8
    assert abs(err * 128 ** 2 - limit) <= 0.01 * limit
    # The error is h^2 / 8 max|f''| to leading order, checked against that formula at every n.
    rows = approximation_study("sine", [8, 32, 128])
    assert [r["pieces"] for r in rows] == [8, 32, 128]
    assert rows[0]["error_n2"] < rows[1]["error_n2"] < rows[2]["error_n2"] < limit
    # abs with an even number of pieces has a knot at 0: the network is exact.
    assert approximation_study("abs", [4])[0]["max_error"] < 1e-12


def test_approx_with_training_is_reported():
    rows = approximation_study("xsinx", [4, 16], train=True, epochs=5)
    f, interval = relunet.data.TARGETS["xsinx"]
    for r in rows:
        assert np.isfinite(r["trained_error"]) and r["trained_error"] > 0
        # The trained error is measured the same way: retrain and measure independently.
        from relunet.pwl.approx import train_same_width

        again = train_same_width(f, interval, r["pieces"], epochs=5)
        x = np.linspace(*interval, 64 * r["pieces"] + 1)
        assert r["trained_error"] == pytest.approx(np.abs(again.predict(x[:, None]) - f(x)).max(), rel=1e-12)


# ----------------------------------------------------------------------------- bounds
def serra_brute_force(widths, n0):
    """Theorem 1 of Serra et al. (2018) literally: enumerate J and sum the products."""
    total = 0
    for js in itertools.product(*[range(n + 1) for n in widths]):
        ok, caps = True, [n0]
        for l, (n, j) in enumerate(zip(widths, js)):
            if not j <= min(min(caps), n):
                ok = False
                break
            caps.append(n - j)
        if ok:
            total += math.prod(math.comb(n, j) for n, j in zip(widths, js))
    return total


@settings(max_examples=30, deadline=None)
@given(widths=st.lists(st.integers(1, 6), min_size=1, max_size=4), n0=st.integers(1, 3))
def test_serra_bound_is_theorem_1(widths, n0):
    assert serra_bound(widths, n0) == serra_brute_force(widths, n0)


def test_bound_special_cases():
    for n in range(0, 30):
        assert one_layer_bound(n) == 1 + n + n * (n - 1) // 2 == serra_bound([n], 2)
    assert serra_bound([64, 64]) == 2081 ** 2  # no bottleneck: Montufar's product
    assert serra_bound([2, 5], 2) < one_layer_bound(2) * one_layer_bound(5)  # the bottleneck effect
    for widths in ([3], [4, 5], [3, 3, 3]):
        assert serra_bound(widths, 1) == oned_bound(widths) == math.prod(n + 1 for n in widths)
    assert model_bound(relunet.MLP([2, 6, 4, 3])) == serra_bound([6, 4])


def test_counts_stay_below_the_bounds():
    from relunet.pwl import linear_regions

    for seed in range(3):
        rng = np.random.default_rng(seed)
        model = relunet.MLP([2, 5, 4, 2], seed=seed)
        model.set_weights([w if w.ndim == 2 else rng.normal(0, 1, w.shape) for w in model.get_weights()])
        assert len(linear_regions(model, [-50, 50, -50, 50])) <= serra_bound([5, 4])
