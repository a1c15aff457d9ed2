"""relunet predict: predictions of a saved model for the rows of a CSV file, as CSV on standard output."""

import csv
import sys

from ..data import read_inputs
from ._common import load_model

HELP = "write a model's predictions for a CSV of inputs to standard output"
DESCRIPTION = """Predict with a saved model. The input CSV holds one row of features per token (optional header).

examples:
  relunet predict --model lecture.npz --input points.csv
  relunet predict --model lecture.npz --input points.csv --proba > probabilities.csv
"""


def add_arguments(p):
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    p.add_argument("--input", required=True, metavar="X.csv", help="CSV of inputs, one token per row")
    p.add_argument("--proba", action="store_true", help="also write the class probabilities f (classifiers)")


def run(args):
    model = load_model(args.model)
    X = read_inputs(args.input, model.n_inputs)
    out = csv.writer(sys.stdout, lineterminator="\n")
    if model.task == "classification":
        pred = model.predict(X)
        if args.proba:
            P = model.predict_proba(X)
            out.writerow(["prediction"] + [f"p_{c}" for c in model.classes.tolist()])
            for label, row in zip(pred.tolist(), P.tolist()):
                out.writerow([label] + [repr(v) for v in row])
        else:
            out.writerow(["prediction"])
            out.writerows([[v] for v in pred.tolist()])
    else:
        if args.proba:
            from ..engine.errors import RelunetError

            raise RelunetError("--proba is for classifiers; this model does regression")
        pred = model.decision_function(X)
        out.writerow(["prediction"] if model.n_outputs == 1 else [f"y{i + 1}" for i in range(model.n_outputs)])
        out.writerows([[repr(v) for v in row] for row in pred.tolist()])
    return 0
