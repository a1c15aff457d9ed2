"""Data sets: a registry of generators with one signature, and CSV files.

Every generator is ``fn(n, noise, rng, **options) -> (X, y)`` with X of shape (n, features) and y of shape
(n,): integer class labels 0..K-1 for classification, numbers for regression. Adding a data set is one
function and one ``@register`` line.
"""

import csv
import io as _io
import math
import os
from dataclasses import dataclass, field

import numpy as np

from .engine.errors import RelunetError
from .engine.init import as_generator
from .io import atomic_write_bytes


@dataclass(frozen=True)
class DatasetSpec:
    name: str
    task: str            # "classification" or "regression"
    fn: object
    n: int               # default number of tokens
    noise: float         # default noise
    doc: str
    classes: int = 2     # default number of classes (for generators that take `classes`)
    options: tuple = field(default=())  # names of extra keyword options the generator takes


#: The registry: the CLI and the playground look data sets up here and nowhere else.
DATASETS = {}

#: Limits on data, checked before anything is allocated or read in full.
MAX_GENERATED = 10_000_000          # points a generator makes (160 MB of 2-D inputs)
MAX_FILE_BYTES = 64 * 2**20         # bytes read from a CSV file (or a FIFO, or /dev/zero)
MAX_ROWS = 10_000_000               # data rows in a CSV
MAX_ABS = 1e100                     # |value| in a CSV: squares and products of larger numbers overflow float64
MAX_LABEL = 2**31 - 1               # |class label|: an exact small integer


def register(name, task, n, noise, classes=2, options=()):
    def deco(fn):
        DATASETS[name] = DatasetSpec(name, task, fn, n, noise, (fn.__doc__ or "").strip().splitlines()[0],
                                     classes, tuple(options))
        return fn
    return deco


def make_dataset(name, n=None, noise=None, seed=0, classes=None):
    """Generate data set `name` from the registry: returns (X, y).

    Args:
        n: number of tokens (the data set's default when None). noise: its noise level (default likewise).
        seed: int or numpy Generator. classes: number of classes for data sets that take it (spiral, gaussians).
    """
    spec = DATASETS.get(name)
    if spec is None:
        raise RelunetError(f"unknown data set {name!r}; choose one of: {', '.join(DATASETS)}")
    n = spec.n if n is None else n
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise RelunetError(f"number of points must be a positive integer, got {n!r}")
    if n > MAX_GENERATED:
        raise RelunetError(f"{n:,} points would need {_gib(n * 3 * 8)} of memory; at most {MAX_GENERATED:,} are generated")
    noise = spec.noise if noise is None else noise
    try:
        noise = float(noise)
    except (TypeError, ValueError):
        raise RelunetError(f"noise must be a number, got {noise!r}") from None
    if not (noise >= 0 and math.isfinite(noise)):
        raise RelunetError(f"noise must be a finite number at least 0, got {noise!r}")
    if noise > MAX_ABS:
        raise RelunetError(f"noise {noise:g} is too large: data beyond {MAX_ABS:g} in magnitude overflow the "
                           "network's arithmetic")
    kwargs = {}
    if "classes" in spec.options:
        k = spec.classes if classes is None else classes
        if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or not 2 <= k <= 10:
            raise RelunetError(f"number of classes must be an integer from 2 to 10, got {k!r}")
        kwargs["classes"] = int(k)
    elif classes is not None and classes != spec.classes:
        raise RelunetError(f"data set {name!r} has {spec.classes} classes; --classes applies to spiral and gaussians")
    X, y = spec.fn(int(n), noise, as_generator(seed), **kwargs)
    return np.ascontiguousarray(X, dtype=np.float64), y


def _gib(nbytes):
    return f"{nbytes / 2**30:,.1f} GiB" if nbytes >= 2**30 else f"{nbytes / 2**20:,.1f} MiB"


def _split_counts(n, k):
    """n tokens shared among k groups as evenly as possible."""
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _disk(rng, m, center, radius):
    """m points uniform in a disk."""
    r = radius * np.sqrt(rng.uniform(0, 1, m))
    a = rng.uniform(0, 2 * np.pi, m)
    return np.column_stack([center[0] + r * np.cos(a), center[1] + r * np.sin(a)])


