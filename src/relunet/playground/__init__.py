"""relunet playground: an interactive page where a network learns 2-D classes or a 1-D function, live.

``create_app()`` builds the FastAPI application; ``serve()`` runs it; ``Session`` is one tab's state.
"""

from .server import create_app, serve
from .session import Session

__all__ = ["create_app", "serve", "Session"]
