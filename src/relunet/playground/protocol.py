"""The playground's messages from the page: one pydantic model per message type, a union on ``type``.

Every message the page sends is parsed here before the session sees it. The limits are the issue's:
at most 10,000 points, 8 hidden layers of 1 to 256 units, finite numbers only, messages up to 1 MB.
A message that fails gets one readable sentence back (see ``describe_error``); nothing else happens.
"""

from typing import Annotated, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..data import DATASETS
from ..engine.activations import ACTIVATIONS
from ..engine.optim import OPTIMIZERS, SCHEDULES
from ..io import Limits

MAX_POINTS = 10_000
MAX_LAYERS = 8
MAX_UNITS = 256
MAX_CLASSES = 10
MAX_MESSAGE_BYTES = 1_000_000
#: Coordinates and targets beyond this are refused: far outside any sensible plot, and they would overflow float32.
MAX_ABS = 1e6

#: Model files the page uploads: io's checks, with the playground's own sizes (read before anything is allocated).
MODEL_LIMITS = Limits(max_file_bytes=MAX_MESSAGE_BYTES, max_layers=MAX_LAYERS + 1,
                      max_units=MAX_UNITS, max_parameters=(MAX_LAYERS + 1) * (MAX_UNITS + 1) * MAX_UNITS,
                      max_meta_bytes=100_000)

DatasetName = Literal[tuple(DATASETS)]
ActivationName = Literal[tuple(ACTIVATIONS)]
OptimizerName = Literal[tuple(OPTIMIZERS)]
ScheduleName = Literal[tuple(SCHEDULES)]
Task = Literal["classification", "regression"]
Coord = Annotated[float, Field(ge=-MAX_ABS, le=MAX_ABS)]


class _Strict(BaseModel):
    # strict: "0.1" is not a number and 1.0 is not an int; allow_inf_nan=False: NaN and Infinity are refused.
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class Layer(_Strict):
    units: Annotated[int, Field(ge=1, le=MAX_UNITS)]
    activation: ActivationName = "relu"


class Point(_Strict):
    """One token: input (x) or (x1, x2) and its label (class index) or target (regression)."""

    x: Coord
    y: Coord = 0.0          # second input (classification) or the target (regression)
    label: Annotated[int, Field(ge=0, lt=MAX_CLASSES)] = 0


# ---------------------------------------------------------------------------------------------- messages
#: A session token as the server issues it (server.py, resume.py): 128 random bits in lower-case hex.
TOKEN_PATTERN = r"^[0-9a-f]{32}$"


class Hello(_Strict):
    """The page's first message: the URL hash it was opened with ('' for the defaults), and the session
    token the server gave this tab before, if any (a reload or a reconnect asks for its old session)."""

    type: Literal["hello"]
    hash: Annotated[str, Field(max_length=200_000)] = ""
    token: Optional[Annotated[str, Field(pattern=TOKEN_PATTERN)]] = None


class SetTask(_Strict):
    type: Literal["set_task"]
    task: Task


class SetData(_Strict):
    """Choose a preset and its options; the data are regenerated (same data seed)."""

    type: Literal["set_data"]
    dataset: Optional[DatasetName] = None
    n: Optional[Annotated[int, Field(ge=1, le=MAX_POINTS)]] = None
    noise: Optional[Annotated[float, Field(ge=0, le=10)]] = None
    classes: Optional[Annotated[int, Field(ge=2, le=MAX_CLASSES)]] = None


class Regenerate(_Strict):
    """Draw the preset again with a new data seed."""

    type: Literal["regenerate"]


class SetSplit(_Strict):
    type: Literal["set_split"]
    test_fraction: Annotated[float, Field(ge=0, le=0.9)]


class AddPoint(_Strict):
    type: Literal["add_point"]
    point: Point


class RemovePoint(_Strict):
    """Remove the point nearest to (x, y)."""

    type: Literal["remove_point"]
    x: Coord
    y: Coord


