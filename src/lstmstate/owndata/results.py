"""A framing's result on the user's data, and what a run folder keeps of it: the held-out scores
beside the baselines (``Result``), its entry in results.json, and the saved entry the other
commands load (``storage.runfolder``)."""

from dataclasses import asdict, dataclass

import numpy as np

from lstmstate.core import statistics
from lstmstate.core.encoding import Encoding
from lstmstate.core.population import Population
from lstmstate.core.train_config import TrainConfig
from lstmstate.core.model import ModelSpec
from lstmstate.core.statistics import ACCURACY
from lstmstate.owndata import baselines, verdicts
from lstmstate.owndata.baselines import Baseline
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.owndata.plan import Plan
from lstmstate.owndata.scaling import Scaling
from lstmstate.owndata.season import Season
from lstmstate.owndata.split import Split
from lstmstate.owndata.validation import Validation
from lstmstate.storage import runfolder


@dataclass
class Result:
    """One framing trained on the user's data and scored on the held-out part."""

    data: Symbols | Numbers  # what was read
    plan: Plan  # what was asked for
    split: Split  # where the held-out part starts
    spec: ModelSpec  # the model trained
    config: TrainConfig  # how it was trained
    encoding: str  # "one-hot", "embedding", "scalar" or "standardized"
    scaling: Scaling | None  # numbers only
    population: Population  # every seed's weights and curves
    metric: str  # "accuracy" (higher is better) or "rmse" (lower is better, original units)
    scores: np.ndarray  # (seed,) the held-out metric of each seed
    baselines: tuple[Baseline, ...]  # the classical models on the same held-out targets
    ceiling: float | None  # symbols: the memoryless ceiling on the held-out part
    perplexities: np.ndarray | None  # symbols: (seed,) the held-out perplexity of each seed
    seconds: float  # framing, training and scoring
    validation: Validation | None = None  # the validation part's curves while training
    season: Season | None = None  # numbers: the baselines' season, and why
    advice: str | None = None  # numbers: why a model of changes may do better (``owndata.stationarity``)

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


def data_block(data: Symbols | Numbers, split: Split) -> dict:
    block = {"file": data.source, "kind": data.kind, "items": data.items, "train_items": split.train_items,
             "held_out_items": split.held_out_items, "holdout": split.fraction, "fit_items": split.fit_items,
             "validation_items": split.validation_items, "validation": split.validation, "parts": split.to_dict()}
    if data.kind == "numbers":
        # The checksum lets forecast and backtest check that a CSV read again is the same series.
        block.update(columns=list(data.columns), target=data.target, sha256=data.checksum,
                     time_column=data.time_column, fill=data.fill, filled=data.filled)
    else:
        block.update(tokens=data.tokens, vocabulary_size=data.vocabulary.size)
    return block


def choices(outcome: Result) -> dict:
    """What the validation part chose (results.json's ``chosen_on_validation``): the season, each
    baseline's order, and the LSTM's epochs; the held-out part chose nothing."""
    chosen = {}
    if outcome.season is not None:
        chosen["season"] = outcome.season.to_dict()
    for baseline in outcome.baselines:
        how = baseline.parameters.get("chosen_by", "")
        if "validation" in how:
            chosen[baseline.name] = how
    validation, plan = outcome.validation, outcome.plan
    lstm = {"patience": plan.patience, "epochs_trained": int(outcome.population.epochs)}
    if validation is not None and validation.best_weights is not None:
        lstm["best_epoch"] = [int(e) for e in validation.best_epoch]  # each seed's weights, by validation loss
    chosen["lstm"] = lstm
    return chosen


def entry(outcome: Result) -> dict:
    """The results.json entry of one framing (``experiments[FRAMING]``)."""
    plan = outcome.plan
    payload = {
        "framing": plan.framing, "window": plan.window, "units": plan.units, "epochs": plan.epochs,
        "batch_size": outcome.config.batch_size, "shuffle": outcome.config.shuffle, "policy": outcome.config.policy.name,
        "encoding": outcome.encoding, "seeds": list(outcome.population.seeds),
        "seconds": round(outcome.seconds, 3),
        "holdout": outcome.summary(), "baseline": outcome.baseline.to_dict(),
        "baselines": [b.to_dict() for b in outcome.baselines],
        "against_baseline": verdicts.against_baseline(outcome),
        "median_seed": int(outcome.population.seeds[outcome.median_index]),
        "curves": {"loss": statistics.curve_band(outcome.population.loss)},
        "model": outcome.spec.kind, "layers": plan.layers, "bptt": plan.bptt, "reset": plan.reset,
        "dropout": plan.dropout, "embedding": plan.embedding, "learning_rate": plan.learning_rate,
        "clip_norm": plan.clip_norm, "validation_fraction": plan.validation,
        "chosen_on_validation": choices(outcome),
    }
    if outcome.advice is not None:
        payload["advice"] = outcome.advice
    if outcome.validation is not None and outcome.validation.epochs:
        payload["validation"] = outcome.validation.block(outcome.population.epochs, plan.epochs)
    if outcome.metric == ACCURACY:
        payload["memoryless_ceiling"] = outcome.ceiling
        payload["accuracy"] = statistics.accuracy_block(outcome.scores)
        payload["curves"]["accuracy"] = statistics.curve_band(outcome.population.accuracy)
    if outcome.perplexities is not None:
        low, high = statistics.bootstrap_ci(outcome.perplexities)
        payload["perplexity"] = {"mean": statistics.mean(outcome.perplexities), "ci95": [low, high],
                                 "per_seed": np.asarray(outcome.perplexities, np.float64).round(6).tolist()}
        payload["against_perplexity"] = verdicts.against_perplexity(outcome)
    return payload


def payload(outcomes: list[Result], best: Result | None = None) -> dict:
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
        "against_baseline": verdicts.against_baseline(best),
        "chosen_on_validation": choices(best),
        **({"memoryless_ceiling": best.ceiling} if best.ceiling is not None else {}),
        **({"advice": best.advice} if best.advice is not None else {}),
        "experiments": {o.name: entry(o) for o in outcomes},
    }


def saved_entry(outcome: Result) -> runfolder.SavedEntry:
    """What the run folder keeps of ``outcome``: the model, every seed's weights and curves, and
    the plan, the data's description and (numbers) the scaling, so predictions can be turned back."""
    data = outcome.data
    details = {"plan": asdict(outcome.plan), "data": data_block(data, outcome.split)}
    if outcome.scaling is not None:
        details["scaling"] = outcome.scaling.to_dict()
    if outcome.season is not None:
        details["season"] = outcome.season.to_dict()  # backtest's baselines use the same season
    symbols = data.kind == "symbols"
    return runfolder.SavedEntry(
        outcome.name, outcome.spec, outcome.config,
        Encoding(outcome.encoding, data.vocabulary.size) if symbols else None,
        data.vocabulary if symbols else None, tuple(outcome.population.seeds), tuple(outcome.population.weights),
        outcome.population.loss, outcome.population.accuracy, details=details)
