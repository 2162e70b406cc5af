"""A part of the series scored for any stacked weights: the validation part, every few epochs
while training (``owndata.validation``), and the held-out part, once, for the final scores.

Both are scored the same way (``trained.prediction``: dropout off, a carried state read warm after
everything before the part); only the targets differ::

    rows      [ fitting ........ | validation | held-out ]
    Part      first = fit_items ->  scored while training
              first = train_items ------------>  scored once, at the end
"""

import functools
from dataclasses import dataclass

import numpy as np

from lstmstate.core import statistics
from lstmstate.core.model import ModelSpec
from lstmstate.core.statistics import ACCURACY, RMSE
from lstmstate.owndata import samples
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.owndata.validation import Scores
from lstmstate.trained import prediction


@dataclass(frozen=True)
class Scored:
    """One part scored for a population."""

    scores: Scores  # loss, metric, perplexity per seed
    metric: str  # ACCURACY or RMSE
    values: np.ndarray  # (seed,) the metric, float64 as reported
    perplexities: np.ndarray | None  # (seed,) symbols: float64 as reported
    positions: np.ndarray  # the rows of the series whose targets were scored
    every: bool  # whether every target of the part was scored


@dataclass(frozen=True)
class Part:
    """The targets of rows ``first..first + len(framed.held_out_targets) - 1`` and the samples
    that predict them (``samples.part``)."""

    data: Symbols | Numbers
    first: int  # the row of the part's first target
    differencing: int  # 1: the model predicts changes, scored as levels
    spec: ModelSpec
    framed: samples.Samples  # restricted to the part's targets

    @property
    def end(self) -> int:
        return self.first + len(self.framed.held_out_targets)

    @functools.cached_property
    def sample_targets(self) -> np.ndarray | None:
        """Symbols: every scored sample's target id, so the log probability of each can be read
        (the same for every evaluation, so made once); None for numbers."""
        framed = self.framed
        if self.data.kind == "numbers":
            return None
        targets = np.zeros(len(framed.x_scored), np.int32)
        targets[framed.first_held_out:framed.first_held_out + len(framed.held_out_targets)] = framed.held_out_targets
        return targets

    def __call__(self, weights: list[np.ndarray]) -> Scored:
        data, framed = self.data, self.framed
        numbers = data.kind == "numbers"
        kept, predicted, log_probabilities = prediction.predict(
            self.spec, weights, framed.x_scored, framed.layout, framed.carries_state, classify=not numbers,
            first_kept=framed.first_held_out, targets=self.sample_targets, encoding=framed.in_program)
        kept = kept - framed.first_held_out
        inside = kept < len(framed.held_out_targets)  # a carried pass may read past the part's last target
        kept, predicted, log_probabilities = kept[inside], predicted[:, inside], log_probabilities[:, inside]
        targets = framed.held_out_targets[kept]
        # The targets scored, by row of the series (a row of the changes is the next row's level).
        positions = self.first + kept
        every = bool(np.array_equal(np.sort(positions), np.arange(self.first, self.end)))
        if numbers:
            values = framed.scaling.invert(predicted, data.target_index)
            if self.differencing:  # a predicted change, one step from the true level before it
                values, targets = values + data.target_values[positions - 1], data.target_values[positions]
            rmse = np.asarray(statistics.rmse(values, targets))
            # The loss as training has it: squared error of the scaled target.
            scale = framed.scaling.scale[data.target_index]
            scores = Scores(_single((rmse / scale) ** 2), _single(rmse), None)
            return Scored(scores, RMSE, rmse, None, positions, every)
        accuracy = np.asarray(statistics.accuracy(predicted, targets))
        perplexities = statistics.perplexity(log_probabilities)
        scores = Scores(_single(-np.asarray(log_probabilities, np.float64).mean(axis=1)), _single(accuracy),
                        _single(perplexities))
        return Scored(scores, ACCURACY, accuracy, perplexities, positions, every)


def _single(values) -> np.ndarray:
    # The curves are float32, as the training curves are and as a checkpoint keeps them.
    return np.asarray(values, np.float32)
