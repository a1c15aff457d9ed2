"""relunet evaluate: loss and accuracy (or MSE and R^2) of a saved model on data."""

import json

from ..metrics import evaluate
from ._common import add_data_arguments, load_data, load_model

HELP = "print a model's loss and accuracy (or MSE and R^2) on data"
DESCRIPTION = """Evaluate a saved model on a data set or CSV file.

examples:
  relunet evaluate --model lecture.npz --data lecture
  relunet evaluate --model points.npz --data test.csv --json
"""


def add_arguments(p):
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    add_data_arguments(p)
    p.add_argument("--json", action="store_true", help="print one JSON line")


def run(args):
    model = load_model(args.model)
    X, y, task, source = load_data(args, task=model.task)
    if task != model.task:
        from ..engine.errors import RelunetError

        raise RelunetError(f"model {args.model} does {model.task} but data {source} is for {task}")
    ev = evaluate(model, X, y)
    if args.json:
        print(json.dumps(dict(ev, model=args.model, data=source)))
    elif model.task == "classification":
        print(f"{source}: {ev['n']} tokens, loss {ev['loss']:.6g}, accuracy {ev['accuracy']:.4f}")
    else:
        print(f"{source}: {ev['n']} tokens, loss {ev['loss']:.6g}, MSE {ev['mse']:.6g}, R^2 {ev['r2']:.4f}")
    return 0
