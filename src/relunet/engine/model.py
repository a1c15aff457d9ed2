"""The multi-layer perceptron: Linear layers with a hidden activation between them, linear output.

    z^(1) = x W^(1)T + b^(1),  h^(1) = g(z^(1)),  ...,  z^(L) = h^(L-1) W^(L)T + b^(L)

For classification the output z^(L) becomes f = softmax(z^(L)) and the prediction is argmax_k f_k; for
regression the output is z^(L) itself. ``MLP([2, 3])`` has no hidden layer: the lecture's linear
classifier argmax(W x + b). Shapes: X (N, sizes[0]); z^(L) (N, sizes[-1]); W^(l) (sizes[l], sizes[l-1]).
"""

import os

import numpy as np

from .activations import ACTIVATIONS, Activation, get_activation
from .errors import RelunetError
from .init import DEFAULT_INIT, as_generator, get_initializer
from .layers import Linear
from .losses import LOSSES, TASK_LOSS, TASK_LOSSES

TASKS = ("classification", "regression")
DTYPES = {"float64": np.float64, "float32": np.float32}
#: The largest |value| accepted in inputs and targets: beyond it products and squares in the network overflow.
MAX_MAGNITUDE = {"float64": 1e150, "float32": 1e15}


class Tape:
    """What one forward call keeps for its backward: the input x and every layer's z and h (h[0] is x)."""

    def __init__(self, x):
        self.h, self.z = [x], []


