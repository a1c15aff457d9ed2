// Side views: metrics table, loss/accuracy curves, confusion matrix, thumbnails, hidden space, back-prop trace.
import { PALETTE, signed, fmt } from "./colors.js";
import { niceTicks } from "./plot.js";

function setupCanvas(c) {
  const r = c.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
  if (c.width !== Math.round(r.width * dpr) || c.height !== Math.round(r.height * dpr)) {
    c.width = Math.round(r.width * dpr); c.height = Math.round(r.height * dpr);
  }
  const ctx = c.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, r.width, r.height);
  return [ctx, r.width, r.height];
}

// ------------------------------------------------------------------------------------------- metrics
export function metricsTable(el, m, task) {
  const rows = task === "regression"
    ? [["loss (½ squared error)", "loss"], ["MSE", "mse"], ["R²", "r2"], ["points", "n"]]
    : [["loss (cross-entropy)", "loss"], ["accuracy", "accuracy"], ["points", "n"]];
  const cell = (s, k) => s ? (k === "n" ? s[k] : fmt(s[k], k === "accuracy" ? 3 : 4)) : "–";
  el.innerHTML = `<tr><th></th><th>train</th><th>test</th></tr>` +
    rows.map(([label, k]) => `<tr><td>${label}</td><td data-k="train-${k}">${cell(m.train, k)}</td><td data-k="test-${k}">${cell(m.test, k)}</td></tr>`).join("");
}

// Loss and accuracy (or R²) curves over epochs; with a comparison, run B's curves (purple) over run A's.
export class Curves {
  constructor(lossCanvas, accCanvas) { this.lossC = lossCanvas; this.accC = accCanvas; this.clear(); }
  clear() { this.run = null; this.data = []; this.dataB = null; }
  add(m) { this.data = this._add(this.data, m); }
  addB(m) { this.dataB = this._add(this.dataB || [], m); }
  _add(data, m) {
    if (m.run !== this.run) { this.data = []; this.dataB = this.dataB && []; this.run = m.run; data = []; }
    const last = data[data.length - 1];
    if (last && last.e === m.epoch_float && last.u === m.updates) return data;
    const acc = s => s ? (s.accuracy ?? s.r2 ?? null) : null;
    data.push({ e: m.epoch_float, u: m.updates, tl: m.train?.loss, vl: m.test?.loss, ta: acc(m.train), va: acc(m.test) });
    if (data.length > 1500) data = data.filter((_, i) => i % 2 === 0 || i === data.length - 1);
    return data;
  }
  draw(task) {
    this._chart(this.lossC, "loss", "tl", "vl", true);
    this._chart(this.accC, task === "regression" ? "R²" : "accuracy", "ta", "va", false);
  }
  _chart(c, title, a, b, log) {
    const [ctx, W, H] = setupCanvas(c), L = 40, R = 8, T = 16, B = 18;
    ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#374151"; ctx.textBaseline = "top";
    ctx.fillText(title, L, 1);
    const two = !!(this.dataB && this.dataB.length);
    const series = [[this.data, a, "#2563eb", [], two ? "A train" : "train"], [this.data, b, "#ea580c", [4, 3], two ? "A test" : "test"]];
    if (two) series.push([this.dataB, a, "#7c3aed", [], "B train"], [this.dataB, b, "#7c3aed", [2, 2], "B test"]);
    const shown = series.filter(([d, k]) => d.some(p => p[k] !== null && p[k] !== undefined));
    shown.forEach(([, , col, dash, n], i) => {
      const x = W - 56 * (shown.length - i); ctx.strokeStyle = col; ctx.setLineDash(dash); ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(x, 7); ctx.lineTo(x + 12, 7); ctx.stroke(); ctx.setLineDash([]);
      ctx.fillText(n, x + 15, 1);
    });
    const all = two ? this.data.concat(this.dataB) : this.data;
    const vals = all.flatMap(p => [p[a], p[b]]).filter(v => v !== null && v !== undefined && Number.isFinite(v) && (!log || v > 0));
    ctx.strokeStyle = "#d1d5db"; ctx.strokeRect(L + .5, T + .5, W - L - R, H - T - B);
    if (all.length < 2 || !vals.length) return;
    const e0 = Math.min(...all.map(p => p.e)), e1 = Math.max(Math.max(...all.map(p => p.e)), e0 + 1e-9);
    let lo = Math.min(...vals), hi = Math.max(...vals);
    if (!log) { lo = Math.max(-1, Math.min(0, lo)); hi = 1; }   // accuracy in [0, 1]; R^2 shown from -1
    const tf = v => log ? Math.log10(v) : v;
    let tlo = tf(lo), thi = tf(hi); if (thi - tlo < 1e-9) { thi += 0.5; tlo -= 0.5; }
    const X = e => L + (e - e0) / (e1 - e0) * (W - L - R), Y = v => T + (thi - tf(v)) / (thi - tlo) * (H - T - B);
    ctx.fillStyle = "#6b7280"; ctx.textAlign = "right"; ctx.textBaseline = "middle";
    const yt = log ? [tlo, (tlo + thi) / 2, thi].map(v => 10 ** v) : niceTicks(tlo, thi, 3);
    for (const v of yt) ctx.fillText(tick(v), L - 4, Y(v));
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const v of niceTicks(e0, e1, 4)) ctx.fillText(String(+v.toFixed(2)), X(v), H - B + 3);
    ctx.textAlign = "right"; ctx.fillText("epoch", W - R, H - B + 3);
    ctx.textAlign = "left";
    for (const [d, k, col, dash] of series) {
      ctx.strokeStyle = col; ctx.setLineDash(dash); ctx.lineWidth = 1.6; ctx.beginPath();
      let started = false;
      for (const p of d) {
        const v = p[k];
        if (v === null || v === undefined || !Number.isFinite(v) || (log && v <= 0)) { started = false; continue; }
        started ? ctx.lineTo(X(p.e), Y(v)) : ctx.moveTo(X(p.e), Y(v)); started = true;
      }
      ctx.stroke(); ctx.setLineDash([]);
    }
  }
}

