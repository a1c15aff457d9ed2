"""Training: the lecture's loop, for any batch size, and the one place that picks who runs the updates.

    repeat: choose training tokens, predict f(x), compute the loss, back-propagate, update W,
    until the loss is small enough (or another stop rule fires).

An epoch is one pass over the tokens in a fresh random order; batch_size=1 is the lecture's per-sample SGD.
An epoch's loss and accuracy are means over its tokens, each measured just before its update (as Keras and
scikit-learn report them; with decay_scaling="batch" the loss includes scikit-learn's L2 term). The updates
run here (the reference) or in relunet.kernels (compiled, equal to the reference to rounding):
``choose_backend`` decides, and ``choose_inference`` for the model's predictions.
"""

import copy
import math
import os
import time

import numpy as np

from .errors import DivergenceError, RelunetError
from .init import as_generator
from .losses import LOSSES
from .model import MLP
from .. import checks
from .blocks import block_rows, checked_data, issparse, row_blocks
from .optim import Optimizer, make_optimizer, make_schedule

INFERENCE_ROWS = 1000  # fewer: NumPy's forward pass costs about what the kernel's call does; Numba stays out
# Narrower networks (multiply-adds per row, sum of in * out over the layers) stay in NumPy at any row count: their
# maps take milliseconds there, and a one-shot command such as `relunet demo` (2-8-2, 300 x 300 maps) would spend
# about 3 s compiling the forward kernel, once per install, to save them. 2-32-32-3 has 1,184; 2-16-16-3 336.
INFERENCE_MACS = 1000


def choose_backend(backend, model, optimizer):
    """(relunet.kernels, KernelConfig) when the compiled kernels run this training (optimizer=None: the forward pass
    alone), None for the reference: "reference" or RELUNET_BACKEND=reference picks the reference; "auto" the kernels
    when Numba is installed and they support the network and optimizer; "kernel" insists on them."""
    if backend == "reference" or os.environ.get("RELUNET_BACKEND") == "reference":
        return None
    from .. import kernels  # Numba itself is imported only when a kernel first runs
    config = kernels.config_for(model, optimizer)
    if config is None and backend == "kernel":
        raise RelunetError(f"the compiled kernels cannot train {model!r} with {optimizer!r} (is numba "
                           f"installed?); use backend='auto' or 'reference'")
    return None if config is None else (kernels, config)


def choose_inference(model, n_rows):
    """choose_backend's "auto" for `model`'s forward pass on n_rows inputs, from INFERENCE_ROWS rows on, for piece-wise
    linear networks (NumPy's vectorised tanh and sigmoid beat the kernel's scalar ones, up to 3x) of at least
    INFERENCE_MACS multiply-adds per row."""
    macs = sum(a * b for a, b in zip(model.sizes[:-1], model.sizes[1:]))
    fast = n_rows >= INFERENCE_ROWS and macs >= INFERENCE_MACS and all(a.piecewise_linear for a in model.activations)
    return choose_backend("auto", model, None) if fast else None


class History:
    """Per-epoch records: loss, accuracy, val_loss, val_accuracy, lr, updates, seconds (lists, one per epoch)."""

    FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "updates", "seconds")

    def __init__(self):
        self.__dict__.update({f: [] for f in self.FIELDS}, stop_reason=None, best_epoch=None)

    def append(self, record):
        for f in self.FIELDS:
            getattr(self, f).append(record.get(f))

    def __len__(self): return len(self.epoch)

    def last(self): return {f: getattr(self, f)[-1] for f in self.FIELDS} if len(self) else {}

    def __repr__(self):
        return f"History(epochs={len(self)}, loss={self.last().get('loss')}, stop_reason={self.stop_reason!r})"


class Callback:
    """Hooks called by Trainer.fit; a plain function fn(trainer, record) is an on_epoch_end that stops on True.
    Set ``trainer.stop_training = True`` to stop after this epoch."""

    def __init__(self, fn=None):
        self.fn = fn

    def on_train_begin(self, trainer): pass
    def on_train_end(self, trainer): pass

    def on_epoch_end(self, trainer, record):
        if self.fn is not None and self.fn(trainer, record):
            trainer.stop_training = True


