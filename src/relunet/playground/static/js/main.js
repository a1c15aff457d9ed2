// The standalone page: mount the app on the page's root element, talking to this server's WebSocket.
import { mount } from "./app.js";
import { wsTransport, pageUrl } from "./ws.js";

const app = mount(document.querySelector("#relunet"), wsTransport(pageUrl()));
window.relunetPlayground = app;   // for tests and the curious: the page's current state