export function confusion(el, m) {
  const one = (s, name) => {
    if (!s || !s.confusion) return "";
    const C = s.confusion, max = Math.max(1, ...C.flat());
    return `<table data-split="${name}"><caption>${name}</caption>` + C.map((row, i) => "<tr>" + row.map((v, j) => {
      const t = v / max, col = i === j ? `rgba(37,99,235,${0.12 + 0.7 * t})` : `rgba(220,38,38,${v ? 0.15 + 0.7 * t : 0})`;
      return `<td style="background:${col}" title="true ${i}, predicted ${j}">${v}</td>`;
    }).join("") + "</tr>").join("") + "</table>";
  };
  el.innerHTML = one(m.train, "train") + one(m.test, "test");
}

export function tick(v) {
  const a = Math.abs(v);      // "1e195", not "1e+195": the axis has room for about five characters
  return a === 0 ? "0" : a >= 0.01 && a < 1e4 ? String(+v.toPrecision(2)) : v.toExponential(0).replace("e+", "e");
}

// ------------------------------------------------------------------------------------------- thumbnails
export class Thumbs {
  constructor(el, app) { this.el = el; this.app = app; this.key = ""; }
  update(f, activations, sizes) {
    const counts = f.layers.map(u => u.length), key = counts.join(",") + "|" + f.w + "x" + f.h + "|" + sizes.join(",");
    if (key !== this.key) { this._build(f, counts, sizes); this.key = key; }
    f.layers.forEach((units, l) => units.forEach((v, j) => this._paint(this.canvases[l][j], v, f.w, f.h)));
  }
  _build(f, counts, sizes) {
    this.el.innerHTML = ""; this.canvases = [];
    counts.forEach((n, l) => {
      const box = document.createElement("div"); box.className = "thumb-layer";
      const total = sizes[l + 1];
      box.innerHTML = `<div class="lbl">layer ${l + 1}: ${total} units${total > n ? ` (first ${n} shown)` : ""}</div>`;
      const grid = document.createElement("div"); grid.className = "thumb-grid";
      const row = [];
      for (let j = 0; j < n; j++) {
        const c = document.createElement("canvas");
        c.width = f.h > 1 ? f.w : 64; c.height = f.h > 1 ? f.h : 40;
        c.dataset.layer = l + 1; c.dataset.unit = j; c.title = `layer ${l + 1}, unit ${j}`;
        // hovering shows the unit; a phone has no hover: a tap shows it, a second tap the decision map again
        // (a unit shown by a tap stays until tapped again, whatever the emulated mouse does meanwhile)
        c.addEventListener("mouseenter", () => { if (!this.tapped) this.app.focusUnit(l + 1, j); });
        c.addEventListener("mouseleave", () => { if (!this.tapped) this.app.focusUnit(null); });
        c.addEventListener("pointerup", e => {
          if (e.pointerType !== "touch") return;
          const again = this.tapped && this.tapped[0] === l + 1 && this.tapped[1] === j;
          this.tapped = again ? null : [l + 1, j];
          this.app.focusUnit(again ? null : l + 1, j);
        });
        grid.appendChild(c); row.push(c);
      }
      box.appendChild(grid); this.el.appendChild(box); this.canvases.push(row);
    });
    if (!counts.length) this.el.innerHTML = `<div class="muted">No hidden layer: the linear classifier, argmax(Wx + b); its regions are convex.</div>`;
  }
  _paint(c, v, w, h) {
    const ctx = c.getContext("2d");
    if (h > 1) {
      const img = new ImageData(w, h);
      for (let i = 0; i < w * h; i++) { const [r, g, b] = signed(v[i] / 127); img.data.set([r, g, b, 255], 4 * i); }
      ctx.putImageData(img, 0, 0);
    } else {   // one input: the unit's curve h(x)
      ctx.clearRect(0, 0, c.width, c.height);
      let lo = 0, hi = 0; for (const a of v) { lo = Math.min(lo, a); hi = Math.max(hi, a); }
      const Y = a => c.height - 4 - (a - lo) / ((hi - lo) || 1) * (c.height - 8);
      ctx.strokeStyle = "#d1d5db"; ctx.beginPath(); ctx.moveTo(0, Y(0)); ctx.lineTo(c.width, Y(0)); ctx.stroke();
      ctx.strokeStyle = "#2563eb"; ctx.lineWidth = 1.5; ctx.beginPath();
      for (let i = 0; i < w; i++) { const x = i / (w - 1) * c.width; i ? ctx.lineTo(x, Y(v[i])) : ctx.moveTo(x, Y(v[i])); }
      ctx.stroke();
    }
  }
  mark(layer, unit) {
    this.el.querySelectorAll("canvas").forEach(c => c.classList.toggle("on", +c.dataset.layer === layer && +c.dataset.unit === unit));
  }
}

