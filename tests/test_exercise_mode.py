"""The exercise mode of the playground's session: the exercise's network and tokens become the page's own,
every change (hinge message, graph edit, training) is graded as relunet.exercises.check grades the session's
model, and Undo brings back the page before the exercise or the exercise with its network.

Expectations are computed another way: NumPy forward passes, point-in-triangle by barycentric signs, and
check() run on copies of the weights outside the session.
"""

import numpy as np
import pytest

from relunet import exercises as E
from relunet.playground.driver import respond
from relunet.playground.session import Session
from relunet.playground.state import default_config


def forward(w, X):
    """z = W2 ReLU(W1 x + b1) + b2 for the weights a reply carries."""
    h = np.maximum(0.0, X @ np.array(w["W1"]).T + w["b1"])
    return h @ np.array(w["W2"]).T + w["b2"]


def graded(replies):
    """The grade among a list of replies (the last one)."""
    out = [r for r in replies if isinstance(r, dict) and r.get("type") == "exercise"]
    assert out, [r.get("type") if isinstance(r, dict) else "frame" for r in replies]
    return out[-1]


def same_grade(reply, model, name):
    want = E.check(name, model.copy()).to_json()
    for k in ("passed", "reasons", "hidden", "used", "regions", "correct", "mismatch_area"):
        assert reply["result"].get(k) == pytest.approx(want.get(k)), k


def test_opening_makes_the_exercise_the_sessions_experiment():
    s = Session(default_config())
    [state, lecture, r] = respond(s, {"type": "exercise_open", "name": "xor"})
    ex = E.get("xor")
    X, y = ex.points()
    np.testing.assert_array_equal(s.X, X)
    np.testing.assert_array_equal(s.y, y)
    assert s.model.sizes == [2, 2, 2] and s.model.activation_names == ["relu"] and s.model.task == "classification"
    c = s.config
    assert (c.dataset, c.exact, c.hinges, c.test_fraction) == ("custom", True, True, 0.0)
    assert (c.optimizer, c.batch_size) == ("sgd", 1)
    assert state["sizes"] == [2, 2, 2] and lecture["undo"] == 1
    assert s.box == [-1.2, 1.2, -1.2, 1.2]
    # the reply's network is the session's, and its grade is check's on it
    np.testing.assert_array_equal(np.array(r["weights"]["W1"]), s.model.linears[0].W)
    assert r["exercise"]["name"] == "xor" and [e["name"] for e in r["list"]] == list(E.EXERCISES)
    same_grade(r, s.model, "xor")
    assert r["result"]["wrong"] == 40          # zero output weights: z_0 = z_1, a tie everywhere


def test_a_region_target_trains_on_tokens_labelled_by_its_polygon():
    s = Session(default_config())
    [_, _, r] = respond(s, {"type": "exercise_open", "name": "triangle"})
    assert r["exercise"]["kind"] == "region" and not r["result"]["passed"] and len(r["weights"]["W1"]) == 2
    assert len(s.X) == 300 and s.box == [-1.0, 1.0, -1.0, 1.0]
    # inside the triangle (-0.8,-0.6), (0.8,-0.6), (0,0.8) by the signs of the three edge cross products
    A, B, C = np.array([[-0.8, -0.6], [0.8, -0.6], [0.0, 0.8]])
    cross = lambda p, q, X: (q[0] - p[0]) * (X[:, 1] - p[1]) - (q[1] - p[1]) * (X[:, 0] - p[0])
    inside = (cross(A, B, s.X) > 0) & (cross(B, C, s.X) > 0) & (cross(C, A, s.X) > 0)
    np.testing.assert_array_equal(s.y, inside.astype(int))
    assert 0 < s.y.sum() < 300
    [state, r] = respond(s, {"type": "exercise_reference"})
    assert state["sizes"] == [2, 3, 2] and r["result"]["passed"] and r["result"]["mismatch_area"] < 0.02 * 1.12
    same_grade(r, s.model, "triangle")


def test_hinge_message_sets_one_row_of_W1_exactly_and_echoes_its_number():
    s = Session(default_config())
    respond(s, {"type": "exercise_open", "name": "triangle"})
    respond(s, {"type": "exercise_reference"})
    before = [w.copy() for w in s.model.get_weights()]
    [r] = respond(s, {"type": "exercise_hinge", "unit": 1, "w": [0.25, -2.0], "b": 0.5, "seq": 7})
    assert s.model.linears[0].W[1].tolist() == [0.25, -2.0] and s.model.linears[0].b[1] == 0.5
    np.testing.assert_array_equal(np.delete(s.model.linears[0].W, 1, axis=0), np.delete(before[0], 1, axis=0))
    np.testing.assert_array_equal(s.model.linears[1].W, before[2])
    assert r["seq"] == 7 and r["weights"]["W1"][1] == [0.25, -2.0] and not r["result"]["passed"]
    same_grade(r, s.model, "triangle")
    # solved output weights: the largest is 10, and they pass on the reference's own hinge lines
    respond(s, {"type": "exercise_reference"})
    s.model.linears[1].W[...] = 0
    [r] = respond(s, {"type": "exercise_solve"})
    assert max(abs(v) for row in r["weights"]["W2"] for v in row + r["weights"]["b2"]) == pytest.approx(10)
    assert r["result"]["passed"]


