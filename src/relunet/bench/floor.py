"""The hand-written NumPy floor: the same maths as relunet with no framework at all.

A minimal loop a careful engineer would write for exactly this network (ReLU hidden layers, softmax +
cross-entropy, plain SGD), buffers allocated once; for batch size 1 augmented weights [W | b] so that one
?gemv and one in-place BLAS rank-1 update (?ger) per layer do all the work, and softmax on a Python list.
It is the floor of Python overhead: what any NumPy-based library pays at least. Weights are the lists
Ws [(out, in), ...] and bs [(out,), ...], updated in place.

    z = W a + b,  h = max(0, z),  f = softmax(z_L),  dz_L = (f - onehot(y)) / B,
    dW = dz^T a,  db = sum dz,  dh = dz W (old W),  dz = dh * [h > 0],  W <- W - lr dW,  b <- b - lr db
"""

import math

import numpy as np


def sgd_per_sample(Was, X, y, lr):
    """One plain-SGD update per token of X (N, inputs), y (N,) class indices, in order.

    Was are the augmented weights [W | b] (out, in + 1), C-contiguous: with a 1 appended to every input and
    hidden vector, one ?gemv computes W a + b and one ?ger updates W and b together (the fewest calls per step).
    """
    from scipy.linalg import blas  # the floor's in-place rank-1 update; SciPy is in the [bench] extra

    dt = Was[0].dtype
    ger = blas.dger if dt == np.float64 else blas.sger
    L = len(Was)
    WTs = [Wa.T for Wa in Was]  # F-contiguous views: ?ger updates Wa in place through them
    hs = [np.ones(Wa.shape[0] + 1, dt) for Wa in Was]  # [h, 1]
    hv = [h[:-1] for h in hs]
    dhs = [np.empty(Wa.shape[1], dt) for Wa in Was]
    dhv = [dh[:-1] for dh in dhs]
    masks = [np.empty(Wa.shape[0], bool) for Wa in Was]
    dz_out = np.empty(Was[-1].shape[0], dt)
    Xa = np.ones((len(X), X.shape[1] + 1), dt)
    Xa[:, :-1] = X
    neg_lr = -lr
    exp = math.exp
    if L == 2:  # one hidden layer, as one would write it by hand for the lecture's network
        W1, W2 = Was
        W1T, W2T = WTs
        h, hv, dh, dhv, mask = hs[0], hv[0], dhs[1], dhv[1], masks[0]
        for x, yi in zip(Xa, y.tolist()):
            np.dot(W1, x, out=hv)
            np.greater(hv, 0.0, out=mask)
            np.multiply(hv, mask, out=hv)
            np.dot(W2, h, out=dz_out)
            zl = dz_out.tolist()
            m = max(zl)
            e = [exp(v - m) for v in zl]
            s = sum(e)
            f = [v / s for v in e]
            f[yi] -= 1.0
            dz_out[...] = f
            np.dot(dz_out, W2, out=dh)
            ger(neg_lr, h, dz_out, a=W2T, overwrite_a=1)
            np.multiply(dhv, mask, out=hv)
            ger(neg_lr, x, hv, a=W1T, overwrite_a=1)
        return
    acts = [None] * L
    for i, yi in enumerate(y.tolist()):
        a = Xa[i]
        for l in range(L - 1):
            acts[l] = a
            z = hv[l]
            np.dot(Was[l], a, out=z)
            np.greater(z, 0.0, out=masks[l])
            np.multiply(z, masks[l], out=z)  # h = relu(z)
            a = hs[l]
        acts[L - 1] = a
        np.dot(Was[L - 1], a, out=dz_out)
        # softmax and dz = f - onehot(y), on a Python list: a handful of classes
        zl = dz_out.tolist()
        m = max(zl)
        e = [exp(v - m) for v in zl]
        s = sum(e)
        f = [v / s for v in e]
        f[yi] -= 1.0
        dz_out[...] = f
        dz = dz_out
        for l in range(L - 1, -1, -1):
            if l:
                np.dot(dz, Was[l], out=dhs[l])  # before W changes; the last entry (bias) is not used
            ger(neg_lr, acts[l], dz, a=WTs[l], overwrite_a=1)
            if l:
                dz = hv[l - 1]  # h is no longer needed: reuse its buffer for dz
                np.multiply(dhv[l], masks[l - 1], out=dz)


def sgd_minibatch(Ws, bs, X, y, lr, batch):
    """Plain-SGD updates on consecutive batches of `batch` tokens of X (N, inputs)."""
    dt = Ws[0].dtype
    L = len(Ws)
    B = batch
    zs = [np.empty((B, W.shape[0]), dt) for W in Ws]
    dhs = [np.empty((B, W.shape[1]), dt) for W in Ws]
    masks = [np.empty((B, W.shape[1]), bool) for W in Ws]
    dWs = [np.empty_like(W) for W in Ws]
    dbs = [np.empty_like(b) for b in bs]
    mx = np.empty((B, 1), dt)
    sm = np.empty((B, 1), dt)
    rows = np.arange(B)
    acts = [None] * L
    for s in range(0, len(X) - B + 1, B):
        a = X[s:s + B]
        for l in range(L):
            acts[l] = a
            z = zs[l]
            np.matmul(a, Ws[l].T, out=z)
            z += bs[l]
            if l < L - 1:
                np.maximum(z, 0.0, out=z)
            a = z
        dz = a
        np.max(dz, axis=1, keepdims=True, out=mx)
        dz -= mx
        np.exp(dz, out=dz)
        np.sum(dz, axis=1, keepdims=True, out=sm)
        dz /= sm
        dz[rows, y[s:s + B]] -= 1.0
        dz *= 1.0 / B
        for l in range(L - 1, -1, -1):
            np.matmul(dz.T, acts[l], out=dWs[l])
            np.sum(dz, axis=0, out=dbs[l])
            if l:
                dh = dhs[l]
                np.matmul(dz, Ws[l], out=dh)  # before W changes
                np.greater(acts[l], 0.0, out=masks[l])
                np.multiply(dh, masks[l], out=dh)
            dWs[l] *= lr
            Ws[l] -= dWs[l]
            dbs[l] *= lr
            bs[l] -= dbs[l]
            if l:
                dz = dh


def predict_proba(Ws, bs, X):
    """f = softmax(z_L) for X (N, inputs) -> (N, classes), one full-size pass per layer."""
    a = X
    L = len(Ws)
    for l in range(L):
        z = a @ Ws[l].T
        z += bs[l]
        if l < L - 1:
            np.maximum(z, 0.0, out=z)
        a = z
    a -= a.max(axis=1, keepdims=True)
    np.exp(a, out=a)
    a /= a.sum(axis=1, keepdims=True)
    return a
