"""Hostile input to the playground: foreign Host headers (DNS rebinding), oversized links, tampered model
uploads, a diverged model's drawing, and a page that stops reading its frames."""

import asyncio
import base64
import io
import json
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import relunet
from relunet.engine.errors import RelunetError
from relunet.io import model_meta
from relunet.playground import protocol as P, views
from relunet.playground.protocol import ProtocolError, parse_message
from relunet.playground.server import MAX_QUEUED, Connection, HostCheck, create_app
from relunet.playground.session import Session
from relunet.playground.state import decode_hash


# ---------------------------------------------------------------------------------------------- Host header
@pytest.fixture
def guarded():
    with TestClient(create_app(hosts=("127.0.0.1", 8000)), base_url="http://127.0.0.1:8000") as c:
        yield c


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "LocalHost:8000", "[::1]:8000"])
def test_the_served_address_is_allowed(guarded, host):
    assert guarded.get("/", headers={"host": host}).status_code == 200
    with guarded.websocket_connect("/ws", headers={"host": host, "origin": f"http://{host}"}) as ws:
        ws.send_text(json.dumps({"type": "pause"}))
        for _ in range(50):
            m = ws.receive()
            if m.get("text") is not None and json.loads(m["text"])["type"] == "state":
                break
        else:
            raise AssertionError("no state reply")


@pytest.mark.parametrize("host", ["evil.example:8000", "evil.example", "127.0.0.1:8001", "127.0.0.1",
                                  "localhost.evil.example:8000", "", "10.0.0.1:8000", "[::1]", "a:b:c"])
def test_a_foreign_host_header_is_refused(guarded, host):
    r = guarded.get("/", headers={"host": host})
    assert r.status_code == 400 and "Host" in r.text
    assert guarded.get("/static/js/main.js", headers={"host": host}).status_code == 400
    with pytest.raises(WebSocketDisconnect) as e:
        # a matching Origin, as a rebinding page sends: still refused
        with guarded.websocket_connect("/ws", headers={"host": host, "origin": f"http://{host}"}) as ws:
            ws.receive()
    assert e.value.code == 1008


def test_host_rule_for_other_listening_addresses():
    wildcard = HostCheck(None, "0.0.0.0", 8000)
    assert wildcard.allowed("192.168.1.20:8000") and wildcard.allowed("[fe80::1]:8000")
    assert not wildcard.allowed("evil.example:8000") and not wildcard.allowed("192.168.1.20:80")
    named = HostCheck(None, "myhost.lan", 9000)
    assert named.allowed("myhost.lan:9000") and named.allowed("localhost:9000")
    assert not named.allowed("10.0.0.1:9000")


# ---------------------------------------------------------------------------------------------- links
def link(n):
    return "task=classification&data=custom&pts=" + ";".join(f"{i % 97 / 97:.3f}:0.5:{i % 2}" for i in range(n))


def test_a_link_with_15000_points_is_refused_like_a_message():
    with pytest.raises(ProtocolError, match=r"15,000 points; too many points \(at most 10,000\)"):
        decode_hash(link(15_000))
    s = Session()
    n = len(s.X)
    with pytest.raises(ProtocolError, match="too many points"):
        s.handle(parse_message(json.dumps({"type": "hello", "hash": link(15_000)})))
    s.handle(parse_message(json.dumps({"type": "pause"})))   # the session still works
    assert len(s.X) == n


@pytest.mark.parametrize("bad", ["net=8x", "net=,", "pts=1:2:zz", "pts=1", "n=" + "9" * 5000, "disc=2", "lr=nan",
                                 "task=classification&data=custom&pts=1:2:0.5"])
def test_malformed_links_are_one_sentence(bad):
    with pytest.raises(ProtocolError, match="^link: "):
        decode_hash(bad)


def test_a_link_at_the_limit_still_loads():
    config = decode_hash(link(P.MAX_POINTS))
    assert len(config.points) == P.MAX_POINTS


