"""relunet plot: draw a saved model (decision regions or fitted curve) with optional data."""

from ._common import check_drawable, check_output_paths, data_input, float_list, load_data, load_model, seed_type

HELP = "draw a model's decision regions (2-D) or fitted curve (1-D) to an image"
DESCRIPTION = """Draw a saved model: decision regions with confidence shading and hinge lines for 2-input
classifiers, the fitted piece-wise linear curve with its breakpoints for 1-input regression.

examples:
  relunet plot --model lecture.npz --data lecture --out lecture.png
  relunet plot --model spiral.npz --box -1.2,1.2,-1.2,1.2 --out spiral.png
"""


def add_arguments(p):
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    p.add_argument("--data", default=None, metavar="NAME|FILE.csv", help="data to draw on top")
    p.add_argument("--n", type=int, default=None)
    p.add_argument("--noise", type=float, default=None)
    p.add_argument("--classes", type=int, default=None)
    p.add_argument("--data-seed", type=seed_type, default=0)
    p.add_argument("--task", choices=["classification", "regression"], default=None)
    p.add_argument("--box", default=None, help="x0,x1,y0,y1 (default: the data's or the model's box)")
    p.add_argument("--no-hinges", action="store_true", help="leave out the first layer's hinge lines")
    p.add_argument("--out", required=True, metavar="FIG.png")


def run(args):
    from ..plot import plot_model  # matplotlib: only when drawing

    check_output_paths([(args.out, "--out")], inputs=[(args.model, "--model"), data_input(args)], plots=[args.out])
    model = load_model(args.model)
    check_drawable(model.task, model.n_inputs, f"model {args.model}")
    X = y = None
    if args.data:
        X, y, _, _ = load_data(args, task=model.task)
        X = model.check_input(X, args.data)
    box = float_list(args.box, 4 if model.n_inputs == 2 else 2, "--box") if args.box else None
    plot_model(model, X, y, args.out, box=box, hinges=not args.no_hinges)
    print(f"wrote {args.out}")
    return 0
