"""TensorBoard event files of a training run: one run per seed, so TensorBoard draws the seeds as
a family of curves side by side (``tensorboard --logdir DIR``)::

    DIR/seed-0/events.out.tfevents...   train/loss, train/accuracy per epoch; validation/* per evaluation of the validation part
    DIR/seed-1/...

Written with tensorboardX (an optional extra: ``pip install -e '.[tensorboard]'``), which writes
TensorBoard's own format without TensorFlow.
"""

from pathlib import Path

import numpy as np


class EventLog:
    """One tensorboardX writer per seed; epochs are logged once each, as they finish."""

    def __init__(self, folder: Path, seeds: tuple[int, ...], logged: int = 0):
        try:
            from tensorboardX import SummaryWriter
        except ImportError:
            raise ValueError("`tensorboard` needs tensorboardX: pip install -e '.[tensorboard]' "
                             "(or pip install tensorboardX)") from None
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ValueError(f"cannot write `tensorboard` {folder}: {error.strerror or error}") from None
        self.seeds = tuple(seeds)
        self.writers = [SummaryWriter(logdir=str(folder / f"seed-{seed}")) for seed in self.seeds]
        self.logged = logged  # epochs written so far (a resumed run wrote its first ones before)

    def epochs(self, loss: np.ndarray, accuracy: np.ndarray) -> None:
        """Curves ``(seed, epoch)`` so far: the epochs not yet written are (step = epoch, from 1)."""
        for epoch in range(self.logged, loss.shape[1]):
            for writer, seed_loss, seed_accuracy in zip(self.writers, loss, accuracy):
                writer.add_scalar("train/loss", float(seed_loss[epoch]), epoch + 1)
                if np.isfinite(seed_accuracy[epoch]):
                    writer.add_scalar("train/accuracy", float(seed_accuracy[epoch]), epoch + 1)
        self.logged = loss.shape[1]

    def validation(self, epoch: int, metrics: dict[str, np.ndarray]) -> None:
        """The validation part's metrics after ``epoch`` epochs, each ``(seed,)``: ``validation/NAME``."""
        for index, writer in enumerate(self.writers):
            for name, values in metrics.items():
                writer.add_scalar(f"validation/{name}", float(values[index]), epoch)

    def close(self) -> None:
        for writer in self.writers:
            writer.close()
