"""relunet train: train a network on a data set or CSV file and save it."""

import json
import sys
import time

from ..engine.errors import DivergenceError, RelunetError
from ..engine.model import MLP
from ..engine.optim import OPTIMIZERS, SCHEDULES
from ..engine.activations import ACTIVATIONS
from ..metrics import evaluate
from ..data import bounding_box
from ..io import save
from ._common import (add_data_arguments, check_drawable, check_output_paths, data_input, format_bytes, int_list,
                      load_data, load_model, seed_type)

HELP = "train a network and save it as a .npz model file"
DESCRIPTION = """Train a multi-layer network with back-propagation and SGD (or momentum, Nesterov, Adam).

examples:
  relunet train --data lecture --hidden 8 --lr 0.1 --epochs 300 --out lecture.npz --plot lecture.png
  relunet train --data spiral --classes 3 --hidden 64,64 --batch-size 32 --optimizer adam --lr 0.01 --out spiral.npz
  relunet train --data sine --hidden 32 --optimizer adam --lr 0.01 --epochs 2000 --out sine.npz
  relunet train --data points.csv --hidden 16 --validation 0.2 --patience 20 --out points.npz
"""


def add_arguments(p):
    add_data_arguments(p)
    p.add_argument("--hidden", default="16", help="hidden layer sizes, e.g. 64,64 ('' or 0 layers: linear model)")
    p.add_argument("--activation", default="relu", choices=list(ACTIVATIONS), help="hidden activation (default relu)")
    p.add_argument("--optimizer", default="sgd", choices=list(OPTIMIZERS), help="default sgd")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate (default 0.05)")
    p.add_argument("--momentum", type=float, default=0.9, help="momentum for momentum/nesterov (default 0.9)")
    p.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay on weights (default 0)")
    p.add_argument("--schedule", default="constant", choices=list(SCHEDULES), help="learning-rate schedule")
    p.add_argument("--batch-size", type=int, default=1, help="tokens per update; 1 = per-sample SGD (default)")
    p.add_argument("--epochs", type=int, default=200, help="the most epochs (default 200; 0 saves the initial model)")
    p.add_argument("--target-loss", type=float, default=None, help="stop once the epoch's loss is at most this")
    p.add_argument("--patience", type=int, default=None, help="stop after this many epochs without improvement")
    p.add_argument("--validation", type=float, default=0.0, help="fraction held out for validation (early stopping)")
    p.add_argument("--shuffle", dest="shuffle", action="store_true", default=True, help="random order each epoch (default)")
    p.add_argument("--no-shuffle", dest="shuffle", action="store_false", help="visit the samples in file order")
    p.add_argument("--replacement", dest="shuffle", action="store_const", const="replacement",
                   help="draw every token at random with replacement (the lecture's rule)")
    p.add_argument("--seed", type=seed_type, default=0, help="seed of the initial weights and the visiting order")
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--init", default=None, metavar="MODEL.npz", help="start from the weights of a saved model")
    p.add_argument("--out", required=True, metavar="MODEL.npz", help="where to save the trained model")
    p.add_argument("--plot", default=None, metavar="FIG.png", help="also draw the result")
    p.add_argument("--backend", default="auto", choices=["auto", "reference", "kernel"],
                   help="who runs the updates: the compiled kernels when they can (auto, default), the plain NumPy "
                        "reference engine, or the kernels or an error (RELUNET_BACKEND=reference also forces the "
                        "reference)")
    p.add_argument("--threads", type=int, default=None,
                   help="BLAS threads (default: 1 for small networks and batches, where more threads are slower)")
    p.add_argument("--json", action="store_true", help="print the final summary as one JSON line")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


#: one batch's arrays (inputs, excitations, activations, their gradients) may take at most this much memory
MAX_BATCH_BYTES = 2**31


def check_batch_size(batch_size, sizes, n, source, itemsize=8):
    """Refuse a batch size below 1, or one whose arrays would not fit in memory, before anything is allocated."""
    if batch_size < 1:
        raise RelunetError(f"--batch-size must be a positive integer, got {batch_size}")
    need = batch_size * (3 * sum(sizes)) * itemsize
    if need > MAX_BATCH_BYTES:
        raise RelunetError(f"--batch-size {batch_size:,} would need {format_bytes(need)} of memory for one batch's "
                           f"arrays; {source} has {n:,} tokens, so --batch-size {n} is already a full batch")


