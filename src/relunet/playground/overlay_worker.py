"""The exact regions overlay computed in another process, so it never holds the server's GIL.

relunet.pwl partitions a 2-64-64-3 net's plane (about 6,000 regions) in Python and NumPy in tens of
milliseconds. Computed in the driver's thread, that time holds the GIL: the thread that must read a click,
apply it and send the new state waits meanwhile, in 5 ms switch intervals. One worker process, shared by every
session of the server (or of a notebook kernel), computes the overlays instead:

    worker = acquire()                          the shared OverlayWorker; its process starts with its first job
    worker.submit(key, model, box, done)        latest wins: a job still waiting under `key` is replaced (it
                                                keeps its place in line), never queued behind; done((summary,
                                                frame)) is called later from the worker's own thread
    release(worker)                             the last user gone, the process is shut down

The process is a fresh Python running this module's main(), fed pickled
jobs on its stdin: never a fork of the threaded server (which may copy a lock held by another thread), and never
multiprocessing's "spawn", which re-runs the parent's main script (a script calling serve() without a
`__main__` guard would start a second server). It exits by itself when its stdin closes (the server ended,
even by a kill), and it ignores Ctrl+C, which the terminal sends to the whole process group: the server shuts it
down. When no process can be started, or it dies, the job is computed in the worker's thread instead (holding the
GIL, as before this module): the page always gets its overlay.
"""

import logging
import os
import pickle
import subprocess
import sys
import threading
import time

import numpy as np

from . import frames
from .regions import exact_overlay, failed, unavailable_reason

log = logging.getLogger("relunet.playground")
MAX_FAILURES = 3        # processes that may fail to start or die before the overlays stay in this process
EXACT_SECONDS = 0.15    # a run's overlay is refreshed at most this often while training (about 6 times a second)
# An overlay goes to the worker process once the run's last one took this long: a small net's takes a millisecond
# or two, less than the trip to another process, and needs no process at all.
OFFLOAD_MS = 10.0


def compute(model, box):
    """(summary, REGIONS frame or None) of `model` in `box`; never raises (a failure is an unavailable summary)."""
    try:
        with np.errstate(all="ignore"):     # weights that diverged to inf or NaN: the overlay shows what it can
            return exact_overlay(model, box)
    except Exception as e:  # a model that breaks the geometry must not take the session (or the worker) down
        log.exception("playground: exact regions failed")
        return failed(e), None


class LiveOverlay:
    """The exact overlay of one run (the session's, or run B of a comparison): when the next is due, where it is
    computed, and which result is stale.

    items(snapshot, force, offload) -> the overlay's items [summary, REGIONS frame] computed now, or [] when it is
    not due (while training: EXACT_SECONDS apart, or 1.5 times its own cost apart for larger nets, and never while
    the last one is away) or went to `offload(model, box, finish)`, which computes it elsewhere and sends
    finish(result)'s items itself. A result is dropped (finish returns []) when a later one went out first, or the
    overlay was switched off (`is_on()`) meanwhile. Run B's items are flagged: "twin": true, frame kind | TWIN.
    """

    def __init__(self, is_on, twin=False):
        self.is_on, self.twin = is_on, twin
        self.due = 0.0              # perf_counter time before which no unforced overlay is made
        self.asked = self.sent = 0  # numbers of the last overlay asked for, and sent
        self.away = False           # one is being computed elsewhere
        self.ms = 0.0               # what the last one took to compute
        self._lock = threading.Lock()

    def items(self, snapshot, force=False, offload=None):
        """snapshot() -> (model, box): copies, taken only when an overlay is due (they are read later)."""
        with self._lock:
            now = time.perf_counter()
            if not force and (now < self.due or self.away):
                return []
            self.due = now + EXACT_SECONDS
            self.asked += 1
            asked, on = self.asked, self.is_on()
        model, box = snapshot()
        finish = lambda result: self._finished(asked, now, on, result)  # noqa: E731
        if offload is not None and self.ms >= OFFLOAD_MS and unavailable_reason(model) is None:
            self.away = True        # while training, the next one is asked for when this one is back
            if offload(model, box, finish):
                return []
            self.away = False
        return finish(compute(model, box))

    def _finished(self, asked, t0, on, result):
        msg, frame = result
        with self._lock:
            self.away = False
            self.ms = msg.get("ms", self.ms)
            if asked < self.sent or (on and not self.is_on()):
                return []
            self.sent = asked
            # 1.5 times its cost apart: here it takes at most 40% of the thread's time; in the worker, of a core
            # that the training thread, the page and the browser share on a small machine (measured on 2 cores:
            # overlays back to back, 1.0 times apart, made the page's clicks slower, 52-264 ms against 32-112 ms)
            self.due = max(self.due, t0 + 1.5 * (time.perf_counter() - t0))
        if self.twin:
            msg, frame = {**msg, "twin": True}, frame and frames.as_twin(frame)
        return [msg] + ([frame] if frame is not None else [])


