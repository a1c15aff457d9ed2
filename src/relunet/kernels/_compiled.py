"""The Numba-compiled loops behind relunet.kernels (imported only when a kernel is first needed).

Every network, whatever its depth, arrives as ONE flat parameter buffer P = [W1, b1, W2, b2, ...] (each W
row-major (out, in)), with `sizes` (L + 1 widths), `woff`/`boff` (where each W and b starts) and `uoff`
(where each layer's units start in the buffers of z, h and dL/dz). One compiled signature per dtype then
serves every depth and width: nothing is recompiled when the network changes. Three kernels:

    train          per-sample training (batch size 1), token by token, plain SGD fused into backward
    train_batched  mini-batches, each batch's passes as matrix products (BLAS or compiled loops)
    forward        class probabilities / outputs, in blocks of rows

The maths is the reference's (relunet.engine), token by token:

    z_l = W_l a_l + b_l,  h_l = g(z_l) (hidden layers),
    f = softmax(z_L) (cross-entropy), z_L (squared error), sigmoid(z_L) per output (logistic), exp(z_L) (Poisson)
    dz_L = (f - t) * s_n     s_n = 1 / batch_len, or w_n / sum of the batch's w (sample weights; batch_len
                             is then that sum, and a batch of zero weights gives a zero gradient)
    dh_{l-1} = W_l^T dz_l  (W before its update),  dz_{l-1} = dh_{l-1} * g'(z_{l-1})   (ReLU'(0) = 0)
    dW_l += dz_l a_l^T,  db_l += dz_l;  L2: dW += wd W (decay_scaling "batch": wd W / batch_len), never on b

then one optimizer step per batch (SGD; momentum and Nesterov in PyTorch's form; Adam, PyTorch's or
scikit-learn's placement of eps). With batch size 1 and plain SGD the update is fused into the backward
pass (no gradient buffer), the lecture's per-sample SGD.

fastmath: only "reassoc", "contract" and "nsz", so that sums may be reordered and fused into FMAs as BLAS
does (results agree with the reference to rounding); NaN and infinities still propagate, which is how
the Trainer sees a divergence.

nogil: every kernel releases the GIL while it runs, so that a program training in a thread (the playground
trains in one) keeps its event loop and its other threads going meanwhile.
"""

import importlib.util
import math

import numpy as np
from numba import njit

HAVE_SCIPY = importlib.util.find_spec("scipy") is not None

FASTMATH = {"reassoc", "contract", "nsz"}

RELU, LEAKY_RELU, TANH, SIGMOID, IDENTITY = 0, 1, 2, 3, 4
CROSS_ENTROPY, MSE, LOGISTIC, POISSON = 0, 1, 2, 3
SGD, MOMENTUM, NESTEROV, ADAM = 0, 1, 2, 3
EPS_PYTORCH, EPS_SKLEARN = 0, 1
#: rows per block of the forward kernel: a block of hidden activations stays in cache
ROWS = 512
#: layers with at most this many inputs or outputs: the forward kernel's loops, not a BLAS call
THIN = 4
#: indices as unsigned integers: Numba then skips the negative-index fix-up (which stops vectorisation)
U = np.uintp


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def _update(P, G, S1, S2, k0, k1, wd, opt, lr, mu, step, c, eps, b1, b2):
    """One optimizer step on P[k0:k1] with gradient G[k0:k1] + wd P (wd = 0 for biases).

    Adam: P -= step * m / (c sqrt(v) + eps), where step and c hold the bias corrections."""
    if opt == SGD:
        for k in range(k0, k1):
            P[k] -= lr * (G[k] + wd * P[k])
    elif opt == MOMENTUM:
        for k in range(k0, k1):
            v = mu * S1[k] + (G[k] + wd * P[k])
            S1[k] = v
            P[k] -= lr * v
    elif opt == NESTEROV:
        for k in range(k0, k1):
            g = G[k] + wd * P[k]
            v = mu * S1[k] + g
            S1[k] = v
            P[k] -= lr * (g + mu * v)
    else:
        for k in range(k0, k1):
            g = G[k] + wd * P[k]
            m = b1 * S1[k] + (1.0 - b1) * g
            v = b2 * S2[k] + (1.0 - b2) * (g * g)
            S1[k] = m
            S2[k] = v
            P[k] -= step * m / (c * math.sqrt(v) + eps)


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def _squares(P, woff, boff):
    """sum |W|^2 over every layer's weights: decay_scaling "batch" adds 0.5 wd times this (scikit-learn's L2
    term, 0.5 wd |W|^2 / batch_len per token) to loss_sum, before each update, for batches of weight > 0."""
    s = 0.0
    for l in range(woff.shape[0]):
        for k in range(woff[l], boff[l]):
            s += P[k] * P[k]
    return s


