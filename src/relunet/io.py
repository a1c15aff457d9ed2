"""Model files: one .npz holding W1, b1, W2, b2, ... (W_l of shape (out, in)) and a JSON `meta` entry.

Files are written with allow_pickle=False semantics (plain numeric arrays and one string), atomically
(temporary file + rename), and read with allow_pickle=False: loading never executes anything, and a
truncated, foreign or tampered file gives one clear error.
"""

import io as _io
import json
import math
import os
import stat
import tempfile
import zipfile
from dataclasses import dataclass

import numpy as np

from .engine.errors import RelunetError
from .engine.model import MLP

FORMAT = "relunet-model"
FORMAT_VERSION = 1


def atomic_write_bytes(path, data):
    """Write `data` to `path` via a temporary file in the same folder, fsync and an atomic rename.

    The file gets the mode a new file gets (0666 minus the umask), or keeps the mode of the file it
    replaces. The temporary file is removed whatever stops the write (an error, Ctrl-C, and in the command
    line SIGTERM too), so a failed write leaves the old file, or nothing, behind.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise RelunetError(f"a file name must be a path, got {type(path).__name__}")
    path = os.fspath(path)
    if not isinstance(path, str) or not isinstance(data, (bytes, bytearray, memoryview)):
        raise RelunetError(f"cannot write {path!r}: expected a str path and bytes")
    folder = os.path.dirname(os.path.abspath(path))
    if path.strip() == "":
        raise RelunetError("cannot write to an empty path; give a file name")
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise RelunetError(f"cannot write {path}: it is a folder, not a file name")
    if not os.path.isdir(folder):
        raise RelunetError(f"cannot write {path}: folder {folder} does not exist")
    if os.path.lexists(path) and not os.path.isfile(path):
        raise RelunetError(f"cannot write {path}: it exists and is not a regular file")
    try:
        mode = os.stat(path).st_mode & 0o7777 if os.path.exists(path) else 0o666 & ~_umask()
    except OSError:
        mode = 0o666 & ~_umask()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
        _fsync_folder(folder)
    except OSError as e:
        raise RelunetError(f"cannot write {path}: {e.strerror or e}") from None
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)


def _umask():
    """The process's umask, read without changing it where Linux allows (/proc), else by setting it back."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder):
    """Make the rename itself durable (where the platform allows opening a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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


@dataclass(frozen=True)
class Limits:
    """Size limits of a model file, checked from the zip directory and the arrays' .npy headers before anything
    is allocated or decompressed. `relunet.io.LIMITS` is the default; the playground uses tighter ones."""

    max_file_bytes: int = 1 << 30          # the .npz file itself
    max_parameters: int = 50_000_000       # weights and biases (400 MB in float64)
    max_layers: int = 64                   # weight layers
    max_units: int = 1_000_000             # units per layer (inputs and outputs included)
    max_meta_bytes: int = 1_000_000        # the JSON description
    max_json_depth: int = 16               # nesting of that JSON (relunet writes 3)

    def check_sizes(self, sizes, where):
        """Refuse layer sizes beyond these limits (one sentence naming the value)."""
        if not 2 <= len(sizes) <= self.max_layers + 1:
            raise RelunetError(f"model file {where} describes {len(sizes) - 1} weight layers; at most "
                               f"{self.max_layers} are read")
        if max(sizes) > self.max_units:
            raise RelunetError(f"model file {where} describes a layer of {max(sizes):,} units; at most "
                               f"{self.max_units:,} are read")
        n = sum(o * i + o for i, o in zip(sizes[:-1], sizes[1:]))
        if n > self.max_parameters:
            raise RelunetError(f"model file {where} describes {n:,} parameters; at most {self.max_parameters:,} "
                               "are read")


LIMITS = Limits()
_NPY_MAGIC = b"\x93NUMPY"


def load(path, limits=LIMITS):
    """Load a model saved by `save`; raises RelunetError for missing, truncated, foreign, oversized or tampered files.

    Nothing is trusted before it is checked: the zip directory, then each array's .npy header (dtype, shape and
    size) against the description in `meta`, all within `limits`, before any array is read.
    """
    if hasattr(path, "read"):
        return from_bytes(path.read(limits.max_file_bytes + 1), "<stream>", limits)
    if not isinstance(path, (str, os.PathLike)):
        raise RelunetError(f"model file must be a path or an open file, got {type(path).__name__}")
    where = os.fspath(path)
    try:
        st = os.stat(where)
    except FileNotFoundError:
        raise RelunetError(f"model file {where} does not exist") from None
    except OSError as e:
        raise RelunetError(f"cannot read model file {where}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise RelunetError(f"model file {where} is a folder, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise RelunetError(f"model file {where} is not a regular file (a device or a FIFO)")
    if st.st_size > limits.max_file_bytes:
        raise RelunetError(f"model file {where} has {st.st_size:,} bytes; at most {limits.max_file_bytes:,} are read")
    try:
        with open(where, "rb") as fh:
            return _read_npz(fh, where, limits)
    except OSError as e:
        raise RelunetError(f"cannot read model file {where}: {e.strerror or e}") from None


def from_bytes(data, where="<bytes>", limits=LIMITS):
    """A model from the bytes of a model file (an upload), with the same checks and `limits` as load."""
    if len(data) > limits.max_file_bytes:
        raise RelunetError(f"model file {where} has more than {limits.max_file_bytes:,} bytes")
    return _read_npz(_io.BytesIO(data), where, limits)


def _read_npz(fh, where, limits):
    head = fh.read(len(_NPY_MAGIC))
    fh.seek(0)
    if head == _NPY_MAGIC:
        raise RelunetError(f"model file {where} is a .npy file (one array), not a relunet model (.npz, saved by "
                           "relunet train or relunet.save)")
    try:
        zf = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        raise RelunetError(f"model file {where} is not a readable relunet model (not a .npz archive)") from None
    with zf:
        members = zf.infolist()
        if len(members) > 2 * limits.max_layers + 1:
            raise RelunetError(f"model file {where} holds {len(members):,} entries; a relunet model at most "
                               f"{2 * limits.max_layers + 1}")
        infos = {}
        for info in members:
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            if name in infos:
                raise RelunetError(f"model file {where} holds {info.filename[:60]!r} twice")
            infos[name] = info
        if "meta" not in infos:
            raise RelunetError(f"model file {where} is not a relunet model (no meta entry)")
        meta = _read_meta(zf, infos["meta"], where, limits)
        sizes = meta["sizes"]
        expected = {f"{p}{i}" for i in range(1, len(sizes)) for p in "Wb"} | {"meta"}
        if set(infos) != expected:
            names = sorted(set(infos) ^ expected)
            raise RelunetError(f"model file {where} does not match its description (arrays {', '.join(names)})")
        model = _model_from_meta(meta, where)
        weights = []
        for i, lin in enumerate(model.linears, start=1):
            for name, shape in ((f"W{i}", lin.W.shape), (f"b{i}", lin.b.shape)):
                weights.append(_read_array(zf, infos[name], name, shape, where))
    try:
        model.set_weights(weights)
    except RelunetError as e:
        raise RelunetError(f"model file {where}: {e}") from None
    model.box = meta.get("box")
    model.training = meta.get("training")
    return model


def _open_member(zf, info, where):
    try:
        return zf.open(info)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, ValueError) as e:
        raise RelunetError(f"model file {where}: {info.filename} cannot be read ({e})") from None


def _read_header(f, name, where):
    """(shape, dtype, header length) of a .npy member, from its header only."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(f, max_header_size=10_000)
        elif version in ((2, 0), (3, 0)):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(f, max_header_size=10_000)
        else:
            raise ValueError(f"version {version}")
    except (ValueError, EOFError, OSError, zipfile.BadZipFile, SyntaxError, TypeError) as e:
        raise RelunetError(f"model file {where}: {name} has an unreadable .npy header ({str(e)[:80]})") from None
    return shape, fortran, dtype, f.tell()


