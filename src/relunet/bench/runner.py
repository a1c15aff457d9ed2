"""Running the benchmark: trajectory check, interleaved timed repeats, machine facts.

Protocol (the issue's): every contender of a case runs in this one process; each repeat visits the
contenders in a rotated order, puts the initial weights back, collects garbage and pauses briefly before its
timed run, so slow drifts of a shared machine hit everyone alike; the table shows medians with min-max. BLAS
(NumPy's, SciPy's) and PyTorch are pinned to one thread for every case. Before timing, each training case
runs `check_steps` identical updates in every contender and compares the weights with relunet's: they must
agree to 1e-12 (float64) or 1e-6 (float32), so no contender is timed doing less work.
"""

import gc
import importlib.util
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from .cases import CASES
from .contenders import CONTENDERS

TOLERANCE = {"float64": 1e-12, "float32": 1e-6}
MAP_TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


@dataclass
class Check:
    """One trajectory comparison: contender vs relunet after `steps` updates (or on the map's output)."""

    case: str
    contender: str
    steps: int
    error: float          # max |w_contender - w_relunet| / max(1, max |w_relunet|) over all arrays
    tolerance: float
    note: str = ""

    @property
    def ok(self):
        return self.error is None or self.error <= self.tolerance

    @property
    def compared(self):
        return self.error is not None


@dataclass
class BenchResult:
    """What run_bench returns: the JSON document (machine + cases) and the checks behind it."""

    document: dict
    checks: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def ok(self):
        return all(c.ok for c in self.checks)


def weight_error(ref, other):
    """max over arrays of max |a - b| / max(1, max |a|): absolute for weights of size about 1."""
    err = 0.0
    for a, b in zip(ref, other):
        a = np.asarray(a, dtype=np.float64)
        b = np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            return float("inf")
        scale = max(1.0, float(np.max(np.abs(a))) if a.size else 1.0)
        err = max(err, float(np.max(np.abs(a - b))) / scale if a.size else 0.0)
    return err


def check_case(case, runners):
    """Trajectory check of one case: every runner does check_steps updates from the same weights."""
    checks = []
    ref = runners["relunet"]
    if case.kind == "map":
        for r in runners.values():
            r.reset()
        f_ref = ref.run()
        for name, r in runners.items():
            if name == "relunet":
                continue
            f = r.run()
            checks.append(Check(case.name, name, 0, weight_error([f_ref], [f]), MAP_TOLERANCE[case.dtype],
                                "predict_proba on the grid"))
        return checks
    results = {}
    for name, r in runners.items():
        r.reset()
        r.steps(case.check_steps)
        results[name] = r.weights()
        r.reset()
    for name, r in runners.items():
        if name == "relunet":
            continue
        err = weight_error(results["relunet"], results[name]) if r.comparable else None
        checks.append(Check(case.name, name, case.check_steps, err, TOLERANCE[case.dtype], r.note))
    return checks


def time_case(case, runners, problem, repeats, pause):
    """{contender: [value per repeat]}: rates (units per second) or times in ms for the map."""
    names = list(runners)
    values = {name: [] for name in names}
    for rep in range(repeats + 1):  # repeat 0 is a warm-up, not recorded
        order = names[rep % len(names):] + names[:rep % len(names)]
        for name in order:
            r = runners[name]
            r.reset()
            gc.collect()
            time.sleep(pause)
            t0 = time.perf_counter()
            r.run()
            dt = time.perf_counter() - t0
            if rep:
                values[name].append(dt * 1e3 if case.kind == "map" else problem.units / dt)
    return values


def summarize(case, values):
    """The JSON entry of one case: medians, minima and maxima per contender."""
    return {"case": case.name, "unit": case.unit,
            "median": {k: statistics.median(v) for k, v in values.items()},
            "min": {k: min(v) for k, v in values.items()},
            "max": {k: max(v) for k, v in values.items()}}


