"""A comparison as the Python API gives it: every framing that applies trained on the same data,
ranked with the classical baselines by held-out score, with the recommendation ``lstmstate
compare`` prints (``owndata.comparison`` does the work; this is its face in a notebook).

As a run's, its tables are read from its results.json payload, so a comparison just made and the
same one loaded from its folder show the same ranking.
"""

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from lstmstate.api import display, inputs
from lstmstate.api.arguments import api_errors, columns_text, plan_options
from lstmstate.api.progress import shown
from lstmstate.api.run import Run, _folder, _unit
from lstmstate.output.formatting import score as formatted
from lstmstate.owndata import comparison, results
from lstmstate.owndata.plan import NOT_COMPARED, Plan, check_plan
from lstmstate.storage import runfolder
from lstmstate.trained import saved as saved_runs

TABLE = ["name", "kind", "metric", "mean", "low", "high", "min", "max", "seeds", "batch_size", "seconds"]


@dataclass(frozen=True, repr=False, eq=False)  # eq: its runs hold arrays
class Comparison:
    """Framings and baselines ranked on the same held-out targets; each framing a ``Run``."""

    payload: dict  # results.json of the comparison: every framing, the ranking, the recommendation
    runs: dict[str, Run]  # framing -> its run, best first
    folder: Path | None = None  # the run folder it is saved in, if any
    result: comparison.Comparison | None = None  # the comparison itself, when made in this process
    given: inputs.Given | None = None  # the data as given, kept to be saved with the comparison

    @classmethod
    def of(cls, result: comparison.Comparison, given: inputs.Given | None, folder: Path | None = None) -> "Comparison":
        payload = comparison.payload(result)
        runs = {o.name: Run.of(o, given, folder, payload) for o in result.ranked}
        return cls(payload, runs, folder, result, given)

    @classmethod
    def loaded(cls, folder: Path, payload: dict) -> "Comparison":
        """The comparison saved in ``folder`` (its results.json already read and checked)."""
        runs = {name: Run(name, payload, saved_runs.load(folder, name), folder) for name in payload["ranking"]}
        return cls(payload, runs, folder)

    @property
    def best(self) -> Run:
        """The framing recommended: the best mean held-out score."""
        return self.runs[self.payload["recommendation"]["framing"]]

    @property
    def recommendation(self) -> str:
        """The sentences ``lstmstate compare`` ends with: which framing (or baseline) to use, how sure."""
        return self.payload["recommendation"]["text"]

    @property
    def skipped(self) -> tuple[tuple[str, str], ...]:
        """``(framing, why)`` of each framing that was not run (known for a comparison made here)."""
        return self.result.skipped if self.result is not None else ()

    def table(self) -> pd.DataFrame:
        """Framings and baselines ranked, best first, indexed by rank from 1: ``name``, ``kind``
        ("framing" or "baseline"), ``metric``, ``mean`` (a baseline's score), ``low``/``high``
        (95% interval of the mean over seeds), ``min``/``max`` over seeds, ``seeds``,
        ``batch_size`` and ``seconds``; NaN where a baseline has none. Shape ``(row, 11)``."""
        experiments, metric = self.payload["experiments"], self.payload["holdout"]["metric"]
        rows = []
        for row in self.payload["ranking_with_baselines"]:
            entry = experiments.get(row["name"]) if row["kind"] == "framing" else None
            values = {"name": row["name"], "kind": row["kind"], "metric": metric, "mean": row["score"]}
            if entry is not None:
                scores = [v for v in entry["holdout"]["per_seed"] if v is not None]
                low, high = entry["holdout"]["ci95"]
                values.update(low=low, high=high, min=min(scores, default=None), max=max(scores, default=None),
                              seeds=len(entry["seeds"]), batch_size=entry["batch_size"], seconds=entry["seconds"])
            rows.append(values)
        # Whole numbers stay whole beside a baseline's empty cells (pandas' nullable integers).
        frame = pd.DataFrame(rows, columns=TABLE).astype({"seeds": "Int64", "batch_size": "Int64"})
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="rank")
        return frame

    def plot(self):
        """A matplotlib Figure: every framing's seeds beside every baseline (dashed)."""
        from lstmstate.output import figures

        display.show_figures_inline()
        experiments = {name: self.payload["experiments"][name] for name in self.payload["ranking"]}
        metric = self.payload["holdout"]["metric"]
        return figures.scores_against_baselines(experiments, self.payload["baselines"], metric,
                                                _unit(self.payload, metric))

    def _title(self) -> str:
        data = self.payload["data"]
        return f"lstmstate comparison: {len(self.runs)} framings on {data['file']} ({data['items']} items)"

    def _sentences(self) -> list[str]:
        return [self.recommendation, *(f"not run: {name} ({why})" for name, why in self.skipped),
                f"saved in {self.folder}" if self.folder is not None else ""]

    def _repr_html_(self) -> str:
        table = self.table()
        metric = self.payload["holdout"]["metric"]
        shown = table[["name", "kind", "mean", "low", "high", "seeds", "seconds"]].copy()
        for column in ("mean", "low", "high"):
            shown[column] = [formatted(metric, v) if pd.notna(v) else "-" for v in table[column]]
        return display.page(self._title(), self._sentences(), [("Ranked by held-out score", shown)], self.plot())

    def __repr__(self) -> str:
        lines = [f"{rank}. {row['name']} ({row['kind']}): {formatted(row['metric'], row['mean'])}"
                 for rank, row in self.table().iterrows()]
        return display.text(self._title(), [*lines, *self._sentences()])

    def save(self, folder, overwrite: bool = False) -> Path:
        """Write the comparison as ``lstmstate compare --out FOLDER`` does (every framing, the
        ranking, the recommendation; data given in memory as ``data.csv`` or ``data.txt``).
        Returns the folder."""
        if self.result is None:
            raise ValueError(f"this comparison was loaded from {self.folder}, where it is saved; copy that folder "
                             "to keep it elsewhere")
        with api_errors():
            folder = runfolder.prepare(_folder(folder), list(self.runs), overwrite, report=False)
            try:
                data = self.given.kept(folder) if self.given is not None else None
                ranked = tuple(o if data is None else replace(o, data=data) for o in self.result.ranked)
                for outcome in ranked:
                    runfolder.write_entry(folder, results.saved_entry(outcome))
                runfolder.write_results(folder, comparison.payload(replace(self.result, ranked=ranked)))
            finally:
                runfolder.unlock(folder)
        return folder


