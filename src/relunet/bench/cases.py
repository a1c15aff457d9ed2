"""The benchmark cases: one Case per row of the table, in one registry (CASES).

A case fixes everything the contenders share: the network sizes, dtype, batch size, learning rate, the data
(N, inputs) in a fixed visiting order, and the initial weights [W1, b1, W2, b2, ...] (W of shape (out, in)).
Every contender starts from the same weights and makes the same number of plain-SGD updates over the same
tokens in the same order, so the timed work is identical; runner.py checks that by comparing their weights
after `check_steps` updates. relunet shuffles as its users do (fit's default, shuffle=True, seed SEED); the
others get that very permutation (Problem.order), which the Trainer draws as
numpy.random.default_rng(SEED).permutation(n) at the start of its first epoch.

Adding a case is one entry in CASES (kinds: "sgd" = training with plain SGD at `batch` tokens per update,
"map" = class probabilities on a grid x grid decision map).
"""

from dataclasses import dataclass

import numpy as np

#: the Trainer's seed in every timed relunet run; the other contenders visit the tokens in its order
SEED = 0


@dataclass(frozen=True)
class Case:
    """One benchmark row.

    Args:
        name: the row's name, e.g. "sgd1/2-64-3".
        kind: "sgd" (train with SGD at `batch` tokens per update) or "map" (predict_proba on a grid).
        sizes: layer widths [inputs, hidden..., classes].
        dtype: "float64" or "float32" for every contender.
        batch: tokens per update (1 = the lecture's per-sample SGD).
        lr: the learning rate.
        data: "spiral", "circles" (2-D, from relunet's data registry) or "teacher" (Gaussian inputs labelled by a
            random linear teacher: a stand-in for MNIST that needs no download).
        updates: updates per timed run (sgd) or grid side (map), full run; `quick_updates` for --quick.
        check_steps: updates compared in the trajectory check (sgd only).
        repeats: timed repeats in a full run (0: the default, 7); more for cases whose relunet runs are short,
            so that their medians stay steady on a busy machine.
        doc: one line for the table's notes.
    """

    name: str
    kind: str
    sizes: tuple
    dtype: str = "float64"
    batch: int = 1
    lr: float = 0.05
    data: str = "spiral"
    updates: int = 5000
    quick_updates: int = 600
    check_steps: int = 300
    repeats: int = 0
    doc: str = ""

    @property
    def unit(self):
        if self.kind == "map":
            return "ms"
        return "steps/s" if self.batch == 1 else "samples/s"

    @property
    def higher_is_better(self):
        return self.kind != "map"

    def problem(self, quick=False, seed=0):
        """The shared Problem (data, order, initial weights) for this case."""
        rng = np.random.default_rng(seed)
        dt = np.dtype(self.dtype)
        n_updates = self.quick_updates if quick else self.updates
        weights = initial_weights(self.sizes, dt, rng)
        if self.kind == "map":
            side = n_updates
            g = np.linspace(-1.5, 1.5, side)
            gx, gy = np.meshgrid(g, g)
            X = np.ascontiguousarray(np.column_stack([gx.ravel(), gy.ravel()]), dtype=dt)
            return Problem(self, X, None, weights, 0, side * side)
        n = max(n_updates, self.check_steps) * self.batch
        X, y = make_data(self.data, n, self.sizes, rng)
        return Problem(self, np.ascontiguousarray(X, dtype=dt), y.astype(np.intp), weights,
                       n_updates, n_updates * self.batch)


@dataclass
class Problem:
    """What every contender of one case gets: X (N, inputs) in the case's dtype, y (N,) class indices,
    weights [W1, b1, ...] to start from, the number of updates per timed run and the units it counts."""

    case: Case
    X: np.ndarray
    y: np.ndarray
    weights: list
    updates: int
    units: int

    @property
    def n_tokens(self):
        """Tokens used by one timed run (updates * batch)."""
        return self.updates * self.case.batch

    def order(self, n):
        """The order in which relunet's Trainer(seed=SEED, shuffle=True) visits n tokens in its first epoch."""
        return np.random.default_rng(SEED).permutation(n)


def initial_weights(sizes, dtype, rng):
    """He-normal W (out, in) and small random b: nonzero biases so the check also covers their updates."""
    out = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        out.append((rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)).astype(dtype))
        out.append((0.1 * rng.standard_normal(n_out)).astype(dtype))
    return out


def make_data(name, n, sizes, rng):
    """(X (n, sizes[0]) float64, y (n,) class indices) for a case."""
    k = sizes[-1]
    if name == "teacher":
        X = rng.standard_normal((n, sizes[0]))
        teacher = rng.standard_normal((sizes[0], k))
        return X, np.argmax(X @ teacher, axis=1)
    from ..data import make_dataset

    if name == "spiral":
        return make_dataset("spiral", n=n, classes=k, seed=rng)
    return make_dataset(name, n=n, seed=rng)


#: The registry of cases, in table order. The names are the issue's.
CASES = {c.name: c for c in (
    Case("sgd1/2-16-2", "sgd", (2, 16, 2), data="circles", lr=0.05, updates=5000, quick_updates=1000, repeats=15,
         doc="per-sample SGD on 2-D circles"),
    Case("sgd1/2-64-3", "sgd", (2, 64, 3), lr=0.05, updates=5000, quick_updates=1000, repeats=15,
         doc="per-sample SGD on a 3-class spiral"),
    Case("sgd1/784-256-10", "sgd", (784, 256, 10), dtype="float32", data="teacher", lr=0.01, updates=1500,
         quick_updates=300, check_steps=200, doc="per-sample SGD, MNIST-sized, float32"),
    Case("mb32/2-64-64-3", "sgd", (2, 64, 64, 3), dtype="float32", batch=32, lr=0.05, updates=2000,
         quick_updates=200, check_steps=200, repeats=11,
         doc="mini-batch 32 on a 3-class spiral, float32 (as the issue's floor)"),
    Case("mb32/2-64-64-3/float64", "sgd", (2, 64, 64, 3), batch=32, lr=0.1, updates=2000, quick_updates=200,
         check_steps=200, repeats=11, doc="the same in float64 (for information: small float64 products are slower)"),
    Case("mb256/784-256-10", "sgd", (784, 256, 10), dtype="float32", batch=256, data="teacher", lr=0.05,
         updates=80, quick_updates=20, check_steps=40, doc="mini-batch 256, MNIST-sized, float32"),
    Case("map/2-64-64-3", "map", (2, 64, 64, 3), dtype="float32", updates=200, quick_updates=200,
         repeats=11, doc="class probabilities on a 200x200 grid (decision map), float32"),
)}
