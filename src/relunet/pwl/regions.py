"""Exact linear regions of a 2-input ReLU network in a box.

Inside one region every hidden unit keeps its sign, so the network is one affine map there: the
output is z = A x + c. The regions are found layer by layer, as the lecture builds the network:

    the box is one region; z^(1) = W^(1) x + b^(1) is affine on it.
    for each hidden layer l: each unit j's zero set {z_j = 0} is a line inside each current region
        (z^(l) is affine there), so every region is cut by the lines of layer l that cross it;
        in each piece the activation pattern of layer l is fixed, h^(l) = D z^(l) with D = diag(1 or
        slope), and z^(l+1) = W^(l+1) h^(l) + b^(l+1) is again affine on the piece.

Cutting is vectorised over regions (see geometry.clip); the loop is over units. A region is kept or
dropped by its geometry, never by its area: a line cuts a region only when some vertex lies above it
and some below it by more than rounding (EPS), so both pieces are real polygons however small; only a
piece with fewer than 3 vertices (none in practice) is dropped, and counted in ``Partition.dropped``.
Tiny regions are real: an area rule dropped genuine regions of wide networks (5,480 instead of the
exact 5,481 for a 2-128-1 net in [-1, 1]^2).

Patterns are strings with one character per hidden unit, '1' where z > 0 (the unit is active) and
'0' where z <= 0 (ReLU'(0) = 0), layers separated by '|': "1011|01". An identity layer never bends
and contributes an empty group.
"""

import contextlib
from dataclasses import dataclass

import numpy as np

from . import geometry
from .model_pwl import check_inputs, pwl_layers, resolve_box

#: Values within this fraction of their scale (|a| * max|x| + |c|) of zero count as on the line.
EPS = 1e-11
#: By default no region is dropped for its area (see the module's docstring); kept for callers that want to.
MIN_AREA = 0.0


@dataclass
class Region:
    """One linear region: polygon (n, 2) counter-clockwise; pattern "1011|01"; output z = A x + c there.

    Shapes: A (outputs, 2), c (outputs,).
    """

    polygon: np.ndarray
    pattern: str
    A: np.ndarray
    c: np.ndarray

    @property
    def area(self):
        return float(geometry.areas(self.polygon[None])[0])

    def __call__(self, x):
        """The region's affine map: z = x A^T + c.  x: (N, 2) -> (N, outputs)."""
        return np.asarray(x, np.float64) @ self.A.T + self.c


class Partition:
    """The exact linear regions of a model in a box (what ``linear_regions`` returns).

    Arrays (R regions, M vertex slots, H hidden units, K outputs): ``vertices`` (R, M, 2) padded as in
    geometry (use ``polygon(i)`` or iterate for exact polygons), ``counts`` (R,), ``bits`` (R, H) bool,
    ``A`` (R, K, 2), ``c`` (R, K). ``len(p)`` is the number of regions; ``p[i]`` is a Region.
    """

    def __init__(self, box, vertices, counts, bits, A, c, groups, dropped=0):
        self.box = [float(v) for v in box]
        self.vertices, self.counts, self.bits, self.A, self.c = vertices, counts, bits, A, c
        self.groups = list(groups)  # units per hidden layer in a pattern string (0 for identity layers)
        self.dropped = int(dropped)
        self._patterns = None

    def __len__(self):
        return len(self.counts)

    def polygon(self, i):
        return self.vertices[i, :self.counts[i]].copy()

    def __getitem__(self, i):
        return Region(self.polygon(i), self.patterns[i], self.A[i].copy(), self.c[i].copy())

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    @property
    def regions(self):
        """The regions as a list of Region objects."""
        return list(self)

    @property
    def patterns(self):
        """Activation patterns, one string per region ("1011|01")."""
        if self._patterns is None:
            self._patterns = format_patterns(self.bits, self.groups)
        return self._patterns

    def areas(self):
        """(R,) region areas (positive: polygons are counter-clockwise)."""
        return geometry.areas(self.vertices)

    def centroids(self):
        """(R, 2) interior points (vertex means)."""
        return geometry.centroids(self.vertices, self.counts)

    @property
    def box_area(self):
        x0, x1, y0, y1 = self.box
        return (x1 - x0) * (y1 - y0)

    def index(self):
        """{pattern: region index}."""
        return {p: i for i, p in enumerate(self.patterns)}

    def to_json(self):
        """The JSON-able list [{"pattern", "polygon", "A", "c"}, ...]."""
        return [{"pattern": r.pattern, "polygon": r.polygon.tolist(), "A": r.A.tolist(), "c": r.c.tolist()}
                for r in self]

    def __repr__(self):
        return f"Partition({len(self)} regions in box {self.box}, dropped {self.dropped} slivers)"


def format_patterns(bits, groups):
    """(R, H) bool activation bits -> R strings with '|' between hidden layers."""
    R = len(bits)
    if R == 0:
        return []
    cols, start = [], 0
    for g, width in enumerate(groups):
        if g:
            cols.append(np.full((R, 1), ord("|"), np.uint8))
        cols.append(np.where(bits[:, start:start + width], ord("1"), ord("0")).astype(np.uint8))
        start += width
    chars = np.ascontiguousarray(np.concatenate(cols, axis=1)) if cols else np.zeros((R, 0), np.uint8)
    if chars.shape[1] == 0:
        return [""] * R
    return [s.decode() for s in chars.view(f"S{chars.shape[1]}")[:, 0]]


