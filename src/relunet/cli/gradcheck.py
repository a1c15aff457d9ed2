"""relunet gradcheck: back-propagation against central differences for a random network."""

import numpy as np

from ..engine.activations import ACTIVATIONS
from ..engine.errors import RelunetError
from ..gradcheck import check_model
from ..engine.model import MLP
from ._common import int_list, seed_type

HELP = "check back-propagation against central differences (exit 0 only if all agree to 1e-6)"
DESCRIPTION = """Build a random float64 network, compute every parameter's gradient by back-propagation and by
central differences, and print the largest relative error per parameter.

examples:
  relunet gradcheck
  relunet gradcheck --sizes 2,16,16,3 --activation tanh --batch 1
  relunet gradcheck --sizes 1,8,1 --loss mse
"""

TOLERANCE = 1e-6


def add_arguments(p):
    p.add_argument("--sizes", default="2,16,3", help="layer sizes, inputs first (default 2,16,3)")
    p.add_argument("--activation", default="relu", choices=list(ACTIVATIONS))
    p.add_argument("--loss", default="cross_entropy", choices=["cross_entropy", "mse", "logistic", "poisson"])
    p.add_argument("--batch", type=int, default=5, help="tokens in the random batch (default 5)")
    p.add_argument("--seed", type=seed_type, default=0)


def run(args):
    sizes = int_list(args.sizes, "layer sizes")
    if len(sizes) < 2:
        raise RelunetError(f"--sizes needs at least inputs and outputs, got {args.sizes!r}")
    if args.batch < 1:
        raise RelunetError(f"--batch must be a positive integer, got {args.batch}")
    task = "classification" if args.loss in ("cross_entropy", "logistic") else "regression"
    if args.loss == "cross_entropy" and sizes[-1] < 2:
        raise RelunetError("cross-entropy needs at least 2 outputs")
    rng = np.random.default_rng(args.seed)
    model = MLP(sizes, args.activation, task, seed=rng, loss=args.loss)
    for lin in model.linears:  # non-zero biases so no unit sits exactly on its hinge by construction
        lin.b[...] = rng.normal(0, 0.5, lin.out_features)
    X = rng.normal(size=(args.batch, sizes[0]))
    if task == "classification":
        t = rng.integers(0, len(model.classes), args.batch)
    elif args.loss == "poisson":
        t = rng.poisson(2.0, size=(args.batch, sizes[-1])).astype(float)
    else:
        t = rng.normal(size=(args.batch, sizes[-1]))
    report = check_model(model, X, t)
    worst = max(r["max_rel_error"] for r in report)
    print(f"gradient check of {sizes} ({args.activation}, {args.loss}, batch {args.batch}, float64):")
    for r in report:
        print(f"  {r['name']:4s} {str(tuple(r['shape'])):10s} max relative error {r['max_rel_error']:.2e}")
    ok = worst < TOLERANCE
    print(f"largest relative error {worst:.2e}: {'OK' if ok else 'FAILED'} (tolerance {TOLERANCE:g})")
    return 0 if ok else 1
