"""One session's traffic, independent of the transport: a WebSocket (server.py) or a Jupyter comm (a widget).

    respond(session, message) -> replies     one message from the page (JSON text or a dict), always answered:
                                            the session's replies, or an error sentence (and the state, so the
                                            page's controls snap back to what the session holds)
    Driver(session, sink)                   a thread that trains while the session plays and renders a frame
                                            after every training slice or change; every reply and frame goes
                                            to sink(item): a dict (JSON message) or bytes (a binary frame)

The exact regions overlay (session.exact_items) is computed in a worker process shared by every Driver of this
process (overlay_worker.py), started with the first overlay and shut down when the last Driver closes; its
summary and REGIONS frame go to sink when done. overlay_process=False keeps it in the driver's thread.

The transport only moves items: the WebSocket server wraps `sink` around its send queue, a widget around
its comm's send. `backlog()` (items queued but not yet delivered) lets a slow page hold the training back: a page
that stops reading costs nothing, since above MAX_BACKLOG the driver drops the frame it would have drawn
(counted in `dropped`) and sleeps on an event, without polling, until the transport calls `drained()`.
"""

import json
import logging
import math
import threading
import time

from ..engine.errors import RelunetError
from . import overlay_worker
from .protocol import ProtocolError, parse_message

FRAME_SECONDS = 1 / 25      # aim: 25 frames per second while training
MAX_BACKLOG = 3             # frames waiting to be delivered before training pauses for the page to catch up
log = logging.getLogger("relunet.playground")


def respond(session, message):
    """Validate and apply one message; returns the list of replies (dicts and bytes). Never raises."""
    try:
        m = parse_message(message if isinstance(message, (str, bytes, bytearray)) else json.dumps(message))
        return session.handle(m)
    except (ProtocolError, RelunetError) as e:
        return [error(str(e)), session.state()]
    except Exception as e:  # a bug must not take the tab's session down with it
        log.exception("playground: message failed")
        return [error(f"internal error ({type(e).__name__}: {e}); the session is unchanged")]


def error(message):
    return {"type": "error", "message": message}


class Driver:
    """Trains `session` in a daemon thread while it plays; sends replies and frames to `sink`.

    sink(item) is called from the driver's thread and from the thread that calls receive(); it must be
    thread-safe (a queue's put, or loop.call_soon_threadsafe). backlog() returns how many items the
    transport still holds; above MAX_BACKLOG the driver waits before rendering the next frame.
    """

    def __init__(self, session, sink, backlog=None, overlay_process=True):
        self.session, self.sink = session, sink
        self._overlay = None                # the shared exact-overlay worker, taken on this session's first overlay
        self._overlay_lock = threading.Lock()
        if overlay_process:
            session.overlay = self._offload
        self.dropped = 0                    # frames not drawn because the page had not taken the earlier ones
        self._drained = threading.Event()
        self._quiet = threading.Event()     # cleared while a message from the page is being answered
        self._quiet.set()
        session.dirty = False       # the first frame answers the page's first message (hello), not before it
        self.backlog = backlog or (lambda: 0)
        self.wake = threading.Event()
        self.closed = False
        self.thread = threading.Thread(target=self._run, name="relunet-playground", daemon=True)

    def start(self):
        self.thread.start()
        return self

    def receive(self, message):
        """Apply one message from the page and send its replies. Training steps aside meanwhile (it stops at its
        next chunk and waits): the reply needs the session's lock and the interpreter, and the page waits for it."""
        self._quiet.clear()
        try:
            for r in respond(self.session, message):
                self.sink(r)
        finally:
            self._quiet.set()
        self.wake.set()

    def drained(self):
        """The transport delivered items: if the backlog is short again, training and drawing go on."""
        if self.backlog() <= MAX_BACKLOG:
            self._drained.set()

    def close(self):
        self.closed = True
        self.session.playing = False
        if self.session.overlay == self._offload:   # a later Driver of the same session keeps its own
            self.session.overlay = None
        self.wake.set()
        self._drained.set()
        with self._overlay_lock:
            worker, self._overlay = self._overlay, None
        if worker is not None:
            overlay_worker.release(worker)

    def _offload(self, run, model, box, finish):
        """session.overlay: the exact overlay of `run` computed in the worker process, its items sent when done."""
        with self._overlay_lock:
            if self.closed:
                return False
            if self._overlay is None:
                self._overlay = overlay_worker.acquire()
            worker = self._overlay

        def done(result):
            if not self.closed:
                for item in finish(result):
                    self.sink(item)

        return worker.submit((self, run), model, box, done)

    def _run(self):
        s = self.session
        render_seconds = 0.01
        while not self.closed:
            if not (s.playing or s.dirty):
                self.wake.wait(0.5)
                self.wake.clear()
                continue
            was_playing = s.playing
            try:
                if s.playing:
                    self._quiet.wait(1.0)
                    s.train_for(max(0.005, FRAME_SECONDS - render_seconds), until=self._quiet)
                if self.backlog() > MAX_BACKLOG:
                    # the page is behind: drop this frame and sleep until the transport catches up
                    self.dropped += 1
                    while self.backlog() > MAX_BACKLOG and not self.closed:
                        self._drained.clear()
                        if self.backlog() > MAX_BACKLOG:
                            self._drained.wait(1.0)
                    continue
                self._quiet.wait(1.0)           # a message being answered goes first
                t0 = time.perf_counter()
                items = s.render()
            except Exception as e:  # a bug in training or drawing: stop this tab's training, keep the tab
                log.exception("playground: training or drawing failed")
                s.playing, s.dirty = False, False
                self.sink(error(f"internal error while training ({type(e).__name__}: {e}); training paused"))
                continue
            render_seconds = 0.8 * render_seconds + 0.2 * (time.perf_counter() - t0)
            for item in items:
                self.sink(item)
            if was_playing and not s.playing:
                self.sink(s.state())        # training stopped by itself: the page updates its buttons


def dumps(obj):
    """JSON without NaN/Infinity (which JavaScript's JSON.parse refuses): they become null."""
    try:
        return json.dumps(obj, allow_nan=False, separators=(",", ":"))
    except ValueError:
        return json.dumps(_finite(obj), allow_nan=False, separators=(",", ":"))


def _finite(o):
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    return o
