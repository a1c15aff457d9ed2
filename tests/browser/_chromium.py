"""What the browser tests share: Debian's Chromium driven by Playwright, and the real playground server on a free
port of 127.0.0.1 (uvicorn in a thread of the test process, so a test can look at the server's sessions)."""

import contextlib
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"   # Debian's package: Playwright cannot download its own browsers here
ARGS = ["--no-sandbox", "--headless=new", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port):
    """(app, server, thread) of the playground serving on 127.0.0.1:port, once it accepts connections."""
    import uvicorn

    from relunet.playground.server import create_app

    app = create_app()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=srv.run, daemon=True)
    t.start()
    t0 = time.time()
    while not srv.started:
        assert time.time() - t0 < 20, "server did not start"
        time.sleep(0.05)
    return app, srv, t


def stop_server(srv, t):
    srv.should_exit = True
    t.join(timeout=10)


@contextlib.contextmanager
def serving():
    """(app, url) of a running playground server, stopped afterwards."""
    port = free_port()
    app, srv, t = start_server(port)
    try:
        yield app, f"http://127.0.0.1:{port}/"
    finally:
        stop_server(srv, t)


@contextlib.contextmanager
def chromium():
    """A headless Chromium browser (Playwright's Browser), closed afterwards."""
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed at /usr/bin/chromium (apt-get install chromium)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


# The module-scoped fixtures the page's browser tests share (a test file imports them by name; a conftest.py here
# would shadow tests/conftest.py for `from conftest import SRC`)
@pytest.fixture(scope="module")
def server():
    """(app, url) of the playground served for one test module."""
    with serving() as served:
        yield served


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for one test module."""
    with chromium() as b:
        yield b


@contextlib.contextmanager
def open_page(browser, width=1440, height=900, **options):
    """A page in a new browser context, closed afterwards; JavaScript errors it raised fail the test."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, **options)
    pg = ctx.new_page()
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
