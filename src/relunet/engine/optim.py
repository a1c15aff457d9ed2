"""Optimizers and learning-rate schedules, in order of increasing complexity.

An optimizer owns its state and applies the gradients that backward stored: ``step()`` reads each
Parameter's ``grad`` and updates its ``value`` in place. L2 weight decay adds weight_decay * W to the
gradient of weights only (never biases). Momentum follows PyTorch's form.
"""

import math

import numpy as np

from .errors import RelunetError

try:  # one-pass in-place W <- W - lr g (BLAS axpy) from the BLAS that SciPy links
    from scipy.linalg import blas as _blas
except ImportError:  # pragma: no cover - exercised only where SciPy is absent
    _blas = None


class Optimizer:
    """Base class. Holds the parameters (value and grad arrays, updated in place) and the settings.

    When the parameters tile one flat buffer in order (as MLP keeps them) and so do their gradients, the
    update runs on the flat buffers: the same element-wise arithmetic in a few calls instead of a few per
    parameter, and weight decay applies through a 0/1 mask that is 1 on weights, 0 on biases.
    """

    #: attributes holding one buffer per update group: optimizer state (kept) and scratch (remade)
    _state = ()
    _scratch = ()

    def __init__(self, params, lr, weight_decay=0.0):
        self.params = params
        self.lr = lr
        self.weight_decay = weight_decay

    @property
    def params(self):
        return self._params

    @params.setter
    def params(self, params):
        # Assigning new parameters (e.g. a copy of the model) re-detects the flat layout and re-lays the
        # optimizer's state out to match, so the update always reaches the parameters given.
        params = list(params)
        old = getattr(self, "_params", None)
        was_flat = getattr(self, "_flat", None) is not None
        self._params = params
        self._flat = _flatten(params)
        self._decay_scaled = None  # (weight_decay, mask * weight_decay) for the flat path
        if old is None:
            return
        for name in self._scratch:
            setattr(self, name, self._buffers())
        for name in self._state:
            bufs = getattr(self, name, None)
            if bufs is None:
                continue
            if was_flat and self._flat is None:
                bufs = _split(bufs[0], params)
            elif not was_flat and self._flat is not None:
                bufs = [np.concatenate([b.ravel() for b in bufs])]
            setattr(self, name, bufs)

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

    def _groups(self):
        """(value, grad, decay) triples to update: one flat triple, or one per parameter."""
        if self._flat is not None:
            return [self._flat]
        return [(p.value, p.grad, p.decay) for p in self.params]

    def _grad(self, group, i):
        """dL/dW + weight_decay * W for weights, dL/db for biases (into a reused buffer)."""
        value, grad, decay = group
        wd = self.weight_decay
        if not wd or decay is False:
            return grad
        g = self._decayed[i]
        if decay is True:
            np.multiply(value, wd, out=g)
        else:  # the flat path: decay is the 0/1 weight mask
            if self._decay_scaled is None or self._decay_scaled[0] != wd:
                self._decay_scaled = (wd, decay * wd)
            np.multiply(value, self._decay_scaled[1], out=g)
        g += grad
        return g

    def _buffers(self):
        return [np.zeros_like(group[0]) for group in self._groups()]

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
    _state = ("_velocity",)
    _scratch = ("_decayed", "_tmp")

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
        for i, group in enumerate(self._groups()):
            g = self._grad(group, i)
            if mu:
                v = self._velocity[i]
                v *= mu
                v += g
                if self.nesterov:
                    g = np.multiply(v, mu, out=self._tmp[i])
                    g += self._grad(group, i)
                else:
                    g = v
            _subtract_scaled(group[0], g, lr, self._tmp[i])

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
    _state = ("_m", "_v")
    _scratch = ("_decayed", "_tmp")

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
        for i, group in enumerate(self._groups()):
            g = self._grad(group, i)
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
            value = group[0]
            value -= t

    @property
    def is_plain(self):
        return False

    def state_dict(self):
        return {"t": self.t, "m": self._m, "v": self._v}


def _split(buf, params):
    """A flat buffer as one view per parameter, shaped like it."""
    out, pos = [], 0
    for p in params:
        out.append(buf[pos:pos + p.value.size].reshape(p.value.shape))
        pos += p.value.size
    return out


def _subtract_scaled(value, g, lr, tmp):
    """value <- value - lr g, in place: one BLAS axpy pass over both arrays when they are contiguous with the
    same layout, else two NumPy passes through tmp."""
    axpy = None
    if _blas is not None and value.strides == g.strides and value.dtype == g.dtype and \
            (value.flags.c_contiguous or value.flags.f_contiguous) and (g.flags.c_contiguous or g.flags.f_contiguous):
        axpy = _blas.daxpy if value.dtype == np.float64 else _blas.saxpy if value.dtype == np.float32 else None
    if axpy is None:
        value -= np.multiply(g, lr, out=tmp)
        return
    v = value.ravel(order="K")  # a view (contiguous), in memory order, as is g's
    axpy(g.ravel(order="K"), v, a=-lr)


def _flatten(params):
    """(values, grads, weight mask) when the parameters' values tile one contiguous 1-D buffer in order, and
    so do their gradients; otherwise None."""
    if not params:
        return None
    out = []
    for arrays in ([p.value for p in params], [p.grad for p in params]):
        base = arrays[0].base
        if base is None or base.ndim != 1 or not base.flags.c_contiguous:
            return None
        start = base.__array_interface__["data"][0]
        pos = 0
        for a in arrays:
            if a.base is not base or not (a.flags.c_contiguous or a.flags.f_contiguous) or a.dtype != base.dtype:
                return None
            if a.__array_interface__["data"][0] != start + pos * base.itemsize:
                return None
            pos += a.size
        if pos != base.size:
            return None
        out.append(base)
    if any(p.value.strides != p.grad.strides for p in params):
        return None  # value and gradient must line up entry by entry in the flat buffers
    mask = np.zeros(out[0].size, dtype=out[0].dtype)
    pos = 0
    for p in params:
        if p.decay:
            mask[pos:pos + p.value.size] = 1
        pos += p.value.size
    return out[0], out[1], mask


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
