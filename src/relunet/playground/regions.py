"""The exact piece-wise linear regions overlay (relunet.pwl) for the playground.

``exact_overlay(model, box)`` computes, for a 2-input classifier with ReLU-family hidden layers, every linear
region inside the view box and the exact decision boundary, and returns

- a JSON summary {"type": "pwl", "available": true, "count": regions, "bound": ..., "pieces": boundary
  pieces, "junctions": ..., "ms": time taken} that the page shows as the live region count, and
- a binary REGIONS frame (frames.regions_frame) with every region's polygon and the boundary segments.

For other models it returns {"available": false, "reason": ...} and no frame.
"""

import time

import numpy as np

from ..engine.errors import RelunetError
from . import frames

#: Above this many regions only the boundary is sent: the outlines would be a solid mesh at this size.
MAX_OUTLINED = 60_000


def exact_overlay(model, box):
    """(summary dict, REGIONS frame bytes or None) for `model` inside box [x0, x1, y0, y1]."""
    from ..pwl import decision_boundary, linear_regions, model_bound

    reason = unavailable_reason(model)
    if reason is not None:
        return _unavailable(reason), None
    t0 = time.perf_counter()
    try:
        part = linear_regions(model, box)
        bnd = decision_boundary(model, box, partition=part)
    except RelunetError as e:
        return _unavailable(str(e)), None
    ms = (time.perf_counter() - t0) * 1000.0
    outlined = len(part) <= MAX_OUTLINED
    summary = {"type": "pwl", "available": True, "count": len(part), "bound": int(model_bound(model)),
               "pieces": int(bnd.count), "junctions": int(len(bnd.junctions)), "ms": round(ms, 1),
               "outlined": outlined}
    if outlined:
        counts = np.asarray(part.counts)
        mask = np.arange(part.vertices.shape[1])[None, :] < counts[:, None]
        vertices = part.vertices[mask]
    else:
        counts, vertices = np.zeros(0, np.int64), np.zeros((0, 2))
    frame = frames.regions_frame(counts, vertices, bnd.segments, bnd.segment_classes, box)
    return summary, frame


def unavailable_reason(model):
    """Why `model` has no exact overlay (a sentence), or None when it has one."""
    if model.task != "classification" or model.n_inputs != 2:
        return "exact regions are drawn for 2-input classifiers"
    if not all(a.piecewise_linear for a in model.activations):
        names = sorted({a.name for a in model.activations if not a.piecewise_linear})
        return f"{', '.join(names)} layers are not piece-wise linear: no exact regions"
    return None


def failed(error):
    """The summary for an overlay whose computation failed (a bug, or weights that break the geometry)."""
    return _unavailable(f"the exact regions could not be computed ({type(error).__name__}: {error})")


def _unavailable(reason):
    return {"type": "pwl", "available": False, "reason": reason}
