"""Export to PyTorch and ONNX, import from PyTorch and scikit-learn, checked against those libraries.

PyTorch is the independent reference for relunet's backward pass and optimizers: the same weights, batches
and SGD settings must give the same gradients and the same trained weights (float64).
"""

import numpy as np
import pytest

import relunet
from relunet.engine.activations import Activation, LeakyReLU
from relunet.engine.errors import RelunetError

torch = pytest.importorskip("torch")
export = pytest.importorskip("relunet.export")

ACTS = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]


def _model(act, task="classification", sizes=(3, 7, 5, 4), dtype="float64", seed=1):
    acts = [LeakyReLU(0.2) if a == "leaky_relu" else a for a in ([act] * (len(sizes) - 2))]
    return relunet.MLP(list(sizes), acts, task, dtype=dtype, seed=seed)


def _randomize_biases(model, rng):
    model.set_weights([w if i % 2 == 0 else rng.normal(size=w.shape) for i, w in enumerate(model.get_weights())])
    return model


@pytest.mark.parametrize("act", ACTS)
def test_to_torch_and_back_give_the_same_outputs(act):
    rng = np.random.default_rng(0)
    model = _randomize_biases(_model(act), rng)
    seq = export.to_torch(model)
    X = rng.normal(size=(50, 3)) * 3
    z_torch = seq(torch.from_numpy(X)).detach().numpy()
    assert seq[0].weight.dtype == torch.float64
    err = np.max(np.abs(z_torch - model.decision_function(X)))
    assert err < 1e-12  # the tolerance asked for is 1e-6; float64 on both sides agrees to rounding
    back = export.from_torch(seq)
    assert back.activation_names == model.activation_names and back.sizes == model.sizes
    for a, b in zip(back.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    if act == "leaky_relu":
        assert back.activations[0].slope == 0.2


def test_from_torch_reads_float32_networks_and_a_trailing_softmax():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 6), torch.nn.Linear(6, 3),
                              torch.nn.Softmax(dim=1))
    model = export.from_torch(seq, classes=["a", "b", "c"])
    assert model.dtype == np.float32 and model.activation_names == ["tanh", "identity"]
    X = np.random.default_rng(1).normal(size=(20, 4)).astype(np.float32)
    np.testing.assert_allclose(model.predict_proba(X), seq(torch.from_numpy(X)).detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("bad, words", [
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.GELU(), torch.nn.Linear(3, 2)), "module 1 (GELU"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Dropout(0.1), torch.nn.Linear(3, 2)), "Dropout"),
    (lambda: torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(3, 2)), "must follow a Linear"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()), "end with a Linear"),
    (lambda: torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Linear(4, 2)), "expects 4"),
    (lambda: torch.nn.Linear(2, 3), "Sequential"),
])
def test_from_torch_names_what_it_cannot_read(bad, words):
    with pytest.raises(RelunetError, match=words.replace("(", r"\(")):
        export.from_torch(bad())


class Softplus(Activation):
    name = "softplus"

    def forward(self, z):
        return np.logaddexp(0, z)


