"""Gradient check: back-propagation against central differences, in float64.

For every parameter entry theta: numeric = (L(theta + eps) - L(theta - eps)) / (2 eps), compared with the
analytic gradient a from backward. The error of an entry is |a - n| divided by the scale of that
parameter's gradient, max|a| + max|n| over the array: an entry-by-entry ratio would judge gradients of
1e-9 (dead or nearly saturated units) by the ~1e-11 rounding noise of the differences themselves.
eps = 1e-5 balances that rounding (~1e-16 / eps) against the truncation error (~eps^2).
"""

import numpy as np

from .losses import LOSSES, TASK_LOSS


def relative_error(a, n, floor=1e-12):
    """Entry-wise |a - n| / (max|a| + max|n|): the error relative to the array's gradient scale."""
    a, n = np.asarray(a, float), np.asarray(n, float)
    scale = np.abs(a).max(initial=0.0) + np.abs(n).max(initial=0.0)
    return np.abs(a - n) / max(scale, floor)


def model_loss_and_grads(model, X, t, loss=None):
    """The loss of `model` on (X, t) and copies of its analytic gradients [dW1, db1, ...]."""
    lossf = LOSSES[loss or TASK_LOSS[model.task]]()
    L = lossf.forward(model.forward(X), t)
    model.backward(lossf.backward())
    return L, [p.grad.copy() for p in model.parameters()]


def check_model(model, X, t, loss=None, eps=1e-5):
    """Compare every parameter's analytic gradient with central differences.

    The model must be float64. Returns a list of dicts {"name", "shape", "max_rel_error", "max_abs_error"},
    one per parameter, in order W1, b1, W2, b2, ...
    """
    lossf = LOSSES[loss or TASK_LOSS[model.task]]()
    _, grads = model_loss_and_grads(model, X, t, loss)
    report = []
    for i, (p, g) in enumerate(zip(model.parameters(), grads)):
        num = np.zeros_like(p.value)
        flat, nflat = p.value.reshape(-1), num.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            lp = lossf.forward(model.forward(X), t)
            flat[j] = old - eps
            lm = lossf.forward(model.forward(X), t)
            flat[j] = old
            nflat[j] = (lp - lm) / (2 * eps)
        report.append({"name": f"{p.name}{i // 2 + 1}", "shape": list(p.value.shape),
                       "max_rel_error": float(relative_error(g, num).max()),
                       "max_abs_error": float(np.abs(g - num).max()),
                       "analytic": g, "numeric": num})
    return report


def check_layer(layer, x, eps=1e-5, seed=0):
    """Check a single layer's backward: L = sum(r * layer.forward(x)) for a fixed random r.

    Returns the largest relative error over dx and (for Linear) dW and db.
    """
    rng = np.random.default_rng(seed)
    y = layer.forward(x)
    r = rng.standard_normal(y.shape)

    def loss():
        return float(np.sum(r * layer.forward(x)))

    layer.forward(x)
    dx = layer.backward(r.copy())
    analytic = [dx] + ([layer.dW.copy(), layer.db.copy()] if hasattr(layer, "dW") else [])
    targets = [x] + ([layer.W, layer.b] if hasattr(layer, "dW") else [])
    worst = 0.0
    for a, arr in zip(analytic, targets):
        num = np.zeros_like(arr)
        flat, nflat = arr.reshape(-1), num.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + eps
            lp = loss()
            flat[j] = old - eps
            lm = loss()
            flat[j] = old
            nflat[j] = (lp - lm) / (2 * eps)
        worst = max(worst, float(relative_error(a, num).max()))
    return worst
