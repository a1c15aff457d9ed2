"""Argument helpers shared by the commands: parsing lists, loading data and models, one-line errors."""

import argparse
import math
import os
import re

import numpy as np

from ..data import MAX_ABS, DATASETS, bounding_box, make_dataset, read_csv  # noqa: F401 (bounding_box re-exported)
from ..engine.errors import RelunetError


def int_list(text, what="hidden sizes"):
    """'64,64' -> [64, 64] (an empty string -> [])."""
    if text is None or str(text).strip() == "":
        return []
    out = []
    for part in str(text).split(","):
        try:
            v = int(part.strip())
        except ValueError:
            raise RelunetError(f"{what} must be positive integers separated by commas, got {text!r}") from None
        if v < 1:
            raise RelunetError(f"{what} must be positive integers separated by commas, got {text!r}")
        out.append(v)
    return out


def float_list(text, n=None, what="values"):
    try:
        vals = [float(p) for p in str(text).split(",")]
    except ValueError:
        raise RelunetError(f"{what} must be numbers separated by commas, got {text!r}") from None
    if not all(math.isfinite(v) for v in vals):
        raise RelunetError(f"{what} must be finite numbers, got {text!r}")
    if any(abs(v) > MAX_ABS for v in vals):
        raise RelunetError(f"{what} {text} is too large: numbers beyond {MAX_ABS:g} in magnitude overflow the "
                           "network's arithmetic")
    if n is not None and len(vals) != n:
        raise RelunetError(f"{what} needs {n} numbers separated by commas, got {text!r}")
    return vals


def add_data_arguments(p, required=True):
    p.add_argument("--data", required=required, metavar="NAME|FILE.csv",
                   help=f"a data set ({', '.join(DATASETS)}) or a CSV file (last column the label)")
    p.add_argument("--n", type=int, default=None, help="number of points to generate")
    p.add_argument("--noise", type=float, default=None, help="noise level of the generated data")
    p.add_argument("--classes", type=int, default=None, help="number of classes (spiral, gaussians, random)")
    p.add_argument("--data-seed", type=seed_type, default=0, help="seed of the generated data (default 0)")
    p.add_argument("--task", choices=["classification", "regression"], default=None,
                   help="task of a CSV file (default: classification; generated sets know their own)")


def load_data(args, task=None):
    """(X, y, task, source) from --data: a registry name or a CSV file."""
    name = args.data
    if name in DATASETS:
        spec = DATASETS[name]
        if args.task is not None and args.task != spec.task:
            raise RelunetError(f"data set {name!r} is for {spec.task}, not {args.task}")
        X, y = make_dataset(name, n=args.n, noise=args.noise, seed=args.data_seed, classes=args.classes)
        return X, y, spec.task, name
    if os.path.exists(name) or name.lower().endswith(".csv") or os.sep in name:
        task = args.task or task or "classification"
        X, y = read_csv(name, task)
        return X, y, task, name
    raise RelunetError(f"unknown data set {name!r}: not a file, and not one of: {', '.join(DATASETS)}")


def require(extra, modules, what):
    """Import the optional `modules` a command needs; a missing one is one sentence naming the extra to install.

    Optional extras are imported by the commands that need them and nowhere else, so that a core install
    (`pip install .`) runs every other command, and `relunet --help`.
    """
    import importlib

    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError:
            raise RelunetError(f'{what} needs {name.split(".")[0]}, which is not installed: '
                               f'pip install "relunet[{extra}]"') from None


def load_model(path):
    from ..io import load

    return load(path)


def check_output_path(path, what="output"):
    """Refuse, before any work, an output path that cannot be written (see check_output_paths)."""
    check_output_paths([(path, what)])
    return path


