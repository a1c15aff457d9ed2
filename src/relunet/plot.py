"""Pictures of a network (matplotlib, drawn off-screen with the Agg canvas: no display needed).

- decision regions: each class its colour, confidence as shading, the data on top, the exact decision
  boundary, and optionally the hinge line w_j x + b_j = 0 of every first-layer unit (where that unit's
  ReLU bends), with a legend that names them; for the linear classifier argmax(Wx + b) the view widens
  until every class's convex cell is in sight;
- loss and accuracy curves from a training History;
- for 1-D regression: the data, the fitted piece-wise linear curve and its breakpoints.
"""

import io as _io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from .engine.errors import RelunetError
from .io import atomic_write_bytes

#: One colour per class (up to 10), as in the playground.
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def new_figure(width=6.0, height=5.0):
    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig, path):
    """Write the figure as PNG (or any format matplotlib knows from the suffix), atomically."""
    buf = _io.BytesIO()
    fmt = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else "png"
    try:
        fig.savefig(buf, format=fmt, bbox_inches="tight")
    except ValueError:
        raise RelunetError(f"cannot write a plot as {fmt!r} ({path}); use .png, .pdf or .svg") from None
    atomic_write_bytes(path, buf.getvalue())


def grid(box, resolution):
    """Cell centres of a resolution x resolution grid over box [x0, x1, y0, y1]: (xs, ys, points (R*R, 2))."""
    x0, x1, y0, y1 = box
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.column_stack([gx.ravel(), gy.ravel()])


def region_image(model, box, resolution=300):
    """RGB image (resolution, resolution, 3) of the decision regions: class colour, paler where less confident."""
    _, _, pts = grid(box, resolution)
    P = model.predict_proba(pts)
    k = P.argmax(axis=1)
    K = P.shape[1]
    # confidence 0 at a tie of all classes (p = 1/K), 1 at certainty
    conf = np.clip((P.max(axis=1) - 1.0 / K) / (1.0 - 1.0 / K), 0.0, 1.0)
    colours = np.array([to_rgb(PALETTE[i % len(PALETTE)]) for i in range(K)])
    strength = 0.25 + 0.45 * conf
    img = 1.0 - strength[:, None] * (1.0 - colours[k])
    return img.reshape(resolution, resolution, 3)


HINGE_COLOR = "#333333"


def draw_hinges(ax, model, box, color=HINGE_COLOR, alpha=0.8):
    """Draw the line w_j . x + b_j = 0 of every first-layer unit across the box (2-input models)."""
    if model.depth < 2 or model.n_inputs != 2:
        return 0
    x0, x1, y0, y1 = box
    W, b = model.linears[0].W, model.linears[0].b
    drawn = 0
    for (w1, w2), bj in zip(W.astype(float), b.astype(float)):
        if abs(w2) > abs(w1):  # y = -(w1 x + b) / w2
            xs = np.array([x0, x1])
            ys = -(w1 * xs + bj) / w2
        elif abs(w1) > 0:
            ys = np.array([y0, y1])
            xs = -(w2 * ys + bj) / w1
        else:
            continue
        ax.plot(xs, ys, color=color, lw=0.9, alpha=alpha, ls="--")
        drawn += 1
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    return drawn


def draw_points(ax, X, y, classes=None, hollow=False):
    classes = np.unique(y) if classes is None else np.asarray(classes)
    for i, c in enumerate(classes):
        sel = y == c
        colour = PALETTE[i % len(PALETTE)]
        ax.scatter(X[sel, 0], X[sel, 1], s=22, facecolors="none" if hollow else colour, edgecolors="k" if not hollow
                   else colour, linewidths=0.7, label=f"class {c}", zorder=3)


def draw_regions(ax, model, X=None, y=None, box=None, resolution=300, hinges=True, exact=True, title=None,
                 legend="upper right"):
    """Decision regions of a 2-input classifier on `ax`, with data, hinge lines and a legend naming them.

    With exact=True, the exact region outlines and decision boundary (relunet.pwl) are drawn over the
    sampled shading for piece-wise linear networks. For the linear classifier argmax(Wx + b) the box
    widens (data box dotted) until every class that wins anywhere shows its cell, and the title says so.
    legend: where the legend goes (a matplotlib location), or None for none. Returns the box drawn.
    """
    if model.task != "classification" or model.n_inputs != 2:
        raise RelunetError(f"decision regions need a classifier with 2 inputs; this model is {model.sizes} "
                           f"({model.task})")
    box = _box(model, X, box)
    note = ""
    data_box = box
    if model.depth == 1:
        box, note = linear_cells_box(model, box)
    ax.imshow(region_image(model, box, resolution), origin="lower", extent=box, aspect="auto",
              interpolation="nearest")
    drew_exact = exact and _draw_exact(ax, model, box)
    drew_hinges = bool(hinges and draw_hinges(ax, model, box))
    if box != data_box:
        x0, x1, y0, y1 = data_box
        ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], ls=":", color="#555555", lw=1)
    if X is not None:
        draw_points(ax, X, y, model.classes)
    ax.set_xlim(box[0], box[1])
    ax.set_ylim(box[2], box[3])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    if title or note:
        ax.set_title("\n".join(t for t in (title, note) if t), fontsize=10)
    if legend:
        add_legend(ax, model.classes if X is not None else (), hinges=drew_hinges, boundary=drew_exact,
                   edges=drew_exact and model.depth > 2, first_layer=model.depth > 2, data_box=box != data_box,
                   loc=legend)
    return box


