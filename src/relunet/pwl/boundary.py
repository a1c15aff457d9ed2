"""The exact decision boundary of a 2-input classifier, from its linear regions.

Inside a region the logits are affine, z = A x + c, so the cell where class i is on top,
{x in region : z_i(x) >= z_j(x) for all j}, is the region clipped by K - 1 half-planes: a convex
polygon. An edge of class i's cell made by the clip against class j lies on z_i = z_j with z_i >= every
other z_k, so along it i and j are exactly the top two: that edge is a piece of the boundary between
i and j, and nothing else is (the logits are continuous, so the top class cannot change across a
region's edge except on such a tie line). A cell vertex where the edges of two different clips meet
is a junction, where three classes tie.

Only regions whose vertices do not all share one top class need clipping (a convex cell holding all
vertices is the whole region), which on a trained network is a small fraction of them.

Classes are output indices 0..K-1 (``model.classes[i]`` is the label of output i).
"""

from dataclasses import dataclass, field

import numpy as np

from ..engine.errors import RelunetError
from . import geometry
from .regions import EPS, MIN_AREA, linear_regions


@dataclass
class BoundaryPiece:
    """One polyline of the boundary between classes (i, j), i < j.  polyline: (P, 2)."""

    classes: tuple
    polyline: np.ndarray

    def to_json(self):
        return {"classes": [int(self.classes[0]), int(self.classes[1])], "polyline": self.polyline.tolist()}


@dataclass
class Boundary:
    """The exact decision boundary: polylines with their class pairs, and junction points.

    ``segments`` (S, 2, 2) are the straight pieces (collinear neighbours merged), ``segment_classes``
    (S, 2) their pairs; ``junctions`` (J, 2) points where three classes tie, ``junction_classes`` (J, 3).
    ``mixed`` are the indices of the regions the boundary crosses and ``cells`` their exact class
    cells as (class, region index, polygon); every other region lies wholly in one class.
    """

    pieces: list
    segments: np.ndarray
    segment_classes: np.ndarray
    junctions: np.ndarray
    junction_classes: np.ndarray
    cells: list = field(default_factory=list, repr=False)  # [(class, region, polygon (n, 2)), ...]
    mixed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64), repr=False)  # their indices

    @property
    def count(self):
        """The number of straight boundary pieces."""
        return len(self.segments)

    def to_json(self):
        return [p.to_json() for p in self.pieces]


def decision_boundary(model, box=None, partition=None, min_area=MIN_AREA):
    """The exact decision boundary of a 2-input ReLU classifier inside a box.

    Args:
        model: a classification MLP with 2 inputs (any depth, relu / leaky_relu / identity, or none).
        box: [x0, x1, y0, y1]; default the model's box (ignored when `partition` is given).
        partition: the model's linear regions if already computed (linear_regions(model, box)).
    Returns:
        a Boundary (polylines labelled by class pair, straight segments, junctions).
    """
    if model.task != "classification":
        raise RelunetError("a decision boundary needs a classifier; this model does regression")
    part = partition if partition is not None else linear_regions(model, box)
    K = part.A.shape[1]
    V, n, A, c = part.vertices, part.counts, part.A, part.c
    xmax = max(abs(v) for v in part.box)
    # z at every vertex: (R, M, K); a region is mixed when its vertices disagree on the top class or
    # one of them is (nearly) a tie.
    Z = V[..., 0, None] * A[:, None, :, 0] + V[..., 1, None] * A[:, None, :, 1] + c[:, None, :]
    scale = np.abs(A).sum(axis=2).max(axis=1) * xmax + np.abs(c).max(axis=1)  # (R,)
    top = Z.argmax(axis=2)
    first = np.take_along_axis(Z, top[..., None], axis=2)[..., 0]
    np.put_along_axis(Z, top[..., None], -np.inf, axis=2)
    second = Z.max(axis=2)  # the runner-up's logit at every vertex
    near_tie = np.any(first - second <= 2 * EPS * scale[:, None], axis=1)
    mixed = np.flatnonzero(np.any(top != top[:, :1], axis=1) | near_tie)
    min_abs = min_area * part.box_area
    segs, seg_cls, junc, junc_cls, cells = [], [], [], [], []
    for i in range(K):
        Vi, ni = V[mixed], n[mixed]
        lab = np.full(Vi.shape[:2], -1, dtype=np.int64)
        rid = mixed
        for j in range(K):
            if j == i:
                continue
            a = A[rid, i] - A[rid, j]
            b = c[rid, i] - c[rid, j]
            s = Vi[..., 0] * a[:, 0, None] + Vi[..., 1] * a[:, 1, None] + b[:, None]
            eps = EPS * (np.abs(a).sum(axis=1) * xmax + np.abs(b))
            sg = geometry.side(s, eps[:, None])
            Vi, ni, lab = geometry.clip(Vi, ni, s, sg, lab, new_label=j)
            keep = ni >= 3
            Vi, ni, lab, rid = Vi[keep], ni[keep], lab[keep], rid[keep]
        if min_abs > 0:
            keep = geometry.areas(Vi) > min_abs
            Vi, ni, lab, rid = Vi[keep], ni[keep], lab[keep], rid[keep]
        valid = np.arange(Vi.shape[1]) < ni[:, None]
        # Boundary edges: tagged with a class j > i (the same edge of cell j carries tag i).
        r, k = np.nonzero(valid & (lab > i))
        if len(r):
            k1 = np.where(k + 1 < ni[r], k + 1, 0)
            segs.append(np.stack([Vi[r, k], Vi[r, k1]], axis=1))
            seg_cls.append(np.column_stack([np.full(len(r), i), lab[r, k]]))
        # Junctions: the edges into and out of a vertex come from clips against two other classes.
        prev = np.take_along_axis(lab, (np.arange(Vi.shape[1]) - 1) % np.maximum(ni[:, None], 1), axis=1)
        r, k = np.nonzero(valid & (lab >= 0) & (prev >= 0) & (lab != prev))
        if len(r):
            junc.append(Vi[r, k])
            junc_cls.append(np.sort(np.column_stack([np.full(len(r), i), lab[r, k], prev[r, k]]), axis=1))
        cells.extend((i, int(rid[q]), Vi[q, :ni[q]]) for q in range(len(ni)))
    tol = 1e-9 * max(part.box[1] - part.box[0], part.box[3] - part.box[2])
    segments = np.concatenate(segs) if segs else np.zeros((0, 2, 2))
    seg_classes = np.concatenate(seg_cls) if seg_cls else np.zeros((0, 2), np.int64)
    length = np.linalg.norm(segments[:, 1] - segments[:, 0], axis=1)
    segments, seg_classes = segments[length > tol], seg_classes[length > tol]
    pieces = []
    for pair in sorted({tuple(p) for p in seg_classes.tolist()}):
        sel = np.all(seg_classes == pair, axis=1)
        for line in chain(segments[sel], tol):
            pieces.append(BoundaryPiece((int(pair[0]), int(pair[1])), line))
    straight = [np.stack([p.polyline[:-1], p.polyline[1:]], axis=1) for p in pieces]
    straight_cls = [np.tile(p.classes, (len(p.polyline) - 1, 1)) for p in pieces]
    junctions = np.concatenate(junc) if junc else np.zeros((0, 2))
    junction_classes = np.concatenate(junc_cls) if junc_cls else np.zeros((0, 3), np.int64)
    junctions, junction_classes = _unique_points(junctions, junction_classes, tol)
    return Boundary(pieces,
                    np.concatenate(straight) if straight else np.zeros((0, 2, 2)),
                    np.concatenate(straight_cls) if straight_cls else np.zeros((0, 2), np.int64),
                    junctions, junction_classes, cells, mixed)