class MLP:
    """A multi-layer network of any depth.

    Args:
        sizes: layer widths [inputs, hidden..., outputs], e.g. [2, 64, 64, 3].
        activation: hidden activation name (ReLU default) or Activation, or one per hidden layer.
        task: "classification" or "regression".
        classes: the class labels, in output order (default 0..K-1); predictions are these labels.
        dtype: "float64" (default) or "float32".
        seed: an int or a numpy.random.Generator for the initial weights.
        init: "auto" (He for the ReLU family, Glorot otherwise), "he" or "glorot".
        loss: None (the task's default: "cross_entropy" or "mse"), or "logistic" / "poisson".
    """

    def __init__(self, sizes, activation="relu", task="classification", classes=None, dtype="float64",
                 seed=0, init="auto", loss=None):
        sizes = _check_sizes(sizes)
        if not isinstance(task, str) or task not in TASKS:
            raise RelunetError(f"unknown task {task!r}; choose classification or regression")
        n_hidden = len(sizes) - 2
        if isinstance(activation, (str, Activation)):
            names = [activation] * n_hidden
            get_activation(activation)  # checked even without hidden layers
        elif isinstance(activation, (list, tuple)):
            names = list(activation)
        else:
            raise RelunetError(f"activation must be a name, an Activation or a list of them, got {activation!r}")
        if len(names) != n_hidden:
            raise RelunetError(f"got {len(names)} activations for {n_hidden} hidden layers")
        self.sizes, self.task, self.dtype = sizes, task, _check_dtype(dtype)
        self.loss = TASK_LOSS[task] if loss is None else loss
        if not isinstance(self.loss, str) or self.loss not in TASK_LOSSES[task]:
            raise RelunetError(f"unknown loss {loss!r} for {task}; choose one of: {', '.join(TASK_LOSSES[task])}")
        _check_memory(sizes, self.dtype)
        self.activations = [get_activation(a) for a in names]  # each layer its own object
        self.linears = [Linear(i, o, self.dtype) for i, o in zip(sizes[:-1], sizes[1:])]
        self.classes = None
        if task == "classification":
            n_classes = 2 if sizes[-1] == 1 and self.loss == "logistic" else sizes[-1]
            if n_classes < 2:
                raise RelunetError("a classifier needs at least 2 outputs (one per class)")
            self.classes = _check_classes(classes, n_classes)
        if init not in ("auto", "he", "glorot"):
            get_initializer(init)
        self.init = init
        self.initialize(seed)
        self.box = None        # the training data's bounding box [x0, x1, y0, y1, ...], kept in model files
        self.training = None   # the training options, kept in model files for the record

    # ----------------------------------------------------------------- structure
    @property
    def activation_names(self):
        return [a.name for a in self.activations]

    @property
    def n_inputs(self):
        return self.sizes[0]

    @property
    def n_outputs(self):
        return self.sizes[-1]

    @property
    def depth(self):
        """The number of Linear layers (1 for the linear classifier, 2 for the lecture's network)."""
        return len(self.linears)

    def layers(self):
        """The layers in order: Linear, activation, Linear, ..., Linear."""
        out = []
        for i, lin in enumerate(self.linears):
            out += [lin] + self.activations[i:i + 1]
        return out

    def parameters(self):
        """The parameter arrays themselves, in order [W1, b1, W2, b2, ...]."""
        return [p for lin in self.linears for p in (lin.W, lin.b)]

    @property
    def n_parameters(self):
        return sum(p.size for p in self.parameters())

    def get_weights(self):
        """Copies of [W1, b1, W2, b2, ...]."""
        return [p.copy() for p in self.parameters()]

    def set_weights(self, weights):
        """Copy [W1, b1, W2, b2, ...] (or [(W1, b1), ...]) into the model; shapes must match."""
        if not isinstance(weights, (list, tuple)):
            raise RelunetError(f"weights must be a list [W1, b1, ...] or [(W1, b1), ...], got {weights!r}")
        if weights and all(isinstance(w, tuple) and len(w) == 2 for w in weights):
            weights = [a for pair in weights for a in pair]
        params = self.parameters()
        if len(weights) != len(params):
            raise RelunetError(f"expected {len(params)} arrays (W1, b1, ...), got {len(weights)}")
        for i, (p, w) in enumerate(zip(params, weights)):
            name = f"{'Wb'[i % 2]}{i // 2 + 1}"
            try:
                w = np.asarray(w, dtype=self.dtype)
            except (TypeError, ValueError):
                raise RelunetError(f"{name} must be numbers") from None
            if w.shape != p.shape:
                raise RelunetError(f"{name} must have shape {p.shape}, got {w.shape}")
            if not np.all(np.isfinite(w)):
                raise RelunetError(f"{name} contains NaN or infinite values")
            p[...] = w

    def initialize(self, seed=0):
        """Draw fresh initial weights from `seed` (an int or a Generator): W by `init`, b ~ U(+-1/sqrt(fan_in))."""
        rng = as_generator(seed)
        for i, lin in enumerate(self.linears):
            # A layer's initialiser follows the activation that consumes its output (the output layer
            # follows the last hidden one, or Glorot for the linear classifier).
            act = self.activations[min(i, len(self.activations) - 1)].name if self.activations else "identity"
            name = DEFAULT_INIT.get(act, "glorot") if self.init == "auto" else self.init
            lin.W[...] = get_initializer(name)(rng, lin.out_features, lin.in_features, self.dtype)
            # Biases as PyTorch draws them: with zero biases every hinge w_j x + b_j = 0 would pass through the
            # origin, leaving data away from it poorly covered.
            bound = 1.0 / np.sqrt(lin.in_features)
            lin.b[...] = rng.uniform(-bound, bound, lin.out_features)
        return self

    def copy(self):
        """An independent copy: same architecture, weights, classes, box and training record."""
        return self.astype(self.dtype.name)

    def activations_spec(self):
        """Fresh activation objects like this model's (same kinds, same leaky slope)."""
        return [get_activation(a) for a in self.activations]

    def astype(self, dtype):
        """A copy of this model with parameters in `dtype` ("float32" or "float64")."""
        other = MLP(self.sizes, self.activations_spec(), self.task, self.classes, dtype, init=self.init,
                    loss=self.loss)
        other.set_weights(self.get_weights())
        other.box = None if self.box is None else list(self.box)
        other.training = None if self.training is None else dict(self.training)
        return other

    # ----------------------------------------------------------------- forward / backward
    def forward(self, x):
        """(z^(L), tape) for a batch x (N, inputs): the output excitation, and what backward needs.

        The tape belongs to this call: other calls (predictions, say) never disturb it.
        """
        tape = Tape(x)
        for i, lin in enumerate(self.linears):
            z = lin.forward(tape.h[-1])
            tape.z.append(z)
            if i < len(self.activations):
                tape.h.append(self.activations[i].forward(z))
        return z, tape

    def backward(self, tape, dz, input_grad=False):
        """Back-propagate dz = dL/dz^(L) (N, outputs) through the layers of `tape`'s forward call.

        Returns the gradients [dW1, db1, dW2, db2, ...] (with dL/dx as well when input_grad); never
        changes a weight. Each step is the lecture's: dW = dz^T h, db = sum_n dz, dh = dz W, dz = dh g'(z).
        """
        grads = []
        for i in range(len(self.linears) - 1, -1, -1):
            dh, dW, db = self.linears[i].backward(tape.h[i], dz)
            grads[:0] = [dW, db]
            if i > 0:
                dz = self.activations[i - 1].backward(dh, tape.z[i - 1], tape.h[i])
        return (grads, dh) if input_grad else grads

    # ----------------------------------------------------------------- inference
    def check_input(self, X, where="input"):
        """X as a 2-D array in the model's dtype, or a clear error (wrong width, NaN, too large, not numbers)."""
        try:
            with np.errstate(over="ignore"):  # a value too large for float32 becomes inf, refused below
                X = np.asarray(X, dtype=self.dtype)
        except (TypeError, ValueError, OverflowError):
            raise RelunetError(f"{where} must be numbers") from None
        if X.ndim == 1 and self.n_inputs == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            got = X.shape[1] if X.ndim == 2 else f"shape {X.shape}"
            raise RelunetError(f"{where} has {got} features but the model expects {self.n_inputs}")
        _check_magnitude(X, where, self.dtype)
        return X

    def decision_function(self, X):
        """The output excitation z^(L) (logits for a classifier).  X: (N, inputs) -> (N, outputs)."""
        a = self.check_input(X)
        for i, lin in enumerate(self.linears):  # the forward pass without a tape: nothing is kept
            a = lin.forward(a)
            if i < len(self.activations):
                a = self.activations[i].forward(a)
        return a

    def predict_proba(self, X):
        """Class probabilities.  X: (N, inputs) -> (N, classes)."""
        self._need("classification", "predict_proba")
        f = LOSSES[self.loss]().output(self.decision_function(X))
        return np.hstack([1 - f, f]) if f.shape[1] == 1 else f

    def predict(self, X):
        """Class labels (classification) or outputs (regression; shape (N,) for one output)."""
        z = self.decision_function(X)
        if self.task == "classification":
            return self.classes[(z[:, 0] > 0).astype(int) if z.shape[1] == 1 else z.argmax(axis=1)]
        f = LOSSES[self.loss]().output(z)
        return f[:, 0] if self.n_outputs == 1 else f

    def score(self, X, y):
        """Accuracy (classification) or R^2 (regression) on (X, y)."""
        from .metrics import evaluate

        return evaluate(self, X, y)["accuracy" if self.task == "classification" else "r2"]

    def encode_labels(self, y, where="labels"):
        """Labels -> the loss's targets: class indices (N,) for cross-entropy, numbers (N, K) otherwise."""
        if self.task == "regression":
            try:
                with np.errstate(over="ignore"):
                    t = np.asarray(y, dtype=self.dtype)
            except (TypeError, ValueError, OverflowError):
                raise RelunetError(f"{where} must be numbers for regression") from None
            t = t.reshape(len(t), -1) if t.ndim in (1, 2) else t
            if t.ndim != 2 or t.shape[1] != self.n_outputs:
                raise RelunetError(f"{where} have shape {np.shape(y)} but the model has {self.n_outputs} outputs")
            _check_magnitude(t, where, self.dtype)
            if self.loss == "poisson" and np.any(t < 0):
                raise RelunetError(f"{where} must be counts at least 0 for the Poisson loss")
            return t
        idx = _class_indices(np.asarray(y), self.classes, where)
        if self.loss == "cross_entropy":
            return idx
        if self.n_outputs == 1:
            return idx.astype(self.dtype)[:, None]
        return np.eye(self.n_outputs, dtype=self.dtype)[idx]

    def fit(self, X, y, **options):
        """Train with relunet.fit (see there for the options); returns the History."""
        from .train import fit

        return fit(self, X, y, **options)

    def _need(self, task, what):
        if self.task != task:
            raise RelunetError(f"{what} is for {task} models; this model does {self.task}")

    def __repr__(self):
        acts = self.activation_names
        act = acts[0] if len(set(acts)) == 1 else acts
        act_s = f", activation={act!r}" if acts else ""
        return (f"MLP({self.sizes}{act_s}, task={self.task!r}, dtype={self.dtype.name!r}, "
                f"parameters={self.n_parameters})")


