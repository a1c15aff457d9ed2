"""Compiled training and inference kernels: the reference engine's maths, fused and compiled with Numba.

The reference (relunet.engine) is what a student reads; these kernels compute the same numbers (the tests
hold them equal to 1e-12 in float64) several times faster, because the per-token work of a small network
is a few hundred flops and only compiled code gets it done without an interpreter's overhead per step.
The engine's Trainer decides, in one function, whether to call them.

    available()                  Numba can be imported (it is imported here only on first use)
    KernelConfig(...)            what the kernel needs to know about the model and the optimizer
    supports(config)             this configuration has a kernel
    config_for(model, optimizer=None)
                                 the KernelConfig of an engine MLP (and optimizer), or None when no kernel runs it
    train(config, params, state, X, T, order, batch_size, lr, sample_weight=None, batches=None)
                                 -> (loss_sum, correct, updates); params and state updated in place, and
                                 batches (updates, 2) with each batch's data-loss sum and L2 term
    forward(config, params, X, excitation=False)
                                 -> f, the loss's output (softmax, identity, sigmoid or exp), or z_L itself

params is the model's list [W1, b1, W2, b2, ...] (W of shape (out, in)); state is the optimizer's state
dict (lists parallel to params: "velocity" for momentum and Nesterov; "m", "v" and the step count "t" for
Adam), so the reference and the kernel can take turns in one run. Each call packs the parameters into one
flat buffer (O(parameters), once per call, not per step), so one compiled signature per dtype serves every
depth and width.
"""

import contextlib
import importlib.util
import os
import threading
from dataclasses import dataclass

import numpy as np

from ..engine.errors import RelunetError

ACTIVATIONS = {"relu": 0, "leaky_relu": 1, "tanh": 2, "sigmoid": 3, "identity": 4}
LOSSES = {"cross_entropy": 0, "mse": 1, "logistic": 2, "poisson": 3}
OPTIMIZERS = {"sgd": 0, "momentum": 1, "nesterov": 2, "adam": 3}
EPS_STYLES = {"pytorch": 0, "sklearn": 1}
DECAY_SCALINGS = {"constant": 0, "batch": 1}
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

_module = None  # relunet.kernels._compiled once imported
_controller = None  # threadpoolctl's, once SciPy's BLAS is loaded
_limit = [threading.Lock(), 0, None]  # the one-thread limit: its lock, the kernel calls under it, the limiter
_blas = None    # whether the mini-batch kernel multiplies through BLAS (decided on first use)


@dataclass(frozen=True)
class KernelConfig:
    """Everything a kernel needs besides the arrays (hashable: one config per training setup).

    activations: one (name, slope) per hidden layer, e.g. (("relu", 0.0), ("leaky_relu", 0.2)).
    loss: "cross_entropy" (softmax output), "mse", "logistic" (sigmoid per output) or "poisson" (exp output),
    as relunet.engine.losses defines them. optimizer: "sgd", "momentum", "nesterov" or "adam";
    momentum for "momentum"/"nesterov"; beta1, beta2, eps, eps_style ("pytorch" or "sklearn") for Adam;
    weight_decay (L2 on weights, never biases) with decay_scaling "constant" or "batch" (divided by the
    batch's length, scikit-learn's convention).
    """

    activations: tuple
    loss: str = "cross_entropy"
    optimizer: str = "sgd"
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    eps_style: str = "pytorch"
    weight_decay: float = 0.0
    decay_scaling: str = "constant"


def available():
    """True when Numba can be imported (checked without importing it)."""
    return importlib.util.find_spec("numba") is not None


def supports(config):
    """True when `config` has a compiled kernel (every activation, loss and optimizer of the engine)."""
    try:
        acts_ok = all(name in ACTIVATIONS for name, _slope in config.activations)
    except (TypeError, ValueError):
        return False
    return (acts_ok and config.loss in LOSSES and config.optimizer in OPTIMIZERS
            and config.eps_style in EPS_STYLES and config.decay_scaling in DECAY_SCALINGS)


def config_for(model, optimizer=None):
    """The KernelConfig that trains an engine MLP with an engine optimizer (None: that runs its forward pass), or
    None when the kernels cannot: Numba is missing, or an activation or optimizer is a class of the user's own
    (its maths may differ from the engine's), or a setting has no kernel."""
    from ..engine.activations import ACTIVATIONS
    from ..engine.optim import SGD, Adam, Momentum

    if not available() or any(type(a) is not ACTIVATIONS.get(a.name) for a in model.activations) or \
            (optimizer is not None and type(optimizer) not in (SGD, Momentum, Adam)):
        return None
    settings = {} if optimizer is None else dict(
        optimizer=optimizer.name, momentum=getattr(optimizer, "momentum", 0.0),
        beta1=getattr(optimizer, "betas", (0.9, 0.999))[0], beta2=getattr(optimizer, "betas", (0.9, 0.999))[1],
        eps=getattr(optimizer, "eps", 1e-8), eps_style=getattr(optimizer, "eps_style", "pytorch"),
        weight_decay=optimizer.weight_decay, decay_scaling=optimizer.decay_scaling)
    config = KernelConfig(tuple((a.name, getattr(a, "slope", 0.0)) for a in model.activations), model.loss,
                          **settings)
    return config if supports(config) else None


