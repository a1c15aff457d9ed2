"""Benchmarks of the playground: the stream a client receives, and the page in a real browser.

``measure_stream()`` starts the real server (uvicorn, in a thread of this process) on a free port of
127.0.0.1, connects a real WebSocket client, sets up the experiment, presses play and counts, for
`seconds`, the decision-map frames that arrive and the training samples the server reports.
The issue's target: at least 20 frames/s of a 100 x 100 map while training at least 20,000 samples/s
(2-64-64-3 network, 300 points). ``measure_browser()`` opens the page in headless Chromium and measures the
page itself: animation frames per second and the time a click takes to come back drawn. Both are benchmarks,
never timed tests.
"""

import contextlib
import json
import socket
import threading
import time


def measure_stream(seconds=5.0, points=300, sizes=(2, 64, 64, 3), port=None, batch_size=10, optimizer="sgd",
                   lr=0.01, resolution=100, exact=False):
    """Run the server, train `sizes` on `points` spiral points and measure the stream.

    With exact=True the exact regions overlay is on (issue 5's target: refreshed at least 5 times a second
    while a 2-64-64-3 net trains); "exact_per_s" counts its frames and "regions" is the last region count.

    Returns {"frames_per_s", "samples_per_s", "updates_per_s", "map_bytes", "frames", "seconds", ...}.
    samples_per_s counts the training tokens the server visited (epochs x points, from its last metrics
    message) per second of wall time while the page received frames.
    """
    from websockets.sync.client import connect

    from .frames import MAP, REGIONS, decode_header

    if len(sizes) < 2 or sizes[0] != 2:
        raise ValueError("the playground's classifier has 2 inputs: sizes must start with 2")
    with running_server(port) as port:
        with connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24) as ws:
            classes = sizes[-1]
            layers = [{"units": int(u), "activation": "relu"} for u in sizes[1:-1]]
            for msg in ({"type": "hello", "hash": ""},
                        {"type": "set_data", "dataset": "spiral", "n": points, "classes": classes},
                        {"type": "set_split", "test_fraction": 0.0},
                        {"type": "set_network", "layers": layers},
                        {"type": "set_training", "optimizer": optimizer, "lr": lr, "batch_size": batch_size},
                        {"type": "set_view", "resolution": resolution, "exact": bool(exact)}):
                ws.send(json.dumps(msg))
            ws.send(json.dumps({"type": "reset"}))   # count from update 0
            _drain(ws, 0.5)
            ws.send(json.dumps({"type": "play"}))
            _until_training(ws)     # the first updates wait for the compiled kernels (seconds on a busy machine)
            if exact:
                _until_overlays(ws, 2)  # the second overlay comes from the worker process, started for it
            frames = map_bytes = exact_frames = 0
            last = regions = None
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                data = ws.recv(timeout=2.0)
                if isinstance(data, bytes):
                    kind = decode_header(data)[0]
                    if kind == MAP:
                        frames += 1
                        map_bytes = len(data)
                    elif kind == REGIONS:
                        exact_frames += 1
                else:
                    m = json.loads(data)
                    if m.get("type") == "metrics":
                        last = m
                    elif m.get("type") == "pwl" and m.get("available"):
                        regions = m["count"]
                    elif m.get("type") == "error":
                        raise RuntimeError(f"the playground reported an error: {m['message']}")
            elapsed = time.perf_counter() - t0
            ws.send(json.dumps({"type": "pause"}))
    updates = last["updates"] if last else 0
    samples = last["epoch_float"] * last["train"]["n"] if last else 0.0   # tokens visited: epochs x points
    return {"frames_per_s": frames / elapsed, "samples_per_s": samples / elapsed,
            "updates_per_s": updates / elapsed, "frames": frames, "seconds": elapsed, "map_bytes": map_bytes,
            "resolution": resolution, "sizes": list(sizes), "points": points, "batch_size": batch_size,
            "optimizer": optimizer, "server_samples_per_s": last["samples_per_s"] if last else 0.0,
            "exact": bool(exact), "exact_per_s": exact_frames / elapsed, "regions": regions}


