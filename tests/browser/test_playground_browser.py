"""The playground in a real Chromium (Debian's /usr/bin/chromium) driven by Playwright, against the real server.

The server runs in-process (uvicorn in a thread on a free port of 127.0.0.1), so the test can compare what
the page shows with the session's model directly.
"""

import re
import time
from pathlib import Path

import numpy as np
import pytest

from _chromium import browser, open_page, server  # noqa: E402,F401 (browser, server: shared fixtures)

pytestmark = pytest.mark.browser



def spiral_hash():
    """The link of a 2-16-16-3 ReLU net with momentum on the three-arm spiral (the page opens on the lecture)."""
    from relunet.playground import protocol as P
    from relunet.playground.state import Config, encode_hash

    return "#" + encode_hash(Config(dataset="spiral", n=300, noise=0.2, test_fraction=0.2, optimizer="momentum",
                                    layers=(P.Layer(units=16),) * 2, lr=0.03, batch_size=10))


@pytest.fixture
def page(browser):
    with open_page(browser, height=1000, accept_downloads=True) as pg:
        yield pg


def state(page):
    return page.evaluate("window.relunetPlayground.state")


def wait_state(page, predicate, what, timeout=15):
    t0 = time.time()
    while time.time() - t0 < timeout:
        s = state(page)
        if s is not None and predicate(s):
            return s
        page.wait_for_timeout(50)
    s = state(page)
    raise AssertionError(f"page never showed {what}; points: {s and len(s['points'])}, "
                         f"toast: {page.inner_text('#toast')!r}, sizes: {s and s['sizes']}")


def open_sections(page):
    """Open every collapsed section of the page (Training, Compare, Files, ...)."""
    page.evaluate("document.querySelectorAll('.relunet-app details').forEach(d => { d.open = true; })")


def canvas_pixels(page):
    """RGB of every 29th pixel of the map canvas (all of them would take seconds to move to Python)."""
    return np.array(page.evaluate("""() => {
        const c = document.getElementById('map'), d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const out = [];
        for (let i = 0; i < d.length; i += 4 * 29) out.push(d[i], d[i + 1], d[i + 2]);
        return out;
    }"""), dtype=np.uint8)


def pixel_at(page, x, y):
    """RGB of the map canvas at data point (x, y)."""
    return page.evaluate("""([x, y]) => {
        const v = window.relunetPlayground.view, [p, q] = v.toPx(x, y), dpr = window.devicePixelRatio || 1;
        return Array.from(v.ctx.getImageData(Math.round(p * dpr), Math.round(q * dpr), 1, 1).data.slice(0, 3));
    }""", [x, y])


def click_data(page, x, y, shift=False):
    """Click the map at data coordinates (x, y) (holding shift if asked)."""
    px, py = page.evaluate("""([x, y]) => {
        const v = window.relunetPlayground.view, r = v.canvas.getBoundingClientRect(), [p, q] = v.toPx(x, y);
        return [r.left + p, r.top + q];
    }""", [x, y])
    if shift:
        page.keyboard.down("Shift")
    page.mouse.click(px, py)
    if shift:
        page.keyboard.up("Shift")


