"""Losses, as means over the batch, with their gradient dL/dz at the network's output excitation z.

Why the output gradient is so simple: softmax + cross-entropy and identity + squared error are canonical
pairs, so dL/dz is (prediction - target) / N. For one token the lecture writes it dL/dz_k = f_k - 1[y=k].
"""

import numpy as np

from .errors import RelunetError


def row_max(z):
    """max_k z[n, k] for each row.  z: (N, K) -> (N,).

    NumPy reduces along a short last axis slowly (about 20 ns a row); along the first axis of the
    transposed copy it runs at memory speed, copy included.
    """
    if z.shape[1] == 0:
        return np.full(len(z), -np.inf, z.dtype)
    return np.maximum.reduce(np.ascontiguousarray(z.T), axis=0)


def row_sum(z):
    """sum_k z[n, k] for each row, as the product z @ 1 (BLAS gemv: faster than a reduction).  (N, K) -> (N,)."""
    if z.dtype not in (np.float32, np.float64):
        return np.add.reduce(z, axis=1)
    return np.dot(z, np.ones(z.shape[1], z.dtype))


class SoftmaxCrossEntropy:
    """L = mean_n [ logsumexp(z_n) - z_n[y_n] ] = mean_n -log f_{y_n},  f = softmax(z).

    Shapes: z (N, K) logits, y (N,) integer class indices in [0, K). backward() returns
    dL/dz = (f - onehot(y)) / N, of shape (N, K).
    """

    name = "cross_entropy"

    def forward(self, z, y):
        """The mean loss (a float); keeps f = softmax(z) for backward."""
        n = len(z)
        # Work on the transposed copy (K, N): NumPy is slow along a short last axis (the K classes) and
        # fast along the first; f is kept as its transposed view, (N, K).
        fT = z.T.copy()  # always a copy (ascontiguousarray would return z itself for one row)
        m = np.maximum.reduce(fT, axis=0) if len(fT) else np.full(n, -np.inf, z.dtype)
        fT -= m
        np.exp(fT, out=fT)
        s = np.add.reduce(fT, axis=0)
        fT /= s
        # log-sum-exp stays finite for any finite z: log sum exp(z) = m + log sum exp(z - m).
        lse = np.log(s)
        lse += m
        lse -= z[self._rows(n), y]
        loss = float(np.add.reduce(lse) / n) if n else float("nan")
        self.f, self.y = fT.T, y
        return loss

    def backward(self):
        dz = np.copy(self.f, order="C")
        dz[self._rows(len(self.y)), self.y] -= 1.0
        dz /= len(self.y)
        return dz

    def _rows(self, n):
        rows = getattr(self, "_rows_cache", None)
        if rows is None or len(rows) != n:
            rows = self._rows_cache = np.arange(n)
        return rows

    @staticmethod
    def correct(z, y):
        """How many rows of z have their largest entry at y."""
        return int(np.count_nonzero(z.argmax(axis=1) == y))


class MeanSquaredError:
    """L = mean_n 1/2 sum_k (z_nk - y_nk)^2; dL/dz = (z - y) / N.

    The factor 1/2 makes the gradient the lecture's prediction - target; the reported "MSE" metric is
    mean((z - y)^2) without it. Shapes: z (N, K), y (N, K) (or (N,) when K = 1).
    """

    name = "mse"

    def forward(self, z, y):
        y = y.reshape(z.shape)
        r = z - y
        self.r = r
        return float(0.5 * np.einsum("nk,nk->", r, r) / len(r))

    def backward(self):
        return self.r / len(self.r)

    @staticmethod
    def correct(z, y):
        return 0


#: Losses by name: the CLI and model files look names up here only.
LOSSES = {cls.name: cls for cls in (SoftmaxCrossEntropy, MeanSquaredError)}
#: The loss each task trains with.
TASK_LOSS = {"classification": "cross_entropy", "regression": "mse"}


def get_loss(name):
    try:
        return LOSSES[name]()
    except (KeyError, TypeError):
        raise RelunetError(f"unknown loss {name!r}; choose one of: {', '.join(LOSSES)}") from None