class Trainer:
    """One training run of `model` on (X, y), advanced by updates (``step``, the playground's frames), epochs
    (``run_epoch``) or until a stop rule (``fit``).

    Args:
        X: (N, inputs) training inputs. y: (N,) class labels, or (N,) / (N, outputs) regression targets.
        optimizer: "sgd", "momentum", "nesterov", "adam", or an Optimizer (which keeps its state).
        lr: the learning rate lr_0, settable live as ``trainer.lr``; schedule: "constant", "invscaling", "step"
            or a callable (lr_0, epoch) -> lr. The Trainer is their one owner.
        momentum (for "momentum"/"nesterov"), weight_decay, decay_scaling: the optimizer's settings.
        batch_size: tokens per update; 1 is the lecture's per-sample SGD.
        shuffle: a fresh random order each epoch (True), the given order (False), or "replacement": each update
            draws its tokens at random with replacement, the lecture's "randomly choose a training token".
        validation: fraction of the tokens held out for validation, or validation_data=(Xv, yv).
        seed: int or numpy Generator for the validation split and the visiting order.
        callbacks: Callback objects or functions fn(trainer, record) that return True to stop.
        sample_weight: (N,) weights of the tokens in the loss. backend: "auto", "reference" or "kernel".

    X may be SciPy sparse: it stays so, and is densified a block of whole batches at a time (engine/blocks.py).
    An epoch's record also lists its batches: batch_rows, batch_weight (weight sum, or rows), batch_loss (mean
    loss times batch_weight), batch_penalty (the L2 term with decay_scaling="batch"); record["loss"] is
    sum(batch_loss + batch_penalty) / sum(batch_weight). scikit-learn weighs batches by rows: its epoch loss
    comes from these, without a second forward pass.

    ``epoch`` counts the epochs done: set it to number on from another run (the schedule, records and errors follow).
    """

    def __init__(self, model, X, y, *, optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=0.0,
                 decay_scaling="constant", batch_size=1, schedule="constant", shuffle=True, validation=0.0,
                 validation_data=None, seed=0, callbacks=(), sample_weight=None, backend="auto"):
        if not isinstance(model, MLP):
            raise RelunetError(f"model must be a relunet MLP, got {model!r}")
        self.model, self.loss, self.rng = model, LOSSES[model.loss](), as_generator(seed)
        X, t = checked_data(model, X, y)
        w = checks.sample_weights(sample_weight, X.shape[0], model.dtype)
        self.X, self.t, self.w, self.Xv, self.tv = self._split(X, t, w, validation, validation_data)
        self.batch_size = batch_size
        if shuffle not in (True, False, "replacement"):
            raise RelunetError(f"shuffle must be True, False or 'replacement', got {shuffle!r}")
        self.backend = checks.choice("backend", backend, ("auto", "reference", "kernel"))
        self.shuffle, self.lr, self.schedule = shuffle, lr, make_schedule(schedule)
        self.set_optimizer(optimizer, momentum=momentum, weight_decay=weight_decay, decay_scaling=decay_scaling)
        self.callbacks = [c if hasattr(c, "on_epoch_end") else Callback(c) for c in checks.callbacks(callbacks)]
        self.history, self.epoch, self.updates, self.stop_training = History(), 0, 0, False
        self._order, self._pos = None, 0  # this epoch's visiting order, and how far along it we are

    # This epoch's learning rate is the schedule applied to lr_0; setting trainer.lr sets lr_0.
    lr = property(lambda self: self.schedule(self.lr0, self.epoch),
                  lambda self, value: setattr(self, "lr0", checks.number("learning rate", value, positive=True)))
    batch_size = property(lambda self: self._batch_size, lambda self, value: setattr(
        self, "_batch_size", checks.count("batch size", value, positive=True)))

    def set_optimizer(self, optimizer, lr=None, momentum=0.9, weight_decay=None, decay_scaling=None):
        """Switch to an optimizer by name (fresh state) or to an Optimizer object (its own state); keep weights."""
        if lr is not None:
            self.lr = lr
        if not isinstance(optimizer, Optimizer):
            optimizer = make_optimizer(optimizer, momentum, self.optimizer.weight_decay if weight_decay is None else
                                       weight_decay, decay_scaling or self.optimizer.decay_scaling)
        self.optimizer = optimizer

    epoch_position = property(lambda self: 0 if self._order is None else self._pos,
                              doc="Tokens of the current epoch visited so far (0 between epochs).")
    updates_left_in_epoch = property(lambda self: -(-(self.X.shape[0] - self.epoch_position) // self._batch_size),
                                     doc="Updates before the current epoch ends (a whole epoch's between epochs).")

    def step(self, updates=1):
        """Do `updates` optimizer steps, crossing epoch ends as needed; returns the records of finished epochs."""
        updates, records = checks.count("updates", updates), []
        while updates > 0:
            k = min(updates, self.updates_left_in_epoch)
            self._run(k)
            updates -= k
            if self._pos >= len(self._order):
                records.append(self._end_epoch())
        return records

    def run_epoch(self):
        """Finish the current epoch (a whole one when none is under way); returns its record."""
        self._run(self.updates_left_in_epoch)
        return self._end_epoch()

    def _run(self, k):
        """k updates from the current position. On divergence the weights and optimizer state from before them
        (finite: they were checked after the previous updates) are restored and DivergenceError is raised."""
        if self._order is None:  # a new epoch: its visiting order, sums of correct tokens and tokens, its batches
            n = self.X.shape[0]
            self._order = self.rng.integers(0, n, n) if self.shuffle == "replacement" else \
                self.rng.permutation(n) if self.shuffle else np.arange(n)
            self._pos, self._sums, self._batches, self._t0 = 0, [0, 0], [], time.perf_counter()
        b, order = self._batch_size, self._order[self._pos:self._pos + k * self._batch_size]
        params, opt, lr = self.model.parameters(), self.optimizer, self.lr
        saved, saved_state = [p.copy() for p in params], copy.deepcopy(opt.state)
        if not all(np.isfinite(p).all() for p in saved):  # set from outside: there is nothing finite to keep
            raise RelunetError("the model's weights contain NaN or infinite values; set finite weights first")
        engine = choose_backend(self.backend, self.model, opt)
        parts = np.zeros((-(-len(order) // b), 2))  # each batch's data-loss sum and L2 term, as the kernels fill it
        correct = updates = 0
        with np.errstate(all="ignore"):
            for s, X, t, w, rows in self._blocks(order):
                part = parts[s // b:]
                if engine is None:
                    _, c, u = self._reference(params, X, t, w, rows, lr, part)
                else:
                    opt.init_state(params)
                    _, c, u = engine[0].train(engine[1], params, opt.state, X, t, rows, b, lr, w,
                                              batches=part[:-(-len(rows) // b)])
                correct, updates = correct + c, updates + u
            # Each loss is measured before its update; the model after the last one is checked on its batch.
            finite = np.isfinite(parts).all() and all(np.isfinite(p).all() for p in params) and \
                np.isfinite(self.model.forward(X[rows[-b:]])[0]).all()
        if not finite:
            self.model.set_weights(saved)
            opt.state, self._order = saved_state, None
            raise DivergenceError(self._divergence_message(lr), self.epoch + 1)
        self._pos, self.updates = self._pos + len(order), self.updates + int(updates)
        starts = np.arange(0, len(order), b)
        rows = np.diff(np.append(starts, len(order)))
        weight = rows.astype(float) if self.w is None else np.add.reduceat(self.w[order].astype(float), starts)
        self._sums = [self._sums[0] + correct, self._sums[1] + len(order)]
        self._batches.append((rows, weight, parts[:, 0], parts[:, 1]))

    def _blocks(self, order):
        """(start, X, t, w, rows) to train on for the tokens `order`: the whole data and `order` itself when X is
        dense; for sparse X, block_rows of them at a time (whole batches), densified, with rows 0, 1, ..."""
        if not issparse(self.X):
            yield 0, self.X, self.t, self.w, order
            return
        step = max(block_rows(self.X) // self._batch_size, 1) * self._batch_size
        for s in range(0, len(order), step):
            idx = order[s:s + step]
            yield s, self.X[idx].toarray(), self.t[idx], None if self.w is None else self.w[idx], np.arange(len(idx))

    def _reference(self, params, X, t, w, order, lr, parts):
        """Mini-batch updates over the tokens X[order]: forward, loss, backward, optimizer step. Fills parts
        (batches, 2) with each batch's data-loss sum (its weighted mean loss times its weight) and L2 term.
        Returns (the sum of the token losses, each before its update, weighted; correct tokens; updates)."""
        loss_sum, correct, b = 0.0, 0, self._batch_size
        for s in range(0, len(order), b):
            idx = order[s:s + b]
            x, tb, wb = X[idx], t[idx], None if w is None else w[idx]
            z, tape = self.model.forward(x)
            L, dz = self.loss.value_and_grad(z, tb, wb)
            batch_len = len(idx) if wb is None else float(wb.sum())
            penalty = self.optimizer.penalty(params) if batch_len > 0 else 0.0  # before the update, as L
            parts[s // b] = L * batch_len, penalty
            loss_sum, correct = loss_sum + L * batch_len + penalty, correct + self.loss.correct(z, tb)
            self.optimizer.step(params, self.model.backward(tape, dz), lr, batch_len)
        return loss_sum, correct, -(-len(order) // b)

    def _divergence_message(self, lr):  # the likely cause: the learning rate, or data far from unit scale
        scale = float(max(abs(self.X).max(), np.abs(self.t).max() if self.model.task == "regression" else 0))
        data = f", or scale the data (its values reach {scale:.3g}; standardise them)" if scale > 100 else ""
        return (f"training diverged in epoch {self.epoch + 1}: the loss or the weights became NaN or infinite with "
                f"learning rate {lr:g}; try a smaller learning rate{data} (the model keeps its last finite weights)")

    def _end_epoch(self):
        correct, seen = self._sums
        rows, weight, loss, penalty = (np.concatenate(c) for c in zip(*self._batches))
        self.epoch += 1
        total = float(weight.sum())
        record = {"epoch": self.epoch, "loss": float((loss + penalty).sum()) / total if total > 0 else 0.0,
                  "updates": self.updates, "lr": self.schedule(self.lr0, self.epoch - 1),
                  "seconds": time.perf_counter() - self._t0, "batch_rows": rows, "batch_weight": weight,
                  "batch_loss": loss, "batch_penalty": penalty}
        if self.model.task == "classification":
            record["accuracy"] = correct / seen
        if self.Xv is not None:
            z = np.concatenate([self.model.forward(X)[0] for _, X, *_ in row_blocks(self.Xv)])
            record["val_loss"] = self.loss.value_and_grad(z, self.tv)[0]
            record["val_accuracy"] = self.loss.correct(z, self.tv) / len(z) if "accuracy" in record else None
        self._order = None
        self.history.append(record)
        return record

    def fit(self, epochs=100, target_loss=None, patience=None, min_delta=0.0, restore_best=True):
        """Train until a stop rule fires; returns the History (its stop_reason says which rule).

        Stop rules: `epochs` (the most epochs), `target_loss` (the epoch's training loss is at most this: the
        lecture's "until the loss is small enough"), `patience` (no improvement of more than `min_delta` in the
        validation loss, or the training loss without validation, for that many epochs). With validation data
        and restore_best, the weights of the best validation epoch are restored.
        """
        epochs, min_delta = checks.count("epochs", epochs), checks.number("min_delta", min_delta)
        patience = None if patience is None else checks.count("patience", patience, positive=True)
        target_loss = None if target_loss is None else checks.number("target loss", target_loss)
        h, best, best_weights, since_best = self.history, math.inf, None, 0
        self.stop_training, h.stop_reason = False, "max epochs"
        for cb in self.callbacks:
            cb.on_train_begin(self)
        try:
            for _ in range(epochs):
                record = self.run_epoch()
                watched = record["val_loss"] if self.Xv is not None else record["loss"]
                if watched < best - min_delta:
                    best, since_best, h.best_epoch = watched, 0, record["epoch"]
                    best_weights = self.model.get_weights() if self.Xv is not None and restore_best else None
                else:
                    since_best += 1
                for cb in self.callbacks:
                    cb.on_epoch_end(self, record)
                stop = [target_loss is not None and record["loss"] <= target_loss,
                        patience is not None and since_best >= patience, self.stop_training]
                if any(stop):
                    h.stop_reason = ("target loss", "patience", "callback")[stop.index(True)]
                    break
        except DivergenceError as e:
            h.stop_reason, e.history = "diverged", h
            raise
        finally:
            for cb in self.callbacks:
                cb.on_train_end(self)
        if best_weights is not None:
            self.model.set_weights(best_weights)
        return h

    def _split(self, X, t, w, validation, validation_data):
        """(X, t, w) for training and (Xv, tv) for validation: validation_data, or a random `validation` fraction."""
        if validation_data is not None:
            return (X, t, w, *checked_data(self.model, validation_data, None, "validation"))
        n_val = int(round(checks.number("validation fraction", validation) * X.shape[0]))
        if validation >= 1 or (validation > 0 and not 1 <= n_val < X.shape[0]):
            raise RelunetError(f"validation fraction must be in [0, 1) and leave tokens for training and "
                               f"validation out of {X.shape[0]}, got {validation!r}")
        if n_val == 0:
            return X, t, w, None, None
        perm = self.rng.permutation(X.shape[0])
        va, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        return X[tr], t[tr], None if w is None else w[tr], X[va], t[va]


def fit(model, X, y, *, epochs=100, target_loss=None, patience=None, min_delta=0.0, restore_best=True, **options):
    """Train `model` on (X, y) and return the History; see Trainer for the options. Raises DivergenceError
    (naming the epoch and the likely cause) if the loss or the weights become NaN or infinite."""
    return Trainer(model, X, y, **options).fit(epochs, target_loss, patience, min_delta, restore_best)
