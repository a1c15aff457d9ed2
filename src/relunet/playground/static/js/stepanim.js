// One SGD step you can watch: from the trace of one token (the server's numbers, see backprop.py), the page
// moves the weights from W to W + t * s * dW_step (t = k / 16 from 0 to 1, s scales the learning rate) and
// redraws the network at each position: its class map, evaluated here in JavaScript on a grid (the trace
// carries every weight and its step), and over it the exact lines, computed by the server with relunet.pwl
// (step_geometry.py): the decision boundary before the step (grey) and now (black), and each hinge line
// before (dotted) and now (dashed). The positions are asked for once per (step, s, view) and kept, so
// scrubbing back and forth costs nothing; t = 0 and t = 1 come first, then the positions nearest the slider.
// Networks that are not piece-wise linear (tanh, sigmoid) have no exact boundary: their map shows the
// boundary sampled on its grid instead.
import { CLASS_LUT, fmt } from "./colors.js";

const STEPS = 16;          // positions t = k / STEPS (as step_geometry.POSITIONS)
const FRAME_MS = 100;      // one position per 100 ms while playing: the step takes 1.6 s
const PWL = ["relu", "leaky_relu", "identity"];

const ACT = {
  relu: z => (z > 0 ? z : 0), leaky_relu: z => (z > 0 ? z : 0.01 * z), tanh: Math.tanh,
  sigmoid: z => 1 / (1 + Math.exp(-z)), identity: z => z,
};

// The layers of the traced network, or null when the trace's arrays were cut (too large to send whole).
export function traceNetwork(t) {
  const layers = t.layers.map(r => ({ W: r.W, b: r.b, dW: r.dW_step, db: r.db_step, act: r.activation }));
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i], inputs = i === 0 ? t.x.length : layers[i - 1].b.length;
    if (!Array.isArray(l.W[0]) || l.W.length !== l.b.length || l.W[0].length !== inputs) return null;
  }
  return layers;
}

// Weights at t * s of the step: flat Float64Arrays for speed.
function weightsAt(layers, ts) {
  return layers.map(l => {
    const out = l.W.length, inp = l.W[0].length, W = new Float64Array(out * inp), b = new Float64Array(out);
    for (let j = 0; j < out; j++) {
      for (let i = 0; i < inp; i++) W[j * inp + i] = l.W[j][i] + ts * l.dW[j][i];
      b[j] = l.b[j] + ts * l.db[j];
    }
    return { W, b, out, inp, act: ACT[l.act] || null };
  });
}

function forward(net, x0, x1, buf) {
  let a = buf[0]; a[0] = x0; a[1] = x1;
  for (let l = 0; l < net.length; l++) {
    const { W, b, out, inp, act } = net[l], z = buf[l + 1];
    for (let j = 0; j < out; j++) {
      let s = b[j];
      for (let i = 0; i < inp; i++) s += W[j * inp + i] * a[i];
      z[j] = act ? act(s) : s;
    }
    a = z;
  }
  return a;
}

function softmax(z) {
  let m = -Infinity; for (const v of z) m = Math.max(m, v);
  let s = 0; const e = Array.from(z, v => { const q = Math.exp(v - m); s += q; return q; });
  return e.map(v => v / s);
}

// The class map (k and confidence) of `net` on a res x res grid over box, top row first (as views.grid).
function classMap(net, box, res) {
  const [x0, x1, y0, y1] = box, K = net[net.length - 1].out;
  const buf = [new Float64Array(2), ...net.map(l => new Float64Array(l.out))];
  const k = new Uint8Array(res * res), conf = new Uint8Array(res * res);
  for (let r = 0; r < res; r++) {
    const y = y1 - (r + 0.5) * (y1 - y0) / res;
    for (let c = 0; c < res; c++) {
      const z = forward(net, x0 + (c + 0.5) * (x1 - x0) / res, y, buf);
      let best = 0; for (let j = 1; j < K; j++) if (z[j] > z[best]) best = j;
      let s = 0; for (let j = 0; j < K; j++) s += Math.exp(z[j] - z[best]);
      const p = 1 / s, floor = 1 / K;
      k[r * res + c] = best; conf[r * res + c] = Math.round(255 * Math.min(1, Math.max(0, (p - floor) / (1 - floor))));
    }
  }
  return { k, conf };
}

export class StepAnimation {
  // send(message) goes to the server; the app passes its answers to onGeometry.
  constructor(view, els, send) {
    this.view = view; this.els = els; this.send = send; this.trace = null; this.layers = null; this.timer = null;
    this.k = 0;              // the position shown: t = k / STEPS
    this.geo = null;         // the exact positions of one (step, s, box): {key, step_id, s, box, point, pos[], reason}
    this.inflight = null;    // the key of the one request the server is answering
    this.drawn = null;       // what the last paint stroked, in data coordinates (tests read it)
    els.t.step = 1 / STEPS;
    els.scale.oninput = () => { els.scaleV.textContent = fmt(this.scale, 3); if (this.active) this.show(this.k / STEPS); };
    els.t.oninput = () => { this.stopTimer(); this.show(+els.t.value); };
    els.play.onclick = () => (this.active && !this.timer && this.k >= STEPS ? this.end() : this.play());
    view.overlays.push(ctx => this._drawBoundaries(ctx));
  }
  get scale() { return 10 ** +this.els.scale.value; }
  get active() { return !!this.view.anim; }

