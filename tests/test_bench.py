"""relunet bench: its correctness checks and the shape of its output. Never a timing.

The trajectory check is what makes the timings comparable (every contender does the same updates), so it is
tested both ways: contenders that do the same work pass it, one that does less is caught.
"""

import json
import math

import numpy as np
import pytest

pytest.importorskip("sklearn")
pytest.importorskip("torch")
pytest.importorskip("jax")
pytest.importorskip("threadpoolctl")

from relunet.bench import CASES, CONTENDERS  # noqa: E402
from relunet.bench import floor, report  # noqa: E402
from relunet.bench.cases import Case  # noqa: E402
from relunet.bench.contenders import FloorRunner  # noqa: E402
from relunet.bench.extra import EXTRAS  # noqa: E402
from relunet.bench.runner import TOLERANCE, check_case, weight_error  # noqa: E402

CONTENDER_NAMES = {"relunet", "torch", "jax", "sklearn", "floor", "numba"}


def _runners(case):
    problem = case.problem(quick=True)
    runners = {n: c.prepare(problem) for n, c in CONTENDERS.items()}
    return problem, {n: r for n, r in runners.items() if r is not None}


def _expected(case):
    """The contenders that run a case: the Numba loop only does per-sample SGD on one hidden layer."""
    if case.kind == "sgd" and case.batch == 1 and len(case.sizes) == 3:
        return CONTENDER_NAMES
    return CONTENDER_NAMES - {"numba"}


@pytest.mark.parametrize("case", [
    Case("t/2-8-3", "sgd", (2, 8, 3), updates=50, quick_updates=50, check_steps=120),
    Case("t/2-8-8-3-f32", "sgd", (2, 8, 8, 3), dtype="float32", batch=8, updates=30, quick_updates=30,
         check_steps=60),
    Case("t/map", "map", (2, 8, 8, 3), dtype="float32", updates=20, quick_updates=20),
])
def test_every_contender_follows_relunets_trajectory(case):
    _, runners = _runners(case)
    checks = check_case(case, runners)
    assert {c.contender for c in checks} == _expected(case) - {"relunet"}
    for c in checks:
        assert c.compared and c.ok, (c.contender, c.error)
        assert c.error <= (TOLERANCE[case.dtype] if case.kind == "sgd" else 1e-5)
    if case.kind == "sgd":  # the weights do move: the check compares trained weights, not the start
        runners["relunet"].steps(case.check_steps)
        moved = weight_error(case.problem(quick=True).weights, runners["relunet"].weights())
        assert moved > 1e-3


