// Exercise mode: the lecture's quiz. Pick an exercise, drag and rotate each hidden unit's hinge line
// w_j x + b_j = 0 on the exercise map (the server sets row j of W1 and b1), set the output weights in the
// table or let the server solve them, and see the exact grade of relunet.exercises.check after every change:
// pass / fail, every token's verdict, the units and linear regions used, the exact decision boundary and
// the exact region of class 1 drawn over the target.
//
// Dragging: a round handle turns the line about the other handle; the line itself moves it without turning.
// Handles snap to a 0.05 grid (untick the box for free placement), so a line can go exactly through a
// polygon's corners. The side where unit j is active (w_j x + b_j > 0) carries its label "h_j".
//
// Progress lives in the URL hash after the experiment's own part: "#<experiment>!ex=xor&done=lecture.xor&net=...".
import { registerPanel } from "./registry.js";
import { PALETTE, fmt } from "./colors.js";

const SNAP = 0.05;
const PAD = 30;             // pixels around the exercise box
const SEND_EVERY = 90;      // ms between hinge updates while dragging

const CSS = `
.relunet-app .ex-bar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.relunet-app .ex-badge { font-weight: 700; padding: 2px 8px; border-radius: 6px; font-size: 12px; }
.relunet-app .ex-badge.pass { background: #dcfce7; color: #166534; }
.relunet-app .ex-badge.fail { background: #fee2e2; color: #991b1b; }
.relunet-app .ex-text { font-size: 13px; margin: 6px 0; line-height: 1.4; }
.relunet-app .ex-body { display: grid; grid-template-columns: minmax(260px, 1fr) minmax(240px, 1fr); gap: 10px; }
.relunet-app .ex-body > * { min-width: 0; }
@media (max-width: 900px) { .relunet-app .ex-body { grid-template-columns: minmax(0, 1fr); } }
.relunet-app .ex-map { width: 100%; touch-action: none; border: 1px solid var(--line, #e5e7eb); border-radius: 8px; cursor: crosshair; }
.relunet-app .ex-grade { font-size: 12px; line-height: 1.45; }
.relunet-app .ex-grade ul { margin: 4px 0; padding-left: 18px; color: #991b1b; }
.relunet-app .ex-table { overflow-x: auto; }
.relunet-app .ex-weights { border-collapse: collapse; font-size: 12px; }
.relunet-app .ex-weights th, .relunet-app .ex-weights td { padding: 1px 3px; text-align: right; }
.relunet-app .ex-weights input { width: 58px; font-size: 12px; }
.relunet-app .ex-weights td:first-child { text-align: left; color: #6b7280; }
`;

registerPanel("exercises", {
  place: "main",
  title: "Exercises: the lecture's quiz",
  mount(el, ctx) { ctx.app.exercise = new ExercisePanel(el, ctx); },
  messages: { exercise(m, ctx) { ctx.app.exercise && ctx.app.exercise.onMessage(m); } },
  onState(state, ctx) { ctx.app.exercise && ctx.app.exercise.start(); },
  // the lecture's last step: its quiz, on the lecture's own exercise (kept as it is when already open)
  lecture(ctx) { const p = ctx.app.exercise; if (p && !(p.ex && p.ex.name === "lecture")) p.open("lecture"); },
});