  // A new trace of the token (the same token follows the weights while training; a new one replaces it).
  setTrace(t) {
    this.trace = t;
    this.layers = t && t.task === "classification" && t.x.length === 2 ? traceNetwork(t) : null;
    this.els.box.hidden = !this.layers;
    if (!t) this.end();
  }

  // Step through the positions, one every FRAME_MS, waiting for any whose exact lines are still on the way.
  play() {
    if (!this.layers) return;
    this.frozen = this.trace;          // the step being watched, even if newer traces arrive meanwhile
    this.stopTimer();
    this.show(0);
    let due = performance.now() + FRAME_MS;
    const tick = () => {
      const now = performance.now();
      if (now >= due && this._ready(this.k + 1)) { this.show((this.k + 1) / STEPS); due = now + FRAME_MS; }
      if (this.k < STEPS) this.timer = requestAnimationFrame(tick);
      else { this.timer = null; this.els.play.textContent = "Back to the live map"; }
    };
    this.els.play.textContent = "Watching…";
    this.timer = requestAnimationFrame(tick);
  }
  stopTimer() { if (this.timer) cancelAnimationFrame(this.timer); this.timer = null; }

  // Draw the network at position t (rounded to k / STEPS) of the (scaled) step.
  show(t) {
    const tr = this.frozen || this.trace, layers = tr && traceNetwork(tr);
    if (!layers) return;
    this.k = Math.round(Math.min(1, Math.max(0, t)) * STEPS);
    t = this.k / STEPS;
    this.els.t.value = t;
    const view = this.view, box = view.box.slice(), s = this.scale;
    const exact = layers.every((l, i) => i === layers.length - 1 || PWL.includes(l.act));
    const g = exact ? this._geometry(tr, s, box) : null, lines = !!g && !g.reason;
    const net = weightsAt(layers, t * s), image = this._map(layers, net, box, lines ? null : tr);
    const before = lines && g.pos[0], now = lines && g.pos[this.k];
    view.anim = {
      image, box, exact: lines,
      before: before ? before.boundary : null, now: now ? now.boundary : null,
      hingesOld: before && now && before.hinges ? before.hinges : null, hingesNow: now && now.hinges ? now.hinges : null,
    };
    view.draw();
    this._outputs(tr, net, t, s, g);
    this._pump();
  }

  // The class map of `net` (confidence shaded); with `sampledFrom` (no exact lines) the boundaries before and
  // now are marked on its grid cells instead.
  _map(layers, net, box, sampledFrom) {
    const params = layers.reduce((n, l) => n + l.b.length * (l.W[0].length + 1), 0);
    const res = Math.max(40, Math.min(150, Math.round(Math.sqrt(6e6 / params))));
    const now = classMap(net, box, res);
    let before = null;
    if (sampledFrom) {
      const key = JSON.stringify([box, res, sampledFrom.step_id]);
      if (!this._before || this._before.key !== key) this._before = { key, ...classMap(weightsAt(layers, 0), box, res) };
      before = this._before;
    }
    const img = new ImageData(res, res), d = img.data;
    const edge = (k, i) => { const c = i % res; return (c + 1 < res && k[i] !== k[i + 1]) || (i + res < k.length && k[i] !== k[i + res]); };
    for (let i = 0; i < res * res; i++) {
      const lut = CLASS_LUT[now.k[i] % 10], c = now.conf[i];
      let rgb = [lut[3 * c], lut[3 * c + 1], lut[3 * c + 2]];
      if (before && edge(before.k, i)) rgb = [150, 150, 150];
      if (before && edge(now.k, i)) rgb = [17, 24, 39];
      d.set([...rgb, 255], 4 * i);
    }
    const canvas = (this._canvas ||= document.createElement("canvas"));
    canvas.width = res; canvas.height = res; canvas.getContext("2d").putImageData(img, 0, 0);
    return canvas;
  }

  // ---------------------------------------------------------------------------------- the exact lines
  // The positions of (step, s, box), kept while the same step is watched at the same scale in the same view.
  _geometry(tr, s, box) {
    const key = JSON.stringify([tr.step_id, s, box]);
    if (!this.geo || this.geo.key !== key) {
      this.geo = { key, step_id: tr.step_id, s, box, point: { x: tr.x[0], y: tr.x[1], label: tr.target },
                   pos: new Array(STEPS + 1).fill(null), reason: null };
    }
    return this.geo;
  }
  _ready(k) { const g = this.geo; return !g || !this.view.anim.exact || !!g.reason || !!g.pos[k]; }