def _kernels():
    """The compiled module, imported (and so Numba) on first use."""
    global _module
    if _module is None:
        import importlib

        _module = importlib.import_module("._compiled", __name__)
    return _module


def _use_blas():
    """Whether the mini-batch kernel's matrix products go through BLAS: when SciPy is installed (Numba's
    np.dot needs it), else compiled loops. RELUNET_KERNEL_BLAS=0 forces the loops."""
    global _blas
    if _blas is None:
        _blas = os.environ.get("RELUNET_KERNEL_BLAS", "1") != "0" and importlib.util.find_spec("scipy") is not None
    return _blas


def _blas_threads(sizes, batch_size):
    """One BLAS thread while a mini-batch of small products runs (relunet.threads.auto_threads' rule):
    SciPy's BLAS, which the compiled products call, is loaded after any limit the program set earlier and
    would otherwise split a 32 x 64 product across threads. A cached controller costs ~10 us a call."""
    global _controller
    from ..threads import auto_threads

    if not _blas or auto_threads([int(n) for n in sizes], batch_size) != 1:
        return contextlib.nullcontext()
    if _controller is None:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl is a core dependency
            return contextlib.nullcontext()
        import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's BLAS so the controller sees it)

        _controller = ThreadpoolController()
    return _one_thread()


@contextlib.contextmanager
def _one_thread():
    """BLAS held to one thread from the first kernel call that asks to the last one's end. The kernels release
    the GIL, so calls from several threads overlap (the playground trains in one and draws the map in another):
    each setting and restoring the limit itself would change BLAS's thread count under another's products (not
    thread-safe in OpenBLAS) and could leave the limit on for good."""
    lock = _limit[0]
    with lock:
        if _limit[1] == 0:
            _limit[2] = _controller.limit(limits=1, user_api="blas")
        _limit[1] += 1
    try:
        yield
    finally:
        with lock:
            _limit[1] -= 1
            if _limit[1] == 0:
                _limit[2].restore_original_limits()


class _Layout:
    """Where each parameter and each layer's units sit in the flat buffers, for params [W1, b1, ...]."""

    def __init__(self, config, params):
        if len(params) % 2 or not params:
            raise RelunetError(f"expected parameters [W1, b1, W2, b2, ...], got {len(params)} arrays")
        Ws = params[0::2]
        L = len(Ws)
        dtype = Ws[0].dtype
        if dtype not in DTYPES or any(p.dtype != dtype for p in params):
            raise RelunetError(f"kernels need float32 or float64 parameters of one dtype, got "
                               f"{sorted({str(p.dtype) for p in params})}")
        acts = tuple(config.activations)
        if len(acts) != L - 1:
            raise RelunetError(f"the kernel config names {len(acts)} activations for {L - 1} hidden layers")
        self.dtype = dtype
        self.sizes = np.array([Ws[0].shape[1]] + [W.shape[0] for W in Ws], np.int64)
        self.offsets = np.cumsum([0] + [p.size for p in params]).astype(np.int64)
        self.woff = np.ascontiguousarray(self.offsets[0:-1:2])
        self.boff = np.ascontiguousarray(self.offsets[1::2])
        self.uoff = np.cumsum(np.concatenate([[0], self.sizes[1:]])).astype(np.int64)
        self.acts = np.array([ACTIVATIONS[name] for name, _ in acts] or [0], np.int64)
        self.slopes = np.array([float(slope or 0.0) for _, slope in acts] or [0.0], np.float64)
        self.size = int(self.offsets[-1])

    def pack(self, arrays):
        flat = np.empty(self.size, self.dtype)
        for a, s, e in zip(arrays, self.offsets[:-1], self.offsets[1:]):
            flat[s:e] = a.ravel()
        return flat

    def unpack(self, flat, arrays):
        for a, s, e in zip(arrays, self.offsets[:-1], self.offsets[1:]):
            a[...] = flat[s:e].reshape(a.shape)


def _state_buffers(config, layout, params, state):
    """Flat copies of the optimizer's state (zeros where it has none yet), and the lists to write back."""
    names = {"momentum": ("velocity",), "nesterov": ("velocity",), "adam": ("m", "v")}.get(config.optimizer, ())
    flats, lists = [], []
    for name in names:
        arrays = state.get(name)
        if arrays is None or any(a is None for a in arrays):
            arrays = [np.zeros_like(p) for p in params]
            state[name] = arrays
        flats.append(layout.pack(arrays))
        lists.append(arrays)
    empty = np.zeros(0, layout.dtype)
    while len(flats) < 2:
        flats.append(empty)
    return flats, lists


