// The main view: decision map (or a hovered unit's map, or the regression curve), axes, points, hinge lines.
import { CLASS_LUT, PALETTE, signed, fmt } from "./colors.js";
import { MAP, UNIT, CURVE } from "./frames.js";

const M = { l: 46, r: 10, t: 8, b: 30 };   // plot margins in CSS pixels

export function niceTicks(lo, hi, n = 6) {
  const span = hi - lo;
  if (!(span > 0)) return [];
  const raw = span / n, p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * p).find(s => s >= raw) || 10 * p;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function tickLabel(v, ticks) {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  const d = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(d);
}

export class MainView {
  constructor(canvas, tip, app) {
    this.canvas = canvas; this.tip = tip; this.app = app;
    this.ctx = canvas.getContext("2d");
    this.box = [-1.5, 1.5, -1.5, 1.5];
    this.points = []; this.task = "classification"; this.frame = null; this.hinges = null;
    this.discretize = false; this.showHinges = true; this.highlight = null; this.traceMark = null;
    this.regions = null;   // the exact overlay (a REGIONS frame) while it is switched on
    this.off = document.createElement("canvas");
    this.dragging = null; this.interacting = false;
    new ResizeObserver(() => this.resize()).observe(canvas);
    this._bind();
  }

  resize() {
    const r = this.canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    this.W = r.width; this.H = r.height;
    this.canvas.width = Math.round(r.width * dpr); this.canvas.height = Math.round(r.height * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.draw();
  }
  get pw() { return this.W - M.l - M.r; }
  get ph() { return this.H - M.t - M.b; }
  toPx(x, y) {
    const [x0, x1, y0, y1] = this.box;
    return [M.l + (x - x0) / (x1 - x0) * this.pw, M.t + (y1 - y) / (y1 - y0) * this.ph];
  }
  toData(px, py) {
    const [x0, x1, y0, y1] = this.box;
    return [x0 + (px - M.l) / this.pw * (x1 - x0), y1 - (py - M.t) / this.ph * (y1 - y0)];
  }

  setFrame(f) {
    this.frame = f;
    if (f.kind === MAP || f.kind === UNIT) {
      const img = new ImageData(f.w, f.h), d = img.data, n = f.w * f.h;
      if (f.kind === MAP) {
        for (let i = 0; i < n; i++) {
          const lut = CLASS_LUT[f.cls[i] % 10], c = this.discretize ? 150 : f.conf[i];
          d[4 * i] = lut[3 * c]; d[4 * i + 1] = lut[3 * c + 1]; d[4 * i + 2] = lut[3 * c + 2]; d[4 * i + 3] = 255;
        }
      } else {
        for (let i = 0; i < n; i++) {
          const [r, g, b] = signed(f.values[i] / 127);
          d[4 * i] = r; d[4 * i + 1] = g; d[4 * i + 2] = b; d[4 * i + 3] = 255;
        }
      }
      this.off.width = f.w; this.off.height = f.h;
      this.off.getContext("2d").putImageData(img, 0, 0);
    }
    this.draw();
  }

  draw() {
    const ctx = this.ctx;
    if (!this.W) return;
    ctx.clearRect(0, 0, this.W, this.H);
    ctx.fillStyle = "#fff"; ctx.fillRect(M.l, M.t, this.pw, this.ph);
    ctx.save();
    ctx.beginPath(); ctx.rect(M.l, M.t, this.pw, this.ph); ctx.clip();
    const f = this.frame;
    if (f && (f.kind === MAP || f.kind === UNIT) && this.task === "classification") {
      const [a, b] = this.toPx(f.box[0], f.box[3]), [c, d] = this.toPx(f.box[1], f.box[2]);
      ctx.imageSmoothingEnabled = !this.discretize;
      ctx.drawImage(this.off, a, b, c - a, d - b);
    }
    this._grid();
    if (this.regions && this.task === "classification" && !(f && f.kind === UNIT)) this._regions(this.regions);
    // hinge lines belong to ReLU-family first layers: there z = 0 is where the unit's slope changes
    const hinged = this.task === "classification" && this.hinges && ["relu", "leaky_relu"].includes(this.firstActivation);
    if (hinged && this.showHinges && !(f && f.kind === UNIT)) this._hinges();
    else if (hinged && this.highlight && this.highlight[0] === 1 && !(f && f.kind === UNIT)) this._hinges(true);
    if (hinged && f && f.kind === UNIT && this.highlight && this.highlight[0] === 1) this._hinges(true);
    if (this.task === "regression" && f && f.kind === CURVE) this._curve(f);
    this._points();
    this._traceMark();
    ctx.restore();
    this._axes();
  }

  // The exact overlay (relunet.pwl): every linear region outlined thinly, the decision boundary in bold.
  _regions(r) {
    const ctx = this.ctx, v = r.vertices;
    ctx.strokeStyle = "rgba(17, 24, 39, 0.28)"; ctx.lineWidth = 0.6;
    ctx.beginPath();
    let k = 0;
    for (let i = 0; i < r.counts.length; i++) {
      const n = r.counts[i];
      for (let j = 0; j < n; j++) {
        const [px, py] = this.toPx(v[2 * (k + j)], v[2 * (k + j) + 1]);
        if (j === 0) ctx.moveTo(px, py); else ctx.lineTo(px, py);
      }
      if (n) ctx.closePath();
      k += n;
    }
    ctx.stroke();
    const s = r.segments;
    ctx.strokeStyle = "#111827"; ctx.lineWidth = 2.6; ctx.lineCap = "round";
    ctx.beginPath();
    for (let i = 0; i < s.length; i += 4) {
      const [a, b] = this.toPx(s[i], s[i + 1]), [c, d] = this.toPx(s[i + 2], s[i + 3]);
      ctx.moveTo(a, b); ctx.lineTo(c, d);
    }
    ctx.stroke();
    ctx.lineCap = "butt";
  }

  _grid() {
    const ctx = this.ctx, [x0, x1, y0, y1] = this.box;
    ctx.strokeStyle = this.task === "regression" ? "#eef0f3" : "rgba(255,255,255,0.35)"; ctx.lineWidth = 1;
    ctx.beginPath();
    for (const v of niceTicks(x0, x1)) { const [p] = this.toPx(v, 0); ctx.moveTo(p, M.t); ctx.lineTo(p, M.t + this.ph); }
    for (const v of niceTicks(y0, y1)) { const [, q] = this.toPx(0, v); ctx.moveTo(M.l, q); ctx.lineTo(M.l + this.pw, q); }
    ctx.stroke();
  }

  _axes() {
    const ctx = this.ctx, [x0, x1, y0, y1] = this.box;
    ctx.strokeStyle = "#9ca3af"; ctx.lineWidth = 1;
    ctx.strokeRect(M.l + .5, M.t + .5, this.pw - 1, this.ph - 1);
    ctx.fillStyle = "#4b5563"; ctx.font = "11px system-ui, sans-serif";
    const xt = niceTicks(x0, x1), yt = niceTicks(y0, y1);
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const v of xt) {
      const [p] = this.toPx(v, 0);
      ctx.beginPath(); ctx.moveTo(p, M.t + this.ph); ctx.lineTo(p, M.t + this.ph + 4); ctx.stroke();
      ctx.fillText(tickLabel(v, xt), p, M.t + this.ph + 6);
    }
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    for (const v of yt) {
      const [, q] = this.toPx(0, v);
      ctx.beginPath(); ctx.moveTo(M.l - 4, q); ctx.lineTo(M.l, q); ctx.stroke();
      ctx.fillText(tickLabel(v, yt), M.l - 6, q);
    }
    ctx.textAlign = "left"; ctx.fillStyle = "#6b7280";
    const [xl, yl] = this.task === "regression" ? ["x", "y"] : ["x1", "x2"];
    ctx.fillText(xl, M.l + this.pw - 14, M.t + this.ph + 18);
    ctx.save(); ctx.translate(10, M.t + 10); ctx.fillText(yl, 0, 0); ctx.restore();
  }