def measure_browser(seconds=3.0, points=300, sizes=(2, 64, 64, 3), batch_size=1, optimizer="sgd", lr=0.01,
                    exact=True, clicks=5, chromium="/usr/bin/chromium", browser=None, server_clicks=10):
    """Open the real page in headless Chromium (Playwright) against the real server, train and measure the page.

    Issue 12's target: with exact regions on a 2-64-64-3 net training at batch 1, at least 30 animation frames
    per second and a click answered within 100 ms. Measured once training runs (the compiled kernels are ready):

    - "animation_fps": requestAnimationFrame callbacks per second while training; "map_frames_per_s": maps the
      page received and drew; "exact_overlays_per_s": exact regions overlays (REGIONS frames) it received;
    - per click on the map (each adds a point), timed from the pointer-up event: "click_to_point_painted_ms"
      (the animation frame that paints the new point, drawn at once by the page with a pending look: what the
      user sees), "click_to_state_received_ms" (the server's state message arriving in the page: the round trip)
      and "click_to_state_painted_ms" (the animation frame that paints that state); "click_ms" is the last;
      "click_to_sent_ms": until the page sent the click's add_point (the pointer-up's wait for the main thread);
    - "state_ms_per_click": the page's time handling the state messages during the clicks;
    - "main_thread_ms_per_s": the renderer's main thread while training (Chromium's Performance metrics): busy in
      all (canvas raster included), script, layout, style; "paints_per_s": paints of the main map, and repaints of
      its cached layers (plot.js: hinges, back, front);
    - "server_round_trip_ms": with the page closed, a Python WebSocket client on a new session training the same
      net: add_point sent to its state reply received (the server alone), `server_clicks` times.

    A benchmark, never a timed test: the numbers depend on the machine (and headless Chromium paints in software).
    `browser`: a Playwright (sync) Browser to use instead of launching `chromium`.
    """
    from playwright.sync_api import sync_playwright

    from .protocol import Layer
    from .state import Config, encode_hash

    config = Config(dataset="spiral", n=points, noise=0.2, classes=sizes[-1], test_fraction=0.0,
                    layers=tuple(Layer(units=int(u)) for u in sizes[1:-1]), optimizer=optimizer, lr=lr,
                    batch_size=batch_size, exact=bool(exact))
    args = ["--no-sandbox", "--headless=new", "--disable-gpu", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"]
    with running_server() as port, contextlib.ExitStack() as stack:
        if browser is None:
            pw = stack.enter_context(sync_playwright())
            browser = pw.chromium.launch(executable_path=chromium, args=args)
            stack.callback(browser.close)
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        stack.callback(page.close)
        page.goto(f"http://127.0.0.1:{port}/#{encode_hash(config)}")
        page.wait_for_function("window.relunetPlayground.state && window.relunetPlayground.view.frame")
        page.click("#play")
        # measured once training runs: the first updates wait for the compiled kernels (seconds on a busy machine)
        page.wait_for_function("window.relunetPlayground.lastMetrics?.updates > 500", timeout=120000)
        if exact:
            page.wait_for_function("window.relunetPlayground.view.regions", timeout=20000)
        page.wait_for_timeout(500)
        cdp = page.context.new_cdp_session(page)    # the renderer's main thread: Chromium's own task counters
        cdp.send("Performance.enable")
        page.evaluate("""() => { const a = window.relunetPlayground; a.frameCount = 0; a.rafCount = 0; a.busy = {};
            a.regionFrames = 0; a.paints0 = a.view.paints ?? 0; a.layers0 = {...(a.view.layerPaints || {})};
            const tick = () => { a.rafCount++; if (!a.rafStop) requestAnimationFrame(tick); };
            requestAnimationFrame(tick); }""")
        main0 = _main_thread(cdp)
        t0 = time.perf_counter()
        page.wait_for_timeout(seconds * 1000)
        elapsed = time.perf_counter() - t0
        main1 = _main_thread(cdp)
        raf, maps, overlays, busy, paints = page.evaluate("""() => { const a = window.relunetPlayground; a.rafStop = true;
            const v = a.view, layers = {};
            for (const [k, n] of Object.entries(v.layerPaints || {})) layers[k] = n - (a.layers0[k] || 0);
            return [a.rafCount, a.frameCount, a.regionFrames, a.busy, { map: (v.paints ?? 0) - a.paints0, ...layers }]; }""")
        # clicks on the map while it trains: each adds a point
        box = page.evaluate("(() => { const r = window.relunetPlayground.view.canvas.getBoundingClientRect(); "
                            "return [r.left, r.top, r.width, r.height]; })()")
        timings = {"echo": [], "reply": [], "painted": [], "sent": []}
        page.evaluate("window.relunetPlayground.busy = {}")
        # when the page sends the click's add_point: the pointer-up waited this long for the page's main thread
        page.evaluate("""() => { const send = WebSocket.prototype.send;
            WebSocket.prototype.send = function (data) {
                const a = window.relunetPlayground;
                if (typeof data === "string" && data.includes('"add_point"') && a.awaitClick) a.sentMs = performance.now() - a.clickT0;
                return send.call(this, data); }; }""")
        for i in range(clicks):
            n = page.evaluate("window.relunetPlayground.state.points.length")
            page.evaluate("(() => { const a = window.relunetPlayground; a.clickMs = a.echoMs = a.replyMs = a.sentMs = 0; })()")
            # (a page without local echo, or without the reply time, reports 0 for them)
            page.mouse.click(box[0] + box[2] * (0.3 + 0.1 * i), box[1] + box[3] * 0.5)
            page.wait_for_function(f"window.relunetPlayground.state.points.length === {n + 1} && "
                                   "!window.relunetPlayground.awaitClick && window.relunetPlayground.clickMs > 0 && "
                                   "(window.relunetPlayground.echoMs > 0 || !window.relunetPlayground.pendingPoints)")
            page.wait_for_timeout(50)
            got = page.evaluate("(() => { const a = window.relunetPlayground; "
                                "return [a.echoMs, a.replyMs, a.clickMs, a.sentMs]; })()")
            for key, v in zip(timings, got):
                timings[key].append(round(v, 1))
        state_ms = page.evaluate("window.relunetPlayground.busy.state ?? 0")
        regions = page.evaluate("window.relunetPlayground.view.regions?.counts.length ?? null")
        page.click("#play")
        page.close()
        server = measure_round_trip(port, config, server_clicks) if server_clicks else []
    return {"animation_fps": raf / elapsed, "map_frames_per_s": maps / elapsed,
            "exact_overlays_per_s": (overlays or 0) / elapsed,
            "click_to_point_painted_ms": timings["echo"], "click_to_state_received_ms": timings["reply"],
            "click_to_state_painted_ms": timings["painted"], "click_ms": timings["painted"],
            "click_to_sent_ms": timings["sent"],
            "click_ms_max": max(timings["painted"]) if clicks else None,
            "state_ms_per_click": round(state_ms / max(1, clicks), 1), "server_round_trip_ms": server,
            "seconds": elapsed, "sizes": list(sizes), "points": points, "batch_size": batch_size,
            "optimizer": optimizer, "exact": bool(exact), "regions": regions,
            "busy_ms_per_s": {k: round(v / elapsed, 1) for k, v in sorted(busy.items())},
            "main_thread_ms_per_s": {k: round((main1[k] - main0[k]) * 1000 / elapsed, 1) for k in main0},
            "paints_per_s": {k: round(v / elapsed, 1) for k, v in paints.items()}}


def _main_thread(cdp):
    """Seconds the page's renderer main thread has spent so far: in tasks (all of its work, canvas raster included),
    in script, in layout and in style (Chromium's Performance.getMetrics)."""
    got = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    return {"busy": got.get("TaskDuration", 0.0), "script": got.get("ScriptDuration", 0.0),
            "layout": got.get("LayoutDuration", 0.0), "style": got.get("RecalcStyleDuration", 0.0)}


def measure_round_trip(port, config, clicks=10):
    """[ms per add_point, sent to its state reply received] from a Python WebSocket client on the server at `port`,
    training `config` (a new session: the server alone, no page). Clicks go 0.25 s apart while it trains."""
    from websockets.sync.client import connect

    from .state import encode_hash

    out = []
    with connect(f"ws://127.0.0.1:{port}/ws", max_size=2**24) as ws:
        ws.send(json.dumps({"type": "hello", "hash": encode_hash(config)}))
        _until_state(ws)
        ws.send(json.dumps({"type": "play"}))
        _until_training(ws)
        _drain(ws, 0.5)
        x0, x1, y0, y1 = -1.0, 1.0, -1.0, 1.0
        for i in range(clicks):
            point = {"x": x0 + (x1 - x0) * (i + 0.5) / clicks, "y": (y0 + y1) / 2, "label": i % config.classes}
            t0 = time.perf_counter()
            ws.send(json.dumps({"type": "add_point", "point": point}))
            _until_state(ws)
            out.append(round((time.perf_counter() - t0) * 1000, 1))
            _drain(ws, 0.25)
        ws.send(json.dumps({"type": "pause"}))
    return out


def _until_training(ws, timeout=120):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        data = ws.recv(timeout=timeout)
        if isinstance(data, str) and json.loads(data).get("type") == "metrics" and json.loads(data)["updates"] > 0:
            return
    raise RuntimeError(f"the playground did not start training within {timeout} s")


def _until_overlays(ws, n, timeout=60):
    t0 = time.perf_counter()
    while n > 0 and time.perf_counter() - t0 < timeout:
        data = ws.recv(timeout=timeout)
        n -= isinstance(data, str) and json.loads(data).get("type") == "pwl"


def _until_state(ws):
    while True:
        data = ws.recv(timeout=30)
        if isinstance(data, str) and json.loads(data).get("type") == "state":
            return


@contextlib.contextmanager
def running_server(port=None):
    """The real playground server (uvicorn in a thread of this process) on 127.0.0.1; yields its port."""
    import uvicorn

    from .server import create_app, limit_blas_threads

    port = port or _free_port()
    limiter = limit_blas_threads()   # as `relunet playground` runs (process-wide; restored at the end)
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    t_wait = time.perf_counter()
    while not server.started:
        if time.perf_counter() - t_wait > 20 or not thread.is_alive():
            raise RuntimeError("the playground server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        if limiter is not None:
            limiter.restore_original_limits()


def _drain(ws, seconds):
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        try:
            ws.recv(timeout=0.05)
        except TimeoutError:
            pass


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":  # python -m relunet.playground.measure [browser]
    import sys

    import os

    out = measure_browser() if sys.argv[1:] == ["browser"] else measure_stream()
    out["load_average"] = [round(v, 2) for v in os.getloadavg()]   # measured on a shared machine? it says so
    print("{\n" + ",\n".join(f" {json.dumps(k)}: {json.dumps(v)}" for k, v in out.items()) + "\n}")   # a key a line
