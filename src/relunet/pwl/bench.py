"""Timings of the exact geometry, for ``relunet bench``: regions and boundary of a trained
2-64-64-3 spiral network, knots of a trained 1-64-64-1 network (medians in milliseconds)."""

import statistics
import time

import numpy as np


def _median_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def spiral_model(epochs=300, seed=0):
    """A 2-64-64-3 ReLU network trained (Adam, batch 32) on the 3-arm spiral; model.box is the data box."""
    from ..data import bounding_box, make_dataset
    from ..engine.model import MLP
    from ..engine.train import fit

    X, y = make_dataset("spiral", seed=seed)
    model = MLP([2, 64, 64, 3], seed=seed)
    fit(model, X, y, epochs=epochs, batch_size=32, optimizer="adam", lr=0.01, seed=seed)
    model.box = bounding_box(X)
    return model, X, y


def sine_model(epochs=200, seed=0):
    """A 1-64-64-1 ReLU network trained (Adam, batch 32) on sin over [0, 2 pi]; model.box is [0, 2 pi]."""
    from ..data import make_dataset
    from ..engine.model import MLP
    from ..engine.train import fit

    X, y = make_dataset("sine", n=200, seed=seed)
    model = MLP([1, 64, 64, 1], task="regression", seed=seed)
    fit(model, X, y, epochs=epochs, batch_size=32, optimizer="adam", lr=0.01, seed=seed)
    model.box = [0.0, 2 * np.pi]
    return model


def benchmark(quick=False):
    """Train the two networks and time the exact geometry on them.

    Returns a dict: regions_ms, boundary_ms, knots_ms (medians), and the counts measured
    (regions, boundary_pieces, knots_pieces) with the bounds, plus train_accuracy of the spiral net.
    quick=True trains briefly and repeats less (for tests and smoke runs).
    """
    from .boundary import decision_boundary
    from .bounds import model_bound
    from .oned import knots
    from .regions import linear_regions

    repeats = 3 if quick else 15
    model, X, y = spiral_model(epochs=60 if quick else 300)
    one = sine_model(epochs=40 if quick else 200)
    part = linear_regions(model)
    bnd = decision_boundary(model, partition=part)
    k = knots(one)
    return {
        "regions_ms": _median_ms(lambda: linear_regions(model), repeats),
        "boundary_ms": _median_ms(lambda: decision_boundary(model, partition=part), repeats),
        "knots_ms": _median_ms(lambda: knots(one), repeats * 3),
        "regions": len(part), "region_bound": model_bound(model),
        "boundary_pieces": bnd.count, "knots_pieces": k.pieces, "knots_bound": model_bound(one),
        "train_accuracy": float(model.score(X, y)), "quick": bool(quick),
    }
