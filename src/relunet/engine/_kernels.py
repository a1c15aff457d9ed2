"""The lecture's per-sample SGD, fused: forward, loss, back-propagation and update for one token at a time.

For batch size 1 a framework's per-step overhead dwarfs the arithmetic (a 2-64-3 step is ~400 flops), so
this loop does exactly the calls the maths needs, into buffers allocated once per call:

    z1 = W1 x + b1,  h = g(z1),  z2 = W2 h + b2,  f = softmax(z2)
    dz2 = f - 1[y=k]            (cross-entropy; z2 - y for squared error)
    dh = W2^T dz2               (with the old W2, before it is updated)
    W2 <- W2 - lr dz2 h^T,  b2 <- b2 - lr dz2     (one in-place rank-1 update, BLAS ?ger)
    dz1 = dh * g'(z1),  W1 <- W1 - lr dz1 x^T, ...

Why it is fast: the loop works on augmented copies [W | b] of shape (out, in + 1) and on vectors [a, 1] with
a 1 appended, so one ?gemv gives W a + b and one ?ger updates W and b together (b's column is updated by
-lr dz * 1); tokens are gathered a block at a time into a contiguous [X | 1] buffer; softmax over a handful of
classes runs on a Python list, which is cheaper than five NumPy calls. The copies are written back into the
model's W and b when the call ends. Per step nothing is allocated but the few Python floats of the softmax.

It computes the same numbers as Model.forward + Model.backward + SGD.step on a batch of one, up to rounding
(the tests check that to 1e-12 over many steps); it exists only because it is several times faster. L2 weight
decay multiplies W by (1 - lr * weight_decay) before the rank-1 update, which is W - lr (dW + weight_decay W).
"""

import math

import numpy as np

try:  # in-place rank-1 updates from the BLAS that SciPy links
    from scipy.linalg import blas as _blas
except ImportError:  # pragma: no cover - exercised only where SciPy is absent
    _blas = None

#: tokens gathered per block: bounds the memory of the gathered copy whatever the epoch's size
BLOCK = 512
#: up to this many classes the softmax runs on a Python list (fewer calls); above it in NumPy
LIST_SOFTMAX = 16


def _ger(dtype):
    if _blas is None:
        return None
    return _blas.dger if dtype == np.float64 else _blas.sger