# ----------------------------------------------------------------------------- classification (2-D)
@register("lecture", "classification", n=90, noise=0.12)
def lecture(n, noise, rng):
    """The lecture's example: class 0 near [0.8, 0] and again near [0.4, 0.9], class 1 between them.

    Points are uniform in disks of radius `noise` (at most 0.2, so the clusters never overlap): no line
    separates the classes, a two-layer ReLU network does.
    """
    radius = min(noise, 0.2)
    n0a, n0b, n1 = _split_counts(n, 3)
    X = np.vstack([_disk(rng, n0a, (0.8, 0.0), radius), _disk(rng, n0b, (0.4, 0.9), radius),
                   _disk(rng, n1, (0.6, 0.45), radius)])
    y = np.r_[np.zeros(n0a + n0b, int), np.ones(n1, int)]
    return X, y


@register("xor", "classification", n=200, noise=0.05)
def xor(n, noise, rng):
    """XOR: label 1 where x1 and x2 have different signs; points uniform in [-1, 1]^2, plus Gaussian noise."""
    X = rng.uniform(-1, 1, (n, 2))
    # keep a margin around the axes so the classes stay separable under small noise
    X += np.sign(X) * 0.1
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(int)
    return X + rng.normal(0, noise, X.shape), y


@register("circles", "classification", n=200, noise=0.05)
def circles(n, noise, rng):
    """Two concentric circles (radius 1 for class 0, 0.5 for class 1), with Gaussian noise."""
    n0, n1 = _split_counts(n, 2)
    a = rng.uniform(0, 2 * np.pi, n)
    r = np.r_[np.full(n0, 1.0), np.full(n1, 0.5)]
    X = np.column_stack([r * np.cos(a), r * np.sin(a)]) + rng.normal(0, noise, (n, 2))
    return X, np.r_[np.zeros(n0, int), np.ones(n1, int)]


@register("moons", "classification", n=200, noise=0.1)
def moons(n, noise, rng):
    """Two interleaving half circles, with Gaussian noise."""
    n0, n1 = _split_counts(n, 2)
    a0, a1 = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n1)
    X = np.vstack([np.column_stack([np.cos(a0), np.sin(a0)]),
                   np.column_stack([1 - np.cos(a1), 0.5 - np.sin(a1)])])
    return X + rng.normal(0, noise, X.shape), np.r_[np.zeros(n0, int), np.ones(n1, int)]


@register("spiral", "classification", n=300, noise=0.2, classes=3, options=("classes",))
def spiral(n, noise, rng, classes=3):
    """K interleaved spiral arms (CS231n's spiral), one class per arm; noise perturbs the angle."""
    counts = _split_counts(n, classes)
    X, y = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m) + rng.normal(0, noise, m)
        X.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        y.append(np.full(m, k))
    return np.vstack(X), np.concatenate(y)


@register("gaussians", "classification", n=200, noise=0.3, classes=3, options=("classes",))
def gaussians(n, noise, rng, classes=3):
    """K Gaussian blobs with centres evenly spaced on a circle of radius 1; noise is their standard deviation."""
    counts = _split_counts(n, classes)
    X, y = [], []
    for k, m in enumerate(counts):
        c = np.array([np.cos(2 * np.pi * k / classes), np.sin(2 * np.pi * k / classes)])
        X.append(c + rng.normal(0, noise, (m, 2)))
        y.append(np.full(m, k))
    return np.vstack(X), np.concatenate(y)


@register("random", "classification", n=40, noise=0.0, classes=2, options=("classes",))
def random_points(n, noise, rng, classes=2):
    """Points uniform in [-1, 1]^2 with random labels (ConvNetJS's "random": memorisation)."""
    return rng.uniform(-1, 1, (n, 2)), rng.integers(0, classes, n)


# ----------------------------------------------------------------------------- regression (1-D)
def _regression_inputs(n, lo, hi):
    return np.linspace(lo, hi, n)[:, None]


