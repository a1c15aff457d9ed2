"""relunet regions: the exact linear regions and decision boundary of a 2-input model."""

import json
import time

from ..engine.errors import RelunetError
from ._common import add_data_arguments, bounding_box, check_output_paths, data_input, float_list, load_data, load_model

HELP = "exact linear regions and decision boundary of a 2-input model (counts, bound, JSON, plot)"
DESCRIPTION = """Compute every linear region of a trained 2-input ReLU network exactly (no sampling grid):
its polygon, activation pattern and affine map z = A x + c, and for classifiers the exact decision
boundary as polylines labelled by the two classes that tie there. Prints the counts next to the
theoretical maximum (Serra, Tjandraatmadja and Ramalingam, ICML 2018) and the time taken.

examples:
  relunet regions --model spiral.npz
  relunet regions --model spiral.npz --box -1.2,1.2,-1.2,1.2 --json regions.json --plot regions.png
  relunet regions --model lecture.npz --plot regions.png --data lecture
"""


def add_arguments(p):
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    p.add_argument("--box", default=None, metavar="x0,x1,y0,y1",
                   help="the box to partition (default: the training data's box stored in the model, "
                        "else that of --data)")
    p.add_argument("--json", default=None, metavar="FILE", help="write regions and boundary as JSON")
    p.add_argument("--plot", default=None, metavar="FIG.png", help="draw regions, boundary and first-layer hinges")
    add_data_arguments(p, required=False)


def run(args):
    from ..pwl.boundary import decision_boundary
    from ..pwl.bounds import box_exact_count, model_bound
    from ..pwl.regions import linear_regions

    check_output_paths([(args.json, "--json"), (args.plot, "--plot")],
                       inputs=[(args.model, "--model"), data_input(args)], plots=[args.plot])
    model = load_model(args.model)
    box = None if args.box is None else float_list(args.box, 4, "--box")
    if model.n_inputs != 2:
        raise RelunetError(f"relunet regions needs a model with two inputs (use relunet knots for 1-D models); "
                           f"model {args.model} has {model.n_inputs}")
    X = y = None
    if args.data:
        X, y, _, _ = load_data(args, model.task)
        if X.shape[1] != 2:
            raise RelunetError(f"--data {args.data} has {X.shape[1]} features; the model has 2 inputs")
        if box is None and model.box is None:
            box = bounding_box(X)  # the same default box as relunet train stores
    t0 = time.perf_counter()
    part = linear_regions(model, box)
    t1 = time.perf_counter()
    bnd = decision_boundary(model, partition=part) if model.task == "classification" else None
    t2 = time.perf_counter()
    bound = model_bound(model)
    lines = [f"{len(part)} linear regions in box {_fmt_box(part.box)} (bound {bound:,}"]
    if len(model.linears) == 2 and model.activation_names[0] != "identity":
        W, b = model.linears[0].W, model.linears[0].b
        lines[0] += f"; lines in the box allow {box_exact_count(W, b, part.box)}"
    lines[0] += ")"
    if part.dropped:
        lines.append(f"{part.dropped} degenerate pieces (fewer than 3 vertices) dropped")
    if bnd is not None:
        nj = len(bnd.junctions)
        lines.append(f"{bnd.count} boundary pieces in {len(bnd.pieces)} polylines, {nj} "
                     f"junction{'' if nj == 1 else 's'} of three classes")
    if len(model.linears) == 1 and model.task == "classification":
        from ..pwl.power import power_diagram

        pd = power_diagram(model)
        lines.append("linear classifier: its cells form " + ("a Voronoi diagram (equal weights)" if pd.is_voronoi
                     else "a power diagram, not a Voronoi diagram (weights |w_k|^2 + 2 b_k differ)"))
    ms_r, ms_b = (t1 - t0) * 1000, (t2 - t1) * 1000
    lines.append(f"time: regions {ms_r:.1f} ms" + (f", boundary {ms_b:.1f} ms" if bnd is not None else ""))
    if args.json:
        from ..io import atomic_write_bytes

        doc = {"box": part.box, "regions": part.to_json(), "boundary": bnd.to_json() if bnd is not None else [],
               "count": len(part), "boundary_pieces": bnd.count if bnd is not None else 0,
               "junctions": bnd.junctions.tolist() if bnd is not None else [], "bound": bound,
               "dropped": part.dropped, "time_ms": {"regions": ms_r, "boundary": ms_b}}
        atomic_write_bytes(args.json, json.dumps(doc).encode())
        lines.append(f"wrote {args.json}")
    if args.plot:
        from ..pwl.plot import plot_regions

        plot_regions(model, X, y, args.plot, partition=part, boundary=bnd)
        lines.append(f"wrote {args.plot}")
    print("\n".join(lines))
    return 0


def _fmt_box(box):
    return "[" + ", ".join(f"{v:.4g}" for v in box) + "]"
