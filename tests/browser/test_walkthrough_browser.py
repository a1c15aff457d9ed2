"""Faults found by walking through the playground as a student and as a teacher would (issue 12), each checked in
a real Chromium (Playwright) against the real server: the compare presets change one setting of A each, a number
box holding no number says so under its own label, and a token's trace fits the panel beside the map.
"""

import time

import pytest

from _chromium import browser, open_page, server  # noqa: E402,F401 (browser, server: shared fixtures)

pytestmark = pytest.mark.browser

APP = "window.relunetPlayground"


@pytest.fixture
def page(browser, server):
    with open_page(browser) as pg:
        pg.goto(server[1])
        pg.wait_for_function(f"{APP} && {APP}.state && {APP}.state.config")
        yield pg


def wait_for(page, js, what, timeout=15):
    t0 = time.time()
    while time.time() - t0 < timeout:
        value = page.evaluate(js)
        if value:
            return value
        page.wait_for_timeout(50)
    raise AssertionError(f"page never showed {what}; toast: {page.inner_text('#toast')!r}")


def lecture_step(page, n, hidden):
    """Take lecture step n and wait until the page shows its network (`hidden`: A's hidden sizes)."""
    page.click(f"#lecture-steps button:nth-child({n})")
    wait_for(page, f"(() => {{ const s = {APP}.state; return s && JSON.stringify(s.config.layers.map(l => l.units))"
                   f" === '{hidden}'; }})()", f"lecture step {n}")


def test_each_compare_preset_is_A_with_one_change(page):
    """B = batch 32 after B = linear compared a 2-4-2 net at batch 1 with a linear one at batch 32: presets piled up."""
    lecture_step(page, 2, "[4]")
    page.evaluate("document.getElementById('sec-compare').open = true")
    title_b = "document.getElementById('map-title-b').textContent"
    page.click("#cmp-preset-linear")
    assert wait_for(page, f"{title_b}.startsWith('B: 2–2,') && {title_b}", "B as the linear classifier")
    page.click("#cmp-preset-batch")
    assert "B: 2–4–2, sgd, lr 0.1, batch 32" in wait_for(page, f"{title_b}.includes('batch 32') && {title_b}",
                                                        "B at batch 32")
    page.click("#cmp-preset-lr")
    assert "B: 2–4–2, sgd, lr 1, batch 1" in wait_for(page, f"{title_b}.includes('lr 1,') && {title_b}",
                                                     "B at ten times the learning rate")
    assert (page.input_value("#cmp-net"), page.input_value("#cmp-batch_size")) == ("4", "1")


def type_into(page, selector, text):
    page.click(selector)
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.keyboard.press("Enter")


def test_a_number_box_says_what_is_wrong_under_its_own_label(page):
    """Typing "abc" as Points answered "n: input should be greater than or equal to 1" (an empty value was sent)."""
    page.evaluate("document.querySelectorAll('.relunet-app details').forEach(d => { d.open = true; })")
    type_into(page, "#n", "abc")
    assert wait_for(page, "document.getElementById('toast').textContent", "a message") == \
        "Points: not a number; it stays 90."
    assert page.input_value("#n") == "90"
    type_into(page, "#batch_size", "e")
    assert wait_for(page, "document.getElementById('toast').textContent.startsWith('Batch') && "
                          "document.getElementById('toast').textContent", "a message") == \
        "Batch size: not a number; it stays 1."
    type_into(page, "#lr", "-1")     # a number out of range: the server's reason, named as the page names the box
    toast = wait_for(page, "document.getElementById('toast').textContent.startsWith('Learning') && "
                           "document.getElementById('toast').textContent", "the server's reason")
    assert toast == "Learning rate: input should be greater than 0"
    assert page.evaluate(f"{APP}.state.config.lr") == 0.1
    page.click("#cmp-preset-lr")     # run B's learning rate box too (it was emptied without a word)
    wait_for(page, "document.getElementById('cmp-lr').value === '1'", "B's learning rate")
    type_into(page, "#cmp-lr", "e")
    assert wait_for(page, "document.getElementById('toast').textContent.startsWith('Learning rate: not') && "
                          "document.getElementById('toast').textContent", "a message") == \
        "Learning rate: not a number; it stays 1."
    assert page.input_value("#cmp-lr") == "1"


def test_a_tokens_trace_fits_the_panel_beside_the_map(page):
    """The backward table of a 2-4-2 net's token was wider than the panel: dL/dW2's last column and the ends of
    dL/dh1 and dL/dz1 were cut at its edge (the scroll bar sat at the far end of the long trace)."""
    lecture_step(page, 3, "[4]")
    x, y = page.evaluate(f"""(() => {{ const v = {APP}.view, r = v.canvas.getBoundingClientRect(),
        [p, q] = v.toPx(0.6, 0.45); return [r.left + p, r.top + q]; }})()""")
    page.mouse.click(x, y)
    wait_for(page, "document.getElementById('trace').textContent.includes('dL/dW1')", "the trace")
    trace, panel = page.evaluate("""['trace', 'trace-panel'].map(id => {
        const e = document.getElementById(id); return [e.scrollWidth, e.clientWidth]; })""")
    assert trace[0] <= trace[1], f"the trace is {trace[0]} px wide in a {trace[1]} px panel"
    assert panel[0] <= panel[1]


