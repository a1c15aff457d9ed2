"""The whole experiment as one table, serialised to the page's URL hash (TensorFlow Playground's habit).

``Config`` holds every setting and both seeds; ``encode_hash(config)`` writes it as ``key=value&...`` and
``decode_hash(text)`` reads it back through the same validation as the messages, so
``decode_hash(encode_hash(c)) == c`` for every valid config. Points the user placed by hand (or loaded
from CSV) travel in the hash too when there are at most ``HASH_POINTS`` of them.
"""

from typing import Annotated, Optional
from urllib.parse import parse_qsl, quote

from pydantic import Field, ValidationError

from ..data import DATASETS
from .protocol import (MAX_CLASSES, MAX_POINTS, Layer, OptimizerName, Point, ProtocolError,
                       ScheduleName, Task, _Strict, describe_error)

#: Custom data of at most this many points is written into the link; larger data would make links unwieldy.
HASH_POINTS = 300
#: One letter per activation in the hash: "8r,8r" is two ReLU layers of 8 units.
ACT_CODES = {"relu": "r", "leaky_relu": "l", "tanh": "t", "sigmoid": "s", "identity": "i"}
_ACT_NAMES = {v: k for k, v in ACT_CODES.items()}
CUSTOM = "custom"


class Config(_Strict):
    """Every setting of one experiment. `dataset` is a registry name or "custom" (points in `points`)."""

    # The defaults are the lecture's first step: its example, the linear classifier, per-sample SGD.
    task: Task = "classification"
    dataset: str = "lecture"
    n: Annotated[int, Field(ge=1, le=MAX_POINTS)] = 90
    noise: Annotated[float, Field(ge=0, le=10)] = 0.12
    classes: Annotated[int, Field(ge=2, le=MAX_CLASSES)] = 3
    data_seed: Annotated[int, Field(ge=0, lt=2**31)] = 0
    test_fraction: Annotated[float, Field(ge=0, le=0.9)] = 0.0
    layers: Annotated[tuple[Layer, ...], Field(max_length=8)] = ()
    optimizer: OptimizerName = "sgd"
    lr: Annotated[float, Field(gt=0, le=10)] = 0.1
    momentum: Annotated[float, Field(ge=0, lt=1)] = 0.9
    batch_size: Annotated[int, Field(ge=1, le=MAX_POINTS)] = 1
    weight_decay: Annotated[float, Field(ge=0, le=10)] = 0.0
    schedule: ScheduleName = "constant"
    target_loss: Optional[Annotated[float, Field(ge=0, le=1e3)]] = None
    max_epochs: Optional[Annotated[int, Field(ge=1, le=10_000_000)]] = None
    seed: Annotated[int, Field(ge=0, lt=2**31)] = 0
    resolution: Annotated[int, Field(ge=10, le=200)] = 100
    discretize: bool = False
    hinges: bool = True
    exact: bool = False     # overlay the exact linear regions and decision boundary (relunet.pwl)
    points: Optional[Annotated[tuple[Point, ...], Field(max_length=MAX_POINTS)]] = None   # only for dataset "custom"

    def with_(self, **changes):
        """A validated copy with `changes` applied."""
        data = self.model_dump()
        data.update(changes)
        return Config.model_validate(_python_types(data), strict=False)


# key in the hash -> Config field
_KEYS = {"task": "task", "data": "dataset", "n": "n", "noise": "noise", "k": "classes", "dseed": "data_seed",
         "test": "test_fraction", "net": "layers", "opt": "optimizer", "lr": "lr", "mom": "momentum",
         "bs": "batch_size", "l2": "weight_decay", "sched": "schedule", "tloss": "target_loss",
         "maxep": "max_epochs", "seed": "seed", "res": "resolution", "disc": "discretize", "hinge": "hinges",
         "exact": "exact", "pts": "points"}
_FIELDS = {v: k for k, v in _KEYS.items()}


