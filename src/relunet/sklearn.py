"""scikit-learn estimators over relunet's engine: ReLUNetClassifier and ReLUNetRegressor.

Parameters carry MLPClassifier's names where the meaning is the same, so code written for
``sklearn.neural_network`` runs with relunet by changing the import:

    >>> from relunet.sklearn import ReLUNetClassifier
    >>> clf = ReLUNetClassifier(hidden_layer_sizes=(64, 64), activation="leaky_relu", random_state=0)
    >>> clf.fit(X_train, y_train).score(X_test, y_test)

The training objective is scikit-learn's: for a batch B with sample weights w (all 1 by default),

    L_B = sum_{n in B} w_n l(z_n, y_n) / sum_B w  +  alpha/2 ||W||^2 / sum_B w

with l the softmax cross-entropy (classifier) or 1/2 sum_k (z_k - y_k)^2 (regressor). Its gradient is
relunet's dL/dz = w_n (f_n - y_n) / sum_B w back-propagated by the engine, and the L2 term is the engine
optimizer's weight decay alpha / sum_B w (alpha / batch_size without weights). So a weight of 2 is the
same as repeating a row while the batch holds the whole data set (batch_size="auto" below 200 rows).

After fitting, ``model_`` is the relunet MLP itself (use it with relunet.pwl, the plots, relunet.save),
and ``coefs_``/``intercepts_`` are views of its weights in scikit-learn's (fan_in, fan_out) layout.
"""

import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

try:  # private in scikit-learn 1.3-1.9, but the one function that gives its exact sample_weight errors
    from sklearn.utils.validation import _check_sample_weight
except ImportError:  # pragma: no cover - a future scikit-learn
    _check_sample_weight = None

from .data import bounding_box
from .engine.errors import DivergenceError
from .engine.model import MLP
from .engine.losses import LOSSES, TASK_LOSS, softmax
from .engine.optim import SGD, Adam, Momentum, make_schedule

#: scikit-learn's activation names -> relunet's (the one place they are translated).
ACTIVATION_NAMES = {"relu": "relu", "leaky_relu": "leaky_relu", "tanh": "tanh", "logistic": "sigmoid",
                    "sigmoid": "sigmoid", "identity": "identity"}
SOLVERS = ("sgd", "adam")
LEARNING_RATES = ("constant", "invscaling", "adaptive", "step")


