"""The playground server over its WebSocket (FastAPI's TestClient), and its pure-Python parts.

Every expectation is computed another way: data from relunet.make_dataset, weights from a fresh MLP with
the same seed, gradients by central differences, predictions by a NumPy forward pass from exported JSON.
"""

import base64
import json
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

import relunet
from relunet.gradcheck import check_model
from relunet.io import from_bytes, to_bytes
from relunet.playground import frames, protocol as P, views
from relunet.playground.server import create_app, origin_allowed
from relunet.playground.session import Session
from relunet.playground.state import Config, decode_hash, default_config, encode_hash


# ---------------------------------------------------------------------------------------------- helpers
#: The experiment most tests use (the page's defaults before the lecture path): a 2-16-16-3 net on the spiral.
SPIRAL_CONFIG = Config(dataset="spiral", n=300, noise=0.2, test_fraction=0.2, layers=(P.Layer(units=16),) * 2,
                       optimizer="momentum", lr=0.03, batch_size=10)
SPIRAL = encode_hash(SPIRAL_CONFIG)
@pytest.fixture(autouse=True)
def _deadline():
    """A reply that never comes must fail the test, not hang the suite (TestClient reads have no timeout)."""
    import signal

    if not hasattr(signal, "SIGALRM"):  # not on Windows
        yield
        return

    def expired(signum, frame):
        raise TimeoutError("no reply from the playground within 120 s")

    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(120)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


class WS:
    """A WebSocket session in a test: send JSON, read until a message of some type (frames are skipped)."""

    def __init__(self, ws):
        self.ws = ws
        self.frames = []

    def send(self, **msg):
        self.ws.send_text(json.dumps(msg))

    def recv(self):
        m = self.ws.receive()
        if m.get("type") == "websocket.close":
            raise AssertionError(f"connection closed: {m}")
        if m.get("bytes") is not None:
            return m["bytes"]
        return json.loads(m["text"])

    def until(self, kind, limit=500):
        """The next JSON message of type `kind` (str), or the next binary frame of frame kind `kind` (int)."""
        for _ in range(limit):
            m = self.recv()
            if isinstance(m, bytes):
                self.frames.append(m)
                if isinstance(kind, int) and frames.decode_header(m)[0] == kind:
                    return m
            elif m.get("type") == kind:
                return m
            elif m.get("type") == "error" and kind != "error":
                raise AssertionError(f"unexpected error: {m['message']}")
        raise AssertionError(f"no {kind!r} message")

    def metrics(self, pred, limit=500):
        """The first metrics message for which pred(m) holds (earlier frames may still be on their way)."""
        for _ in range(limit):
            m = self.until("metrics")
            if pred(m):
                return m
        raise AssertionError("no metrics message as expected")

    def call(self, kind="state", **msg):
        self.send(**msg)
        return self.until(kind)


def connect(client, **kw):
    return client.websocket_connect("/ws", **kw)


def only_session(app):
    (s,) = app.state.sessions
    return s


def forward_json(weights, X):
    """z^(L) from exported JSON weights with ReLU hidden layers: the model's forward, recomputed in NumPy."""
    a = np.asarray(X, float)
    layers = weights["layers"]
    for i, layer in enumerate(layers):
        a = a @ np.array(layer["W"]).T + np.array(layer["b"])
        if i < len(layers) - 1:
            a = np.maximum(a, 0)
    return a


