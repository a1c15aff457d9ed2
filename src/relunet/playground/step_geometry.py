"""The watched SGD step drawn exactly: the decision boundary and hinge lines of a traced token's network part-way
through its own update (an extension: one message, ``step_geometry``).

The page watches the step of one token (backprop.trace_token): the network with weights W + t s dW_step, from
t = 0 (before the step) to t = 1 (after it), s scaling the learning rate. It draws the map under it itself, but
the lines that matter are computed here with relunet.pwl, exactly: the decision boundary of that network (every
straight segment, in data coordinates) and the hinge lines w_j x + b_j = 0 of its first layer.

The page asks for a fixed set of positions t = k / 16, computed once per (step, s, view) and kept by the page, so
scrubbing back and forth costs nothing after the first pass and the map and the lines are always drawn at the
same t. One message asks for several positions; the answer stops after STEP_BUDGET seconds of work (at least
one position is always done) and the page asks again for the rest: the session's lock, held while a message is
handled, is never held much longer than one position of a deep net takes (2-64-64-3: about 0.1 s).

The step is named by the trace's "step_id" (a hash of the weights, the token, lr and weight decay): when the
session's network is no longer the one traced (an edit, a step of training), the answer says "stale" and the
page stops watching, rather than drawing lines of another network over its map.
"""

import time
from typing import Annotated, Literal

import numpy as np
from pydantic import Field

from ..engine.errors import RelunetError
from . import protocol as P, session as S
from .backprop import trace_token

#: Positions per answer are computed until this much time has gone (one is always computed).
STEP_BUDGET = 0.15
#: The positions the page asks for: t = k / POSITIONS, k = 0..POSITIONS.
POSITIONS = 16


class StepGeometry(P._Strict):
    """The exact boundary and hinge lines of the traced token's network at fractions `ts` of its SGD step,
    the learning rate scaled by `scale`, inside the view `box` [x0, x1, y0, y1]."""

    type: Literal["step_geometry"]
    point: P.Point
    step_id: Annotated[str, Field(min_length=1, max_length=64)]     # the trace's "step_id"
    scale: Annotated[float, Field(gt=0, le=100)]
    ts: Annotated[list[Annotated[float, Field(ge=0, le=1)]], Field(min_length=1, max_length=POSITIONS + 1)]
    box: tuple[P.Coord, P.Coord, P.Coord, P.Coord]


def stepped(model, trace, ts):
    """A float64 copy of `model` with the weights W + ts * dW_step of the trace (ts = t s)."""
    out = model.astype("float64")
    for lin, rec in zip(out.linears, trace["layers"]):
        lin.W[...] = rec["W"] + ts * rec["dW_step"]
        lin.b[...] = rec["b"] + ts * rec["db_step"]
    return out


def position(model, box):
    """The exact geometry of `model` in box: boundary segments [x0, y0, x1, y1] with their class pairs, and the
    first layer's hinge lines (W, b and each one's segment inside the box, null where it misses the box)."""
    from ..pwl import decision_boundary, linear_regions
    from ..pwl.plot import hinge_segments

    part = linear_regions(model, box)
    bnd = decision_boundary(model, box, partition=part)
    out = {"boundary": bnd.segments.reshape(-1, 4).tolist(), "classes": bnd.segment_classes.tolist(),
           "regions": len(part)}
    if len(model.linears) > 1:
        W, b = model.linears[0].W, model.linears[0].b
        segs = [hinge_segments(W[j:j + 1], b[j:j + 1], box).reshape(-1, 4) for j in range(len(b))]
        out["hinges"] = {"W": W.tolist(), "b": b.tolist(),
                         "segments": [s[0].tolist() if len(s) else None for s in segs]}
    return out


def unavailable(session, m):
    """Why the step of this session's network cannot be drawn exactly, or None."""
    model = session.model
    if session.config.task != "classification" or model.n_inputs != 2:
        return "the watched step is drawn for 2-input classifiers"
    names = sorted({a.name for a in model.activations if not a.piecewise_linear})
    if names:
        return f"{', '.join(names)} layers are not piece-wise linear: no exact boundary"
    if any(lin.W.size > S.TRACE_FULL for lin in model.linears):
        return (f"a layer has more than {S.TRACE_FULL:,} weights: the trace is cut, so the page cannot draw "
                "the step's map")
    if m.point.label >= model.n_outputs:
        return f"class {m.point.label} is not one of the model's {model.n_outputs} classes"
    return None


def on_step_geometry(session, m):
    x0, x1, y0, y1 = m.box
    if not (x0 < x1 and y0 < y1):
        raise RelunetError(f"step_geometry: box {list(m.box)} is empty (x0 < x1 and y0 < y1 are needed)")
    reply = {"type": "step_geometry", "step_id": m.step_id, "scale": m.scale, "box": list(m.box)}
    reason = unavailable(session, m)
    if reason:
        return [reply | {"reason": reason}]
    try:
        return [reply | answer(session, m)]
    except RelunetError as e:       # e.g. weights that overflowed: the page keeps its sampled map
        return [reply | {"reason": str(e)}]


def answer(session, m):
    """{"stale": true} when the session's network is not the traced one; else the positions computed within
    STEP_BUDGET seconds (at least one) and the time taken."""
    lr = session.trainer.lr if session.trainer else session.config.lr     # as session.trace takes it
    trace = trace_token(session.model.copy(), np.array([m.point.x, m.point.y]), int(m.point.label), lr,
                        session.config.weight_decay)
    if trace["step_id"] != m.step_id:
        return {"stale": True}
    t0, done = time.perf_counter(), []
    for t in m.ts:
        if done and time.perf_counter() - t0 > STEP_BUDGET:
            break
        done.append({"t": t} | position(stepped(session.model, trace, t * m.scale), list(m.box)))
    return {"positions": done, "ms": round(1000 * (time.perf_counter() - t0), 1)}


S.register(StepGeometry, on_step_geometry)
