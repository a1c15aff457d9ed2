"""One playground session (one browser tab): data, model, Trainer, settings. Pure Python, no server.

``handle(message)`` applies one validated message (see protocol) and returns what to send back (JSON-able
dicts and binary frames). ``train_for(seconds)`` advances training in place, ``render()`` produces the
next frame. A session's methods hold its lock, so the server may call them from worker threads while
another thread handles messages; different sessions share nothing.
"""

import base64
import math
import threading
import time

import numpy as np

from ..data import DATASETS, bounding_box, make_dataset, read_csv
from ..engine.errors import DivergenceError, RelunetError
from ..metrics import evaluate_encoded
from ..engine.model import MLP
from ..engine.optim import make_schedule
from ..engine.train import Trainer
from ..io import from_bytes, to_bytes
from . import frames, protocol as P, views
from .backprop import trace_token
from .overlay_worker import EXACT_SECONDS, OFFLOAD_MS, LiveOverlay  # noqa: F401 (the overlay's cadence, re-exported)
from .state import CUSTOM, HASH_POINTS, check, decode_hash, default_config, encode_hash

THUMB_RES = 24          # thumbnail grid (classification), samples per thumbnail curve (regression): 64
THUMB_UNITS = 32        # units shown per hidden layer in thumbnails
GRAPH_UNITS = 16        # units shown per layer in the network graph
SLOW_SECONDS = 0.5      # while training, thumbnails, weights and the hidden view go with a frame this far apart
MAX_STEP_SAMPLES = 2_000_000  # one "step" message does at most this many tokens of work
TRACE_FULL = 4096       # larger arrays in a trace are cut to their first 16 x 16 block

#: Modules that extend the session (importing one calls `register`); imported when the first Session is made.
EXTENSIONS = ("relunet.playground.lecture", "relunet.playground.compare",
              "relunet.playground.exercise_handlers", "relunet.playground.step_geometry")
#: message type -> handler(session, message) -> list of replies, or None for [session.state()]
HANDLERS = {}
#: functions(session) -> list of extra items (dicts, frames) sent with every full frame (see render)
RENDER_HOOKS = []
#: name -> (save(session) -> value, load(session, value)): extension state that snapshots keep, so Undo brings
#: it back with the weights (the exercise mode: which exercise is open on the session's network)
SNAPSHOT_HOOKS = {}


def register(model, handler, render=None):
    """Add a message type from another module: its pydantic model (see protocol.register_message), the
    handler that applies it, and optionally a render hook. Extension state lives in `session.ext[name]`."""
    name = P.register_message(model)
    HANDLERS[name] = handler
    if render is not None and render not in RENDER_HOOKS:
        RENDER_HOOKS.append(render)
    return name


def _load_extensions():
    import importlib

    for name in EXTENSIONS:
        importlib.import_module(name)


