"""What the two estimators share: scikit-learn's parameters, when a fit starts afresh, the initial weights,
the epoch loop's learning rate and stop rules, and the weights seen as scikit-learn's coefs_/intercepts_.

The updates themselves are relunet's: one Trainer epoch per epoch for the solvers 'sgd' and 'adam' (the
epoch loss from its per-batch sums; see _engine.py), SciPy's L-BFGS-B over relunet's loss_and_gradients for
'lbfgs' (see _lbfgs.py). SciPy sparse input stays sparse and is densified a block of rows at a time.
This module decides only what scikit-learn's MLP decides, in its order and with its words.
"""

import warnings
from itertools import pairwise
from numbers import Integral, Real

import numpy as np
from scipy.sparse import issparse
from sklearn.base import BaseEstimator, is_classifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ..data import bounding_box
from ..engine.errors import DivergenceError, RelunetError
from . import _engine
from ._lbfgs import fit_lbfgs

#: scikit-learn 1.9's constraints for MLPClassifier/MLPRegressor, plus relunet's additions (marked).
PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions({"identity", "logistic", "tanh", "relu", "leaky_relu"})],  # + leaky_relu
    "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
    "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "power_t": [Interval(Real, 0, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "shuffle": ["boolean"],
    "random_state": ["random_state"],
    "tol": [Interval(Real, 0, None, closed="left")],
    "verbose": ["verbose"],
    "warm_start": ["boolean"],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "nesterovs_momentum": ["boolean"],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="left")],
    "beta_1": [Interval(Real, 0, 1, closed="left")],
    "beta_2": [Interval(Real, 0, 1, closed="left")],
    "epsilon": [Interval(Real, 0, None, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), Options(Real, {np.inf})],
    "max_fun": [Interval(Integral, 1, None, closed="left")],
    # relunet's
    "callbacks": [None, callable, list, tuple],
    "target_loss": [None, Interval(Real, 0, None, closed="left")],
    "dtype": [None, StrOptions({"float32", "float64"})],
}


