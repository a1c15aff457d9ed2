"""Drawing the exact geometry with matplotlib (Agg): regions, decision boundary, first-layer hinges.

``draw_exact(ax, model, box)`` is the one entry point other plots use; ``plot_regions``,
``plot_approximation`` and ``plot_region_history`` write whole figures for the command line. Figures
are written atomically (relunet.io.atomic_write_bytes).
"""

import io as _io

import numpy as np

from ..engine.errors import RelunetError
from ..io import atomic_write_bytes
from .boundary import decision_boundary
from .model_pwl import pwl_layers
from .regions import linear_regions


def _mpl():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def class_colors(K):
    """K RGBA colours, one per class (matplotlib's tab10, cycled)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab10"]
    return np.array([cmap(k % 10) for k in range(K)])


def hinge_segments(W, b, box):
    """The part of each line W_j x + b_j = 0 inside the box: (L, 2, 2) segments (lines missing it skipped).

    W (n, 2), b (n,), box [x0, x1, y0, y1].
    """
    x0, x1, y0, y1 = box
    out = []
    for (w1, w2), c in zip(np.asarray(W, float), np.asarray(b, float)):
        pts = []
        if w2 != 0:
            for x in (x0, x1):
                y = -(c + w1 * x) / w2
                if y0 <= y <= y1:
                    pts.append((x, y))
        if w1 != 0:
            for y in (y0, y1):
                x = -(c + w2 * y) / w1
                if x0 <= x <= x1:
                    pts.append((x, y))
        if len(pts) >= 2:
            pts = np.array(pts)
            d = pts @ np.array([-w2, w1])  # position along the line
            out.append([pts[d.argmin()], pts[d.argmax()]])
    return np.array(out).reshape(-1, 2, 2)


def draw_exact(ax, model, box=None, *, partition=None, boundary=None, regions=True, hinges=True, tint=True,
               linewidth=0.3, boundary_width=2.5):
    """Draw a 2-input model's exact linear regions, decision boundary and first-layer hinge lines on `ax`.

    Args:
        ax: a matplotlib Axes. model: a 2-input relu / leaky_relu / identity MLP.
        box: [x0, x1, y0, y1] (default model.box). partition, boundary: reuse already computed ones.
        regions: outline every region (tinted by the top class at its centre, or by the output
            value for regression, when `tint`). hinges: dashed first-layer lines W^(1) x + b^(1) = 0.
    Returns:
        (partition, boundary) (boundary None for regression models).
    Raises:
        RelunetError when the model is not a 2-input relu / leaky_relu / identity network, or there is
        no box (callers that draw any model can catch it and fall back to sampling a grid).
    """
    from matplotlib.collections import LineCollection, PolyCollection

    part = partition if partition is not None else linear_regions(model, box)
    bnd = None
    if model.task == "classification":
        bnd = boundary if boundary is not None else decision_boundary(model, partition=part)
    x0, x1, y0, y1 = part.box
    if regions:
        polys = [part.vertices[i, :part.counts[i]] for i in range(len(part))]
        if tint:
            g = part.centroids()
            z = np.einsum("rkd,rd->rk", part.A, g) + part.c
            if model.task == "classification":
                # Regions the boundary crosses are tinted by their exact class cells instead.
                colors = class_colors(z.shape[1])
                pure = np.ones(len(part), bool)
                pure[bnd.mixed] = False
                fills = [polys[i] for i in np.flatnonzero(pure)] + [cell for _, _, cell in bnd.cells]
                face = np.vstack([colors[z.argmax(axis=1)[pure]].reshape(-1, 4),
                                  colors[[k for k, _, _ in bnd.cells]].reshape(-1, 4)])
                face[:, 3] = 0.25
            else:
                import matplotlib

                v = z[:, 0]
                span = np.ptp(v) or 1.0
                fills, face = polys, matplotlib.colormaps["viridis"]((v - v.min()) / span)
                face[:, 3] = 0.5
            ax.add_collection(PolyCollection(fills, facecolors=face, edgecolors="none"))
        ax.add_collection(PolyCollection(polys, facecolors="none", edgecolors=(0.2, 0.2, 0.2, 0.5),
                                         linewidths=linewidth))
    if hinges:
        hidden, _ = pwl_layers(model)
        if hidden:
            segs = hinge_segments(hidden[0][0], hidden[0][1], part.box)
            ax.add_collection(LineCollection(segs, colors=(0.1, 0.1, 0.6, 0.45), linewidths=0.6,
                                             linestyles="dashed"))
    if bnd is not None and len(bnd.segments):
        ax.add_collection(LineCollection(bnd.segments, colors="black", linewidths=boundary_width))
        if len(bnd.junctions):
            ax.plot(bnd.junctions[:, 0], bnd.junctions[:, 1], "o", color="black", ms=5)
    if not hidden_layers(model) and model.task == "classification":
        # The lecture's words for the linear classifier's picture (its cells are a power diagram, a
        # Voronoi diagram only for equal |w_k|^2 + 2 b_k: see relunet.pwl.power; the picture needs neither).
        ax.text(0.01, 0.01, "argmax(Wx + b): each class wins in one convex cell", transform=ax.transAxes,
                fontsize=8, va="bottom", bbox=dict(facecolor="white", alpha=0.7, lw=0))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("auto")
    return part, bnd


def draw_knots(ax, model, interval=None, output=0, color="C0", label="network (exact pieces)"):
    """Draw a 1-input model's function exactly (straight lines between its knots), knots marked.

    Args:
        ax: a matplotlib Axes. model: a 1-input relu / leaky_relu / identity MLP.
        interval: (a, b) (default model.box). output: which output to draw.
    Returns:
        the Knots (see relunet.pwl.knots).
    """
    from .oned import knots

    k = knots(model, interval)
    ax.plot(k.knots, k.values[:, output], "-", color=color, lw=1.8, label=label)
    inner = k.knots[1:-1]
    ax.plot(inner, k.values[1:-1, output], "|", color="black", ms=8, mew=1.0,
            label=f"{len(inner)} knots ({k.pieces} pieces)")
    return k


def hidden_layers(model):
    return len(model.linears) - 1


def plot_regions(model, X=None, y=None, path="regions.png", box=None, title=None, partition=None, boundary=None):
    """Write a figure of the exact regions, boundary and hinges (and the data points if given) to `path`."""
    plt = _mpl()
    fig, ax = plt.subplots(figsize=(7, 6.5))
    part, bnd = draw_exact(ax, model, box, partition=partition, boundary=boundary)
    if X is not None:
        X = np.asarray(X, float)
        if model.task == "classification" and y is not None:
            idx = model.encode_labels(y)
            ax.scatter(X[:, 0], X[:, 1], c=class_colors(model.n_outputs)[idx], s=12, edgecolors="black",
                       linewidths=0.4, zorder=3)
        else:
            ax.scatter(X[:, 0], X[:, 1], c="black", s=6, zorder=3)
    if title is None:
        title = f"{model.sizes}: {len(part)} linear regions"
        if bnd is not None:
            title += f", {bnd.count} boundary pieces"
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    _legend(ax, model, classes=model.classes if X is not None and y is not None and model.task == "classification"
            else (), boundary=bnd is not None and len(bnd.segments) > 0)
    ax.set_title(title)
    save_figure(fig, path)
    plt.close(fig)
    return part, bnd


def _legend(ax, model, classes=(), boundary=True):
    """Name what plot_regions draws: the classes (in this module's colours), the boundary, the hinges
    and the region edges."""
    from matplotlib.lines import Line2D

    colors = class_colors(len(classes))
    handles = [Line2D([], [], ls="", marker="o", markerfacecolor=colors[i], markeredgecolor="black",
                      label=f"class {c}") for i, c in enumerate(classes)]
    if boundary:
        handles.append(Line2D([], [], color="black", lw=2, label="decision boundary (exact)"))
    if hidden_layers(model):
        which = "first-layer unit" if hidden_layers(model) > 1 else "hidden unit"
        handles.append(Line2D([], [], color=(0.1, 0.1, 0.6, 0.45), lw=0.8, ls="--",
                              label=f"hinge line w_j x + b_j = 0 of each {which}"))
        if hidden_layers(model) > 1:  # in a two-layer net the region edges are the hinge lines
            handles.append(Line2D([], [], color=(0.2, 0.2, 0.2, 0.5), lw=0.6, label="edges of the linear regions"))
    if handles:
        ax.legend(handles=handles, loc="upper right", fontsize=7, framealpha=0.85)


def plot_approximation(rows, path, name="sine"):
    """Max error against the number of pieces on log axes (interpolating and, if present, trained nets)."""
    plt = _mpl()
    n = np.array([r["pieces"] for r in rows], float)
    err = np.array([r["max_error"] for r in rows], float)
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    ok = err > 0
    ax.loglog(n[ok], err[ok], "o-", label="interpolating network (compiled)")
    if rows and "trained_error" in rows[0]:
        ax.loglog(n, [r["trained_error"] for r in rows], "s--", label="trained two-layer network, same width")
    if ok.any():
        c = (err[ok] * n[ok] ** 2)[-1]
        ax.loglog(n, c / n ** 2, ":", color="gray", label=f"{c:.3g} / n^2")
    ax.set_xlabel("linear pieces n")
    ax.set_ylabel("max |f - network|")
    ax.set_title(f"approximating {name} by n linear pieces")
    ax.legend()
    save_figure(fig, path)
    plt.close(fig)


def plot_region_history(counter, path):
    """The exact region count per epoch next to the training loss (from a RegionCounter)."""
    plt = _mpl()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
    a1.plot(counter.epochs, counter.counts, "o-", ms=3)
    a1.set_xlabel("epoch")
    a1.set_ylabel("linear regions (exact)")
    a1.set_title("regions during training")
    ep = [e for e, v in zip(counter.epochs, counter.losses) if v is not None]
    a2.plot(ep, [v for v in counter.losses if v is not None], color="C1")
    a2.set_xlabel("epoch")
    a2.set_ylabel("loss")
    a2.set_yscale("log")
    a2.set_title("training loss")
    save_figure(fig, path)
    plt.close(fig)


def save_figure(fig, path):
    """Save a figure as PNG (or the format of path's suffix) atomically."""
    buf = _io.BytesIO()
    fmt = str(path).rsplit(".", 1)[-1].lower() if "." in str(path) else "png"
    try:
        fig.savefig(buf, format=fmt, dpi=110, bbox_inches="tight")
    except ValueError:
        raise RelunetError(f"cannot write a figure as {fmt!r} ({path}); use .png, .pdf or .svg") from None
    atomic_write_bytes(path, buf.getvalue())


__all__ = ["draw_exact", "draw_knots", "plot_regions", "plot_approximation", "plot_region_history", "hinge_segments",
           "class_colors", "save_figure"]