  _hinges(onlyHighlight = false) {
    const ctx = this.ctx, { W, b } = this.hinges, [x0, x1, y0, y1] = this.box;
    for (let j = 0; j < W.length; j++) {
      const on = this.highlight && this.highlight[0] === 1 && this.highlight[1] === j;
      if (onlyHighlight && !on) continue;
      const [w1, w2] = W[j], bj = b[j];
      let p, q;
      if (Math.abs(w2) > Math.abs(w1)) { p = [x0, -(w1 * x0 + bj) / w2]; q = [x1, -(w1 * x1 + bj) / w2]; }
      else if (Math.abs(w1) > 0) { p = [-(w2 * y0 + bj) / w1, y0]; q = [-(w2 * y1 + bj) / w1, y1]; }
      else continue;
      const [a, c] = this.toPx(...p), [d, e] = this.toPx(...q);
      ctx.strokeStyle = on ? "#111827" : "rgba(17,24,39,0.3)";
      ctx.lineWidth = on ? 2.5 : 1;
      ctx.setLineDash(on ? [] : [4, 3]);
      ctx.beginPath(); ctx.moveTo(a, c); ctx.lineTo(d, e); ctx.stroke();
    }
    ctx.setLineDash([]);
  }

  _curve(f) {
    const ctx = this.ctx;
    ctx.strokeStyle = "#2563eb"; ctx.lineWidth = 2.2; ctx.beginPath();
    for (let i = 0; i < f.xs.length; i++) {
      const [p, q] = this.toPx(f.xs[i], f.fs[i]);
      i ? ctx.lineTo(p, q) : ctx.moveTo(p, q);
    }
    ctx.stroke();
    // breakpoints: where a ReLU unit switches, the curve's slope may change
    ctx.fillStyle = "#ea580c";
    for (const x of f.breaks) {
      const y = interp(f.xs, f.fs, x), [p, q] = this.toPx(x, y);
      ctx.strokeStyle = "rgba(234,88,12,0.25)"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(p, M.t + this.ph); ctx.lineTo(p, M.t + this.ph - 8); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(p, q - 4); ctx.lineTo(p + 4, q); ctx.lineTo(p, q + 4); ctx.lineTo(p - 4, q); ctx.closePath(); ctx.fill();
    }
  }

