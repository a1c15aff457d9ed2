// One SGD step you can watch: from the trace of one token (the server's numbers, see backprop.py), the page
// moves the weights from W to W + t * s * dW_step (t from 0 to 1, s scales the learning rate) and redraws the
// map of that network, its hinge lines (old position dotted) and the boundary before (grey) and now (black).
// The network is evaluated here in JavaScript on a grid: the trace carries every weight and its step.
import { CLASS_LUT, fmt } from "./colors.js";

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
  constructor(view, els) {
    this.view = view; this.els = els; this.trace = null; this.layers = null; this.timer = null;
    els.scale.oninput = () => { els.scaleV.textContent = fmt(this.scale, 3); if (this.active) this.show(+els.t.value); };
    els.t.oninput = () => { this.stopTimer(); this.show(+els.t.value); };
    els.play.onclick = () => (this.active && !this.timer && +els.t.value >= 1 ? this.end() : this.play());
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

  play() {
    if (!this.layers) return;
    this.frozen = this.trace;          // the step being watched, even if newer traces arrive meanwhile
    this.stopTimer();
    const t0 = performance.now(), ms = 1600;
    const tick = () => {
      const t = Math.min(1, (performance.now() - t0) / ms);
      this.els.t.value = t; this.show(t);
      if (t < 1) this.timer = requestAnimationFrame(tick); else { this.timer = null; this.els.play.textContent = "Back to the live map"; }
    };
    this.els.play.textContent = "Watching…";
    this.timer = requestAnimationFrame(tick);
  }
  stopTimer() { if (this.timer) cancelAnimationFrame(this.timer); this.timer = null; }

  // Draw the network at fraction t of the (scaled) step.
  show(t) {
    const tr = this.frozen || this.trace, layers = tr && traceNetwork(tr);
    if (!layers) return;
    const view = this.view, box = view.box.slice(), s = this.scale;
    const params = layers.reduce((n, l) => n + l.b.length * (l.W[0].length + 1), 0);
    const res = Math.max(40, Math.min(150, Math.round(Math.sqrt(6e6 / params))));
    const before = this._cache && this._cache.key === JSON.stringify([box, res, tr.x, tr.loss]) ? this._cache
      : (this._cache = { key: JSON.stringify([box, res, tr.x, tr.loss]), ...classMap(weightsAt(layers, 0), box, res) });
    const net = weightsAt(layers, t * s), now = classMap(net, box, res);
    const img = new ImageData(res, res), d = img.data;
    const edge = (k, i) => { const c = i % res; return (c + 1 < res && k[i] !== k[i + 1]) || (i + res < k.length && k[i] !== k[i + res]); };
    for (let i = 0; i < res * res; i++) {
      const lut = CLASS_LUT[now.k[i] % 10], c = now.conf[i];
      let rgb = [lut[3 * c], lut[3 * c + 1], lut[3 * c + 2]];
      if (edge(before.k, i)) rgb = [150, 150, 150];
      if (edge(now.k, i)) rgb = [17, 24, 39];
      d.set([...rgb, 255], 4 * i);
    }
    const canvas = (this._canvas ||= document.createElement("canvas"));
    canvas.width = res; canvas.height = res; canvas.getContext("2d").putImageData(img, 0, 0);
    const first = l => ({ W: l.W, b: l.b });
    const w0 = layers[0], hidden = layers.length > 1;
    view.anim = {
      image: canvas, box,
      hingesOld: hidden ? first(w0) : null,
      hingesNow: hidden ? { W: w0.W.map((row, j) => row.map((v, i) => v + t * s * w0.dW[j][i])), b: w0.b.map((v, j) => v + t * s * w0.db[j]) } : null,
    };
    view.draw();
    this._outputs(tr, net, t, s);
  }

  // dL/dz2 = f - 1[y=k] on the outputs, and what the step does to this token's f and loss.
  _outputs(tr, net, t, s) {
    const buf = [new Float64Array(2), ...net.map(l => new Float64Array(l.out))];
    const fNow = softmax(forward(net, tr.x[0], tr.x[1], buf)), y = tr.target;
    const dz = tr.layers[tr.layers.length - 1].dz, L = tr.layers.length;
    const rows = tr.f.map((f, k) => `<tr><td>${k}</td><td>${fmt(f, 3)}</td><td>${k === y ? 1 : 0}</td>` +
      `<td class="${dz[k] >= 0 ? "pos" : "neg"}"><b>${fmt(dz[k], 3)}</b></td><td>${fmt(fNow[k], 3)}</td></tr>`).join("");
    this.els.out.innerHTML = `<table><tr><th>k</th><th>f_k</th><th>1[y=k]</th><th>dL/dz${L}_k</th><th>f_k now</th></tr>${rows}</table>` +
      `<div>η = ${fmt(tr.lr * s, 4)} (lr × ${fmt(s, 3)}), t = ${t.toFixed(2)}: L = −log f_${y}: ${fmt(tr.loss, 4)} → <b>${fmt(-Math.log(fNow[y]), 4)}</b>. ` +
      `${L > 1 ? "Dotted: each hinge line before the step; dashed: now. " : ""}Grey: the boundary before; black: now.</div>`;
  }

  end() {
    this.stopTimer(); this.frozen = null; this._cache = null;
    this.els.t.value = 0; this.els.play.innerHTML = "&#9654; Watch the step";
    if (this.view.anim) { this.view.anim = null; this.view.draw(); }
  }
}
