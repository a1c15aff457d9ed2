"""From a piece-wise linear function to a two-layer ReLU network that computes it exactly.

A continuous PWL function with knots t_0 < ... < t_p, values f(t_k) and slopes
s_k = (f(t_k+1) - f(t_k)) / (t_k+1 - t_k) is (Arora, Basu, Mianjy and Mukherjee, "Understanding Deep
Neural Networks with Rectified Linear Units", ICLR 2018, Theorem 2.2, in one dimension)

    f(x) = f(t_0) + s_0 (x - t_0) + sum_{k=1}^{p-1} (s_k - s_{k-1}) ReLU(x - t_k).

The linear term is written with two ReLUs, s_0 (x - t_0) = s_0 ReLU(x - t_0) - s_0 ReLU(t_0 - x), which
is exact on the whole line (no shift that holds only on an interval). So the network has p + 1
hidden units:

    unit 0: ReLU(t_0 - x)   (W = -1, b = t_0),  output weight -s_0
    unit k: ReLU(x - t_k)   (W = 1,  b = -t_k), output weight s_0 for k = 0, s_k - s_{k-1} for k >= 1
    output bias f(t_0).

Left of t_0 it continues with slope s_0, right of t_p with slope s_{p-1}. Every unit bends exactly at
its knot (-b / W = t_k with no rounding), so ``relunet.pwl.knots(model, (t_0, t_p))`` gives back the
same knots.
"""

import numpy as np

from ..engine.errors import RelunetError
from ..engine.model import MLP


def compile_pwl(knots, values):
    """A [1, p + 1, 1] ReLU regression MLP computing the PWL interpolant of (knots, values) exactly.

    Args:
        knots: (p + 1,) strictly increasing, p >= 1. values: (p + 1,) the function at the knots.
    """
    t = np.asarray(knots, np.float64).reshape(-1)
    v = np.asarray(values, np.float64).reshape(-1)
    if t.size < 2 or t.shape != v.shape:
        raise RelunetError(f"need at least 2 knots and one value per knot, got {t.size} knots and {v.size} values")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(v))):
        raise RelunetError("knots and values must be finite numbers")
    if not np.all(np.diff(t) > 0):
        raise RelunetError("knots must be strictly increasing")
    s = np.diff(v) / np.diff(t)  # slopes s_0 .. s_{p-1}
    p = len(s)
    W1 = np.concatenate([[-1.0], np.ones(p)])[:, None]
    b1 = np.concatenate([[t[0]], -t[:-1]])
    w2 = np.concatenate([[-s[0], s[0]], np.diff(s)])
    model = MLP([1, p + 1, 1], "relu", task="regression")
    model.set_weights([W1, b1, w2[None, :], np.array([v[0]])])
    model.box = [float(t[0]), float(t[-1])]
    return model


def compile_function(f, interval, pieces):
    """The network interpolating f at pieces + 1 equally spaced points of interval = (a, b).

    Returns (model, knots, values).
    """
    pieces = int(pieces)
    if pieces < 1:
        raise RelunetError(f"the number of pieces must be at least 1, got {pieces}")
    a, b = (float(v) for v in interval)
    t = np.linspace(a, b, pieces + 1)
    v = np.asarray(f(t), np.float64)
    return compile_pwl(t, v), t, v