class _ReLUNetBase(BaseEstimator):
    """Shared fitting code; see ReLUNetClassifier for the parameters."""

    _task = None

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 n_iter_no_change=10, dtype="float64", target_loss=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.dtype = dtype
        self.target_loss = target_loss

    # ----------------------------------------------------------------- public API
    def fit(self, X, y, sample_weight=None):
        """Train from fresh initial weights for at most max_iter epochs.

        Args:
            X: (N, features) inputs. y: (N,) labels (classifier), (N,) or (N, outputs) targets (regressor).
            sample_weight: (N,) non-negative weights, or None for all 1.
        """
        self._check_params()
        X, t, w = self._validate_fit_data(X, y, sample_weight, reset=True)
        self._initialize(X, t)
        self._run(X, t, w, epochs=self.max_iter, incremental=False)
        return self

    def _partial_fit(self, X, y, sample_weight=None, classes=None):
        self._check_params()
        if self.early_stopping:
            raise ValueError("partial_fit does not support early_stopping=True; use fit, or set early_stopping=False")
        first = not hasattr(self, "model_")
        X, t, w = self._validate_fit_data(X, y, sample_weight, reset=first, classes=classes, partial=True)
        if first:
            self._initialize(X, t)
        self._run(X, t, w, epochs=1, incremental=True)
        return self

    @property
    def coefs_(self):
        """W^(l) transposed, as views: scikit-learn's list of (fan_in, fan_out) arrays."""
        check_is_fitted(self, "model_")
        return [lin.W.T for lin in self.model_.linears]

    @property
    def intercepts_(self):
        """b^(l) as views: scikit-learn's list of (fan_out,) arrays."""
        check_is_fitted(self, "model_")
        return [lin.b for lin in self.model_.linears]

    @property
    def n_layers_(self):
        check_is_fitted(self, "model_")
        return len(self.model_.sizes)

    @property
    def n_outputs_(self):
        """Output units of the network (one per class for the classifier: relunet always uses softmax)."""
        check_is_fitted(self, "model_")
        return self.model_.n_outputs

    def _decision(self, X):
        """z^(L) for new inputs (after scikit-learn's input checks).  X: (N, features) -> (N, outputs)."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=self._np_dtype())
        return self.model_.decision_function(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        tags.input_tags.allow_nan = False
        return tags

    # ----------------------------------------------------------------- checks
    def _np_dtype(self):
        if self.dtype not in ("float64", "float32"):
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        return np.dtype(self.dtype).type

    def _hidden_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, numbers.Integral) else list(sizes)
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s > 0 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got {self.hidden_layer_sizes!r}")
        return [int(s) for s in sizes]

    def _check_params(self):
        """scikit-learn validates parameters in fit, not __init__ (so clone and set_params never fail)."""
        self._hidden_sizes()
        self._np_dtype()
        if self.activation not in ACTIVATION_NAMES:
            raise ValueError(f"activation must be one of {sorted(ACTIVATION_NAMES)}, got {self.activation!r}")
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be 'sgd' or 'adam', got {self.solver!r} (relunet has no lbfgs)")
        if self.learning_rate not in LEARNING_RATES:
            raise ValueError(f"learning_rate must be one of {LEARNING_RATES}, got {self.learning_rate!r}")
        if not (self.batch_size == "auto" or (isinstance(self.batch_size, numbers.Integral)
                                              and not isinstance(self.batch_size, bool) and self.batch_size >= 1)):
            raise ValueError(f"batch_size must be 'auto' or a positive integer, got {self.batch_size!r}")
        _number("alpha", self.alpha, low=0)
        _number("learning_rate_init", self.learning_rate_init, low=0, open_low=True)
        _number("power_t", self.power_t, low=0)
        _number("tol", self.tol, low=0)
        _number("momentum", self.momentum, low=0, high=1)
        _number("validation_fraction", self.validation_fraction, low=0, high=1, open_low=True)
        _number("beta_1", self.beta_1, low=0, high=1)
        _number("beta_2", self.beta_2, low=0, high=1)
        _number("epsilon", self.epsilon, low=0, open_low=True)
        if self.target_loss is not None:
            _number("target_loss", self.target_loss, low=0)
        for name in ("max_iter", "n_iter_no_change"):
            v = getattr(self, name)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")

    def _validate_fit_data(self, X, y, sample_weight, reset, classes=None, partial=False):
        dtype = self._np_dtype()
        X, y = validate_data(self, X, y, reset=reset, dtype=dtype, multi_output=self._task == "regression",
                             y_numeric=self._task == "regression")
        t = self._encode_targets(y, reset, classes, partial)
        w = None
        if sample_weight is not None:
            if _check_sample_weight is not None:
                w = _check_sample_weight(sample_weight, X, dtype=np.float64)
            else:  # pragma: no cover
                w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
            if w.shape != (len(X),) or np.any(w < 0) or not np.all(np.isfinite(w)):
                raise ValueError(f"sample_weight must be {len(X)} finite non-negative numbers")
            if reset and self._task == "classification" and len(np.unique(t[w > 0])) < 2:
                raise ValueError("ReLUNetClassifier needs rows of at least 2 classes with a positive sample_weight")
        return X, t, w

    def _initialize(self, X, t):
        """A fresh relunet MLP, optimizer and random stream (fit always starts here; partial_fit once)."""
        rs = check_random_state(self.random_state)
        self._rng = np.random.default_rng(rs.randint(np.iinfo(np.int32).max))
        act = ACTIVATION_NAMES[self.activation]
        n_out = self._n_model_outputs(t)
        self.model_ = MLP([X.shape[1]] + self._hidden_sizes() + [n_out], act, self._task,
                          classes=getattr(self, "classes_", None) if self._task == "classification" else None,
                          dtype=self.dtype, seed=self._rng)
        self.model_.box = bounding_box(X)
        # the settings, kept in relunet model files for the record (JSON-able values only)
        self.model_.training = {k: v for k, v in self.get_params().items()
                                if isinstance(v, (str, int, float, bool, type(None)))}
        self.model_.training["hidden_layer_sizes"] = self._hidden_sizes()
        if self.solver == "sgd":
            mu = float(self.momentum)
            self._optimizer = Momentum(mu, nesterov=bool(self.nesterovs_momentum) and mu > 0) if mu else SGD()
        else:
            self._optimizer = Adam(betas=(self.beta_1, self.beta_2), eps=self.epsilon)
        self._lr = float(self.learning_rate_init)
        if self.solver == "sgd" and self.learning_rate == "invscaling":
            self._schedule = make_schedule("invscaling", power=self.power_t)
        elif self.solver == "sgd" and self.learning_rate == "step":
            self._schedule = make_schedule("step")
        else:
            self._schedule = make_schedule("constant")
        self._lr0 = float(self.learning_rate_init)
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_, self.validation_loss_curve_ = [], []
            self.best_validation_score_, self.best_loss_ = -np.inf, None
        else:
            self.validation_scores_ = self.validation_loss_curve_ = self.best_validation_score_ = None
            self.best_loss_ = np.inf

    # ----------------------------------------------------------------- training
    def _run(self, X, t, w, epochs, incremental):
        """Up to `epochs` epochs with scikit-learn's stop rules (tol, n_iter_no_change, early_stopping)."""
        Xv = tv = wv = None
        if self.early_stopping:
            X, Xv, t, tv, w, wv = self._split(X, t, w)
        n = len(X)
        batch = min(200, n) if self.batch_size == "auto" else int(self.batch_size)
        if batch > n and self.batch_size != "auto":
            warnings.warn(f"batch_size {batch} is larger than the {n} training rows; it is clipped to {n}")
            batch = n
        bar = None
        if self.verbose:
            from .progress import ProgressBar

            bar = ProgressBar(epochs, force=True, desc=type(self).__name__)
            bar.on_train_begin(None)
        best_weights = None
        stopped = False
        try:
            for _ in range(epochs):
                lr = self._schedule(self._lr0, self.n_iter_)
                if self.learning_rate == "adaptive" and self.n_iter_:
                    lr = self._lr  # 'adaptive' divides the current rate by 5 (below)
                self._lr = lr
                loss = self._epoch(X, t, w, batch)
                self.n_iter_ += 1
                self.t_ += n
                self.loss_curve_.append(loss)
                record = {"loss": loss}
                if self.early_stopping:
                    score = self._validation_score(Xv, tv, wv)
                    self.validation_scores_.append(score)
                    record["val_loss"] = self.validation_loss_curve_[-1]
                    improved = score >= self.best_validation_score_ + self.tol
                    if score > self.best_validation_score_:
                        self.best_validation_score_ = score
                        best_weights = self.model_.get_weights()
                else:
                    improved = loss <= self.best_loss_ - self.tol
                    self.best_loss_ = min(self.best_loss_, loss)
                self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
                if bar is not None:
                    bar.on_epoch_end(None, record)
                if self.target_loss is not None and loss <= self.target_loss:
                    stopped = True
                    break
                if self._no_improvement_count > self.n_iter_no_change:
                    if self.learning_rate == "adaptive" and self.solver == "sgd" and self._lr > 1e-6:
                        self._lr = self._lr / 5.0
                        self._no_improvement_count = 0
                    else:
                        stopped = True
                        break
        finally:
            if bar is not None:
                bar.on_train_end(None)
        if not incremental and not stopped:
            warnings.warn(f"{type(self).__name__}: maximum iterations ({self.max_iter}) reached and the "
                          f"optimization hasn't converged yet.", ConvergenceWarning)
        if best_weights is not None:
            self.model_.set_weights(best_weights)

    def _epoch(self, X, t, w, batch):
        """One pass over (X, t) in mini-batches; returns scikit-learn's epoch loss (with the L2 penalty)."""
        model, opt, alpha = self.model_, self._optimizer, float(self.alpha)
        lossf = LOSSES[TASK_LOSS[self._task]]()
        n = len(X)
        if self.shuffle:
            order = self._rng.permutation(n)
            X, t = np.take(X, order, axis=0), np.take(t, order, axis=0)
            w = None if w is None else w[order]
        saved = model.get_weights()
        params = model.parameters()
        total = 0.0
        with np.errstate(all="ignore"):
            for s in range(0, n, batch):
                xb, tb = X[s:s + batch], t[s:s + batch]
                wb = None if w is None else w[s:s + batch]
                z, tape = model.forward(xb)
                loss, dz, sw = _weighted_loss(lossf, z, tb, wb)
                if sw == 0:  # a batch of zero-weight rows carries no gradient
                    continue
                penalty = 0.5 * alpha * sum(float(np.vdot(lin.W, lin.W)) for lin in model.linears) / sw
                total += (loss + penalty) * len(xb)
                grads = model.backward(tape, dz)
                opt.weight_decay = alpha / sw  # scikit-learn's alpha W / sum_B w
                opt.step(params, grads, self._lr)
        loss = total / n
        if not np.isfinite(loss) or not all(np.all(np.isfinite(p)) for p in model.get_weights()):
            model.set_weights(saved)
            raise DivergenceError(
                f"training diverged in epoch {self.n_iter_ + 1}: the loss became {loss} with learning rate "
                f"{self._lr:g}; scale the inputs or lower learning_rate_init (the model keeps its last finite weights)",
                self.n_iter_ + 1)
        return loss

    def _split(self, X, t, w):
        seed = int(self._rng.integers(np.iinfo(np.int32).max))
        stratify = t if self._task == "classification" else None
        arrays = (X, t) if w is None else (X, t, w)
        parts = train_test_split(*arrays, test_size=self.validation_fraction, random_state=seed, stratify=stratify)
        if len(parts[1]) < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of "
                             "your dataset.")
        if w is None:
            return parts[0], parts[1], parts[2], parts[3], None, None
        return parts

    def _validation_score(self, Xv, tv, wv):
        z = self.model_.decision_function(Xv)
        lossf = LOSSES[TASK_LOSS[self._task]]()
        self.validation_loss_curve_.append(_weighted_loss(lossf, z, tv, wv)[0])
        return self._score_encoded(z, tv, wv)


