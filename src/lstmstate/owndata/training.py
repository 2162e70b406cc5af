"""Training on the user's own data: one framing trained over many seeds at once on the training
part, scored on the held-out part beside the classical baselines (``owndata.baselines``), judged
against the strongest of them, and saved as a run folder the other commands load.

Data flows one way: file -> ``dataset`` -> ``split`` -> ``framed.frame`` -> engine ->
``prediction`` on the held-out part -> scores, baselines, verdict -> results.json (``storage.runfolder``).
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lstmstate.core import baselines as memoryless
from lstmstate.core import budget, loss, policy, statistics
from lstmstate.core.statistics import ACCURACY, PERPLEXITY, RMSE
from lstmstate.core.engine import Population, TrainConfig, Trainer
from lstmstate.core.encoding import Encoding
from lstmstate.core.model import ModelSpec
from lstmstate.owndata import baselines, dataset, differencing
from lstmstate.owndata.baselines import Baseline
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
    season: int | None = None  # numbers: the seasonal naive baseline's season; None detects it
    horizon: int = 1  # numbers, window framings: values the head outputs at once (a direct H-step model)
    differencing: int = 0  # numbers: 1 trains on changes and integrates predictions back into levels

    def __post_init__(self):
        samples.check_framing(self.framing)
        for name in ("units", "epochs", "seeds"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name} must be at least 1, got {getattr(self, name)}")
        if self.window < 1:
            raise ValueError(f"--window must be at least 1, got {self.window}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"--batch-size must be at least 1, got {self.batch_size}")
        if self.horizon < 1:
            raise ValueError(f"--horizon must be at least 1, got {self.horizon}")
        if self.differencing not in (0, 1):
            raise ValueError(f"--differencing must be 0 or 1, got {self.differencing}")
        if self.season is not None and self.season < 2:
            raise ValueError(f"--season must be at least 2 (a season of 1 is persistence), got {self.season}")


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
    baselines: tuple[Baseline, ...]  # the classical models on the same held-out targets
    ceiling: float | None  # symbols: the memoryless ceiling on the held-out part
    perplexities: np.ndarray | None  # symbols: (seed,) the held-out perplexity of each seed
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

    @property
    def baseline(self) -> Baseline:
        """The strongest baseline on the LSTM's metric: the one the verdict is against."""
        return baselines.strongest(list(self.baselines), self.metric)

    def summary(self) -> dict:
        """The ``holdout`` block of results.json."""
        low, high = statistics.bootstrap_ci(self.scores)
        return {"metric": self.metric, "mean": statistics.mean(self.scores), "ci95": [low, high],
                "per_seed": np.asarray(self.scores, np.float64).round(6).tolist()}


