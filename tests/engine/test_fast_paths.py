"""The engine's fast paths compute what the plain layered code computes.

Each speed-up (the fused per-sample kernel with augmented weights, flat parameter buffers with one-pass
optimizer updates, per-batch gathering, transposed softmax reductions, blocked inference) is checked here
against the obvious slow computation, and the per-sample path is checked to allocate nothing per step.
"""

import tracemalloc

import numpy as np
import pytest

import relunet
from relunet.engine import MLP, SGD, Adam, Trainer
from relunet.engine import _kernels
from relunet.engine import model as model_module
from relunet.engine.losses import SoftmaxCrossEntropy, row_max, row_sum
from relunet.engine.optim import _flatten, make_optimizer


def _layered_per_sample(model, X, t, order, lr, weight_decay=0.0):
    """Per-sample SGD the slow, obvious way; returns (loss sum, correct) measured before each update."""
    opt = SGD(model.parameters(), lr=lr, weight_decay=weight_decay)
    lossf = relunet.engine.LOSSES["cross_entropy" if model.task == "classification" else "mse"]()
    loss_sum, correct = 0.0, 0
    for i in order:
        z = model.forward(X[i:i + 1])
        loss_sum += lossf.forward(z, t[i:i + 1])
        correct += lossf.correct(z, t[i:i + 1])
        model.backward(lossf.backward())
        opt.step()
    return loss_sum, correct


def _assert_weights_close(a, b, tol):
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=tol, atol=tol)


# ----------------------------------------------------------------------------- the fused per-sample kernel
@pytest.mark.parametrize("sizes,activation", [([2, 64, 3], "relu"), ([3, 7, 6, 4], "sigmoid"),
                                              ([2, 5, 5, 5, 20], "relu")])  # 20 classes: the NumPy softmax
def test_fused_kernel_equals_layered_steps_over_many_steps_and_block_boundaries(sizes, activation):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(700, sizes[0]))
    y = rng.integers(0, sizes[-1], 700)
    a, b = MLP(sizes, activation, seed=4), MLP(sizes, activation, seed=4)
    order = rng.integers(0, 700, 3 * _kernels.BLOCK + 17)  # repeats, and several gathered blocks
    loss_a, correct_a = a.sgd_per_sample(X, y, order, 0.02, 0.001)
    loss_b, correct_b = _layered_per_sample(b, X, y, order, 0.02, 0.001)
    _assert_weights_close(a, b, 1e-12)
    assert loss_a == pytest.approx(loss_b, rel=1e-12)
    assert correct_a == correct_b


def test_fused_kernel_in_float32_equals_layered_float32_steps():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(300, 2)).astype(np.float32)
    y = rng.integers(0, 3, 300)
    a, b = MLP([2, 32, 3], dtype="float32", seed=6), MLP([2, 32, 3], dtype="float32", seed=6)
    order = rng.permutation(300)
    a.sgd_per_sample(X, y, order, 0.05)
    _layered_per_sample(b, X, y, order, 0.05)
    assert a.linears[0].W.dtype == np.float32
    _assert_weights_close(a, b, 1e-5)


def test_fused_kernel_without_scipy_matches_the_blas_path(monkeypatch):
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(100, 2)), rng.integers(0, 3, 100)
    a, b = MLP([2, 16, 3], seed=8), MLP([2, 16, 3], seed=8)
    order = rng.permutation(100)
    a.sgd_per_sample(X, y, order, 0.1, 0.01)
    monkeypatch.setattr(_kernels, "_blas", None)
    b.sgd_per_sample(X, y, order, 0.1, 0.01)
    _assert_weights_close(a, b, 1e-13)


def test_fused_kernel_writes_the_weights_back_into_the_models_own_arrays():
    model = MLP([2, 8, 3], seed=0)
    W, b = model.linears[0].W, model.linears[0].b
    before = W.copy()
    X, y = relunet.make_dataset("spiral", n=50, seed=0)
    model.sgd_per_sample(X, model.encode_labels(y), np.arange(50), 0.1)
    assert model.linears[0].W is W and model.linears[0].b is b  # optimizers and views stay valid
    assert not np.array_equal(W, before)


def test_per_sample_path_allocates_nothing_per_step():
    X, y = relunet.make_dataset("spiral", n=30000, classes=3, seed=0)
    trainer = Trainer(MLP([2, 64, 3], seed=0), X, y, lr=0.01, seed=0)
    trainer.step(100)  # the epoch's order and lazily made state exist now
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        trainer.step(1000)  # more than one gathered block: the per-call buffers reach their full size
        peak_1000 = tracemalloc.get_traced_memory()[1] - base
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        trainer.step(10000)
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base - peak_1000 < 4096  # 10 times the steps, the same peak
    assert now - before < 4096            # and nothing kept


