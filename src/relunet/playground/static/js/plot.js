// The main view: decision map (or a hovered unit's map, or the regression curve), axes, points, hinge lines.
import { CLASS_LUT, PALETTE, signed, fmt } from "./colors.js";
import { MAP, UNIT, CURVE } from "./frames.js";
import { strokeRegions } from "./regions-draw.js";

// One drawing worker for the exact regions of every view on the page (null where workers cannot draw).
let regionsWorker;
function drawingWorker() {
  if (regionsWorker === undefined) {
    try {
      regionsWorker = typeof OffscreenCanvas === "undefined" ? null :
        new Worker(new URL("./regions-worker.js", import.meta.url), { type: "module" });
    } catch (e) { regionsWorker = null; }
  }
  return regionsWorker;
}
let requests = 0;

const M = { l: 46, r: 10, t: 8, b: 30 };   // plot margins in CSS pixels

// A cached layer of the view: a canvas of the view's pixel size, repainted by paint(ctx) only when key() (a flat
// list of numbers, strings and objects) differs from the key of its last paint. The page repaints the map 20+
// times a second while training (every map frame); the points, hinge lines, grid, axes and exact regions change
// far less often, and in Chromium's software raster each full stroke of them cost several milliseconds a paint.
class Layer {
  constructor(view, name, key, paint) {
    this.view = view; this.name = name; this.key = key; this.paint = paint;
    this.canvas = document.createElement("canvas"); this.last = null;
  }

