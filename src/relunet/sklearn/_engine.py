"""The estimators' calls into relunet's engine, all in one place: the network, the optimizer, one epoch of
the Trainer, the loss and its gradient, the outputs.

Targets arrive encoded by the estimator (scikit-learn's LabelBinarizer): class indices (N,) for the softmax
cross-entropy, 0/1 or real numbers (N, K) for the other losses.
"""

import numpy as np
from scipy.special import expit

from ..engine import loss_and_gradients as _loss_and_gradients
from ..engine.losses import LOSSES
from ..engine.model import MLP
from ..engine.optim import SGD, Adam, Momentum
from ..engine.train import Trainer

#: scikit-learn's activation names -> relunet's (the one place they are translated).
ACTIVATIONS = {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "logistic": "sigmoid",
               "identity": "identity"}


class EstimatorMLP(MLP):
    """relunet's MLP that also takes multi-label targets: an (N, K) indicator matrix for the logistic loss.

    (The engine's encode_labels takes one label per token; the estimators need one 0/1 per output.)
    """

    def encode_labels(self, y, where="labels"):
        y = np.asarray(y)
        if self.loss == "logistic" and y.ndim == 2 and y.shape[1] == self.n_outputs:
            if not np.isin(y, (0, 1)).all():
                raise ValueError(f"{where} must be 0 or 1 for every output of a multi-label network")
            return y.astype(self.dtype)
        return super().encode_labels(y, where)


def build_model(units, activation, loss, dtype, weights, classes):
    """The network with the given [(W, b), ...] (W of shape (out, in)); classes label the outputs."""
    task = "regression" if loss in ("mse", "poisson") else "classification"
    n_classes = 2 if loss == "logistic" and units[-1] == 1 else units[-1]
    if classes is not None and len(classes) != n_classes:
        classes = None  # one-class y, multi-label: outputs 0..K-1
    model = EstimatorMLP(units, ACTIVATIONS[activation], task, classes=classes, dtype=np.dtype(dtype).name,
                         loss=loss)
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
    opt = Momentum(min(mu, 0.5), nesterov=est.nesterovs_momentum, **decay)
    # scikit-learn accepts momentum=1.0 (the velocity never decays); relunet's Momentum refuses it as a
    # likely mistake, so the estimator sets the value after construction.
    opt.momentum = mu
    return opt


def set_learning_rate(optimizer, old, new):
    """scikit-learn keeps the velocity in step units (v = mu v - lr g), PyTorch's form in gradient units
    (v = mu v + g; W -= lr v); when the rate changes between epochs ('invscaling', 'adaptive') the velocity is
    rescaled by old / new so that the next steps are scikit-learn's."""
    if old != new:
        for v in optimizer.state.get("velocity", []):
            v *= old / new


def run_epoch(est, X, T, sample_weight, batch_size, lr):
    """One epoch of relunet's Trainer over X in the given order; returns scikit-learn's epoch loss, the
    sum over batches of rows * (batch loss + alpha/2 ||W||^2 / sum of the batch's weights), over N."""
    model = est.model_
    trainer = Trainer(model, X, _trainer_targets(model, T), optimizer=est._optimizer, lr=lr,
                      batch_size=batch_size, shuffle=False, sample_weight=sample_weight)
    n, alpha = X.shape[0], float(est.alpha)
    if not alpha and sample_weight is None:
        return reported_loss(est, trainer.run_epoch()["loss"])
    # The penalty depends on the weights before each update, and with sample weights scikit-learn weighs
    # the batch losses by rows (the Trainer by weight): step one batch at a time.
    loss = LOSSES[model.loss]()
    data = penalty = 0.0
    for s in range(0, n, batch_size):
        e = min(s + batch_size, n)
        w = None if sample_weight is None else sample_weight[s:e]
        batch_len = e - s if w is None else float(w.sum())
        penalty += (e - s) * 0.5 * alpha * sum(float(np.vdot(lin.W, lin.W)) for lin in model.linears) / batch_len
        if w is not None:
            with np.errstate(all="ignore"):
                data += (e - s) * loss.value_and_grad(model.forward(X[s:e])[0], T[s:e], w)[0]
        records = trainer.step(1)
    data = records[-1]["loss"] if sample_weight is None else data / n
    return reported_loss(est, data) + penalty / n


def reported_loss(est, data_loss):
    """scikit-learn reports the squared loss averaged over the K outputs (relunet's mse sums them)."""
    return data_loss / est.n_outputs_ if est.model_.loss == "mse" else data_loss


def mean_loss(est, X, T, sample_weight):
    """The (weighted) mean loss on held-out data, without the L2 term: relunet's validation loss."""
    z = est.model_.decision_function(X)
    with np.errstate(all="ignore"):
        return reported_loss(est, LOSSES[est.model_.loss]().value_and_grad(z, T, sample_weight)[0])


def loss_and_gradients(est, X, T, sample_weight):
    """(mean loss, [dW1, db1, ...]) at the current weights, without the L2 term."""
    return _loss_and_gradients(est.model_, X, T, sample_weight)


def decision(est, X):
    """z^(L).  X: (N, features) -> (N, outputs)."""
    return est.model_.decision_function(X)


def output(est, X):
    """f = out_activation(z^(L)): softmax, sigmoid, exp or identity.  X: (N, features) -> (N, outputs)."""
    z = decision(est, X)
    if est.model_.loss == "logistic":
        # SciPy's expit, as scikit-learn: the engine's 0.5 (1 + tanh(z / 2)) loses the relative precision of
        # small probabilities (exactly 0 below z = -38)
        return expit(z)
    return LOSSES[est.model_.loss]().output(z)


def _trainer_targets(model, T):
    """The estimator's encoded targets as the Trainer takes them (class labels for a classifier)."""
    if model.task == "regression" or T.ndim == 2 and T.shape[1] > 1:
        return T
    idx = T if T.ndim == 1 else T[:, 0].astype(np.intp)
    return model.classes[idx]
