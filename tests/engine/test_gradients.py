"""Back-propagation against central differences (float64): every layer, activation, loss and whole models."""

import numpy as np
import pytest

from relunet.engine import ACTIVATIONS, LOSSES, MLP, Linear, get_activation, loss_and_gradients
from relunet.gradcheck import check_layer, check_model, relative_error
from relunet.engine.losses import MeanSquaredError, SoftmaxCrossEntropy

TOL = 1e-6


def _away_from_kinks(rng, shape):
    """Inputs with |z| >= 0.1, so central differences never straddle a ReLU kink."""
    z = rng.normal(size=shape)
    return np.where(np.abs(z) < 0.1, np.sign(z + 1e-12) * (0.1 + np.abs(z)), z)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (5, 3)])
def test_activation_backward_matches_central_differences(name, shape):
    rng = np.random.default_rng(1)
    assert check_layer(get_activation(name), _away_from_kinks(rng, shape)) < TOL


@pytest.mark.parametrize("n_in,n_out,batch", [(1, 1, 1), (2, 3, 1), (3, 5, 4), (7, 2, 9)])
def test_linear_backward_matches_central_differences(n_in, n_out, batch):
    rng = np.random.default_rng(2)
    lin = Linear(n_in, n_out)
    lin.W[...] = rng.normal(size=(n_out, n_in))
    lin.b[...] = rng.normal(size=n_out)
    assert check_layer(lin, rng.normal(size=(batch, n_in))) < TOL


