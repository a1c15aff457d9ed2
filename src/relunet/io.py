"""Model files: one .npz holding W1, b1, W2, b2, ... (W_l of shape (out, in)) and a JSON `meta` entry.

Files are written with allow_pickle=False semantics (plain numeric arrays and one string), atomically
(temporary file + rename), and read with allow_pickle=False: loading never executes anything, and a
truncated, foreign or tampered file gives one clear error.
"""

import io as _io
import json
import os
import tempfile
import zipfile

import numpy as np

from .engine.errors import RelunetError
from .engine.model import MLP

FORMAT = "relunet-model"
FORMAT_VERSION = 1


def atomic_write_bytes(path, data):
    """Write `data` to `path` via a temporary file in the same folder and an atomic rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise RelunetError(f"cannot write {path}: it is a folder, not a file name")
    if not os.path.isdir(folder):
        raise RelunetError(f"cannot write {path}: folder {folder} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    except OSError as e:
        raise RelunetError(f"cannot write {path}: {e.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as e:
        raise RelunetError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def model_meta(model, box=None, training=None):
    """The JSON-able description of `model` stored beside its arrays."""
    meta = {
        "format": FORMAT, "version": FORMAT_VERSION,
        "sizes": model.sizes, "activations": model.activation_names, "task": model.task, "loss": model.loss,
        "classes": None if model.classes is None else model.classes.tolist(),
        "dtype": model.dtype.name,
        "leaky_slope": next((a.slope for a in model.activations if hasattr(a, "slope")), None),
    }
    box = box if box is not None else getattr(model, "box", None)
    if box is not None:
        meta["box"] = [float(v) for v in box]
    training = training if training is not None else getattr(model, "training", None)
    if training is not None:
        meta["training"] = training
    return meta


def to_bytes(model, box=None, training=None):
    """The .npz file contents for `model` (see save)."""
    arrays = {}
    for i, lin in enumerate(model.linears, start=1):
        arrays[f"W{i}"], arrays[f"b{i}"] = lin.W, lin.b
    meta = json.dumps(model_meta(model, box, training), sort_keys=True)
    buf = _io.BytesIO()
    np.savez(buf, meta=np.array(meta), **arrays)
    return buf.getvalue()


def save(model, path, box=None, training=None):
    """Save `model` to `path` (.npz), atomically.

    Args:
        box: the training data's bounding box [x_min, x_max, y_min, y_max, ...] (defaults to model.box).
        training: a dict of the training options, stored for the record (defaults to model.training).
    """
    atomic_write_bytes(path, to_bytes(model, box, training))


def load(path):
    """Load a model saved by `save`; raises RelunetError for missing, truncated, foreign or tampered files."""
    where = os.fspath(path) if not hasattr(path, "read") else "<stream>"
    if isinstance(path, (str, os.PathLike)) and not os.path.exists(path):
        raise RelunetError(f"model file {where} does not exist")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as e:
        raise RelunetError(f"model file {where} is not a readable relunet model ({type(e).__name__})") from None
    return from_arrays(arrays, where)


def from_bytes(data, where="<bytes>"):
    try:
        with np.load(_io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, EOFError, ValueError, OSError, KeyError) as e:
        raise RelunetError(f"model file {where} is not a readable relunet model ({type(e).__name__})") from None
    return from_arrays(arrays, where)


def from_arrays(arrays, where):
    """Build and check a model from the arrays of a model file."""
    bad = RelunetError
    if "meta" not in arrays:
        raise bad(f"model file {where} is not a relunet model (no meta entry)")
    try:
        meta = json.loads(str(arrays["meta"][()]))
    except (ValueError, TypeError):
        raise bad(f"model file {where} has an unreadable meta entry") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise bad(f"model file {where} is not a relunet model (format {meta.get('format') if isinstance(meta, dict) else None!r})")
    if meta.get("version") != FORMAT_VERSION:
        raise bad(f"model file {where} has format version {meta.get('version')!r}; this relunet reads {FORMAT_VERSION}")
    try:
        sizes = [int(s) for s in meta["sizes"]]
        acts = list(meta["activations"])
        slope = meta.get("leaky_slope")
        from .engine.activations import LeakyReLU, get_activation

        act_objs = [LeakyReLU(slope) if a == "leaky_relu" and slope is not None else get_activation(a) for a in acts]
        model = MLP(sizes, act_objs, meta["task"], meta.get("classes"), meta["dtype"], loss=meta.get("loss"))
    except (KeyError, TypeError, ValueError) as e:
        raise bad(f"model file {where} has an invalid description: {e}") from None
    expected = {f"{p}{i}" for i in range(1, len(sizes)) for p in "Wb"} | {"meta"}
    if set(arrays) != expected:
        extra = sorted(set(arrays) ^ expected)
        raise bad(f"model file {where} does not match its description (arrays {', '.join(extra)})")
    weights = []
    for i, lin in enumerate(model.linears, start=1):
        for name, target in ((f"W{i}", lin.W), (f"b{i}", lin.b)):
            arr = arrays[name]
            if arr.shape != target.shape or arr.dtype.kind != "f":
                raise bad(f"model file {where}: {name} has shape {arr.shape} ({arr.dtype}), "
                          f"expected {target.shape} floats")
            weights.append(arr)
    try:
        model.set_weights(weights)
    except RelunetError as e:
        raise bad(f"model file {where}: {e}") from None
    box = meta.get("box")
    model.box = None if box is None else [float(v) for v in box]
    model.training = meta.get("training")
    return model
