// Binary frames from the server (see frames.py): maps, curves, thumbnails, models, exact regions.
export const MAP = 1, UNIT = 2, CURVE = 3, THUMBS = 4, MODEL = 5, REGIONS = 6, TWIN = 0x80;

// Header: "RN" u8 version, u8 kind, u16 width, u16 height, 4 x f64 box  (see frames.py)
export function decodeFrame(buf) {
  const dv = new DataView(buf);
  if (dv.getUint8(0) !== 82 || dv.getUint8(1) !== 78) throw new Error("not a relunet frame");
  const kind = dv.getUint8(3) & ~TWIN, twin = (dv.getUint8(3) & TWIN) !== 0, w = dv.getUint16(4, true), h = dv.getUint16(6, true);
  const box = [0, 1, 2, 3].map(i => dv.getFloat64(8 + 8 * i, true));
  let off = 40;
  const f = { kind, twin, w, h, box };
  if (kind === MAP) {
    f.classes = dv.getUint8(off); off += 8;
    f.cls = new Uint8Array(buf, off, w * h); f.conf = new Uint8Array(buf, off + w * h, w * h);
  } else if (kind === UNIT) {
    f.scale = dv.getFloat64(off, true); off += 8;
    f.values = new Int8Array(buf, off, w * h);
  } else if (kind === CURVE) {
    const nb = dv.getUint32(off, true); off += 8;
    f.xs = new Float32Array(buf.slice(off, off + 4 * w)); off += 4 * w;
    f.fs = new Float32Array(buf.slice(off, off + 4 * w)); off += 4 * w;
    f.breaks = new Float32Array(buf.slice(off, off + 4 * nb));
  } else if (kind === THUMBS) {
    const L = dv.getUint8(off); off += 8;
    const counts = [];
    for (let i = 0; i < L; i++) counts.push(dv.getUint16(off + 2 * i, true));
    off += 2 * L + ((8 - (2 * L) % 8) % 8);
    f.layers = counts.map(n => {
      const units = [];
      for (let j = 0; j < n; j++) { units.push(new Int8Array(buf, off, w * h)); off += w * h; }
      return units;
    });
  } else if (kind === MODEL) {
    f.data = buf.slice(off);
  } else if (kind === REGIONS) {
    const R = dv.getUint32(off, true), S = dv.getUint32(off + 4, true), V = dv.getUint32(off + 8, true); off += 16;
    f.counts = new Uint16Array(buf.slice(off, off + 2 * R)); off += 2 * R + ((4 - (2 * R) % 4) % 4);
    f.vertices = new Float32Array(buf.slice(off, off + 8 * V)); off += 8 * V;
    f.segments = new Float32Array(buf.slice(off, off + 16 * S)); off += 16 * S;
    f.segmentClasses = new Uint8Array(buf.slice(off, off + 2 * S));
  }
  return f;
}