def linear_regions(model, box=None, min_area=MIN_AREA):
    """The exact linear regions of a 2-input ReLU / leaky ReLU / identity network inside a box.

    Args:
        model: an MLP with 2 inputs and any number of hidden layers.
        box: [x0, x1, y0, y1]; default the model's stored data box (model.box).
        min_area: if above 0, regions below this fraction of the box's area are also dropped (default 0:
            every region the lines make is kept, so one-layer counts equal bounds.box_exact_count).
    Returns:
        a Partition (len, indexing, iteration give Region(polygon, pattern, A, c)).
    Raises:
        RelunetError for a model without 2 inputs, a tanh/sigmoid model, or a bad box.
    """
    check_inputs(model, 2)
    hidden, (Wout, bout) = pwl_layers(model)
    box = resolve_box(model, box, dims=2)
    with single_thread_blas():
        return _regions(hidden, Wout, bout, box, min_area)


def _regions(hidden, Wout, bout, box, min_area):
    V, n = geometry.box_polygon(box)
    xmax = max(abs(v) for v in box)
    box_area = (box[1] - box[0]) * (box[3] - box[2])
    bits = np.zeros((1, 0), bool)
    groups = []
    dropped = 0
    Ws = [layer[0] for layer in hidden] + [Wout]
    bs = [layer[1] for layer in hidden] + [bout]
    # z = Az^T x + cz on each region, Az stored (R, 2, units) so that the next layer is one
    # (R * 2, units) @ (units, out) product without transposes.
    Az, cz = Ws[0].T[None].copy(), bs[0][None].copy()
    for li, (_, _, slope) in enumerate(hidden):
        if slope is None:  # identity: h = z, nothing bends
            groups.append(0)
            Az, cz = next_layer(Ws[li + 1], bs[li + 1], Az, cz)
            continue
        V, n, parent, layer_bits = _split_layer(V, n, Az, cz, xmax)
        keep = n >= 3
        if min_area > 0:
            keep &= geometry.areas(V) > min_area * box_area
        dropped += int(np.count_nonzero(~keep))
        V, n, parent, layer_bits = V[keep], n[keep], parent[keep], layer_bits[keep]
        bits = np.concatenate([bits[parent], layer_bits], axis=1)
        groups.append(layer_bits.shape[1])
        Az, cz = _through_layer(Az, cz, parent, layer_bits, slope, Ws[li + 1], bs[li + 1])
    width = int(n.max()) if len(n) else 1
    A = np.ascontiguousarray(Az.transpose(0, 2, 1))  # (R, outputs, 2)
    return Partition(box, np.ascontiguousarray(V[:, :width]), n, bits, A, cz, groups, dropped)


_CONTROLLER = []


def single_thread_blas():
    """A context that keeps BLAS to one thread (threadpoolctl, when installed).

    The products here are small and many: on a busy machine a multi-threaded BLAS spends more time
    waking its threads than multiplying (measured 3x slower on 2 shared cores).
    """
    if not _CONTROLLER:
        try:
            from threadpoolctl import ThreadpoolController

            _CONTROLLER.append(ThreadpoolController())
        except ImportError:
            _CONTROLLER.append(None)
    ctrl = _CONTROLLER[0]
    return ctrl.limit(limits=1, user_api="blas") if ctrl is not None else contextlib.nullcontext()


def next_layer(W, b, Ah, ch):
    """The next excitation's affine maps from the activations' ones: z = W h + b on every region.

    W (out, in), b (out,), Ah (R, d, in), ch (R, in) -> Az (R, d, out), cz (R, out): z = Az^T x + cz.
    One BLAS call for all regions instead of R small products.
    """
    R, d, units = Ah.shape
    Az = (Ah.reshape(R * d, units) @ W.T).reshape(R, d, len(W))
    return Az, ch @ W.T + b


def _through_layer(Az, cz, parent, bits, slope, W, b, block=8192):
    """z of the next layer on every piece: h = D z with D = diag(1 where the unit is on, else slope),
    then z' = W h + b. Pieces share their parent's z map; done in blocks of rows to bound memory.

    Az (P, 2, units), cz (P, units), parent (R,), bits (R, units) -> Az' (R, 2, out), cz' (R, out).
    """
    R = len(parent)
    Az2 = np.empty((R, Az.shape[1], len(W)))
    cz2 = np.empty((R, len(W)))
    for s in range(0, R, block):
        e = min(R, s + block)
        d = bits[s:e].astype(np.float64) if slope == 0.0 else np.where(bits[s:e], 1.0, slope)
        p = parent[s:e]
        Ah = Az[p]
        Ah *= d[:, None, :]
        ch = cz[p]
        ch *= d
        Az2[s:e], cz2[s:e] = next_layer(W, b, Ah, ch)
    return Az2, cz2


