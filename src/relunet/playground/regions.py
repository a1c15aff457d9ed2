"""Hook for the exact piece-wise linear regions overlay (issue 5), built separately as ``relunet.pwl``.

The page's "Exact regions" toggle is enabled only when ``pwl_available()`` is true; switching it on sends
a ``pwl_regions`` message, which the session answers with ``pwl_regions(model, box)``. To wire it: compute
the regions of `model` inside `box` with relunet.pwl and return {"available": True, ...} with whatever the
page should draw (the page's handler is ``case "pwl"`` in static/js/main.js).
"""

import importlib.util


def pwl_available():
    """True when relunet.pwl (the exact piece-wise linear regions) can be imported."""
    try:
        return importlib.util.find_spec("relunet.pwl") is not None
    except (ImportError, ValueError):
        return False


def pwl_regions(model, box):
    """The exact regions of `model` in box [x0, x1, y0, y1]: a stub until relunet.pwl is wired in.

    Returns {"available": False}; the page then says that exact regions are not available.
    """
    return {"available": False}