def run(args):
    check_output_paths([(args.out, "--out"), (args.plot, "--plot")],
                       inputs=[data_input(args), (args.init, "--init")], plots=[args.plot])
    hidden = [] if args.hidden.strip() in ("", "0") else int_list(args.hidden)
    X, y, task, source = load_data(args)
    if args.plot:
        check_drawable(task, X.shape[1], f"--plot {args.plot}")
    if task == "classification":
        import numpy as np

        classes = np.unique(y)
        if len(classes) < 2:
            raise RelunetError(f"{source} has only one class ({classes.tolist()}); a classifier needs at least 2")
        n_out = len(classes)
    else:
        classes, n_out = None, 1
    sizes = [X.shape[1]] + hidden + [n_out]
    if args.init:
        model = load_model(args.init)
        if model.sizes != sizes or model.task != task:
            raise RelunetError(f"--init model {args.init} is {model.sizes} ({model.task}) but this data and "
                               f"--hidden need {sizes} ({task})")
        if args.dtype != model.dtype.name:
            model = model.astype(args.dtype)
    else:
        model = MLP(sizes, args.activation, task, classes=classes, dtype=args.dtype, seed=args.seed)
    check_batch_size(args.batch_size, sizes, len(X), source, 4 if args.dtype == "float32" else 8)
    options = dict(optimizer=args.optimizer, lr=args.lr, momentum=args.momentum, weight_decay=args.weight_decay,
                   batch_size=args.batch_size, schedule=args.schedule, shuffle=args.shuffle,
                   validation=args.validation, seed=args.seed, backend=args.backend)
    callbacks = []
    if not args.quiet and args.epochs > 0:
        from ..progress import ProgressBar

        callbacks.append(ProgressBar(args.epochs))
    t0 = time.perf_counter()
    history = None
    if args.epochs < 0:
        raise RelunetError(f"epochs must be a non-negative integer, got {args.epochs}")
    from ..threads import auto_threads, limit_blas_threads

    if args.threads is not None and args.threads < 1:
        raise RelunetError(f"--threads must be a positive integer, got {args.threads}")
    threads = args.threads or auto_threads(model.sizes, args.batch_size)
    limiter = limit_blas_threads(threads) if threads else None
    try:
        from ..engine.train import Trainer, choose_backend

        trainer = Trainer(model, X, y, callbacks=callbacks, **options)
        history = trainer.fit(args.epochs, target_loss=args.target_loss, patience=args.patience)
    except DivergenceError as e:
        raise RelunetError(str(e)) from None
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    seconds = time.perf_counter() - t0
    model.box = bounding_box(X)
    model.training = dict(options, data=source, epochs=len(history), hidden=hidden, activation=args.activation,
                          stop_reason=history.stop_reason)
    save(model, args.out)
    ev = evaluate(model, X, y)
    summary = {"model": args.out, "sizes": model.sizes, "epochs": len(history), "updates": trainer.updates,
               "stop_reason": history.stop_reason, "seconds": round(seconds, 3), "loss": ev["loss"],
               "backend": "reference" if choose_backend(args.backend, model, trainer.optimizer) is None else "kernel"}
    if task == "classification":
        summary["train_accuracy"] = ev["accuracy"]
    else:
        summary.update(mse=ev["mse"], r2=ev["r2"])
    if len(history) and history.val_loss[-1] is not None:
        summary["val_loss"] = history.val_loss[-1]
    if args.plot:
        from ..plot import plot_model

        plot_model(model, X, y, args.plot, history=history)
        summary["plot"] = args.plot
    if args.json:
        print(json.dumps(summary))
    else:
        metric = (f"train accuracy {summary['train_accuracy']:.4f}" if task == "classification"
                  else f"MSE {summary['mse']:.3g}, R^2 {summary['r2']:.4f}")
        print(f"trained {model.sizes} on {source} ({len(X)} tokens): {len(history)} epochs, {trainer.updates} updates, "
              f"{seconds:.2f} s, loss {ev['loss']:.4g}, {metric} ({history.stop_reason}); saved {args.out}"
              + (f", plot {args.plot}" if args.plot else ""))
    sys.stdout.flush()
    return 0
