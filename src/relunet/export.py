"""relunet models to and from PyTorch, ONNX and scikit-learn.

    to_torch(model)       -> torch.nn.Sequential(Linear, ReLU, ..., Linear) with the same weights (and dtype)
    from_torch(seq)       -> an MLP from such a Sequential
    save_torch / load_torch  a .pt file (state_dict + layer list) that torch.load(weights_only=True) can read
    to_onnx(model, path)  -> a standard ONNX graph: Gemm, Relu / LeakyRelu / Tanh / Sigmoid / Identity, Softmax
                             (Sigmoid for a logistic-loss output, Exp for a Poisson one)
    from_sklearn(mlp)     -> an MLP from a fitted MLPClassifier / MLPRegressor, with identical predictions

The layouts agree: relunet's W is (out, in) like torch.nn.Linear.weight and ONNX Gemm's B with transB=1;
scikit-learn's coefs_ are the transposes, (fan_in, fan_out). The torch Sequential outputs z^(L) (logits for a
classifier, as torch's CrossEntropyLoss expects); the ONNX graph of a classifier also outputs f = softmax(z)
(sigmoid(z) per output for the logistic loss).
torch, onnx and scikit-learn are imported only inside the functions that need them.
"""

import io as _io
import json

import numpy as np

from .engine.errors import RelunetError
from .engine.model import MLP
from .io import atomic_write_bytes

#: relunet activation name -> (torch.nn class name, ONNX operator). The one table both exports read.
ACTIVATION_EXPORT = {
    "relu": ("ReLU", "Relu"),
    "leaky_relu": ("LeakyReLU", "LeakyRelu"),
    "tanh": ("Tanh", "Tanh"),
    "sigmoid": ("Sigmoid", "Sigmoid"),
    "identity": ("Identity", "Identity"),
}
ONNX_OPSET = 17     # Gemm, the activations and Softmax(axis) as used here are stable since opset 13
ONNX_IR_VERSION = 8  # readable by every onnxruntime since 1.10
TORCH_FORMAT = "relunet-torch"


def _export_name(model, target):
    """The target's name for each hidden activation, or a clear error naming the one it lacks."""
    col = {"torch": 0, "onnx": 1}[target]
    names = []
    for act in model.activations:
        if act.name not in ACTIVATION_EXPORT:
            raise RelunetError(f"cannot export activation {act.name!r} to {target}: {target} export knows "
                               f"{', '.join(ACTIVATION_EXPORT)}")
        names.append(ACTIVATION_EXPORT[act.name][col])
    return names


# --------------------------------------------------------------------------- PyTorch
def to_torch(model):
    """A torch.nn.Sequential computing the same z^(L) as `model`, in the model's dtype (float64 stays float64)."""
    import torch

    names = _export_name(model, "torch")
    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    layers = []
    for i, lin in enumerate(model.linears):
        t = torch.nn.Linear(lin.in_features, lin.out_features, dtype=dtype)
        with torch.no_grad():
            t.weight.copy_(torch.from_numpy(np.array(lin.W)))
            t.bias.copy_(torch.from_numpy(np.array(lin.b)))
        layers.append(t)
        if i < len(names):
            act = model.activations[i]
            layers.append(torch.nn.LeakyReLU(act.slope) if names[i] == "LeakyReLU" else getattr(torch.nn, names[i])())
    return torch.nn.Sequential(*layers)