@register("sine", "regression", n=100, noise=0.0)
def sine(n, noise, rng):
    """y = sin(x) on [0, 2 pi], plus Gaussian noise."""
    X = _regression_inputs(n, 0.0, 2 * np.pi)
    return X, np.sin(X[:, 0]) + rng.normal(0, noise, n) * (noise > 0)


@register("abs", "regression", n=100, noise=0.0)
def absolute(n, noise, rng):
    """y = |x| on [-1, 1], plus Gaussian noise (one ReLU pair represents it exactly)."""
    X = _regression_inputs(n, -1.0, 1.0)
    return X, np.abs(X[:, 0]) + rng.normal(0, noise, n) * (noise > 0)


@register("step", "regression", n=100, noise=0.0)
def step(n, noise, rng):
    """y = 1[x > 0] on [-1, 1], plus Gaussian noise (discontinuous: PWL pieces can only approach it)."""
    X = _regression_inputs(n, -1.0, 1.0)
    return X, (X[:, 0] > 0).astype(float) + rng.normal(0, noise, n) * (noise > 0)


@register("xsinx", "regression", n=100, noise=0.0)
def xsinx(n, noise, rng):
    """y = x sin(x) on [-5, 5] (ConvNetJS's regression demo), plus Gaussian noise."""
    X = _regression_inputs(n, -5.0, 5.0)
    return X, X[:, 0] * np.sin(X[:, 0]) + rng.normal(0, noise, n) * (noise > 0)


#: The exact target functions of the 1-D regression sets, with their intervals (used by relunet approx).
TARGETS = {
    "sine": (np.sin, (0.0, 2 * np.pi)),
    "abs": (np.abs, (-1.0, 1.0)),
    "step": (lambda x: (np.asarray(x) > 0).astype(float), (-1.0, 1.0)),
    "xsinx": (lambda x: np.asarray(x) * np.sin(x), (-5.0, 5.0)),
}


def bounding_box(X, margin=0.1):
    """[x0, x1, y0, y1, ...]: the data's range in each input with `margin` times that range added each side."""
    X = np.asarray(X, dtype=float)
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = np.maximum(hi - lo, 1e-9) * margin
    return [float(v) for pair in zip(lo - pad, hi + pad) for v in pair]


# ----------------------------------------------------------------------------- CSV
def read_csv(path_or_text, task="classification", name=None):
    """Read a CSV: an optional header row, then rows of numbers whose last column is the label.

    Labels must be integers for classification, numbers for regression. `path_or_text` is a path, or
    CSV text when `name` is given (used in messages). Returns (X, y). Errors name the file and line.
    """
    if task not in ("classification", "regression"):
        raise RelunetError(f"task must be 'classification' or 'regression', got {task!r}")
    if name is None:
        where = str(path_or_text)
        text = _read_text(path_or_text, "data file")
    else:
        where, text = name, path_or_text
    rows = []
    for lineno, values, cells in _numeric_rows(text, where):
        if not rows and len(values) < 2:
            raise RelunetError(f"{where}, line {lineno}: need at least one feature column and a label column")
        if rows and len(values) != len(rows[0]):
            raise RelunetError(f"{where}, line {lineno}: expected {len(rows[0])} columns, got {len(values)}")
        if task == "classification" and not float(values[-1]).is_integer():
            raise RelunetError(f"{where}, line {lineno}: label {cells[-1].strip()!r} is not an integer "
                               "(use --task regression for numeric targets)")
        if task == "classification" and abs(values[-1]) > MAX_LABEL:
            raise RelunetError(f"{where}, line {lineno}: label {cells[-1].strip()!r} is not a small integer "
                               f"(class labels are at most {MAX_LABEL:,} in magnitude)")
        rows.append(values)
    if not rows:
        raise RelunetError(f"{where} has no data rows")
    A = np.array(rows, dtype=np.float64)
    X = np.ascontiguousarray(A[:, :-1])
    y = A[:, -1].astype(np.int64) if task == "classification" else A[:, -1]
    return X, y


