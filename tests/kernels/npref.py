"""A plain NumPy statement of the maths the kernels must compute (batch matrices, no tricks): the stand-in
reference used where the engine's own Trainer(backend="reference") is not available."""

import numpy as np


def act(name, slope, z):
    if name == "relu":
        return np.maximum(z, 0), (z > 0).astype(z.dtype)
    if name == "leaky_relu":
        return np.where(z > 0, z, slope * z), np.where(z > 0, 1.0, slope).astype(z.dtype)
    if name == "tanh":
        h = np.tanh(z)
        return h, 1 - h * h
    if name == "sigmoid":
        h = 0.5 * (1 + np.tanh(0.5 * z))
        return h, h * (1 - h)
    return z.copy(), np.ones_like(z)


def loss_grad(loss, z, t, w=None):
    n = len(z)
    w = np.ones(n) if w is None else w
    if loss == "cross_entropy":
        m = z.max(axis=1, keepdims=True)
        e = np.exp(z - m)
        s = e.sum(axis=1, keepdims=True)
        lt = (np.log(s) + m)[:, 0] - z[np.arange(n), t]
        d = e / s
        d[np.arange(n), t] -= 1
        correct = int(np.count_nonzero(z.argmax(axis=1) == t))
    elif loss == "mse":
        r = z - t
        lt = 0.5 * (r * r).sum(axis=1)
        d = r
        correct = 0
    elif loss == "logistic":  # -t log f - (1 - t) log(1 - f) per output, f = sigmoid(z)
        onehot = t.ndim == 1
        t = np.eye(z.shape[1])[t] if onehot else t
        f = 1 / (1 + np.exp(-z))
        lt = (np.logaddexp(0, z) - t * z).sum(axis=1)
        d = f - t
        right = z.argmax(axis=1) == t.argmax(axis=1) if onehot else ((z > 0) == (t == 1)).all(axis=1)
        correct = int(np.count_nonzero(right))
    else:  # Poisson, half the deviance: t log(t / f) - t + f, f = exp(z)
        f = np.exp(z)
        lt = (np.where(t > 0, t * np.log(np.maximum(t, 1e-300)), 0) - t * z - t + f).sum(axis=1)
        d = f - t
        correct = 0
    if w.sum() == 0:
        return 0.0, np.zeros_like(d), correct
    L = float((w * lt).sum() / w.sum())
    return L, d * (w / w.sum())[:, None].astype(z.dtype), correct


def train(config, params, state, X, T, order, B, lr, sample_weight=None, batches=None):
    L = len(params) // 2
    batches = np.zeros((-(-len(order) // B), 2)) if batches is None else batches
    loss_sum, correct, updates = 0.0, 0, 0
    c = config
    for s in range(0, len(order), B):
        idx = order[s:s + B]
        x = X[idx]
        hs, ds = [x], []
        for l in range(L):
            z = hs[-1] @ params[2 * l].T + params[2 * l + 1]
            if l < L - 1:
                h, d = act(*c.activations[l], z)
                hs.append(h)
                ds.append(d)
        w = None if sample_weight is None else sample_weight[idx]
        Lb, dz, ok = loss_grad(c.loss, z, T[idx], w)
        batch_len = len(idx) if w is None else float(w.sum())  # the engine's batch length
        penalty = 0.0
        if c.decay_scaling == "batch" and batch_len > 0:  # scikit-learn's L2 term, 0.5 wd |W|^2 / batch_len a token
            penalty = 0.5 * c.weight_decay * sum(float((W * W).sum()) for W in params[0::2])
        batches[s // B] = Lb * batch_len, penalty
        loss_sum += Lb * batch_len + penalty
        correct += ok
        grads = [None] * (2 * L)
        for l in range(L - 1, -1, -1):
            grads[2 * l] = dz.T @ hs[l]
            grads[2 * l + 1] = dz.sum(axis=0)
            if l:
                dz = (dz @ params[2 * l]) * ds[l - 1]
        wd = c.weight_decay / batch_len if c.decay_scaling == "batch" and batch_len > 0 else c.weight_decay
        for i in range(0, 2 * L, 2):
            grads[i] = grads[i] + wd * params[i]
        step(c, params, grads, state, lr)
        updates += 1
    return loss_sum, correct, updates


def step(c, params, grads, state, lr):
    if c.optimizer == "sgd":
        for p, g in zip(params, grads):
            p -= lr * g
    elif c.optimizer in ("momentum", "nesterov"):
        vs = state.setdefault("velocity", [np.zeros_like(p) for p in params])
        for p, g, v in zip(params, grads, vs):
            v *= c.momentum
            v += g
            p -= lr * (g + c.momentum * v if c.optimizer == "nesterov" else v)
    else:
        ms = state.setdefault("m", [np.zeros_like(p) for p in params])
        vs = state.setdefault("v", [np.zeros_like(p) for p in params])
        state["t"] = t = state.get("t", 0) + 1
        b1, b2 = c.beta1, c.beta2
        for p, g, m, v in zip(params, grads, ms, vs):
            m[...] = b1 * m + (1 - b1) * g
            v[...] = b2 * v + (1 - b2) * g * g
            if c.eps_style == "pytorch":
                p -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + c.eps)
            else:
                p -= lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + c.eps)


def forward(config, params, X):
    L = len(params) // 2
    a = X
    for l in range(L):
        a = a @ params[2 * l].T + params[2 * l + 1]
        if l < L - 1:
            a = act(*config.activations[l], a)[0]
    if config.loss == "cross_entropy":
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    if config.loss == "logistic":
        return 1 / (1 + np.exp(-a))
    if config.loss == "poisson":
        return np.exp(a)
    return a
