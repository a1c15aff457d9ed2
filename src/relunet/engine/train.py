"""Training: the lecture's loop, for any batch size.

    repeat: choose training tokens, predict f(x), compute the loss, back-propagate, update W,
    until the loss is small enough (or another stop rule fires).

``Trainer`` holds one training run (model, data, optimizer, random stream, position in the epoch) and can
advance by single updates (``step``), whole epochs (``run_epoch``) or until a stop rule (``fit``): the
command line uses ``fit``, the playground steps it frame by frame and changes settings live.

An epoch is one pass over the training tokens in a fresh random order (or file order without shuffle).
With batch_size=1 each update uses one token: the lecture's per-sample SGD. The loss and accuracy of an
epoch are the means over its updates, each measured just before that update (as Keras and scikit-learn
report them).
"""

import math
import time

import numpy as np

from .errors import DivergenceError, RelunetError
from .init import as_generator
from .losses import LOSSES, TASK_LOSS
from .metrics import evaluate_encoded
from .optim import SGD, Optimizer, make_optimizer, make_schedule


class History:
    """Per-epoch records: loss, accuracy, val_loss, val_accuracy, lr, updates, seconds (lists, one per epoch)."""

    FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "updates", "seconds")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, [])
        self.stop_reason = None
        self.best_epoch = None

    def append(self, record):
        for f in self.FIELDS:
            getattr(self, f).append(record.get(f))

    def __len__(self):
        return len(self.epoch)

    def last(self):
        return {f: getattr(self, f)[-1] for f in self.FIELDS} if len(self) else {}

    def as_dict(self):
        d = {f: list(getattr(self, f)) for f in self.FIELDS}
        d.update(stop_reason=self.stop_reason, best_epoch=self.best_epoch)
        return d

    def __repr__(self):
        last = self.last()
        return f"History(epochs={len(self)}, loss={last.get('loss')}, stop_reason={self.stop_reason!r})"


class Callback:
    """Hooks called by Trainer.fit. Set ``trainer.stop_training = True`` to stop after this epoch."""

    def on_train_begin(self, trainer):
        pass

    def on_epoch_end(self, trainer, record):
        pass

    def on_train_end(self, trainer):
        pass


class _FunctionCallback(Callback):
    def __init__(self, fn):
        self.fn = fn

    def on_epoch_end(self, trainer, record):
        if self.fn(trainer, record):
            trainer.stop_training = True


