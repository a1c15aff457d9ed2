// Stroke the exact overlay (relunet.pwl) into a 2-D context of w x h pixels covering box: every linear region
// outlined thinly, the decision boundary in bold. Used by the drawing worker (regions-worker.js) and, where
// workers cannot draw (no OffscreenCanvas), on the page itself.
export function strokeRegions(ctx, { counts, vertices: v, segments: s, box }, w, h) {
  const [x0, x1, y0, y1] = box, k = w / 640, sx = w / (x1 - x0), sy = h / (y1 - y0);
  ctx.clearRect(0, 0, w, h);
  ctx.strokeStyle = "rgba(17, 24, 39, 0.28)"; ctx.lineWidth = Math.max(0.6, 0.9 * k);
  ctx.beginPath();
  let i0 = 0;
  for (let i = 0; i < counts.length; i++) {
    const n = counts[i];
    for (let j = 0; j < n; j++) {
      const px = (v[2 * (i0 + j)] - x0) * sx, py = (y1 - v[2 * (i0 + j) + 1]) * sy;
      if (j === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    }
    if (n) ctx.closePath();
    i0 += n;
  }
  ctx.stroke();
  ctx.strokeStyle = "#111827"; ctx.lineWidth = Math.max(2.6, 3.6 * k); ctx.lineCap = "round";
  ctx.beginPath();
  for (let i = 0; i < s.length; i += 4) {
    ctx.moveTo((s[i] - x0) * sx, (y1 - s[i + 1]) * sy); ctx.lineTo((s[i + 2] - x0) * sx, (y1 - s[i + 3]) * sy);
  }
  ctx.stroke();
}
