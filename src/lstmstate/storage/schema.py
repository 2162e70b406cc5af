"""The schema of a run folder's JSON files: what each field of ``setup.json`` and
``results.json`` may hold (types, ranges, sizes, names), checked before any of it is used.

A run folder is data, never instructions. Every name that becomes a path matches ``NAME``;
numbers are finite (``files.read_json`` refuses NaN and infinity), integers are integers (not
``true``, not ``2.0``), counts fit the engine's 32-bit integers, vocabularies are strings, and
activations, encodings, policies and losses come from the small sets lstmstate builds.

The models are pydantic in strict mode: ``"01"`` is not a seed and ``true`` is not a version.
``results.json`` blocks check the fields lstmstate reads and keep any others as they are (own-data
runs add blocks of their own); ``setup.json``'s ``model`` and ``train`` blocks are exactly the
fields of ``ModelSpec`` and ``TrainConfig``.
"""

import reprlib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from lstmstate.core import loss as losses
from lstmstate.core import policy as policies
from lstmstate.core.budget import INT32_MAX, MAX_SEEDS
from lstmstate.core.encoding import ENCODINGS
from lstmstate.core.model import MODEL_KINDS, UNROLL_STEPS  # an unrolled loop compiles every step apart

# A name that becomes a folder or a file name: letters, digits, "-" and "_", no dots or slashes,
# so it can neither climb out of the run folder ("../") nor hide (".name").
NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
NUMBERS_ENCODING = "standardized"  # the encoding name of a model of numbers (scaled columns)
ACTIVATIONS = ("softmax", "linear")  # the heads core.model builds: next-symbol classes, next values
VERDICTS = ("supported", "refuted", "inconclusive")
MAX_EXPERIMENTS = 64  # the registry has 12, a comparison 6; every experiment is a figure panel
MAX_ITEMS = 100_000  # transcripts, predictions, curve points: lstmstate writes at most a few hundred
MAX_SYMBOLS = 10_000_000  # vocabulary and training stream
MAX_TEXT = 100_000  # characters of one string
FLOAT32_MAX = 3.4028234663852886e38  # a value the model compares with its float32 inputs stays finite there

Name = Annotated[str, StringConstraints(pattern=NAME)]
Count = Annotated[int, Field(ge=1, le=INT32_MAX)]  # units, steps, epochs, batch size
Size = Annotated[int, Field(ge=0, le=INT32_MAX)]
Seed = Annotated[int, Field(ge=0, le=INT32_MAX)]  # what jax.random.PRNGKey and numpy's SeedSequence take
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
Symbol = Annotated[str, Field(max_length=10_000)]
Pair = Annotated[list[float | None], Field(min_length=2, max_length=2)]
Items = Field(max_length=MAX_ITEMS)


class _Exact(BaseModel):
    """A block whose every field lstmstate reads: nothing else is allowed."""

    model_config = ConfigDict(strict=True, extra="forbid", allow_inf_nan=False, frozen=True)


class _Open(BaseModel):
    """A block whose known fields are checked; others are kept as they are, never read."""

    model_config = ConfigDict(strict=True, extra="allow", allow_inf_nan=False, frozen=True)


class DataBlock(_Open):
    """Own data: what was read (``owndata.results.data_block``)."""

    file: Text
    kind: Literal["symbols", "numbers"]
    items: Size
    train_items: Size = None
    held_out_items: Size = None
    holdout: Annotated[float, Field(gt=0.0, lt=1.0)] = None
    tokens: Text = None
    vocabulary_size: Size = None
    columns: Annotated[list[Text], Field(max_length=10_000)] = None
    target: Text = None
    time_column: Text | None = None
    fill: Text | None = None
    filled: Size = None
    sha256: Text = None  # numbers: the values' checksum, so a forecast reads the same series


class SeasonBlock(_Open):  # numbers: ``owndata.season.Season.to_dict``; backtest and cells read its length
    length: Annotated[int, Field(ge=2, le=INT32_MAX)] | None