def add_legend(ax, classes=(), hinges=False, boundary=False, edges=False, first_layer=False, data_box=False,
               loc="upper right"):
    """A legend that names what the picture shows: the data classes, the exact decision boundary, the
    hinge lines and region edges (proxy handles, so it does not depend on how they were drawn)."""
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], ls="", marker="o", markerfacecolor=PALETTE[i % len(PALETTE)], markeredgecolor="k",
                      label=f"class {c}") for i, c in enumerate(classes)]
    if boundary:
        handles.append(Line2D([], [], color="black", lw=2, label="decision boundary (exact)"))
    if hinges:
        which = "first-layer unit" if first_layer else "hidden unit"
        handles.append(Line2D([], [], color=HINGE_COLOR, lw=0.9, ls="--",
                              label=f"hinge line w_j x + b_j = 0 of each {which}"))
    if edges:
        handles.append(Line2D([], [], color=(0.2, 0.2, 0.2, 0.5), lw=0.6, label="edges of the linear regions"))
    if data_box:
        handles.append(Line2D([], [], color="#555555", lw=1, ls=":", label="the data's area"))
    if handles:
        ax.legend(handles=handles, loc=loc, fontsize=7, framealpha=0.85)


def linear_cells_box(model, box, grow=2.0, steps=8):
    """(box, note): the smallest of box, box widened 2x, 4x, ... around its centre in which every class of
    the linear classifier argmax(Wx + b) that wins anywhere has a cell of visible area (exact cells,
    relunet.pwl), and a note naming the classes that win nowhere in the original box."""
    from .pwl.boundary import decision_boundary

    def winners(b):
        cells = decision_boundary(model, b).cells
        area = {}
        for k, _, poly in cells:
            area[k] = area.get(k, 0.0) + abs(float(np.sum(poly[:, 0] * np.roll(poly[:, 1], -1)
                                                          - np.roll(poly[:, 0], -1) * poly[:, 1]))) / 2
        pure = _pure_class(model, b)
        if pure is not None:
            area[pure] = (b[1] - b[0]) * (b[3] - b[2])
        full = (b[1] - b[0]) * (b[3] - b[2])
        return {k for k, a in area.items() if a > 0.01 * full}

    K = model.n_outputs
    here = winners(box)
    if len(here) == K:
        return box, ""
    cx, cy = (box[0] + box[1]) / 2, (box[2] + box[3]) / 2
    rx, ry = (box[1] - box[0]) / 2, (box[3] - box[2]) / 2
    wide, seen = box, here
    for i in range(1, steps + 1):
        f = grow ** i
        wide = [cx - f * rx, cx + f * rx, cy - f * ry, cy + f * ry]
        seen = winners(wide)
        if len(seen) == K:
            break
    names = lambda ks: ", ".join(f"class {model.classes[k]}" for k in sorted(ks))  # noqa: E731
    missing = set(range(K)) - here
    note = f"{names(missing)} {'wins' if len(missing) == 1 else 'win'} nowhere near the data"
    if seen - here:
        note += "; zoomed out to show every class's convex cell"
    never = set(range(K)) - seen
    if never:
        note += f"; {names(never)} {'wins' if len(never) == 1 else 'win'} nowhere at all"
        if not seen - here:
            wide = box
    return (wide if seen - here else box), note


def _pure_class(model, box):
    """The class that wins in the whole box when no boundary crosses it, else None."""
    x0, x1, y0, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])
    top = model.decision_function(corners).argmax(axis=1)
    return int(top[0]) if np.all(top == top[0]) else None


def _draw_exact(ax, model, box):
    """Overlay the exact regions and decision boundary (relunet.pwl) when the network is piece-wise linear."""
    if not all(a.piecewise_linear for a in model.activations):
        return False
    from .pwl.plot import draw_exact

    # In a two-layer net the region edges are the hinge lines themselves (drawn dashed by draw_hinges);
    # deeper nets also bend where later units switch, so their edges are drawn.
    draw_exact(ax, model, box, hinges=False, tint=False, regions=model.depth > 2)
    return True