def test_linear_computes_x_W_transpose_plus_b_and_keeps_weights_in_backward():
    lin = Linear(2, 3)
    lin.W[...] = [[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]]
    lin.b[...] = [0.5, 0.0, -1.0]
    x = np.array([[1.0, 1.0], [2.0, 0.0]])
    z = lin.forward(x)
    np.testing.assert_array_equal(z, [[3.5, -1.0, 2.5], [2.5, 0.0, 5.0]])
    W0, b0 = lin.W.copy(), lin.b.copy()
    dx, dW, db = lin.backward(x, np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]))
    np.testing.assert_array_equal(lin.W, W0)  # backward never updates weights
    np.testing.assert_array_equal(lin.b, b0)
    np.testing.assert_array_equal(dW, [[1.0, 1.0], [0.0, 0.0], [2.0, 0.0]])  # dz^T x by hand
    np.testing.assert_array_equal(db, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(dx, [[1.0, 2.0], [3.0, 0.5]])


def test_relu_derivative_at_zero_is_zero():
    relu, z = get_activation("relu"), np.array([[-1.0, 0.0, 2.0]])
    h = relu.forward(z)
    np.testing.assert_array_equal(h, [[0.0, 0.0, 2.0]])
    np.testing.assert_array_equal(relu.backward(np.ones((1, 3)), z, h), [[0.0, 0.0, 1.0]])


def test_leaky_relu_slope_and_derivative():
    act, z = get_activation("leaky_relu"), np.array([[-2.0, 0.0, 3.0]])
    h = act.forward(z)
    np.testing.assert_allclose(h, [[-0.02, 0.0, 3.0]])
    np.testing.assert_allclose(act.backward(np.ones((1, 3)), z, h), [[0.01, 0.01, 1.0]])


def test_sigmoid_is_stable_for_large_inputs():
    act = get_activation("sigmoid")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        h = act.forward(np.array([[-800.0, 0.0, 800.0]]))
    np.testing.assert_allclose(h, [[0.0, 0.5, 1.0]])


def test_cross_entropy_value_and_gradient_by_hand():
    z = np.array([[0.0, np.log(3.0)]])  # f = [1/4, 3/4]
    value, grad = SoftmaxCrossEntropy().value_and_grad(z, np.array([1]))
    assert value == pytest.approx(-np.log(0.75), abs=1e-15)
    np.testing.assert_allclose(grad, [[0.25, -0.25]], atol=1e-15)  # f - 1[y=k]


def test_cross_entropy_is_stable_for_huge_logits():
    z = np.array([[1000.0, 0.0], [0.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value, grad = SoftmaxCrossEntropy().value_and_grad(z, np.array([0, 0]))
    assert value == pytest.approx(500.0)  # (0 + 1000) / 2, exact via log-sum-exp
    np.testing.assert_allclose(grad, [[0.0, 0.0], [-0.5, 0.5]], atol=1e-12)  # (f - onehot) / N


def test_mse_value_and_gradient_are_batch_means():
    z, y = np.array([[1.0], [3.0]]), np.array([0.0, 1.0])
    value, grad = MeanSquaredError().value_and_grad(z, y)
    assert value == pytest.approx(0.5 * (1 + 4) / 2)
    np.testing.assert_allclose(grad, [[0.5], [1.0]])
    value, grad = MeanSquaredError().value_and_grad(z, y, sample_weight=np.array([3.0, 1.0]))
    assert value == pytest.approx((3 * 0.5 + 0.5 * 4) / 4)  # sum_n w_n l_n / sum_n w_n
    np.testing.assert_allclose(grad, [[0.75], [0.5]])


@pytest.mark.parametrize("sizes", [[2, 3], [2, 5, 3], [3, 4, 4, 2], [1, 6, 5, 4, 3], [5, 1, 2]])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("batch", [1, 4])
def test_model_gradients_match_central_differences(sizes, activation, batch):
    rng = np.random.default_rng(sum(sizes) + batch)
    model = MLP(sizes, activation, seed=rng)
    X = rng.normal(size=(batch, sizes[0]))
    t = rng.integers(0, sizes[-1], batch)
    report = check_model(model, X, t)
    assert [r["name"] for r in report] == [f"{p}{i}" for i in range(1, len(sizes)) for p in "Wb"]
    assert max(r["max_rel_error"] for r in report) < TOL, report


@pytest.mark.parametrize("sizes", [[1, 8, 1], [2, 4, 3, 2]])
def test_regression_model_gradients_match_central_differences(sizes):
    rng = np.random.default_rng(3)
    model = MLP(sizes, "relu", task="regression", seed=rng)
    X = rng.normal(size=(6, sizes[0]))
    report = check_model(model, X, rng.normal(size=(6, sizes[-1])))
    assert max(r["max_rel_error"] for r in report) < TOL


def test_gradient_check_detects_a_wrong_backward():
    rng = np.random.default_rng(4)
    model = MLP([2, 4, 3], seed=rng)
    X, t = rng.normal(size=(3, 2)), rng.integers(0, 3, 3)
    act = model.activations[0]
    right = act.backward
    act.backward = lambda dh, z, h: 2.0 * right(dh, z, h)  # a deliberately wrong derivative
    report = check_model(model, X, t)
    assert report[0]["max_rel_error"] > 0.1


def test_relative_error_is_measured_against_the_arrays_gradient_scale():
    a, b = np.array([1.0, -2.0, 0.0]), np.array([1.0, -2.0, 0.0])
    assert relative_error(a, b).max() == 0.0
    assert relative_error([1.0], [3.0])[0] == pytest.approx(0.5) == relative_error([3.0], [1.0])[0]
    # a tiny entry is judged against the array's largest gradient, not against itself
    np.testing.assert_allclose(relative_error([2.0, 1e-9], [2.0, 2e-9]), [0.0, 1e-9 / 4.0])


def test_lecture_weight_gradient_formula_for_a_two_layer_net():
    """dL/dw1_ji = sum_k (f_k - 1[y=k]) w2_kj 1[h_j > 0] x_i, the lecture's closed form."""
    rng = np.random.default_rng(5)
    model = MLP([2, 6, 3], seed=rng)
    x, y = np.array([[0.4, 0.9]]), np.array([2])
    z, tape = model.forward(x)
    dW1 = model.backward(tape, SoftmaxCrossEntropy().value_and_grad(z, y)[1])[0]
    W1, b1, W2 = model.linears[0].W, model.linears[0].b, model.linears[1].W
    h = np.maximum(0, W1 @ x[0] + b1)
    z2 = W2 @ h + model.linears[1].b
    f = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum()
    delta = f - np.eye(3)[2]
    expected = np.outer((delta @ W2) * (h > 0), x[0])
    np.testing.assert_allclose(dW1, expected, rtol=1e-12, atol=1e-15)


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(sizes=st.lists(st.integers(1, 6), min_size=1, max_size=3), n_in=st.integers(1, 4), n_out=st.integers(2, 5),
       batch=st.integers(1, 6), activation=st.sampled_from(sorted(ACTIVATIONS)), seed=st.integers(0, 2 ** 16))
def test_any_architecture_back_propagates_correctly(sizes, n_in, n_out, batch, activation, seed):
    rng = np.random.default_rng(seed)
    model = MLP([n_in, *sizes, n_out], activation, seed=rng)
    X = rng.normal(size=(batch, n_in))
    t = rng.integers(0, n_out, batch)
    assert max(r["max_rel_error"] for r in check_model(model, X, t)) < TOL


@pytest.mark.parametrize("loss, task, outputs", [("logistic", "classification", 1), ("logistic", "classification", 3),
                                                 ("poisson", "regression", 2), ("mse", "regression", 2)])
def test_logistic_and_poisson_gradients_match_central_differences(loss, task, outputs):
    rng = np.random.default_rng(6)
    model = MLP([3, 5, outputs], "tanh", task, seed=rng, loss=loss)
    X = rng.normal(size=(7, 3))
    y = rng.integers(0, len(model.classes), 7) if task == "classification" else rng.poisson(2.0, (7, outputs))
    assert max(r["max_rel_error"] for r in check_model(model, X, y)) < TOL


@pytest.mark.parametrize("loss", ["logistic", "poisson"])
def test_logistic_and_poisson_values_equal_scikit_learns(loss):
    from sklearn.neural_network._base import binary_log_loss, poisson_loss

    rng = np.random.default_rng(7)
    z, w = rng.normal(size=(9, 3)), rng.uniform(0.1, 2.0, 9)
    t = rng.integers(0, 2, (9, 3)).astype(float) if loss == "logistic" else rng.poisson(1.5, (9, 3)).astype(float)
    f = LOSSES[loss]().output(z)
    want = (binary_log_loss if loss == "logistic" else poisson_loss)(t, f, sample_weight=w)
    assert LOSSES[loss]().value_and_grad(z, t, w)[0] == pytest.approx(want, rel=1e-10)


def test_sample_weights_are_token_repeats_in_the_gradient():
    """A weight of 2 is the same as repeating the token: loss_and_gradients on both agree."""
    rng = np.random.default_rng(8)
    model = MLP([2, 4, 3], seed=rng)
    X, t = rng.normal(size=(4, 2)), np.array([0, 2, 1, 2])
    L, grads = loss_and_gradients(model, X, t, sample_weight=np.array([1.0, 2.0, 1.0, 1.0]))
    L2, grads2 = loss_and_gradients(model, X[[0, 1, 1, 2, 3]], t[[0, 1, 1, 2, 3]])
    assert L == pytest.approx(L2, rel=1e-14)
    for a, b in zip(grads, grads2):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