class ClearPoints(_Strict):
    type: Literal["clear_points"]


class SetPoints(_Strict):
    type: Literal["set_points"]
    points: Annotated[list[Point], Field(max_length=MAX_POINTS)]


class LoadCsv(_Strict):
    """CSV text (a file's contents or pasted): rows x1[,x2],label; an optional header row."""

    type: Literal["load_csv"]
    text: Annotated[str, Field(max_length=MAX_MESSAGE_BYTES)]


class SetNetwork(_Strict):
    """The hidden layers (0 to 8); the network is rebuilt from the seed."""

    type: Literal["set_network"]
    layers: Annotated[list[Layer], Field(max_length=MAX_LAYERS)]


class SetTraining(_Strict):
    """Training settings; they apply live, without touching the weights. Absent fields stay as they are;
    target_loss / max_epochs set to null remove that stop condition."""

    type: Literal["set_training"]
    optimizer: Optional[OptimizerName] = None
    lr: Optional[Annotated[float, Field(gt=0, le=10)]] = None
    momentum: Optional[Annotated[float, Field(ge=0, lt=1)]] = None
    batch_size: Optional[Annotated[int, Field(ge=1, le=MAX_POINTS)]] = None
    weight_decay: Optional[Annotated[float, Field(ge=0, le=10)]] = None
    schedule: Optional[ScheduleName] = None
    target_loss: Optional[Annotated[float, Field(ge=0, le=1e3)]] = None
    max_epochs: Optional[Annotated[int, Field(ge=1, le=10_000_000)]] = None


class Play(_Strict):
    type: Literal["play"]


class Pause(_Strict):
    type: Literal["pause"]


class Step(_Strict):
    """`updates` optimizer steps (1 by default: one update)."""

    type: Literal["step"]
    updates: Annotated[int, Field(ge=1, le=100_000)] = 1


class StepEpoch(_Strict):
    type: Literal["step_epoch"]


class Reset(_Strict):
    """Re-initialise the weights from the same seed: the same start as before."""

    type: Literal["reset"]


class NewSeed(_Strict):
    type: Literal["new_seed"]
    seed: Optional[Annotated[int, Field(ge=0, lt=2**31)]] = None


class Focus(_Strict):
    layer: Annotated[int, Field(ge=1, le=MAX_LAYERS)]   # hidden layer, 1-based
    unit: Annotated[int, Field(ge=0, lt=MAX_UNITS)]


class HiddenView(_Strict):
    layer: Annotated[int, Field(ge=1, le=MAX_LAYERS)]
    i: Annotated[int, Field(ge=0, lt=MAX_UNITS)]
    j: Annotated[int, Field(ge=0, lt=MAX_UNITS)]


class SetView(_Strict):
    """What the page shows: the plotted box, map resolution, view toggles, the hovered unit, the hidden view."""

    type: Literal["set_view"]
    box: Optional[tuple[Coord, Coord, Coord, Coord]] = None
    resolution: Optional[Annotated[int, Field(ge=10, le=200)]] = None
    discretize: Optional[bool] = None
    hinges: Optional[bool] = None
    exact: Optional[bool] = None           # the exact regions overlay on or off
    focus: Optional[Focus] = None          # null: the decision map again
    hidden: Optional[HiddenView] = None


class Trace(_Strict):
    """Back-propagation trace for one token (x, and its label or target)."""

    type: Literal["trace"]
    point: Point


class EditWeight(_Strict):
    """Set W^(layer)[row, col] (or b^(layer)[row] when col is null) by hand; layer counts Linear layers from 1."""

    type: Literal["edit_weight"]
    layer: Annotated[int, Field(ge=1, le=MAX_LAYERS + 1)]
    row: Annotated[int, Field(ge=0, lt=MAX_UNITS)]
    col: Optional[Annotated[int, Field(ge=0, lt=MAX_UNITS)]] = None
    value: Annotated[float, Field(ge=-1e4, le=1e4)]