def test_playground_in_chromium(server, page, tmp_path):
    app, url = server
    import relunet

    page.goto(url + spiral_hash())
    wait_state(page, lambda s: s["config"]["dataset"] == "spiral", "the default experiment")
    open_sections(page)

    # ---- click to add points of two classes (key 0 = class 0, shift-click = class 1)
    page.click("#clear")
    wait_state(page, lambda s: s["points"] == [], "no points")
    page.fill("#lr", "0.05")
    page.press("#lr", "Enter")
    page.locator("#lr").evaluate("e => e.dispatchEvent(new Event('change'))")
    page.keyboard.press("Escape")
    page.mouse.click(5, 300)   # focus off the inputs, so number keys choose the class
    page.keyboard.press("0")
    left = [(-0.8, -0.3), (-0.7, 0.4), (-0.9, 0.1), (-0.5, -0.1), (-0.6, 0.7), (-0.8, -0.7)]
    right = [(0.7, 0.2), (0.8, -0.5), (0.5, 0.6), (0.9, 0.0), (0.6, -0.8), (0.8, 0.8)]
    for x, y in left:
        click_data(page, x, y)
    for x, y in right:
        click_data(page, x, y, shift=True)
    s = wait_state(page, lambda s: len(s["points"]) == 12, "12 points")
    labels = {(round(p[0], 1), round(p[1], 1)): p[2] for p in s["points"]}
    assert all(labels[(x, y)] == 0 for x, y in left) and all(labels[(x, y)] == 1 for x, y in right)
    assert s["config"]["dataset"] == "custom" and "pts=" in page.evaluate("location.hash")

    # ---- press play and see the decision map change on the canvas
    page.click("#task-classification")
    page.fill("#split", "0")
    page.locator("#split").evaluate("e => { e.value = 0; e.dispatchEvent(new Event('input')); }")
    wait_state(page, lambda s: not any(p[3] for p in s["points"]), "every point in training")
    before = canvas_pixels(page)
    page.click("#play")
    page.wait_for_function("window.relunetPlayground.lastMetrics && window.relunetPlayground.lastMetrics.updates > 300")
    page.wait_for_function("window.relunetPlayground.lastMetrics.train.accuracy === 1")
    page.click("#play")   # pause
    wait_state(page, lambda s: not s["playing"], "paused")
    page.wait_for_timeout(300)
    after = canvas_pixels(page)
    assert before.shape == after.shape and len(before) > 10_000 and np.mean(before != after) > 0.05
    blue, orange = np.array([37, 99, 235]), np.array([249, 115, 22])
    for (x, y), own, other in [((-0.8, 0.0), blue, orange), ((0.8, 0.1), orange, blue)]:
        rgb = np.array(pixel_at(page, x, y))
        tint = 255 - rgb                        # how the map colours white there
        assert np.linalg.norm(tint / np.linalg.norm(tint) - (255 - own) / np.linalg.norm(255 - own)) < \
            np.linalg.norm(tint / np.linalg.norm(tint) - (255 - other) / np.linalg.norm(255 - other))

    # ---- edit the network: add a layer, change a width, switch an activation
    page.click("#add-layer")
    wait_state(page, lambda s: s["sizes"] == [2, 16, 16, 16, 2], "a third hidden layer")
    page.fill("#layers .layer-row:nth-child(1) input", "7")
    page.locator("#layers .layer-row:nth-child(1) input").evaluate("e => e.dispatchEvent(new Event('change'))")
    wait_state(page, lambda s: s["sizes"] == [2, 7, 16, 16, 2], "7 units in layer 1")
    page.select_option("#layers .layer-row:nth-child(2) select", "tanh")
    s = wait_state(page, lambda s: s["activations"] == ["relu", "tanh", "relu"], "tanh in layer 2")
    page.wait_for_function("document.querySelectorAll('#graph circle.node').length === 2 + 7 + 16 + 16 + 2")
    page.wait_for_function("document.querySelectorAll('#thumbs canvas').length === 7 + 16 + 16")

    # ---- edit a weight by hand through the graph
    page.locator("#graph line.hit").first.click(force=True)
    page.fill("#editor-value", "2.5")
    page.click("#editor-set")
    (session,) = app.state.sessions
    t0 = time.time()
    while session.model.linears[0].W[0, 0] != 2.5:
        assert time.time() - t0 < 10, "hand-edited weight did not arrive"
        time.sleep(0.05)

    # ---- reload: the same experiment, and the same session (resume.py): the hand-edited weight is still there
    h = page.evaluate("location.hash")
    points = s["points"]
    page.reload()
    s2 = wait_state(page, lambda s: s["sizes"] == [2, 7, 16, 16, 2], "the reloaded network")
    open_sections(page)
    assert page.evaluate("location.hash") == h and s2["points"] == points and s2["config"]["lr"] == 0.05
    assert app.state.sessions == {session} and session.model.linears[0].W[0, 0] == 2.5
    page.wait_for_function("window.relunetPlayground.lastWeights && window.relunetPlayground.lastWeights.W[0][0][0] === 2.5")

    # ---- train a little, save the model, load it back
    page.click("#step-epoch")
    page.wait_for_function("window.relunetPlayground.lastMetrics && window.relunetPlayground.lastMetrics.epoch >= 1")
    with page.expect_download() as dl:
        page.click("#save-model")
    path = tmp_path / "saved.npz"
    dl.value.save_as(path)
    saved = relunet.load(path)
    Xq = np.random.default_rng(0).uniform(-2, 2, (200, 2))
    assert np.array_equal(saved.predict_proba(Xq), session.model.predict_proba(Xq))
    page.click("#new-seed")
    wait_state(page, lambda s: s["config"]["seed"] != s2["config"]["seed"], "a new seed")
    assert not np.array_equal(session.model.predict_proba(Xq), saved.predict_proba(Xq))
    page.set_input_files("#load-model", str(path))
    t0 = time.time()
    while not np.array_equal(session.model.predict_proba(Xq), saved.predict_proba(Xq)):
        assert time.time() - t0 < 10, "loaded model did not arrive"
        time.sleep(0.05)

    # ---- an invalid action shows an error and the page keeps working
    bad = tmp_path / "not-a-model.npz"
    bad.write_bytes(b"this is not a model")
    page.set_input_files("#load-model", str(bad))
    page.wait_for_selector("#toast:not([hidden])")
    assert "not a readable relunet model" in page.inner_text("#toast")
    page.fill("#lr", "-3")
    page.locator("#lr").evaluate("e => e.dispatchEvent(new Event('change'))")
    page.wait_for_function("document.getElementById('toast').textContent.includes('Learning rate')")
    page.click("#step")
    page.wait_for_function("window.relunetPlayground.lastMetrics.updates >= 1")
    assert state(page)["config"]["lr"] == 0.05


