"""The `relunet` command line: a thin layer over the library.

Each command is a module in this package with ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``; COMMANDS below is the one registry of them. Command modules import heavy libraries
(matplotlib, torch, the server) inside ``run``, so that ``relunet --help`` and every command start fast. A user's mistake (a RelunetError)
prints one line ``relunet: error: ...`` on standard error and exits with status 2, with no traceback.
"""

import argparse
import importlib
import sys

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


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except RelunetError as e:
        print(f"relunet: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("relunet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
