"""The cases that are not a training rate: accuracy on scikit-learn's digits, memory, the exact geometry's
timings (pwl) and the playground's stream (playground).

digits: the 8x8 digits bundled with scikit-learn (1797 images, no download), pixels scaled to [0, 1],
a 64-64-10 ReLU network, a 25% stratified test split per seed. Every library gets MLPClassifier's default
hyperparameters: Adam (lr 0.001, betas 0.9/0.999, eps 1e-8), batch 200, L2 alpha = 1e-4, at most 200
epochs, stop after the training loss fails to improve by 1e-4 for more than 10 epochs in a row. scikit-learn's
L2 enters the gradient as alpha * W / batch_size, so relunet and PyTorch get weight_decay = alpha / 200.
Each library initialises its own weights (scikit-learn: Glorot uniform; relunet, PyTorch: their defaults)
from the seed, and shuffles with its own generator.

memory: peak traced memory (tracemalloc: every NumPy buffer and Python object) while relunet trains
784-256-10 (float32) on 20,000 tokens, mini-batch 256 with shuffling and per-sample SGD, against the budget
data + parameters + one batch of activations + 50 MB; and proof that the per-sample path allocates nothing
per step: the traced peak of 1,000 steps and of 10,000 steps are the same, and memory in use does not grow.
"""

import statistics
import time
import tracemalloc
import warnings

import numpy as np

ALPHA = 1e-4
BATCH = 200
EPOCHS = 200
TOL = 1e-4
N_ITER_NO_CHANGE = 10
MB = 1024.0 ** 2


def _digits_split(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=seed)
    return Xtr, ytr, Xte, yte


def digits_relunet(Xtr, ytr, Xte, yte, seed):
    import relunet

    model = relunet.MLP([64, 64, 10], seed=seed)
    t0 = time.perf_counter()
    # patience 11: scikit-learn stops when more than 10 epochs in a row fail to improve by tol
    h = relunet.fit(model, Xtr, ytr, epochs=EPOCHS, batch_size=BATCH, optimizer="adam", lr=1e-3,
                    weight_decay=ALPHA / BATCH, patience=N_ITER_NO_CHANGE + 1, min_delta=TOL, seed=seed)
    seconds = time.perf_counter() - t0
    return model.score(Xte, yte), seconds, len(h)


def digits_sklearn(Xtr, ytr, Xte, yte, seed):
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=(64,), alpha=ALPHA, batch_size=BATCH, max_iter=EPOCHS, tol=TOL,
                        n_iter_no_change=N_ITER_NO_CHANGE, random_state=seed)
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning at max_iter
        clf.fit(Xtr, ytr)
    seconds = time.perf_counter() - t0
    return clf.score(Xte, yte), seconds, clf.n_iter_


def digits_torch(Xtr, ytr, Xte, yte, seed):
    import torch

    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(64, 64, dtype=torch.float64), torch.nn.ReLU(),
                                torch.nn.Linear(64, 10, dtype=torch.float64))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=ALPHA / BATCH)
    t0 = time.perf_counter()
    X, y = torch.from_numpy(Xtr), torch.from_numpy(ytr.astype(np.int64))
    n = len(X)
    best, count, epochs = np.inf, 0, 0
    for epochs in range(1, EPOCHS + 1):
        perm = torch.randperm(n, generator=gen)
        total = 0.0
        for s in range(0, n, BATCH):
            idx = perm[s:s + BATCH]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        loss = total / n
        # scikit-learn's stopping rule, verbatim
        count = count + 1 if loss > best - TOL else 0
        best = min(best, loss)
        if count > N_ITER_NO_CHANGE:
            break
    seconds = time.perf_counter() - t0
    with torch.inference_mode():
        acc = float((model(torch.from_numpy(Xte)).argmax(1).numpy() == yte).mean())
    return acc, seconds, epochs


DIGITS_RUNNERS = {"relunet": digits_relunet, "torch": digits_torch, "sklearn": digits_sklearn}