class Trainer:
    """One training run of `model` on (X, y).

    Args:
        X: (N, inputs) training inputs. y: (N,) class labels, or (N,) / (N, outputs) regression targets.
        optimizer: "sgd", "momentum", "nesterov", "adam", or an Optimizer over model.parameters().
        lr, momentum, weight_decay: optimizer settings (momentum for "momentum"/"nesterov" only).
        batch_size: tokens per update; 1 is the lecture's per-sample SGD.
        schedule: "constant", "invscaling", "step", or a callable (lr0, epoch) -> lr.
        shuffle: visit tokens in a fresh random order each epoch (True), in the given order (False), or
            "replacement": each update draws its tokens at random with replacement, the lecture's literal
            "randomly choose a training token" (an epoch is then N draws).
        validation: fraction of the tokens held out for validation, or validation_data=(Xv, yv).
        seed: int or numpy Generator for the validation split and the visiting order.
        callbacks: Callback objects or functions fn(trainer, record) that return True to stop.
    """

    def __init__(self, model, X, y, *, optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=0.0, batch_size=1,
                 schedule="constant", shuffle=True, validation=0.0, validation_data=None, seed=0, callbacks=()):
        self.model = model
        X = model.check_input(X, "training data")
        t = model.encode_labels(y, "training labels")
        if len(X) == 0:
            raise RelunetError("training data is empty")
        if len(t) != len(X):
            raise RelunetError(f"training data has {len(X)} rows but {len(t)} labels")
        self.rng = as_generator(seed)
        self.X, self.t, self.Xv, self.tv = self._split(X, t, validation, validation_data)
        self.batch_size = batch_size
        if shuffle not in (True, False, "replacement"):
            raise RelunetError(f"shuffle must be True, False or 'replacement', got {shuffle!r}")
        self.shuffle = shuffle
        if isinstance(optimizer, Optimizer):
            self.optimizer = optimizer
        else:
            self.optimizer = make_optimizer(optimizer, model.parameters(), lr, momentum, weight_decay)
        self.lr0 = self.optimizer.lr
        self.schedule = make_schedule(schedule)
        self.callbacks = [c if isinstance(c, Callback) else _FunctionCallback(c) for c in callbacks]
        self.loss = LOSSES[TASK_LOSS[model.task]]()
        self.history = History()
        self.epoch = 0          # completed epochs
        self.updates = 0        # optimizer steps so far
        self.stop_training = False
        self._buffers = {}
        self._order = None      # this epoch's visiting order, and how far along it we are
        self._pos = 0
        self._sums = [0.0, 0, 0]  # this epoch's loss sum, correct count, tokens seen
        self._t0 = None

    # ----------------------------------------------------------------- settings
    @property
    def batch_size(self):
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
            raise RelunetError(f"batch size must be a positive integer, got {value!r}")
        self._batch_size = int(value)

    def set_optimizer(self, name, lr=None, momentum=0.9, weight_decay=None):
        """Switch optimizer (its state starts fresh); the weights are kept."""
        lr = self.lr0 if lr is None else lr
        wd = self.optimizer.weight_decay if weight_decay is None else weight_decay
        self.optimizer = make_optimizer(name, self.model.parameters(), lr, momentum, wd)
        self.lr0 = self.optimizer.lr

    # ----------------------------------------------------------------- stepping
    @property
    def fused(self):
        """True when updates take the fused per-sample path (batch 1, plain SGD)."""
        opt = self.optimizer
        return self._batch_size == 1 and isinstance(opt, SGD) and opt.is_plain

    def _start_epoch(self):
        n = len(self.X)
        if self.shuffle == "replacement":
            self._order = self.rng.integers(0, n, n)
        else:
            self._order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        self._pos = 0
        self._sums = [0.0, 0, 0]
        self._t0 = time.perf_counter()
        self.optimizer.lr = self.schedule(self.lr0, self.epoch)

    @property
    def epoch_position(self):
        """Tokens of the current epoch visited so far (0 between epochs)."""
        return 0 if self._order is None else int(self._pos)

    @property
    def updates_left_in_epoch(self):
        """Updates still to do before the current epoch ends (a whole epoch's worth between epochs)."""
        return -(-(len(self.X) - self.epoch_position) // self._batch_size)

    def step(self, updates=1):
        """Do `updates` optimizer steps (crossing epoch ends as needed); returns the records of finished epochs."""
        records = []
        while updates > 0:
            if self._order is None:
                self._start_epoch()
            n_left = len(self._order) - self._pos
            b = self._batch_size
            k = min(updates, -(-n_left // b))  # updates that fit in this epoch
            self._run(k)
            updates -= k
            if self._pos >= len(self._order):
                records.append(self._end_epoch())
        return records

    def run_epoch(self):
        """Finish the current epoch (a whole one when none is under way); returns its record."""
        if self._order is None:
            self._start_epoch()
        b = self._batch_size
        self._run(-(-(len(self._order) - self._pos) // b))
        return self._end_epoch()

    def _run(self, k):
        """k updates from the current position, restoring the last finite weights if the loss diverges."""
        model, opt, b = self.model, self.optimizer, self._batch_size
        start = self._pos
        stop = min(len(self._order), start + k * b)
        saved = model.get_weights()
        with np.errstate(all="ignore"):
            if self.fused:
                loss, correct = model.sgd_per_sample(self.X, self.t, self._order[start:stop], opt.lr, opt.weight_decay)
            else:
                loss, correct = self._run_batches(start, stop)
        if not math.isfinite(loss):
            model.set_weights(saved)
            self._order = None
            raise DivergenceError(
                f"training diverged in epoch {self.epoch + 1}: the loss became {loss} with learning rate "
                f"{opt.lr:g}; try a smaller learning rate (the model keeps its last finite weights)",
                self.epoch + 1)
        self._pos = stop
        self.updates += -(-(stop - start) // b)
        self._sums[0] += loss
        self._sums[1] += correct
        self._sums[2] += stop - start

    def _run_batches(self, start, stop):
        """Mini-batch updates over tokens [start, stop) of this epoch's order; returns (loss sum, correct)."""
        model, opt, lossf, b = self.model, self.optimizer, self.loss, self._batch_size
        X, t, order = self.X, self.t, self._order
        gather = bool(self.shuffle)
        if gather:
            # Each batch is gathered into one reused buffer: contiguous rows for the matrix products, and no
            # copy of the whole data set per epoch (memory stays data + one batch).
            xbuf, tbuf = self._batch_buffers(b)
        buffers = self._buffers
        loss_sum, correct = 0.0, 0
        for s in range(start, stop, b):
            e = min(s + b, stop)
            if gather:
                idx = order[s:e]
                xb = np.take(X, idx, axis=0, out=xbuf[:e - s], mode="clip")  # indices are valid: no checks
                tb = np.take(t, idx, axis=0, out=tbuf[:e - s], mode="clip")
            else:
                xb, tb = X[s:e], t[s:e]
            z = model.forward(xb, buffers)
            loss_sum += lossf.forward(z, tb) * len(xb)
            correct += lossf.correct(z, tb)
            model.backward(lossf.backward(), buffers)
            opt.step()
        return loss_sum, correct

    def _batch_buffers(self, b):
        bufs = self._buffers.get("batch")
        if bufs is None or len(bufs[0]) != b:
            bufs = self._buffers["batch"] = (np.empty((b,) + self.X.shape[1:], self.X.dtype),
                                             np.empty((b,) + self.t.shape[1:], self.t.dtype))
        return bufs

    def _end_epoch(self):
        loss_sum, correct, seen = self._sums
        self.epoch += 1
        record = {"epoch": self.epoch, "loss": loss_sum / max(seen, 1), "lr": self.optimizer.lr,
                  "updates": self.updates, "seconds": time.perf_counter() - self._t0}
        if self.model.task == "classification":
            record["accuracy"] = correct / max(seen, 1)
        if self.Xv is not None:
            ev = evaluate_encoded(self.model, self.Xv, self.tv)
            record["val_loss"] = ev["loss"]
            record["val_accuracy"] = ev.get("accuracy")
        self._order = None
        self.history.append(record)
        return record

    # ----------------------------------------------------------------- the loop with stop rules
    def fit(self, epochs=100, target_loss=None, patience=None, min_delta=0.0, restore_best=True):
        """Train until a stop rule fires; returns the History (its stop_reason says which rule).

        Stop rules: `epochs` (the most epochs), `target_loss` (the epoch's training loss is at most this:
        the lecture's "until the loss is small enough"), `patience` (no improvement of more than
        `min_delta` in the validation loss, or the training loss without validation, for that many epochs).
        With validation data and restore_best, the weights of the best validation epoch are restored.
        """
        epochs = _count("epochs", epochs, allow_zero=True)
        patience = None if patience is None else _count("patience", patience)
        if target_loss is not None and not (float(target_loss) >= 0):
            raise RelunetError(f"target loss must be a number at least 0, got {target_loss!r}")
        h = self.history
        best, best_weights, since_best = math.inf, None, 0
        self.stop_training = False
        for cb in self.callbacks:
            cb.on_train_begin(self)
        h.stop_reason = "max epochs"
        try:
            for _ in range(epochs):
                record = self.run_epoch()
                watched = record["val_loss"] if self.Xv is not None else record["loss"]
                if watched < best - min_delta:
                    best, since_best, h.best_epoch = watched, 0, record["epoch"]
                    if self.Xv is not None and restore_best:
                        best_weights = self.model.get_weights()
                else:
                    since_best += 1
                for cb in self.callbacks:
                    cb.on_epoch_end(self, record)
                if target_loss is not None and record["loss"] <= target_loss:
                    h.stop_reason = "target loss"
                    break
                if patience is not None and since_best >= patience:
                    h.stop_reason = "patience"
                    break
                if self.stop_training:
                    h.stop_reason = "callback"
                    break
        except DivergenceError as e:
            h.stop_reason = "diverged"
            e.history = h
            raise
        finally:
            for cb in self.callbacks:
                cb.on_train_end(self)
        if best_weights is not None:
            self.model.set_weights(best_weights)
        return h

    # ----------------------------------------------------------------- helpers
    def _split(self, X, t, validation, validation_data):
        if validation_data is not None:
            Xv = self.model.check_input(validation_data[0], "validation data")
            tv = self.model.encode_labels(validation_data[1], "validation labels")
            return _contiguous(X), t, Xv, tv
        try:
            frac = float(validation)
        except (TypeError, ValueError):
            raise RelunetError(f"validation fraction must be a number, got {validation!r}") from None
        if not (0.0 <= frac < 1.0):
            raise RelunetError(f"validation fraction must be in [0, 1), got {validation!r}")
        if frac == 0.0:
            return _contiguous(X), t, None, None
        n_val = int(round(frac * len(X)))
        if n_val < 1 or n_val >= len(X):
            raise RelunetError(f"a validation fraction of {frac} leaves no tokens for training or validation "
                               f"out of {len(X)}")
        perm = self.rng.permutation(len(X))
        va, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        return _contiguous(X[tr]), t[tr], X[va], t[va]


def fit(model, X, y, *, epochs=100, target_loss=None, patience=None, min_delta=0.0, restore_best=True, **options):
    """Train `model` on (X, y) and return the History; see Trainer for the options.

    Raises DivergenceError (naming the epoch) if the loss becomes NaN or infinite; the model then keeps
    its last finite weights.
    """
    trainer = Trainer(model, X, y, **options)
    return trainer.fit(epochs, target_loss=target_loss, patience=patience, min_delta=min_delta,
                       restore_best=restore_best)


def _contiguous(X):
    return np.ascontiguousarray(X)


def _count(what, n, allow_zero=False):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < (0 if allow_zero else 1):
        raise RelunetError(f"{what} must be a {'non-negative' if allow_zero else 'positive'} integer, got {n!r}")
    return int(n)