def from_torch(seq, task="classification", classes=None):
    """An MLP from a torch.nn.Sequential of Linear layers with supported activations between them.

    Two Linear layers in a row get an identity activation between them; a final Softmax is allowed for a
    classifier (relunet applies softmax itself in predict_proba). Any other module is a RelunetError that
    names it. The dtype follows the weights (float32 or float64).
    """
    import torch

    mods = list(seq.children()) if isinstance(seq, torch.nn.Sequential) else None
    if not mods:
        raise RelunetError(f"from_torch needs a non-empty torch.nn.Sequential, got {type(seq).__name__}")
    if task == "classification" and isinstance(mods[-1], torch.nn.Softmax):
        mods = mods[:-1]
    by_class = {v[0]: k for k, v in ACTIVATION_EXPORT.items()}
    linears, acts, last = [], [], None
    for i, m in enumerate(mods):
        kind = type(m).__name__
        if isinstance(m, torch.nn.Linear):
            if last == "linear":
                acts.append("identity")
            linears.append(m)
            last = "linear"
        elif kind in by_class and type(m) is getattr(torch.nn, kind) and last == "linear":
            if kind == "LeakyReLU":
                from .engine.activations import LeakyReLU

                acts.append(LeakyReLU(m.negative_slope))
            else:
                acts.append(by_class[kind])
            last = "act"
        else:
            why = "it must follow a Linear layer" if kind in by_class else (
                f"relunet reads Linear and {', '.join(v[0] for v in ACTIVATION_EXPORT.values())}")
            raise RelunetError(f"from_torch cannot read module {i} ({m!r}): {why}")
    if last != "linear":
        raise RelunetError(f"from_torch needs the Sequential to end with a Linear layer, not {mods[-1]!r}")
    for a, b in zip(linears[:-1], linears[1:]):
        if a.out_features != b.in_features:
            raise RelunetError(f"from_torch: {a!r} gives {a.out_features} outputs but {b!r} expects {b.in_features}")
    wdtype = linears[0].weight.dtype
    if wdtype not in (torch.float32, torch.float64):
        raise RelunetError(f"from_torch reads float32 or float64 weights, got {wdtype}")
    sizes = [linears[0].in_features] + [m.out_features for m in linears]
    model = MLP(sizes, acts, task, classes, "float64" if wdtype == torch.float64 else "float32")
    weights = []
    for m in linears:
        weights.append(m.weight.detach().cpu().numpy())
        b = m.bias
        weights.append(np.zeros(m.out_features) if b is None else b.detach().cpu().numpy())
    model.set_weights(weights)
    return model


def _torch_layers(model):
    """The Sequential's architecture as plain lists (so torch.load(weights_only=True) can read it)."""
    out = []
    for i, lin in enumerate(model.linears):
        out.append(["Linear", lin.in_features, lin.out_features])
        if i < len(model.activations):
            act = model.activations[i]
            out.append([ACTIVATION_EXPORT[act.name][0]] + ([act.slope] if act.name == "leaky_relu" else []))
    return out


def save_torch(model, path):
    """Write {'format', 'layers', 'state_dict', 'task', 'classes'} with torch.save, atomically.

    Read it back with load_torch(path), or in plain PyTorch with torch.load(path, weights_only=True) and
    the listed layers.
    """
    import torch

    seq = to_torch(model)
    payload = {"format": TORCH_FORMAT, "layers": _torch_layers(model), "state_dict": seq.state_dict(),
               "task": model.task, "classes": None if model.classes is None else json.dumps(model.classes.tolist())}
    buf = _io.BytesIO()
    torch.save(payload, buf)
    atomic_write_bytes(path, buf.getvalue())