class ExercisePanel {
  constructor(el, ctx) {
    this.el = el; this.ctx = ctx; this.send = ctx.send;
    this.ex = null; this.result = null; this.weights = null; this.cells = []; this.list = [];
    this.handles = [];          // per unit: [[x, y], [x, y]] in data coordinates
    this.drag = null; this.lastSend = 0; this.started = false;
    this.seq = 0; this.settled = true;   // settled: the last reply answers the last change sent
    const saved = parseHash(ctx.app.extHash || "");
    this.done = new Set((saved.done || "").split(".").filter(Boolean));
    this.saved = saved;
    const style = el.ownerDocument.createElement("style");
    style.textContent = CSS;
    el.appendChild(style);
    const body = el.ownerDocument.createElement("div");
    body.className = "ex";
    body.innerHTML = `
      <div class="ex-bar"><select class="ex-pick" aria-label="exercise"></select><span class="ex-badge"></span></div>
      <p class="ex-text"></p>
      <div class="ex-body">
        <canvas class="ex-map" aria-label="exercise map: drag the hinge lines"></canvas>
        <div>
          <div class="ex-grade" aria-live="polite"></div>
          <div class="btnrow">
            <button class="ex-add" title="one more hidden unit">+ unit</button>
            <button class="ex-remove" title="one hidden unit less">− unit</button>
            <button class="ex-solve" title="fit the output weights to the target with the hinge lines frozen">Solve output weights</button>
            <button class="ex-ref">Reference solution</button>
          </div>
          <label class="hint"><input type="checkbox" class="ex-snap" checked> snap handles to a ${SNAP} grid</label>
          <div class="ex-table"><table class="ex-weights"></table></div>
          <p class="hint">Unit j: h_j = ReLU(w_j · x + b_j). Output z_k = W2[k, :] h + b2[k]; class 1 where z_1 > z_0.
            <i>Solve output weights</i> fits W2 and b2 by the two-class cross-entropy (logistic regression on h, a
            convex problem solved by Newton's method) with the hinge lines frozen; grading is exact either way.</p>
          <details class="hint"><summary>Hint</summary><span class="ex-hint"></span></details>
        </div>
      </div>`;
    el.appendChild(body);
    this.q = sel => body.querySelector(sel);
    this.canvas = this.q(".ex-map");
    this.c2d = this.canvas.getContext("2d");
    this.q(".ex-pick").onchange = e => this.open(e.target.value);
    this.q(".ex-add").onclick = () => this.send({ type: "exercise_units", count: this.units() + 1 });
    this.q(".ex-remove").onclick = () => this.send({ type: "exercise_units", count: this.units() - 1 });
    this.q(".ex-solve").onclick = () => { this.touched = true; this.send({ type: "exercise_solve" }); };
    this.q(".ex-ref").onclick = () => { this.touched = true; this.send({ type: "exercise_reference" }); };
    this._bind();
    new ResizeObserver(() => this.resize()).observe(this.canvas);
  }

  // The first state from the server: open the exercise of the link, or the first one.
  start() {
    if (this.started) return;
    this.started = true;
    const s = this.saved;
    const net = s.net ? decodeNet(s.net) : null;
    this.touched = !!s.ex;
    this.send(net ? { type: "exercise_open", name: s.ex || "lecture", net } : { type: "exercise_open", name: s.ex || "lecture" });
  }

  open(name) { this.touched = true; this.handles = []; this.send({ type: "exercise_open", name }); }
  units() { return this.weights ? this.weights.W1.length : 0; }

  onMessage(m) {
    if (m.exercise) { this.ex = m.exercise; this.list = m.list || this.list; this.handles = []; this.drag = null; this.resize(); }
    // While a line is being dragged, and until the reply to its last position arrives, replies to its earlier
    // positions must not pull it (and its handles) back.
    const j = this.editUnit, early = this.drag || (m.seq !== undefined && m.seq !== null && m.seq < this.seq);
    if (early && j !== undefined && this.weights && m.weights.W1.length === this.weights.W1.length) {
      m.weights.W1[j] = this.weights.W1[j]; m.weights.b1[j] = this.weights.b1[j];
    }
    this.settled = !this.drag && !(m.seq !== undefined && m.seq !== null && m.seq < this.seq);
    this.result = m.result; this.weights = m.weights; this.cells = m.cells; this.summary = m.summary;
    if (m.result.passed) this.done.add(m.name);
    this._syncHandles();
    this.render();
    if (this.touched) this._saveHash();
  }

  // ---------------------------------------------------------------------------------------- geometry
  resize() {
    if (!this.ex) return;
    const [x0, x1, y0, y1] = this.ex.box, r = this.canvas.getBoundingClientRect();
    const W = Math.max(200, r.width), H = Math.round((W - 2 * PAD) * (y1 - y0) / (x1 - x0) + 2 * PAD);
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.height = H + "px";
    this.canvas.width = Math.round(W * dpr); this.canvas.height = Math.round(H * dpr);
    this.c2d.setTransform(dpr, 0, 0, dpr, 0, 0);
    this.W = W; this.H = H; this.scale = (W - 2 * PAD) / (x1 - x0);
    this.draw();
  }
  toPx([x, y]) { const b = this.ex.box; return [PAD + (x - b[0]) * this.scale, this.H - PAD - (y - b[2]) * this.scale]; }
  toData(px, py) { const b = this.ex.box; return [b[0] + (px - PAD) / this.scale, b[2] + (this.H - PAD - py) / this.scale]; }

