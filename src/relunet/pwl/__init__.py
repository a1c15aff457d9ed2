"""relunet.pwl: the exact piece-wise linear geometry of ReLU networks.

A ReLU network computes a continuous piece-wise linear function. This package computes its pieces
exactly (no sampling grid), in float64 NumPy:

- ``linear_regions(model, box)``: the convex polygons of a 2-input network with their activation
  patterns and affine maps z = A x + c;
- ``decision_boundary(model, box)``: a classifier's boundary as polylines labelled by the two classes
  that tie there, with the junctions where three classes meet;
- ``knots(model, interval)``: breakpoints and slopes of a 1-input network;
- bounds on the number of regions (``one_layer_bound``, ``box_exact_count``, ``serra_bound``,
  ``oned_bound``, ``model_bound``);
- ``power_diagram(model)``: the linear classifier's cells as a power diagram (Voronoi or not);
- ``compile_pwl`` / ``compile_function``: a two-layer ReLU network that represents a PWL function exactly;
- ``RegionCounter``: a training callback that counts the regions each epoch;
- ``benchmark()``: timings of the above for ``relunet bench``.
Plots live in ``relunet.pwl.plot`` (matplotlib, imported on demand).
"""

from .boundary import Boundary, BoundaryPiece, decision_boundary
from .bounds import box_exact_count, model_bound, one_layer_bound, oned_bound, serra_bound
from .callbacks import RegionCounter
from .compiler import compile_function, compile_pwl
from .oned import Knots, knots
from .power import PowerDiagram, power_diagram
from .regions import Partition, Region, linear_regions
from .bench import benchmark

__all__ = ["Boundary", "BoundaryPiece", "decision_boundary", "box_exact_count", "model_bound", "one_layer_bound",
           "oned_bound", "serra_bound", "RegionCounter", "compile_function", "compile_pwl", "Knots", "knots",
           "PowerDiagram", "power_diagram", "Partition", "Region", "linear_regions", "benchmark"]