def test_exporting_an_unknown_activation_names_it(tmp_path):
    model = relunet.MLP([2, 3, 2], [Softplus()])
    with pytest.raises(RelunetError, match="'softplus' to torch"):
        export.to_torch(model)
    with pytest.raises(RelunetError, match="'softplus' to onnx"):
        export.to_onnx(model, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


@pytest.mark.parametrize("act", ACTS)
def test_backward_equals_torch_autograd(act):
    """Every layer's dW, db (and dL/dx) from relunet's backward against torch.autograd, same batch."""
    rng = np.random.default_rng(2)
    for task in ("classification", "regression"):
        model = _randomize_biases(_model(act, task), rng)
        X = rng.normal(size=(16, 3))
        y = rng.integers(0, 4, size=16) if task == "classification" else rng.normal(size=(16, 4))
        z, tape = model.forward(X)
        _, dz = relunet.LOSSES[model.loss]().value_and_grad(z, model.encode_labels(y))
        grads, dX = model.backward(tape, dz, input_grad=True)

        seq = export.to_torch(model)
        xt = torch.from_numpy(X).requires_grad_(True)
        zt = seq(xt)
        if task == "classification":
            loss = torch.nn.functional.cross_entropy(zt, torch.from_numpy(y))
        else:
            loss = 0.5 * ((zt - torch.from_numpy(y)) ** 2).sum(dim=1).mean()
        loss.backward()
        torch_linears = [m for m in seq if isinstance(m, torch.nn.Linear)]
        for dW, db, tl in zip(grads[::2], grads[1::2], torch_linears):
            np.testing.assert_allclose(dW, tl.weight.grad.numpy(), rtol=1e-10, atol=1e-14)
            np.testing.assert_allclose(db, tl.bias.grad.numpy(), rtol=1e-10, atol=1e-14)
        np.testing.assert_allclose(dX, xt.grad.numpy(), rtol=1e-10, atol=1e-14)


def _torch_sgd_run(seq, X, y, task, epochs, batch, lr, momentum, nesterov, weight_decay):
    """The reference: PyTorch's own SGD over the same batches in the same order (shuffle=False)."""
    # relunet decays weights only, never biases: the same as two torch parameter groups.
    groups = [{"params": [m.weight for m in seq if isinstance(m, torch.nn.Linear)], "weight_decay": weight_decay},
              {"params": [m.bias for m in seq if isinstance(m, torch.nn.Linear)], "weight_decay": 0.0}]
    opt = torch.optim.SGD(groups, lr=lr, momentum=momentum, nesterov=nesterov)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(epochs):
        for s in range(0, len(X), batch):
            opt.zero_grad()
            z = seq(Xt[s:s + batch])
            if task == "classification":
                loss = torch.nn.functional.cross_entropy(z, yt[s:s + batch])
            else:
                loss = 0.5 * ((z - yt[s:s + batch].reshape(z.shape)) ** 2).sum(dim=1).mean()
            loss.backward()
            opt.step()
    return seq


@pytest.mark.parametrize("optimizer, batch, act, task", [
    ("sgd", 1, "relu", "classification"),        # per-sample SGD, the lecture's recipe
    ("sgd", 8, "leaky_relu", "classification"),
    ("momentum", 8, "tanh", "classification"),
    ("nesterov", 5, "sigmoid", "regression"),
    ("nesterov", 1, "relu", "regression"),        # per-sample updates through the general path
    ("momentum", 16, "identity", "regression"),
])
def test_training_equals_pytorch_sgd(optimizer, batch, act, task):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    y = rng.integers(0, 4, size=40) if task == "classification" else rng.normal(size=40)
    sizes = (3, 6, 5, 4) if task == "classification" else (3, 6, 5, 1)
    model = _model(act, task, sizes=sizes, seed=4)
    seq = export.to_torch(model)  # the same initial weights
    momentum = 0.0 if optimizer == "sgd" else 0.9
    wd = 1e-2
    relunet.fit(model, X, y, epochs=3, batch_size=batch, optimizer=optimizer, lr=0.05, momentum=momentum,
                weight_decay=wd, shuffle=False)
    _torch_sgd_run(seq, X, y, task, 3, batch, 0.05, momentum, optimizer == "nesterov", wd)
    got = model.get_weights()
    want = [p.detach().numpy() for p in seq.parameters()]
    err = max(float(np.max(np.abs(a - b))) for a, b in zip(got, want))
    assert err < 1e-10, err
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(got, export.from_torch(seq, task).get_weights())) < 1e-10


def test_save_torch_and_load_torch(tmp_path):
    model = _randomize_biases(_model("leaky_relu"), np.random.default_rng(5))
    model = relunet.MLP(model.sizes, model.activations_spec(), classes=["w", "x", "y", "z"])
    path = tmp_path / "m.pt"
    export.save_torch(model, path)
    raw = torch.load(path, weights_only=True)  # plain PyTorch can read it safely
    assert raw["layers"][0] == ["Linear", 3, 7] and raw["layers"][1] == ["LeakyReLU", 0.2]
    seq, task, classes = export.load_torch(path)
    X = np.random.default_rng(6).normal(size=(10, 3))
    np.testing.assert_allclose(seq(torch.from_numpy(X)).detach().numpy(), model.decision_function(X), atol=1e-12)
    assert task == "classification" and classes.tolist() == ["w", "x", "y", "z"]


# --------------------------------------------------------------------------- ONNX
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("task, dtype", [("classification", "float64"), ("regression", "float64"),
                                         ("classification", "float32")])
def test_onnx_runs_in_onnxruntime_with_the_same_outputs(tmp_path, act, task, dtype):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(7)
    model = _randomize_biases(_model(act, task, dtype=dtype), rng).astype(dtype)
    path = export.to_onnx(model, tmp_path / "m.onnx")
    proto = onnx.load(str(path))
    ops = [n.op_type for n in proto.graph.node]
    want_act = {"relu": "Relu", "leaky_relu": "LeakyRelu", "tanh": "Tanh", "sigmoid": "Sigmoid",
                "identity": "Identity"}[act]
    assert ops.count("Gemm") == 3 and ops.count(want_act) == 2
    assert ops[-1] == ("Softmax" if task == "classification" else "Gemm")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    X = rng.normal(size=(64, 3)).astype(dtype)
    outs = dict(zip([o.name for o in sess.get_outputs()], sess.run(None, {"x": X})))
    z = model.decision_function(X)
    if task == "classification":
        assert np.max(np.abs(outs["probabilities"] - model.predict_proba(X))) < 1e-5
        assert np.max(np.abs(outs["logits"] - z)) < 1e-5
    else:
        assert np.max(np.abs(outs["output"] - z)) < 1e-5
    assert [p.key for p in proto.metadata_props][:1] == ["task"]


