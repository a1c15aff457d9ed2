// Draws the exact regions overlay off the page's main thread: thousands of polygons take tens of milliseconds
// to stroke, which would stall the page's animation if done there. Replies with an ImageBitmap.
import { strokeRegions } from "./regions-draw.js";

self.onmessage = e => {
  const { id, regions, w, h } = e.data;
  const canvas = new OffscreenCanvas(w, h);
  strokeRegions(canvas.getContext("2d"), regions, w, h);
  const bitmap = canvas.transferToImageBitmap();
  self.postMessage({ id, bitmap }, [bitmap]);
};
