"""Losses, as means over the batch, with their gradient dL/dz at the network's output excitation z.

Why the output gradient is so simple: softmax + cross-entropy and identity + squared error are canonical
pairs, so dL/dz is (prediction - target) / N. For one token the lecture writes it dL/dz_k = f_k - 1[y=k].
"""

import numpy as np

from .errors import RelunetError


class SoftmaxCrossEntropy:
    """L = mean_n [ logsumexp(z_n) - z_n[y_n] ] = mean_n -log f_{y_n},  f = softmax(z).

    Shapes: z (N, K) logits, y (N,) integer class indices in [0, K). backward() returns
    dL/dz = (f - onehot(y)) / N, of shape (N, K).
    """

    name = "cross_entropy"

    def forward(self, z, y):
        """The mean loss (a float); keeps f = softmax(z) for backward."""
        n = len(z)
        # The ufuncs' reduce methods directly: the same sums as z.max / f.sum / np.mean without their
        # Python wrappers, which cost more than the arithmetic on a small batch.
        m = np.maximum.reduce(z, axis=1, keepdims=True)
        f = np.subtract(z, m)
        np.exp(f, out=f)
        s = np.add.reduce(f, axis=1, keepdims=True)
        f /= s
        rows = self._rows(n)
        # log-sum-exp stays finite for any finite z: log sum exp(z) = m + log sum exp(z - m).
        lse = np.log(s[:, 0])
        lse += m[:, 0]
        lse -= z[rows, y]
        loss = float(np.add.reduce(lse) / n) if n else float("nan")
        self.f, self.y = f, y
        return loss

    def backward(self):
        dz = self.f.copy()
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
