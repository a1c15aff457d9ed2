"""The contenders, in one registry (CONTENDERS): relunet, PyTorch, JAX, scikit-learn, the NumPy floor and a
hand-written Numba loop.

Each contender's ``prepare(problem)`` returns a Runner (or None when it cannot run the case) with:

    reset()      put the case's initial weights back (not timed)
    run()        the timed work: problem.updates SGD updates over the first problem.n_tokens tokens in the
                 order problem.order(n) (relunet shuffles itself, to that order), or predict_proba on the
                 grid (kind "map"); returns the map's probabilities or None
    steps(k)     k updates from the current weights (the trajectory check)
    weights()    [W1, b1, W2, b2, ...] as NumPy arrays, W of shape (out, in)
    note         what differs for this contender, or ""; comparable is False when its trajectory cannot match

relunet runs through its public API only: ``relunet.fit`` (shuffle=True, its default) for timing,
``relunet.Trainer`` for the trajectory check, ``MLP.predict_proba`` for the map. The others gather the
tokens into that order once per timed run (inside the timing), as a user of theirs would.

Each contender imports its library only when it runs (PyTorch, JAX, scikit-learn, SciPy for the floor,
Numba for the loop): a missing one is left out with a note naming `pip install "relunet[bench]"`.
"""

import importlib.util

import numpy as np

from . import floor, numba_loop
from .cases import SEED


class Runner:
    note = ""
    comparable = True

    def __init__(self, problem):
        self.problem = problem
        self.case = problem.case

    def reset(self):
        raise NotImplementedError

    def run(self):
        raise NotImplementedError

    def steps(self, k):
        raise NotImplementedError

    def weights(self):
        raise NotImplementedError


class Contender:
    name = "contender"
    module = None  # the module that must be importable

    def available(self):
        return self.module is None or importlib.util.find_spec(self.module) is not None

    def version(self):
        if self.module is None:
            return None
        return getattr(importlib.import_module(self.module), "__version__", None)

    def prepare(self, problem):
        raise NotImplementedError


# --------------------------------------------------------------------------- relunet
class RelunetRunner(Runner):
    def __init__(self, problem):
        super().__init__(problem)
        import relunet

        self.relunet = relunet
        self.model = relunet.MLP(list(self.case.sizes), dtype=self.case.dtype, seed=0)
        self.reset()

    def reset(self):
        self.model.set_weights(self.problem.weights)

    def run(self):
        p, c = self.problem, self.case
        if c.kind == "map":
            return self.model.predict_proba(p.X)
        n = p.n_tokens
        # A real fit: one epoch over the tokens, shuffled (the default), plain SGD, `batch` tokens per update.
        self.relunet.fit(self.model, p.X[:n], p.y[:n], epochs=1, batch_size=c.batch, optimizer="sgd", lr=c.lr,
                         shuffle=True, seed=SEED)
        return None

    def steps(self, k):
        p, c = self.problem, self.case
        n = k * c.batch
        trainer = self.relunet.Trainer(self.model, p.X[:n], p.y[:n], batch_size=c.batch, optimizer="sgd",
                                       lr=c.lr, shuffle=True, seed=SEED)
        trainer.step(k)

    def weights(self):
        return self.model.get_weights()


class Relunet(Contender):
    name = "relunet"

    def version(self):
        import relunet

        return relunet.__version__

    def prepare(self, problem):
        return RelunetRunner(problem)


# --------------------------------------------------------------------------- PyTorch
class TorchRunner(Runner):
    def __init__(self, problem):
        super().__init__(problem)
        import torch

        self.torch = torch
        dt = torch.float64 if self.case.dtype == "float64" else torch.float32
        sizes = self.case.sizes
        layers = []
        for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(n_in, n_out, dtype=dt))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
        self.model = torch.nn.Sequential(*layers)
        self.linears = [m for m in self.model if isinstance(m, torch.nn.Linear)]
        self.X = torch.from_numpy(problem.X)
        self.y = None if problem.y is None else torch.from_numpy(problem.y.astype(np.int64))
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.case.lr)
        self.reset()

    def reset(self):
        w = self.problem.weights
        with self.torch.no_grad():
            for i, lin in enumerate(self.linears):
                lin.weight.copy_(self.torch.from_numpy(w[2 * i]))
                lin.bias.copy_(self.torch.from_numpy(w[2 * i + 1]))

    def _train(self, n_updates):
        torch, model, opt, B = self.torch, self.model, self.opt, self.case.batch
        idx = torch.from_numpy(self.problem.order(n_updates * B))
        X, y = self.X[idx], self.y[idx]
        cross_entropy = torch.nn.functional.cross_entropy
        for s in range(0, n_updates * B, B):
            opt.zero_grad()
            loss = cross_entropy(model(X[s:s + B]), y[s:s + B])
            loss.backward()
            opt.step()

    def run(self):
        if self.case.kind == "map":
            with self.torch.inference_mode():
                return self.torch.softmax(self.model(self.X), dim=1).numpy()
        self._train(self.problem.updates)
        return None

    def steps(self, k):
        self._train(k)

    def weights(self):
        out = []
        for lin in self.linears:
            out += [lin.weight.detach().numpy().copy(), lin.bias.detach().numpy().copy()]
        return out


