"""The lecture's quiz: build a two-layer ReLU network by hand, graded exactly.

Each exercise is a target, limits and a reference solution:

- a *points* target: tokens (x, y) that the network must classify, every one of them correctly;
- a *region* target: a polygonal region that the region predicted as class 1 must reproduce (class 0
  everywhere else in the exercise's box), up to an allowed mismatch area. The region is a union of
  convex polygons with disjoint interiors ("pieces"): it may be non-convex, and it may sit in several
  places, as the lecture's class 0 does;
- limits: the most hidden units the network may have;
- a reference: a two-layer network written out by hand (its hinge lines w_j x + b_j = 0 and output
  weights), which passes.

``check(exercise, model)`` grades with relunet.pwl, never by sampling a grid: the network's exact
linear regions in the box give each token's affine map z = A x + c, so its class is argmax z exactly
(a token on a tie counts as wrong); for a region target, the exact cells of each class are clipped
against each piece of the target and the mismatch is an exact polygon area.

All exercises have two classes. Their reference networks output z = (0, s(x)) with the score
s(x) = sum_j v_j h_j + c: class 1 where s > 0, so the reference reads as one weighted sum of hinges.
"""

from dataclasses import dataclass, field

import numpy as np

from .data import make_dataset
from .engine.errors import RelunetError
from .engine.model import MLP
from .pwl import geometry
from .pwl.boundary import decision_boundary
from .pwl.regions import EPS, linear_regions


@dataclass(frozen=True)
class Exercise:
    """One task of the quiz.

    name: registry key; title and text: what to do, in the lecture's words; box [x0, x1, y0, y1]: where
    the network is graded; max_hidden: the most hidden units allowed. A points target has
    ``make_points() -> (X (N, 2), y (N,))``; a region target has ``polygons``, its pieces for class 1: a
    tuple of (n, 2) arrays, each convex and counter-clockwise, with disjoint interiors (they may share
    edges), and ``tolerance``: the allowed mismatch as a fraction of the region's area.
    ``make_reference() -> MLP`` builds the hand-made solution.
    """

    name: str
    title: str
    text: str
    box: tuple
    max_hidden: int
    make_reference: object
    make_points: object = None
    polygons: tuple = field(default=(), repr=False)
    tolerance: float = 0.0
    hint: str = ""

    def __post_init__(self):
        pieces = tuple(np.asarray(P, np.float64).reshape(-1, 2) for P in self.polygons)
        object.__setattr__(self, "polygons", pieces)
        _check_pieces(self.name, pieces)

    @property
    def kind(self):
        return "region" if self.polygons else "points"

    @property
    def area(self):
        """The target region's area (the sum of its pieces'); 0 for a points target."""
        return float(sum(polygon_area(P) for P in self.polygons))

    def inside(self, X):
        """(N,) bool: the tokens X (N, 2) strictly inside a piece of the target region."""
        X = np.asarray(X, np.float64).reshape(-1, 2)
        hit = np.zeros(len(X), bool)
        for P in self.polygons:
            a, b = _halfplanes(P)
            hit |= np.all(X @ a.T + b > 0, axis=1)
        return hit

    def outline(self):
        """The boundary of the target region as segments (S, 2, 2): the pieces' edges without the parts two
        pieces share (an L made of two rectangles is drawn without the seam between them)."""
        edges = [(p, q) for P in self.polygons for p, q in zip(P, np.roll(P, -1, axis=0))]
        out = []
        for i, (p, q) in enumerate(edges):
            d = q - p
            keep = [(0.0, 1.0)]                       # the parts of p + u (q - p), 0 <= u <= 1, not shared
            for j, (r, s) in enumerate(edges):
                if j != i and _opposite_on_line(p, q, r, s):
                    lo, hi = sorted([float((r - p) @ d / (d @ d)), float((s - p) @ d / (d @ d))])
                    keep = _subtract(keep, lo, hi)
            out += [[p + a * d, p + b * d] for a, b in keep]
        return np.array(out, np.float64).reshape(-1, 2, 2)

    def points(self):
        """The target tokens (X, y); for a region target, none."""
        if self.make_points is None:
            return np.zeros((0, 2)), np.zeros(0, np.int64)
        X, y = self.make_points()
        return np.asarray(X, np.float64), np.asarray(y, np.int64)

    def reference(self):
        """The hand-built reference network (a fresh MLP; it passes ``check``)."""
        model = self.make_reference()
        model.box = list(self.box)
        return model

    def to_json(self):
        X, y = self.points()
        return {"name": self.name, "title": self.title, "text": self.text, "hint": self.hint, "kind": self.kind,
                "box": list(self.box), "max_hidden": self.max_hidden, "points": X.tolist(), "labels": y.tolist(),
                "polygons": [P.tolist() for P in self.polygons], "outline": self.outline().tolist(),
                "tolerance": self.tolerance}


