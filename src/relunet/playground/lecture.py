"""The lecture as a path through the playground: five steps, each one table row (text and page state), undoable.

    {"type": "lecture"}            -> the steps (titles and texts) and where the path stands
    {"type": "lecture", "step": k} -> the page takes step k's experiment (data, network, training, view);
                                      what it showed before is pushed on an undo stack
    {"type": "undo"}               -> back to the page as it was before the last step (weights included)
    {"type": "hello", "hash": "...&step=3"}
                                   -> a link names the step it was taken at (open_link, at the end): the page
                                      opens on that step's text and mode, with the link's experiment (the
                                      step's own config when the link names only "step=3")

Texts use the lecture's notation (Lecture 12, "Multi-layer neural nets"): f(x) = argmax(Wx + b),
h_j = max(0, w_j x + b_j), f = softmax(z^(2)), dL/dz_k = f_k - 1[y=k], W <- W - eta dL/dW.

A step's "mode" tells the page what it opens: a click mode of the map ("add", "trace") or a registered panel
by name. The last step, the lecture's quiz, names an exercise instead of a config: it opens the exercise mode
(exercise_handlers.py) on the "lecture" exercise, and its mode "exercises" brings the map and the Exercises
panel into view.

The undo stack is the page's one Undo: lecture steps push on it, and so do opening and closing an exercise
(push_undo). A snapshot keeps the open exercise with its network (session.SNAPSHOT_HOOKS).
"""

import functools
from typing import Annotated, Literal, Optional

from pydantic import Field

from .protocol import Layer, ProtocolError, _Strict
from .session import register
from .state import Config, check, decode_hash, default_config

# Every step starts from the lecture's data (make_dataset("lecture")) trained by plain per-sample SGD.
LECTURE = dict(task="classification", dataset="lecture", n=90, noise=0.12, data_seed=0, test_fraction=0.0,
               layers=(), optimizer="sgd", lr=0.1, batch_size=1, weight_decay=0.0, schedule="constant",
               target_loss=None, max_epochs=None, seed=0, discretize=False, hinges=True, exact=True)

STEPS = (
    {"title": "Linear: argmax(Wx + b)",
     "text": "A linear classifier computes <code>f(x) = argmax(Wx + b)</code>: class k wins where its "
             "<code>w_k x + b_k</code> is largest, so each class gets one <b>convex</b> cell, bounded by straight "
             "lines (the bold line is the exact boundary). Class 0 (blue) sits near [0.8, 0] <i>and</i> near "
             "[0.4, 0.9], class 1 between them. A convex cell that holds both blue clusters holds the segment "
             "between them too, so <b>no W and b can be right</b>. Press Play: the accuracy never reaches 100%.",
     "config": {}},
    {"title": "One hidden layer of ReLUs",
     "text": "Add a hidden layer: <code>h_j = max(0, w_j x + b_j)</code>, then <code>f = softmax(W2 h + b2)</code>. "
             "Each hidden unit bends the map along its <b>hinge line</b> <code>w_j x + b_j = 0</code> "
             "(dashed, labelled j): on one side h_j = 0, on the other it grows linearly. The thin lines are the "
             "<b>linear regions</b>, where every unit keeps its side; inside each region the network is linear, so "
             "the boundary (bold) is <b>piece-wise linear</b>. Press Play and watch the hinges move until both "
             "blue clusters are blue.",
     "config": {"layers": (Layer(units=4),)}},
    {"title": "SGD, one token at a time",
     "text": "Training picks a token <code>(x_i, y_i)</code>, computes <code>f(x_i)</code> and the loss "
             "<code>L = -log f_y</code>, back-propagates <code>dL/dz_k = f_k - 1[y=k]</code> through "
             "<code>W2</code> and the ReLU's step <code>u(z_j)</code> to <code>dL/dW1</code>, and updates "
             "<code>W &larr; W - &eta; dL/dW</code>. Click any point: the panel beside the map (below it on a "
             "phone) shows its chain rule with numbers; <b>Watch the step</b> moves each hinge line from its old "
             "to its new place. <i>Step</i> does one such update (batch 1).",
     "config": {"layers": (Layer(units=4),)}, "mode": "trace"},
    {"title": "More units, better approximation",
     "text": "The same network fits a function of one input: <code>f(x) = w2 h(x) + b2</code> is piece-wise linear, "
             "with one kink where each <code>h_j</code> switches (orange). More hidden units give more pieces, and "
             "in the limit the approximation approaches any continuous curve. Try "
             "<button data-units='2'>2 units</button> <button data-units='4'>4</button> "
             "<button data-units='8'>8</button> <button data-units='32'>32</button> and press Play.",
     "config": {"task": "regression", "dataset": "sine", "n": 100, "noise": 0.0, "layers": (Layer(units=8),),
                "lr": 0.05, "batch_size": 1, "exact": False}},
    {"title": "The quiz: draw the boundary yourself",
     "text": "The lecture's quiz: <i>approximate a given boundary with a two-layer network</i>. Build the "
             "network by hand on the map: drag each hidden unit's hinge line <code>w_j x + b_j = 0</code> by its "
             "round handles (h_j is active on the side its arrow points to), then click the output weights "
             "<code>W2</code>, <code>b2</code> in the network graph or press <i>Solve output weights</i> in the "
             "<b>Exercises</b> panel under the map. Class 1 wins where <code>z_1 &gt; z_0</code>; every change "
             "is graded exactly (the exact boundary, each token's verdict: wrong ones are crossed). "
             "<i>Play</i> lets SGD try from your weights. The panel's list holds more exercises.",
     "exercise": "lecture", "mode": "exercises"},
)
UNDO_DEPTH = 20
#: A step whose config agrees with the page's on these keeps the weights trained so far.
SAME_NETWORK = ("task", "dataset", "n", "noise", "classes", "data_seed", "test_fraction", "layers", "seed")
#: The page stands at a step while it keeps the step's data and depth (and, at the quiz, its exercise open):
#: the rate, the batch or step 4's unit buttons are the student's to try within the step; a data preset or a
#: deeper net leaves it, and the bar and the link then name no step.
STEP_DATA = ("task", "dataset", "n", "noise", "classes", "data_seed", "test_fraction")