# --------------------------------------------------------------------------- scikit-learn
@pytest.mark.parametrize("activation", ["relu", "identity", "tanh", "logistic"])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression", "multi-output"])
def test_from_sklearn_predicts_exactly_like_the_mlp(activation, kind):
    sklearn = pytest.importorskip("sklearn")  # noqa: F841
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    rng = np.random.default_rng(8)
    X = rng.normal(size=(120, 2))
    if kind == "binary":
        y, est = np.where(X[:, 0] * X[:, 1] > 0, "yes", "no"), MLPClassifier
    elif kind == "multiclass":
        y, est = (X[:, 0] > 0) + 2 * (X[:, 1] > 0.5), MLPClassifier
    elif kind == "regression":
        y, est = np.abs(X[:, 0]) - X[:, 1], MLPRegressor
    else:
        y, est = np.c_[np.abs(X[:, 0]), X[:, 1] ** 2], MLPRegressor
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = est(hidden_layer_sizes=(6, 5), activation=activation, max_iter=80, random_state=0).fit(X, y)
    model = export.from_sklearn(mlp)
    Xt = rng.normal(size=(300, 2)) * 2
    np.testing.assert_array_equal(model.predict(Xt), mlp.predict(Xt)) if est is MLPClassifier else \
        np.testing.assert_allclose(model.predict(Xt), mlp.predict(Xt), rtol=1e-12, atol=1e-12)
    if est is MLPClassifier:
        np.testing.assert_allclose(model.predict_proba(Xt), mlp.predict_proba(Xt), rtol=1e-10, atol=1e-12)
        assert model.classes.tolist() == mlp.classes_.tolist()
    assert model.activation_names == [{"logistic": "sigmoid"}.get(activation, activation)] * 2


def test_from_sklearn_refuses_multilabel_and_unfitted():
    pytest.importorskip("sklearn")
    from sklearn.neural_network import MLPClassifier

    X = np.random.default_rng(9).normal(size=(40, 3))
    Y = np.c_[X[:, 0] > 0, X[:, 1] > 0, X[:, 2] > 0].astype(int)
    mlp = MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0)
    with pytest.raises(RelunetError, match="fitted MLPClassifier"):
        export.from_sklearn(mlp)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlp.fit(X, Y)
    with pytest.raises(RelunetError, match="multi-label"):
        export.from_sklearn(mlp)


# --------------------------------------------------------------------------- command line
def test_cli_export_onnx_and_torch(run_cli, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    model = _randomize_biases(_model("relu"), np.random.default_rng(10))
    relunet.save(model, tmp_path / "m.npz")
    X = np.random.default_rng(11).normal(size=(30, 3))
    r = run_cli("export", "--model", "m.npz", "--format", "onnx", "--out", "m.onnx")
    assert r.returncode == 0, r.stderr
    sess = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    assert np.max(np.abs(sess.run(["probabilities"], {"x": X})[0] - model.predict_proba(X))) < 1e-5
    r = run_cli("export", "--model", "m.npz", "--format", "torch", "--out", "m.pt")
    assert r.returncode == 0, r.stderr
    seq, task, _ = export.load_torch(tmp_path / "m.pt")
    np.testing.assert_allclose(seq(torch.from_numpy(X)).detach().numpy(), model.decision_function(X), atol=1e-12)


def test_cli_export_errors(run_cli, tmp_path):
    relunet.save(_model("relu"), tmp_path / "m.npz")
    r = run_cli("export", "--model", "m.npz", "--format", "onnx", "--out", "nowhere/m.onnx")
    assert r.returncode == 2 and r.stderr.startswith("relunet: error: cannot write --out nowhere/m.onnx")
    r = run_cli("export", "--model", "missing.npz", "--format", "torch", "--out", "m.pt")
    assert r.returncode == 2 and "does not exist" in r.stderr
    r = run_cli("export", "--model", "m.npz", "--format", "keras", "--out", "m.keras")
    assert r.returncode == 2 and "invalid choice" in r.stderr
