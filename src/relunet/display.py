"""Rich displays in notebooks: an MLP as a table of its layers with a small diagram, a History as its curves,
and relunet.plot's matplotlib figures inline.

The engine knows nothing of this: ``register()`` adds formatters to IPython's display system when IPython is
running (relunet/__init__.py calls it only if IPython is already imported, so a plain ``import relunet``
pays nothing). The HTML is plain inline SVG: no matplotlib, no JavaScript, and it survives nbconvert.
"""

import html
import io
import math

from .engine.model import MLP
from .engine.train import History

DIAGRAM_UNITS = 10      # circles drawn per layer in the diagram; wider layers show "..." and their size
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e")


def register(ip=None):
    """Add relunet's HTML formatters (and a PNG one for matplotlib figures) to the running IPython, if any."""
    if ip is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        ip = get_ipython()
    if ip is None or not hasattr(ip, "display_formatter"):
        return False
    formatters = ip.display_formatter.formatters
    formatters["text/html"].for_type(MLP, mlp_html)
    formatters["text/html"].for_type(History, history_html)
    # relunet.plot draws on plain Figures (no pyplot), which IPython shows only once pyplot's inline backend
    # has registered itself; by name, so matplotlib is not imported until a figure exists.
    png = formatters["image/png"]
    try:
        png.lookup_by_type("matplotlib.figure.Figure")
    except KeyError:
        png.for_type_by_name("matplotlib.figure", "Figure", figure_png)
    return True


# ================================================================================================ MLP
def mlp_html(model):
    """An MLP as HTML: a diagram, then one row per layer (W and b shapes, activation, parameters)."""
    rows = []
    sizes = model.sizes
    acts = list(model.activation_names) + [_output_name(model)]
    for i, lin in enumerate(model.linears, 1):
        n = lin.W.size + lin.b.size
        rows.append(f"<tr><td>{i}</td><td>{sizes[i - 1]} &rarr; {sizes[i]}</td><td>W {_shape(lin.W)}, "
                    f"b {_shape(lin.b)}</td><td>{html.escape(acts[i - 1])}</td><td style='text-align:right'>"
                    f"{n:,}</td></tr>")
    total = sum(lin.W.size + lin.b.size for lin in model.linears)
    hidden = len(sizes) - 2
    kind = "linear classifier argmax(Wx + b)" if hidden == 0 and model.task == "classification" else (
        f"{hidden} hidden layer{'s' if hidden != 1 else ''}")
    head = (f"<b>MLP {html.escape('-'.join(map(str, sizes)))}</b> &middot; {html.escape(model.task)} &middot; "
            f"{kind} &middot; {total:,} parameters &middot; {html.escape(str(model.dtype))}")
    table = ("<style>.relunet-mlp td, .relunet-mlp th {padding: 1px 8px}</style>"
             "<table style='border-collapse:collapse;font-size:12px'><thead><tr><th>layer</th><th>units</th>"
             "<th>shapes (W is out &times; in)</th><th>then</th><th>parameters</th></tr></thead><tbody>"
             + "".join(rows) + f"</tbody><tfoot><tr><td colspan='4'>total</td><td style='text-align:right'>"
             f"{total:,}</td></tr></tfoot></table>")
    return (f"<div class='relunet-mlp' style='font-family:sans-serif;font-size:13px'><div>{head}</div>"
            f"<div style='display:flex;gap:16px;align-items:center;flex-wrap:wrap'>{mlp_svg(model)}{table}</div>"
            f"<div style='color:#666;font-size:11px'>z = x W<sup>T</sup> + b in every layer</div></div>")


def _output_name(model):
    return "softmax" if model.task == "classification" else "identity (output)"


def _shape(a):
    return "(" + ", ".join(map(str, a.shape)) + (",)" if a.ndim == 1 else ")")


def mlp_svg(model):
    """A small diagram: a column of units per layer (at most DIAGRAM_UNITS drawn), links between them."""
    sizes = model.sizes
    gap = 70
    width = gap * (len(sizes) - 1) + 60
    height = 12 * min(max(sizes), DIAGRAM_UNITS) + 26
    r = 5
    cols = []
    for i, n in enumerate(sizes):
        shown = min(n, DIAGRAM_UNITS)
        x = 30 + i * gap
        ys = [height / 2 + (j - (shown - 1) / 2) * 12 for j in range(shown)]
        cols.append((x, ys, n > shown, n))
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height + 14}' "
             f"viewBox='0 0 {width} {height + 14}' role='img' aria-label='network diagram'>"]
    for (x0, ys0, _, _), (x1, ys1, _, _) in zip(cols, cols[1:]):
        for a in ys0:
            for b in ys1:
                parts.append(f"<line x1='{x0}' y1='{a:.1f}' x2='{x1}' y2='{b:.1f}' stroke='#999' "
                             f"stroke-width='0.4'/>")
    for i, (x, ys, cut, n) in enumerate(cols):
        fill = "#fff" if i == 0 else ("#fde0c5" if i == len(cols) - 1 else "#cfe2f3")
        for y in ys:
            parts.append(f"<circle cx='{x}' cy='{y:.1f}' r='{r}' fill='{fill}' stroke='#333' stroke-width='0.8'/>")
        if cut:
            parts.append(f"<text x='{x}' y='{ys[-1] + 12:.1f}' font-size='10' text-anchor='middle'>&#8942;</text>")
        parts.append(f"<text x='{x}' y='{height + 10}' font-size='10' text-anchor='middle'>{n}</text>")
    parts.append("</svg>")
    return "".join(parts)


