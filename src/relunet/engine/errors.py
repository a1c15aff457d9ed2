"""Errors that name a user's mistake. `RelunetError` is a ValueError, so library users catch the usual type;
the command line prints its one sentence as ``relunet: error: ...`` with exit status 2."""


class RelunetError(ValueError):
    """A user's mistake, described in one sentence that names the value and where it came from."""


class DivergenceError(RelunetError):
    """Training produced a NaN or infinite loss or weights; the model keeps its last finite weights."""

    def __init__(self, message, epoch):
        super().__init__(message)
        self.epoch = epoch
