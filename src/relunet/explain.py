"""The lecture's chain rule with numbers, for one token (x, y).

For a two-layer classifier:

    z1 = W1 x + b1,   h = ReLU(z1),   z2 = W2 h + b2,   f = softmax(z2),   L = -log f_y
    dL/dz2 = f - 1[y=k]
    dL/dh  = W2^T dL/dz2
    dL/dz1 = dL/dh * u(z1)            (u the unit step: the ReLU mask)
    dL/dW2 = dL/dz2 h^T,  dL/dW1 = dL/dz1 x^T

Deeper networks repeat the middle lines layer by layer. Every number is computed by the engine's own
forward and backward, and the weight gradients are checked against central differences.
"""

import numpy as np

from .engine.errors import RelunetError
from .gradcheck import check_model
from .engine.losses import LOSSES


def explain(model, x, label):
    """All the quantities of one back-propagation for token (x, label), and their gradient check.

    Returns a dict: "x", "layers" (one dict per Linear layer l = 1..L with "z", and for hidden layers "h",
    "mask" (g'(z)), "dh", then "dz", "dW", "db"), "f" (softmax, classifiers), "loss", "label",
    "check" (largest relative error against central differences) and "step" (what one SGD step with
    learning rate 0.1 would change: the new loss on this token).
    """
    if model.dtype != np.float64:
        model = model.astype("float64")
    x = model.check_input(np.atleast_2d(np.asarray(x, dtype=float)), "x")
    if len(x) != 1:
        raise RelunetError("explain takes one token")
    t = model.encode_labels(np.atleast_1d(label), "label")
    lossf = LOSSES[model.loss]()
    zL, tape = model.forward(x)
    loss, dzL = lossf.value_and_grad(zL, t)
    grads = model.backward(tape, dzL)
    layers = []
    for i, lin in enumerate(model.linears):
        z = tape.z[i][0]
        rec = {"l": i + 1, "input": tape.h[i][0], "z": z, "W": lin.W.copy(), "b": lin.b.copy(),
               "dW": grads[2 * i], "db": grads[2 * i + 1], "dz": grads[2 * i + 1]}  # batch of one: dz = db
        if i < len(model.activations):
            act = model.activations[i]
            rec["h"] = tape.h[i + 1][0]
            rec["activation"] = act.name
            rec["mask"] = act.derivative(tape.z[i], tape.h[i + 1])[0]  # g'(z): the ReLU mask u(z) for ReLU
        layers.append(rec)
    for i in range(len(layers) - 1):
        layers[i]["dh"] = layers[i + 1]["W"].T @ layers[i + 1]["dz"]
    out = {"x": x[0], "label": np.atleast_1d(label)[0].item(), "layers": layers, "loss": loss, "task": model.task}
    if model.task == "classification":
        out["f"] = lossf.output(zL)[0]
        out["y_index"] = int(t[0])
    report = check_model(model, x, t)
    out["check"] = max(r["max_rel_error"] for r in report)
    out["check_report"] = [{k: r[k] for k in ("name", "max_rel_error")} for r in report]
    trial = model.copy()
    for lin, rec in zip(trial.linears, layers):
        lin.W -= 0.1 * rec["dW"]
        lin.b -= 0.1 * rec["db"]
    out["step"] = {"lr": 0.1, "loss_after": lossf.value_and_grad(trial.forward(x)[0], t)[0]}
    return out


def _vec(v, digits=4):
    v = np.atleast_1d(v)
    # + 0.0 turns the -0.0 of a masked negative excitation into 0
    return "[" + ", ".join(f"{float(a) + 0.0:.{digits}g}" for a in v) + "]"


def _mat(m, indent, digits=4):
    rows = [indent + "  " + _vec(r, digits) for r in np.atleast_2d(m)]
    return "\n".join(rows)


def format_explanation(e, max_rows=8):
    """The explanation as text, in the lecture's notation."""
    L = len(e["layers"])
    lines = [f"x = {_vec(e['x'])},  y = {e['label']!r}"]
    lines.append("forward:")
    for rec in e["layers"]:
        l = rec["l"]
        lines.append(f"  z{l} = W{l} {'x' if l == 1 else f'h{l - 1}'} + b{l} = {_vec(rec['z'])}")
        if "h" in rec:
            lines.append(f"  h{l} = {rec['activation']}(z{l}) = {_vec(rec['h'])}")
    if e["task"] == "classification":
        lines.append(f"  f = softmax(z{L}) = {_vec(e['f'])}")
        lines.append(f"  L = -log f_y = -log {e['f'][e['y_index']]:.4g} = {e['loss']:.6g}")
    else:
        lines.append(f"  L = 1/2 (z{L} - y)^2 = {e['loss']:.6g}")
    lines.append("backward (chain rule):")
    for rec in reversed(e["layers"]):
        l = rec["l"]
        if l == L:
            rule = "f - 1[y=k]" if e["task"] == "classification" else f"z{L} - y"
            lines.append(f"  dL/dz{l} = {rule} = {_vec(rec['dz'])}")
        else:
            lines.append(f"  dL/dh{l} = W{l + 1}^T dL/dz{l + 1} = {_vec(rec['dh'])}")
            name = "u(z{0}) (the ReLU mask)".format(l) if rec["activation"] == "relu" else f"g'(z{l})"
            lines.append(f"  {name} = {_vec(rec['mask'])}")
            lines.append(f"  dL/dz{l} = dL/dh{l} * {name.split(' ')[0]} = {_vec(rec['dz'])}")
        src = "x" if l == 1 else f"h{l - 1}"
        dW = rec["dW"]
        shown = dW[:max_rows]
        lines.append(f"  dL/dW{l} = dL/dz{l} {src}^T  (shape {dW.shape[0]}x{dW.shape[1]}):")
        lines.append(_mat(shown, "  "))
        if len(dW) > max_rows:
            lines.append(f"    ... {len(dW) - max_rows} more rows")
        lines.append(f"  dL/db{l} = dL/dz{l} = {_vec(rec['db'])}")
    lines.append(f"gradient check (central differences): largest relative error {e['check']:.2e} "
                 f"({'OK' if e['check'] < 1e-6 else 'MISMATCH'})")
    lines.append(f"one SGD step with learning rate {e['step']['lr']} would take this token's loss from "
                 f"{e['loss']:.6g} to {e['step']['loss_after']:.6g}")
    return "\n".join(lines)
