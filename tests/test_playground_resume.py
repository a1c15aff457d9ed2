"""Sessions that outlive their WebSocket (resume.py) and the lecture step in the link (lecture.open_link).

Two connections in sequence stand for a reload: the second sends the token the first was given. The weights
it finds are compared with those exported before the first closed, and with a Session driven in-process by
the same messages (the same seed gives the same run); Undo must give back the snapshot taken before the step.
"""

import asyncio
import json
import time
from types import SimpleNamespace

import numpy as np
import pytest
from fastapi.testclient import TestClient

from relunet.playground import protocol as P
from relunet.playground.lecture import step_config
from relunet.playground.resume import GRACE_SECONDS, MAX_DETACHED, SessionStore, array_bytes
from relunet.playground.server import create_app
from relunet.playground.session import Session
from relunet.playground.state import encode_hash


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@pytest.fixture
def app():
    a = create_app()
    a.state.store = SessionStore(reclaim=0.3, clock=Clock())
    return a


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


class Tab:
    """One page's socket: send JSON, read until a message of a type (binary frames are skipped)."""

    def __init__(self, ws):
        self.ws = ws

    def send(self, **msg):
        self.ws.send_text(json.dumps(msg))

    def until(self, kind, limit=500):
        for _ in range(limit):
            m = self.ws.receive()
            if m.get("text") is None:
                continue
            m = json.loads(m["text"])
            if m["type"] == kind:
                return m
            if m["type"] == "error" and kind != "error":
                raise AssertionError(m["message"])
        raise AssertionError(f"no {kind!r} message")

    def metrics(self, updates):
        """The first metrics message at `updates` (frames drawn before may still be on their way)."""
        for _ in range(100):
            m = self.until("metrics")
            if m["updates"] == updates:
                return m
        raise AssertionError(f"no metrics at {updates} updates")

    def call(self, kind="state", **msg):
        self.send(**msg)
        return self.until(kind)

    def weights(self):
        w = self.call("export", type="export_weights")["weights"]["layers"]
        return [np.array(layer[k]) for layer in w for k in ("W", "b")]

    def open(self, hash="", token=None):
        """The page's start: hello (with the token it kept, if any); returns (session message, state)."""
        self.send(type="hello", hash=hash, **({"token": token} if token else {}))
        return self.until("session"), self.until("state")


def same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def steps_then_train(tab):
    """Lecture step 2, 20 updates, step 3 (weights kept, snapshot pushed), 10 updates more."""
    tab.call(type="lecture", step=2)
    tab.send(type="step", updates=20)
    before = tab.weights()
    tab.call(type="lecture", step=3)
    tab.send(type="step", updates=10)
    return before, tab.weights()


def test_a_reload_resumes_weights_counters_lecture_step_and_undo(client, app):
    with client.websocket_connect("/ws") as raw:
        a = Tab(raw)
        hello, _ = a.open()
        assert not hello["resumed"] and len(hello["token"]) == 32 and int(hello["token"], 16) >= 0
        at_step_2, trained = steps_then_train(a)
        link = a.call(type="play")["hash"] + "&step=3"       # what the page's address bar holds
        (session,) = app.state.sessions
        a.until("metrics")                                   # training, when the tab goes
    assert not app.state.sessions and not session.playing        # detached: training paused
    time.sleep(0.2)                                              # (a training chunk under way ends)
    updates = session.updates
    time.sleep(0.3)
    assert session.updates == updates >= 30
    trained = [w.copy() for w in session.model.get_weights()]

    with client.websocket_connect("/ws") as raw:
        b = Tab(raw)
        again, st = b.open(link, token=hello["token"])
        assert again == {"type": "session", "token": hello["token"], "resumed": True}
        assert st["config"] == step_config(3).model_dump(mode="json", exclude={"points"}) and not st["playing"]
        b.metrics(updates)                                   # the resumed page's first frame
        assert same(b.weights(), trained)
        info = b.call("lecture", type="lecture")
        assert info["current"] == 3 and info["undo"] == 2
        b.send(type="undo")
        assert b.until("lecture")["current"] == 2
        b.metrics(20)
        assert same(b.weights(), at_step_2)

    # the same messages in one session give the same weights at step 2 (the run is the seed's)
    s = Session()
    for m in ({"type": "lecture", "step": 2}, {"type": "step", "updates": 20}):
        s.handle(P.parse_message(json.dumps(m)))
    assert same([w for w in s.model.get_weights()], at_step_2)


def test_unknown_expired_malformed_and_duplicate_tokens_get_a_fresh_session(client, app):
    with client.websocket_connect("/ws") as raw:
        hello, _ = Tab(raw).open()
        Tab(raw).call(type="step", updates=5)
    with client.websocket_connect("/ws") as raw:                    # never issued by this server
        other, st = Tab(raw).open(token="0123456789abcdef" * 2)
        assert not other["resumed"] and other["token"] != hello["token"] and st["config"]["layers"] == []
    app.state.store.clock.t += GRACE_SECONDS + 1                     # the first one has expired
    with client.websocket_connect("/ws") as raw:
        tab = Tab(raw)
        late, _ = tab.open(token=hello["token"])
        assert not late["resumed"] and tab.metrics(0)
    assert hello["token"] not in app.state.store

    with client.websocket_connect("/ws") as raw:                    # a malformed token: an error, a session
        tab = Tab(raw)
        tab.send(type="hello", token="ABC")
        assert not tab.until("session")["resumed"]
        assert tab.until("error")["message"].startswith("token: a session token is 32 lower-case hexadecimal")
        assert tab.until("state")["config"]["dataset"] == "lecture"

    with client.websocket_connect("/ws") as ra:                     # a duplicated tab copies the token
        first, _ = Tab(ra).open()
        Tab(ra).call(type="lecture", step=2)
        with client.websocket_connect("/ws") as rb:
            dup, st = Tab(rb).open(token=first["token"])
            assert not dup["resumed"] and dup["token"] != first["token"] and st["sizes"] == [2, 2]
        assert Tab(ra).call(type="step", updates=1)["sizes"] == [2, 4, 2]     # the first tab keeps its own