def _read_meta(zf, info, where, limits):
    if info.file_size > limits.max_meta_bytes + 200:
        raise RelunetError(f"model file {where}: its description has {info.file_size:,} bytes; at most "
                           f"{limits.max_meta_bytes:,} are read")
    with _open_member(zf, info, where) as f:
        shape, _, dtype, offset = _read_header(f, "meta", where)
        if shape != () or dtype.kind != "U" or offset + dtype.itemsize != info.file_size:
            raise RelunetError(f"model file {where} has an unreadable meta entry (a {dtype} array of shape {shape})")
        try:
            raw = f.read(dtype.itemsize)
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise RelunetError(f"model file {where}: meta cannot be read ({e})") from None
    if len(raw) != dtype.itemsize:
        raise RelunetError(f"model file {where} is truncated (meta)")
    try:
        text = np.frombuffer(raw, dtype=dtype)[0]
        meta = json.loads(str(text))
    except (ValueError, TypeError, RecursionError, UnicodeDecodeError):
        raise RelunetError(f"model file {where} has an unreadable meta entry (not JSON, or nested too deeply)") from None
    if _depth(meta, limits.max_json_depth) > limits.max_json_depth:
        raise RelunetError(f"model file {where}: its description is nested more than {limits.max_json_depth} deep")
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise RelunetError(f"model file {where} is not a relunet model (format {str(got)[:40]!r})")
    if meta.get("version") != FORMAT_VERSION:
        raise RelunetError(f"model file {where} has format version {repr(meta.get('version'))[:20]}; this relunet "
                           f"reads {FORMAT_VERSION}")
    sizes = meta.get("sizes")
    if (not isinstance(sizes, list) or not sizes
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in sizes)):
        raise RelunetError(f"model file {where} has an invalid description: sizes must be positive integers, "
                           f"got {str(sizes)[:60]}")
    limits.check_sizes(sizes, where)
    box = meta.get("box")
    if box is not None:
        ok = (isinstance(box, list) and len(box) == 2 * sizes[0]
              and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in box)
              and all(box[2 * d] < box[2 * d + 1] for d in range(sizes[0])))
        if not ok:
            raise RelunetError(f"model file {where} has an invalid box {str(box)[:80]}: expected {2 * sizes[0]} finite "
                               "numbers lo < hi per input")
        meta["box"] = [float(v) for v in box]
    return meta


