"""relunet regions / knots / approx through the real command line, the plots, the region-count
callback and the benchmark entry point."""

import json

import numpy as np
import pytest

import relunet
from relunet.data import bounding_box
from relunet.pwl import RegionCounter, benchmark, knots, linear_regions

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Small trained models saved as files: 2-D classifier, 1-D regression, tanh, no box."""
    d = tmp_path_factory.mktemp("pwl_models")
    X, y = relunet.make_dataset("spiral", seed=0)
    spiral = relunet.MLP([2, 16, 16, 3], seed=0)
    relunet.fit(spiral, X, y, epochs=30, batch_size=32, optimizer="adam", lr=0.01)
    spiral.box = bounding_box(X)
    relunet.save(spiral, d / "spiral.npz")
    Xs, ys = relunet.make_dataset("sine", seed=0)
    sine = relunet.MLP([1, 12, 12, 1], task="regression", seed=0)
    relunet.fit(sine, Xs, ys, epochs=20, batch_size=16, optimizer="adam", lr=0.01)
    sine.box = bounding_box(Xs)
    relunet.save(sine, d / "sine.npz")
    relunet.save(relunet.MLP([2, 4, 2], "tanh"), d / "tanh.npz", box=[0, 1, 0, 1])
    relunet.save(relunet.MLP([2, 4, 2]), d / "nobox.npz")
    return {"dir": d, "spiral": spiral, "sine": sine, "X": X, "y": y}


def test_regions_command_json_and_plot(run_cli, models, tmp_path):
    path = models["dir"] / "spiral.npz"
    r = run_cli("regions", "--model", path, "--json", "out.json", "--plot", "out.png", "--data", "spiral",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "out.json").read_text())
    part = linear_regions(models["spiral"])
    assert doc["count"] == len(doc["regions"]) == len(part)
    assert f"{len(part)} linear regions" in r.stdout and " ms" in r.stdout and "bound" in r.stdout
    assert f"{doc['boundary_pieces']} boundary pieces" in r.stdout
    assert doc["box"] == pytest.approx(models["spiral"].box)
    # The JSON regions are exact: their shoelace areas sum to the box, and each map is the network.
    total = 0.0
    for reg in doc["regions"][:50]:
        P = np.array(reg["polygon"])
        total += 0.5 * np.sum(P[:, 0] * np.roll(P[:, 1], -1) - np.roll(P[:, 0], -1) * P[:, 1])
        x = P.mean(axis=0)
        np.testing.assert_allclose(np.array(reg["A"]) @ x + reg["c"], models["spiral"].decision_function(x[None])[0],
                                   atol=1e-9)
    areas = [0.5 * abs(np.sum(np.array(g["polygon"])[:, 0] * np.roll(np.array(g["polygon"])[:, 1], -1)
                               - np.roll(np.array(g["polygon"])[:, 0], -1) * np.array(g["polygon"])[:, 1]))
             for g in doc["regions"]]
    x0, x1, y0, y1 = doc["box"]
    assert abs(sum(areas) - (x1 - x0) * (y1 - y0)) < 1e-9 * (x1 - x0) * (y1 - y0)
    for piece in doc["boundary"]:
        i, j = piece["classes"]
        z = models["spiral"].decision_function(np.array(piece["polyline"]))
        assert np.abs(z[:, i] - z[:, j]).max() < 1e-9 * max(1, np.abs(z).max())
    assert (tmp_path / "out.png").read_bytes()[:8] == PNG
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_regions_command_box(run_cli, models, tmp_path):
    for box in (["--box=-0.5,0.5,-0.5,0.5"], ["--box", "-0.5,0.5,-0.5,0.5"], ["--box", "-.5,.5,-5e-1,5E-1"]):
        r = run_cli("regions", "--model", models["dir"] / "spiral.npz", *box, "--json", "b.json", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        doc = json.loads((tmp_path / "b.json").read_text())
        assert doc["box"] == [-0.5, 0.5, -0.5, 0.5]
        assert doc["count"] == len(linear_regions(models["spiral"], [-0.5, 0.5, -0.5, 0.5]))


def test_regions_command_box_from_data(run_cli, models, tmp_path):
    r = run_cli("regions", "--model", models["dir"] / "nobox.npz", "--data", "moons", "--json", "m.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    X, _ = relunet.make_dataset("moons")
    assert json.loads((tmp_path / "m.json").read_text())["box"] == pytest.approx(bounding_box(X))


BAD = [
    (["--model", "sine.npz"], "two inputs"),
    (["--model", "tanh.npz"], "not piece-wise linear"),
    (["--model", "spiral.npz", "--box", "1,0,0,1"], "x0 < x1"),
    (["--model", "nobox.npz"], "no stored data box"),
    (["--model", "spiral.npz", "--box", "0,1,0"], "4 numbers"),
    (["--model", "spiral.npz", "--box", "a,b,c,d"], "numbers"),
    (["--model", "missing.npz"], "does not exist"),
    (["--model", "spiral.npz", "--json", "no/such/folder/x.json"], "does not exist"),
]


@pytest.mark.parametrize("args,message", BAD[:4])
def test_regions_command_bad_input(run_cli, models, args, message):
    r = run_cli("regions", *args, cwd=models["dir"])
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("relunet: error: ") and message in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_regions_command_more_bad_input_in_process(models, capsys, monkeypatch):
    # The same entry point as the subprocess runs above, without paying a Python start-up per case.
    from relunet.cli import main

    monkeypatch.chdir(models["dir"])
    for args, message in BAD:
        assert main(["regions", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("relunet: error: ") and message in err and len(err.strip().splitlines()) == 1


def test_knots_command(run_cli, models, tmp_path):
    r = run_cli("knots", "--model", models["dir"] / "sine.npz", "--interval", "-1,6", "--json", "k.json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "k.json").read_text())
    k = knots(models["sine"], (-1, 6))
    np.testing.assert_array_equal(doc["knots"], k.knots)
    assert doc["pieces"] == k.pieces and f"{k.pieces} linear pieces" in r.stdout
    bad = run_cli("knots", "--model", models["dir"] / "spiral.npz", cwd=tmp_path)
    assert bad.returncode == 2 and "one input" in bad.stderr
    bad = run_cli("knots", "--model", models["dir"] / "sine.npz", "--interval", "2,1", cwd=tmp_path)
    assert bad.returncode == 2 and "relunet: error:" in bad.stderr


def test_approx_command(run_cli, tmp_path):
    r = run_cli("approx", "--function", "sine", "--pieces", "4,128", "--train", "--epochs", "3",
                "--json", "a.json", "--plot", "a.png", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rows = json.loads((tmp_path / "a.json").read_text())["rows"]
    assert [row["pieces"] for row in rows] == [4, 128]
    assert abs(rows[1]["error_n2"] - 4.935) < 0.05 and "trained_error" in rows[1]
    assert "4.93" in r.stdout
    assert (tmp_path / "a.png").read_bytes()[:8] == PNG
    bad = run_cli("approx", "--function", "cosh", cwd=tmp_path)
    assert bad.returncode == 2
    bad = run_cli("approx", "--pieces", "4,x", cwd=tmp_path)
    assert bad.returncode == 2 and "--pieces" in bad.stderr


def test_draw_exact_and_plots(models, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from relunet.pwl.plot import draw_exact, plot_region_history, plot_regions

    fig, ax = plt.subplots()
    part, bnd = draw_exact(ax, models["spiral"])
    assert len(part) == len(linear_regions(models["spiral"]))
    # One outline per region, one fill per pure region or exact cell, the boundary, the hinges.
    assert len(ax.collections) == 4
    assert len(ax.collections[1].get_paths()) == len(part)
    assert len(ax.collections[3].get_segments()) == bnd.count
    plt.close(fig)
    plot_regions(models["spiral"], models["X"], models["y"], tmp_path / "r.png")
    assert (tmp_path / "r.png").read_bytes()[:8] == PNG
    lin = relunet.MLP([2, 3], seed=0)
    fig, ax = plt.subplots()
    draw_exact(ax, lin, [-2, 2, -2, 2])
    assert any("convex cell" in t.get_text() for t in ax.texts)
    assert not any("power diagram" in t.get_text() for t in ax.texts)
    plt.close(fig)
    from relunet.pwl.plot import draw_knots

    fig, ax = plt.subplots()
    k = draw_knots(ax, models["sine"])
    x, v = ax.lines[0].get_data()
    np.testing.assert_allclose(v, models["sine"].predict(np.asarray(x)[:, None]), atol=1e-9)
    assert len(x) == k.pieces + 1
    plt.close(fig)
    counter = RegionCounter(every=2)
    relunet.fit(models["spiral"].copy(), models["X"], models["y"], epochs=4, batch_size=64, optimizer="adam",
                lr=0.01, callbacks=[counter])
    plot_region_history(counter, tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == PNG


def test_region_counter_counts_exactly(models):
    X, y = models["X"], models["y"]
    model = relunet.MLP([2, 8, 8, 3], seed=1)
    counter = RegionCounter(box=[-1, 1, -1, 1])
    snapshots = []
    relunet.fit(model, X, y, epochs=3, batch_size=32, optimizer="adam", lr=0.05,
                callbacks=[counter, lambda tr, rec: snapshots.append(tr.model.copy())])
    assert counter.epochs == [0, 1, 2, 3] and counter.losses[0] is None
    assert counter.counts[1:] == [len(linear_regions(m, [-1, 1, -1, 1])) for m in snapshots]
    assert counter.counts[0] == len(linear_regions(relunet.MLP([2, 8, 8, 3], seed=1), [-1, 1, -1, 1]))
    Xs, ys = relunet.make_dataset("sine", n=50, seed=0)
    one = RegionCounter()
    relunet.fit(relunet.MLP([1, 6, 1], task="regression"), Xs, ys, epochs=2, callbacks=[one])
    assert len(one.counts) == 3 and all(1 <= c <= 7 for c in one.counts)


def test_benchmark_quick():
    result = benchmark(quick=True)
    for key in ("regions_ms", "boundary_ms", "knots_ms"):
        assert result[key] > 0
    assert result["regions"] <= result["region_bound"] and result["knots_pieces"] <= result["knots_bound"]
    assert result["train_accuracy"] > 0.5