def train(config, params, state, X, T, order, batch_size, lr, sample_weight=None, batches=None):
    """Train over the tokens X[order] in consecutive batches of `batch_size` (the last may be partial).

    Args:
        params: [W1, b1, ...], updated in place. state: the optimizer's state dict, updated in place.
        X: (N, inputs) in the parameters' dtype. T: the engine's targets (MLP.encode_labels): (N,) class
            indices for cross-entropy and one-hot logistic (K > 1), else (N, K) numbers (0/1 for logistic).
        order: int64 token indices. sample_weight: (N,) or None.
        batches: None, or a float64 array of shape (updates, 2), filled with each batch's two parts of loss_sum:
            its data-loss sum (batch loss times batch length) and its L2 term (0 but with decay_scaling "batch").
            A caller that weighs batches its own way (scikit-learn: by rows) needs them apart.
    Returns:
        (loss_sum, correct, updates): the sum over tokens of each token's loss measured before its update
        (batch loss times batch length; with decay_scaling "batch" plus scikit-learn's L2 term 0.5 wd |W|^2 for
        each batch of weight > 0), the number of tokens classified correctly, the optimizer steps.
    """
    if not supports(config):
        raise RelunetError(f"no compiled kernel for {config}")
    k = _kernels()
    layout = _Layout(config, params)
    dt = layout.dtype
    X = np.ascontiguousarray(X, dtype=dt)
    order = np.ascontiguousarray(order, dtype=np.int64)
    n = len(X)
    T = np.asarray(T)
    # class indices as the reference's losses read them: always for cross-entropy, for logistic when K > 1
    indices = config.loss == "cross_entropy" or (config.loss == "logistic" and T.ndim == 1 and layout.sizes[-1] > 1)
    if indices:
        ti = np.ascontiguousarray(T, dtype=np.int64)
        tv = np.zeros((n, 0), dt)
    else:
        ti = np.zeros(0, np.int64)
        tv = np.ascontiguousarray(np.asarray(T, dtype=dt).reshape(n, -1))
    weighted = sample_weight is not None
    sw = np.ascontiguousarray(sample_weight, dtype=np.float64) if weighted else np.zeros(0, np.float64)
    P = layout.pack(params)
    (S1, S2), lists = _state_buffers(config, layout, params, state)
    t = int(state.get("t", 0) or 0)
    fp = np.array([lr, config.momentum, config.beta1, config.beta2, config.eps, config.weight_decay], np.float64)
    ip = np.array([LOSSES[config.loss], OPTIMIZERS[config.optimizer], EPS_STYLES[config.eps_style],
                   DECAY_SCALINGS[config.decay_scaling], t, int(weighted), int(indices)], np.int64)
    slopes = layout.slopes.astype(dt)
    parts = np.empty((-(-len(order) // batch_size), 2)) if batches is None else batches
    if batch_size == 1:
        loss_sum, correct, updates, t = k.train(P, S1, S2, layout.sizes, layout.woff, layout.boff, layout.uoff,
                                                layout.acts, slopes, X, ti, tv, order, sw, fp, ip, parts)
    else:
        use_blas = _use_blas()
        with _blas_threads(layout.sizes, batch_size):
            loss_sum, correct, updates, t = k.train_batched(use_blas, P, S1, S2, layout.sizes, layout.woff,
                                                            layout.boff, layout.uoff, layout.acts, slopes, X, ti,
                                                            tv, order, int(batch_size), sw, fp, ip, parts)
    layout.unpack(P, params)
    for flat, arrays in zip((S1, S2), lists):
        layout.unpack(flat, arrays)
    if config.optimizer == "adam":
        state["t"] = int(t)
    return float(loss_sum), int(correct), int(updates)


def forward(config, params, X, excitation=False):
    """f (N, K), the loss's output function of z_L: softmax (cross-entropy), identity (squared error), sigmoid per
    output (logistic), exp (Poisson); with excitation=True z_L itself (MLP.decision_function).  X: (N, inputs)."""
    if not supports(config):
        raise RelunetError(f"no compiled kernel for {config}")
    k = _kernels()
    layout = _Layout(config, params)
    X = np.ascontiguousarray(X, dtype=layout.dtype)
    out = np.empty((len(X), int(layout.sizes[-1])), layout.dtype)
    use_blas = _use_blas()
    with _blas_threads(layout.sizes, 1):  # products of one block of rows: small, one thread
        k.forward(use_blas, layout.pack(params), layout.sizes, layout.woff, layout.boff, layout.acts,
                  layout.slopes.astype(layout.dtype), X, LOSSES["mse" if excitation else config.loss], out)
    return out
