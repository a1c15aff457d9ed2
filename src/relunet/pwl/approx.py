"""The lecture's limit claim, measured: more linear pieces approximate a smooth target better.

For a target f on [a, b] and n equal pieces, the interpolating network (compiler.compile_function)
has max error ~ h^2 / 8 * max|f''| with h = (b - a) / n, so error * n^2 tends to (b - a)^2 / 8 * max|f''|:
for sin on [0, 2 pi] that is (2 pi)^2 / 8 = 4.935. Optionally a two-layer network of the same width
is trained (Adam) on samples of f, to show how far gradient descent gets from the best PWL fit.
"""

import numpy as np

from ..data import TARGETS
from ..engine.errors import RelunetError
from .compiler import compile_function

#: grid points per piece when measuring the max error (even, so every piece's midpoint is on the grid)
SAMPLES_PER_PIECE = 64


def target(name):
    """(f, (a, b)) for a registered 1-D target (relunet.data.TARGETS)."""
    if name not in TARGETS:
        raise RelunetError(f"unknown function {name!r}; choose one of: {', '.join(TARGETS)}")
    return TARGETS[name]


def max_error(model, f, interval, pieces):
    """max |f(x) - model(x)| on a grid with SAMPLES_PER_PIECE points per piece (knots and midpoints included)."""
    a, b = interval
    x = np.linspace(a, b, SAMPLES_PER_PIECE * pieces + 1)
    return float(np.max(np.abs(model.decision_function(x[:, None])[:, 0] - f(x))))


def train_same_width(f, interval, pieces, epochs=200, lr=0.01, seed=0, n=None):
    """A [1, pieces + 1, 1] ReLU network trained with Adam (batch 32) on n samples of f; returns it.

    Its kinks start at random points of the interval (He weights, biases b = -W u with u uniform).
    """
    from ..engine.model import MLP
    from ..engine.train import fit

    a, b = interval
    n = n or max(256, 4 * pieces)
    x = np.linspace(a, b, n)
    model = MLP([1, pieces + 1, 1], "relu", task="regression", seed=seed)
    # Zero biases would put every kink at x = 0, outside or at the edge of most intervals, leaving
    # a nearly linear network that gradient descent struggles to bend; spread the kinks over [a, b].
    W = model.linears[0].W[:, 0]
    model.linears[0].b[...] = -W * np.random.default_rng(seed).uniform(a, b, len(W))
    fit(model, x[:, None], f(x), epochs=epochs, batch_size=32, optimizer="adam", lr=lr, seed=seed)
    return model


def approximation_study(name, pieces_list, train=False, epochs=200, seed=0):
    """One row per n in pieces_list: {"pieces", "max_error", "error_n2", ["trained_error"]}."""
    f, interval = target(name)
    rows = []
    for n in pieces_list:
        model, _, _ = compile_function(f, interval, n)
        err = max_error(model, f, interval, n)
        row = {"pieces": int(n), "units": int(n) + 1, "max_error": err, "error_n2": err * n * n}
        if train:
            trained = train_same_width(f, interval, n, epochs=epochs, seed=seed)
            row["trained_error"] = max_error(trained, f, interval, n)
        rows.append(row)
    return rows
