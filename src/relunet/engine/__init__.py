"""relunet's engine: layers, activations, losses, the MLP, initialisation, optimizers and training.

Imports NumPy only (SciPy's BLAS is used by the per-sample path when it is installed); nothing here
imports the command line, the plots or the playground.
"""

from .activations import ACTIVATIONS, Identity, LeakyReLU, ReLU, Sigmoid, Tanh, get_activation
from .errors import DivergenceError, RelunetError
from .init import INITIALIZERS, as_generator
from .layers import Linear, Parameter
from .losses import LOSSES, MeanSquaredError, SoftmaxCrossEntropy
from .metrics import confusion_matrix, evaluate
from .model import MLP, softmax
from .optim import OPTIMIZERS, SCHEDULES, SGD, Adam, make_optimizer, make_schedule
from .train import Callback, History, Trainer, fit

__all__ = [
    "ACTIVATIONS", "Identity", "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "get_activation",
    "DivergenceError", "RelunetError", "INITIALIZERS", "as_generator", "Linear", "Parameter",
    "LOSSES", "MeanSquaredError", "SoftmaxCrossEntropy", "confusion_matrix", "evaluate", "MLP", "softmax",
    "OPTIMIZERS", "SCHEDULES", "SGD", "Adam", "make_optimizer", "make_schedule",
    "Callback", "History", "Trainer", "fit",
]
