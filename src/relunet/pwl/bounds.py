"""How many linear regions a network can have: the theoretical maxima, and the exact count of one
hidden layer in a box.

One hidden layer of n ReLUs on a d-dimensional input cuts space by n hyperplanes; an arrangement of n
hyperplanes in general position has sum_{j=0}^{d} C(n, j) regions (Zaslavsky 1975), in the plane
1 + n + n(n-1)/2. Inside a box only what the box sees counts: 1 + (lines crossing the box) +
(their intersections inside the box), as each line adds one region plus one per line it crosses.

For deeper networks: T. Serra, C. Tjandraatmadja and S. Ramalingam, "Bounding and Counting Linear
Regions of Deep Neural Networks", ICML 2018, Theorem 1: a rectifier network with input dimension n_0
and hidden widths n_1..n_L has at most

    sum over (j_1, ..., j_L) in J of  prod_l C(n_l, j_l),
    J = {(j_1..j_L) integers : 0 <= j_l <= min(n_0, n_1 - j_1, ..., n_{l-1} - j_{l-1}, n_l) for all l}

regions (j_l counts the units of layer l that can be "at work" in a region; the n_l - j_l others are
off there and the image's dimension can only shrink). For n_0 = 1 and widths of at least 2 this is
prod_l (n_l + 1), which Serra et al. show is attained (Theorem 5, widths >= 3).
"""

import math

import numpy as np

from .model_pwl import pwl_layers


def one_layer_bound(n, d=2):
    """Regions of n hyperplanes in general position in R^d: sum_{j<=d} C(n, j) (1 + n + n(n-1)/2 in the plane)."""
    return sum(math.comb(n, j) for j in range(d + 1))


def serra_bound(widths, n0=2, kinds=None):
    """Serra, Tjandraatmadja and Ramalingam's (ICML 2018, Theorem 1) bound on the number of regions.

    Args:
        widths: hidden layer widths [n_1, ..., n_L]; n0: input dimension.
        kinds: per layer "relu" (default), "leaky_relu" or "identity". Theorem 1 is for ReLU; a leaky
            ReLU unit never zeroes its row, so after it only the layer's width caps the dimension
            (the bound then becomes Montufar's 2017 product prod_l sum_{j<=d_l} C(n_l, j),
            d_l = min(n_0, ..., n_l)); an identity layer bends nothing and only caps the dimension.
    Returns:
        the bound as an exact Python int.

    Computed as the sum over J by dynamic programming on the running cap
    min(n_0, n_1 - j_1, ..., n_{l-1} - j_{l-1}), which is exactly the definition of J.
    """
    kinds = kinds or ["relu"] * len(widths)
    ways = {n0: 1}  # cap -> sum of products over the (j_1..j_{l-1}) that lead to it
    for n_l, kind in zip(widths, kinds):
        nxt = {}
        for cap, w in ways.items():
            if kind == "identity":
                key = min(cap, n_l)
                nxt[key] = nxt.get(key, 0) + w
                continue
            for j in range(min(cap, n_l) + 1):
                key = min(cap, n_l - j) if kind == "relu" else min(cap, n_l)
                nxt[key] = nxt.get(key, 0) + w * math.comb(n_l, j)
        ways = nxt
    return sum(ways.values())


def oned_bound(widths):
    """The 1-D maximum: n + 1 for one layer, prod_l (n_l + 1) for deeper ones (Serra et al. 2018, Theorem 5)."""
    return math.prod(n + 1 for n in widths)


def model_bound(model):
    """The bound for `model`: Serra et al.'s Theorem 1 for its input dimension (see serra_bound);
    for one input, prod (n_l + 1) of its bending layers."""
    hidden, _ = pwl_layers(model)
    widths = [len(W) for W, _, _ in hidden]
    kinds = ["identity" if s is None else ("relu" if s == 0.0 else "leaky_relu") for _, _, s in hidden]
    if model.n_inputs == 1:
        return oned_bound([w for w, k in zip(widths, kinds) if k != "identity"])
    return serra_bound(widths, model.n_inputs, kinds)


def box_exact_count(W, b, box):
    """The number of regions that the lines W x + b = 0 cut the box into, lines in general position:
    1 + (lines crossing the box's interior) + (their pairwise intersections inside it).

    W: (n, 2), b: (n,), box [x0, x1, y0, y1].
    """
    W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
    x0, x1, y0, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    vals = corners @ W.T + b  # (4, n)
    crossing = (vals.max(axis=0) > 0) & (vals.min(axis=0) < 0)
    Wc, bc = W[crossing], b[crossing]
    i, j = np.triu_indices(len(Wc), k=1)
    det = Wc[i, 0] * Wc[j, 1] - Wc[i, 1] * Wc[j, 0]
    ok = np.abs(det) > 1e-14 * np.linalg.norm(Wc[i], axis=1) * np.linalg.norm(Wc[j], axis=1)
    i, j, det = i[ok], j[ok], det[ok]
    # Cramer's rule for w_i . x = -b_i, w_j . x = -b_j.
    px = (-bc[i] * Wc[j, 1] + bc[j] * Wc[i, 1]) / det
    py = (-Wc[i, 0] * bc[j] + Wc[j, 0] * bc[i]) / det
    inside = (px > x0) & (px < x1) & (py > y0) & (py < y1)
    return 1 + int(crossing.sum()) + int(inside.sum())
