"""Training on the user's own data: one framing trained over many seeds at once on the training
part, scored on the held-out part beside a baseline, and saved as a run folder the other
commands load.

Data flows one way: file -> ``dataset`` -> ``split`` -> ``framed.frame`` -> engine ->
``prediction`` on the held-out part -> scores and baseline -> results.json (``storage.runfolder``).
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lstmstate.core import baselines, loss, policy, statistics
from lstmstate.core.statistics import ACCURACY, RMSE
from lstmstate.core.engine import Population, TrainConfig, Trainer
from lstmstate.core.encoding import Encoding
from lstmstate.core.model import ModelSpec
from lstmstate.owndata import dataset
from lstmstate.owndata import framed as samples
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.owndata.scaling import Scaling
from lstmstate.owndata.split import Split, split as split_sequence
from lstmstate.storage import runfolder
from lstmstate.trained import prediction

@dataclass(frozen=True)
class Plan:
    """What the user asked for; everything else follows from the data."""

    framing: str = "window-timesteps"  # one of samples.FRAMINGS
    window: int = 3  # items per sample for window framings; the longest run for variable-length
    units: int = 32  # LSTM units
    epochs: int = 50  # passes over the training part
    batch_size: int | None = None  # None: the framing's default (stateful 1, stateful-streams 16, else 32)
    seeds: int = 10  # seeds trained at once; the scores are over all of them
    holdout: float = 0.2  # the last fraction of the sequence, never trained on
    encoding: str = "auto"  # symbols: "one-hot", "scalar", or "auto" (one-hot while it fits memory)

    def __post_init__(self):
        samples.check_framing(self.framing)
        for name in ("units", "epochs", "seeds"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.window < 1:
            raise ValueError(f"--window must be at least 1, got {self.window}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, got {self.batch_size}")


@dataclass
class Outcome:
    """One framing trained on the user's data and scored on the held-out part."""

    data: Symbols | Numbers  # what was read
    plan: Plan  # what was asked for
    split: Split  # where the held-out part starts
    spec: ModelSpec  # the model trained
    config: TrainConfig  # how it was trained
    encoding: str  # "one-hot", "scalar" or "standardized"
    scaling: Scaling | None  # numbers only
    population: Population  # every seed's weights and curves
    metric: str  # "accuracy" (higher is better) or "rmse" (lower is better, original units)
    scores: np.ndarray  # (seed,) the held-out metric of each seed
    baseline: dict  # {"name", "score"} of the trivial model on the same held-out part
    ceiling: float | None  # symbols: the memoryless ceiling on the held-out part
    seconds: float  # framing, training and scoring

    @property
    def name(self) -> str:
        return self.plan.framing

    @property
    def higher_is_better(self) -> bool:
        return self.metric == ACCURACY

    @property
    def median_index(self) -> int:
        return statistics.median_index(self.scores)

    def summary(self) -> dict:
        """The ``holdout`` block of results.json."""
        low, high = statistics.bootstrap_ci(self.scores)
        return {"metric": self.metric, "mean": statistics.mean(self.scores), "ci95": [low, high],
                "per_seed": np.asarray(self.scores, np.float64).round(6).tolist()}


def check(data: Symbols | Numbers, plan: Plan) -> Split:
    """The split for ``plan``, with every out-of-range choice raised before anything is built."""
    split = split_sequence(data.items, plan.holdout)  # the framing's own needs are checked next, by name
    samples.check_window(plan.window, plan.framing, split)
    samples.batch_size_for(plan.framing, plan.batch_size, samples.train_samples(plan.framing, plan.window, split))
    return split


def train(data: Symbols | Numbers, plan: Plan,
          on_progress: Callable[[int, int], None] | None = None) -> Outcome:
    """Train ``plan.seeds`` seeds on the training part and score them on the held-out part."""
    start = time.perf_counter()
    split = check(data, plan)
    framed = samples.frame(data, split, plan.framing, plan.window, plan.batch_size, plan.encoding)
    numbers = data.kind == "numbers"
    spec = ModelSpec(
        kind="lstm", steps=framed.steps, features=framed.features,
        outputs=1 if numbers else data.vocabulary.size, units=plan.units, mask_value=framed.mask_value,
        output_activation="linear" if numbers else "softmax")
    config = TrainConfig(
        epochs=plan.epochs, batch_size=framed.batch_size,
        # Stateless samples are shuffled as fit does; a stream must stay in order to carry its state.
        shuffle=not framed.carried,
        # Carried: the tutorial's stateful loop, streams reset when an epoch starts (policy.carry_within_epoch).
        policy=policy.CARRY_WITHIN_EPOCH if framed.carried else policy.RESET_EVERY_BATCH,
        loss=loss.MEAN_SQUARED_ERROR if numbers else loss.CATEGORICAL_CROSSENTROPY)
    trainer = Trainer(spec, config, framed.x_train, framed.y_train)
    population = trainer.train(range(plan.seeds), on_progress=on_progress)
    del trainer  # its device copy of the training inputs is no longer needed

    kept, predicted = prediction.predict(spec, population.weights, framed.x_scored, framed.layout,
                                         framed.carried, classify=not numbers, first_kept=framed.first_held_out)
    targets = framed.held_out_targets[kept - framed.first_held_out]
    if numbers:
        values = framed.scaling.invert(predicted, data.target_index)
        scores = statistics.rmse(values, targets)
        base = {"name": "persistence (the last value)", "score": baselines.persistence_rmse(data.target_values, split.train_items)}
        metric, ceiling = RMSE, None
    else:
        scores = statistics.accuracy(predicted, targets)
        size = data.vocabulary.size
        base = {"name": "most frequent successor of the previous symbol",
                "score": baselines.successor_accuracy(data.ids, split.train_items, size)}
        metric, ceiling = ACCURACY, baselines.memoryless_ceiling_held_out(data.ids, split.train_items)
    return Outcome(data, plan, split, spec, config, framed.encoding, framed.scaling, population, metric,
                   scores, base, ceiling, time.perf_counter() - start)