#: Picture formats the plots can be written in (matplotlib's Agg canvas), by file suffix.
PLOT_FORMATS = ("png", "pdf", "svg", "svgz", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp", "pgf", "raw", "rgba")


def check_output_paths(outputs, inputs=(), plots=()):
    """Check every output of a command before it does any work; raises RelunetError naming the first problem.

    Args:
        outputs: (path, what) pairs, e.g. (args.out, "--out"); a None path is skipped (option not given).
        inputs: (path, what) pairs of files the command reads; an output may not be one of them (also through
            a symlink, a hard link or another spelling of the path), since writing it would destroy the input.
        plots: the paths among `outputs` that are pictures: their suffix must be a format the plots can write.
    Refused: an empty path, a folder, a path whose folder is missing or is a file, something that exists and is
    not a regular file (a device node, a FIFO), an output that is an input, and two outputs that are one file.
    """
    seen = []
    for path, what in outputs:
        if path is None:
            continue
        path = os.fspath(path)
        if path.strip() == "":
            raise RelunetError(f"{what} is an empty path; give a file name")
        if path.endswith(("/", os.sep)) or os.path.isdir(path):
            raise RelunetError(f"cannot write {what} {path}: it is a folder, not a file name")
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            parent = _existing_file_above(folder)
            if parent is not None:
                raise RelunetError(f"cannot write {what} {path}: {parent} is a file, not a folder")
            raise RelunetError(f"cannot write {what} {path}: folder {folder} does not exist")
        if os.path.lexists(path) and not os.path.isfile(path):
            raise RelunetError(f"cannot write {what} {path}: it exists and is not a regular file "
                               "(a device, a FIFO or a broken link); choose a file name")
        if not os.access(folder, os.W_OK):
            raise RelunetError(f"cannot write {what} {path}: folder {folder} is not writable")
        for other, other_what in list(inputs) + seen:
            if other is not None and same_file(path, other):
                verb = "is also" if (other, other_what) in seen else "is the input"
                raise RelunetError(f"{what} {path} {verb} {other_what} {other}: writing it would destroy "
                                   f"{'that file' if verb == 'is also' else 'the input'}; choose another name")
        seen.append((path, what))
    for path, what in seen:
        if path in plots:
            suffix = path.rsplit(".", 1)[-1].lower() if "." in os.path.basename(path) else "png"
            if suffix not in PLOT_FORMATS:
                raise RelunetError(f"cannot write {what} {path}: pictures are written as "
                                   f"{', '.join('.' + f for f in PLOT_FORMATS[:4])} and a few more, not .{suffix}")


def check_output_folder(path, what):
    """Refuse, before any work, a folder for output files that cannot be one (empty, a file, under a file)."""
    if path.strip() == "":
        raise RelunetError(f"{what} is an empty path; give a folder name")
    if os.path.lexists(path) and not os.path.isdir(path):
        raise RelunetError(f"{what} {path} exists and is not a folder")
    parent = _existing_file_above(os.path.abspath(path))
    if parent is not None:
        raise RelunetError(f"cannot create folder {what} {path}: {parent} is a file, not a folder")


def same_file(a, b):
    """True when paths `a` and `b` name one file: the same path after resolving links and '..', or the same
    inode (a hard link)."""
    a, b = os.fspath(a), os.fspath(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return False


def _existing_file_above(folder):
    """The nearest existing ancestor of `folder` when it is a file (so nothing can be created under it)."""
    while True:
        if os.path.lexists(folder):
            return folder if not os.path.isdir(folder) else None
        up = os.path.dirname(folder)
        if up == folder:
            return None
        folder = up


def data_input(args):
    """(path, "--data") when --data names a file, for check_output_paths' inputs; else None."""
    name = getattr(args, "data", None)
    return (name, "--data") if name and name not in DATASETS else (None, "--data")


def drawable(model_or_task, n_inputs=None):
    """True when relunet's plots can draw this model: 2-input classifiers and 1-input regression models."""
    task = model_or_task if isinstance(model_or_task, str) else model_or_task.task
    n_inputs = n_inputs if n_inputs is not None else model_or_task.n_inputs
    return (task == "classification" and n_inputs == 2) or (task == "regression" and n_inputs == 1)


def check_drawable(task, n_inputs, what):
    if not drawable(task, n_inputs):
        raise RelunetError(f"{what}: relunet draws 2-input classifiers and 1-input regression models; this is "
                           f"{n_inputs}-input {task}")


def format_bytes(n):
    """1.5e12 -> '1.4 TiB'."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024


# argparse types: a mistake becomes argparse's one-line error "argument --seed: ..." with exit status 2.
def seed_type(text):
    """A seed: an integer from 0 to 2**32 - 1 (what numpy's generators take)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a seed must be an integer from 0 to 2**32 - 1, got {text!r}") from None
    if not 0 <= v < 2**32:
        raise argparse.ArgumentTypeError(f"a seed must be an integer from 0 to 2**32 - 1, got {text!r}")
    return v


def finite_float(text):
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(v):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return v


# argparse reads "-1,1,-1,1" as an option because its negative-number rule only knows single numbers;
# widen that rule on the command's own parser so that --box -1,1,-1,1 and --interval -3,3 just work.
_NUMBER_LIST = re.compile(r"^-\.?\d[\d.,eE+-]*$")


def allow_negative_lists(parser):
    """Let values like -1,1,-1,1 follow an option of `parser` (a private argparse attribute, guarded)."""
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = _NUMBER_LIST
