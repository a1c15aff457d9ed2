"""The compiled limit: per-sample SGD for x -> ReLU -> softmax written by hand as one Numba loop.

What an engineer would write for exactly the lecture's network and nothing else: fixed depth, ReLU,
softmax + cross-entropy, plain SGD, every size known to the loop, W (out, in) updated in place:

    z1 = W1 x + b1,  h = max(0, z1),  z2 = W2 h + b2,  f = softmax(z2),  dz2 = f - 1[y=k]
    dh = W2^T dz2 (old W2),  W2 -= lr dz2 h^T,  b2 -= lr dz2,  dz1 = dh * [z1 > 0],  W1 -= lr dz1 x^T,  b1 -= lr dz1

relunet's kernels handle any depth, activation, loss and optimizer; this loop is the speed they are held to.
Numba is imported when the contender runs.
"""

_loop = None


def sgd_per_sample(W1, b1, W2, b2, X, y, order, lr):
    """One plain-SGD update per token X[order[i]], in place."""
    global _loop
    if _loop is None:
        _loop = _compile()
    _loop(W1, b1, W2, b2, X, y, order, W1.dtype.type(lr))


def _compile():
    import math

    import numpy as np
    from numba import njit

    @njit(cache=True, fastmath={"reassoc", "contract", "nsz"}, error_model="numpy")
    def loop(W1, b1, W2, b2, X, y, order, lr):
        H, D = W1.shape
        K = W2.shape[0]
        z1 = np.empty(H, W1.dtype)
        h = np.empty(H, W1.dtype)
        f = np.empty(K, W1.dtype)
        dh = np.empty(H, W1.dtype)
        for r in order:
            x = X[r]
            for i in range(H):
                s = b1[i]
                for j in range(D):
                    s += W1[i, j] * x[j]
                z1[i] = s
                h[i] = s if s > 0 else 0.0
            m = -np.inf
            for k in range(K):
                s = b2[k]
                for i in range(H):
                    s += W2[k, i] * h[i]
                f[k] = s
                m = max(m, s)
            tot = 0.0
            for k in range(K):
                f[k] = math.exp(f[k] - m)
                tot += f[k]
            for k in range(K):
                f[k] /= tot
            f[y[r]] -= 1.0
            dh[:] = 0.0
            for k in range(K):
                g = f[k]
                for i in range(H):
                    dh[i] += W2[k, i] * g
                    W2[k, i] -= lr * g * h[i]
                b2[k] -= lr * g
            for i in range(H):
                if z1[i] > 0:
                    g = dh[i]
                    for j in range(D):
                        W1[i, j] -= lr * g * x[j]
                    b1[i] -= lr * g

    return loop
