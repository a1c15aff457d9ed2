"""The widget in a real JupyterLab, in Debian's Chromium driven by Playwright.

JupyterLab runs on 127.0.0.1 with a token, a free port, no browser, and a temporary root and settings dirs;
it and its kernel are shut down at the end. The test opens a small notebook, runs the widget's cell, clicks
a point on the decision map, presses play, sees the map change (pixels read from the canvas), pauses, and
runs a cell that prints len(w.data[0]) to see the clicked point arrive in Python.
"""

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from _chromium import chromium, free_port  # noqa: E402

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

WIDGET_CELL = """from relunet.notebook import Playground

w = Playground(data="spiral", hidden=[16, 16], optimizer="momentum", lr=0.03, batch_size=10, exact=False)
w"""
CHECK_CELL = 'print("points:", len(w.data[0]))'


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server starting on a free port of 127.0.0.1: (base url, token, ready()), shut down after."""
    pytest.importorskip("jupyterlab")
    nbformat = pytest.importorskip("nbformat")
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "root"
    root.mkdir()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(WIDGET_CELL), nbformat.v4.new_code_cell(CHECK_CELL)],
                                  metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nbformat.write(nb, root / "widget.ipynb")
    env = dict(os.environ)
    for var, sub in [("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_DATA_DIR", "data"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("JUPYTERLAB_SETTINGS_DIR", "settings"), ("JUPYTERLAB_WORKSPACES_DIR", "workspaces"),
                     ("IPYTHONDIR", "ipython")]:
        env[var] = str(tmp / sub)
    # no "get official Jupyter news?" question over the widget
    news = tmp / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    port, token = free_port(), secrets.token_hex(16)
    log = open(tmp / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--expose-app-in-browser",
         "--ServerApp.port_retries=0", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.news_url=None", "--LabApp.extension_manager=readonly", "--ServerApp.terminals_enabled=False"]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"

    def ready():
        """Wait until the server answers (the test starts Chromium meanwhile)."""
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).read()
                return
            except OSError:
                if proc.poll() is not None or time.time() - t0 > 60:
                    raise AssertionError("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
                time.sleep(0.1)

    try:
        yield base, token, ready
    finally:
        _shutdown(base, token, proc)
        log.close()


def _shutdown(base, token, proc):
    """Stop the kernels through the API, then the server (SIGTERM, then SIGKILL); both were started here."""
    try:
        kernels = json.loads(urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=5).read())
        for k in kernels:
            req = urllib.request.Request(f"{base}/api/kernels/{k['id']}?token={token}", method="DELETE")
            urllib.request.urlopen(req, timeout=10).read()
    except OSError:
        pass
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _run_cell(page, index):
    """Run cell `index` of the open notebook through JupyterLab's own commands."""
    page.evaluate("""async (i) => {
        const app = window.jupyterapp, panel = app.shell.currentWidget;
        panel.content.activeCellIndex = i;
        await app.commands.execute("notebook:run-cell");
    }""", index)


def _cell_text(page, index):
    return page.evaluate("""(i) => {
        const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
        return cell.outputArea ? cell.outputArea.node.innerText : "";
    }""", index)


APP = "document.querySelector('.relunet-widget').relunetPlayground"
MAP = '.relunet-widget canvas[aria-label="decision map"]'


def _changed_pixels(page, remember=False):
    """How many of the decision map's pixels differ from the remembered ones (read from the widget's canvas,
    compared in the page: the pixels themselves are too many to carry to Python quickly)."""
    return page.evaluate("""([sel, remember]) => {
        const c = document.querySelector(sel);
        const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        const old = window.relunetTestPixels;
        if (remember) { window.relunetTestPixels = px; return 0; }
        let n = 0;
        for (let i = 0; i < px.length; i += 4)
            if (px[i] !== old[i] || px[i + 1] !== old[i + 1] || px[i + 2] !== old[i + 2]) n++;
        return n;
    }""", [MAP, remember])


def _frames(page):
    return page.evaluate(f"{APP}.frameCount || 0")