# ---------------------------------------------------------------------------------------------- each message type
def test_data_messages(client, app):
    with connect(client) as raw:
        ws = WS(raw)
        st = ws.call(type="hello", hash=SPIRAL)
        X, y = relunet.make_dataset("spiral", 300, 0.2, seed=0, classes=3)
        assert np.allclose([p[:2] for p in st["points"]], X) and [p[2] for p in st["points"]] == y.tolist()

        st = ws.call(type="set_data", dataset="gaussians", n=120, classes=4, noise=0.5)
        X, y = relunet.make_dataset("gaussians", 120, 0.5, seed=0, classes=4)
        assert np.allclose([p[:2] for p in st["points"]], X) and [p[2] for p in st["points"]] == y.tolist()
        assert st["sizes"][-1] == 4 and st["config"]["dataset"] == "gaussians"

        # the split: a point is a test point when its draw from default_rng([data_seed, 1]) is below the fraction
        st = ws.call(type="set_split", test_fraction=0.5)
        u = np.random.default_rng([0, 1]).uniform(size=P.MAX_POINTS)[:120]
        assert [p[3] for p in st["points"]] == (u < 0.5).tolist()

        st = ws.call(type="regenerate")
        seed = st["config"]["data_seed"]
        X, _ = relunet.make_dataset("gaussians", 120, 0.5, seed=seed, classes=4)
        assert np.allclose([p[:2] for p in st["points"]], X)

        st = ws.call(type="add_point", point={"x": 0.25, "y": -0.5, "label": 6})
        assert len(st["points"]) == 121 and st["points"][-1][:3] == [0.25, -0.5, 6]
        assert st["config"]["dataset"] == "custom" and st["sizes"][-1] == 7   # the output layer grew to class 6

        st = ws.call(type="remove_point", x=0.26, y=-0.49)
        assert len(st["points"]) == 120 and [0.25, -0.5, 6] not in [p[:3] for p in st["points"]]

        st = ws.call(type="set_points", points=[{"x": 0, "y": 1, "label": 0}, {"x": 1, "y": 0, "label": 1}])
        assert [p[:3] for p in st["points"]] == [[0, 1, 0], [1, 0, 1]]
        assert "pts=0.0:1.0:0;1.0:0.0:1" in st["hash"]

        st = ws.call(type="load_csv", text="x1,x2,label\n0.5,0.5,1\n-0.5,0.25,0\n0,0,2\n")
        assert [p[:3] for p in st["points"]] == [[0.5, 0.5, 1], [-0.5, 0.25, 0], [0, 0, 2]]

        st = ws.call(type="clear_points")
        assert st["points"] == []

        st = ws.call(type="set_task", task="regression")
        X, y = relunet.make_dataset("sine", seed=0)
        assert st["config"]["task"] == "regression" and st["sizes"][0] == 1 and st["sizes"][-1] == 1
        assert np.allclose([p[0] for p in st["points"]], X[:, 0]) and np.allclose([p[1] for p in st["points"]], y)
        curve = ws.until(frames.CURVE)
        assert frames.decode_header(curve)[0] == frames.CURVE


def test_network_and_training_messages(client, app):
    with connect(client) as raw:
        ws = WS(raw)
        ws.call(type="hello", hash=SPIRAL)
        st = ws.call(type="set_network", layers=[{"units": 5, "activation": "tanh"}, {"units": 4}])
        assert st["sizes"] == [2, 5, 4, 3] and st["activations"] == ["tanh", "relu"]

        st = ws.call(type="set_training", optimizer="adam", lr=0.005, batch_size=7, weight_decay=0.001,
                     schedule="invscaling", target_loss=0.5, max_epochs=40)
        c = st["config"]
        assert (c["optimizer"], c["lr"], c["batch_size"], c["weight_decay"], c["schedule"], c["target_loss"],
                c["max_epochs"]) == ("adam", 0.005, 7, 0.001, "invscaling", 0.5, 40)
        st = ws.call(type="set_training", target_loss=None)
        assert st["config"]["target_loss"] is None and st["config"]["max_epochs"] == 40

        ws.send(type="step", updates=5)
        m = ws.metrics(lambda m: m["updates"] == 5)
        assert m["epoch"] == 0
        s = only_session(app)
        # settings changed while a trainer exists apply to it live, without touching the weights
        w_before = s.model.get_weights()
        ws.call(type="set_training", lr=0.02, batch_size=3, optimizer="momentum", momentum=0.5)
        assert s.trainer.lr == 0.02 and s.trainer.batch_size == 3 and s.trainer.optimizer.momentum == 0.5
        assert all(np.array_equal(a, b) for a, b in zip(w_before, s.model.get_weights()))

        n_train = int(np.sum(~s.is_test))
        ws.send(type="step_epoch")
        m = ws.metrics(lambda m: m["epoch"] == 1)
        assert m["updates"] == 5 + math.ceil((n_train - 5 * 7) / 3)

        ws.send(type="play")
        for _ in range(100):
            m = ws.until("metrics")
            if m["updates"] > 200:
                break
        assert m["updates"] > 200
        ws.send(type="pause")
        st = ws.until("state")
        assert st["playing"] is False

        # reset: the same start as a fresh network with the same seed
        ws.call(type="reset")
        exported = ws.call("export", type="export_weights")["weights"]
        fresh = relunet.MLP([2, 5, 4, 3], ["tanh", "relu"], seed=0)
        for layer, lin in zip(exported["layers"], fresh.linears):
            assert np.array_equal(np.array(layer["W"]), lin.W) and np.array_equal(np.array(layer["b"]), lin.b)
        ws.call(type="new_seed", seed=7)
        exported = ws.call("export", type="export_weights")["weights"]
        fresh = relunet.MLP([2, 5, 4, 3], ["tanh", "relu"], seed=7)
        assert np.array_equal(np.array(exported["layers"][0]["W"]), fresh.linears[0].W)

        # edit one weight and one bias by hand
        ws.send(type="edit_weight", layer=2, row=3, col=1, value=1.25)
        ws.send(type="edit_weight", layer=1, row=0, value=-0.5)
        exported = ws.call("export", type="export_weights")["weights"]
        assert exported["layers"][1]["W"][3][1] == 1.25 and exported["layers"][0]["b"][0] == -0.5
        expect = fresh.get_weights()
        expect[2][3, 1], expect[1][0] = 1.25, -0.5
        assert all(np.array_equal(a, b) for a, b in zip(s.model.get_weights(), expect))

        assert ws.call("pwl", type="pwl_regions")["available"] is False


