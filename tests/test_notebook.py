"""relunet.notebook.Playground's Python side (the view is simulated by its comm messages), the rich displays,
and the example notebook run end to end by nbclient. The real JupyterLab test is tests/browser/test_notebook_browser.py.
"""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import relunet
from conftest import SRC
from relunet.engine.errors import RelunetError
from relunet.playground import frames, views

pytest.importorskip("anywidget")
from relunet.notebook import Playground  # noqa: E402

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "notebooks" / "lecture.ipynb"


class View:
    """A stand-in for the widget's view: records what the kernel sends, sends what the page would."""

    def __init__(self, w):
        self.w, self.sent, self.cv = w, [], threading.Condition()
        self.seen = 0   # wait_frame looks at what came after the last message said or the last frame taken
        w.send = self._receive

    def _receive(self, content, buffers=None):
        with self.cv:
            self.sent.append((content, buffers))
            self.cv.notify_all()

    def say(self, content):
        if content.get("type") != "ack":
            with self.cv:
                self.seen = len(self.sent)  # its answer may come before wait_frame is called: not lost then
        self.w._on_view_message(self.w, content, [])

    def json(self, kind):
        return [c for c, _ in self.sent if c.get("type") == kind]

    def wait_frame(self, kind, timeout=20):
        """The next binary frame of `kind` (frames.MAP, ...) the driver sends; acknowledged like the page does."""
        t0 = time.time()
        with self.cv:
            while time.time() - t0 < timeout:
                for i, (content, buffers) in enumerate(self.sent[self.seen:], self.seen):
                    if content.get("type") == "frame" and frames.decode_header(buffers[0])[0] == kind:
                        self.seen = i + 1
                        self.say({"type": "ack"})
                        return buffers[0]
                self.seen = len(self.sent)
                self.cv.wait(0.2)
        raise AssertionError(f"no frame of kind {kind} within {timeout} s")


@pytest.fixture
def lecture():
    w = Playground(data="lecture", hidden=[8], optimizer="sgd", lr=0.1, batch_size=1, test_fraction=0.0, seed=3)
    yield w
    w.close()


def weights(model):
    return [a.copy() for lin in model.linears for a in (lin.W, lin.b)]


# ============================================================================================ settings
def test_settings_are_the_pages_and_the_model_is_the_seeds(lecture):
    c = lecture.config
    assert (c.dataset, c.optimizer, c.lr, c.batch_size, c.test_fraction, c.seed) == ("lecture", "sgd", 0.1, 1, 0.0, 3)
    assert [layer.units for layer in c.layers] == [8]
    assert lecture.model.sizes == [2, 8, 2]
    X, y = lecture.data
    Xd, yd = relunet.make_dataset("lecture", n=c.n, noise=c.noise, seed=c.data_seed)
    np.testing.assert_array_equal(X, Xd)
    np.testing.assert_array_equal(y, yd)
    # the same initial weights as an MLP built from the same seed outside the widget
    for a, b in zip(weights(lecture.model), weights(relunet.MLP([2, 8, 2], seed=3))):
        np.testing.assert_array_equal(a, b)


def test_data_arrays_set_the_task_and_the_points():
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    w = Playground(data=(X, np.array([0, 1, 2])), hidden=4)
    try:
        Xw, yw = w.data
        np.testing.assert_array_equal(Xw, X)
        np.testing.assert_array_equal(yw, [0, 1, 2])
        assert w.model.sizes == [2, 4, 3] and w.config.dataset == "custom"
        xs = np.linspace(-1, 1, 7)
        w.set(data=(xs, xs ** 2))
        assert w.config.task == "regression" and w.model.sizes[0] == 1 and w.model.sizes[-1] == 1
        np.testing.assert_array_equal(w.data[1], xs ** 2)
    finally:
        w.close()