@dataclass
class Result:
    """What ``check`` found.

    passed: every condition met; reasons: one sentence per failed condition. hidden: the network's
    hidden units (limit max_hidden); used: those that change the prediction somewhere in the box;
    regions: its linear regions in the box. Points target: predicted (N,) classes, correct (N,) bool,
    margin (N,) z_y - max_{k != y} z_k (exact, from each token's region). Region target: the exact
    areas of the target region, of the mismatch (the symmetric difference inside the box), its parts
    ``missed`` (target not predicted as class 1) and ``extra`` (class 1 outside the target) as lists of
    convex polygons with disjoint interiors. boundary: the exact decision boundary (relunet.pwl.Boundary).
    """

    exercise: str
    passed: bool
    reasons: list
    hidden: int
    max_hidden: int
    used: int
    regions: int
    predicted: np.ndarray = None
    correct: np.ndarray = None
    margin: np.ndarray = None
    target_area: float = None
    mismatch_area: float = None
    allowed_area: float = None
    missed: list = None
    extra: list = None
    boundary: object = field(default=None, repr=False)

    @property
    def wrong(self):
        return 0 if self.correct is None else int(np.count_nonzero(~self.correct))

    def summary(self):
        """A few lines for people: verdict, units, regions, and what is wrong."""
        head = f"{self.exercise}: {'PASS' if self.passed else 'FAIL'}"
        lines = [head, f"hidden units: {self.hidden} (at most {self.max_hidden}); {self.used} of them change "
                       f"the prediction somewhere in the graded box; linear regions in the box: {self.regions}"]
        if self.correct is not None:
            lines.append(f"tokens classified correctly: {int(self.correct.sum())} of {len(self.correct)}")
        if self.mismatch_area is not None:
            lines.append(f"mismatch with the target region: area {self.mismatch_area:.4g} "
                         f"({self.mismatch_area / self.target_area:.2%} of the target's {self.target_area:.4g}; "
                         f"allowed {self.allowed_area / self.target_area:.2%})")
        lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)

    def to_json(self):
        out = {"exercise": self.exercise, "passed": self.passed, "reasons": list(self.reasons),
               "hidden": self.hidden, "max_hidden": self.max_hidden, "used": self.used, "regions": self.regions}
        if self.correct is not None:
            out.update(correct=self.correct.tolist(), predicted=self.predicted.tolist(),
                       margin=[float(m) for m in self.margin], wrong=self.wrong)
        if self.mismatch_area is not None:
            out.update(target_area=self.target_area, mismatch_area=self.mismatch_area,
                       allowed_area=self.allowed_area, missed=[p.tolist() for p in self.missed],
                       extra=[p.tolist() for p in self.extra])
        if self.boundary is not None:
            out["boundary"] = self.boundary.segments.tolist()
        return out


# ============================================================================ grading
def check(exercise, model):
    """Grade `model` on `exercise` exactly (see the module docstring). Returns a Result.

    Args:
        exercise: an Exercise or its name. model: a classification MLP [2, H, 2] with a piece-wise linear
            hidden activation and classes 0 and 1.
    Raises:
        RelunetError when the model cannot answer the exercise at all (wrong shape, task or classes).
    """
    ex = get(exercise) if isinstance(exercise, str) else exercise
    _check_model(ex, model)
    part = linear_regions(model, list(ex.box))
    bnd = decision_boundary(model, partition=part)
    H = model.sizes[1]
    used = units_used(model, ex.box)
    reasons = []
    if H > ex.max_hidden:
        reasons.append(f"the network has {H} hidden units; this exercise allows at most {ex.max_hidden}")
    res = Result(ex.name, False, reasons, H, ex.max_hidden, used, len(part), boundary=bnd)
    if ex.kind == "points":
        X, y = ex.points()
        z, scale = exact_logits(part, X)
        other = np.where(np.arange(z.shape[1]) == y[:, None], -np.inf, z).max(axis=1)
        margin = z[np.arange(len(y)), y] - other
        correct = margin > 2 * EPS * scale  # a token on a tie is not classified
        res.predicted, res.correct, res.margin = z.argmax(axis=1), correct, margin
        if not correct.all():
            bad = np.flatnonzero(~correct)
            first = ", ".join(f"({X[i, 0]:.3g}, {X[i, 1]:.3g})" for i in bad[:3])
            more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
            reasons.append(f"not classified correctly: {first}{more}")   # the count is the summary's line
    else:
        cells = class_cells(part, bnd)
        res.target_area = ex.area
        res.missed, res.extra = region_mismatch(cells, ex.polygons)
        res.mismatch_area = float(sum(polygon_area(p) for p in res.missed + res.extra))
        res.allowed_area = ex.tolerance * res.target_area
        if res.mismatch_area > res.allowed_area:
            reasons.append(f"the region predicted as class 1 differs from the target by area {res.mismatch_area:.4g} "
                           f"({res.mismatch_area / res.target_area:.1%} of it; at most {ex.tolerance:.0%} allowed)")
    res.passed = not reasons
    return res


