"""relunet knots: the exact breakpoints and slopes of a 1-input model."""

import json
import time

from ._common import check_output_paths, float_list, load_model

HELP = "exact breakpoints (knots) and slopes of a 1-input model on an interval"
DESCRIPTION = """A 1-input ReLU network is a piece-wise linear function of x. This prints its exact knots
(where a unit switches on or off), the value there and the slope of the piece that follows, and the
piece count next to the maximum prod (n_l + 1).

examples:
  relunet knots --model sine.npz
  relunet knots --model sine.npz --interval 0,6.2832 --json knots.json
"""


def add_arguments(p):
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    p.add_argument("--interval", default=None, metavar="a,b",
                   help="the interval (default: the training data's range stored in the model)")
    p.add_argument("--json", default=None, metavar="FILE", help="write knots, values, slopes and patterns as JSON")


def run(args):
    from ..pwl.bounds import model_bound
    from ..pwl.oned import knots

    check_output_paths([(args.json, "--json")], inputs=[(args.model, "--model")])
    model = load_model(args.model)
    interval = None if args.interval is None else float_list(args.interval, 2, "--interval")
    t0 = time.perf_counter()
    k = knots(model, interval)
    ms = (time.perf_counter() - t0) * 1000
    merged, _ = k.merged()
    print(f"{k.pieces} linear pieces on [{k.knots[0]:.6g}, {k.knots[-1]:.6g}] (bound {model_bound(model):,}); "
          f"the slope changes at {len(merged) - 2} of the {len(k.knots) - 2} breakpoints; time {ms:.2f} ms")
    print("knot x            value          slope after")
    for i, t in enumerate(k.knots):
        v = k.values[i, 0]
        s = f"{k.slopes[i, 0]: .6g}" if i < k.pieces else ""
        print(f"{t: .10g}".ljust(18) + f"{v: .6g}".ljust(15) + s)
    if model.n_outputs > 1:
        print(f"(first output of {model.n_outputs} shown; --json has all)")
    if args.json:
        from ..io import atomic_write_bytes

        doc = dict(k.to_json(), interval=[float(k.knots[0]), float(k.knots[-1])], bound=model_bound(model),
                   time_ms=ms)
        atomic_write_bytes(args.json, json.dumps(doc).encode())
        print(f"wrote {args.json}")
    return 0
