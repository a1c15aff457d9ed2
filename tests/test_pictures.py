"""The pictures teach by themselves: legends, axis labels, the linear classifier's cells, and relunet animate."""

import numpy as np

from relunet import MLP
from relunet.data import bounding_box, make_dataset


def _legend_texts(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_two_layer_picture_names_hinges_boundary_and_classes():
    from relunet.exercises import get
    from relunet.plot import draw_regions, new_figure

    X, y = make_dataset("lecture", seed=0)
    model = get("lecture").reference()
    ax = new_figure().subplots()
    draw_regions(ax, model, X, y, title="t")
    texts = _legend_texts(ax)
    assert texts[:2] == ["class 0", "class 1"]
    assert "decision boundary (exact)" in texts
    assert "hinge line w_j x + b_j = 0 of each hidden unit" in texts
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    # The two hinge lines are drawn dashed, as the legend says.
    dashed = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert len(dashed) == 2


def test_linear_classifier_shows_every_convex_cell_even_off_the_data():
    from relunet.plot import draw_regions, new_figure, PALETTE
    from matplotlib.colors import to_rgb

    X, y = make_dataset("lecture", seed=0)
    box = bounding_box(X)
    model = MLP([2, 2], seed=0)
    # class 1 wins only where x1 + x2 > 5: far from the data
    model.set_weights([np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([0.0, -5.0])])
    assert set(model.predict(X)) == {0}
    ax = new_figure().subplots()
    shown = draw_regions(ax, model, X, y, box=box, title="linear classifier")
    assert "class 1 wins nowhere near the data" in ax.get_title()
    x0, x1, y0, y1 = shown
    assert x1 + y1 > 5 and shown[0] < box[0]  # the view reaches class 1's cell
    img = np.asarray(ax.images[0].get_array())[..., :3].reshape(-1, 3)
    # each class's colour (at full confidence) appears in the picture
    for k in (0, 1):
        target = 1.0 - 0.7 * (1.0 - np.array(to_rgb(PALETTE[k])))
        assert np.min(np.abs(img - target).sum(axis=1)) < 0.05
    assert "the data's area" in _legend_texts(ax)
    assert any("convex cell" in t.get_text() for t in ax.texts)
    assert not any("power diagram" in t.get_text() for t in ax.texts)


def test_regions_figure_has_labels_and_legend(monkeypatch, tmp_path):
    import relunet.pwl.plot as pp

    X, y = make_dataset("spiral", n=60, seed=0)
    model = MLP([2, 6, 6, 3], seed=0)
    model.box = bounding_box(X)
    figs = []
    monkeypatch.setattr(pp, "save_figure", lambda fig, path: figs.append(fig))
    monkeypatch.setattr(pp._mpl(), "close", lambda fig: None)
    pp.plot_regions(model, X, y, tmp_path / "r.png")
    ax = figs[0].axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    texts = _legend_texts(ax)
    assert texts[:3] == ["class 0", "class 1", "class 2"]
    assert {"decision boundary (exact)", "hinge line w_j x + b_j = 0 of each first-layer unit",
            "edges of the linear regions"} <= set(texts)


def test_animate_writes_the_requested_frames(run_cli, tmp_path):
    from PIL import Image

    r = run_cli("animate", "--data", "lecture", "--hidden", "8", "--epochs", "30", "--frames", "4", "--dpi", "40",
                "--out", "run.gif")
    assert r.returncode == 0, r.stderr
    im = Image.open(tmp_path / "run.gif")
    assert im.n_frames == 4 and im.size == (9 * 40, 4 * 40)
    first = np.asarray(im.convert("RGB"), dtype=int)
    im.seek(3)
    last = np.asarray(im.convert("RGB"), dtype=int)
    # the map (left half) changes as the boundary moves; the frames are not all the same
    assert np.abs(first[:, :180] - last[:, :180]).sum(axis=2).astype(bool).mean() > 0.05


def test_animate_checks_its_output_first(tmp_path, capsys, monkeypatch):
    import shutil

    from relunet.cli import main

    monkeypatch.chdir(tmp_path)
    cases = {("--out", "run.png"): "cannot write an animation as '.png' (run.png); use .gif or .mp4",
             ("--out", "no/run.gif"): "folder",
             ("--frames", "500", "--out", "run.gif"): "--frames must be from 2 to epochs + 1 = 201, got 500",
             ("--lr", "-1", "--out", "run.gif"): "--lr must be a positive number, got -1.0"}
    for extra, message in cases.items():
        assert main(["animate", "--data", "lecture", *extra]) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1
    (tmp_path / "pts.gif").write_text("x1,x2,y\n0,0,0\n1,1,1\n0,1,1\n")
    assert main(["animate", "--data", "pts.gif", "--out", "pts.gif"]) == 2
    assert "--out pts.gif is the input --data pts.gif" in capsys.readouterr().err
    code = main(["animate", "--data", "lecture", "--epochs", "2", "--frames", "2", "--dpi", "30", "--out", "r.mp4"])
    if shutil.which("ffmpeg"):
        assert code == 0 and (tmp_path / "r.mp4").stat().st_size > 0
    else:
        assert code == 2 and capsys.readouterr().err.strip() == (
            "relunet: error: cannot write r.mp4: MP4 needs ffmpeg, which is not installed; write a .gif instead")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pts.gif"] + (["r.mp4"] if shutil.which("ffmpeg") else [])
