"""The examples run and do what they say."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_digits_reaches_mlpclassifier_accuracy_and_saves_pngs(tmp_path):
    pytest.importorskip("sklearn")
    from matplotlib.image import imread
    from sklearn.metrics import confusion_matrix

    res = _load("digits").main(tmp_path)
    # relunet's mean test accuracy over three seeds is at least scikit-learn's, to one test digit (1/450)
    assert res["relunet"] >= res["sklearn"] - 1 / 450 and res["relunet"] > 0.95
    np.testing.assert_array_equal(res["confusion"], confusion_matrix(res["y_test"], res["pred"], labels=range(10)))
    assert res["confusion"].sum() == 450
    for png in res["pngs"]:
        assert png.parent == tmp_path and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        h, w = imread(png).shape[:2]
        assert h > 200 and w > 300
