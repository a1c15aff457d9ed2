// Exercise mode: the lecture's quiz on the page itself. Opening an exercise makes the session's network the
// exercise's two-layer network and its data the target's tokens (exercise_handlers.py); the main map then
// shows it with its hinge lines, exact regions and exact boundary, and this module draws the target over it:
// points with the wrong ones crossed, or the target polygons with the mismatch in red.
//
// On the main map each hidden unit's hinge line w_j x + b_j = 0 has two round handles: drag a handle to turn
// the line about the other one, drag the line to move it (the server sets row j of W1 and b1). Handles snap to
// a 0.05 grid (untick the box for free placement), so a line can go exactly through a polygon's corners. A
// short arrow shows the side where unit j is active (w_j x + b_j > 0); *flip* swaps it. The output weights W2,
// b2 are edited in the network graph (the server grades every edit) or solved by the panel's button. Play
// trains the same network by SGD, and the grade follows.
//
// Progress lives in the URL hash after the experiment's own part: "#<experiment>!ex=xor&done=lecture.xor&net=...".
import { registerPanel } from "./registry.js";
import { fmt } from "./colors.js";

const SNAP = 0.05;
const SEND_EVERY = 90;      // ms between hinge updates while dragging
const HIT_HANDLE = 11, HIT_LINE = 6;   // pixels
const PENDING_MS = 3000;    // how long an unanswered hinge message keeps its line where the page put it

const CSS = `
.relunet-app .ex-bar { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.relunet-app .ex-badge { font-weight: 700; padding: 2px 8px; border-radius: 6px; font-size: 12px; }
.relunet-app .ex-badge.pass { background: #dcfce7; color: #166534; }
.relunet-app .ex-badge.fail { background: #fee2e2; color: #991b1b; }
.relunet-app .ex-text { font-size: 13px; margin: 6px 0; line-height: 1.4; }
.relunet-app .ex-grade { font-size: 12px; line-height: 1.45; }
.relunet-app .ex-grade ul { margin: 4px 0; padding-left: 18px; color: #991b1b; }
.relunet-app .ex-units { font-size: 12px; display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 4px 0; }
.relunet-app .ex-units code { font-size: 11px; }
@media (max-width: 760px) { .relunet-app .col > [data-panel=exercises] { order: 1; } }
`;

registerPanel("exercises", {
  place: "under-map",
  title: "Exercises: the lecture's quiz",
  mount(el, ctx) { ctx.app.exercise = new ExerciseMode(el, ctx); },
  messages: {
    exercise(m, ctx) { ctx.app.exercise.onMessage(m); },
    exercise_list(m, ctx) { ctx.app.exercise.onList(m); },
  },
  onState(state, ctx) { ctx.app.exercise.onState(state); },
  onWeights(w, ctx) { ctx.app.exercise.onWeights(w); },
  // the lecture's last step opened the lecture exercise on the server: bring the map into view
  lecture(ctx) { ctx.app.exercise.showMap(); return true; },
});

