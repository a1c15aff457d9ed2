// The WebSocket transport: { send(obj), onMessage(cb), onStatus(cb), reconnect(), token }.
// cb gets a parsed object for JSON text and an ArrayBuffer for binary frames; status is "open" or "closed".
// Messages sent before the socket opens (or while it is closed) wait and go out when it opens.
//
// The session token: the server's first reply is {type: "session", token}; the transport keeps the token in
// sessionStorage (one per tab, it survives a reload) and `token` gives it back, for the page's hello. The
// server then resumes that tab's session: weights, counters, lecture step and undo stay (see resume.py).

const TOKEN_KEY = "relunet-session";

export function wsTransport(url, storage = safeSessionStorage()) {
  let ws = null, queue = [];
  const onMsg = [], onStat = [];
  const status = s => onStat.forEach(cb => cb(s));
  function open() {
    const sock = new WebSocket(url);
    ws = sock;
    sock.binaryType = "arraybuffer";
    // a socket replaced by reconnect() says nothing more: its late close must not mark the new one closed
    sock.onopen = () => { if (sock !== ws) return; status("open"); for (const m of queue) sock.send(m); queue = []; };
    sock.onclose = () => { if (sock === ws) status("closed"); };
    sock.onmessage = ev => {
      if (sock !== ws) return;
      const data = typeof ev.data === "string" ? JSON.parse(ev.data) : ev.data;
      if (data.type === "session" && storage) storage.setItem(TOKEN_KEY, data.token);
      onMsg.forEach(cb => cb(data));
    };
  }
  open();
  return {
    send(obj) {
      const text = JSON.stringify(obj);
      if (ws && ws.readyState === WebSocket.OPEN) ws.send(text); else queue.push(text);
    },
    onMessage(cb) { onMsg.push(cb); },
    onStatus(cb) { onStat.push(cb); },
    get connected() { return !!ws && ws.readyState === WebSocket.OPEN; },
    get token() { return storage ? storage.getItem(TOKEN_KEY) : null; },
    reconnect() {
      const old = ws;
      ws = null; queue = [];
      if (old && old.readyState <= WebSocket.OPEN) { old.close(); status("closed"); }
      open();
    },
  };
}

// sessionStorage, or null where the browser refuses it (storage disabled): the page then works without resuming.
function safeSessionStorage() {
  try { const s = window.sessionStorage; s.getItem(TOKEN_KEY); return s; } catch (e) { return null; }
}

// The page's own server: ws://host/ws next to the page.
export function pageUrl(path = "/ws") {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
}
