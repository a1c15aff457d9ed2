"""Checks of a user's values for the engine's public API: each mistake is one RelunetError sentence that
names the value (numbers, magnitudes that would overflow, class labels, layer sizes, dtypes, memory).

Kept apart from relunet.engine so the engine reads as the lecture; the engine calls these at its doors
(MLP, Trainer, the optimizers) before any work. Imports NumPy and the engine's error class only.
"""

import math
import os

import numpy as np

from .engine.errors import RelunetError

DTYPES = {"float64": np.float64, "float32": np.float32}
#: The largest |value| accepted in inputs and targets: beyond it products and squares in the network overflow.
MAX_MAGNITUDE = {"float64": 1e150, "float32": 1e15}


def number(what, value, positive=False):
    """`value` as a finite float at least 0 (above 0 if positive), or a RelunetError naming it."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)
    if ok and math.isfinite(value) and (value > 0 if positive else value >= 0):
        return float(value)
    raise RelunetError(f"{what} must be a finite number {'above' if positive else 'at least'} 0, got {value!r}")


def count(what, n, positive=False):
    """`n` as a non-negative (or positive) int, or a RelunetError naming it."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < int(positive):
        raise RelunetError(f"{what} must be a {'positive' if positive else 'non-negative'} integer, got {n!r}")
    return int(n)


