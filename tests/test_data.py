"""Data sets and CSV files."""

import numpy as np
import pytest

import relunet
from relunet.data import DATASETS, TARGETS, bounding_box, read_csv, read_inputs, write_csv
from relunet.engine import RelunetError


@pytest.mark.parametrize("name", list(DATASETS))
def test_every_generator_has_the_registry_signature_and_is_deterministic(name):
    spec = DATASETS[name]
    X, y = relunet.make_dataset(name, n=37, seed=4)
    assert X.shape[0] == 37 == y.shape[0] and X.dtype == np.float64
    assert X.shape[1] == (2 if spec.task == "classification" else 1)
    X2, y2 = relunet.make_dataset(name, n=37, seed=4)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    if spec.task == "classification":
        assert np.issubdtype(y.dtype, np.integer) and set(np.unique(y)) <= set(range(spec.classes))


def test_lecture_example_matches_the_lecture():
    X, y = relunet.make_dataset("lecture", seed=0)
    c0 = X[y == 0]
    near = lambda c, r: np.linalg.norm(c0 - np.array(c), axis=1) <= r + 1e-12  # noqa: E731
    assert np.all(near((0.8, 0.0), 0.12) | near((0.4, 0.9), 0.12))   # class 0 sits in two places
    assert near((0.8, 0.0), 0.12).any() and near((0.4, 0.9), 0.12).any()
    assert np.all(np.linalg.norm(X[y == 1] - (0.6, 0.45), axis=1) <= 0.12 + 1e-12)  # class 1 between them


@pytest.mark.parametrize("k", [2, 3, 5])
def test_spiral_and_gaussians_take_a_number_of_classes(k):
    for name in ("spiral", "gaussians"):
        _, y = relunet.make_dataset(name, n=100, classes=k, seed=0)
        assert sorted(np.unique(y)) == list(range(k))


def test_regression_targets_are_exact_without_noise():
    for name, (fn, (a, b)) in TARGETS.items():
        X, y = relunet.make_dataset(name, n=50, noise=0.0)
        assert X[0, 0] == a and X[-1, 0] == b
        np.testing.assert_allclose(y, fn(X[:, 0]))


@pytest.mark.parametrize("kwargs,message", [(dict(name="nope"), "unknown data set 'nope'"),
                                            (dict(name="xor", n=0), "positive integer"),
                                            (dict(name="xor", noise=-1), "noise must be"),
                                            (dict(name="spiral", classes=11), "from 2 to 10"),
                                            (dict(name="xor", classes=3), "applies to spiral")])
def test_bad_generator_arguments(kwargs, message):
    with pytest.raises(RelunetError, match=message):
        relunet.make_dataset(**kwargs)


def test_csv_round_trip_with_header(tmp_path):
    X, y = relunet.make_dataset("moons", n=20, seed=0)
    write_csv(tmp_path / "d.csv", X, y)
    text = (tmp_path / "d.csv").read_text().splitlines()
    assert text[0] == "x1,x2,y"
    X2, y2 = read_csv(tmp_path / "d.csv")
    np.testing.assert_array_equal(X, X2)  # repr of floats round-trips exactly
    np.testing.assert_array_equal(y, y2)


def test_csv_without_header_and_regression(tmp_path):
    (tmp_path / "r.csv").write_text("0.5,1.25\n1.5,-2\n")
    X, y = read_csv(tmp_path / "r.csv", task="regression")
    np.testing.assert_array_equal(X, [[0.5], [1.5]])
    np.testing.assert_array_equal(y, [1.25, -2.0])


@pytest.mark.parametrize("text,message", [
    ("x,y\n1,0\nfoo,1\n", r"line 3: 'foo' is not a number"),
    ("1,2,0\n1,1\n", r"line 2: expected 3 columns, got 2"),
    ("1,nan,0\n", r"line 1: NaN or infinite"),
    ("1,2,0.5\n", r"line 1: label '0.5' is not an integer"),
    ("a,b,c\n", r"has no data rows"),
    ("3\n", r"line 1: need at least one feature column"),
    ("1,2,x\n3,4,1\n", r"line 1: 'x' is not a number"),   # a row with numbers is data, not a header
])
def test_csv_errors_name_the_file_and_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(RelunetError, match=message) as err:
        read_csv(path)
    assert str(path) in str(err.value)


def test_read_inputs_checks_the_feature_count(tmp_path):
    (tmp_path / "x.csv").write_text("x1,x2\n0.1,0.2\n0.3\n")
    with pytest.raises(RelunetError, match="line 3: 1 features but the model expects 2"):
        read_inputs(tmp_path / "x.csv", 2)


def test_bounding_box_adds_a_margin():
    assert bounding_box(np.array([[0.0, 1.0], [2.0, 3.0]]), margin=0.1) == pytest.approx([-0.2, 2.2, 0.8, 3.2])
