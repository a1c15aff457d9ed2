"""Batches of convex polygons, clipped by half-planes all at once.

A batch of R convex polygons is a padded array V of shape (R, M, 2) with vertex counts n of shape (R,):
polygon r is V[r, :n[r]], counter-clockwise. Slots k >= n[r] repeat the first vertex V[r, 0], so that
"the next vertex" is simply np.roll(V, -1, axis=1) and the shoelace formula needs no mask (the padded
edges have zero length). Edge k of polygon r joins vertex k to vertex k + 1; ``labels`` (R, M) can tag
each edge (the decision boundary tags edges by the class whose tie line made them).

Clipping is Sutherland-Hodgman for one line per polygon, vectorised over the polygons: each vertex
on the kept side stays, and each edge whose end points are strictly on opposite sides gives one new
vertex where it crosses the line. Values within ``eps`` of zero count as *on* the line, so a line
through a vertex, or along an edge, splits nothing and creates no zero-length edges.
"""

import numpy as np


def box_polygon(box):
    """The box [x0, x1, y0, y1] as a batch of one counter-clockwise polygon: V (1, 4, 2), n (1,)."""
    x0, x1, y0, y1 = (float(v) for v in box[:4])
    V = np.array([[[x0, y0], [x1, y0], [x1, y1], [x0, y1]]], dtype=np.float64)
    return V, np.array([4])


def areas(V):
    """Signed areas (positive for counter-clockwise) of a padded batch.  V: (R, M, 2) -> (R,)."""
    x, y = V[..., 0], V[..., 1]
    xn, yn = np.roll(x, -1, axis=1), np.roll(y, -1, axis=1)
    return 0.5 * np.sum(x * yn - xn * y, axis=1)


def centroids(V, n):
    """Vertex means (interior points of convex polygons).  V: (R, M, 2), n: (R,) -> (R, 2)."""
    valid = np.arange(V.shape[1]) < n[:, None]
    return np.einsum("rm,rmk->rk", valid, V) / n[:, None]


def side(s, eps):
    """Classify the vertices against the line s = 0: +1 above eps, -1 below -eps, 0 on it.

    s: (R, M) the affine function's value at each vertex (padding slots hold vertex 0's value, which
    keeps "the next vertex's side" a plain roll); eps: scalar or (R, 1). Returns int8 (R, M).
    """
    return (s > eps).astype(np.int8) - (s < -eps).astype(np.int8)


def _next(a):
    """Each slot's successor along axis 1 (a cheaper np.roll(a, -1, axis=1))."""
    return np.concatenate([a[:, 1:], a[:, :1]], axis=1)


def split(V, n, s, sg):
    """Both parts of each polygon: where s >= 0 and where s <= 0 (they share the crossing points).

    Same arguments as ``clip``; returns ((V+, n+), (V-, n-)).
    """
    R, M = s.shape
    valid = np.arange(M) < n[:, None]
    sgn = _next(sg)
    cross = valid & (sg * sgn < 0)
    P = _crossings(V, s, cross)
    C = np.stack([V, P], axis=2).reshape(R, 2 * M, 2)
    up = np.stack([valid & (sg >= 0), cross], axis=2).reshape(R, 2 * M)
    down = np.stack([valid & (sg <= 0), cross], axis=2).reshape(R, 2 * M)
    Vp, np_, _ = compact(C, up)
    Vm, nm, _ = compact(C, down)
    return (Vp, np_), (Vm, nm)


def _crossings(V, s, cross):
    """Where each crossing edge k (V_k -> V_k+1) meets s = 0 (garbage, but finite, elsewhere)."""
    sn = _next(s)
    denom = np.where(cross, s - sn, 1.0)
    t = np.where(cross, s / denom, 0.0)
    return V + t[..., None] * (_next(V) - V)


def clip(V, n, s, sg, labels=None, new_label=-1):
    """The part of each polygon where s >= 0 (Sutherland-Hodgman, all polygons at once).

    Args:
        V: (R, M, 2) padded vertices; n: (R,) counts; s: (R, M) values of an affine function at the
            vertices; sg: (R, M) their sides from ``side`` (the tolerance lives there).
        labels: optional (R, M) edge tags; the new edges along the line get ``new_label``.
    Returns:
        (V', n', labels'): the clipped batch (n' < 3 where nothing of positive area is left).
    """
    R, M = s.shape
    valid = np.arange(M) < n[:, None]
    # The last real vertex's successor is slot n, a copy of vertex 0 by the padding rule (or slot 0
    # itself when n == M), so "next" is a plain shift.
    sgn = _next(sg)
    keep = valid & (sg >= 0)
    cross = valid & (sg * sgn < 0)
    P = _crossings(V, s, cross)
    # Interleave: slot 2k is vertex k, slot 2k+1 the crossing on edge k.
    C = np.stack([V, P], axis=2).reshape(R, 2 * M, 2)
    mask = np.stack([keep, cross], axis=2).reshape(R, 2 * M)
    out_labels = None
    if labels is not None:
        # A kept vertex on the line whose successor is dropped starts an edge along the line, and so
        # does a crossing where the polygon leaves the half-plane; every other output vertex keeps
        # the tag of the edge it lies on.
        lab_v = np.where((sg == 0) & (sgn < 0), new_label, labels)
        lab_p = np.where(sg > 0, new_label, labels)
        out_labels = np.stack([lab_v, lab_p], axis=2).reshape(R, 2 * M)
    return compact(C, mask, out_labels)


def compact(C, mask, labels=None):
    """Move the masked slots of each row to the front (in order) and pad with the first vertex.

    C: (R, W, 2), mask: (R, W) bool, labels: optional (R, W). Returns (V, n, labels) trimmed to max n.
    """
    n = mask.sum(axis=1)
    width = max(int(n.max()) if len(n) else 0, 1)
    # A stable sort of "not kept" moves the kept slots to the front in order (measured faster than
    # a cumsum scatter for the few hundred short rows a unit typically cuts).
    order = np.argsort(~mask, axis=1, kind="stable")[:, :width]
    pad = np.arange(width) >= n[:, None]
    order[pad] = np.broadcast_to(order[:, :1], order.shape)[pad]
    V = np.take_along_axis(C, order[..., None], axis=1)
    lab = None if labels is None else np.take_along_axis(labels, order, axis=1)
    return V, n, lab


def pad_to(V, width, labels=None):
    """Widen a padded batch to `width` slots (new slots repeat vertex 0)."""
    R, M, _ = V.shape
    if M >= width:
        return V, labels
    extra = np.repeat(V[:, :1], width - M, axis=1)
    V = np.concatenate([V, extra], axis=1)
    if labels is not None:
        labels = np.concatenate([labels, np.repeat(labels[:, :1], width - M, axis=1)], axis=1)
    return V, labels