def matmul_gflops(dtype, n=1024, repeats=3):
    """The machine's matrix-multiply rate on the current BLAS threads: 2 n^3 flops per product."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n)).astype(dtype)
    b = rng.standard_normal((n, n)).astype(dtype)
    c = np.empty((n, n), dtype)
    np.matmul(a, b, out=c)
    best = min(_timed(lambda: np.matmul(a, b, out=c)) for _ in range(repeats))
    return 2.0 * n ** 3 / best / 1e9


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def machine_info(contenders):
    """Facts about this machine and the versions measured (JSON-able)."""
    info = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "platform": platform.platform(),
            "cpu": _cpu_name(), "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "blas_threads": 1}
    for c in contenders.values():
        v = c.version()
        if v is not None:
            info[c.module or c.name] = v
    info["relunet"] = CONTENDERS["relunet"].version()
    info["gflops_float64"] = round(matmul_gflops(np.float64), 1)
    info["gflops_float32"] = round(matmul_gflops(np.float32), 1)
    try:
        from threadpoolctl import threadpool_info

        info["blas"] = sorted({f"{p.get('internal_api')} {p.get('version')}" for p in threadpool_info()
                               if p.get("user_api") == "blas"})
    except ImportError:  # pragma: no cover
        pass
    return info


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or "unknown"


def _one_thread():
    """A context that pins every BLAS (threadpoolctl) and PyTorch to one thread, restoring them after."""
    import contextlib

    stack = contextlib.ExitStack()
    if importlib.util.find_spec("scipy") is not None:
        # SciPy's BLAS (the floor's, and the compiled kernels' mini-batch products) is a library of its own:
        # load it now so that the limit below reaches it too.
        import scipy.linalg.cython_blas  # noqa: F401
    try:
        from threadpoolctl import threadpool_limits

        stack.enter_context(threadpool_limits(1))
    except ImportError:  # pragma: no cover - threadpoolctl is in the bench extra
        pass
    if "torch" in sys.modules or CONTENDERS["torch"].available():
        import torch

        old = torch.get_num_threads()
        torch.set_num_threads(1)
        stack.callback(torch.set_num_threads, old)
    return stack


def run_bench(quick=False, cases=None, contenders=None, repeats=None, pause=None, extras=True, out=sys.stdout,
              digits_seeds=None):
    """Run the benchmark, print the tables to `out` and return a BenchResult.

    Args:
        quick: smaller problems and fewer repeats (under a minute in all).
        cases: names from CASES (default all); "digits", "memory", "pwl" and "playground" select the extra cases.
        contenders: names from CONTENDERS (default every installed one; relunet always runs).
        repeats: timed repeats per contender (default: the case's, 7 for most; quick 3); pause: seconds before
            each timed run.
        extras: run the extra cases (digits, memory, pwl, playground) when `cases` is None.
    """
    from . import extra, report

    all_names = list(CASES) + list(extra.EXTRAS)
    chosen = all_names if cases is None else list(cases)
    if cases is None and not extras:
        chosen = list(CASES)
    unknown = [c for c in chosen if c not in all_names]
    if unknown:
        from ..engine.errors import RelunetError

        raise RelunetError(f"unknown case {unknown[0]!r}; choose from: {', '.join(all_names)}")
    names = ["relunet"] + [n for n in (contenders or CONTENDERS) if n != "relunet"]
    active = {n: CONTENDERS[n] for n in names if CONTENDERS[n].available()}
    missing = [n for n in names if n not in active]
    pause = (0.02 if quick else 0.1) if pause is None else pause
    result = BenchResult({"machine": {}, "cases": []})
    if missing:
        result.notes.append(f"not installed, left out: {', '.join(missing)} (pip install \"relunet[bench]\" "
                            f"installs every contender)")
    with _one_thread():
        result.document["machine"] = machine_info(active)
        print(report.machine_line(result.document["machine"]), file=out, flush=True)
        for name in chosen:
            if name not in CASES:
                continue
            case = CASES[name]
            problem = case.problem(quick=quick)
            runners = {n: c.prepare(problem) for n, c in active.items()}
            runners = {n: r for n, r in runners.items() if r is not None}
            checks = check_case(case, runners)
            result.checks += checks
            n_rep = repeats or (3 if quick else case.repeats or 7)
            values = time_case(case, runners, problem, n_rep, pause)
            entry = summarize(case, values)
            result.document["cases"].append(entry)
            print(report.case_line(case, entry, checks), file=out, flush=True)
            del runners, problem
            gc.collect()
        for name in chosen:
            if name in extra.EXTRAS:
                entries, lines = extra.EXTRAS[name](quick=quick, contenders=active, seeds=digits_seeds)
                result.document["cases"] += entries
                for line in lines:
                    print(line, file=out, flush=True)
    print(file=out)
    print(report.table(result.document, result.checks), file=out)
    for note in result.notes:
        print(f"note: {note}", file=out)
    print(report.check_summary(result.checks), file=out, flush=True)
    return result