class Lecture(_Strict):
    """Ask for the lecture's steps, or (with `step`, 1-based) take that step."""

    type: Literal["lecture"]
    step: Optional[Annotated[int, Field(ge=1, le=len(STEPS))]] = None


class Undo(_Strict):
    """Back to the page as it was before the last lecture step."""

    type: Literal["undo"]


def step_config(k):
    """The Config of lecture step k (1-based); the quiz's is its exercise's (exercise_handlers.exercise_config)."""
    step = STEPS[k - 1]
    if "exercise" in step:
        from .exercise_handlers import exercise_config
        from ..exercises import get

        return exercise_config(get(step["exercise"]), 2)
    data = dict(LECTURE)
    data.update(step["config"])
    return check(Config(**data))


def info(session):
    ext = session.ext.setdefault("lecture", {"current": None, "undo": []})
    left_step(session)
    return {"type": "lecture", "current": ext["current"], "undo": len(ext["undo"]),
            "steps": [{"title": s["title"], "text": s["text"], "mode": s.get("mode", "add")} for s in STEPS]}


def push_undo(session):
    """Keep the page as it is now (with the lecture step it is at) for Undo."""
    ext = session.ext.setdefault("lecture", {"current": None, "undo": []})
    ext["undo"].append((ext["current"], session.snapshot()))
    del ext["undo"][:-UNDO_DEPTH]
    return ext


def on_lecture(session, m):
    if m.step is None:
        return [info(session)]
    ext = push_undo(session)
    ext["current"] = m.step
    if "exercise" in STEPS[m.step - 1]:
        from .exercise_handlers import open_exercise

        graded = open_exercise(session, STEPS[m.step - 1]["exercise"])
        return [session.state(), info(session)] + graded
    new, old = step_config(m.step), session.config
    if all(getattr(new, k) == getattr(old, k) for k in SAME_NETWORK):
        # the same data and network (step 2 -> 3): keep the weights trained so far, take the step's settings
        session.config = new
        session.trainer = None
        session.playing = False
    else:
        session.set_experiment(new)
    return [session.state(), info(session)]


@functools.lru_cache(maxsize=None)
def _step_mark(k):
    config = step_config(k)
    return tuple(getattr(config, key) for key in STEP_DATA), len(config.layers), STEPS[k - 1].get("exercise")


def _page_mark(session):
    st = session.ext.get("exercise")
    open_name = st["name"] if st is not None and st["model"] is session.model else None
    return tuple(getattr(session.config, key) for key in STEP_DATA), len(session.config.layers), open_name


def left_step(session):
    """Once the page left its step (another message changed the data, the depth, or closed the quiz's
    exercise), the step is no longer current. True when it was just left."""
    ext = session.ext.get("lecture")
    if not ext or ext["current"] is None or _page_mark(session) == _step_mark(ext["current"]):
        return False
    ext["current"] = None
    return True


def on_render(session):
    """The bar and the link are told when the page left its step."""
    return [info(session)] if left_step(session) else []


def on_undo(session, m):
    ext = session.ext.setdefault("lecture", {"current": None, "undo": []})
    if ext["undo"]:
        ext["current"], snap = ext["undo"].pop()
        session.restore(snap)
    from .exercise_handlers import announce

    return [session.state(), info(session)] + announce(session)


register(Lecture, on_lecture, render=on_render)
register(Undo, on_undo)


# ---------------------------------------------------------------------------------------------- the link
def current_step(session):
    """The lecture step the page stands at (1-based), or None."""
    return session.ext.get("lecture", {}).get("current")


def split_step(text):
    """'<experiment>&step=3' -> ('<experiment>', 3); a link without a step -> (text, None).

    The step rides in the experiment's part of the link as one more key; state.decode_hash never sees it."""
    text = text[1:] if text.startswith("#") else text
    parts = [p for p in text.split("&") if p]
    steps = [p for p in parts if p.startswith("step=")]
    if not steps:
        return text, None
    value = steps[-1][len("step="):]
    if not (value.isdigit() and 1 <= int(value) <= len(STEPS)):
        raise ProtocolError(f"link: step={value!r} is not valid (a lecture step from 1 to {len(STEPS)})")
    return "&".join(p for p in parts if not p.startswith("step=")), int(value)


def open_link(session, text):
    """Open the page on the link `text`: its experiment afresh, and the lecture step it names (or none).

    A link of only "step=k" takes step k as its button does (on_lecture), without an Undo entry: opening a
    link is not a step to take back."""
    rest, step = split_step(text)
    session.set_experiment(decode_hash(rest) if rest else default_config())
    ext = session.ext.setdefault("lecture", {"current": None, "undo": []})
    ext["current"] = step
    if step and not rest:
        depth = len(ext["undo"])
        on_lecture(session, Lecture(type="lecture", step=step))
        del ext["undo"][depth:]
