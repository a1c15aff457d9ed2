"""``Playground``: relunet's playground as a notebook widget, with the engine in the kernel.

The widget owns one playground Session (the page's, unchanged) and a Driver that trains and renders it in a
thread. The browser side is the page's own app mounted in the cell (widget.js); the transport is the widget's
comm: JSON messages as its content, binary frames (maps, thumbnails, exact regions) as its buffers. Every
message from the view goes through the same validation as on the page, and so does every Python call:
``w.set(lr=0.1)`` is the page's ``set_training`` message. A mistake from the view comes back to the view as
an error message; a mistake from Python raises RelunetError. Either way the session is left as it was.
"""

import contextlib
import json
import re
import threading
import time
from pathlib import Path

import anywidget
import numpy as np

from ..data import DATASETS
from ..engine.errors import RelunetError
from ..engine.train import History
from ..playground import protocol as P
from ..playground.driver import MAX_BACKLOG, Driver, dumps, respond
from ..playground.protocol import ProtocolError, parse_message
from ..playground.session import Session
from ..threads import auto_threads, limit_blas_threads
from .esm import bundle

HERE = Path(__file__).parent
STATIC = HERE.parent / "playground" / "static"
PACE_SECONDS = 0.1  # frames go at least this far apart while the view does not acknowledge them

# Python keyword -> where it goes: one page message per group, applied in this order
_TRAINING = ("optimizer", "lr", "momentum", "batch_size", "weight_decay", "schedule", "target_loss", "max_epochs")
_DATA = ("n", "noise", "classes")
_VIEW = ("resolution", "discretize", "hinges", "exact")
SETTINGS = ("task", "data", *_DATA, "test_fraction", "hidden", "activation", *_TRAINING, "seed", *_VIEW)


