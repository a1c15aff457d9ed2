"""The linear layer z = x W^T + b, the lecture's excitation.

Shapes (batch first): x (N, in_features), W (out_features, in_features) as in PyTorch, b (out_features,),
z (N, out_features). W and b are plain arrays. ``backward`` returns the gradients and never changes W or b:
applying them is the optimizer's job, so a gradient can be inspected, checked and fed to any optimizer.
"""

import numpy as np


class Linear:
    """z = x W^T + b with W of shape (out_features, in_features)."""

    def __init__(self, in_features, out_features, dtype=np.float64):
        self.W = np.zeros((out_features, in_features), dtype=dtype)
        self.b = np.zeros(out_features, dtype=dtype)

    in_features = property(lambda self: self.W.shape[1])
    out_features = property(lambda self: self.W.shape[0])

    def forward(self, x):
        """z = x W^T + b.  x: (N, in) -> z: (N, out)."""
        return x @ self.W.T + self.b

    def backward(self, x, dz):
        """(dx, dW, db) = (dz W, dz^T x, sum_n dz_n) for the input x of the forward pass.  dz: (N, out)."""
        return dz @ self.W, dz.T @ x, dz.sum(axis=0)

    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"
