"""The watched SGD step drawn exactly (playground/step_geometry.py): the server's boundary and hinge lines of the
network W + t s dW_step against relunet.pwl run here on weights stepped with NumPy from the trace's gradients,
and a 2-1-2 network whose boundary before and after the step is worked out on paper.
"""

import json
import math

import numpy as np
import pytest

import relunet
from relunet.playground import protocol as P, step_geometry
from relunet.playground.driver import respond
from relunet.playground.session import Session
from relunet.playground.state import default_config
from relunet.pwl import decision_boundary


def ask(session, point, step_id, scale, ts, box):
    return respond(session, {"type": "step_geometry", "point": point, "step_id": step_id, "scale": scale,
                             "ts": ts, "box": box})


def canon(segments):
    """Segments [x0, y0, x1, y1] as a sorted (S, 4) array, each with its endpoints in a fixed order."""
    S = np.asarray(segments, float).reshape(-1, 4)
    flip = (S[:, 0] > S[:, 2] + 1e-9) | ((np.abs(S[:, 0] - S[:, 2]) <= 1e-9) & (S[:, 1] > S[:, 3]))
    S[flip] = S[flip][:, [2, 3, 0, 1]]
    return S[np.lexsort(np.round(S, 7).T[::-1])]


def stepped_by_hand(sizes, trace, eta):
    """The network after a step eta = t s lr: W - eta (dL/dW + weight_decay W), b - eta dL/db (NumPy)."""
    m = relunet.MLP(sizes, seed=0)
    wd = trace["weight_decay"]
    for lin, rec in zip(m.linears, trace["layers"]):
        W, b = np.array(rec["W"]), np.array(rec["b"])
        lin.W[...] = W - eta * (np.array(rec["dW"]) + wd * W)
        lin.b[...] = b - eta * np.array(rec["db"])
    return m


