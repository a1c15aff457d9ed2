"""solver='lbfgs': SciPy's L-BFGS-B over relunet's loss and gradient, as scikit-learn's MLP runs it.

The parameters travel as one vector in scikit-learn's order (every W^T flattened, then every b), so from the
same start SciPy sees the same numbers as under MLPClassifier and takes the same steps. The objective is
scikit-learn's: the (sample-weighted) mean loss + alpha/2 ||W||^2 / sum(w), with gradient
relunet's dL/dW + alpha W / sum(w).
"""

import numpy as np
import scipy.optimize
from sklearn.utils.optimize import _check_optimize_result

from ..engine.errors import DivergenceError
from . import _engine


def fit_lbfgs(est, X, T, sample_weight):
    """Minimise the training objective from the current weights; sets n_iter_, loss_ and loss_curve_.

    Shapes: X (N, features); T the engine's targets; sample_weight (N,) or None.
    """
    model = est.model_
    Ws = [lin.W for lin in model.linears]
    bs = [lin.b for lin in model.linears]
    alpha = float(est.alpha)
    sw_sum = X.shape[0] if sample_weight is None else float(np.sum(sample_weight))
    last = {}

    def pack(dWs, dbs):
        return np.hstack([dW.T.ravel() for dW in dWs] + [db.ravel() for db in dbs])

    def unpack(x):
        start = 0
        for W in Ws:
            end = start + W.size
            W[...] = x[start:end].reshape(W.shape[::-1]).T
            start = end
        for b in bs:
            end = start + b.size
            b[...] = x[start:end]
            start = end

    def loss_grad(x):
        unpack(x)
        data_loss, grads = _engine.loss_and_gradients(est, X, T, sample_weight)
        penalty = 0.5 * alpha * sum(float(np.vdot(W, W)) for W in Ws) / sw_sum
        last["x"], last["loss"] = np.array(x), _engine.reported_loss(est, data_loss) + penalty
        dWs = [g + (alpha / sw_sum) * W for g, W in zip(grads[0::2], Ws)]
        return data_loss + penalty, pack(dWs, grads[1::2])

    def reported_loss_at(x):
        """scikit-learn's loss at x (the squared loss averaged over outputs), from the last evaluation if there."""
        if not np.array_equal(last["x"], x):
            loss_grad(x)
        return last["loss"]

    def after_iteration(intermediate_result):
        est.loss_ = reported_loss_at(intermediate_result.x)
        est.loss_curve_.append(est.loss_)
        est.n_iter_ = len(est.loss_curve_)
        if est.verbose:
            print("Iteration %d, loss = %.8f" % (est.n_iter_, est.loss_))
        if est._relunet_stop():
            last["stopped"] = True
            raise StopIteration  # SciPy ends the run and returns the current point

    with np.errstate(over="ignore", invalid="ignore"):
        result = scipy.optimize.minimize(
            loss_grad, pack(Ws, bs), method="L-BFGS-B", jac=True, callback=after_iteration,
            options={"maxfun": est.max_fun, "maxiter": est.max_iter, "gtol": est.tol})
    # (a stop asked for by target_loss or a callback is not a failure to converge)
    est.n_iter_ = result.nit if last.get("stopped") else _check_optimize_result("lbfgs", result, est.max_iter)
    unpack(result.x)
    if not all(np.all(np.isfinite(p)) for p in Ws + bs):
        raise DivergenceError("Solver produced non-finite parameter weights. The input data may contain large "
                              "values and need to be preprocessed.", est.n_iter_)
    est.loss_ = reported_loss_at(result.x)