@njit(inline="always", nogil=True, fastmath=FASTMATH, error_model="numpy")
def _g(kind, slope, one, half, z):
    """h = g(z) for one unit (one, half: 1 and 0.5 in the parameters' dtype)."""
    if kind == RELU:
        return z if z > 0 else z - z  # 0, and NaN stays NaN
    if kind == LEAKY_RELU:
        return z if z > 0 else z * slope
    if kind == TANH:
        return math.tanh(z)
    if kind == SIGMOID:
        return half * (one + math.tanh(half * z))
    return z


@njit(inline="always", nogil=True, fastmath=FASTMATH, error_model="numpy")
def _dg(kind, slope, one, d, z, h):
    """d * g'(z) for one unit (ReLU'(0) = 0; leaky ReLU'(0) = slope)."""
    if kind == RELU:
        return d if z > 0 else d - d
    if kind == LEAKY_RELU:
        return d if z > 0 else d * slope
    if kind == TANH:
        return d * (one - h * h)
    if kind == SIGMOID:
        return d * (h * (one - h))
    return d


@njit(inline="always", nogil=True, fastmath=FASTMATH, error_model="numpy")
def _sigmoid(one, z):
    """1 / (1 + e^-z) as the reference's Logistic.output: e^z / (1 + e^z) below 0, so that it never overflows
    and a tiny probability keeps its digits."""
    e = math.exp(-abs(z))
    return (one if z >= 0 else e) / (one + e), e


