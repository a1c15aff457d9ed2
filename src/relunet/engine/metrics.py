"""Metrics computed from a model's outputs: loss, accuracy, confusion matrix, MSE and R^2."""

import numpy as np

from .losses import LOSSES, TASK_LOSS


def confusion_matrix(y_true, y_pred, n_classes):
    """Counts C[i, j] of tokens of class index i predicted as class index j.  Shape (K, K)."""
    c = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(c, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return c


def evaluate(model, X, y):
    """Loss and accuracy (classification) or loss, MSE and R^2 (regression) of `model` on (X, y)."""
    return evaluate_encoded(model, model.check_input(X, "data"), model.encode_labels(y))


def evaluate_encoded(model, X, t):
    """As evaluate, for X already checked and targets t already encoded (class indices)."""
    z = model.decision_function(X)
    loss = LOSSES[TASK_LOSS[model.task]]().forward(z, t)
    if model.task == "classification":
        pred = z.argmax(axis=1)
        return {"loss": loss, "accuracy": float(np.mean(pred == t)) if len(t) else float("nan"),
                "confusion": confusion_matrix(t, pred, model.n_outputs).tolist(), "n": int(len(t))}
    r = z - t.reshape(z.shape)
    mse = float(np.mean(r * r))
    var = float(np.mean((t - t.mean(axis=0)) ** 2))
    return {"loss": loss, "mse": mse, "r2": 1.0 - mse / var if var > 0 else float("nan"), "n": int(len(t))}
