"""The exact decision boundary: ties at every vertex, nothing missing along dense lines, grid
classification agreeing with the exact cells, and the linear classifier's power diagram."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import relunet
from relunet.data import bounding_box
from relunet.engine.errors import RelunetError
from relunet.pwl import decision_boundary, linear_regions, power_diagram


def trained(data, sizes, epochs, seed=0, **kw):
    X, y = relunet.make_dataset(data, seed=seed, **kw)
    model = relunet.MLP(sizes, seed=seed)
    relunet.fit(model, X, y, epochs=epochs, batch_size=32, optimizer="adam", lr=0.01, seed=seed)
    model.box = bounding_box(X)
    return model


@pytest.fixture(scope="module")
def spiral():
    model = trained("spiral", [2, 32, 32, 3], 150)
    part = linear_regions(model)
    return model, part, decision_boundary(model, partition=part)


@pytest.fixture(scope="module")
def moons():
    model = trained("moons", [2, 16, 16, 2], 60)
    return model, decision_boundary(model)


def check_ties(model, bnd):
    """At every polyline vertex the labelled pair ties (1e-9) and no other class is higher."""
    assert bnd.pieces
    for piece in bnd.pieces:
        i, j = piece.classes
        assert i < j
        z = model.decision_function(piece.polyline)
        scale = max(1.0, np.abs(z).max())
        assert np.max(np.abs(z[:, i] - z[:, j])) <= 1e-9 * scale
        others = np.delete(z, [i, j], axis=1)
        if others.size:
            assert np.all(others.max(axis=1) <= z[:, i] + 1e-9 * scale)
    for p, cls in zip(bnd.junctions, bnd.junction_classes):
        z = model.decision_function(p[None])[0]
        assert np.ptp(z[cls]) <= 1e-9 * max(1.0, np.abs(z).max())
        assert z[cls].min() >= z.max() - 1e-9 * max(1.0, np.abs(z).max())


def check_complete(model, bnd, box, lines=7, samples=20001):
    """Along horizontal lines, every change of the predicted class is crossed by a boundary segment
    of that class pair between the two samples."""
    x0, x1, y0, y1 = box
    xs = np.linspace(x0, x1, samples)
    S, C = bnd.segments, np.sort(bnd.segment_classes, axis=1)
    changes = 0
    for y in np.linspace(y0, y1, lines + 2)[1:-1]:
        cls = model.decision_function(np.column_stack([xs, np.full_like(xs, y)])).argmax(axis=1)
        for k in np.flatnonzero(cls[1:] != cls[:-1]):
            changes += 1
            pair = sorted((cls[k], cls[k + 1]))
            sel = np.all(C == pair, axis=1)
            a, b = S[sel, 0], S[sel, 1]
            crosses = (np.minimum(a[:, 1], b[:, 1]) <= y) & (np.maximum(a[:, 1], b[:, 1]) >= y) & (a[:, 1] != b[:, 1])
            t = (y - a[crosses, 1]) / (b[crosses, 1] - a[crosses, 1])
            xc = a[crosses, 0] + t * (b[crosses, 0] - a[crosses, 0])
            assert np.any((xc >= xs[k] - 1e-9) & (xc <= xs[k + 1] + 1e-9)), (y, xs[k], pair)
    return changes


def test_spiral_boundary_ties_and_is_complete(spiral):
    model, part, bnd = spiral
    check_ties(model, bnd)
    assert check_complete(model, bnd, part.box) > 10
    assert bnd.count == len(bnd.segments) >= len(bnd.pieces)
    # Polylines chain the region pieces: far fewer polylines than straight pieces.
    assert len(bnd.pieces) < bnd.count / 5


def test_grid_classification_agrees_with_exact_cells(spiral):
    from test_pwl_regions import activation_bits, grid, inside, locate

    model, part, bnd = spiral
    G = grid(part.box, 500)
    z = model.decision_function(G)
    zs = np.sort(z, axis=1)
    clear = zs[:, -1] - zs[:, -2] > 1e-9 * max(1.0, np.abs(z).max())  # away from the boundary
    pred = z.argmax(axis=1)
    where = locate(part, activation_bits(model, G))
    assert np.all(where >= 0)
    # Regions the boundary does not cross have one class: the one at their centre.
    centre = np.einsum("rkd,rd->rk", part.A, part.centroids()) + part.c
    exact = centre.argmax(axis=1)[where]
    # In the regions it crosses, the class is that of the exact cell holding the point.
    in_mixed = np.isin(where, bnd.mixed)
    found = np.zeros(len(G), bool)
    found[~in_mixed] = True
    scale = part.box[1] - part.box[0]
    idx = np.flatnonzero(in_mixed)
    idx = idx[np.argsort(where[idx], kind="stable")]
    starts = np.searchsorted(where[idx], np.arange(len(part) + 1))
    for cls, region, poly in bnd.cells:
        sel = idx[starts[region]:starts[region + 1]]
        if not len(sel):
            continue
        V = np.broadcast_to(poly, (len(sel),) + poly.shape)
        hit = sel[inside(V, G[sel], 1e-12 * scale)]
        hit = hit[~found[hit] | ~clear[hit]]
        exact[hit] = cls
        found[hit] = True
    assert np.all(found)
    assert np.array_equal(exact[clear], pred[clear])
    assert clear.mean() > 0.99


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), hidden=st.lists(st.integers(1, 10), min_size=1, max_size=3),
       classes=st.integers(2, 5), leaky=st.booleans())
def test_random_networks_boundary(seed, hidden, classes, leaky):
    from test_pwl_regions import random_model

    model = random_model([2, *hidden, classes], "leaky_relu" if leaky else "relu", seed=seed)
    box = [-1.0, 1.0, -0.93, 1.07]
    bnd = decision_boundary(model, box)
    if bnd.count:
        check_ties(model, bnd)
    check_complete(model, bnd, box, lines=5, samples=5001)


def test_two_classes_boundary_is_z0_equals_z1(moons):
    model, bnd = moons
    check_ties(model, bnd)
    assert {p.classes for p in bnd.pieces} == {(0, 1)}
    assert len(bnd.junctions) == 0
    assert check_complete(model, bnd, model.box) > 0


def test_linear_classifier_boundary_is_its_power_diagram():
    model = relunet.MLP([2, 3], seed=4)
    model.set_weights([np.array([[1.0, 0.2], [-0.6, 0.9], [-0.3, -1.1]]), np.array([0.1, -0.2, 0.05])])
    box = [-3, 3, -3, 3]
    bnd = decision_boundary(model, box)
    check_ties(model, bnd)
    # Three rays from one junction: three straight pieces.
    assert len(bnd.pieces) == 3 and bnd.count == 3 and len(bnd.junctions) == 1
    pd = power_diagram(model)
    assert not pd.is_voronoi
    # Every boundary point has equal power distance to the two sites (the radical axis).
    for piece in bnd.pieces:
        i, j = piece.classes
        P = piece.polyline
        pi = np.sum((P - pd.sites[i]) ** 2, axis=1) - pd.weights[i]
        pj = np.sum((P - pd.sites[j]) ** 2, axis=1) - pd.weights[j]
        np.testing.assert_allclose(pi, pj, atol=1e-9)
    assert check_complete(model, bnd, box) > 0


def test_power_diagram_brute_force():
    rng = np.random.default_rng(0)
    model = relunet.MLP([2, 5], seed=1)
    X = rng.uniform(-3, 3, (2000, 2))
    pd = power_diagram(model)
    power = np.sum((X[:, None, :] - pd.sites[None]) ** 2, axis=2) - pd.weights[None]
    assert np.array_equal(power.argmin(axis=1), model.decision_function(X).argmax(axis=1))
    np.testing.assert_allclose(pd.weights, np.sum(model.linears[0].W ** 2, axis=1) + 2 * model.linears[0].b)
    # Biases b_k = -|w_k|^2 / 2 (+ a common constant) make all weights equal: a Voronoi diagram,
    # whose cells are the nearest sites.
    W = model.linears[0].W
    model.linears[0].b = 0.3 - 0.5 * np.sum(W ** 2, axis=1)
    pd = power_diagram(model)
    assert pd.is_voronoi
    nearest = np.sum((X[:, None, :] - W[None]) ** 2, axis=2).argmin(axis=1)
    assert np.array_equal(nearest, model.predict(X))


def test_errors():
    with pytest.raises(RelunetError, match="classifier"):
        decision_boundary(relunet.MLP([2, 4, 1], task="regression"), [0, 1, 0, 1])
    with pytest.raises(RelunetError, match="linear classifier"):
        power_diagram(relunet.MLP([2, 4, 2]))
