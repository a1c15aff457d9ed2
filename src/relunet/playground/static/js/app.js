// The playground app: mount(root, transport) builds the page inside root, wires its controls to the server
// (through transport) and the server's frames to the views. Every element is found through root, so the
// same app runs in the standalone page (main.js) and inside a notebook cell.
//
// transport = { send(obj), onMessage(cb) (cb(obj) for JSON, cb(ArrayBuffer | DataView) for binary frames),
//               onStatus(cb) ("open" | "closed"), reconnect?(), token? (the session token the hello brings back) }
// options   = { prefix: "" (prepended to every element id), url: true (keep the experiment in location.hash),
//               keys: true (number keys and space on the whole document; or an element: on that element) }
// Returns the app object (its state, views, and send).
import { MAP, UNIT, CURVE, THUMBS, MODEL, REGIONS, decodeFrame } from "./frames.js";
import { MainView } from "./plot.js";
import { Graph } from "./graph.js";
import { Curves, Thumbs, confusion, drawHidden, metricsTable, renderTrace } from "./panels.js";
import { PALETTE, fmt, compact } from "./colors.js";
import { markup } from "./template.js";
import { StepAnimation } from "./stepanim.js";
import { PANELS } from "./registry.js";
import "./extensions.js";

const MAX_BYTES = 1_000_000;   // the server refuses larger messages; the page says so before sending

const ACTS = [["relu", "ReLU"], ["leaky_relu", "leaky ReLU"], ["tanh", "tanh"], ["sigmoid", "sigmoid"], ["identity", "identity"]];