class ReLUNetClassifier(ClassifierMixin, _ReLUNetBase):
    """A multi-layer ReLU network classifier (softmax output, cross-entropy loss) trained by relunet.

    Parameters as in sklearn.neural_network.MLPClassifier where the meaning is the same:
        hidden_layer_sizes: widths of the hidden layers, e.g. (64, 64).
        activation: 'relu' (default), 'leaky_relu' (slope 0.01), 'tanh', 'logistic' (= relunet's
            'sigmoid'), 'identity'.
        solver: 'adam' (default) or 'sgd' (momentum in PyTorch's form, equal to scikit-learn's for a
            constant rate; nesterovs_momentum for Nesterov).
        alpha: L2 penalty; the gradient term is alpha W / batch_size, as in scikit-learn.
        batch_size: rows per update; 'auto' = min(200, n_samples).
        learning_rate: 'constant', 'invscaling' (lr0 / (1 + epoch)^power_t, counted in epochs),
            'adaptive' (divide by 5 when n_iter_no_change epochs do not improve by tol), or relunet's
            'step' (x0.1 every 30 epochs). Schedules apply to solver='sgd' only, as in scikit-learn.
        learning_rate_init, power_t, max_iter (epochs), shuffle, random_state, tol, verbose (a tqdm.auto
            progress bar), momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1,
            beta_2, epsilon, n_iter_no_change.
    relunet's own:
        dtype: 'float64' (default) or 'float32' for the weights and the arithmetic.
        target_loss: stop as soon as an epoch's training loss is at most this (the lecture's rule).

    Attributes: classes_, model_ (the relunet MLP), coefs_, intercepts_, loss_curve_, best_loss_,
    validation_scores_ and validation_loss_curve_ (with early_stopping), best_validation_score_,
    n_iter_, t_, n_features_in_, feature_names_in_, n_layers_, n_outputs_, out_activation_.
    """

    _task = "classification"

    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over (X, y), continuing from the current weights and optimizer state.

        `classes` (every label that can occur) is required on the first call.
        """
        return self._partial_fit(X, y, sample_weight, classes)

    def predict(self, X):
        """Class labels.  X: (N, features) -> (N,)."""
        z = self._decision(X)
        return self.classes_[z.argmax(axis=1)]

    def predict_proba(self, X):
        """Class probabilities f = softmax(z), columns in the order of classes_.  X: (N, features) -> (N, K)."""
        return softmax(self._decision(X))

    def predict_log_proba(self, X):
        """log f, computed stably from the logits.  X: (N, features) -> (N, K)."""
        z = self._decision(X)
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    @property
    def out_activation_(self):
        return "softmax"

    def _encode_targets(self, y, reset, classes, partial):
        check_classification_targets(y)
        if reset:
            if partial and classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            labels = np.unique(y) if classes is None else np.unique(np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(f"ReLUNetClassifier needs at least 2 classes in y, got 1 class "
                                 f"({labels.tolist()})")
            self.classes_ = labels
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={list(classes)} is not the same as on the first call to partial_fit "
                             f"({self.classes_.tolist()})")
        unknown = ~np.isin(y, self.classes_)
        if np.any(unknown):
            raise ValueError(f"y contains the label {y[unknown][0]!r}, which is not one of the classes "
                             f"{self.classes_.tolist()}")
        return np.searchsorted(self.classes_, y).astype(np.intp)

    def _n_model_outputs(self, t):
        return len(self.classes_)

    def _score_encoded(self, z, t, w):
        return float(np.average(z.argmax(axis=1) == t, weights=w))


class ReLUNetRegressor(RegressorMixin, _ReLUNetBase):
    """A multi-layer ReLU network regressor (linear output, squared error) trained by relunet.

    The parameters and attributes are ReLUNetClassifier's (there are no classes_). y may have several
    columns (multi-output regression); predict returns (N,) when there is one output.
    """

    _task = "regression"

    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y), continuing from the current weights and optimizer state."""
        return self._partial_fit(X, y, sample_weight)

    def predict(self, X):
        """Predicted targets.  X: (N, features) -> (N,) for one output, else (N, outputs)."""
        z = self._decision(X)
        return z[:, 0] if z.shape[1] == 1 else z

    @property
    def out_activation_(self):
        return "identity"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _encode_targets(self, y, reset, classes, partial):
        t = np.asarray(y, dtype=self._np_dtype())
        t = t.reshape(len(t), -1)
        if not reset and t.shape[1] != self.model_.n_outputs:
            raise ValueError(f"y has {t.shape[1]} outputs but the model was fitted with {self.model_.n_outputs}")
        return t

    def _n_model_outputs(self, t):
        return t.shape[1]

    def _score_encoded(self, z, t, w):
        from sklearn.metrics import r2_score

        return float(r2_score(t, z, sample_weight=w))


# --------------------------------------------------------------------------- helpers
def _weighted_loss(lossf, z, t, w):
    """(loss, dL/dz, sum of weights) for a batch: the engine's mean loss when w is None, else
    sum_n w_n l_n / sum_n w_n with dL/dz_n = w_n (prediction_n - target_n) / sum_n w_n.

    Shapes: z (N, K); t (N,) class indices or (N, K) targets; w (N,) or None.
    """
    loss, dz = lossf.value_and_grad(z, t, w)
    return loss, dz, float(len(z) if w is None else w.sum())


def _number(name, value, low=None, high=None, open_low=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low is not None and (value < low or (open_low and value == low)):
        raise ValueError(f"{name} must be {'above' if open_low else 'at least'} {low}, got {value!r}")
    if high is not None and value >= high:
        raise ValueError(f"{name} must be below {high}, got {value!r}")
