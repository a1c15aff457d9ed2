// The WebSocket transport: { send(obj), onMessage(cb), onStatus(cb), reconnect() }.
// cb gets a parsed object for JSON text and an ArrayBuffer for binary frames; status is "open" or "closed".
// Messages sent before the socket opens (or while it is closed) wait and go out when it opens.

export function wsTransport(url) {
  let ws = null, queue = [];
  const onMsg = [], onStat = [];
  const status = s => onStat.forEach(cb => cb(s));
  function open() {
    ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => { status("open"); for (const m of queue) ws.send(m); queue = []; };
    ws.onclose = () => status("closed");
    ws.onmessage = ev => {
      const data = typeof ev.data === "string" ? JSON.parse(ev.data) : ev.data;
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
    reconnect() { if (ws && ws.readyState <= WebSocket.OPEN) ws.close(); queue = []; open(); },
  };
}

// The page's own server: ws://host/ws next to the page.
export function pageUrl(path = "/ws") {
  return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}${path}`;
}