def breakpoints_1d(model, a, b):
    """The exact breakpoints of a 1-input PWL network on [a, b]: where its slope changes (relunet.pwl.knots).

    Smooth networks (tanh, sigmoid) have none."""
    if not all(act.piecewise_linear for act in model.activations):
        return np.zeros(0)
    from .pwl import knots

    return knots(model, (a, b)).merged()[0][1:-1]


def draw_regression(ax, model, X, y, interval=None, title=None):
    """Data, the fitted PWL curve and its breakpoints for a 1-input regression model."""
    if model.task != "regression" or model.n_inputs != 1:
        raise RelunetError(f"the regression plot needs a regression model with 1 input; this model is "
                           f"{model.sizes} ({model.task})")
    if interval is None:
        lo, hi = (model.box[:2] if model.box else (float(np.min(X)), float(np.max(X))))
    else:
        lo, hi = interval
    xs = np.linspace(lo, hi, 1000)
    ax.scatter(np.ravel(X), np.ravel(y), s=12, color="#555555", label="data", zorder=2)
    ax.plot(xs, model.predict(xs[:, None]), color=PALETTE[0], lw=2, label="network", zorder=3)
    kn = breakpoints_1d(model, lo, hi)
    if len(kn):
        ax.scatter(kn, model.predict(kn[:, None]), marker="o", s=24, facecolors="white", edgecolors=PALETTE[1],
                   zorder=4, label=f"{len(kn)} breakpoints")
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title)


def draw_history(ax_loss, history, ax_acc=None, label="train loss"):
    ep = history.epoch
    ax_loss.plot(ep, history.loss, color=PALETTE[0], label=label)
    if any(v is not None for v in history.val_loss):
        ax_loss.plot(ep, history.val_loss, color=PALETTE[1], label="validation loss")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    if len(ep) and min(history.loss) > 0:
        ax_loss.set_yscale("log")
    ax_loss.legend(loc="upper right", fontsize=8)
    if ax_acc is not None and any(v is not None for v in history.accuracy):
        ax_acc.plot(ep, history.accuracy, color=PALETTE[2], label="train accuracy")
        if any(v is not None for v in history.val_accuracy):
            ax_acc.plot(ep, history.val_accuracy, color=PALETTE[3], label="validation accuracy")
        ax_acc.set_xlabel("epoch")
        ax_acc.set_ylabel("accuracy")
        ax_acc.set_ylim(-0.02, 1.02)
        ax_acc.legend(loc="lower right", fontsize=8)


def plot_history(history, path=None):
    """Loss and accuracy curves of a History; saved to `path` if given. Returns the Figure (shown inline in notebooks)."""
    fig = new_figure(9, 3.5)
    ax1, ax2 = fig.subplots(1, 2)
    draw_history(ax1, history, ax2)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_model(model, X=None, y=None, path=None, history=None, box=None, hinges=True, title=None):
    """One picture of `model`: decision regions (2-D classifier) or fitted curve (1-D regression), with the
    loss curve beside it when a History is given. Saved atomically to `path` if given. Returns the Figure
    (shown inline in notebooks)."""
    with_history = history is not None and len(history) > 0
    fig = new_figure(11 if with_history else 6, 5)
    axes = fig.subplots(1, 2 if with_history else 1, squeeze=False)[0]
    if model.task == "classification" and model.n_inputs == 2:
        draw_regions(axes[0], model, X, y, box=box, hinges=hinges, title=title or _describe(model))
    elif model.task == "regression" and model.n_inputs == 1:
        draw_regression(axes[0], model, X if X is not None else np.zeros((0, 1)),
                        y if y is not None else np.zeros(0), interval=None if box is None else box[:2],
                        title=title or _describe(model))
    else:
        raise RelunetError(f"relunet can draw 2-input classifiers and 1-input regression models; this model is "
                           f"{model.sizes} ({model.task})")
    if with_history:
        draw_history(axes[1], history)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def _describe(model):
    hidden = model.sizes[1:-1]
    if not hidden:
        return "linear classifier argmax(Wx + b)" if model.task == "classification" else "linear model"
    acts = sorted(set(model.activation_names))
    return f"{'-'.join(map(str, model.sizes))} network ({', '.join(acts)})"


def _box(model, X, box):
    if box is not None:
        return [float(v) for v in box]
    if X is not None and len(X):
        from .data import bounding_box

        return bounding_box(X)
    if model.box is not None:
        return list(model.box[:4])
    return [-1.0, 1.0, -1.0, 1.0]
