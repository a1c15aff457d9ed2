"""The multi-layer perceptron: Linear layers with a hidden activation between them, linear output.

    z^(1) = x W^(1)T + b^(1),  h^(1) = g(z^(1)),  ...,  z^(L) = h^(L-1) W^(L)T + b^(L)

For classification the output z^(L) becomes f = softmax(z^(L)) and the prediction is argmax_k f_k; for
regression the output is z^(L) itself. ``MLP([2, 3])`` has no hidden layer: the lecture's linear classifier
argmax(W x + b). Shapes: X (N, sizes[0]); z^(L) (N, sizes[-1]); W^(l) (sizes[l], sizes[l-1]).
"""

import numpy as np

from .. import checks
from .activations import get_activation
from .errors import RelunetError
from .init import DEFAULT_INIT, INITIALIZERS, as_generator
from .layers import Linear
from .losses import LOSSES, TASK_LOSS, TASK_LOSSES

TASKS = ("classification", "regression")


class Tape:
    """What one forward call keeps for its backward: every layer's input h[l] (h[0] = x) and excitation z[l]."""

    def __init__(self, x):
        self.h, self.z = [x], []


class MLP:
    """A multi-layer network of any depth.

    Args:
        sizes: layer widths [inputs, hidden..., outputs], e.g. [2, 64, 64, 3].
        activation: hidden activation name (ReLU default) or Activation, or one per hidden layer.
        task: "classification" or "regression". classes: the class labels in output order (default 0..K-1).
            loss="logistic" with K > 1 outputs and classes=None is a multi-label model (``multilabel``): each
            output is a yes/no label, targets and predictions are (N, K) 0/1 matrices; with classes, one-hot.
        dtype: "float64" (default) or "float32". seed: an int or a numpy.random.Generator for the weights.
        init: "auto" (He for the ReLU family, Glorot otherwise), "he" or "glorot".
        loss: None (the task's default, "cross_entropy" or "mse"), "logistic" or "poisson".
    """

    def __init__(self, sizes, activation="relu", task="classification", classes=None, dtype="float64",
                 seed=0, init="auto", loss=None):
        sizes, task = checks.sizes(sizes), checks.choice("task", task, TASKS)
        # one activation for every hidden layer (checked even without hidden layers), or a list of them
        names = activation if isinstance(activation, (list, tuple)) else [get_activation(activation)] * (len(sizes) - 2)
        if len(names) != len(sizes) - 2:
            raise RelunetError(f"got {len(names)} activations for {len(sizes) - 2} hidden layers")
        self.sizes, self.task, self.dtype = sizes, task, checks.dtype(dtype)
        self.loss = checks.choice(f"loss for {task}", TASK_LOSS[task] if loss is None else loss, TASK_LOSSES[task])
        self.init = checks.choice("initialiser", init, ("auto", *INITIALIZERS))
        checks.memory(sizes, self.dtype)
        self.activations = [get_activation(a) for a in names]  # each layer its own object
        self.linears = [Linear(i, o, self.dtype) for i, o in zip(sizes[:-1], sizes[1:])]
        self.classes = None  # none for regression and multi-label; one logistic output is a binary classifier
        if task == "classification" and not (self.loss == "logistic" and sizes[-1] > 1 and classes is None):
            self.classes = checks.classes(classes, 2 if sizes[-1] == 1 and self.loss == "logistic" else sizes[-1])
        self.initialize(seed)
        self.box = None        # the training data's bounding box [x0, x1, y0, y1, ...], kept in model files
        self.training = None   # the training options, kept in model files for the record

    activation_names = property(lambda self: [a.name for a in self.activations])
    n_inputs = property(lambda self: self.sizes[0])
    n_outputs = property(lambda self: self.sizes[-1])
    depth = property(lambda self: len(self.linears), doc="The number of Linear layers.")
    n_parameters = property(lambda self: sum(p.size for p in self.parameters()))
    multilabel = property(lambda self: self.task == "classification" and self.classes is None)

    def parameters(self):
        """The parameter arrays themselves, in order [W1, b1, W2, b2, ...]."""
        return [p for lin in self.linears for p in (lin.W, lin.b)]

    def get_weights(self):
        """Copies of [W1, b1, W2, b2, ...]."""
        return [p.copy() for p in self.parameters()]

    def set_weights(self, weights):
        """Copy [W1, b1, W2, b2, ...] (or [(W1, b1), ...]) into the model; shapes must match, values be finite."""
        for p, w in zip(self.parameters(), checks.weights(weights, self.parameters(), self.dtype)):
            p[...] = w

    def initialize(self, seed=0):
        """Draw fresh weights from `seed` (an int or a Generator): W by `init`, b ~ U(+-1/sqrt(fan_in))."""
        rng = as_generator(seed)
        for i, lin in enumerate(self.linears):
            # A layer's initialiser follows the activation that consumes its output (the output layer the last
            # hidden one's, or Glorot for the linear classifier).
            act = self.activations[min(i, len(self.activations) - 1)].name if self.activations else "identity"
            name = DEFAULT_INIT.get(act, "glorot") if self.init == "auto" else self.init
            lin.W[...] = INITIALIZERS[name](rng, lin.out_features, lin.in_features)
            # Biases as PyTorch draws them: with zero biases every hinge w_j x + b_j = 0 would pass through the
            # origin, leaving data away from it poorly covered.
            lin.b[...] = rng.uniform(-1 / np.sqrt(lin.in_features), 1 / np.sqrt(lin.in_features), lin.out_features)
        return self

    def copy(self):
        """An independent copy: same architecture, weights, classes, box and training record."""
        return self.astype(self.dtype.name)

    def activations_spec(self):
        """Fresh activation objects like this model's (same kinds, same leaky slope)."""
        return [get_activation(a) for a in self.activations]

    def astype(self, dtype):
        """A copy of this model with parameters in `dtype` ("float32" or "float64")."""
        other = MLP(self.sizes, self.activations, self.task, self.classes, dtype, init=self.init, loss=self.loss)
        other.set_weights(self.get_weights())
        other.box = None if self.box is None else list(self.box)
        other.training = None if self.training is None else dict(self.training)
        return other

    # ----------------------------------------------------------------- forward / backward
    def forward(self, x):
        """(z^(L), tape) for a batch x (N, inputs): the output excitation and what backward needs.

        The tape belongs to this call, so other calls (predictions, say) never disturb it.
        """
        tape = Tape(x)
        for i, lin in enumerate(self.linears):
            tape.z.append(lin.forward(tape.h[-1]))
            if i < len(self.activations):
                tape.h.append(self.activations[i].forward(tape.z[-1]))
        return tape.z[-1], tape

    def backward(self, tape, dz, input_grad=False):
        """Back-propagate dz = dL/dz^(L) (N, outputs) through the forward call that made `tape`.

        Returns [dW1, db1, dW2, db2, ...] (and dL/dx when input_grad); never changes a weight. Layer by layer,
        the lecture's chain rule: dW = dz^T h, db = sum_n dz, dh = dz W, then dz = dh * g'(z) one layer down.
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
        return checks.inputs(X, self.n_inputs, self.dtype, where)

    def _outputs(self, X, excitation=False):
        """f(z^(L)), or z^(L), at the rows of X: by the compiled kernel for large X (train.choose_inference)."""
        from .train import choose_inference  # here: train.py imports this module
        X = self.check_input(X)
        kernel = choose_inference(self, len(X))
        if kernel is not None:
            return kernel[0].forward(kernel[1], self.parameters(), X, excitation)
        z = self.forward(X)[0]
        return z if excitation else LOSSES[self.loss]().output(z)

    def decision_function(self, X):
        """The output excitation z^(L) (logits for a classifier).  X: (N, inputs) -> (N, outputs)."""
        return self._outputs(X, excitation=True)

    def predict_proba(self, X):
        """Class probabilities.  X: (N, inputs) -> (N, classes)."""
        if self.task != "classification":
            raise RelunetError("predict_proba is for classification models; this model does regression")
        f = self._outputs(X)
        return np.hstack([1 - f, f]) if f.shape[1] == 1 else f

    def predict(self, X):
        """Class labels (N,), the (N, labels) 0/1 matrix of a multi-label model, or regression outputs ((N,)
        for one output)."""
        z = self._outputs(X, excitation=self.task == "classification")  # f for regression
        if self.multilabel:
            return (z > 0).astype(np.int64)  # sigmoid(z) > 1/2
        if self.task == "classification":
            return self.classes[(z[:, 0] > 0).astype(int) if z.shape[1] == 1 else z.argmax(axis=1)]
        return z[:, 0] if self.n_outputs == 1 else z

    def score(self, X, y):
        """Accuracy (classification; multi-label: all of a token's labels right) or R^2 = 1 - sum (y - f)^2 /
        sum (y - mean y)^2 (regression) on (X, y)."""
        if self.task == "classification":
            t = self.encode_labels(y) if self.multilabel else \
                self.classes[checks.class_indices(y, self.classes, "labels")]
            return float(np.mean(np.all((self.predict(X) == t).reshape(len(t), -1), axis=1)))
        t = self.encode_labels(y)
        return float(1 - ((t - self.predict(X).reshape(t.shape)) ** 2).sum() / ((t - t.mean(axis=0)) ** 2).sum())

    def encode_labels(self, y, where="labels"):
        """Labels -> the loss's targets: class indices (N,) (one logistic output: (N, 1) 0/1), an (N, K) 0/1
        matrix for a multi-label model, numbers (N, K) for regression."""
        if self.task == "regression":
            return checks.targets(y, self.n_outputs, self.dtype, self.loss == "poisson", where)
        if self.multilabel:
            return checks.indicator(y, self.n_outputs, self.dtype, where)
        idx = checks.class_indices(y, self.classes, where)
        return idx.astype(self.dtype)[:, None] if self.n_outputs == 1 else idx

    def __repr__(self):
        acts = self.activation_names
        act = f", activation={acts[0] if len(set(acts)) == 1 else acts!r}" if acts else ""
        return f"MLP({self.sizes}{act}, task={self.task!r}, dtype={self.dtype.name!r}, parameters={self.n_parameters})"


def loss_and_gradients(model, X, t, sample_weight=None):
    """(L, [dW1, db1, ...]): the loss of `model` on inputs X and targets t (as MLP.encode_labels makes them)."""
    z, tape = model.forward(X)
    L, dz = LOSSES[model.loss]().value_and_grad(z, t, sample_weight)
    return L, model.backward(tape, dz)