def _check_model(ex, model):
    if not isinstance(model, MLP):
        raise RelunetError(f"exercise {ex.name!r} grades a relunet MLP, got {type(model).__name__}")
    if model.task != "classification" or len(model.sizes) != 3 or model.sizes[0] != 2 or model.sizes[2] != 2:
        raise RelunetError(f"exercise {ex.name!r} needs a two-layer classifier [2, H, 2] (2 inputs, one hidden "
                           f"layer, 2 classes); this model is {model.sizes} ({model.task})")
    if not model.activations[0].piecewise_linear:
        raise RelunetError(f"exercise {ex.name!r} needs a piece-wise linear hidden layer (relu, leaky_relu); "
                           f"this model uses {model.activation_names[0]}")
    if [int(c) for c in model.classes] != [0, 1]:
        raise RelunetError(f"exercise {ex.name!r} has classes 0 and 1; this model's classes are "
                           f"{model.classes.tolist()}")


def _check_pieces(name, pieces):
    """A region target's pieces: convex, counter-clockwise, with disjoint interiors (RelunetError otherwise)."""
    for k, P in enumerate(pieces):
        e = np.roll(P, -1, axis=0) - P
        turns = e[:, 0] * np.roll(e[:, 1], -1) - e[:, 1] * np.roll(e[:, 0], -1)
        if len(P) < 3 or np.any(turns <= 0) or not np.isfinite(P).all():
            raise RelunetError(f"exercise {name!r}: piece {k} of the target must be a convex polygon with its "
                               "corners in counter-clockwise order")
    for k, P in enumerate(pieces):
        for j in range(k):
            if sum(polygon_area(c) for c in intersect_convex([P], pieces[j])) > 1e-12 * polygon_area(P):
                raise RelunetError(f"exercise {name!r}: pieces {j} and {k} of the target overlap")


def _opposite_on_line(p, q, r, s):
    """Do the edges p -> q and r -> s lie on one line, running opposite ways (as a seam of two pieces)?"""
    d = q - p
    tol = 1e-12 * float(d @ d)
    on = abs(d[0] * (r - p)[1] - d[1] * (r - p)[0]) <= tol and abs(d[0] * (s - p)[1] - d[1] * (s - p)[0]) <= tol
    return on and float((s - r) @ d) < 0


def _subtract(intervals, lo, hi):
    """The parts of the disjoint intervals [(a, b), ...] outside (lo, hi)."""
    out = []
    for a, b in intervals:
        out += [(x, y) for x, y in ((a, min(b, lo)), (max(a, hi), b)) if y > x + 1e-12]
    return out


def region_mismatch(cells, pieces):
    """(missed, extra): the parts of the target (pieces with disjoint interiors) predicted as another class or
    no class, and the parts of class 1 outside every piece; convex polygons, from the exact class cells
    [(class, polygon), ...].

    Clipping a cell by each piece gives what of it lies in the target; outside the union is what is left
    after taking away each piece in turn (intersect_convex(..., outside=piece)), again convex parts.
    """
    other = [c for k, c in cells if k != 1]
    missed = [p for P in pieces for p in intersect_convex(other, P)]
    extra = [c for k, c in cells if k == 1]
    for P in pieces:
        extra = intersect_convex(extra, None, outside=P)
    return missed, extra


