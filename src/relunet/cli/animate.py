"""relunet animate: training as an animation of the decision map, hinge lines and loss curve, for slides."""

import math
import os

import numpy as np

from ..engine.errors import DivergenceError, RelunetError
from ._common import add_data_arguments, check_output_paths, data_input, finite_float, int_list, load_data, seed_type

HELP = "render training as an animation (GIF, or MP4 with ffmpeg): decision map, hinge lines, loss curve"
DESCRIPTION = """Train a network and record it: each frame shows the decision map with the data, the hinge line
w_j x + b_j = 0 of every first-layer unit, the exact decision boundary, and the loss curve so far. Frames are
spread evenly over the epochs (the first shows the initial weights). A .gif is written with Pillow (it ships
with matplotlib); a .mp4 needs ffmpeg on the PATH.

examples:
  relunet animate --data lecture --hidden 8 --out run.gif
  relunet animate --data moons --hidden 16 --epochs 100 --frames 50 --lr 0.05 --out moons.mp4
"""

FORMATS = (".gif", ".mp4")


def add_arguments(p):
    add_data_arguments(p)
    p.add_argument("--hidden", default="8", help="hidden layer sizes, e.g. 8 or 16,16 (default 8)")
    p.add_argument("--epochs", type=int, default=200, help="epochs to train (default 200)")
    p.add_argument("--frames", type=int, default=40, help="frames in the animation (default 40, at most epochs + 1)")
    p.add_argument("--lr", type=finite_float, default=0.1, help="learning rate of per-sample SGD (default 0.1)")
    p.add_argument("--batch-size", type=int, default=1, help="tokens per update (default 1, the lecture's SGD)")
    p.add_argument("--seed", type=seed_type, default=0, help="seed of the initial weights and the visiting order")
    p.add_argument("--fps", type=int, default=8, help="frames per second (default 8)")
    p.add_argument("--dpi", type=int, default=80, help="pixels per inch of the 9 x 4 inch frames (default 80)")
    p.add_argument("--out", required=True, metavar="RUN.gif|RUN.mp4")


def check_options(args):
    """Every check that needs no data and no training: the output first, then the numbers."""
    out = args.out
    ext = os.path.splitext(out)[1].lower()
    if ext not in FORMATS:
        raise RelunetError(f"cannot write an animation as {ext or 'a file without suffix'!r} ({out}); use .gif or .mp4")
    check_output_paths([(out, "--out")], inputs=[data_input(args)])
    if ext == ".mp4":
        from matplotlib.animation import FFMpegWriter

        if not FFMpegWriter.isAvailable():
            raise RelunetError(f"cannot write {out}: MP4 needs ffmpeg, which is not installed; write a .gif instead")
    if args.epochs < 1:
        raise RelunetError(f"--epochs must be a positive integer, got {args.epochs}")
    if not 2 <= args.frames <= args.epochs + 1:
        raise RelunetError(f"--frames must be from 2 to epochs + 1 = {args.epochs + 1}, got {args.frames}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise RelunetError(f"--lr must be a positive number, got {args.lr}")
    if args.batch_size < 1:
        raise RelunetError(f"--batch-size must be a positive integer, got {args.batch_size}")
    if not 1 <= args.fps <= 60:
        raise RelunetError(f"--fps must be from 1 to 60, got {args.fps}")
    if not 20 <= args.dpi <= 300:
        raise RelunetError(f"--dpi must be from 20 to 300, got {args.dpi}")
    return ext


def frame_epochs(epochs, frames):
    """The epoch shown by each frame: `frames` distinct epochs spread evenly from 0 to `epochs`."""
    return np.floor(np.linspace(0, epochs, frames) + 0.5).astype(int)


def run(args):
    ext = check_options(args)
    hidden = [] if args.hidden.strip() in ("", "0") else int_list(args.hidden)
    X, y, task, source = load_data(args)
    if task != "classification" or X.shape[1] != 2:
        raise RelunetError(f"relunet animate draws classifiers with 2 inputs; {source} is {task} with "
                           f"{X.shape[1]} input(s)")
    classes = np.unique(y)
    if len(classes) < 2:
        raise RelunetError(f"{source} has only one class; a classifier needs at least 2")
    from ..engine.model import MLP
    from ..engine.train import Trainer

    model = MLP([2] + hidden + [len(classes)], classes=classes, seed=args.seed)
    trainer = Trainer(model, X, y, lr=args.lr, batch_size=args.batch_size, seed=args.seed)
    write_animation(args.out, ext, model, trainer, X, y, frame_epochs(args.epochs, args.frames), args.fps, args.dpi)
    print(f"wrote {args.out}: {args.frames} frames of {model.sizes} on {source}, {args.epochs} epochs "
          f"(final training accuracy {model.score(X, y):.1%})")
    return 0


def write_animation(path, ext, model, trainer, X, y, epochs_at, fps, dpi):
    """Train to each epoch of `epochs_at` and grab one frame there; written to a temporary file, then renamed."""
    import tempfile

    from matplotlib.animation import FFMpegWriter, PillowWriter

    from ..data import bounding_box
    from ..io import atomic_write_bytes
    from ..plot import PALETTE, draw_regions, new_figure

    box = bounding_box(X)
    fig = new_figure(9, 4)
    ax_map, ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1]})
    writer = PillowWriter(fps=fps) if ext == ".gif" else FFMpegWriter(fps=fps)
    losses = []
    # The writers want a file name; they write into a private folder, and the finished file is then
    # written atomically (relunet.io), so `path` is never seen half-written.
    with tempfile.TemporaryDirectory(prefix="relunet-animate-") as folder:
        tmp = os.path.join(folder, "animation" + ext)
        try:
            with writer.saving(fig, tmp, dpi):
                for e in epochs_at:
                    while trainer.epoch < e:
                        losses.append(trainer.run_epoch()["loss"])
                    ax_map.clear()
                    draw_regions(ax_map, model, X, y, box=box, resolution=100, legend="best",
                                 title=f"epoch {e}: {model.score(X, y):.0%} correct")
                    ax_loss.clear()
                    ax_loss.plot(np.arange(1, len(losses) + 1), losses, color=PALETTE[0], label="training loss")
                    ax_loss.set_xlim(0, max(1, epochs_at[-1]))
                    ax_loss.set_xlabel("epoch")
                    ax_loss.set_ylabel("cross-entropy loss")
                    ax_loss.set_title("loss (per-sample SGD)" if trainer.batch_size == 1 else "loss", fontsize=10)
                    if losses:
                        ax_loss.set_ylim(0, 1.05 * max(losses))
                        ax_loss.legend(loc="upper right", fontsize=8)
                    fig.tight_layout()
                    writer.grab_frame()
            with open(tmp, "rb") as fh:
                data = fh.read()
        except DivergenceError as err:
            raise RelunetError(f"{err}; try a smaller --lr") from None
        except OSError as err:
            raise RelunetError(f"cannot write {path}: {err.strerror or err}") from None
    atomic_write_bytes(path, data)
