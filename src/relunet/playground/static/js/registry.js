// Extension points of the page: other modules add panels and message handlers here (see extensions.js).
//
//   registerPanel("exercises", {
//     place: "left" | "right" | "main" | "under-map",  // where the panel goes (default: the right column)
//     title: "Exercises",                        // the panel's heading
//     mount(el, ctx) { ... },                    // build the panel inside el; ctx is described in app.js (mount)
//     messages: { exercise(msg, ctx) { ... } },  // JSON messages from the server, by type
//     onState(state, ctx) { ... },               // after every "state" message
//     onWeights(weights, ctx) { ... },           // after every "weights" message
//     lecture(ctx) { ... },                      // a lecture step whose mode is this panel's name opened it;
//                                                // true: the panel scrolled itself (else the page scrolls to it)
//   });
//
// The module is imported from extensions.js; it must not touch the DOM outside the element it is given,
// except through ctx (ctx.view for the map, ctx.send for the server).

export const PANELS = [];

export function registerPanel(name, module) {
  if (PANELS.some(p => p.name === name)) throw new Error(`panel ${name} is already registered`);
  PANELS.push({ name, ...module });
}