def test_stop_conditions(client, app):
    with connect(client) as raw:
        ws = WS(raw)
        ws.call(type="hello", hash=SPIRAL)
        ws.call(type="set_training", max_epochs=3)
        ws.send(type="play")
        st = ws.until("state")
        while st["playing"] or st["status"] is None:
            st = ws.until("state")
        assert "maximum of 3 epochs" in st["status"]["message"] and only_session(app).epoch == 3
        ws.call(type="set_training", max_epochs=None, target_loss=5.0)   # any first epoch is below 5
        ws.send(type="play")
        st = ws.until("state")
        while st["playing"] or st["status"] is None:
            st = ws.until("state")
        assert "reached the target 5" in st["status"]["message"] and only_session(app).epoch == 4


def test_divergence_keeps_last_finite_weights():
    s = Session(default_config("regression"))
    s.handle(P.parse_message('{"type": "set_training", "optimizer": "sgd", "lr": 10.0, "batch_size": 1}'))
    s.handle(P.parse_message('{"type": "play"}'))
    for _ in range(200):
        s.train_for(0.01)
        if not s.playing:
            break
    assert s.status["level"] == "error" and "Diverged" in s.status["message"]
    assert all(np.all(np.isfinite(w)) for w in s.model.get_weights())


def test_map_and_unit_frames(client, app):
    with connect(client) as raw:
        ws = WS(raw)
        ws.call(type="hello", hash=SPIRAL)
        box = [-0.5, 1.5, -1.0, 1.0]
        ws.send(type="set_view", box=box, resolution=40)
        data = ws.until(frames.MAP)
        while frames.decode_header(data)[1] != 40:
            data = ws.until(frames.MAP)
        kind, w, h, fbox, off = frames.decode_header(data)
        assert (w, h) == (40, 40) and fbox == box
        k_classes = data[off]
        cls = np.frombuffer(data, np.uint8, w * h, off + 8)
        conf = np.frombuffer(data, np.uint8, w * h, off + 8 + w * h)
        model = only_session(app).model
        f = model.predict_proba(views.grid(box, 40))
        assert k_classes == 3
        agree = np.mean(cls == f.argmax(1))                 # float32 drawing: ties may flip, nothing more
        assert agree > 0.995
        expect = np.rint(np.clip((f.max(1) - 1 / 3) / (2 / 3), 0, 1) * 255)
        assert np.max(np.abs(conf - expect)) <= 1

        ws.send(type="set_view", focus={"layer": 2, "unit": 3})
        data = ws.until(frames.UNIT)
        _, w, h, fbox, off = frames.decode_header(data)
        scale = np.frombuffer(data, np.float64, 1, off)[0]
        q = np.frombuffer(data, np.int8, w * h, off + 8)
        (l1, l2), _ = views.hidden_excitations(model, views.grid(box, 40))
        hj = l2[1][:, 3]
        assert np.isclose(scale, np.abs(hj).max(), rtol=1e-5)
        assert np.max(np.abs(q / 127 * scale - hj)) <= scale / 127 + 1e-6

        ws.send(type="set_view", hidden={"layer": 1, "i": 0, "j": 2})
        hid = ws.until("hidden")
        X = only_session(app).X
        (z1, h1), _ = views.hidden_excitations(model, X)[0][0], None
        assert np.allclose(hid["points"], np.round(h1[:, [0, 2]], 5), atol=1e-4)