@njit(inline="always", nogil=True, fastmath=FASTMATH, error_model="numpy")
def _per_output_loss(loss, Z, D, o, K, y, tv, tok, scale, one, zero):
    """One token's logistic or Poisson loss, the losses with one output function per output k:
    returns (l, correct) and sets D[o + k] = scale (f_k - t_k) for z = Z[o:o + K].

    logistic: f = sigmoid(z), l = sum_k softplus(z_k) - t_k z_k, softplus(z) = max(z, 0) + log1p(e^-|z|) (NumPy's
    logaddexp(0, z)); correct when every output is on its target's side of 0 or, for class-index targets (y >= 0,
    t the one-hot of y), when argmax z = y.  Poisson: f = exp(z), l = sum_k t log t - t z - t + f; never correct.
    t = tv[tok] when y < 0."""
    value = 0.0
    right = 1
    best = 0
    for k in range(K):
        z = Z[U(o + k)]
        t = tv[tok, k] if y < 0 else (one if k == y else zero)
        if loss == LOGISTIC:
            f, e = _sigmoid(one, z)
            value += (z if z > 0 else zero) + math.log1p(e) - t * z
            if (z > 0) != (t > 0.5):
                right = 0
        else:
            f = math.exp(z)
            value += (t * math.log(t) if t > 0 else zero) - t * z - t + f
        if z > Z[U(o + best)]:
            best = k
        D[U(o + k)] = (f - t) * scale
    if loss == POISSON:
        return value, 0
    if y >= 0:
        return value, 1 if best == y else 0
    return value, right


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def train(P, S1, S2, sizes, woff, boff, uoff, acts, slopes, X, ti, tv, order, sw, fp, ip, parts):
    """Per-sample training (batch size 1) over the tokens X[order]; returns (loss sum, correct, updates, t).
    parts: (updates, 2) float64, filled with each batch's (data-loss sum, L2 term), the two parts of loss_sum.

    fp (float64): lr, momentum, beta1, beta2, eps, weight_decay. ip (int64): loss, optimizer, eps_style,
    decay_scaling (1 = "batch"), Adam's step count t before this call, 1 if sw holds sample weights, 1 if the
    targets are class indices ti (cross-entropy; one-hot logistic), else tv.
    ti: (N,) class indices; tv: (N, K) targets (squared error, Poisson, binary and multi-label logistic).
    P, S1, S2 are updated in place. slopes: in P's dtype. Everything is indexed in flat buffers (no array views
    in the loop: each view costs reference counting), and plain SGD is fused into the backward pass.
    """
    loss, opt, eps_style, decay_batch, t, weighted = ip[0], ip[1], ip[2], ip[3], ip[4], ip[5]
    indices = ip[6]
    L = sizes.shape[0] - 1
    dt = P.dtype
    # the settings in the parameters' dtype, so that float32 arithmetic stays float32 (and vectorises)
    cs = np.empty(10, dt)
    cs[:6] = fp[:6]
    lr, mu, b1, b2, eps, wd = cs[0], cs[1], cs[2], cs[3], cs[4], cs[5]
    cs[6] = 1.0
    cs[7] = 0.5
    cs[8] = 0.0
    cs[9] = fp[0] * fp[5]
    one, half, zero, lr_wd0 = cs[6], cs[7], cs[8], cs[9]
    n0 = sizes[0]
    units = uoff[L]
    A = np.empty(n0 + units, dt)  # the token x, then h of each hidden layer (layer l's h at n0 + uoff[l])
    Z = np.empty(units, dt)
    D = np.empty(units, dt)
    fused = opt == SGD
    G = np.zeros(0 if fused else P.shape[0], dt)
    K = sizes[L]
    oo = uoff[L - 1]
    loss_sum = 0.0
    correct = 0
    for q in range(order.shape[0]):
        r = order[q]
        w = sw[r] if weighted else 1.0
        for j in range(n0):
            A[U(j)] = X[r, j]
        # ---- forward: z = W a + b, h = g(z)
        for l in range(L):
            n_in, n_out, wo, bo, uo = sizes[l], sizes[l + 1], woff[l], boff[l], uoff[l]
            ai = 0 if l == 0 else n0 + uoff[l - 1]
            hidden = l < L - 1
            kind = acts[l] if hidden else IDENTITY
            slope = slopes[l] if hidden else zero
            for i in range(n_out):
                s = P[U(bo + i)]
                rw = wo + i * n_in
                for j in range(n_in):
                    s += P[U(rw + j)] * A[U(ai + j)]
                Z[U(uo + i)] = s
                if hidden:
                    A[U(n0 + uo + i)] = _g(kind, slope, one, half, s)
        # ---- the loss and dL/dz at the output, into D
        if loss == CROSS_ENTROPY:
            y = ti[r]
            m = Z[U(oo)]
            best = 0
            for k in range(1, K):
                if Z[U(oo + k)] > m:
                    m = Z[U(oo + k)]
                    best = k
            tot = 0.0
            for k in range(K):
                e = math.exp(Z[U(oo + k)] - m)
                D[U(oo + k)] = e
                tot += e
            value = math.log(tot) + m - Z[U(oo + y)]
            inv = 1.0 / tot
            for k in range(K):
                D[U(oo + k)] *= inv
            D[U(oo + y)] -= one
            if best == y:
                correct += 1
        elif loss == MSE:
            value = 0.0
            for k in range(K):
                d = Z[U(oo + k)] - tv[r, k]
                value += d * d
                D[U(oo + k)] = d
            value *= 0.5
        else:
            value, ok = _per_output_loss(loss, Z, D, oo, K, ti[r] if indices else -1, tv, r, one, one, zero)
            correct += ok
        if weighted:
            value *= w
            if not w > 0.0:  # a token of weight 0 teaches nothing
                for k in range(K):
                    D[U(oo + k)] = zero
        loss_sum += value
        parts[q, 0] = value
        parts[q, 1] = 0.0
        if decay_batch and fp[5] != 0.0 and w > 0.0:
            parts[q, 1] = 0.5 * fp[5] * _squares(P, woff, boff)
            loss_sum += parts[q, 1]
        lr_wd = lr_wd0
        if decay_batch and weighted and w > 0.0:  # decay / batch_len, and batch_len is the token's weight
            cs[9] = fp[0] * fp[5] / w
            lr_wd = cs[9]
        # ---- backward, from the top layer down
        for l in range(L - 1, -1, -1):
            n_in, n_out, wo, bo, uo = sizes[l], sizes[l + 1], woff[l], boff[l], uoff[l]
            ai = 0 if l == 0 else n0 + uoff[l - 1]
            if l > 0:  # dh = W^T dz with W before its update, into the layer below's D
                up = uoff[l - 1]
                for j in range(n_in):
                    D[U(up + j)] = zero
                for i in range(n_out):
                    di = D[U(uo + i)]
                    rw = wo + i * n_in
                    for j in range(n_in):
                        D[U(up + j)] += P[U(rw + j)] * di
            if fused:  # W <- W - lr (dz a^T + wd W), b <- b - lr dz
                for i in range(n_out):
                    gi = lr * D[U(uo + i)]
                    rw = wo + i * n_in
                    if lr_wd != zero:
                        for j in range(n_in):
                            P[U(rw + j)] -= gi * A[U(ai + j)] + lr_wd * P[U(rw + j)]
                    else:
                        for j in range(n_in):
                            P[U(rw + j)] -= gi * A[U(ai + j)]
                    P[U(bo + i)] -= gi
            else:  # dW = dz a^T, db = dz
                for i in range(n_out):
                    di = D[U(uo + i)]
                    rw = wo + i * n_in
                    for j in range(n_in):
                        G[U(rw + j)] = di * A[U(ai + j)]
                    G[U(bo + i)] = di
            if l > 0:  # dz of the layer below = dh * g'(z)
                up = uoff[l - 1]
                kind = acts[l - 1]
                slope = slopes[l - 1]
                for j in range(n_in):
                    D[U(up + j)] = _dg(kind, slope, one, D[U(up + j)], Z[U(up + j)], A[U(n0 + up + j)])
        if fused:
            continue
        t += 1
        cs[6] = fp[0]
        cs[7] = 1.0
        if opt == ADAM:
            bc1 = 1.0 - fp[2] ** t
            bc2 = 1.0 - fp[3] ** t
            if eps_style == EPS_PYTORCH:  # lr m_hat / (sqrt(v_hat) + eps)
                cs[6] = fp[0] / bc1
                cs[7] = 1.0 / math.sqrt(bc2)
            else:  # scikit-learn: lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
                cs[6] = fp[0] * math.sqrt(bc2) / bc1
        step, c = cs[6], cs[7]
        if decay_batch and weighted and w > 0.0:
            cs[6] = fp[5] / w
        else:
            cs[6] = fp[5]
        wd_eff = cs[6]
        for l in range(L):
            wo, bo = woff[l], boff[l]
            _update(P, G, S1, S2, wo, bo, wd_eff, opt, lr, mu, step, c, eps, b1, b2)
            _update(P, G, S1, S2, bo, bo + sizes[l + 1], zero, opt, lr, mu, step, c, eps, b1, b2)
    return loss_sum, correct, order.shape[0], t


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def _activate(Z, o, m, kind, slope, one, half):
    """Z[o:o + m] <- g(Z[o:o + m]), the branch on the kind taken once, so that the ReLU family's loop vectorises.
    A function of its own (called once per block and layer), not inlined: that halved the forward kernel's
    compile time (about 6 s to 3 s here)."""
    if kind == RELU:
        for k in range(o, o + m):
            v = Z[U(k)]
            Z[U(k)] = v if v > 0 else v - v
    elif kind == LEAKY_RELU:
        for k in range(o, o + m):
            v = Z[U(k)]
            Z[U(k)] = v if v > 0 else v * slope
    elif kind != IDENTITY:
        for k in range(o, o + m):
            Z[U(k)] = _g(kind, slope, one, half, Z[U(k)])


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def forward(use_blas, P, sizes, woff, boff, acts, slopes, X, loss, out):
    """out (N, K) <- f: softmax(z_L) (cross-entropy), z_L (squared error; loss MSE gives z_L for any model),
    sigmoid(z_L) (logistic) or exp(z_L) (Poisson).

    Rows go through in blocks of ROWS, layer by layer, each block's z and h in flat row-major buffers (no array
    views per row): a layer with many inputs and outputs as one product z = A W^T (use_blas as in
    train_batched) then bias; a layer with at most THIN inputs or outputs (the 2 inputs of the plane, the few
    classes) by loops along the row, bias included, where a BLAS call would cost more than its few
    multiply-adds; then the activation over the block while it is in cache."""
    L = sizes.shape[0] - 1
    dt = P.dtype
    N = X.shape[0]
    width = 0
    for l in range(1, L + 1):
        width = max(width, sizes[l])
    rows = min(ROWS, max(N, 1))
    cs = np.empty(2, dt)
    cs[0] = 1.0
    cs[1] = 0.5
    one, half = cs[0], cs[1]
    za = np.empty(rows * width, dt)
    zb = np.empty(rows * width, dt)
    T = np.empty(P.shape[0], dt)  # W^T of the layers with few inputs: z = b + sum_j x_j W[:, j] runs along T's rows
    for l in range(L):
        n_i, n_o, wo = sizes[l], sizes[l + 1], woff[l]
        if n_i <= THIN:
            for i in range(n_o):
                for j in range(n_i):
                    T[U(wo + j * n_o + i)] = P[U(wo + i * n_i + j)]
    K = sizes[L]
    for r0 in range(0, N, rows):
        n = min(rows, N - r0)
        for l in range(L):
            n_i, n_o, wo, bo = sizes[l], sizes[l + 1], woff[l], boff[l]
            Z = za if l % 2 == 0 else zb  # this layer's z, (n, n_o) row-major
            H = zb if l % 2 == 0 else za  # the layer below's h, (n, n_i) row-major (for l > 0; X for l = 0)
            hidden = l < L - 1
            kind, slope = (acts[l], slopes[l]) if hidden else (IDENTITY, slopes[0])
            if n_i <= THIN:  # few inputs: z = b + sum_j x_j W[:, j]
                for r in range(n):
                    o = r * n_o
                    for i in range(n_o):
                        Z[U(o + i)] = P[U(bo + i)]
                    for j in range(n_i):
                        x = X[r0 + r, j] if l == 0 else H[U(r * n_i + j)]
                        t = wo + j * n_o
                        for i in range(n_o):
                            Z[U(o + i)] += x * T[U(t + i)]
            elif n_o <= THIN:  # few outputs: one dot product each
                for r in range(n):
                    o = r * n_o
                    for i in range(n_o):
                        s = P[U(bo + i)]
                        rw = wo + i * n_i
                        if l == 0:
                            for j in range(n_i):
                                s += X[r0 + r, j] * P[U(rw + j)]
                        else:
                            a = r * n_i
                            for j in range(n_i):
                                s += H[U(a + j)] * P[U(rw + j)]
                        Z[U(o + i)] = s
            else:  # one product for the block
                A = X[r0:r0 + n] if l == 0 else H[:n * n_i].reshape(n, n_i)
                mm_nt(use_blas, A, P[wo:wo + n_o * n_i].reshape(n_o, n_i), Z[:n * n_o].reshape(n, n_o))
                for r in range(n):
                    o = r * n_o
                    for i in range(n_o):
                        Z[U(o + i)] += P[U(bo + i)]
            _activate(Z, 0, n * n_o, kind, slope, one, half)  # over the block while it is in cache
        Z = za if (L - 1) % 2 == 0 else zb
        for r in range(n):
            o = r * K
            q = r0 + r
            if loss == CROSS_ENTROPY:
                m = Z[U(o)]
                for k in range(1, K):
                    m = max(m, Z[U(o + k)])
                s = 0.0
                for k in range(K):
                    e = math.exp(Z[U(o + k)] - m)
                    out[q, k] = e
                    s += e
                inv = 1.0 / s
                for k in range(K):
                    out[q, k] *= inv
            elif loss == LOGISTIC:
                for k in range(K):
                    out[q, k] = _sigmoid(one, Z[U(o + k)])[0]
            elif loss == POISSON:
                for k in range(K):
                    out[q, k] = math.exp(Z[U(o + k)])
            else:
                for k in range(K):
                    out[q, k] = Z[U(o + k)]


