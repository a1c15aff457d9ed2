"""Exercise mode in a real Chromium, on the page's main map and network graph: open an exercise (the session's
network and data become the exercise's), drag a hinge line's handle on the main map (W1's row checked against
the line through the dragged points, computed here), edit an output weight in the network graph, solve, load the
reference (PASS, checked by a NumPy forward pass), watch the grade follow training, Undo, and reload the link."""

import json

import numpy as np
import pytest

from _chromium import chromium, serving  # noqa: E402

pytestmark = pytest.mark.browser

APP = "window.relunetPlayground"
EX = f"{APP}.exercise"


@pytest.fixture(scope="module")
def served():
    with serving() as (app, url):
        yield app, url


@pytest.fixture
def page():
    with chromium() as b:
        pg = b.new_page(viewport={"width": 1440, "height": 1000})
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
    assert not errors, f"JavaScript errors on the page: {errors}"


def session_of(app):
    [s] = list(app.state.sessions)
    return s


def forward(W1, b1, W2, b2, X):
    return np.maximum(0, X @ np.array(W1).T + b1) @ np.array(W2).T + b2


def drag(page, start, end, steps=6):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=steps)
    page.mouse.up()


def test_build_grade_train_and_undo_an_exercise_on_the_main_map(served, page):
    from relunet import exercises as E

    app, url = served
    page.goto(url)
    page.wait_for_function(f"{APP} && {EX} && {EX}.list.length && {APP}.state", timeout=20000)
    assert page.evaluate(f"{EX}.ex") is None and page.evaluate(f"{APP}.state.sizes") == [2, 2]   # no exercise by default

    # Opening makes the exercise the page's experiment: its tokens, its [2, 2, 2] network, exact regions on.
    page.select_option(".ex-pick", "xor")
    page.wait_for_function(f"{EX}.ex && {EX}.ex.name === 'xor' && {EX}.result && {APP}.state.sizes.join() === '2,2,2'")
    X, y = E.get("xor").points()
    st = page.evaluate(f"{APP}.state")
    assert len(st["points"]) == len(X) and st["config"]["exact"] and st["config"]["hinges"]
    assert page.inner_text(".ex-badge") == "FAIL"
    s = session_of(app)

    # Drag unit 0's first handle on the main map to (0.3, -0.45), a little off the 0.05 grid: the handle snaps,
    # the line turns about the other handle keeping |w|, and the server's W1[0] is that line.
    page.query_selector("#map").scroll_into_view_if_needed()
    (p0, p1), w_old = page.evaluate(f"[{EX}.handles[0], {EX}.weights.W1[0]]")
    target = np.array([0.3, -0.45])
    start = page.evaluate(f"{EX}.handlePx(0, 0)")
    end = page.evaluate(f"{EX}.pagePx([{target[0] + 0.012}, {target[1] - 0.009}])")
    drag(page, start, end)
    page.wait_for_function(f"{EX}.acked === {EX}.seq && !{EX}.drag")
    d = np.array(p1) - target
    w = np.array([-d[1], d[0]]) / np.hypot(*d) * np.hypot(*w_old)
    w = w if w @ w_old > 0 else -w
    b = -w @ target
    page.wait_for_function(f"Math.abs({EX}.weights.b1[0] - ({b})) < 1e-9")
    with s.lock:
        np.testing.assert_allclose(s.model.linears[0].W[0], w, atol=1e-9)
        assert s.model.linears[0].b[0] == pytest.approx(b, abs=1e-9)
    assert page.evaluate(f"{EX}.handles[0][0]") == pytest.approx(target.tolist(), abs=1e-12)

    # An output weight edited in the network graph: the server sets W2[1, 0] and grades again.
    page.dispatch_event("#graph line.link[data-weight='2,1,0']", "click")
    page.fill("#editor-value", "2.5")
    page.click("#editor-set")
    page.wait_for_function(f"{EX}.weights.W2[1][0] === 2.5")
    with s.lock:
        assert s.model.linears[1].W[1, 0] == 2.5
        z = forward(*[lin for pair in ((s.model.linears[0].W, s.model.linears[0].b),
                                       (s.model.linears[1].W, s.model.linears[1].b)) for lin in pair], X)
    got = page.evaluate(f"{EX}.result.correct")
    assert got == (z[np.arange(len(y)), y] > z[np.arange(len(y)), 1 - y]).tolist()

    # Solve the output weights (the largest becomes 10), then the reference: PASS, by a NumPy forward pass too.
    page.click(".ex-solve")
    page.wait_for_function(f"Math.max(...{EX}.weights.W2.flat().map(Math.abs), ...{EX}.weights.b2.map(Math.abs)) > 9.999")
    page.click(".ex-ref")
    page.wait_for_function(f"{EX}.result.passed && {APP}.state.sizes.join() === '2,4,2'")
    assert page.inner_text(".ex-badge") == "PASS" and page.inner_text(".ex-correct") == "40"
    wt = page.evaluate(f"{EX}.weights")
    z = forward(wt["W1"], wt["b1"], wt["W2"], wt["b2"], X)
    assert np.array_equal(z.argmax(axis=1), y) and np.all(np.abs(z[:, 0] - z[:, 1]) > 1e-9)
    link = page.evaluate("location.hash")
    assert "!ex=xor&done=xor&net=4," in link

    # Play: SGD trains the same network; when it is paused the grade is that of the weights it stopped at.
    page.click(".ex-remove")                                          # 3 units: the grade must move
    page.wait_for_function(f"{APP}.state.sizes.join() === '2,3,2'")
    page.click("#play")
    page.wait_for_function(f"{APP}.lastMetrics && {APP}.lastMetrics.updates > 300", timeout=20000)
    page.click("#play")
    page.wait_for_function(f"{APP}.playing === false")
    with s.lock:
        final = [w.tolist() for w in s.model.get_weights()]
    W2 = json.dumps(final[2], separators=(",", ":"))
    page.wait_for_function(f"JSON.stringify({EX}.weights.W2) === '{W2}'")      # the grade of the final weights
    wt, res = page.evaluate(f"[{EX}.weights, {EX}.result]")
    z = forward(wt["W1"], wt["b1"], wt["W2"], wt["b2"], X)
    assert res["correct"] == (z[np.arange(len(y)), y] - z[np.arange(len(y)), 1 - y] > 1e-9).tolist()
    assert res["hidden"] == 3

    # Undo: the page as it was before the exercise opened (the lecture's linear classifier), no exercise.
    page.click("#lecture-undo")
    page.wait_for_function(f"{EX}.ex === null && {APP}.state.sizes.join() === '2,2'")
    assert page.evaluate(f"{APP}.state.config.dataset") == "lecture" and "exercise" not in s.ext
    assert "ex=" not in page.evaluate("location.hash") and "done=xor" in page.evaluate("location.hash")

    # The link reopens the exercise with the network it held.
    page.goto("about:blank")
    page.goto(url + link)
    page.wait_for_function(f"{APP} && {EX} && {EX}.result && {EX}.ex.name === 'xor'", timeout=20000)
    assert page.evaluate(f"{EX}.weights.W1") == wt_ref_w1(link) and page.evaluate(f"{EX}.result.passed")
    assert "✓" in page.inner_text(".ex-pick option[value=xor]")


