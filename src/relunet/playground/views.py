"""What the page draws, computed from a model with one batched forward pass each (pure NumPy).

    decision map:  f = softmax(z^(L)) on a res x res grid over the box -> class argmax_k f_k, confidence max_k f_k
    unit maps:     h^(l)_j on a grid (thumbnails, the hovered unit)
    hidden space:  the input grid and the data carried through two units of one hidden layer
    curve:         f(x) for one input, with the breakpoints where the activation pattern changes

Grids run row by row from the top of the box (largest x2) so row r of a map is image row r.
Shapes: box [x0, x1, y0, y1]; grids (res * res, 2); maps (res, res).
"""

import numpy as np

from ..engine.losses import softmax


def grid(box, res):
    """(res * res, 2) cell centres over box = [x0, x1, y0, y1], top row first."""
    x0, x1, y0, y1 = box
    xs = x0 + (np.arange(res) + 0.5) * (x1 - x0) / res
    ys = y1 - (np.arange(res) + 0.5) * (y1 - y0) / res
    gx, gy = np.meshgrid(xs, ys)
    return np.column_stack([gx.ravel(), gy.ravel()])


def decision_map(model, X, present=None):
    """Class index and confidence at each row of X.  X: (N, 2) -> (N,) ints, (N,) floats in [1/K, 1].

    present: the classes that have data (None: all); the others are left out of the argmax and the softmax,
    so a class no point belongs to is never painted."""
    z = model.decision_function(X)
    if present is not None and 0 < len(present) < z.shape[1]:
        absent = np.setdiff1d(np.arange(z.shape[1]), present)
        z[:, absent] = -np.inf
    f = softmax(z)
    k = f.argmax(axis=1)
    return k, f[np.arange(len(k)), k]


def hidden_excitations(model, X):
    """[(z^(1), h^(1)), ..., (z^(L-1), h^(L-1))] for every hidden layer, and the output z^(L).

    Fresh activation objects are used so the model's own (kept for backward) are left alone.
    X: (N, inputs) -> z^(l), h^(l): (N, units_l); output (N, outputs).
    """
    a = np.asarray(X, dtype=model.dtype)
    acts = model.activations_spec()
    out = []
    for i, lin in enumerate(model.linears):
        z = a @ lin.W.T + lin.b
        if i < len(acts):
            a = acts[i].forward(z)
            out.append((z, a))
        else:
            return out, z
    return out, a


def unit_values(model, X, max_units=32):
    """h of every hidden unit (the first `max_units` of each layer) at the rows of X.

    Returns a list, one (N, shown_units) array per hidden layer.
    """
    layers, _ = hidden_excitations(model, X)
    return [h[:, :max_units] for _, h in layers]


def hidden_space(model, layer, i, j, box, X=None, lines=11, samples=41):
    """The input grid lines and the data mapped to (h_i, h_j) of hidden layer `layer` (1-based).

    For 2 inputs: `lines` horizontal and vertical lines across the box; for 1 input: the x axis.
    Returns (list of (samples, 2) polylines, (N, 2) data images or None).
    """
    n_in = model.n_inputs
    x0, x1, y0, y1 = box
    t = np.linspace(0.0, 1.0, samples)
    polylines = []
    if n_in == 2:
        for v in np.linspace(0.0, 1.0, lines):
            polylines.append(np.column_stack([x0 + t * (x1 - x0), np.full(samples, y0 + v * (y1 - y0))]))
            polylines.append(np.column_stack([np.full(samples, x0 + v * (x1 - x0)), y0 + t * (y1 - y0)]))
    else:
        polylines.append((x0 + np.linspace(0.0, 1.0, samples * 5) * (x1 - x0))[:, None])
    stack = np.vstack(polylines + ([X] if X is not None and len(X) else []))
    layers, _ = hidden_excitations(model, stack)
    h = layers[layer - 1][1][:, [i, j]]
    out, s = [], 0
    for p in polylines:
        out.append(h[s:s + len(p)])
        s += len(p)
    return out, (h[s:] if X is not None and len(X) else None)


def curve(model, x0, x1, samples=400):
    """f(x) for one input on [x0, x1].  Returns xs (samples,), f (samples,)."""
    xs = np.linspace(x0, x1, samples)
    return xs, model.decision_function(xs[:, None])[:, 0]


def breakpoints(model, x0, x1, samples=4000, iterations=40):
    """The x in [x0, x1] where some piece-wise linear hidden unit switches (z crosses 0): the kinks of f.

    For a piece-wise linear network they are exact (relunet.pwl.knots: first-layer units at x = -b_j / w_j,
    deeper ones interval by interval). A network that mixes in smooth layers (tanh, sigmoid) is sampled
    instead: dense sampling of the ReLU-family units' pattern and bisection of each sign change (a unit that
    switches twice between two samples, (x1 - x0) / samples apart, is missed). Returns a sorted array.
    """
    watched = [i for i, a in enumerate(model.activations) if a.piecewise_linear and a.name != "identity"]
    if not watched or model.n_inputs != 1:
        return np.zeros(0)
    if all(a.piecewise_linear for a in model.activations):
        from ..pwl import knots

        return np.asarray(knots(model, (x0, x1)).breakpoints, dtype=float)

    def pattern(x):
        layers, _ = hidden_excitations(model, np.asarray(x, float)[:, None])
        return np.hstack([layers[i][0] > 0 for i in watched])

    xs = np.linspace(x0, x1, samples)
    p = pattern(xs)
    # every (interval, unit) where that unit's sign differs at the two ends holds a zero of its z:
    # bisect each on its own, so units switching close together are all found
    iv, unit = np.nonzero(p[1:] != p[:-1])
    if len(iv) == 0:
        return np.zeros(0)
    lo, hi = xs[iv], xs[iv + 1]
    side = p[iv, unit]
    rows = np.arange(len(iv))
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        same = pattern(mid)[rows, unit] == side
        lo = np.where(same, mid, lo)
        hi = np.where(same, hi, mid)
    return np.sort(0.5 * (lo + hi))


def first_layer_lines(model):
    """The hinge lines w_j . x + b_j = 0 of the first layer: W1 (units, inputs), b1 (units,)."""
    lin = model.linears[0]
    return lin.W.copy(), lin.b.copy()