def exact_logits(part, X):
    """z at each token from the affine map of the linear region that holds it: (N, K), and the
    rounding scale (N,) of those z (ties within a few EPS of it are ties).

    A token on an edge shared by two regions gets either map: the network is continuous, so both
    give the same z.
    """
    X = np.asarray(X, np.float64)
    N = len(X)
    region = np.full(N, -1)
    V, n = part.vertices, part.counts
    nxt = np.concatenate([V[:, 1:], V[:, :1]], axis=1)
    width = max(part.box[1] - part.box[0], part.box[3] - part.box[2])
    for r in range(len(part)):
        todo = np.flatnonzero(region < 0)
        if not len(todo):
            break
        e = nxt[r, :n[r]] - V[r, :n[r]]                                   # (m, 2) edges
        d = X[todo, None, :] - V[r, None, :n[r]]                          # (T, m, 2)
        cross = e[None, :, 0] * d[..., 1] - e[None, :, 1] * d[..., 0]     # >= 0 inside (counter-clockwise)
        inside = np.all(cross >= -1e-12 * width * np.linalg.norm(e, axis=1), axis=1)
        region[todo[inside]] = r
    if np.any(region < 0):
        i = int(np.flatnonzero(region < 0)[0])
        raise RelunetError(f"token ({X[i, 0]:g}, {X[i, 1]:g}) lies outside the exercise's box {part.box}")
    A, c = part.A[region], part.c[region]
    z = np.einsum("nkd,nd->nk", A, X) + c
    xmax = max(abs(v) for v in part.box)
    scale = np.abs(A).sum(axis=2).max(axis=1) * xmax + np.abs(c).max(axis=1)
    return z, scale


def class_cells(part, bnd):
    """[(class, convex polygon), ...] covering the box: whole regions where one class wins, the exact class
    cells of the regions the boundary crosses, and class -1 for regions where both classes tie throughout
    (z_0 = z_1 on the whole region, as with zero output weights: no class is predicted there)."""
    xmax = max(abs(v) for v in part.box)
    dA, dc = part.A[:, 1] - part.A[:, 0], part.c[:, 1] - part.c[:, 0]
    scale = np.abs(part.A).sum(axis=(1, 2)) * xmax + np.abs(part.c).sum(axis=1)
    tied = np.abs(dA).sum(axis=1) * xmax + np.abs(dc) <= 2 * EPS * scale
    mixed = np.zeros(len(part), bool)
    mixed[bnd.mixed] = True
    z = np.einsum("rkd,rd->rk", part.A, part.centroids()) + part.c
    top = z.argmax(axis=1)
    cells = [(-1, part.polygon(i)) for i in np.flatnonzero(tied)]
    cells += [(int(top[i]), part.polygon(i)) for i in np.flatnonzero(~mixed & ~tied)]
    return cells + [(int(k), np.asarray(poly)) for k, r, poly in bnd.cells if not tied[r]]


def polygon_area(P):
    P = np.asarray(P, np.float64)
    return float(abs(geometry.areas(P[None])[0])) if len(P) >= 3 else 0.0


def _halfplanes(polygon):
    """(a (m, 2), b (m,)) with a . x + b >= 0 inside a counter-clockwise convex polygon, one per edge."""
    P = np.asarray(polygon, np.float64)
    Q = np.roll(P, -1, axis=0)
    e = Q - P
    a = np.column_stack([-e[:, 1], e[:, 0]])  # inward normal of a counter-clockwise edge
    return a, -(a * P).sum(axis=1)


def _clip_all(polys, a, b):
    """Clip every convex polygon of the list by a . x + b >= 0 (exact Sutherland-Hodgman)."""
    if not polys:
        return []
    M = max(len(p) for p in polys)
    V = np.stack([geometry.pad_to(np.asarray(p, np.float64)[None], M)[0][0] for p in polys])
    n = np.array([len(p) for p in polys])
    s = V[..., 0] * a[0] + V[..., 1] * a[1] + b
    eps = EPS * (np.abs(a).sum() * max(1.0, float(np.abs(V).max())) + abs(b))
    V, n, _ = geometry.clip(V, n, s, geometry.side(s, eps))
    return [V[i, :n[i]] for i in range(len(n)) if n[i] >= 3]


def intersect_convex(polys, polygon=None, outside=None):
    """The pieces of convex `polys` inside a convex `polygon`, or (with `outside`) outside it.

    Outside a convex polygon with edges 1..m is the disjoint union of the convex parts
    {edge 1 fails}, {edge 1 holds, edge 2 fails}, ...: each part is an intersection of half-planes.
    """
    if polygon is not None:
        a, b = _halfplanes(polygon)
        for ai, bi in zip(a, b):
            polys = _clip_all(polys, ai, bi)
        return [p for p in polys if polygon_area(p) > 0]
    a, b = _halfplanes(outside)
    out, rest = [], list(polys)
    for ai, bi in zip(a, b):
        out += _clip_all(rest, -ai, -bi)
        rest = _clip_all(rest, ai, bi)
    return [p for p in out if polygon_area(p) > 0]


