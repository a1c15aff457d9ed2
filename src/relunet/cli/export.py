"""relunet export: write a saved model as an ONNX graph or a PyTorch file."""

from ._common import check_output_paths, load_model, require

HELP = "export a model to ONNX or PyTorch"
DESCRIPTION = """Export a saved relunet model.

  --format onnx   a standard ONNX graph (Gemm, Relu/LeakyRelu/Tanh/Sigmoid, Softmax for classifiers) for
                  onnxruntime or any ONNX runtime: input "x" (N, inputs); outputs "probabilities" and "logits"
                  (classifier) or "output" (regressor), in the model's dtype.
  --format torch  torch.save of {"layers", "state_dict", "task", "classes"}: read it with
                  relunet.export.load_torch(FILE), or torch.load(FILE, weights_only=True) and the layer list.

examples:
  relunet export --model lecture.npz --format onnx --out lecture.onnx
  relunet export --model lecture.npz --format torch --out lecture.pt
"""

#: format -> (the extra that provides it, the modules it needs)
FORMATS = {"onnx": ("onnx", ("onnx",)), "torch": ("torch", ("torch",))}


def add_arguments(p):
    p.add_argument("--model", required=True, metavar="MODEL.npz")
    p.add_argument("--format", required=True, choices=sorted(FORMATS))
    p.add_argument("--out", required=True, metavar="FILE", help="the file to write (replaced atomically)")


def run(args):
    check_output_paths([(args.out, "--out")], inputs=[(args.model, "--model")])
    model = load_model(args.model)
    extra, modules = FORMATS[args.format]
    require(extra, modules, f"--format {args.format}")
    from .. import export

    if args.format == "onnx":
        export.to_onnx(model, args.out)
    else:
        export.save_torch(model, args.out)
    print(f"wrote {args.out} ({args.format}, {model!r})")
    return 0