def test_widget_in_jupyterlab(lab, browser):    # lab first: the server starts while Chromium does
    base, token, ready = lab
    ctx = browser.new_context(viewport={"width": 1500, "height": 1100})
    ready()
    page = ctx.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{base}/lab/tree/widget.ipynb?token={token}&reset", timeout=60_000)
        page.wait_for_function("""() => {
            const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
            return w && w.content && w.content.widgets && w.content.widgets.length === 2 &&
                   w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel &&
                   w.sessionContext.session.kernel.status === "idle";
        }""", timeout=60_000)
        page.evaluate("window.jupyterapp.shell.collapseLeft()")     # the file browser away: a wider cell
        _run_cell(page, 0)
        page.wait_for_selector(MAP, timeout=60_000)
        page.wait_for_function(f"{APP}.state && ({APP}.frameCount || 0) > 0", timeout=30_000)
        assert page.evaluate(f"{APP}.state.sizes") == [2, 16, 16, 3]
        page.wait_for_timeout(300)          # the first frames settle
        _changed_pixels(page, remember=True)

        # a click on the map adds a point of the selected class, in the kernel
        box = page.locator(MAP).bounding_box()
        page.locator(MAP).click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.2})
        page.wait_for_function(f"{APP}.state.points.length === 301", timeout=30_000)
        # keys typed while the widget has the focus are the widget's: a digit picks the class, and JupyterLab's
        # command-mode "a" (insert a cell) does nothing
        page.keyboard.press("2")
        page.keyboard.press("a")
        page.wait_for_function(f"{APP}.cls === 2", timeout=10_000)
        assert page.evaluate("window.jupyterapp.shell.currentWidget.content.widgets.length") == 2

        # play: the kernel trains, the map follows; the frame rate is measured, never asserted
        page.locator(".relunet-widget button[aria-label=play]").click()
        page.wait_for_function(f"{APP}.state.playing", timeout=30_000)
        # the first updates may wait for the engine's compiled kernels (Numba, cached after the first run)
        page.wait_for_function(f"{APP}.lastMetrics && {APP}.lastMetrics.updates > 0", timeout=120_000)
        f0, t0 = _frames(page), time.time()
        page.wait_for_timeout(2000)
        fps = (_frames(page) - f0) / (time.time() - t0)
        updates = page.evaluate(f"{APP}.lastMetrics.updates")
        print(f"\nnotebook widget: {fps:.1f} map frames/s in JupyterLab while a 2-16-16-3 net trains "
              f"({updates} updates so far)")
        assert _changed_pixels(page) > 100     # the map follows the training
        if os.environ.get("RELUNET_SCREENSHOT"):
            # the README picture, taken only when asked: a network that has learned the spiral
            page.wait_for_function(f"{APP}.lastMetrics.train.accuracy > 0.97", timeout=300_000)
            page.mouse.move(5, 700)         # no hover highlight on the map
            page.wait_for_timeout(300)
            page.screenshot(path=str(DOCS / "notebook.png"))
        page.locator(".relunet-widget button[aria-label=pause]").click()
        page.wait_for_function(f"!{APP}.state.playing", timeout=30_000)

        # the clicked point is in Python's w.data
        _run_cell(page, 1)
        page.wait_for_function("""() => window.jupyterapp.shell.currentWidget.content.widgets[1]
                                  .outputArea.node.innerText.includes("points:")""", timeout=30_000)
        assert "points: 301" in _cell_text(page, 1)

        # the page's extensions are the widget's too: the Exercises panel, which lecture step 5 opens
        panel = ".relunet-widget [data-panel=exercises]"
        page.wait_for_function(f"document.querySelectorAll('{panel} .ex-pick option').length >= 6", timeout=30_000)
        page.locator(".relunet-widget [data-step='5']").click()
        page.wait_for_function(f"{APP}.lecture.current === 5 && {APP}.exercise.ex && {APP}.exercise.ex.name === 'lecture'",
                               timeout=30_000)
        assert page.locator(panel).is_visible()
    finally:
        ctx.close()
    assert not errors, f"JavaScript errors in JupyterLab: {errors}"