def encode_hash(config):
    """The URL hash (without '#') for `config`: short keys, floats written exactly (repr)."""
    parts = []
    for field in Config.model_fields:
        v = getattr(config, field)
        if field == "points":
            if v is None or len(v) > HASH_POINTS:
                continue
            text = ";".join(_point_text(p, config.task) for p in v)
        elif field == "layers":
            text = ",".join(f"{layer.units}{ACT_CODES[layer.activation]}" for layer in v)
        elif isinstance(v, bool):
            text = "1" if v else "0"
        elif v is None:
            text = ""
        else:
            text = repr(v) if isinstance(v, float) else str(v)
        parts.append(f"{_FIELDS[field]}={quote(text, safe=',;:-.')}")
    return "&".join(parts)


def decode_hash(text):
    """Read a URL hash back into a Config; raises ProtocolError naming the bad key."""
    text = text[1:] if text.startswith("#") else text
    raw = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        field = _KEYS.get(key)
        if field is None:
            raise ProtocolError(f"link: unknown setting {key!r}")
        raw[field] = value
    n = len([p for p in raw.get("points", "").split(";") if p])
    if n > MAX_POINTS:
        raise ProtocolError(f"link: {n:,} points; too many points (at most {MAX_POINTS:,})")
    data = {}
    try:
        for field, value in raw.items():
            data[field] = _parse(field, value, raw.get("task", "classification"))
    except (ValueError, IndexError, KeyError):
        raise ProtocolError(f"link: {_FIELDS[field]}={value!r} is not valid") from None
    try:
        config = Config.model_validate(data, strict=False)
    except ValidationError as e:
        raise ProtocolError("link: " + describe_error(e)) from None
    return check(config)


def check(config):
    """Cross-field rules a single field cannot express; returns config or raises ProtocolError."""
    if config.dataset == CUSTOM:
        return config
    spec = DATASETS.get(config.dataset)
    if spec is None:
        raise ProtocolError(f"unknown data set {config.dataset!r}; choose one of: {', '.join(DATASETS)}")
    if spec.task != config.task:
        raise ProtocolError(f"data set {config.dataset!r} is for {spec.task}, not {config.task}")
    if config.points is not None:
        raise ProtocolError("points are only kept for custom data")
    return config


def default_config(task="classification"):
    """What the page opens on: the lecture's example and linear classifier with its exact cells drawn."""
    if task == "regression":
        return Config(task="regression", dataset="sine", n=100, noise=0.0, classes=2, test_fraction=0.0,
                      layers=(Layer(units=16),), optimizer="sgd", lr=0.05, batch_size=1)
    return Config(exact=True)


def _parse(field, value, task):
    if field == "layers":
        if value == "":
            return []
        return [{"units": int(item[:-1]), "activation": _ACT_NAMES[item[-1]]} for item in value.split(",")]
    if field == "points":
        pts = []
        for item in filter(None, value.split(";")):
            a = [float(v) for v in item.split(":")]
            if task == "regression":
                pts.append({"x": a[0], "y": a[1]})
            else:
                pts.append({"x": a[0], "y": a[1], "label": _int(a[2])})
        return pts
    if field in ("discretize", "hinges", "exact"):
        if value not in ("0", "1"):
            raise ValueError(value)
        return value == "1"
    if field in ("target_loss", "max_epochs") and value == "":
        return None
    if field in ("n", "classes", "data_seed", "batch_size", "max_epochs", "seed", "resolution"):
        return int(value)
    if field in ("noise", "test_fraction", "lr", "momentum", "weight_decay", "target_loss"):
        return float(value)
    return value


def _int(v):
    if not float(v).is_integer():
        raise ValueError(v)
    return int(v)


def _point_text(p, task):
    if task == "regression":
        return f"{p.x!r}:{p.y!r}"
    return f"{p.x!r}:{p.y!r}:{p.label}"


def _python_types(data):
    # model_dump gives dicts for nested models; tuples where the model has tuples
    if data.get("layers") is not None:
        data["layers"] = tuple(data["layers"])
    if data.get("points") is not None:
        data["points"] = tuple(data["points"])
    return data