class Torch(Contender):
    name = "torch"
    module = "torch"

    def prepare(self, problem):
        return TorchRunner(problem)


# --------------------------------------------------------------------------- scikit-learn
class SklearnRunner(Runner):
    """MLPClassifier with solver="sgd", momentum 0, alpha 0, constant learning rate, no shuffling: one
    partial_fit call makes one pass over the tokens in order at `batch` tokens per update, which is the same
    rule as plain SGD. A 2-class problem gets ONE logistic output unit in scikit-learn (not a 2-way softmax),
    so that case is timed on the equivalent network but cannot follow the same trajectory."""

    def __init__(self, problem):
        super().__init__(problem)
        import warnings

        from sklearn.neural_network import MLPClassifier

        c = self.case
        self.k = c.sizes[-1]
        self.clf = MLPClassifier(hidden_layer_sizes=tuple(c.sizes[1:-1]), activation="relu", solver="sgd", alpha=0.0,
                                 batch_size=c.batch, learning_rate="constant", learning_rate_init=c.lr, momentum=0.0,
                                 nesterovs_momentum=False, shuffle=False, max_iter=1, random_state=0)
        X = problem.X
        if c.kind == "map":
            # Fit on a few labelled points only to create the network, then load the case's weights.
            y0 = np.arange(len(X)) % self.k
        else:
            y0 = problem.y
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.clf.partial_fit(X[:max(c.batch, self.k)], y0[:max(c.batch, self.k)], classes=np.arange(self.k))
        if self.k == 2:
            self.comparable = False
            self.note = "2 classes: scikit-learn uses one logistic output, so only its speed is comparable"
        self.reset()

    def reset(self):
        w = self.problem.weights
        L = len(w) // 2
        for i in range(L):
            W, b = w[2 * i], w[2 * i + 1]
            if i == L - 1 and self.k == 2:
                # z1 - z0 of the 2-way softmax is the logit of the single logistic unit
                W, b = (W[1] - W[0])[None, :], b[1:] - b[:1]
            # in place: the optimizer holds these very arrays
            self.clf.coefs_[i][...] = W.T
            self.clf.intercepts_[i][...] = b

    def run(self):
        p = self.problem
        if self.case.kind == "map":
            return self.clf.predict_proba(p.X)
        self.steps(p.updates)
        return None

    def steps(self, k):
        order = self.problem.order(k * self.case.batch)
        self.clf.partial_fit(self.problem.X[order], self.problem.y[order])

    def weights(self):
        out = []
        for W, b in zip(self.clf.coefs_, self.clf.intercepts_):
            out += [W.T.copy(), b.copy()]
        return out


class Sklearn(Contender):
    name = "sklearn"
    module = "sklearn"

    def prepare(self, problem):
        return SklearnRunner(problem)