def test_a_graph_edit_of_W2_is_graded_with_the_next_frame():
    s = Session(default_config())
    respond(s, {"type": "exercise_open", "name": "lecture"})
    respond(s, {"type": "exercise_reference"})
    s.render()
    assert not any(isinstance(o, dict) and o.get("type") == "exercise" for o in s.render())   # nothing changed
    # the graph's edit: W2[1, 0] (layer 2, row 1, column 0) becomes -1
    [w] = respond(s, {"type": "edit_weight", "layer": 2, "row": 1, "col": 0, "value": -1.0})
    assert w["type"] == "weights" and s.model.linears[1].W[1, 0] == -1.0
    r = graded(s.render())
    same_grade(r, s.model, "lecture")
    X, y = E.get("lecture").points()
    z = forward(r["weights"], X)
    assert r["result"]["correct"] == (z[np.arange(len(y)), y] > z[np.arange(len(y)), 1 - y]).tolist()
    assert not r["result"]["passed"]


def test_training_moves_the_grade_with_the_weights():
    s = Session(default_config())
    respond(s, {"type": "exercise_open", "name": "lecture"})
    first = graded(respond(s, {"type": "exercise_hinge", "unit": 0, "w": [-0.4, 0.9], "b": 0.1}))
    assert not any(isinstance(o, dict) and o.get("type") == "exercise" for o in s.render())   # graded already
    respond(s, {"type": "step", "updates": 400})
    assert s.updates == 400 and s.model.linears[1].W.any()        # SGD from the hand-built weights
    r = graded(s.render())
    assert r["result"] != first["result"]
    same_grade(r, s.model, "lecture")
    X, y = E.get("lecture").points()
    z = forward(r["weights"], X)
    np.testing.assert_allclose(np.array(r["result"]["margin"]), z[np.arange(len(y)), y] - z[np.arange(len(y)), 1 - y],
                               atol=1e-9)


def test_undo_brings_back_the_page_before_and_the_exercise_with_its_network():
    s = Session(default_config())
    start = s.config
    respond(s, {"type": "exercise_open", "name": "xor"})
    respond(s, {"type": "exercise_hinge", "unit": 0, "w": [1.0, -1.0], "b": 0.0})
    built = [w.copy() for w in s.model.get_weights()]
    # a lecture step leaves the exercise ...
    respond(s, {"type": "lecture", "step": 2})
    assert "exercise" not in s.ext or graded(s.render()) == {"type": "exercise", "closed": True}
    assert s.model.sizes == [2, 4, 2] and s.config.dataset == "lecture"
    # ... and Undo brings it back, with its network
    replies = respond(s, {"type": "undo"})
    r = graded(replies)
    assert r["name"] == "xor" and r["exercise"]["name"] == "xor"
    assert all(np.array_equal(a, b) for a, b in zip(s.model.get_weights(), built))
    np.testing.assert_array_equal(s.X, E.get("xor").points()[0])
    respond(s, {"type": "exercise_hinge", "unit": 1, "w": [0.0, 1.0], "b": 0.0})   # still open on this network
    # Close keeps data and network as an ordinary experiment; Undo opens it again
    replies = respond(s, {"type": "exercise_close"})
    assert replies[-1] == {"type": "exercise", "closed": True} and "exercise" not in s.ext
    assert s.config.dataset == "custom" and s.model.sizes == [2, 2, 2]
    assert graded(respond(s, {"type": "undo"}))["name"] == "xor"
    # the first Undo of all: the page as it was before the exercise opened
    assert graded(respond(s, {"type": "undo"})) == {"type": "exercise", "closed": True}
    assert s.config == start and s.model.sizes == [2, 2] and "exercise" not in s.ext


