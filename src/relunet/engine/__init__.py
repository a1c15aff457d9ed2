"""relunet's reference engine, the lecture in code: layers, activations, losses, the MLP, optimizers, training.

Imports NumPy only; nothing here imports the command line, the plots or the playground. The compiled
kernels (relunet.kernels) are picked, or not, by train.choose_backend.
"""

from .activations import ACTIVATIONS, Activation, Identity, LeakyReLU, ReLU, Sigmoid, Tanh, get_activation
from .errors import DivergenceError, RelunetError
from .gradcheck import check_model, loss_and_gradients
from .init import INITIALIZERS, as_generator
from .layers import Linear
from .losses import LOSSES, Logistic, MeanSquaredError, Poisson, SoftmaxCrossEntropy, softmax
from .metrics import confusion_matrix, evaluate
from .model import MLP, Tape
from .optim import OPTIMIZERS, SCHEDULES, SGD, Adam, Momentum, Optimizer, make_optimizer, make_schedule
from .train import Callback, History, Trainer, choose_backend, fit

__all__ = [
    "ACTIVATIONS", "Activation", "Identity", "LeakyReLU", "ReLU", "Sigmoid", "Tanh", "get_activation",
    "DivergenceError", "RelunetError", "check_model", "loss_and_gradients", "INITIALIZERS", "as_generator",
    "Linear", "LOSSES", "Logistic", "MeanSquaredError", "Poisson", "SoftmaxCrossEntropy", "softmax",
    "confusion_matrix", "evaluate", "MLP", "Tape", "OPTIMIZERS", "SCHEDULES", "SGD", "Adam", "Momentum",
    "Optimizer", "make_optimizer", "make_schedule", "Callback", "History", "Trainer", "choose_backend", "fit",
]
