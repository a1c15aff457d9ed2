"""Optimizers, in order of increasing complexity, and learning-rate schedules.

An optimizer applies gradients: ``step(params, grads, lr)`` updates each parameter array in place from its
gradient. It owns its state (lists parallel to the parameters, in ``self.state``) but not the learning rate:
the Trainer owns that, with its schedule. L2 weight decay adds weight_decay * W to the gradient of weights
only (never biases), or weight_decay * W / batch_len with decay_scaling="batch" (scikit-learn's convention,
batch_len being the batch's total sample weight).
"""

import math

import numpy as np

from .errors import RelunetError


class Optimizer:
    """Base class: weight decay and the state dict. Parameters come as [W1, b1, W2, b2, ...]."""

    name = "optimizer"

    def __init__(self, weight_decay=0.0, decay_scaling="constant"):
        self.weight_decay = weight_decay
        if decay_scaling not in ("constant", "batch"):
            raise RelunetError(f"decay_scaling must be 'constant' or 'batch', got {decay_scaling!r}")
        self.decay_scaling = decay_scaling
        self.state = {}

    @property
    def weight_decay(self):
        return self._weight_decay

    @weight_decay.setter
    def weight_decay(self, value):
        self._weight_decay = _number("weight decay", value)

    def decayed(self, params, grads, batch_len=1):
        """The gradients with L2 weight decay: dW + weight_decay * W for weights (even positions), db as is."""
        c = self.weight_decay / (batch_len if self.decay_scaling == "batch" and batch_len > 0 else 1)
        if not c:
            return grads
        return [g + c * p if i % 2 == 0 else g for i, (p, g) in enumerate(zip(params, grads))]

    def init_state(self, params):
        """Create the state (zeros parallel to params) if it is missing, so any engine can continue it."""

    def step(self, params, grads, lr, batch_len=1):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(weight_decay={self.weight_decay})"


class SGD(Optimizer):
    """Gradient descent, the lecture's update: W <- W - lr dL/dW."""

    name = "sgd"

    def step(self, params, grads, lr, batch_len=1):
        for p, g in zip(params, self.decayed(params, grads, batch_len)):
            p -= lr * g


class Momentum(Optimizer):
    """SGD with momentum in PyTorch's form: v <- mu v + g; W <- W - lr v.

    Nesterov: v as above; W <- W - lr (g + mu v). State: ``state["velocity"]``, one v per parameter.
    """

    name = "momentum"

    def __init__(self, momentum=0.9, nesterov=False, weight_decay=0.0, decay_scaling="constant"):
        super().__init__(weight_decay, decay_scaling)
        self.momentum = _number("momentum", momentum)
        if self.momentum >= 1:
            raise RelunetError(f"momentum must be below 1, got {momentum!r}")
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise RelunetError("Nesterov momentum needs a momentum above 0")
        self.name = "nesterov" if self.nesterov else "momentum"

    def init_state(self, params):
        self.state.setdefault("velocity", [np.zeros_like(p) for p in params])

    def step(self, params, grads, lr, batch_len=1):
        self.init_state(params)
        mu = self.momentum
        for p, g, v in zip(params, self.decayed(params, grads, batch_len), self.state["velocity"]):
            v *= mu
            v += g
            p -= lr * (g + mu * v) if self.nesterov else lr * v


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), L2 weight decay added to the gradient as in PyTorch's Adam.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  t <- t + 1, then
    eps_style "pytorch":  W <- W - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    eps_style "sklearn":  W <- W - lr_t m / (sqrt(v) + eps),  lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
    State: ``state["m"]``, ``state["v"]`` (one per parameter) and ``state["t"]`` (steps so far).
    """

    name = "adam"

    def __init__(self, betas=(0.9, 0.999), eps=1e-8, eps_style="pytorch", weight_decay=0.0,
                 decay_scaling="constant"):
        super().__init__(weight_decay, decay_scaling)
        try:
            b1, b2 = (float(b) for b in betas)
        except (TypeError, ValueError):
            raise RelunetError(f"Adam betas must be two numbers in [0, 1), got {betas!r}") from None
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise RelunetError(f"Adam betas must be two numbers in [0, 1), got {betas!r}")
        self.betas, self.eps = (b1, b2), _number("eps", eps, positive=True)
        if eps_style not in ("pytorch", "sklearn"):
            raise RelunetError(f"eps_style must be 'pytorch' or 'sklearn', got {eps_style!r}")
        self.eps_style = eps_style

    def init_state(self, params):
        if "m" not in self.state:
            self.state.update(m=[np.zeros_like(p) for p in params], v=[np.zeros_like(p) for p in params], t=0)

    def step(self, params, grads, lr, batch_len=1):
        self.init_state(params)
        (b1, b2), eps, s = self.betas, self.eps, self.state
        s["t"] = t = s["t"] + 1
        for p, g, m, v in zip(params, self.decayed(params, grads, batch_len), s["m"], s["v"]):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            if self.eps_style == "pytorch":
                p -= lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
            else:
                p -= lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)


#: Optimizers by name, as the CLI and the playground spell them.
OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "nesterov": Momentum, "adam": Adam}


def make_optimizer(name, momentum=0.9, weight_decay=0.0, decay_scaling="constant"):
    """Build an optimizer by registry name; `momentum` applies to "momentum" and "nesterov" only."""
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise RelunetError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    if name in ("momentum", "nesterov"):
        return Momentum(momentum, name == "nesterov", weight_decay, decay_scaling)
    return OPTIMIZERS[name](weight_decay=weight_decay, decay_scaling=decay_scaling)


# --------------------------------------------------------------------------- schedules
class Constant:
    """lr_e = lr_0."""

    name = "constant"

    def __call__(self, lr0, epoch):
        return lr0


class InverseScaling:
    """lr_e = lr_0 / (1 + epoch)^power (scikit-learn's 'invscaling', counted in epochs)."""

    name = "invscaling"

    def __init__(self, power=0.5):
        self.power = _number("power", power)

    def __call__(self, lr0, epoch):
        return lr0 / (1.0 + epoch) ** self.power


class Step:
    """lr_e = lr_0 * gamma^(epoch // step_size) (PyTorch's StepLR)."""

    name = "step"

    def __init__(self, step_size=30, gamma=0.1):
        if isinstance(step_size, bool) or not isinstance(step_size, (int, np.integer)) or step_size < 1:
            raise RelunetError(f"step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), _number("gamma", gamma, positive=True)

    def __call__(self, lr0, epoch):
        return lr0 * self.gamma ** (epoch // self.step_size)


SCHEDULES = {cls.name: cls for cls in (Constant, InverseScaling, Step)}


def make_schedule(name, **kwargs):
    """A schedule by name, or `name` itself when it is a callable (lr0, epoch) -> lr."""
    if callable(name) and not isinstance(name, str):
        return name
    if not isinstance(name, str) or name not in SCHEDULES:
        raise RelunetError(f"unknown learning-rate schedule {name!r}; choose one of: {', '.join(SCHEDULES)}")
    return SCHEDULES[name](**kwargs)


def _number(what, value, positive=False):
    """A finite float at least 0 (above 0 if positive), or a RelunetError naming the value."""
    try:
        ok = not isinstance(value, (bool, str)) and math.isfinite(float(value))
    except (TypeError, ValueError, OverflowError):
        ok = False
    if ok and (float(value) > 0 if positive else float(value) >= 0):
        return float(value)
    raise RelunetError(f"{what} must be a finite number {'above' if positive else 'at least'} 0, got {value!r}")
