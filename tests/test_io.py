"""Model files: round trip, atomic writes, and clear errors for truncated, foreign or tampered files."""

import io
import json
import os
import zipfile

import numpy as np
import pytest

import relunet
from relunet import io as rio
from relunet.engine import MLP, RelunetError


def _trained(sizes=(2, 6, 3), **kw):
    X, y = relunet.make_dataset("gaussians", seed=0)
    model = MLP(list(sizes), seed=1, **kw)
    relunet.fit(model, X, y, epochs=3)
    return model, X


@pytest.mark.parametrize("kw", [dict(), dict(dtype="float32"), dict(activation=["tanh"]),
                                dict(activation="leaky_relu")])
def test_save_load_round_trip_gives_identical_predictions(tmp_path, kw):
    model, X = _trained(**kw)
    model.box = [-2.0, 2.0, -2.0, 2.0]
    path = tmp_path / "m.npz"
    relunet.save(model, path)
    back = relunet.load(path)
    assert back.sizes == model.sizes and back.activation_names == model.activation_names
    assert back.dtype == model.dtype and back.box == model.box
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    for a, b in zip(back.get_weights(), model.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


def test_file_layout_is_plain_arrays_and_json_meta(tmp_path):
    model, _ = _trained()
    relunet.save(model, tmp_path / "m.npz", training={"lr": 0.1})
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == ["W1", "W2", "b1", "b2", "meta"]
        assert npz["W1"].shape == (6, 2)  # (out, in)
        meta = json.loads(str(npz["meta"][()]))
    assert meta["sizes"] == [2, 6, 3] and meta["task"] == "classification" and meta["classes"] == [0, 1, 2]
    assert meta["training"] == {"lr": 0.1} and meta["dtype"] == "float64"


def test_regression_model_round_trip(tmp_path):
    X, y = relunet.make_dataset("abs", seed=0)
    model = MLP([1, 4, 1], task="regression", seed=0)
    relunet.fit(model, X, y, epochs=2)
    relunet.save(model, tmp_path / "r.npz")
    np.testing.assert_array_equal(relunet.load(tmp_path / "r.npz").predict(X), model.predict(X))


def test_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    model, _ = _trained()
    path = tmp_path / "m.npz"
    relunet.save(model, path)
    before = path.read_bytes()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(rio.os, "replace", broken_replace)
    other = MLP([2, 6, 3], seed=99)
    with pytest.raises(RelunetError, match="cannot write .*disk full"):
        relunet.save(other, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


def test_missing_file(tmp_path):
    with pytest.raises(RelunetError, match="does not exist"):
        relunet.load(tmp_path / "nope.npz")


def test_truncated_file(tmp_path):
    model, _ = _trained()
    data = rio.to_bytes(model)
    (tmp_path / "t.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(RelunetError, match="not a readable relunet model"):
        relunet.load(tmp_path / "t.npz")


def test_foreign_files(tmp_path):
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(RelunetError, match="not a readable relunet model"):
        relunet.load(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", a=np.ones(3))
    with pytest.raises(RelunetError, match="no meta entry"):
        relunet.load(tmp_path / "other.npz")


def _rewrite(src, dst, change):
    with np.load(src, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    change(arrays)
    np.savez(dst, **arrays)


def test_tampered_files_are_refused(tmp_path):
    model, _ = _trained()
    good = tmp_path / "m.npz"
    relunet.save(model, good)

    def wrong_shape(a):
        a["W1"] = np.ones((5, 2))

    def extra_array(a):
        a["W9"] = np.ones(2)

    def bad_meta(a):
        meta = json.loads(str(a["meta"][()]))
        meta["sizes"] = [2, 7, 3]
        a["meta"] = np.array(json.dumps(meta))

    def nan_weights(a):
        a["b2"] = np.array([0.0, np.nan, 1.0])

    def not_json(a):
        a["meta"] = np.array("{not json")

    for change, message in [(wrong_shape, "W1 has shape"), (extra_array, "does not match its description"),
                            (bad_meta, "W1 has shape"), (nan_weights, "NaN or infinite"),
                            (not_json, "unreadable meta")]:
        bad = tmp_path / f"{change.__name__}.npz"
        _rewrite(good, bad, change)
        with pytest.raises(RelunetError, match=message):
            relunet.load(bad)


def test_pickled_content_is_never_executed(tmp_path):
    marker = tmp_path / "executed"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    arr = np.empty(1, dtype=object)
    arr[0] = Evil()
    buf = io.BytesIO()
    np.savez(buf, meta=np.array("{}"), W1=arr)
    (tmp_path / "evil.npz").write_bytes(buf.getvalue())
    with pytest.raises(RelunetError):
        relunet.load(tmp_path / "evil.npz")
    assert not marker.exists()


def test_zip_with_garbage_member(tmp_path):
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as zf:
        zf.writestr("meta.npy", b"garbage")
    with pytest.raises(RelunetError):
        relunet.load(tmp_path / "z.npz")


def test_copy_and_astype_keep_weights_box_and_training_record():
    model, X = _trained()
    model.box, model.training = [0.0, 1.0, 0.0, 1.0], {"lr": 0.1}
    for other in (model.copy(), model.astype("float32")):
        assert other.box == model.box and other.training == model.training and other is not model
        np.testing.assert_allclose(other.predict_proba(X), model.predict_proba(X), rtol=1e-5)
    twin = model.copy()
    twin.linears[0].W[0, 0] += 1.0
    assert twin.linears[0].W[0, 0] != model.linears[0].W[0, 0]