# ----------------------------------------------------------------------------- mini-batches as matrices
# The three products of a batch, written twice: loops (always available) and BLAS through np.dot (which
# Numba routes to SciPy's BLAS, so only when SciPy is installed). A run-time flag picks one: one compiled
# (and cached) train_batched serves both, and a cache made with SciPy still runs after SciPy is removed.

@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def mm_nt_loops(A, W, Z):
    """Z (n, out) = A (n, in) W^T, W (out, in)."""
    for r in range(A.shape[0]):
        for i in range(W.shape[0]):
            s = Z.dtype.type(0.0)
            for j in range(W.shape[1]):
                s += A[r, j] * W[i, j]
            Z[r, i] = s


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def mm_tn_loops(D, A, G):
    """G (out, in) = D^T A, D (n, out), A (n, in)."""
    G[:, :] = 0.0
    for r in range(D.shape[0]):
        for i in range(D.shape[1]):
            d = D[r, i]
            for j in range(A.shape[1]):
                G[i, j] += d * A[r, j]


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def mm_nn_loops(D, W, E):
    """E (n, in) = D (n, out) W (out, in)."""
    E[:, :] = 0.0
    for r in range(D.shape[0]):
        for i in range(D.shape[1]):
            d = D[r, i]
            for j in range(W.shape[1]):
                E[r, j] += d * W[i, j]