// ------------------------------------------------------------------------------------------- hidden space
export function drawHidden(c, msg, points, task) {
  const [ctx, W, H] = setupCanvas(c), P = 26;
  ctx.font = "11px system-ui, sans-serif"; ctx.fillStyle = "#6b7280";
  if (!msg || !msg.lines || !msg.lines.length) { ctx.fillText("Choose a hidden layer and two units.", 10, 20); return; }
  const all = msg.lines.flat().concat(msg.points || []);
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const [a, b] of all) { x0 = Math.min(x0, a); x1 = Math.max(x1, a); y0 = Math.min(y0, b); y1 = Math.max(y1, b); }
  const px = (x1 - x0) * 0.06 || 1, py = (y1 - y0) * 0.06 || 1; x0 -= px; x1 += px; y0 -= py; y1 += py;
  const X = a => P + (a - x0) / (x1 - x0) * (W - P - 8), Y = b => 8 + (y1 - b) / (y1 - y0) * (H - P - 8);
  ctx.strokeStyle = "#d1d5db"; ctx.strokeRect(P, 8, W - P - 8, H - P - 8);
  ctx.strokeStyle = "rgba(75,85,99,0.45)"; ctx.lineWidth = 1;
  for (const line of msg.lines) {
    ctx.beginPath(); line.forEach(([a, b], i) => i ? ctx.lineTo(X(a), Y(b)) : ctx.moveTo(X(a), Y(b))); ctx.stroke();
  }
  (msg.points || []).forEach(([a, b], i) => {
    const p = points[i]; if (!p) return;
    ctx.beginPath(); ctx.arc(X(a), Y(b), 3.2, 0, 2 * Math.PI);
    const col = task === "regression" ? "#111827" : PALETTE[p[2] % 10];
    if (p[3]) { ctx.strokeStyle = col; ctx.lineWidth = 1.5; ctx.stroke(); } else { ctx.fillStyle = col; ctx.fill(); }
  });
  ctx.fillStyle = "#4b5563"; ctx.textAlign = "center";
  ctx.fillText(`h${msg.layer}[${msg.i}]`, (W + P) / 2, H - 12);
  ctx.save(); ctx.translate(11, H / 2); ctx.rotate(-Math.PI / 2); ctx.fillText(`h${msg.layer}[${msg.j}]`, 0, 0); ctx.restore();
}

