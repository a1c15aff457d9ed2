"""The hand-written NumPy floor: the same maths as relunet with no framework at all.

A minimal loop a careful engineer would write for exactly this network (ReLU hidden layers, softmax +
cross-entropy, plain SGD), buffers allocated once, in-place BLAS rank-1 updates (?ger) for batch size 1.
It is the floor of Python overhead: what any NumPy-based library pays at least. Weights are the lists
Ws [(out, in), ...] and bs [(out,), ...], updated in place.

    z = W a + b,  h = max(0, z),  f = softmax(z_L),  dz_L = (f - onehot(y)) / B,
    dW = dz^T a,  db = sum dz,  dh = dz W (old W),  dz = dh * [h > 0],  W <- W - lr dW,  b <- b - lr db
"""

import numpy as np
from scipy.linalg import blas


def sgd_per_sample(Ws, bs, X, y, lr):
    """One plain-SGD update per token of X (N, inputs), y (N,) class indices, in order."""
    dt = Ws[0].dtype
    ger, axpy = (blas.dger, blas.daxpy) if dt == np.float64 else (blas.sger, blas.saxpy)
    L = len(Ws)
    WTs = [W.T for W in Ws]  # F-contiguous views of W: ?ger updates W in place through them
    hs = [np.empty(W.shape[0], dt) for W in Ws]
    dhs = [np.empty(W.shape[1], dt) for W in Ws]
    masks = [np.empty(W.shape[1], bool) for W in Ws]
    neg_lr = -lr
    acts = [None] * L
    for i in range(len(X)):
        a = X[i]
        for l in range(L):
            acts[l] = a
            z = hs[l]
            np.dot(Ws[l], a, out=z)
            z += bs[l]
            if l < L - 1:
                np.maximum(z, 0.0, out=z)  # h = relu(z), in place: h > 0 exactly where z > 0
            a = z
        dz = a
        dz -= dz.max()
        np.exp(dz, out=dz)
        dz /= dz.sum()
        dz[y[i]] -= 1.0
        for l in range(L - 1, -1, -1):
            if l:
                dh = dhs[l]
                np.dot(dz, Ws[l], out=dh)  # before W changes
            ger(neg_lr, acts[l], dz, a=WTs[l], overwrite_a=1)
            axpy(dz, bs[l], a=neg_lr)
            if l:
                np.greater(acts[l], 0.0, out=masks[l])
                np.multiply(dh, masks[l], out=dh)
                dz = dh


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
