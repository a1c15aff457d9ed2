"""The classroom parts of the playground's server: the lecture path and its undo, run B of a comparison, the
trace that follows the weights, the map of classes with data, and the transport-agnostic driver.

Expectations are computed another way: a fresh MLP and Trainer with the same seed, NumPy forward passes, and
the gradient of one token by central differences.
"""

import json
import threading
import time

import numpy as np
import pytest

import relunet
from relunet.engine.train import Trainer
from relunet.playground import frames, protocol as P, views
from relunet.playground.driver import Driver, respond
from relunet.playground.lecture import STEPS, current_step, on_render, step_config
from relunet.playground.session import Session
from relunet.playground.state import default_config


def msg(**m):
    return P.parse_message(json.dumps(m))


def test_the_page_opens_on_the_lecture():
    s = Session(default_config())
    X, y = relunet.make_dataset("lecture", 90, 0.12, seed=0)
    np.testing.assert_array_equal(s.X, X)
    np.testing.assert_array_equal(s.y, y)
    assert s.model.sizes == [2, 2]                                   # the linear classifier argmax(Wx + b)
    c = s.config
    assert (c.optimizer, c.batch_size, c.test_fraction, c.exact) == ("sgd", 1, 0.0, True)
    s.handle(msg(type="step", updates=1))
    assert type(s.trainer.optimizer).__name__ == "SGD" and s.trainer.batch_size == 1   # per-sample SGD


def test_lecture_steps_and_undo_restore_the_page_exactly():
    s = Session(default_config())
    info = s.handle(msg(type="lecture"))[0]
    assert [st["title"] for st in info["steps"]] == [st["title"] for st in STEPS] and info["undo"] == 0
    s.handle(msg(type="lecture", step=2))
    assert s.model.sizes == [2, 4, 2] and s.config == step_config(2)
    fresh = relunet.MLP([2, 4, 2], seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(s.model.get_weights(), fresh.get_weights()))
    s.handle(msg(type="step", updates=37))
    trained = [w.copy() for w in s.model.get_weights()]
    replies = s.handle(msg(type="lecture", step=4))
    assert replies[1]["current"] == 4 and replies[1]["undo"] == 2
    assert s.config.task == "regression" and s.model.sizes == [1, 8, 1]
    replies = s.handle(msg(type="undo"))
    assert replies[1]["current"] == 2 and s.config == step_config(2) and s.updates == 37
    assert all(np.array_equal(a, b) for a, b in zip(s.model.get_weights(), trained))   # the weights came back
    s.handle(msg(type="undo"))
    assert s.model.sizes == [2, 2] and s.updates == 0 and s.config == default_config()


def test_the_last_step_is_the_quiz_and_undo_leaves_it():
    """Step 5 opens the lecture's exercise on the page (its data, a [2, 2, 2] network to build); Undo: step 4."""
    s = Session(default_config())
    info = s.handle(msg(type="lecture"))[0]
    assert len(info["steps"]) == 5 and [st["mode"] for st in info["steps"]] == ["add", "add", "trace", "add", "exercises"]
    assert info["steps"][4]["title"] == "The quiz: draw the boundary yourself"
    s.handle(msg(type="lecture", step=4))
    s.handle(msg(type="step", updates=5))
    step4 = [w.copy() for w in s.model.get_weights()]
    replies = s.handle(msg(type="lecture", step=5))
    assert replies[1]["current"] == 5 and s.config == step_config(5) and s.config.task == "classification"
    assert replies[2]["type"] == "exercise" and replies[2]["exercise"]["name"] == "lecture"
    X, y = relunet.make_dataset("lecture", 90, 0.12, seed=0)
    np.testing.assert_array_equal(s.X, X)
    assert s.model.sizes == [2, 2, 2] and not s.model.linears[1].W.any()    # hinge lines to place, W2 to set
    replies = s.handle(msg(type="undo"))
    assert replies[1]["current"] == 4 and s.config == step_config(4) and s.updates == 5
    assert all(np.array_equal(a, b) for a, b in zip(s.model.get_weights(), step4))


def test_the_page_leaves_its_step_when_another_message_changes_its_data_or_depth():
    """Step 2, then the spiral preset and a 64-64 net, or Close at the quiz: the bar still named the step."""
    s = Session(default_config())
    s.handle(msg(type="lecture", step=2))
    s.handle(msg(type="set_network", layers=[{"units": 8}]))     # more units, one hidden layer: still step 2
    s.handle(msg(type="set_training", lr=0.5))
    assert on_render(s) == [] and current_step(s) == 2
    s.handle(msg(type="set_network", layers=[{"units": 64}, {"units": 64}]))
    replies = on_render(s)
    assert replies[0]["type"] == "lecture" and replies[0]["current"] is None and current_step(s) is None
    assert on_render(s) == []                                    # told once
    s.handle(msg(type="lecture", step=5))
    assert on_render(s) == [] and current_step(s) == 5
    assert "below it on a phone" in STEPS[2]["text"] and not any("on the right" in st["text"] for st in STEPS)
    replies = s.handle(msg(type="exercise_close"))
    assert replies[1]["type"] == "lecture" and replies[1]["current"] is None and current_step(s) is None