class Session:
    """The state of one tab. `config` is the whole experiment (see state.Config)."""

    def __init__(self, config=None):
        _load_extensions()
        self.lock = threading.RLock()
        self.ext = {}               # per-extension state, by extension name
        self.config = check(config or default_config())
        self.playing = False
        self.status = None          # {"level": "info"|"error", "message": ...}: why training stopped
        self.focus = None           # (layer, unit) hovered in the page: its map replaces the decision map
        self.hidden = None          # (layer, i, j) for the hidden-space view
        self.traced = None          # the token (protocol.Point) whose trace follows the weights
        self.twin = None            # run B of a comparison (compare.Twin), trained in lockstep
        self.run = 0                # bumped whenever the weights restart: the page clears its curves
        self.frame_no = 0
        self.dirty = True           # something changed since the last frame
        self.model = None
        self.trainer = None
        self._grid_key = self._grid = None
        self._rate = []             # (time, updates, samples) of recent training slices, for updates/s
        # exact regions: overlay(run, model, box, finish) -> True when it computes the overlay of run "A" or "B"
        # elsewhere and sends finish(result)'s items itself (the driver's worker process); None: in this thread
        self.overlay = None
        self._exact = LiveOverlay(self._exact_on)
        self._load_data()
        self.box = self._auto_box()
        self._build_model()

    # ============================================================================ data
    def _load_data(self):
        c = self.config
        if c.dataset == CUSTOM:
            pts = c.points or ()
            d = 1 if c.task == "regression" else 2
            self.X = np.array([[p.x] if d == 1 else [p.x, p.y] for p in pts], float).reshape(-1, d)
            self.y = (np.array([p.y for p in pts], float) if c.task == "regression"
                      else np.array([p.label for p in pts], np.int64))
        else:
            spec = DATASETS[c.dataset]
            k = c.classes if "classes" in spec.options else None
            self.X, self.y = make_dataset(c.dataset, c.n, c.noise, seed=c.data_seed, classes=k)
        # Each point's place in the train/test split is drawn once per data seed and position, so the
        # split does not change when the slider moves back and forth or the page is reloaded.
        self._u = np.random.default_rng([c.data_seed, 1]).uniform(size=P.MAX_POINTS)

    @property
    def is_test(self):
        return self._u[:len(self.X)] < self.config.test_fraction

    def _split(self):
        test = self.is_test
        return self.X[~test], self.y[~test], self.X[test], self.y[test]

    def _points_changed(self):
        """After a hand edit: the data become custom, written into the config (and link) when small."""
        c = self.config
        pts = None
        if len(self.X) <= HASH_POINTS:
            if c.task == "regression":
                pts = tuple(P.Point(x=float(x[0]), y=float(t)) for x, t in zip(self.X, self.y))
            else:
                pts = tuple(P.Point(x=float(x[0]), y=float(x[1]), label=int(t)) for x, t in zip(self.X, self.y))
        self.config = c.with_(dataset=CUSTOM, points=pts, n=max(1, len(self.X)))
        self._data_changed()

    def _data_changed(self):
        self.trainer = None
        if self.twin is not None:
            self.twin.data_changed()
        self._forget_trace()        # the traced token may be gone
        if self._n_outputs() != self.model.n_outputs:
            self._build_model()     # a new class (or the last point of one gone): one output per class
        self.dirty = True

    def _auto_box(self):
        c = self.config
        if len(self.X) == 0:
            return [-1.5, 1.5, -1.5, 1.5]
        if c.task == "regression":
            x0, x1 = bounding_box(self.X, 0.05)
            y0, y1 = bounding_box(self.y[:, None], 0.15)
            return [x0, x1, y0, y1]
        x0, x1, y0, y1 = bounding_box(self.X, 0.1)
        # a square box keeps angles true on the square canvas
        cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2
        return [cx - r, cx + r, cy - r, cy + r]

    # ============================================================================ model and trainer
    def _n_outputs(self):
        c = self.config
        if c.task == "regression":
            return 1
        k = int(self.y.max()) + 1 if len(self.y) else 2
        if c.dataset != CUSTOM and "classes" in DATASETS[c.dataset].options:
            k = max(k, c.classes)
        return max(2, k)

    def _build_model(self):
        c = self.config
        sizes = [1 if c.task == "regression" else 2] + [layer.units for layer in c.layers] + [self._n_outputs()]
        self.model = MLP(sizes, [layer.activation for layer in c.layers], c.task, seed=c.seed)
        self._restart()

    def _restart(self):
        self.trainer = None
        if self.twin is not None:
            self.twin.restart(self)
        self.epoch = self.updates = 0
        self.run += 1
        self._rate = []
        self.status = None
        self.dirty = True

    def _ensure_trainer(self):
        if self.trainer is not None:
            return self.trainer
        Xtr, ytr, _, _ = self._split()
        if len(Xtr) == 0:
            raise RelunetError("there are no training points: add points, or move the test split down")
        c = self.config
        # A trainer rebuilt mid-run (the data changed) gets a seed that depends on how far the run went,
        # so the same sequence of actions gives the same weights.
        rng = np.random.default_rng([c.seed, self.updates])
        old = getattr(self, "_optimizer", None)
        t = Trainer(self.model, Xtr, ytr, optimizer=c.optimizer, lr=c.lr, momentum=c.momentum,
                    weight_decay=c.weight_decay, batch_size=c.batch_size, schedule=c.schedule, seed=rng)
        if old is not None and old[0] is self.model and old[1] == c.optimizer and self.updates:
            # keep the momentum / Adam state across data edits, with the settings as they are now
            opt = old[2]
            opt.weight_decay = c.weight_decay
            if c.optimizer in ("momentum", "nesterov"):
                opt.momentum = c.momentum
            t.optimizer = opt
        t.epoch, t.updates = self.epoch, self.updates
        self._optimizer = (self.model, c.optimizer, t.optimizer)
        self.trainer = t
        return t

    # ============================================================================ training
    def train_for(self, seconds, until=None):
        """Train for about `seconds` (while playing; stopping early once the event `until` is cleared, when a
        message from the page is being answered); returns the status dict if training stopped."""
        # The lock is taken per chunk of about 4 ms, so a message from the page waits at most that long.
        t_end = time.perf_counter() + seconds
        chunk = getattr(self, "_chunk", 1)
        while self.playing:
            t0 = time.perf_counter()
            if t0 >= t_end or (until is not None and not until.is_set()):
                break
            with self.lock:
                if not self.playing:
                    break
                before = self.updates
                self._advance(chunk)
                if self.twin is not None:
                    self.twin.catch_up(self)
                dt = time.perf_counter() - t0
                if self.updates > before:
                    # aim for about 4 ms per call: long enough to amortise Python, short enough to stop on time
                    per = dt / (self.updates - before)
                    chunk = int(min(max(1, 0.004 / max(per, 1e-7)), 100_000))
        self._chunk = chunk
        return self.status

    def _advance(self, n):
        """n updates (fewer at a max-epochs boundary), checking the stop conditions."""
        c = self.config
        try:
            t = self._ensure_trainer()
        except RelunetError as e:
            self._stop("error", str(e))
            return
        if c.max_epochs is not None and t.epoch >= c.max_epochs:
            self._stop("info", f"Stopped: reached the maximum of {c.max_epochs} epochs.")
            return
        before = t.updates
        t0 = time.perf_counter()
        try:
            # never past the end of the current epoch, so stop rules fire exactly at epoch boundaries
            records = t.step(min(n, t.updates_left_in_epoch))
        except DivergenceError as e:
            self.epoch, self.updates = t.epoch, t.updates
            self.trainer = self._optimizer = None     # its momentum / Adam state may hold the overflow too
            self._stop("error", f"Diverged: {e}")
            return
        self.epoch, self.updates = t.epoch, t.updates
        done = t.updates - before
        self._rate.append((time.perf_counter(), done, done * min(t.batch_size, len(t.X)), time.perf_counter() - t0))
        del self._rate[:-200]
        self.dirty = True
        for r in records:
            if c.target_loss is not None and r["loss"] <= c.target_loss:
                self._stop("info", f"Stopped at epoch {r['epoch']}: the training loss {r['loss']:.4g} reached "
                                   f"the target {c.target_loss:g}.")
                return
        if c.max_epochs is not None and t.epoch >= c.max_epochs:
            self._stop("info", f"Stopped: reached the maximum of {c.max_epochs} epochs.")

    def _stop(self, level, message):
        self.playing = False
        self.status = {"level": level, "message": message}
        self.dirty = True

    def rates(self):
        """(updates/s, samples/s): over the last second of training, counting training time only."""
        now = time.perf_counter()
        recent = [r for r in self._rate if now - r[0] < 1.0]
        busy = sum(r[3] for r in recent)
        if not recent or busy <= 0:
            return 0.0, 0.0
        span = max(now - recent[0][0] + recent[0][3], busy)
        return sum(r[1] for r in recent) / span, sum(r[2] for r in recent) / span

    # ============================================================================ messages
    def handle(self, msg):
        """Apply one validated message; returns a list of replies (dicts, and bytes for binary frames).

        A user's mistake raises RelunetError or ProtocolError; the session is left as it was.
        """
        with self.lock:
            handler = HANDLERS.get(msg.type)
            out = handler(self, msg) if handler else getattr(self, "_on_" + msg.type)(msg)
            return out if out is not None else [self.state()]

    def _set_config(self, **changes):
        new = check(self.config.with_(**changes))
        self.config = new
        return new

    def _on_hello(self, m):
        from .lecture import open_link      # a link may name the lecture step it was taken at

        open_link(self, m.hash)

    def set_experiment(self, config):
        """Start the experiment `config` afresh: its data, a new model from its seed, the view fitted."""
        self.config = check(config)
        self.playing = False
        self._forget_trace()
        self._load_data()
        self.box = self._auto_box()
        self._build_model()

    def snapshot(self):
        """What restore() needs to bring the page back: settings, data, weights, counters, view."""
        with self.lock:
            return {"config": self.config, "X": self.X.copy(), "y": self.y.copy(), "model": self.model.copy(),
                    "epoch": self.epoch, "updates": self.updates, "box": list(self.box),
                    "ext": {name: save(self) for name, (save, _) in SNAPSHOT_HOOKS.items()}}

    def restore(self, snap):
        with self.lock:
            self.config = snap["config"]
            self.playing = False
            self._forget_trace()
            self._load_data()
            self.X, self.y = snap["X"].copy(), snap["y"].copy()
            self.model = snap["model"].copy()
            self._restart()
            self.epoch, self.updates = snap["epoch"], snap["updates"]
            self.box = list(snap["box"])
            for name, (_, load) in SNAPSHOT_HOOKS.items():
                load(self, snap.get("ext", {}).get(name))

    def _on_set_task(self, m):
        if m.task == self.config.task:
            return None
        keep = {"seed": self.config.seed, "resolution": self.config.resolution,
                "discretize": self.config.discretize, "hinges": self.config.hinges}
        self.config = default_config(m.task).with_(**keep)
        self.playing = False
        self._forget_trace()
        self._load_data()
        self.box = self._auto_box()
        self._build_model()

    def _on_set_data(self, m):
        changes = {k: v for k, v in m.model_dump(exclude={"type"}).items() if v is not None}
        if self.config.dataset == CUSTOM and "dataset" not in changes:
            raise RelunetError("the data were edited by hand; choose a preset first")
        if "dataset" in changes:
            spec = DATASETS[changes["dataset"]]
            if spec.task != self.config.task:
                raise RelunetError(f"data set {spec.name!r} is for {spec.task}; switch the task first")
            changes.setdefault("n", spec.n)
            changes.setdefault("noise", spec.noise)
            changes.setdefault("classes", spec.classes)
            changes["points"] = None
        old = self.config.dataset
        self._set_config(**changes)
        self._load_data()
        if self.config.dataset != old:
            self.box = self._auto_box()
        if self._n_outputs() != self.model.n_outputs:
            self._build_model()
        self._data_changed()

    def _on_regenerate(self, m):
        if self.config.dataset == CUSTOM:
            raise RelunetError("hand-made data cannot be regenerated; choose a preset")
        self._set_config(data_seed=int(np.random.default_rng().integers(0, 2**31)))
        self._load_data()
        self._data_changed()

    def _on_set_split(self, m):
        self._set_config(test_fraction=m.test_fraction)
        self._data_changed()

    def _on_add_point(self, m):
        if len(self.X) >= P.MAX_POINTS:
            raise RelunetError(f"too many points (at most {P.MAX_POINTS:,})")
        p = m.point
        if self.config.task == "regression":
            self.X = np.vstack([self.X, [[p.x]]])
            self.y = np.append(self.y, float(p.y))
        else:
            self.X = np.vstack([self.X, [[p.x, p.y]]])
            self.y = np.append(self.y, np.int64(p.label)).astype(np.int64)
        self._points_changed()

    def _on_remove_point(self, m):
        if len(self.X) == 0:
            raise RelunetError("there is no point to remove")
        q = np.array([m.x] if self.config.task == "regression" else [m.x, m.y])
        if self.config.task == "regression":
            d = (self.X[:, 0] - m.x) ** 2 + (self.y - m.y) ** 2
        else:
            d = np.sum((self.X - q) ** 2, axis=1)
        i = int(np.argmin(d))
        self.X, self.y = np.delete(self.X, i, axis=0), np.delete(self.y, i)
        self._points_changed()

    def _on_clear_points(self, m):
        self.X, self.y = self.X[:0], self.y[:0]
        self.playing = False
        self._points_changed()

    def _on_set_points(self, m):
        self._replace_points(m.points)

    def _replace_points(self, pts):
        if self.config.task == "regression":
            self.X = np.array([[p.x] for p in pts], float).reshape(-1, 1)
            self.y = np.array([p.y for p in pts], float)
        else:
            self.X = np.array([[p.x, p.y] for p in pts], float).reshape(-1, 2)
            self.y = np.array([p.label for p in pts], np.int64)
        self.box = self._auto_box()
        self._points_changed()

    def _on_load_csv(self, m):
        task = self.config.task
        X, y = read_csv(m.text, task, name="CSV data")
        want = 1 if task == "regression" else 2
        if X.shape[1] != want:
            raise RelunetError(f"CSV data has {X.shape[1]} feature columns; the playground's {task} needs {want}")
        if len(X) > P.MAX_POINTS:
            raise RelunetError(f"CSV data has {len(X):,} rows; too many points (at most {P.MAX_POINTS:,})")
        if np.abs(X).max() > P.MAX_ABS or (task == "regression" and np.abs(y).max() > P.MAX_ABS):
            raise RelunetError(f"CSV data has values beyond +-{P.MAX_ABS:g}")
        if task == "classification" and (y.min() < 0 or y.max() >= P.MAX_CLASSES):
            raise RelunetError(f"CSV labels must be classes 0 to {P.MAX_CLASSES - 1}, got {int(y.min())} to "
                               f"{int(y.max())}")
        pts = [P.Point(x=float(X[i, 0]), y=float(y[i] if want == 1 else X[i, 1]),
                       label=0 if want == 1 else int(y[i])) for i in range(len(X))]
        self._replace_points(pts)

    def _on_set_network(self, m):
        self._set_config(layers=tuple(m.layers))
        self._build_model()

    def _on_set_training(self, m):
        changes = {k: getattr(m, k) for k in m.model_fields_set if k != "type"}
        old = self.config
        new = self._set_config(**changes)
        t = self.trainer
        if t is None:
            return None
        try:
            if new.optimizer != old.optimizer or (new.momentum != old.momentum and new.optimizer in ("momentum", "nesterov")):
                t.set_optimizer(new.optimizer, new.lr, new.momentum, new.weight_decay)
                self._optimizer = (self.model, new.optimizer, t.optimizer)
            if new.lr != old.lr:
                t.lr = new.lr
            if new.weight_decay != old.weight_decay:
                t.optimizer.weight_decay = new.weight_decay
            if new.batch_size != old.batch_size:
                t.batch_size = new.batch_size
            if new.schedule != old.schedule:
                t.schedule = make_schedule(new.schedule)
        except RelunetError:
            self.config = old
            raise
        self.status = None

    def _on_play(self, m):
        c = self.config
        self._ensure_trainer()
        if c.max_epochs is not None and self.epoch >= c.max_epochs:
            raise RelunetError(f"already at the maximum of {c.max_epochs} epochs; raise it or reset")
        self.playing = True
        self.status = None

    def _on_pause(self, m):
        self.playing = False
        self.dirty = True       # one full frame at the weights training stopped at (graph, thumbnails, exercise grade)

    def _on_step(self, m):
        t = self._ensure_trainer()
        work = m.updates * min(t.batch_size, len(t.X))
        if work > MAX_STEP_SAMPLES:
            raise RelunetError(f"{m.updates:,} updates of {min(t.batch_size, len(t.X)):,} tokens is too much for one "
                               f"step (at most {MAX_STEP_SAMPLES:,} tokens); press play instead")
        self.status = None
        left = m.updates
        while left > 0 and self.status is None:
            before = self.updates
            self._advance(left)
            if self.updates == before:
                break
            left -= self.updates - before

    def _on_step_epoch(self, m):
        t = self._ensure_trainer()
        self.status = None
        try:
            t.run_epoch()
        except DivergenceError as e:
            self.trainer = self._optimizer = None
            self._stop("error", f"Diverged: {e}")
        self.epoch, self.updates = t.epoch, t.updates
        self.dirty = True

    def _on_reset(self, m):
        self.model.initialize(self.config.seed)
        self.playing = False
        self._restart()

    def _on_new_seed(self, m):
        seed = m.seed if m.seed is not None else int(np.random.default_rng().integers(0, 2**31))
        self._set_config(seed=seed)
        self.model.initialize(seed)
        self.playing = False
        self._restart()

    def _on_set_view(self, m):
        changes = {}
        if m.resolution is not None:
            changes["resolution"] = m.resolution
        if m.discretize is not None:
            changes["discretize"] = m.discretize
        if m.hinges is not None:
            changes["hinges"] = m.hinges
        if m.exact is not None:
            changes["exact"] = m.exact
            self._exact.due = 0.0  # draw the overlay with the next frame
        if m.box is not None:
            x0, x1, y0, y1 = m.box
            if not (x1 - x0 > 1e-9 and y1 - y0 > 1e-9):
                raise RelunetError("view box must have x0 < x1 and y0 < y1")
            self.box = [float(v) for v in m.box]
        if "focus" in m.model_fields_set:
            f = m.focus
            if f is not None:
                self._check_unit(f.layer, f.unit)
            self.focus = None if f is None else (f.layer, f.unit)
        if "hidden" in m.model_fields_set:
            h = m.hidden
            if h is not None:
                self._check_unit(h.layer, h.i)
                self._check_unit(h.layer, h.j)
            self.hidden = None if h is None else (h.layer, h.i, h.j)
        if changes:
            self._set_config(**changes)
        self.dirty = True
        return [self.state()] if changes or m.box is not None else []

    def _check_unit(self, layer, unit):
        hidden = self.model.sizes[1:-1]
        if layer > len(hidden):
            raise RelunetError(f"hidden layer {layer} does not exist; the network has {len(hidden)}")
        if unit >= hidden[layer - 1]:
            raise RelunetError(f"hidden layer {layer} has {hidden[layer - 1]} units; there is no unit {unit}")

    def _on_edit_weight(self, m):
        lin = self._linear(m.layer)
        if m.row >= lin.out_features:
            raise RelunetError(f"layer {m.layer} has {lin.out_features} units; there is no row {m.row}")
        if m.col is None:
            lin.b[m.row] = m.value
        else:
            if m.col >= lin.in_features:
                raise RelunetError(f"layer {m.layer} has {lin.in_features} inputs; there is no column {m.col}")
            lin.W[m.row, m.col] = m.value
        self.dirty = True
        return [self.weights_message()]

    def _linear(self, layer):
        if layer > self.model.depth:
            raise RelunetError(f"layer {layer} does not exist; the network has {self.model.depth} weight layers")
        return self.model.linears[layer - 1]

    def _on_trace(self, m):
        out = self.trace(m.point)
        self.traced = m.point
        return [out]

    def _on_save_model(self, m):
        return [frames.model_frame(self.model_bytes())]

    def _on_load_model(self, m):
        try:
            data = base64.b64decode(m.data, validate=True)
        except ValueError:
            raise RelunetError("model file: not valid base64") from None
        model = from_bytes(data, "uploaded file", P.MODEL_LIMITS)
        self.load_model(model)

    def _on_export_weights(self, m):
        return [{"type": "export", "weights": self.export_weights()}]

    def _on_pwl_regions(self, m):
        with self.lock:
            return self.exact_items(force=True)

    def exact_items(self, force=False):
        """The exact regions overlay [JSON summary, binary REGIONS frame], when due (see overlay_worker.LiveOverlay).

        Computing the exact partition of a 2-64-64-3 net takes tens of milliseconds, so while training it is
        refreshed at most every EXACT_SECONDS. With `overlay` set (the driver's worker process) and the last one
        OFFLOAD_MS or more, it is computed there and sent when done, and this returns []: here it would hold the
        GIL, and the page's click would wait for it."""
        def snapshot():
            with self.lock:
                return self.model.copy(), list(self.box)
        return self._exact.items(snapshot, force, self._offload("A"))

    def _offload(self, run):
        """The overlay of run "A" or "B" computed elsewhere: session.overlay with the run's key, or None."""
        overlay = self.overlay
        return None if overlay is None else (lambda model, box, finish: overlay(run, model, box, finish))

    def _exact_on(self):
        return self.config.exact and self.config.task == "classification"

    # ============================================================================ model files
    def model_bytes(self):
        with self.lock:
            c = self.config
            training = {"optimizer": c.optimizer, "lr": c.lr, "momentum": c.momentum, "batch_size": c.batch_size,
                        "weight_decay": c.weight_decay, "schedule": c.schedule, "seed": c.seed,
                        "epochs": self.epoch, "updates": self.updates, "data": c.dataset, "source": "playground"}
            box = bounding_box(self.X) if len(self.X) else None
            return to_bytes(self.model, box=box, training=training)

    def load_model(self, model):
        """Use `model` (e.g. from a .npz file): its layers become the network, its weights the start."""
        with self.lock:
            if model.task != self.config.task:
                self._on_set_task(P.SetTask(type="set_task", task=model.task))
            want = 1 if model.task == "regression" else 2
            if model.n_inputs != want or (model.task == "regression" and model.n_outputs != 1):
                raise RelunetError(f"the playground's {model.task} needs {want} input(s) and "
                                   f"{'1 output' if want == 1 else 'class outputs'}; this model is {model.sizes}")
            if model.task == "classification" and len(self.y) and int(self.y.max()) >= model.n_outputs:
                raise RelunetError(f"the data have class {int(self.y.max())} but the model has "
                                   f"{model.n_outputs} classes")
            if len(model.sizes) - 2 > P.MAX_LAYERS or max(model.sizes[1:-1] or [1]) > P.MAX_UNITS:
                raise RelunetError(f"the playground shows at most {P.MAX_LAYERS} hidden layers of "
                                   f"{P.MAX_UNITS} units; this model is {model.sizes}")
            if model.classes is not None and not np.array_equal(model.classes, np.arange(model.n_outputs)):
                raise RelunetError(f"the playground's classes are 0..K-1; this model's are {model.classes.tolist()}")
            layers = tuple(P.Layer(units=u, activation=a) for u, a in zip(model.sizes[1:-1], model.activation_names))
            self._set_config(layers=layers)
            self.model = model.astype("float64") if model.dtype != np.float64 else model
            self.playing = False
            self._restart()

    def export_weights(self):
        with self.lock:
            m = self.model
            return {"sizes": m.sizes, "activations": m.activation_names, "task": m.task,
                    "classes": None if m.classes is None else m.classes.tolist(),
                    "layers": [{"W": lin.W.tolist(), "b": lin.b.tolist()} for lin in m.linears],
                    "convention": "z = x W^T + b; W has shape (out, in)"}

    # ============================================================================ back-propagation trace
    def trace(self, point):
        """The back-propagation trace (see backprop.trace_token) of one token at the current weights."""
        with self.lock:
            c = self.config
            if c.task == "regression":
                x, target = [point.x], float(point.y)
            else:
                if point.label >= self.model.n_outputs:
                    raise RelunetError(f"class {point.label} is not one of the model's {self.model.n_outputs} classes")
                x, target = [point.x, point.y], int(point.label)
            lr = self.trainer.lr if self.trainer else c.lr
            out = trace_token(self.model.copy(), np.array(x), target, lr, c.weight_decay)
            out["layers"] = [{k: _jsonable(v) for k, v in r.items()} for r in out["layers"]]
            return out

    def _forget_trace(self):
        if self.traced is not None:
            self.traced, self._trace_cleared = None, True

    def _retrace(self):
        """The traced token's trace at the current weights, or a message clearing it (its class is gone)."""
        try:
            return self.trace(self.traced)
        except RelunetError:
            self.traced = None
            return {"type": "trace", "cleared": True}

    # ============================================================================ frames
    def state(self):
        """Everything the page needs to redraw its controls and points."""
        with self.lock:
            c = self.config
            test = self.is_test
            if c.task == "regression":
                pts = [[float(x[0]), float(t), 0, bool(s)] for x, t, s in zip(self.X, self.y, test)]
            else:
                pts = [[float(x[0]), float(x[1]), int(t), bool(s)] for x, t, s in zip(self.X, self.y, test)]
            return {"type": "state", "config": c.model_dump(mode="json", exclude={"points"}),
                    "hash": encode_hash(c), "link_has_points": c.dataset != CUSTOM or c.points is not None,
                    "points": pts, "sizes": self.model.sizes, "activations": self.model.activation_names,
                    "classes": self.model.n_outputs if c.task == "classification" else 0,
                    "box": self.box, "playing": self.playing, "status": self.status, "run": self.run,
                    "focus": self.focus, "hidden": self.hidden,
                    "datasets": {k: {"task": s.task, "n": s.n, "noise": s.noise, "classes": s.classes,
                                     "has_classes": "classes" in s.options, "doc": s.doc}
                                 for k, s in DATASETS.items()}}

    def render(self):
        """The next frame: [binary map or curve, metrics dict, and (with every frame when not training, at
        most every SLOW_SECONDS while training) thumbnails, weights and the hidden view]."""
        with self.lock:
            self.dirty = False
            self.frame_no += 1
            now = time.perf_counter()
            slow = now >= getattr(self, "_slow_due", 0.0)
            if slow:
                self._slow_due = now + SLOW_SECONDS
            draw_map = self._map_job()
            out = [None, self.metrics()]
            if self.twin is not None:
                out += self.twin.render(self, slow)
            exact = self.config.exact and self.config.task == "classification"
            if slow or not self.playing:
                out.append(self.thumbs_frame())
                out.append(self.weights_message())
                if self.hidden is not None:
                    out.append(self.hidden_message())
                if self.traced is not None:
                    out.append(self._retrace())
                elif getattr(self, "_trace_cleared", False):
                    out.append({"type": "trace", "cleared": True})
                self._trace_cleared = False
                for hook in RENDER_HOOKS:
                    out += hook(self)
        out[0] = draw_map()     # without the lock: a message from the page is answered meanwhile
        if exact:
            out[2:2] = self.exact_items(force=not self.playing)
            twin = self.twin
            if twin is not None:
                out += twin.exact_items(self, force=not self.playing)
        return out

    def _map_job(self):
        """A function drawing the map frame from copies taken now (call it without the lock)."""
        with self.lock:
            c = self.config
            if c.task != "classification" or self.focus is not None:
                frame = self.map_frame()
                return lambda: frame
            m, grid, present = self.view_model().copy(), self.map_grid(), self.present_classes()
            res, box = c.resolution, list(self.box)
        return lambda: frames.map_frame(*views.decision_map(m, grid, present), m.n_outputs, res, box)

    def view_model(self):
        """A float32 copy of the model for drawing: maps need 3 digits, and float32 halves their cost."""
        v = getattr(self, "_view", None)
        if v is None or v[0] is not self.model:
            base = self.model.copy()    # made from the drawing weights: a plain float32 cast of huge ones overflows
            for lin, (W, b) in zip(base.linears, drawing_weights(self.model)):
                lin.W[...] = W
                lin.b[...] = b
            v = self._view = (self.model, base.astype("float32"))
        for view, (W, b) in zip(v[1].linears, drawing_weights(self.model)):
            view.W[...] = W
            view.b[...] = b
        return v[1]

    def map_frame(self):
        with self.lock:
            c = self.config
            if c.task == "regression":
                m, (x0, x1) = self.model, self.box[:2]
                xs, fs = views.curve(m, x0, x1, 400)
                return frames.curve_frame(xs, fs, views.breakpoints(m, x0, x1), self.box)
            m = self.view_model()
            res, grid = c.resolution, self.map_grid()
            if self.focus is not None and self.focus[0] <= len(m.sizes) - 2 and self.focus[1] < m.sizes[self.focus[0]]:
                layers, _ = views.hidden_excitations(m, grid)
                return frames.unit_frame(layers[self.focus[0] - 1][1][:, self.focus[1]], res, self.box)
            k, conf = views.decision_map(m, grid, self.present_classes())
            return frames.map_frame(k, conf, m.n_outputs, res, self.box)

    def map_grid(self):
        """The (res * res, 2) float32 grid of the map over the view box (kept while box and resolution stay)."""
        key = (tuple(self.box), self.config.resolution)
        if self._grid_key != key:
            self._grid_key, self._grid = key, views.grid(self.box, key[1]).astype(np.float32)
        return self._grid

    def present_classes(self):
        """The classes that have points: the map paints no class without data (None: no points at all)."""
        if self.config.task != "classification" or len(self.y) == 0:
            return None
        return np.unique(self.y)

    def thumbs_frame(self):
        with self.lock:
            m = self.view_model()
            if len(m.sizes) == 2:
                return frames.thumbs_frame([], 0, 0, self.box)
            if self.config.task == "regression":
                X = np.linspace(self.box[0], self.box[1], 64)[:, None]
                w, h = 64, 1
            else:
                X = views.grid(self.box, THUMB_RES)
                w = h = THUMB_RES
            return frames.thumbs_frame(views.unit_values(m, X, THUMB_UNITS), w, h, self.box)

    def weights_message(self):
        """Weights for the network graph (first GRAPH_UNITS units per layer) and every first-layer hinge."""
        with self.lock:
            m = self.model
            g = GRAPH_UNITS
            W1, b1 = views.first_layer_lines(m)
            return {"type": "weights", "sizes": m.sizes, "activations": m.activation_names,
                    "W": [lin.W[:g, :g].tolist() for lin in m.linears], "b": [lin.b[:g].tolist() for lin in m.linears],
                    "hinges": {"W": W1.tolist(), "b": b1.tolist()} if len(m.sizes) > 2 else None}

    def hidden_message(self):
        with self.lock:
            layer, i, j = self.hidden
            m = self.view_model()
            if layer > len(m.sizes) - 2 or max(i, j) >= m.sizes[layer]:
                self.hidden = None
                return {"type": "hidden", "lines": [], "points": []}
            lines, pts = views.hidden_space(m, layer, i, j, self.box, self.X)
            return {"type": "hidden", "layer": layer, "i": i, "j": j,
                    "lines": [np.round(p, 5).tolist() for p in lines],
                    "points": [] if pts is None else np.round(pts, 5).tolist()}

    def metrics(self):
        """Loss and accuracy (or MSE and R^2) on the training and test points, now; counters and rates."""
        with self.lock:
            c, m = self.config, self.model
            Xtr, ytr, Xte, yte = self._split()
            ups, sps = self.rates()
            t = self.trainer
            n_train = max(len(Xtr), 1)
            pos = 0 if t is None else t.epoch_position
            out = {"type": "metrics", "run": self.run, "epoch": self.epoch, "updates": self.updates,
                   "epoch_float": self.epoch + pos / n_train, "updates_per_s": ups, "samples_per_s": sps,
                   "lr": t.lr if t is not None else c.lr, "playing": self.playing, "status": self.status,
                   "train": self._evaluate(Xtr, ytr), "test": self._evaluate(Xte, yte)}
            return out

    def _evaluate(self, X, y, model=None):
        if len(X) == 0:
            return None
        m = model or self.model
        with np.errstate(all="ignore"):
            r = evaluate_encoded(m, X, m.encode_labels(y))
        return {k: (_finite(v) if isinstance(v, float) else v) for k, v in r.items()}