  // The part of unit j's line inside the box (two points), or null.
  segment(w, b) {
    const [x0, x1, y0, y1] = this.ex.box, pts = [];
    if (w[1] !== 0) for (const x of [x0, x1]) { const y = -(b + w[0] * x) / w[1]; if (y >= y0 - 1e-12 && y <= y1 + 1e-12) pts.push([x, y]); }
    if (w[0] !== 0) for (const y of [y0, y1]) { const x = -(b + w[1] * y) / w[0]; if (x >= x0 - 1e-12 && x <= x1 + 1e-12) pts.push([x, y]); }
    if (pts.length < 2) return null;
    const t = p => -w[1] * p[0] + w[0] * p[1];
    pts.sort((p, q) => t(p) - t(q));
    return [pts[0], pts[pts.length - 1]];
  }

  // Keep the handles the student placed while they still lie on the server's line; else put new ones at a
  // quarter and three quarters of the line's part in the box (a line outside the box gets handles at its
  // point nearest the box's centre).
  _syncHandles() {
    const { W1, b1 } = this.weights;
    this.handles = W1.map((w, j) => {
      const h = this.handles[j], n = Math.hypot(w[0], w[1]);
      if (h && h.every(p => Math.abs(w[0] * p[0] + w[1] * p[1] + b1[j]) <= 1e-9 * n * (1 + Math.abs(p[0]) + Math.abs(p[1])))) return h;
      const s = this.segment(w, b1[j]);
      if (s) return [lerp(s[0], s[1], 0.25), lerp(s[0], s[1], 0.75)];
      const [x0, x1, y0, y1] = this.ex.box, c = [(x0 + x1) / 2, (y0 + y1) / 2];
      const d = (w[0] * c[0] + w[1] * c[1] + b1[j]) / (n * n), p = [c[0] - d * w[0], c[1] - d * w[1]];
      const u = [-w[1] / n * 0.2, w[0] / n * 0.2];
      return [[p[0] - u[0], p[1] - u[1]], [p[0] + u[0], p[1] + u[1]]];
    });
  }

  // (w, b) of the line through the unit's handles: |w| and the active side kept from the current weights.
  _lineFrom(j, [p, q]) {
    const old = this.weights.W1[j], n = Math.hypot(old[0], old[1]) || 1;
    const d = [q[0] - p[0], q[1] - p[1]], len = Math.hypot(d[0], d[1]);
    if (len < 1e-9) return null;
    let w = [-d[1] / len * n, d[0] / len * n];
    if (w[0] * old[0] + w[1] * old[1] < 0) w = [-w[0], -w[1]];
    return { w, b: -(w[0] * p[0] + w[1] * p[1]) };
  }

  // Page pixel position of handle k (0 or 1) of unit j, and of a point of the plane (for tests and the curious).
  handlePx(j, k) { return this.pagePx(this.handles[j][k]); }
  pagePx(p) {
    const r = this.canvas.getBoundingClientRect(), [px, py] = this.toPx(p);
    return [r.left + px, r.top + py];
  }