def compare(data, *, target: str | None = None, columns=None, tokens: str | None = None,
            time_column: str | None = None, fill: str | None = None, out=None, overwrite: bool = False,
            quiet: bool | None = None, on_start=None, on_ready=None, **options) -> Comparison:
    """Train every framing that applies to ``data`` with the same options and rank them with the
    classical baselines, as ``lstmstate compare`` does (the same numbers for the same options).

    Takes what ``fit`` takes except ``framing``: ``data`` (a path, DataFrame, Series, NumPy array
    or str of text), how to read it, ``out``, ``overwrite``, ``quiet`` or ``on_start``, ``on_ready``, and the
    plan's options by name. ``.table()`` is the ranking as a DataFrame; ``.recommendation`` the verdict."""
    with api_errors():
        plan_options(options, "compare", refused=NOT_COMPARED)
        given = inputs.read(data, tokens, columns_text(columns), target, time_column, fill)
        plan = Plan(**options)
        split = check_plan(given.data, plan)  # what `lstmstate compare` checks first, then every framing
        comparison.check(given.data, plan)
        names = comparison.applicable(plan)[0]
        folder = runfolder.prepare(_folder(out, "out"), names, overwrite, report=False) if out is not None else None
        try:
            chosen = given.kept(folder) if folder is not None else given.data
            if on_ready is not None:
                on_ready(f"data: {given.data.source}, {given.data.describe()}; {split.describe()}")
            with shown(on_start, quiet) as started:
                starts = None if started is None else (lambda name: started(name, plan.seeds, plan.epochs))
                result = comparison.run(chosen, plan, folder, on_start=starts)
        finally:
            if folder is not None:
                runfolder.unlock(folder)
    return Comparison.of(result, given if given.text is not None else None, folder)
