"""The command line, run for real in a subprocess: the lecture's commands and every user mistake."""

import json

import numpy as np
import pytest

import relunet


def _one_error_line(result):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("relunet: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_help_on_every_command(run_cli):
    from relunet.cli import COMMANDS

    top = run_cli("--help")
    assert top.returncode == 0
    for name in COMMANDS:
        assert name in top.stdout
        r = run_cli(name, "--help")
        assert r.returncode == 0 and "usage: relunet " + name in r.stdout


def test_demo_tells_the_lecture_story(run_cli, tmp_path):
    r = run_cli("demo", "--out", "demo")
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text())
    assert summary["linear"]["train_accuracy"] < 1.0
    assert summary["two_layer"]["train_accuracy"] == 1.0
    assert summary["two_layer"]["hidden"] >= 2 and summary["two_layer"]["epochs"] >= 1
    for name in ("linear_regions.png", "two_layer_regions.png", "loss.png"):
        assert (tmp_path / "demo" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert str(tmp_path / "demo" / name) in r.stdout or f"demo/{name}" in r.stdout


def test_train_evaluate_predict_plot_explain(run_cli, tmp_path):
    r = run_cli("train", "--data", "lecture", "--hidden", "8", "--lr", "0.1", "--epochs", "300",
                "--target-loss", "0.01", "--out", "m.npz", "--plot", "m.png", "--json")
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["train_accuracy"] == 1.0 and summary["stop_reason"] == "target loss"
    model = relunet.load(tmp_path / "m.npz")
    assert model.sizes == [2, 8, 2] and model.box is not None and model.training["lr"] == 0.1
    assert (tmp_path / "m.png").stat().st_size > 1000

    r = run_cli("evaluate", "--model", "m.npz", "--data", "lecture", "--json")
    ev = json.loads(r.stdout)
    X, y = relunet.make_dataset("lecture")
    assert ev["accuracy"] == 1.0 and ev["loss"] == pytest.approx(relunet.evaluate(model, X, y)["loss"], rel=1e-12)

    (tmp_path / "x.csv").write_text("x1,x2\n0.8,0.0\n0.6,0.45\n0.4,0.9\n")
    r = run_cli("predict", "--model", "m.npz", "--input", "x.csv", "--proba")
    assert r.returncode == 0, r.stderr
    rows = [line.split(",") for line in r.stdout.strip().splitlines()]
    assert rows[0] == ["prediction", "p_0", "p_1"]
    assert [int(row[0]) for row in rows[1:]] == [0, 1, 0]
    P = model.predict_proba(np.array([[0.8, 0.0], [0.6, 0.45], [0.4, 0.9]]))
    np.testing.assert_allclose([[float(v) for v in row[1:]] for row in rows[1:]], P, rtol=1e-15)

    r = run_cli("plot", "--model", "m.npz", "--data", "lecture", "--out", "p.png")
    assert r.returncode == 0 and (tmp_path / "p.png").exists()

    r = run_cli("explain", "--model", "m.npz", "--x", "0.4,0.9", "--label", "0")
    assert r.returncode == 0, r.stderr
    for text in ("z1 = W1 x + b1", "h1 = relu(z1)", "f = softmax(z2)", "dL/dz2 = f - 1[y=k]", "dL/dh1",
                 "u(z1) (the ReLU mask)", "dL/dW2", "dL/dW1", "gradient check", "OK"):
        assert text in r.stdout


def test_explain_numbers_are_the_engines(run_cli, tmp_path):
    model = relunet.MLP([2, 3, 2], seed=0)
    relunet.save(model, tmp_path / "m.npz")
    r = run_cli("explain", "--model", "m.npz", "--x", "0.4,0.9", "--label", "1")
    f = model.predict_proba(np.array([[0.4, 0.9]]))[0]
    line = next(line for line in r.stdout.splitlines() if line.strip().startswith("f = softmax"))
    shown = [float(v) for v in line.split("= ")[-1].strip("[]").split(",")]
    np.testing.assert_allclose(shown, f, rtol=1e-3)
    loss_line = next(line for line in r.stdout.splitlines() if line.strip().startswith("L = -log"))
    assert float(loss_line.split("= ")[-1]) == pytest.approx(-np.log(f[1]), rel=1e-5)


def test_regression_train_and_predict(run_cli, tmp_path):
    r = run_cli("train", "--data", "abs", "--hidden", "8", "--optimizer", "adam", "--lr", "0.01", "--epochs", "50",
                "--batch-size", "10", "--out", "r.npz", "--plot", "r.png")
    assert r.returncode == 0, r.stderr
    assert "R^2" in r.stdout
    (tmp_path / "x.csv").write_text("0.5\n-0.25\n")
    r = run_cli("predict", "--model", "r.npz", "--input", "x.csv")
    model = relunet.load(tmp_path / "r.npz")
    got = [float(v) for v in r.stdout.strip().splitlines()[1:]]
    np.testing.assert_allclose(got, model.predict(np.array([[0.5], [-0.25]])), rtol=1e-15)


def test_train_options(run_cli, tmp_path):
    (tmp_path / "d.csv").write_text("a,b,label\n" + "\n".join(f"{i % 7},{i % 5},{i % 2}" for i in range(40)))
    r = run_cli("train", "--data", "d.csv", "--hidden", "4,4", "--activation", "tanh", "--optimizer", "nesterov",
                "--lr", "0.05", "--momentum", "0.8", "--weight-decay", "0.001", "--batch-size", "8", "--epochs", "5",
                "--validation", "0.25", "--patience", "3", "--no-shuffle", "--seed", "3", "--dtype", "float32",
                "--schedule", "step", "--out", "d.npz", "--json")
    assert r.returncode == 0, r.stderr
    model = relunet.load(tmp_path / "d.npz")
    assert model.sizes == [2, 4, 4, 2] and model.activation_names == ["tanh", "tanh"]
    assert model.dtype == np.float32 and model.training["shuffle"] is False
    r = run_cli("train", "--data", "d.csv", "--hidden", "4,4", "--activation", "tanh", "--epochs", "2",
                "--init", "d.npz", "--out", "d2.npz")
    assert r.returncode == 0, r.stderr


def test_epochs_zero_saves_the_initialised_model(run_cli, tmp_path):
    r = run_cli("train", "--data", "xor", "--hidden", "5", "--epochs", "0", "--seed", "7", "--out", "i.npz")
    assert r.returncode == 0, r.stderr
    expected = relunet.MLP([2, 5, 2], seed=7)
    for a, b in zip(relunet.load(tmp_path / "i.npz").get_weights(), expected.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_train_backend_option(run_cli, tmp_path, monkeypatch):
    """--backend reference and --backend kernel train the same network (the two engines agree to rounding) and
    say which ran; RELUNET_BACKEND=reference is still honoured (auto then runs the reference)."""
    common = ["train", "--data", "xor", "--hidden", "6", "--optimizer", "momentum", "--epochs", "3", "--json"]
    ran, models = {}, {}
    for backend, env in (("reference", None), ("kernel", None), ("auto", "reference")):
        if env:
            monkeypatch.setenv("RELUNET_BACKEND", env)
        r = run_cli(*common, "--backend", backend, "--out", f"{backend}.npz")
        assert r.returncode == 0, r.stderr
        ran[backend], models[backend] = json.loads(r.stdout)["backend"], relunet.load(tmp_path / f"{backend}.npz")
    assert ran == {"reference": "reference", "kernel": "kernel", "auto": "reference"}
    assert models["kernel"].training["backend"] == "kernel"
    for a, b, c in zip(*(models[k].parameters() for k in ("reference", "kernel", "auto"))):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(c, a)  # the same reference run


def test_no_hidden_layer_is_the_linear_classifier(run_cli, tmp_path):
    r = run_cli("train", "--data", "lecture", "--hidden", "", "--epochs", "50", "--out", "lin.npz", "--json")
    assert r.returncode == 0, r.stderr
    assert relunet.load(tmp_path / "lin.npz").sizes == [2, 2]
    assert json.loads(r.stdout)["train_accuracy"] < 1.0


def test_gradcheck_command(run_cli):
    r = run_cli("gradcheck", "--sizes", "2,5,4,3", "--activation", "relu", "--batch", "1")
    assert r.returncode == 0 and "OK" in r.stdout
    r = run_cli("gradcheck", "--sizes", "1,6,2", "--loss", "mse", "--activation", "sigmoid")
    assert r.returncode == 0 and "OK" in r.stdout
    r = run_cli("gradcheck", "--sizes", "2,5,3", "--loss", "logistic")  # several logistic outputs: multi-label
    assert r.returncode == 0 and "OK" in r.stdout, r.stderr


BAD_CASES = {
    "unknown data set": (["train", "--data", "nosuch", "--out", "o.npz"], "unknown data set 'nosuch'"),
    "missing csv": (["train", "--data", "missing.csv", "--out", "o.npz"], "missing.csv does not exist"),
    "non-numeric csv": (["train", "--data", "words.csv", "--out", "o.npz"], "words.csv, line 3: 'abc' is not a number"),
    "nan in csv": (["train", "--data", "nan.csv", "--out", "o.npz"], "nan.csv, line 2: NaN or infinite value"),
    "inf in csv": (["train", "--data", "inf.csv", "--out", "o.npz"], "inf.csv, line 1: NaN or infinite value"),
    "non-integer labels": (["train", "--data", "float.csv", "--out", "o.npz"], "label '0.5' is not an integer"),
    "empty data": (["train", "--data", "empty.csv", "--out", "o.npz"], "empty.csv has no data rows"),
    "unreadable csv": (["train", "--data", "binary.csv", "--out", "o.npz"], "cannot read data file"),
    "bad hidden sizes": (["train", "--data", "xor", "--hidden", "8,-2", "--out", "o.npz"],
                         "hidden sizes must be positive integers"),
    "non-integer hidden": (["train", "--data", "xor", "--hidden", "8,x", "--out", "o.npz"],
                           "hidden sizes must be positive integers"),
    "zero learning rate": (["train", "--data", "xor", "--lr", "0", "--out", "o.npz"],
                           "learning rate must be a finite number above 0, got 0.0"),
    "negative learning rate": (["train", "--data", "xor", "--lr", "-0.1", "--out", "o.npz"], "learning rate"),
    "one class": (["train", "--data", "oneclass.csv", "--out", "o.npz"], "has only one class"),
    "missing out folder": (["train", "--data", "xor", "--out", "nofolder/o.npz"], "folder"),
    "out is a folder": (["train", "--data", "xor", "--out", "sub/"], "it is a folder, not a file name"),
    "out is an existing folder": (["train", "--data", "xor", "--out", "."], "it is a folder, not a file name"),
    "network too large for memory": (["train", "--data", "xor", "--hidden", "400000000,400000000", "--out", "o.npz"],
                                     "needs about"),
    "plot to a folder": (["plot", "--model", "good.npz", "--out", "sub"], "it is a folder"),
    "missing model": (["evaluate", "--model", "nomodel.npz", "--data", "xor"], "model file nomodel.npz does not exist"),
    "wrong feature count": (["predict", "--model", "good.npz", "--input", "three.csv"],
                            "three.csv, line 1: 3 features but the model expects 2"),
    "corrupt model": (["predict", "--model", "corrupt.npz", "--input", "three.csv"], "not a readable relunet model"),
    "explain wrong x": (["explain", "--model", "good.npz", "--x", "0.1", "--label", "0"], "--x needs 2 numbers"),
    "explain wrong label": (["explain", "--model", "good.npz", "--x", "0.1,0.2", "--label", "5"],
                            "--label 5 is not one of the model's classes"),
    "divergence": (["train", "--data", "sine", "--hidden", "32,32", "--lr", "50", "--epochs", "20", "--out", "o.npz"],
                   "diverged in epoch"),
    "unknown argument value": (["train", "--data", "xor", "--optimizer", "rmsprop", "--out", "o.npz"],
                               "invalid choice"),
}


@pytest.fixture
def bad_files(tmp_path):
    (tmp_path / "words.csv").write_text("x1,x2,y\n1,2,0\nabc,2,1\n")
    (tmp_path / "nan.csv").write_text("1,2,0\n1,nan,1\n")
    (tmp_path / "inf.csv").write_text("1,inf,0\n")
    (tmp_path / "float.csv").write_text("1,2,0\n1,3,0.5\n")
    (tmp_path / "empty.csv").write_text("x1,x2,y\n")
    (tmp_path / "binary.csv").write_bytes(b"\xff\xfe\x00\x81\x82")
    (tmp_path / "oneclass.csv").write_text("1,2,0\n2,3,0\n")
    (tmp_path / "three.csv").write_text("1,2,3\n")
    (tmp_path / "corrupt.npz").write_bytes(b"PK\x03\x04garbage")
    relunet.save(relunet.MLP([2, 3, 2]), tmp_path / "good.npz")
    (tmp_path / "sub").mkdir()


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_every_user_mistake_gives_one_line_and_status_2(run_cli, tmp_path, bad_files, case):
    args, message = BAD_CASES[case]
    before = set(p.name for p in tmp_path.iterdir())
    line = _one_error_line(run_cli(*args))
    assert message in line, line
    assert set(p.name for p in tmp_path.iterdir()) == before  # nothing written, not even half


def test_threads_option_and_auto_rule(run_cli, tmp_path):
    from relunet.threads import auto_threads

    assert auto_threads([2, 64, 64, 3], 1) == 1 and auto_threads([2, 64, 64, 3], 32) == 1
    assert auto_threads([784, 256, 10], 256) is None           # 51M multiply-adds per update: let BLAS decide
    r = run_cli("train", "--data", "xor", "--epochs", "2", "--threads", "2", "--out", "t.npz")
    assert r.returncode == 0, r.stderr
    assert "--threads must be a positive integer" in _one_error_line(
        run_cli("train", "--data", "xor", "--threads", "0", "--out", "t.npz"))
