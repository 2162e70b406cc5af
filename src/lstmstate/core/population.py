"""What training gives back: a trained ``Population`` of seeds, an ``Evaluation`` of it, and the
``Progress`` a run reports after each chunk of epochs, checkpoints and resumes from."""

from dataclasses import dataclass

import numpy as np

from lstmstate.core.train_state import TrainState


@dataclass(frozen=True)
class Population:
    """A trained population: one entry per seed along the first axis of every array."""

    seeds: tuple[int, ...]  # the integer seed of each member
    weights: list[np.ndarray]  # model.trainable_variables order, each (seed, *variable shape)
    loss: np.ndarray  # (seed, epoch) training loss, mean over the epoch's samples, as in fit's history
    accuracy: np.ndarray  # (seed, epoch) training accuracy likewise (NaN for regression)

    def member_weights(self, index: int) -> list[np.ndarray]:
        """The weights of the ``index``-th seed."""
        return [w[index] for w in self.weights]

    @property
    def epochs(self) -> int:
        """Epochs trained (fewer than configured when training stopped early)."""
        return self.loss.shape[1]


@dataclass(frozen=True)
class Evaluation:
    """Keras ``evaluate`` for every seed, plus each sample's prediction."""

    loss: np.ndarray  # (seed,)
    accuracy: np.ndarray  # (seed,) NaN for regression
    predictions: np.ndarray  # (seed, sample) predicted ids, or (seed, sample, outputs) values
    evaluated: np.ndarray  # (sample,) indices of the samples evaluated, in evaluation order


@dataclass(frozen=True)
class Progress:
    """Training as far as it got, on the host: what a checkpoint keeps and resumes from."""

    epochs: int  # epochs done
    state: TrainState  # every seed's, a leading (seed,) axis on every array
    loss: np.ndarray  # (seed, epochs) per-epoch training loss so far
    accuracy: np.ndarray  # (seed, epochs) likewise (NaN for regression)
