"""Handwritten digits with relunet: scikit-learn's bundled 8x8 digits (no download).

Trains relunet's ReLUNetClassifier and scikit-learn's MLPClassifier with the same settings (MLPClassifier's
defaults: 100 ReLUs, Adam, batches of 200, up to 200 epochs) from five random seeds each, prints the
mean test accuracies (one seed's luck is worth about 1 point on 450 test digits), and saves relunet's
confusion matrix and both loss curves as PNG files.

    python examples/digits.py [OUT_DIR]
"""

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402  (installed with scikit-learn)

from relunet import confusion_matrix  # noqa: E402
from relunet.sklearn import ReLUNetClassifier  # noqa: E402

# The same settings for both networks (MLPClassifier's defaults, written out).
SETTINGS = dict(hidden_layer_sizes=(100,), activation="relu", solver="adam", batch_size="auto",
                learning_rate_init=0.001, alpha=1e-4, max_iter=200)
LIBRARIES = {"relunet": ReLUNetClassifier, "scikit-learn": MLPClassifier}


def main(out_dir=".", seeds=(0, 1, 2, 3, 4)):
    """Train both networks on the same 75% of the digits; returns mean test accuracies and the PNG paths."""
    out = Path(out_dir)
    X, y = load_digits(return_X_y=True)   # X (1797, 64): 8x8 grey levels 0..16; y digits 0..9
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

    results = {name: {"accuracy": [], "seconds": 0.0} for name in LIBRARIES}
    for name, cls in LIBRARIES.items():
        for seed in seeds:
            pipe = make_pipeline(StandardScaler(), cls(random_state=seed, **SETTINGS))
            t0 = time.perf_counter()
            # Matrices this small (batches of 200 x 100) run fastest on one BLAS thread, for both libraries.
            with threadpool_limits(1):
                pipe.fit(X_train, y_train)
            results[name]["seconds"] += time.perf_counter() - t0
            results[name]["accuracy"].append(pipe.score(X_test, y_test))
            if seed == seeds[0]:
                results[name]["loss_curve"] = pipe[-1].loss_curve_
                results[name]["pred"] = pipe.predict(X_test)
        acc = results[name]["accuracy"]
        print(f"{name:>12}: mean test accuracy {np.mean(acc):.4f} over seeds {list(seeds)} "
              f"({', '.join(f'{a:.4f}' for a in acc)}), {results[name]['seconds']:.1f} s of training")

    # Confusion matrix of relunet's predictions: rows the true digit, columns the predicted one.
    C = confusion_matrix(y_test, results["relunet"]["pred"], 10)
    fig, ax = plt.subplots(figsize=(5, 4.5))
    im = ax.imshow(C, cmap="Blues")
    for i, j in np.ndindex(C.shape):
        if C[i, j]:
            ax.text(j, i, C[i, j], ha="center", va="center", fontsize=8,
                    color="white" if C[i, j] > C.max() / 2 else "black")
    ax.set(xticks=range(10), yticks=range(10), xlabel="predicted digit", ylabel="true digit",
           title=f"relunet on digits (seed {seeds[0]}): accuracy {results['relunet']['accuracy'][0]:.3f}")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    confusion_png = out / "digits_confusion.png"
    fig.savefig(confusion_png, dpi=100)
    plt.close(fig)

    # Training loss per epoch (cross-entropy + the L2 term), both libraries.
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, r in results.items():
        ax.plot(range(1, len(r["loss_curve"]) + 1), r["loss_curve"], label=name)
    ax.set(xlabel="epoch", ylabel="training loss", yscale="log", title=f"loss curves (seed {seeds[0]})")
    ax.legend()
    fig.tight_layout()
    loss_png = out / "digits_loss.png"
    fig.savefig(loss_png, dpi=100)
    plt.close(fig)
    print(f"wrote {confusion_png} and {loss_png}")
    return {"relunet": float(np.mean(results["relunet"]["accuracy"])),
            "sklearn": float(np.mean(results["scikit-learn"]["accuracy"])),
            "confusion": C, "y_test": y_test, "pred": results["relunet"]["pred"], "pngs": [confusion_png, loss_png]}


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".")
