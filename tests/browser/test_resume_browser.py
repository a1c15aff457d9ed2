"""A reload keeps the session, and the link names the lecture step: in a real Chromium against the real server.

The weights are read from the page's own state (the app object's last "weights" message) and compared with
those the server's session holds, before and after the reload; Undo after the reload must give back the page
as it was before the last lecture step.
"""

import time

import numpy as np
import pytest

from _chromium import browser, open_page, server  # noqa: E402,F401 (browser, server: shared fixtures)

pytestmark = pytest.mark.browser

APP = "window.relunetPlayground"


@pytest.fixture
def page(browser):
    with open_page(browser) as pg:
        yield pg


def wait_for(page, expression, what, timeout=20):
    """Poll a JavaScript expression on the app (`a`) until it is true."""
    t0 = time.time()
    while time.time() - t0 < timeout:
        if page.evaluate(f"(a => !!(a && a.state && ({expression})))({APP})"):
            return
        page.wait_for_timeout(50)
    raise AssertionError(f"page never showed {what}")


def page_weights(page):
    w = page.evaluate(f"{APP}.lastWeights")
    return [np.array(m) for m in w["W"]] + [np.array(v) for v in w["b"]]


def server_weights(session):
    with session.lock:
        return [lin.W.copy() for lin in session.model.linears] + [lin.b.copy() for lin in session.model.linears]


def settled(page, updates):
    """Wait until the page shows `updates` updates and the weights sent after them."""
    wait_for(page, f"a.lastMetrics && a.lastMetrics.updates === {updates} && !a.playing", f"{updates} updates")
    page.wait_for_timeout(300)          # the weights message goes with the frame after the metrics


def test_a_reload_keeps_weights_lecture_step_and_undo_and_reconnect_resumes(server, page):
    app, url = server
    page.goto(url)
    wait_for(page, "a.session && a.lecture && a.state.sizes.length === 2", "the linear classifier")
    token = page.evaluate(f"{APP}.session.token")
    assert page.evaluate("sessionStorage.getItem('relunet-session')") == token and len(token) == 32

    page.click("[data-step='2']")
    wait_for(page, "a.state.sizes.join() === '2,4,2' && a.lecture.current === 2", "step 2")
    page.evaluate(f"{APP}.send({{type: 'step', updates: 15}})")
    settled(page, 15)
    at_step_2 = page_weights(page)
    page.click("[data-step='3']")       # the same network: the weights trained so far stay
    wait_for(page, "a.lecture.current === 3 && a.lecture.undo === 2", "step 3")
    page.evaluate(f"{APP}.send({{type: 'step', updates: 5}})")
    settled(page, 20)
    before = page_weights(page)
    session = app.state.store.session(token)
    assert session in app.state.sessions
    for got, want in zip(before, server_weights(session)):
        np.testing.assert_array_equal(got, want)
    assert not any(np.array_equal(a, b) for a, b in zip(before[:1], at_step_2[:1]))    # 5 updates moved W1
    assert page.evaluate("location.hash").endswith("&step=3")

    page.reload()
    wait_for(page, "a.session && a.session.resumed && a.lecture && a.lastMetrics && a.lastWeights", "the resumed page")
    assert page.evaluate(f"{APP}.session.token") == token
    wait_for(page, "a.lecture.current === 3 && a.lastMetrics.updates === 20", "step 3 and 20 updates after the reload")
    assert page.evaluate("document.querySelector('.lecture-step.active').dataset.step") == "3"
    page.wait_for_function("document.getElementById('c-updates').textContent === '20'")    # the counters painted
    assert page.is_enabled("#lecture-undo") and page.evaluate(f"{APP}.lecture.undo") == 2
    for got, want in zip(page_weights(page), before):
        np.testing.assert_array_equal(got, want)

    page.click("#lecture-undo")
    wait_for(page, "a.lecture.current === 2 && a.lastMetrics.updates === 15", "Undo: step 2 at 15 updates")
    page.wait_for_timeout(300)
    for got, want in zip(page_weights(page), at_step_2):
        np.testing.assert_array_equal(got, want)
    assert page.evaluate("location.hash").endswith("&step=2")

    # Reconnect (the button shown once the server was gone) resumes the session of the same server process
    page.evaluate(f"{APP}.session = null; document.getElementById('reconnect').click()")
    wait_for(page, "a.connected && a.session && a.session.resumed", "the reconnected session")
    wait_for(page, "a.lecture.current === 2 && a.lastMetrics.updates === 15", "step 2 after Reconnect")
    assert page.evaluate(f"{APP}.session.token") == token


def test_a_link_opens_its_lecture_step(server, page):
    _, url = server
    page.goto(url + "#step=3")
    wait_for(page, "a.lecture && a.lecture.current === 3 && a.state.sizes.join() === '2,4,2'", "step 3 from the link")
    assert page.evaluate(f"{APP}.mode") == "trace"                    # step 3's click mode
    assert "SGD, one token at a time" in page.inner_text(".lecture-step.active")
    # the page writes the whole link back: the experiment, then the step; opening it again gives the same page
    link = page.evaluate("location.hash")
    assert link.startswith("#task=classification&data=lecture&") and link.endswith("&net=4r&opt=sgd&lr=0.1&mom=0.9"
                                                                                   "&bs=1&l2=0.0&sched=constant&tloss="
                                                                                   "&maxep=&seed=0&res=100&disc=0"
                                                                                   "&hinge=1&exact=1&step=3")
    page.click("[data-step='4']")
    wait_for(page, "a.lecture.current === 4 && a.state.config.task === 'regression'", "step 4")
    assert page.evaluate("location.hash").endswith("&step=4")
    page.goto(url + link)               # the shared link, followed in this tab (a hash change): step 3 again
    wait_for(page, "a.lecture.current === 3 && a.state.sizes.join() === '2,4,2'", "step 3 from the followed link")
    assert page.evaluate("location.hash") == link