  // Repaint when the key changed; true when it did.
  update() {
    const v = this.view, k = [v.canvas.width, v.canvas.height, v.W, v.H, ...v.box, v.task].concat(this.key());
    if (this.last && k.length === this.last.length && k.every((x, i) => Object.is(x, this.last[i]))) return false;
    this.last = k;
    const c = this.canvas, dpr = window.devicePixelRatio || 1;
    if (c.width !== v.canvas.width || c.height !== v.canvas.height) { c.width = v.canvas.width; c.height = v.canvas.height; }
    const ctx = c.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.clearRect(0, 0, c.width, c.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.paint(ctx);
    v.layerPaints[this.name] += 1;
    return true;
  }
}

// Copy a layer pixel for pixel (the canvases have the same size: no resampling).
function blit(ctx, layer) {
  ctx.save(); ctx.setTransform(1, 0, 0, 1, 0, 0); ctx.drawImage(layer.canvas, 0, 0); ctx.restore();
}

// The numbers of hinge lines {W, b} (or none), for a layer's key: edits in place change them too.
function hingeKey(h) {
  if (!h) return [-1];
  const out = [h.W.length];
  for (let j = 0; j < h.W.length; j++) out.push(h.W[j][0], h.W[j][1], h.b[j]);
  return out;
}

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
    this._regions = null;  // the exact overlay (a REGIONS frame) while it is switched on
    this.regionsBitmap = null;   // ... drawn once into this canvas, which every draw then copies
    this.overlays = [];    // functions (ctx, view) drawing over the map: the step animation, extensions
    this.tool = null;      // an extension's pointer tool: {down, move, up}(x, y, event) -> true when handled
    this.anim = null;      // the watched SGD step: {image, hingesOld, hingesNow} (see stepanim.js)
    this.off = document.createElement("canvas");
    this.pending = false;
    // What each paint draws is cached in layers (see Layer), composited in this order:
    //   the map image (every frame; or the regression curve, between back and front), then
    //   back: grid, exact regions bitmap, hinge lines (their own layer: hover highlight, weights messages),
    //   front: the points and the axes, then the trace mark and the overlays (interaction), drawn every paint.
    this.layerPaints = { hinges: 0, back: 0, front: 0 };   // how often each layer was repainted (tests read it)
    this.paints = 0;
    this.hingeLayer = new Layer(this, "hinges", () => this._hingesKey(), ctx => this._hingesLayer(ctx));
    this.back = new Layer(this, "back", () => [this.layerPaints.hinges, this._regionsShown() ? this.regionsBitmap : null],
      ctx => this._backLayer(ctx));
    this.front = new Layer(this, "front", () => this._pointsKey(), ctx => this._frontLayer(ctx));
    this.dragging = null; this.interacting = false;
    new ResizeObserver(() => this.resize()).observe(canvas);
    this._bind();
  }

  resize() {
    const r = this.canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    this.W = r.width; this.H = r.height;
    this.canvas.width = Math.round(r.width * dpr); this.canvas.height = Math.round(r.height * dpr);
    this.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    this._requestRegions();
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

  // Drawing is coalesced into at most one paint per animation frame, however many frames arrive.
  draw() {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      const t0 = performance.now();
      this.drawNow();
      if (this.app.busy) this.app.busy.draw = (this.app.busy.draw || 0) + performance.now() - t0;
    });
  }

  // The exact overlay is stroked into a bitmap once per REGIONS frame (in a worker when possible); every paint
  // copies the latest bitmap, so the page never strokes thousands of polygons in an animation frame.
  set regions(r) {
    this._regions = r;
    if (!r) { this.regionsBitmap = null; this.draw(); return; }
    this._requestRegions();
  }
  get regions() { return this._regions; }

  drawNow() {
    const ctx = this.ctx;
    if (!this.W) return;
    this.paints += 1;
    this.hingeLayer.update(); this.back.update(); this.front.update();
    ctx.clearRect(0, 0, this.W, this.H);
    ctx.fillStyle = "#fff"; ctx.fillRect(M.l, M.t, this.pw, this.ph);
    ctx.save();
    ctx.beginPath(); ctx.rect(M.l, M.t, this.pw, this.ph); ctx.clip();
    const f = this.frame;
    if (this.anim && this.anim.image && this.task === "classification") {
      const [a, b] = this.toPx(this.anim.box[0], this.anim.box[3]), [c, d] = this.toPx(this.anim.box[1], this.anim.box[2]);
      ctx.imageSmoothingEnabled = true;
      ctx.drawImage(this.anim.image, a, b, c - a, d - b);
    } else if (f && (f.kind === MAP || f.kind === UNIT) && this.task === "classification") {
      const [a, b] = this.toPx(f.box[0], f.box[3]), [c, d] = this.toPx(f.box[1], f.box[2]);
      ctx.imageSmoothingEnabled = !this.discretize;
      ctx.drawImage(this.off, a, b, c - a, d - b);
    }
    blit(ctx, this.back);
    if (this.task === "regression" && f && f.kind === CURVE) this._curve(f);
    ctx.restore();
    blit(ctx, this.front);
    ctx.save();
    ctx.beginPath(); ctx.rect(M.l, M.t, this.pw, this.ph); ctx.clip();
    this._traceMark();
    for (const o of this.overlays) o(ctx, this);
    ctx.restore();
    this._frame(ctx);       // the plot's border again: overlays stay inside it
  }

  // ----------------------------------------------------------------------------------------- the layers
  _regionsShown() {
    const f = this.frame;
    return !!(this._regions && this.regionsBitmap && this.task === "classification" && !(f && f.kind === UNIT) && !this.anim);
  }

  // Which hinge lines are drawn: all of them, only the highlighted one, or the watched step's before and now.
  _hingesKey() {
    const f = this.frame, unit = !!(f && f.kind === UNIT), hl = this.highlight;
    const on = hl && hl[0] === 1 ? hl[1] : -1;
    if (this.anim) return ["anim", ...hingeKey(this.anim.hingesOld), ...(this.anim.hingesOld ? hingeKey(this.anim.hingesNow) : [])];
    const hinged = this.task === "classification" && this.hinges && ["relu", "leaky_relu"].includes(this.firstActivation);
    if (!hinged) return ["none"];
    const mode = this.showHinges && !unit ? "all" : on >= 0 ? "one" : "none";
    return mode === "none" ? ["none"] : [mode, on, ...hingeKey(this.hinges)];
  }

  _hingesLayer(ctx) {
    const [mode] = this._hingesKey();
    if (mode === "none") return;
    ctx.beginPath(); ctx.rect(M.l, M.t, this.pw, this.ph); ctx.clip();
    if (mode === "anim") {
      if (this.anim.hingesOld) { this._hinges(ctx, false, this.anim.hingesOld, true); this._hinges(ctx, false, this.anim.hingesNow); }
    } else this._hinges(ctx, mode === "one");
  }

  _backLayer(ctx) {
    ctx.beginPath(); ctx.rect(M.l, M.t, this.pw, this.ph); ctx.clip();
    this._grid(ctx);
    if (this._regionsShown()) {
      const bmp = this.regionsBitmap;
      const [a, b] = this.toPx(bmp.box[0], bmp.box[3]), [c, d] = this.toPx(bmp.box[1], bmp.box[2]);
      ctx.drawImage(bmp.image, a, b, c - a, d - b);
    }
    blit(ctx, this.hingeLayer);
  }

  _pointsKey() {
    const out = [this.points.length];
    for (const [x, y, k, test] of this.points) out.push(x, y, k, test ? 1 : 0);
    return out;
  }

  _frontLayer(ctx) {
    ctx.save();
    ctx.beginPath(); ctx.rect(M.l, M.t, this.pw, this.ph); ctx.clip();
    this._points(ctx);
    ctx.restore();
    this._axes(ctx);
  }

  _requestRegions() {
    const r = this._regions, dpr = window.devicePixelRatio || 1;
    if (!r || !this.W) return;
    const w = Math.max(1, Math.round(this.pw * dpr)), h = Math.max(1, Math.round(this.ph * dpr));
    const worker = drawingWorker();
    if (!worker) {               // draw here, at most once per 250 ms (the newest frame wins)
      const now = performance.now();
      if (this._regionsAt && now - this._regionsAt < 250) {
        clearTimeout(this._regionsTimer); this._regionsTimer = setTimeout(() => this._requestRegions(), 250);
        return;
      }
      this._regionsAt = now;
      const c = document.createElement("canvas"); c.width = w; c.height = h;
      strokeRegions(c.getContext("2d"), r, w, h);
      this.regionsBitmap = { image: c, box: r.box };
      if (this.app.busy) this.app.busy.regions = (this.app.busy.regions || 0) + performance.now() - now;
      this.draw();
      return;
    }
    if (this._regionsBusy) { this._regionsQueued = true; return; }   // one at a time; the newest waits
    const id = ++requests;
    this._regionsBusy = id;
    const done = e => {
      if (e.data.id !== id) return;
      worker.removeEventListener("message", done);
      this._regionsBusy = 0;
      if (this._regions) { this.regionsBitmap = { image: e.data.bitmap, box: r.box }; this.draw(); }
      if (this._regionsQueued) { this._regionsQueued = false; this._requestRegions(); }
    };
    worker.addEventListener("message", done);
    const { counts, vertices, segments, box } = r;
    worker.postMessage({ id, regions: { counts, vertices, segments, box }, w, h });
  }

  _grid(ctx) {
    const [x0, x1, y0, y1] = this.box;
    ctx.strokeStyle = this.task === "regression" ? "#eef0f3" : "rgba(255,255,255,0.35)"; ctx.lineWidth = 1;
    ctx.beginPath();
    for (const v of niceTicks(x0, x1)) { const [p] = this.toPx(v, 0); ctx.moveTo(p, M.t); ctx.lineTo(p, M.t + this.ph); }
    for (const v of niceTicks(y0, y1)) { const [, q] = this.toPx(0, v); ctx.moveTo(M.l, q); ctx.lineTo(M.l + this.pw, q); }
    ctx.stroke();
  }

  _frame(ctx) {
    ctx.strokeStyle = "#9ca3af"; ctx.lineWidth = 1;
    ctx.strokeRect(M.l + .5, M.t + .5, this.pw - 1, this.ph - 1);
  }

  _axes(ctx) {
    const [x0, x1, y0, y1] = this.box;
    this._frame(ctx);
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

  // Hinge lines w_j x + b_j = 0 of the first layer, each labelled with its unit j. `ghost`: an old position.
  _hinges(ctx, onlyHighlight = false, hinges = this.hinges, ghost = false) {
    const { W, b } = hinges;
    const labels = !ghost && W.length <= 32;
    ctx.font = "bold 11px system-ui, sans-serif"; ctx.textAlign = "center"; ctx.textBaseline = "middle";
    const placed = [], outside = [];
    for (let j = 0; j < W.length; j++) {
      const on = this.highlight && this.highlight[0] === 1 && this.highlight[1] === j;
      if (onlyHighlight && !on) continue;
      const seg = clipLine(W[j][0], W[j][1], b[j], this.box);
      if (!seg) { outside.push(j); continue; }          // the line misses the view: said below the labels
      const [a, c] = this.toPx(...seg[0]), [d, e] = this.toPx(...seg[1]);
      ctx.strokeStyle = ghost ? "rgba(17,24,39,0.35)" : on ? "#111827" : "rgba(17,24,39,0.45)";
      ctx.lineWidth = on ? 2.5 : ghost ? 1 : 1.2;
      ctx.setLineDash(on ? [] : ghost ? [2, 3] : [5, 3]);
      ctx.beginPath(); ctx.moveTo(a, c); ctx.lineTo(d, e); ctx.stroke();
      if (labels) placed.push(this._hingeLabel(ctx, j, a, c, d, e, on, placed));
    }
    ctx.setLineDash([]);
    if (labels && !onlyHighlight && outside.length) {
      ctx.font = "11px system-ui, sans-serif"; ctx.textAlign = "left"; ctx.textBaseline = "bottom";
      ctx.fillStyle = "rgba(17,24,39,0.8)";
      ctx.fillText(`outside the view: unit${outside.length > 1 ? "s" : ""} ${outside.join(", ")}`, M.l + 4, M.t + this.ph - 4);
    }
  }

  // The unit's number where its line crosses the plot, at a point that differs per unit so labels rarely meet;
  // one that would sit on a label already drawn (lines leaving the plot by the same edge) slides along its line.
  _hingeLabel(ctx, j, a, c, d, e, on, placed = []) {
    const t0 = 0.2 + 0.6 * ((j * 0.381966) % 1);
    const at = t => [Math.min(Math.max(a + t * (d - a), M.l + 9), M.l + this.pw - 9),
                     Math.min(Math.max(c + t * (e - c), M.t + 9), M.t + this.ph - 9)];
    const free = ([x, y]) => placed.every(([u, w]) => Math.hypot(x - u, y - w) >= 17);
    const tries = [0, 0.15, -0.15, 0.3, -0.3, 0.45, -0.45].map(s => Math.min(0.95, Math.max(0.05, t0 + s)));
    const [x, y] = tries.map(at).find(free) || at(t0);
    ctx.fillStyle = on ? "#111827" : "rgba(255,255,255,0.9)";
    ctx.beginPath(); ctx.arc(x, y, 8, 0, 2 * Math.PI); ctx.fill();
    ctx.strokeStyle = "#111827"; ctx.lineWidth = 1; ctx.setLineDash([]); ctx.stroke();
    ctx.fillStyle = on ? "#fff" : "#111827"; ctx.fillText(String(j), x, y + 0.5);
    return [x, y];
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

  _points(ctx) {
    const reg = this.task === "regression";
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
    const tool = (name, e) => {
      if (!this.tool || !this.tool[name]) return false;
      const [px, py] = pos(e), [x, y] = this.toData(px, py);
      return this.tool[name](x, y, e, px, py) === true;
    };
    c.addEventListener("pointerdown", e => {
      if (tool("down", e)) { this.dragging = null; this.toolActive = true; c.setPointerCapture(e.pointerId); return; }
      const [px, py] = pos(e);
      this.dragging = { px, py, box: this.box.slice(), moved: false, button: e.button };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener("pointermove", e => {
      if (this.toolActive || tool("move", e)) { if (this.toolActive) tool("move", e); return; }
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
      if (this.toolActive) { this.toolActive = false; tool("up", e); return; }
      const d = this.dragging; this.dragging = null;
      if (!d) return;
      if (d.moved) { this.interacting = false; this.app.boxChanged(this.box, true); return; }
      const [px, py] = pos(e);
      if (px < M.l || py < M.t || px > M.l + this.pw || py > M.t + this.ph) return;
      const [x, y] = this.toData(px, py);
      // a tap shows what hovering shows (hinge line, coordinates): phones have no hover
      if (e.pointerType === "touch") this.app.hover(x, y, px, py);
      this.app.click({ x, y, px, py, button: e.button, shift: e.shiftKey, ctrl: e.ctrlKey || e.metaKey, touch: e.pointerType === "touch", time: e.timeStamp });
    });
    c.addEventListener("pointerleave", e => { if (e.pointerType !== "touch") this.showTip(null); });   // a tapped tip stays
    c.addEventListener("wheel", e => {
      e.preventDefault();
      const [px, py] = pos(e), [cx, cy] = this.toData(px, py), s = Math.exp(e.deltaY * 0.0015);
      const [x0, x1, y0, y1] = this.box;
      this.box = [cx + (x0 - cx) * s, cx + (x1 - cx) * s, cy + (y0 - cy) * s, cy + (y1 - cy) * s];
      this.draw(); this.app.boxChanged(this.box, true);
    }, { passive: false });
  }
}

// The piece of the line w1 x + w2 y + b = 0 inside box [x0, x1, y0, y1]: [[x, y], [x, y]], or null.
export function clipLine(w1, w2, b, box) {
  const [x0, x1, y0, y1] = box, ex = (x1 - x0) * 1e-9, ey = (y1 - y0) * 1e-9, pts = [];
  if (w2 !== 0) for (const x of [x0, x1]) { const y = -(w1 * x + b) / w2; if (y >= y0 - ey && y <= y1 + ey) pts.push([x, y]); }
  if (w1 !== 0) for (const y of [y0, y1]) { const x = -(w2 * y + b) / w1; if (x >= x0 - ex && x <= x1 + ex) pts.push([x, y]); }
  if (pts.length < 2) return null;
  let best = null, d = -1;
  for (let i = 0; i < pts.length; i++) for (let k = i + 1; k < pts.length; k++) {
    const dd = (pts[i][0] - pts[k][0]) ** 2 + (pts[i][1] - pts[k][1]) ** 2;
    if (dd > d) { d = dd; best = [pts[i], pts[k]]; }
  }
  return best;
}

function interp(xs, fs, x) {
  let lo = 0, hi = xs.length - 1;
  while (hi - lo > 1) { const m = (lo + hi) >> 1; if (xs[m] <= x) lo = m; else hi = m; }
  const t = (x - xs[lo]) / ((xs[hi] - xs[lo]) || 1);
  return fs[lo] + t * (fs[hi] - fs[lo]);
}
export { fmt };