  _bind() {
    const c = this.canvas;
    const pos = e => { const r = c.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
    c.addEventListener("pointerdown", e => {
      if (!this.ex || !this.weights) return;
      const [px, py] = pos(e);
      const hit = this._hit(px, py);
      if (!hit) return;
      this.touched = true;
      this.drag = { ...hit, start: this.toData(px, py), orig: this.handles[hit.unit].map(p => p.slice()) };
      c.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    c.addEventListener("pointermove", e => {
      const d = this.drag; if (!d) return;
      const [px, py] = pos(e), at = this.toData(px, py), snap = this.q(".ex-snap").checked;
      const sn = p => snap ? [Math.round(p[0] / SNAP) * SNAP, Math.round(p[1] / SNAP) * SNAP] : p;
      let h;
      if (d.handle >= 0) {
        h = d.orig.map(p => p.slice());
        h[d.handle] = sn(at);
      } else {
        let dx = at[0] - d.start[0], dy = at[1] - d.start[1];
        if (snap) { dx = Math.round(dx / SNAP) * SNAP; dy = Math.round(dy / SNAP) * SNAP; }
        h = d.orig.map(p => [p[0] + dx, p[1] + dy]);
      }
      const line = this._lineFrom(d.unit, h);
      if (!line) return;
      this.handles[d.unit] = h;
      this.weights.W1[d.unit] = line.w; this.weights.b1[d.unit] = line.b;
      this.stale = true;
      this.draw();
      const now = performance.now();
      if (now - this.lastSend > SEND_EVERY) { this.lastSend = now; this._sendHinge(d.unit); }
    });
    const end = () => { if (this.drag) { this._sendHinge(this.drag.unit); this.drag = null; } };
    c.addEventListener("pointerup", end);
    c.addEventListener("pointercancel", end);
  }

  _sendHinge(j) {
    this.seq = (this.seq || 0) + 1; this.editUnit = j;
    this.send({ type: "exercise_hinge", unit: j, w: this.weights.W1[j].map(Number), b: Number(this.weights.b1[j]), seq: this.seq });
  }

  // The handle (within 10 px) or line (within 6 px) under the pointer.
  _hit(px, py) {
    let best = null, bd = 10;
    this.handles.forEach((h, j) => h.forEach((p, k) => {
      const [a, b] = this.toPx(p), d = Math.hypot(a - px, b - py);
      if (d < bd) { bd = d; best = { unit: j, handle: k }; }
    }));
    if (best) return best;
    bd = 6;
    this.weights.W1.forEach((w, j) => {
      const n = Math.hypot(w[0], w[1]), [x, y] = this.toData(px, py);
      const d = n ? Math.abs(w[0] * x + w[1] * y + this.weights.b1[j]) / n * this.scale : Infinity;
      if (d < bd) { bd = d; best = { unit: j, handle: -1 }; }
    });
    return best;
  }

  // ---------------------------------------------------------------------------------------- drawing
  draw() {
    if (!this.ex || !this.W) return;
    const g = this.c2d, ex = this.ex, res = this.result;
    g.clearRect(0, 0, this.W, this.H);
    const [p0, p1] = [this.toPx([ex.box[0], ex.box[3]]), this.toPx([ex.box[1], ex.box[2]])];
    g.save();
    g.beginPath(); g.rect(p0[0], p0[1], p1[0] - p0[0], p1[1] - p0[1]); g.clip();
    g.fillStyle = tint(PALETTE[0], 0.16); g.fillRect(p0[0], p0[1], p1[0] - p0[0], p1[1] - p0[1]);
    g.fillStyle = tint(PALETTE[1], 0.3);
    for (const poly of this.cells || []) this._poly(poly), g.fill();
    if (ex.kind === "region" && res) {
      g.fillStyle = "rgba(220, 38, 38, 0.35)";
      for (const poly of (res.missed || []).concat(res.extra || [])) this._poly(poly), g.fill();
      g.strokeStyle = "#059669"; g.lineWidth = 2.5; g.setLineDash([7, 4]);
      this._poly(ex.polygon); g.stroke(); g.setLineDash([]);
    }
    // the exact decision boundary (stale while a line is being dragged: faded)
    if (res && res.boundary) {
      g.strokeStyle = this.stale ? "rgba(17,24,39,0.3)" : "#111827"; g.lineWidth = 2.6; g.lineCap = "round";
      g.beginPath();
      for (const [a, b] of res.boundary) { const [x, y] = this.toPx(a), [u, v] = this.toPx(b); g.moveTo(x, y); g.lineTo(u, v); }
      g.stroke(); g.lineCap = "butt";
    }
    this._hinges();
    this._points();
    g.restore();
    g.strokeStyle = "#9ca3af"; g.lineWidth = 1; g.strokeRect(p0[0] + .5, p0[1] + .5, p1[0] - p0[0] - 1, p1[1] - p0[1] - 1);
    g.fillStyle = "#4b5563"; g.font = "11px system-ui, sans-serif"; g.textBaseline = "top"; g.textAlign = "center";
    for (const k of [0, 1]) {
      const [x] = this.toPx([ex.box[k], 0]); g.fillText(fmt(ex.box[k], 2), x, p1[1] + 4);
    }
    g.textAlign = "right"; g.textBaseline = "middle";
    for (const k of [2, 3]) { const [, y] = this.toPx([0, ex.box[k]]); g.fillText(fmt(ex.box[k], 2), p0[0] - 4, y); }
    g.textAlign = "left"; g.fillText("x1", p1[0] - 14, p1[1] + 20); g.fillText("x2", 4, p0[1] + 24);
  }

  _poly(poly) {
    const g = this.c2d;
    g.beginPath();
    poly.forEach((p, i) => { const [x, y] = this.toPx(p); i ? g.lineTo(x, y) : g.moveTo(x, y); });
    g.closePath();
  }

  _hinges() {
    const g = this.c2d, { W1, b1 } = this.weights || { W1: [] };
    W1.forEach((w, j) => {
      const s = this.segment(w, b1[j]);
      const active = this.drag && this.drag.unit === j;
      if (s) {
        const [a, b] = this.toPx(s[0]), [c, d] = this.toPx(s[1]);
        g.strokeStyle = active ? "#111827" : "rgba(17,24,39,0.7)"; g.lineWidth = active ? 2 : 1.3; g.setLineDash([6, 4]);
        g.beginPath(); g.moveTo(a, b); g.lineTo(c, d); g.stroke(); g.setLineDash([]);
      }
      const h = this.handles[j]; if (!h) return;
      // the label sits on the active side, 12 px off the line's middle
      const n = Math.hypot(w[0], w[1]) || 1, m = lerp(h[0], h[1], 0.5), [mx, my] = this.toPx(m);
      g.fillStyle = "#111827"; g.font = "bold 11px system-ui, sans-serif"; g.textAlign = "center"; g.textBaseline = "middle";
      g.fillText(`h${j}`, mx + 14 * w[0] / n, my - 14 * w[1] / n);
      for (const p of h) {
        const [x, y] = this.toPx(p);
        g.beginPath(); g.arc(x, y, 5.5, 0, 2 * Math.PI);
        g.fillStyle = "#fff"; g.fill(); g.strokeStyle = "#111827"; g.lineWidth = 1.5; g.stroke();
      }
    });
  }

  _points() {
    const g = this.c2d, ex = this.ex, ok = this.result && this.result.correct;
    ex.points.forEach((p, i) => {
      const [x, y] = this.toPx(p), good = !ok || ok[i];
      g.beginPath(); g.arc(x, y, 4.2, 0, 2 * Math.PI);
      g.fillStyle = PALETTE[ex.labels[i]]; g.fill();
      g.strokeStyle = good ? "#fff" : "#111827"; g.lineWidth = good ? 1 : 2; g.stroke();
      if (!good) {
        g.strokeStyle = "#dc2626"; g.lineWidth = 2; g.beginPath();
        g.moveTo(x - 7, y - 7); g.lineTo(x + 7, y + 7); g.moveTo(x + 7, y - 7); g.lineTo(x - 7, y + 7); g.stroke();
      }
    });
  }

  // ---------------------------------------------------------------------------------------- text and table
  render() {
    const ex = this.ex, r = this.result, q = this.q;
    this.stale = !!this.drag;
    const pick = q(".ex-pick"), key = this.list.map(e => e.name + this.done.has(e.name)).join();
    if (pick.dataset.key !== key) {
      pick.innerHTML = this.list.map((e, i) => `<option value="${e.name}">${i + 1}. ${esc(e.title)}${this.done.has(e.name) ? " ✓" : ""}</option>`).join("");
      pick.dataset.key = key;
    }
    pick.value = ex.name;
    q(".ex-text").textContent = ex.text;
    q(".ex-hint").textContent = ex.hint;
    const badge = q(".ex-badge");
    badge.textContent = r.passed ? "PASS" : "FAIL";
    badge.className = "ex-badge " + (r.passed ? "pass" : "fail");
    let html = `<div><b>${r.passed ? "Passed" : "Not yet"}</b> — graded exactly (relunet.exercises.check)</div>` +
      `<div>hidden units: <b class="ex-hidden">${r.hidden}</b> (at most ${r.max_hidden}), ${r.used} used; ` +
      `linear regions in the box: <b class="ex-regions">${r.regions}</b></div>`;
    if (r.correct) html += `<div>tokens classified correctly: <b class="ex-correct">${r.correct.filter(Boolean).length}</b> of ${r.correct.length}</div>`;
    if (r.mismatch_area !== undefined) html += `<div>mismatch with the target: area ${fmt(r.mismatch_area, 3)} ` +
      `(${(100 * r.mismatch_area / r.target_area).toFixed(2)}% of it; at most ${(100 * ex.tolerance).toFixed(0)}%)</div>`;
    if (r.reasons.length) html += `<ul>${r.reasons.map(t => `<li>${esc(t)}</li>`).join("")}</ul>`;
    q(".ex-grade").innerHTML = html;
    q(".ex-add").disabled = this.units() >= ex.max_hidden;
    q(".ex-remove").disabled = this.units() <= 1;
    this._table();
    this.draw();
  }

  _table() {
    const { W1, b1, W2, b2 } = this.weights, t = this.q(".ex-weights");
    const cell = (v, kind, j, k) => `<td><input type="number" step="0.05" value="${+v.toPrecision(5)}" data-kind="${kind}" data-j="${j}" data-k="${k}"></td>`;
    let html = `<tr><th>unit</th><th>w_j1</th><th>w_j2</th><th>b_j</th><th>W2[0,j]</th><th>W2[1,j]</th><th></th></tr>`;
    W1.forEach((w, j) => {
      html += `<tr><td>h${j}</td>${cell(w[0], "w", j, 0)}${cell(w[1], "w", j, 1)}${cell(b1[j], "b", j, 0)}` +
        `${cell(W2[0][j], "v", j, 0)}${cell(W2[1][j], "v", j, 1)}<td><button class="ex-flip" data-j="${j}" title="swap the side where unit ${j} is active">flip</button></td></tr>`;
    });
    html += `<tr><td>b2</td><td></td><td></td><td></td>${cell(b2[0], "c", 0, 0)}${cell(b2[1], "c", 0, 1)}<td></td></tr>`;
    t.innerHTML = html;
    t.querySelectorAll("input").forEach(inp => inp.onchange = () => this._edit(inp));
    t.querySelectorAll(".ex-flip").forEach(btn => btn.onclick = () => {
      const j = +btn.dataset.j;
      this.touched = true;
      this.send({ type: "exercise_hinge", unit: j, w: this.weights.W1[j].map(v => -v), b: -this.weights.b1[j] });
    });
  }

  _edit(inp) {
    const v = Number(inp.value), j = +inp.dataset.j, k = +inp.dataset.k, kind = inp.dataset.kind;
    if (!Number.isFinite(v) || inp.value.trim() === "") { this.ctx.showError(`${inp.value} is not a number`); this.render(); return; }
    this.touched = true;
    const { W1, b1, W2, b2 } = this.weights;
    if (kind === "w" || kind === "b") {
      const w = W1[j].slice(); let b = b1[j];
      if (kind === "w") w[k] = v; else b = v;
      this.send({ type: "exercise_hinge", unit: j, w, b });
    } else {
      const W = W2.map(r => r.slice()), c = b2.slice();
      if (kind === "v") W[k][j] = v; else c[k] = v;
      this.send({ type: "exercise_output", W2: W, b2: c });
    }
  }

  _saveHash() {
    const { W1, b1, W2, b2 } = this.weights;
    const nums = [W1.length].concat(W1.flat(), b1, W2.flat(), b2).map(v => +Number(v).toPrecision(6));
    const text = `ex=${this.ex.name}&done=${[...this.done].join(".")}&net=${nums.join(",")}`;
    if (this.ctx.app.setExtHash) this.ctx.app.setExtHash(text);
  }
}

// "ex=xor&done=a.b&net=..." -> {ex, done, net}
function parseHash(text) {
  const out = {};
  for (const part of text.split("&")) { const i = part.indexOf("="); if (i > 0) out[part.slice(0, i)] = decodeURIComponent(part.slice(i + 1)); }
  return out;
}

// "H,W1..., b1..., W2..., b2..." -> {W1, b1, W2, b2}, or null when it does not add up.
function decodeNet(text) {
  const v = text.split(",").map(Number), H = v[0];
  if (!Number.isInteger(H) || H < 1 || v.length !== 1 + 5 * H + 2 || !v.every(Number.isFinite)) return null;
  let i = 1;
  const take = n => v.slice(i, i += n);
  const W1 = Array.from({ length: H }, () => take(2)), b1 = take(H), W2 = [take(H), take(H)], b2 = take(2);
  return { W1, b1, W2, b2 };
}

function lerp(p, q, t) { return [p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])]; }
function tint(hex, a) { const v = parseInt(hex.slice(1), 16); return `rgba(${(v >> 16) & 255},${(v >> 8) & 255},${v & 255},${a})`; }
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }
