"""The playground's exercise mode: the lecture's quiz, built by hand on the page's own map and network.

Opening an exercise makes it the session's experiment:
- the model is the two-layer network [2, H, 2] (ReLU, classification) that the student builds;
- the data are the target's tokens. A region target has no tokens of its own: its data are at most
  TRAIN_TOKENS of the tokens ``relunet.exercises.fit_tokens`` labels by the target polygons (the page draws
  them faintly), so that Play has something to train on; the target itself is the polygons, graded exactly;
- the view is the exercise's box, with hinge lines and the exact regions and boundary on.

The page moves each hidden unit's hinge line w_j x + b_j = 0 on the main map (exercise_hinge sets row j of
W1 and b1), edits W2 and b2 in the network graph (the ordinary edit_weight message) or asks for them to be
solved, and Play trains the same network by SGD. Every change is graded by ``relunet.exercises.check`` (the
same function as ``relunet exercise check``): the messages below answer with the grade at once, and a render
hook grades again whenever the weights changed some other way (a graph edit, Reset, training: while playing
at most once per slow frame, session.SLOW_SECONDS apart).

The exercise stays open while the session's model is the network it was opened on. Anything that builds
another network (a lecture step, a data preset, the task, the network's shape, a model file, the page's
hello) leaves it, and the page gets {"type": "exercise", "closed": true}. Opening and closing push the page
on the lecture's undo stack, and snapshots keep the open exercise's name (its network is the session's model),
so Undo brings back the page before the exercise, or the exercise as it was.

session.ext["exercise"] = {"name", "model" (the network graded), "graded" (its weights when last graded),
"seq" (of the last hinge message, echoed so the page can tell replies to earlier drag positions)}.
"""

from typing import Annotated, Literal, Optional

import numpy as np
from pydantic import Field

from .. import exercises as E
from ..engine.errors import RelunetError
from . import protocol as P
from .lecture import LECTURE, info, push_undo
from .session import HANDLERS, SNAPSHOT_HOOKS, register
from .state import CUSTOM, HASH_POINTS, Config, check

#: Weights the page may set: far beyond any sensible hand-built network, well inside float64.
MAX_WEIGHT = 1e5
#: The solved output weights are scaled so that the largest is this (the classes depend only on the sign
#: of the score s, so any positive scale grades the same; this one reads well in the graph).
SOLVED_SCALE = 10.0
#: A region target trains on at most this many of its fit tokens: few enough for the link (state.HASH_POINTS).
TRAIN_TOKENS = HASH_POINTS
CLOSED = {"type": "exercise", "closed": True}

Weight = Annotated[float, Field(ge=-MAX_WEIGHT, le=MAX_WEIGHT)]
Name = Literal[tuple(E.EXERCISES)]


class Net(P._Strict):
    """A whole two-layer network [2, H, 2]: W1 (H, 2), b1 (H,), W2 (2, H), b2 (2,), as nested lists."""

    W1: Annotated[list[Annotated[list[Weight], Field(min_length=2, max_length=2)]], Field(min_length=1, max_length=64)]
    b1: Annotated[list[Weight], Field(min_length=1, max_length=64)]
    W2: Annotated[list[Annotated[list[Weight], Field(min_length=1, max_length=64)]], Field(min_length=2, max_length=2)]
    b2: Annotated[list[Weight], Field(min_length=2, max_length=2)]


class ExerciseList(P._Strict):
    """The exercises (name and title), and which one is open."""

    type: Literal["exercise_list"]


class ExerciseOpen(P._Strict):
    """Open an exercise on the page; `net` restores a network (from the link), else two fresh hinge lines."""

    type: Literal["exercise_open"]
    name: Name
    net: Optional[Net] = None


class ExerciseClose(P._Strict):
    """Leave the exercise: the page keeps its data and network as an ordinary experiment."""

    type: Literal["exercise_close"]


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


# ============================================================================ the exercise's experiment
def fresh_unit(j, box):
    """A new unit's hinge: a line through the box's centre, turned a little more for each unit."""
    cx, cy = (box[0] + box[1]) / 2, (box[2] + box[3]) / 2
    angle = 0.4 + 1.1 * j
    w = np.array([np.cos(angle), np.sin(angle)])
    return w, -float(w @ [cx, cy])