def test_backprop_trace_regression_and_screenshot(server, page, tmp_path):
    app, url = server
    page.goto(url + spiral_hash())
    wait_state(page, lambda s: s["config"]["dataset"] == "spiral", "the default experiment")
    open_sections(page)
    # the README picture: the spiral after a few seconds of training
    page.click("#play")
    page.wait_for_function("window.relunetPlayground.lastMetrics && window.relunetPlayground.lastMetrics.epoch > 60",
                           timeout=30000)
    page.hover("#thumbs canvas >> nth=3")       # hovering a unit shows its h over the plane in the main view
    page.wait_for_function("window.relunetPlayground.view.frame.kind === 2")
    assert "layer 1, unit 3" in page.inner_text("#focus-note")
    page.mouse.move(5, 5)
    page.wait_for_function("window.relunetPlayground.view.frame.kind === 1")
    page.click("#play")                                # pause

    # the exact regions overlay: the page shows the same number of regions as relunet.pwl computes
    from relunet.pwl import linear_regions

    page.check("#pwl")
    page.wait_for_function("window.relunetPlayground.view.regions && "
                           "!document.getElementById('c-regions-box').hidden")
    (session,) = app.state.sessions
    exact = linear_regions(session.model, session.box)
    assert int(page.inner_text("#c-regions").replace(",", "")) == len(exact)
    assert page.evaluate("window.relunetPlayground.view.regions.counts.length") == len(exact)
    assert page.evaluate("window.relunetPlayground.view.regions.segments.length") > 0
    assert "#exact" not in page.url and "exact=1" in page.url  # the toggle lives in the link

    # a picture of the spiral with its exact regions (the README's comes from test_classroom_browser.py)
    shot = tmp_path / "playground.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.uncheck("#pwl")
    page.wait_for_function("document.getElementById('c-regions-box').hidden")

    # hovering a hinge line highlights it and shows its unit's weights
    target = page.evaluate("""() => {
        const a = window.relunetPlayground, w = a.lastWeights.hinges, [x0, x1, y0, y1] = a.view.box;
        const c = [(x0 + x1) / 2, (y0 + y1) / 2];
        for (let j = 0; j < w.W.length; j++) {
            const [p, q] = w.W[j], n2 = p * p + q * q, t = (p * c[0] + q * c[1] + w.b[j]) / n2;
            const x = c[0] - t * p, y = c[1] - t * q;
            if (x > x0 && x < x1 && y > y0 && y < y1) return [x, y, j];
        }
        return null;
    }""")
    assert target is not None
    px, py = page.evaluate("""([x, y]) => { const v = window.relunetPlayground.view, r = v.canvas.getBoundingClientRect(),
        [p, q] = v.toPx(x, y); return [r.left + p, r.top + q]; }""", target[:2])
    page.mouse.move(px, py)
    page.wait_for_selector("#tip:not([hidden])")
    assert "layer 1, unit" in page.inner_text("#tip") and "w = (" in page.inner_text("#tip")

    # trace a point: the panel shows the chain rule with numbers
    page.click("#mode-trace")
    s = state(page)
    x, y, k, _ = s["points"][5]
    click_data(page, x, y)
    page.wait_for_selector("#trace h4")
    text = page.inner_text("#trace")
    assert "f − 1[y=k]" in text and "dL/dW1" in text and "One SGD step" in text
    page.click("#mode-add")

    # zero hidden layers: the linear classifier
    page.click("#layers .layer-row:nth-child(2) .rm")
    page.click("#layers .layer-row:nth-child(1) .rm")
    wait_state(page, lambda s: s["sizes"] == [2, 3], "the linear classifier")
    page.wait_for_function("document.querySelectorAll('#graph circle.node').length === 5")
    page.wait_for_function("document.getElementById('thumbs').textContent.includes('No hidden layer')")

    # regression: the curve and its breakpoints are drawn
    page.click("#task-regression")
    wait_state(page, lambda s: s["config"]["task"] == "regression" and s["sizes"] == [1, 16, 1], "regression")
    page.click("#step-epoch")
    # the curve of the trained net comes with the metrics of epoch 1 (the map frame just before them)
    page.wait_for_function("window.relunetPlayground.lastMetrics && window.relunetPlayground.lastMetrics.epoch === 1 "
                           "&& window.relunetPlayground.view.frame && window.relunetPlayground.view.frame.kind === 3 "
                           "&& window.relunetPlayground.view.frame.breaks.length > 0")
    n_breaks = page.evaluate("window.relunetPlayground.view.frame.breaks.length")
    (session,) = app.state.sessions
    W, b = session.model.linears[0].W[:, 0], session.model.linears[0].b
    x0, x1 = session.box[:2]
    inside = np.sum((-b / W > x0) & (-b / W < x1))
    assert n_breaks == inside                          # one hidden layer: breakpoints are x = -b_j / w_j
    page.wait_for_function("document.querySelector('#metrics').textContent.includes('R²')")