def _depth(obj, limit, level=1):
    """Nesting depth of a JSON value, counting at most to limit + 1."""
    if level > limit or not isinstance(obj, (dict, list)):
        return level
    items = obj.values() if isinstance(obj, dict) else obj
    return max((_depth(v, limit, level + 1) for v in items), default=level)


def _model_from_meta(meta, where):
    from .engine.activations import LeakyReLU, get_activation

    try:
        acts = meta["activations"]
        if not isinstance(acts, list) or not all(isinstance(a, str) for a in acts):
            raise ValueError(f"activations must be names, got {str(acts)[:60]}")
        slope = meta.get("leaky_slope")
        act_objs = [LeakyReLU(slope) if a == "leaky_relu" and slope is not None else get_activation(a) for a in acts]
        classes = meta.get("classes")
        if classes is not None and (not isinstance(classes, list) or len(classes) > max(2, meta["sizes"][-1])):
            raise ValueError(f"classes must be a list of at most {max(2, meta['sizes'][-1])} labels, "
                             f"got {str(classes)[:60]}")
        # files written before the loss was stored hold no "loss": the task's default
        loss = {"loss": meta["loss"]} if meta.get("loss") is not None else {}
        return MLP(meta["sizes"], act_objs, meta["task"], classes, meta["dtype"], **loss)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as e:
        raise RelunetError(f"model file {where} has an invalid description: {str(e)[:200]}") from None


def _read_array(zf, info, name, shape, where):
    with _open_member(zf, info, where) as f:
        got, fortran, dtype, offset = _read_header(f, name, where)
        if got != shape or dtype.kind != "f" or dtype.itemsize not in (4, 8) or dtype.hasobject:
            raise RelunetError(f"model file {where}: {name} has shape {got} ({dtype}), expected {shape} floats")
        nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if info.file_size != offset + nbytes:
            raise RelunetError(f"model file {where}: {name}'s header says {nbytes:,} bytes of data but the entry "
                               f"holds {info.file_size - offset:,}")
        try:
            raw = f.read(nbytes)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise RelunetError(f"model file {where}: {name} cannot be read ({e})") from None
    if len(raw) != nbytes:
        raise RelunetError(f"model file {where} is truncated ({name})")
    arr = np.frombuffer(raw, dtype=dtype)
    return arr.reshape(shape[::-1]).T.copy() if fortran else arr.reshape(shape).copy()


def from_arrays(arrays, where, limits=LIMITS):
    """Build and check a model from a dict of arrays {"meta", "W1", "b1", ...} (already in memory)."""
    buf = _io.BytesIO()
    try:
        np.savez(buf, **arrays)
    except (TypeError, ValueError) as e:
        raise RelunetError(f"model arrays from {where} cannot be stored ({e})") from None
    return from_bytes(buf.getvalue(), where, limits)