def test_a_data_preset_leaves_the_exercise_and_undo_brings_it_back():
    s = Session(default_config())
    respond(s, {"type": "exercise_open", "name": "lecture"})
    respond(s, {"type": "exercise_reference"})
    built = [w.copy() for w in s.model.get_weights()]
    [err, _] = respond(s, {"type": "set_data", "noise": 0.3})      # hand-made data: refused, the exercise stays
    assert err["type"] == "error" and "exercise" in s.ext and len(s.ext["lecture"]["undo"]) == 1
    replies = respond(s, {"type": "set_data", "dataset": "moons"})
    assert replies[-1] == {"type": "exercise", "closed": True} and s.config.dataset == "moons"
    assert "exercise" not in s.ext and replies[1]["undo"] == 2
    r = graded(respond(s, {"type": "undo"}))
    assert r["name"] == "lecture" and r["result"]["passed"]
    assert all(np.array_equal(a, b) for a, b in zip(s.model.get_weights(), built))


def test_building_another_network_leaves_the_exercise():
    s = Session(default_config())
    respond(s, {"type": "exercise_open", "name": "lecture"})
    respond(s, {"type": "set_network", "layers": [{"units": 5}]})
    assert graded(s.render()) == {"type": "exercise", "closed": True} and "exercise" not in s.ext
    [err, _] = respond(s, {"type": "exercise_solve"})
    assert err == {"type": "error", "message": "no exercise is open; choose one in the Exercises panel first"}


def test_bad_messages_are_refused_and_the_session_is_unchanged():
    s = Session(default_config())
    [err, _] = respond(s, {"type": "exercise_hinge", "unit": 0, "w": [1.0, 0.0], "b": 0.0})
    assert "no exercise is open" in err["message"]
    respond(s, {"type": "exercise_open", "name": "triangle"})

    def snapshot():
        return (s.config, [w.copy() for w in s.model.get_weights()], s.X.copy(), s.ext["exercise"]["name"],
                len(s.ext["lecture"]["undo"]))

    before = snapshot()
    bad = [({"type": "exercise_units", "count": 4}, "exercise 'triangle' allows at most 3 hidden units"),
           ({"type": "exercise_hinge", "unit": 2, "w": [1.0, 0.0], "b": 0.0}, "there is no unit 2"),
           ({"type": "exercise_hinge", "unit": 0, "w": [0.0, 0.0], "b": 1.0}, "needs w != (0, 0)"),
           ({"type": "exercise_hinge", "unit": 0, "w": [1.0, float("nan")], "b": 0.0}, "finite"),
           ({"type": "exercise_hinge", "unit": 0, "w": [1e6, 0.0], "b": 0.0}, "less than or equal to 100000"),
           ({"type": "exercise_output", "W2": [[1.0], [2.0]], "b2": [0.0, 0.0]}, "2 rows of 2 weights"),
           ({"type": "exercise_open", "name": "nope"}, "name: input should be 'lecture', 'xor'"),
           ({"type": "exercise_open", "name": "xor",
             "net": {"W1": [[1.0, 0.0]], "b1": [0.0, 1.0], "W2": [[0.0], [1.0]], "b2": [0.0, 0.0]}}, "shapes do not match"),
           ({"type": "exercise_open", "name": "triangle",
             "net": {"W1": [[1.0, 0.0]] * 4, "b1": [0.0] * 4, "W2": [[0.0] * 4] * 2, "b2": [0.0, 0.0]}},
            "allows at most 3 hidden units, got 4")]
    for m, words in bad:
        replies = respond(s, m)
        assert replies[0]["type"] == "error" and words in replies[0]["message"], (m, replies[0])
        after = snapshot()
        assert after[0] == before[0] and after[3:] == before[3:] and np.array_equal(after[2], before[2])
        assert all(np.array_equal(a, b) for a, b in zip(after[1], before[1]))
    # a network from the link is taken as it is
    net = {"W1": [[1.0, 0.0]], "b1": [0.0], "W2": [[0.0], [1.0]], "b2": [0.0, 0.0]}
    [_, _, r] = respond(s, {"type": "exercise_open", "name": "xor", "net": net})
    assert r["weights"]["W1"] == [[1.0, 0.0]] and r["result"]["hidden"] == 1 and s.model.sizes == [2, 1, 2]


def test_every_exercise_opens_on_the_page_and_its_reference_passes():
    s = Session(default_config())
    for name, ex in E.EXERCISES.items():
        [_, _, r] = respond(s, {"type": "exercise_open", "name": name})
        X, y = s.X, s.y
        if ex.kind == "points":
            np.testing.assert_array_equal(X, ex.points()[0])
        else:
            assert r["exercise"]["polygons"] and 0 < len(X) <= 300 and 0 < y.sum() < len(y)
        [state, r] = respond(s, {"type": "exercise_reference"})
        assert r["result"]["passed"] and state["sizes"] == ex.reference().sizes, name