def test_csv_download_and_paste(server, page, tmp_path):
    import relunet

    app, url = server
    page.goto(url + spiral_hash())
    s = wait_state(page, lambda s: s["config"]["dataset"] == "spiral", "the default experiment")
    open_sections(page)
    # a stop condition ends training with a message
    page.fill("#max_epochs", "2")
    page.locator("#max_epochs").evaluate("e => e.dispatchEvent(new Event('change'))")
    wait_state(page, lambda s: s["config"]["max_epochs"] == 2, "max epochs 2")
    page.click("#play")
    page.wait_for_selector("#status:not([hidden])")
    page.wait_for_function("document.getElementById('status').textContent.includes('maximum of 2 epochs')")
    assert page.evaluate("window.relunetPlayground.lastMetrics.epoch") == 2
    with page.expect_download() as dl:
        page.click("#csv-download")
    path = tmp_path / "data.csv"
    dl.value.save_as(path)
    X, y = relunet.read_csv(path, "classification")
    assert np.array_equal(X, [p[:2] for p in s["points"]]) and y.tolist() == [p[2] for p in s["points"]]
    page.fill("#csv-text", "x1,x2,label\n0.5,0.5,1\n-0.5,0.25,0\n0,-1,4\n")
    page.click("#csv-load")
    s = wait_state(page, lambda s: len(s["points"]) == 3, "the pasted points")
    assert [p[:3] for p in s["points"]] == [[0.5, 0.5, 1], [-0.5, 0.25, 0], [0, -1, 4]] and s["sizes"][-1] == 5
    page.fill("#csv-text", "x1,x2,label\n0.5,oops,1\n")
    page.click("#csv-load")
    page.wait_for_function("document.getElementById('toast').textContent.includes('oops')")


