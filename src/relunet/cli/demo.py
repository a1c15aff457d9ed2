"""relunet demo: the lecture's story on its own example, in a few seconds."""

import json
import os
import time

from ..data import bounding_box, make_dataset
from ..engine.model import MLP
from ..engine.train import fit
from ..io import atomic_write_bytes, save
from ._common import check_output_folder, seed_type

HELP = "train a linear classifier and a two-layer ReLU net on the lecture's example and draw both"
DESCRIPTION = """The lecture's example: class 0 near [0.8, 0] and again near [0.4, 0.9], class 1 between them.
A linear classifier argmax(Wx + b) makes convex regions, so it cannot get every token right; a two-layer ReLU
network trained with per-sample SGD draws piece-wise linear boundaries that do.

example:
  relunet demo --out relunet-demo
"""

HIDDEN = 8
LR = 0.1
MAX_EPOCHS = 500
TARGET_LOSS = 0.01


def add_arguments(p):
    p.add_argument("--out", default="relunet-demo", metavar="DIR", help="folder for the pictures (default relunet-demo/)")
    p.add_argument("--seed", type=seed_type, default=0, help="seed of the data, the weights and the visiting order")


def run(args):
    from ..plot import draw_history, draw_regions, new_figure, save_figure  # matplotlib: only when drawing

    out = args.out
    check_output_folder(out, "--out")
    os.makedirs(out, exist_ok=True)
    X, y = make_dataset("lecture", seed=args.seed)
    box = bounding_box(X)

    print("the lecture's example: class 0 near [0.8, 0] and [0.4, 0.9], class 1 between them "
          f"({len(X)} tokens)")
    linear = MLP([2, 2], seed=args.seed)
    t0 = time.perf_counter()
    h_lin = fit(linear, X, y, epochs=200, lr=LR, batch_size=1, seed=args.seed)
    lin_s = time.perf_counter() - t0
    lin_acc = linear.score(X, y)
    print(f"linear classifier argmax(Wx + b): training accuracy {lin_acc:.1%} "
          "(its regions are convex: it cannot cut class 0 in two)")

    net = MLP([2, HIDDEN, 2], seed=args.seed)
    t0 = time.perf_counter()
    h_net = fit(net, X, y, epochs=MAX_EPOCHS, lr=LR, batch_size=1, target_loss=TARGET_LOSS, seed=args.seed)
    net_s = time.perf_counter() - t0
    net_acc = net.score(X, y)
    print(f"two-layer ReLU network 2-{HIDDEN}-2, per-sample SGD (lr {LR}): training accuracy {net_acc:.1%} "
          f"after {len(h_net)} epochs ({h_net.stop_reason}), {net_s:.2f} s")

    paths = {}
    for name, model, history in (("linear", linear, h_lin), ("two_layer", net, h_net)):
        model.box = box
        fig = new_figure(6, 5)
        ax = fig.subplots()
        acc = model.score(X, y)
        draw_regions(ax, model, X, y, box=box, title=(
            f"linear classifier: {acc:.0%} correct" if name == "linear" else
            f"two-layer ReLU net (2-{HIDDEN}-2): {acc:.0%} correct"))
        paths[name] = os.path.join(out, f"{name}_regions.png")
        save_figure(fig, paths[name])
        save(model, os.path.join(out, f"{name}.npz"))
    fig = new_figure(7, 4)
    ax = fig.subplots()
    draw_history(ax, h_net, label=f"two-layer ReLU net 2-{HIDDEN}-2")
    ax.plot(h_lin.epoch, h_lin.loss, color="#7f7f7f", label="linear classifier")
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title("training loss (per-sample SGD)")
    paths["loss"] = os.path.join(out, "loss.png")
    save_figure(fig, paths["loss"])

    summary = {"linear": {"train_accuracy": lin_acc, "epochs": len(h_lin), "seconds": round(lin_s, 3)},
               "two_layer": {"train_accuracy": net_acc, "hidden": HIDDEN, "epochs": len(h_net),
                             "seconds": round(net_s, 3), "stop_reason": h_net.stop_reason}}
    paths["summary"] = os.path.join(out, "summary.json")
    atomic_write_bytes(paths["summary"], (json.dumps(summary, indent=2) + "\n").encode())
    print("wrote:")
    for p in paths.values():
        print(f"  {p}")
    return 0