class Playground(anywidget.AnyWidget):
    """The playground in a notebook cell; the model trains in this kernel.

    Args (all optional; the page's defaults otherwise):
        data: a data set name ("lecture", "spiral", "circles", "sine", ...) or (X, y) arrays: X (N, 2) with
            class labels y in 0..9 for classification, X (N, 1) or (N,) with float targets y for regression.
        task: "classification" or "regression" (implied by data when given).
        n, noise, classes: the generated data's size, noise and number of classes.
        test_fraction: the share of the points held out for testing (0 to 0.9).
        hidden: hidden layer widths, e.g. [16, 16] ([] is the linear classifier).
        activation: the hidden activation, or one per hidden layer.
        optimizer, lr, momentum, batch_size, weight_decay, schedule, target_loss, max_epochs: training settings.
        seed: the seed of the initial weights.
        resolution, discretize, hinges, exact: the decision map's settings.

    Attributes:
        model: the live relunet MLP (assign an MLP to use it instead).
        data: (X, y), the current points including those clicked in (assign (X, y) to replace them).
        history: the per-epoch History of the current run.
    """

    _esm = bundle(HERE / "widget.js")
    _css = (STATIC / "style.css").read_text(encoding="utf-8")

    def __init__(self, data=None, **settings):
        super().__init__()
        self._session = Session()
        self._lock = self._session.lock
        self._history, self._run, self._tracked = History(), None, [None, 0]
        self._frames_sent = self._frames_acked = 0
        self._last_frame = time.monotonic()
        self._python_training = 0
        self._send_lock = threading.Lock()
        if data is not None:
            settings["data"] = data
        self._apply(_messages(settings, self._session.config))
        self._driver = Driver(self._session, self._post, self._backlog)
        self.on_msg(self._on_view_message)
        self._driver.start()

    # ================================================================================= Python side
    @property
    def model(self):
        """The live model: training in the view changes its weights in place."""
        return self._session.model

    @model.setter
    def model(self, model):
        with self._lock:
            self._session.load_model(model)
        self._changed([self._session.state()])

    @property
    def data(self):
        """(X, y): copies of the current points, clicked ones included. X (N, 2) or (N, 1); y (N,)."""
        with self._lock:
            return self._session.X.copy(), self._session.y.copy()

    @data.setter
    def data(self, value):
        self.set(data=value)

    @property
    def history(self):
        """The current run's History (one record per finished epoch; a reset starts a new one)."""
        with self._lock:
            self._sync_history()
            return self._history

    @property
    def config(self):
        """The experiment's settings (the page's Config, as in its link)."""
        return self._session.config

    def set(self, **settings):
        """Change settings (the keyword arguments of Playground); the view follows. Weights are kept unless
        the network or the data's number of classes changes."""
        self._apply(_messages(settings, self._session.config))
        return self

    def train(self, epochs=1):
        """Train `epochs` whole epochs here (the view follows after each); returns the History."""
        epochs = _count("epochs", epochs)
        self.pause()
        with self._training():
            for _ in range(epochs):
                self._apply([{"type": "step_epoch"}])
                status = self._session.status
                if status and status["level"] == "error":
                    raise RelunetError(status["message"])
        return self.history

    def step(self, updates=1):
        """Do `updates` optimizer updates (one mini-batch each)."""
        with self._training():
            self._apply([{"type": "step", "updates": _count("updates", updates)}])
        return self

    def reset(self):
        """Start again from the same initial weights (the seed's)."""
        self._apply([{"type": "reset"}])
        return self

    def play(self):
        """Train in the background, as the Play button does; pause() stops."""
        self._apply([{"type": "play"}])
        return self

    def pause(self):
        if self._session.playing:
            self._apply([{"type": "pause"}])
        return self

    def close(self):
        driver = getattr(self, "_driver", None)
        if driver is not None:
            driver.close()
        _SmallBlas.update(self, closed=True)
        super().close()

    def __repr__(self):
        c = self._session.config
        return (f"Playground({c.task}, data={c.dataset!r} ({len(self._session.X)} points), "
                f"network {'-'.join(map(str, self._session.model.sizes))}, epoch {self._session.epoch})")

    @contextlib.contextmanager
    def _training(self):
        """Python drives training (train, step): the small-BLAS limit holds meanwhile."""
        self._python_training += 1
        self._sync_threads()
        try:
            yield
        finally:
            self._python_training -= 1
            self._sync_threads()

    def _apply(self, messages):
        """Validate every message first (nothing changes on a mistake), then apply them in order."""
        parsed = []
        for msg in messages:
            try:
                parsed.append(parse_message(json.dumps(msg)))
            except ProtocolError as e:
                raise RelunetError(_python_words(e)) from None
        replies = []
        with self._lock:
            for m in parsed:
                self._sync_history()
                try:
                    replies += self._session.handle(m)
                except (RelunetError, ProtocolError) as e:
                    raise RelunetError(_python_words(e)) from None
                finally:
                    self._sync_history()
        self._changed(replies)

    def _changed(self, replies):
        self._sync_threads()
        for r in replies:
            self._post(r)
        self._session.dirty = True
        if hasattr(self, "_driver"):
            self._driver.wake.set()
            self._driver.drained()      # a frame is due if the view has caught up, or the pace allows one

    def _sync_history(self):
        """Collect the epoch records of the session's trainers (it makes a new one when the data change)."""
        s = self._session
        if s.run != self._run:
            self._history, self._run, self._tracked = History(), s.run, [None, 0]
        trainer, seen = self._tracked
        if trainer is not None:
            for i in range(seen, len(trainer.history)):
                self._history.append({f: getattr(trainer.history, f)[i] for f in History.FIELDS})
        if s.trainer is not trainer:
            trainer = s.trainer
            seen = 0
            if trainer is not None:
                for i in range(len(trainer.history)):
                    self._history.append({f: getattr(trainer.history, f)[i] for f in History.FIELDS})
        self._tracked = [trainer, len(trainer.history) if trainer is not None else 0]

    # ================================================================================= view side
    def _on_view_message(self, _widget, content, buffers):
        """A message from the view (the page's app): acknowledgements, hello, or a page message."""
        if not isinstance(content, dict) or content.get("kind") == "anywidget-command":
            return
        kind = content.get("type")
        if kind == "ack":
            with self._send_lock:
                self._frames_acked += 1
            self._driver.drained()
            return
        if kind == "hello":
            # A view (re)appeared: it gets the session as it is, never a fresh one (the page's hello resets).
            with self._send_lock:
                self._frames_sent = self._frames_acked = 0
            self._changed([self._session.state()])
            return
        with self._lock:
            self._sync_history()
            replies = respond(self._session, content)
            self._sync_history()
        self._changed(replies)

    def _post(self, item):
        """Send one reply or frame to the view(s): a dict as the comm's content, bytes as its buffer."""
        if isinstance(item, (bytes, bytearray, memoryview)):
            with self._send_lock:
                self._frames_sent += 1
                self._last_frame = time.monotonic()
            self.send({"type": "frame"}, buffers=[bytes(item)])
        else:
            if item.get("type") == "state":
                self._sync_threads()        # training may have stopped by itself (a stop rule, divergence)
            self.send(json.loads(dumps(item)))

    def _sync_threads(self):
        """Hold the one-BLAS-thread limit while this widget trains a small network (see _SmallBlas)."""
        _SmallBlas.update(self)

    def _trains_small(self):
        s = self._session
        return (s.playing or self._python_training > 0) and auto_threads(s.model.sizes, s.config.batch_size) == 1

    def _backlog(self):
        """Frames sent but not yet drawn, which holds the driver back (see playground.driver.MAX_BACKLOG).

        The view acknowledges every frame it draws. When acknowledgements stop coming, the view is slow or
        gone, or the kernel is busy running a cell (it reads no comm messages until the cell ends, e.g. during
        ``w.train(epochs=100)``): then frames go at a modest fixed pace, PACE_SECONDS apart."""
        with self._send_lock:
            waiting = self._frames_sent - self._frames_acked
            if waiting > MAX_BACKLOG and time.monotonic() - self._last_frame >= PACE_SECONDS:
                return 0
            return waiting


