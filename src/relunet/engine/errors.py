"""Errors that name a user's mistake.

`RelunetError` is a `ValueError`, so library users can catch the usual type; the command line catches it
and prints its one sentence as ``relunet: error: ...`` with exit status 2.
"""


class RelunetError(ValueError):
    """A user's mistake, described in one sentence that names the value and where it came from."""


class DivergenceError(RelunetError):
    """Training produced a NaN or infinite loss; the model keeps its last finite weights."""

    def __init__(self, message, epoch):
        super().__init__(message)
        self.epoch = epoch