def palette_rgb(k):
    """Class k's colour as the page draws it (static/js/colors.js's PALETTE)."""
    from relunet.playground import __file__ as pkg

    text = (Path(pkg).parent / "static" / "js" / "colors.js").read_text()
    hexes = re.search(r"PALETTE = \[([^\]]*)\]", text).group(1)
    h = re.findall(r'"#([0-9a-f]{6})"', hexes)[k]
    return [int(h[i:i + 2], 16) for i in (0, 2, 4)]


def test_map_layers_repaint_what_changed(server, page):
    """The map is composited from cached layers (plot.js): a point added, a weight edited and a unit focused show
    at once on the canvas's pixels; map frames alone repaint no points layer (its counter stays)."""
    _, url = server
    page.goto(url + spiral_hash())
    wait_state(page, lambda s: s["config"]["dataset"] == "spiral", "the experiment")
    page.click("#clear")
    wait_state(page, lambda s: s["points"] == [], "no points")
    page.wait_for_function("window.relunetPlayground.lastWeights && window.relunetPlayground.view.frame")
    page.mouse.click(5, 300)
    page.keyboard.press("2")
    paints = "window.relunetPlayground.view.layerPaints"
    front = page.evaluate(f"{paints}.front")

    # a point of class 2: its centre pixel is the class colour (the points layer, drawn over map and lines)
    click_data(page, -0.5, -0.5)
    wait_state(page, lambda s: len(s["points"]) == 1, "the point")
    page.wait_for_function("!window.relunetPlayground.pendingPoints.length")
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert pixel_at(page, -0.5, -0.5) == palette_rgb(2)
    assert page.evaluate(f"{paints}.front") > front

    # map frames alone (training) repaint the map, not the points layer
    front, paints0, frames = page.evaluate(f"[{paints}.front, window.relunetPlayground.view.paints, "
                                           "window.relunetPlayground.frameCount || 0]")
    page.click("#play")
    page.wait_for_function(f"(window.relunetPlayground.frameCount || 0) >= {frames + 8}")
    page.click("#play")
    wait_state(page, lambda s: not s["playing"], "paused")
    assert page.evaluate("window.relunetPlayground.view.paints") >= paints0 + 8
    assert page.evaluate(f"{paints}.front") == front

    # unit 0's hinge line moved to x1 = 0.5 (w = (1, 0), b = -0.5) and focused: drawn alone, solid #111827
    for col, value in ((0, 1.0), (1, 0.0), (None, -0.5)):
        page.evaluate("m => window.relunetPlayground.send(m)",
                      {"type": "edit_weight", "layer": 1, "row": 0, "col": col, "value": value})
    page.wait_for_function("(() => { const h = window.relunetPlayground.lastWeights.hinges; "
                           "return h.W[0][0] === 1 && h.W[0][1] === 0 && h.b[0] === -0.5; })()")
    page.evaluate("window.relunetPlayground.focusUnit(1, 0)")
    page.wait_for_function("window.relunetPlayground.view.frame.kind === 2")   # the unit's map (frames.js UNIT)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    line = page.evaluate("""() => { const v = window.relunetPlayground.view, dpr = window.devicePixelRatio || 1;
        return [-0.3, 0, 0.3].map(y => { const [p, q] = v.toPx(0.5, y);
            return Array.from(v.ctx.getImageData(Math.floor(p * dpr), Math.round(q * dpr), 1, 1).data.slice(0, 3)); }); }""")
    assert line == [[17, 24, 39]] * 3
    assert pixel_at(page, 0.0, 0.0) != [17, 24, 39]     # off the line: the unit's map, not the line
    assert pixel_at(page, -0.5, -0.5) == palette_rgb(2)  # the point still over it