# ----------------------------------------------------------------------------- flat parameters, optimizers
def test_parameters_tile_one_flat_buffer_and_stay_ordinary_arrays():
    model = MLP([3, 5, 2], seed=0)
    values, grads, mask = _flatten(model.parameters())
    assert values.size == model.n_parameters
    assert mask.tolist() == [1.0] * 15 + [0.0] * 5 + [1.0] * 10 + [0.0] * 2  # weights decay, biases not
    for lin in model.linears:
        assert lin.W.shape == lin.dW.shape == (lin.out_features, lin.in_features)
        assert lin.W.flags.c_contiguous and lin.dW.flags.c_contiguous
        assert np.shares_memory(lin.W.reshape(-1), values)  # reshaping W gives a view, as before
    assert values[:15].reshape(5, 3).tolist() == model.linears[0].W.tolist()
    model.set_weights([np.full_like(w, i) for i, w in enumerate(model.get_weights())])
    assert values[:15].tolist() == [0.0] * 15 and values[15:20].tolist() == [1.0] * 5


def test_flat_detection_refuses_parameters_that_do_not_tile_one_buffer():
    a, b = MLP([2, 3, 2], seed=0), MLP([2, 3, 2], seed=1)
    assert _flatten(a.parameters() + b.parameters()) is None
    assert _flatten(a.parameters()[::-1]) is None
    assert _flatten(a.parameters()[:2]) is None


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adam"])
def test_flat_optimizer_update_is_bit_identical_to_the_per_parameter_update(name):
    X, y = relunet.make_dataset("spiral", n=200, seed=0)
    a, b = MLP([2, 8, 8, 3], seed=1), MLP([2, 8, 8, 3], seed=1)
    ta = Trainer(a, X, y, optimizer=name, lr=0.05, weight_decay=0.01, batch_size=16, seed=3)
    opt = make_optimizer(name, b.parameters(), 0.05, weight_decay=0.01)
    opt._flat = None  # force the per-parameter path
    opt.__init__ if False else None
    if isinstance(opt, Adam):
        opt._m, opt._v, opt._decayed, opt._tmp = opt._buffers(), opt._buffers(), opt._buffers(), opt._buffers()
    else:
        opt._decayed, opt._tmp = opt._buffers(), opt._buffers()
    tb = Trainer(b, X, y, optimizer=opt, batch_size=16, seed=3)
    assert ta.optimizer._flat is not None and tb.optimizer._flat is None
    ta.step(40)
    tb.step(40)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert np.array_equal(wa, wb)


def test_flat_weight_decay_follows_live_changes():
    X, y = relunet.make_dataset("xor", n=64, seed=0)
    a, b = MLP([2, 6, 2], seed=2), MLP([2, 6, 2], seed=2)
    ta = Trainer(a, X, y, batch_size=8, weight_decay=0.1, seed=0)
    ta.step(4)
    ta.optimizer.weight_decay = 0.5
    ta.step(4)
    tb = Trainer(b, X, y, batch_size=8, weight_decay=0.1, seed=0)
    tb.optimizer._flat = None
    tb.optimizer._decayed, tb.optimizer._tmp = tb.optimizer._buffers(), tb.optimizer._buffers()
    tb.step(4)
    tb.optimizer.weight_decay = 0.5
    tb.step(4)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        assert np.array_equal(wa, wb)


# ----------------------------------------------------------------------------- mini-batches
@pytest.mark.parametrize("dtype,tol", [("float64", 1e-12), ("float32", 1e-5)])
def test_shuffled_mini_batches_equal_a_plain_loop_over_the_same_permutation(dtype, tol):
    X, y = relunet.make_dataset("spiral", n=203, classes=3, seed=1)
    a, b = MLP([2, 16, 16, 3], dtype=dtype, seed=2), MLP([2, 16, 16, 3], dtype=dtype, seed=2)
    fit(a, X, y, epochs=2, batch_size=32, lr=0.1, seed=11)
    rng = np.random.default_rng(11)
    Xb, t = b.check_input(X), b.encode_labels(y)
    opt, lossf = SGD(b.parameters(), lr=0.1), SoftmaxCrossEntropy()
    for _ in range(2):
        order = rng.permutation(len(X))
        for s in range(0, len(X), 32):
            idx = order[s:s + 32]
            lossf.forward(b.forward(Xb[idx]), t[idx])
            b.backward(lossf.backward())
            opt.step()
    _assert_weights_close(a, b, tol)


def fit(model, X, y, **options):
    return relunet.fit(model, X, y, **options)


def test_mini_batch_training_does_not_copy_the_data_set():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20000, 64))  # 10 MB
    y = rng.integers(0, 10, 20000)
    model = MLP([64, 32, 10], seed=0)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        relunet.fit(model, X, y, epochs=1, batch_size=100, lr=0.01, seed=0)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < X.nbytes / 4


