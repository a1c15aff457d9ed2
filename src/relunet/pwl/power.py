"""The linear classifier's cells as a power diagram.

With no hidden layer the prediction is argmax_k (w_k . x + b_k). Since
|x - w_k|^2 - (|w_k|^2 + 2 b_k) = |x|^2 - 2 (w_k . x + b_k), the class with the largest logit is the
site w_k with the smallest power distance |x - w_k|^2 - rho_k, rho_k = |w_k|^2 + 2 b_k: the cells form
the power diagram of the sites w_k with weights rho_k. Only when all weights are equal is it the
Voronoi diagram of the sites (the cells the lecture calls Voronoi regions).
"""

from dataclasses import dataclass

import numpy as np

from ..engine.errors import RelunetError


@dataclass
class PowerDiagram:
    """sites (K, d) = the rows w_k of W; weights (K,) = |w_k|^2 + 2 b_k; is_voronoi: weights equal."""

    sites: np.ndarray
    weights: np.ndarray
    is_voronoi: bool


def power_diagram(model, rtol=1e-9):
    """Sites, weights and whether the linear classifier's cells are a true Voronoi diagram.

    Args:
        model: a classification MLP without hidden layers (sizes [d, K]).
        rtol: weights equal within rtol * (1 + max |rho|) count as equal.
    """
    if len(model.linears) != 1 or model.task != "classification":
        raise RelunetError(f"a power diagram describes a linear classifier (no hidden layer); this model is "
                           f"{model.sizes} ({model.task})")
    W = np.asarray(model.linears[0].W, np.float64)
    b = np.asarray(model.linears[0].b, np.float64)
    rho = np.sum(W * W, axis=1) + 2 * b
    voronoi = bool(np.ptp(rho) <= rtol * (1 + np.abs(rho).max()))
    return PowerDiagram(W.copy(), rho, voronoi)
