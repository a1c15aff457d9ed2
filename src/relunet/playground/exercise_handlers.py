"""The playground's exercise mode: the lecture's quiz, built by hand on the page and graded exactly.

The page picks an exercise, moves each hidden unit's hinge line w_j x + b_j = 0 on its own map (the
server sets row j of W1 and b1), sets the output weights or asks the server to solve them, and gets back
after every change the grade of ``relunet.exercises.check`` (the same function as ``relunet exercise
check``): pass or fail, the units and exact linear regions used, each token's verdict, the exact decision
boundary and the exact cells of class 1. The exercise's network is its own (session.ext["exercise"]); the
playground's training model is left alone.

Importing this module registers its messages with the session (session.EXTENSIONS lists it).
"""

from typing import Annotated, Literal, Optional

import numpy as np
from pydantic import Field

from .. import exercises as E
from ..engine.errors import RelunetError
from . import protocol as P
from .session import register

#: Weights the page may set: far beyond any sensible hand-built network, well inside float64.
MAX_WEIGHT = 1e5
#: The solved output weights are scaled so that the largest is this (the classes depend only on the sign
#: of the score s, so any positive scale grades the same; this one reads well in the table).
SOLVED_SCALE = 10.0

Weight = Annotated[float, Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT)]
Name = Literal[tuple(E.EXERCISES)]


class Net(P._Strict):
    """A whole two-layer network [2, H, 2]: W1 (H, 2), b1 (H,), W2 (2, H), b2 (2,), as nested lists."""

    W1: Annotated[list[Annotated[list[Weight], Field(min_length=2, max_length=2)]], Field(min_length=1, max_length=64)]
    b1: Annotated[list[Weight], Field(min_length=1, max_length=64)]
    W2: Annotated[list[Annotated[list[Weight], Field(min_length=1, max_length=64)]], Field(min_length=2, max_length=2)]
    b2: Annotated[list[Weight], Field(min_length=2, max_length=2)]


class ExerciseOpen(P._Strict):
    """Open an exercise; `net` restores a network (from the link), else two fresh hinge lines."""

    type: Literal["exercise_open"]
    name: Name
    net: Optional[Net] = None


class ExerciseHinge(P._Strict):
    """Move unit j's hinge line: row j of W1 becomes w, b1[j] becomes b."""

    type: Literal["exercise_hinge"]
    unit: Annotated[int, Field(ge=0, lt=64)]
    w: Annotated[list[Weight], Field(min_length=2, max_length=2)]
    b: Weight
    seq: Optional[Annotated[int, Field(ge=0)]] = None   # echoed, so the page knows which drag position this grades


class ExerciseOutput(P._Strict):
    """Set the output layer: W2 (2, H) and b2 (2,)."""

    type: Literal["exercise_output"]
    W2: Annotated[list[Annotated[list[Weight], Field(min_length=1, max_length=64)]], Field(min_length=2, max_length=2)]
    b2: Annotated[list[Weight], Field(min_length=2, max_length=2)]


class ExerciseUnits(P._Strict):
    """Add or remove hidden units (kept ones keep their weights; new ones start with zero output weights)."""

    type: Literal["exercise_units"]
    count: Annotated[int, Field(ge=1, le=64)]


class ExerciseSolve(P._Strict):
    """Solve the output weights with the hinge lines frozen (relunet.exercises.solve_output)."""

    type: Literal["exercise_solve"]


class ExerciseReference(P._Strict):
    """Load the exercise's reference solution."""

    type: Literal["exercise_reference"]


def fresh_unit(j, box):
    """A new unit's hinge: a line through the box's centre, turned a little more for each unit."""
    cx, cy = (box[0] + box[1]) / 2, (box[2] + box[3]) / 2
    angle = 0.4 + 1.1 * j
    w = np.array([np.cos(angle), np.sin(angle)])
    return w, -float(w @ [cx, cy])


def starting_net(ex, units=2):
    W1, b1 = zip(*(fresh_unit(j, ex.box) for j in range(units)))
    return E.two_layer(np.array(W1), np.array(b1), np.zeros(units), 0.0)


def _state(session):
    st = session.ext.get("exercise")
    if st is None:
        raise RelunetError("no exercise is open; pick one first")
    return st