export function mount(root, transport, options = {}) {
  const { prefix = "", url = true, keys = true } = options;
  const doc = root.ownerDocument;
  root.classList.add("relunet-app");
  root.innerHTML = markup(prefix);
  const $ = id => root.querySelector("#" + prefix + id);
  const app = {
    state: null, cls: 0, mode: "add", lastMetrics: null, lastWeights: null, hiddenMsg: null, focus: null,
    frames: 0, framesT0: performance.now(), fps: 0, root, connected: false,
  };

  const view = new MainView($("map"), $("tip"), app);
  const graph = new Graph($("graph"), app);
  const curves = new Curves($("curve-loss"), $("curve-acc"));
  const thumbs = new Thumbs($("thumbs"), app);
  const anim = new StepAnimation(view, { box: $("step-anim"), play: $("anim-play"), scale: $("anim-scale"),
    scaleV: $("anim-scale-v"), t: $("anim-t"), out: $("anim-out") }, send);
  app.view = view; app.anim = anim;
  function send(msg) {
    const text = JSON.stringify(msg);
    if (text.length > MAX_BYTES) { showError(`message of ${text.length.toLocaleString()} bytes is over the limit of 1,000,000 bytes`); return; }
    transport.send(msg);
  }
  app.send = send;
  app.busy = {};   // milliseconds spent handling each kind of message (measure.py reports them)
  transport.onMessage(data => {
    const t0 = performance.now();
    let kind;
    if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
      const f = decodeFrame(data instanceof ArrayBuffer ? data : data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
      kind = "frame" + f.kind; onFrame(f);
    } else { kind = data.type; onJson(data); }
    app.busy[kind] = (app.busy[kind] || 0) + performance.now() - t0;
  });
  let everClosed = false;
  transport.onStatus(s => {
    app.connected = s === "open";
    $("conn").textContent = app.connected ? "connected" : "disconnected";
    $("conn").className = "conn " + (app.connected ? "ok" : "bad");
    $("reconnect").hidden = app.connected || !transport.reconnect;
    root.classList.toggle("offline", !app.connected);
    for (const id of ["play", "step", "step-epoch", "reset", "new-seed"]) $(id).disabled = !app.connected;
    if (!app.connected) {
      everClosed = true; setPlaying(false);
      showStatus({ level: "error", message: "Disconnected from the playground server: training has stopped and the numbers above are the last ones received. Restart `relunet playground` and press Reconnect." });
    }
    else if (everClosed) { send(hello(app.state ? link() : startHash())); send({ type: "lecture" }); }
  });
  $("reconnect").onclick = () => transport.reconnect();

  // ============================================================================================ messages
  function onJson(m) {
    for (const p of PANELS) if (p.messages && p.messages[m.type]) p.messages[m.type](m, ctx);
    switch (m.type) {
      case "state": if (app.awaitClick) app.replyMs = performance.now() - app.clickT0; applyState(m); break;
      case "metrics": applyMetrics(m); break;
      case "metrics_b": applyCompare(m); break;
      case "weights": for (const p of PANELS) if (p.onWeights) p.onWeights(m, ctx); app.lastWeights = m; view.hinges = m.hinges; graph.update(m, app.state?.config.task); view.draw(); break;
      case "hidden": app.hiddenMsg = m; drawHidden($("hidden"), m, app.state?.points || [], app.state?.config.task); break;
      case "trace": applyTrace(m); break;
      case "step_geometry": anim.onGeometry(m); break;
      case "lecture": applyLecture(m); break;
      case "error": showError(labelled(m.message)); app.pendingPoints = []; view.draw(); break;
      case "export": download(new Blob([JSON.stringify(m.weights, null, 1)], { type: "application/json" }), "relunet-weights.json"); break;
      case "pwl": applyExact(m); break;
    }
  }

  // The trace of the clicked token follows the weights (the server re-sends it); it is cleared with the data.
  function applyTrace(m) {
    if (m.cleared) {
      app.trace = null; view.traceMark = null; anim.setTrace(null); view.draw();
      $("trace").innerHTML = "The data changed: click a point to trace it again."; $("trace").classList.add("muted");
      return;
    }
    app.trace = m; renderTrace($("trace"), m); anim.setTrace(m);
  }

  // ------------------------------------------------------------------------------------------ the lecture path
  function applyLecture(m) {
    app.lecture = m;
    writeHash();                    // the link names the step (see link())
    const bar = $("lecture-steps");
    if (bar.childElementCount !== m.steps.length) {
      bar.innerHTML = "";
      m.steps.forEach((st, i) => {
        const b = doc.createElement("button");
        b.className = "lecture-step"; b.dataset.step = i + 1; b.textContent = `${i + 1}. ${st.title}`;
        b.onclick = () => send({ type: "lecture", step: i + 1 });
        bar.appendChild(b);
      });
    }
    [...bar.children].forEach((b, i) => b.classList.toggle("active", m.current === i + 1));
    $("lecture-undo").disabled = !m.undo;
    const st = m.current ? m.steps[m.current - 1] : null;
    const text = $("lecture-text");
    text.innerHTML = st ? st.text : "Follow the lecture step by step, or change anything below; <i>Undo</i> takes a step back.";
    text.querySelectorAll("button[data-units]").forEach(b => {
      b.onclick = () => send({ type: "set_network", layers: [{ units: +b.dataset.units, activation: "relu" }] });
    });
    if (st && m.current !== app.lectureShown) openMode(st.mode);
    app.lectureShown = m.current;
  }
  // A step's mode is a click mode of the map, or the name of a registered panel: the page scrolls that panel
  // into view (below the sticky header) and calls the panel's own lecture hook (registry.js).
  function openMode(mode) {
    if (MODES.includes(mode)) { setMode(mode); return; }
    const p = PANELS.find(q => q.name === mode);
    if (!p) return;
    setMode("add");
    if (p.lecture && p.lecture(ctx) === true) return;    // the panel brought what it needs into view itself
    const el = root.querySelector(`[data-panel="${mode}"]`);
    el.style.scrollMarginTop = root.querySelector(".topbar").offsetHeight + 8 + "px";
    el.scrollIntoView({ block: "start", behavior: "smooth" });
  }
  $("lecture-undo").onclick = () => send({ type: "undo" });

  // The live count of exact linear regions (relunet.pwl), shown while the overlay is on.
  function applyExact(m) {
    if (m.twin) return;      // run B's overlay: its frame is drawn on B's map, the count shown is A's
    const box = $("c-regions-box");
    if (!m.available) {
      view.regions = null; view.draw();
      box.hidden = true;
      if (app.state?.config.exact && app.exactReason !== m.reason) showError(m.reason);
      app.exactReason = m.reason;
      return;
    }
    app.exactReason = null;
    box.hidden = false;
    $("c-regions").textContent = m.count.toLocaleString();
    box.title = `${m.count.toLocaleString()} linear pieces in view: exact linear regions, where every hidden unit ` +
      `keeps its side and the network is one affine map (a class's cell may span several; bound ${m.bound.toLocaleString()}), ` +
      `${m.pieces} boundary pieces, ${m.junctions} three-class junctions; computed in ${m.ms} ms` +
      (m.outlined ? "" : "; too many to outline, boundary only");
  }

  function onFrame(f) {
    if (f.twin && f.kind === REGIONS) { viewB.regions = app.state?.config.exact && app.compare ? f : null; return; }
    if (f.twin) { viewB.setFrame(f); return; }
    if (f.kind === REGIONS) { app.regionFrames = (app.regionFrames || 0) + 1; view.regions = app.state?.config.exact ? f : null; view.draw(); return; }
    if (f.kind === MODEL) { download(new Blob([f.data], { type: "application/octet-stream" }), "relunet-playground.npz"); return; }
    if (f.kind === THUMBS) { thumbs.update(f, app.state?.activations, app.state?.sizes || []); if (app.hiddenAuto) pickLiveUnits(f); return; }
    app.frames++;
    const now = performance.now();
    if (now - app.framesT0 > 1000) { app.fps = app.frames * 1000 / (now - app.framesT0); app.frames = 0; app.framesT0 = now; }
    app.frameCount = (app.frameCount || 0) + 1;
    view.setFrame(f);
  }

  // The link follows the experiment. Writing it (history.replaceState) took about 8 ms of each state message in
  // Chromium while training (profiled during clicks, python -m relunet.playground.measure browser): while training
  // it is written after the state is painted and at most every HASH_MS; at once otherwise, and when the page goes.
  const HASH_MS = 250;
  let hashTimer = null, hashAt = -Infinity;
  function writeHash(now = true) {
    if (!url || !app.state) return;
    if (!now) {
      if (!hashTimer) hashTimer = setTimeout(() => writeHash(true), Math.max(20, HASH_MS - (performance.now() - hashAt)));
      return;
    }
    clearTimeout(hashTimer); hashTimer = null; hashAt = performance.now();
    const h = "#" + link() + (app.extHash ? "!" + app.extHash : "");
    if (location.hash !== h) history.replaceState(null, "", h);
  }
  if (url) window.addEventListener("pagehide", () => { if (hashTimer) writeHash(true); });

  function applyState(s) {
    const first = !app.state;
    const old = app.state;
    app.state = s;
    const c = s.config;
    writeHash(!s.playing);
    view.task = c.task; view.points = s.points; view.firstActivation = s.activations[0];
    viewB.task = c.task; viewB.points = s.points; viewB.discretize = c.discretize; viewB.showHinges = c.hinges;
    view.discretize = c.discretize; view.showHinges = c.hinges;
    if (!view.interacting) { view.box = s.box.slice(); viewB.box = s.box.slice(); viewB.draw(); }
    // controls
    for (const t of ["classification", "regression"]) $("task-" + t).classList.toggle("active", c.task === t);
    const sel = $("dataset");
    const names = Object.entries(s.datasets).filter(([, d]) => d.task === c.task).map(([k]) => k);
    const opts = names.concat(c.dataset === "custom" ? ["custom"] : []);
    if (sel.dataset.key !== opts.join()) {
      sel.innerHTML = opts.map(k => `<option value="${k}">${k === "custom" ? "custom (edited)" : k}</option>`).join("");
      sel.dataset.key = opts.join();
    }
    sel.value = c.dataset;
    const spec = s.datasets[c.dataset];
    $("row-classes").hidden = !(spec && spec.has_classes);
    setVal("classes", c.classes); setVal("n", c.dataset === "custom" ? s.points.length : c.n);
    $("n").disabled = $("noise").disabled = $("regenerate").disabled = c.dataset === "custom";
    setVal("noise", c.noise); $("noise-v").textContent = c.noise.toFixed(2);
    setVal("split", c.test_fraction); $("split-v").textContent = Math.round(c.test_fraction * 100) + "%";
    for (const k of ["optimizer", "lr", "momentum", "batch_size", "weight_decay", "schedule"]) setVal(k, c[k]);
    setVal("target_loss", c.target_loss ?? ""); setVal("max_epochs", c.max_epochs ?? "");
    $("momentum").disabled = !["momentum", "nesterov"].includes(c.optimizer);
    $("discretize").checked = c.discretize; $("hinges").checked = c.hinges; $("pwl").checked = c.exact;
    if (!c.exact || c.task !== "classification") { view.regions = null; viewB.regions = null; $("c-regions-box").hidden = true; }
    $("resolution").value = String(c.resolution);
    const reg = c.task === "regression";
    $("palette-box").hidden = reg; $("reg-hint").hidden = !reg;
    $("confusion-box").hidden = reg; $("hinges").parentElement.hidden = reg; $("resolution").parentElement.hidden = reg;
    // one input: no map to discretise and no plane to cut into regions (the curve shows its breakpoints)
    for (const id of ["discretize", "pwl"]) {
      $(id).disabled = reg;
      $(id).parentElement.title = reg ? "Only for 2-D classification: in regression the curve and its breakpoints are exact already" :
        id === "pwl" ? "Exact piece-wise linear regions and decision boundary (relunet.pwl)" : "One flat colour per class";
    }
    buildPalette(Math.max(s.classes, 2));
    buildLayers(c.layers);
    $("net-shape").textContent = s.sizes.join("–");
    buildHiddenSelect(s);
    setPlaying(s.playing);
    showStatus(s.status);
    $("link-note").hidden = s.link_has_points;
    $("link-note").textContent = s.link_has_points ? "" :
      `The link does not include your ${s.points.length.toLocaleString()} points (it keeps at most 300); download them as CSV.`;
    if (first || !old || old.run !== s.run) curves.clear();
    view.draw();
    for (const p of PANELS) if (p.onState) p.onState(s, ctx);
    // how long a click on the map took to come back painted (measure.py reports it)
    if (app.awaitClick) { app.awaitClick = false; requestAnimationFrame(() => { app.clickMs = performance.now() - app.clickT0; }); }
    settlePending(s.points);
  }

  // Metrics arrive with every frame (20+ a second while training); the counters, tables and curves are
  // repainted at most every METRICS_MS, always with the latest message, and at once when training is stopped.
  const METRICS_MS = 250;
  let metricsT = -Infinity, metricsTimer = null;
  function applyMetrics(m) {
    app.lastMetrics = m;
    curves.add(m);
    setPlaying(m.playing);
    showStatus(m.status);
    if (m.playing && view.anim) anim.end();    // training moves the weights on: back to the live map
    const wait = METRICS_MS - (performance.now() - metricsT);
    if (!m.playing || wait <= 0) drawMetrics();
    else if (!metricsTimer) metricsTimer = setTimeout(drawMetrics, wait);
  }
  function drawMetrics() {
    clearTimeout(metricsTimer); metricsTimer = null; metricsT = performance.now();
    const m = app.lastMetrics;
    if (!m) return;
    $("c-epoch").textContent = m.epoch_float.toFixed(m.epoch_float < 10 ? 2 : 1);
    $("c-updates").textContent = m.updates.toLocaleString();
    $("c-ups").textContent = compact(m.updates_per_s);
    $("c-sps").textContent = compact(m.samples_per_s);
    $("c-lr").textContent = fmt(m.lr, 4);
    const task = app.state?.config.task;
    metricsTable($("metrics"), m, task);
    if (task !== "regression") confusion($("confusion"), m);
    curves.draw(task);
  }

  // ============================================================================================ controls
  // A slider being dragged keeps its place (replies to its earlier positions are still arriving).
  // A control the user is working in keeps what they typed or dragged until they commit it (change event):
  // replies to earlier edits, or the state sent when training stops, must not overwrite it.
  function setVal(id, v) {
    const e = $(id);
    if ((e.type === "range" && doc.activeElement === e) || e.dataset.typing) return;
    if (String(e.value) !== String(v)) e.value = v;
  }
  root.addEventListener("input", e => { if (e.target.matches("input[type=number], input[type=text]")) e.target.dataset.typing = "1"; });
  root.addEventListener("change", e => { delete e.target.dataset.typing; }, true);
  root.addEventListener("focusout", e => { if (e.target.dataset) delete e.target.dataset.typing; });

  function setPlaying(p) {
    if (app.playing === p) return;
    app.playing = p;
    const b = $("play");
    b.innerHTML = p ? "&#10074;&#10074; Pause" : "&#9654; Play";
    b.setAttribute("aria-label", p ? "pause" : "play");
  }

  function showStatus(st) {
    const e = $("status");
    if (!st) { e.hidden = true; return; }
    const cls = "status " + (st.level === "error" ? "error" : "");
    e.hidden = false;
    if (e.textContent !== st.message) e.textContent = st.message;
    if (e.className !== cls) e.className = cls;
  }

  // The server names a setting by its field ("batch_size: input should be ..."); a student knows it by the box's
  // label ("Batch size"), so a field that is a box on the page is named as the page names it.
  function labelled(msg) {
    const m = /^([a-z_]+): (.*)$/s.exec(msg);
    const label = m && $(m[1])?.closest("label")?.firstChild?.textContent.trim();
    return label ? `${label}: ${m[2]}` : msg;
  }
  // A number box holding text that is no number (the browser then reads it as ""): say so, and show the value
  // the page still uses, instead of sending an empty value the server would report as out of range.
  function notANumber(e, kept) {
    if (!e.target.validity?.badInput && e.target.value.trim() !== "") return false;
    showError(`${e.target.closest("label").firstChild.textContent.trim()}: not a number; it stays ${kept}.`);
    e.target.value = kept;
    return true;
  }

  let toastTimer = null;
  function showError(msg) {
    const t = $("toast");
    t.textContent = msg; t.hidden = false;
    clearTimeout(toastTimer); toastTimer = setTimeout(() => { t.hidden = true; }, 7000);
  }

  function buildPalette(k) {
    const p = $("palette"), n = Math.max(k, 10);
    if (p.children.length !== n) {
      p.innerHTML = "";
      for (let i = 0; i < n; i++) {
        const b = doc.createElement("button");
        b.className = "swatch"; b.style.background = PALETTE[i]; b.textContent = i; b.title = `class ${i} (key ${i})`;
        b.addEventListener("click", () => selectClass(i));
        p.appendChild(b);
      }
    }
    selectClass(app.cls);
  }
  function selectClass(i) {
    app.cls = i;
    [...$("palette").children].forEach((b, j) => b.classList.toggle("active", j === i));
  }

  function buildLayers(layers) {
    const box = $("layers"), key = JSON.stringify(layers);
    if (box.dataset.key === key) return;
    box.dataset.key = key; box.innerHTML = "";
    layers.forEach((l, i) => {
      const row = doc.createElement("div"); row.className = "layer-row";
      row.innerHTML = `<span>Layer ${i + 1}</span><input type="number" min="1" max="256" step="1" value="${l.units}" aria-label="units of layer ${i + 1}">` +
        `<select aria-label="activation of layer ${i + 1}">${ACTS.map(([v, n]) => `<option value="${v}"${v === l.activation ? " selected" : ""}>${n}</option>`).join("")}</select>` +
        `<button class="rm" title="remove layer ${i + 1}" aria-label="remove layer ${i + 1}">✕</button>`;
      row.querySelector("input").addEventListener("change", sendLayers);
      row.querySelector("select").addEventListener("change", sendLayers);
      row.querySelector("button").addEventListener("click", () => { row.remove(); sendLayers(); });
      box.appendChild(row);
    });
    if (!layers.length) box.innerHTML = `<div class="muted">No hidden layer: the linear classifier.</div>`;
    $("add-layer").disabled = layers.length >= 8;
  }
  // Sizes outside 1..256 are corrected in the box, and the page says so (the server would refuse them).
  function readLayers() {
    return [...$("layers").querySelectorAll(".layer-row")].map((r, i) => {
      const input = r.querySelector("input"), raw = input.value.trim(), v = Math.round(Number(raw));
      let units = v;
      if (!(Number.isFinite(v) && raw !== "" && v >= 1 && v <= 256)) {
        units = Number.isFinite(v) && raw !== "" ? Math.min(256, Math.max(1, v)) : 8;
        input.value = units;
        showError(`Layer ${i + 1}: "${raw}" units is outside 1 to 256; set to ${units}.`);
      }
      return { units, activation: r.querySelector("select").value };
    });
  }
  function sendLayers() { send({ type: "set_network", layers: readLayers() }); }

  function buildHiddenSelect(s) {
    const hidden = s.sizes.slice(1, -1), L = $("hs-layer"), key = hidden.join(",");
    if (L.dataset.key !== key || app.hiddenRun !== s.run) app.hiddenAuto = hidden.length > 0;
    app.hiddenRun = s.run;
    if (L.dataset.key !== key) {
      L.dataset.key = key;
      L.innerHTML = hidden.map((n, i) => `<option value="${i + 1}">${i + 1}</option>`).join("");
      fillUnits();
      if (hidden.length) sendHidden(); else { app.hiddenMsg = null; drawHidden($("hidden"), null, [], s.config.task); }
    }
  }
  // The hidden-space view opens on the two units of the layer that are alive over the most of the view
  // (a dead ReLU, zero everywhere, would draw a single point); the thumbnails' values tell which.
  function pickLiveUnits(f) {
    const layer = +$("hs-layer").value, units = f.layers[layer - 1], n = app.state.sizes[layer];
    if (!units || units.length !== Math.min(n, 32)) return;   // a frame of the network before: wait for the next
    app.hiddenAuto = false;
    if (units.length < 2) return;
    const alive = units.map((v, j) => [v.reduce((n, a) => n + (a !== 0), 0), j]);
    alive.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    const [i, j] = [alive[0][1], alive[1][1]].sort((a, b) => a - b);
    if (+$("hs-i").value === i && +$("hs-j").value === j) return;
    $("hs-i").value = String(i); $("hs-j").value = String(j);
    sendHidden();
  }
  function fillUnits() {
    const n = app.state.sizes[+$("hs-layer").value] || 0;
    const opts = Array.from({ length: n }, (_, i) => `<option value="${i}">${i}</option>`).join("");
    $("hs-i").innerHTML = opts; $("hs-j").innerHTML = opts;
    $("hs-i").value = "0"; $("hs-j").value = n > 1 ? "1" : "0";
  }
  function sendHidden() {
    if (!$("hs-layer").value) return;
    send({ type: "set_view", hidden: { layer: +$("hs-layer").value, i: +$("hs-i").value, j: +$("hs-j").value } });
  }

  // main view callbacks
  let boxTimer = null;
  app.boxChanged = (box, now) => {
    viewB.box = box.slice(); viewB.draw();
    clearTimeout(boxTimer);
    boxTimer = setTimeout(() => send({ type: "set_view", box }), now ? 0 : 60);
  };
  app.click = ({ x, y, px, py, button, shift, ctrl, time }) => {
    const reg = app.state.config.task === "regression";
    const r4 = v => Math.round(v * 1e4) / 1e4;   // clicks are not more precise than this; keeps links short
    app.clickT0 = time ?? performance.now(); app.awaitClick = true;   // from the pointer event, when given
    if (button === 2 || ctrl || (button === 0 && app.mode === "remove")) { send({ type: "remove_point", x, y }); return; }
    if (button !== 0) return;
    if (app.mode === "trace") {
      const i = view.nearest(px, py);
      const p = i >= 0 ? app.state.points[i] : [x, y, app.cls];
      view.traceMark = [p[0], p[1]]; view.draw();
      send({ type: "trace", point: reg ? { x: p[0], y: p[1] } : { x: p[0], y: p[1], label: p[2] } });
      return;
    }
    const label = shift ? 1 : app.cls;
    const point = reg ? { x: r4(x), y: r4(y) } : { x: r4(x), y: r4(y), label };
    send({ type: "add_point", point });
    echo(point);
  };
  // Local echo: an added point is drawn at once with a pending look (a dashed ring), and replaced by the server's
  // state when it comes (the server may be tens of milliseconds away while it trains). A pending point the
  // state does not hold after PENDING_MS (refused: too many points) is dropped.
  const PENDING_MS = 2000;
  app.pendingPoints = [];
  function echo(point) {
    app.pendingPoints.push({ x: point.x, y: point.y, k: point.label ?? 0, t: performance.now() });
    view.draw();
    const t0 = app.clickT0;
    requestAnimationFrame(() => { app.echoMs = performance.now() - t0; });   // after view.draw's paint callback
  }
  function settlePending(points) {
    const now = performance.now();
    app.pendingPoints = app.pendingPoints.filter(p => now - p.t < PENDING_MS && !points.some(q => q[0] === p.x && q[1] === p.y));
  }
  view.overlays.push(ctx => {
    if (!app.pendingPoints.length) return;
    ctx.save(); ctx.setLineDash([2, 2]); ctx.lineWidth = 1.5;
    for (const p of app.pendingPoints) {
      const [px, py] = view.toPx(p.x, p.y);
      ctx.beginPath(); ctx.arc(px, py, 4.5, 0, 2 * Math.PI);
      ctx.fillStyle = view.task === "regression" ? "rgba(17,24,39,0.45)" : PALETTE[p.k % 10] + "80"; ctx.fill();
      ctx.strokeStyle = "#111827"; ctx.stroke();
    }
    ctx.restore();
  });
  app.hover = (x, y, px, py) => {
    const w = app.lastWeights;
    const hinged = view.task === "classification" && view.showHinges && w && w.hinges && ["relu", "leaky_relu"].includes(view.firstActivation);
    let near = -1;
    if (hinged && !app.focus) {
      // the hinge line nearest the pointer, within 5 pixels: |w . x + b| / |w| in data units, then pixels
      const perPx = (view.box[1] - view.box[0]) / view.pw;
      let best = 5 * perPx;
      w.hinges.W.forEach(([a, b], j) => {
        const n = Math.hypot(a, b), d = n > 0 ? Math.abs(a * x + b * y + w.hinges.b[j]) / n : Infinity;
        if (d < best) { best = d; near = j; }
      });
    }
    const hl = near >= 0 ? [1, near] : app.focus;
    if (JSON.stringify(hl) !== JSON.stringify(view.highlight)) { view.highlight = hl; view.draw(); }
    const j = hl && hl[0] === 1 && w && w.hinges ? hl[1] : -1;
    if (j >= 0) {
      const W = w.hinges.W[j];
      view.showTip(`layer 1, unit ${j}\nw = (${W.map(v => fmt(v, 3)).join(", ")})\nb = ${fmt(w.hinges.b[j], 3)}\nline: w · x + b = 0`, px, py);
    } else view.showTip(`(${fmt(x, 3)}, ${fmt(y, 3)})`, px, py);
  };
  app.focusUnit = (layer, unit) => {
    const f = layer ? [layer, unit] : null;
    if (JSON.stringify(f) === JSON.stringify(app.focus)) return;
    app.focus = f; view.highlight = f;
    thumbs.mark(layer, unit); graph.mark(layer, unit);
    const note = $("focus-note");
    if (f) {
      const w = app.lastWeights;
      let txt = `Showing h of layer ${layer}, unit ${unit} (blue > 0, orange < 0, white = 0).`;
      if (layer === 1 && w && w.hinges && app.state.config.task === "classification") {
        const W = w.hinges.W[unit];
        txt += ` Its hinge line: ${fmt(W[0], 3)}·x1 + ${fmt(W[1], 3)}·x2 + ${fmt(w.hinges.b[unit], 3)} = 0.`;
      }
      note.textContent = txt;
    } else note.textContent = "Scroll to zoom, drag to pan. Hover a unit (thumbnails, graph) to see its activation.";
    send({ type: "set_view", focus: f ? { layer, unit } : null });
  };
  app.openEditor = ({ layer, row, col, label, value }) => {
    app.editing = { layer, row, col };
    $("editor-label").textContent = label + " =";
    $("editor-value").value = Number.isFinite(value) ? +value.toPrecision(6) : 0;
    $("editor").hidden = false; $("editor-value").focus(); $("editor-value").select();
  };
  function commitEdit() {
    const e = app.editing; if (!e) return;
    const v = parseFloat($("editor-value").value);
    if (!Number.isFinite(v)) {        // the editor stays open on it, as a number box keeps its value (notANumber)
      showError(`${$("editor-label").textContent.replace(/ =$/, "")}: not a number; type one (e.g. -0.5), or Cancel.`);
      $("editor-value").focus(); $("editor-value").select();
      return;
    }
    send({ type: "edit_weight", layer: e.layer, row: e.row, col: e.col, value: v });
    $("editor").hidden = true; app.editing = null;
  }

  // ---------------------------------------------------------------------------------- wiring
  $("play").onclick = () => send({ type: app.playing ? "pause" : "play" });
  $("step").onclick = () => send({ type: "step" });
  $("step-epoch").onclick = () => send({ type: "step_epoch" });
  $("reset").onclick = () => send({ type: "reset" });
  $("new-seed").onclick = () => send({ type: "new_seed" });
  for (const t of ["classification", "regression"]) $("task-" + t).onclick = () => send({ type: "set_task", task: t });
  $("dataset").onchange = e => { if (e.target.value !== "custom") send({ type: "set_data", dataset: e.target.value }); };
  $("classes").onchange = e => send({ type: "set_data", classes: Math.round(+e.target.value) });
  $("n").onchange = e => {
    if (!notANumber(e, app.state?.config.n)) send({ type: "set_data", n: Math.round(+e.target.value) });
  };
  $("noise").oninput = e => { $("noise-v").textContent = (+e.target.value).toFixed(2); };
  $("noise").onchange = e => send({ type: "set_data", noise: +e.target.value });
  $("split").oninput = e => { $("split-v").textContent = Math.round(e.target.value * 100) + "%"; send({ type: "set_split", test_fraction: +e.target.value }); };
  $("regenerate").onclick = () => send({ type: "regenerate" });
  $("clear").onclick = () => send({ type: "clear_points" });
  // What a click (or a tap) on the map does: add a point, remove the nearest, or trace a token.
  const MODES = ["add", "remove", "trace"];
  for (const m of MODES) $("mode-" + m).onclick = () => setMode(m);
  function setMode(m) {
    app.mode = m;
    for (const k of MODES) $("mode-" + k).classList.toggle("active", k === m);
  }
  $("add-layer").onclick = () => {
    const layers = readLayers();
    layers.push({ units: layers.length ? layers[layers.length - 1].units : 8, activation: "relu" });
    send({ type: "set_network", layers });
  };
  const num = (id, int) => {
    $(id).onchange = e => {
      const raw = e.target.value.trim();
      if ((id === "target_loss" || id === "max_epochs") && raw === "" && !e.target.validity.badInput) {
        send({ type: "set_training", [id]: null }); return;
      }
      if (notANumber(e, app.state?.config[id] ?? "none")) return;
      const v = Number(raw);
      send({ type: "set_training", [id]: Number.isFinite(v) && raw !== "" ? (int ? Math.round(v) : v) : raw });
    };
  };
  num("lr"); num("momentum"); num("weight_decay"); num("target_loss"); num("batch_size", true); num("max_epochs", true);
  $("optimizer").onchange = e => send({ type: "set_training", optimizer: e.target.value });
  $("schedule").onchange = e => send({ type: "set_training", schedule: e.target.value });
  $("discretize").onchange = e => { view.discretize = e.target.checked; send({ type: "set_view", discretize: e.target.checked }); };
  $("hinges").onchange = e => { view.showHinges = e.target.checked; view.draw(); send({ type: "set_view", hinges: e.target.checked }); };
  $("resolution").onchange = e => send({ type: "set_view", resolution: +e.target.value });
  $("pwl").onchange = e => {
    if (!e.target.checked) { view.regions = null; $("c-regions-box").hidden = true; view.draw(); }
    send({ type: "set_view", exact: e.target.checked });
  };
  $("fit-view").onclick = () => {
    const pts = app.state.points; if (!pts.length) return;
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    for (const [x, y] of pts) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
    const px = (x1 - x0) * 0.1 || 0.5, py = (y1 - y0) * 0.1 || 0.5;
    let box = [x0 - px, x1 + px, y0 - py, y1 + py];
    if (app.state.config.task === "classification") {
      const cx = (box[0] + box[1]) / 2, cy = (box[2] + box[3]) / 2, r = Math.max(box[1] - box[0], box[3] - box[2]) / 2;
      box = [cx - r, cx + r, cy - r, cy + r];
    }
    view.box = box; view.draw(); app.boxChanged(box, true);
  };
  $("hs-layer").onchange = () => { fillUnits(); sendHidden(); };
  $("hs-i").onchange = sendHidden; $("hs-j").onchange = sendHidden;
  $("editor-set").onclick = commitEdit;
  $("editor-cancel").onclick = () => { $("editor").hidden = true; app.editing = null; };
  $("editor-value").onkeydown = e => { if (e.key === "Enter") commitEdit(); if (e.key === "Escape") $("editor-cancel").click(); };

  // data files
  $("csv-file").onchange = async e => {
    const f = e.target.files[0]; if (!f) return;
    send({ type: "load_csv", text: await f.text() }); e.target.value = "";
  };
  $("csv-load").onclick = () => send({ type: "load_csv", text: $("csv-text").value });
  $("csv-download").onclick = () => {
    const reg = app.state.config.task === "regression";
    const lines = [reg ? "x,y" : "x1,x2,label"].concat(app.state.points.map(p => reg ? `${p[0]},${p[1]}` : `${p[0]},${p[1]},${p[2]}`));
    download(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }), "relunet-data.csv");
  };
  $("save-model").onclick = () => send({ type: "save_model" });
  $("export-json").onclick = () => send({ type: "export_weights" });
  $("load-model").onchange = async e => {
    const f = e.target.files[0]; if (!f) return;
    const bytes = new Uint8Array(await f.arrayBuffer());
    let s = ""; for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    send({ type: "load_model", data: btoa(s) }); e.target.value = "";
  };

  // ------------------------------------------------------------------------------------------ compare (run B)
  const appB = {
    boxChanged: (box, now) => { view.box = box.slice(); view.draw(); app.boxChanged(box, now); },
    click: () => {},
    hover: (x, y, px, py) => viewB.showTip(`(${fmt(x, 3)}, ${fmt(y, 3)})`, px, py),
  };
  const viewB = new MainView($("map-b"), $("tip-b"), appB);
  app.viewB = viewB;
  const describe = (sizes, o) => `${sizes.join("–")}, ${o.optimizer}, lr ${o.lr}, batch ${o.batch_size}`;
  function applyCompare(m) {
    const on = !m.off;
    app.compare = on ? m : null;
    $("map-b-wrap").hidden = !on; $("map-title-a").hidden = !on; $("cmp-on").checked = on;
    $("cmp-controls").classList.toggle("muted", !on);
    if (!on) { curves.dataB = null; curves.draw(app.state?.config.task); viewB.regions = null; return; }
    viewB.hinges = m.hinges || null; viewB.firstActivation = m.settings.layers.length ? m.settings.layers[0].activation : null;
    $("map-title-b").textContent = "B: " + describe(m.sizes, m.settings) + (m.status ? " — " + m.status.message : "");
    if (app.state) $("map-title-a").textContent = "A: " + describe(app.state.sizes, app.state.config);
    setVal("cmp-net", m.settings.layers.map(l => l.units + (l.activation === "relu" ? "" : l.activation[0])).join(","));
    setVal("cmp-optimizer", m.settings.optimizer); setVal("cmp-lr", m.settings.lr); setVal("cmp-batch_size", m.settings.batch_size);
    curves.addB(m); curves.draw(app.state?.config.task);
  }
  const ACT_LETTER = { r: "relu", l: "leaky_relu", t: "tanh", s: "sigmoid", i: "identity" };
  function sendCompare(extra = {}) {
    const msg = { type: "compare", on: $("cmp-on").checked };
    if (msg.on) {
      const net = $("cmp-net").value.trim();
      msg.layers = net === "" ? [] : net.split(/[ ,]+/).map(t => ({ units: Math.min(256, Math.max(1, parseInt(t, 10) || 1)), activation: ACT_LETTER[t.replace(/[0-9]/g, "")[0]] || "relu" }));
      msg.optimizer = $("cmp-optimizer").value;
      const lr = Number($("cmp-lr").value), bs = Math.round(Number($("cmp-batch_size").value));
      if (lr > 0) msg.lr = lr;
      if (bs >= 1) msg.batch_size = bs;
      Object.assign(msg, extra);
    }
    send(msg);
  }
  $("cmp-on").onchange = () => {
    if ($("cmp-on").checked && app.state && !app.compare) {   // B starts as a copy of A; change what differs
      const c = app.state.config;
      $("cmp-net").value = c.layers.map(l => l.units).join(","); $("cmp-optimizer").value = c.optimizer;
      $("cmp-lr").value = c.lr; $("cmp-batch_size").value = c.batch_size;
    }
    sendCompare();
  };
  for (const id of ["cmp-net", "cmp-optimizer", "cmp-lr", "cmp-batch_size"]) $(id).addEventListener("change", e => {
    const kept = app.compare?.settings[id.slice(4)] ?? "";
    if ((id === "cmp-lr" || id === "cmp-batch_size") && notANumber(e, kept)) return;
    if ($("cmp-on").checked) sendCompare();
  });
  // Each preset compares A with one change: B is a copy of A's settings with that change, whatever B was before
  // (otherwise "B = batch 32" after "B = linear" would compare a 2-4-2 net at batch 1 with a linear one at batch 32).
  const preset = change => {
    const c = app.state?.config;
    $("cmp-on").checked = true;
    if (!c) { sendCompare(change); return; }
    const a = { layers: c.layers.map(l => ({ units: l.units, activation: l.activation })), optimizer: c.optimizer,
      lr: c.lr, batch_size: c.batch_size };
    sendCompare({ ...a, ...change });
  };
  $("cmp-preset-linear").onclick = () => preset({ layers: [] });
  $("cmp-preset-batch").onclick = () => preset({ batch_size: 32 });
  $("cmp-preset-lr").onclick = () => preset({ lr: Math.min(10, (app.state?.config.lr || 0.1) * 10) });

  // ------------------------------------------------------------------------------------------ record a video
  // The map(s) and the curves are copied into one canvas every animation frame; its stream goes to a
  // MediaRecorder, and the WebM file is downloaded when the recording stops.
  let recording = null;
  $("record").onclick = () => (recording ? recording.stop() : startRecording());
  function startRecording() {
    if (typeof MediaRecorder === "undefined") { showError("This browser cannot record video (no MediaRecorder)."); return; }
    const maps = [view.canvas].concat($("map-b-wrap").hidden ? [] : [viewB.canvas]);
    const charts = [$("curve-loss"), $("curve-acc")];
    const mapW = maps.reduce((w, c) => w + c.width, 0), mapH = Math.max(...maps.map(c => c.height));
    const chartH = Math.round(mapW / 2 * charts[0].height / Math.max(1, charts[0].width));
    const out = doc.createElement("canvas");
    out.width = mapW + (mapW % 2); out.height = mapH + chartH + ((mapH + chartH) % 2);
    const ctx = out.getContext("2d");
    const paint = () => {
      ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, out.width, out.height);
      let x = 0;
      for (const c of maps) { ctx.drawImage(c, x, 0); x += c.width; }
      charts.forEach((c, i) => { if (c.width) ctx.drawImage(c, i * mapW / 2, mapH, mapW / 2, chartH); });
    };
    paint();
    const type = ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm"].find(t => MediaRecorder.isTypeSupported(t));
    const rec = new MediaRecorder(out.captureStream(30), type ? { mimeType: type } : {});
    const chunks = [];
    let raf = 0;
    const loop = () => { paint(); raf = requestAnimationFrame(loop); };
    app.recordedBytes = 0;
    rec.ondataavailable = e => { if (e.data.size) { chunks.push(e.data); app.recordedBytes += e.data.size; } };
    rec.onstop = () => {
      cancelAnimationFrame(raf); recording = null;
      $("record").innerHTML = "&#9679; Record"; $("record").classList.remove("recording");
      download(new Blob(chunks, { type: "video/webm" }), "relunet-run.webm");
    };
    rec.start(250);
    recording = rec; loop();
    $("record").innerHTML = "&#9632; Stop recording"; $("record").classList.add("recording");
  }

  function download(blob, name) {
    const a = doc.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name;
    root.appendChild(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 5000);
  }

  // keys: 0-9 choose the class; space plays / pauses
  if (keys) (keys === true ? doc : keys).addEventListener("keydown", e => {
    const tag = (e.target.tagName || "").toLowerCase();
    if (["input", "select", "textarea"].includes(tag) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (/^[0-9]$/.test(e.key)) { selectClass(+e.key); e.preventDefault(); }
    else if (e.key === " " && tag !== "button") { $("play").click(); e.preventDefault(); }   // a focused button takes its own space
  });
  // The hash is "<link>" or "<link>!<extensions' part>" ('!' never appears in the experiment's hash, whose
  // values are percent-encoded): extensions keep their own progress after it (app.setExtHash). The link is
  // the experiment, then "&step=k" while the lecture path stands at step k (the server reads both, in
  // lecture.open_link): a teacher's link opens on that step. "#step=3" alone opens step 3 as lecture.py builds it.
  function startHash() { return url ? location.hash.slice(1).split("!")[0] : (options.hash || ""); }
  function link() { const k = app.lecture?.current; return app.state.hash + (k ? "&step=" + k : ""); }
  // The hello names the link, and the session token this tab was given, if any: the server resumes that
  // session after a reload or a Reconnect (resume.py), unless the link names another experiment.
  function hello(hash) { return transport.token ? { type: "hello", hash, token: transport.token } : { type: "hello", hash }; }
  // The server's first reply on a connection: {type: "session", token, resumed} (the transport keeps the token).
  transport.onMessage(m => { if (m && m.type === "session") app.session = m; });
  app.extHash = url ? location.hash.slice(1).split("!").slice(1).join("!") : "";
  app.setExtHash = text => { app.extHash = text; writeHash(); };
  if (url) window.addEventListener("hashchange", () => {
    const h = location.hash.slice(1).split("!")[0];
    if (app.state && h !== link()) { send({ type: "hello", hash: h }); send({ type: "lecture" }); }
  });
  window.addEventListener("resize", () => { curves.draw(app.state?.config.task); if (app.hiddenMsg) drawHidden($("hidden"), app.hiddenMsg, app.state.points, app.state.config.task); });

  // extensions (registry.js): each panel gets its element and this context
  const ctx = { root, app, view, send, $, showError };
  for (const p of PANELS) {
    const el = doc.createElement("div");
    el.className = "panel ext-panel"; el.dataset.panel = p.name;
    if (p.title) { const h = doc.createElement("h2"); h.textContent = p.title; el.appendChild(h); }
    if (p.place === "under-map") root.querySelector(".mainview").after(el);
    else root.querySelector({ left: ".col-left", main: ".col-main", right: ".col-right" }[p.place || "right"]).appendChild(el);
    if (p.mount) p.mount(el, ctx);
  }
  app.ctx = ctx;

  send(hello(startHash()));
  send({ type: "lecture" });
  return app;
}
