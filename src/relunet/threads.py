"""How many threads BLAS may use: one is fastest for the small matrices of these networks.

A multi-threaded BLAS splits even a 32 x 64 product across threads; on a small or shared machine the
threads spend more time waking and waiting than computing (measured here: per-sample SGD and small
mini-batches 3-10x slower, a 100 x 100 decision map 65 ms instead of 15 ms).
"""


def limit_blas_threads(n=1):
    """Limit BLAS to `n` threads for this process; returns the threadpoolctl limiter (call
    .restore_original_limits() to undo), or None when threadpoolctl is not installed."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(n, user_api="blas")


def auto_threads(sizes, batch_size):
    """1 for small work per update (under a million multiply-adds in the largest layer), else None
    (BLAS's own default): big mini-batches of wide layers do gain from more threads."""
    largest = max(i * o for i, o in zip(sizes[:-1], sizes[1:]))
    return 1 if largest * batch_size < 1_000_000 else None
