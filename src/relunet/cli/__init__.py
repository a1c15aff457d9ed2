"""The `relunet` command line: a thin layer over the library.

Each command is a module in this package with ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``; COMMANDS below is the one registry of them. Command modules import heavy libraries
(matplotlib, torch, the server) inside ``run``, so that ``relunet --help`` and every command start fast. A user's mistake (a RelunetError)
prints one line ``relunet: error: ...`` on standard error and exits with status 2, with no traceback.
"""

import argparse
import importlib
import signal
import sys
import threading

from ..engine.errors import RelunetError
from ._common import allow_negative_lists

#: command name -> module (relative to this package). The one place commands are listed.
COMMANDS = {
    "demo": ".demo",
    "train": ".train",
    "evaluate": ".evaluate",
    "predict": ".predict",
    "plot": ".plot",
    "gradcheck": ".gradcheck",
    "explain": ".explain",
    "playground": ".playground",
    "regions": ".regions",
    "knots": ".knots",
    "approx": ".approx",
    "export": ".export",
    "bench": ".bench",
    "exercise": ".exercise",
    "animate": ".animate",
}


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse's usage errors already exit 2; keep them to the one-line form too.
        self.exit(2, f"relunet: error: {message}\n")


def build_parser():
    parser = _Parser(prog="relunet", description="Multi-layer ReLU networks: train, explain, draw and measure them.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"relunet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname, __name__)
        p = sub.add_parser(name, help=mod.HELP, description=getattr(mod, "DESCRIPTION", mod.HELP),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.error = _Parser.error.__get__(p)
        allow_negative_lists(p)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


class Terminated(BaseException):
    """SIGTERM, raised in the main thread like KeyboardInterrupt for SIGINT, so that `finally` blocks (the
    temporary file of an atomic write) run before the process ends."""


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv=None):
    """Run one command; returns the exit status (0 fine, 1 a check failed, 2 a user's mistake, 130/143 a signal).

    Standard output that cannot be written (a full disk, `> /dev/full`) is one line on standard error and
    status 2; a closed pipe (`| head`) is a quiet 0, as for other Unix tools that print.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    previous = _install(signal.SIGTERM, _on_sigterm)
    try:
        status = int(args._run(args) or 0)
        sys.stdout.flush()
        return status
    except RelunetError as e:
        print(f"relunet: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("relunet: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("relunet: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:
        _silence_stdout()
        return 0
    except OSError as e:
        if not _is_stdout_error(e):
            raise
        _silence_stdout()
        print(f"relunet: error: cannot write to standard output: {e.strerror or e}", file=sys.stderr)
        return 2
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _install(signum, handler):
    """Install a signal handler from the main thread (elsewhere, e.g. a test's worker thread, leave it be)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        return signal.signal(signum, handler)
    except ValueError:
        return None


def _is_stdout_error(e):
    """True when `e` came from standard output: a full disk (relunet's own files are written by
    io.atomic_write_bytes, which reports its errors itself), or writing what is still buffered fails too."""
    import errno

    if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return True
    try:
        sys.stdout.flush()
        return False
    except OSError:
        return True


def _silence_stdout():
    """Point standard output at /dev/null, so the interpreter's final flush of what is still buffered cannot
    fail a second time (Python's documented advice for SIGPIPE)."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, AttributeError, ValueError):
        pass
