"""Hidden-unit activations h = g(z) and their derivatives, in one registry.

Each activation is a small layer: ``forward(z)`` computes h = g(z) and keeps exactly what ``backward``
needs; ``backward(dh)`` returns dL/dz = dL/dh * g'(z). Shapes are whatever the input has, usually
(N, units), batch first. Conventions: ReLU'(0) = 0 (the lecture's unit step u(z) is 0 for z <= 0),
leaky ReLU'(0) = slope.

``out=`` lets the training loop pass reusable buffers; without it fresh arrays are returned. ``forward``'s
``out`` must not be its input; ``backward``'s may be ``dh`` (the fused per-sample loop updates in place).
"""

import numpy as np

from .errors import RelunetError


class Activation:
    """Base class: an element-wise function with its derivative."""

    name = "activation"
    #: True when g is piece-wise linear (ReLU family, identity): the network is then a PWL function.
    piecewise_linear = False

    def __call__(self, z):
        return self.forward(z)

    def forward(self, z, out=None):
        raise NotImplementedError

    def backward(self, dh, out=None):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class ReLU(Activation):
    """h = max(0, z); dh/dz = u(z): 1 where z > 0, else 0 (so ReLU'(0) = 0)."""

    name = "relu"
    piecewise_linear = True

    def forward(self, z, out=None):
        # One pass; backward reads u(z) off h, since h > 0 exactly where z > 0. Inference pays nothing more.
        self._h = np.maximum(z, 0, out=out)
        return self._h

    def backward(self, dh, out=None):
        h = self._h
        mask = self._mask = _like(getattr(self, "_mask", None), h.shape, bool)
        np.greater(h, 0, out=mask)
        return np.multiply(dh, mask, out=out)


class LeakyReLU(Activation):
    """h = z for z > 0, slope * z otherwise; dh/dz = 1 or slope (slope at z = 0)."""

    name = "leaky_relu"
    piecewise_linear = True

    def __init__(self, slope=0.01):
        if not (0.0 <= float(slope) < 1.0):
            raise RelunetError(f"leaky ReLU slope must be in [0, 1), got {slope!r}")
        self.slope = float(slope)

    def forward(self, z, out=None):
        self._mask = np.greater(z, 0, out=_like(getattr(self, "_mask", None), z.shape, bool))
        out = np.multiply(z, self.slope, out=out)
        np.copyto(out, z, where=self._mask)
        return out

    def backward(self, dh, out=None):
        d = self._d = _like(getattr(self, "_d", None), dh.shape, dh.dtype)
        np.multiply(self._mask, 1.0 - self.slope, out=d)
        d += self.slope  # g'(z): 1 where z > 0, slope elsewhere
        return np.multiply(dh, d, out=out)

    def __repr__(self):
        return f"LeakyReLU(slope={self.slope})"


class Tanh(Activation):
    """h = tanh(z); dh/dz = 1 - h^2."""

    name = "tanh"

    def forward(self, z, out=None):
        self._h = np.tanh(z, out=out)
        return self._h

    def backward(self, dh, out=None):
        h = self._h
        d = self._d = _like(getattr(self, "_d", None), h.shape, h.dtype)
        np.multiply(h, h, out=d)
        np.subtract(1.0, d, out=d)  # g'(z) = 1 - h^2
        return np.multiply(dh, d, out=out)


class Sigmoid(Activation):
    """h = 1 / (1 + exp(-z)); dh/dz = h (1 - h)."""

    name = "sigmoid"

    def forward(self, z, out=None):
        # 0.5 * (1 + tanh(z / 2)) is the logistic function without overflow for large |z|.
        out = np.multiply(z, 0.5, out=out)
        np.tanh(out, out=out)
        out += 1.0
        out *= 0.5
        self._h = out
        return out

    def backward(self, dh, out=None):
        h = self._h
        d = self._d = _like(getattr(self, "_d", None), h.shape, h.dtype)
        np.subtract(1.0, h, out=d)
        d *= h  # g'(z) = h (1 - h)
        return np.multiply(dh, d, out=out)


class Identity(Activation):
    """h = z; dh/dz = 1 (a linear layer: stacking only these gives a linear model)."""

    name = "identity"
    piecewise_linear = True

    def forward(self, z, out=None):
        if out is None:
            return z.copy()
        np.copyto(out, z)
        return out

    def backward(self, dh, out=None):
        if out is None:
            return dh.copy()
        np.copyto(out, dh)
        return out


def _like(buf, shape, dtype):
    """A reusable buffer of this shape and dtype (the old one when it fits)."""
    if buf is not None and buf.shape == shape and buf.dtype == dtype:
        return buf
    return np.empty(shape, dtype=dtype)


#: The registry of activations by name: the CLI, the playground and model files look names up here only.
ACTIVATIONS = {cls.name: cls for cls in (ReLU, LeakyReLU, Tanh, Sigmoid, Identity)}


def get_activation(name):
    """A fresh activation layer for `name` (one of ACTIVATIONS), or a clear error naming the choices."""
    if isinstance(name, Activation):
        return name
    try:
        return ACTIVATIONS[name]()
    except (KeyError, TypeError):
        choices = ", ".join(ACTIVATIONS)
        raise RelunetError(f"unknown activation {name!r}; choose one of: {choices}") from None
