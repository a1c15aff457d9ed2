"""Exact 2-D linear regions: checked against the network's own forward pass on dense grids and
random interior points, against the box-exact count of a line arrangement, and against an
independent layer-by-layer clipping in exact rational arithmetic (fractions.Fraction)."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import relunet
from relunet.data import bounding_box
from relunet.engine.errors import RelunetError
from relunet.pwl import box_exact_count, linear_regions, one_layer_bound, serra_bound


# ----------------------------------------------------------------------------- models
def trained_spiral(hidden=(32, 32), activation="relu", epochs=150, seed=0):
    X, y = relunet.make_dataset("spiral", seed=seed)
    model = relunet.MLP([2, *hidden, 3], activation, seed=seed)
    relunet.fit(model, X, y, epochs=epochs, batch_size=32, optimizer="adam", lr=0.01, seed=seed)
    model.box = bounding_box(X)
    return model


@pytest.fixture(scope="module")
def spiral():
    # The network: 2-64-64-3 trained on the spiral (several thousand regions).
    return trained_spiral(hidden=(64, 64))


@pytest.fixture(scope="module")
def spiral_partition(spiral):
    return linear_regions(spiral)


def random_model(sizes, activation="relu", seed=0, bias=1.0):
    """Random weights with biases spread, so the lines actually cross the box [-1, 1]^2."""
    rng = np.random.default_rng(seed)
    task = "classification" if sizes[-1] > 1 else "regression"
    model = relunet.MLP(sizes, activation, task=task, seed=seed)
    model.set_weights([w if w.ndim == 2 else rng.normal(0, bias, w.shape) for w in model.get_weights()])
    return model


def forward_bits(model, X):
    """(z, bits): the output and every row's activation pattern, by an explicit forward pass
    written here from the weights (not the library's)."""
    weights = model.get_weights()
    h, bits = X, []
    for li, act in enumerate(model.activations):
        z = h @ weights[2 * li].T + weights[2 * li + 1]
        if act.name == "identity":
            h = z
            continue
        on = z > 0
        bits.append(on)
        slope = getattr(act, "slope", 0.0)
        h = np.maximum(z, 0.0) if slope == 0.0 else np.where(on, z, slope * z)
    z = h @ weights[-2].T + weights[-1]
    return z, (np.concatenate(bits, axis=1) if bits else np.zeros((len(X), 0), bool))


def activation_bits(model, X):
    return forward_bits(model, X)[1]


def grid(box, n=500):
    x0, x1, y0, y1 = box
    # Cell centres: no grid point on the box's edge, where a point belongs to no interior.
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def locate(part, bits):
    """Region index of each row of activation bits (-1 when no region has that pattern)."""
    index = {row.tobytes(): i for i, row in enumerate(np.packbits(part.bits, axis=1))}
    return np.array([index.get(row.tobytes(), -1) for row in np.packbits(bits, axis=1)])


def inside(V, P, tol):
    """Whether each point P[i] lies in the convex ccw polygon V[i] (padded), within tol.  V (N, M, 2), P (N, 2)."""
    E = np.roll(V, -1, axis=1) - V
    D = P[:, None, :] - V
    cross = E[..., 0] * D[..., 1] - E[..., 1] * D[..., 0]
    return np.all(cross >= -tol * (1 + np.linalg.norm(E, axis=2)), axis=1)


def interior_points(part, k, rng):
    """k random points strictly inside every region (convex combinations with positive weights)."""
    R, M, _ = part.vertices.shape
    w = rng.dirichlet(np.ones(M), size=(R, k))  # (R, k, M)
    w *= (np.arange(M)[None, :] < part.counts[:, None])[:, None, :]
    w /= w.sum(axis=2, keepdims=True)
    return np.einsum("rkm,rmd->rkd", w, part.vertices)


# ----------------------------------------------------------------------------- verification
def check_partition(model, part, n_grid=500, n_interior=100, seed=0):
    box_area = part.box_area
    areas = part.areas()
    assert np.all(areas > 0), "every polygon is counter-clockwise with positive area"
    assert abs(areas.sum() - box_area) <= 1e-9 * box_area
    # Each region's affine map is the network at random interior points of it.
    P = interior_points(part, n_interior, np.random.default_rng(seed))
    z_map = np.einsum("rkd,rpd->rpk", part.A, P) + part.c[:, None, :]
    z_net, pts_bits = forward_bits(model, P.reshape(-1, 2))
    z_net = z_net.reshape(z_map.shape)
    assert np.max(np.abs(z_map - z_net)) <= 1e-9 * max(1.0, np.abs(z_net).max())
    # ... and their pattern is the region's.
    assert np.array_equal(locate(part, pts_bits), np.repeat(np.arange(len(part)), n_interior))
    # A dense grid: every point's pattern is a listed region, and the point lies in its polygon.
    G = grid(part.box, n_grid)
    where = locate(part, activation_bits(model, G))
    assert np.all(where >= 0)
    scale = max(part.box[1] - part.box[0], part.box[3] - part.box[2])
    assert np.all(inside(part.vertices[where], G, 1e-9 * scale))
    # Patterns are distinct and well formed.
    assert len(set(part.patterns)) == len(part)
    return where


def test_trained_spiral_regions_are_exact(spiral, spiral_partition):
    part = spiral_partition
    assert len(part) > 2000
    assert part.patterns[0].count("|") == 1 and len(part.patterns[0]) == 64 + 1 + 64
    check_partition(spiral, part)


def test_region_objects_and_json(spiral, spiral_partition):
    part = spiral_partition
    r = part[3]
    assert r.polygon.shape == (part.counts[3], 2)
    assert abs(r.area - part.areas()[3]) < 1e-15
    x = r.polygon.mean(axis=0, keepdims=True)
    np.testing.assert_allclose(r(x), spiral.decision_function(x), rtol=0, atol=1e-12)
    doc = part.to_json()
    assert len(doc) == len(part) and set(doc[0]) == {"pattern", "polygon", "A", "c"}
    assert np.array(doc[0]["A"]).shape == (3, 2)


@pytest.mark.parametrize("sizes,activation", [
    ([2, 12, 10, 8, 3], "leaky_relu"),
    ([2, 16, 16, 2], "relu"),
    ([2, 10, 6, 1], ["relu", "identity"]),
])
def test_random_deep_networks(sizes, activation):
    model = random_model(sizes, activation, seed=3)
    part = linear_regions(model, [-1, 1, -1, 1])
    check_partition(model, part, n_grid=500, n_interior=20)
    widths = sizes[1:-1]
    if activation == "relu":
        assert len(part) <= serra_bound(widths)


def test_no_hidden_layer_is_one_region():
    model = random_model([2, 4], seed=1)
    part = linear_regions(model, [-2, 2, -1, 3])
    assert len(part) == 1 and part.patterns == [""]
    np.testing.assert_allclose(part.A[0], model.linears[0].W)
    np.testing.assert_allclose(part.areas(), [16.0])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 24), bias=st.floats(0.1, 2.0))