@pytest.mark.parametrize("settings, words", [
    ({"lr": -1}, "lr"), ({"hidden": [300]}, "hidden[0]"), ({"activation": "swish"}, "activation[0]"),
    ({"data": "nope"}, "unknown data set"), ({"colour": 1}, "unknown setting 'colour'"),
    ({"data": (np.zeros((3, 3)), np.zeros(3))}, "shape (N, 2)"), ({"data": (np.zeros((3, 2)), [0, 1, 12])}, "y[2]"),
    ({"batch_size": 2.5}, "batch_size"),
])
def test_python_mistakes_raise_one_sentence_and_change_nothing(lecture, settings, words):
    before_config, before_weights, before_data = lecture.config, weights(lecture.model), lecture.data
    with pytest.raises(RelunetError, match=r"^Playground: ") as e:
        lecture.set(**settings)
    assert words in str(e.value) and "\n" not in str(e.value)
    assert lecture.config == before_config
    for a, b in zip(weights(lecture.model), before_weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(lecture.data[0], before_data[0])


# ============================================================================================ Python drives
def test_train_step_reset_from_python(lecture):
    start = weights(lecture.model)
    n = len(lecture.data[0])
    h = lecture.train(epochs=3)
    assert h is lecture.history and h.epoch == [1, 2, 3]
    assert h.updates == [n, 2 * n, 3 * n]            # batch 1: one update per token
    assert not np.array_equal(weights(lecture.model)[0], start[0])
    lecture.step(5)
    assert lecture._session.updates == 3 * n + 5
    lecture.reset()
    assert len(lecture.history) == 0
    for a, b in zip(weights(lecture.model), start):
        np.testing.assert_array_equal(a, b)


def test_set_keeps_weights_for_training_settings_and_rebuilds_for_the_network(lecture):
    view = View(lecture)
    before = weights(lecture.model)
    lecture.set(lr=0.05, optimizer="momentum")
    assert lecture.config.lr == 0.05 and lecture.config.optimizer == "momentum"
    for a, b in zip(weights(lecture.model), before):
        np.testing.assert_array_equal(a, b)
    assert view.json("state")[-1]["config"]["lr"] == 0.05          # the view follows
    lecture.set(hidden=[4, 4], activation="tanh")
    assert lecture.model.sizes == [2, 4, 4, 2] and lecture.model.activation_names == ["tanh", "tanh"]
    assert view.json("state")[-1]["sizes"] == [2, 4, 4, 2]


def test_model_assignment_becomes_the_playgrounds_network(lecture):
    mine = relunet.MLP([2, 5, 2], seed=9)
    lecture.model = mine
    assert lecture.model.sizes == [2, 5, 2] and [layer.units for layer in lecture.config.layers] == [5]
    for a, b in zip(weights(lecture.model), weights(mine)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(RelunetError, match="needs 2 input"):
        lecture.model = relunet.MLP([3, 4, 2])


def test_history_runs_across_data_edits(lecture):
    view = View(lecture)
    lecture.train(epochs=2)
    view.say({"type": "add_point", "point": {"x": 0.1, "y": 0.2, "label": 1}})
    lecture.train(epochs=1)
    assert lecture.history.epoch == [1, 2, 3]
    assert all(np.isfinite(lecture.history.loss))


# ============================================================================================ the view drives
def test_clicks_in_the_view_reach_python(lecture):
    view = View(lecture)
    n = len(lecture.data[0])
    view.say({"type": "add_point", "point": {"x": 0.25, "y": -0.5, "label": 1}})
    X, y = lecture.data
    assert len(X) == n + 1 and X[-1].tolist() == [0.25, -0.5] and y[-1] == 1
    state = view.json("state")[-1]
    assert len(state["points"]) == n + 1 and state["points"][-1][:3] == [0.25, -0.5, 1]
    view.say({"type": "set_training", "lr": 0.3})
    assert lecture.config.lr == 0.3


@pytest.mark.parametrize("message, words", [
    ({"type": "set_training", "lr": -1.0}, "lr"),
    ({"type": "set_training", "lr": "0.1"}, "lr"),
    ({"type": "set_network", "layers": [{"units": 999}]}, "layers.0.units"),
    ({"type": "add_point", "point": {"x": 1e300, "y": 0.0, "label": 0}}, "point.x"),
    ({"type": "add_point", "point": {"x": 0.0, "y": 0.0, "label": 10}}, "point.label"),
    ({"type": "edit_weight", "layer": 1, "row": 99, "col": 0, "value": 1.0}, "no row 99"),
    ({"type": "launch_rockets"}, "unknown message type"),
])
def test_bad_values_from_the_view_get_an_error_in_the_view_and_change_nothing(lecture, message, words):
    view = View(lecture)
    before_config, before_weights, before_data = lecture.config, weights(lecture.model), lecture.data
    view.say(message)
    errors = view.json("error")
    assert len(errors) == 1 and words in errors[0]["message"]
    assert view.json("state"), "the state goes back too, so the view's controls snap back"
    assert lecture.config == before_config
    for a, b in zip(weights(lecture.model), before_weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(lecture.data[0], before_data[0])


def test_the_map_goes_as_a_binary_buffer_and_shows_the_models_classes(lecture):
    view = View(lecture)
    lecture.train(epochs=20)
    view.say({"type": "hello", "hash": ""})
    # A frame drawn while training ran may still be in flight ahead of the one answering hello; the first frame
    # drawn after training shows the trained model, and no later one may differ from it.
    agreement = []
    while not agreement or agreement[-1] <= 0.995:
        try:
            buf = view.wait_frame(frames.MAP)
        except AssertionError:
            break
        kind, w, h, box, off = frames.decode_header(buf)
        assert kind == frames.MAP and w == h == lecture.config.resolution
        cls = np.frombuffer(buf, np.uint8, w * h, off + 8)
        # the same classes computed another way: the float64 model's predictions on the same grid
        agreement.append(np.mean(cls == lecture.model.predict(views.grid(box, w))))
        assert len(agreement) <= 5, agreement
    assert agreement and agreement[-1] > 0.995, agreement


def test_play_from_the_view_trains_in_the_kernel(lecture):
    view = View(lecture)
    view.say({"type": "hello", "hash": ""})
    view.say({"type": "play"})
    t0 = time.time()
    while time.time() - t0 < 20 and not (lecture._session.updates >= 200 and
                                         any(m["updates"] > 0 for m in view.json("metrics"))):
        view.wait_frame(frames.MAP)
    view.say({"type": "pause"})
    assert lecture._session.updates >= 200
    assert any(m["updates"] > 0 for m in view.json("metrics"))      # the view's counters moved


def test_trace_and_exact_regions_work_as_on_the_page(lecture):
    view = View(lecture)
    view.say({"type": "trace", "point": {"x": 0.4, "y": 0.9, "label": 0}})
    trace = view.json("trace")[-1]
    from relunet.explain import explain

    e = explain(lecture.model, [0.4, 0.9], 0)
    assert trace["loss"] == pytest.approx(e["loss"])
    view.say({"type": "set_view", "exact": True})
    assert lecture.config.exact
    view.wait_frame(frames.REGIONS)
    assert view.json("pwl")[-1]["available"]


def test_exercises_work_as_on_the_page(lecture):
    from relunet import exercises

    view = View(lecture)
    view.say({"type": "exercise_open", "name": "lecture"})
    view.say({"type": "exercise_reference"})
    graded = view.json("exercise")[-1]
    assert graded["name"] == "lecture" and graded["result"]["passed"]
    # the network the view was sent is the exercise's reference, and grading it outside the widget agrees
    ref = exercises.get("lecture").reference()
    w = graded["weights"]
    for got, want in zip([w["W1"], w["b1"], w["W2"], w["b2"]], weights(ref)):
        np.testing.assert_allclose(got, want)
    assert exercises.check("lecture", ref).passed


def test_the_widget_has_the_pages_extensions_and_lecture_step_5_opens_its_quiz(lecture):
    from relunet import exercises
    from relunet.notebook.esm import module_graph

    # the widget's module is the page's app with its extensions (extensions.js imports exercise.js)
    names = [p.name for p, _, _ in module_graph(Path(relunet.notebook.__file__).parent / "widget.js")]
    assert names.index("registry.js") < names.index("exercise.js") < names.index("extensions.js") < names.index("app.js")
    assert json.dumps('registerPanel("exercises"')[1:-1] in Playground._esm         # its source, as a JSON string

    view = View(lecture)
    before = lecture.config, weights(lecture.model)
    view.say({"type": "lecture", "step": 5})
    info = view.json("lecture")[-1]
    assert info["current"] == 5 and info["steps"][4]["mode"] == "exercises"       # the page opens the panel
    X, y = exercises.get("lecture").points()
    assert lecture.config.dataset in ("lecture", "custom") and len(lecture.data[0]) == len(X)   # its data
    # what the panel sends (its lecture hook opens the lecture's exercise), and a student's moves
    view.say({"type": "exercise_open", "name": "lecture"})
    assert view.json("exercise")[-1]["name"] == "lecture"
    view.say({"type": "exercise_hinge", "unit": 0, "w": [1.0, -1.0], "b": 0.2})
    view.say({"type": "exercise_solve"})
    graded = view.json("exercise")[-1]
    w = graded["weights"]
    h = np.maximum(X @ np.array(w["W1"]).T + np.array(w["b1"]), 0)          # the graded network, in NumPy
    predicted = np.argmax(h @ np.array(w["W2"]).T + np.array(w["b2"]), axis=1)
    assert w["W1"][0] == [1.0, -1.0] and w["b1"][0] == 0.2
    assert graded["result"]["predicted"] == predicted.tolist()
    assert graded["result"]["correct"] == (predicted == y).tolist()
    while view.json("lecture")[-1]["undo"]:                         # Undo, back to the widget as it was made
        view.say({"type": "undo"})
    assert view.json("lecture")[-1]["current"] is None and lecture.config == before[0]
    assert all(np.array_equal(a, b) for a, b in zip(weights(lecture.model), before[1]))


def test_backlog_holds_frames_until_the_view_acknowledges(lecture):
    from relunet.playground.driver import MAX_BACKLOG

    view = View(lecture)
    lecture._driver.close()                 # no frames of its own while we count
    lecture._driver.thread.join(10)
    view.say({"type": "hello", "hash": ""})
    for _ in range(MAX_BACKLOG + 2):
        lecture._post(b"RN")
    assert lecture._backlog() == MAX_BACKLOG + 2
    view.say({"type": "ack"})
    assert lecture._backlog() == MAX_BACKLOG + 1
    # no acknowledgement for a while (a busy kernel reads none until its cell ends): a fixed, modest pace
    lecture._last_frame -= 10
    assert lecture._backlog() == 0


def test_one_blas_thread_only_while_training():
    """The kernel's BLAS is held to one thread while a widget trains a small net, and given back after."""
    code = """
import json, threadpoolctl
from relunet.notebook import Playground
def blas():
    return sorted(i["num_threads"] for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas")
w = Playground(data="lecture", hidden=[8])
w.send = lambda content, buffers=None: None
before = blas()
w._on_view_message(w, {"type": "play"}, [])
playing = blas()
w._on_view_message(w, {"type": "pause"}, [])
paused = blas()
w.close()
print(json.dumps([before, playing, paused]))
"""
    env = {"PYTHONPATH": str(SRC), "PATH": "", "OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    before, playing, paused = json.loads(out.strip().splitlines()[-1])
    assert before and all(n == 2 for n in before)
    assert playing and all(n == 1 for n in playing)
    assert paused and all(n == 2 for n in paused)      # (training may load another BLAS, e.g. SciPy's)


# ============================================================================================ extra and displays
def test_without_anywidget_one_line_names_the_pip_command():
    code = ("import sys; sys.modules['anywidget'] = None\n"
            "try:\n    import relunet.notebook\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": ""}).stdout.strip()
    assert out == 'relunet.notebook needs anywidget; install it with: pip install "relunet[notebook]"'


def test_import_relunet_imports_no_notebook_or_display_code():
    out = subprocess.run([sys.executable, "-c", "import sys, relunet; print(sorted(sys.modules))"],
                         capture_output=True, text=True, check=True, env={"PYTHONPATH": str(SRC), "PATH": ""}).stdout
    for heavy in ("anywidget", "ipywidgets", "IPython", "relunet.display", "relunet.notebook"):
        assert f"'{heavy}'" not in out, heavy


def test_rich_displays_in_ipython():
    code = """
from IPython.testing.globalipapp import start_ipython
ip = start_ipython()
ip.display_formatter.active_types = ['text/plain', 'text/html', 'image/png']
import json, relunet
from relunet.plot import plot_model
m = relunet.MLP([2, 64, 64, 3])
X, y = relunet.make_dataset('lecture', seed=0)
h = relunet.fit(relunet.MLP([2, 4, 2]), X, y, epochs=7, lr=0.1)
out = {k: sorted(ip.display_formatter.format(v)[0]) for k, v in
       {'mlp': m, 'history': h, 'figure': plot_model(m, X, y)}.items()}
out['mlp_html'] = ip.display_formatter.format(m)[0]['text/html']
out['history_html'] = ip.display_formatter.format(h)[0]['text/html']
print(json.dumps(out))
"""
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(SRC), "PATH": "", "MPLBACKEND": "Agg"})
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["mlp"] == ["text/html", "text/plain"] and out["history"] == ["text/html", "text/plain"]
    assert "image/png" in out["figure"]
    html = out["mlp_html"]
    assert f"{2 * 64 + 64 + 64 * 64 + 64 + 64 * 3 + 3:,} parameters" in html
    assert "W (64, 2), b (64,)" in html and "W (3, 64), b (3,)" in html and "<svg" in html
    assert out["history_html"].count("<polyline") == 2           # loss and accuracy
    assert "7 epochs" in out["history_html"]


def test_plot_functions_return_figures(tmp_path):
    from matplotlib.figure import Figure

    from relunet.plot import plot_history, plot_model

    X, y = relunet.make_dataset("lecture", seed=0)
    m = relunet.MLP([2, 4, 2])
    h = relunet.fit(m, X, y, epochs=2, lr=0.1)
    assert isinstance(plot_model(m, X, y), Figure)
    assert isinstance(plot_history(h, tmp_path / "h.png"), Figure) and (tmp_path / "h.png").stat().st_size > 0


# ============================================================================================ the example notebook
def test_example_notebook_runs_end_to_end(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(EXAMPLE, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env={**os.environ, "PYTHONPATH": str(SRC), "MPLBACKEND": "Agg"})
    code = [c for c in nb.cells if c.cell_type == "code"]
    text = "\n".join(o.get("text", "") for c in code for o in c.outputs)
    assert "linear classifier: 66.7%" in text
    assert "two-layer network: 100.0%" in text
    assert "lecture: PASS" in text and "tokens classified correctly: 90 of 90" in text
    # per-sample SGD written out by hand in the notebook lands on relunet's weights
    diff = float(text.split("largest difference:")[1].split()[0])
    assert diff < 1e-12
    widget_outputs = [o for c in code if "Playground(" in c.source for o in c.outputs]
    assert any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in widget_outputs)
    html = [o["data"]["text/html"] for c in code for o in c.outputs if "text/html" in o.get("data", {})]
    assert any("relunet-mlp" in h for h in html) and any("relunet-history" in h for h in html)
