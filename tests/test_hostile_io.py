"""Tampered and hostile model files: one RelunetError sentence each, decided from the zip directory and the
arrays' .npy headers before anything large is allocated or decompressed (tracemalloc measures that)."""

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

import relunet
from relunet.engine.errors import RelunetError
from relunet.io import LIMITS, Limits, from_bytes, load, model_meta, to_bytes


def npy_bytes(arr):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asarray(arr), allow_pickle=False)
    return buf.getvalue()


def meta_entry(meta):
    return npy_bytes(np.array(json.dumps(meta)))


def model_zip(meta, arrays, compress=zipfile.ZIP_STORED, raw=None):
    """A .npz built by hand: `arrays` {name: ndarray}, `raw` {name: bytes} written as they are."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compress) as zf:
        if meta is not None:
            zf.writestr("meta.npy", meta_entry(meta) if isinstance(meta, dict) else meta)
        for name, arr in arrays.items():
            zf.writestr(f"{name}.npy", npy_bytes(arr))
        for name, data in (raw or {}).items():
            zf.writestr(f"{name}.npy", data)
    return buf.getvalue()


def small_meta(shape=(2, 3, 2), **changes):
    m = model_meta(relunet.MLP([2, 3, 2], seed=0))
    m["sizes"] = list(shape)
    m.update(changes)
    return m


def refused(data, match, limits=LIMITS, peak_mb=20):
    """from_bytes(data) must raise RelunetError matching `match`, allocating at most `peak_mb` MB meanwhile."""
    tracemalloc.start()
    try:
        with pytest.raises(RelunetError, match=match) as e:
            from_bytes(data, "f.npz", limits)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < peak_mb * 2**20, f"{peak / 2**20:.0f} MB allocated before the error"
    assert "\n" not in str(e.value)
    return str(e.value)


def test_a_good_file_still_round_trips(tmp_path):
    model = relunet.MLP([2, 5, 3], seed=1)
    model.box = [-1.0, 1.0, -2.0, 2.0]
    back = from_bytes(to_bytes(model))
    for a, b in zip(model.linears, back.linears):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)
    assert back.box == model.box
    fortran = {"W1": np.asfortranarray(model.linears[0].W), "b1": model.linears[0].b,
               "W2": np.asfortranarray(model.linears[1].W), "b2": model.linears[1].b}
    back = from_bytes(model_zip(model_meta(model), fortran))
    np.testing.assert_array_equal(back.linears[0].W, model.linears[0].W)


def test_metadata_claiming_a_60_million_unit_layer_is_refused_before_allocating():
    data = model_zip(small_meta(shape=(2, 60_000_000, 2)), {"W1": np.zeros((3, 2)), "b1": np.zeros(3),
                                                              "W2": np.zeros((2, 3)), "b2": np.zeros(2)})
    assert len(data) < 4000
    assert "at most" in refused(data, "60,000,000 units")


def test_metadata_that_disagrees_with_the_arrays_shapes():
    arrays = {"W1": np.zeros((4, 2)), "b1": np.zeros(4), "W2": np.zeros((2, 4)), "b2": np.zeros(2)}
    refused(model_zip(small_meta(), arrays), r"W1 has shape \(4, 2\).*expected \(3, 2\)")
    refused(model_zip(small_meta(shape=(2, 3, 3, 2)), arrays), "does not match its description")
    arrays = {"W1": np.zeros((3, 2), np.int64), "b1": np.zeros(3), "W2": np.zeros((2, 3)), "b2": np.zeros(2)}
    refused(model_zip(small_meta(), arrays), "expected .* floats")
    arrays = {"W1": np.zeros((3, 2), np.float16), "b1": np.zeros(3), "W2": np.zeros((2, 3)), "b2": np.zeros(2)}
    refused(model_zip(small_meta(), arrays), "expected .* floats")


def test_a_npy_header_that_lies_about_its_size():
    W1 = npy_bytes(np.zeros((3, 2)))
    lying = W1.replace(b"(3, 2)", b"(3, 9)")        # the header promises 27 numbers, the entry holds 6
    raw = {"W1": lying, "b1": npy_bytes(np.zeros(3)), "W2": npy_bytes(np.zeros((2, 3))), "b2": npy_bytes(np.zeros(2))}
    refused(model_zip(small_meta(shape=(9, 3, 2)), {}, raw=raw), "header says 216 bytes of data but the entry holds 48")
    raw["W1"] = W1[:-8]                              # truncated data behind a true header
    refused(model_zip(small_meta(), {}, raw=raw), "header says 48 bytes")
    raw["W1"] = b"\x93NUMPY\x01\x00\xff\xffgarbage"  # header length beyond the entry
    refused(model_zip(small_meta(), {}, raw=raw), "unreadable .npy header")


def test_a_zip_bomb_is_refused_before_it_inflates():
    # 40 MB of zeros deflate to about 40 KB; the description claims a net that would hold them
    big = np.zeros((2, 1_000_000))
    data = model_zip(small_meta(shape=(2, 1_000_000, 2)),
                     {"W1": big.T, "b1": np.zeros(1_000_000), "W2": big, "b2": np.zeros(2)},
                     compress=zipfile.ZIP_DEFLATED)
    del big
    assert len(data) < 200_000
    playground = Limits(max_units=256)
    refused(data, "1,000,000 units", limits=playground)
    # default limits allow those sizes: a W1 entry that inflates beyond what its header says is still refused
    inflated = npy_bytes(np.zeros((3, 2))) + bytes(50_000_000)
    raw = {"W1": inflated, "b1": npy_bytes(np.zeros(3)), "W2": npy_bytes(np.zeros((2, 3))), "b2": npy_bytes(np.zeros(2))}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("meta.npy", meta_entry(small_meta()))
        for k, v in raw.items():
            zf.writestr(f"{k}.npy", v)
    refused(buf.getvalue(), "header says 48 bytes of data but the entry holds 50,000,048")


def test_deeply_nested_json_and_oversized_descriptions():
    deep = {"format": "relunet-model", "version": 1, "training": json.loads("[" * 50 + "]" * 50)}
    refused(model_zip(dict(small_meta(), **deep), {}), "nested more than 16 deep")
    text = '{"format": "relunet-model", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    refused(model_zip(npy_bytes(np.array(text)), {}), "nested too deeply|nested more than")
    refused(model_zip(npy_bytes(np.array("x" * 2_000_000)), {}), "description has .* bytes")
    refused(model_zip(npy_bytes(np.array("not json")), {}), "unreadable meta entry")
    refused(model_zip(npy_bytes(np.ones(3)), {}), "unreadable meta entry")


@pytest.mark.parametrize("box", ["abc", [1, 2, 3], [0, "a", 0, 1], [1, 0, 0, 1], [0, 1e400, 0, 1],
                                 [0, None, 0, 1], [[0, 1], [0, 1]], {"a": 1}, [True, 2, 0, 1]])
def test_a_bad_stored_box(box):
    model = relunet.MLP([2, 3, 2], seed=0)
    arrays = {f"{p}{i}": getattr(lin, p) for i, lin in enumerate(model.linears, 1) for p in "Wb"}
    meta = small_meta()
    meta["box"] = box
    if box == [0, 1e400, 0, 1]:
        raw_meta = npy_bytes(np.array(json.dumps(meta).replace("Infinity", "1e400")))
        refused(model_zip(raw_meta, arrays), "invalid box")
    else:
        refused(model_zip(meta, arrays), "invalid box")


@pytest.mark.parametrize("change, match", [
    ({"sizes": "abc"}, "sizes must be positive integers"),
    ({"sizes": [2, -3, 2]}, "sizes must be positive integers"),
    ({"sizes": [2, True, 2]}, "sizes must be positive integers"),
    ({"sizes": [2] * 100}, "at most 64"),
    ({"activations": "relu"}, "invalid description"),
    ({"activations": ["foo"]}, "invalid description"),
    ({"task": "dance"}, "invalid description"),
    ({"dtype": "object"}, "invalid description"),
    ({"classes": [0, 1, 2, 3, 4]}, "invalid description"),
    ({"version": 99}, "format version 99"),
    ({"format": "other"}, "not a relunet model"),
])
def test_invalid_descriptions(change, match):
    model = relunet.MLP([2, 3, 2], seed=0)
    arrays = {f"{p}{i}": getattr(lin, p) for i, lin in enumerate(model.linears, 1) for p in "Wb"}
    refused(model_zip(small_meta(**change), arrays), match)


def test_foreign_files_on_disk(tmp_path):
    np.save(tmp_path / "w.npy", np.ones(3))
    with pytest.raises(RelunetError, match=r"is a \.npy file"):
        load(tmp_path / "w.npy")
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(RelunetError, match="not a .npz archive"):
        load(tmp_path / "empty.npz")
    with pytest.raises(RelunetError, match="is a folder"):
        load(tmp_path)
    with pytest.raises(RelunetError, match="not a regular file"):
        load("/dev/zero")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(200):
            zf.writestr(f"a{i}.npy", b"")
    with pytest.raises(RelunetError, match="holds 200 entries"):
        from_bytes(buf.getvalue())
    with pytest.raises(RelunetError, match="bytes"):
        from_bytes(b"PK" + bytes(100), limits=Limits(max_file_bytes=50))
