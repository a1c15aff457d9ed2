"""A model seen as a piece-wise linear map: its layers as (W, b, slope) and its input box, checked.

A hidden layer with ReLU has slope 0 (h = z for z > 0, 0 * z otherwise), leaky ReLU its slope, identity
None (it never bends, so it splits nothing). tanh and sigmoid are not piece-wise linear: asking for the
exact pieces of such a model is a user's mistake with a clear message.
"""

import math

import numpy as np

from ..engine.errors import RelunetError


def pwl_layers(model):
    """[(W, b, slope), ...] for the hidden layers and (W, b) of the output layer, in float64.

    slope is 0.0 for ReLU, the leak for leaky ReLU, None for identity (no bend).
    """
    hidden = []
    for lin, act in zip(model.linears[:-1], model.activations):
        if not getattr(act, "piecewise_linear", False):
            raise RelunetError(f"the model's hidden activation {act.name!r} is not piece-wise linear; exact regions "
                               "and knots exist for relu, leaky_relu and identity networks only")
        slope = None if act.name == "identity" else float(getattr(act, "slope", 0.0))
        hidden.append((np.asarray(lin.W, np.float64), np.asarray(lin.b, np.float64), slope))
    out = model.linears[-1]
    return hidden, (np.asarray(out.W, np.float64), np.asarray(out.b, np.float64))


#: Coordinates of a box beyond this overflow the maths (widths, products with weights): refused.
MAX_ABS = 1e100


def resolve_box(model, box=None, dims=2):
    """The box [x0, x1, (y0, y1)] to work in: `box` if given, else the model's stored data box.

    Raises RelunetError when there is none, or it is not finite numbers with x0 < x1 (and y0 < y1).
    """
    if box is None:
        box = getattr(model, "box", None)
        if box is None:
            what = "an interval a,b" if dims == 1 else "a box x0,x1,y0,y1"
            raise RelunetError(f"the model has no stored data box; give {what} (--{'interval' if dims == 1 else 'box'})")
        box = list(box)[:2 * dims]
    try:
        box = [float(v) for v in box]
    except (TypeError, ValueError):
        raise RelunetError(f"the {'interval' if dims == 1 else 'box'} must be numbers, got {box!r}") from None
    if len(box) != 2 * dims:
        raise RelunetError(f"the {'interval' if dims == 1 else 'box'} needs {2 * dims} numbers, got {box!r}")
    if not all(math.isfinite(v) for v in box):
        raise RelunetError(f"the {'interval' if dims == 1 else 'box'} must be finite numbers, got {box!r}")
    if max(abs(v) for v in box) > MAX_ABS:
        raise RelunetError(f"the {'interval' if dims == 1 else 'box'} {box!r} is too large: coordinates beyond "
                           f"{MAX_ABS:g} in magnitude overflow the network's arithmetic")
    if dims == 1 and not box[0] < box[1]:
        raise RelunetError(f"the interval needs a < b, got {box[0]:g} and {box[1]:g}")
    for d in range(dims):
        if not box[2 * d] < box[2 * d + 1]:
            name = "xy"[d]
            raise RelunetError(f"the box needs {name}0 < {name}1, got {box[2 * d]:g} and {box[2 * d + 1]:g}")
    return box


def check_inputs(model, dims):
    if model.n_inputs != dims:
        need = "one input (use relunet regions for 2-D models)" if dims == 1 else \
            "two inputs (use relunet knots for 1-D models)"
        raise RelunetError(f"this needs a model with {need}; the model has {model.n_inputs} inputs")
