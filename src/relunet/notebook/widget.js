// The playground in a notebook cell: the page's own app (app.js), mounted in the cell with a transport over the
// widget's comm instead of a WebSocket. relunet.notebook.esm bundles this file with the page's modules, the
// extensions included (app.js imports extensions.js: the Exercises panel is the widget's too). The comm needs
// no session token: the kernel's session lives as long as the widget, and a view that comes back gets it.
import { mount } from "../playground/static/js/app.js";

// The comm transport: JSON messages are the comm's content; binary frames come as its buffers, one per message
// ({type: "frame"} with one buffer). Each frame is acknowledged, so the kernel renders no faster than the view
// draws (the kernel's driver holds training back while frames wait).
export function commTransport(model) {
  const onMsg = [], onStat = [];
  const handler = (msg, buffers) => {
    if (msg && msg.type === "frame" && buffers && buffers.length) {
      onMsg.forEach(cb => cb(buffers[0]));     // a DataView: the app reads it in place
      model.send({ type: "ack" });
    } else if (msg && msg.type) {
      onMsg.forEach(cb => cb(msg));
    }
  };
  model.on("msg:custom", handler);
  return {
    send(obj) { model.send(obj); },
    onMessage(cb) { onMsg.push(cb); },
    onStatus(cb) { onStat.push(cb); cb("open"); },     // the comm is open for as long as the view exists
    close() { model.off("msg:custom", handler); onStat.forEach(cb => cb("closed")); },
  };
}

export default {
  render({ model, el }) {
    const root = document.createElement("div");
    root.className = "relunet-widget";
    // Keys typed in the widget are the widget's: JupyterLab's command-mode shortcuts (Enter, a, b, digits...)
    // would otherwise swallow Enter in its inputs and add cells while the map has the focus.
    // A click anywhere in the widget focuses it (tabindex), so the keys that follow are the widget's too.
    root.setAttribute("data-lm-suppress-shortcuts", "true");
    root.tabIndex = -1;
    root.style.outline = "none";
    // Inside JupyterLab, Enter in a number field does not commit it (no change event, unlike the page):
    // leaving the field does, as on the page.
    root.addEventListener("keydown", e => {
      const t = e.target, typed = t.tagName === "INPUT" && !["checkbox", "radio", "range", "button"].includes(t.type);
      if (e.key === "Enter" && typed) t.blur();
    });
    el.appendChild(root);
    const transport = commTransport(model);
    // Each view gets its own element ids; the notebook's URL stays the notebook's, and the page's keys (digits
    // pick the class, space plays) work while the widget has the focus, never in the notebook's code cells.
    const prefix = `relunet-${Math.random().toString(36).slice(2, 8)}-`;
    const app = mount(root, transport, { prefix, url: false, keys: root });
    root.relunetPlayground = app;             // for tests and the curious, as window.relunetPlayground on the page
    return () => {
      transport.close();
      if (app && typeof app.destroy === "function") app.destroy();
      root.remove();
    };
  },
};