def units_used(model, box):
    """Hidden units that can change the prediction in the box: alive somewhere in it (ReLU > 0 at a
    corner, the maximum of an affine function on a box) and weighted differently for the two classes."""
    W1, b1 = model.linears[0].W, model.linears[0].b
    W2 = model.linears[1].W
    x0, x1, y0, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    slope = float(getattr(model.activations[0], "slope", 0.0) or 0.0)
    alive = (corners @ W1.T + b1).max(axis=0) > 0
    if slope != 0.0 or model.activation_names[0] == "identity":
        alive = np.any(W1 != 0, axis=1) | alive
    matters = np.ptp(W2, axis=0) > 0
    return int(np.count_nonzero(alive & matters))


# ============================================================================ building networks by hand
def two_layer(W1, b1, v, c):
    """The network [2, H, 2] with hidden units h_j = ReLU(w_j . x + b_j) and score s = v . h + c:
    z = (0, s), so class 1 exactly where s > 0.  W1 (H, 2), b1 (H,), v (H,), c scalar."""
    W1 = np.asarray(W1, np.float64).reshape(-1, 2)
    H = len(W1)
    model = MLP([2, H, 2], "relu")
    W2 = np.zeros((2, H))
    W2[1] = np.asarray(v, np.float64)
    model.set_weights([W1, np.asarray(b1, np.float64).reshape(H), W2, np.array([0.0, float(c)])])
    return model


def hinge_through(p, q, scale=1.0):
    """(w, b) of the line through points p and q, active (w . x + b > 0) on its left going from p to q,
    with |w| = scale: w . x + b is then `scale` times the distance to the line."""
    p, q = np.asarray(p, np.float64), np.asarray(q, np.float64)
    d = q - p
    w = np.array([-d[1], d[0]]) / np.hypot(*d) * scale
    return w, -float(w @ p)


def outside_edges(vertices, scale=1.0):
    """Hidden units h_j = ReLU(scale * distance outside edge j) of a counter-clockwise convex polygon:
    (W (m, 2), b (m,)) with w_j . x + b_j = -scale * (distance inside edge j)."""
    W, b = [], []
    P = np.asarray(vertices, np.float64)
    for p, q in zip(P, np.roll(P, -1, axis=0)):
        w, c = hinge_through(p, q, scale)
        W.append(-w)
        b.append(-c)
    return W, b


def inside_polygon(vertices, eps):
    """A network whose class 1 is a counter-clockwise convex polygon, grown by at most about eps.

    Unit j is the distance outside edge j: h_j = ReLU(-(distance inside edge j)); the score
    s = eps - sum_j h_j is eps inside the polygon and falls off outside it.
    """
    W, b = outside_edges(vertices)
    return two_layer(W, b, -np.ones(len(W)), eps)


# ============================================================================ solving the output layer
def solve_output(model, X, y, ridge=1e-9, iterations=100):
    """Output weights for frozen hidden weights: the logistic (two-class cross-entropy) fit of the score
    s = v . h + c to labels y in {0, 1}, by Newton's method. Returns the model, changed in place.

    With W1, b1 fixed the loss is convex in (v, c), so Newton's method finds its minimum; the small
    ridge keeps it finite when the classes are separable (the weights then grow until the tokens are
    far from the boundary). The output is written as z = (0, s).
    """
    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.float64)
    if len(X) == 0 or len(np.unique(y)) < 2:
        raise RelunetError("solving the output weights needs tokens of both classes")
    H = model.sizes[1]
    h = np.maximum(X @ model.linears[0].W.T + model.linears[0].b, 0.0)
    slope = float(getattr(model.activations[0], "slope", 0.0) or 0.0)
    if slope:
        pre = X @ model.linears[0].W.T + model.linears[0].b
        h = np.where(pre > 0, pre, slope * pre)
    F = np.column_stack([h, np.ones(len(X))])
    theta = np.zeros(H + 1)
    reg = np.full(H + 1, ridge)
    reg[-1] = ridge * 1e-3
    for _ in range(iterations):
        s = F @ theta
        p = 0.5 * (1.0 + np.tanh(0.5 * s))        # sigmoid(s), overflow-free
        grad = F.T @ (p - y) / len(X) + reg * theta
        Hm = (F * (p * (1 - p))[:, None]).T @ F / len(X) + np.diag(reg)
        step = np.linalg.lstsq(Hm, grad, rcond=None)[0]
        loss = _logistic_loss(F, y, theta, reg)
        t = 1.0
        while t > 1e-6 and _logistic_loss(F, y, theta - t * step, reg) > loss - 1e-4 * t * (grad @ step):
            t *= 0.5
        theta = theta - t * step
        if np.abs(t * step).max() < 1e-10 * (1 + np.abs(theta).max()):
            break
    W2 = np.zeros((2, H))
    W2[1] = theta[:H]
    model.linears[1].W[...] = W2
    model.linears[1].b[...] = [0.0, theta[H]]
    return model