def starting_net(ex, units=2):
    W1, b1 = zip(*(fresh_unit(j, ex.box) for j in range(units)))
    return E.two_layer(np.array(W1), np.array(b1), np.zeros(units), 0.0)


def training_tokens(ex):
    """(X, y): the target tokens; for a region target, TRAIN_TOKENS of its fit tokens (a fixed choice)."""
    if ex.kind == "points":
        return ex.points()
    X, y = E.fit_tokens(ex)
    if len(X) > TRAIN_TOKENS:
        keep = np.sort(np.random.default_rng(0).choice(len(X), TRAIN_TOKENS, replace=False))
        X, y = X[keep], y[keep]
    return X, y


def exercise_config(ex, units, now=None):
    """The experiment of exercise `ex` with `units` hidden ReLUs: its tokens, the lecture's per-sample SGD,
    hinge lines and exact regions on (the grid resolution of `now`, the config before, is kept)."""
    X, y = training_tokens(ex)
    pts = tuple(P.Point(x=float(a), y=float(b), label=int(k)) for (a, b), k in zip(X, y))
    data = dict(LECTURE, dataset=CUSTOM, points=pts, n=len(pts), layers=(P.Layer(units=units),))
    if now is not None:
        data["resolution"] = now.resolution
    return check(Config(**data))


def view_box(ex):
    """The square view around the exercise's box (the map is square: angles stay true)."""
    x0, x1, y0, y1 = ex.box
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2
    return [cx - r, cx + r, cy - r, cy + r]


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


def enter(session, ex, model):
    """Make exercise `ex` with network `model` the session's experiment (no undo: the caller pushes it)."""
    session.set_experiment(exercise_config(ex, model.sizes[1], session.config))
    session.load_model(model)
    session.box = view_box(ex)
    session.ext["exercise"] = {"name": ex.name, "model": session.model, "graded": None, "seq": None}


def _use(session, st, model):
    """Another network for the open exercise (more units, the reference): the session's model becomes it."""
    session.load_model(model)
    st["model"] = session.model


def _still_open(session, st):
    """Is the exercise of state `st` still the page's experiment: its network, and tokens rather than a preset?"""
    return st is not None and st["model"] is session.model and session.config.dataset == CUSTOM


def _open(session):
    """The open exercise's state; a user error when none is open (or the page left it)."""
    st = session.ext.get("exercise")
    if not _still_open(session, st):
        raise RelunetError("no exercise is open; choose one in the Exercises panel first")
    return st


def _key(model):
    return b"".join(np.ascontiguousarray(w).tobytes() for w in model.get_weights())


# ============================================================================ replies
def exercise_list():
    return [{"name": e.name, "title": e.title} for e in E.EXERCISES.values()]


def reply(session, opened=False):
    """The grade of the session's network, with its weights (and, when just opened, the exercise itself)."""
    st = _open(session)
    ex, model = E.get(st["name"]), session.model
    res = E.check(ex, model)
    st["graded"] = _key(model)
    out = {"type": "exercise", "name": ex.name, "result": res.to_json(), "summary": res.summary(), "seq": st["seq"],
           "weights": {"W1": model.linears[0].W.tolist(), "b1": model.linears[0].b.tolist(),
                       "W2": model.linears[1].W.tolist(), "b2": model.linears[1].b.tolist()}}
    if opened:
        out["exercise"] = ex.to_json()
        out["list"] = exercise_list()
    return [out]


def announce(session):
    """What the page needs after the session changed wholesale (Undo): the open exercise, or that none is."""
    if not _still_open(session, session.ext.get("exercise")):
        session.ext.pop("exercise", None)
        return [CLOSED]
    return reply(session, opened=True)


def on_render(session):
    """Grade again when the weights changed since the last grade (training, a graph edit, Reset)."""
    st = session.ext.get("exercise")
    if st is None:
        return []
    if not _still_open(session, st):         # another network or a data preset: the exercise is left
        del session.ext["exercise"]
        return [CLOSED]
    key = _key(session.model)
    if st["graded"] == key or not all(np.isfinite(w).all() for w in session.model.get_weights()):
        return []
    try:
        with np.errstate(all="ignore"):     # weights grown huge by a diverging run: graded as they are
            return reply(session)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError):
        st["graded"] = key                  # weights the geometry cannot handle: no grade, and no retry each frame
        return []


