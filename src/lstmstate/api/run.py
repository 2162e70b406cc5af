"""A run: one framing trained on the user's data over many seeds, scored on the held-out part
beside the classical baselines, as the Python API gives it (``fit``) and gets it back
(``lstmstate.load``).

Everything a run shows is read from its results.json payload, the one the command line writes
and prints from, so a run just fitted and the same run loaded from its folder give the same
tables; the model's weights (``trained.saved.SavedExperiment``) are held in memory, so a
forecast needs no folder::

    fit(data, **plan) -> training.run -> Result -> payload (results.json) + SavedExperiment -> Run
    load(folder)      -> results.json + NAME/ ---------------------------------------------> Run
"""

from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np
import pandas as pd

from lstmstate.api import display, inputs
from lstmstate.api.arguments import READING, api_errors, columns_text, plan_fields, plan_options
from lstmstate.api.progress import shown
from lstmstate.core.statistics import ACCURACY
from lstmstate.output.formatting import score as formatted
from lstmstate.owndata import forecast as forecasting
from lstmstate.core.vocabulary import joined
from lstmstate.owndata import results, training
from lstmstate.owndata.plan import Plan, check_plan, text_defaults
from lstmstate.owndata.split import Split
from lstmstate.storage import runfolder
from lstmstate.storage.runfolder import SavedEntry
from lstmstate.owndata import cells as found_cells
from lstmstate.trained.sampling import Sampling
from lstmstate.trained.saved import SavedExperiment

PLOTS = ("scores", "curves", "forecast")  # what Run.plot draws
# A baseline's parameters that say how it was chosen: its order, season or model.
HOW_CHOSEN = ("chosen_by", "selected_by", "season_from")


