"""Gradients of the loss, and their check against central differences, in float64.

For every parameter entry theta: numeric = (L(theta + eps) - L(theta - eps)) / (2 eps), compared with the
analytic gradient a from backward. The error of an entry is |a - n| divided by the scale of that
parameter's gradient, max|a| + max|n| over the array: an entry-by-entry ratio would judge gradients of
1e-9 (dead or nearly saturated units) by the ~1e-11 rounding noise of the differences themselves.
eps = 1e-5 balances that rounding (~1e-16 / eps) against the truncation error (~eps^2).
"""

import numpy as np

from .losses import LOSSES


def loss_and_gradients(model, X, t, sample_weight=None):
    """(L, [dW1, db1, ...]): the model's loss on checked inputs X and encoded targets t (MLP.encode_labels)."""
    z, tape = model.forward(X)
    L, dz = LOSSES[model.loss]().value_and_grad(z, t, sample_weight)
    return L, model.backward(tape, dz)


def relative_error(a, n, floor=1e-12):
    """Entry-wise |a - n| / (max|a| + max|n|): the error relative to the array's gradient scale."""
    a, n = np.asarray(a, float), np.asarray(n, float)
    scale = np.abs(a).max(initial=0.0) + np.abs(n).max(initial=0.0)
    return np.abs(a - n) / max(scale, floor)


def numeric_gradient(loss, array, eps=1e-5):
    """Central differences of loss() with respect to every entry of `array` (perturbed in place, restored)."""
    num = np.zeros_like(array)
    flat, nflat = array.reshape(-1), num.reshape(-1)  # views: perturbing flat perturbs array
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        lp = loss()
        flat[j] = old - eps
        lm = loss()
        flat[j] = old
        nflat[j] = (lp - lm) / (2 * eps)
    return num


def check_model(model, X, y, eps=1e-5):
    """Compare every parameter's analytic gradient with central differences (the model must be float64).

    Returns one dict {"name", "shape", "max_rel_error", "max_abs_error", "analytic", "numeric"} per parameter,
    in order W1, b1, W2, b2, ...
    """
    X, t = model.check_input(X), model.encode_labels(y)
    _, grads = loss_and_gradients(model, X, t)
    report = []
    for i, (p, g) in enumerate(zip(model.parameters(), grads)):
        num = numeric_gradient(lambda: loss_and_gradients(model, X, t)[0], p, eps)
        report.append({"name": f"{'Wb'[i % 2]}{i // 2 + 1}", "shape": list(p.shape),
                       "max_rel_error": float(relative_error(g, num).max()),
                       "max_abs_error": float(np.abs(g - num).max()), "analytic": g, "numeric": num})
    return report


def check_layer(layer, x, eps=1e-5, seed=0):
    """Check one layer's backward (a Linear or an activation) with L = sum(r * layer.forward(x)), r fixed.

    Returns the largest relative error over dx and, for a Linear, dW and db.
    """
    r = np.random.default_rng(seed).standard_normal(layer.forward(x).shape)

    def loss():
        return float(np.sum(r * layer.forward(x)))

    if hasattr(layer, "W"):
        analytic, targets = layer.backward(x, r), [x, layer.W, layer.b]
    else:
        analytic, targets = [layer.backward(r, x, layer.forward(x))], [x]
    return max(float(relative_error(a, numeric_gradient(loss, arr, eps)).max()) for a, arr in zip(analytic, targets))