class ScalingBlock(_Exact):
    """Numbers: ``owndata.scaling.Scaling`` as ``to_dict`` writes it; forecasts are turned back by it."""

    columns: Annotated[list[Text], Field(min_length=1, max_length=10_000)]
    mean: Annotated[list[float], Field(max_length=10_000)]
    scale: Annotated[list[Annotated[float, Field(gt=0.0)]], Field(max_length=10_000)]

    @model_validator(mode="after")
    def _per_column(self) -> "ScalingBlock":
        if not len(self.columns) == len(self.mean) == len(self.scale):
            raise ValueError("scaling: one mean and one scale per column")
        return self


class PlanBlock(_Open):
    """Own data: what the user asked for (``owndata.Plan``); forecasts read these."""

    window: Count = None
    horizon: Count = None
    differencing: Annotated[int, Field(ge=0, le=1)] = None


# ---- setup.json -------------------------------------------------------------------------------

class ModelBlock(_Exact):
    """``core.model.ModelSpec`` as ``to_dict`` writes it."""

    kind: Literal[MODEL_KINDS]
    steps: Count
    features: Count
    outputs: Count
    units: Count
    mask_value: Annotated[float, Field(ge=-FLOAT32_MAX, le=FLOAT32_MAX)] | None  # compared with float32 inputs
    output_activation: Literal[ACTIVATIONS]
    unroll: bool
    dropout: Annotated[float, Field(ge=0.0, lt=1.0)]
    layers: Annotated[int, Field(ge=1, le=1_000)] = 1  # written since stacked layers (absent before: one)
    embedding: Annotated[int, Field(ge=0, le=INT32_MAX)] = 0


class TrainBlock(_Exact):
    """``core.train_config.TrainConfig`` as ``to_dict`` writes it."""

    epochs: Count
    batch_size: Count
    shuffle: bool
    policy: Literal[tuple(policies.POLICIES)]
    loss: Literal[tuple(losses.LOSSES)]
    learning_rate: Annotated[float, Field(gt=0.0, le=1e6)]
    bptt: Count = 1  # written since truncated BPTT (absent before: one batch per step)
    clip_norm: Annotated[float, Field(gt=0.0, le=FLOAT32_MAX)] | None = None


class Setup(_Open):
    """``NAME/setup.json``: one saved experiment or framing (``runfolder.write_entry``)."""

    format_version: int
    experiment: Name
    model: ModelBlock
    train: TrainBlock
    encoding: Literal[(*ENCODINGS, NUMBERS_ENCODING)]
    vocabulary: Annotated[list[Symbol], Field(max_length=MAX_SYMBOLS)]
    seeds: Annotated[list[Seed], Field(min_length=1, max_length=MAX_SEEDS)]
    stream: Annotated[list[Symbol], Field(min_length=1, max_length=MAX_SYMBOLS)] = None
    plan: PlanBlock = None  # own data: what was asked, what was read, how numbers were scaled
    data: DataBlock = None
    scaling: ScalingBlock = None
    season: SeasonBlock = None
    notes: Annotated[list[Text], Items] = None

    @model_validator(mode="after")
    def _consistent(self) -> "Setup":
        model, symbols = self.model, self.vocabulary
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds: a seed is listed twice")
        if len(set(symbols)) != len(symbols):
            raise ValueError("vocabulary: a symbol is listed twice")
        if model.unroll and model.steps > UNROLL_STEPS:
            raise ValueError(f"model: an unrolled loop is for short samples (at most {UNROLL_STEPS} steps), "
                             f"not {model.steps}: unrolled, every step is compiled apart")
        if policies.get(self.train.policy).carries_state and (model.kind == "dense" or model.steps != 1):
            raise ValueError("model: a model that carries its state between samples is recurrent (an LSTM or a GRU) "
                             "of one step per sample")
        if (model.embedding > 0) != (self.encoding == "embedding"):
            raise ValueError("model: an embedding layer and the embedding encoding go together")
        if self.encoding == NUMBERS_ENCODING:
            if symbols or model.output_activation != "linear" or model.kind == "dense" or self.stream is not None:
                raise ValueError("a model of numbers (encoding 'standardized') has an empty vocabulary, no stream, "
                                 "and a recurrent model with a linear head")
            if self.scaling is None or self.data is None or self.data.columns is None or self.data.target is None:
                raise ValueError("a model of numbers keeps its scaling and the columns and target it read "
                                 "(scaling, data.columns, data.target)")
            return self
        if not symbols:
            raise ValueError(f"vocabulary: the {self.encoding} encoding needs at least one symbol")
        if model.output_activation != "softmax":
            raise ValueError(f"model: a model of symbols has a softmax head, not {model.output_activation!r}")
        if model.outputs != len(symbols):
            raise ValueError(f"the model predicts {model.outputs} classes but the vocabulary has {len(symbols)} symbols")
        per_symbol = len(symbols) if self.encoding == "one-hot" else 1
        if model.features % per_symbol != 0:
            raise ValueError(f"model: {model.features} features per step do not fit the {self.encoding} encoding "
                             f"of {len(symbols)} symbols")
        if self.stream is not None and not set(self.stream) <= set(symbols):
            raise ValueError("stream: it holds a symbol the vocabulary does not")
        return self