  // Ask for the missing positions (before and after first, then nearest the one shown), one request at a time:
  // the server answers as many as fit in its time budget, and the page asks again for the rest.
  _pump() {
    const g = this.geo;
    if (!g || g.reason || this.inflight || !this.view.anim || !this.view.anim.exact) return;
    const order = [0, STEPS, ...Array.from({ length: STEPS + 1 }, (_, k) => k).sort((a, b) => Math.abs(a - this.k) - Math.abs(b - this.k))];
    const missing = [...new Set(order)].filter(k => !g.pos[k]);
    if (!missing.length) return;
    this.inflight = g.key;
    this.send({ type: "step_geometry", point: g.point, step_id: g.step_id, scale: g.s, box: g.box, ts: missing.map(k => k / STEPS) });
  }

  // The server's answer: positions of a (step, s, box), "stale" when the network is no longer the one traced,
  // or "reason" when its step cannot be drawn exactly.
  onGeometry(m) {
    const key = JSON.stringify([m.step_id, m.scale, m.box]), g = this.geo;
    if (this.inflight === key) this.inflight = null;
    if (!g || g.key !== key) { this._pump(); return; }       // an answer for a view no longer watched
    if (m.stale) {
      this.end();
      this.els.out.textContent = "The network changed since this token was traced: press the button to watch its new step.";
      return;
    }
    if (m.reason) g.reason = m.reason;
    for (const p of m.positions || []) g.pos[Math.round(p.t * STEPS)] = p;
    if (this.active) this.show(this.k / STEPS);
  }

  // Grey: the exact boundary before the step; black: at the position shown.
  _drawBoundaries(ctx) {
    const a = this.view.anim;
    if (!a || !a.exact) { this.drawn = null; return; }
    const stroke = (segs, color, width) => {
      if (!segs) return;
      ctx.strokeStyle = color; ctx.lineWidth = width; ctx.setLineDash([]);
      ctx.beginPath();
      for (const [x0, y0, x1, y1] of segs) {
        const [p, q] = this.view.toPx(x0, y0), [u, v] = this.view.toPx(x1, y1);
        ctx.moveTo(p, q); ctx.lineTo(u, v);
      }
      ctx.stroke();
    };
    stroke(a.before, "rgba(107,114,128,0.9)", 2);
    stroke(a.now, "#111827", 2.2);
    this.drawn = { t: this.k / STEPS, scale: this.geo && this.geo.s, before: a.before, now: a.now,
                   hingesOld: a.hingesOld, hingesNow: a.hingesNow };
  }

  // dL/dz2 = f - 1[y=k] on the outputs, and what the step does to this token's f and loss.
  _outputs(tr, net, t, s, g) {
    const buf = [new Float64Array(2), ...net.map(l => new Float64Array(l.out))];
    const fNow = softmax(forward(net, tr.x[0], tr.x[1], buf)), y = tr.target;
    const dz = tr.layers[tr.layers.length - 1].dz, L = tr.layers.length;
    const rows = tr.f.map((f, k) => `<tr><td>${k}</td><td>${fmt(f, 3)}</td><td>${k === y ? 1 : 0}</td>` +
      `<td class="${dz[k] >= 0 ? "pos" : "neg"}"><b>${fmt(dz[k], 3)}</b></td><td>${fmt(fNow[k], 3)}</td></tr>`).join("");
    const lines = !g ? "Grey: the boundary before; black: now (sampled on the map's grid: these layers are not piece-wise linear)."
      : g.reason ? `No exact boundary (${g.reason}): grey and black mark the boundary before and now on the map's grid.`
      : g.pos[this.k] && g.pos[0] ? `${L > 1 ? "Dotted: each hinge line before the step; dashed: now. " : ""}Grey: the boundary before; black: now (exact, relunet.pwl).`
      : "Computing the exact boundary…";
    const have = g ? g.pos.filter(Boolean).length : 0;
    const progress = g && !g.reason && have <= STEPS ? ` Exact lines of ${have} of ${STEPS + 1} positions so far.` : "";
    this.els.out.innerHTML = `<table><tr><th>k</th><th>f_k</th><th>1[y=k]</th><th>dL/dz${L}_k</th><th>f_k now</th></tr>${rows}</table>` +
      `<div>η = ${fmt(tr.lr * s, 4)} (lr × ${fmt(s, 3)}), t = ${t.toFixed(3)}: L = −log f_${y}: ${fmt(tr.loss, 4)} → <b>${fmt(-Math.log(fNow[y]), 4)}</b>. ${lines}${progress}</div>`;
  }

  end() {
    this.stopTimer(); this.frozen = null; this.k = 0; this.drawn = null;
    this.inflight = null;      // an answer still on its way is kept when it comes; the next watch asks afresh
    this.els.t.value = 0; this.els.play.innerHTML = "&#9654; Watch the step";
    if (this.view.anim) { this.view.anim = null; this.view.draw(); }
  }
}
