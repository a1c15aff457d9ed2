"""The multi-layer perceptron: Linear layers with a hidden activation between them, linear output.

    z^(1) = x W^(1)T + b^(1),  h^(1) = g(z^(1)),  ...,  z^(L) = h^(L-1) W^(L)T + b^(L)

For classification the output z^(L) is turned into f = softmax(z^(L)) (``predict_proba``) and the
prediction is argmax_k f_k; for regression the output is z^(L) itself. ``MLP([2, 3])`` has no hidden
layer: it is the lecture's linear classifier argmax(W x + b), whose regions are convex.

Shapes: X (N, sizes[0]); logits (N, sizes[-1]); W^(l) (sizes[l], sizes[l-1]).
"""

import os

import numpy as np

from . import _kernels
from .activations import ACTIVATIONS, Activation, get_activation
from .errors import RelunetError
from .init import DEFAULT_INIT, as_generator, get_initializer
from .layers import Linear
from .losses import TASK_LOSS, row_max, row_sum

TASKS = ("classification", "regression")
DTYPES = {"float64": np.float64, "float32": np.float32}
_CHUNK = 2048  # rows per block in inference: keeps hidden activations in cache for large grids


class MLP:
    """A multi-layer network of any depth.

    Args:
        sizes: layer widths [inputs, hidden..., outputs], e.g. [2, 64, 64, 3].
        activation: hidden activation name (ReLU default), or one name per hidden layer.
        task: "classification" (softmax + cross-entropy) or "regression" (linear output + squared error).
        classes: the class labels, in output order (default 0..K-1); predictions are these labels.
        dtype: "float64" (default) or "float32".
        seed: an int or a numpy.random.Generator for the initial weights.
        init: "auto" (He for the ReLU family, Glorot otherwise), "he" or "glorot".
    """

    def __init__(self, sizes, activation="relu", task="classification", classes=None, dtype="float64",
                 seed=0, init="auto"):
        sizes = _check_sizes(sizes)
        if task not in TASKS:
            raise RelunetError(f"unknown task {task!r}; choose classification or regression")
        n_hidden = len(sizes) - 2
        names = [activation] * n_hidden if isinstance(activation, (str, Activation)) else list(activation)
        if len(names) != n_hidden:
            raise RelunetError(f"got {len(names)} activations for {n_hidden} hidden layers")
        self.sizes = sizes
        self.task = task
        self.dtype = _check_dtype(dtype)
        _check_memory(sizes, self.dtype)
        self.activations = [get_activation(a) for a in names]
        self.linears = [Linear(i, o, self.dtype) for i, o in zip(sizes[:-1], sizes[1:])]
        self._pack()
        self.loss = TASK_LOSS[task]
        if task == "classification":
            if sizes[-1] < 2:
                raise RelunetError("a classifier needs at least 2 outputs (one per class)")
            classes = np.arange(sizes[-1]) if classes is None else np.asarray(classes)
            if classes.shape != (sizes[-1],) or len(np.unique(classes)) != sizes[-1]:
                raise RelunetError(f"classes must be {sizes[-1]} distinct labels, got {classes.tolist()}")
            self.classes = classes
        else:
            self.classes = None
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
            out.append(lin)
            if i < len(self.activations):
                out.append(self.activations[i])
        return out

    def _pack(self):
        """Keep every W, b in one flat buffer and every dW, db in another, in the order of parameters().

        Each W is still an (out, in) array and each b a vector; the flat buffers only let an optimizer update
        all parameters with a handful of calls instead of a handful per parameter. Every W stays C-contiguous
        (row by row): code that reshapes W expects a view (the gradient check perturbs W through one).
        """
        total = sum(lin.out_features * (lin.in_features + 1) for lin in self.linears)
        values, grads = np.zeros(total, self.dtype), np.zeros(total, self.dtype)
        pos = 0
        for lin in self.linears:
            o, i = lin.out_features, lin.in_features
            w, b = slice(pos, pos + o * i), slice(pos + o * i, pos + o * i + o)
            lin.bind(values[w].reshape(o, i), values[b], grads[w].reshape(o, i), grads[b])
            pos += o * (i + 1)

    def parameters(self):
        """Every parameter with its gradient array, in order W1, b1, W2, b2, ..."""
        return [p for lin in self.linears for p in lin.parameters()]

    @property
    def n_parameters(self):
        return sum(p.value.size for p in self.parameters())

    def get_weights(self):
        """Copies of [W1, b1, W2, b2, ...]."""
        return [p.value.copy() for p in self.parameters()]

    def set_weights(self, weights):
        """Copy [W1, b1, W2, b2, ...] into the model (shapes must match)."""
        params = self.parameters()
        if len(weights) != len(params):
            raise RelunetError(f"expected {len(params)} arrays (W1, b1, ...), got {len(weights)}")
        for i, (p, w) in enumerate(zip(params, weights)):
            w = np.asarray(w)
            if w.shape != p.value.shape:
                raise RelunetError(f"{p.name}{i // 2 + 1} must have shape {p.value.shape}, got {w.shape}")
            if not np.all(np.isfinite(w)):
                raise RelunetError(f"{p.name}{i // 2 + 1} contains NaN or infinite values")
            p.value[...] = w

    def initialize(self, seed=0):
        """Draw fresh initial weights from `seed` (an int or a Generator): W by `init`, b ~ U(+-1/sqrt(fan_in))."""
        rng = as_generator(seed)
        for i, lin in enumerate(self.linears):
            # A layer's initialiser follows the activation that consumes its output (the output layer
            # follows the last hidden one, or Glorot for the linear classifier).
            act = self.activations[min(i, len(self.activations) - 1)].name if self.activations else "identity"
            name = DEFAULT_INIT.get(act, "glorot") if self.init == "auto" else self.init
            lin.W = get_initializer(name)(rng, lin.out_features, lin.in_features, self.dtype)
            # Biases as PyTorch draws them, U(-1/sqrt(fan_in), 1/sqrt(fan_in)): with zero biases every hinge
            # w_j x + b_j = 0 would pass through the origin, leaving data away from it poorly covered.
            bound = 1.0 / np.sqrt(lin.in_features)
            lin.b = rng.uniform(-bound, bound, lin.out_features)
        return self

    def copy(self):
        """An independent copy: same architecture, weights, classes, box and training record."""
        return self.astype(self.dtype.name)

    def activations_spec(self):
        """Fresh activation layers like this model's (same kinds, same leaky slope)."""
        return [type(a)() if not hasattr(a, "slope") else type(a)(a.slope) for a in self.activations]

    def astype(self, dtype):
        """A copy of this model with parameters in `dtype` ("float32" or "float64")."""
        other = MLP(self.sizes, self.activations_spec(), self.task, self.classes, dtype, init=self.init)
        other.set_weights(self.get_weights())
        other.box = None if self.box is None else list(self.box)
        other.training = None if self.training is None else dict(self.training)
        return other

    # ----------------------------------------------------------------- forward / backward
    def forward(self, x, buffers=None):
        """Output excitation z^(L) for a batch.  x: (N, inputs) -> (N, outputs).

        Every layer keeps what its backward needs. `buffers` (internal) is a dict of reusable arrays
        used by the training loop; without it fresh arrays are returned.
        """
        a = x
        for i, lin in enumerate(self.linears):
            z = lin.forward(a, out=_buf(buffers, ("z", i), (len(a), lin.out_features), self.dtype))
            if i < len(self.activations):
                a = self.activations[i].forward(z, out=_buf(buffers, ("h", i), z.shape, self.dtype))
            else:
                a = z
        return a

    def backward(self, dz, buffers=None):
        """Back-propagate dL/dz^(L) through every layer, storing each dW, db; returns dL/dx.

        Never changes a weight. dz: (N, outputs) -> (N, inputs). With `buffers` (the training loop) dL/dx is
        not needed: it is skipped (one matrix product less) and None is returned.
        """
        for i in range(len(self.linears) - 1, -1, -1):
            lin = self.linears[i]
            if i == 0 and buffers is not None:
                return lin.backward(dz, need_dx=False)
            dh = lin.backward(dz, out=_buf(buffers, ("dh", i), (len(dz), lin.in_features), self.dtype))
            if i > 0:
                dz = self.activations[i - 1].backward(dh, out=_buf(buffers, ("dz", i - 1), dh.shape, self.dtype))
            else:
                dz = dh
        return dz

    # ----------------------------------------------------------------- inference
    def check_input(self, X, where="input"):
        """X as a 2-D array in the model's dtype, or a clear error (wrong width, NaN, not numbers)."""
        try:
            X = np.asarray(X, dtype=self.dtype)
        except (TypeError, ValueError):
            raise RelunetError(f"{where} must be numbers") from None
        if X.ndim == 1 and self.n_inputs == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != self.n_inputs:
            got = X.shape[1] if X.ndim == 2 else f"shape {X.shape}"
            raise RelunetError(f"{where} has {got} features but the model expects {self.n_inputs}")
        if not _all_finite(X):
            raise RelunetError(f"{where} contains NaN or infinite values")
        return X

    def decision_function(self, X):
        """The output excitation z^(L) (logits for a classifier).  X: (N, inputs) -> (N, outputs)."""
        return self._infer(self.check_input(X))

    def _infer(self, X):
        """z^(L) for checked X, a block of rows at a time so hidden activations stay in cache; the last layer
        writes straight into the result."""
        out = np.empty((len(X), self.n_outputs), dtype=self.dtype)
        buffers = {}
        last = len(self.linears) - 1
        for s in range(0, len(X), _CHUNK):
            a = X[s:s + _CHUNK]
            n = len(a)
            for i, lin in enumerate(self.linears):
                if i == last:
                    lin.forward(a, out=out[s:s + n])
                else:
                    z = lin.forward(a, out=_buf(buffers, ("z", i), (n, lin.out_features), self.dtype))
                    a = self.activations[i].forward(z, out=_buf(buffers, ("h", i), z.shape, self.dtype))
        return out

    def predict_proba(self, X):
        """Class probabilities f = softmax(z^(L)).  X: (N, inputs) -> (N, classes)."""
        self._need("classification", "predict_proba")
        return _softmax_inplace(self.decision_function(X))

    def predict(self, X):
        """Class labels (classification) or outputs (regression; shape (N,) for one output)."""
        z = self.decision_function(X)
        if self.task == "classification":
            return self.classes[z.argmax(axis=1)]
        return z[:, 0] if self.n_outputs == 1 else z

    def score(self, X, y):
        """Accuracy (classification) or R^2 (regression) on (X, y)."""
        from .metrics import evaluate

        return evaluate(self, X, y)["accuracy" if self.task == "classification" else "r2"]

    def encode_labels(self, y, where="labels"):
        """Class labels -> output indices 0..K-1 (classification) or a 2-D float target (regression)."""
        y = np.asarray(y)
        if self.task == "regression":
            try:
                y = y.astype(self.dtype)
            except (TypeError, ValueError):
                raise RelunetError(f"{where} must be numbers for regression") from None
            if not np.all(np.isfinite(y)):
                raise RelunetError(f"{where} contain NaN or infinite values")
            return y.reshape(len(y), -1) if y.ndim <= 2 else y
        if y.ndim != 1:
            raise RelunetError(f"{where} must be one label per token, got an array of shape {y.shape}")
        order = np.argsort(self.classes)
        try:
            pos = np.clip(np.searchsorted(self.classes[order], y), 0, len(order) - 1)
            idx = order[pos]
            bad = self.classes[idx] != y
        except (TypeError, ValueError):
            raise RelunetError(f"{where} are not of the same kind as the model's classes "
                               f"{self.classes.tolist()}") from None
        if np.any(bad):
            raise RelunetError(f"{where} contain {y[bad][0].item()!r}, which is not one of the model's classes "
                               f"{self.classes.tolist()}")
        return idx.astype(np.intp)

    # ----------------------------------------------------------------- training
    def sgd_per_sample(self, X, y, order, lr, weight_decay=0.0):
        """One pass of the lecture's per-sample SGD over X[order], updating the weights in place.

        The fused form of forward + backward + SGD step for batch size 1 (see _kernels). X must be
        C-contiguous in the model's dtype and y encoded (see encode_labels). Returns (loss sum, correct).
        """
        return _kernels.sgd_per_sample(self, X, y, order, lr, weight_decay)

    def fit(self, X, y, **options):
        """Train with relunet.train.fit (see there for the options); returns the History."""
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


