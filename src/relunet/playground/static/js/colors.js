// Class colours (10 classes) and the blends used for maps.
export const PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea",
                        "#92400e", "#db2777", "#4b5563", "#a3a300", "#0891b2"];
export const POS = [37, 99, 235], NEG = [234, 88, 12];

export function rgb(hex) {
  const v = parseInt(hex.slice(1), 16);
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

// lut[k][c] = [r, g, b] for class k at confidence byte c: white at the class-free level, the class colour when sure.
export const CLASS_LUT = PALETTE.map(hex => {
  const [r, g, b] = rgb(hex);
  const out = new Uint8ClampedArray(256 * 3);
  for (let c = 0; c < 256; c++) {
    const t = 0.12 + 0.5 * (c / 255);
    out[3 * c] = 255 + (r - 255) * t; out[3 * c + 1] = 255 + (g - 255) * t; out[3 * c + 2] = 255 + (b - 255) * t;
  }
  return out;
});

// A signed value in [-1, 1] as white -> blue (positive) or white -> orange (negative).
export function signed(v) {
  const c = v >= 0 ? POS : NEG, t = Math.min(1, Math.abs(v));
  return [255 + (c[0] - 255) * t, 255 + (c[1] - 255) * t, 255 + (c[2] - 255) * t];
}

export function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (typeof v !== "number") return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return v.toFixed(digits);
}

export function compact(v) {
  if (v >= 1e6) return (v / 1e6).toFixed(2) + "M";
  if (v >= 1e4) return (v / 1e3).toFixed(1) + "k";
  return String(Math.round(v));
}
