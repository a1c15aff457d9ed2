"""The linear layer z = x W^T + b, the lecture's excitation.

Shapes (batch first): x (N, in_features), W (out_features, in_features), b (out_features,),
z (N, out_features). ``forward`` keeps x for ``backward``; ``backward(dz)`` stores dW = dz^T x and
db = sum_n dz_n in ``self.dW`` / ``self.db`` and returns dx = dz W. It never changes W or b: applying
gradients is the optimizer's job, so a gradient can be inspected, checked and fed to any optimizer.
"""

import numpy as np

from .errors import RelunetError


class Parameter:
    """A parameter array and the gradient array that backward fills, both updated in place.

    ``decay`` is True for weights and False for biases: L2 weight decay applies to weights only.
    """

    __slots__ = ("name", "value", "grad", "decay")

    def __init__(self, name, value, grad, decay):
        self.name, self.value, self.grad, self.decay = name, value, grad, decay

    def __repr__(self):
        return f"Parameter({self.name}, shape={self.value.shape})"

    def __reduce__(self):
        # Pickled as views of the model's flat buffers (pickled once, shared), so that after unpickling an
        # optimizer still updates the model's very weights.
        v, g = _view_spec(self.value), _view_spec(self.grad)
        if v is not None and g is not None:
            return _parameter_from_views, (self.name, v, g, self.decay)
        return Parameter, (self.name, self.value, self.grad, self.decay)


class Linear:
    """z = x W^T + b with W of shape (out_features, in_features), as in PyTorch."""

    def __init__(self, in_features, out_features, dtype=np.float64):
        in_features, out_features = _positive_int(in_features), _positive_int(out_features)
        self.in_features, self.out_features = in_features, out_features
        self._W = np.zeros((out_features, in_features), dtype=dtype)
        self._b = np.zeros(out_features, dtype=dtype)
        self.dW = np.zeros_like(self._W)
        self.db = np.zeros_like(self._b)
        self.x = None
        self._ones = np.ones(0, dtype=dtype)

    def bind(self, W, b, dW, db):
        """Keep W, b and their gradients in the given arrays (views into a model's flat parameter buffer,
        so an optimizer can update every parameter in one pass); the current values are copied in."""
        for new, old in ((W, self._W), (b, self._b), (dW, self.dW), (db, self.db)):
            if new.shape != old.shape or new.dtype != old.dtype:
                raise RelunetError(f"cannot bind an array of shape {new.shape} to one of shape {old.shape}")
            new[...] = old
        self._W, self._b, self.dW, self.db = W, b, dW, db

    # W and b are always updated in place, so optimizers and views that hold them stay valid;
    # assigning copies the new values in after checking the shape.
    @property
    def W(self):
        return self._W

    @W.setter
    def W(self, value):
        _assign(self._W, value, "W")

    @property
    def b(self):
        return self._b

    @b.setter
    def b(self, value):
        _assign(self._b, value, "b")

    @property
    def dtype(self):
        return self._W.dtype

    def __getstate__(self):
        # W, b, dW, db as (buffer, offset, shape) when they are views of flat buffers: the buffers are
        # pickled once and shared with the optimizer's parameters, so the views still alias after unpickling.
        state = self.__dict__.copy()
        specs = {k: _view_spec(state[k]) for k in ("_W", "_b", "dW", "db")}
        if all(spec is not None for spec in specs.values()):
            for k in specs:
                del state[k]
            state["_views"] = specs
        return state

    def __setstate__(self, state):
        specs = state.pop("_views", None)
        self.__dict__.update(state)
        if specs is not None:
            for k, spec in specs.items():
                setattr(self, k, _from_view_spec(spec))

    def forward(self, x, out=None):
        """z = x W^T + b.  x: (N, in) -> z: (N, out)."""
        self.x = x
        z = np.matmul(x, self._W.T, out=out)
        z += self._b
        return z

    def backward(self, dz, out=None, need_dx=True):
        """Store dW = dz^T x, db = sum_n dz; return dx = dz W (None if not need_dx).  dz: (N, out) -> dx: (N, in)."""
        np.matmul(dz.T, self.x, out=self.dW)
        if dz.dtype == self.db.dtype:
            np.dot(self._ones_for(len(dz)), dz, out=self.db)  # sum over the batch as a product with ones: faster
        else:
            np.sum(dz, axis=0, out=self.db)
        return np.matmul(dz, self._W, out=out) if need_dx else None

    def _ones_for(self, n):
        if len(self._ones) < n:
            self._ones = np.ones(n, dtype=self._W.dtype)
        return self._ones[:n] if len(self._ones) != n else self._ones

    def parameters(self):
        return [Parameter("W", self._W, self.dW, True), Parameter("b", self._b, self.db, False)]

    def __repr__(self):
        return f"Linear(in_features={self.in_features}, out_features={self.out_features})"


def _view_spec(a):
    """(buffer, offset, shape) when `a` is a C-contiguous view of a contiguous 1-D buffer, else None."""
    base = a.base if isinstance(a, np.ndarray) else None
    if base is None or base.ndim != 1 or not base.flags.c_contiguous or not a.flags.c_contiguous:
        return None
    offset, rest = divmod(a.__array_interface__["data"][0] - base.__array_interface__["data"][0], base.itemsize)
    if rest or a.dtype != base.dtype:
        return None
    return base, offset, a.shape


def _from_view_spec(spec):
    base, offset, shape = spec
    return base[offset:offset + int(np.prod(shape, dtype=np.int64))].reshape(shape)


def _parameter_from_views(name, value_spec, grad_spec, decay):
    return Parameter(name, _from_view_spec(value_spec), _from_view_spec(grad_spec), decay)


def _assign(target, value, name):
    value = np.asarray(value)
    if value.shape != target.shape:
        raise RelunetError(f"{name} must have shape {target.shape}, got {value.shape}")
    target[...] = value


def _positive_int(n):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise RelunetError(f"layer sizes must be positive integers, got {n!r}")
    return int(n)