def test_the_bar_names_no_step_once_the_page_left_it(page):
    """Step 2, then the spiral preset and a 64-64 net, or Close at the quiz: the bar still highlighted the step."""
    lecture_step(page, 2, "[4]")
    assert "One hidden layer" in page.inner_text(".lecture-step.active")
    page.evaluate(f"{APP}.send({{type: 'set_network', layers: [{{units: 64}}, {{units: 64}}]}})")
    wait_for(page, f"{APP}.lecture.current === null", "the bar leaving step 2")
    assert page.query_selector(".lecture-step.active") is None
    assert "step=" not in page.evaluate("location.hash")
    lecture_step(page, 5, "[2]")
    assert "The quiz" in page.inner_text(".lecture-step.active")
    page.click(".ex-close")
    wait_for(page, f"{APP}.lecture.current === null && !document.querySelector('.lecture-step.active')",
             "the bar leaving the quiz after Close")
    assert "step=" not in page.evaluate("location.hash")


def test_the_quiz_names_its_graded_area_units_and_signs(page):
    """The dashed box was never named, the hinge lines had no j, "+ -0.728", and the grade said its count twice."""
    page.evaluate("""(() => { window.drawn = []; const f = CanvasRenderingContext2D.prototype.fillText;
        CanvasRenderingContext2D.prototype.fillText = function (t, ...r) { window.drawn.push(String(t));
                                                                           return f.call(this, t, ...r); }; })()""")
    lecture_step(page, 5, "[2]")
    wait_for(page, "document.querySelector('.ex-grade') && document.querySelector('.ex-units code')", "the grade")
    # every layer repainted now (draw() waits for an animation frame)
    drawn = page.evaluate(f"(() => {{ window.drawn = []; const v = {APP}.view; "
                          f"v.hingeLayer.last = v.back.last = v.front.last = null; v.drawNow(); return window.drawn; }})()")
    assert "graded area" in drawn and "0" in drawn and "1" in drawn     # the box, units h0 and h1 on the map
    units = page.inner_text(".ex-units")
    assert "+ -" not in units and units.count("h") >= 2
    grade = page.inner_text(".ex-grade")
    assert "graded area" in grade and "change the prediction" in grade
    assert grade.count(" of 90") <= 1, grade         # "0 of 90 correct", not again as "90 of 90 tokens are not ..."


def test_the_graph_editor_keeps_a_value_that_is_no_number(page):
    """Typing "abc" as a weight answered "value: input should be a valid number" and closed the editor."""
    page.evaluate(f"{APP}.openEditor({{layer: 0, row: 0, col: 0, label: 'W1[0,0]', value: 0.5}})")
    page.fill("#editor-value", "")
    page.focus("#editor-value")
    page.keyboard.type("abc")
    page.keyboard.press("Enter")
    assert wait_for(page, "document.getElementById('toast').textContent", "a message") == \
        "W1[0,0]: not a number; type one (e.g. -0.5), or Cancel."
    assert page.is_visible("#editor")


def test_the_loss_axis_writes_huge_values_compactly(page):
    """A diverging run's loss axis read "1e+195", cut at the chart's left edge."""
    labels = page.evaluate("import('/static/js/panels.js').then(m => [1e195, 3e-7, 0.5, 2e4].map(m.tick))")
    assert labels == ["1e195", "3e-7", "0.5", "2e4"]


def test_counter_is_named_linear_pieces(page):
    """REGIONS 1 at step 1 while the map showed two class cells: the counter counts linear pieces."""
    lecture_step(page, 1, "[]")
    wait_for(page, "!document.getElementById('c-regions-box').hidden", "the counter")
    assert page.inner_text("#c-regions-box .k").lower() == "linear pieces"
    assert "a class's cell may span several" in page.get_attribute("#c-regions-box", "title")


def test_hinge_labels_keep_apart_and_name_the_units_outside_the_view(page):
    """Step 2's labels met at the map's left edge, and a hinge line outside the view left no trace."""
    page.evaluate("""(() => { window.drawn = []; const f = CanvasRenderingContext2D.prototype.fillText;
        CanvasRenderingContext2D.prototype.fillText = function (t, x, y, ...r) {
            window.drawn.push([String(t), x, y]); return f.call(this, t, x, y, ...r); }; })()""")
    lecture_step(page, 2, "[4]")
    for box in ([-0.5, 1.5, -0.5, 1.5], [2, 4, 2, 4]):
        page.evaluate(f"{APP}.send({{type: 'set_view', box: {box}}})")
        wait_for(page, f"JSON.stringify({APP}.view.box) === '{box}'".replace(" ", ""), "the view")
        page.evaluate(f"window.drawn = []; {APP}.view.hingeLayer.last = null; {APP}.view.drawNow()")   # repainted now
        drawn = page.evaluate("window.drawn")
        hinge = {t: (x, y) for t, x, y in drawn if t in "0123"}
        outside = [t for t, _, _ in drawn if t.startswith("outside the view")]
        named = outside[0].split("units ")[-1].split("unit ")[-1].split(", ") if outside else []
        assert sorted(list(hinge) + named) == ["0", "1", "2", "3"], (hinge, outside)   # every unit, once
        spots = list(hinge.values())
        assert all(abs(complex(*p) - complex(*q)) >= 16.9 for i, p in enumerate(spots) for q in spots[i + 1:])
    assert named == ["1", "3"]
