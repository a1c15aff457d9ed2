"""Exercise mode in a real Chromium: open an exercise, load the reference (it passes), drag a hinge line
(W1 changes on the server and the grade turns to fail), and the link keeps the progress."""

import socket
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def served():
    import uvicorn

    from relunet.playground.server import create_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    t0 = time.time()
    while not srv.started:
        assert time.time() - t0 < 20, "server did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    srv.should_exit = True
    t.join(timeout=10)


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed at /usr/bin/chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = b.new_page(viewport={"width": 1440, "height": 1000})
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
        b.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


EX = "window.relunetPlayground.exercise"


def test_build_grade_and_keep_an_exercise(served, page):
    page.goto(served)
    page.wait_for_function(f"window.relunetPlayground && {EX} && {EX}.result", timeout=20000)
    page.select_option(".ex-pick", "xor")
    page.wait_for_function(f"{EX}.ex.name === 'xor' && {EX}.result.hidden === 2")
    assert page.inner_text(".ex-badge") == "FAIL"   # two fresh hinge lines and zero output weights

    page.click(".ex-ref")
    page.wait_for_function(f"{EX}.result.passed")
    assert page.inner_text(".ex-badge") == "PASS"
    assert page.inner_text(".ex-correct") == "40" and page.inner_text(".ex-hidden") == "4"
    before = page.evaluate(f"{EX}.weights.W1")
    assert before == [[1, -1], [-1, 1], [1, 1], [-1, -1]]

    # Drag unit 0's first handle: the line turns, the server sets W1[0] and grades again (XOR now fails).
    page.query_selector(".ex-map").scroll_into_view_if_needed()
    x, y = page.evaluate(f"{EX}.handlePx(0, 0)")
    page.mouse.move(x, y)
    page.mouse.down()
    for k in range(1, 6):
        page.mouse.move(x + 8 * k, y + 12 * k)
    page.mouse.up()
    page.wait_for_function(f"{EX}.settled && !{EX}.result.passed")
    after = page.evaluate(f"{EX}.weights.W1")
    assert after[0] != before[0] and after[1:] == before[1:]
    assert page.inner_text(".ex-badge") == "FAIL"
    assert int(page.inner_text(".ex-correct")) < 40
    # |w| is kept while the line turns
    assert abs((after[0][0] ** 2 + after[0][1] ** 2) - 2) < 1e-9

    # The link keeps the exercise, the passed ones and the network: reloading restores them.
    h = page.evaluate("location.hash")
    assert "!ex=xor&done=xor&net=4," in h
    page.goto("about:blank")
    page.goto(served + h)
    page.wait_for_function(f"window.relunetPlayground && {EX} && {EX}.result && {EX}.ex.name === 'xor'", timeout=20000)
    restored = page.evaluate(f"{EX}.weights.W1")
    assert all(abs(a - b) < 1e-5 * (1 + abs(b)) for r, s in zip(restored, after) for a, b in zip(r, s))
    assert "✓" in page.inner_text(".ex-pick option[value=xor]")

    # Handles snap to the 0.05 grid: a line dragged near a corner of the triangle goes exactly through it.
    page.select_option(".ex-pick", "triangle")
    page.wait_for_function(f"{EX}.ex.name === 'triangle' && {EX}.result.hidden === 2")
    page.query_selector(".ex-map").scroll_into_view_if_needed()
    x, y = page.evaluate(f"{EX}.handlePx(0, 0)")
    tx, ty = page.evaluate(f"{EX}.pagePx([-0.8 + 0.012, -0.6 - 0.01])")
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(tx, ty, steps=6)
    page.mouse.up()
    page.wait_for_function(f"{EX}.settled && Math.abs({EX}.weights.W1[0][0] * -0.8 "
                           f"+ {EX}.weights.W1[0][1] * -0.6 + {EX}.weights.b1[0]) < 1e-9")
    (w1, w2), b = page.evaluate(f"[{EX}.weights.W1[0], {EX}.weights.b1[0]]")
    assert abs(w1 * -0.8 + w2 * -0.6 + b) < 1e-9 * (abs(w1) + abs(w2) + abs(b))
    assert page.evaluate(f"{EX}.handles[0][0]") == pytest.approx([-0.8, -0.6], abs=1e-12)

    # Solving the output weights with these hinge lines frozen, then the reference of another exercise.
    page.select_option(".ex-pick", "lecture")
    page.wait_for_function(f"{EX}.ex.name === 'lecture'")
    page.click(".ex-ref")
    page.wait_for_function(f"{EX}.result.passed")
    page.fill(".ex-weights input[data-kind=v][data-j='0'][data-k='1']", "-1")   # a wrong output weight
    page.keyboard.press("Enter")
    page.wait_for_function(f"!{EX}.result.passed")
    page.click(".ex-solve")
    page.wait_for_function(f"{EX}.result.passed")
