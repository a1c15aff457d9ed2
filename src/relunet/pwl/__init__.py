from .regions import Partition, Region, linear_regions
from .boundary import Boundary, BoundaryPiece, decision_boundary
