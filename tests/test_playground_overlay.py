"""The exact regions overlay computed in a worker process (playground/overlay_worker.py).

Every overlay from the process is compared with the one computed in this process (regions.exact_overlay, the
in-thread path it replaces), byte for byte, and with relunet.pwl's region count; the process must be gone once the
driver or the server that used it has closed, and a bad model or a dead process must never cost the session its
overlay.
"""

import json
import os
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from relunet.engine.model import MLP
from relunet.playground import frames, overlay_worker, protocol as P
from relunet.playground.driver import Driver
from relunet.playground.regions import exact_overlay
from relunet.playground.server import create_app
from relunet.playground.session import OFFLOAD_MS, Session
from relunet.playground.state import Config, encode_hash
from relunet.pwl import linear_regions

BOX = [-1.5, 1.5, -1.5, 1.5]
#: a net whose overlay takes well over OFFLOAD_MS: the session sends it to the worker
BIG = Config(dataset="spiral", n=200, noise=0.2, test_fraction=0.0, layers=(P.Layer(units=32),) * 2, exact=True)


class Results:
    """done() callbacks that record what the worker delivered, by name."""

    def __init__(self):
        self.got, self.cv = {}, threading.Condition()

    def done(self, name):
        def record(result):
            with self.cv:
                self.got[name] = result
                self.cv.notify_all()
        return record

    def wait(self, name, timeout=60):
        with self.cv:
            assert self.cv.wait_for(lambda: name in self.got, timeout), f"no overlay {name!r} within {timeout} s"
            return self.got[name]


def same_overlay(a, b):
    """Equal summaries (but the time taken) and identical REGIONS frame bytes."""
    (sa, fa), (sb, fb) = a, b
    assert {k: v for k, v in sa.items() if k != "ms"} == {k: v for k, v in sb.items() if k != "ms"}
    assert fa == fb


