"""relunet approx: how fast n linear pieces approach a target function (the lecture's limit claim)."""

import json

from ..data import TARGETS
from ._common import check_output_paths, int_list, seed_type

HELP = "max error of the exact n-piece ReLU interpolant (and a trained net) against n"
DESCRIPTION = """For each n, build the two-layer ReLU network that interpolates the target at n + 1 equally
spaced points (exactly: f(x) = f(t0) + s0 (x - t0) + sum_k (s_k - s_k-1) ReLU(x - t_k), Arora et al.
2018) and print its max error and error * n^2. For sine on [0, 2 pi] error * n^2 tends to
(2 pi)^2 / 8 = 4.935. With --train, a network of the same width trained with Adam is shown beside it.

examples:
  relunet approx --function sine
  relunet approx --function xsinx --pieces 4,16,64,256 --train --plot approx.png --json approx.json
"""


def add_arguments(p):
    p.add_argument("--function", default="sine", choices=list(TARGETS), help="the target (default sine)")
    p.add_argument("--pieces", default="2,4,8,16,32,64,128,256", help="numbers of pieces n (default 2,4,...,256)")
    p.add_argument("--train", action="store_true", help="also train a two-layer net of the same width (Adam)")
    p.add_argument("--epochs", type=int, default=200, help="epochs of that training (default 200)")
    p.add_argument("--seed", type=seed_type, default=0, help="seed of that training")
    p.add_argument("--plot", default=None, metavar="FIG.png", help="plot the error against n on log axes")
    p.add_argument("--json", default=None, metavar="FILE", help="write the table as JSON")


def run(args):
    from ..engine.errors import RelunetError
    from ..pwl.approx import approximation_study

    pieces = int_list(args.pieces, "--pieces")
    if not pieces:
        raise RelunetError("--pieces needs at least one number")
    if args.epochs < 1:
        raise RelunetError(f"--epochs must be a positive integer, got {args.epochs}")
    check_output_paths([(args.json, "--json"), (args.plot, "--plot")], plots=[args.plot])
    rows = approximation_study(args.function, pieces, train=args.train, epochs=args.epochs, seed=args.seed)
    head = f"{'n':>5} {'units':>6} {'max error':>12} {'error*n^2':>10}" + (f" {'trained error':>14}" if args.train else "")
    print(f"{args.function}: exact interpolating ReLU networks")
    print(head)
    for r in rows:
        line = f"{r['pieces']:>5} {r['units']:>6} {r['max_error']:>12.4e} {r['error_n2']:>10.4f}"
        if args.train:
            line += f" {r['trained_error']:>14.4e}"
        print(line)
    if args.json:
        from ..io import atomic_write_bytes

        atomic_write_bytes(args.json, json.dumps({"function": args.function, "rows": rows}).encode())
        print(f"wrote {args.json}")
    if args.plot:
        from ..pwl.plot import plot_approximation

        plot_approximation(rows, args.plot, args.function)
        print(f"wrote {args.plot}")
    return 0
