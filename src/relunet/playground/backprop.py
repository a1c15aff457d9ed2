"""The back-propagation trace of one token: the lecture's chain rule with every number, from the engine.

Forward:   z^(1) = W^(1) x + b^(1),  h^(1) = g(z^(1)),  ...,  z^(L) = W^(L) h^(L-1) + b^(L)
           f = softmax(z^(L)) (classification) or f = z^(L) (regression);  L = -log f_y  or  1/2 (f - y)^2
Backward:  dL/dz^(L) = f - 1[y=k]  (or f - y)
           dL/dW^(l) = dL/dz^(l) a^(l-1)T,  dL/db^(l) = dL/dz^(l)      (a^(0) = x, a^(l) = h^(l))
           dL/dh^(l-1) = W^(l)T dL/dz^(l),   dL/dz^(l-1) = dL/dh^(l-1) * g'(z^(l-1))
One SGD step on this token alone: W <- W - lr (dL/dW + weight_decay W), b <- b - lr dL/db; and the loss after it.

Every quantity comes from the model's own Linear and activation layers (forward, then backward), so
the trace shows exactly what training computes. The trace's "step_id" names this step (the weights before it,
the token, lr and weight decay) so that a later message about it (step_geometry.py) can tell whether the
session's network is still the one traced.
"""

import hashlib

import numpy as np

from ..engine.losses import LOSSES


def trace_token(model, x, target, lr, weight_decay=0.0):
    """Trace one token through `model` (which is changed: pass a copy).

    Args:
        x: (inputs,) the token. target: class index (classification) or number (regression).
    Returns a dict: f, loss, f_after, loss_after, step_id (see step_id), and per Linear layer l: a_in, z,
    h (hidden layers), dz, dh (the layer's input gradient, for l > 1 stored on layer l-1), dW, db, W, b,
    dW_step, db_step.
    """
    cls = model.task == "classification"
    x = np.asarray(x, float).reshape(1, -1)
    t = np.array([target]) if cls else np.array([[float(target)]])
    lossf = LOSSES[model.loss]()
    z, tape = model.forward(x)
    layers = []
    for i in range(len(model.linears)):
        rec = {"layer": i + 1, "a_in": tape.h[i][0].copy(), "z": tape.z[i][0].copy()}
        if i < len(model.activations):
            rec["h"], rec["activation"] = tape.h[i + 1][0].copy(), model.activations[i].name
        layers.append(rec)
    loss, dz = lossf.value_and_grad(z, t)
    f = lossf.output(z)[0].copy()
    # The chain rule layer by layer, as MLP.backward does it, keeping every intermediate for the trace.
    for i in range(len(model.linears) - 1, -1, -1):
        layers[i]["dz"] = dz[0].copy()
        dh, layers[i]["dW"], layers[i]["db"] = model.linears[i].backward(tape.h[i], dz)
        if i > 0:
            layers[i - 1]["dh"] = dh[0].copy()
            dz = model.activations[i - 1].backward(dh, tape.z[i - 1], tape.h[i])
    sid = step_id(model, x[0], target, lr, weight_decay)
    for rec, lin in zip(layers, model.linears):
        rec["W"], rec["b"] = lin.W.copy(), lin.b.copy()
        rec["dW_step"] = -lr * (rec["dW"] + weight_decay * lin.W)
        rec["db_step"] = -lr * rec["db"]
        lin.W += rec["dW_step"]
        lin.b += rec["db_step"]
    z_after = model.decision_function(x)
    loss_after = lossf.value_and_grad(z_after, t)[0]
    f_after = lossf.output(z_after)[0]
    return {"type": "trace", "task": model.task, "x": x[0].tolist(), "target": target, "lr": lr,
            "weight_decay": weight_decay, "step_id": sid, "f": f.tolist(), "loss": loss, "f_after": f_after.tolist(),
            "loss_after": loss_after, "layers": layers}


def step_id(model, x, target, lr, weight_decay):
    """A short name of one SGD step: a hash of every weight before it, the token, lr and weight decay."""
    h = hashlib.blake2b(digest_size=12)
    for lin in model.linears:
        h.update(np.ascontiguousarray(lin.W, np.float64).tobytes())
        h.update(np.ascontiguousarray(lin.b, np.float64).tobytes())
    h.update(np.asarray([*np.ravel(x), float(target), float(lr), float(weight_decay)], np.float64).tobytes())
    return h.hexdigest()