def _finite(v):
    return v if math.isfinite(v) else None


def _jsonable(v):
    if isinstance(v, np.ndarray):
        if v.size > TRACE_FULL:
            v = v[:16, :16] if v.ndim == 2 else v[:256]
        return v.tolist()
    return v


#: Weights beyond this magnitude are rescaled before the float32 drawing copy (float32 overflows at 3.4e38).
DRAWING_SAFE = 1e6
_HOMOGENEOUS = ("relu", "leaky_relu", "identity")


def drawing_weights(model):
    """[(W, b), ...] for the float32 drawing copy, finite and small enough that its forward pass cannot overflow.

    After a divergence the weights may be huge (or, from a bad file, not finite): a plain float32 copy then
    overflows and the map goes flat. A positive factor passes through ReLU, leaky ReLU and identity units, so for
    those networks the layers are rescaled: W_l / s_l and b_l / (s_1 ... s_l) give z_l / (s_1 ... s_l) in every
    layer, every logit is scaled by one positive number, and the decision map (the argmax) is exactly the
    model's. Other activations are clipped.
    """
    layers = [(lin.W, lin.b) for lin in model.linears]
    if all(np.isfinite(W).all() and np.isfinite(b).all() and np.abs(W).max(initial=0.0) <= DRAWING_SAFE
           and np.abs(b).max(initial=0.0) <= DRAWING_SAFE for W, b in layers):
        return layers
    big = np.finfo(np.float64).max
    layers = [(np.nan_to_num(W, nan=0.0, posinf=big, neginf=-big), np.nan_to_num(b, nan=0.0, posinf=big, neginf=-big))
              for W, b in layers]
    if not all(a in _HOMOGENEOUS for a in model.activation_names):
        return [(np.clip(W, -DRAWING_SAFE, DRAWING_SAFE), np.clip(b, -DRAWING_SAFE, DRAWING_SAFE)) for W, b in layers]
    out, scale = [], 1.0          # scale: s_1 ... s_(l-1), the factor z_(l-1) was divided by
    with np.errstate(over="ignore", under="ignore"):
        for W, b in layers:
            bs = b / scale
            s = max(np.abs(W).max(initial=0.0), np.abs(bs).max(initial=0.0)) or 1.0
            out.append((W / s, bs / s))
            scale *= s
    return out