def test_trajectory_check_catches_a_contender_doing_less_work():
    case = Case("t/2-8-3", "sgd", (2, 8, 3), updates=50, quick_updates=50, check_steps=100)
    problem, runners = _runners(case)

    class Lazy(FloorRunner):
        def steps(self, k):  # skips every tenth update
            super().steps(k - k // 10)

    runners = {"relunet": runners["relunet"], "floor": Lazy(problem)}
    (check,) = check_case(case, runners)
    assert check.compared and not check.ok and check.error > 1e3 * check.tolerance


def test_two_class_sklearn_is_timed_but_not_compared():
    case = CASES["sgd1/2-16-2"]
    _, runners = _runners(case)
    sk = [c for c in check_case(case, runners) if c.contender == "sklearn"][0]
    assert not sk.compared and sk.ok and "logistic" in sk.note


def test_floor_per_sample_equals_relunets_layered_maths_by_hand():
    """The floor's update for one token, checked against the formulas written out in NumPy."""
    rng = np.random.default_rng(0)
    W1, b1, W2, b2 = rng.normal(size=(5, 2)), rng.normal(size=5), rng.normal(size=(3, 5)), rng.normal(size=3)
    x, y, lr = rng.normal(size=2), 2, 0.1
    z1 = W1 @ x + b1
    h = np.maximum(z1, 0)
    z2 = W2 @ h + b2
    f = np.exp(z2 - z2.max())
    f /= f.sum()
    dz2 = f - np.eye(3)[y]
    dz1 = (W2.T @ dz2) * (z1 > 0)
    expect = [W1 - lr * np.outer(dz1, x), b1 - lr * dz1, W2 - lr * np.outer(dz2, h), b2 - lr * dz2]
    Was = [np.column_stack([W1, b1]), np.column_stack([W2, b2])]
    floor.sgd_per_sample(Was, x[None, :], np.array([y]), lr)
    got = [Was[0][:, :-1], Was[0][:, -1], Was[1][:, :-1], Was[1][:, -1]]
    for g, e in zip(got, expect):
        np.testing.assert_allclose(g, e, rtol=1e-14, atol=1e-14)


def test_weight_error_is_relative_to_the_larger_of_one_and_the_weights():
    a = [np.array([1.0, -200.0]), np.array([0.5])]
    assert weight_error(a, [np.array([1.0, -200.0]), np.array([0.5])]) == 0.0
    assert weight_error(a, [np.array([1.0, -200.2]), np.array([0.5])]) == pytest.approx(0.2 / 200)
    assert weight_error(a, [np.array([1.0, -200.0]), np.array([0.75])]) == pytest.approx(0.25)
    assert weight_error(a, [np.array([1.0]), np.array([0.5])]) == math.inf


def test_report_ratios_and_cells():
    entry = {"case": "x", "unit": "steps/s", "median": {"relunet": 100e3, "torch": 4e3},
             "min": {"relunet": 90e3, "torch": 3e3}, "max": {"relunet": 110e3, "torch": 5e3}}
    assert report.ratio(entry, "torch") == 25.0
    assert report.ratio(entry, "sklearn") is None
    assert report.cell(entry, "relunet") == "100k (90k-110k)"
    table = report.table({"machine": {}, "cases": [entry]})
    assert "| x | steps/s | 100k (90k-110k) | 4.0k (3.0k-5.0k) | 25.00 |" in table


@pytest.mark.slow
def test_quick_bench_command_prints_the_table_and_writes_the_issues_json(run_cli, tmp_path):
    out = tmp_path / "bench.json"
    r = run_cli("bench", "--quick", "--json", out, timeout=900)  # a guard against a hang, not a speed check
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert "trajectory check: all contenders agree" in text
    assert "MISMATCH" not in text  # correctness only: speed targets are the report's business, never a test's
    head = ("| case | unit | relunet | torch | jax | sklearn | floor | numba | relunet/torch | relunet/jax | "
            "relunet/sklearn | relunet/floor | relunet/numba |")
    assert head in text
    doc = json.loads(out.read_text())
    assert set(doc) == {"machine", "cases"}
    assert {"date", "cpu", "numpy", "gflops_float64", "gflops_float32"} <= set(doc["machine"])
    names = [c["case"] for c in doc["cases"]]
    assert names[:len(CASES)] == list(CASES)
    assert any(n.startswith("digits/") for n in names) and any(n.startswith("memory/") for n in names)
    assert {"pwl/regions/2-64-64-3", "playground/frames", "playground/exact-refresh"} <= set(names)
    assert {"compile/demo first run", "compile/demo cached", "compile/import relunet"} <= set(names)
    assert set(EXTRAS) == {"digits", "memory", "pwl", "playground", "compile"}
    for c in doc["cases"]:
        assert set(c) == {"case", "unit", "median", "min", "max"}
        assert "relunet" in c["median"] and set(c["median"]) <= CONTENDER_NAMES
        assert set(c["median"]) == set(c["min"]) == set(c["max"])
        for k, v in c["median"].items():
            assert 0 < c["min"][k] <= v <= c["max"][k] and math.isfinite(v)
        assert f"| {c['case']} | {c['unit']} |" in text
    for name in CASES:
        assert set(doc["cases"][names.index(name)]["median"]) == _expected(CASES[name])


def test_bench_rejects_an_unknown_case(run_cli):
    r = run_cli("bench", "--cases", "nope")
    assert r.returncode == 2
    assert r.stderr.startswith("relunet: error: unknown case 'nope'")
