"""The training plan: what the user asked for on their own data, each option's default and help
(the one source the command line's flags and the Python API's arguments are made from), and the
checks that every out-of-range choice fails before anything is framed, built or trained.

    lstmstate train --window 12 --units 64     ->  Plan(window=12, units=64)  (the rest: defaults)
    ls.fit(df, window=12, units=64)            ->  the same Plan
"""

import math
from collections.abc import Collection
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path

import numpy as np

from lstmstate.core import budget, framing, policy
from lstmstate.core.model import CELLS, ModelSpec
from lstmstate.owndata import dataset, differencing, samples, season
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.owndata.split import VALIDATION, Split, split as split_sequence

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
# The options `compare` does not take: it trains every framing itself, the carried framings with
# the tutorial's loop (bptt 1, reset each epoch), and keeps no checkpoint.
NOT_COMPARED = ("framing", "bptt", "reset", "checkpoint_every")


def option(default, help: str):
    """A plan field with its default and the help its ``--flag`` and API argument show."""
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Plan:
    """What the user asked for; everything else follows from the data."""

    framing: str = option("window-timesteps", f"how samples are cut: {', '.join(framing.FRAMINGS)}")
    window: int = option(3, "items per sample for window framings; the longest run for variable-length")
    units: int = option(32, "LSTM units")
    epochs: int = option(50, "passes over the training part")
    batch_size: int | None = option(None, "samples per batch; streams for stateful-streams (default: the framing's, "
                                    "stateful 1, stateful-streams 16, else 32)")
    seeds: int = option(10, "seeds trained at once; the scores are over all of them")
    holdout: float = option(0.2, "the last fraction of the sequence, held out: scored once, at the end")
    validation: float = option(VALIDATION, "the fraction just before the held-out part that early stopping, "
                               "--patience, the n-gram's order, AR's order and the season are chosen on")
    encoding: str = option("auto", "symbols: auto (one-hot up to 256 distinct symbols, an Embedding of 64 above), "
                           "one-hot, embedding, or scalar (the tutorial's id / vocabulary size)")
    season: int | None = option(None, "numbers: the baselines' season, in steps (default: the time column's "
                                "calendar, months 12, quarters 4, days 7, hours 24; else detected on the "
                                "validation part)")
    horizon: int = option(1, "numbers, window framings: train a direct model of the next H values (forecast then "
                          "reads them at once)")
    differencing: int = option(0, "numbers: 1 trains on changes (for series with a trend) and sums the predicted "
                               "changes back into levels")
    # How the model is built and trained, as practitioners' tools do (PyTorch's word_language_model):
    layers: int = option(1, "stacked recurrent layers, each carrying its own state")
    cell: str = option("lstm", f"the recurrent cell: {' or '.join(CELLS)}")
    bptt: int = option(1, "stateful framings: steps of each stream per gradient step, a target at every step "
                       "(truncated backpropagation through time; 1: the tutorial's loop)")
    reset: str = option("epoch", "stateful framings: restart the carried state at each epoch, or never")
    dropout: float = option(0.0, "fraction dropped between layers and before the head while training (0 to <1)")
    embedding: int = option(0, "symbols: feed ids through a Keras Embedding of this width (0: one-hot or scalar)")
    learning_rate: float = option(0.001, "Adam's learning rate")
    clip_norm: float | None = option(None, "clip the gradients' global norm to this (Adam's global_clipnorm)")
    validate_every: int | None = option(None, f"epochs between evaluations of the validation part (default: about "
                                        f"{EVALUATIONS} over the run)")
    patience: int | None = option(None, "keep each seed's best weights by validation loss; stop when no seed has "
                                  "improved for this many evaluations")
    checkpoint_every: int | None = option(None, "with --out: keep a checkpoint every E epochs (one is also kept on "
                                          "Ctrl-C)")

    def __post_init__(self):
        framing.get(self.framing)
        for name in ("units", "epochs", "seeds", "layers", "bptt"):
            if getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be at least 1, got {getattr(self, name)}")
        for name in ("validate_every", "patience", "checkpoint_every"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be at least 1, got {getattr(self, name)}")
        if self.cell not in CELLS:
            raise ValueError(f"unknown `cell` {self.cell!r}; choose one of {', '.join(CELLS)}")
        if self.reset not in RESETS:
            raise ValueError(f"unknown `reset` {self.reset!r}; choose one of {', '.join(RESETS)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"`dropout` must be at least 0 and below 1, got {self.dropout}")
        if self.embedding < 0:
            raise ValueError(f"`embedding` must be 0 (none) or a width of at least 1, got {self.embedding}")
        for name in ("learning_rate", "clip_norm"):
            value = getattr(self, name)
            if value is not None and not (value > 0 and math.isfinite(value)):
                raise ValueError(f"`{name}` must be above 0, got {value}")
        if self.window < 1:
            raise ValueError(f"`window` must be at least 1, got {self.window}")
        if self.batch_size is not None and self.batch_size < 1:
            raise ValueError(f"`batch_size` must be at least 1, got {self.batch_size}")
        if self.horizon < 1:
            raise ValueError(f"`horizon` must be at least 1, got {self.horizon}")
        if self.differencing not in (0, 1):
            raise ValueError(f"`differencing` must be 0 or 1, got {self.differencing}")
        if self.season is not None and self.season < 2:
            raise ValueError(f"`season` must be at least 2 (a season of 1 is persistence), got {self.season}")

    @property
    def requested_encoding(self) -> str:
        """The encoding asked for: an embedding feeds ids (``core.encoding``'s "embedding")."""
        return "embedding" if self.embedding else self.encoding


def options() -> dict[str, tuple[object, str, object]]:
    """``{field: (default, help, type)}`` of every option, in the plan's order: what the command
    line's flags and the API's keyword arguments are made from.

    >>> options()["learning_rate"][:2]
    (0.001, "Adam's learning rate")
    """
    return {f.name: (f.default, f.metadata["help"], f.type) for f in fields(Plan) if f.default is not MISSING}


def check_plan(data: Symbols | Numbers, plan: Plan) -> Split:
    """The split for ``plan``, with every out-of-range choice raised before anything is built."""
    levels = split_sequence(data.items, plan.holdout, validation=plan.validation)  # the framing's needs: next
    split = levels.fitting()  # what the model is framed on: the levels' fitting part, or their changes'
    chosen = framing.get(plan.framing)

    if data.kind != "numbers" and (plan.horizon > 1 or plan.differencing):
        raise ValueError("`horizon` and `differencing` are for numbers (a CSV), not for symbols")
    if plan.embedding and data.kind == "numbers":
        raise ValueError(f"`embedding` {plan.embedding} is for symbols (a text): it looks each symbol's id up in a "
                         "table; numbers are fed as they are (standardized)")
    if plan.embedding and plan.encoding not in ("auto", "embedding"):
        raise ValueError(f"`embedding` feeds symbol ids to an Embedding layer; it cannot be combined with "
                         f"`encoding` {plan.encoding}")
    if not chosen.carries_state and (plan.bptt > 1 or plan.reset != "epoch"):
        raise ValueError(f"`bptt` and `reset` are for the framings that carry state (stateful, stateful-streams); "
                         f"{plan.framing} starts every sample from zeros")
    if data.kind == "numbers":
        training_target = data.target_values[:levels.train_items]
        if np.ptp(training_target) == 0:
            raise ValueError(f"the target {data.target!r} is constant ({training_target[0]:g}) over the training part: "
                             "there is nothing to learn; choose another `target`")
        if plan.horizon > 1 and chosen.carries_state:
            raise ValueError(f"`horizon` {plan.horizon} trains a direct model of {plan.horizon} values, which needs a "
                             "window framing (one-step, window-features, window-timesteps, variable-length); "
                             f"{plan.framing} forecasts recursively (train with --horizon 1)")
        if plan.differencing:
            split = differencing.split_of_changes(split)  # the same targets, one row fewer
    chosen.check_window(plan.window, split.train_items)
    if plan.horizon > 1 and split.train_items - plan.window - plan.horizon + 1 < 1:
        raise ValueError(f"`horizon` {plan.horizon} with `window` {plan.window} leaves no training sample: the fitting "
                         f"part has {split.train_items} rows; the two can add up to at most {split.train_items}")
    if plan.season is not None:
        if data.kind != "numbers":
            raise ValueError("`season` is for numbers (a CSV): it sets the seasonal naive baseline's season")
        season.check(plan.season, levels.train_items)  # seasonal naive reads the levels
    train_samples = chosen.train_samples(plan.window, split.train_items)
    batch = chosen.batch_size(plan.batch_size, train_samples)
    if plan.bptt > train_samples // batch:
        raise ValueError(f"`bptt` {plan.bptt} is longer than a training stream: the training part makes {batch} "
                         f"stream(s) of {train_samples // batch} steps; give `bptt` 1..{train_samples // batch}")
    # The model's size from the plan alone, before anything is framed or built (core.budget).
    slots, steps = chosen.slots(plan.window), chosen.steps(plan.window)
    encoding = samples.choose_encoding(plan.requested_encoding, data)
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


def every_epochs(plan: Plan) -> tuple[int, int]:
    """``(epochs per compiled chunk, epochs between evaluations)``: chunks end at every evaluation
    and every checkpoint, and depend on the plan alone, so a resumed run calls the same programs."""
    validate = plan.validate_every or max(1, math.ceil(plan.epochs / EVALUATIONS))
    chunk = math.gcd(validate, plan.checkpoint_every) if plan.checkpoint_every else validate
    return min(chunk, plan.epochs), validate


def prepare(path: Path, tokens: str | None, columns: str | None, target: str | None,
            time_column: str | None = None, fill: str | None = None, chosen: Collection[str] | None = None,
            **plan) -> tuple[Symbols | Numbers, Plan, Split]:
    """The user's file read, the plan made and checked: every mistake is a ``ValueError`` now,
    before a folder is made or a seed trained. ``chosen`` names the options the user chose
    (a caller that passes every option, chosen or not): on a text, the others take
    ``TEXT_DEFAULTS``. None: every option given was chosen, and the Plan's defaults fill the rest."""
    data = dataset.read(path, tokens, columns, target, time_column, fill)
    defaults = {} if chosen is None else text_defaults(data, chosen, plan)
    plan = Plan(**{**plan, **defaults})
    return data, plan, check_plan(data, plan)


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