class ReLUNetBase(BaseEstimator):
    """Shared fitting code; see ReLUNetClassifier for the parameters."""

    _parameter_constraints = PARAMETER_CONSTRAINTS

    # ----------------------------------------------------------------- the weights, scikit-learn's way
    @property
    def coefs_(self):
        """W^(l) transposed: scikit-learn's list of (fan_in, fan_out) arrays, views of the model's weights."""
        check_is_fitted(self, "model_")
        return _LayerList(self.model_, "W")

    @coefs_.setter
    def coefs_(self, arrays):
        _assign_all(self.model_, "W", arrays)

    @property
    def intercepts_(self):
        """b^(l): scikit-learn's list of (fan_out,) arrays, views of the model's biases."""
        check_is_fitted(self, "model_")
        return _LayerList(self.model_, "b")

    @intercepts_.setter
    def intercepts_(self, arrays):
        _assign_all(self.model_, "b", arrays)

    # ----------------------------------------------------------------- fit, as scikit-learn's _fit
    def _fit(self, X, y, sample_weight=None, incremental=False):
        hidden = self._hidden_layer_sizes()
        first_pass = not hasattr(self, "model_") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X)
        sample_weight = self._weigh_classes(sample_weight, Y, incremental)
        rs = check_random_state(self.random_state)
        if first_pass:
            units = [X.shape[1]] + hidden + [self._network_outputs(Y)]
            self._initialize(Y, units, self.dtype or X.dtype, rs)
            self.model_.box = _box(X)  # for relunet's plots of the input space, kept in model files
            self.model_.training = {k: v for k, v in self.get_params().items()
                                    if isinstance(v, (str, int, float, bool, type(None)))}
            self.model_.training["hidden_layer_sizes"] = hidden
        elif Y.shape[1] != self._target_columns:
            raise RelunetError(f"y has {Y.shape[1]} outputs but the network was fitted with {self._target_columns}")
        X = X.astype(self.model_.dtype, copy=False)
        T = self._engine_targets(Y)
        if self.solver == "lbfgs":
            fit_lbfgs(self, X, T, sample_weight)
        else:
            self._fit_stochastic(X, T, Y, sample_weight, incremental, rs)
        return self

    def _hidden_layer_sizes(self):
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if np.any(np.array(sizes) <= 0):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(s) for s in sizes]

    def _initialize(self, Y, units, dtype, rs):
        """A fresh network with scikit-learn's Glorot-uniform draws (the same random_state gives MLPClassifier's
        own initial weights), and fresh records."""
        self.n_iter_ = 0
        self.t_ = 0
        self.n_outputs_ = units[-1]
        self.n_layers_ = len(units)
        self._target_columns = Y.shape[1]
        self.out_activation_, self._loss = self._output_and_loss(Y)
        factor = 2.0 if self.activation == "logistic" else 6.0  # scikit-learn's choice for the sigmoid
        weights = []
        for fan_in, fan_out in pairwise(units):
            bound = np.sqrt(factor / (fan_in + fan_out))
            W = rs.uniform(-bound, bound, (fan_in, fan_out))
            b = rs.uniform(-bound, bound, fan_out)
            weights.append((np.ascontiguousarray(W.T, dtype=dtype), b.astype(dtype)))
        self.model_ = _engine.build_model(units, self.activation, self._loss, dtype, weights,
                                          getattr(self, "classes_", None) if self._loss == "cross_entropy" else None)
        self._best_weights = self.model_.get_weights()
        self._optimizer = None
        self.loss_curve_ = []
        self._no_improvement_count = 0
        if self.early_stopping and self.solver != "lbfgs":
            self.validation_scores_, self.validation_loss_curve_ = [], []
            self.best_validation_score_, self.best_loss_ = -np.inf, None
        else:
            self.validation_scores_ = self.validation_loss_curve_ = self.best_validation_score_ = None
            self.best_loss_ = np.inf

    # ----------------------------------------------------------------- sgd and adam: epochs of the Trainer
    def _fit_stochastic(self, X, T, Y, sample_weight, incremental, rs):
        if not incremental or self._optimizer is None:
            self._optimizer = _engine.new_optimizer(self)  # fresh state (velocity, Adam's m, v, t)
            self._learning_rate = float(self.learning_rate_init)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        early_stopping = self.early_stopping
        val = None
        if early_stopping:
            X, T, sample_weight, val = self._split_validation(X, T, Y, sample_weight, rs)
        n = X.shape[0]
        batch_size = self._batch_size(n)
        sample_idx = np.arange(n)
        try:
            self.n_iter_ = 0
            for _ in range(self.max_iter):
                if self.shuffle:
                    # sklearn.utils.shuffle(sample_idx, random_state=rs) as MLPClassifier calls it, without its
                    # input checks (a millisecond per epoch): the same draw, the same order
                    perm = np.arange(n)
                    rs.shuffle(perm)
                    sample_idx = sample_idx[perm]
                    Xe, Te = X[sample_idx], T[sample_idx]
                    we = None if sample_weight is None else sample_weight[sample_idx]
                else:
                    Xe, Te, we = X, T, sample_weight
                self.loss_ = _engine.run_epoch(self, Xe, Te, we, batch_size, self._current_rate())
                self.n_iter_ += 1
                self.t_ += n
                self.loss_curve_.append(self.loss_)
                if self.verbose:
                    print("Iteration %d, loss = %.8f" % (self.n_iter_, self.loss_))
                self._update_no_improvement_count(early_stopping, val)
                if self.solver == "sgd" and self.learning_rate == "invscaling":
                    self._set_rate(float(self.learning_rate_init) / (self.t_ + 1) ** self.power_t)
                if self._no_improvement_count > self.n_iter_no_change:
                    what = "Validation score did not improve" if early_stopping else "Training loss did not improve"
                    msg = f"{what} more than tol={self.tol:f} for {self.n_iter_no_change} consecutive epochs."
                    if self._trigger_stopping(msg):
                        break
                    self._no_improvement_count = 0
                if self._relunet_stop():
                    break
                if incremental:
                    break
                if self.n_iter_ == self.max_iter:
                    warnings.warn("Stochastic Optimizer: Maximum iterations (%d) reached and the optimization "
                                  "hasn't converged yet." % self.max_iter, ConvergenceWarning)
        except KeyboardInterrupt:
            warnings.warn("Training interrupted by user.")
        except DivergenceError:
            # relunet stops a diverging fit with its error (scikit-learn would go on with NaN weights), naming
            # the estimator's epoch; with early stopping the best validation epoch's weights are kept, as after
            # a normal end.
            if early_stopping:
                self.model_.set_weights(self._best_weights)
            raise
        if early_stopping:
            self.model_.set_weights(self._best_weights)

    def _split_validation(self, X, T, Y, sample_weight, rs):
        """(X, T, sample_weight) to train on and (X, T, y, sample_weight) to validate on. scikit-learn splits
        after drawing the initial weights, from the same random stream, and stratifies single-output
        classification only: these are MLPClassifier's rows."""
        stratify = Y if is_classifier(self) and Y.shape[1] == 1 else None
        train, test = train_test_split(np.arange(X.shape[0]), random_state=rs, test_size=self.validation_fraction,
                                       stratify=stratify)
        if len(test) < 2:
            raise ValueError("The validation set is too small. Increase 'validation_fraction' or the size of "
                             "your dataset.")
        sw_train, sw_val = (None, None) if sample_weight is None else (sample_weight[train], sample_weight[test])
        return X[train], T[train], sw_train, (X[test], T[test], self._score_targets(Y[test]), sw_val)

    def _batch_size(self, n):
        if self.batch_size == "auto":
            return min(200, n)
        if self.batch_size > n:
            warnings.warn("Got `batch_size` less than 1 or larger than sample size. It is going to be clipped")
        return int(np.clip(self.batch_size, 1, n))

    def _current_rate(self):
        return self._learning_rate if self.solver == "sgd" else float(self.learning_rate_init)

    def _set_rate(self, lr):
        """The learning rate of the next epochs (solver 'sgd'); the velocity stays scikit-learn's."""
        _engine.set_learning_rate(self._optimizer, self._learning_rate, lr)
        self._learning_rate = lr

    def _update_no_improvement_count(self, early_stopping, val):
        """scikit-learn's rule: count epochs that do not improve by tol (validation score, or training loss)."""
        if early_stopping:
            X_val, T_val, y_val, sw_val = val
            score = self._score_on(X_val, y_val, sw_val)
            self.validation_scores_.append(score)
            self.validation_loss_curve_.append(_engine.mean_loss(self, X_val, T_val, sw_val))
            if self.verbose:
                print("Validation score: %f" % score)
            if score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if score > self.best_validation_score_:
                self.best_validation_score_ = score
                self._best_weights = self.model_.get_weights()
        else:
            if self.loss_curve_[-1] > self.best_loss_ - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if self.loss_curve_[-1] < self.best_loss_:
                self.best_loss_ = self.loss_curve_[-1]

    def _trigger_stopping(self, msg):
        """Stop (adam, sgd with a fixed schedule), or divide the 'adaptive' rate by 5 and go on."""
        if self.solver != "sgd" or self.learning_rate != "adaptive":
            if self.verbose:
                print(msg + " Stopping.")
            return True
        if self._learning_rate <= 1e-6:
            if self.verbose:
                print(msg + " Learning rate too small. Stopping.")
            return True
        self._set_rate(self._learning_rate / 5.0)
        if self.verbose:
            print(msg + " Setting learning rate to %f" % self._learning_rate)
        return False

    def _relunet_stop(self):
        """relunet's stop rules after scikit-learn's: target_loss, then the callbacks (any may stop)."""
        if self.target_loss is not None and self.loss_ <= self.target_loss:
            if self.verbose:
                print(f"Training loss {self.loss_:.8f} reached target_loss={self.target_loss}. Stopping.")
            return True
        return self._run_callbacks()

    def _run_callbacks(self):
        callbacks = self.callbacks
        if callbacks is None:
            return False
        if callable(callbacks):
            callbacks = [callbacks]
        history = {"loss": self.loss_curve_, "validation_score": self.validation_scores_,
                   "validation_loss": self.validation_loss_curve_, "n_iter": self.n_iter_}
        stop = False
        for cb in callbacks:
            stop = bool(cb(self, history)) or stop  # every callback sees every epoch
        return stop

    # ----------------------------------------------------------------- prediction
    def _checked(self, X):
        """New inputs after scikit-learn's checks, in the network's dtype (SciPy sparse ones as CSR)."""
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse=["csr", "csc"], reset=False)
        return _rows(X).astype(self.model_.dtype, copy=False)

    def _forward(self, X):
        """The network's output f = out_activation(z^(L)) for new inputs.  X: (N, features) -> (N, outputs)."""
        return self._output(self._checked(X))

    def _output(self, X):
        with np.errstate(over="ignore"):
            return _engine.output(self, X)

    def _score_on(self, X, y, sample_weight):
        """scikit-learn's validation score (accuracy / R^2) on checked data; NaN when predictions are not finite."""
        f = self._output(X)
        if not np.all(np.isfinite(f)):
            return np.nan
        with np.errstate(over="ignore", invalid="ignore"):  # predictions of a fit about to diverge
            return self._score_function(y, self._predict_from_output(f), sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


# --------------------------------------------------------------------------- weights as scikit-learn's lists
class _LayerList(list):
    """Per-layer views of the model's weights (kind "W": W^T, (fan_in, fan_out); kind "b": b) that write an
    assigned item through to the model, so ``clf.coefs_[0] = W0`` changes the network as in scikit-learn."""

    def __init__(self, model, kind):
        super().__init__(_views(model, kind))
        self._model, self._kind = model, kind

    def __setitem__(self, i, value):
        _assign(self._model, self._kind, i, value)
        super().__setitem__(i, _views(self._model, self._kind)[i])


def _views(model, kind):
    return [lin.W.T if kind == "W" else lin.b for lin in model.linears]


def _assign(model, kind, i, value):
    lin = model.linears[i]
    target = lin.W.T if kind == "W" else lin.b
    value = np.asarray(value)
    if value.shape != target.shape:
        name = "coefs_" if kind == "W" else "intercepts_"
        raise RelunetError(f"{name}[{i}] must have shape {target.shape}, got {value.shape}")
    target[...] = value  # in place: the optimizer's state stays parallel to the same arrays


def _assign_all(model, kind, arrays):
    arrays = list(arrays)
    if len(arrays) != len(model.linears):
        name = "coefs_" if kind == "W" else "intercepts_"
        raise RelunetError(f"{name} needs {len(model.linears)} arrays, one per layer, got {len(arrays)}")
    for i, a in enumerate(arrays):
        _assign(model, kind, i, a)


def _rows(X):
    """SciPy sparse input stays sparse, as CSR (rows cheap to slice): the Trainer, the predictions and L-BFGS's
    loss densify a block of rows at a time (scikit-learn multiplies it sparse), so memory is bounded by a block."""
    return X.tocsr() if issparse(X) else np.asarray(X)


def _box(X):
    """bounding_box(X), from the columns' minima and maxima (without densifying sparse X)."""
    if not issparse(X):
        return bounding_box(X)
    return bounding_box(np.vstack([X.min(axis=0).toarray(), X.max(axis=0).toarray()]))
