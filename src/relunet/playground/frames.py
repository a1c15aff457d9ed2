"""Binary frames sent to the page: the maps as compact bytes behind a small header.

Every frame starts with the 8-byte header  b"RN" | version u8 | kind u8 | width u16 | height u16  (little
endian), then 4 float64 for the box [x0, x1, y0, y1], then the kind's payload:

    MAP   (1): classes u8, pad u8[7]; class index u8[h*w]; confidence u8[h*w] (0 = 1/K, 255 = certain)
    UNIT  (2): scale f64 (max |h|); h / scale as int8[h*w] (one hidden unit, hovered)
    CURVE (3): n_breaks u32, pad u32; x f32[w]; f(x) f32[w]; breakpoints f32[n_breaks]  (height = 1)
    THUMBS(4): layers u8, pad u8[7]; units per layer u16[layers] (padded to 8 bytes); then, per unit,
               h / max|h| as int8[h*w] (w = samples, h = 1 for one input)
    MODEL (5): the bytes of a relunet .npz model file (box all zero)
    REGIONS(6): regions R u32, boundary segments S u32, vertices V u32, pad u32; vertex counts u16[R] (padded
               to 4 bytes); polygon vertices f32[V*2] region after region; segments f32[S*4] (x0 y0 x1 y1);
               segment classes u8[S*2]  (the exact overlay of relunet.pwl; width = height = 0)

A MAP, CURVE or REGIONS frame of run B in a comparison (compare.py) has TWIN (0x80) added to its kind.
Metrics, weights, traces and errors go as JSON text messages.
"""

import struct

import numpy as np

MAGIC = b"RN"
VERSION = 1
MAP, UNIT, CURVE, THUMBS, MODEL, REGIONS = 1, 2, 3, 4, 5, 6
TWIN = 0x80
_HEAD = struct.Struct("<2sBBHH4d")


def header(kind, width, height, box):
    return _HEAD.pack(MAGIC, VERSION, kind, width, height, *[float(v) for v in box])


def as_twin(frame):
    """The same frame flagged as run B's (kind | TWIN)."""
    return frame[:3] + bytes([frame[3] | TWIN]) + frame[4:]


def decode_header(data):
    """(kind, width, height, box, payload offset) of a frame."""
    magic, version, kind, w, h, *box = _HEAD.unpack_from(data)
    if magic != MAGIC or version != VERSION:
        raise ValueError("not a relunet playground frame")
    return kind, w, h, box, _HEAD.size


def map_frame(k, conf, n_classes, res, box, twin=False):
    """Decision map: k (res*res,) class indices, conf (res*res,) max probabilities in [1/K, 1]."""
    floor = 1.0 / n_classes
    c = np.clip((conf - floor) / (1.0 - floor), 0.0, 1.0)
    return b"".join([header(MAP | (TWIN if twin else 0), res, res, box), struct.pack("<B7x", n_classes),
                     k.astype(np.uint8).tobytes(), np.rint(c * 255).astype(np.uint8).tobytes()])


def unit_frame(h, res, box):
    """One hidden unit's map: h (res*res,)."""
    scale = float(np.max(np.abs(h))) if h.size else 0.0
    q = np.zeros(h.shape, np.int8) if scale == 0 else np.rint(h / scale * 127).astype(np.int8)
    return b"".join([header(UNIT, res, res, box), struct.pack("<d", scale), q.tobytes()])


def curve_frame(xs, fs, breaks, box, twin=False):
    return b"".join([header(CURVE | (TWIN if twin else 0), len(xs), 1, box), struct.pack("<II", len(breaks), 0),
                     np.asarray(xs, np.float32).tobytes(), np.asarray(fs, np.float32).tobytes(),
                     np.asarray(breaks, np.float32).tobytes()])


def thumbs_frame(values, width, height, box):
    """values: one (width*height, units) array per hidden layer; each unit scaled by its own max |h|."""
    counts = [v.shape[1] for v in values]
    pad = (-2 * len(counts)) % 8
    parts = [header(THUMBS, width, height, box), struct.pack("<B7x", len(counts)),
             struct.pack(f"<{len(counts)}H", *counts), b"\0" * pad]
    for v in values:
        scale = np.max(np.abs(v), axis=0)
        scale[scale == 0] = 1.0
        parts.append(np.ascontiguousarray(np.rint(v / scale * 127).astype(np.int8).T).tobytes())
    return b"".join(parts)


def model_frame(data):
    return header(MODEL, 0, 0, (0, 0, 0, 0)) + data


def regions_frame(counts, vertices, segments, segment_classes, box):
    """Exact regions: counts (R,) vertices per polygon, vertices (V, 2) polygon after polygon,
    segments (S, 2, 2) boundary pieces, segment_classes (S, 2) their class pairs."""
    counts = np.asarray(counts, np.uint16)
    pad = b"\0" * ((-2 * len(counts)) % 4)
    segments = np.asarray(segments, np.float32).reshape(-1, 4)
    return b"".join([header(REGIONS, 0, 0, box),
                     struct.pack("<IIII", len(counts), len(segments), len(vertices), 0),
                     counts.tobytes(), pad, np.asarray(vertices, np.float32).tobytes(), segments.tobytes(),
                     np.asarray(segment_classes, np.uint8).reshape(-1, 2).tobytes()])
