"""Model search over relunet estimators on a Dask cluster (joblib's dask backend) equals the local search."""

import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")
distributed = pytest.importorskip("dask.distributed")

from joblib import parallel_backend  # noqa: E402
from scipy.stats import loguniform  # noqa: E402
from sklearn.datasets import make_moons  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV  # noqa: E402

from relunet.sklearn import ReLUNetClassifier, ReLUNetRegressor  # noqa: E402


# In-process workers talking TCP: every task and result is still serialised over the wire, and the cluster
# starts in under a second (processes=True also passes here, in about 10 s).
PROCESSES = False


@pytest.fixture(scope="module")
def client():
    # A real cluster is the same code with Client("tcp://scheduler:8786") (see docs/ecosystem.md).
    cluster = distributed.LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=PROCESSES,
                                       protocol="tcp://",
                                       dashboard_address=None)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _both(search, X, y, client):
    local = search.fit(X, y)
    local_result = (local.best_params_, local.cv_results_["mean_test_score"].copy(), local.best_score_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with parallel_backend("dask"), distributed.get_task_stream(client) as stream:
            remote = search.set_params(n_jobs=-1).fit(X, y)
    # the fits ran as tasks on the cluster's workers, not in this process's joblib pool
    assert len(stream.data) > 0 and {t["worker"] for t in stream.data} <= set(client.scheduler_info()["workers"])
    return local_result, (remote.best_params_, remote.cv_results_["mean_test_score"], remote.best_score_)


def test_grid_search_on_dask_equals_single_process(client):
    X, y = make_moons(n_samples=120, noise=0.2, random_state=0)
    est = ReLUNetClassifier(max_iter=30, learning_rate_init=0.02, random_state=0)
    grid = {"hidden_layer_sizes": [(4,), (16,)], "activation": ["relu", "tanh"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        (p1, s1, b1), (p2, s2, b2) = _both(GridSearchCV(est, grid, cv=3, n_jobs=1), X, y, client)
    assert p1 == p2 and b1 == b2
    np.testing.assert_array_equal(s1, s2)
    assert len(s1) == 4 and len(set(s1.round(12))) > 1  # the grid points really differ
    assert len(client.scheduler_info()["workers"]) == 2


def test_randomized_search_on_dask_equals_single_process(client):
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, size=(100, 1))
    y = np.abs(X[:, 0]) + 0.05 * rng.normal(size=100)
    est = ReLUNetRegressor(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    space = {"learning_rate_init": loguniform(1e-3, 1e-1), "alpha": loguniform(1e-5, 1e-1)}
    search = RandomizedSearchCV(est, space, n_iter=4, cv=3, random_state=0, n_jobs=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        (p1, s1, b1), (p2, s2, b2) = _both(search, X, y, client)
    assert p1 == p2 and b1 == b2
    np.testing.assert_array_equal(s1, s2)
