"""relunet exercise: the lecture's quiz from the command line (list the exercises, grade a model)."""

import json

from ._common import check_output_paths, load_model

HELP = "the lecture's quiz: list the exercises, grade a two-layer network exactly, or save a reference"
DESCRIPTION = """The lecture's quiz: build a two-layer ReLU network whose decision boundary solves a task.
Each exercise is a target (tokens to classify, or a region to reproduce), a limit on hidden units and a
hand-built reference solution. Grading is exact (relunet.pwl): every token's class comes from the affine
map of its linear region, and a region is compared with the target as polygons. `check` exits 0 when the
model passes and 1 when it does not.

examples:
  relunet exercise list
  relunet exercise check xor --model xor.npz
  relunet exercise check triangle --model mine.npz --json
  relunet exercise reference lecture --out lecture-ref.npz
"""


def add_arguments(p):
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    sub.add_parser("list", help="the exercises, easiest first")
    c = sub.add_parser("check", help="grade a model file on an exercise")
    c.add_argument("name", metavar="NAME")
    c.add_argument("--model", required=True, metavar="MODEL.npz")
    c.add_argument("--json", action="store_true", help="print the result as one JSON object")
    r = sub.add_parser("reference", help="save an exercise's reference solution as a model file")
    r.add_argument("name", metavar="NAME")
    r.add_argument("--out", required=True, metavar="MODEL.npz")
    for s in sub.choices.values():
        s.error = p.error


def run(args):
    from .. import exercises
    from ..io import save

    if args.action == "list":
        for i, ex in enumerate(exercises.EXERCISES.values(), start=1):
            target = "region" if ex.kind == "region" else f"{len(ex.points()[0])} tokens"
            print(f"{i}. {ex.name:9s} {ex.title} ({target}, at most {ex.max_hidden} hidden units)")
        return 0
    ex = exercises.get(args.name)
    if args.action == "reference":
        check_output_paths([(args.out, "--out")])
        save(ex.reference(), args.out)
        print(f"wrote {args.out} (the reference solution of {ex.name})")
        return 0
    result = exercises.check(ex, load_model(args.model))
    if args.json:
        out = result.to_json()
        out.pop("boundary", None)
        print(json.dumps(out))
    else:
        print(result.summary())
    return 0 if result.passed else 1