def wt_ref_w1(link):
    """W1 as the link's exercise part (after '!') writes it: 'net=H,W1 (H x 2),...'."""
    nums = [float(v) for v in link.split("!")[1].split("net=")[1].split(",")]
    H = int(nums[0])
    return [nums[1 + 2 * j: 3 + 2 * j] for j in range(H)]


def test_a_region_target_snapping_to_its_corner_and_flip(served, page):
    app, url = served
    page.goto(url)
    page.wait_for_function(f"{APP} && {EX} && {EX}.list.length && {APP}.state", timeout=20000)
    page.select_option(".ex-pick", "triangle")
    page.wait_for_function(f"{EX}.ex && {EX}.ex.name === 'triangle' && {EX}.result && {EX}.result.hidden === 2")
    assert page.evaluate(f"{EX}.result.mismatch_area") > 0 and page.evaluate(f"{APP}.view.points.length") == 0
    # a line dragged near a corner of the triangle goes exactly through it
    page.query_selector("#map").scroll_into_view_if_needed()
    start = page.evaluate(f"{EX}.handlePx(0, 0)")
    end = page.evaluate(f"{EX}.pagePx([-0.8 + 0.012, -0.6 - 0.01])")
    drag(page, start, end)
    page.wait_for_function(f"{EX}.acked === {EX}.seq && Math.abs({EX}.weights.W1[0][0] * -0.8 "
                           f"+ {EX}.weights.W1[0][1] * -0.6 + {EX}.weights.b1[0]) < 1e-9")
    assert page.evaluate(f"{EX}.handles[0][0]") == pytest.approx([-0.8, -0.6], abs=1e-12)
    # flip: unit 1 is active on the other side of the same line (w and b negated on the server)
    with session_of(app).lock:
        w1, b1 = session_of(app).model.linears[0].W[1].copy(), session_of(app).model.linears[0].b[1]
    page.click(".ex-flip[data-j='1']")
    page.wait_for_function(f"{EX}.acked === {EX}.seq && {EX}.weights.b1[1] === {-float(b1)!r}")
    with session_of(app).lock:
        assert session_of(app).model.linears[0].W[1].tolist() == (-w1).tolist()
    # Close: an ordinary experiment again, whose tokens are drawn as points
    page.click(".ex-close")
    page.wait_for_function(f"{EX}.ex === null && {APP}.view.points.length === 300")
