"""Exact breakpoints (knots) of a 1-input ReLU network on an interval.

The same layer-by-layer construction as in the plane, one dimension down: on each current piece
every unit's excitation is z_j = a_j x + c_j, which changes sign at x = -c_j / a_j; the pieces of the
next layer are the current ones cut at those points. On the final pieces the output is
z = slope x + intercept. Everything is vectorised over pieces; the loop is over layers only.
"""

from dataclasses import dataclass

import numpy as np

from .model_pwl import check_inputs, pwl_layers, resolve_box
from .regions import format_patterns


@dataclass
class Knots:
    """The pieces of a 1-D network on [t_0, t_p].

    Shapes (p pieces, K outputs): ``knots`` (p + 1,) with t_0 = a, t_p = b and the breakpoints between;
    ``slopes`` (p, K), ``intercepts`` (p, K): z = slope x + intercept on [t_k, t_k+1];
    ``values`` (p + 1, K): z at the knots; ``bits`` (p, H) the activation patterns.
    """

    knots: np.ndarray
    slopes: np.ndarray
    intercepts: np.ndarray
    values: np.ndarray
    bits: np.ndarray
    groups: list

    @property
    def pieces(self):
        return len(self.slopes)

    @property
    def breakpoints(self):
        """The interior knots t_1 .. t_{p-1}."""
        return self.knots[1:-1]

    @property
    def patterns(self):
        return format_patterns(self.bits, self.groups)

    def merged(self, rtol=1e-9):
        """The knots where the slope really changes: neighbouring pieces with equal slopes joined.

        Returns (knots, slopes).
        """
        s = self.slopes
        scale = np.abs(s).max() if s.size else 1.0
        change = np.any(np.abs(np.diff(s, axis=0)) > rtol * max(scale, 1e-300), axis=1)
        keep = np.concatenate([[True], change, [True]])
        return self.knots[keep], s[np.concatenate([[True], change])]

    def to_json(self):
        return {"knots": self.knots.tolist(), "slopes": self.slopes.tolist(), "values": self.values.tolist(),
                "patterns": self.patterns, "pieces": self.pieces}


def knots(model, interval=None):
    """Exact knots and slopes of a 1-input relu / leaky_relu / identity network on an interval.

    Args:
        model: an MLP with one input (regression or classification).
        interval: (a, b); default the model's stored data range (model.box[:2]).
    Returns:
        Knots (knots, slopes, intercepts, values, patterns).
    Raises:
        RelunetError for a model without exactly one input, a tanh/sigmoid model, or a bad interval.
    """
    check_inputs(model, 1)
    hidden, (Wout, bout) = pwl_layers(model)
    lo_hi = resolve_box(model, interval, dims=1)
    a0, b0 = lo_hi
    lo, hi = np.array([a0]), np.array([b0])
    tol = 1e-12 * (b0 - a0)
    Ws = [layer[0] for layer in hidden] + [Wout]
    bs = [layer[1] for layer in hidden] + [bout]
    a, c = Ws[0][:, 0][None].copy(), bs[0][None].copy()  # z^(1) = a x + c on [a0, b0]: (1, units)
    bits = np.zeros((1, 0), bool)
    groups = []
    for li, (_, _, slope) in enumerate(hidden):
        if slope is None:
            groups.append(0)
            ah, ch = a, c
        else:
            lo, hi, parent = _cut(lo, hi, a, c, tol)
            mid = 0.5 * (lo + hi)
            layer_bits = a[parent] * mid[:, None] + c[parent] > 0
            bits = np.concatenate([bits[parent], layer_bits], axis=1)
            groups.append(layer_bits.shape[1])
            d = np.where(layer_bits, 1.0, slope)
            ah, ch = a[parent] * d, c[parent] * d
        W, b = Ws[li + 1], bs[li + 1]
        a, c = ah @ W.T, ch @ W.T + b
    t = np.append(lo, hi[-1])
    values = np.vstack([a * lo[:, None] + c, a[-1:] * hi[-1] + c[-1:]])
    return Knots(t, a, c, values, bits, groups)


def _cut(lo, hi, a, c, tol):
    """Cut pieces [lo, hi] (R,) at the zeros of z = a x + c (R, units); returns (lo, hi, parent)."""
    R = len(lo)
    nz = a != 0
    t = np.where(nz, -c / np.where(nz, a, 1.0), np.nan)
    inside = nz & (t > lo[:, None] + tol) & (t < hi[:, None] - tol)
    r, _ = np.nonzero(inside)
    starts = np.concatenate([lo, t[inside]])
    owner = np.concatenate([np.arange(R), r])
    order = np.lexsort((starts, owner))
    starts, owner = starts[order], owner[order]
    ends = np.append(starts[1:], 0.0)
    last = np.append(owner[1:] != owner[:-1], True)
    ends[last] = hi[owner[last]]
    keep = ends - starts > tol  # two units may bend at the same point
    return starts[keep], ends[keep], owner[keep]