class SaveModel(_Strict):
    type: Literal["save_model"]


class LoadModel(_Strict):
    """A relunet .npz model file, base64-encoded."""

    type: Literal["load_model"]
    data: Annotated[str, Field(max_length=MAX_MESSAGE_BYTES)]


class ExportWeights(_Strict):
    type: Literal["export_weights"]


class PwlRegions(_Strict):
    """Ask once for the exact piece-wise linear regions of the current model in the view (see regions.py)."""

    type: Literal["pwl_regions"]


MESSAGES = (Hello, SetTask, SetData, Regenerate, SetSplit, AddPoint, RemovePoint, ClearPoints, SetPoints, LoadCsv,
            SetNetwork, SetTraining, Play, Pause, Step, StepEpoch, Reset, NewSeed, SetView, Trace, EditWeight,
            SaveModel, LoadModel, ExportWeights, PwlRegions)
#: message type name -> model, e.g. "add_point" -> AddPoint (and those added by register_message)
MESSAGE_TYPES = {m.model_fields["type"].annotation.__args__[0]: m for m in MESSAGES}
_ADAPTER = TypeAdapter(Annotated[Union[MESSAGES], Field(discriminator="type")])


def register_message(model):
    """Accept one more message type, defined in another module (e.g. the exercises).

    `model` is a pydantic model (best a subclass of _Strict) whose `type` field is a one-value Literal;
    session.register pairs it with its handler. Returns the type name."""
    global _ADAPTER
    name = model.model_fields["type"].annotation.__args__[0]
    if MESSAGE_TYPES.get(name, model) is not model:
        raise ValueError(f"message type {name!r} is already registered")
    MESSAGE_TYPES[name] = model
    _ADAPTER = TypeAdapter(Annotated[Union[tuple(MESSAGE_TYPES.values())], Field(discriminator="type")])
    return name


class ProtocolError(ValueError):
    """A message the server refuses; str(e) is the sentence sent back to the page."""


def parse_message(text):
    """Parse and validate one message (JSON text or bytes); raises ProtocolError with a readable reason."""
    if isinstance(text, (bytes, bytearray)):
        size = len(text)
    else:
        size = len(text.encode("utf-8", "surrogatepass")) if len(text) * 4 > MAX_MESSAGE_BYTES else len(text)
    if size > MAX_MESSAGE_BYTES:
        raise ProtocolError(f"message of {size:,} bytes is over the limit of {MAX_MESSAGE_BYTES:,} bytes")
    try:
        return _ADAPTER.validate_json(text)
    except ValidationError as e:
        raise ProtocolError(describe_error(e)) from None


def describe_error(e):
    """The first problem of a ValidationError as one sentence: where, and what is wrong."""
    err = e.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err.get("loc", ()) if not _is_tag(p))
    kind, msg = err.get("type", ""), err.get("msg", "invalid")
    if kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag")
        return f"unknown message type {tag!r}; expected one of: {', '.join(MESSAGE_TYPES)}"
    if kind == "union_tag_not_found":
        return "message has no 'type' field"
    if kind == "json_invalid":
        return f"message is not valid JSON ({err.get('ctx', {}).get('error', msg)})"
    if kind == "finite_number":
        return f"{where}: numbers must be finite (no NaN or Infinity)"
    if kind == "string_pattern_mismatch" and where == "token":
        return "token: a session token is 32 lower-case hexadecimal digits, as the server gave it"
    if kind == "too_long" and where.endswith("points"):
        return f"{where}: too many points (at most {MAX_POINTS:,})"
    if kind == "too_long" and where.endswith("layers"):
        return f"{where}: too many hidden layers (at most {MAX_LAYERS})"
    return f"{where or 'message'}: {msg[0].lower() + msg[1:] if msg else 'invalid'}"


def _is_tag(p):
    return isinstance(p, str) and p in MESSAGE_TYPES
