"""Argument helpers shared by the commands: parsing lists, loading data and models, one-line errors."""

import math
import os
import re

import numpy as np

from ..data import DATASETS, bounding_box, make_dataset, read_csv  # noqa: F401 (bounding_box re-exported)
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
    if n is not None and len(vals) != n:
        raise RelunetError(f"{what} needs {n} numbers separated by commas, got {text!r}")
    return vals


def add_data_arguments(p, required=True):
    p.add_argument("--data", required=required, metavar="NAME|FILE.csv",
                   help=f"a data set ({', '.join(DATASETS)}) or a CSV file (last column the label)")
    p.add_argument("--n", type=int, default=None, help="number of points to generate")
    p.add_argument("--noise", type=float, default=None, help="noise level of the generated data")
    p.add_argument("--classes", type=int, default=None, help="number of classes (spiral, gaussians, random)")
    p.add_argument("--data-seed", type=int, default=0, help="seed of the generated data (default 0)")
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


def load_model(path):
    from ..io import load

    return load(path)


def check_output_path(path, what="output"):
    """Refuse, before any work, an output path that cannot be written (a folder, or in a missing folder)."""
    folder = os.path.dirname(os.path.abspath(path))
    if path.endswith(("/", os.sep)) or os.path.isdir(path):
        raise RelunetError(f"cannot write {what} {path}: it is a folder, not a file name")
    if not os.path.isdir(folder):
        raise RelunetError(f"cannot write {what} {path}: folder {folder} does not exist")
    return path


# argparse reads "-1,1,-1,1" as an option because its negative-number rule only knows single numbers;
# widen that rule on the command's own parser so that --box -1,1,-1,1 and --interval -3,3 just work.
_NUMBER_LIST = re.compile(r"^-\.?\d[\d.,eE+-]*$")


def allow_negative_lists(parser):
    """Let values like -1,1,-1,1 follow an option of `parser` (a private argparse attribute, guarded)."""
    if hasattr(parser, "_negative_number_matcher"):
        parser._negative_number_matcher = _NUMBER_LIST
