// The network graph: units as circles, weights as links (width |w|, colour by sign), biases as squares.
// Click a link or a bias to edit it by hand (the edit_weight message; in the exercise mode the server grades
// every edit); hover a hidden unit to see its map in the main view.
import { PALETTE, fmt } from "./colors.js";

const NS = "http://www.w3.org/2000/svg";
const el = (name, attrs, parent) => {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
};

export class Graph {
  constructor(svg, app) { this.svg = svg; this.app = app; this.key = ""; }

  update(w, task) {
    const shown = w.sizes.map((n, l) => l === 0 ? n : w.b[l - 1].length);
    const key = w.sizes.join(",") + "|" + task;
    if (key !== this.key) this._build(w, shown, task);
    this.key = key;
    // colours and widths, scaled per layer by its largest |w|
    w.W.forEach((Wl, l) => {
      const max = Math.max(1e-9, ...Wl.flat().map(Math.abs));
      Wl.forEach((row, j) => row.forEach((v, i) => {
        const line = this.links[l]?.[j]?.[i]; if (!line) return;
        const t = Math.abs(v) / max;
        line.setAttribute("stroke", v >= 0 ? "#2563eb" : "#ea580c");
        line.setAttribute("stroke-width", (0.4 + 3.6 * t).toFixed(2));
        line.setAttribute("stroke-opacity", (0.2 + 0.75 * t).toFixed(2));
        line.dataset.value = v;
        line.previousSibling.firstChild.textContent = `W${l + 1}[${j},${i}] = ${fmt(v, 4)}`;
      }));
      const bmax = Math.max(1e-9, ...w.b[l].map(Math.abs));
      w.b[l].forEach((v, j) => {
        const r = this.biases[l]?.[j]; if (!r) return;
        r.setAttribute("fill", v >= 0 ? "#2563eb" : "#ea580c");
        r.setAttribute("fill-opacity", (0.15 + 0.85 * Math.abs(v) / bmax).toFixed(2));
        r.dataset.value = v;
        r.firstChild.textContent = `b${l + 1}[${j}] = ${fmt(v, 4)}`;
      });
    });
  }

  _build(w, shown, task) {
    const svg = this.svg; svg.innerHTML = "";
    const box = svg.getBoundingClientRect(), W = box.width || 340, H = box.height || 240;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    const L = shown.length, xs = shown.map((_, l) => 28 + l * (W - 64) / Math.max(1, L - 1));
    const ys = shown.map(n => Array.from({ length: n }, (_, j) => n === 1 ? H / 2 : 16 + j * (H - 32) / (n - 1)));
    const r = Math.max(3, Math.min(7, (H - 32) / Math.max(...shown) / 2.4));
    this.links = []; this.biases = []; this.nodes = [];
    const gl = el("g", {}, svg), gn = el("g", {}, svg);
    for (let l = 1; l < L; l++) {
      const rows = [];
      for (let j = 0; j < shown[l]; j++) {
        const row = [];
        for (let i = 0; i < shown[l - 1]; i++) {
          const a = { x1: xs[l - 1] + r, y1: ys[l - 1][i], x2: xs[l] - r, y2: ys[l][j] };
          // data-weight "layer,row,col" names W^(layer)[row, col] (tests and the exercise mode find links by it)
          const hit = el("line", { ...a, class: "hit", "data-weight": `${l},${j},${i}` }, gl); el("title", {}, hit);
          const line = el("line", { ...a, class: "link", stroke: "#999", "data-weight": `${l},${j},${i}` }, gl);
          const edit = ev => this._edit(ev, l, j, i, `W${l}[${j},${i}]`, +line.dataset.value);
          hit.addEventListener("click", edit); line.addEventListener("click", edit);
          row.push(line);
        }
        rows.push(row);
      }
      this.links.push(rows);
    }
    shown.forEach((n, l) => {
      const col = [];
      for (let j = 0; j < n; j++) {
        const out = l === L - 1, cls = out && task === "classification";
        const c = el("circle", { cx: xs[l], cy: ys[l][j], r, class: "node" }, gn);
        if (cls) c.setAttribute("fill", PALETTE[j % 10]);
        if (l > 0 && l < L - 1) {
          c.style.cursor = "zoom-in";
          c.addEventListener("mouseenter", () => this.app.focusUnit(l, j));
          c.addEventListener("mouseleave", () => this.app.focusUnit(null));
        }
        el("title", {}, c).textContent = l === 0 ? `input x${j + 1}` : out ? (cls ? `output z for class ${j}` : "output f(x)") : `hidden layer ${l}, unit ${j}`;
        col.push(c);
        if (l > 0) {
          const b = el("rect", { x: xs[l] - r - 7, y: ys[l][j] - r - 3, width: 6, height: 6, class: "bias", rx: 1, "data-bias": `${l},${j}` }, gn);
          el("title", {}, b);
          b.addEventListener("click", ev => this._edit(ev, l, j, null, `b${l}[${j}]`, +b.dataset.value));
          (this.biases[l - 1] ||= []).push(b);
        }
      }
      this.nodes.push(col);
      const lab = l === 0 ? "input" : l === L - 1 ? "output" : `layer ${l}`;
      const t = el("text", { x: xs[l], y: H - 2, "text-anchor": "middle" }, gn);
      t.textContent = w.sizes[l] > n ? `${lab} (${n}/${w.sizes[l]})` : lab;
    });
  }

  mark(layer, unit) {
    (this.nodes || []).forEach((col, l) => col.forEach((c, j) => c.classList.toggle("on", l === layer && j === unit)));
  }

  _edit(ev, layer, row, col, label, value) {
    ev.stopPropagation();
    this.app.openEditor({ layer, row, col, label, value });
  }
}
