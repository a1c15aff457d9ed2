"""Training: the lecture's loop for any batch size, and the one place that picks the engine that runs it.

    repeat: choose training tokens, predict f(x), compute the loss, back-propagate, update W,
    until the loss is small enough (or another stop rule fires).

``Trainer`` holds one run (model, data, optimizer, learning rate and schedule, random stream, position in
the epoch) and advances by updates (``step``), epochs (``run_epoch``) or until a stop rule (``fit``). An epoch
is one pass over the training tokens in a fresh random order (file order without shuffle); batch_size=1 is
the lecture's per-sample SGD. An epoch's loss and accuracy are means over its tokens, each measured just
before its update (as Keras and scikit-learn report them). The updates run here (the reference) or in
relunet.kernels (compiled, equal to the reference to rounding): ``choose_backend`` decides.
"""

import copy
import math
import os
import time

import numpy as np

from .activations import ACTIVATIONS
from .errors import DivergenceError, RelunetError
from .init import as_generator
from .losses import LOSSES
from .model import MLP
from ..checks import choice, count, number, sample_weights
from .optim import SGD, Adam, Momentum, Optimizer, make_optimizer, make_schedule


def choose_backend(backend, model, optimizer):
    """(relunet.kernels, KernelConfig) when the compiled kernels run this training, None for the reference.

    "reference", or the environment variable RELUNET_BACKEND=reference, picks the reference; "auto" picks the
    kernels when Numba is installed and they support the network and optimizer; "kernel" insists on them.
    """
    if backend == "reference" or os.environ.get("RELUNET_BACKEND") == "reference":
        return None
    try:
        from .. import kernels
    except ImportError:
        kernels = None
    config = None
    if kernels is not None and kernels.available():
        config = kernels.KernelConfig(
            activations=tuple((a.name, getattr(a, "slope", 0.0)) for a in model.activations), loss=model.loss,
            optimizer=optimizer.name, momentum=getattr(optimizer, "momentum", 0.0),
            beta1=getattr(optimizer, "betas", (0.9, 0.999))[0], beta2=getattr(optimizer, "betas", (0.9, 0.999))[1],
            eps=getattr(optimizer, "eps", 1e-8), eps_style=getattr(optimizer, "eps_style", "pytorch"),
            weight_decay=optimizer.weight_decay, decay_scaling=optimizer.decay_scaling)
    custom = type(optimizer) not in (SGD, Momentum, Adam) or any(type(a) is not ACTIVATIONS.get(a.name)
                                                                  for a in model.activations)
    if config is None or custom or not kernels.supports(config):
        if backend == "kernel":
            raise RelunetError(f"the compiled kernels cannot train {model!r} with {optimizer!r} (is numba "
                               f"installed?); use backend='auto' or 'reference'")
        return None
    return kernels, config


