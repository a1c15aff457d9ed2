"""A tqdm progress bar as a training callback (tqdm.auto: a widget in notebooks, text on terminals)."""

import sys

from .engine.train import Callback


class ProgressBar(Callback):
    """Shows epochs done, loss and accuracy while Trainer.fit runs. Silent when stderr is not a terminal
    unless force=True."""

    def __init__(self, epochs, force=False, **tqdm_kwargs):
        self.epochs, self.force, self.kwargs = epochs, force, tqdm_kwargs
        self.bar = None

    def on_train_begin(self, trainer):
        if not (self.force or sys.stderr.isatty()):
            return
        from tqdm.auto import tqdm

        self.bar = tqdm(total=self.epochs, unit="epoch", leave=False, **self.kwargs)

    def on_epoch_end(self, trainer, record):
        if self.bar is None:
            return
        post = {"loss": f"{record['loss']:.4g}"}
        if record.get("accuracy") is not None:
            post["acc"] = f"{record['accuracy']:.3f}"
        if record.get("val_loss") is not None:
            post["val_loss"] = f"{record['val_loss']:.4g}"
        self.bar.set_postfix(post, refresh=False)
        self.bar.update(1)

    def on_train_end(self, trainer):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