def against_baseline(outcome: Outcome) -> str:
    """One sentence: does the LSTM beat the trivial model, judged by the interval over seeds?"""
    low, high = statistics.bootstrap_ci(outcome.scores)
    base = outcome.baseline["score"]
    better_low, better_high = (low, high) if outcome.higher_is_better else (-high, -low)
    target = base if outcome.higher_is_better else -base
    if better_low > target:
        return "the LSTM beats the baseline (its whole 95% interval is better)"
    if better_high < target:
        return "the LSTM does worse than the baseline (its whole 95% interval is worse)"
    return "the LSTM is not distinguishable from the baseline (the baseline lies inside its 95% interval)"


def data_block(data: Symbols | Numbers, split: Split) -> dict:
    block = {"file": data.source, "kind": data.kind, "items": data.items, "train_items": split.train_items,
             "held_out_items": split.held_out_items, "holdout": split.fraction}
    if data.kind == "numbers":
        block.update(columns=list(data.columns), target=data.target)
    else:
        block.update(tokens=data.tokens, vocabulary_size=data.vocabulary.size)
    return block


def entry(outcome: Outcome) -> dict:
    """The results.json entry of one framing (``experiments[FRAMING]``)."""
    plan = outcome.plan
    payload = {
        "framing": plan.framing, "window": plan.window, "units": plan.units, "epochs": plan.epochs,
        "batch_size": outcome.config.batch_size, "shuffle": outcome.config.shuffle, "policy": outcome.config.policy.name,
        "encoding": outcome.encoding, "seeds": list(outcome.population.seeds),
        "seconds": round(outcome.seconds, 3),
        "holdout": outcome.summary(), "baseline": outcome.baseline,
        "against_baseline": against_baseline(outcome),
        "median_seed": int(outcome.population.seeds[outcome.median_index]),
        "curves": {"loss": statistics.curve_band(outcome.population.loss)},
    }
    if outcome.metric == ACCURACY:
        payload["memoryless_ceiling"] = outcome.ceiling
        payload["accuracy"] = statistics.accuracy_block(outcome.scores)
        payload["curves"]["accuracy"] = statistics.curve_band(outcome.population.accuracy)
    return payload


def payload(outcomes: list[Outcome], best: Outcome | None = None) -> dict:
    """results.json of a run folder: the top-level holdout and baseline are those of ``best``
    (the only framing of ``train``, the recommended one of ``compare``)."""
    best = best or outcomes[0]
    return {
        **runfolder.header(list(best.population.seeds)),
        "data": data_block(best.data, best.split),
        "framing": best.name,
        "holdout": best.summary(),
        "baseline": best.baseline,
        **({"memoryless_ceiling": best.ceiling} if best.ceiling is not None else {}),
        "experiments": {o.name: entry(o) for o in outcomes},
    }


def saved_entry(outcome: Outcome) -> runfolder.SavedEntry:
    """What the run folder keeps of ``outcome``: the model, every seed's weights and curves, and
    the plan, the data's description and (numbers) the scaling, so predictions can be turned back."""
    data = outcome.data
    details = {"plan": asdict(outcome.plan), "data": data_block(data, outcome.split)}
    if outcome.scaling is not None:
        details["scaling"] = outcome.scaling.to_dict()
    symbols = data.kind == "symbols"
    return runfolder.SavedEntry(
        outcome.name, outcome.spec, outcome.config,
        Encoding(outcome.encoding, data.vocabulary.size) if symbols else None,
        data.vocabulary if symbols else None, tuple(outcome.population.seeds), tuple(outcome.population.weights),
        outcome.population.loss, outcome.population.accuracy, details=details)


def prepare(path: Path, tokens: str | None, columns: str | None, target: str | None,
            **plan) -> tuple[Symbols | Numbers, Plan, Split]:
    """The user's file read, the plan made and checked: every mistake is a ``ValueError`` now,
    before a folder is made or a seed trained."""
    data = dataset.read(path, tokens, columns, target)
    plan = Plan(**plan)
    return data, plan, check(data, plan)


def run(data: Symbols | Numbers, plan: Plan, folder: Path | None = None,
        on_progress: Callable[[int, int], None] | None = None) -> Outcome:
    """``train``, then save the outcome in ``folder`` (when given): its entry and results.json."""
    try:
        outcome = train(data, plan, on_progress=on_progress)
    except KeyboardInterrupt:
        raise runfolder.Interrupted(f"interrupted: {plan.framing} had not finished, so nothing was written") from None
    if folder is not None:
        runfolder.write_entry(folder, saved_entry(outcome))
        runfolder.write_results(folder, payload([outcome]))
    return outcome