class ExerciseMode {
  constructor(el, ctx) {
    this.el = el; this.ctx = ctx; this.send = ctx.send; this.view = ctx.view; this.app = ctx.app;
    this.ex = null; this.result = null; this.weights = null; this.list = [];
    this.handles = [];          // per unit: [[x, y], [x, y]] in data coordinates
    this.drag = null; this.lastSend = 0; this.started = false;
    this.seq = 0; this.acked = 0;    // the last hinge message sent, and the last one a grade answered
    const saved = parseHash(ctx.app.extHash || "");
    this.done = new Set((saved.done || "").split(".").filter(Boolean));
    this.saved = saved;
    const doc = el.ownerDocument, style = doc.createElement("style");
    style.textContent = CSS;
    el.appendChild(style);
    const body = doc.createElement("div");
    body.className = "ex";
    body.innerHTML = `
      <div class="ex-bar"><select class="ex-pick" aria-label="exercise"></select>
        <button class="ex-open primary" title="make this exercise the page's experiment">Open</button>
        <button class="ex-close" title="leave the exercise: the page keeps its data and network">Close</button>
        <span class="ex-badge"></span></div>
      <p class="ex-text"></p>
      <div class="ex-grade" aria-live="polite"></div>
      <div class="btnrow ex-tools">
        <button class="ex-add" title="one more hidden unit">+ unit</button>
        <button class="ex-remove" title="one hidden unit less">− unit</button>
        <button class="ex-solve" title="fit the output weights to the target with the hinge lines frozen">Solve output weights</button>
        <button class="ex-ref">Reference solution</button>
        <label class="chk"><input type="checkbox" class="ex-snap" checked> snap handles to a ${SNAP} grid</label>
      </div>
      <div class="ex-units"></div>
      <p class="hint ex-how">On the map, drag a round handle to turn a hinge line, or the line to move it; the arrow
        points to the side where h_j = ReLU(w_j · x + b_j) is active. Output z_k = W2[k, :] h + b2[k]; class 1 where
        z_1 &gt; z_0: click a link or bias of the output layer in the <b>network graph</b> to set it, or
        <i>Solve output weights</i> (the two-class cross-entropy with the hinge lines frozen, a convex problem solved
        by Newton's method). <i>Play</i> lets SGD train the same network. Grading is exact either way.</p>
      <details class="hint ex-hint-box"><summary>Hint</summary><span class="ex-hint"></span></details>`;
    el.appendChild(body);
    this.q = sel => body.querySelector(sel);
    this.q(".ex-pick").onchange = e => this.open(e.target.value);
    this.q(".ex-open").onclick = () => this.open(this.q(".ex-pick").value);
    this.q(".ex-close").onclick = () => { this.touched = true; this.send({ type: "exercise_close" }); };
    this.q(".ex-add").onclick = () => this.send({ type: "exercise_units", count: this.units() + 1 });
    this.q(".ex-remove").onclick = () => this.send({ type: "exercise_units", count: this.units() - 1 });
    this.q(".ex-solve").onclick = () => { this.touched = true; this.send({ type: "exercise_solve" }); };
    this.q(".ex-ref").onclick = () => { this.touched = true; this.send({ type: "exercise_reference" }); };
    // the main map: handles and target drawn over it, the hinge lines dragged on it
    this.view.overlays.push(g => this.draw(g));
    this.view.tool = { down: (...a) => this.down(...a), move: (...a) => this.move(...a), up: () => this.up() };
    // While an exercise is open its target is fixed: a click adds or removes no point (tracing still works).
    const click = ctx.app.click;
    ctx.app.click = e => {
      if (!this.ex || ctx.app.mode === "trace") { click(e); return; }
      if (!this.warned) { this.warned = true; ctx.showError("An exercise is open: its target is fixed. Drag a hinge line or its handles; Close the exercise to edit the data."); }
    };
    this.render();
  }

  // The first state from the server: ask for the list (and the exercise open in the session, if any).
  onState(state) {
    if (!this.started) { this.started = true; this.send({ type: "exercise_list" }); }
    this.faint = this.ex && this.ex.kind === "region" ? state.points : null;
    // a region target's tokens only train: drawn faintly (draw), not as the page's points
    this.view.points = this.faint ? [] : state.points;
  }

  // The first list: a session that has no exercise open opens the link's (none without one); a session that
  // has one (a reload that kept the session) sends it with the list.
  onList(m) {
    this.list = m.list;
    if (!this.listed) {
      this.listed = true;
      const s = this.saved, net = s.net ? decodeNet(s.net) : null;
      if (s.ex) this.touched = true;
      if (s.ex && !m.open) this.send(net ? { type: "exercise_open", name: s.ex, net } : { type: "exercise_open", name: s.ex });
    }
    this.render();
  }

  open(name) { this.touched = true; this.send({ type: "exercise_open", name }); }
  units() { return this.weights ? this.weights.W1.length : 0; }
  // a drag, or hinge messages not answered yet: the server's weights are behind what the page shows (a message
  // the server refused is never answered: after PENDING_MS the server's weights win again)
  pending() { return !!this.drag || (this.seq > this.acked && performance.now() - this.sentAt < PENDING_MS); }