@dataclass(frozen=True, repr=False, eq=False)  # eq: weights are arrays, not compared by value
class Run:
    """One framing of the user's data over many seeds: scores, baselines, verdict, forecasts."""

    framing: str  # the framing trained, one of owndata.samples.FRAMINGS
    payload: dict  # results.json of the run (or of the comparison it belongs to)
    saved: SavedExperiment  # the model and every seed's weights, in memory
    folder: Path | None = None  # the run folder it is saved in, if any
    outcome: results.Result | None = None  # the training itself, when fitted in this process
    given: inputs.Given | None = None  # the data as given, kept to be saved with the run

    @classmethod
    def of(cls, outcome: results.Result, given: inputs.Given | None, folder: Path | None = None,
           payload: dict | None = None) -> "Run":
        """The run of a finished ``outcome`` (``payload``: results.json it belongs to; default its own)."""
        entry = results.saved_entry(outcome)
        saved = SavedExperiment(**{f.name: getattr(entry, f.name) for f in fields(SavedEntry)}, folder=None,
                                median_index=outcome.median_index)
        return cls(outcome.name, payload or results.payload([outcome]), saved, folder, outcome, given)

    @property
    def entry(self) -> dict:
        """This framing's results.json entry."""
        return self.payload["experiments"][self.framing]

    @property
    def metric(self) -> str:
        """``"accuracy"`` (symbols, higher is better) or ``"rmse"`` (numbers, in the target's units)."""
        return self.entry["holdout"]["metric"]

    @property
    def scores(self) -> pd.DataFrame:
        """One row per seed: ``seed``, ``score`` (held-out ``metric``; NaN for a diverged seed) and,
        for symbols, ``perplexity``. Shape ``(seed, 2 or 3)``."""
        entry = self.entry
        frame = pd.DataFrame({"seed": entry["seeds"], "score": _floats(entry["holdout"]["per_seed"])})
        if "perplexity" in entry:
            frame["perplexity"] = _floats(entry["perplexity"]["per_seed"])
        frame.attrs["metric"] = self.metric
        return frame

    @property
    def baselines(self) -> pd.DataFrame:
        """Every classical baseline on the same held-out targets: ``name``, ``metric``, ``score``,
        ``parameters`` (a dict), ``how_chosen`` and ``description``. Shape ``(baseline, 6)``."""
        rows = [{"name": b["name"], "metric": b["metric"], "score": b["score"], "parameters": b["parameters"],
                 "how_chosen": next((b["parameters"][k] for k in HOW_CHOSEN if k in b["parameters"]), None),
                 "description": b["description"]} for b in self.entry["baselines"]]
        return pd.DataFrame(rows, columns=["name", "metric", "score", "parameters", "how_chosen", "description"])

    @property
    def verdict(self) -> str:
        """The sentence ``lstmstate train`` prints: the seeds against the strongest baseline."""
        return self.entry["against_baseline"]

    @property
    def perplexity_verdict(self) -> str | None:
        """Symbols: the seeds' perplexity against the Kneser-Ney n-gram's; None for numbers."""
        return self.entry.get("against_perplexity")

    # ---- using the model: forecasts (numbers) and generation (symbols) ----

    def forecast(self, horizon: int, origin: int | None = None, data=None) -> pd.DataFrame:
        """``horizon`` values after row ``origin`` (default: the last), by every seed: a DataFrame
        of ``median``, ``low`` and ``high`` (the 5% and 95% across seeds), shape ``(horizon, 3)``,
        indexed by the time labels (the data's time column or index; else row numbers).

        Works from memory for a run fitted here; a loaded run reads its series again (the file
        it records, or ``data``: a path or DataFrame of the same series, checked to be it)."""
        return _forecast_frame(self._forecast(horizon, origin, data))

    def _forecast(self, horizon, origin, data) -> forecasting.Forecast:
        _positive("horizon", horizon)
        if origin is not None and (not isinstance(origin, (int, np.integer)) or isinstance(origin, bool)):
            raise ValueError(f"origin must be None (the last row) or a row number, got {origin!r}")
        with api_errors():
            return forecasting.forecast_of(self.saved, self._series(data), int(horizon), origin)

    def _series(self, data):
        """The series to forecast from: ``data`` checked to be the one trained on, else the one in
        memory, else the file the run records."""
        if data is None and self.outcome is not None:
            return self.outcome.data
        if data is None or isinstance(data, (str, Path)):
            return forecasting.series(self.saved, None if data is None else Path(data))
        record = self.payload["data"]
        given = inputs.read(data, columns=",".join(record.get("columns", [])), target=record.get("target"),
                            time_column=record.get("time_column"), fill=record.get("fill"))
        if (given.data.items, given.data.checksum) != (record.get("items"), record.get("sha256")):
            raise ValueError(f"data is not the series {self.framing!r} was trained on ({record.get('items')} rows of "
                             f"{', '.join(record.get('columns', []))}, checksum recorded in its results)")
        return given.data

    def generate(self, prime: str, steps: int = 20, temperature: float = 0.0, sample_seed: int = 0,
                 seed_index: int | None = None) -> str:
        """Symbols: ``steps`` symbols after the text ``prime`` (split as the training text was), by
        seed ``seed_index`` (default: the median seed); the most probable each time, or drawn at
        ``temperature`` with ``sample_seed``. Returns the generated text alone."""
        tokens = self.saved.tokens or "char"
        if self.saved.numbers:
            raise ValueError(f"{self.framing!r} is a model of numbers: use forecast(horizon), not generate")
        if not isinstance(prime, str):
            raise ValueError(f"prime must be a str of text, got {type(prime).__name__}")
        _positive("steps", steps)
        symbols = list(prime) if tokens == "char" else prime.split() if tokens == "word" else prime.splitlines()
        if not symbols:
            raise ValueError("prime must hold at least one symbol: the generation starts from its last")
        with api_errors():
            sampling = Sampling(temperature, sample_seed)
            made = self.saved.generate(symbols[-1], steps, symbols[:-1], self.saved.seed_index(seed_index), sampling)
        return joined((step.predicted for step in made), tokens)

    def cells(self, text_file=None, seed_index: int | None = None) -> pd.DataFrame:
        """Per text feature and seed, the unit whose h or c goes most with it (``lstmstate cells``):
        its Pearson r with a block-bootstrap 95% interval (low, high), the largest |r| of the seed's
        untrained weights and of the current symbol alone; over ``text_file`` (default: the held-out part).
        A model of numbers: the season's phase, level and last change over the rows of a CSV
        ``text_file`` or the held-out part, the symbol alone being the current input row alone."""
        with api_errors():
            found = found_cells.measure(self.saved, text_file, seed_index)
        return pd.DataFrame([{"feature": c.feature, "seed": c.seed, "unit": c.unit, "kind": c.kind,
                              "correlation": c.correlation, "low": c.low, "high": c.high, "untrained": c.untrained,
                              "symbol_alone": c.symbol_alone} for c in found.cells])

    # ---- pictures and notebooks ----

    def plot(self, kind: str = "scores", horizon: int | None = None, origin: int | None = None):
        """A matplotlib Figure: ``"scores"`` (every seed's held-out score beside the baselines),
        ``"curves"`` (training loss over epochs, mean and 95% band) or ``"forecast"`` (history,
        the median forecast of ``horizon`` values and its 5-95% band across seeds)."""
        from lstmstate.output import figures

        display.show_figures_inline()
        if kind == "scores":
            return figures.scores_against_baselines({self.framing: self.entry}, self.entry["baselines"], self.metric,
                                                    _unit(self.payload, self.metric))
        if kind == "curves":
            return figures.training_curves({self.framing: self.entry}, "loss")
        if kind == "forecast":
            if horizon is None:
                raise ValueError("horizon: plot('forecast') needs horizon=H, the values to forecast")
            result = self._forecast(horizon, origin, None)
            low, high = result.band
            return figures.forecast_band(result.history, result.origin, result.median, low, high, result.actual,
                                         f"{self.framing}: forecast over {len(result.per_seed)} seeds")
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(PLOTS)}")

    def _sentences(self) -> list[str]:
        holdout, best = self.entry["holdout"], self.entry["baseline"]
        low, high = holdout["ci95"]
        what = "accuracy" if self.metric == ACCURACY else f"RMSE of {self.payload['data'].get('target')}"
        seeds = len(self.entry["seeds"])
        return [f"held-out {what}: mean {formatted(self.metric, holdout['mean'])} [95% interval "
                f"{formatted(self.metric, low)}, {formatted(self.metric, high)}] over {seeds} seeds; strongest "
                f"baseline {best['name']}: {formatted(best['metric'], best['score'])}",
                f"verdict: {self.verdict}",
                f"verdict on perplexity: {self.perplexity_verdict}" if self.perplexity_verdict else "",
                f"saved in {self.folder}" if self.folder is not None else ""]

    def _title(self) -> str:
        data = self.payload["data"]
        return f"lstmstate run: {self.framing} on {data['file']} ({data['items']} {_items(data)})"

    def _repr_html_(self) -> str:
        baselines = self.baselines[["name", "metric", "score", "how_chosen"]]
        return display.page(self._title(), self._sentences(), [("Baselines", baselines)], self.plot())

    def __repr__(self) -> str:
        return display.text(self._title(), self._sentences())

    # ---- the run folder ----

    def save(self, folder, overwrite: bool = False) -> Path:
        """Write the run as ``lstmstate train --out FOLDER`` does (results.json, the framing's
        setup, weights and curves; data given in memory as ``data.csv`` or ``data.txt``), so the
        command line (``forecast``, ``generate``, ``report``…) and ``lstmstate.load`` read it.
        A folder holding a run is refused unless ``overwrite``. Returns the folder."""
        if self.outcome is None:
            raise ValueError(f"this run was loaded from {self.folder}, where it is saved; copy that folder to "
                             "keep it elsewhere")
        with api_errors():
            folder = runfolder.prepare(_folder(folder), [self.framing], overwrite, report=False)
            try:
                outcome = replace(self.outcome, data=self.given.kept(folder)) if self.given else self.outcome
                runfolder.write_entry(folder, results.saved_entry(outcome))
                runfolder.write_results(folder, results.payload([outcome]))
            finally:
                runfolder.unlock(folder)  # a notebook lives on: the next save or command may write here
        return folder