# ---------------------------------------------------------------------------------------------- invalid messages
BIG = json.dumps({"type": "load_csv", "text": "0,0,0\n" * 200_000})
INVALID = {
    "unknown type": '{"type": "explode"}',
    "no type": '{"lr": 0.1}',
    "not JSON": "{type: play",
    "wrong type: lr string": '{"type": "set_training", "lr": "0.1"}',
    "wrong type: label float": '{"type": "add_point", "point": {"x": 0, "y": 0, "label": 1.5}}',
    "wrong type: layers not a list": '{"type": "set_network", "layers": "64,64"}',
    "extra field": '{"type": "play", "fast": true}',
    "too many points": json.dumps({"type": "set_points", "points": [{"x": 0, "y": 0, "label": 0}] * 10_001}),
    "too many layers": json.dumps({"type": "set_network", "layers": [{"units": 2}] * 9}),
    "too many units": '{"type": "set_network", "layers": [{"units": 257}]}',
    "zero units": '{"type": "set_network", "layers": [{"units": 0}]}',
    "unknown activation": '{"type": "set_network", "layers": [{"units": 4, "activation": "swish"}]}',
    "NaN": '{"type": "set_training", "lr": NaN}',
    "Infinity": '{"type": "add_point", "point": {"x": Infinity, "y": 0}}',
    "overflow to inf": '{"type": "edit_weight", "layer": 1, "row": 0, "col": 0, "value": 1e999}',
    "over 1 MB": BIG,
    "negative lr": '{"type": "set_training", "lr": -1}',
    "bad link": '{"type": "hello", "hash": "n=abc"}',
    "weight out of range": '{"type": "edit_weight", "layer": 5, "row": 0, "col": 0, "value": 1}',
    "unit out of range": '{"type": "set_view", "focus": {"layer": 1, "unit": 200}}',
    "bad model file": json.dumps({"type": "load_model", "data": base64.b64encode(b"not a zip").decode()}),
    "bad CSV": '{"type": "load_csv", "text": "1,2,0\\n3,x,5"}',
    "CSV over 10,000 rows": json.dumps({"type": "load_csv", "text": "0,0,0\n" * 10_001}),
}


@pytest.mark.parametrize("name", list(INVALID))
def test_invalid_message_gets_error_and_connection_stays(client, app, name):
    assert len(BIG) > P.MAX_MESSAGE_BYTES
    with connect(client) as raw:
        ws = WS(raw)
        ws.call(type="hello", hash=SPIRAL)
        before = only_session(app).config
        raw.send_text(INVALID[name])
        err = ws.until("error")
        assert isinstance(err["message"], str) and err["message"]
        assert only_session(app).config == before                 # nothing changed
        ws.send(type="step", updates=2)                             # and the connection still works
        ws.metrics(lambda m: m["updates"] == 2)


def test_error_messages_say_what_is_wrong(client, app):
    with connect(client) as raw:
        ws = WS(raw)
        ws.call(type="hello", hash=SPIRAL)
        expected = {"unknown type": "unknown message type 'explode'", "too many points": "too many points",
                    "too many layers": "too many hidden layers", "too many units": "less than or equal to 256",
                    "NaN": "finite", "over 1 MB": "over the limit", "wrong type: lr string": "lr"}
        for name, words in expected.items():
            raw.send_text(INVALID[name])
            assert words in ws.until("error")["message"], name
        raw.send_bytes(b"\x00\x01")
        assert "binary" in ws.until("error")["message"]


# ---------------------------------------------------------------------------------------------- security, isolation
def test_origin_refused(client):
    with pytest.raises(WebSocketDisconnect) as e:
        with connect(client, headers={"origin": "http://evil.example"}) as raw:
            raw.receive()
    assert e.value.code == 1008
    with connect(client, headers={"origin": "http://testserver"}) as raw:   # the page's own origin
        WS(raw).call(type="hello", hash=SPIRAL)


@pytest.mark.parametrize("origin, host, ok", [
    (None, "127.0.0.1:8000", True),
    ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
    ("http://localhost:8000", "LOCALHOST:8000", True),
    ("http://127.0.0.1", "127.0.0.1:80", True),
    ("http://127.0.0.1:8001", "127.0.0.1:8000", False),
    ("http://evil.example:8000", "127.0.0.1:8000", False),
    ("null", "127.0.0.1:8000", False),
    ("file://", "127.0.0.1:8000", False),
    ("http://127.0.0.1:8000", None, False),
])
def test_origin_rule(origin, host, ok):
    assert origin_allowed(origin, host) is ok


def test_sessions_are_isolated_and_freed(client, app):
    with connect(client) as ra, connect(client) as rb:
        a, b = WS(ra), WS(rb)
        sa = a.call(type="hello", hash=SPIRAL)
        sb = b.call(type="hello", hash=SPIRAL)
        assert len(app.state.sessions) == 2
        a.call(type="add_point", point={"x": 0.5, "y": 0.5, "label": 1})
        a.call(type="set_network", layers=[{"units": 3}])
        a.send(type="step", updates=9)
        a.metrics(lambda m: m["updates"] == 9)
        b.send(type="step", updates=1)
        b.metrics(lambda m: m["updates"] == 1)
        assert sorted(s.updates for s in app.state.sessions) == [1, 9]
        st = b.call(type="set_split", test_fraction=sb["config"]["test_fraction"])
        assert len(st["points"]) == len(sb["points"]) and st["sizes"] == sb["sizes"] == [2, 16, 16, 3]
        assert st["config"]["dataset"] == "spiral"
    assert len(app.state.sessions) == 0