def test_a_link_naming_another_experiment_wins_and_undo_brings_the_session_back(client, app):
    with client.websocket_connect("/ws") as raw:
        a = Tab(raw)
        hello, _ = a.open()
        _, trained = steps_then_train(a)
    sine = encode_hash(step_config(4))
    with client.websocket_connect("/ws") as raw:
        b = Tab(raw)
        again, st = b.open(sine, token=hello["token"])
        assert again["resumed"] and st["config"]["dataset"] == "sine" and st["sizes"] == [1, 8, 1]
        info = b.call("lecture", type="lecture")
        assert info["current"] is None and info["undo"] == 3
        b.send(type="undo")
        assert b.until("lecture")["current"] == 3 and same(b.weights(), trained)


def test_the_link_names_the_lecture_step(client):
    with client.websocket_connect("/ws") as raw:
        tab = Tab(raw)
        _, st = tab.open("step=4")                   # the step alone: lecture.py builds its experiment
        assert st["config"] == step_config(4).model_dump(mode="json", exclude={"points"})
        info = tab.call("lecture", type="lecture")
        assert info["current"] == 4 and info["undo"] == 0         # opening a link is not a step to undo
        # the experiment the link names, shown as step 2 (a teacher's link after changing the rate)
        changed = step_config(2).with_(lr=0.5)
        st = tab.call(type="hello", hash=encode_hash(changed) + "&step=2")
        assert st["config"]["lr"] == 0.5 and st["sizes"] == [2, 4, 2]
        assert tab.call("lecture", type="lecture")["current"] == 2
        tab.send(type="hello", hash="step=9")
        assert tab.until("error")["message"] == "link: step='9' is not valid (a lecture step from 1 to 5)"
        assert tab.call("lecture", type="lecture")["current"] == 2       # nothing changed


def test_at_most_max_detached_sessions_wait_the_oldest_dropped_first():
    async def scenario():
        clock = Clock()
        store = SessionStore(clock=clock, reclaim=0.01)
        sessions = [SimpleNamespace(playing=True) for _ in range(MAX_DETACHED + 4)]
        tokens = [store.add(s) for s in sessions]
        assert len(set(tokens)) == len(tokens) and store.detached == []
        for t in tokens:
            clock.t += 1
            store.detach(t)
        assert store.detached == tokens[4:] and not any(s.playing for s in sessions)
        assert await store.claim(tokens[0]) is None                  # dropped: the oldest went first
        assert await store.claim(tokens[4]) is sessions[4]           # attached again: no longer waiting
        assert await store.claim(tokens[4]) is None                  # ... and not twice
        assert store.detached == tokens[5:]
        clock.t = 1001 + 9 + GRACE_SECONDS + 0.5                     # tokens[5]..[9] are now past the grace
        assert await store.claim(tokens[9]) is None and store.detached == tokens[10:]

    asyncio.run(scenario())


def test_detached_sessions_hold_at_most_keep_bytes_of_arrays_the_oldest_dropped_first():
    """Sessions of big networks with undo stacks: the count cap alone would let 16 of them hold ~1.4 GB."""
    async def scenario():
        clock = Clock()
        store = SessionStore(clock=clock, reclaim=0.01, keep_bytes=3 * 2**20 + 10)
        # 1 MiB each: data X and an undo snapshot's W of 256 x 256 float64 (0.5 MiB each), one in nested containers
        sessions = [SimpleNamespace(playing=True, ext={"undo": [(1, {"W": np.zeros((256, 256))})]},
                                    X=np.zeros((256, 256)), view=None) for _ in range(5)]
        for s in sessions:
            s.view = s.X[:10]                                       # a view of X counts nothing more
        assert array_bytes(vars(sessions[0])) == 2 * 256 * 256 * 8
        tokens = [store.add(s) for s in sessions]
        for t in tokens:
            clock.t += 1
            store.detach(t)
        assert store.detached == tokens[2:]                          # 1 MiB per session, budget 3 MiB
        store.keep_bytes = 4 * 2**20 + 10
        fresh = [store.add(SimpleNamespace(playing=True, X=np.zeros((256, 256)))) for _ in range(3)]
        for t in fresh:
            clock.t += 1
            store.detach(t)
        assert store.detached == tokens[3:] + fresh                   # 3 + 3 x 0.5 MiB > 4 MiB: the oldest went

    real = Session()
    assert array_bytes(vars(real)) >= sum(p.nbytes for p in real.model.parameters()) + real.X.nbytes

    asyncio.run(scenario())


def test_a_detached_session_is_freed_when_its_grace_ends_without_other_tabs():
    async def scenario():
        store = SessionStore(grace=0.05)
        token = store.add(SimpleNamespace(playing=False))
        store.detach(token)
        assert token in store
        await asyncio.sleep(0.3)                # nobody connects meanwhile
        assert token not in store and store.detached == []

    asyncio.run(scenario())
