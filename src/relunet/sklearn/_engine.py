"""The estimators' calls into relunet's engine, all in one place: the network, the optimizer, one epoch of
the Trainer, the loss and its gradient, the outputs.

Targets arrive encoded by the estimator (scikit-learn's LabelBinarizer): class indices (N,) for the softmax
cross-entropy, 0/1 or real numbers (N, K) for the other losses.
"""

import numpy as np

from ..engine import loss_and_gradients as _loss_and_gradients
from ..engine.blocks import issparse, row_blocks
from ..engine.losses import LOSSES
from ..engine.model import MLP
from ..engine.optim import SGD, Adam, Momentum
from ..engine.train import Trainer

#: scikit-learn's activation names -> relunet's (the one place they are translated).
ACTIVATIONS = {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "logistic": "sigmoid",
               "identity": "identity"}


def build_model(units, activation, loss, dtype, weights, classes):
    """The network with the given [(W, b), ...] (W of shape (out, in)); classes label the outputs. Several
    logistic outputs without classes make relunet's multi-label MLP (targets: an (N, K) 0/1 matrix)."""
    task = "regression" if loss in ("mse", "poisson") else "classification"
    n_classes = 2 if loss == "logistic" and units[-1] == 1 else units[-1]
    if classes is not None and len(classes) != n_classes:
        classes = None  # one-class y, multi-label: outputs 0..K-1
    model = MLP(units, ACTIVATIONS[activation], task, classes=classes, dtype=np.dtype(dtype).name, loss=loss)
    model.set_weights(weights)
    return model


def new_optimizer(est):
    """A fresh optimizer for solver 'sgd' or 'adam', with scikit-learn's L2 term alpha W / sum(batch weights)."""
    decay = dict(weight_decay=float(est.alpha), decay_scaling="batch")
    if est.solver == "adam":
        return Adam(betas=(est.beta_1, est.beta_2), eps=est.epsilon, eps_style="sklearn", **decay)
    mu = float(est.momentum)
    if mu == 0:
        return SGD(**decay)  # Nesterov without momentum is plain SGD, in both libraries
    return Momentum(mu, nesterov=est.nesterovs_momentum, **decay)


def set_learning_rate(optimizer, old, new):
    """scikit-learn keeps the velocity in step units (v = mu v - lr g), PyTorch's form in gradient units
    (v = mu v + g; W -= lr v); when the rate changes between epochs ('invscaling', 'adaptive') the velocity is
    rescaled by old / new so that the next steps are scikit-learn's."""
    if old != new:
        for v in optimizer.state.get("velocity", []):
            v *= old / new


def run_epoch(est, X, T, sample_weight, batch_size, lr):
    """One epoch of relunet's Trainer over X in the given order (dense, or SciPy sparse: densified by the
    Trainer a block of rows at a time); returns scikit-learn's epoch loss, the sum over batches of
    rows * (batch loss + alpha/2 ||W||^2 / batch weight), over N, from the Trainer's per-batch sums."""
    model = est.model_
    trainer = Trainer(model, X, _trainer_targets(model, T), optimizer=est._optimizer, lr=lr,
                      batch_size=batch_size, shuffle=False, sample_weight=sample_weight)
    trainer.epoch = est.n_iter_  # the Trainer numbers this epoch as the estimator does (in a divergence too)
    r = trainer.run_epoch()
    # scikit-learn weighs each batch by its rows (the Trainer by its weight), and with several squared-error
    # outputs divides the data loss by K but not the L2 term.
    with np.errstate(divide="ignore", invalid="ignore"):
        per_batch = (reported_loss(est, r["batch_loss"]) + r["batch_penalty"]) / r["batch_weight"]
    return float(r["batch_rows"] @ per_batch) / X.shape[0]


def reported_loss(est, data_loss):
    """scikit-learn reports the squared loss averaged over the K outputs (relunet's mse sums them)."""
    return data_loss / est.n_outputs_ if est.model_.loss == "mse" else data_loss


def mean_loss(est, X, T, sample_weight):
    """The (weighted) mean loss on held-out data, without the L2 term: relunet's validation loss."""
    z = decision(est, X)
    with np.errstate(all="ignore"):
        return reported_loss(est, LOSSES[est.model_.loss]().value_and_grad(z, T, sample_weight)[0])


def loss_and_gradients(est, X, T, sample_weight):
    """(mean loss, [dW1, db1, ...]) at the current weights, without the L2 term; for sparse X the (weighted)
    mean of the blocks' means, each block densified in turn."""
    if not issparse(X):
        return _loss_and_gradients(est.model_, X, T, sample_weight)
    total, loss, grads = 0.0, 0.0, None
    for s, block in row_blocks(X):
        rows = slice(s, s + block.shape[0])
        w = None if sample_weight is None else sample_weight[rows]
        weight = block.shape[0] if w is None else float(w.sum())
        if weight > 0:
            mean, g = _loss_and_gradients(est.model_, block, T[rows], w)
            loss += mean * weight
            grads = [a * weight for a in g] if grads is None else [a + b * weight for a, b in zip(grads, g)]
            total += weight
    return loss / total, [g / total for g in grads]


def decision(est, X):
    """z^(L), for sparse X a block of rows at a time.  X: (N, features) -> (N, outputs)."""
    if not issparse(X):
        return est.model_.decision_function(X)
    return np.concatenate([est.model_.decision_function(block) for _, block in row_blocks(X)])


def output(est, X):
    """f = out_activation(z^(L)): softmax, sigmoid, exp or identity.  X: (N, features) -> (N, outputs)."""
    return LOSSES[est.model_.loss]().output(decision(est, X))


def _trainer_targets(model, T):
    """The estimator's encoded targets as the Trainer takes them (class labels for a classifier)."""
    if model.task == "regression" or T.ndim == 2 and T.shape[1] > 1:
        return T
    idx = T if T.ndim == 1 else T[:, 0].astype(np.intp)
    return model.classes[idx]
