"""The lecture's quiz: exact grading checked against the forward pass, a fine grid and hand-worked areas."""

import json

import numpy as np
import pytest

from relunet import MLP, exercises as E
from relunet.engine.errors import RelunetError


@pytest.mark.parametrize("name", list(E.EXERCISES))
def test_every_reference_passes_and_exact_classes_match_the_forward_pass(name):
    ex = E.get(name)
    model = ex.reference()
    res = E.check(ex, model)
    assert res.passed, res.summary()
    assert res.hidden <= ex.max_hidden and res.used <= res.hidden and res.regions >= 1
    if ex.kind == "points":
        X, y = ex.points()
        z = model.decision_function(X)
        np.testing.assert_array_equal(res.predicted, z.argmax(axis=1))
        # margin z_y - z_other from each token's region's affine map equals the forward pass's
        np.testing.assert_allclose(res.margin, z[np.arange(len(y)), y] - z[np.arange(len(y)), 1 - y], atol=1e-9)


def test_eight_exercises_of_rising_difficulty():
    assert list(E.EXERCISES) == ["lecture", "xor", "triangle", "circle", "islands", "lshape", "moons", "spiral"]
    assert [E.get(n).kind for n in ("lecture", "triangle", "islands", "lshape")] == ["points", "region", "region",
                                                                                      "region"]
    assert [len(E.get(n).polygons) for n in ("triangle", "islands", "lshape")] == [1, 2, 2]
    assert E.get("spiral").reference().sizes[1] > E.get("moons").reference().sizes[1]
    doc = json.loads(json.dumps(E.get("islands").to_json()))
    assert "polygon" not in doc and doc["polygons"] == [P.tolist() for P in E.ISLANDS]
    assert E.get("xor").to_json()["polygons"] == []


def test_region_mismatch_is_the_hand_worked_area():
    # class 1 = {x2 < 0} (s = ReLU(1 - x2) - 1 = -x2 in the box) against the triangle in [-1, 1]^2:
    # the triangle's part below x2 = 0 is a trapezoid of heights 0.6, widths 1.6 and 1.6 * 0.8 / 1.4.
    model = E.two_layer([[0.0, -1.0]], [1.0], [1.0], -1.0)
    res = E.check("triangle", model)
    below = 0.6 * (1.6 + 1.6 * 0.8 / 1.4) / 2
    assert res.target_area == pytest.approx(1.12)
    assert res.mismatch_area == pytest.approx((2.0 - below) + (1.12 - below), abs=1e-12)
    assert sum(E.polygon_area(p) for p in res.missed) == pytest.approx(1.12 - below, abs=1e-12)
    assert not res.passed and "differs from the target" in res.reasons[0]


@pytest.mark.parametrize("name, box_area, missed, below", [
    # two islands in [-1, 1] x [-1, 1.2]: the square [-0.5, 0.5] x [-0.8, 0.2] (area 1) has 0.8 below x2 = 0
    # and 0.2 above it; the triangle (area 0.75 * 0.6 / 2 = 0.225) lies above x2 = 0.4, wholly missed.
    ("islands", 2.0, 0.2 + 0.225, 0.8),
    # the L in [-1, 1]^2: the bar [-0.8, 0.8] x [-0.8, -0.2] (0.96) lies below x2 = 0, the column
    # [-0.8, -0.2] x [-0.2, 0.8] (0.6) has 0.6 * 0.2 = 0.12 below it and 0.48 above.
    ("lshape", 2.0, 0.48, 0.96 + 0.12),
])
def test_region_mismatch_of_a_half_plane_is_the_hand_worked_area(name, box_area, missed, below):
    """class 1 = {x2 < 0}: missed = the target above x2 = 0, extra = the box's lower half outside it."""
    model = E.two_layer([[0.0, -1.0]], [1.0], [1.0], -1.0)       # s = -x2 up to x2 = 1, then -1
    res = E.check(name, model)
    assert res.target_area == pytest.approx(missed + below, abs=1e-12)
    assert sum(E.polygon_area(p) for p in res.missed) == pytest.approx(missed, abs=1e-12)
    assert sum(E.polygon_area(p) for p in res.extra) == pytest.approx(box_area - below, abs=1e-12)
    assert res.mismatch_area == pytest.approx(missed + box_area - below, abs=1e-12)
    assert not res.passed


def _grid_mismatch(ex, model, n):
    """The mismatch area estimated on an n x n grid of cell centres."""
    x0, x1, y0, y1 = ex.box
    xs = np.linspace(x0, x1, n, endpoint=False) + (x1 - x0) / (2 * n)
    gx, gy = np.meshgrid(xs, np.linspace(y0, y1, n, endpoint=False) + (y1 - y0) / (2 * n))
    pts = np.column_stack([gx.ravel(), gy.ravel()])
    return np.mean(model.predict(pts).astype(bool) != ex.inside(pts)) * (x1 - x0) * (y1 - y0)


@pytest.mark.parametrize("name", ["triangle", "islands", "lshape"])
def test_region_mismatch_agrees_with_a_fine_grid(name):
    ex = E.get(name)
    model = ex.reference()
    W1, b1 = model.linears[0].W, model.linears[0].b
    shift = np.where(np.arange(len(b1)) % 2, -0.04, 0.05)
    b1 += shift * np.linalg.norm(W1, axis=1)               # move every hinge line off its edge by 0.04-0.05
    res = E.check(ex, model)
    assert res.mismatch_area == pytest.approx(_grid_mismatch(ex, model, 1200), rel=0.02)
    assert res.mismatch_area > res.allowed_area and not res.passed


