"""SciPy sparse inputs a block of rows at a time: the Trainer and relunet.sklearn keep them sparse (CSR) and
densify only the rows they are about to use, so memory is bounded by a block, not by N x inputs."""

from .. import checks
from .errors import RelunetError

# About this many values (8 MB in float64) are densified at a time: with 64 inputs that is 16,384 rows, with
# 5,000 inputs 209, enough that a kernel call's own cost (packing the parameters) stays small beside the
# block's products.
BLOCK_VALUES = 1 << 20


def issparse(X):
    """X is a SciPy sparse matrix or array (told apart without importing SciPy)."""
    return hasattr(X, "tocsr") and hasattr(X, "nnz")


def checked_data(model, X, y, where="training"):
    """checks.data, and SciPy sparse inputs kept sparse (CSR, rows cheap to slice) with the same checks."""
    pair = where == "validation" and isinstance(X, (tuple, list)) and len(X) == 2 and y is None
    inputs = X[0] if pair else X
    if not issparse(inputs):
        return checks.data(model, X, y, where)
    X, y = (X if pair else (X, y))
    X = X.tocsr().astype(model.dtype, copy=False)
    if X.ndim != 2 or X.shape[1] != model.n_inputs:
        raise RelunetError(f"{where} data has {X.shape[-1]} features but the model expects {model.n_inputs}")
    checks.magnitude(X.data, f"{where} data")
    t = model.encode_labels(y, f"{where} labels")
    if X.shape[0] == 0 or len(t) != X.shape[0]:
        raise RelunetError(f"{where} data has {X.shape[0]} rows and {len(t)} labels; it must be non-empty and match")
    return X, t


def block_rows(X):
    """Rows of sparse X densified at a time: about BLOCK_VALUES numbers, at least one row."""
    return max(BLOCK_VALUES // max(X.shape[1], 1), 1)


def row_blocks(X):
    """(start, dense rows) of X, block_rows(X) at a time for sparse X (whole for dense X)."""
    if not issparse(X):
        yield 0, X
        return
    rows = block_rows(X)
    for s in range(0, X.shape[0], rows):
        yield s, X[s:s + rows].toarray()