def _class_indices(y, classes, where):
    """Class labels -> output indices 0..K-1; a label must be one of `classes` exactly (1e20 is not 0)."""
    if y.ndim != 1:
        raise RelunetError(f"{where} must be one label per token, got an array of shape {y.shape}")
    if y.dtype.kind == "f" and classes.dtype.kind in "iu":
        exact = np.isfinite(y) & (np.abs(y) < 2 ** 53)
        exact[exact] &= y[exact] == np.round(y[exact])
        if not exact.all():
            raise RelunetError(f"{where} contain {y[~exact][0].item()!r}, which is not an exact small integer "
                               f"(the model's classes are {classes.tolist()})")
        y = y.astype(np.int64)
    order = np.argsort(classes)
    try:
        pos = np.clip(np.searchsorted(classes[order], y), 0, len(order) - 1)
        idx = order[pos]
        bad = classes[idx] != y
    except (TypeError, ValueError):
        raise RelunetError(f"{where} are not of the same kind as the model's classes {classes.tolist()}") from None
    if np.any(bad):
        raise RelunetError(f"{where} contain {y[bad][0].item()!r}, which is not one of the model's classes "
                           f"{classes.tolist()}")
    return idx.astype(np.intp)


def _check_magnitude(a, where, dtype):
    if not np.all(np.isfinite(a)):
        raise RelunetError(f"{where} contains NaN or infinite values")
    limit = MAX_MAGNITUDE[np.dtype(dtype).name]
    if a.size and np.abs(a).max() > limit:
        raise RelunetError(f"{where} has values up to {np.abs(a).max():.3g} in size; the most relunet accepts in "
                           f"{np.dtype(dtype).name} is {limit:g}, beyond which the network's arithmetic overflows "
                           f"(scale the data)")