def check(data: Symbols | Numbers, plan: Plan) -> Split:
    """The split for ``plan``, with every out-of-range choice raised before anything is built."""
    levels = split_sequence(data.items, plan.holdout)  # the framing's own needs are checked next, by name
    split = levels  # what the model is framed on: the levels, or their changes
    if data.kind != "numbers" and (plan.horizon > 1 or plan.differencing):
        raise ValueError("--horizon and --differencing are for numbers (a CSV), not for symbols")
    if data.kind == "numbers":
        training_target = data.target_values[:levels.train_items]
        if np.ptp(training_target) == 0:
            raise ValueError(f"the target {data.target!r} is constant ({training_target[0]:g}) over the training part: "
                             "there is nothing to learn; choose another --target")
        if plan.horizon > 1 and plan.framing in samples.CARRIED:
            raise ValueError(f"--horizon {plan.horizon} trains a direct model of {plan.horizon} values, which needs a "
                             "window framing (one-step, window-features, window-timesteps, variable-length); "
                             f"{plan.framing} forecasts recursively (train with --horizon 1)")
        if plan.differencing:
            split = differencing.split_of_changes(levels)  # the same held-out targets, one row fewer
    samples.check_window(plan.window, plan.framing, split)
    if plan.horizon > 1 and split.train_items - plan.window - plan.horizon + 1 < 1:
        raise ValueError(f"--horizon {plan.horizon} with --window {plan.window} leaves no training sample: the training "
                         f"part has {split.train_items} rows; the two can add up to at most {split.train_items}")
    if plan.season is not None:
        if data.kind != "numbers":
            raise ValueError("--season is for numbers (a CSV): it sets the seasonal naive baseline's season")
        baselines.check_season(plan.season, levels.train_items)  # seasonal naive reads the levels
    train_samples = samples.train_samples(plan.framing, plan.window, split)
    batch = samples.batch_size_for(plan.framing, plan.batch_size, train_samples)
    # The model's size from the plan alone, before anything is framed or built (core.budget):
    # items per step and steps per sample as framed.frame makes them.
    slots = plan.window if plan.framing == "window-features" else 1
    steps = plan.window if plan.framing in ("window-timesteps", "variable-length") else 1
    encoding = samples.choose_encoding(plan.encoding, data, plan.framing, plan.window)
    width = len(data.columns) if data.kind == "numbers" else data.vocabulary.size if encoding == "one-hot" else 1
    outputs = plan.horizon if data.kind == "numbers" else data.vocabulary.size
    spec = ModelSpec("lstm", steps=steps, features=slots * width, outputs=outputs, units=plan.units)
    budget.check_training(spec, plan.seeds, plan.epochs, -(-train_samples // batch), batch)
    return levels


def train(data: Symbols | Numbers, plan: Plan, on_progress: Callable[[int, int], None] | None = None,
          known: tuple[Baseline, ...] | None = None) -> Outcome:
    """Train ``plan.seeds`` seeds on the training part and score them on the held-out part beside
    the baselines (``known``: already scored on every held-out target by ``held_out_baselines``,
    so ``compare`` fits them once for all framings)."""
    start = time.perf_counter()
    split = check(data, plan)
    # What the model reads: the series, or its changes (--differencing), with the same held-out targets.
    modelled, modelled_split = data, split
    if plan.differencing:
        modelled, modelled_split = differencing.difference(data), differencing.split_of_changes(split)
    framed = samples.frame(modelled, modelled_split, plan.framing, plan.window, plan.batch_size, plan.encoding,
                           plan.horizon)
    numbers = data.kind == "numbers"
    spec = ModelSpec(
        kind="lstm", steps=framed.steps, features=framed.features,
        outputs=plan.horizon if numbers else data.vocabulary.size, units=plan.units, mask_value=framed.mask_value,
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

    # Every scored sample's target id (classify), so the log probability of each can be read.
    sample_targets = None
    if not numbers:
        sample_targets = np.zeros(len(framed.x_scored), np.int32)
        sample_targets[framed.first_held_out:framed.first_held_out + len(framed.held_out_targets)] = framed.held_out_targets
    kept, predicted, log_probabilities = prediction.predict(
        spec, population.weights, framed.x_scored, framed.layout, framed.carried, classify=not numbers,
        first_kept=framed.first_held_out, targets=sample_targets)
    targets = framed.held_out_targets[kept - framed.first_held_out]
    # The held-out targets scored, by row of the series (a row of the changes is the next row's level).
    positions = split.train_items + (kept - framed.first_held_out)
    every = np.array_equal(np.sort(positions), np.arange(split.train_items, data.items))
    found = known if known is not None and every else held_out_baselines(data, split, plan, positions)
    if numbers:
        values = framed.scaling.invert(predicted, data.target_index)
        if plan.differencing:  # a predicted change, one step from the true level before it
            values, targets = values + data.target_values[positions - 1], data.target_values[positions]
        scores = statistics.rmse(values, targets)
        metric, ceiling, perplexities = RMSE, None, None
    else:
        scores = statistics.accuracy(predicted, targets)
        metric, ceiling = ACCURACY, memoryless.memoryless_ceiling_held_out(data.ids, split.train_items)
        perplexities = statistics.perplexity(log_probabilities)
    return Outcome(data, plan, split, spec, config, framed.encoding, framed.scaling, population, metric,
                   scores, tuple(found), ceiling, perplexities, time.perf_counter() - start)


def held_out_baselines(data: Symbols | Numbers, split: Split, plan: Plan,
                       positions: np.ndarray | None = None) -> tuple[Baseline, ...]:
    """Every baseline fitted on the training part and scored on the held-out targets at
    ``positions`` (all of them when None)."""
    if positions is None:
        positions = np.arange(split.train_items, data.items)
    if data.kind == "numbers":
        return tuple(baselines.for_numbers(data.target_values, split, positions, plan.season))
    return tuple(baselines.for_symbols(data.ids, split, data.vocabulary.size, positions))


def against_baseline(outcome: Outcome) -> str:
    """One sentence: the LSTM against the strongest baseline on its metric."""
    return baselines.judge(outcome.scores, outcome.baseline)


def against_perplexity(outcome: Outcome) -> str | None:
    """Symbols: one sentence, the LSTM's perplexity against the smoothed n-gram's; None for numbers."""
    if outcome.perplexities is None:
        return None
    return baselines.judge(outcome.perplexities, baselines.strongest(list(outcome.baselines), PERPLEXITY))


def data_block(data: Symbols | Numbers, split: Split) -> dict:
    block = {"file": data.source, "kind": data.kind, "items": data.items, "train_items": split.train_items,
             "held_out_items": split.held_out_items, "holdout": split.fraction}
    if data.kind == "numbers":
        # The checksum lets forecast and backtest check that a CSV read again is the same series.
        block.update(columns=list(data.columns), target=data.target, sha256=data.checksum,
                     time_column=data.time_column, fill=data.fill, filled=data.filled)
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
        "holdout": outcome.summary(), "baseline": outcome.baseline.to_dict(),
        "baselines": [b.to_dict() for b in outcome.baselines],
        "against_baseline": against_baseline(outcome),
        "median_seed": int(outcome.population.seeds[outcome.median_index]),
        "curves": {"loss": statistics.curve_band(outcome.population.loss)},
    }
    if outcome.metric == ACCURACY:
        payload["memoryless_ceiling"] = outcome.ceiling
        payload["accuracy"] = statistics.accuracy_block(outcome.scores)
        payload["curves"]["accuracy"] = statistics.curve_band(outcome.population.accuracy)
    if outcome.perplexities is not None:
        low, high = statistics.bootstrap_ci(outcome.perplexities)
        payload["perplexity"] = {"mean": statistics.mean(outcome.perplexities), "ci95": [low, high],
                                 "per_seed": np.asarray(outcome.perplexities, np.float64).round(6).tolist()}
        payload["against_perplexity"] = against_perplexity(outcome)
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
        "baseline": best.baseline.to_dict(),
        "baselines": [b.to_dict() for b in best.baselines],
        "against_baseline": against_baseline(best),
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
            time_column: str | None = None, fill: str | None = None, **plan) -> tuple[Symbols | Numbers, Plan, Split]:
    """The user's file read, the plan made and checked: every mistake is a ``ValueError`` now,
    before a folder is made or a seed trained."""
    data = dataset.read(path, tokens, columns, target, time_column, fill)
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
