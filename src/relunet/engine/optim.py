"""Optimizers and learning-rate schedules, in order of increasing complexity.

An optimizer owns its state and applies the gradients that backward stored: ``step()`` reads each
Parameter's ``grad`` and updates its ``value`` in place. L2 weight decay adds weight_decay * W to the
gradient of weights only (never biases). Momentum follows PyTorch's form.
"""

import math

import numpy as np

from .errors import RelunetError


class Optimizer:
    def __init__(self, params, lr, weight_decay=0.0):
        self.params = list(params)
        self.lr = lr
        self.weight_decay = weight_decay

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        self._lr = _positive("learning rate", value)

    @property
    def weight_decay(self):
        return self._weight_decay

    @weight_decay.setter
    def weight_decay(self, value):
        self._weight_decay = _non_negative("weight decay", value)

    def _grad(self, p, i):
        """dL/dW + weight_decay * W for weights, dL/db for biases (into a reused buffer)."""
        if not (self.weight_decay and p.decay):
            return p.grad
        g = self._decayed[i]
        np.multiply(p.value, self.weight_decay, out=g)
        g += p.grad
        return g

    def _buffers(self):
        return [np.zeros_like(p.value) for p in self.params]

    def step(self):
        raise NotImplementedError

    def state_dict(self):
        return {}


class SGD(Optimizer):
    """Gradient descent, the lecture's W <- W - lr dL/dW, optionally with momentum.

    Momentum (PyTorch's form): v <- momentum v + g;  W <- W - lr v.
    Nesterov: v as above;  W <- W - lr (g + momentum v).
    """

    name = "sgd"

    def __init__(self, params, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = momentum
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise RelunetError("Nesterov momentum needs a momentum above 0")
        self._decayed = self._buffers()
        self._velocity = None
        self._tmp = self._buffers()

    @property
    def momentum(self):
        return self._momentum

    @momentum.setter
    def momentum(self, value):
        value = _non_negative("momentum", value)
        if value >= 1:
            raise RelunetError(f"momentum must be below 1, got {value}")
        self._momentum = value

    def step(self):
        lr, mu = self.lr, self.momentum
        if mu and self._velocity is None:
            self._velocity = self._buffers()
        for i, p in enumerate(self.params):
            g = self._grad(p, i)
            if mu:
                v = self._velocity[i]
                v *= mu
                v += g
                if self.nesterov:
                    g = np.multiply(v, mu, out=self._tmp[i])
                    g += self._grad(p, i)
                else:
                    g = v
            u = np.multiply(g, lr, out=self._tmp[i])
            p.value -= u

    @property
    def is_plain(self):
        """True for plain SGD (no momentum): the per-sample path can then fuse the update."""
        return not self.momentum

    def state_dict(self):
        return {"velocity": self._velocity}


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015), with L2 weight decay added to the gradient as in PyTorch's Adam.

    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    W <- W - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
    """

    name = "adam"

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        b1, b2 = betas
        if not (0 <= b1 < 1 and 0 <= b2 < 1):
            raise RelunetError(f"Adam betas must be in [0, 1), got {betas}")
        self.betas, self.eps = (float(b1), float(b2)), _positive("eps", eps)
        self.t = 0
        self._m, self._v = self._buffers(), self._buffers()
        self._decayed, self._tmp = self._buffers(), self._buffers()

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        step = self.lr * math.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        eps_hat = self.eps * math.sqrt(1 - b2 ** self.t)
        for i, p in enumerate(self.params):
            g = self._grad(p, i)
            m, v, t = self._m[i], self._v[i], self._tmp[i]
            m *= b1
            np.multiply(g, 1 - b1, out=t)
            m += t
            v *= b2
            np.multiply(g, g, out=t)
            t *= 1 - b2
            v += t
            # lr_t m / (sqrt(v) + eps_hat) is the bias-corrected update, rearranged to save a pass.
            np.sqrt(v, out=t)
            t += eps_hat
            np.divide(m, t, out=t)
            t *= step
            p.value -= t

    @property
    def is_plain(self):
        return False

    def state_dict(self):
        return {"t": self.t, "m": self._m, "v": self._v}


def _positive(what, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise RelunetError(f"{what} must be a number, got {value!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise RelunetError(f"{what} must be a finite number above 0, got {value!r}")
    return value


def _non_negative(what, value):
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise RelunetError(f"{what} must be a number, got {value!r}") from None
    if not (value >= 0 and math.isfinite(value)):
        raise RelunetError(f"{what} must be a finite number at least 0, got {value!r}")
    return value


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
        self.power = _non_negative("power", power)

    def __call__(self, lr0, epoch):
        return lr0 / (1.0 + epoch) ** self.power


class Step:
    """lr_e = lr_0 * gamma^(epoch // step_size) (PyTorch's StepLR)."""

    name = "step"

    def __init__(self, step_size=30, gamma=0.1):
        if not isinstance(step_size, (int, np.integer)) or step_size < 1:
            raise RelunetError(f"step_size must be a positive integer, got {step_size!r}")
        self.step_size, self.gamma = int(step_size), _positive("gamma", gamma)

    def __call__(self, lr0, epoch):
        return lr0 * self.gamma ** (epoch // self.step_size)


#: Optimizers by name, as the CLI and the playground spell them: (class, fixed keyword arguments).
OPTIMIZERS = {
    "sgd": (SGD, {}),
    "momentum": (SGD, {"nesterov": False}),
    "nesterov": (SGD, {"nesterov": True}),
    "adam": (Adam, {}),
}
SCHEDULES = {cls.name: cls for cls in (Constant, InverseScaling, Step)}


def make_optimizer(name, params, lr, momentum=0.9, weight_decay=0.0):
    """Build an optimizer by registry name; `momentum` applies to "momentum" and "nesterov" only."""
    try:
        cls, fixed = OPTIMIZERS[name]
    except (KeyError, TypeError):
        raise RelunetError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}") from None
    kwargs = dict(fixed, lr=lr, weight_decay=weight_decay)
    if name in ("momentum", "nesterov"):
        kwargs["momentum"] = momentum
    return cls(params, **kwargs)


def make_schedule(name, **kwargs):
    if not isinstance(name, str):
        return name
    try:
        return SCHEDULES[name](**kwargs)
    except KeyError:
        raise RelunetError(f"unknown learning-rate schedule {name!r}; choose one of: {', '.join(SCHEDULES)}") from None