def _model_from(ex, net):
    H = len(net.W1)
    if len(net.b1) != H or any(len(row) != H for row in net.W2):
        raise RelunetError(f"the network's shapes do not match: W1 has {H} rows, b1 {len(net.b1)} entries, "
                           f"W2 rows {[len(r) for r in net.W2]}")
    if H > ex.max_hidden:
        raise RelunetError(f"exercise {ex.name!r} allows at most {ex.max_hidden} hidden units, got {H}")
    model = E.two_layer(np.array(net.W1, float), np.array(net.b1, float), np.zeros(H), 0.0)
    model.linears[1].W[...] = np.array(net.W2, float)
    model.linears[1].b[...] = np.array(net.b2, float)
    return model


def reply(session, opened=False):
    """The grade of the current network, with its weights and what the page draws."""
    st = _state(session)
    ex, model = E.get(st["name"]), st["model"]
    res = E.check(ex, model)
    cells = [p.tolist() for k, p in E.class_cells(_partition(ex, model), res.boundary) if k == 1]
    out = {"type": "exercise", "name": ex.name, "result": res.to_json(), "cells": cells,
           "summary": res.summary(),
           "weights": {"W1": model.linears[0].W.tolist(), "b1": model.linears[0].b.tolist(),
                       "W2": model.linears[1].W.tolist(), "b2": model.linears[1].b.tolist()}}
    if opened:
        out["exercise"] = ex.to_json()
        out["list"] = [{"name": e.name, "title": e.title} for e in E.EXERCISES.values()]
    return [out]


def _partition(ex, model):
    from ..pwl.regions import linear_regions

    return linear_regions(model, list(ex.box))


def on_open(session, m):
    ex = E.get(m.name)
    model = starting_net(ex) if m.net is None else _model_from(ex, m.net)
    session.ext["exercise"] = {"name": ex.name, "model": model}
    return reply(session, opened=True)


def on_hinge(session, m):
    model = _state(session)["model"]
    H = model.sizes[1]
    if m.unit >= H:
        raise RelunetError(f"the network has {H} hidden units; there is no unit {m.unit}")
    if m.w[0] == 0 and m.w[1] == 0:
        raise RelunetError("a hinge line needs w != (0, 0)")
    model.linears[0].W[m.unit] = m.w
    model.linears[0].b[m.unit] = m.b
    out = reply(session)
    out[0]["seq"] = m.seq
    return out


def on_output(session, m):
    model = _state(session)["model"]
    H = model.sizes[1]
    if any(len(row) != H for row in m.W2):
        raise RelunetError(f"W2 needs 2 rows of {H} weights (one per hidden unit)")
    model.linears[1].W[...] = np.array(m.W2, float)
    model.linears[1].b[...] = np.array(m.b2, float)
    return reply(session)


def on_units(session, m):
    st = _state(session)
    ex, old = E.get(st["name"]), st["model"]
    if m.count > ex.max_hidden:
        raise RelunetError(f"exercise {ex.name!r} allows at most {ex.max_hidden} hidden units")
    H = old.sizes[1]
    keep = min(H, m.count)
    W1 = np.zeros((m.count, 2))
    b1 = np.zeros(m.count)
    W1[:keep], b1[:keep] = old.linears[0].W[:keep], old.linears[0].b[:keep]
    for j in range(keep, m.count):
        W1[j], b1[j] = fresh_unit(j, ex.box)
    model = E.two_layer(W1, b1, np.zeros(m.count), 0.0)
    model.linears[1].W[:, :keep] = old.linears[1].W[:, :keep]
    model.linears[1].b[...] = old.linears[1].b
    st["model"] = model
    return reply(session)


def on_solve(session, m):
    st = _state(session)
    model = st["model"]
    E.solve_output(model, *E.fit_tokens(st["name"]))
    top = max(np.abs(model.linears[1].W).max(), np.abs(model.linears[1].b).max())
    if top > 0:
        model.linears[1].W[...] *= SOLVED_SCALE / top
        model.linears[1].b[...] *= SOLVED_SCALE / top
    return reply(session)


def on_reference(session, m):
    st = _state(session)
    st["model"] = E.get(st["name"]).reference()
    return reply(session)


for _model, _handler in ((ExerciseOpen, on_open), (ExerciseHinge, on_hinge), (ExerciseOutput, on_output),
                         (ExerciseUnits, on_units), (ExerciseSolve, on_solve), (ExerciseReference, on_reference)):
    register(_model, _handler)
