"""The engine's Trainer gives the same run with the compiled kernels as with the reference engine
(backend="kernel" vs backend="reference"): weights after 200 updates, the history's loss and accuracy, the
optimizer's state, and a run that switches backend half way."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import relunet
from relunet import kernels
from relunet.engine.activations import LeakyReLU
from relunet.engine.optim import Adam

ACTS = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]


def _error(a, b):
    return max(float(np.max(np.abs(x - y))) / max(1.0, float(np.max(np.abs(y)))) for x, y in zip(a, b))


def _setup(d):
    rng = np.random.default_rng(d["seed"])
    loss = d["loss"]
    regression = loss in ("mse", "poisson")
    sizes = list(d["widths"])
    n = 30
    X = rng.standard_normal((n, sizes[0]))
    classes = None
    if loss == "mse":
        y = rng.standard_normal((n, sizes[-1]))
    elif loss == "poisson":
        y = rng.poisson(1.0, (n, sizes[-1])).astype(float)
    elif loss == "logistic" and d["labels"] == "binary":  # one sigmoid output, classes 0 and 1
        sizes[-1] = 1
        y = np.arange(n) % 2
    elif loss == "logistic" and d["labels"] == "multilabel":  # K yes/no labels, (N, K) 0/1 targets
        sizes[-1] = max(2, sizes[-1])
        y = rng.integers(0, 2, (n, sizes[-1]))
    else:  # softmax cross-entropy, or one-hot logistic with classes
        sizes[-1] = max(2, sizes[-1])
        y = np.arange(n) % sizes[-1]
        classes = list(range(sizes[-1])) if loss == "logistic" else None
    act = LeakyReLU(0.2) if d["act"] == "leaky_relu" else d["act"]
    w = rng.uniform(0.5, 1.5, n) if d["weighted"] else None

    def trainer(backend, **extra):
        model = relunet.MLP(sizes, activation=act, task="regression" if regression else "classification",
                            classes=classes, dtype=d["dtype"], seed=d["seed"], loss=loss)
        if d["optimizer"] == "adam":
            opt = Adam(eps_style=d["eps_style"], weight_decay=d["weight_decay"], decay_scaling=d["decay_scaling"])
        else:
            opt = d["optimizer"]
        # Poisson's exp(z) multiplies z's rounding by f: a gentler rate keeps its runs where 1e-12 is rounding
        lr = 1e-3 if d["optimizer"] == "adam" or loss == "poisson" else 0.01
        return relunet.Trainer(model, X, y, optimizer=opt, lr=lr,
                               weight_decay=d["weight_decay"], decay_scaling=d["decay_scaling"],
                               batch_size=d["batch"], seed=d["seed"], sample_weight=w, backend=backend, **extra)

    return trainer


runs = st.fixed_dictionaries({
    "widths": st.lists(st.integers(1, 64), min_size=2, max_size=5),
    "act": st.sampled_from(ACTS),
    "loss": st.sampled_from(["cross_entropy", "mse", "logistic", "poisson"]),
    "labels": st.sampled_from(["binary", "multilabel", "onehot"]),  # logistic's three kinds of targets
    "optimizer": st.sampled_from(["sgd", "momentum", "nesterov", "adam"]),
    "eps_style": st.sampled_from(["pytorch", "sklearn"]),
    "weight_decay": st.sampled_from([0.0, 1e-3]),
    "decay_scaling": st.sampled_from(["constant", "batch"]),
    "batch": st.sampled_from([1, 5, 30]),
    "weighted": st.booleans(),
    "dtype": st.just("float64"),
    "seed": st.integers(0, 1000),
})


def _amplifies_rounding(make, ref):
    """A chaotic run (many logistic labels or squared-error outputs at a high rate) multiplies rounding without
    bound, so no other summation order can agree with it to rounding: the reference itself, started from weights
    one rounding step away, ends more than 40 rounding steps away (9e-15 in float64; the kernel-vs-reference gap
    has stayed within 20x the reference's own gap)."""
    nudged = make("reference")
    nudged.model.set_weights([np.nextafter(p, np.inf) for p in nudged.model.parameters()])
    try:
        nudged.step(200)
    except relunet.DivergenceError:
        return True
    return _error(nudged.model.parameters(), ref.model.parameters()) > 40 * np.finfo(ref.model.dtype).eps


@settings(max_examples=20)
@given(runs)
def test_kernel_and_reference_trainers_agree_after_200_updates(d):
    make = _setup(d)
    ref, ker = make("reference"), make("kernel")
    with np.errstate(all="ignore"):
        try:
            ref_records = ref.step(200)
        except relunet.DivergenceError:
            return  # a run that blows up is not asked to agree to rounding
        if _amplifies_rounding(make, ref):
            return
    ker_records = ker.step(200)
    assert _error(ker.model.parameters(), ref.model.parameters()) <= 1e-12
    for k, r in zip(ker_records, ref_records, strict=True):  # each batch's sums, and the loss they make
        assert np.array_equal(k["batch_rows"], r["batch_rows"]) and np.allclose(k["batch_weight"], r["batch_weight"],
                                                                               rtol=1e-14, atol=0)
        for name in ("batch_loss", "batch_penalty"):
            assert np.abs(k[name] - r[name]).max() <= 1e-12 * max(1.0, np.abs(r[name]).max())
        total = (r["batch_loss"] + r["batch_penalty"]).sum() / r["batch_weight"].sum()
        assert abs(r["loss"] - total) <= 1e-15 * max(1.0, abs(total))
    assert ker.updates == ref.updates == 200
    assert len(ker.history) == len(ref.history)
    for a, b in zip(ker.history.loss, ref.history.loss):
        assert abs(a - b) <= 1e-12 * max(1.0, abs(b))
    assert ker.history.accuracy == ref.history.accuracy
    for name in ("velocity", "m", "v"):
        if name in ref.optimizer.state:
            assert _error(ker.optimizer.state[name], ref.optimizer.state[name]) <= 1e-12
    assert ker.optimizer.state.get("t") == ref.optimizer.state.get("t")


@settings(max_examples=8)
@given(runs.map(lambda d: dict(d, dtype="float32")))
def test_float32_kernel_trainer_follows_the_reference(d):
    make = _setup(d)
    ref, ker = make("reference"), make("kernel")
    with np.errstate(all="ignore"):
        try:
            ref.step(200)
        except relunet.DivergenceError:
            return
        if _amplifies_rounding(make, ref):
            return
    ker.step(200)
    assert all(p.dtype == np.float32 for p in ker.model.parameters())
    assert _error(ker.model.parameters(), ref.model.parameters()) <= 1e-4


def test_sparse_inputs_train_block_by_block_as_the_dense_ones(monkeypatch):
    """A SciPy sparse X is densified a block of rows at a time (whole batches), in the epoch's order: the same
    run as with the dense X, on both backends, and a validation set's loss blockwise too."""
    import scipy.sparse as sp

    from relunet.engine import blocks

    monkeypatch.setattr(blocks, "BLOCK_VALUES", 84)  # 12 inputs: 7 rows, so batches of 3 in blocks of 6
    rng = np.random.default_rng(3)
    X = rng.standard_normal((60, 12)) * (rng.random((60, 12)) < 0.2)
    y, w = np.arange(60) % 3, rng.uniform(0.5, 1.5, 60)
    for backend in ("reference", "kernel"):
        runs = []
        for data in (X, sp.csc_matrix(X)):
            model = relunet.MLP([12, 8, 3], seed=1)
            t = relunet.Trainer(model, data, y, optimizer=Adam(weight_decay=1e-3, decay_scaling="batch"), lr=0.01,
                                batch_size=3, sample_weight=w, validation=0.2, seed=4, backend=backend)
            t.step(7)  # a run that stops inside a block, then goes on over an epoch's end
            runs.append((t.step(30), model.parameters()))
        (dense, p_dense), (sparse, p_sparse) = runs
        assert _error(p_sparse, p_dense) <= 1e-12
        for a, b in zip(sparse, dense, strict=True):
            for name in ("loss", "val_loss", "accuracy", "val_accuracy"):
                assert abs(a[name] - b[name]) <= 1e-12
            assert np.abs(a["batch_loss"] - b["batch_loss"]).max() <= 1e-12


def test_switching_backend_mid_run_keeps_the_optimizer_state():
    for opt in ("momentum", "nesterov", "adam"):
        d = dict(widths=[2, 9, 7, 3], act="tanh", loss="cross_entropy", optimizer=opt, eps_style="pytorch",
                 weight_decay=1e-3, decay_scaling="constant", batch=4, weighted=False, dtype="float64", seed=3)
        make = _setup(d)
        whole, mixed = make("reference"), make("kernel")
        whole.step(200)
        mixed.step(70)
        mixed.backend = "reference"
        mixed.step(60)
        mixed.backend = "kernel"
        mixed.step(70)
        assert _error(mixed.model.parameters(), whole.model.parameters()) <= 1e-12
        assert mixed.history.loss and abs(mixed.history.loss[-1] - whole.history.loss[-1]) <= 1e-12


def test_forward_kernel_equals_predict_proba():
    X, y = relunet.make_dataset("spiral", n=300, classes=3, seed=0)
    model = relunet.MLP([2, 16, 16, 3], activation=["relu", "sigmoid"], seed=1)
    relunet.fit(model, X, y, epochs=2, backend="reference")
    config = kernels.KernelConfig((("relu", 0.0), ("sigmoid", 0.0)))
    np.testing.assert_allclose(kernels.forward(config, model.parameters(), X), model.predict_proba(X),
                               rtol=1e-12, atol=1e-14)


def test_sklearn_estimators_logistic_and_poisson_fits_run_in_the_kernels(monkeypatch):
    """scikit-learn's default binary classifier (one logistic output), a multi-label one and
    MLPRegressor(loss="poisson"): relunet's estimators train them in the kernels, to scikit-learn's weights."""
    import warnings

    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from relunet.sklearn import ReLUNetClassifier, ReLUNetRegressor

    calls = []
    train = kernels.train
    monkeypatch.setattr(kernels, "train", lambda *a, **k: calls.append(a[0].loss) or train(*a, **k))
    rng = np.random.RandomState(0)
    X = rng.standard_normal((60, 3))
    targets = {"binary": (X[:, 0] + X[:, 1] > 0).astype(int), "multilabel": (X[:, :2] > 0).astype(int),
               "poisson": rng.poisson(np.exp(0.5 * X[:, 0]))}
    for name, y in targets.items():
        kw = dict(hidden_layer_sizes=(7,), max_iter=4, random_state=1, alpha=1e-3, learning_rate_init=0.01)
        for solver, batch in (("sgd", 1), ("adam", 16)):
            pair = (ReLUNetRegressor, MLPRegressor) if name == "poisson" else (ReLUNetClassifier, MLPClassifier)
            extra = dict(loss="poisson") if name == "poisson" else {}
            ours, theirs = (cls(solver=solver, batch_size=batch, **kw, **extra) for cls in pair)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ConvergenceWarning: a few epochs on purpose
                ours.fit(X, y)
                theirs.fit(X, y)
            for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_):
                np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
            np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-12)
    assert calls.count("logistic") == 16 and calls.count("poisson") == 8  # 4 epochs x 2 solvers x 3 targets