def digits_case(quick=False, contenders=None, seeds=None):
    """Test accuracy and wall time per library over seeds 0..4 (quick: 0..1); returns (entries, lines)."""
    import importlib.util

    if importlib.util.find_spec("sklearn") is None:
        return [], ["digits/64-64-10: skipped (the data set comes with scikit-learn, which is not installed)"]
    seeds = seeds or (2 if quick else 5)
    names = [n for n in DIGITS_RUNNERS if contenders is None or n in contenders]
    acc = {n: [] for n in names}
    secs = {n: [] for n in names}
    epochs = {n: [] for n in names}
    for seed in range(seeds):
        split = _digits_split(seed)
        # rotate the order per seed, as in the timed cases
        for n in names[seed % len(names):] + names[:seed % len(names)]:
            a, s, e = DIGITS_RUNNERS[n](*split, seed)
            acc[n].append(a)
            secs[n].append(s)
            epochs[n].append(e)
    entries = [_summary("digits/64-64-10 accuracy", "accuracy", acc), _summary("digits/64-64-10 time", "s", secs)]
    lines = [f"digits/64-64-10 ({seeds} seeds): " + "; ".join(
        f"{n} mean accuracy {np.mean(acc[n]):.4f}, mean {np.mean(secs[n]):.2f} s, "
        f"{np.mean(epochs[n]):.0f} epochs" for n in names)]
    return entries, lines


def _summary(case, unit, values):
    """A JSON entry: median, min and max per library over the seeds."""
    return {"case": case, "unit": unit, "median": {n: statistics.median(v) for n, v in values.items()},
            "min": {n: min(v) for n, v in values.items()}, "max": {n: max(v) for n, v in values.items()}}


