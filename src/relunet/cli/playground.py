"""relunet playground: start the interactive page (a local web server) and open it in the browser."""

import errno
import socket

from ..engine.errors import RelunetError

HELP = "open the interactive playground (2-D classification, 1-D regression) in the browser"
DESCRIPTION = """Start a local web server with the relunet playground and open it in the browser.

Click to add points (keys 1-9/0 choose the class, shift-click the second class, right-click removes),
pick a network, press play, and watch the regions form; save the model as .npz for relunet evaluate/plot.
The server listens on 127.0.0.1 only, unless --host says otherwise.

examples:
  relunet playground
  relunet playground --port 8080 --no-browser
"""


def add_arguments(p):
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser window")


def run(args):
    if not 0 < args.port < 65536:
        raise RelunetError(f"port must be from 1 to 65535, got {args.port}")
    # Fail with one clear sentence if the port is taken, before uvicorn prints its own traceback.
    try:
        with socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((args.host, args.port))
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise RelunetError(f"port {args.port} on {args.host} is in use; choose another with --port") from None
        raise RelunetError(f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    from ..playground.server import serve

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"relunet: warning: listening on {args.host}: other machines can reach the playground")
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"relunet playground: http://{shown}:{args.port}/ "
          "(Ctrl-C stops it)", flush=True)
    serve(args.host, args.port, open_browser=not args.no_browser)
    return 0
