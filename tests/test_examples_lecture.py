"""The example scripts run and show what they claim."""

import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_lecture_example(tmp_path, capsys):
    linear_acc, net_acc = _load("lecture").main(tmp_path)
    assert linear_acc < 1.0 and net_acc == 1.0
    assert (tmp_path / "linear.png").exists() and (tmp_path / "two_layer.png").exists()
    assert "dL/dz2 = f - 1[y=k]" in capsys.readouterr().out


def test_regression_example_more_pieces_fit_better(tmp_path):
    mse = _load("regression").main(tmp_path)
    assert mse[32] < mse[4] < mse[2]
    assert mse[32] < 1e-3
