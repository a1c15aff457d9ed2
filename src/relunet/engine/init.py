"""Weight initialisation from an explicit numpy.random.Generator (no global random state).

He (Kaiming) normal for the ReLU family: W ~ N(0, 2 / fan_in), which keeps the variance of z roughly
constant through ReLU layers. Glorot (Xavier) uniform for tanh, sigmoid and identity:
W ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out)). Biases (see MLP.initialize) are drawn as PyTorch draws
them, U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
"""

import numpy as np

from .errors import RelunetError


def he(rng, fan_out, fan_in, dtype=np.float64):
    """He normal: N(0, 2 / fan_in), shape (fan_out, fan_in)."""
    return (rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in)).astype(dtype)


def glorot(rng, fan_out, fan_in, dtype=np.float64):
    """Glorot uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)), shape (fan_out, fan_in)."""
    a = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-a, a, size=(fan_out, fan_in)).astype(dtype)


INITIALIZERS = {"he": he, "glorot": glorot}
#: The initialiser each activation gets under init="auto".
DEFAULT_INIT = {"relu": "he", "leaky_relu": "he", "tanh": "glorot", "sigmoid": "glorot", "identity": "glorot"}


def as_generator(seed):
    """A numpy.random.Generator from a seed (int), an existing Generator, or None (seed 0)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        seed = 0
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise RelunetError(f"seed must be a non-negative integer or a numpy Generator, got {seed!r}")
    return np.random.default_rng(int(seed))


def get_initializer(name):
    try:
        return INITIALIZERS[name]
    except (KeyError, TypeError):
        raise RelunetError(f"unknown initialiser {name!r}; choose one of: auto, {', '.join(INITIALIZERS)}") from None