def main():
    """The worker process: read pickled (model, box) jobs from stdin and write compute(model, box) to stdout, until
    stdin closes (the server stopped it, or ended)."""
    import os
    import signal
    import sys

    from ..threads import limit_blas_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_blas_threads()            # as the server: one BLAS thread is fastest for these small matrices
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)                   # a stray print goes to stderr, never into the answers
    while True:
        try:
            model, box = pickle.load(sys.stdin.buffer)
        except EOFError:
            return
        pickle.dump(compute(model, box), out, pickle.HIGHEST_PROTOCOL)
        out.flush()


class OverlayWorker:
    """One worker process and the thread that feeds it, for any number of sessions (keys).

    command: how to start the process (default: this module run by this Python, with this process's sys.path)."""

    def __init__(self, command=None):
        self.command = command or [sys.executable, "-c", f"from {__name__} import main; main()"]
        self.failures = 0               # processes that could not start or died
        self.process = None
        self._jobs = {}                 # key -> (model, box, done); dict order is the order of first submission
        self._cond = threading.Condition()
        self._thread = None
        self._closed = False

    def submit(self, key, model, box, done):
        """Queue the overlay of `model` in `box` for `key`, replacing a job of `key` not yet started.

        done((summary, frame)) is called from the worker's thread. Returns False when the worker is closed."""
        with self._cond:
            if self._closed:
                return False
            self._jobs[key] = (model, box, done)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="relunet-overlay", daemon=True)
                self._thread.start()
            self._cond.notify()
        return True

    def close(self):
        """Stop the thread and the process (jobs still waiting are dropped)."""
        with self._cond:
            self._closed = True
            self._jobs.clear()
            self._cond.notify()
        p = self.process
        if p is not None:
            p.kill()                    # a job in progress ends: the thread reads EOF and returns
        t = self._thread
        if t is not None and t is not threading.current_thread():
            t.join(timeout=5)
        self._stop_process()

    def _run(self):
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                key = next(iter(self._jobs))
                model, box, done = self._jobs.pop(key)
            result = self._compute(model, box)
            if result is None:          # closed meanwhile
                return
            try:
                done(result)
            except Exception:
                log.exception("playground: delivering the exact regions failed")

    def _compute(self, model, box):
        if self.failures < MAX_FAILURES:
            try:
                p = self._started()
                pickle.dump((model, box), p.stdin, pickle.HIGHEST_PROTOCOL)
                p.stdin.flush()
                return pickle.load(p.stdout)    # waits without the GIL
            except Exception as e:
                if self._closed:
                    return None
                self.failures += 1
                self._stop_process()
                log.warning("playground: the exact regions worker failed (%s: %s); computing in this process",
                            type(e).__name__, e)
        return None if self._closed else compute(model, box)

    def _started(self):
        if self.process is None or self.process.poll() is not None:
            self._stop_process()
            env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}   # imports as here
            p = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            with self._cond:
                if self._closed:        # close() came while starting: it found no process to stop
                    p.kill()
                    p.wait(timeout=5)
                    raise RuntimeError("closed")
                self.process = p
        return self.process

    def _stop_process(self):
        p, self.process = self.process, None
        if p is not None:
            if p.poll() is None:
                p.stdin.close()         # the process reads EOF and ends
                try:
                    p.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(timeout=5)
            for f in (p.stdin, p.stdout):
                f.close()


_shared = None
_users = 0
_shared_lock = threading.Lock()


def acquire():
    """The worker shared by this process's sessions (made on first use); pair every call with release()."""
    global _shared, _users
    with _shared_lock:
        if _shared is None:
            _shared = OverlayWorker()
        _users += 1
        return _shared


def release(worker):
    """One user fewer; the last one shuts the worker's process down."""
    global _shared, _users
    with _shared_lock:
        if worker is not _shared:
            return
        _users -= 1
        if _users > 0:
            return
        _shared = None
    worker.close()