def fit(data=None, *, target: str | None = None, columns=None, tokens: str | None = None,
        time_column: str | None = None, fill: str | None = None, out=None, overwrite: bool = False,
        quiet: bool | None = None, tensorboard=None, resume=None, on_start=None, on_ready=None, **options) -> Run:
    """Train one framing on ``data`` over many seeds and score it on the held-out part beside the
    classical baselines, as ``lstmstate train`` does, with the same numbers for the same options.

    ``data``: a path, a pandas DataFrame or Series (its index, or a time column, as the rows'
    times), a NumPy array of numbers ``(item,)`` or ``(item, column)``, or a str of text.
    ``target``, ``columns`` (a list or a comma string), ``time_column``, ``fill``: numbers;
    ``tokens`` ("char", "word", "line"): text. ``out``: save the run folder there as it trains
    (``overwrite`` an old run); ``resume``: go on with the run stopped in that folder (its
    checkpoint, ``checkpoint_every``; options given must match it, ``data`` may be left out);
    ``quiet``: None shows progress where someone watches; ``on_start(name, seeds, epochs)``: a
    caller's own progress display instead; ``on_ready(line)``: called with a line saying what was read
    and how it is split (and where a resumed run goes on), once checked, before training. Any field of ``owndata.Plan`` by name
    (below). Bad arguments raise ``ValueError`` naming them.
    """
    with api_errors():
        plan_options(options, "fit")
        if resume is not None:
            given, plan, split, resumed = _resumed(resume, out, overwrite, data, options, tokens=tokens,
                                            columns=columns_text(columns), target=target, time_column=time_column,
                                            fill=fill)
            out, overwrite = resume, False  # a resumed run goes on where it was stopped
        elif data is None:
            raise ValueError(f"give `data` to train on ({inputs.ACCEPTED}), or `resume` FOLDER to go on with a "
                             "stopped run")
        else:
            given, resumed = inputs.read(data, tokens, columns_text(columns), target, time_column, fill), None
            # On a text, the options not given are a language model's (TEXT_DEFAULTS), as on the command line.
            plan = Plan(**{**options, **text_defaults(given.data, options, options)})
            split = check_plan(given.data, plan)
        folder = None if out is None else runfolder.prepare(_folder(out, "out"), [plan.framing], overwrite,
                                                            report=False)
        try:
            chosen = given.kept(folder) if folder is not None else given.data
            if on_ready is not None:
                if resumed is not None:
                    on_ready(f"resuming {resume} after epoch {resumed['epochs']} of {plan.epochs}")
                on_ready(f"data: {given.data.source}, {given.data.describe()}; {split.describe()}")
            with shown(on_start, quiet) as started:
                on_progress = started(plan.framing, plan.seeds, plan.epochs) if started else None
                outcome = training.run(chosen, plan, folder, on_progress=on_progress, resumed=resumed,
                                       tensorboard=None if tensorboard is None else Path(tensorboard))
        finally:
            if folder is not None:
                runfolder.unlock(folder)
    return Run.of(outcome, given if given.text is not None else None, folder)


