"""ReLUNetClassifier and ReLUNetRegressor: MLPClassifier's and MLPRegressor's signatures over relunet.

Each class says how its targets are encoded for the network and how the network's outputs become
predictions; everything else is in _base.py.
"""

import numpy as np
from scipy.special import logsumexp
from sklearn.base import ClassifierMixin, RegressorMixin, _fit_context
from sklearn.metrics import accuracy_score, r2_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils import column_or_1d
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import validate_data

from ..engine.errors import RelunetError
from . import _engine
from ._base import PARAMETER_CONSTRAINTS, ReLUNetBase, _rows


def _stochastic(est):
    if est.solver not in ("sgd", "adam"):
        raise AttributeError(f"partial_fit is only available for stochastic optimizers. {est.solver} is not "
                             "stochastic.")
    return True


class ReLUNetClassifier(ClassifierMixin, ReLUNetBase):
    """A multi-layer network classifier trained by relunet, with MLPClassifier's parameters and attributes.

    Parameters, as sklearn.neural_network.MLPClassifier (same defaults and validation): hidden_layer_sizes,
    activation ('relu', 'tanh', 'logistic', 'identity', and relunet's 'leaky_relu' with slope 0.01),
    solver ('adam', 'sgd', 'lbfgs'), alpha, batch_size, learning_rate ('constant', 'invscaling',
    'adaptive'), learning_rate_init, power_t, max_iter, shuffle, random_state, tol, verbose, warm_start,
    momentum, nesterovs_momentum, early_stopping, validation_fraction, beta_1, beta_2, epsilon,
    n_iter_no_change, max_fun.

    relunet's additions:
        class_weight: None, 'balanced', {label: weight} (or a list of such dicts, one per label, for
            multi-label targets): each row's sample weight is multiplied by its class's weight.
        binary_output: 'logistic' (scikit-learn's single sigmoid output for two classes) or 'softmax'
            (relunet's two softmax outputs, as in the lecture).
        callbacks: a function cb(estimator, history), or a list of them, called after every epoch (every
            L-BFGS iteration); history is {"loss", "validation_score", "validation_loss", "n_iter"}. A
            callback that returns True stops training.
        target_loss: stop as soon as an epoch's training loss is at most this (the lecture's rule).
        dtype: None (the input's: float32 stays float32, as in scikit-learn), 'float32' or 'float64'.

    Attributes: classes_, loss_, best_loss_, loss_curve_, validation_scores_, best_validation_score_,
    validation_loss_curve_ (relunet's), n_iter_, t_, coefs_, intercepts_ (assignable), n_features_in_,
    feature_names_in_, n_layers_, n_outputs_, out_activation_, and model_ (the relunet MLP).
    """

    _parameter_constraints = {
        **PARAMETER_CONSTRAINTS,
        "class_weight": [None, dict, list, StrOptions({"balanced"})],
        "binary_output": [StrOptions({"logistic", "softmax"})],
    }

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam", alpha=0.0001,
                 batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5, max_iter=200,
                 shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False, momentum=0.9,
                 nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8, n_iter_no_change=10, max_fun=15000, class_weight=None, binary_output="logistic",
                 callbacks=None, target_loss=None, dtype=None):
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
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.class_weight = class_weight
        self.binary_output = binary_output
        self.callbacks = callbacks
        self.target_loss = target_loss
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to X (N, features) and y: (N,) labels or an (N, labels) multi-label indicator."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, classes=None):
        """One epoch over (X, y) from the current weights and optimizer state.

        `classes` (every label that can occur) is required on the first call, except for multi-label
        indicator targets, whose labels are their columns (relunet's addition).
        """
        if getattr(self, "classes_", None) is None and classes is None and type_of_target(y).startswith("multilabel"):
            classes = np.arange(np.shape(y)[1])
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Class labels (N,), or the (N, labels) indicator matrix for multi-label targets."""
        return self._predict_from_output(self._forward(X))

    def predict_proba(self, X):
        """Probabilities, columns in the order of classes_: (N, classes); per label for multi-label targets."""
        return self._proba(self._forward(X))

    def _proba(self, f):
        if self.out_activation_ == "logistic" and self.n_outputs_ == 1:
            p = f.ravel()
            return np.vstack([1 - p, p]).T
        return f

    def predict_log_proba(self, X):
        """log(predict_proba(X)); for softmax outputs computed from the logits, so it stays finite."""
        X = self._checked(X)
        if self.out_activation_ == "softmax":
            z = _engine.decision(self, X)
            return z - logsumexp(z, axis=1, keepdims=True)
        with np.errstate(divide="ignore"):
            return np.log(self._proba(self._output(X)))

    def decision_function(self, X):
        """The output excitation z^(L) (relunet's addition): (N,) for two classes (the logit of classes_[1]),
        else (N, outputs), one column per class or label."""
        z = _engine.decision(self, self._checked(X))
        if self.out_activation_ == "softmax" and self._label_binarizer.y_type_ == "binary":
            return z[:, 1] - z[:, 0]  # the two-way softmax's log-odds, as one logistic unit's z
        return z.ravel() if self.n_outputs_ == 1 else z

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    # ----------------------------------------------------------------- targets, as MLPClassifier
    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if (not hasattr(self, "classes_")) or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer()
            self._label_binarizer.fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError("warm_start can only be used where `y` has the same classes as in the "
                                     f"previous call to fit. Previously got {self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has {self.classes_}. "
                                 f"'y' has {classes}.")
        return _rows(X), self._label_binarizer.transform(y).astype(bool)

    def _weigh_classes(self, sample_weight, Y, incremental):
        if self.class_weight is None:
            return sample_weight
        if incremental and self.class_weight == "balanced":
            raise ValueError("class_weight 'balanced' is not supported for partial_fit; pass the weights of "
                             "sklearn.utils.class_weight.compute_class_weight('balanced', classes=classes, y=y) "
                             "as a dict")
        multilabel = self._label_binarizer.y_type_.startswith("multilabel")
        target = Y.astype(int) if multilabel else self._label_binarizer.inverse_transform(Y)
        cw = compute_sample_weight(self.class_weight, target)
        return cw if sample_weight is None else sample_weight * cw

    def _two_way_softmax(self):
        return self.binary_output == "softmax" and len(self.classes_) == 2 and self._label_binarizer.y_type_ == "binary"

    def _network_outputs(self, Y):
        return 2 if self._two_way_softmax() else Y.shape[1]

    def _output_and_loss(self, Y):
        if self._label_binarizer.y_type_ == "multiclass" or self._two_way_softmax():
            return "softmax", "cross_entropy"
        return "logistic", "logistic"  # two classes (one output) and multi-label (one output per label)

    def _engine_targets(self, Y):
        if self._loss == "cross_entropy":
            return Y[:, 0].astype(np.intp) if Y.shape[1] == 1 else Y.argmax(axis=1).astype(np.intp)
        return Y.astype(self.model_.dtype)

    def _score_targets(self, Y):
        return self._label_binarizer.inverse_transform(Y)

    def _predict_from_output(self, f):
        if self.out_activation_ == "softmax" and self._label_binarizer.y_type_ == "binary":
            f = f[:, 1]  # relunet's two-way softmax: the second class's probability, as one logistic unit
        elif self.n_outputs_ == 1:
            f = f.ravel()
        return self._label_binarizer.inverse_transform(f)

    @staticmethod
    def _score_function(y, y_pred, sample_weight):
        return accuracy_score(y, y_pred, sample_weight=sample_weight)


class ReLUNetRegressor(RegressorMixin, ReLUNetBase):
    """A multi-layer network regressor trained by relunet, with MLPRegressor's parameters and attributes.

    loss: 'squared_error' (identity output; the reported loss is scikit-learn's half mean squared error
    averaged over the outputs) or 'poisson' (exp output, half Poisson deviance as scikit-learn's; y >= 0).
    The other parameters and attributes are ReLUNetClassifier's, without classes_, class_weight and
    binary_output. y may have several columns; predict returns (N,) when there is one.
    """

    _parameter_constraints = {**PARAMETER_CONSTRAINTS, "loss": [StrOptions({"squared_error", "poisson"})]}

    def __init__(self, loss="squared_error", hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, batch_size="auto", learning_rate="constant", learning_rate_init=0.001, power_t=0.5,
                 max_iter=200, shuffle=True, random_state=None, tol=1e-4, verbose=False, warm_start=False,
                 momentum=0.9, nesterovs_momentum=True, early_stopping=False, validation_fraction=0.1, beta_1=0.9,
                 beta_2=0.999, epsilon=1e-8, n_iter_no_change=10, max_fun=15000, callbacks=None, target_loss=None,
                 dtype=None):
        self.loss = loss
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
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.callbacks = callbacks
        self.target_loss = target_loss
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the network to X (N, features) and y (N,) or (N, outputs)."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    @available_if(_stochastic)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over (X, y) from the current weights and optimizer state."""
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X):
        """Predicted targets: (N,) for one output, else (N, outputs)."""
        return self._predict_from_output(self._forward(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.positive_only = self.loss == "poisson"
        return tags

    # ----------------------------------------------------------------- targets, as MLPRegressor
    def _validate_input(self, X, y, incremental, reset):
        X, y = validate_data(self, X, y, accept_sparse=["csr", "csc"], multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if self.loss == "poisson" and np.any(y < 0):
            raise RelunetError(f"loss='poisson' needs targets y >= 0, got {float(np.min(y))!r}")
        return _rows(X), y.reshape(len(y), -1)

    def _weigh_classes(self, sample_weight, Y, incremental):
        return sample_weight

    def _network_outputs(self, Y):
        return Y.shape[1]

    def _output_and_loss(self, Y):
        return ("exp", "poisson") if self.loss == "poisson" else ("identity", "mse")

    def _engine_targets(self, Y):
        return Y.astype(self.model_.dtype)

    def _score_targets(self, Y):
        return Y

    def _predict_from_output(self, f):
        return f.ravel() if f.shape[1] == 1 else f

    @staticmethod
    def _score_function(y, y_pred, sample_weight):
        return r2_score(y, y_pred, sample_weight=sample_weight)