def _logistic_loss(F, y, theta, reg):
    s = F @ theta
    return float(np.mean(np.logaddexp(0.0, s) - y * s) + 0.5 * np.sum(reg * theta * theta))


def fit_tokens(exercise):
    """Tokens to solve the output weights on: the target tokens, or for a region target a grid over the
    box labelled by the region plus tokens just inside and just outside every edge of every piece (so the
    fit puts the boundary on the edges, not half way to the nearest grid point). A token beside a seam
    between two pieces is inside the region on both sides, and is labelled so."""
    ex = get(exercise) if isinstance(exercise, str) else exercise
    if ex.kind == "points":
        return ex.points()
    x0, x1, y0, y1 = ex.box
    g = np.stack(np.meshgrid(np.linspace(x0, x1, 41), np.linspace(y0, y1, 41)), -1).reshape(-1, 2)
    delta = 0.002 * max(x1 - x0, y1 - y0)
    t = np.linspace(0.02, 0.98, 25)
    X = []
    for P in ex.polygons:
        a, b = _halfplanes(P)
        norm = np.linalg.norm(a, axis=1)
        g = g[np.abs((g @ a.T + b) / norm).min(axis=1) > 2 * delta]   # grid points on an edge: neither side
        for k, (p, q) in enumerate(zip(P, np.roll(P, -1, axis=0))):
            on = p + t[:, None] * (q - p)
            X += [on + delta * a[k] / norm[k], on - delta * a[k] / norm[k]]
    X = np.vstack([g, *X])
    return X, ex.inside(X).astype(np.int64)


# ============================================================================ the exercises
def _lecture_points():
    return make_dataset("lecture", seed=0)


def _lecture_reference():
    # The three clusters lie along the direction u = (-0.4, 0.9): class 1 is the middle third. Along
    # t = u . x, a "tent" ReLU(t - a) - 2 ReLU(t - m) is positive between a and 2m - a.
    u = np.array([-0.4, 0.9]) / np.hypot(-0.4, 0.9)
    a, m = -0.08, 0.165
    return two_layer([u, u], [-a, -m], [1.0, -2.0], -0.02)


def _xor_points():
    return make_dataset("xor", n=40, noise=0.0, seed=0)


def _xor_reference():
    # |x1 - x2| > |x1 + x2| exactly where x1 and x2 have different signs; |t| = ReLU(t) + ReLU(-t).
    return two_layer([[1, -1], [-1, 1], [1, 1], [-1, -1]], [0, 0, 0, 0], [1, 1, -1, -1], 0.0)


TRIANGLE = np.array([[-0.8, -0.6], [0.8, -0.6], [0.0, 0.8]])


def _triangle_reference():
    return inside_polygon(TRIANGLE, 0.001)


# Two islands: class 1 is a square and, above it, a triangle (a house whose walls stop below its roof).
HOUSE = np.array([[-0.5, -0.8], [0.5, -0.8], [0.5, 0.2], [0.0, 1.0], [-0.5, 0.2]])
ISLANDS = (np.array([[-0.5, -0.8], [0.5, -0.8], [0.5, 0.2], [-0.5, 0.2]]),
           np.array([[-0.375, 0.4], [0.375, 0.4], [0.0, 1.0]]))


def _islands_reference():
    # Class 1 is the house H (the convex hull of both pieces) minus the band 0.2 < x2 < 0.4 between them.
    # One unit per edge of H is the distance outside that edge (as for the triangle), and the band is cut
    # out by the lecture's tent along x2: tent = ReLU(x2 - 0.2) - 2 ReLU(x2 - 0.3) + ReLU(x2 - 0.4), which is
    # positive inside the band and 0 everywhere else. The score s = eps - (distances outside H) - tent is
    # eps on both pieces and negative outside H and in the band, except within about eps of their edges.
    eps = 0.001
    W, b = outside_edges(HOUSE)
    W += [[0.0, 1.0]] * 3
    b += [-0.2, -0.3, -0.4]
    return two_layer(W, b, [-1.0] * len(HOUSE) + [-1.0, 2.0, -1.0], eps)


