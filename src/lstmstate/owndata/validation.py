"""Validation while training: the metrics of every seed on the validation part every few epochs,
and with ``--patience``, each seed's best weights by validation loss and the point where training
stops.

The validation part is the end of the training part, just before the held-out part
(``owndata.split``); the model never trains on it, and the held-out part is not read until
training is over, so weights chosen here are judged on targets that chose nothing. Every
evaluation reads the validation part as the final scoring reads the held-out part
(``owndata.scoring``: dropout off, a carried state read warm after the fitting part)::

    epoch       5     10     15     20        patience 2: no seed better than its best for
    seed 0   2.10   1.95   1.97   1.99        2 evaluations -> stop at 20, each seed keeps
    seed 1   2.30   2.01   1.98   2.00        its best weights (seed 0: epoch 10, seed 1: 15)

A seed "improves" when its validation loss falls below its best so far; training stops when no
seed has improved for ``patience`` evaluations in a row.
"""

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Scores:
    """One evaluation of every seed on the validation part."""

    loss: np.ndarray  # (seed,) cross entropy (symbols) or mean squared error of the scaled target (numbers)
    metric: np.ndarray  # (seed,) accuracy or RMSE in the target's units
    perplexity: np.ndarray | None  # (seed,) symbols: exp(cross entropy)


@dataclass
class Validation:
    """The validation curves so far and, with patience, each seed's best weights."""

    every: int  # epochs between evaluations
    patience: int | None  # evaluations without any seed improving before training stops; None: never
    metric_name: str  # "accuracy" or "rmse"
    epochs: list[int] = field(default_factory=list)  # the epoch of each evaluation
    history: list[Scores] = field(default_factory=list)
    best_loss: np.ndarray | None = None  # (seed,)
    best_epoch: np.ndarray | None = None  # (seed,)
    best_weights: list[np.ndarray] | None = None  # stacked, each (seed, ...), when patience is on
    waited: int = 0  # evaluations since a seed last improved

    def due(self, epochs_done: int, total: int) -> bool:
        return epochs_done % self.every == 0 or epochs_done == total

    def observe(self, epoch: int, scores: Scores, weights: list[np.ndarray]) -> bool:
        """Record one evaluation after ``epoch`` epochs of ``weights``; True when patience says stop."""
        self.epochs.append(int(epoch))
        self.history.append(scores)
        loss = np.where(np.isfinite(scores.loss), scores.loss, np.inf)
        if self.best_loss is None:
            improved = np.ones(len(loss), bool)
            self.best_loss, self.best_epoch = loss.copy(), np.full(len(loss), epoch)
        else:
            improved = loss < self.best_loss
            self.best_loss = np.where(improved, loss, self.best_loss)
            self.best_epoch = np.where(improved, epoch, self.best_epoch)
        if self.patience is None:
            return False
        if self.best_weights is None:
            self.best_weights = [np.array(w) for w in weights]
        else:
            for best, current in zip(self.best_weights, weights):
                best[improved] = current[improved]
        self.waited = 0 if improved.any() else self.waited + 1
        return self.waited >= self.patience

    def curves(self) -> dict[str, np.ndarray]:
        """``(seed, evaluation)`` arrays: loss, the metric and (symbols) perplexity."""
        if not self.history:
            return {}
        curves = {"loss": np.stack([s.loss for s in self.history], 1),
                  self.metric_name: np.stack([s.metric for s in self.history], 1)}
        if self.history[0].perplexity is not None:
            curves["perplexity"] = np.stack([s.perplexity for s in self.history], 1)
        return curves

    def block(self, epochs_trained: int, total: int) -> dict:
        """The ``validation`` block of a framing's results.json entry."""
        block = {"every": self.every, "epochs": list(self.epochs), "patience": self.patience,
                 "epochs_trained": int(epochs_trained), "stopped_early": bool(epochs_trained < total),
                 "per_seed": {name: np.asarray(values, np.float64).round(6).tolist()
                              for name, values in self.curves().items()}}
        if self.best_epoch is not None:
            block["best_epoch"] = [int(e) for e in self.best_epoch]
        return block

    # ---- kept in a checkpoint, so a resumed run goes on with the same history and best weights ----

    def to_meta(self) -> dict:
        return {"epochs": list(self.epochs), "waited": self.waited,
                "best_epoch": None if self.best_epoch is None else [int(e) for e in self.best_epoch]}

    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"validation_{name}": values for name, values in self.curves().items()}
        if self.best_loss is not None:
            arrays["best_loss"] = self.best_loss
        for index, weights in enumerate(self.best_weights or []):
            arrays[f"best{index}"] = weights
        return arrays

    def restore(self, meta: dict, arrays: dict[str, np.ndarray]) -> None:
        self.epochs, self.waited = list(meta["epochs"]), int(meta["waited"])
        curves = {name.removeprefix("validation_"): values for name, values in arrays.items()
                  if name.startswith("validation_")}
        perplexity = curves.get("perplexity")
        self.history = [Scores(curves["loss"][:, i], curves[self.metric_name][:, i],
                               None if perplexity is None else perplexity[:, i]) for i in range(len(self.epochs))]
        if meta["best_epoch"] is not None:
            self.best_epoch = np.asarray(meta["best_epoch"])
            self.best_loss = arrays["best_loss"]
        best = sorted((int(name[4:]), values) for name, values in arrays.items()
                      if name.startswith("best") and name[4:].isdigit())
        self.best_weights = [np.array(values) for _, values in best] or None

    def expected_arrays(self, seeds: int, evaluations: int, weight_shapes: list[tuple[int, ...]],
                        symbols: bool) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
        """What ``to_arrays`` writes after ``evaluations`` evaluations: names, shapes, dtypes."""
        names = ["loss", self.metric_name] + (["perplexity"] if symbols else [])
        expected = {f"validation_{name}": ((seeds, evaluations), np.float32) for name in names} if evaluations else {}
        if evaluations:
            expected["best_loss"] = ((seeds,), np.float32)
        if self.patience is not None and evaluations:
            expected.update({f"best{i}": ((seeds, *shape), np.float32) for i, shape in enumerate(weight_shapes)})
        return expected