class History:
    """Per-epoch records: loss, accuracy, val_loss, val_accuracy, lr, updates, seconds (lists, one per epoch)."""

    FIELDS = ("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "updates", "seconds")

    def __init__(self):
        for f in self.FIELDS:
            setattr(self, f, [])
        self.stop_reason = self.best_epoch = None

    def append(self, record):
        for f in self.FIELDS:
            getattr(self, f).append(record.get(f))

    def __len__(self):
        return len(self.epoch)

    def last(self):
        return {f: getattr(self, f)[-1] for f in self.FIELDS} if len(self) else {}

    def as_dict(self):
        return dict({f: list(getattr(self, f)) for f in self.FIELDS}, stop_reason=self.stop_reason,
                    best_epoch=self.best_epoch)

    def __repr__(self):
        return f"History(epochs={len(self)}, loss={self.last().get('loss')}, stop_reason={self.stop_reason!r})"


class Callback:
    """Hooks called by Trainer.fit; a plain function fn(trainer, record) is an on_epoch_end that stops on True.
    Set ``trainer.stop_training = True`` to stop after this epoch."""

    def __init__(self, fn=None):
        self.fn = fn

    def on_train_begin(self, trainer):
        pass

    def on_epoch_end(self, trainer, record):
        if self.fn is not None and self.fn(trainer, record):
            trainer.stop_training = True

    def on_train_end(self, trainer):
        pass


class Trainer:
    """One training run of `model` on (X, y).

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
    """

    def __init__(self, model, X, y, *, optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=0.0,
                 decay_scaling="constant", batch_size=1, schedule="constant", shuffle=True, validation=0.0,
                 validation_data=None, seed=0, callbacks=(), sample_weight=None, backend="auto"):
        if not isinstance(model, MLP):
            raise RelunetError(f"model must be a relunet MLP, got {model!r}")
        self.model, self.loss = model, LOSSES[model.loss]()
        X, t = model.check_input(X, "training data"), model.encode_labels(y, "training labels")
        if len(X) == 0 or len(t) != len(X):
            raise RelunetError(f"training data has {len(X)} rows and {len(t)} labels; it must be non-empty and match")
        self.rng = as_generator(seed)
        self.X, self.t, self.w, self.Xv, self.tv = self._split(X, t, sample_weights(sample_weight, len(X), model.dtype),
                                                               validation, validation_data)
        self.batch_size = batch_size
        if not (shuffle is True or shuffle is False or shuffle == "replacement"):
            raise RelunetError(f"shuffle must be True, False or 'replacement', got {shuffle!r}")
        self.backend = choice("backend", backend, ("auto", "reference", "kernel"))
        self.shuffle, self.lr, self.schedule = shuffle, lr, make_schedule(schedule)
        self.set_optimizer(optimizer, momentum=momentum, weight_decay=weight_decay, decay_scaling=decay_scaling)
        if isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__") or \
                not all(isinstance(c, Callback) or callable(c) for c in callbacks):
            raise RelunetError(f"callbacks must be a list of Callbacks or functions, got {callbacks!r}")
        self.callbacks = [c if isinstance(c, Callback) else Callback(c) for c in callbacks]
        self.history, self.epoch, self.updates, self.stop_training = History(), 0, 0, False
        self._order, self._pos = None, 0  # this epoch's visiting order, and how far along it we are

    @property
    def lr(self):
        """This epoch's learning rate: the schedule applied to lr_0. Setting it sets lr_0."""
        return self.schedule(self.lr0, self.epoch)

    @lr.setter
    def lr(self, value):
        self.lr0 = number("learning rate", value, positive=True)

    @property
    def batch_size(self):
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
            raise RelunetError(f"batch size must be a positive integer, got {value!r}")
        self._batch_size = int(value)

    def set_optimizer(self, optimizer, lr=None, momentum=0.9, weight_decay=None, decay_scaling=None):
        """Switch to an optimizer by name (fresh state) or to an Optimizer object (its own state); keep weights."""
        old = getattr(self, "optimizer", None)
        if lr is not None:
            self.lr = lr
        if isinstance(optimizer, Optimizer):
            self.optimizer = optimizer
        else:
            self.optimizer = make_optimizer(optimizer, momentum, old.weight_decay if weight_decay is None else weight_decay,
                                            old.decay_scaling if decay_scaling is None else decay_scaling)

    # ----------------------------------------------------------------- stepping
    @property
    def epoch_position(self):
        """Tokens of the current epoch visited so far (0 between epochs)."""
        return 0 if self._order is None else self._pos

    @property
    def updates_left_in_epoch(self):
        """Updates still to do before the current epoch ends (a whole epoch's worth between epochs)."""
        return -(-(len(self.X) - self.epoch_position) // self._batch_size)

    def step(self, updates=1):
        """Do `updates` optimizer steps, crossing epoch ends as needed; returns the records of finished epochs."""
        updates, records = count("updates", updates), []
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
        if self._order is None:  # a new epoch: its visiting order, and sums of loss, correct tokens, tokens, weight
            n = len(self.X)
            self._order = self.rng.integers(0, n, n) if self.shuffle == "replacement" else \
                self.rng.permutation(n) if self.shuffle else np.arange(n)
            self._pos, self._sums, self._t0 = 0, [0.0, 0, 0, 0.0], time.perf_counter()
        b, order = self._batch_size, self._order[self._pos:self._pos + k * self._batch_size]
        params, opt, lr = self.model.parameters(), self.optimizer, self.lr
        saved, saved_state = [p.copy() for p in params], copy.deepcopy(opt.state)
        engine = choose_backend(self.backend, self.model, opt)
        with np.errstate(all="ignore"):
            if engine is None:
                loss_sum, correct, updates = self._reference(params, order, lr)
            else:
                opt.init_state(params)
                loss_sum, correct, updates = engine[0].train(engine[1], params, opt.state, self.X, self.t, order, b,
                                                             lr, self.w)
            # Each loss is measured before its update; the model after the last one is checked on its batch.
            finite = math.isfinite(loss_sum) and all(np.isfinite(p).all() for p in params) and \
                np.isfinite(self.model.forward(self.X[order[-b:]])[0]).all()
        if not finite:
            for p, s in zip(params, saved):
                p[...] = s
            opt.state, self._order = saved_state, None
            raise DivergenceError(self._divergence_message(lr), self.epoch + 1)
        self._pos, self.updates = self._pos + len(order), self.updates + int(updates)
        weight = len(order) if self.w is None else float(self.w[order].sum())
        self._sums = [a + b for a, b in zip(self._sums, (loss_sum, correct, len(order), weight))]

    def _reference(self, params, order, lr):
        """Mini-batch updates over the tokens X[order]: forward, loss, backward, optimizer step.
        Returns (the sum of the token losses, each before its update, weighted; correct tokens; updates)."""
        loss_sum, correct, b = 0.0, 0, self._batch_size
        for s in range(0, len(order), b):
            idx = order[s:s + b]
            x, t, w = self.X[idx], self.t[idx], None if self.w is None else self.w[idx]
            z, tape = self.model.forward(x)
            L, dz = self.loss.value_and_grad(z, t, w)
            batch_len = len(idx) if w is None else float(w.sum())
            loss_sum, correct = loss_sum + L * batch_len, correct + self.loss.correct(z, t)
            self.optimizer.step(params, self.model.backward(tape, dz), lr, batch_len)
        return loss_sum, correct, -(-len(order) // b)

    def _divergence_message(self, lr):
        scale = float(max(np.abs(self.X).max(), np.abs(self.t).max() if self.model.task == "regression" else 0))
        data = f", or scale the data (its values reach {scale:.3g}; standardise them)" if scale > 100 else ""
        return (f"training diverged in epoch {self.epoch + 1}: the loss or the weights became NaN or infinite with "
                f"learning rate {lr:g}; try a smaller learning rate{data} (the model keeps its last finite weights)")

    def _end_epoch(self):
        loss_sum, correct, seen, weight = self._sums
        self.epoch += 1
        record = {"epoch": self.epoch, "loss": loss_sum / weight if weight > 0 else 0.0, "updates": self.updates,
                  "lr": self.schedule(self.lr0, self.epoch - 1), "seconds": time.perf_counter() - self._t0}
        if self.model.task == "classification":
            record["accuracy"] = correct / seen
        if self.Xv is not None:
            z = self.model.forward(self.Xv)[0]
            record["val_loss"] = self.loss.value_and_grad(z, self.tv)[0]
            record["val_accuracy"] = self.loss.correct(z, self.tv) / len(z) if "accuracy" in record else None
        self._order = None
        self.history.append(record)
        return record

    # ----------------------------------------------------------------- the loop with stop rules
    def fit(self, epochs=100, target_loss=None, patience=None, min_delta=0.0, restore_best=True):
        """Train until a stop rule fires; returns the History (its stop_reason says which rule).

        Stop rules: `epochs` (the most epochs), `target_loss` (the epoch's training loss is at most this: the
        lecture's "until the loss is small enough"), `patience` (no improvement of more than `min_delta` in the
        validation loss, or the training loss without validation, for that many epochs). With validation data
        and restore_best, the weights of the best validation epoch are restored.
        """
        epochs, min_delta = count("epochs", epochs), number("min_delta", min_delta)
        patience = None if patience is None else count("patience", patience, positive=True)
        target_loss = None if target_loss is None else number("target loss", target_loss)
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
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise RelunetError(f"validation_data must be a pair (X, y), got {validation_data!r}")
            Xv, tv = self.model.check_input(validation_data[0], "validation data"), \
                self.model.encode_labels(validation_data[1], "validation labels")
            if len(Xv) != len(tv) or len(Xv) == 0:
                raise RelunetError(f"validation data has {len(Xv)} rows and {len(tv)} labels")
            return X, t, w, Xv, tv
        n_val = int(round(number("validation fraction", validation) * len(X)))
        if validation >= 1 or (validation > 0 and not 1 <= n_val < len(X)):
            raise RelunetError(f"validation fraction must be in [0, 1) and leave tokens for training and "
                               f"validation out of {len(X)}, got {validation!r}")
        if n_val == 0:
            return X, t, w, None, None
        perm = self.rng.permutation(len(X))
        va, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        return X[tr], t[tr], None if w is None else w[tr], X[va], t[va]


def fit(model, X, y, *, epochs=100, target_loss=None, patience=None, min_delta=0.0, restore_best=True, **options):
    """Train `model` on (X, y) and return the History; see Trainer for the options.

    Raises DivergenceError (naming the epoch and the likely cause) if the loss or the weights become NaN or
    infinite; the model then keeps its last finite weights.
    """
    return Trainer(model, X, y, **options).fit(epochs, target_loss, patience, min_delta, restore_best)