def softmax(z):
    """Row-wise softmax, stable for any finite z.  z: (N, K) -> f: (N, K), rows summing to 1."""
    z = np.asarray(z)
    return _softmax_inplace(z.astype(z.dtype if z.dtype.kind == "f" else np.float64))  # a copy


def _all_finite(X, rows=4096):
    """np.all(np.isfinite(X)) for a 2-D X, a block of rows at a time: no mask as large as the data set."""
    if X.dtype.kind != "f":
        return True
    buf = np.empty((min(rows, len(X)),) + X.shape[1:], dtype=bool)
    for s in range(0, len(X), rows):
        block = X[s:s + rows]
        if not np.isfinite(block, out=buf[:len(block)]).all():
            return False
    return True


def _softmax_inplace(z):
    """softmax(z) computed in z's own memory (z is a fresh array of ours).  z: (N, K) -> (N, K)."""
    z -= row_max(z)[:, None]
    np.exp(z, out=z)
    z /= row_sum(z)[:, None]
    return z


def _buf(buffers, key, shape, dtype):
    if buffers is None:
        return None
    arr = buffers.get(key)
    if arr is not None and arr.shape == shape:
        return arr
    if arr is None or arr.shape[1:] != shape[1:] or arr.shape[0] < shape[0]:
        arr = buffers[key] = np.empty(shape, dtype=dtype)
    # A view of the first rows: the last, smaller batch of an epoch reuses the same memory.
    return arr[:shape[0]] if arr.shape[0] != shape[0] else arr


def _check_sizes(sizes):
    try:
        sizes = list(sizes)
    except TypeError:
        raise RelunetError(f"layer sizes must be a list of positive integers, got {sizes!r}") from None
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
    name = np.dtype(dtype).name if not isinstance(dtype, str) else dtype
    if name not in DTYPES:
        raise RelunetError(f"dtype must be float64 or float32, got {dtype!r}")
    return np.dtype(DTYPES[name])


__all__ = ["MLP", "softmax", "ACTIVATIONS", "TASKS", "DTYPES"]