# An L: the square [-0.8, 0.8]^2 without its top-right corner, as two rectangles sharing part of an edge.
SQUARE = np.array([[-0.8, -0.8], [0.8, -0.8], [0.8, 0.8], [-0.8, 0.8]])
L_SHAPE = (np.array([[-0.8, -0.8], [0.8, -0.8], [0.8, -0.2], [-0.8, -0.2]]),
           np.array([[-0.8, -0.2], [-0.2, -0.2], [-0.2, 0.8], [-0.8, 0.8]]))


def _lshape_reference():
    # Class 1 is the square minus the corner Q = {x1 > -0.2 and x2 > -0.2}. The function
    # m = ReLU(x1 + 0.2) - ReLU(x1 - x2) is min(x1 + 0.2, x2 + 0.2) > 0 on Q and <= 0 on the L (0 on the
    # column x1 < -0.2 above the diagonal, negative elsewhere), from two units. The score
    # s = eps - K (distances outside the square) - k m is then eps or more on the L, negative on Q beyond
    # eps / k of its edges, and negative outside the square beyond 0.6 k / K (below and right of the bar,
    # -k m grows up to 0.6 k at the square's edge). eps = 1e-5, k = 0.01, K = 10 keep both strips under
    # 0.001 wide. K is split as |w_j| = 100 in the edge units and v_j = -0.1 in the output: with the large
    # factor in the hidden layer, solve_output (whose small ridge holds the output weights back) finds a score
    # as good on these hinge lines. Unlike the triangle, no argmax of affine maps could draw this region: it
    # is not convex.
    eps, k = 1e-5, 0.01
    W, b = outside_edges(SQUARE, scale=100.0)
    W += [[1.0, 0.0], [1.0, -1.0]]
    b += [0.2, 0.0]
    return two_layer(W, b, [-0.1] * 4 + [-k, k], eps)


def _circle_points():
    return make_dataset("circles", n=60, noise=0.03, seed=0)


def _circle_reference():
    # A square that holds the inner ring (radius 0.5) and stays inside the outer one (radius 1).
    return inside_polygon([[-0.66, -0.66], [0.66, -0.66], [0.66, 0.66], [-0.66, 0.66]], 0.02)


def _moons_points():
    return make_dataset("moons", n=80, noise=0.05, seed=0)


def _moons_reference():
    # The gap between the moons is the graph of a zigzag x2 = g(x1) through (-1, -0.25), (0, 0.72),
    # (1, -0.25), (2, 0.75): slopes 0.97, -0.97, 1. The score s = g(x1) - x2 (class 1, the lower moon,
    # below the zigzag) is the linear part u = 0.97 x1 - x2 + 0.72 = ReLU(u) - ReLU(-u) plus a bend of
    # -1.94 at x1 = 0 and of +1.97 at x1 = 1.
    W1 = [[0.97, -1.0], [-0.97, 1.0], [1.0, 0.0], [1.0, 0.0]]
    b1 = [0.72, -0.72, 0.0, -1.0]
    return two_layer(W1, b1, [1.0, -1.0, -1.94, 1.97], 0.0)


def _spiral_points(n=40):
    # One arm, radius growing with the angle over one and a half turns; class 0 is the arm turned by pi.
    t = np.linspace(0.6, 3 * np.pi, n)
    r = t / (3 * np.pi)
    arm = np.column_stack([r * np.cos(t), r * np.sin(t)])
    return np.vstack([arm, -arm]), np.r_[np.ones(n, np.int64), np.zeros(n, np.int64)]


def _spiral_gap(angles, turn):
    """Points of the spiral half way between the two arms (the arm turned by `turn`)."""
    r = angles / (3 * np.pi)
    return np.column_stack([r * np.cos(angles + turn), r * np.sin(angles + turn)])


def _spiral_reference():
    # Hinge lines: 7 chords along each of the two gaps between the arms (the arm turned a quarter turn
    # either way); each unit is active on the same side of its chord. Output weights: solve_output on
    # the tokens, rounded (the second gap's weights are the first's negated: the task is symmetric).
    angles = np.linspace(0.3, 3 * np.pi + 0.3, 8)
    W1, b1 = [], []
    for turn in (np.pi / 2, -np.pi / 2):
        pts = _spiral_gap(angles, turn)
        for p, q in zip(pts[:-1], pts[1:]):
            w, b = hinge_through(p, q)
            W1.append(w)
            b1.append(b)
    v = np.array([-16.8, 0.68, 1.06, 6.64, 7.24, 8.77, 0.09])
    return two_layer(W1, b1, np.r_[v, -v], 0.0)