class _SmallBlas:
    """One BLAS thread for the kernel while any widget trains a small network, restored when none does.

    BLAS's threads make the playground's small products several times slower (relunet.threads; measured here:
    7 map frames/s instead of 17 on a busy 2-core machine). The limit is process-wide, so it holds only while
    training runs: the notebook's own NumPy work gets every thread back on pause."""

    lock = threading.Lock()
    holders = set()
    limiter = None

    @classmethod
    def update(cls, owner, closed=False):
        """Take or give back owner's hold, by what it does now (decided under the lock, so the last call wins)."""
        with cls.lock:
            if not closed and owner._trains_small():
                cls.holders.add(owner)
            else:
                cls.holders.discard(owner)
            if cls.holders and cls.limiter is None:
                cls.limiter = limit_blas_threads(1) or False
            elif not cls.holders and cls.limiter is not None:
                if cls.limiter:
                    cls.limiter.restore_original_limits()
                cls.limiter = None


# ===================================================================================== settings -> messages
def _messages(settings, config):
    """The page messages that apply Python keyword settings to a session with `config`, in a safe order."""
    unknown = sorted(set(settings) - set(SETTINGS))
    if unknown:
        raise RelunetError(f"Playground: unknown setting {unknown[0]!r}; the settings are: {', '.join(SETTINGS)}")
    s = {k: _plain(v) for k, v in settings.items() if k != "data"}
    data = settings.get("data")
    out = []
    points = None
    if isinstance(data, str):
        spec = DATASETS.get(data)
        if spec is None:
            raise RelunetError(f"Playground: unknown data set {data!r}; choose one of: {', '.join(DATASETS)}")
        s.setdefault("task", spec.task)
    elif data is not None:
        points, data_task = _points(data)
        s.setdefault("task", data_task)
    new_task = s.get("task", config.task)
    if new_task != config.task:
        out.append({"type": "set_task", "task": new_task})
    if isinstance(data, str) or any(k in s for k in _DATA):
        msg = {"type": "set_data", **{k: s[k] for k in _DATA if k in s}}
        if isinstance(data, str):
            msg["dataset"] = data
        out.append(msg)
    if points is not None:
        if points and new_task == "classification" and len(points[0]) != 3 or (
                points and new_task == "regression" and len(points[0]) != 2):
            raise RelunetError(f"Playground: data (X, y) do not fit the task {new_task!r}")
        keys = ("x", "y", "label") if new_task == "classification" else ("x", "y")
        out.append({"type": "set_points", "points": [dict(zip(keys, p)) for p in points]})
    if "test_fraction" in s:
        out.append({"type": "set_split", "test_fraction": s["test_fraction"]})
    if "hidden" in s or "activation" in s:
        out.append({"type": "set_network", "layers": _layers(s.get("hidden"), s.get("activation"), config)})
    training = {k: s[k] for k in _TRAINING if k in s}
    if training:
        out.append({"type": "set_training", **training})
    if "seed" in s:
        out.append({"type": "new_seed", "seed": s["seed"]})
    view = {k: s[k] for k in _VIEW if k in s}
    if view:
        out.append({"type": "set_view", **view})
    return out


