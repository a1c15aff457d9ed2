// The page's markup, created by JavaScript so the same app mounts in the standalone page and in a notebook cell.
// Every id gets the mount's prefix (empty on the standalone page); app.js finds elements through its root only.

export function markup(prefix = "") {
  return HTML.replace(/ id="/g, ` id="${prefix}`);
}

const HTML = `
<header class="topbar">
  <div class="topline">
    <div class="brand"><span class="logo">relu<b>net</b></span> <span class="sub">playground</span></div>
    <div class="transport">
      <button id="play" class="primary" title="Play / pause (space)" aria-label="play">&#9654; Play</button>
      <button id="step" title="One update">Step</button>
      <button id="step-epoch" title="One epoch">Epoch</button>
      <button id="reset" title="Re-initialise the weights with the same seed">Reset</button>
      <button id="new-seed" title="Re-initialise with a new seed">New seed</button>
    </div>
    <div class="counters" id="counters">
      <div><span class="k">epoch</span> <span id="c-epoch" class="v">0</span></div>
      <div><span class="k">updates</span> <span id="c-updates" class="v">0</span></div>
      <div><span class="k">updates/s</span> <span id="c-ups" class="v">0</span></div>
      <div><span class="k">samples/s</span> <span id="c-sps" class="v">0</span></div>
      <div id="c-regions-box" hidden title="Linear pieces of the network in the view: regions where every hidden unit keeps its side, so the network is one affine map there (a class's cell may span several, and a linear classifier has one)"><span class="k">linear pieces</span> <span id="c-regions" class="v">-</span></div>
      <div><span class="k">lr</span> <span id="c-lr" class="v">-</span></div>
    </div>
    <div class="connbox"><span id="conn" class="conn" title="connection">connecting…</span>
      <button id="reconnect" class="reconnect" hidden>Reconnect</button></div>
  </div>
  <div id="status" class="status" role="status" hidden></div>
</header>
<nav class="lecture" id="lecture" aria-label="lecture path">
  <div class="lecture-steps"><span class="lecture-title">Lecture</span><span id="lecture-steps"></span>
    <button id="lecture-undo" class="undo" title="Back to the page as it was before the last step" disabled>&#8630; Undo</button></div>
  <div id="lecture-text" class="lecture-text"></div>
</nav>
<div id="toast" class="toast" role="alert" hidden></div>

<main class="layout">
  <section class="col col-left">
    <details class="panel section" open>
      <summary><h2>Data</h2></summary>
      <div class="seg" role="group" aria-label="task">
        <button id="task-classification" class="seg-btn" data-task="classification">Classification</button>
        <button id="task-regression" class="seg-btn" data-task="regression">Regression</button>
      </div>
      <label class="row">Preset <select id="dataset"></select></label>
      <label class="row" id="row-classes">Classes / arms <input id="classes" type="number" min="2" max="10" step="1"></label>
      <label class="row">Points <input id="n" type="number" min="1" max="10000" step="1"></label>
      <label class="row">Noise <input id="noise" type="range" min="0" max="1" step="0.01"><output id="noise-v"></output></label>
      <label class="row">Test split <input id="split" type="range" min="0" max="0.9" step="0.05"><output id="split-v"></output></label>
      <div class="btnrow"><button id="regenerate">Regenerate</button><button id="clear">Clear points</button></div>
      <div id="palette-box">
        <div class="hint">Click adds a point of the selected class (keys 0-9 choose class 0-9); shift-click adds class 1; right-click or ctrl-click removes the nearest.</div>
        <div id="palette" class="palette"></div>
      </div>
      <div class="hint" id="reg-hint" hidden>Click adds a point (x, y); right-click or ctrl-click removes the nearest.</div>
    </details>

    <details class="panel section" open>
      <summary><h2>Network</h2></summary>
      <div id="layers" class="layers"></div>
      <div class="btnrow"><button id="add-layer">+ Hidden layer</button><span id="net-shape" class="muted"></span></div>
    </details>

    <details class="panel section" id="sec-training">
      <summary><h2>Training <span id="training-sum" class="muted"></span></h2></summary>
      <label class="row">Optimizer <select id="optimizer"><option value="sgd">SGD</option><option value="momentum">Momentum</option><option value="nesterov">Nesterov</option><option value="adam">Adam</option></select></label>
      <label class="row">Learning rate <input id="lr" type="number" min="0" step="any"></label>
      <label class="row">Momentum <input id="momentum" type="number" min="0" max="0.999" step="0.05"></label>
      <label class="row">Batch size <input id="batch_size" type="number" min="1" max="10000" step="1"></label>
      <label class="row">L2 decay <input id="weight_decay" type="number" min="0" step="any"></label>
      <label class="row">LR schedule <select id="schedule"><option value="constant">constant</option><option value="invscaling">1/sqrt(1+epoch)</option><option value="step">x0.1 every 30 epochs</option></select></label>
      <label class="row">Stop at loss <input id="target_loss" type="number" min="0" step="any" placeholder="none"></label>
      <label class="row">Max epochs <input id="max_epochs" type="number" min="1" step="1" placeholder="none"></label>
    </details>

    <details class="panel section" id="sec-compare">
      <summary><h2>Compare two runs</h2></summary>
      <div class="hint">A second run on the same data from the same seed, with its own settings, trained in lockstep (the same number of tokens seen). Its map is drawn beside this one and its curves over these (purple).</div>
      <label class="chk"><input id="cmp-on" type="checkbox"> Show run B</label>
      <div id="cmp-controls">
        <label class="row">Hidden layers <input id="cmp-net" type="text" placeholder="e.g. 8 or 16,16 or empty" aria-label="run B hidden layers"></label>
        <label class="row">Optimizer <select id="cmp-optimizer"><option value="sgd">SGD</option><option value="momentum">Momentum</option><option value="nesterov">Nesterov</option><option value="adam">Adam</option></select></label>
        <label class="row">Learning rate <input id="cmp-lr" type="number" min="0" step="any"></label>
        <label class="row">Batch size <input id="cmp-batch_size" type="number" min="1" max="10000" step="1"></label>
        <div class="btnrow"><button id="cmp-preset-linear" title="A: this run; B: the linear classifier">B = linear</button>
          <button id="cmp-preset-batch" title="B: batch 32">B = batch 32</button>
          <button id="cmp-preset-lr" title="B: ten times the learning rate">B = lr x10</button></div>
      </div>
    </details>

    <details class="panel section" id="sec-files">
      <summary><h2>Files and link</h2></summary>
      <div class="btnrow">
        <button id="save-model">Save .npz</button>
        <label class="filebtn">Load .npz<input id="load-model" type="file" accept=".npz"></label>
        <button id="export-json">Export weights JSON</button>
      </div>
      <div class="csv">
        <div class="btnrow">
          <label class="filebtn">Load CSV<input id="csv-file" type="file" accept=".csv,text/csv,text/plain"></label>
          <button id="csv-download">Download CSV</button>
        </div>
        <textarea id="csv-text" rows="4" placeholder="x1,x2,label&#10;0.1,0.2,0&#10;0.5,-0.3,1"></textarea>
        <button id="csv-load">Load pasted text</button>
      </div>
      <div id="link-note" class="hint warn" hidden></div>
      <div class="hint">Saved models work with <code>relunet evaluate / predict / plot</code>. The link in the address bar reproduces this experiment.</div>
    </details>
  </section>

  <section class="col col-main">
    <div class="panel mainview">
      <div class="viewbar">
        <label class="chk"><input id="discretize" type="checkbox"> Discretise</label>
        <label class="chk"><input id="hinges" type="checkbox"> Hinge lines</label>
        <label class="chk" title="Exact piece-wise linear regions and decision boundary (relunet.pwl)"><input id="pwl" type="checkbox"> Exact regions</label>
        <label class="chk">Grid <select id="resolution"><option>50</option><option>100</option><option>150</option><option>200</option></select></label>
        <button id="fit-view" title="Fit the view to the data">Fit view</button>
        <button id="record" title="Record the map and the curves as a WebM video">&#9679; Record</button>
      </div>
      <div class="seg small" role="group" aria-label="click mode">
        <button id="mode-add" class="seg-btn active">Click: add point</button>
        <button id="mode-remove" class="seg-btn">Click: remove point</button>
        <button id="mode-trace" class="seg-btn">Click: trace a token</button>
      </div>
      <div class="maps" id="maps">
        <div class="canvas-wrap"><div class="map-title" id="map-title-a" hidden>A</div><canvas id="map" class="map" aria-label="decision map"></canvas><div id="tip" class="tip" hidden></div></div>
        <div class="canvas-wrap" id="map-b-wrap" hidden><div class="map-title" id="map-title-b">B</div><canvas id="map-b" class="map" aria-label="decision map of run B"></canvas><div id="tip-b" class="tip" hidden></div></div>
      </div>
      <div id="focus-note" class="muted small-note">Scroll to zoom, drag to pan. Hover (or tap) a unit or a hinge line to see it.</div>
    </div>
    <div class="panel" id="metrics-panel">
      <h2>Metrics</h2>
      <table class="metrics" id="metrics"></table>
      <div class="charts"><canvas id="curve-loss" class="chart"></canvas><canvas id="curve-acc" class="chart"></canvas></div>
      <div id="confusion-box"><h3>Confusion matrix <span class="muted">rows: true, columns: predicted</span></h3><div id="confusion" class="confusion"></div></div>
    </div>
    <div class="panel">
      <h2>Hidden units <span class="muted">h over the plane; hover or tap to enlarge</span></h2>
      <div id="thumbs" class="thumbs"></div>
    </div>
  </section>

  <section class="col col-right">
    <div class="panel trace-panel" id="trace-panel">
      <h2>One token, one SGD step</h2>
      <div id="step-anim" class="step-anim" hidden>
        <div class="btnrow"><button id="anim-play" class="primary">&#9654; Watch the step</button>
          <label class="chk" title="Scale the learning rate of this step">lr &times; <input id="anim-scale" type="range" min="-1" max="1.5" step="0.05" value="0"><output id="anim-scale-v">1</output></label></div>
        <label class="row">before <input id="anim-t" type="range" min="0" max="1" step="0.01" value="0" aria-label="step progress"> after</label>
        <div id="anim-out" class="anim-out"></div>
      </div>
      <div id="trace" class="trace muted">Choose "Click: trace a token" and click a point.</div>
    </div>
    <details class="panel section" open>
      <summary><h2>Network graph <span class="muted">click a link or bias to edit</span></h2></summary>
      <svg id="graph" class="graph" role="img" aria-label="network graph"></svg>
      <div id="editor" class="editor" hidden><label id="editor-label"></label><input id="editor-value" type="number" step="any"><button id="editor-set" class="primary">Set</button><button id="editor-cancel">Cancel</button></div>
    </details>
    <details class="panel section">
      <summary><h2>Hidden space</h2></summary>
      <div class="btnrow">Layer <select id="hs-layer"></select> units <select id="hs-i"></select> <select id="hs-j"></select></div>
      <canvas id="hidden" class="chart square"></canvas>
    </details>
    <div id="ext-right"></div>
  </section>
</main>
`;