# ---- results.json -----------------------------------------------------------------------------

class AccuracyBlock(_Open):
    mean: Share | None  # None when every seed diverged
    ci95: Pair
    per_seed: Annotated[list[Share], Field(max_length=MAX_SEEDS)]

    @model_validator(mode="after")
    def _interval(self) -> "AccuracyBlock":
        low, high = self.ci95
        if self.mean is not None and (low is None or high is None or not 0 <= low <= high <= 1):
            raise ValueError("ci95: an interval is two shares, low <= high")
        return self


class Curve(_Open):
    epoch: Annotated[list[Size], Field(min_length=1, max_length=MAX_ITEMS)]
    mean: Annotated[list[float | None], Items]
    low: Annotated[list[float | None], Items]
    high: Annotated[list[float | None], Items]

    @model_validator(mode="after")
    def _aligned(self) -> "Curve":
        if not len(self.epoch) == len(self.mean) == len(self.low) == len(self.high):
            raise ValueError("a curve has one mean, low and high per epoch")
        return self


class Curves(_Open):
    loss: Curve = None
    accuracy: Curve = None


class Validation(_Open):
    """Own data: the held-out curves while training (``owndata.validation.Validation.block``)."""

    every: Count
    epochs: Annotated[list[Count], Field(max_length=100_000)]
    patience: Count | None = None
    epochs_trained: Count
    stopped_early: bool
    per_seed: dict[Text, Annotated[list[Annotated[list[float | None], Field(max_length=100_000)]], Field(max_length=MAX_SEEDS)]]
    best_epoch: Annotated[list[Count], Field(max_length=MAX_SEEDS)] = None

    @model_validator(mode="after")
    def _one_point_per_epoch(self) -> "Validation":
        for name, rows in self.per_seed.items():
            if any(len(row) != len(self.epochs) for row in rows):
                raise ValueError(f"validation: {name} needs one value per evaluation ({len(self.epochs)})")
        return self


class Diverged(_Open):
    count: Size
    seeds: Annotated[list[Seed], Field(max_length=MAX_SEEDS)]


class PerSeed(_Open):
    per_seed: Annotated[list[float | None], Field(max_length=MAX_SEEDS)]


# A transcript is drawn as a row of tiles, one per step: past 1,000 the figure is wider than
# matplotlib draws (2^16 pixels).
Transcript = Annotated[list[Annotated[list[Symbol], Field(min_length=2, max_length=2)]], Field(min_length=1, max_length=1_000)]


