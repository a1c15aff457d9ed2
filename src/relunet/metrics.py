"""Metrics computed from a model's outputs: loss, accuracy, confusion matrix, MSE and R^2."""

import numpy as np

from .engine.losses import LOSSES


def confusion_matrix(y_true, y_pred, n_classes):
    """Counts C[i, j] of tokens of class index i predicted as class index j.  Shape (K, K)."""
    c = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(c, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return c


def evaluate(model, X, y, sample_weight=None):
    """Loss and accuracy (classification) or loss, MSE and R^2 (regression) of `model` on (X, y)."""
    return evaluate_encoded(model, model.check_input(X, "data"), model.encode_labels(y), sample_weight)


def evaluate_encoded(model, X, t, sample_weight=None):
    """As evaluate, for X already checked and targets t already encoded (see MLP.encode_labels)."""
    z, loss = model.decision_function(X), LOSSES[model.loss]()
    out = {"loss": loss.value_and_grad(z, t, sample_weight)[0] if len(t) else float("nan"), "n": int(len(t))}
    if model.task == "classification":
        pred = z.argmax(axis=1) if z.shape[1] > 1 else (z[:, 0] > 0).astype(int)
        idx = t if t.ndim == 1 else t.argmax(axis=1) if t.shape[1] > 1 else (t[:, 0] > 0.5).astype(int)
        return dict(out, accuracy=float(np.mean(pred == idx)) if len(t) else float("nan"),
                    confusion=confusion_matrix(idx, pred, len(model.classes)).tolist())
    mse, var = float(np.mean((loss.output(z) - t) ** 2)), float(np.mean((t - t.mean(axis=0)) ** 2))
    return dict(out, mse=mse, r2=1.0 - mse / var if var > 0 else float("nan"))
