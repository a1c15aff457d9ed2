"""Weight initialisation from an explicit numpy.random.Generator (no global random state).

He (Kaiming) normal for the ReLU family, W ~ N(0, 2 / fan_in), keeps the variance of z roughly constant
through ReLU layers; Glorot (Xavier) uniform for the others, W ~ U(-a, a) with a = sqrt(6 / (fan_in + fan_out)).
"""

import numpy as np

from .. import checks

INITIALIZERS = {
    "he": lambda rng, fan_out, fan_in: rng.standard_normal((fan_out, fan_in)) * np.sqrt(2.0 / fan_in),
    "glorot": lambda rng, fan_out, fan_in: rng.uniform(-np.sqrt(6.0 / (fan_in + fan_out)),
                                                       np.sqrt(6.0 / (fan_in + fan_out)), (fan_out, fan_in)),
}
#: The initialiser each activation gets under init="auto".
DEFAULT_INIT = {"relu": "he", "leaky_relu": "he", "tanh": "glorot", "sigmoid": "glorot", "identity": "glorot"}


def as_generator(seed):
    """A numpy.random.Generator from a seed (a non-negative int; None means 0) or an existing Generator."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(checks.count("seed", 0 if seed is None else seed))