if HAVE_SCIPY:
    @njit(cache=True, nogil=True, error_model="numpy")
    def mm_nt_blas(A, W, Z):
        np.dot(A, W.T, Z)

    @njit(cache=True, nogil=True, error_model="numpy")
    def mm_tn_blas(D, A, G):
        np.dot(D.T, A, G)

    @njit(cache=True, nogil=True, error_model="numpy")
    def mm_nn_blas(D, W, E):
        np.dot(D, W, E)
else:  # np.dot cannot even be compiled without SciPy; use_blas is then always False
    mm_nt_blas, mm_tn_blas, mm_nn_blas = mm_nt_loops, mm_tn_loops, mm_nn_loops


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def mm_nt(use_blas, A, W, Z):
    if use_blas:
        mm_nt_blas(A, W, Z)
    else:
        mm_nt_loops(A, W, Z)


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def mm_tn(use_blas, D, A, G):
    if use_blas:
        mm_tn_blas(D, A, G)
    else:
        mm_tn_loops(D, A, G)


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def mm_nn(use_blas, D, W, E):
    if use_blas:
        mm_nn_blas(D, W, E)
    else:
        mm_nn_loops(D, W, E)


@njit(cache=True, nogil=True, fastmath=FASTMATH, error_model="numpy")
def train_batched(use_blas, P, S1, S2, sizes, woff, boff, uoff, acts, slopes, X, ti, tv, order, batch, sw, fp, ip,
                  parts):
    """train() for batches of more than one token: each batch's forward and backward pass as matrix
    products (z = A W^T + b, dW = dZ^T A, dH = dZ W), then one optimizer step. Same arguments and result;
    use_blas picks BLAS (only when SciPy is installed) or the compiled loops for the products."""
    loss, opt, eps_style, decay_batch, t, weighted = ip[0], ip[1], ip[2], ip[3], ip[4], ip[5]
    indices = ip[6]
    L = sizes.shape[0] - 1
    dt = P.dtype
    cs = np.empty(10, dt)
    cs[:6] = fp[:6]
    lr, mu, b1, b2, eps, wd = cs[0], cs[1], cs[2], cs[3], cs[4], cs[5]
    cs[8] = 1.0
    cs[9] = 0.5
    one, half = cs[8], cs[9]
    zero = one - one
    units = uoff[L]
    B = min(batch, max(order.shape[0], 1))
    n_in0 = sizes[0]
    Xb = np.empty(B * n_in0, dt)
    Zb = np.empty(B * units, dt)
    Hb = np.empty(B * units, dt)
    Db = np.empty(B * units, dt)
    G = np.zeros(P.shape[0], dt)
    K = sizes[L]
    n_tok = order.shape[0]
    loss_sum = 0.0
    correct = 0
    updates = 0
    for s0 in range(0, n_tok, batch):
        s1 = min(s0 + batch, n_tok)
        n = s1 - s0
        wsum = 0.0
        if weighted:
            for q in range(s0, s1):
                wsum += sw[order[q]]
        A0 = Xb[:n * n_in0].reshape(n, n_in0)
        for q in range(n):  # gather the batch (contiguous rows for the products)
            row = order[s0 + q]
            for j in range(n_in0):
                A0[q, j] = X[row, j]
        A = A0
        for l in range(L):
            n_i, n_o, wo, bo, uo = sizes[l], sizes[l + 1], woff[l], boff[l], uoff[l]
            W = P[wo:wo + n_o * n_i].reshape(n_o, n_i)
            Z = Zb[n * uo:n * (uo + n_o)].reshape(n, n_o)
            mm_nt(use_blas, A, W, Z)
            for r in range(n):
                for i in range(n_o):
                    Z[r, i] += P[bo + i]
            if l < L - 1:
                H = Hb[n * uo:n * (uo + n_o)].reshape(n, n_o)
                kind, slope = acts[l], slopes[l]
                for r in range(n):  # element by element: a row view per token would cost reference counting
                    for i in range(n_o):
                        H[r, i] = _g(kind, slope, one, half, Z[r, i])
                A = H
        uo = uoff[L - 1]
        Z = Zb[n * uo:n * (uo + K)].reshape(n, K)
        D = Db[n * uo:n * (uo + K)].reshape(n, K)
        batch_loss = 0.0
        for r in range(n):
            tok = order[s0 + r]
            if weighted:
                scale = sw[tok] / wsum if wsum > 0.0 else 0.0
            else:
                scale = 1.0 / n
            if loss == CROSS_ENTROPY:
                y = ti[tok]
                m = Z[r, 0]
                best = 0
                for k in range(1, K):
                    if Z[r, k] > m:
                        m = Z[r, k]
                        best = k
                tot = 0.0
                for k in range(K):
                    e = math.exp(Z[r, k] - m)
                    D[r, k] = e
                    tot += e
                value = math.log(tot) + m - Z[r, y]
                inv = scale / tot
                for k in range(K):
                    D[r, k] *= inv
                D[r, y] -= scale
                ok = 1 if best == y else 0
            elif loss == MSE:
                value = 0.0
                for k in range(K):
                    d = Z[r, k] - tv[tok, k]
                    value += d * d
                    D[r, k] = d * scale
                value *= 0.5
                ok = 0
            else:  # rows of Z and D are K apart in the flat buffers
                value, ok = _per_output_loss(loss, Zb, Db, n * uo + r * K, K, ti[tok] if indices else -1, tv, tok,
                                             scale, one, zero)
            if weighted:
                if wsum > 0.0:
                    batch_loss += value * sw[tok]
            else:
                batch_loss += value
            correct += ok
        loss_sum += batch_loss
        parts[updates, 0] = batch_loss
        parts[updates, 1] = 0.0
        if decay_batch and fp[5] != 0.0 and (wsum > 0.0 or not weighted):
            parts[updates, 1] = 0.5 * fp[5] * _squares(P, woff, boff)
            loss_sum += parts[updates, 1]
        for l in range(L - 1, -1, -1):
            n_i, n_o, wo, bo, uo = sizes[l], sizes[l + 1], woff[l], boff[l], uoff[l]
            D = Db[n * uo:n * (uo + n_o)].reshape(n, n_o)
            if l > 0:
                up = uoff[l - 1]
                A = Hb[n * up:n * (up + n_i)].reshape(n, n_i)
            else:
                A = A0
            mm_tn(use_blas, D, A, G[wo:wo + n_o * n_i].reshape(n_o, n_i))
            for i in range(n_o):
                G[bo + i] = 0.0
            for r in range(n):
                for i in range(n_o):
                    G[bo + i] += D[r, i]
            if l > 0:  # dH = dZ W (W before its update), then dZ of the layer below = dH * g'(z)
                up = uoff[l - 1]
                E = Db[n * up:n * (up + n_i)].reshape(n, n_i)
                mm_nn(use_blas, D, P[wo:wo + n_o * n_i].reshape(n_o, n_i), E)
                Zl = Zb[n * up:n * (up + n_i)].reshape(n, n_i)
                Hl = Hb[n * up:n * (up + n_i)].reshape(n, n_i)
                kind, slope = acts[l - 1], slopes[l - 1]
                for r in range(n):
                    for j in range(n_i):
                        E[r, j] = _dg(kind, slope, one, E[r, j], Zl[r, j], Hl[r, j])
        updates += 1
        t += 1
        cs[6] = fp[0]
        cs[7] = 1.0
        if opt == ADAM:
            bc1 = 1.0 - fp[2] ** t
            bc2 = 1.0 - fp[3] ** t
            if eps_style == EPS_PYTORCH:
                cs[6] = fp[0] / bc1
                cs[7] = 1.0 / math.sqrt(bc2)
            else:
                cs[6] = fp[0] * math.sqrt(bc2) / bc1
        step, c = cs[6], cs[7]
        bl = wsum if weighted else n
        if decay_batch and bl > 0.0:
            cs[6] = fp[5] / bl
        else:
            cs[6] = fp[5]
        wd_eff = cs[6]
        for l in range(L):
            wo, bo = woff[l], boff[l]
            _update(P, G, S1, S2, wo, bo, wd_eff, opt, lr, mu, step, c, eps, b1, b2)
            _update(P, G, S1, S2, bo, bo + sizes[l + 1], zero, opt, lr, mu, step, c, eps, b1, b2)
    return loss_sum, correct, updates, t