class MedianTranscripts(_Open):
    from_A: Transcript  # noqa: N815 (the key results.json has always had)
    cold: Transcript
    primed: Transcript


class Generation(_Open):
    cold_start: Symbol
    prime: Annotated[str, Field(min_length=1, max_length=100)]
    cold_predictions: Annotated[dict[Symbol, Size], Field(max_length=1_000)]  # one bar each
    primed_predictions: Annotated[dict[Symbol, Size], Field(max_length=1_000)]
    cold_expected_share: Share
    primed_expected_share: Share
    median_seed: MedianTranscripts


class Holdout(_Open):
    """Own data: a framing's score on the held-out part (``owndata.training``)."""

    metric: Text
    mean: float | None = None  # null where the score was not finite (files.write_json notes it)
    ci95: Pair = None
    per_seed: Annotated[list[float | None], Field(max_length=MAX_SEEDS)]


class BaselineParameters(_Open):
    chosen_by: Text = None  # how a parameter (an n-gram's order, AR's p) was chosen
    season_from: Text = None


class BaselineBlock(_Open):
    """Own data: one classical model scored on the held-out part (``owndata.baselines``)."""

    name: Text
    metric: Text = None
    score: float | None  # null where it was not finite
    description: Text = None
    parameters: BaselineParameters = None


class Recommendation(_Open):
    framing: Name = None
    text: Text = None


class Entry(_Open):
    """One experiment (or framing) of results.json."""

    section: Text = None
    shows: Text = None
    published_accuracy: Share | None = None
    epochs: Count = None
    units: Count = None
    batch_size: Count = None
    shuffle: bool = None
    policy: Literal[tuple(policies.POLICIES)] = None
    model: Literal[MODEL_KINDS] = None
    samples: Size = None
    seeds: Annotated[list[Seed], Field(max_length=MAX_SEEDS)] = None
    seconds: Annotated[float, Field(ge=0.0)] = None
    accuracy: AccuracyBlock = None
    perfect_share: Share | None = None
    loss: PerSeed = None
    diverged: Diverged = None
    median_seed: Seed = None
    memoryless_ceiling: Share | None = None
    curves: Curves = None
    transcript: Annotated[list[Text], Items] = None
    generation: Generation | None = None
    # own data (train/compare): the blocks a report reads are objects and texts of the kinds written
    holdout: Holdout = None
    baseline: BaselineBlock = None
    baselines: Annotated[list[BaselineBlock], Field(max_length=1000)] = None
    against_baseline: Text = None
    against_perplexity: Text = None
    validation: Validation = None
    layers: Count = None
    bptt: Count = None

    @model_validator(mode="after")
    def _median_among_seeds(self) -> "Entry":
        if self.median_seed is not None and self.seeds is not None and self.median_seed not in self.seeds:
            raise ValueError(f"median_seed {self.median_seed} is not one of the entry's seeds")
        return self


class Verdict(_Open):
    claim: Text
    tutorial_says: Text
    measured: Text
    verdict: Literal[VERDICTS]
    evidence: Text
    rule: Text = None  # what was compared, the threshold and why (runs saved before it have none)


class Machine(_Open):
    platform: Text = None
    processor: Text = None
    cpus: Annotated[int, Field(ge=1, le=1 << 20)] | None = None


class CellBlock(_Exact):
    """One feature's best unit for one seed (``trained.cells.Cell``); ``excerpt`` only for the seed shown."""

    feature: Text
    seed: Seed
    kind: Literal["h", "c"]
    unit: Size
    correlation: Annotated[float, Field(ge=-1.0, le=1.0)]
    low: Annotated[float, Field(ge=-1.0, le=1.0)]
    high: Annotated[float, Field(ge=-1.0, le=1.0)]
    untrained: Share
    symbol_alone: Share
    excerpt: Annotated[list[Annotated[float, Field(ge=-FLOAT32_MAX, le=FLOAT32_MAX)]], Items]


