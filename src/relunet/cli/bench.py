"""relunet bench: relunet's speed side by side with PyTorch, JAX, scikit-learn, a NumPy floor and a Numba loop."""

import sys

from ..engine.errors import RelunetError

HELP = "measure training and inference speed against PyTorch, JAX, scikit-learn, a NumPy floor and a Numba loop"
DESCRIPTION = """Measure relunet's speed next to PyTorch (CPU), JAX (jit + lax.scan, CPU), scikit-learn's
MLPClassifier, a hand-written NumPy floor and a hand-written Numba loop (the compiled limit, per-sample SGD),
on the same data, the same initial weights, the same shuffled order and the same number of updates.
Needs the bench extra: pip install "relunet[bench]" (missing contenders are left out).

Every contender runs in this process, interleaved, several repeats, BLAS and PyTorch on one thread. First a
trajectory check: the weights after a few hundred identical updates must agree (1e-12 float64, 1e-6 float32).
Then a table of medians (min-max) and relunet's ratio to each, and the extra cases: digits accuracy, memory,
the exact geometry's timings (pwl), the playground's stream (a real server and WebSocket client) and the
JIT compilation (compile: a fresh process with an empty kernel cache, then cached). Exits 1 if the
trajectory check fails.

examples:
  relunet bench --quick
  relunet bench --cases sgd1/2-64-3 mb32/2-64-64-3
  relunet bench --json bench.json
"""


#: what `relunet bench` imports for its contenders (installed by relunet[bench])
NEEDS = ("scipy", "sklearn", "torch")


def add_arguments(p):
    # Nothing from relunet.bench here: it imports SciPy, PyTorch and scikit-learn, which only the [bench] extra
    # installs, and every command's parser is built for `relunet --help`.
    p.add_argument("--quick", action="store_true", help="small problems and 3 repeats (under a minute)")
    p.add_argument("--cases", nargs="+", default=None, metavar="CASE",
                   help="cases to run (default all; the names are listed by an unknown name)")
    p.add_argument("--json", default=None, metavar="FILE", help="also write the results as JSON")
    p.add_argument("--repeats", type=int, default=None,
                   help="timed repeats per contender (default 7, 11 or 15 by case; quick 3)")


def run(args):
    from ._common import check_output_paths, require

    check_output_paths([(args.json, "--json")])
    if args.repeats is not None and args.repeats < 1:
        raise RelunetError(f"repeats must be a positive integer, got {args.repeats}")
    require("bench", NEEDS, "relunet bench")
    from ..bench.report import write_json
    from ..bench.runner import run_bench

    result = run_bench(quick=args.quick, cases=args.cases, repeats=args.repeats, out=sys.stdout)
    if args.json:
        write_json(args.json, result.document)
        print(f"wrote {args.json}")
    return 0 if result.ok else 1
