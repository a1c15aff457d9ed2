"""Compare: a second run B on the same data, from the same seed, with its own network and training settings.

    {"type": "compare", "on": true, "layers": [...], "optimizer": "sgd", "lr": 0.1, "batch_size": 32}

B trains in lockstep with the session's run A: after every slice of A, B takes as many updates as it needs
to have seen as many tokens (epochs x training points) as A, so batch 1 and batch 32 are compared at equal
data, not at equal updates. B restarts whenever A does (reset, new seed, new network); when the data change, both
keep their weights and go on from the epoch they are in. With every frame the page
gets B's map (a MAP or CURVE frame flagged TWIN, see frames.py) and a "metrics_b" message for its curves; with
*Exact regions* on, B's exact overlay too (a "pwl" summary with "twin": true and a REGIONS frame flagged TWIN).
"""

from typing import Annotated, Literal, Optional

import numpy as np
from pydantic import Field

from ..engine.errors import DivergenceError, RelunetError
from ..engine.model import MLP
from ..engine.train import Trainer
from . import frames, views
from .overlay_worker import LiveOverlay
from .protocol import MAX_LAYERS, MAX_POINTS, Layer, OptimizerName, _Strict
from .session import register


class Compare(_Strict):
    """Run B on or off, and its settings (absent fields keep their value; B starts as a copy of A)."""

    type: Literal["compare"]
    on: bool = True
    layers: Optional[Annotated[list[Layer], Field(max_length=MAX_LAYERS)]] = None
    optimizer: Optional[OptimizerName] = None
    lr: Optional[Annotated[float, Field(gt=0, le=10)]] = None
    batch_size: Optional[Annotated[int, Field(ge=1, le=MAX_POINTS)]] = None


class Twin:
    """Run B: its settings, model and Trainer; the data, seed and the other settings are the session's."""

    def __init__(self, session, layers, optimizer, lr, batch_size):
        self.layers, self.optimizer, self.lr, self.batch_size = tuple(layers), optimizer, lr, batch_size
        self.exact = LiveOverlay(session._exact_on, twin=True)
        self.restart(session)

    def settings(self):
        return {"layers": [layer.model_dump() for layer in self.layers], "optimizer": self.optimizer,
                "lr": self.lr, "batch_size": self.batch_size}

    def restart(self, session):
        """A fresh model from the session's seed and a Trainer on the session's training points."""
        c = session.config
        sizes = [session.model.sizes[0]] + [layer.units for layer in self.layers] + [session.model.sizes[-1]]
        self.model = MLP(sizes, [layer.activation for layer in self.layers], c.task, seed=c.seed)
        self.view = self.model.astype("float32")
        self.trainer, self.status, self.counts = None, None, (0, 0)

    def data_changed(self):
        """New training points: a new Trainer on them later, from the epoch and update counts reached (as A)."""
        if self.trainer is not None:
            self.counts = (self.trainer.epoch, self.trainer.updates)
        self.trainer = None

    def _ensure_trainer(self, session):
        if self.trainer is None:
            Xtr, ytr, _, _ = session._split()
            if len(Xtr) == 0:
                return None
            c = session.config
            self.trainer = Trainer(self.model, Xtr, ytr, optimizer=self.optimizer, lr=self.lr, momentum=c.momentum,
                                   weight_decay=c.weight_decay, batch_size=self.batch_size, schedule=c.schedule,
                                   seed=np.random.default_rng([c.seed, self.counts[1]]))
            self.trainer.epoch, self.trainer.updates = self.counts
        return self.trainer

    def progress(self):
        """Epochs seen, with the current one's fraction."""
        return 0.0 if self.trainer is None else self.tokens() / len(self.trainer.X)

    def tokens(self):
        t = self.trainer
        return 0 if t is None else t.epoch * len(t.X) + t.epoch_position

    def catch_up(self, session):
        """Train until B has seen as many tokens as A (the session's run)."""
        if self.status is not None:
            return
        t = self._ensure_trainer(session)
        a = session.trainer
        if t is None or a is None:
            return
        target = a.epoch * len(a.X) + a.epoch_position       # both runs train on the same points
        try:
            while self.tokens() < target:
                need = target - self.tokens()
                t.step(min(-(-need // t.batch_size), t.updates_left_in_epoch))
        except DivergenceError as e:
            self.status = {"level": "error", "message": f"Run B diverged: {e}"}

    def exact_items(self, session, force=False):
        """B's exact regions overlay (flagged "twin"), through the same pipeline and cadence as A's."""
        def snapshot():
            with session.lock:
                return self.model.copy(), list(session.box)
        return self.exact.items(snapshot, force, session._offload("B"))

    def render(self, session, slow):
        """[B's map or curve frame (flagged TWIN), its metrics message]."""
        c = session.config
        if c.task == "regression":
            x0, x1 = session.box[:2]
            xs, fs = views.curve(self.model, x0, x1, 400)
            frame = frames.curve_frame(xs, fs, views.breakpoints(self.model, x0, x1), session.box, twin=True)
        else:
            self.view.set_weights(self.model.get_weights())
            k, conf = views.decision_map(self.view, session.map_grid(), session.present_classes())
            frame = frames.map_frame(k, conf, self.model.n_outputs, c.resolution, session.box, twin=True)
        Xtr, ytr, Xte, yte = session._split()
        t = self.trainer
        msg = {"type": "metrics_b", "run": session.run, "sizes": self.model.sizes, "settings": self.settings(),
               "epoch": 0 if t is None else t.epoch, "updates": 0 if t is None else t.updates,
               "epoch_float": self.progress(), "status": self.status,
               "train": session._evaluate(Xtr, ytr, self.model), "test": session._evaluate(Xte, yte, self.model)}
        if len(self.model.sizes) > 2 and c.task == "classification":
            W1, b1 = views.first_layer_lines(self.model)
            msg["hinges"] = {"W": W1.tolist(), "b": b1.tolist()}
        return [frame, msg]


def on_compare(session, m):
    c = session.config
    if not m.on:
        session.twin = None
        return [{"type": "metrics_b", "off": True}]
    old = session.twin
    base = old.settings() if old else {"layers": c.layers, "optimizer": c.optimizer, "lr": c.lr,
                                       "batch_size": c.batch_size}
    layers = tuple(m.layers) if m.layers is not None else tuple(Layer(**dict(layer)) if isinstance(layer, dict)
                                                                 else layer for layer in base["layers"])
    if session.model.n_outputs < 2 and c.task == "classification":
        raise RelunetError("run B needs data with at least two classes")
    session.twin = Twin(session, layers, m.optimizer or base["optimizer"], m.lr or base["lr"],
                        m.batch_size or base["batch_size"])
    # B starts where A starts: A restarts too, so both runs count from update 0
    session.model.initialize(c.seed)
    session.playing = False
    session._restart()
    return None


register(Compare, on_compare)