def gone(pid, timeout=10):
    """True once no process `pid` exists (it was stopped and reaped)."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def worker():
    w = overlay_worker.OverlayWorker()
    yield w
    w.close()


def test_worker_overlay_equals_the_in_thread_one(worker):
    """Several nets (depths, widths, leaky ReLU, a tanh net with no overlay): the same summary and frame bytes."""
    nets = {"64-64": MLP([2, 64, 64, 3], seed=0), "leaky": MLP([2, 16, 4], "leaky_relu", seed=1),
            "deep": MLP([2, 8, 8, 8, 2], seed=2), "linear": MLP([2, 3], seed=3), "tanh": MLP([2, 8, 3], "tanh", seed=4)}
    r = Results()
    for name, m in nets.items():
        worker.submit(name, m, BOX, r.done(name))
    for name, m in nets.items():
        got = r.wait(name)
        same_overlay(got, exact_overlay(m, BOX))
        if name != "tanh":
            assert got[0]["count"] == len(linear_regions(m, BOX))
    assert worker.process.poll() is None and worker.failures == 0


def test_latest_wins_per_key(worker):
    """A job still waiting under a key is replaced by the newer one, never run after it."""
    r = Results()
    worker.submit("warm", MLP([2, 4, 2], seed=0), BOX, r.done("warm"))
    r.wait("warm")                                   # the process has started
    slow, stale, newest = MLP([2, 64, 64, 3], seed=0), MLP([2, 8, 3], seed=1), MLP([2, 8, 3], seed=2)
    worker.submit("k", slow, BOX, r.done("slow"))
    worker.submit("k", stale, BOX, r.done("stale"))
    worker.submit("k", newest, BOX, r.done("newest"))
    same_overlay(r.wait("newest"), exact_overlay(newest, BOX))
    assert "stale" not in r.got


def test_a_bad_model_or_a_dead_process_never_costs_the_overlay(worker):
    r = Results()
    # a computation that raises in the process: an unavailable summary, and the process lives on
    worker.submit("bad", "not a model", BOX, r.done("bad"))
    summary, frame = r.wait("bad")
    assert summary["available"] is False and "could not be computed" in summary["reason"] and frame is None
    pid = worker.process.pid
    # weights that are not finite: whatever relunet.pwl makes of them, the same as in this process
    m = MLP([2, 16, 3], seed=0)
    m.linears[0].W[0, 0], m.linears[1].b[2] = np.inf, np.nan
    worker.submit("inf", m, BOX, r.done("inf"))
    same_overlay(r.wait("inf"), overlay_worker.compute(m, BOX))
    assert worker.process.pid == pid and worker.failures == 0
    # the process dies between jobs: the next job starts a new one
    worker.process.kill()
    worker.process.wait()
    ok = MLP([2, 16, 3], seed=5)
    worker.submit("after", ok, BOX, r.done("after"))
    same_overlay(r.wait("after"), exact_overlay(ok, BOX))
    assert worker.process.poll() is None and worker.process.pid != pid and gone(pid)
    # ... or during one: that job is computed here (or by a new process), the page gets it all the same
    slow = MLP([2, 64, 64, 3], seed=6)
    worker.submit("during", slow, BOX, r.done("during"))
    worker.process.kill()
    same_overlay(r.wait("during"), exact_overlay(slow, BOX))
    assert worker.failures <= 1


def test_no_process_at_all_computes_here():
    """A process that cannot be started: every overlay is computed in this process, after MAX_FAILURES tries."""
    w = overlay_worker.OverlayWorker(command=["/nonexistent/python3"])
    try:
        r = Results()
        for i in range(overlay_worker.MAX_FAILURES + 1):
            m = MLP([2, 8, 3], seed=i)
            w.submit(i, m, BOX, r.done(i))
            same_overlay(r.wait(i), exact_overlay(m, BOX))
        assert w.failures == overlay_worker.MAX_FAILURES and w.process is None
    finally:
        w.close()


def test_the_driver_sends_the_overlay_from_the_process_and_stops_it_when_closed():
    s = Session(BIG)
    sent, cv = [], threading.Condition()

    def sink(item):
        with cv:
            sent.append(item)
            cv.notify_all()

    d = Driver(s, sink)
    first = s.exact_items(force=True)               # the first one is computed here: its cost is not known yet
    assert first[0]["ms"] >= OFFLOAD_MS and first[0]["count"] == len(linear_regions(s.model, s.box))
    assert s.exact_items(force=True) == []          # the second goes to the process, its items to the sink
    with cv:
        assert cv.wait_for(lambda: len(sent) == 2, 60)
    worker = overlay_worker._shared
    pid = worker.process.pid
    assert sent[0] == {**first[0], "ms": sent[0]["ms"]} and sent[1] == first[1]
    d.close()
    assert overlay_worker._shared is None and gone(pid)
    assert s.overlay is None and s.exact_items(force=True)[0]["count"] == first[0]["count"]   # back in-thread


def test_the_server_shares_one_process_and_stops_it_with_the_last_tab():
    app = create_app()
    with TestClient(app) as client:
        with client.websocket_connect("/ws") as a, client.websocket_connect("/ws") as b:
            counts = []
            for ws in (a, b):
                # one request at a time: two overlays asked for at once may drop the older result (latest wins)
                for msg in ({"type": "hello", "hash": encode_hash(BIG)}, {"type": "pwl_regions"}):
                    ws.send_text(json.dumps(msg))       # the second overlay goes to the process
                    while True:
                        m = ws.receive()
                        if m.get("text") and json.loads(m["text"])["type"] == "pwl":
                            counts.append(json.loads(m["text"])["count"])
                            break
            (s, _) = app.state.sessions
            assert counts == [len(linear_regions(s.model, s.box))] * 4
            worker = overlay_worker._shared
            pid = worker.process.pid
        assert gone(pid) and overlay_worker._shared is None


def test_run_b_of_a_comparison_gets_its_exact_overlay():
    """Compare: with Exact regions on, run B's map gets B's own regions and boundary (relunet.pwl on B's model),
    flagged as B's; A's overlay goes on as before."""
    from relunet.pwl import decision_boundary

    from test_playground_server import _decode_regions

    app = create_app()
    config = Config(dataset="xor", n=60, test_fraction=0.0, layers=(P.Layer(units=4),), exact=True)
    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        ws.send_text(json.dumps({"type": "hello", "hash": encode_hash(config)}))
        ws.send_text(json.dumps({"type": "compare", "layers": [{"units": 7}, {"units": 5}]}))
        summary = frame = None
        while summary is None or frame is None:
            m = ws.receive()
            if m.get("text") and json.loads(m["text"]).get("twin"):
                summary = json.loads(m["text"])
            elif m.get("bytes") and frames.decode_header(m["bytes"])[0] == frames.REGIONS | frames.TWIN:
                frame = m["bytes"]
        (s,) = app.state.sessions
        b, box = s.twin.model, s.box
        assert b.sizes == [2, 7, 5, 2] and summary["type"] == "pwl" and summary["available"]
        part = linear_regions(b, box)
        bnd = decision_boundary(b, box, partition=part)
        assert summary["count"] == len(part) != len(linear_regions(s.model, box)) and summary["pieces"] == bnd.count
        unflagged = frame[:3] + bytes([frame[3] & ~frames.TWIN]) + frame[4:]
        fbox, counts, vertices, segments, classes = _decode_regions(unflagged)
        assert fbox == box and len(counts) == len(part) and counts.sum() == len(vertices)
        np.testing.assert_allclose(segments, bnd.segments, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(classes, bnd.segment_classes)


def test_the_process_ends_when_its_server_is_killed():
    """No orphan: a server killed outright (SIGKILL: no clean-up runs) leaves no worker process behind."""
    import subprocess
    import sys

    from conftest import SRC

    script = ("import threading\n"
              "from relunet.engine.model import MLP\n"
              "from relunet.playground.overlay_worker import OverlayWorker\n"
              "w, done = OverlayWorker(), threading.Event()\n"
              "w.submit(0, MLP([2, 8, 3]), [-1, 1, -1, 1], lambda r: done.set())\n"
              "done.wait(60)\n"
              "print(w.process.pid, flush=True)\n"
              "threading.Event().wait(60)\n")
    server = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(SRC)})
    try:
        pid = int(server.stdout.readline())
        os.kill(pid, 0)                              # the worker runs ...
        server.kill()
        server.wait()
        assert gone(pid)                             # ... and ends with its server
    finally:
        server.kill()
        server.stdout.close()
