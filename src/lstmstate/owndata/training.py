"""Training on the user's own data: one framing trained over many seeds at once on the fitting
part, watched on the validation part, scored once on the held-out part beside the classical
baselines (``owndata.baselines``), and saved as a run folder the other commands load.

Data flows one way: ``plan.Plan`` -> ``samples.frame`` -> ``core.engine`` (a ``Watch`` after each
compiled chunk: validation, checkpoints, event files) -> ``scoring`` of the held-out part ->
``results.Result`` -> results.json (``storage.runfolder``).
"""

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from lstmstate.core import loss, memoryless, policy
from lstmstate.core.engine import Trainer
from lstmstate.core.population import Population, Progress
from lstmstate.core.train_config import TrainConfig
from lstmstate.core.model import ModelSpec
from lstmstate.core.statistics import ACCURACY, RMSE
from lstmstate.output.tensorboard import EventLog
from lstmstate.owndata import baselines, dataset, differencing, results, samples, scoring, season, stationarity
from lstmstate.owndata.baselines import Baseline
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.owndata.plan import RESETS, Plan, check_plan, every_epochs
from lstmstate.owndata.results import Result
from lstmstate.owndata.split import Split
from lstmstate.owndata.validation import Validation
from lstmstate.storage import checkpoint, runfolder


@dataclass
class Watch:
    """What happens after each compiled chunk of training: the validation part scored (and
    patience), event files written, a checkpoint kept; ``latest`` is the last chunk's training on
    the host, what Ctrl-C keeps."""

    data: Symbols | Numbers
    plan: Plan
    validation: Validation
    validating: scoring.Part  # the validation part's scorer; never the held-out part, read once at the end
    folder: Path | None  # where checkpoints go (None: none are kept)
    events: EventLog | None  # TensorBoard event files
    latest: Progress | None = None

    def after_chunk(self, done: Progress) -> bool:
        """Watch ``done``; True stops training (patience ran out)."""
        self.latest = done
        plan, stop = self.plan, False
        if self.validation.due(done.epochs, plan.epochs):
            scores = self.validating(done.state.trainable).scores
            stop = self.validation.observe(done.epochs, scores, done.state.trainable)
            if self.events is not None:
                metrics = {"loss": scores.loss, self.validation.metric_name: scores.metric}
                if scores.perplexity is not None:
                    metrics["perplexity"] = scores.perplexity
                self.events.validation(done.epochs, metrics)
        if self.events is not None:
            self.events.epochs(done.loss, done.accuracy)
        if self.folder is not None and plan.checkpoint_every and done.epochs % plan.checkpoint_every == 0 \
                and done.epochs < plan.epochs and not stop:
            keep_checkpoint(self.folder, self.data, plan, done, self.validation)
        return stop

    def interrupted(self) -> runfolder.Interrupted:
        """What Ctrl-C leaves: a checkpoint of the last chunk where there is a folder to keep it."""
        done, plan = self.latest, self.plan
        if self.folder is None or done is None:
            return runfolder.Interrupted(f"interrupted: {plan.framing} had not finished, so nothing was written")
        keep_checkpoint(self.folder, self.data, plan, done, self.validation)
        return runfolder.Interrupted(f"interrupted after epoch {done.epochs} of {plan.epochs}: a checkpoint is in "
                                     f"{self.folder}; lstmstate train --resume {self.folder} goes on from there")


def train(data: Symbols | Numbers, plan: Plan, on_progress: Callable[[int, int], None] | None = None,
          known: tuple[Baseline, ...] | None = None, folder: Path | None = None,
          resumed: dict | None = None, tensorboard: Path | None = None) -> Result:
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
    split = check_plan(data, plan)
    # What the model reads: the series, or its changes (--differencing), with the same targets; it
    # trains on the fitting part, and every target after it is scored (validation, then held out).
    modelled, modelled_split = data, split.fitting()
    if plan.differencing:
        modelled, modelled_split = differencing.difference(data), differencing.split_of_changes(modelled_split)
    framed = samples.frame(modelled, modelled_split, plan.framing, plan.window, plan.batch_size, plan.requested_encoding,
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
        shuffle=not framed.carries_state,
        # Carried: the tutorial's stateful loop, streams reset when an epoch starts (--reset epoch), or never.
        policy=RESETS[plan.reset] if framed.carries_state else policy.RESET_EVERY_BATCH,
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
    watch = Watch(data, plan, validation, validating, folder, events, progress)
    try:
        population = trainer.train(seeds, on_progress=on_progress, every=chunk, after_chunk=watch.after_chunk,
                                   start=progress)
    except KeyboardInterrupt:
        raise watch.interrupted() from None
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
    return Result(data, plan, split, spec, config, framed.encoding, framed.scaling, population, scored.metric,
                   scored.values, tuple(found), ceiling, scored.perplexities,
                   time.perf_counter() - began, validation, chosen, advice)


# ---- checkpoints: keep and resume (storage.checkpoint holds the file) ------------------------

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
    arrays = {**checkpoint.progress_arrays(done), **validation.to_arrays()}
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
            flag = f"`{name}`"
            raise ValueError(f"`resume` {folder}: its checkpoint was trained with {flag} {was}, not {value}; "
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
        raise ValueError(f"`resume` {folder}: {read['path']} is not the data the checkpoint was trained on "
                         f"({', '.join(changed)} differ)")
    return data, plan, check_plan(data, plan), meta


def restored(folder: Path, meta: dict, trainer: Trainer, seeds: tuple[int, ...], validation: Validation,
             numbers: bool) -> Progress:
    """The checkpoint's training as a ``Progress``, every array checked against what this
    ``trainer`` makes for ``seeds``, and ``validation`` restored to where it was."""
    # The shapes and dtypes a run of these seeds starts with; zeros stand in for the weights, whose
    # seeded draws would be thrown away.
    zeros = [np.zeros((len(seeds), *v.shape), np.float32) for v in trainer.model.trainable_variables]
    initial = trainer.initial_state(seeds, weights=zeros)
    epochs, evaluations = int(meta["epochs"]), len(meta["validation"]["epochs"])
    expected = checkpoint.progress_expected(initial, epochs)
    expected.update(validation.expected_arrays(len(seeds), evaluations, [np.shape(w)[1:] for w in initial.trainable],
                                               symbols=not numbers))
    arrays = checkpoint.read_arrays(folder, expected)
    validation.restore(meta["validation"], arrays)
    return checkpoint.progress_of(arrays, initial, epochs)


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


def run(data: Symbols | Numbers, plan: Plan, folder: Path | None = None,
        on_progress: Callable[[int, int], None] | None = None, resumed: dict | None = None,
        tensorboard: Path | None = None) -> Result:
    """``train``, then save the outcome in ``folder`` (when given): its entry and results.json;
    the checkpoint, if one was kept, goes once the results are written."""
    try:
        outcome = train(data, plan, on_progress=on_progress, folder=folder, resumed=resumed, tensorboard=tensorboard)
    except KeyboardInterrupt:
        raise runfolder.Interrupted(f"interrupted: {plan.framing} had not finished, so nothing was written") from None
    if folder is not None:
        runfolder.write_entry(folder, results.saved_entry(outcome))
        runfolder.write_results(folder, results.payload([outcome]))
        checkpoint.remove(folder)
    return outcome
