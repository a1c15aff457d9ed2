"""Training: the lecture's loop, for any batch size, and the one place that picks the engine running it.

    repeat: choose training tokens, predict f(x), compute the loss, back-propagate, update W,
    until the loss is small enough (or another stop rule fires).

``Trainer`` holds one training run (model, data, optimizer, learning rate and schedule, random stream,
position in the epoch) and advances by single updates (``step``), whole epochs (``run_epoch``) or until a
stop rule (``fit``). An epoch is one pass over the training tokens in a fresh random order (or file order
without shuffle). With batch_size=1 each update uses one token: the lecture's per-sample SGD. An epoch's
loss and accuracy are the means over its tokens, each measured just before its update (as Keras and
scikit-learn report them). The updates run here (the reference) or in relunet.kernels (compiled, equal to
the reference to rounding); ``choose_backend`` decides.
"""

import copy
import math
import os
import time

import numpy as np

from .errors import DivergenceError, RelunetError
from .init import as_generator
from .losses import LOSSES
from .metrics import evaluate_encoded
from .model import MLP
from .optim import Optimizer, _number, make_optimizer, make_schedule

BACKENDS = ("auto", "reference", "kernel")


def choose_backend(backend, model, optimizer):
    """(kernels module, KernelConfig) when the compiled kernels run this training, None for the reference.

    "reference" (or the environment variable RELUNET_BACKEND=reference) always picks the reference; "auto"
    picks the kernels when Numba is installed and they support the network and optimizer; "kernel" insists.
    """
    if backend == "reference" or os.environ.get("RELUNET_BACKEND") == "reference":
        return None
    try:
        from .. import kernels
    except ImportError:
        kernels = None
    config = None
    if kernels is not None and kernels.available() and all(a.name in ACTIVATION_NAMES for a in model.activations):
        b1, b2 = getattr(optimizer, "betas", (0.9, 0.999))
        config = kernels.KernelConfig(
            activations=tuple((a.name, getattr(a, "slope", 0.0)) for a in model.activations), loss=model.loss,
            optimizer=optimizer.name, momentum=getattr(optimizer, "momentum", 0.0), beta1=b1, beta2=b2,
            eps=getattr(optimizer, "eps", 1e-8), eps_style=getattr(optimizer, "eps_style", "pytorch"),
            weight_decay=optimizer.weight_decay, decay_scaling=optimizer.decay_scaling)
        if not kernels.supports(config):
            config = None
    if config is None and backend == "kernel":
        raise RelunetError(f"the compiled kernels cannot train {model!r} with {optimizer!r} (is numba installed?); "
                           f"use backend='auto' or 'reference'")
    return None if config is None else (kernels, config)


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
        return f"History(epochs={len(self)}, loss={self.last().get('loss')}, stop_reason={self.stop_reason!r})"


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
        optimizer: "sgd", "momentum", "nesterov", "adam", or an Optimizer (which keeps its state).
        lr: the learning rate lr_0 (settable live as ``trainer.lr``); schedule: "constant", "invscaling",
            "step", or a callable (lr_0, epoch) -> lr. The Trainer is their one owner.
        momentum (for "momentum"/"nesterov"), weight_decay, decay_scaling: optimizer settings.
        batch_size: tokens per update; 1 is the lecture's per-sample SGD.
        shuffle: a fresh random order each epoch (True), the given order (False), or "replacement": each
            update draws its tokens at random with replacement, the lecture's "randomly choose a training token".
        validation: fraction of the tokens held out for validation, or validation_data=(Xv, yv).
        seed: int or numpy Generator for the validation split and the visiting order.
        callbacks: Callback objects or functions fn(trainer, record) that return True to stop.
        sample_weight: (N,) non-negative weights of the tokens in the loss.
        backend: "auto", "reference" or "kernel" (see choose_backend).
    """

    def __init__(self, model, X, y, *, optimizer="sgd", lr=0.01, momentum=0.9, weight_decay=0.0,
                 decay_scaling="constant", batch_size=1, schedule="constant", shuffle=True, validation=0.0,
                 validation_data=None, seed=0, callbacks=(), sample_weight=None, backend="auto"):
        if not isinstance(model, MLP):
            raise RelunetError(f"model must be a relunet MLP, got {model!r}")
        self.model = model
        X = model.check_input(X, "training data")
        t = model.encode_labels(y, "training labels")
        if len(X) == 0:
            raise RelunetError("training data is empty")
        if len(t) != len(X):
            raise RelunetError(f"training data has {len(X)} rows but {len(t)} labels")
        w = _check_weights(sample_weight, len(X), model.dtype)
        self.rng = as_generator(seed)
        self.X, self.t, self.w, self.Xv, self.tv, self.wv = self._split(X, t, w, validation, validation_data)
        self.batch_size = batch_size
        if not any(shuffle is s for s in (True, False)) and shuffle != "replacement":
            raise RelunetError(f"shuffle must be True, False or 'replacement', got {shuffle!r}")
        if backend not in BACKENDS:
            raise RelunetError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.shuffle, self.backend = shuffle, backend
        self.lr = lr
        self.schedule = make_schedule(schedule)
        self.set_optimizer(optimizer, momentum=momentum, weight_decay=weight_decay, decay_scaling=decay_scaling)
        if isinstance(callbacks, (str, bytes)) or not hasattr(callbacks, "__iter__"):
            raise RelunetError(f"callbacks must be a list of Callbacks or functions, got {callbacks!r}")
        self.callbacks = [c if isinstance(c, Callback) else _FunctionCallback(c) for c in callbacks]
        if not all(callable(c.fn) for c in self.callbacks if isinstance(c, _FunctionCallback)):
            raise RelunetError(f"callbacks must be Callbacks or functions, got {callbacks!r}")
        self.loss = LOSSES[model.loss]()
        self.history = History()
        self.epoch = 0          # completed epochs
        self.updates = 0        # optimizer steps so far
        self.stop_training = False
        self._order = None      # this epoch's visiting order, and how far along it we are
        self._pos = 0
        self._sums = [0.0, 0, 0, 0.0]  # this epoch's weighted loss sum, correct count, tokens, weight
        self._t0 = None

    # ----------------------------------------------------------------- settings
    @property
    def lr(self):
        """This epoch's learning rate: the schedule applied to lr_0. Setting it sets lr_0."""
        return self.schedule(self.lr0, self.epoch)

    @lr.setter
    def lr(self, value):
        self.lr0 = _number("learning rate", value, positive=True)

    @property
    def batch_size(self):
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 1:
            raise RelunetError(f"batch size must be a positive integer, got {value!r}")
        self._batch_size = int(value)

    def set_optimizer(self, optimizer, lr=None, momentum=0.9, weight_decay=None, decay_scaling=None):
        """Switch optimizer by name (fresh state) or to an Optimizer object (its own state); weights are kept."""
        old = getattr(self, "optimizer", None)
        if lr is not None:
            self.lr = lr
        if isinstance(optimizer, Optimizer):
            self.optimizer = optimizer
            return
        wd = (old.weight_decay if old else 0.0) if weight_decay is None else weight_decay
        ds = (old.decay_scaling if old else "constant") if decay_scaling is None else decay_scaling
        self.optimizer = make_optimizer(optimizer, momentum, wd, ds)

    # ----------------------------------------------------------------- stepping
    def _start_epoch(self):
        n = len(self.X)
        if self.shuffle == "replacement":
            self._order = self.rng.integers(0, n, n)
        else:
            self._order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        self._pos = 0
        self._sums = [0.0, 0, 0, 0.0]
        self._t0 = time.perf_counter()

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
        updates = _count("updates", updates, allow_zero=True)
        records = []
        while updates > 0:
            if self._order is None:
                self._start_epoch()
            k = min(updates, self.updates_left_in_epoch)
            self._run(k)
            updates -= k
            if self._pos >= len(self._order):
                records.append(self._end_epoch())
        return records

    def run_epoch(self):
        """Finish the current epoch (a whole one when none is under way); returns its record."""
        if self._order is None:
            self._start_epoch()
        self._run(self.updates_left_in_epoch)
        return self._end_epoch()

    def _run(self, k):
        """k updates from the current position; on divergence the weights and optimizer state before them
        are restored (they are finite: checked after the previous updates) and DivergenceError raised."""
        start, b = self._pos, self._batch_size
        order = self._order[start:min(len(self._order), start + k * b)]
        params, opt, lr = self.model.parameters(), self.optimizer, self.lr
        saved, saved_state = [p.copy() for p in params], copy.deepcopy(opt.state)
        engine = choose_backend(self.backend, self.model, opt)
        with np.errstate(all="ignore"):
            if engine is None:
                loss_sum, correct, updates = self._reference(params, order, lr)
            else:
                kernels, config = engine
                opt.init_state(params)
                loss_sum, correct, updates = kernels.train(config, params, opt.state, self.X, self.t, order, b, lr,
                                                           self.w)
            # The loss is measured before each update; the model after the last one is checked on its batch.
            finite = math.isfinite(loss_sum) and all(np.isfinite(p).all() for p in params) and \
                np.isfinite(self.model.forward(self.X[order[-b:]])[0]).all()
        if not finite:
            for p, s in zip(params, saved):
                p[...] = s
            opt.state = saved_state
            self._order = None
            raise DivergenceError(self._divergence_message(loss_sum, lr), self.epoch + 1)
        self._pos += len(order)
        self.updates += int(updates)
        w = len(order) if self.w is None else float(self.w[order].sum())
        self._sums = [self._sums[0] + loss_sum, self._sums[1] + correct, self._sums[2] + len(order),
                      self._sums[3] + w]

    def _reference(self, params, order, lr):
        """Mini-batch updates over the tokens X[order]: forward, loss, backward, optimizer step.
        Returns (sum of the token losses before their update, weighted; correct tokens; updates)."""
        model, loss, opt, b = self.model, self.loss, self.optimizer, self._batch_size
        loss_sum, correct = 0.0, 0
        for s in range(0, len(order), b):
            idx = order[s:s + b]
            x, t = self.X[idx], self.t[idx]
            w = None if self.w is None else self.w[idx]
            z, tape = model.forward(x)
            L, dz = loss.value_and_grad(z, t, w)
            batch_len = len(idx) if w is None else float(w.sum())
            loss_sum += L * batch_len
            correct += loss.correct(z, t)
            opt.step(params, model.backward(tape, dz), lr, batch_len)
        return loss_sum, correct, -(-len(order) // b)

    def _divergence_message(self, loss_sum, lr):
        scale = float(max(np.abs(self.X).max(), np.abs(self.t).max() if self.model.task == "regression" else 0))
        cause = f"try a smaller learning rate than {lr:g}"
        if scale > 100:
            cause += f", or scale the data (its values reach {scale:.3g}; standardising them usually helps)"
        what = f"the loss became {loss_sum / max(self._batch_size, 1):g}" if not math.isfinite(loss_sum) \
            else "the weights overflowed"
        return (f"training diverged in epoch {self.epoch + 1}: {what} with learning rate {lr:g}; {cause} "
                f"(the model keeps its last finite weights)")

    def _end_epoch(self):
        loss_sum, correct, seen, weight = self._sums
        self.epoch += 1
        record = {"epoch": self.epoch, "loss": loss_sum / weight if weight > 0 else 0.0,
                  "lr": self.schedule(self.lr0, self.epoch - 1), "updates": self.updates,
                  "seconds": time.perf_counter() - self._t0}
        if self.model.task == "classification":
            record["accuracy"] = correct / max(seen, 1)
        if self.Xv is not None:
            ev = evaluate_encoded(self.model, self.Xv, self.tv, self.wv)
            record["val_loss"], record["val_accuracy"] = ev["loss"], ev.get("accuracy")
        self._order = None
        self.history.append(record)
        return record

    # ----------------------------------------------------------------- the loop with stop rules
    def fit(self, epochs=100, target_loss=None, patience=None, min_delta=0.0, restore_best=True):
        """Train until a stop rule fires; returns the History (its stop_reason says which rule).

        Stop rules: `epochs` (the most epochs), `target_loss` (the epoch's training loss is at most this:
        the lecture's "until the loss is small enough"), `patience` (no improvement of more than `min_delta`
        in the validation loss, or the training loss without validation, for that many epochs). With
        validation data and restore_best, the weights of the best validation epoch are restored.
        """
        epochs = _count("epochs", epochs, allow_zero=True)
        patience = None if patience is None else _count("patience", patience)
        if target_loss is not None:
            _number("target loss", target_loss)
        min_delta = _number("min_delta", min_delta)
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
    def _split(self, X, t, w, validation, validation_data):
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise RelunetError("validation_data must be a pair (X, y)")
            Xv = self.model.check_input(validation_data[0], "validation data")
            tv = self.model.encode_labels(validation_data[1], "validation labels")
            if len(Xv) != len(tv) or len(Xv) == 0:
                raise RelunetError(f"validation data has {len(Xv)} rows and {len(tv)} labels")
            return X, t, w, Xv, tv, None
        frac = _number("validation fraction", validation) if not isinstance(validation, str) else -1.0
        if not (0.0 <= frac < 1.0):
            raise RelunetError(f"validation fraction must be in [0, 1), got {validation!r}")
        if frac == 0.0:
            return X, t, w, None, None, None
        n_val = int(round(frac * len(X)))
        if n_val < 1 or n_val >= len(X):
            raise RelunetError(f"a validation fraction of {frac} leaves no tokens for training or validation "
                               f"out of {len(X)}")
        perm = self.rng.permutation(len(X))
        va, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
        ws = (None, None) if w is None else (w[tr], w[va])
        return X[tr], t[tr], ws[0], X[va], t[va], ws[1]


def fit(model, X, y, *, epochs=100, target_loss=None, patience=None, min_delta=0.0, restore_best=True, **options):
    """Train `model` on (X, y) and return the History; see Trainer for the options.

    Raises DivergenceError (naming the epoch and the likely cause) if the loss or the weights become NaN or
    infinite; the model then keeps its last finite weights.
    """
    trainer = Trainer(model, X, y, **options)
    return trainer.fit(epochs, target_loss=target_loss, patience=patience, min_delta=min_delta,
                       restore_best=restore_best)


def _check_weights(sample_weight, n, dtype):
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=dtype)
    except (TypeError, ValueError):
        raise RelunetError(f"sample_weight must be numbers, got {sample_weight!r}") from None
    if w.shape != (n,):
        raise RelunetError(f"sample_weight must have one weight per token ({n}), got shape {w.shape}")
    if not (np.all(np.isfinite(w)) and np.all(w >= 0) and w.sum() > 0 and w.max() <= 1e150):
        raise RelunetError("sample_weight must be finite numbers at least 0 (at most 1e150), not all 0")
    return w


def _count(what, n, allow_zero=False):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < (0 if allow_zero else 1):
        raise RelunetError(f"{what} must be a {'non-negative' if allow_zero else 'positive'} integer, got {n!r}")
    return int(n)


ACTIVATION_NAMES = ("relu", "leaky_relu", "tanh", "sigmoid", "identity")
