"""The playground's web server: the page, its static files, and one WebSocket (one Session) per tab.

Each connection runs a receiver task that hands every message to its session's Driver (driver.py: validation,
the session's replies) in a worker thread, the Driver's own thread that alternates training slices and frames,
and a single sender task that writes to the socket; nothing blocks the event loop or any other tab.

Security: the server binds 127.0.0.1 unless told otherwise, and a WebSocket whose Origin is not the
page's own (the Origin's host:port must equal the Host header) is refused before it is accepted (close
code 1008, which uvicorn sends as HTTP 403 at the handshake).
Clients that send no Origin at all are not browsers (browsers always send one on WebSocket
connections); they are let through so scripts and tests can drive the playground.
"""

import asyncio
import logging
import time
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from .driver import Driver, dumps, error
from .session import Session
from ..threads import limit_blas_threads  # re-exported: measure.py uses it too

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("relunet.playground")


def create_app():
    """The FastAPI application; ``app.state.sessions`` holds the live sessions (one per open tab)."""
    app = FastAPI(title="relunet playground", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sessions = set()

    @app.get("/")
    def index():
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    @app.get("/favicon.ico")
    def favicon():
        return Response(status_code=204)

    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.websocket("/ws")
    async def websocket(ws: WebSocket):
        if not origin_allowed(ws.headers.get("origin"), ws.headers.get("host")):
            await ws.close(code=1008, reason="origin not allowed")
            return
        await ws.accept()
        session = Session()
        app.state.sessions.add(session)
        try:
            await Connection(ws, session).serve()
        finally:
            app.state.sessions.discard(session)
            session.playing = False

    return app


def origin_allowed(origin, host):
    """True when a WebSocket may connect: no Origin (not a browser), or an Origin naming the page's own host:port."""
    if origin is None:
        return True
    if not host:
        return False
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    default = {"http": "80", "https": "443"}[parts.scheme]
    return _netloc(parts.netloc, default) == _netloc(host, default)


def _netloc(value, default_port):
    value = value.lower()
    return value if value.rsplit("]", 1)[-1].count(":") else f"{value}:{default_port}"


class Connection:
    """One tab's WebSocket: a receiver and a sender task around a Driver (driver.py), which trains and renders
    in its own thread. Replies and frames reach the sender through one asyncio queue, in the order made."""

    def __init__(self, ws, session):
        self.ws, self.session = ws, session
        self.out = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def sink(item):                     # called from worker threads
            try:
                loop.call_soon_threadsafe(self.out.put_nowait, item)
            except RuntimeError:            # the loop has closed: the tab is gone
                self.driver.close()

        self.driver = Driver(session, sink, backlog=self.out.qsize)

    async def serve(self):
        self.driver.start()
        sender = asyncio.create_task(self._send())
        try:
            await self._receive()
        finally:
            self.driver.close()
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    def post(self, item):
        self.out.put_nowait(item)

    async def _receive(self):
        while True:
            msg = await self.ws.receive()
            if msg["type"] == "websocket.disconnect":
                return
            text = msg.get("text")
            if text is None:
                self.post(error("binary messages are not accepted; send JSON text"))
                continue
            await asyncio.to_thread(self.driver.receive, text)

    async def _send(self):
        while True:
            item = await self.out.get()
            if isinstance(item, (bytes, bytearray)):
                await self.ws.send_bytes(bytes(item))
            else:
                await self.ws.send_text(dumps(item))


def serve(host="127.0.0.1", port=8000, open_browser=True, log_level="warning"):
    """Run the playground with uvicorn until interrupted."""
    import uvicorn

    limit_blas_threads()
    app = create_app()
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, ws_max_size=16 * 2**20)
    server = uvicorn.Server(config)
    if open_browser:
        import threading
        import webbrowser

        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)

        def opener():
            while not server.started:
                time.sleep(0.05)
            webbrowser.open(f"http://{shown}:{port}/")

        threading.Thread(target=opener, daemon=True).start()
    server.run()