# ================================================================================================ History
def history_html(history):
    """A History as HTML: loss (log scale when positive) and accuracy curves as inline SVG, and a summary."""
    n = len(history)
    if n == 0:
        return "<div style='font-family:sans-serif'>History: no epochs yet</div>"
    last = history.last()
    summary = [f"<b>History</b> &middot; {n} epoch{'s' if n != 1 else ''}"]
    if last.get("loss") is not None:
        summary.append(f"loss {last['loss']:.4g}")
    if last.get("accuracy") is not None:
        summary.append(f"accuracy {last['accuracy']:.1%}")
    if last.get("val_loss") is not None:
        summary.append(f"validation loss {last['val_loss']:.4g}")
    if history.stop_reason:
        summary.append(f"stopped: {html.escape(str(history.stop_reason))}")
    loss = [("loss", history.loss, PALETTE[0]), ("validation loss", history.val_loss, PALETTE[1])]
    acc = [("accuracy", history.accuracy, PALETTE[2]), ("validation accuracy", history.val_accuracy, PALETTE[3])]
    charts = [curves_svg(history.epoch, loss, "loss", log=True)]
    if any(v is not None for v in history.accuracy):
        charts.append(curves_svg(history.epoch, acc, "accuracy", fixed=(0.0, 1.0)))
    return (f"<div class='relunet-history' style='font-family:sans-serif;font-size:13px'>"
            f"<div>{' &middot; '.join(summary)}</div><div style='display:flex;gap:12px'>{''.join(charts)}</div></div>")


def curves_svg(xs, series, ylabel, log=False, fixed=None, width=300, height=170):
    """Line chart of [(label, values, colour)] against xs; None values are skipped."""
    pad_l, pad_r, pad_t, pad_b = 46, 8, 8, 30
    drawn = [(lab, [(x, v) for x, v in zip(xs, vals) if v is not None and math.isfinite(v)], col)
             for lab, vals, col in series]
    drawn = [d for d in drawn if d[1]]
    values = [v for _, pts, _ in drawn for _, v in pts]
    log = log and values and min(values) > 0
    f = math.log10 if log else (lambda v: v)
    lo, hi = fixed if fixed else (min(map(f, values)), max(map(f, values)))
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    x0, x1 = min(xs), max(xs)
    x1 = x1 if x1 > x0 else x0 + 1
    w, h = width - pad_l - pad_r, height - pad_t - pad_b

    def px(x):
        return pad_l + (x - x0) / (x1 - x0) * w

    def py(v):
        return pad_t + (1 - (f(v) - lo) / (hi - lo)) * h

    out = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' role='img' "
           f"aria-label='{html.escape(ylabel)} curve'>",
           f"<rect x='{pad_l}' y='{pad_t}' width='{w}' height='{h}' fill='none' stroke='#ccc'/>"]
    for v in (lo, hi):
        label = 10 ** v if log else v
        out.append(f"<text x='{pad_l - 4}' y='{pad_t + (1 - (v - lo) / (hi - lo)) * h + 4:.1f}' font-size='10' "
                   f"text-anchor='end'>{label:.3g}</text>")
    out.append(f"<text x='{pad_l}' y='{height - 16}' font-size='10'>{x0:g}</text>")
    out.append(f"<text x='{pad_l + w}' y='{height - 16}' font-size='10' text-anchor='end'>{x1:g}</text>")
    out.append(f"<text x='{pad_l + w / 2}' y='{height - 4}' font-size='10' text-anchor='middle'>epoch</text>")
    out.append(f"<text x='10' y='{pad_t + h / 2}' font-size='10' text-anchor='middle' "
               f"transform='rotate(-90 10 {pad_t + h / 2})'>{html.escape(ylabel)}{' (log)' if log else ''}</text>")
    for i, (lab, pts, col) in enumerate(drawn):
        path = " ".join(f"{px(x):.1f},{py(v):.1f}" for x, v in pts)
        out.append(f"<polyline points='{path}' fill='none' stroke='{col}' stroke-width='1.5'>"
                   f"<title>{html.escape(lab)}</title></polyline>")
        out.append(f"<text x='{pad_l + w - 4}' y='{pad_t + 12 + 12 * i}' font-size='10' fill='{col}' "
                   f"text-anchor='end'>{html.escape(lab)}</text>")
    out.append("</svg>")
    return "".join(out)


# ================================================================================================ figures
def figure_png(fig):
    """PNG bytes of a matplotlib Figure (relunet.plot draws on Agg canvases without pyplot)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()
