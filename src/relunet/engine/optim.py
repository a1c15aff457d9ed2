"""Optimizers in order of increasing complexity, and learning-rate schedules.

An optimizer applies gradients: ``step(params, grads, lr)`` updates each parameter array in place. It owns
its state, lists parallel to the parameters in ``self.state``, but not the learning rate: the Trainer owns
that, with its schedule. L2 weight decay adds weight_decay * W to the gradient of weights only (never
biases), or weight_decay * W / batch_len with decay_scaling="batch" (scikit-learn's convention; batch_len
is the batch's total sample weight, its number of tokens without weights).
"""

import functools
import math

import numpy as np

from .. import checks
from .errors import RelunetError


class Optimizer:
    """Base class: weight decay and the state. Parameters come as [W1, b1, W2, b2, ...]."""

    def __init__(self, weight_decay=0.0, decay_scaling="constant"):
        self.weight_decay, self.state = checks.number("weight decay", weight_decay), {}
        self.decay_scaling = checks.choice("decay_scaling", decay_scaling, ("constant", "batch"))

    def decayed(self, params, grads, batch_len=1):
        """The gradients with L2 weight decay: dW + weight_decay * W for weights (even positions), db as is."""
        c = self.weight_decay / (batch_len if self.decay_scaling == "batch" and batch_len > 0 else 1)
        return [g + c * p if i % 2 == 0 and c else g for i, (p, g) in enumerate(zip(params, grads))]

    def init_state(self, params):
        """Create the state (zeros parallel to params) if missing, so that either engine can continue it."""

    def __repr__(self): return f"{type(self).__name__}(weight_decay={self.weight_decay})"


class SGD(Optimizer):
    """Gradient descent, the lecture's update: W <- W - lr dL/dW."""

    name = "sgd"

    def step(self, params, grads, lr, batch_len=1):
        for p, g in zip(params, self.decayed(params, grads, batch_len)):
            p -= lr * g


class Momentum(Optimizer):
    """SGD with momentum in PyTorch's form, one velocity v per parameter in ``state["velocity"]``:
    v <- mu v + g;  W <- W - lr v  (Nesterov: W <- W - lr (g + mu v))."""

    def __init__(self, momentum=0.9, nesterov=False, weight_decay=0.0, decay_scaling="constant"):
        super().__init__(weight_decay, decay_scaling)
        self.momentum, self.nesterov = checks.number("momentum", momentum), bool(nesterov)
        if self.momentum >= 1 or (self.nesterov and self.momentum == 0):
            raise RelunetError(f"momentum must be below 1 (and above 0 for Nesterov), got {momentum!r}")
        self.name = "nesterov" if self.nesterov else "momentum"

    def init_state(self, params):
        self.state.setdefault("velocity", [np.zeros_like(p) for p in params])

    def step(self, params, grads, lr, batch_len=1):
        self.init_state(params)
        for p, g, v in zip(params, self.decayed(params, grads, batch_len), self.state["velocity"]):
            v *= self.momentum
            v += g
            p -= lr * (g + self.momentum * v) if self.nesterov else lr * v


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), L2 weight decay added to the gradient as in PyTorch's Adam.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1; then
    eps_style "pytorch":  W <- W - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    eps_style "sklearn":  W <- W - lr_t m / (sqrt(v) + eps),  lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
    State: ``state["m"]``, ``state["v"]`` (one per parameter) and ``state["t"]``.
    """

    name = "adam"

    def __init__(self, betas=(0.9, 0.999), eps=1e-8, eps_style="pytorch", weight_decay=0.0, decay_scaling="constant"):
        super().__init__(weight_decay, decay_scaling)
        self.betas, self.eps = checks.betas(betas), checks.number("eps", eps, positive=True)
        self.eps_style = checks.choice("eps_style", eps_style, ("pytorch", "sklearn"))

    def init_state(self, params):
        if "m" not in self.state:
            self.state.update(m=[np.zeros_like(p) for p in params], v=[np.zeros_like(p) for p in params], t=0)

    def step(self, params, grads, lr, batch_len=1):
        self.init_state(params)
        (b1, b2), s = self.betas, self.state
        s["t"] = t = s["t"] + 1
        for p, g, m, v in zip(params, self.decayed(params, grads, batch_len), s["m"], s["v"]):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            if self.eps_style == "pytorch":
                p -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + self.eps)
            else:
                p -= lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + self.eps)


#: Optimizers by name, as the CLI and the playground spell them.
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Momentum, "adam": Adam}


def make_optimizer(name, momentum=0.9, weight_decay=0.0, decay_scaling="constant"):
    """An optimizer by registry name; `momentum` applies to "momentum" and "nesterov" only."""
    if checks.choice("optimizer", name, OPTIMIZERS) in ("momentum", "nesterov"):
        return Momentum(momentum, name == "nesterov", weight_decay, decay_scaling)
    return OPTIMIZERS[name](weight_decay=weight_decay, decay_scaling=decay_scaling)


# Learning-rate schedules lr(lr_0, epoch): scikit-learn's "invscaling" (counted in epochs), PyTorch's StepLR.
def constant(lr0, epoch): return lr0
def invscaling(lr0, epoch, power=0.5): return lr0 / (1.0 + epoch) ** power
def step(lr0, epoch, step_size=30, gamma=0.1): return lr0 * gamma ** (epoch // step_size)

SCHEDULES = {f.__name__: f for f in (constant, invscaling, step)}


def make_schedule(name, **settings):
    """A schedule by name (with its settings, e.g. power=0.25), or `name` itself if it is a callable."""
    if callable(name):
        return name
    settings = {k: checks.number(k, v, positive=k != "power") for k, v in settings.items()}
    return functools.partial(SCHEDULES[checks.choice("learning-rate schedule", name, SCHEDULES)], **settings)