class CellsBlock(_Exact):
    """``lstmstate cells`` kept for the report (``trained.cells.Cells.payload``)."""

    text: Text  # the first symbols measured, those the excerpts cover (a series: its values, space-separated)
    measured: Size
    source: Text
    block: Count
    units: Count
    constant: Annotated[list[Text], Field(max_length=1000)]
    cells: Annotated[list[CellBlock], Field(max_length=100_000)]


class Results(_Open):
    """``results.json``: the header (``runfolder.header``), every experiment, and the tutorial's
    verdicts or the own-data blocks."""

    format_version: int
    lstmstate_version: Text = None
    created: Text = None
    versions: Annotated[dict[Name, Text], Field(max_length=100)] = None
    machine: Machine = None
    seeds: Annotated[list[Seed], Field(max_length=MAX_SEEDS)] = None
    experiments: Annotated[dict[Name, Entry], Field(max_length=MAX_EXPERIMENTS)]
    verdicts: Annotated[list[Verdict], Field(max_length=1000)] = None
    notes: Annotated[list[Text], Items] = None
    # own data (train/compare): see owndata.results.payload and owndata.comparison.payload
    data: DataBlock = None
    framing: Name = None
    holdout: Holdout = None
    baseline: BaselineBlock = None  # the strongest of ``baselines``
    baselines: Annotated[list[BaselineBlock], Field(max_length=1000)] = None
    against_baseline: Text = None
    recommendation: Recommendation = None
    ranking: Annotated[list[Name], Field(max_length=MAX_EXPERIMENTS)] = None
    backtest: Annotated[dict[Name, dict[str, Any]], Field(max_length=MAX_EXPERIMENTS)] = None  # numbers: per framing
    cells: Annotated[dict[Name, CellsBlock], Field(max_length=MAX_EXPERIMENTS)] = None  # per experiment
    memoryless_ceiling: Share | None = None

    @model_validator(mode="after")
    def _own_data_is_scored(self) -> "Results":
        # A run of the user's own data is read by its held-out scores: the run's and each framing's.
        if self.data is not None and (self.holdout is None or any(e.holdout is None for e in self.experiments.values())):
            raise ValueError("a run of your own data has a holdout block, and so has each of its framings")
        return self


def check(schema: type[BaseModel], payload: dict, path) -> BaseModel:
    """``payload`` (read from ``path``) validated by ``schema``; the first problem is a one-line
    ``ValueError`` saying where it is, what it was, and what is accepted."""
    try:
        return schema.model_validate(payload)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        loc = [str(part) for part in first["loc"]]
        if loc[-1:] == ["[key]"]:  # a name (a dict key): the name itself is shown as what was got
            loc = loc[:-2]
        if first["type"] == "string_pattern_mismatch":
            message = "names are letters, digits, '-' and '_' (at most 64, starting with a letter or digit)"
        else:
            message = " ".join(str(first["msg"]).removeprefix("Value error, ").split())
        more = error.error_count() - 1
        extra = f" ({more} more problem{'s' if more > 1 else ''})" if more else ""
        got = "" if first["type"] in ("value_error", "missing") else f", got {short(first.get('input'))}"
        where = f"{'.'.join(loc)}: " if loc else ""
        raise ValueError(f"{path} is damaged: {where}{message}{got}{extra}") from None


_REPR = reprlib.Repr()  # short: an offending value is shown, not printed whole
_REPR.maxstring, _REPR.maxother, _REPR.maxlist, _REPR.maxdict, _REPR.maxlevel = 40, 40, 4, 4, 2


def short(value) -> str:
    """``value`` as an error message shows it: cut to about 40 characters (a forged file may hold anything)."""
    try:
        return _REPR.repr(value)
    except ValueError:  # an integer of more digits than Python prints
        return "an integer too large to print"