  onMessage(m) {
    if (m.closed) { this.close(); return; }
    if (m.exercise) {
      this.ex = m.exercise; this.list = m.list || this.list; this.handles = []; this.drag = null;
      this.seq = this.acked = 0; this.warned = false;
      if (this.app.state) this.onState(this.app.state);
    }
    if (!this.ex || m.name !== this.ex.name) return;
    if (m.seq !== null && m.seq !== undefined) this.acked = Math.max(this.acked, m.seq);
    // While a line is being dragged, and until the reply to its last position arrives, replies to its earlier
    // positions must not pull it (and its handles) back.
    const j = this.editUnit;
    if (this.pending() && j !== undefined && this.weights && m.weights.W1.length === this.weights.W1.length) {
      m.weights.W1[j] = this.weights.W1[j]; m.weights.b1[j] = this.weights.b1[j];
    }
    this.result = m.result; this.weights = m.weights;
    if (m.result.passed) this.done.add(m.name);
    this._syncHandles();
    this.render();
    this.view.draw();
    if (this.touched) this._saveHash();
  }

  close() {
    const was = !!this.ex;
    this.ex = this.result = this.weights = null; this.handles = []; this.drag = null; this.faint = null;
    if (was && this.app.state) this.view.points = this.app.state.points;
    this.render(); this.view.draw();
    if (this.touched) this._saveHash();
  }

  // The network graph and the hinge lines follow the server's weights; a line being dragged keeps the
  // pointer's position until the server has caught up.
  onWeights(w) {
    if (!this.ex || !w.hinges || !this.weights || w.hinges.W.length !== this.weights.W1.length) return;
    const j = this.editUnit;
    if (this.pending() && j !== undefined) {
      w.hinges.W[j] = this.weights.W1[j].slice(); w.hinges.b[j] = this.weights.b1[j];
      if (w.W[0][j]) { w.W[0][j] = this.weights.W1[j].slice(); w.b[0][j] = this.weights.b1[j]; }
      return;
    }
    this.weights.W1 = w.hinges.W.map(r => r.slice()); this.weights.b1 = w.hinges.b.slice();
    this._syncHandles();
  }

  showMap() {
    const root = this.ctx.root, el = root.querySelector(".mainview");
    if (!el) return;
    el.style.scrollMarginTop = (root.querySelector(".topbar")?.offsetHeight || 0) + 8 + "px";
    el.scrollIntoView({ block: "start", behavior: "smooth" });
  }