# ---------------------------------------------------------------------------------------------- uploads
def npz(meta, arrays, compress=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        b = io.BytesIO()
        np.lib.format.write_array(b, np.array(json.dumps(meta)))
        zf.writestr("meta.npy", b.getvalue())
        for name, data in arrays.items():
            zf.writestr(f"{name}.npy", data)
    return buf.getvalue()


def upload(session, data):
    msg = {"type": "load_model", "data": base64.b64encode(data).decode()}
    tracemalloc.start()
    try:
        with pytest.raises(RelunetError) as e:
            session.handle(parse_message(json.dumps(msg)))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, f"{peak / 2**20:.0f} MB allocated before the refusal"
    return str(e.value)


def test_a_tiny_file_claiming_8192_unit_layers_is_refused_before_allocating():
    meta = model_meta(relunet.MLP([2, 3, 2]))
    meta["sizes"] = [2, 8192, 8192, 2]
    meta["activations"] = ["relu", "relu"]
    data = npz(meta, {})
    assert len(data) < 1000
    message = upload(Session(), data)
    assert "8,192 units" in message and "at most 256" in message


def test_a_zip_bomb_upload_is_refused_before_inflating():
    model = relunet.MLP([2, 3, 2], seed=0)
    meta = model_meta(model)
    header = io.BytesIO()
    np.lib.format.write_array(header, model.linears[0].W)
    # a true header for W1 (3, 2), then 60 MB of zeros: the entry deflates to about 60 KB
    arrays = {"W1": header.getvalue() + bytes(60_000_000)}
    for name, arr in (("b1", model.linears[0].b), ("W2", model.linears[1].W), ("b2", model.linears[1].b)):
        b = io.BytesIO()
        np.lib.format.write_array(b, arr)
        arrays[name] = b.getvalue()
    data = npz(meta, arrays)
    assert len(data) < 400_000
    assert "header says 48 bytes of data" in upload(Session(), data)


def test_a_good_upload_still_loads():
    model = relunet.MLP([2, 5, 3], seed=2)
    s = Session()
    s.handle(parse_message(json.dumps({"type": "load_model", "data": base64.b64encode(relunet.io.to_bytes(model)).decode()})))
    np.testing.assert_array_equal(s.model.linears[0].W, model.linears[0].W)


# ---------------------------------------------------------------------------------------------- drawing after divergence
def test_the_drawing_copy_of_huge_weights_keeps_the_map():
    s = Session()                     # the spiral, 2-16-16-3 ReLU
    for lin in s.model.linears:      # a diverged run: finite in float64, far beyond float32
        lin.W *= 1e40
        lin.b *= 1e40
    grid = views.grid(s.box, 50)
    expected = s.model.decision_function(grid).argmax(axis=1)
    k, conf = views.decision_map(s.view_model(), grid.astype(np.float32))
    assert np.isfinite(conf).all()
    assert len(np.unique(expected)) > 1                     # the real map is not flat ...
    assert np.mean(k == expected) > 0.99                    # ... and the drawing shows it
    s.map_frame()
    for lin in s.model.linears:      # not even finite: still a finite drawing, no warning, no error
        lin.W[0, 0] = np.inf
        lin.b[0] = np.nan
    assert all(np.isfinite(lin.W).all() for lin in s.view_model().linears)
    s.map_frame()


# ---------------------------------------------------------------------------------------------- a page that stops reading
class StuckSocket:
    """A WebSocket whose page sends `messages`, reads `reads` items, then stops reading (sends block forever)."""

    def __init__(self, messages, reads):
        self.messages, self.reads, self.sent = list(messages), reads, 0
        self.never = asyncio.Event()

    async def receive(self):
        if self.messages:
            return {"type": "websocket.receive", "text": json.dumps(self.messages.pop(0))}
        await self.never.wait()

    async def _send(self):
        if self.sent >= self.reads:
            await self.never.wait()
        self.sent += 1

    async def send_bytes(self, data):
        await self._send()

    async def send_text(self, text):
        await self._send()


def test_a_page_that_stops_reading_gets_frames_dropped_and_costs_no_cpu():
    async def scenario():
        ws = StuckSocket([{"type": "set_training", "lr": 0.01}, {"type": "play"}], reads=5)
        conn = Connection(ws)           # its own session store: the first message makes the Session
        task = asyncio.create_task(conn.serve())
        t0 = time.monotonic()
        while conn.dropped == 0:
            assert time.monotonic() - t0 < 30, "no frame was ever dropped"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)            # let thread pools (BLAS, Numba) that spin after work go idle
        updates = conn.session.updates
        cpu0 = time.process_time()          # CPU of every thread of this process: a bound on the work done
        await asyncio.sleep(0.5)
        cpu = time.process_time() - cpu0
        queued = conn.out.qsize()
        assert conn.session.playing                      # still playing: the page may start reading again
        assert conn.session.updates == updates           # but no training while nobody looks
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return cpu, queued

    cpu, queued = asyncio.run(scenario())
    assert queued <= MAX_QUEUED + 8                     # frames are dropped, not queued
    assert cpu < 0.15, f"{cpu:.2f} s of CPU in 0.5 s while the page read nothing"