def load_torch(path):
    """(Sequential, task, classes) from a file written by save_torch (read with weights_only=True)."""
    import torch

    try:
        payload = torch.load(path, weights_only=True)
    except Exception as e:  # torch raises many types for foreign or damaged files
        raise RelunetError(f"{path} is not a readable relunet torch file ({type(e).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != TORCH_FORMAT:
        raise RelunetError(f"{path} is not a relunet torch file")
    layers = []
    for spec in payload["layers"]:
        cls = getattr(torch.nn, spec[0])
        layers.append(cls(*spec[1:], dtype=payload["state_dict"]["0.weight"].dtype) if spec[0] == "Linear"
                      else cls(*spec[1:]))
    seq = torch.nn.Sequential(*layers)
    seq.load_state_dict(payload["state_dict"])
    classes = payload.get("classes")
    return seq, payload["task"], None if classes is None else np.array(json.loads(classes))


# --------------------------------------------------------------------------- ONNX
def onnx_model(model):
    """The ONNX ModelProto of `model`: input "x" (N, inputs); outputs "logits" and "probabilities"
    (classifier) or "output" (regressor), in the model's dtype. Built with onnx.helper only."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    ops = _export_name(model, "onnx")
    elem = TensorProto.DOUBLE if model.dtype == np.float64 else TensorProto.FLOAT
    nodes, inits = [], []
    x = "x"
    last = len(model.linears) - 1
    for i, lin in enumerate(model.linears):
        W, b = f"W{i + 1}", f"b{i + 1}"
        inits += [numpy_helper.from_array(np.array(lin.W), W), numpy_helper.from_array(np.array(lin.b), b)]
        z = f"z{i + 1}" if i < last else ("logits" if model.task == "classification" else
                                            "log_output" if model.loss == "poisson" else "output")
        # Gemm with transB=1: z = x W^T + b, W stored (out, in) as in relunet and torch.
        nodes.append(helper.make_node("Gemm", [x, W, b], [z], name=f"linear{i + 1}", transB=1))
        x = z
        if i < last:
            h = f"h{i + 1}"
            # ONNX keeps LeakyRelu's alpha as a 32-bit float: float64 outputs move by about 1e-8 relative.
            attrs = {"alpha": model.activations[i].slope} if ops[i] == "LeakyRelu" else {}
            nodes.append(helper.make_node(ops[i], [z], [h], name=f"{model.activations[i].name}{i + 1}", **attrs))
            x = h
    n_out = model.n_outputs
    if model.task == "classification":
        # softmax over the classes; one sigmoid per output for the logistic loss (two classes, multi-label)
        nodes.append(helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1)
                     if model.loss == "cross_entropy" else
                     helper.make_node("Sigmoid", ["logits"], ["probabilities"], name="sigmoid"))
        outputs = [helper.make_tensor_value_info("probabilities", elem, ["N", n_out]),
                   helper.make_tensor_value_info("logits", elem, ["N", n_out])]
    else:
        if model.loss == "poisson":  # the mean of a Poisson count: exp(z)
            nodes.append(helper.make_node("Exp", ["log_output"], ["output"], name="exp"))
        outputs = [helper.make_tensor_value_info("output", elem, ["N", n_out])]
    graph = helper.make_graph(nodes, "relunet_mlp", [helper.make_tensor_value_info("x", elem, ["N", model.n_inputs])],
                              outputs, initializer=inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", ONNX_OPSET)], producer_name="relunet",
                              doc_string=repr(model))
    proto.ir_version = ONNX_IR_VERSION
    meta = {"task": model.task, "loss": model.loss, "sizes": json.dumps(model.sizes),
            "activations": json.dumps(model.activation_names)}
    if model.classes is not None:
        meta["classes"] = json.dumps(model.classes.tolist())
    helper.set_model_props(proto, meta)
    onnx.checker.check_model(proto)
    return proto


def to_onnx(model, path):
    """Write `model` as an ONNX file (see onnx_model), atomically; returns the path."""
    atomic_write_bytes(path, onnx_model(model).SerializeToString())
    return path


# --------------------------------------------------------------------------- scikit-learn
_SKLEARN_ACTIVATIONS = {"relu": "relu", "identity": "identity", "tanh": "tanh", "logistic": "sigmoid"}


def from_sklearn(mlp):
    """An MLP with the predictions of a fitted MLPClassifier / MLPRegressor (or a relunet estimator's model_).

    A binary MLPClassifier has one logistic output unit z; it becomes the two softmax logits [0, z], since
    softmax([0, z]) = [1 - sigmoid(z), sigmoid(z)]: the same probabilities and predictions.
    """
    if hasattr(mlp, "model_") and isinstance(mlp.model_, MLP):
        return mlp.model_.copy()
    name = type(mlp).__name__
    if not hasattr(mlp, "coefs_") or not hasattr(mlp, "out_activation_"):
        raise RelunetError(f"from_sklearn needs a fitted MLPClassifier or MLPRegressor, got {name}")
    if mlp.activation not in _SKLEARN_ACTIVATIONS:
        raise RelunetError(f"from_sklearn cannot convert activation {mlp.activation!r}; relunet reads "
                           f"{', '.join(_SKLEARN_ACTIVATIONS)}")
    Ws = [np.asarray(c).T for c in mlp.coefs_]      # (fan_in, fan_out) -> relunet's (out, in)
    bs = [np.asarray(b) for b in mlp.intercepts_]
    out = mlp.out_activation_
    if out == "identity":
        task, classes = "regression", None
    elif out == "softmax":
        task, classes = "classification", np.asarray(mlp.classes_)
    elif out == "logistic" and len(mlp.classes_) == 2 and Ws[-1].shape[0] == 1 and \
            getattr(getattr(mlp, "_label_binarizer", None), "y_type_", "binary") == "binary":
        task, classes = "classification", np.asarray(mlp.classes_)
        Ws[-1] = np.vstack([np.zeros_like(Ws[-1]), Ws[-1]])
        bs[-1] = np.concatenate([np.zeros_like(bs[-1]), bs[-1]])
    else:
        raise RelunetError(f"from_sklearn cannot convert a multi-label {name} (output activation {out!r}): "
                           f"relunet classifiers give one class per row")
    sizes = [Ws[0].shape[1]] + [W.shape[0] for W in Ws]
    dtype = "float32" if Ws[0].dtype == np.float32 else "float64"
    model = MLP(sizes, _SKLEARN_ACTIVATIONS[mlp.activation], task, classes, dtype)
    model.set_weights([a for pair in zip(Ws, bs) for a in pair])
    return model