def _check_classes(classes, n):
    if classes is None:
        return np.arange(n)
    try:
        classes = np.asarray(classes)
        ok = classes.shape == (n,) and classes.dtype.kind in "iufUSbO" and len(np.unique(classes)) == n
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise RelunetError(f"classes must be {n} distinct labels, got {classes!r}")
    return classes


def _check_sizes(sizes):
    if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
        raise RelunetError(f"layer sizes must be a list of positive integers, got {sizes!r}")
    sizes = list(sizes)
    if len(sizes) < 2:
        raise RelunetError(f"layer sizes need at least inputs and outputs, got {sizes}")
    for s in sizes:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)) or s < 1:
            raise RelunetError(f"layer sizes must be positive integers, got {s!r} in {sizes}")
    return [int(s) for s in sizes]


def _check_memory(sizes, dtype):
    """Refuse a network whose weights, gradients and optimizer state could not fit in this machine's memory
    (the operating system would otherwise kill the process without a word)."""
    n = sum((i + 1) * o for i, o in zip(sizes[:-1], sizes[1:]))
    need = 4 * n * np.dtype(dtype).itemsize  # weights, gradients, two optimizer buffers
    try:
        avail = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return
    if need > avail:
        raise RelunetError(f"a network of sizes {sizes} has {n:,} parameters and needs about {need / 2**30:.1f} GiB "
                           f"for training; this machine has {avail / 2**30:.1f} GiB")


def _check_dtype(dtype):
    try:
        name = dtype if isinstance(dtype, str) else np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in DTYPES:
        raise RelunetError(f"dtype must be float64 or float32, got {dtype!r}")
    return np.dtype(DTYPES[name])


__all__ = ["MLP", "Tape", "ACTIVATIONS", "TASKS", "DTYPES"]