def test_pieces_are_checked_and_the_outline_leaves_out_seams():
    ref = E.get("triangle").make_reference
    for pieces, why in [(([[0, 0], [0, 1], [1, 0]],), "counter-clockwise"),                 # clockwise
                        (([[0, 0], [1, 0], [0.2, 0.2], [0, 1]],), "convex"),
                        (([[0, 0], [1, 0], [0, 1]], [[0.2, 0.2], [1, 0.2], [0.2, 1]]), "pieces 0 and 1 of the target overlap")]:
        with pytest.raises(RelunetError, match=why):
            E.Exercise("bad", "t", "t", (-1, 1, -1, 1), 3, ref, polygons=pieces)
    # the L's boundary: its six sides (6.4 long), none on the seam x2 = -0.2, -0.8 < x1 < -0.2
    out = E.get("lshape").outline()
    assert np.linalg.norm(out[:, 1] - out[:, 0], axis=1).sum() == pytest.approx(6.4, abs=1e-12)
    mid = out.mean(axis=1)
    assert not np.any((np.abs(mid[:, 1] + 0.2) < 1e-12) & (mid[:, 0] < -0.2))
    assert len(E.get("islands").outline()) == 7                # nothing shared: every edge of both pieces


def test_wrong_solutions_fail_with_reasons():
    ref = E.get("lecture").reference()
    ref.linears[1].W[1] *= -1
    res = E.check("lecture", ref)
    assert not res.passed and res.wrong > 0 and "not classified correctly" in res.reasons[0]
    wide = MLP([2, 5, 2], seed=0)
    res = E.check("xor", wide)
    assert any("at most 4" in r for r in res.reasons)
    # A token on the boundary (a tie) is not classified, however argmax breaks the tie.
    on_axis = E.Exercise("tie", "t", "t", (-1, 1, -1, 1), 4, E.get("xor").make_reference,
                         lambda: (np.array([[0.0, 0.5], [0.5, 0.5]]), np.array([0, 0])))
    res = E.check(on_axis, on_axis.reference())
    assert res.correct.tolist() == [False, True] and res.margin[0] == pytest.approx(0, abs=1e-12)


def test_models_that_cannot_answer_are_user_errors():
    with pytest.raises(RelunetError, match="two-layer classifier"):
        E.check("xor", MLP([2, 4, 4, 2]))
    with pytest.raises(RelunetError, match="piece-wise linear"):
        E.check("xor", MLP([2, 4, 2], "tanh"))
    with pytest.raises(RelunetError, match="classes 0 and 1"):
        E.check("xor", MLP([2, 4, 2], classes=[3, 7]))
    with pytest.raises(RelunetError, match="unknown exercise 'nope'; choose one of: lecture"):
        E.get("nope")


@pytest.mark.parametrize("name", list(E.EXERCISES))
def test_solving_the_output_weights_on_the_reference_hinges_passes(name):
    ex = E.get(name)
    model = ex.reference()
    model.linears[1].W[...] = 0.0
    model.linears[1].b[...] = 0.0
    E.solve_output(model, *E.fit_tokens(ex))
    assert E.check(ex, model).passed


def test_zero_output_weights_predict_no_class_anywhere():
    model = E.two_layer([[1.0, 0.0]], [0.0], [0.0], 0.0)       # z_0 = z_1 = 0 everywhere: a tie
    res = E.check("triangle", model)
    assert res.mismatch_area == pytest.approx(1.12) and not res.extra  # the whole triangle is missed
    cells = E.class_cells(E.linear_regions(model, [-1, 1, -1, 1]), res.boundary)
    assert {k for k, _ in cells} == {-1}
    assert E.check("xor", model).wrong == 40


def test_units_used_counts_only_units_that_matter():
    model = E.two_layer([[1, 0], [0, 1], [1, 1]], [0, -5, 0], [1, 2, 0], 0)  # unit 2 dead, unit 3 unweighted
    assert E.units_used(model, (-1, 1, -1, 1)) == 1


def test_exercise_command_line(run_cli, tmp_path, capsys):
    from relunet.cli import main

    assert run_cli("exercise", "reference", "moons", "--out", "m.npz").returncode == 0
    r = run_cli("exercise", "check", "moons", "--model", "m.npz", "--json")
    doc = json.loads(r.stdout)
    assert r.returncode == 0 and doc["passed"] and doc["wrong"] == 0 and doc["hidden"] == 4
    # the rest in-process (same main() as the console script)
    assert main(["exercise", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 8 and lines[0].startswith("1. lecture") and lines[4].startswith("5. islands")
    assert "(region, at most 6 hidden units)" in lines[5]
    assert main(["exercise", "reference", "lshape", "--out", str(tmp_path / "l.npz")]) == 0
    capsys.readouterr()
    assert main(["exercise", "check", "lshape", "--model", str(tmp_path / "l.npz")]) == 0
    assert capsys.readouterr().out.startswith("lshape: PASS")
    assert main(["exercise", "check", "xor", "--model", str(tmp_path / "m.npz")]) == 1
    assert "xor: FAIL" in capsys.readouterr().out
    assert main(["exercise", "check", "moon", "--model", str(tmp_path / "m.npz")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "relunet: error: unknown exercise 'moon'; choose one of: lecture, xor, triangle, circle, islands, lshape, "
        "moons, spiral"]