def sgd_per_sample(model, X, y, order, lr, weight_decay=0.0):
    """Per-sample SGD over the tokens X[order]; returns (sum of losses, number classified correctly).

    X (N, inputs) in the model's dtype; y (N,) class indices (classification) or (N, outputs) targets.
    """
    dtype = model.dtype
    lins = model.linears
    L = len(lins)
    acts = model.activations
    relu = [a.name == "relu" for a in acts]
    ger = _ger(dtype)
    neg_lr = -float(lr)
    decay = 1.0 - float(lr) * float(weight_decay) if weight_decay else 1.0

    # Augmented weights [W | b] (out, in + 1), C-contiguous; their transposes are F-contiguous, as ?ger
    # needs to update in place.
    Wa = [np.empty((lin.out_features, lin.in_features + 1), dtype, order="C") for lin in lins]
    for w, lin in zip(Wa, lins):  # C order whatever the model's layout: w.T must be Fortran-ordered for ?ger
        w[:, :-1] = lin.W
        w[:, -1] = lin.b
    WaT = [w.T for w in Wa]
    Wv = [w[:, :-1] for w in Wa]  # the W part, for weight decay
    # [h, 1] for every hidden layer: the next layer's augmented input; hv is its h part (also reused for dz).
    ha = [np.ones(lin.out_features + 1, dtype) for lin in lins[:-1]]
    hv = [h[:-1] for h in ha]
    zs = [np.empty(lin.out_features, dtype) for lin in lins[:-1]]  # z of hidden layers (other activations)
    masks = [np.empty(lin.out_features, bool) for lin in lins[:-1]]
    dha = [np.empty(lin.in_features + 1, dtype) for lin in lins]  # W^T dz with a spare last entry
    dhv = [d[:-1] for d in dha]
    zout = np.empty(lins[-1].out_features, dtype)
    outer = None if ger is not None else [np.empty_like(w) for w in Wa]
    n_in = X.shape[1]
    block = min(BLOCK, max(len(order), 1))
    Xg = np.empty((block, n_in), dtype)      # gathered tokens
    Xa = np.ones((block, n_in + 1), dtype)   # [x, 1]
    classify = model.task == "classification"
    list_softmax = classify and zout.size <= LIST_SOFTMAX
    exp, log = math.exp, math.log
    loss_sum = 0.0
    correct = 0
    a_in = [None] * L
    # The lecture's network (one ReLU hidden layer, a softmax over a few classes) takes an unrolled loop.
    lecture_net = L == 2 and relu[0] and list_softmax and ger is not None

    try:
        for c0 in range(0, len(order), block):
            idx = order[c0:c0 + block]
            m_blk = len(idx)
            np.take(X, idx, axis=0, out=Xg[:m_blk], mode="clip")  # indices are valid; "clip" avoids a buffered copy
            Xa[:m_blk, :-1] = Xg[:m_blk]
            targets = y[idx].tolist() if classify else y[idx]
            if lecture_net:
                ls, c = _block_one_hidden_relu(Xa[:m_blk], targets, Wa, WaT, Wv, ha[0], hv[0], masks[0], dha[1],
                                               dhv[1], zout, neg_lr, decay, ger)
                loss_sum += ls
                correct += c
                continue
            for j in range(m_blk):
                # ---- forward: z = [W b] [a, 1], h = g(z)
                a = Xa[j]
                for l in range(L - 1):
                    a_in[l] = a
                    if relu[l]:
                        z = hv[l]
                        np.dot(Wa[l], a, out=z)
                        np.greater(z, 0.0, out=masks[l])
                        np.multiply(z, masks[l], out=z)  # h = max(0, z) in place
                    else:
                        z = zs[l]
                        np.dot(Wa[l], a, out=z)
                        acts[l].forward(z, out=hv[l])
                    a = ha[l]
                a_in[L - 1] = a
                np.dot(Wa[L - 1], a, out=zout)
                # ---- loss and dL/dz at the output, written into zout
                yj = targets[j]
                if list_softmax:
                    zl = zout.tolist()
                    m = max(zl)
                    e = [exp(v - m) for v in zl]
                    s = sum(e)
                    zy = zl[yj]
                    loss_sum += log(s) + m - zy
                    correct += zy == m
                    f = [v / s for v in e]  # f = softmax(z)
                    f[yj] -= 1.0            # dz = f - 1[y=k]
                    zout[...] = f
                elif classify:
                    zl = zout.tolist()
                    m = max(zl)
                    zy = zl[yj]
                    np.subtract(zout, m, out=zout)
                    np.exp(zout, out=zout)
                    s = float(zout.sum())
                    np.divide(zout, s, out=zout)
                    loss_sum += log(s) + m - zy
                    correct += zy == m
                    zout[yj] -= 1.0
                else:
                    np.subtract(zout, yj, out=zout)  # dz = z - y
                    loss_sum += 0.5 * float(np.dot(zout, zout))
                # ---- backward with update, from the top layer down
                dz = zout
                for l in range(L - 1, -1, -1):
                    if l:
                        np.dot(dz, Wa[l], out=dha[l])  # dL/dh = W^T dz, with W before its update
                    if decay != 1.0:
                        Wv[l] *= decay
                    if ger is not None:
                        ger(neg_lr, a_in[l], dz, a=WaT[l], overwrite_a=1)
                    else:
                        np.multiply.outer(dz, a_in[l], out=outer[l])
                        outer[l] *= neg_lr
                        Wa[l] += outer[l]
                    if l:
                        # h of layer l-1 is spent: its buffer takes dz = dh * g'(z)
                        if relu[l - 1]:
                            np.multiply(dhv[l], masks[l - 1], out=hv[l - 1])  # u(z), u(0) = 0
                        else:
                            acts[l - 1].backward(dhv[l], out=hv[l - 1])
                        dz = hv[l - 1]
    finally:
        for lin, w in zip(lins, Wa):
            lin.W = w[:, :-1]
            lin.b = w[:, -1]
    return loss_sum, int(correct)


def _block_one_hidden_relu(Xa, targets, Wa, WaT, Wv, ha, hv, mask, dha, dhv, zout, neg_lr, decay, ger):
    """sgd_per_sample's loop unrolled for x -> ReLU -> softmax: the same calls, without the loops over
    layers and their branches. Xa: (B, inputs + 1) tokens [x, 1]; targets: B class indices.

    The softmax on a Python list is written out here and in sgd_per_sample on purpose: a helper call
    would cost about 1.5% of a 2-64-3 step, on the path benchmarked against the hand-written floor."""
    W1, W2 = Wa
    W1T, W2T = WaT
    dot, greater, multiply, exp, log = np.dot, np.greater, np.multiply, math.exp, math.log
    loss_sum = 0.0
    correct = 0
    for x, yj in zip(Xa, targets):
        dot(W1, x, out=hv)
        greater(hv, 0.0, out=mask)
        multiply(hv, mask, out=hv)  # h = max(0, z) in place; ha = [h, 1]
        dot(W2, ha, out=zout)
        zl = zout.tolist()
        m = max(zl)
        e = [exp(v - m) for v in zl]
        s = sum(e)
        zy = zl[yj]
        loss_sum += log(s) + m - zy
        correct += zy == m
        f = [v / s for v in e]
        f[yj] -= 1.0
        zout[...] = f  # dz2 = f - 1[y=k]
        dot(zout, W2, out=dha)  # W2^T dz2 before W2 changes
        if decay != 1.0:
            Wv[1] *= decay
        ger(neg_lr, ha, zout, a=W2T, overwrite_a=1)
        multiply(dhv, mask, out=hv)  # dz1 = dh * u(z1), into h's spent buffer
        if decay != 1.0:
            Wv[0] *= decay
        ger(neg_lr, x, hv, a=W1T, overwrite_a=1)
    return loss_sum, correct