def test_one_layer_count_is_the_box_exact_formula(seed, n, bias):
    model = random_model([2, n, 2], seed=seed, bias=bias)
    box = [-1.0, 1.0, -0.7, 1.3]
    part = linear_regions(model, box)
    W, b = model.linears[0].W, model.linears[0].b
    assert len(part) == box_exact_count(W, b, box)
    assert len(part) <= one_layer_bound(n) == 1 + n + n * (n - 1) // 2


# ----------------------------------------------------------------------------- exact arithmetic
def exact_regions(model, box):
    """Layer-by-layer clipping in exact rational arithmetic, one polygon and one unit at a time.

    Returns {pattern: [vertices as (Fraction, Fraction)]}. Written independently of relunet.pwl:
    plain lists, exact signs (a vertex with z = 0 exactly lies on the line), no tolerances.
    """
    F = Fraction
    Ws = [[[F(float(v)) for v in row] for row in lin.W] for lin in model.linears]
    bs = [[F(float(v)) for v in lin.b] for lin in model.linears]
    slopes = [F(getattr(a, "slope", 0.0)) for a in model.activations]
    x0, x1, y0, y1 = (F(v) for v in box)
    # A region: (polygon, pattern, map) with map[j] = (a1, a2, c): z_j = a1 x + a2 y + c.
    first = [(Ws[0][j][0], Ws[0][j][1], bs[0][j]) for j in range(len(bs[0]))]
    regions = [([(x0, y0), (x1, y0), (x1, y1), (x0, y1)], "", first)]
    for li in range(len(model.activations)):
        out = []
        for poly, pattern, zmap in regions:
            pieces = [(poly, "")]
            for a1, a2, c in zmap:
                nxt = []
                for P, bits in pieces:
                    for sign, bit in ((1, "1"), (-1, "0")):
                        Q = clip_exact(P, lambda p: sign * (a1 * p[0] + a2 * p[1] + c))
                        if len(Q) >= 3:
                            nxt.append((Q, bits + bit))
                pieces = nxt
            for P, bits in pieces:
                # h = D z, next z = W h + b, all as affine maps of (x, y).
                d = [F(1) if bit == "1" else slopes[li] for bit in bits]
                hmap = [(d[j] * a1, d[j] * a2, d[j] * c) for j, (a1, a2, c) in enumerate(zmap)]
                W, b = Ws[li + 1], bs[li + 1]
                znew = [(sum(W[i][j] * hmap[j][0] for j in range(len(hmap))),
                         sum(W[i][j] * hmap[j][1] for j in range(len(hmap))),
                         sum(W[i][j] * hmap[j][2] for j in range(len(hmap))) + b[i]) for i in range(len(W))]
                out.append((P, pattern + ("|" if pattern else "") + bits, znew))
        regions = out
    return {pattern: P for P, pattern, _ in regions}


