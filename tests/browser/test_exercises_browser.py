"""Exercise mode in a real Chromium: open an exercise, load the reference (it passes), drag a hinge line
(W1 changes on the server and the grade turns to fail), and the link keeps the progress."""

import pytest

from _chromium import chromium, serving  # noqa: E402

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def served():
    with serving() as (_, url):
        yield url


@pytest.fixture
def page():
    with chromium() as b:
        pg = b.new_page(viewport={"width": 1440, "height": 1000})
        errors = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        yield pg
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
