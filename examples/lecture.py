"""The lecture, as a script: a linear classifier fails on a class that sits in two places; a two-layer ReLU
network trained by per-sample SGD does not. Then the chain rule for one token, with numbers.

    python examples/lecture.py [OUT_DIR]
"""

import sys
from pathlib import Path

import relunet
from relunet.explain import explain, format_explanation
from relunet.plot import plot_model


def main(out="lecture-example"):
    out = Path(out)
    out.mkdir(exist_ok=True)
    X, y = relunet.make_dataset("lecture", seed=0)   # class 0 near [0.8, 0] and [0.4, 0.9]; class 1 between

    linear = relunet.MLP([2, 2], seed=0)              # argmax(Wx + b): convex regions
    relunet.fit(linear, X, y, epochs=200, lr=0.1)

    net = relunet.MLP([2, 8, 2], seed=0)              # 8 ReLU hidden units: a PWL boundary
    history = relunet.fit(net, X, y, epochs=500, lr=0.1, batch_size=1, target_loss=0.01)

    print(f"linear classifier: {linear.score(X, y):.1%} of the training tokens right")
    print(f"two-layer network: {net.score(X, y):.1%} after {len(history)} epochs of per-sample SGD")
    plot_model(linear, X, y, out / "linear.png")
    plot_model(net, X, y, out / "two_layer.png", history=history)

    print(format_explanation(explain(net, [0.4, 0.9], 0)))
    return linear.score(X, y), net.score(X, y)


if __name__ == "__main__":
    main(*sys.argv[1:])
