"""The playground's web server: the page, its static files, and one WebSocket (one Session) per tab.

Each connection runs a receiver task that hands every message to its session's Driver (driver.py: validation,
the session's replies) in a worker thread, the Driver's own thread that alternates training slices and frames,
and a single sender task that writes to the socket; nothing blocks the event loop or any other tab.

Security: the server binds 127.0.0.1 unless told otherwise, and a WebSocket whose Origin is not the
page's own (the Origin's host:port must equal the Host header) is refused before it is accepted (close
code 1008, which uvicorn sends as HTTP 403 at the handshake).
Clients that send no Origin at all are not browsers (browsers always send one on WebSocket
connections); they are let through so scripts and tests can drive the playground.
The Host header of every request must name the address served (127.0.0.1, localhost, [::1] or the --host
given, with the port; see HostCheck): a page on another site whose name an attacker re-points at 127.0.0.1
(DNS rebinding) sends its own name as the Host, and is refused.

Sessions outlive their socket (resume.py): the first reply is {"type": "session", "token": ...}; a hello that
brings the token back within resume.GRACE_SECONDS gets the same Session (weights, counters, lecture step, undo),
so a reload or a Reconnect loses nothing. The first message chooses the session, so nothing is built before it.

A page that stops reading its frames costs nothing: at most MAX_QUEUED frames wait for it, then the Driver
sleeps on an event (no polling) until the sender has caught up; the frames it would have drawn meanwhile are
dropped (counted in Connection.dropped), never queued.
"""

import asyncio
import logging
import time
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

from fastapi import FastAPI, WebSocket
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from .driver import MAX_BACKLOG as MAX_QUEUED, Driver, dumps, error  # noqa: F401 (MAX_QUEUED: the slow-page limit)
from .resume import SessionStore, hello_of, rejoin
from .session import Session
from ..threads import limit_blas_threads  # re-exported: measure.py uses it too

STATIC = Path(__file__).parent / "static"
log = logging.getLogger("relunet.playground")


def create_app(hosts=None):
    """The FastAPI application; ``app.state.sessions`` holds the live sessions (one per open tab), and
    ``app.state.store`` (resume.SessionStore) every session by token, detached ones included.

    hosts: (host, port) the server listens on; every request's Host header must then name it (HostCheck).
    None (an app driven in-process, e.g. by FastAPI's TestClient) checks no Host header; serve() always
    passes its address.
    """
    app = FastAPI(title="relunet playground", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sessions = set()
    app.state.store = SessionStore()
    if hosts is not None:
        app.add_middleware(HostCheck, host=hosts[0], port=hosts[1])

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
        await Connection(ws, app.state).serve()

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


class HostCheck:
    """ASGI middleware: refuse any request whose Host header does not name the served address.

    Allowed: 127.0.0.1, localhost and [::1] with the served port, and the --host given with that port; when
    listening on every address (0.0.0.0 or ::) also any IP address with the port (DNS rebinding needs a
    name, never an IP literal). HTTP gets 400; a WebSocket is closed before it is accepted (HTTP 403).
    """

    def __init__(self, app, host, port):
        self.app, self.port = app, int(port)
        self.any_ip = host in ("0.0.0.0", "::", "")
        self.names = {"127.0.0.1", "localhost", "::1", host.lower().strip("[]")}

    def allowed(self, header):
        name, port = split_host(header)
        if name is None or port != self.port:
            return False
        return name in self.names or (self.any_ip and _is_ip(name))

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            header = next((v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"host"), "")
            if not self.allowed(header):
                if scope["type"] == "http":
                    body = b"relunet playground: this Host header is not the address served\n"
                    await send({"type": "http.response.start", "status": 400,
                                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body})
                else:
                    await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)


def split_host(header):
    """'Name:8000' -> ('name', 8000); '[::1]:8000' -> ('::1', 8000); no port means 80. (None, None) if malformed."""
    header = (header or "").strip().lower()
    if header.startswith("["):
        name, sep, rest = header[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return None, None
        port = rest[1:] if rest else "80"
    else:
        name, _, port = header.partition(":") if header.count(":") == 1 else (header, "", "80")
        port = port or "80"
    if not name or not port.isdigit():
        return None, None
    return name, int(port)


def _is_ip(name):
    import ipaddress

    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


class Connection:
    """One tab's WebSocket: a receiver and a sender task around a Driver (driver.py), which trains and renders
    in its own thread. Replies and frames reach the sender through one asyncio queue, in the order made.

    `server` is the app's state: its live `sessions` and its `store` of sessions by token (resume.py); None
    gives the connection its own. The first text message chooses the session: a hello whose token the store
    gives back resumes that one; anything else gets a new Session. When the socket closes, the session is
    detached, not freed.
    """

    def __init__(self, ws, server=None):
        self.ws = ws
        self.server = server or SimpleNamespace(sessions=set(), store=SessionStore())
        self.session = self.driver = self.token = None
        self.out = asyncio.Queue()
        self.loop = asyncio.get_running_loop()

    def _sink(self, item):                  # called from worker threads
        try:
            self.loop.call_soon_threadsafe(self.out.put_nowait, item)
        except RuntimeError:                # the loop has closed: the tab is gone
            self.driver.close()

    async def serve(self):
        sender = asyncio.create_task(self._send())
        try:
            await self._receive()
        finally:
            if self.driver is not None:
                self.driver.close()
                self.server.sessions.discard(self.session)
                self.server.store.detach(self.token)
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    async def _attach(self, hello):
        """Take the session `hello`'s token names, if the store gives it back, else a new one; start its Driver.
        Returns True when the session was resumed."""
        store = self.server.store
        session = await store.claim(hello.token) if hello is not None and hello.token else None
        resumed = session is not None
        if resumed:
            token = hello.token
        else:
            session = await asyncio.to_thread(Session)
            token = store.add(session)
        self.session, self.token = session, token
        self.server.sessions.add(session)
        self.driver = Driver(session, self._sink, backlog=self.out.qsize).start()
        self.post({"type": "session", "token": token, "resumed": resumed})
        return resumed

    @property
    def dropped(self):
        """Frames not drawn because the page had not taken the earlier ones (see driver.Driver)."""
        return self.driver.dropped if self.driver is not None else 0

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
            if self.driver is None:
                hello = hello_of(text)
                if await self._attach(hello):
                    for item in await asyncio.to_thread(rejoin, self.session, hello):
                        self.post(item)
                    self.driver.wake.set()
                    continue
            await asyncio.to_thread(self.driver.receive, text)

    async def _send(self):
        while True:
            item = await self.out.get()
            if isinstance(item, (bytes, bytearray)):
                await self.ws.send_bytes(bytes(item))
            else:
                await self.ws.send_text(dumps(item))
            if self.driver is not None:
                self.driver.drained()


def serve(host="127.0.0.1", port=8000, open_browser=True, log_level="warning"):
    """Run the playground with uvicorn until interrupted."""
    import uvicorn

    limit_blas_threads()
    app = create_app(hosts=(host, port))
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