def read_inputs(path, n_features=None):
    """Read a CSV of inputs only (optional header), for prediction. Returns X (N, features)."""
    where = str(path)
    text = _read_text(path, "input file")
    rows = []
    for lineno, values, cells in _numeric_rows(text, where):
        if n_features is not None and len(values) != n_features:
            raise RelunetError(f"{where}, line {lineno}: {len(values)} features but the model expects {n_features}")
        if rows and len(values) != len(rows[0]):
            raise RelunetError(f"{where}, line {lineno}: expected {len(rows[0])} columns, got {len(values)}")
        rows.append(values)
    if not rows:
        raise RelunetError(f"{where} has no data rows")
    return np.array(rows, dtype=np.float64)


def write_csv(path, X, y=None, header=None):
    """Write X (and labels y as the last column) as CSV, atomically (temp file + rename)."""
    X = np.asarray(X)
    buf = _io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    if header is None:
        header = [f"x{i + 1}" for i in range(X.shape[1])] + (["y"] if y is not None else [])
    w.writerow(header)
    for i in range(len(X)):
        row = [repr(float(v)) for v in X[i]]
        if y is not None:
            yi = y[i]
            row.append(str(int(yi)) if float(yi).is_integer() and np.issubdtype(np.asarray(y).dtype, np.integer)
                       else repr(float(yi)))
        w.writerow(row)
    atomic_write_bytes(path, buf.getvalue().encode())


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def _read_text(path, what):
    """The text of a CSV file, read up to MAX_FILE_BYTES (so /dev/zero or an endless FIFO ends with an error, not
    with all the memory); errors name the file."""
    if not isinstance(path, (str, os.PathLike)):
        raise RelunetError(f"{what} must be a path, got {type(path).__name__} {str(path)[:40]!r}")
    where = str(path)
    if where.strip() == "":
        raise RelunetError(f"{what} is an empty path")
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise RelunetError(f"{what} {where} does not exist") from None
    except IsADirectoryError:
        raise RelunetError(f"{what} {where} is a folder, not a CSV file") from None
    except OSError as e:
        raise RelunetError(f"cannot read {what} {where}: {e.strerror or e}") from None
    if len(data) > MAX_FILE_BYTES:
        raise RelunetError(f"{what} {where} is larger than {MAX_FILE_BYTES // 2**20} MiB; relunet reads CSV files up "
                           "to that size")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise RelunetError(f"cannot read {what} {where}: not UTF-8 text ({e.reason} at byte {e.start})") from None


def _numeric_rows(text, where):
    """(line number, [floats], [cells]) for every data row of CSV `text`: blank lines skipped; the first line skipped
    when none of its cells is a number (a header like "x1,x2,label"; "1,2,x" is data with a mistake);
    a non-number, a NaN / infinite value or one beyond MAX_ABS is an error naming `where` and the line.
    Lines may end in \\n, \\r\\n or \\r alone (old Mac files)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\0" in text:
        raise RelunetError(f"{where} holds NUL bytes: it is not a CSV text file")
    first = _first_line(text)
    reader = csv.reader(_io.StringIO(text))
    lineno = 0
    count = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise RelunetError(f"{where}, line {reader.line_num}: not a CSV row ({e})") from None
        lineno = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        try:
            values = [float(c) for c in row]
        except ValueError:
            if lineno == first and not any(_is_number(c) for c in row):
                continue
            bad = next(c for c in row if not _is_number(c))
            shown = bad.strip() if len(bad) <= 40 else bad.strip()[:40] + f"... ({len(bad):,} characters)"
            raise RelunetError(f"{where}, line {lineno}: {shown!r} is not a number") from None
        if not all(math.isfinite(v) for v in values):
            raise RelunetError(f"{where}, line {lineno}: NaN or infinite value")
        big = next((c for c, v in zip(row, values) if abs(v) > MAX_ABS), None)
        if big is not None:
            raise RelunetError(f"{where}, line {lineno}: {big.strip()[:40]} is too large: values beyond {MAX_ABS:g} in "
                               "magnitude overflow the network's arithmetic (rescale the data)")
        count += 1
        if count > MAX_ROWS:
            raise RelunetError(f"{where} has more than {MAX_ROWS:,} data rows")
        yield lineno, values, row


def _first_line(text):
    for i, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            return i
    return 1