def clip_exact(P, s):
    """The part of convex polygon P where s >= 0 (Sutherland-Hodgman with exact signs); no repeated
    points, so a piece touching the line in a vertex or an edge only comes out with < 3 vertices."""
    out = []
    for k in range(len(P)):
        p, q = P[k], P[(k + 1) % len(P)]
        sp, sq = s(p), s(q)
        if sp >= 0:
            out.append(p)
        if (sp > 0 > sq) or (sp < 0 < sq):
            t = sp / (sp - sq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    dedup = [v for i, v in enumerate(out) if v != out[i - 1]] if len(out) > 1 else out
    # Drop vertices where the boundary goes straight on (a line through a vertex leaves one).
    keep = []
    for i, v in enumerate(dedup):
        a, c = dedup[i - 1], dedup[(i + 1) % len(dedup)]
        if (v[0] - a[0]) * (c[1] - v[1]) - (v[1] - a[1]) * (c[0] - v[0]) != 0:
            keep.append(v)
    return keep


@pytest.mark.parametrize("sizes,activation,seed", [
    ([2, 8, 2], "relu", 0),
    ([2, 4, 4, 3], "relu", 1),
    ([2, 3, 3, 2, 2], "leaky_relu", 2),
    ([2, 5, 3, 2], "relu", 5),
])
def test_vertices_agree_with_exact_rational_arithmetic(sizes, activation, seed):
    compare_with_exact(random_model(sizes, activation, seed=seed), [-1.0, 1.0, -1.0, 1.0])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), hidden=st.lists(st.integers(1, 4), min_size=1, max_size=3).filter(
    lambda h: sum(h) <= 8), leaky=st.booleans(), box=st.sampled_from([[-1.0, 1.0, -1.0, 1.0], [-0.3, 2.0, -1.5, 0.2]]))
def test_random_small_networks_agree_with_exact_arithmetic(seed, hidden, leaky, box):
    compare_with_exact(random_model([2, *hidden, 3], "leaky_relu" if leaky else "relu", seed=seed), box)


def compare_with_exact(model, box):
    part = linear_regions(model, box)
    exact = exact_regions(model, box)
    assert set(part.patterns) == set(exact)
    for region in part:
        E = np.array([[float(x), float(y)] for x, y in exact[region.pattern]])
        V = region.polygon
        assert len(V) == len(E), region.pattern
        # The same vertices (each float one within 1e-9 of an exact one, and back), in ccw order.
        d = np.linalg.norm(V[:, None, :] - E[None, :, :], axis=2)
        assert d.min(axis=1).max() < 1e-9 and d.min(axis=0).max() < 1e-9
        shift = int(d[0].argmin())
        np.testing.assert_allclose(V, np.roll(E, -shift, axis=0), atol=1e-9, rtol=0)