@pytest.mark.parametrize("hidden, ts", [((12,), [0.0, 0.5, 1.0]), ((64, 64), [1.0])])
def test_positions_equal_pwl_of_the_stepped_network(hidden, ts, monkeypatch):
    """Any depth: 2-12-3 at three positions, 2-64-64-3 (the issue's deep net) after the step."""
    monkeypatch.setattr(step_geometry, "STEP_BUDGET", 60.0)        # every asked position in one answer
    config = default_config().with_(dataset="gaussians", n=60, classes=3, weight_decay=0.01,
                                    layers=tuple(P.Layer(units=u) for u in hidden))
    s = Session(config)
    s.handle(P.parse_message('{"type": "step", "updates": 60}'))
    point = {"x": 0.2, "y": -0.4, "label": 2}
    tr = s.trace(P.Point(**point))
    box, scale = [-2.0, 2.0, -1.5, 1.5], 7.0
    (reply,) = ask(s, point, tr["step_id"], scale, ts, box)
    assert [p["t"] for p in reply["positions"]] == ts and reply["box"] == box and reply["scale"] == scale
    for pos in reply["positions"]:
        model = stepped_by_hand([2, *hidden, 3], tr, pos["t"] * scale * tr["lr"])
        bnd = decision_boundary(model, box)
        assert len(pos["boundary"]) == bnd.count > 0
        np.testing.assert_allclose(canon(pos["boundary"]), canon(bnd.segments.reshape(-1, 4)), atol=1e-9)
        W1, b1 = model.linears[0].W, model.linears[0].b
        np.testing.assert_allclose(pos["hinges"]["W"], W1, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(pos["hinges"]["b"], b1, rtol=1e-12, atol=1e-14)
        for (w1, w2), c, seg in zip(W1, b1, pos["hinges"]["segments"]):
            if seg is not None:           # both ends on the line w_j x + b_j = 0, on the box's edge
                ends = np.reshape(seg, (2, 2))
                np.testing.assert_allclose(ends @ [w1, w2] + c, 0, atol=1e-9)
    json.dumps(reply, allow_nan=False)


def test_a_2_1_2_network_worked_on_paper():
    """h = relu(x1), z = (0.5, h): the boundary is x1 = 0.5. The token x = (1, 0) of class 0 has f = (1 - p, p)
    with p = sigmoid(0.5), so dL/dz2 = (-p, p), dL/dW2 = (-p, p) h, dL/dh = p, dL/dW1 = (p, 0), dL/db1 = p.
    With eta p = q: W1 = (1 - q, 0), b1 = -q, z0 = q h + 0.5 + q, z1 = (1 - q) h - q; they tie at
    h = (0.5 + 2q) / (1 - 2q), i.e. x1 = (h + q) / (1 - q): 13/12 for q = 0.1 and 43/57 for q = 0.05. The hinge
    line x1 = 0 moves to x1 = q / (1 - q)."""
    s = Session(default_config().with_(layers=(P.Layer(units=1),)))
    m = s.model
    m.linears[0].W[...] = [[1.0, 0.0]]
    m.linears[0].b[...] = [0.0]
    m.linears[1].W[...] = [[0.0], [1.0]]
    m.linears[1].b[...] = [0.5, 0.0]
    point = {"x": 1.0, "y": 0.0, "label": 0}
    tr = s.trace(P.Point(**point))
    p = 1 / (1 + math.exp(-0.5))
    np.testing.assert_allclose(tr["layers"][1]["dz"], [-p, p], rtol=1e-12)
    scale = 0.1 / (p * tr["lr"])                                    # eta p = t s lr p = 0.1 t
    box = [-2.0, 2.0, -2.0, 2.0]
    replies = []
    for t in (0.0, 1.0, 0.5):
        replies += ask(s, point, tr["step_id"], scale, [t], box)[0]["positions"]
    for pos, x1, hinge in zip(replies, [0.5, 13 / 12, 43 / 57], [0.0, 1 / 9, 0.05 / 0.95]):
        np.testing.assert_allclose(canon(pos["boundary"]), [[x1, -2.0, x1, 2.0]], atol=1e-12)
        np.testing.assert_allclose(pos["hinges"]["segments"], [[hinge, -2.0, hinge, 2.0]], atol=1e-12)


def test_the_answer_stops_at_its_time_budget(monkeypatch):
    """At least one position per answer; the page asks again for the rest."""
    monkeypatch.setattr(step_geometry, "STEP_BUDGET", 0.0)
    s = Session(default_config().with_(layers=(P.Layer(units=4),)))
    point = {"x": 0.5, "y": 0.5, "label": 1}
    tr = s.trace(P.Point(**point))
    (reply,) = ask(s, point, tr["step_id"], 1.0, [0.0, 1.0, 0.5], [-1.0, 2.0, -1.0, 2.0])
    assert [p["t"] for p in reply["positions"]] == [0.0]


def test_stale_steps_reasons_and_bad_messages():
    s = Session(default_config().with_(layers=(P.Layer(units=4),)))
    point = {"x": 0.5, "y": 0.5, "label": 1}
    box = [-1.0, 2.0, -1.0, 2.0]
    tr = s.trace(P.Point(**point))
    # the network moved on (one update): the traced step is no longer the session's
    s.handle(P.parse_message('{"type": "step", "updates": 1}'))
    (reply,) = ask(s, point, tr["step_id"], 1.0, [0.0], box)
    assert reply["stale"] and "positions" not in reply
    # so did the learning rate: the same weights but another step
    tr = s.trace(P.Point(**point))
    s.handle(P.parse_message('{"type": "set_training", "lr": 0.3}'))
    assert ask(s, point, tr["step_id"], 1.0, [0.0], box)[0]["stale"]
    # a network that is not piece-wise linear, one too large to trace whole, a class the model does not have
    for layers, label, why in [((P.Layer(units=4, activation="tanh"),), 1, "not piece-wise linear"),
                               ((P.Layer(units=65), P.Layer(units=65)), 1, "more than 4,096 weights"),
                               ((P.Layer(units=4),), 5, "class 5 is not one of")]:
        t = Session(default_config().with_(layers=layers))
        (reply,) = ask(t, {"x": 0.5, "y": 0.5, "label": label}, "0" * 24, 1.0, [0.0], box)
        assert why in reply["reason"] and "positions" not in reply
    # mistakes in the message: an error sentence, and the session goes on
    weights = [w.copy() for w in s.model.get_weights()]
    for bad, why in [({"box": [1.0, 0.0, 0.0, 1.0]}, "is empty"), ({"ts": [1.5]}, "ts.0"),
                     ({"ts": [0.0] * 18}, "ts"), ({"scale": 0.0}, "scale"), ({"step_id": ""}, "step_id")]:
        msg = {"type": "step_geometry", "point": point, "step_id": "x", "scale": 1.0, "ts": [0.0], "box": box} | bad
        replies = respond(s, msg)
        assert replies[0]["type"] == "error" and why in replies[0]["message"] and replies[1]["type"] == "state"
    assert all(np.array_equal(a, b) for a, b in zip(s.model.get_weights(), weights))
    # a diverged network (NaN weights) cannot be traced: a reason, not an error, so the page stops waiting
    s.model.linears[0].W[0, 0] = np.nan
    (reply,) = ask(s, point, tr["step_id"], 1.0, [0.0], box)
    assert "NaN or infinite" in reply["reason"]
