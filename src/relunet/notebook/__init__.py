"""relunet in notebooks: ``Playground``, the playground as a widget in a cell, with the engine in the kernel.

Works wherever anywidget does (JupyterLab, Jupyter Notebook, VS Code, marimo, Colab). An extra:
``pip install "relunet[notebook]"``.
"""

try:
    import anywidget  # noqa: F401
except ImportError:
    raise ImportError('relunet.notebook needs anywidget; install it with: pip install "relunet[notebook]"') from None

from .widget import Playground

__all__ = ["Playground"]