// ------------------------------------------------------------------------------------------- back-prop trace
const vec = (v, n = 8) => {
  if (!Array.isArray(v)) return fmt(v, 4);
  const s = v.slice(0, n).map(x => `<span class="${x >= 0 ? "pos" : "neg"}">${fmt(x, 4)}</span>`).join(" ");
  return `[${s}${v.length > n ? ` … (${v.length})` : ""}]`;
};
const mat = (A, r = 6, c = 6) => {
  if (!Array.isArray(A[0])) return vec(A);
  const rows = A.slice(0, r).map(row => "<tr>" + row.slice(0, c).map(x => `<td class="${x >= 0 ? "pos" : "neg"}">${fmt(x, 4)}</td>`).join("") +
    (row.length > c ? `<td>…</td>` : "") + "</tr>").join("");
  return `<table>${rows}${A.length > r ? `<tr><td>⋮ (${A.length}×${A[0].length})</td></tr>` : ""}</table>`;
};

// g'(z) of each activation, from z and h = g(z): the ReLU's is the unit step u(z) = 1[z > 0] (0 at z = 0).
const DACT = {
  relu: (z, h) => (z > 0 ? 1 : 0), leaky_relu: (z, h) => (z > 0 ? 1 : 0.01), tanh: (z, h) => 1 - h * h,
  sigmoid: (z, h) => h * (1 - h), identity: () => 1,
};

// The chain rule in the order it is computed: dL/dz(L), dL/dW(L), dL/db(L), dL/dh(L-1), g'(z(L-1)), dL/dz(L-1), ...
export function renderTrace(el, t) {
  const L = t.layers.length, cls = t.task === "classification";
  const row = (name, eq, val) => `<tr><th>${name}</th><td class="eq">${eq}</td><td style="text-align:left">${val}</td></tr>`;
  const rows = [];
  rows.push(`<div><b>token</b> x = ${vec(t.x)}, ${cls ? `class y = ${t.target}` : `target y = ${fmt(t.target, 4)}`}</div>`);
  rows.push("<h4>Forward</h4><table>");
  t.layers.forEach((r, i) => {
    const l = r.layer;
    rows.push(row(`z${l}`, `= W${l} ${i ? `h${l - 1}` : "x"} + b${l}`, vec(r.z)));
    if (r.h) rows.push(row(`h${l}`, `= ${r.activation === "relu" ? "max(0, z" + l + ")" : r.activation + "(z" + l + ")"}`, vec(r.h)));
  });
  rows.push(row("f", cls ? `= softmax(z${L})` : `= z${L}`, vec(t.f)));
  rows.push(row("L", cls ? `= −log f_${t.target}` : "= ½ (f − y)²", fmt(t.loss, 5)) + "</table>");
  rows.push("<h4>Backward (chain rule, in the order computed)</h4><table>");
  for (let i = L - 1; i >= 0; i--) {
    const r = t.layers[i], l = r.layer, below = i ? `h${l - 1}` : "x";
    if (i === L - 1) rows.push(row(`dL/dz${l}`, cls ? "= f − 1[y=k]" : "= f − y", vec(r.dz)));
    else {
      const dact = DACT[r.activation] || DACT.identity, mask = r.z.map((z, j) => dact(z, r.h[j]));
      const relu = r.activation === "relu";
      rows.push(row(`dL/dh${l}`, `= W${l + 1}ᵀ dL/dz${l + 1}`, vec(r.dh)));
      rows.push(row(relu ? `u(z${l})` : `g'(z${l})`, relu ? `= 1[z${l} > 0] (ReLU mask)` : `(${r.activation})`, vec(mask)));
      rows.push(row(`dL/dz${l}`, `= dL/dh${l} ⊙ ${relu ? "u" : "g'"}(z${l})`, vec(r.dz)));
    }
    rows.push(row(`dL/dW${l}`, `= dL/dz${l} ${below}ᵀ`, mat(r.dW)));
    rows.push(row(`dL/db${l}`, `= dL/dz${l}`, vec(r.db)));
  }
  rows.push("</table>");
  rows.push(`<h4>One SGD step on this token: W ← W − η dL/dW (η = ${fmt(t.lr, 4)}${t.weight_decay ? `, L2 ${t.weight_decay}` : ""})</h4>`);
  for (let i = L - 1; i >= 0; i--) {
    const r = t.layers[i];
    rows.push(`<div>ΔW${r.layer} = −η dL/dW${r.layer}${t.weight_decay ? ` − η L2 W${r.layer}` : ""}</div>${mat(r.dW_step)}<div>Δb${r.layer} = ${vec(r.db_step)}</div>`);
  }
  rows.push(`<div>loss ${fmt(t.loss, 5)} → <b>${fmt(t.loss_after, 5)}</b>; f ${vec(t.f)} → ${vec(t.f_after)}</div>`);
  el.classList.remove("muted");
  el.innerHTML = rows.join("");
}