  _points() {
    const ctx = this.ctx, reg = this.task === "regression";
    for (const [x, y, k, test] of this.points) {
      const [p, q] = this.toPx(x, y);
      const col = reg ? "#111827" : PALETTE[k % 10];
      ctx.beginPath(); ctx.arc(p, q, test ? 4.2 : 4.5, 0, 2 * Math.PI);
      if (test) { ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fill(); ctx.strokeStyle = col; ctx.lineWidth = 2; ctx.stroke(); }
      else { ctx.fillStyle = col; ctx.fill(); ctx.strokeStyle = "#fff"; ctx.lineWidth = 1.2; ctx.stroke(); }
    }
  }

  _traceMark() {
    if (!this.traceMark) return;
    const ctx = this.ctx, [p, q] = this.toPx(...this.traceMark);
    ctx.strokeStyle = "#111827"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.arc(p, q, 9, 0, 2 * Math.PI); ctx.stroke();
  }

  nearest(px, py, maxPx = 14) {
    let best = -1, bd = maxPx * maxPx;
    this.points.forEach(([x, y], i) => {
      const [p, q] = this.toPx(x, y), d = (p - px) ** 2 + (q - py) ** 2;
      if (d < bd) { bd = d; best = i; }
    });
    return best;
  }

  showTip(text, px, py) {
    if (!text) { this.tip.hidden = true; return; }
    this.tip.textContent = text; this.tip.hidden = false;
    this.tip.style.left = `${Math.min(px + 12, this.W - 180)}px`; this.tip.style.top = `${py + 12}px`;
  }

  _bind() {
    const c = this.canvas;
    const pos = e => { const r = c.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
    c.addEventListener("contextmenu", e => e.preventDefault());
    c.addEventListener("pointerdown", e => {
      const [px, py] = pos(e);
      this.dragging = { px, py, box: this.box.slice(), moved: false, button: e.button };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener("pointermove", e => {
      const [px, py] = pos(e);
      const d = this.dragging;
      if (d && d.button === 0 && (d.moved || Math.hypot(px - d.px, py - d.py) > 4)) {
        d.moved = true; this.interacting = true;
        const [x0, x1, y0, y1] = d.box, sx = (x1 - x0) / this.pw, sy = (y1 - y0) / this.ph;
        const dx = (px - d.px) * sx, dy = (py - d.py) * sy;
        this.box = [x0 - dx, x1 - dx, y0 + dy, y1 + dy];
        this.draw(); this.app.boxChanged(this.box);
        return;
      }
      const [x, y] = this.toData(px, py);
      if (px >= M.l && py >= M.t && px <= M.l + this.pw && py <= M.t + this.ph) this.app.hover(x, y, px, py);
    });
    c.addEventListener("pointerup", e => {
      const d = this.dragging; this.dragging = null;
      if (!d) return;
      if (d.moved) { this.interacting = false; this.app.boxChanged(this.box, true); return; }
      const [px, py] = pos(e);
      if (px < M.l || py < M.t || px > M.l + this.pw || py > M.t + this.ph) return;
      const [x, y] = this.toData(px, py);
      this.app.click({ x, y, px, py, button: e.button, shift: e.shiftKey, ctrl: e.ctrlKey || e.metaKey });
    });
    c.addEventListener("pointerleave", () => this.showTip(null));
    c.addEventListener("wheel", e => {
      e.preventDefault();
      const [px, py] = pos(e), [cx, cy] = this.toData(px, py), s = Math.exp(e.deltaY * 0.0015);
      const [x0, x1, y0, y1] = this.box;
      this.box = [cx + (x0 - cx) * s, cx + (x1 - cx) * s, cy + (y0 - cy) * s, cy + (y1 - cy) * s];
      this.draw(); this.app.boxChanged(this.box, true);
    }, { passive: false });
  }
}

function interp(xs, fs, x) {
  let lo = 0, hi = xs.length - 1;
  while (hi - lo > 1) { const m = (lo + hi) >> 1; if (xs[m] <= x) lo = m; else hi = m; }
  const t = (x - xs[lo]) / ((xs[hi] - xs[lo]) || 1);
  return fs[lo] + t * (fs[hi] - fs[lo]);
}
export { fmt };
