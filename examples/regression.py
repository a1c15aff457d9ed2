"""PWL regression: a two-layer ReLU network fitted to sin(x); more hidden units, more pieces, smaller error.

    python examples/regression.py [OUT_DIR]
"""

import sys
from pathlib import Path

import relunet
from relunet.plot import breakpoints_1d, plot_model


def main(out="regression-example"):
    out = Path(out)
    out.mkdir(exist_ok=True)
    X, y = relunet.make_dataset("sine", n=100, seed=0)
    results = {}
    for hidden in (2, 4, 8, 32):
        model = relunet.MLP([1, hidden, 1], task="regression", seed=0)
        relunet.fit(model, X, y, epochs=800, batch_size=10, optimizer="adam", lr=0.01)
        mse = relunet.evaluate(model, X, y)["mse"]
        pieces = len(breakpoints_1d(model, 0.0, 6.2832)) + 1
        results[hidden] = mse
        print(f"{hidden:3d} hidden units: {pieces:3d} linear pieces on [0, 2 pi], MSE {mse:.2e}")
        plot_model(model, X, y, out / f"sine_{hidden}.png")
    return results


if __name__ == "__main__":
    main(*sys.argv[1:])