def _layers(hidden, activation, config):
    """The set_network layers: widths from `hidden` (else the current ones), activations likewise."""
    if hidden is None:
        hidden = [layer.units for layer in config.layers]
    if isinstance(hidden, int):
        hidden = [hidden]
    if not isinstance(hidden, (list, tuple)):
        raise RelunetError(f"Playground: hidden must be a list of layer widths, e.g. [16, 16]; got {hidden!r}")
    if activation is None:
        activation = config.layers[0].activation if config.layers else "relu"
    acts = activation if isinstance(activation, (list, tuple)) else [activation] * len(hidden)
    if len(acts) != len(hidden):
        raise RelunetError(f"Playground: {len(acts)} activations for {len(hidden)} hidden layers")
    return [{"units": u, "activation": a} for u, a in zip(hidden, acts)]


def _points(data):
    """(X, y) arrays -> list of point tuples and the task they imply."""
    try:
        X, y = data
    except (TypeError, ValueError):
        raise RelunetError("Playground: data must be a data set name or a pair (X, y)") from None
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] not in (1, 2):
        raise RelunetError(f"Playground: X must have shape (N, 2) (classification) or (N, 1) (regression); "
                           f"got {X.shape}")
    if y.shape != (len(X),):
        raise RelunetError(f"Playground: y must have shape ({len(X)},), one label or target per row of X; "
                           f"got {y.shape}")
    if len(X) > P.MAX_POINTS:
        raise RelunetError(f"Playground: {len(X):,} points; the playground takes at most {P.MAX_POINTS:,}")
    if not (np.issubdtype(X.dtype, np.number) and np.issubdtype(y.dtype, np.number)):
        raise RelunetError("Playground: X and y must be numbers")
    X = X.astype(float)
    if X.shape[1] == 1:
        return [(float(a), float(b)) for a, b in zip(X[:, 0], y.astype(float))], "regression"
    if not np.all(np.equal(np.mod(y, 1), 0)):
        raise RelunetError("Playground: class labels y must be whole numbers 0 to 9")
    return [(float(a), float(b), int(c)) for (a, b), c in zip(X, y)], "classification"


def _python_words(error):
    """The page's sentence for a refused message, with its field names as Playground's keywords."""
    text = re.sub(r"\blayers\.(\d+)\.units\b", r"hidden[\1]", str(error))
    text = re.sub(r"\blayers\.(\d+)\.activation\b", r"activation[\1]", text)
    text = re.sub(r"\blayers\b", "hidden", text)
    text = re.sub(r"\bpoints\.(\d+)\.label\b", r"y[\1]", text)
    return f"Playground: {text}"


def _plain(v):
    """numpy scalars (and lists of them) as Python numbers, so they travel as JSON like the page's."""
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.ndarray):
        return [_plain(x) for x in v.tolist()]
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _count(name, value):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
        raise RelunetError(f"Playground: {name} must be a positive whole number, got {value!r}")
    return int(value)
