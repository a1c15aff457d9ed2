"""Watching the number of linear pieces grow during training."""

from ..engine.train import Callback


class RegionCounter(Callback):
    """Records the exact number of linear regions (2 inputs) or pieces (1 input) every `every` epochs.

    Args:
        box: [x0, x1, y0, y1] (or [a, b] for one input); default model.box, else the training data's
            bounding box with a 10 % margin.
        every: count after every this many epochs (the count before training is epoch 0).
    Attributes:
        epochs, counts, losses: lists, one entry per count (loss None for epoch 0).

    Use with relunet.fit(..., callbacks=[counter]) and plot with relunet.pwl.plot.plot_region_history.
    """

    def __init__(self, box=None, every=1):
        self.box = box
        self.every = max(1, int(every))
        self.epochs, self.counts, self.losses = [], [], []

    def count(self, model):
        from .oned import knots
        from .regions import linear_regions

        if model.n_inputs == 1:
            return knots(model, self.box).pieces
        return len(linear_regions(model, self.box))

    def on_train_begin(self, trainer):
        if self.box is None:
            from ..data import bounding_box

            box = getattr(trainer.model, "box", None)
            self.box = list(box) if box is not None else bounding_box(trainer.X)
        if not self.epochs:
            self._record(trainer, trainer.epoch, None)

    def on_epoch_end(self, trainer, record):
        if record["epoch"] % self.every == 0:
            self._record(trainer, record["epoch"], record["loss"])

    def _record(self, trainer, epoch, loss):
        self.epochs.append(int(epoch))
        self.counts.append(int(self.count(trainer.model)))
        self.losses.append(loss)
