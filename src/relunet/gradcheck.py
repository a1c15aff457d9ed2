"""Back-propagation checked against central differences, in float64: the reference engine against calculus.

For every parameter entry theta: numeric = (L(theta + eps) - L(theta - eps)) / (2 eps), compared with the
analytic gradient a. An entry's error is |a - n| over the parameter's gradient scale, max|a| + max|n|: an
entry-by-entry ratio would judge gradients of 1e-9 (dead or saturated units) by the ~1e-11 rounding noise of
the differences. eps = 1e-5 balances that rounding (~1e-16 / eps) against the truncation error (~eps^2).
"""

import numpy as np

from .engine.model import loss_and_gradients


def relative_error(a, n, floor=1e-12):
    """Entry-wise |a - n| / (max|a| + max|n|): the error relative to the array's gradient scale."""
    a, n = np.asarray(a, float), np.asarray(n, float)
    return np.abs(a - n) / max(np.abs(a).max(initial=0.0) + np.abs(n).max(initial=0.0), floor)


def numeric_gradient(loss, array, eps=1e-5):
    """Central differences of loss() with respect to every entry of `array` (perturbed in place, restored)."""
    num = np.zeros_like(array)
    flat, nflat = array.reshape(-1), num.reshape(-1)  # views: perturbing flat perturbs array
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        lp = loss()
        flat[j] = old - eps
        nflat[j] = (lp - loss()) / (2 * eps)
        flat[j] = old
    return num


def check_model(model, X, y, eps=1e-5):
    """Every parameter's analytic gradient against central differences (a float64 model), in order W1, b1, ...:
    one dict {"name", "shape", "max_rel_error", "max_abs_error", "analytic", "numeric"} per parameter."""
    X, t = model.check_input(X), model.encode_labels(y)
    report = []
    for i, (p, g) in enumerate(zip(model.parameters(), loss_and_gradients(model, X, t)[1])):
        num = numeric_gradient(lambda: loss_and_gradients(model, X, t)[0], p, eps)
        report.append({"name": f"{'Wb'[i % 2]}{i // 2 + 1}", "shape": list(p.shape), "analytic": g, "numeric": num,
                       "max_rel_error": float(relative_error(g, num).max()), "max_abs_error": float(np.abs(g - num).max())})
    return report


def check_layer(layer, x, eps=1e-5, seed=0):
    """The largest relative error of one layer's backward (dx, and dW, db for a Linear) for L = sum(r * forward(x))."""
    r = np.random.default_rng(seed).standard_normal(layer.forward(x).shape)
    analytic = layer.backward(x, r) if hasattr(layer, "W") else [layer.backward(r, x, layer.forward(x))]
    targets = [x, layer.W, layer.b] if hasattr(layer, "W") else [x]
    loss = lambda: float(np.sum(r * layer.forward(x)))  # noqa: E731
    return max(float(relative_error(a, numeric_gradient(loss, arr, eps)).max()) for a, arr in zip(analytic, targets))