EXERCISES = {ex.name: ex for ex in [
    Exercise("lecture", "The lecture's example",
             "Class 0 lies near [0.8, 0] and again near [0.4, 0.9]; class 1 lies between them. No line separates "
             "them (argmax(Wx + b) has convex cells). Place the hinge lines so that the weighted sum of ReLUs is "
             "positive on class 1 only.", (-0.1, 1.3, -0.3, 1.2), 4, _lecture_reference, _lecture_points,
             hint="Two parallel hinge lines across the direction from [0.8, 0] to [0.4, 0.9] make a band."),
    Exercise("xor", "XOR",
             "Class 1 where x1 and x2 have different signs. One unit's ReLU bends along one line; how many lines "
             "does the boundary need?", (-1.2, 1.2, -1.2, 1.2), 4, _xor_reference, _xor_points,
             hint="|t| = ReLU(t) + ReLU(-t): compare |x1 - x2| with |x1 + x2|."),
    Exercise("triangle", "A triangle",
             "Reproduce the triangle: the region predicted as class 1 must match it, up to 2% of its area "
             "(compared exactly, as polygons).", (-1.0, 1.0, -1.0, 1.0), 3, _triangle_reference,
             polygons=(TRIANGLE,), tolerance=0.02,
             hint="Put one hinge line on each edge, active outside it; class 1 where the sum of the ReLUs is small."),
    Exercise("circle", "A circle",
             "Class 1 is the inner ring, class 0 the outer one. A network with a few hinge lines draws a polygon "
             "around the inner ring.", (-1.3, 1.3, -1.3, 1.3), 4, _circle_reference, _circle_points,
             hint="A triangle is too pointed to fit between the rings; a square fits."),
    Exercise("islands", "Two islands",
             "Class 1 sits in two places, as the lecture's class 0 does: a square and, above it, a triangle; "
             "class 0 everywhere else, also in the band between them. Reproduce both pieces, up to 2% of their "
             "area (compared exactly, as polygons).", (-1.0, 1.0, -1.0, 1.2), 8, _islands_reference,
             polygons=ISLANDS, tolerance=0.02,
             hint="Draw the house around both pieces (one hinge line per edge, active outside it), then cut out "
                  "the band between them with the lecture's tent ReLU(t - a) - 2 ReLU(t - m) + ReLU(t - b)."),
    Exercise("lshape", "An L",
             "Class 1 is an L: a square with its top-right corner cut away. The region is not convex, so no "
             "argmax(Wx + b) can draw it; a weighted sum of ReLUs can. Reproduce it up to 2% of its area.",
             (-1.0, 1.0, -1.0, 1.0), 6, _lshape_reference, polygons=L_SHAPE, tolerance=0.02,
             hint="Take the square (one hinge line per edge, active outside it) and subtract the corner "
                  "{x1 > -0.2 and x2 > -0.2}: there min(x1 + 0.2, x2 + 0.2) = ReLU(x1 + 0.2) - ReLU(x1 - x2) "
                  "is positive."),
    Exercise("moons", "Two moons",
             "Two interleaving half circles. The boundary must bend several times.", (-1.4, 2.4, -0.9, 1.4), 6,
             _moons_reference, _moons_points, hint="Follow the gap between the moons with a few hinge lines."),
    Exercise("spiral", "A spiral arm",
             "Class 1 is one arm of a spiral, class 0 the same arm turned half a turn. The boundary winds "
             "between them.", (-1.1, 1.1, -1.1, 1.1), 16, _spiral_reference, _spiral_points,
             hint="Many hinge lines, each bending the boundary a little: the more pieces, the closer the fit."),
]}


def get(name):
    """The exercise called `name` (RelunetError naming the choices otherwise)."""
    ex = EXERCISES.get(name)
    if ex is None:
        raise RelunetError(f"unknown exercise {name!r}; choose one of: {', '.join(EXERCISES)}")
    return ex


__all__ = ["Exercise", "Result", "EXERCISES", "get", "check", "solve_output", "fit_tokens", "two_layer",
           "hinge_through", "inside_polygon", "outside_edges"]
