"""Losses at the network's output excitation z: the value L and its gradient dL/dz, in one registry.

Each loss pairs an output function f with a loss that makes the pair canonical, so a token's gradient is
simply f - t: the lecture's dL/dz_k = f_k - 1[y=k] for softmax + cross-entropy. ``value_and_grad`` returns
the (sample-weighted) batch mean L = sum_n w_n l_n / sum_n w_n and dL/dz_n = w_n (f_n - t_n) / sum_n w_n.
Shapes: z (N, K); t (N,) class indices for cross-entropy, (N, K) numbers for the others.
"""

import numpy as np


class Loss:
    """Base class: ``per_token(z, t)`` gives each token's loss l_n (N,) and its gradient dl_n/dz_n (N, K)."""

    def value_and_grad(self, z, t, sample_weight=None):
        """(L, dL/dz): the batch mean of the token losses, weighted by sample_weight (N,) when given."""
        l, g = self.per_token(z, t)
        w = np.ones(len(z), z.dtype) if sample_weight is None else np.asarray(sample_weight, z.dtype)
        total = w.sum()
        if total == 0:  # a batch of zero-weight tokens teaches nothing
            return 0.0, np.zeros_like(g)
        return float(w @ l / total), g * (w / total)[:, None]

    def correct(self, z, t):
        """How many tokens the outputs get right (0 for regression losses)."""
        return 0


class SoftmaxCrossEntropy(Loss):
    """f = softmax(z); l_n = -log f_{n, y_n} = logsumexp(z_n) - z_{n, y_n}; dl_n/dz_n = f_n - onehot(y_n)."""

    name = "cross_entropy"
    def output(self, z): return softmax(z)

    def per_token(self, z, t):
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)  # shifted by the row's largest z: no overflow for any finite z
        s = e.sum(axis=1, keepdims=True)
        rows = np.arange(len(z))
        g = e / s
        g[rows, t] -= 1.0
        return np.log(s[:, 0]) + m[:, 0] - z[rows, t], g

    def correct(self, z, t): return int(np.count_nonzero(z.argmax(axis=1) == t))


class MeanSquaredError(Loss):
    """f = z; l_n = 1/2 sum_k (z_nk - t_nk)^2; dl_n/dz_n = z_n - t_n.

    The 1/2 makes the gradient the lecture's prediction - target (scikit-learn's squared loss is this / K);
    the reported "MSE" metric is mean((z - t)^2) without it.
    """

    name = "mse"
    def output(self, z): return z

    def per_token(self, z, t):
        r = z - t.reshape(z.shape)
        return 0.5 * np.einsum("nk,nk->n", r, r), r


class Logistic(Loss):
    """f = sigmoid(z) per output; l_n = sum_k -t log f - (1 - t) log(1 - f) = softplus(z) - t z; dl/dz = f - t.

    For binary (one output) and multi-label targets t in {0, 1}; a token is correct when all its outputs are.
    """

    name = "logistic"
    def output(self, z): return 0.5 * (1.0 + np.tanh(0.5 * z))

    def per_token(self, z, t):
        t = t.reshape(z.shape)
        return (np.logaddexp(0, z) - t * z).sum(axis=1), self.output(z) - t

    def correct(self, z, t): return int(np.count_nonzero(np.all((z > 0) == (t.reshape(z.shape) > 0.5), axis=1)))


class Poisson(Loss):
    """f = exp(z), a Poisson mean; l_n = sum_k t log(t / f) - t + f (half the deviance, as scikit-learn's
    MLPRegressor(loss="poisson")); dl/dz = f - t."""

    name = "poisson"
    def output(self, z): return np.exp(z)

    def per_token(self, z, t):
        t, f = t.reshape(z.shape), np.exp(z)
        t_log_t = np.where(t > 0, t * np.log(np.where(t > 0, t, 1)), 0.0)
        return (t_log_t - t * z - t + f).sum(axis=1), f - t


def softmax(z):
    """Row-wise softmax, stable for any finite z.  z: (N, K) -> f: (N, K), rows summing to 1."""
    z = np.asarray(z, dtype=np.result_type(z, np.float32))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


#: Losses by name (model files and the CLI look names up here), each task's default, and what each task allows.
LOSSES = {cls.name: cls for cls in (SoftmaxCrossEntropy, MeanSquaredError, Logistic, Poisson)}
TASK_LOSS = {"classification": "cross_entropy", "regression": "mse"}
TASK_LOSSES = {"classification": ("cross_entropy", "logistic"), "regression": ("mse", "poisson")}
