"""Training on the user's own data: one framing trained over many seeds at once on the fitting
part, watched on the validation part, scored once on the held-out part beside the classical
baselines (``owndata.baselines``), judged against the strongest of them, and saved as a run folder
the other commands load.

Data flows one way: file -> ``dataset`` -> ``split`` -> ``framed.frame`` -> engine ->
``scoring`` of the validation part while training, of the held-out part at the end -> scores,
baselines, verdict -> results.json (``storage.runfolder``).
"""

import math
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from lstmstate.core import memoryless
from lstmstate.core import budget, loss, policy, statistics
from lstmstate.core.statistics import ACCURACY, PERPLEXITY, RMSE
from lstmstate.core.engine import Population, Progress, TrainConfig, Trainer, TrainState
from lstmstate.core.encoding import Encoding
from lstmstate.core.model import CELLS, ModelSpec
from lstmstate.output.tensorboard import EventLog
from lstmstate.owndata import baselines, dataset, differencing, scoring, season, stationarity
from lstmstate.owndata.baselines import Baseline
from lstmstate.owndata import samples
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.owndata.scaling import Scaling
from lstmstate.owndata.season import Season
from lstmstate.owndata.split import VALIDATION, Split, split as split_sequence
from lstmstate.owndata.validation import Validation
from lstmstate.storage import checkpoint, runfolder

# What a text (--tokens) is trained with where the user chose nothing: a character (or word)
# language model as practitioners train one, PyTorch's word_language_model's parallel streams and
# truncated BPTT over 35 steps, not the tutorial's window of 3 letters. Adam's rate is 0.005, not
# Keras's 0.001: a pass over the streams is few steps (32 x 35 characters each). Measured on the
# last 200,000 characters of pydoc_data/topics.py, 2 seeds (docs/measurements.md): 5 epochs of the
# tutorial's defaults (window-timesteps, window 3, 32 units) 68.48%; streams at Adam 0.001 61.90%,
# 0.003 66.01%, 0.01 70.89%; 15 epochs at 0.005 71.03% (perplexity 3.11), at 0.01 72.00% (3.23).
TEXT_DEFAULTS = {"framing": "stateful-streams", "bptt": 35, "units": 128, "batch_size": 32, "learning_rate": 0.005,
                 "epochs": 10}
STREAM_TEXT_ITEMS = 3 * 32 * 35  # a shorter fitting part keeps the Plan's framing: 32 streams of 3 chunks of 35 steps
RESETS = {"epoch": policy.CARRY_WITHIN_EPOCH, "never": policy.CARRY_ALWAYS}  # --reset: when a carried state restarts
EVALUATIONS = 20  # evaluations of the validation part over a run when --validate-every is not given

