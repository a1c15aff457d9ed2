"""Hidden-unit activations h = g(z) and their derivatives g'(z), in one registry.

The lecture's unit is the ReLU, h = max(0, z), whose derivative is the unit step u(z). Conventions:
ReLU'(0) = 0 (u(0) = 0) and leaky ReLU'(0) = slope. Activations keep no state: ``forward(z)`` returns h and
``backward(dh, z, h)`` returns dL/dz = dL/dh * g'(z) from the z and h kept on the caller's tape, so one
object can serve any number of layers. Shapes: any, usually (N, units).
"""

import copy

import numpy as np

from .errors import RelunetError


class Activation:
    """Base class: an element-wise function g with its derivative g'."""
    name = "activation"
    piecewise_linear = False  # True for the ReLU family and identity: the network is then piece-wise linear

    def backward(self, dh, z, h):
        """dL/dz = dL/dh * g'(z): the chain rule, element by element."""
        return dh * self.derivative(z, h)

    def __repr__(self):
        return f"{type(self).__name__}()"


class ReLU(Activation):
    """h = max(0, z); g'(z) = u(z): 1 where z > 0, else 0."""
    name, piecewise_linear = "relu", True

    def forward(self, z): return np.maximum(z, 0)
    def derivative(self, z, h): return (z > 0).astype(z.dtype)


class LeakyReLU(Activation):
    """h = z where z > 0, slope * z elsewhere; g'(z) = 1 or slope."""
    name, piecewise_linear = "leaky_relu", True

    def __init__(self, slope=0.01):
        if isinstance(slope, (bool, str)) or not isinstance(slope, (int, float, np.number)) or not 0 <= slope < 1:
            raise RelunetError(f"leaky ReLU slope must be a number in [0, 1), got {slope!r}")
        self.slope = float(slope)

    def forward(self, z): return np.where(z > 0, z, self.slope * z)
    def derivative(self, z, h): return np.where(z > 0, 1.0, self.slope).astype(z.dtype)

    def __repr__(self): return f"LeakyReLU(slope={self.slope})"


class Tanh(Activation):
    """h = tanh(z); g'(z) = 1 - h^2."""
    name = "tanh"

    def forward(self, z): return np.tanh(z)
    def derivative(self, z, h): return 1.0 - h * h


class Sigmoid(Activation):
    """h = 1 / (1 + exp(-z)), computed as (1 + tanh(z/2)) / 2 so no exp overflows; g'(z) = h (1 - h)."""
    name = "sigmoid"

    def forward(self, z): return 0.5 * (1.0 + np.tanh(0.5 * z))
    def derivative(self, z, h): return h * (1.0 - h)


class Identity(Activation):
    """h = z; g'(z) = 1 (stacking only these gives a linear model)."""
    name, piecewise_linear = "identity", True

    def forward(self, z): return z.copy()
    def derivative(self, z, h): return np.ones_like(z)


#: The registry of activations by name: the CLI, the playground and model files look names up here only.
ACTIVATIONS = {cls.name: cls for cls in (ReLU, LeakyReLU, Tanh, Sigmoid, Identity)}


def get_activation(name):
    """An activation for `name` (one of ACTIVATIONS), or a copy of an Activation object (one per layer)."""
    if isinstance(name, Activation):
        return copy.copy(name)
    if isinstance(name, str) and name in ACTIVATIONS:
        return ACTIVATIONS[name]()
    raise RelunetError(f"unknown activation {name!r}; choose one of: {', '.join(ACTIVATIONS)}")
