"""relunet explain: the lecture's chain rule with numbers for one token."""

from ..engine.errors import RelunetError
from ..explain import explain, format_explanation
from ._common import float_list, load_model

HELP = "print back-propagation for one token with numbers, checked against central differences"
DESCRIPTION = """Show z1, h, z2, f, the loss and every gradient of the chain rule for one token, and check them
against central differences.

examples:
  relunet explain --model lecture.npz --x 0.4,0.9 --label 0
  relunet explain --model sine.npz --x 1.5 --label 0.997
"""


def add_arguments(p):
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    p.add_argument("--x", required=True, help="the token's inputs, comma separated, e.g. 0.4,0.9")
    p.add_argument("--label", required=True, help="its class label (or target value for regression)")


def run(args):
    model = load_model(args.model)
    x = float_list(args.x, model.n_inputs, "--x")
    if model.task == "classification":
        try:
            label = int(args.label)
        except ValueError:
            raise RelunetError(f"--label must be an integer class label, got {args.label!r}") from None
        if label not in model.classes.tolist():
            raise RelunetError(f"--label {label} is not one of the model's classes {model.classes.tolist()}")
    else:
        label = float_list(args.label, 1, "--label")[0]
    e = explain(model, x, label)
    print(format_explanation(e))
    return 0 if e["check"] < 1e-6 else 1