@dataclass(frozen=True)
class Plan:
    """What the user asked for; everything else follows from the data."""

    framing: str = "window-timesteps"  # one of samples.FRAMINGS
    window: int = 3  # items per sample for window framings; the longest run for variable-length
    units: int = 32  # LSTM units
    epochs: int = 50  # passes over the fitting part
    batch_size: int | None = None  # None: the framing's default (stateful 1, stateful-streams 16, else 32)
    seeds: int = 10  # seeds trained at once; the scores are over all of them
    holdout: float = 0.2  # the last fraction of the sequence, never trained on nor chosen on
    validation: float = VALIDATION  # the fraction before the held-out part that every choice is made on
    encoding: str = "auto"  # symbols: "one-hot", "scalar", "embedding", or "auto" (one-hot up to 256 symbols, else an embedding)
    season: int | None = None  # numbers: the baselines' season; None takes the calendar's or detects it
    horizon: int = 1  # numbers, window framings: values the head outputs at once (a direct H-step model)
    differencing: int = 0  # numbers: 1 trains on changes and integrates predictions back into levels
    # How the model is built and trained, as practitioners' tools do (PyTorch's word_language_model):
    layers: int = 1  # stacked recurrent layers, each carrying its own state
    cell: str = "lstm"  # "lstm" or "gru"
    bptt: int = 1  # carried framings: steps of each stream per gradient step (1: the tutorial's loop)
    reset: str = "epoch"  # carried framings: the state restarts at each epoch, or "never"
    dropout: float = 0.0  # between layers and before the head, while training
    embedding: int = 0  # symbols: D > 0 feeds ids through a Keras Embedding of width D
    learning_rate: float = 0.001  # Adam's
    clip_norm: float | None = None  # Adam's global_clipnorm
    validate_every: int | None = None  # epochs between evaluations of the validation part (None: about EVALUATIONS)
    patience: int | None = None  # stop when no seed's validation loss has improved for this many evaluations
    checkpoint_every: int | None = None  # with --out: epochs between checkpoints (one is also written on Ctrl-C)

    def __post_init__(self):
        samples.check_framing(self.framing)
        for name in ("units", "epochs", "seeds", "layers", "bptt"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        for name in ("validate_every", "patience", "checkpoint_every"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be at least 1, got {getattr(self, name)}")
        if self.cell not in CELLS:
            raise ValueError(f"unknown --cell {self.cell!r}; choose one of {', '.join(CELLS)}")
        if self.reset not in RESETS:
            raise ValueError(f"unknown --reset {self.reset!r}; choose one of {', '.join(RESETS)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"--dropout must be at least 0 and below 1, got {self.dropout}")
        if self.embedding < 0:
            raise ValueError(f"--embedding must be 0 (none) or a width of at least 1, got {self.embedding}")
        if not (self.learning_rate > 0 and math.isfinite(self.learning_rate)):
            raise ValueError(f"--learning-rate must be above 0, got {self.learning_rate}")
        if self.clip_norm is not None and not (self.clip_norm > 0 and math.isfinite(self.clip_norm)):
            raise ValueError(f"--clip-norm must be above 0, got {self.clip_norm}")
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


def check(data: Symbols | Numbers, plan: Plan) -> Split:
    """The split for ``plan``, with every out-of-range choice raised before anything is built."""
    levels = split_sequence(data.items, plan.holdout, validation=plan.validation)  # the framing's needs: next
    split = levels.fitting()  # what the model is framed on: the levels' fitting part, or their changes'

    if data.kind != "numbers" and (plan.horizon > 1 or plan.differencing):
        raise ValueError("--horizon and --differencing are for numbers (a CSV), not for symbols")
    if plan.embedding and data.kind == "numbers":
        raise ValueError(f"--embedding {plan.embedding} is for symbols (a text): it looks each symbol's id up in a "
                         "table; numbers are fed as they are (standardized)")
    if plan.embedding and plan.encoding not in ("auto", "embedding"):
        raise ValueError(f"--embedding feeds symbol ids to an Embedding layer; it cannot be combined with "
                         f"--encoding {plan.encoding}")
    if plan.framing not in samples.CARRIED and (plan.bptt > 1 or plan.reset != "epoch"):
        raise ValueError(f"--bptt and --reset are for the framings that carry state (stateful, stateful-streams); "
                         f"{plan.framing} starts every sample from zeros")
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
            split = differencing.split_of_changes(split)  # the same targets, one row fewer
    samples.check_window(plan.window, plan.framing, split)
    if plan.horizon > 1 and split.train_items - plan.window - plan.horizon + 1 < 1:
        raise ValueError(f"--horizon {plan.horizon} with --window {plan.window} leaves no training sample: the fitting "
                         f"part has {split.train_items} rows; the two can add up to at most {split.train_items}")
    if plan.season is not None:
        if data.kind != "numbers":
            raise ValueError("--season is for numbers (a CSV): it sets the seasonal naive baseline's season")
        season.check(plan.season, levels.train_items)  # seasonal naive reads the levels
    train_samples = samples.train_samples(plan.framing, plan.window, split)
    batch = samples.batch_size_for(plan.framing, plan.batch_size, train_samples)
    if plan.bptt > train_samples // batch:
        raise ValueError(f"--bptt {plan.bptt} is longer than a training stream: the training part makes {batch} "
                         f"stream(s) of {train_samples // batch} steps; give --bptt 1..{train_samples // batch}")
    # The model's size from the plan alone, before anything is framed or built (core.budget):
    # items per step and steps per sample as framed.frame makes them.
    slots = plan.window if plan.framing == "window-features" else 1
    steps = plan.window if plan.framing in ("window-timesteps", "variable-length") else 1
    encoding = samples.choose_encoding(_encoding(plan), data)
    width = len(data.columns) if data.kind == "numbers" else data.vocabulary.size if encoding == "one-hot" else 1
    outputs = plan.horizon if data.kind == "numbers" else data.vocabulary.size
    spec = ModelSpec(plan.cell, steps=steps, features=slots * width, outputs=outputs, units=plan.units,
                     layers=plan.layers, embedding=samples.embedding_width(plan.embedding, encoding),
                     dropout=plan.dropout)
    # One-hot and embedded symbols are held as one id per slot; the program makes the features.
    held = slots if encoding in samples.IN_PROGRAM else None
    budget.check_training(spec, plan.seeds, plan.epochs, -(-train_samples // batch), batch, bptt=plan.bptt,
                          held_features=held)
    return levels


def _encoding(plan: Plan) -> str:
    """The encoding asked for: an embedding feeds ids (``core.encoding``'s "embedding")."""
    return "embedding" if plan.embedding else plan.encoding


def every_epochs(plan: Plan) -> tuple[int, int]:
    """``(epochs per compiled chunk, epochs between evaluations)``: chunks end at every evaluation
    and every checkpoint, and depend on the plan alone, so a resumed run calls the same programs."""
    validate = plan.validate_every or max(1, math.ceil(plan.epochs / EVALUATIONS))
    chunk = math.gcd(validate, plan.checkpoint_every) if plan.checkpoint_every else validate
    return min(chunk, plan.epochs), validate


def train(data: Symbols | Numbers, plan: Plan, on_progress: Callable[[int, int], None] | None = None,
          known: tuple[Baseline, ...] | None = None, folder: Path | None = None,
          resumed: dict | None = None, tensorboard: Path | None = None) -> Outcome:
    """Train ``plan.seeds`` seeds on the fitting part and score them on the held-out part beside
    the baselines (``known``: already scored on every held-out target by ``held_out_baselines``,
    so ``compare`` fits them once for all framings).

    Every ``plan.validate_every`` epochs the validation part is scored (``owndata.validation``),
    and with ``plan.patience`` each seed keeps its best weights there; the held-out part is
    scored once, at the end;
    with ``folder``, a checkpoint is kept there every ``plan.checkpoint_every`` epochs and on
    Ctrl-C (``Interrupted`` says where), and ``resumed`` (its description, ``resume``) goes on from
    it; ``tensorboard`` is a folder for event files."""
    began = time.perf_counter()
    split = check(data, plan)
    # What the model reads: the series, or its changes (--differencing), with the same targets; it
    # trains on the fitting part, and every target after it is scored (validation, then held out).
    modelled, modelled_split = data, split.fitting()
    if plan.differencing:
        modelled, modelled_split = differencing.difference(data), differencing.split_of_changes(modelled_split)
    framed = samples.frame(modelled, modelled_split, plan.framing, plan.window, plan.batch_size, _encoding(plan),
                           plan.horizon)
    numbers = data.kind == "numbers"
    spec = ModelSpec(
        kind=plan.cell, steps=framed.steps, features=framed.features,
        outputs=plan.horizon if numbers else data.vocabulary.size, units=plan.units, mask_value=framed.mask_value,
        output_activation="linear" if numbers else "softmax", dropout=plan.dropout, layers=plan.layers,
        embedding=samples.embedding_width(plan.embedding, framed.encoding))
    config = TrainConfig(
        epochs=plan.epochs, batch_size=framed.batch_size,
        # Stateless samples are shuffled as fit does; a stream must stay in order to carry its state.
        shuffle=not framed.carried,
        # Carried: the tutorial's stateful loop, streams reset when an epoch starts (--reset epoch), or never.
        policy=RESETS[plan.reset] if framed.carried else policy.RESET_EVERY_BATCH,
        loss=loss.MEAN_SQUARED_ERROR if numbers else loss.CATEGORICAL_CROSSENTROPY,
        learning_rate=plan.learning_rate, bptt=plan.bptt, clip_norm=plan.clip_norm)
    validating = scoring.Part(data, split.fit_items, plan.differencing, spec,
                              samples.part(framed, 0, split.validation_items))
    held_out = scoring.Part(data, split.train_items, plan.differencing, spec,
                            samples.part(framed, split.validation_items, split.validation_items + split.held_out_items))
    trainer = Trainer(spec, config, framed.x_train, framed.y_train, encoding=framed.in_program)
    seeds = tuple(range(plan.seeds))
    chunk, validate = every_epochs(plan)
    validation = Validation(validate, plan.patience, RMSE if numbers else ACCURACY)
    progress = None
    if resumed is not None:
        progress = restored(folder, resumed, trainer, seeds, validation, numbers)
    events = EventLog(tensorboard, seeds, logged=progress.epochs if progress else 0) if tensorboard else None
    latest = [progress]  # the last chunk's training on the host: what Ctrl-C keeps

    def after_chunk(done: Progress) -> bool:
        latest[0] = done
        stop = False
        if validation.due(done.epochs, plan.epochs):
            scores = validating(done.state.trainable).scores  # never the held-out part: it is read once, below
            stop = validation.observe(done.epochs, scores, done.state.trainable)
            if events is not None:
                metrics = {"loss": scores.loss, validation.metric_name: scores.metric}
                if scores.perplexity is not None:
                    metrics["perplexity"] = scores.perplexity
                events.held_out(done.epochs, metrics)
        if events is not None:
            events.epochs(done.loss, done.accuracy)
        if folder is not None and plan.checkpoint_every and done.epochs % plan.checkpoint_every == 0 \
                and done.epochs < plan.epochs and not stop:
            keep_checkpoint(folder, data, plan, done, validation)
        return stop

    try:
        population = trainer.train(seeds, on_progress=on_progress, every=chunk, after_chunk=after_chunk,
                                   start=progress)
    except KeyboardInterrupt:
        done = latest[0]
        if folder is None or done is None:
            raise runfolder.Interrupted(f"interrupted: {plan.framing} had not finished, so nothing was written") from None
        keep_checkpoint(folder, data, plan, done, validation)
        raise runfolder.Interrupted(f"interrupted after epoch {done.epochs} of {plan.epochs}: a checkpoint is in "
                                    f"{folder}; lstmstate train --resume {folder} goes on from there") from None
    finally:
        if events is not None:
            events.close()
    del trainer  # its device copy of the training inputs is no longer needed
    if validation.best_weights is not None:  # patience: every seed keeps its best weights by validation loss
        population = Population(population.seeds, validation.best_weights, population.loss, population.accuracy)
    scored = held_out(population.weights)  # the held-out part, read once
    found = known if known is not None and scored.every else held_out_baselines(data, split, plan, scored.positions)
    # Of the data alone, not of the weights: once, not at every evaluation.
    ceiling = None if numbers else memoryless.memoryless_ceiling_held_out(data.ids, split.train_items)
    chosen = season.choose(data, split, plan.season) if numbers else None
    advice = stationarity.advice(data.target_values, split) if numbers and not plan.differencing else None
    return Outcome(data, plan, split, spec, config, framed.encoding, framed.scaling, population, scored.metric,
                   scored.values, tuple(found), ceiling, scored.perplexities,
                   time.perf_counter() - began, validation, chosen, advice)


# ---- checkpoints: keep and resume (storage.checkpoint holds the file) ------------------------

STATE_PARTS = ("trainable", "non_trainable", "optimizer", "lstm_state")


def configuration(data: Symbols | Numbers, plan: Plan) -> dict:
    """What a checkpoint must match to be resumed: the plan, and the data as it was read."""
    read = {"path": str(Path(data.source).resolve())}
    if data.kind == "numbers":
        read.update(columns=",".join(data.columns), target=data.target, time_column=data.time_column, fill=data.fill,
                    sha256=data.checksum)
    else:
        read.update(tokens=data.tokens, items=data.items, vocabulary_size=data.vocabulary.size)
    return {"plan": asdict(plan), "data": read}


def keep_checkpoint(folder: Path, data: Symbols | Numbers, plan: Plan, done: Progress, validation: Validation) -> None:
    """Write ``done`` (and the validation so far) as ``folder``'s checkpoint, atomically."""
    arrays = {f"{part}{i}": np.asarray(value) for part in STATE_PARTS for i, value in enumerate(getattr(done.state, part))}
    arrays.update(key=np.asarray(done.state.key), loss=np.asarray(done.loss, np.float32),
                  accuracy=np.asarray(done.accuracy, np.float32), **validation.to_arrays())
    meta = {"configuration": configuration(data, plan), "epochs": done.epochs, "validation": validation.to_meta()}
    checkpoint.write(folder, meta, arrays)


def resume(folder: Path, given: dict) -> tuple[Symbols | Numbers, Plan, Split, dict]:
    """The data, plan and split of the checkpoint in ``folder``, and its description for ``train``.

    ``given`` holds the options the command line set (plan fields and how the data is read): each
    must be what the checkpoint was trained with; the others are taken from it."""
    meta = checkpoint.read_meta(folder)
    saved = meta.get("configuration") or {}
    plan_saved, read = saved.get("plan", {}), saved.get("data", {})
    names = {f.name for f in fields(Plan)}
    for name, value in given.items():
        was = plan_saved.get(name) if name in names else read.get(name)
        if name == "data":
            was, value = read.get("path"), str(Path(value).resolve())
        if value != was:
            flag = f"--{name.replace('_', '-')}"
            raise ValueError(f"--resume {folder}: its checkpoint was trained with {flag} {was}, not {value}; "
                             f"leave {flag} out to go on as it was, or train again in another folder")
    try:
        plan = Plan(**plan_saved)
    except TypeError:
        raise ValueError(f"{checkpoint.path(folder)} does not describe a run of this version (its plan has "
                         f"{sorted(plan_saved)})") from None
    data = dataset.read(Path(read["path"]), read.get("tokens"), read.get("columns"), read.get("target"),
                        read.get("time_column"), read.get("fill"))
    now = configuration(data, plan)["data"]
    if now != read:
        changed = sorted(key for key in read if now.get(key) != read.get(key))
        raise ValueError(f"--resume {folder}: {read['path']} is not the data the checkpoint was trained on "
                         f"({', '.join(changed)} differ)")
    return data, plan, check(data, plan), meta


def restored(folder: Path, meta: dict, trainer: Trainer, seeds: tuple[int, ...], validation: Validation,
             numbers: bool) -> Progress:
    """The checkpoint's training as a ``Progress``, every array checked against what this
    ``trainer`` makes for ``seeds``, and ``validation`` restored to where it was."""
    # The shapes and dtypes a run of these seeds starts with; zeros stand in for the weights, whose
    # seeded draws would be thrown away.
    zeros = [np.zeros((len(seeds), *v.shape), np.float32) for v in trainer.model.trainable_variables]
    initial = trainer.initial_state(seeds, weights=zeros)
    epochs, evaluations = int(meta["epochs"]), len(meta["validation"]["epochs"])
    expected = {f"{part}{i}": (np.shape(value), np.asarray(value).dtype)
                for part in STATE_PARTS for i, value in enumerate(getattr(initial, part))}
    expected.update(key=(initial.key.shape, initial.key.dtype), loss=((len(seeds), epochs), np.float32),
                    accuracy=((len(seeds), epochs), np.float32))
    expected.update(validation.expected_arrays(len(seeds), evaluations, [np.shape(w)[1:] for w in initial.trainable],
                                               symbols=not numbers))
    arrays = checkpoint.read_arrays(folder, expected)
    validation.restore(meta["validation"], arrays)
    state = TrainState(*([arrays[f"{part}{i}"] for i in range(len(getattr(initial, part)))] for part in STATE_PARTS[:3]),
                       tuple(arrays[f"lstm_state{i}"] for i in range(len(initial.lstm_state))), arrays["key"])
    return Progress(epochs, state, arrays["loss"], arrays["accuracy"])


def held_out_baselines(data: Symbols | Numbers, split: Split, plan: Plan,
                       positions: np.ndarray | None = None) -> tuple[Baseline, ...]:
    """Every baseline fitted on the training part and scored on the held-out targets at
    ``positions`` (all of them when None)."""
    if positions is None:
        positions = np.arange(split.train_items, data.items)
    if data.kind == "numbers":
        return tuple(baselines.for_numbers(data.target_values, split, positions,
                                           season.choose(data, split, plan.season)))
    return tuple(baselines.for_symbols(data.ids, split, data.vocabulary.size, positions))


def against_baseline(outcome: Outcome) -> str:
    """One sentence: the LSTM against the strongest baseline on its metric."""
    return baselines.judge(outcome.scores, outcome.baseline)


def against_perplexity(outcome: Outcome) -> str | None:
    """Symbols: one sentence, the LSTM's perplexity against the smoothed n-gram's; None for numbers."""
    if outcome.perplexities is None:
        return None
    strongest = baselines.strongest(list(outcome.baselines), PERPLEXITY)
    return baselines.judge(outcome.perplexities, strongest)


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


def choices(outcome: Outcome) -> dict:
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
        "chosen_on_validation": choices(best),
        **({"memoryless_ceiling": best.ceiling} if best.ceiling is not None else {}),
        **({"advice": best.advice} if best.advice is not None else {}),
        "experiments": {o.name: entry(o) for o in outcomes},
    }


def saved_entry(outcome: Outcome) -> runfolder.SavedEntry:
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


def prepare(path: Path, tokens: str | None, columns: str | None, target: str | None,
            time_column: str | None = None, fill: str | None = None, chosen: Collection[str] | None = None,
            **plan) -> tuple[Symbols | Numbers, Plan, Split]:
    """The user's file read, the plan made and checked: every mistake is a ``ValueError`` now,
    before a folder is made or a seed trained. ``chosen`` names the options the user chose
    (the command line passes every option, chosen or not): on a text, the others take
    ``TEXT_DEFAULTS``. None: every option given was chosen, and the Plan's defaults fill the rest."""
    data = dataset.read(path, tokens, columns, target, time_column, fill)
    defaults = {} if chosen is None else text_defaults(data, chosen, plan)
    plan = Plan(**{**plan, **defaults})
    return data, plan, check(data, plan)


def text_defaults(data: Symbols | Numbers, chosen: Collection[str], plan: dict) -> dict:
    """The options a text is trained with where the user chose none (``TEXT_DEFAULTS``), as one
    recipe: only where neither ``framing`` nor ``window`` was chosen (a framing chosen keeps the
    Plan's defaults for the rest, as before) and the fitting part holds ``STREAM_TEXT_ITEMS``;
    nothing for numbers.

    >>> text = dataset.Symbols("t.txt", "char", None, np.zeros(10_000, np.int32))
    >>> sorted(text_defaults(text, {"epochs"}, {}))
    ['batch_size', 'bptt', 'framing', 'learning_rate', 'units']
    >>> text_defaults(text, {"window"}, {"window": 5}), text_defaults(text, {"framing"}, {"framing": "stateful"})
    ({}, {})
    """
    held = plan.get("holdout", Plan.holdout) + plan.get("validation", Plan.validation)
    if data.kind != "symbols" or {"framing", "window"} & set(chosen) or data.items * (1 - held) < STREAM_TEXT_ITEMS:
        return {}
    return {name: value for name, value in TEXT_DEFAULTS.items() if name not in chosen}


def run(data: Symbols | Numbers, plan: Plan, folder: Path | None = None,
        on_progress: Callable[[int, int], None] | None = None, resumed: dict | None = None,
        tensorboard: Path | None = None) -> Outcome:
    """``train``, then save the outcome in ``folder`` (when given): its entry and results.json;
    the checkpoint, if one was kept, goes once the results are written."""
    try:
        outcome = train(data, plan, on_progress=on_progress, folder=folder, resumed=resumed, tensorboard=tensorboard)
    except KeyboardInterrupt:
        raise runfolder.Interrupted(f"interrupted: {plan.framing} had not finished, so nothing was written") from None
    if folder is not None:
        runfolder.write_entry(folder, saved_entry(outcome))
        runfolder.write_results(folder, payload([outcome]))
        checkpoint.remove(folder)
    return outcome