# ---------------------------------------------------------------------------------------------- model files, state
def test_model_save_load_round_trip(client, app):
    with connect(client) as ra:
        a = WS(ra)
        a.call(type="hello", hash=SPIRAL)
        a.call(type="set_network", layers=[{"units": 6}, {"units": 5, "activation": "leaky_relu"}])
        a.send(type="step", updates=50)
        a.metrics(lambda m: m["updates"] == 50)
        a.send(type="save_model")
        data = a.until(frames.MODEL)
        npz = data[frames.decode_header(data)[4]:]
        trained = only_session(app).model
        Xq = np.random.default_rng(3).uniform(-2, 2, (500, 2))
        loaded = from_bytes(npz)
        assert np.array_equal(loaded.predict_proba(Xq), trained.predict_proba(Xq))
        assert loaded.sizes == [2, 6, 5, 3] and loaded.activation_names == ["relu", "leaky_relu"]
    with connect(client) as rb:                       # a fresh tab loads the file
        b = WS(rb)
        b.call(type="hello", hash=SPIRAL)
        st = b.call(type="load_model", data=base64.b64encode(npz).decode())
        assert st["sizes"] == [2, 6, 5, 3] and [l["units"] for l in st["config"]["layers"]] == [6, 5]
        again = only_session(app).model
        assert np.array_equal(again.predict_proba(Xq), loaded.predict_proba(Xq))
        exported = b.call("export", type="export_weights")["weights"]
        z = np.asarray(Xq)
        for i, layer in enumerate(exported["layers"]):
            z = z @ np.array(layer["W"]).T + np.array(layer["b"])
            if i == 0:
                z = np.maximum(z, 0)
            elif i == 1:
                z = np.where(z > 0, z, 0.01 * z)
        assert np.allclose(z, loaded.decision_function(Xq), rtol=1e-12, atol=1e-12)


def test_load_model_of_other_task_switches_task(client, app):
    reg = relunet.MLP([1, 4, 1], task="regression", seed=2)
    with connect(client) as raw:
        ws = WS(raw)
        ws.call(type="hello", hash=SPIRAL)
        st = ws.call(type="load_model", data=base64.b64encode(to_bytes(reg)).decode())
        assert st["config"]["task"] == "regression" and st["sizes"] == [1, 4, 1]
        xs = np.linspace(-1, 1, 7)
        assert np.array_equal(only_session(app).model.predict(xs[:, None]), reg.predict(xs[:, None]))