def memory_case(quick=False, contenders=None, seeds=None, n=20000):
    """Peak traced memory of relunet training 784-256-10 float32 on n tokens; returns (entries, lines)."""
    import relunet

    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, 784)).astype(np.float32)
    y = np.argmax(X @ rng.standard_normal((784, 10)).astype(np.float32), axis=1)
    sizes = [784, 256, 10]
    data = X.nbytes + y.nbytes
    model = relunet.MLP(sizes, dtype="float32", seed=0)
    params = model.n_parameters * 4
    entries, lines = [], []
    runs = (("mb256", 256, n), ("sgd1", 1, n // 4 if quick else n))
    for label, batch, n_used in runs:
        acts = 2 * batch * sum(sizes) * 4  # z and h of every layer for one batch
        budget = data + params + acts + 50 * MB
        model.initialize(0)
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            relunet.fit(model, X[:n_used], y[:n_used], epochs=1, batch_size=batch, lr=0.01, seed=0)
            peak = tracemalloc.get_traced_memory()[1] - base
        finally:
            tracemalloc.stop()
        total = data + peak
        entries.append({"case": f"memory/{label}/784-256-10", "unit": "MB", "median": {"relunet": total / MB},
                        "min": {"relunet": total / MB}, "max": {"relunet": total / MB}})
        lines.append(f"memory/{label}/784-256-10: peak {total / MB:.1f} MB = data {data / MB:.1f} MB + "
                     f"{peak / MB:.1f} MB traced during fit over {n_used} tokens; budget {budget / MB:.1f} MB "
                     f"(data + params {params / MB:.1f} + one batch of activations {acts / MB:.2f} + 50): "
                     f"{'within' if total <= budget else 'OVER'}")
    flat = per_sample_flatness()
    lines.append("memory/sgd1 flatness: traced peak above start {p1000:.1f} KB for 1,000 steps, {p10k:.1f} KB for "
                 "10,000 steps; memory in use grew by {grow:.1f} KB over the 10,000 steps: {verdict}".format(**flat))
    return entries, lines


def per_sample_flatness(sizes=(2, 64, 3), steps=10000):
    """Traced memory of the per-sample path: {p1000, p10k, grow} in KB and a verdict ("flat" when the peak of
    10,000 steps is within 4 KB of the peak of 1,000 steps and memory in use grows by under 4 KB)."""
    import relunet

    rng = np.random.default_rng(0)
    n = 2 * steps + 2200
    X, y = relunet.make_dataset("spiral", n=n, classes=sizes[-1], seed=rng)
    model = relunet.MLP(list(sizes), seed=0)
    trainer = relunet.Trainer(model, X, y, lr=0.01, seed=0)
    trainer.step(100)  # warm up: the epoch's order, buffers, lazily created state
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        trainer.step(1000)  # more than one gathered block of tokens: per-call buffers at their full size
        p1000 = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        trainer.step(steps)
        now, peak = tracemalloc.get_traced_memory()
        p10k = peak - base
        grow = now - before
    finally:
        tracemalloc.stop()
    flat = p10k - p1000 < 4096 and grow < 4096
    return {"p1000": p1000 / 1024, "p10k": p10k / 1024, "grow": grow / 1024, "flat": flat,
            "verdict": "flat" if flat else "NOT flat"}


def _single(case, unit, value):
    return {"case": case, "unit": unit, "median": {"relunet": value}, "min": {"relunet": value},
            "max": {"relunet": value}}


def pwl_case(quick=False, contenders=None, seeds=None):
    """Exact geometry (issue 5): regions and boundary of a trained 2-64-64-3 spiral net, knots of a 1-64-64-1 net.

    Targets: regions at most 100 ms, the boundary at most 50 ms more, knots at most 5 ms (medians)."""
    from ..pwl import benchmark

    r = benchmark(quick=quick)
    entries = [_single("pwl/regions/2-64-64-3", "ms", r["regions_ms"]),
               _single("pwl/boundary/2-64-64-3", "ms", r["boundary_ms"]),
               _single("pwl/knots/1-64-64-1", "ms", r["knots_ms"])]
    met = r["regions_ms"] <= 100 and r["boundary_ms"] <= 50 and r["knots_ms"] <= 5
    lines = [f"pwl: {r['regions']:,} exact regions of a trained 2-64-64-3 spiral net (train accuracy "
             f"{r['train_accuracy']:.3f}, bound {r['region_bound']:,}) in {r['regions_ms']:.1f} ms (target 100), "
             f"its boundary ({r['boundary_pieces']} pieces) in {r['boundary_ms']:.1f} ms more (target 50); "
             f"knots of a 1-64-64-1 net ({r['knots_pieces']} pieces) in {r['knots_ms']:.2f} ms (target 5): "
             f"{'within targets' if met else 'OVER target'}"]
    return entries, lines


def playground_case(quick=False, contenders=None, seeds=None):
    """The playground's stream (issue 4): a real server and WebSocket client, 2-64-64-3 on 300 points.

    Targets: at least 20 frames/s of a 100x100 map while training at least 20,000 samples/s; with the exact
    regions overlay on, at least 5 refreshes a second (issue 5)."""
    import importlib.util

    if importlib.util.find_spec("websockets") is None:
        return [], ['playground: left out (its client needs websockets: pip install "relunet[bench]")']
    from ..playground.measure import measure_stream

    seconds = 2.0 if quick else 5.0
    plain = measure_stream(seconds=seconds)
    exact = measure_stream(seconds=seconds, exact=True)
    entries = [_single("playground/frames", "frames/s", plain["frames_per_s"]),
               _single("playground/training", "samples/s", plain["samples_per_s"]),
               _single("playground/exact-refresh", "per s", exact["exact_per_s"])]
    met = plain["frames_per_s"] >= 20 and plain["samples_per_s"] >= 20000 and exact["exact_per_s"] >= 5
    lines = [f"playground: {plain['frames_per_s']:.1f} frames/s of a 100x100 map ({plain['map_bytes']:,} bytes) "
             f"while training {plain['samples_per_s']:,.0f} samples/s (targets 20 and 20,000); exact regions "
             f"overlay refreshed {exact['exact_per_s']:.1f} times/s ({exact['regions']} regions; target 5) with "
             f"the map at {exact['frames_per_s']:.1f} frames/s: {'within targets' if met else 'OVER target'}"]
    return entries, lines


_COMPILE_SCRIPT = """
import time
t0 = time.perf_counter()
import numpy as np
import relunet
t1 = time.perf_counter()
X, y = relunet.make_dataset("spiral", n=200, classes=3, seed=0)
for dtype in ("float64", "float32"):
    model = relunet.MLP([2, 16, 3], dtype=dtype, seed=0)
    relunet.fit(model, X, y, epochs=1, batch_size=1)
    relunet.fit(model, X, y, epochs=1, batch_size=8)
    wide = relunet.MLP([2, 32, 32, 3], dtype=dtype, seed=0)  # wide and long enough for the forward kernel
    wide.predict_proba(np.resize(X, (relunet.engine.train.INFERENCE_ROWS, 2)))
t2 = time.perf_counter()
print(t1 - t0, t2 - t1)
"""


def compile_case(quick=False, contenders=None, seeds=None):
    """Numba's compilation, apart from the timings: `import relunet` in a fresh process; `relunet demo` with
    an empty kernel cache (the first run after install), then from the cache; and (not with --quick) a fresh
    process that trains (float64 and float32, per-sample and mini-batch) and predicts, both ways. Targets:
    demo under 10 s fresh, 3 s cached; `import relunet` under 0.5 s."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    src = str(Path(__file__).resolve().parents[2])
    entries, lines = [], []
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "numba-cache")
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=src + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env.pop("RELUNET_BACKEND", None)

        def timed(args, cwd=tmp):
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True, text=True)
            if r.returncode:
                raise RuntimeError(f"{' '.join(args)} failed: {r.stderr.strip()[-500:]}")
            return time.perf_counter() - t0, r.stdout

        import shutil

        _, out = timed(["-c", "import time; t0 = time.perf_counter(); import relunet; print(time.perf_counter() - t0)"])
        imp = float(out.split()[0])
        entries.append(_single("compile/import relunet", "s", imp))
        if not quick:  # every kernel signature: the longest compilation a user meets
            train_first, out1 = timed(["-c", _COMPILE_SCRIPT])
            train_cached, out2 = timed(["-c", _COMPILE_SCRIPT])
            train_first, train_cached = float(out1.split()[1]), float(out2.split()[1])
            entries += [_single("compile/train+predict first run", "s", train_first),
                        _single("compile/train+predict cached", "s", train_cached)]
            lines.append(f"compile: training (float64 and float32, batch 1 and 8) and prediction in a fresh process "
                         f"{train_first:.1f} s with an empty kernel cache (JIT compilation), {train_cached:.2f} s "
                         f"cached")
            shutil.rmtree(cache, ignore_errors=True)
        demo_first, _ = timed(["-m", "relunet", "demo", "--out", os.path.join(tmp, "demo1")])
        demo_cached, _ = timed(["-m", "relunet", "demo", "--out", os.path.join(tmp, "demo2")])
    entries += [_single("compile/demo first run", "s", demo_first),
                _single("compile/demo cached", "s", demo_cached)]
    met = imp < 0.5 and demo_first < 10 and demo_cached < 3
    lines.append(f"compile: import relunet {imp:.2f} s (target 0.5); relunet demo {demo_first:.1f} s on a fresh "
                 f"install, its kernels compiled (target 10), {demo_cached:.1f} s cached (target 3): "
                 f"{'within targets' if met else 'OVER target'}")
    return entries, lines


#: The extra cases by name (run after the timed cases); each returns (JSON entries, report lines).
EXTRAS = {"digits": digits_case, "memory": memory_case, "pwl": pwl_case, "playground": playground_case,
          "compile": compile_case}
