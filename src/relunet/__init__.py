"""relunet: multi-layer ReLU networks, understandable and fast.

    >>> import relunet
    >>> X, y = relunet.make_dataset("lecture", seed=0)
    >>> model = relunet.MLP([2, 8, 2], seed=0)
    >>> history = relunet.fit(model, X, y, epochs=200, lr=0.1)
"""

import sys as _sys

from .engine import *  # noqa: F401,F403
from .engine import __all__ as _engine_all
from .data import DATASETS, make_dataset, read_csv, write_csv
from .io import load, save
from .metrics import confusion_matrix, evaluate

__version__ = "0.1.0"
__all__ = list(_engine_all) + ["DATASETS", "make_dataset", "read_csv", "write_csv", "load", "save", "confusion_matrix", "evaluate"]

if "IPython" in _sys.modules:  # a notebook or IPython shell: rich displays of models and histories
    from . import display as _display

    _display.register()