CONFIGS = [
    default_config(),
    default_config("regression"),
    Config(dataset="xor", n=17, noise=0.123456789, layers=(), optimizer="nesterov", lr=1e-4, momentum=0.95,
           batch_size=1, weight_decay=3e-5, schedule="step", target_loss=0.01, max_epochs=99, seed=12345,
           data_seed=2**31 - 1, test_fraction=0.9, resolution=200, discretize=True, hinges=False),
    Config(dataset="custom", layers=tuple(P.Layer(units=256, activation=a) for a in
                                          ["relu", "leaky_relu", "tanh", "sigmoid", "identity", "relu", "relu", "tanh"]),
           points=(P.Point(x=0.1, y=-2.5e-7, label=9), P.Point(x=1 / 3, y=1e5, label=0))),
    Config(task="regression", dataset="custom", points=(P.Point(x=-1.5, y=math.pi), P.Point(x=2.0, y=-0.0))),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_url_state_round_trip(config):
    text = encode_hash(config)
    assert decode_hash(text) == config
    assert decode_hash("#" + text) == config
    assert encode_hash(decode_hash(text)) == text


def test_url_state_reproduces_the_experiment(client, app):
    """Reloading the link gives the same data, network and initial weights."""
    with connect(client) as raw:
        ws = WS(raw)
        ws.call(type="hello", hash=SPIRAL)
        ws.call(type="set_data", dataset="moons", n=77, noise=0.05)
        ws.call(type="set_network", layers=[{"units": 9, "activation": "tanh"}])
        ws.call(type="new_seed", seed=42)
        st = ws.call(type="add_point", point={"x": 0.1234, "y": -0.5, "label": 1})
        w1 = ws.call("export", type="export_weights")["weights"]
    with connect(client) as raw:
        ws = WS(raw)
        st2 = ws.call(type="hello", hash=st["hash"])
        w2 = ws.call("export", type="export_weights")["weights"]
    assert st2["hash"] == st["hash"] and st2["points"] == st["points"] and st2["sizes"] == [2, 9, 2]
    assert w1 == w2


# ---------------------------------------------------------------------------------------------- back-propagation trace
def _token_loss(model, x, t):
    return relunet.engine.losses.LOSSES[model.loss]().value_and_grad(model.decision_function(x), t)[0]


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_trace_equals_finite_differences(task):
    base = SPIRAL_CONFIG if task == "classification" else default_config(task)
    s = Session(base.with_(layers=(P.Layer(units=5), P.Layer(units=4, activation="tanh"))))
    s.handle(P.parse_message('{"type": "step", "updates": 30}'))
    point = P.Point(x=0.3, y=-0.2, label=2) if task == "classification" else P.Point(x=0.7, y=0.4)
    tr = s.trace(point)
    model = s.model.copy()
    x = np.array([[0.3, -0.2]]) if task == "classification" else np.array([[0.7]])
    t = np.array([2]) if task == "classification" else np.array([[0.4]])
    # dW, db of every layer against central differences (relunet's gradcheck)
    report = check_model(model, x, t)
    for i, layer in enumerate(tr["layers"]):
        assert np.allclose(layer["dW"], report[2 * i]["numeric"], rtol=1e-6, atol=1e-8)
        assert np.allclose(layer["db"], report[2 * i + 1]["numeric"], rtol=1e-6, atol=1e-8)
        assert np.allclose(layer["dz"], layer["db"])               # for one token dL/db = dL/dz
    # the output delta is f - 1[y=k] (or f - y): checked from the forward values
    f = np.array(tr["f"])
    target = np.eye(3)[2] if task == "classification" else np.array([0.4])
    assert np.allclose(tr["layers"][-1]["dz"], f - target)
    # dL/dh of the first hidden layer, by perturbing h^(1) and running the rest of the network
    h1 = np.array(tr["layers"][0]["h"])
    lossf = relunet.engine.losses.LOSSES["cross_entropy" if task == "classification" else "mse"]()

    def loss_from_h1(h):
        z2 = model.linears[1].W @ h + model.linears[1].b
        z3 = model.linears[2].W @ np.tanh(z2) + model.linears[2].b
        return lossf.value_and_grad(z3[None], t)[0]

    num = [(loss_from_h1(h1 + e) - loss_from_h1(h1 - e)) / 2e-6 for e in np.eye(5) * 1e-6]
    assert np.allclose(tr["layers"][0]["dh"], num, rtol=1e-6, atol=1e-8)
    assert np.isclose(tr["loss"], _token_loss(model, x, t))
    # one SGD step on this token: W - lr dW, and the loss it gives
    stepped = model.copy()
    for lin, layer in zip(stepped.linears, tr["layers"]):
        lin.W -= tr["lr"] * np.array(layer["dW"])
        lin.b -= tr["lr"] * np.array(layer["db"])
        assert np.allclose(layer["dW_step"], -tr["lr"] * np.array(layer["dW"]))
    assert np.isclose(tr["loss_after"], _token_loss(stepped, x, t))
    assert tr["loss_after"] < tr["loss"]


def test_trace_over_websocket(client, app):
    with connect(client) as raw:
        ws = WS(raw)
        ws.call(type="hello", hash=SPIRAL)
        tr = ws.call("trace", type="trace", point={"x": 0.1, "y": 0.2, "label": 1})
        assert [len(l["z"]) for l in tr["layers"]] == [16, 16, 3] and np.isclose(sum(tr["f"]), 1.0)
        assert np.isclose(tr["loss"], -math.log(tr["f"][1]))


# ---------------------------------------------------------------------------------------------- views
def test_breakpoints_one_hidden_layer_are_minus_b_over_w():
    m = relunet.MLP([1, 6, 1], task="regression", seed=4)
    m.linears[0].b = np.linspace(-0.5, 0.5, 6)
    exact = np.sort(-m.linears[0].b / m.linears[0].W[:, 0])
    exact = exact[(exact > -2) & (exact < 2)]
    found = views.breakpoints(m, -2, 2)
    assert np.allclose(found, exact, atol=1e-9)


def test_breakpoints_deep_net_bound_linear_pieces():
    m = relunet.MLP([1, 8, 8, 1], task="regression", seed=1)
    for lin in m.linears:
        lin.b = np.random.default_rng(0).normal(0, 0.5, lin.b.shape)
    br = views.breakpoints(m, -3, 3)
    assert len(br) > 8                                          # deeper units add kinks
    edges = np.r_[-3, br, 3]
    for a, b in zip(edges[:-1], edges[1:]):                     # f is linear between consecutive breakpoints
        if b - a < 1e-6:
            continue
        xs = np.linspace(a, b, 5)[1:-1]
        f = m.predict(xs[:, None])
        assert abs(f[1] - (f[0] + f[2]) / 2) < 1e-9 * max(1, abs(f[1]))
    eps = 1e-7                                                   # and kinked at each (slopes differ) or a unit switches
    layers_l, _ = views.hidden_excitations(m, np.c_[br - eps])
    layers_r, _ = views.hidden_excitations(m, np.c_[br + eps])
    pat = lambda L: np.hstack([z > 0 for z, _ in L])
    assert np.all(np.any(pat(layers_l) != pat(layers_r), axis=1))


def test_frame_encoding_round_trip():
    rng = np.random.default_rng(0)
    k = rng.integers(0, 4, 100)
    conf = rng.uniform(0.25, 1, 100)
    data = frames.map_frame(k, conf, 4, 10, [-1, 1, -2, 2])
    kind, w, h, box, off = frames.decode_header(data)
    assert (kind, w, h, box) == (frames.MAP, 10, 10, [-1, 1, -2, 2]) and len(data) == off + 8 + 200
    assert np.array_equal(np.frombuffer(data, np.uint8, 100, off + 8), k)
    c = np.frombuffer(data, np.uint8, 100, off + 108) / 255 * 0.75 + 0.25
    assert np.max(np.abs(c - conf)) <= 0.75 / 255 / 2 + 1e-12


def test_cli_help_lists_playground(run_cli):
    r = run_cli("playground", "--help")
    assert r.returncode == 0 and "--no-browser" in r.stdout and "127.0.0.1" in r.stdout
    r = run_cli("--help")
    assert "playground" in r.stdout


def test_cli_port_in_use(run_cli):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = run_cli("playground", "--port", s.getsockname()[1], "--no-browser")
    assert r.returncode == 2 and "in use" in r.stderr


def test_settings_changed_between_trainers_apply():
    """A data edit rebuilds the trainer; settings changed before the next step must reach its optimizer."""
    s = Session(SPIRAL_CONFIG)
    s.handle(P.parse_message('{"type": "step", "updates": 3}'))
    velocity_kept = s.trainer.optimizer
    s.handle(P.parse_message('{"type": "add_point", "point": {"x": 0.1, "y": 0.1, "label": 1}}'))
    assert s.trainer is None
    s.handle(P.parse_message('{"type": "set_training", "lr": 0.007, "momentum": 0.5, "weight_decay": 0.01}'))
    s.handle(P.parse_message('{"type": "step", "updates": 1}'))
    opt = s.trainer.optimizer
    assert opt is velocity_kept                                   # momentum state carried over the edit
    assert (s.trainer.lr, opt.momentum, opt.weight_decay) == (0.007, 0.5, 0.01)
    s.handle(P.parse_message('{"type": "set_training", "optimizer": "adam"}'))
    assert type(s.trainer.optimizer).__name__ == "Adam" and s.trainer.lr == 0.007


def test_url_state_round_trip_property():
    """encode -> decode is the identity for any valid configuration (hypothesis draws them)."""
    from hypothesis import given, settings, strategies as st

    from relunet.data import DATASETS

    finite = dict(allow_nan=False, allow_infinity=False)
    layer = st.builds(P.Layer, units=st.integers(1, 256), activation=st.sampled_from(list(P.ACTIVATIONS)))
    cls_point = st.builds(P.Point, x=st.floats(-1e6, 1e6, **finite), y=st.floats(-1e6, 1e6, **finite),
                          label=st.integers(0, 9))

    @st.composite
    def configs(draw):
        task = draw(st.sampled_from(["classification", "regression"]))
        names = [k for k, s in DATASETS.items() if s.task == task] + ["custom"]
        dataset = draw(st.sampled_from(names))
        points = None
        if dataset == "custom":
            pts = draw(st.lists(cls_point, max_size=20))
            points = tuple(P.Point(x=p.x, y=p.y) if task == "regression" else p for p in pts)
        return Config(
            task=task, dataset=dataset, points=points, n=draw(st.integers(1, 10_000)),
            noise=draw(st.floats(0, 10, **finite)), classes=draw(st.integers(2, 10)),
            data_seed=draw(st.integers(0, 2**31 - 1)), test_fraction=draw(st.floats(0, 0.9, **finite)),
            layers=tuple(draw(st.lists(layer, max_size=8))),
            optimizer=draw(st.sampled_from(["sgd", "momentum", "nesterov", "adam"])),
            lr=draw(st.floats(1e-12, 10, **finite)), momentum=draw(st.floats(0, 0.999, **finite)),
            batch_size=draw(st.integers(1, 10_000)), weight_decay=draw(st.floats(0, 10, **finite)),
            schedule=draw(st.sampled_from(["constant", "invscaling", "step"])),
            target_loss=draw(st.none() | st.floats(0, 1e3, **finite)),
            max_epochs=draw(st.none() | st.integers(1, 10_000_000)), seed=draw(st.integers(0, 2**31 - 1)),
            resolution=draw(st.integers(10, 200)), discretize=draw(st.booleans()), hinges=draw(st.booleans()))

    @settings(max_examples=150, deadline=None)
    @given(configs())
    def round_trip(config):
        assert decode_hash(encode_hash(config)) == config

    round_trip()


# ---------------------------------------------------------------------------------------------- exact regions overlay
def _decode_regions(data):
    kind, _, _, box, off = frames.decode_header(data)
    assert kind == frames.REGIONS
    R, S, V, _ = (int(v) for v in np.frombuffer(data, np.uint32, 4, off))
    off += 16
    counts = np.frombuffer(data, np.uint16, R, off)
    off += 2 * R + (-2 * R) % 4
    vertices = np.frombuffer(data, np.float32, 2 * V, off).reshape(V, 2)
    off += 8 * V
    segments = np.frombuffer(data, np.float32, 4 * S, off).reshape(S, 2, 2)
    classes = np.frombuffer(data, np.uint8, 2 * S, off + 16 * S).reshape(S, 2)
    return box, counts, vertices, segments, classes


def test_exact_regions_overlay_is_relunet_pwl(client, app):
    from relunet.pwl import decision_boundary, linear_regions

    with connect(client) as raw:
        ws = WS(raw)
        ws.call(type="hello", hash=SPIRAL)
        box = [-1.0, 1.0, -1.0, 1.0]
        ws.send(type="set_view", box=box, exact=True)
        summary = ws.until("pwl")
        data = ws.until(frames.REGIONS)
        session = only_session(app)
        assert session.config.exact and "exact=1" in encode_hash(session.config)
        part = linear_regions(session.model, box)
        bnd = decision_boundary(session.model, box, partition=part)
        assert summary["available"] and summary["count"] == len(part) and summary["pieces"] == bnd.count
        fbox, counts, vertices, segments, classes = _decode_regions(data)
        assert fbox == box and len(counts) == len(part) and counts.sum() == len(vertices)
        first = part.polygon(0)
        np.testing.assert_allclose(vertices[:len(first)], first, rtol=1e-6, atol=1e-6)   # float32 on the wire
        np.testing.assert_allclose(segments, bnd.segments, rtol=1e-6, atol=1e-6)
        np.testing.assert_array_equal(classes, bnd.segment_classes)

        # a tanh network is not piece-wise linear: the page is told why, nothing breaks
        ws.send(type="set_network", layers=[{"units": 8, "activation": "tanh"}])
        m = ws.until("pwl")
        while m["available"]:
            m = ws.until("pwl")
        assert "not piece-wise linear" in m["reason"]
        ws.call(type="pwl_regions", kind="pwl")


def test_exact_regions_refresh_while_training():
    """While playing, the overlay is recomputed at most every EXACT_SECONDS (and tracks the weights)."""
    from relunet.playground.session import EXACT_SECONDS
    from relunet.pwl import linear_regions

    s = Session(SPIRAL_CONFIG)
    s.handle(P.parse_message(json.dumps({"type": "set_view", "exact": True})))
    first = s.exact_items(force=True)
    assert first[0]["count"] == len(linear_regions(s.model, s.box))
    assert s.exact_items() == []                      # not due yet
    s._exact.due -= EXACT_SECONDS + 1.0
    s._ensure_trainer().step(50)
    again = s.exact_items()
    assert again and again[0]["count"] == len(linear_regions(s.model, s.box))


def test_training_steps_aside_while_a_message_from_the_page_is_answered():
    """Driver.receive clears its `_quiet` event while it answers; train_for stops at its next chunk then, and the
    driver trains again only once the reply has gone (the page's click is not kept waiting by the training)."""
    import threading

    from relunet.playground.driver import Driver

    s = Session()
    s.playing = True
    answering = threading.Event()
    assert s.train_for(0.05, until=answering) is None and s.updates == 0    # cleared from the start: no update
    answering.set()
    s.train_for(0.02, until=answering)
    assert s.updates > 0

    seen = []
    driver = Driver(s, lambda item: None)
    real = s.handle
    s.handle = lambda m: seen.append((driver._quiet.is_set(), s.updates)) or real(m)
    driver.start()
    try:
        for _ in range(5):
            driver.receive(json.dumps({"type": "set_view", "discretize": False}))
            assert seen[-1][0] is False                 # answered with training held back
        assert driver._quiet.is_set() and len(seen) == 5
    finally:
        driver.close()