# ----------------------------------------------------------------------------- loss, softmax, inference
@pytest.mark.parametrize("n,k", [(1, 2), (7, 3), (256, 10)])
def test_softmax_cross_entropy_equals_the_textbook_formulas(n, k):
    rng = np.random.default_rng(n)
    z = rng.normal(size=(n, k)) * 5
    z0 = z.copy()
    y = rng.integers(0, k, n)
    f = np.exp(z - z.max(axis=1, keepdims=True))
    f /= f.sum(axis=1, keepdims=True)
    lossf = SoftmaxCrossEntropy()
    assert lossf.forward(z, y) == pytest.approx(np.mean(-np.log(f[np.arange(n), y])), rel=1e-13)
    onehot = np.eye(k)[y]
    dz = lossf.backward()
    np.testing.assert_allclose(dz, (f - onehot) / n, rtol=1e-13, atol=1e-16)
    assert dz.flags.c_contiguous
    np.testing.assert_array_equal(z, z0)  # the logits are never touched
    np.testing.assert_allclose(relunet.softmax(z), f, rtol=1e-13)
    np.testing.assert_array_equal(row_max(z), z.max(axis=1))
    np.testing.assert_allclose(row_sum(z), z.sum(axis=1), rtol=1e-13, atol=1e-13)


def test_relu_backward_reads_the_unit_step_off_its_output():
    relu = relunet.engine.get_activation("relu")
    h = relu.forward(np.array([[-np.inf, -1.0, 0.0, 2.0, np.inf]]))
    np.testing.assert_array_equal(h, [[0.0, 0.0, 0.0, 2.0, np.inf]])
    np.testing.assert_array_equal(relu.backward(np.full((1, 5), 3.0)), [[0.0, 0.0, 0.0, 3.0, 3.0]])  # u(0) = 0


def test_blocked_inference_equals_one_plain_forward(monkeypatch):
    monkeypatch.setattr(model_module, "_CHUNK", 64)
    rng = np.random.default_rng(0)
    model = MLP([2, 16, 16, 3], seed=0)
    X = rng.normal(size=(1000, 2))
    z = model.forward(X)
    np.testing.assert_allclose(model.decision_function(X), z, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(model.predict_proba(X).sum(axis=1), 1.0, rtol=1e-13)
    assert model.decision_function(np.empty((0, 2))).shape == (0, 3)


@pytest.mark.parametrize("where", [(0, 0), (4095, 1), (4096, 0), (9999, 2)])
def test_input_check_finds_a_bad_value_in_any_block(where):
    model = MLP([3, 4, 2])
    X = np.random.default_rng(0).normal(size=(10000, 3))
    assert model.check_input(X) is not None
    for bad in (np.nan, np.inf, -np.inf):
        Y = X.copy()
        Y[where] = bad
        with pytest.raises(relunet.RelunetError, match="NaN or infinite"):
            model.check_input(Y)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sgd_step_on_the_flat_buffer_is_w_minus_lr_times_the_gradient(dtype):
    model = MLP([3, 4, 2], dtype=dtype, seed=0)
    rng = np.random.default_rng(1)
    for p in model.parameters():
        p.grad[...] = rng.normal(size=p.grad.shape)
    before = [(p.value.copy(), p.grad.copy()) for p in model.parameters()]
    opt = SGD(model.parameters(), lr=0.25)
    assert opt._flat is not None
    opt.step()
    for p, (w, g) in zip(model.parameters(), before):
        np.testing.assert_allclose(p.value, w - 0.25 * g, rtol=1e-6 if dtype == "float32" else 1e-15)
        assert not np.array_equal(p.value, w)


# ----------------------------------------------------------------------------- flat buffers survive copies
def _grads_step(model, opt, seed):
    rng = np.random.default_rng(seed)
    for p in model.parameters():
        p.grad[...] = rng.normal(size=p.grad.shape)
    opt.step()


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
def test_an_unpickled_optimizer_still_updates_the_unpickled_models_weights(how):
    import copy
    import pickle

    model = MLP([3, 4, 2], seed=0)
    opt = Adam(model.parameters(), lr=0.1)
    _grads_step(model, opt, 1)
    twin_model, twin_opt = (pickle.loads(pickle.dumps((model, opt))) if how == "pickle"
                            else copy.deepcopy((model, opt)))
    assert twin_opt._flat is not None
    _grads_step(model, opt, 2)
    _grads_step(twin_model, twin_opt, 2)
    for a, b in zip(model.get_weights(), twin_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not np.shares_memory(model.linears[0].W, twin_model.linears[0].W)


@pytest.mark.parametrize("flat_after", [True, False])
def test_assigning_new_parameters_moves_the_optimizer_state_along(flat_after):
    model = MLP([3, 4, 2], seed=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    ref_model = model.copy()
    ref = SGD(ref_model.parameters(), lr=0.1, momentum=0.9)
    for k in range(3):
        _grads_step(model, opt, k)
        _grads_step(ref_model, ref, k)
    other = model.copy()
    if not flat_after:  # parameters that do not tile one buffer: the per-parameter path takes over
        for lin in other.linears:
            lin._W, lin.dW = lin.W.copy(), lin.dW.copy()
    opt.params = other.parameters()
    assert (opt._flat is not None) == flat_after
    for k in range(3, 6):
        _grads_step(other, opt, k)
        _grads_step(ref_model, ref, k)
    for a, b in zip(other.get_weights(), ref_model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-15, atol=1e-15)