def test_run_b_trains_in_lockstep_with_its_own_settings():
    """B sees as many tokens as A; its weights are those of its own Trainer run for the same number of updates."""
    s = Session(default_config())
    s.handle(msg(type="set_network", layers=[{"units": 3}]))
    s.handle(msg(type="compare", layers=[{"units": 6}], batch_size=8, lr=0.2))
    s.playing = True
    s.train_for(0.05)
    s.playing = False
    a, b = s.trainer, s.twin.trainer
    tokens_a = a.epoch * len(a.X) + a.epoch_position
    tokens_b = b.epoch * len(b.X) + b.epoch_position
    assert tokens_a > 0 and tokens_a <= tokens_b < tokens_a + 8
    # the same run done by hand: a fresh [2, 6, 2] net from the session's seed, batch 8, lr 0.2
    ref = relunet.MLP([2, 6, 2], seed=s.config.seed)
    t = Trainer(ref, s.X, s.y, optimizer="sgd", lr=0.2, batch_size=8, seed=np.random.default_rng([s.config.seed, 0]))
    t.step(b.updates)
    for w, r in zip(s.twin.model.get_weights(), ref.get_weights()):
        np.testing.assert_allclose(w, r, rtol=1e-12, atol=1e-12)
    out = s.render()
    twin_maps = [o for o in out if isinstance(o, bytes) and o[3] == frames.MAP | frames.TWIN]
    (mb,) = [o for o in out if isinstance(o, dict) and o["type"] == "metrics_b"]
    assert len(twin_maps) == 1 and mb["sizes"] == [2, 6, 2] and mb["updates"] == b.updates
    f = ref.predict_proba(s.X)
    assert np.isclose(mb["train"]["loss"], -np.mean(np.log(f[np.arange(len(s.y)), s.y])))
    # new data: both runs keep their weights and stay in lockstep from the epoch they are in
    kept = [w.copy() for w in s.twin.model.get_weights()]
    s.handle(msg(type="add_point", point={"x": 0.2, "y": 0.2, "label": 1}))
    assert all(np.array_equal(w, k) for w, k in zip(s.twin.model.get_weights(), kept))
    s.playing = True
    s.train_for(0.05)
    s.playing = False
    a, b = s.trainer, s.twin.trainer
    assert len(a.X) == len(b.X) == 91
    assert 0 <= (b.epoch * 91 + b.epoch_position) - (a.epoch * 91 + a.epoch_position) < 8
    # a reset restarts both runs from the seed
    s.handle(msg(type="reset"))
    assert s.twin.trainer is None and all(np.array_equal(w, r) for w, r in
                                          zip(s.twin.model.get_weights(), relunet.MLP([2, 6, 2], seed=0).get_weights()))
    assert s.handle(msg(type="compare", on=False))[0] == {"type": "metrics_b", "off": True} and s.twin is None


def test_trace_follows_the_weights_and_is_cleared_with_the_data():
    s = Session(step_config(3))
    point = {"x": 0.8, "y": 0.05, "label": 0}
    s.handle(msg(type="trace", point=point))
    s.handle(msg(type="step", updates=20))
    (tr,) = [o for o in s.render() if isinstance(o, dict) and o["type"] == "trace"]
    # the gradient of this token at the current weights, by central differences
    x, W1, b1 = np.array([[0.8, 0.05]]), s.model.linears[0].W, s.model.linears[0].b

    def loss():
        return -np.log(s.model.predict_proba(x)[0, 0])

    num = np.zeros_like(W1)
    for idx in np.ndindex(W1.shape):
        old = W1[idx]
        W1[idx] = old + 1e-6
        up = loss()
        W1[idx] = old - 1e-6
        num[idx] = (up - loss()) / 2e-6
        W1[idx] = old
    np.testing.assert_allclose(tr["layers"][0]["dW"], num, rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(tr["layers"][0]["b"], b1)
    s.handle(msg(type="add_point", point={"x": 0.1, "y": 0.1, "label": 1}))
    assert {"type": "trace", "cleared": True} in s.render()
    assert not any(isinstance(o, dict) and o["type"] == "trace" for o in s.render())


def test_stray_class_outputs_shrink_back_and_the_map_paints_only_classes_with_data():
    s = Session(default_config())
    s.handle(msg(type="add_point", point={"x": 0.6, "y": 0.2, "label": 6}))
    assert s.model.n_outputs == 7
    k, _ = views.decision_map(s.view_model(), s.map_grid(), s.present_classes())
    assert set(np.unique(k)) <= {0, 1, 6}
    z = s.view_model().decision_function(s.map_grid())
    z[:, 2:6] = -np.inf
    np.testing.assert_array_equal(k, z.argmax(axis=1))
    s.handle(msg(type="remove_point", x=0.6, y=0.2))
    assert s.model.n_outputs == 2


def test_driver_answers_every_message_and_streams_frames():
    s = Session(default_config())
    replies = respond(s, {"type": "set_training", "lr": 0.05})
    assert replies[0]["type"] == "state" and replies[0]["config"]["lr"] == 0.05
    bad = respond(s, '{"type": "set_training", "lr": -1}')
    assert bad[0]["type"] == "error" and "lr" in bad[0]["message"] and bad[1]["type"] == "state"
    assert respond(s, "not json")[0]["type"] == "error"
    got, lock = [], threading.Lock()

    def sink(item):
        with lock:
            got.append(item)

    d = Driver(s, sink).start()
    try:
        d.receive({"type": "play"})
        t0 = time.time()
        while not any(isinstance(i, dict) and i.get("type") == "metrics" and i["updates"] > 100 for i in list(got)):
            assert time.time() - t0 < 20, "no training frames"
            time.sleep(0.02)
        d.receive({"type": "pause"})
    finally:
        d.close()
    assert any(isinstance(i, bytes) and frames.decode_header(i)[0] == frames.MAP for i in got)


def test_extensions_register_message_types():
    from relunet.playground.session import HANDLERS

    assert {"lecture", "undo", "compare"} <= set(HANDLERS) and "compare" in P.MESSAGE_TYPES
    from typing import Literal

    class Clash(P._Strict):
        type: Literal["set_task"]

    with pytest.raises(ValueError, match="already registered"):
        P.register_message(Clash)                     # a type name that is taken
    assert P.MESSAGE_TYPES["set_task"] is P.SetTask