def numbers(a, dtype, where):
    """`a` as an array of `dtype`, or "<where> must be numbers"."""
    try:
        with np.errstate(over="ignore"):  # a value too large for float32 becomes inf, refused by magnitude()
            return np.asarray(a, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        raise RelunetError(f"{where} must be numbers") from None


def magnitude(a, where):
    """`a` itself when all its values are finite and small enough for the network's arithmetic."""
    # max and min propagate NaN and show infinities without the copies np.abs / np.isfinite would make
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise RelunetError(f"{where} contains NaN or infinite values")
    limit, largest = MAX_MAGNITUDE[a.dtype.name], max(-lo, hi)
    if largest > limit:
        raise RelunetError(f"{where} has values up to {largest:.3g} in size; relunet accepts at most {limit:g} in "
                           f"{a.dtype.name}, beyond which the network's arithmetic would overflow (scale the data)")
    return a


def class_indices(y, classes, where):
    """Class labels -> output indices 0..K-1; each label must be one of `classes` exactly (1e20 is none)."""
    y = np.asarray(y)
    if y.ndim != 1:
        raise RelunetError(f"{where} must be one label per token, got an array of shape {y.shape}")
    if y.dtype.kind == "f" and classes.dtype.kind in "iu":
        exact = np.isfinite(y) & (np.abs(y) < 2 ** 53)
        exact[exact] &= y[exact] == np.round(y[exact])
        if not exact.all():
            raise RelunetError(f"{where} contain {y[~exact][0].item()!r}, which is not an exact small integer "
                               f"(the model's classes are {classes.tolist()})")
        y = y.astype(np.int64)
    order = np.argsort(classes)
    try:
        idx = order[np.clip(np.searchsorted(classes[order], y), 0, len(order) - 1)]
        bad = classes[idx] != y
    except (TypeError, ValueError):
        raise RelunetError(f"{where} are not of the same kind as the model's classes {classes.tolist()}") from None
    if np.any(bad):
        raise RelunetError(f"{where} contain {y[bad][0].item()!r}, which is not one of the model's classes "
                           f"{classes.tolist()}")
    return idx.astype(np.intp)


def classes(labels, n):
    """The class labels of a classifier with n classes (default 0..n-1)."""
    if n < 2:
        raise RelunetError("a classifier needs at least 2 outputs (one per class)")
    if labels is None:
        return np.arange(n)
    c = np.asarray(labels) if isinstance(labels, (list, tuple, np.ndarray)) else None
    if c is None or c.shape != (n,) or c.dtype.kind not in "iufUSbO" or len(set(c.tolist())) != n:
        raise RelunetError(f"classes must be {n} distinct labels, got {labels!r}")
    return c


def sizes(widths):
    """Layer widths as a list of at least 2 positive ints."""
    if not isinstance(widths, (list, tuple, np.ndarray)) or len(widths) < 2:
        raise RelunetError(f"layer sizes must be a list of at least 2 positive integers, got {widths!r}")
    for s in widths:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 1:
            raise RelunetError(f"layer sizes must be positive integers, got {s!r} in {list(widths)}")
    return [int(s) for s in widths]


def memory(widths, dtype):
    """Refuse a network whose weights, gradients and optimizer state would not fit in this machine's memory
    (the operating system would otherwise kill the process without a word)."""
    n = sum((i + 1) * o for i, o in zip(widths[:-1], widths[1:]))
    need = 4 * n * np.dtype(dtype).itemsize  # weights, gradients, two optimizer buffers
    try:
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if need > avail:
        raise RelunetError(f"a network of sizes {widths} has {n:,} parameters and needs about {need / 2**30:.1f} GiB "
                           f"for training; this machine has {avail / 2**30:.1f} GiB")


def dtype(value):
    """np.dtype float64 or float32 from a name, a NumPy type or a dtype."""
    name = value if isinstance(value, str) else getattr(value, "__name__", None) or getattr(value, "name", None)
    if name not in DTYPES:
        raise RelunetError(f"dtype must be float64 or float32, got {value!r}")
    return np.dtype(DTYPES[name])


def sample_weights(w, n, dtype):
    """None, or (n,) finite non-negative weights, not all 0, in `dtype`."""
    if w is None:
        return None
    a = np.asarray(w) if isinstance(w, (list, tuple, np.ndarray)) else None
    if a is None or a.shape != (n,) or a.dtype.kind not in "iuf":
        raise RelunetError(f"sample_weight must be {n} numbers, one per token, got {w!r}")
    if not (np.all(np.isfinite(a)) and np.all(a >= 0) and a.sum() > 0 and a.max() <= 1e150):
        raise RelunetError("sample_weight must be finite numbers in [0, 1e150], not all 0")
    return a.astype(dtype)


def choice(what, value, choices):
    """`value` when it is one of the names `choices`, else "unknown <what> <value>; choose one of: ..."."""
    if isinstance(value, str) and value in choices:
        return value
    raise RelunetError(f"unknown {what} {value!r}; choose one of: {', '.join(choices)}")


def weights(arrays, params, dtype):
    """[W1, b1, ...] (or [(W1, b1), ...]) as arrays shaped like `params`, finite, in `dtype`."""
    if not isinstance(arrays, (list, tuple)):
        raise RelunetError(f"weights must be a list [W1, b1, ...] or [(W1, b1), ...], got {arrays!r}")
    if arrays and all(isinstance(w, tuple) and len(w) == 2 for w in arrays):
        arrays = [a for pair in arrays for a in pair]
    if len(arrays) != len(params):
        raise RelunetError(f"expected {len(params)} arrays (W1, b1, ...), got {len(arrays)}")
    out = []
    for i, (p, w) in enumerate(zip(params, arrays)):
        name = f"{'Wb'[i % 2]}{i // 2 + 1}"
        w = numbers(w, dtype, name)
        if w.shape != p.shape:
            raise RelunetError(f"{name} must have shape {p.shape}, got {w.shape}")
        if not np.all(np.isfinite(w)):
            raise RelunetError(f"{name} contains NaN or infinite values")
        out.append(w)
    return out


def data(model, X, y, where="training"):
    """(X, t): inputs checked and labels encoded by `model`, non-empty, one label per row."""
    if where == "validation" and not (isinstance(X, (tuple, list)) and len(X) == 2 and y is None):
        raise RelunetError(f"validation_data must be a pair (X, y), got {X!r}")
    X, y = X if y is None else (X, y)
    X, t = model.check_input(X, f"{where} data"), model.encode_labels(y, f"{where} labels")
    if len(X) == 0 or len(t) != len(X):
        raise RelunetError(f"{where} data has {len(X)} rows and {len(t)} labels; it must be non-empty and match")
    return X, t


def callbacks(hooks):
    """A list of callbacks: objects with on_epoch_end, or functions."""
    if isinstance(hooks, (str, bytes)) or not hasattr(hooks, "__iter__") or \
            not all(hasattr(c, "on_epoch_end") or callable(c) for c in hooks):
        raise RelunetError(f"callbacks must be a list of Callbacks or functions, got {hooks!r}")
    return list(hooks)


def betas(value):
    """Adam's (beta1, beta2), each in [0, 1)."""
    ok = isinstance(value, (tuple, list)) and len(value) == 2 and all(
        isinstance(b, (int, float, np.number)) and not isinstance(b, bool) and 0 <= b < 1 for b in value)
    if not ok:
        raise RelunetError(f"Adam betas must be two numbers in [0, 1), got {value!r}")
    return tuple(float(b) for b in value)


def inputs(X, n_inputs, dtype, where):
    """X as a 2-D array (N, n_inputs) in `dtype`: numbers, the right width, finite and not too large."""
    X = numbers(X, dtype, where)
    if X.ndim == 1 and n_inputs == 1:
        X = X[:, None]
    if X.ndim != 2 or X.shape[1] != n_inputs:
        got = X.shape[1] if X.ndim == 2 else f"shape {X.shape}"
        raise RelunetError(f"{where} has {got} features but the model expects {n_inputs}")
    return magnitude(X, where)


def indicator(y, n_outputs, dtype, where):
    """Multi-label targets: an (N, n_outputs) matrix of 0/1 (a column per label) in `dtype`."""
    t = numbers(y, dtype, where)
    if t.ndim != 2 or t.shape[1] != n_outputs:
        raise RelunetError(f"{where} of a multi-label model must be an (N, {n_outputs}) matrix of 0/1, one column "
                           f"per label, got shape {np.shape(y)}")
    bad = (t != 0) & (t != 1)
    if bad.any():
        raise RelunetError(f"{where} of a multi-label model must be 0 or 1, got {t[bad][0].item()!r}")
    return t


def targets(y, n_outputs, dtype, counts, where):
    """Regression targets as (N, n_outputs) numbers in `dtype` (counts at least 0 when `counts`)."""
    t = numbers(y, dtype, where)
    t = t.reshape(len(t), -1) if t.ndim in (1, 2) else t
    if t.ndim != 2 or t.shape[1] != n_outputs:
        raise RelunetError(f"{where} have shape {np.shape(y)} but the model has {n_outputs} outputs")
    if counts and np.any(t < 0):
        raise RelunetError(f"{where} must be counts at least 0 for the Poisson loss")
    return magnitude(t, where)
