"""relunet's reference engine, the lecture in code: layers, activations, losses, the MLP, optimizers, training.

Imports NumPy only: nothing here imports the command line, the plots or the playground. The compiled kernels
(relunet.kernels) compute the same numbers faster; train.choose_backend and choose_inference decide when they run.
"""

from .activations import ACTIVATIONS, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Tanh, get_activation
from .errors import DivergenceError, RelunetError
from .init import INITIALIZERS, as_generator
from .layers import Linear
from .losses import LOSSES, Logistic, MeanSquaredError, Poisson, SoftmaxCrossEntropy, softmax
from .model import MLP, Tape, loss_and_gradients
from .optim import OPTIMIZERS, SCHEDULES, SGD, Adam, Momentum, Optimizer, make_optimizer, make_schedule
from .train import Callback, History, Trainer, choose_backend, fit

__all__ = [name for name in dir() if not name.startswith("_") and name[0].isupper() or name in (
    "get_activation", "as_generator", "softmax", "loss_and_gradients",
    "make_optimizer", "make_schedule", "choose_backend", "fit")]