def open_exercise(session, name):
    """Open exercise `name` (the lecture's quiz step; its undo is pushed already), unless it is open."""
    st = session.ext.get("exercise")
    if not _still_open(session, st) or st["name"] != name:
        ex = E.get(name)
        enter(session, ex, starting_net(ex))
    return reply(session, opened=True)


# ============================================================================ messages
def on_list(session, m):
    """The list, and the open exercise with its grade (a page that joins a session with one open draws it)."""
    st = session.ext.get("exercise")
    if not _still_open(session, st):
        return [{"type": "exercise_list", "list": exercise_list(), "open": None}]
    return [{"type": "exercise_list", "list": exercise_list(), "open": st["name"]}] + reply(session, opened=True)


def on_open(session, m):
    ex = E.get(m.name)
    model = starting_net(ex) if m.net is None else _model_from(ex, m.net)
    push_undo(session)
    enter(session, ex, model)
    graded = reply(session, opened=True)
    return [session.state(), info(session)] + graded


def on_close(session, m):
    _open(session)
    push_undo(session)
    del session.ext["exercise"]
    return [session.state(), info(session), CLOSED]


def on_set_data(session, m):
    """A data preset (or any data setting) while an exercise is open leaves it, undoably like Close."""
    if not _still_open(session, session.ext.get("exercise")):
        return session._on_set_data(m)
    ext = push_undo(session)
    try:
        session._on_set_data(m)
    except Exception:
        ext["undo"].pop()           # refused: the page and its undo stack stay as they were
        raise
    del session.ext["exercise"]
    return [session.state(), info(session), CLOSED]


def on_hinge(session, m):
    st = _open(session)
    model = session.model
    H = model.sizes[1]
    if m.unit >= H:
        raise RelunetError(f"the network has {H} hidden units; there is no unit {m.unit}")
    if m.w[0] == 0 and m.w[1] == 0:
        raise RelunetError("a hinge line needs w != (0, 0)")
    model.linears[0].W[m.unit] = m.w
    model.linears[0].b[m.unit] = m.b
    if m.seq is not None:
        st["seq"] = m.seq
    session.dirty = True
    return reply(session)


def on_output(session, m):
    _open(session)
    model = session.model
    H = model.sizes[1]
    if any(len(row) != H for row in m.W2):
        raise RelunetError(f"W2 needs 2 rows of {H} weights (one per hidden unit)")
    model.linears[1].W[...] = np.array(m.W2, float)
    model.linears[1].b[...] = np.array(m.b2, float)
    session.dirty = True
    return reply(session)


def on_units(session, m):
    st = _open(session)
    ex, old = E.get(st["name"]), session.model
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
    _use(session, st, model)
    graded = reply(session)
    return [session.state()] + graded


def on_solve(session, m):
    st = _open(session)
    model = session.model
    E.solve_output(model, *E.fit_tokens(st["name"]))
    top = max(np.abs(model.linears[1].W).max(), np.abs(model.linears[1].b).max())
    if top > 0:
        model.linears[1].W[...] *= SOLVED_SCALE / top
        model.linears[1].b[...] *= SOLVED_SCALE / top
    session.dirty = True
    return reply(session)


def on_reference(session, m):
    st = _open(session)
    _use(session, st, E.get(st["name"]).reference())
    graded = reply(session)
    return [session.state()] + graded


# ============================================================================ snapshots (Undo)
def _save(session):
    st = session.ext.get("exercise")
    return st["name"] if _still_open(session, st) else None


def _load(session, name):
    # restore() has just put the snapshot's copy of the network in session.model
    if name is None:
        session.ext.pop("exercise", None)
    else:
        session.ext["exercise"] = {"name": name, "model": session.model, "graded": None, "seq": None}


SNAPSHOT_HOOKS["exercise"] = (_save, _load)
# set_data is the session's own message (protocol.SetData); a handler registered for it runs instead of
# Session._on_set_data, which on_set_data calls
HANDLERS["set_data"] = on_set_data
for _model, _handler in ((ExerciseList, on_list), (ExerciseOpen, on_open), (ExerciseClose, on_close),
                         (ExerciseHinge, on_hinge), (ExerciseOutput, on_output), (ExerciseUnits, on_units),
                         (ExerciseSolve, on_solve), (ExerciseReference, on_reference)):
    register(_model, _handler, render=on_render)