# --------------------------------------------------------------------------- the NumPy floor
class FloorRunner(Runner):
    def __init__(self, problem):
        super().__init__(problem)
        w = problem.weights
        self.Ws = [np.array(W) for W in w[0::2]]
        self.bs = [np.array(b) for b in w[1::2]]
        # per-sample: the floor keeps its own augmented [W | b] (out, in + 1)
        self.Was = [np.column_stack([W, b]) for W, b in zip(self.Ws, self.bs)]

    def reset(self):
        w = self.problem.weights
        for W, b, Wa, W0, b0 in zip(self.Ws, self.bs, self.Was, w[0::2], w[1::2]):
            W[...] = W0
            b[...] = b0
            Wa[:, :-1] = W0
            Wa[:, -1] = b0

    def _train(self, n_updates):
        p, c = self.problem, self.case
        order = p.order(n_updates * c.batch)
        X, y = p.X[order], p.y[order]
        if c.batch == 1:
            floor.sgd_per_sample(self.Was, X, y, c.lr)
        else:
            floor.sgd_minibatch(self.Ws, self.bs, X, y, c.lr, c.batch)

    def run(self):
        if self.case.kind == "map":
            return floor.predict_proba(self.Ws, self.bs, self.problem.X)
        self._train(self.problem.updates)
        return None

    def steps(self, k):
        self._train(k)

    def weights(self):
        if self.case.batch == 1:
            return [a for Wa in self.Was for a in (Wa[:, :-1].copy(), Wa[:, -1].copy())]
        return [a.copy() for pair in zip(self.Ws, self.bs) for a in pair]


class Floor(Contender):
    name = "floor"
    module = "scipy"

    def prepare(self, problem):
        return FloorRunner(problem)


# --------------------------------------------------------------------------- JAX
class JaxRunner(Runner):
    """jax.jit over a lax.scan of the SGD step across the batches (CPU, the case's dtype): the whole run is
    one compiled call. Its compilation happens in the untimed warm-up; a new number of updates recompiles."""

    def __init__(self, problem):
        super().__init__(problem)
        import jax

        if self.case.dtype == "float64":
            jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        lr, L = self.case.lr, len(self.case.sizes) - 1

        def forward(params, x):
            a = x
            for i, (W, b) in enumerate(params):
                a = a @ W.T + b
                if i < L - 1:
                    a = jnp.maximum(a, 0)
            return a

        def loss(params, x, y):
            z = forward(params, x)
            logp = z - jax.scipy.special.logsumexp(z, axis=1, keepdims=True)
            return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))

        def step(params, batch):
            g = jax.grad(loss)(params, *batch)
            return jax.tree_util.tree_map(lambda p, d: p - lr * d, params, g), None

        self._train = jax.jit(lambda params, Xb, yb: jax.lax.scan(step, params, (Xb, yb))[0])
        self._proba = jax.jit(lambda params, x: jax.nn.softmax(forward(params, x), axis=1))
        self.reset()

    def reset(self):
        w = self.problem.weights
        self.params = [(self.jnp.asarray(W), self.jnp.asarray(b)) for W, b in zip(w[0::2], w[1::2])]

    def _run(self, k):
        p, B = self.problem, self.case.batch
        order = p.order(k * B)
        Xb = p.X[order].reshape(k, B, -1)
        yb = p.y[order].astype(np.int32).reshape(k, B)
        self.params = self._train(self.params, Xb, yb)
        self.jax.block_until_ready(self.params)

    def run(self):
        if self.case.kind == "map":
            return np.asarray(self._proba(self.params, self.problem.X).block_until_ready())
        self._run(self.problem.updates)
        return None

    def steps(self, k):
        self._run(k)

    def weights(self):
        return [np.asarray(a) for W, b in self.params for a in (W, b)]


class Jax(Contender):
    name = "jax"
    module = "jax"

    def prepare(self, problem):
        return JaxRunner(problem)


# --------------------------------------------------------------------------- the Numba loop
class NumbaLoopRunner(Runner):
    def __init__(self, problem):
        super().__init__(problem)
        self.arrays = [np.array(a) for a in problem.weights]

    def reset(self):
        for a, a0 in zip(self.arrays, self.problem.weights):
            a[...] = a0

    def run(self):
        self.steps(self.problem.updates)

    def steps(self, k):
        p = self.problem
        numba_loop.sgd_per_sample(*self.arrays, p.X, p.y, p.order(k), self.case.lr)

    def weights(self):
        return [a.copy() for a in self.arrays]


class NumbaLoop(Contender):
    """Only per-sample SGD on one hidden ReLU layer: the loop is written for that network alone."""

    name = "numba"
    module = "numba"

    def prepare(self, problem):
        c = problem.case
        if c.kind != "sgd" or c.batch != 1 or len(c.sizes) != 3:
            return None
        return NumbaLoopRunner(problem)


#: The registry of contenders, in table order; relunet comes first and the ratios are relunet / each other.
CONTENDERS = {c.name: c for c in (Relunet(), Torch(), Jax(), Sklearn(), Floor(), NumbaLoop())}