  // ---------------------------------------------------------------------------------------- geometry
  // The part of a line inside the exercise's box (two points), or null.
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
    if (!this.weights) return;
    const { W1, b1 } = this.weights;
    this.handles = W1.map((w, j) => {
      const h = this.handles[j], n = Math.hypot(w[0], w[1]);
      if (h && h.every(p => Math.abs(w[0] * p[0] + w[1] * p[1] + b1[j]) <= 1e-9 * n * (1 + Math.abs(p[0]) + Math.abs(p[1])))) return h;
      const s = this.segment(w, b1[j]);
      if (s) return [lerp(s[0], s[1], 0.25), lerp(s[0], s[1], 0.75)];
      const [x0, x1, y0, y1] = this.ex.box, c = [(x0 + x1) / 2, (y0 + y1) / 2];
      const d = (w[0] * c[0] + w[1] * c[1] + b1[j]) / (n * n || 1), p = [c[0] - d * w[0], c[1] - d * w[1]];
      const u = [-w[1] / (n || 1) * 0.2, w[0] / (n || 1) * 0.2];
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
    const r = this.view.canvas.getBoundingClientRect(), [px, py] = this.view.toPx(p[0], p[1]);
    return [r.left + px, r.top + py];
  }

  // ---------------------------------------------------------------------------------------- the map tool
  down(x, y, e, px, py) {
    if (!this.ex || !this.weights || e.button !== 0) return false;
    const hit = this._hit(px, py, e.pointerType === "touch" ? 2 : 1);
    if (!hit) return false;
    this.touched = true;
    this.drag = { ...hit, start: [x, y], orig: this.handles[hit.unit].map(p => p.slice()) };
    this.editUnit = hit.unit;
    e.preventDefault();
    this.view.draw();
    return true;
  }

  move(x, y, e, px, py) {
    const d = this.drag;
    if (!d) {
      if (this.ex && this.weights) this.view.canvas.style.cursor = this._hit(px, py, 1) ? "grab" : "";
      return false;
    }
    const snap = this.q(".ex-snap").checked;
    const sn = p => snap ? [Math.round(p[0] / SNAP) * SNAP, Math.round(p[1] / SNAP) * SNAP] : p;
    let h;
    if (d.handle >= 0) {
      h = d.orig.map(p => p.slice());
      h[d.handle] = sn([x, y]);
    } else {
      let dx = x - d.start[0], dy = y - d.start[1];
      if (snap) { dx = Math.round(dx / SNAP) * SNAP; dy = Math.round(dy / SNAP) * SNAP; }
      h = d.orig.map(p => [p[0] + dx, p[1] + dy]);
    }
    const line = this._lineFrom(d.unit, h);
    if (!line) return true;
    this.handles[d.unit] = h;
    this._setLine(d.unit, line.w, line.b);
    const now = performance.now();
    if (now - this.lastSend > SEND_EVERY) { this.lastSend = now; this._sendHinge(d.unit); }
    return true;
  }

  up() {
    if (!this.drag) return false;
    const j = this.drag.unit;
    this.drag = null;
    this._sendHinge(j);
    this.view.draw();
    return true;
  }

  // Unit j's line on the page at once (the map's dashed hinge line too), before the server answers.
  _setLine(j, w, b) {
    this.weights.W1[j] = w; this.weights.b1[j] = b;
    const hv = this.view.hinges;
    if (hv && hv.W.length === this.weights.W1.length) { hv.W[j] = w.slice(); hv.b[j] = b; }
    this.view.draw();
  }

  _sendHinge(j) {
    this.seq += 1; this.editUnit = j; this.sentAt = performance.now();
    this.send({ type: "exercise_hinge", unit: j, w: this.weights.W1[j].map(Number), b: Number(this.weights.b1[j]), seq: this.seq });
  }

  _flip(j) {
    this.touched = true;
    this._setLine(j, this.weights.W1[j].map(v => -v), -this.weights.b1[j]);
    this._sendHinge(j);
    this.render();
  }

  // The handle (within HIT_HANDLE px) or line (within HIT_LINE px) under the pointer.
  _hit(px, py, touch) {
    const v = this.view;
    let best = null, bd = HIT_HANDLE * touch;
    this.handles.forEach((h, j) => h.forEach((p, k) => {
      const [a, b] = v.toPx(p[0], p[1]), d = Math.hypot(a - px, b - py);
      if (d < bd) { bd = d; best = { unit: j, handle: k }; }
    }));
    if (best) return best;
    bd = HIT_LINE * touch;
    const [x, y] = v.toData(px, py), perPx = (v.box[1] - v.box[0]) / v.pw;
    this.weights.W1.forEach((w, j) => {
      const n = Math.hypot(w[0], w[1]);
      const d = n ? Math.abs(w[0] * x + w[1] * y + this.weights.b1[j]) / n / perPx : Infinity;
      if (d < bd) { bd = d; best = { unit: j, handle: -1 }; }
    });
    return best;
  }

  // ---------------------------------------------------------------------------------------- drawing on the map
  draw(g) {
    const ex = this.ex, v = this.view;
    if (!ex || v.task !== "classification") return;
    const res = this.result, px = p => v.toPx(p[0], p[1]);
    const poly = pts => { g.beginPath(); pts.forEach((p, i) => { const [x, y] = px(p); i ? g.lineTo(x, y) : g.moveTo(x, y); }); g.closePath(); };
    // the graded box
    const [x0, x1, y0, y1] = ex.box;
    g.strokeStyle = "rgba(17,24,39,0.5)"; g.lineWidth = 1; g.setLineDash([3, 3]);
    poly([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]); g.stroke(); g.setLineDash([]);
    const [bx, by] = px([x0, y1]);                   // named, as the grade's text names it
    g.font = "11px system-ui, sans-serif"; g.textAlign = "left"; g.textBaseline = "top";
    g.fillStyle = "rgba(17,24,39,0.7)"; g.fillText("graded area", bx + 4, by + 3);
    // the grade's exact boundary, when the exact overlay (which draws it too) is switched off
    if (!v.regions && res && res.boundary) {
      g.strokeStyle = "#111827"; g.lineWidth = 2.4; g.lineCap = "round"; g.beginPath();
      for (const [a, b] of res.boundary) { const [x, y] = px(a), [u, w] = px(b); g.moveTo(x, y); g.lineTo(u, w); }
      g.stroke(); g.lineCap = "butt";
    }
    if (ex.kind === "region") {
      for (const [x, y, k] of this.faint || []) {
        const [a, b] = px([x, y]);
        g.fillStyle = k ? "rgba(234,88,12,0.35)" : "rgba(37,99,235,0.3)";
        g.beginPath(); g.arc(a, b, 1.8, 0, 2 * Math.PI); g.fill();
      }
      if (res) {
        g.fillStyle = "rgba(220, 38, 38, 0.4)";
        for (const p of (res.missed || []).concat(res.extra || [])) { poly(p); g.fill(); }
      }
      // the target: its convex pieces tinted as one path (no piece tinted twice), its outline dashed (without the
      // seams between pieces when the exercise gives the outline)
      g.beginPath();
      for (const p of targetPolygons(ex)) p.forEach((q, i) => { const [x, y] = px(q); i ? g.lineTo(x, y) : g.moveTo(x, y); });
      g.fillStyle = "rgba(5,150,105,0.12)"; g.fill("nonzero");
      g.strokeStyle = "#059669"; g.lineWidth = 2.5; g.setLineDash([7, 4]);
      if (ex.outline) {
        g.beginPath();
        for (const [a, b] of ex.outline) { const [x, y] = px(a), [u, w] = px(b); g.moveTo(x, y); g.lineTo(u, w); }
        g.stroke();
      } else for (const p of targetPolygons(ex)) { poly(p); g.stroke(); }
      g.setLineDash([]);
    } else if (res && res.correct) {
      g.strokeStyle = "#dc2626"; g.lineWidth = 1.6;      // thin enough that the token's colour shows through
      g.beginPath();
      ex.points.forEach((p, i) => {
        if (res.correct[i]) return;
        const [a, b] = px(p);
        g.moveTo(a - 5.5, b - 5.5); g.lineTo(a + 5.5, b + 5.5); g.moveTo(a + 5.5, b - 5.5); g.lineTo(a - 5.5, b + 5.5);
      });
      g.stroke();
    }
    if (!this.weights) return;
    this.handles.forEach((h, j) => {
      const w = this.weights.W1[j], n = Math.hypot(w[0], w[1]) || 1, on = this.drag && this.drag.unit === j;
      // an arrow from a point between the handles (a different one per unit, so lines crossing between their
      // handles keep their arrows apart) towards the active side (pixels: y points down)
      const [mx, my] = px(lerp(h[0], h[1], 0.3 + 0.4 * ((j * 0.618034) % 1))), ux = w[0] / n, uy = -w[1] / n;
      g.strokeStyle = "#111827"; g.fillStyle = "#111827"; g.lineWidth = 1.6;
      g.beginPath(); g.moveTo(mx, my); g.lineTo(mx + 16 * ux, my + 16 * uy); g.stroke();
      g.beginPath(); g.moveTo(mx + 20 * ux, my + 20 * uy);
      g.lineTo(mx + 13 * ux - 4 * uy, my + 13 * uy + 4 * ux); g.lineTo(mx + 13 * ux + 4 * uy, my + 13 * uy - 4 * ux); g.closePath(); g.fill();
      // the unit's number j, on the inactive side of the arrow's foot (the texts and the unit list say h0, h1)
      const lx = mx - 13 * ux, ly = my - 13 * uy;
      g.beginPath(); g.arc(lx, ly, 8, 0, 2 * Math.PI); g.fillStyle = "rgba(255,255,255,0.9)"; g.fill(); g.stroke();
      g.fillStyle = "#111827"; g.font = "bold 11px system-ui, sans-serif"; g.textAlign = "center";
      g.textBaseline = "middle"; g.fillText(String(j), lx, ly + 0.5);
      for (const p of h) {
        const [a, b] = px(p);
        g.beginPath(); g.arc(a, b, on ? 7 : 6, 0, 2 * Math.PI);
        g.fillStyle = on ? "#fde68a" : "#fff"; g.fill(); g.strokeStyle = "#111827"; g.lineWidth = 1.6; g.stroke();
      }
    });
  }

  // ---------------------------------------------------------------------------------------- the panel
  render() {
    const ex = this.ex, r = this.result, q = this.q;
    const pick = q(".ex-pick"), key = this.list.map(e => e.name + this.done.has(e.name)).join();
    if (pick.dataset.key !== key) {
      const was = pick.value;
      pick.innerHTML = this.list.map((e, i) => `<option value="${e.name}">${i + 1}. ${esc(e.title)}${this.done.has(e.name) ? " ✓" : ""}</option>`).join("");
      pick.dataset.key = key;
      if (was) pick.value = was;
    }
    if (ex) pick.value = ex.name;
    q(".ex-close").hidden = !ex;
    q(".ex-tools").hidden = q(".ex-units").hidden = q(".ex-how").hidden = q(".ex-hint-box").hidden = !ex;
    const badge = q(".ex-badge");
    badge.hidden = !(ex && r);
    if (!ex) {
      q(".ex-text").textContent = "Choose an exercise and press Open: the map, the network graph and Play then work on its " +
        "two-layer network, and every change is graded exactly. Close (or Undo) gives the page back.";
      q(".ex-grade").innerHTML = "";
      return;
    }
    q(".ex-text").textContent = ex.text;
    q(".ex-hint").textContent = ex.hint;
    if (!r) return;
    badge.textContent = r.passed ? "PASS" : "FAIL";
    badge.className = "ex-badge " + (r.passed ? "pass" : "fail");
    let html = `<div><b>${r.passed ? "Passed" : "Not yet"}</b> — graded exactly (relunet.exercises.check)</div>` +
      `<div>hidden units: <b class="ex-hidden">${r.hidden}</b> (at most ${r.max_hidden}); <b class="ex-used">${r.used}</b> ` +
      `of them change the prediction somewhere in the graded area (the dashed box on the map).</div>` +
      `<div>linear regions in the graded area: <b class="ex-regions">${r.regions}</b></div>`;
    if (r.correct) html += `<div>tokens classified correctly: <b class="ex-correct">${r.correct.filter(Boolean).length}</b> of ${r.correct.length} (wrong ones crossed on the map)</div>`;
    if (r.mismatch_area !== undefined) html += `<div>mismatch with the target (red on the map): area ${fmt(r.mismatch_area, 3)} ` +
      `(${(100 * r.mismatch_area / r.target_area).toFixed(2)}% of it; at most ${(100 * ex.tolerance).toFixed(0)}%)</div>`;
    if (r.reasons.length) html += `<ul>${r.reasons.map(t => `<li>${esc(t)}</li>`).join("")}</ul>`;
    q(".ex-grade").innerHTML = html;
    q(".ex-add").disabled = this.units() >= ex.max_hidden;
    q(".ex-remove").disabled = this.units() <= 1;
    this._units();
  }

  _units() {
    const { W1, b1 } = this.weights, box = this.q(".ex-units");
    const plus = v => (v < 0 ? "− " : "+ ") + fmt(Math.abs(v), 3);      // "+ -0.728" read as a typo
    box.innerHTML = W1.map((w, j) => `<span>h${j}: <code>${fmt(w[0], 3)}·x1 ${plus(w[1])}·x2 ${plus(b1[j])}</code> ` +
      `<button class="ex-flip" data-j="${j}" title="swap the side where unit ${j} is active">flip</button></span>`).join("");
    box.querySelectorAll(".ex-flip").forEach(btn => { btn.onclick = () => this._flip(+btn.dataset.j); });
  }

  _saveHash() {
    const done = `done=${[...this.done].join(".")}`;
    let text = this.done.size ? done : "";
    if (this.ex && this.weights) {
      const { W1, b1, W2, b2 } = this.weights;
      const nums = [W1.length].concat(W1.flat(), b1, W2.flat(), b2).map(v => +Number(v).toPrecision(6));
      text = `ex=${this.ex.name}&${done}&net=${nums.join(",")}`;
    }
    if (this.app.setExtHash) this.app.setExtHash(text);
  }
}

// The target's convex pieces (relunet.exercises: a region target is a union of convex polygons).
function targetPolygons(ex) { return ex.polygons || []; }

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
function esc(s) { return String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]); }