def _resumed(resume, out, overwrite: bool, data, options: dict, **reading) -> tuple[inputs.Given, Plan, Split, dict]:
    """The data, plan and checkpoint of the run stopped in ``resume`` (``training.resume``): the
    options given (plan and reading) must be the ones it was trained with."""
    folder = _folder(resume, "resume")
    if out is not None and _folder(out, "out").resolve() != folder.resolve():
        raise ValueError(f"`resume` {resume} writes its results there; `out` {out} names another folder")
    if overwrite:
        raise ValueError("`resume` goes on with a run; it cannot be combined with `overwrite`")
    given = {name: value for name, value in reading.items() if value is not None}
    if data is not None:
        if not isinstance(data, (str, Path)):
            raise ValueError("data: a resumed run reads again the file it was trained on; give its path, or leave "
                             "data out")
        given["data"] = Path(data)
    read, plan, split, resumed = training.resume(folder, {**given, **options})
    return inputs.Given(read, None, "", read.source), plan, split, resumed


# help(ls.fit) lists the plan's options from the plan itself, so the list cannot fall behind it.
fit.__doc__ += ("\n    Plan options and their defaults: "
                + ", ".join(f"{name}={default!r}" for name, default in plan_fields().items())
                + f".\n    Reading options: {', '.join(READING)}.\n")


def _forecast_frame(result: forecasting.Forecast) -> pd.DataFrame:
    low, high = result.band
    frame = pd.DataFrame({"median": result.median, "low": low, "high": high},
                         index=time_index(result.labels, result.time_column or "row"))
    frame.attrs.update(framing=result.framing, origin=result.origin, seeds=int(result.per_seed.shape[0]),
                       band="5% and 95% across seeds")
    return frame


def time_index(labels, name: str) -> pd.Index:
    """Time labels as pandas reads them: numbers (years, steps), else dates, else the strings."""
    series = pd.Series(list(labels), dtype=object)
    try:
        return pd.Index(pd.to_numeric(series), name=name)
    except (ValueError, TypeError):
        pass
    try:
        return pd.DatetimeIndex(pd.to_datetime(series, format="mixed"), name=name)
    except (ValueError, TypeError):
        return pd.Index(series, name=name)


def _floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], np.float64)


def _unit(payload: dict, metric: str) -> str:
    return "accuracy" if metric == ACCURACY else f"RMSE of {payload['data'].get('target', 'the target')}"


def _items(data: dict) -> str:
    return "rows" if data.get("kind") == "numbers" else f"{data.get('tokens', 'char')} symbols"


def _folder(folder, name: str = "folder") -> Path:
    if not isinstance(folder, (str, Path)):
        raise ValueError(f"{name} must be a folder path (str or pathlib.Path), got {type(folder).__name__}")
    return Path(folder)


def _positive(name: str, value) -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