# ----------------------------------------------------------------------------- errors and edge cases
def test_degenerate_lines_through_vertices_and_parallel():
    # Lines through box corners, along an edge's supporting line, parallel pairs and a triple point.
    model = relunet.MLP([2, 6, 2], seed=0)
    W1 = np.array([[1.0, -1.0], [1.0, 1.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, -1.0]])
    b1 = np.array([0.0, 0.0, -0.5, 0.5, 1.0, 0.0])  # x = y twice, y = -1 is the box's edge
    model.set_weights([W1, b1, np.ones((2, 6)), np.zeros(2)])
    part = linear_regions(model, [-1, 1, -1, 1])
    check_partition(model, part, n_grid=500, n_interior=10)
    # The diagonals (one of them twice) make 4 triangles; x = 0.5 and x = -0.5 each cross 3 of them.
    assert len(part) == 4 + 3 + 3


def _zero_biases(model):
    for lin in model.linears:
        lin.b = np.zeros(lin.out_features)
    return model


def test_zero_bias_networks_all_lines_through_the_origin():
    # With zero biases every first-layer line passes through the origin (all concurrent), and every
    # region is a cone with its apex there: the most degenerate arrangement.
    n = 16
    model = _zero_biases(relunet.MLP([2, n, 3], seed=0))
    part = linear_regions(model, [-1, 1, -1, 1])
    assert len(part) == 2 * n
    check_partition(model, part, n_grid=500, n_interior=10)
    deep = _zero_biases(relunet.MLP([2, 16, 16, 3], seed=0))
    check_partition(deep, linear_regions(deep, [-1, 1, -1, 1]), n_grid=500, n_interior=10)


def test_tiny_real_regions_are_kept():
    model = relunet.MLP([2, 2, 2], seed=0)
    # x = 0, and x + y = -2 + 1e-6 cutting off the corner (-1, -1): a real triangle of area 5e-13
    # (1.25e-13 of the box's area): 1 + 2 lines crossing + 0 intersections inside = 3 regions.
    model.set_weights([np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([0.0, 2 - 1e-6]), np.ones((2, 2)), np.zeros(2)])
    part = linear_regions(model, [-1, 1, -1, 1])
    assert len(part) == 3 and part.dropped == 0
    assert sorted(part.areas())[0] == pytest.approx(5e-13, rel=1e-3)
    assert abs(part.areas().sum() - 4.0) <= 1e-9 * 4


def test_errors():
    with pytest.raises(RelunetError, match="piece-wise linear"):
        linear_regions(relunet.MLP([2, 4, 2], "tanh"), [0, 1, 0, 1])
    with pytest.raises(RelunetError, match="two inputs"):
        linear_regions(relunet.MLP([1, 4, 1], task="regression"), [0, 1, 0, 1])
    with pytest.raises(RelunetError, match="no stored data box"):
        linear_regions(relunet.MLP([2, 4, 2]))
    with pytest.raises(RelunetError, match="x0 < x1"):
        linear_regions(relunet.MLP([2, 4, 2]), [1, 0, 0, 1])
    with pytest.raises(RelunetError, match="finite"):
        linear_regions(relunet.MLP([2, 4, 2]), [0, float("nan"), 0, 1])


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("box", [[-1, 1, -1, 1], [-4, 4, -4, 4]])
def test_one_layer_counts_equal_the_box_exact_formula(seed, box):
    # wide layers make regions far below 1e-12 of the box's area; each is real and must be kept
    # (the reported case: a 2-128-1 net in [-1, 1]^2 lost one region to an area rule, in [-4, 4]^2 up to 5)
    from relunet.pwl.bounds import box_exact_count

    model = relunet.MLP([2, 128, 1], task="regression", seed=seed)
    part = linear_regions(model, box)
    assert len(part) == box_exact_count(model.linears[0].W, model.linears[0].b, box)
    assert part.dropped == 0
    assert abs(part.areas().sum() - (box[1] - box[0]) ** 2) <= 1e-9 * (box[1] - box[0]) ** 2