def _keys(points, tol):
    """Integer ids of points, equal for points that agree to about `tol` (snapping to a grid)."""
    q = np.round(points / tol).astype(np.int64)
    _, ids = np.unique(q, axis=0, return_inverse=True)
    return ids.reshape(-1)


def _unique_points(points, labels, tol):
    """One of each point (the cells meeting at a junction each report it)."""
    if not len(points):
        return points, labels
    ids = _keys(points, tol)
    _, first = np.unique(ids, return_index=True)
    return points[first], labels[first]


def chain(segments, tol):
    """Join segments (S, 2, 2) that share end points (within about `tol`) into polylines.

    Returns a list of (P, 2) arrays; interior points where the direction does not change (segments
    of the same line cut by a region edge) are removed.
    """
    if not len(segments):
        return []
    ends = segments.reshape(-1, 2)
    ids = _keys(ends, tol).reshape(-1, 2)
    point = {}
    for (a, b), (pa, pb) in zip(ids.tolist(), segments):
        point.setdefault(a, pa)
        point.setdefault(b, pb)
    adj = {}
    for s, (a, b) in enumerate(ids.tolist()):
        if a == b:
            continue
        adj.setdefault(a, []).append((s, b))
        adj.setdefault(b, []).append((s, a))
    used = np.zeros(len(ids), bool)
    used[ids[:, 0] == ids[:, 1]] = True
    lines = []
    # Start at the loose ends first, so open polylines come out whole; what is left are closed loops.
    starts = [v for v, nb in adj.items() if len(nb) != 2] + list(adj)
    for v0 in starts:
        while True:
            nxt = next(((s, w) for s, w in adj.get(v0, ()) if not used[s]), None)
            if nxt is None:
                break
            path = [v0]
            v = v0
            while nxt is not None:
                s, w = nxt
                used[s] = True
                path.append(w)
                v = w
                nxt = next(((s2, w2) for s2, w2 in adj[v] if not used[s2]), None) if len(adj[v]) == 2 else None
            lines.append(_straighten(np.array([point[p] for p in path])))
    return lines


def _straighten(P):
    """Drop interior points of a polyline where it goes straight on."""
    if len(P) <= 2:
        return P
    d0 = P[1:-1] - P[:-2]
    d1 = P[2:] - P[1:-1]
    cross = d0[:, 0] * d1[:, 1] - d0[:, 1] * d1[:, 0]
    dot = np.sum(d0 * d1, axis=1)
    straight = (np.abs(cross) <= 1e-12 * np.linalg.norm(d0, axis=1) * np.linalg.norm(d1, axis=1)) & (dot > 0)
    keep = np.concatenate([[True], ~straight, [True]])
    return P[keep]
