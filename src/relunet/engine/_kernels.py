"""The lecture's per-sample SGD, fused: forward, loss, back-propagation and update for one token at a time.

For batch size 1 a framework's per-step overhead dwarfs the arithmetic (a 2-64-3 step is ~400 flops), so
this loop does exactly the calls the maths needs, into buffers allocated once per epoch:

    z1 = W1 x + b1,  h = g(z1),  z2 = W2 h + b2,  f = softmax(z2)
    dz2 = f - 1[y=k]            (cross-entropy; z2 - y for squared error)
    dh = W2^T dz2               (with the old W2, before it is updated)
    W2 <- W2 - lr dz2 h^T,  b2 <- b2 - lr dz2     (an in-place rank-1 update, BLAS ?ger)
    dz1 = dh * g'(z1),  W1 <- W1 - lr dz1 x^T, ...

It computes the same numbers as Model.forward + Model.backward + SGD.step on a batch of one (the tests
check that to 1e-12); it exists only because it is several times faster. L2 weight decay multiplies W by
(1 - lr * weight_decay) before the rank-1 update, which is W - lr (dW + weight_decay W).
"""

import math

import numpy as np

try:  # in-place rank-1 updates and axpy from the BLAS that NumPy's SciPy build links
    from scipy.linalg import blas as _blas
except ImportError:  # pragma: no cover - exercised only where SciPy is absent
    _blas = None

_RELU, _OTHER = 0, 1


def _blas_pair(dtype):
    if _blas is None:
        return None, None
    if dtype == np.float64:
        return _blas.dger, _blas.daxpy
    return _blas.sger, _blas.saxpy


def sgd_per_sample(model, X, y, order, lr, weight_decay=0.0):
    """Per-sample SGD over the tokens X[order]; returns (sum of losses, number classified correctly)."""
    dtype = model.dtype
    lins = model.linears
    L = len(lins)
    acts = model.activations
    ger, axpy = _blas_pair(dtype)
    lr = float(lr)
    neg_lr = -lr
    decay = 1.0 - lr * float(weight_decay) if weight_decay else 1.0

    Ws = [lin.W for lin in lins]
    WTs = [W.T for W in Ws]  # F-contiguous views: ?ger updates them, hence W, in place
    bs = [lin.b for lin in lins]
    zs = [np.empty(lin.out_features, dtype) for lin in lins]
    hs = [np.empty(lin.out_features, dtype) for lin in lins[:-1]]
    masks = [np.empty(lin.out_features, bool) for lin in lins[:-1]]
    dhs = [np.empty(lin.in_features, dtype) for lin in lins]
    kinds = [_RELU if a.name == "relu" else _OTHER for a in acts]
    outer = None if ger is not None else [np.empty_like(W) for W in Ws]
    db = np.empty(max(lin.out_features for lin in lins), dtype)
    classify = model.task == "classification"
    zout = zs[-1]
    log = math.log
    loss_sum = 0.0
    correct = 0

    for i in order.tolist():
        x = X[i]
        # ---- forward: z = W a + b, h = g(z)
        a = x
        for l in range(L - 1):
            z = zs[l]
            np.dot(Ws[l], a, out=z)
            np.add(z, bs[l], out=z)
            h = hs[l]
            if kinds[l] == _RELU:
                np.greater(z, 0.0, out=masks[l])
                np.multiply(z, masks[l], out=h)
            else:
                acts[l].forward(z, out=h)
            a = h
        np.dot(Ws[-1], a, out=zout)
        np.add(zout, bs[-1], out=zout)
        # ---- loss and dL/dz at the output, in place in zout
        if classify:
            yi = y[i]
            zl = zout.tolist()
            m = max(zl)
            np.subtract(zout, m, out=zout)
            np.exp(zout, out=zout)
            s = sum(zout.tolist())
            np.multiply(zout, 1.0 / s, out=zout)  # f = softmax(z)
            zy = zl[yi]
            loss_sum += log(s) + m - zy
            correct += zy == m
            zout[yi] -= 1.0  # dz = f - 1[y=k]
        else:
            np.subtract(zout, y[i], out=zout)  # dz = z - y
            loss_sum += 0.5 * float(np.dot(zout, zout))
        # ---- backward with update, layer by layer from the top
        dz = zout
        for l in range(L - 1, -1, -1):
            a_in = hs[l - 1] if l > 0 else x
            if l > 0:
                np.dot(dz, Ws[l], out=dhs[l])  # dL/dh = W^T dz, with W before its update
            if decay != 1.0:
                Ws[l] *= decay
            if ger is not None:
                ger(neg_lr, a_in, dz, a=WTs[l], overwrite_a=1)
                axpy(dz, bs[l], a=neg_lr)
            else:
                np.multiply.outer(dz, a_in, out=outer[l])
                outer[l] *= neg_lr
                Ws[l] += outer[l]
                np.multiply(dz, neg_lr, out=db[:len(dz)])
                bs[l] += db[:len(dz)]
            if l > 0:
                dh = dhs[l]
                if kinds[l - 1] == _RELU:
                    np.multiply(dh, masks[l - 1], out=dh)  # dz = dh * u(z), u(0) = 0
                else:
                    acts[l - 1].backward(dh, out=dh)
                dz = dh
    return loss_sum, int(correct)
