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

The process is started with the "spawn" context: "fork" in a threaded server may copy a lock held by another
thread. It exits by itself when the server's end of its pipe closes (the server ended, even by a kill), and it
ignores Ctrl+C, which the terminal sends to the whole process group: the server shuts it down. When no process can
be started, or it dies, the job is computed in the worker's thread instead (holding the GIL, as before this
module): the page always gets its overlay.
"""

import logging
import threading

import numpy as np

from .regions import exact_overlay, failed

log = logging.getLogger("relunet.playground")
CONTEXT = "spawn"
MAX_FAILURES = 3        # processes that may fail to start or die before the overlays stay in this process


def compute(model, box):
    """(summary, REGIONS frame or None) of `model` in `box`; never raises (a failure is an unavailable summary)."""
    try:
        with np.errstate(all="ignore"):     # weights that diverged to inf or NaN: the overlay shows what it can
            return exact_overlay(model, box)
    except Exception as e:  # a model that breaks the geometry must not take the session (or the worker) down
        log.exception("playground: exact regions failed")
        return failed(e), None


def _serve(conn):
    """The worker process: answer (model, box) with compute(model, box) until the pipe closes or None comes."""
    import signal

    from ..threads import limit_blas_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_blas_threads()        # as the server: one BLAS thread is fastest for these small matrices
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):     # the server is gone
            return
        if job is None:
            return
        conn.send(compute(*job))


class OverlayWorker:
    """One worker process and the thread that feeds it, for any number of sessions (keys)."""

    def __init__(self, context=CONTEXT):
        self.context = context
        self.failures = 0               # processes that could not start or died
        self.process = None
        self._conn = None
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
            p.terminate()               # a job in progress ends: the thread reads EOF and returns
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
                conn = self._connection()
                conn.send((model, box))
                return conn.recv()
            except Exception as e:
                if self._closed:
                    return None
                self.failures += 1
                self._stop_process()
                log.warning("playground: the exact regions worker failed (%s: %s); computing in this process",
                            type(e).__name__, e)
        return None if self._closed else compute(model, box)

    def _connection(self):
        if self.process is None or not self.process.is_alive():
            self._stop_process()
            import multiprocessing

            ctx = multiprocessing.get_context(self.context)
            here, there = ctx.Pipe()
            p = ctx.Process(target=_serve, args=(there,), name="relunet-overlay", daemon=True)
            p.start()
            there.close()               # only the process holds its end: a dead server is an EOF there
            with self._cond:
                if self._closed:        # close() came while starting: it found no process to stop
                    p.terminate()
                    p.join(timeout=5)
                    raise RuntimeError("closed")
                self.process, self._conn = p, here
        return self._conn

    def _stop_process(self):
        p, conn = self.process, self._conn
        self.process = self._conn = None
        if p is not None:
            p.terminate()
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join(timeout=5)
        if conn is not None:
            conn.close()


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
