// Modules that extend the page (panels, message handlers): one import each. They register themselves with
// registry.js when imported.
import "./exercise.js";