def _split_layer(V, n, Az, cz, xmax):
    """Cut every region by the lines z_j = 0 of one layer.

    V (P, M, 2), n (P,): the regions; Az (P, 2, units), cz (P, units): z of this layer on each.
    Returns (V, n, parent, bits): the pieces, the region each came from, and their (R, units) signs.
    """
    P, units = cz.shape
    eps = EPS * (np.abs(Az).sum(axis=1) * xmax + np.abs(cz))  # (P, units): the rounding scale of z
    above, below = _signs(V, Az, cz, eps)
    crossed = above & below
    # Not crossed: the unit's sign is the same everywhere in the region (take the centre's when the
    # whole region lies within rounding of the line, which only a vanishing region can).
    g = geometry.centroids(V, n)
    centre = g[:, 0, None] * Az[:, 0] + g[:, 1, None] * Az[:, 1] + cz
    bits = np.where(above | below, above, centre > 0)
    parent = np.arange(P)
    store = _Rows(V, n, parent, bits)
    for j in np.flatnonzero(crossed.any(axis=0)):
        R = store.size
        rows = np.flatnonzero(crossed[store.parent[:R], j])
        pr = store.parent[rows]
        Vr, nr = store.V[rows], store.n[rows]
        a = Az[pr, :, j]
        s = Vr[..., 0] * a[:, 0, None] + Vr[..., 1] * a[:, 1, None] + cz[pr, j][:, None]
        sg = geometry.side(s, eps[pr, j][:, None])
        up, down = sg.max(axis=1) > 0, sg.min(axis=1) < 0  # (padding repeats vertex 0)
        split = up & down
        # A child of a crossed region may lie wholly on one side.
        store.bits[rows[~split], j] = up[~split]
        if not split.any():
            continue
        rows = rows[split]
        (Vp, np_), (Vm, nm) = geometry.split(Vr[split], nr[split], s[split], sg[split])
        store.replace(rows, Vp, np_, j, True)
        store.append(rows, Vm, nm, j, False)
    return store.arrays()


def _signs(V, Az, cz, eps, block=2_000_000):
    """Which units are above eps / below -eps somewhere in each region: two (P, units) bool arrays.

    z at every vertex is a (P, M, units) array, computed in blocks of about `block` numbers so that
    wide layers over many regions stay within a few tens of MB. Padding slots repeat vertex 0, so
    max and min over all slots are those over the polygon's vertices.
    """
    P, M, _ = V.shape
    step = max(1, block // max(1, M * cz.shape[1]))
    above = np.empty(cz.shape, bool)
    below = np.empty(cz.shape, bool)
    for s in range(0, P, step):
        e = min(P, s + step)
        S = V[s:e, :, 0, None] * Az[s:e, None, 0, :]
        S += V[s:e, :, 1, None] * Az[s:e, None, 1, :]
        S += cz[s:e, None, :]
        above[s:e] = S.max(axis=1) > eps[s:e]
        below[s:e] = S.min(axis=1) < -eps[s:e]
    return above, below


class _Rows:
    """Growable region arrays (vertices, counts, parent, bits) with spare capacity, so that appending
    the pieces cut off by each unit does not copy everything each time."""

    def __init__(self, V, n, parent, bits):
        self.size = len(n)
        cap = max(64, 4 * self.size)
        self.V = np.concatenate([V, np.repeat(V[:1], cap - len(V), axis=0)])
        self.n = np.concatenate([n, np.zeros(cap - len(n), n.dtype)])
        self.parent = np.concatenate([parent, np.zeros(cap - len(n), parent.dtype)])
        self.bits = np.concatenate([bits, np.zeros((cap - len(n), bits.shape[1]), bool)])

    def _widen(self, width):
        if width > self.V.shape[1]:
            self.V = geometry.pad_to(self.V, width)[0]

    def replace(self, rows, V, n, j, bit):
        self._widen(V.shape[1])
        self.V[rows] = geometry.pad_to(V, self.V.shape[1])[0]
        self.n[rows] = n
        self.bits[rows, j] = bit

    def append(self, rows, V, n, j, bit):
        k, R = len(rows), self.size
        if R + k > len(self.n):
            cap = 2 * (R + k)
            self.V = np.concatenate([self.V, np.zeros((cap - len(self.V),) + self.V.shape[1:])])
            self.n = np.concatenate([self.n, np.zeros(cap - len(self.n), self.n.dtype)])
            self.parent = np.concatenate([self.parent, np.zeros(cap - len(self.parent), self.parent.dtype)])
            self.bits = np.concatenate([self.bits, np.zeros((cap - len(self.bits), self.bits.shape[1]), bool)])
        self._widen(V.shape[1])
        self.V[R:R + k] = geometry.pad_to(V, self.V.shape[1])[0]
        self.n[R:R + k] = n
        self.parent[R:R + k] = self.parent[rows]
        self.bits[R:R + k] = self.bits[rows]
        self.bits[R:R + k, j] = bit
        self.size = R + k

    def arrays(self):
        R = self.size
        return self.V[:R], self.n[:R], self.parent[:R], self.bits[:R]
