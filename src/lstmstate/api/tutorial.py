"""The tutorial's experiments as the Python API gives them: ``suite()`` runs them over many seeds
(``tutorial.suite.run_suite``, what ``lstmstate suite`` runs) and returns their results and the
verdict on each claim as DataFrames.

Unlike the command line, which always writes ``runs/TIMESTAMP``, nothing is written unless
``out`` names a folder; then it is the folder ``lstmstate suite --out`` writes, report included.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstmstate.api import display
from lstmstate.api.arguments import api_errors
from lstmstate.api.progress import shown
from lstmstate.output.formatting import percent
from lstmstate.storage import runfolder
from lstmstate.tutorial import experiments as registry
from lstmstate.tutorial.outcome import Outcome
from lstmstate.tutorial.suite import prepare, run_suite

RESULTS = ["section", "tutorial", "mean", "low", "high", "at_100", "seeds", "diverged", "epochs", "seconds"]
VERDICTS = ["claim", "tutorial_says", "measured", "verdict", "rule"]


@dataclass(frozen=True, repr=False, eq=False)
class Suite:
    """The tutorial's experiments run over seeds: results, per-seed accuracies and verdicts."""

    payload: dict  # results.json of the suite: every experiment's entry and the verdicts
    folder: Path | None = None  # the run folder it is saved in, if any
    outcomes: tuple[Outcome, ...] = ()  # the experiments themselves, when run in this process

    @property
    def results(self) -> pd.DataFrame:
        """One row per experiment (indexed by name): its tutorial ``section``, the ``tutorial``'s
        published accuracy, the ``mean`` over seeds with its 95% interval (``low``, ``high``), the
        share of seeds at 100% (``at_100``), ``seeds``, ``diverged`` seeds, ``epochs`` and
        ``seconds``. Accuracies are fractions (0.84, not 84). Shape ``(experiment, 10)``."""
        rows = {}
        for name, entry in self.payload["experiments"].items():
            accuracy = entry["accuracy"]
            low, high = accuracy["ci95"]
            rows[name] = {"section": entry["section"], "tutorial": entry["published_accuracy"],
                          "mean": accuracy["mean"], "low": low, "high": high, "at_100": entry["perfect_share"],
                          "seeds": len(entry["seeds"]), "diverged": entry.get("diverged", {}).get("count", 0),
                          "epochs": entry["epochs"], "seconds": entry["seconds"]}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=RESULTS)
        frame.index.name = "experiment"
        return frame

    @property
    def per_seed(self) -> pd.DataFrame:
        """Every seed's accuracy: ``experiment``, ``seed``, ``accuracy`` (diverged seeds left out,
        as in every statistic). Shape ``(experiment x seed, 3)``."""
        rows = []
        for name, entry in self.payload["experiments"].items():
            diverged = set(entry.get("diverged", {}).get("seeds", []))
            kept = [seed for seed in entry["seeds"] if seed not in diverged]
            rows += [{"experiment": name, "seed": seed, "accuracy": value}
                     for seed, value in zip(kept, entry["accuracy"]["per_seed"])]
        return pd.DataFrame(rows, columns=["experiment", "seed", "accuracy"])

    @property
    def verdicts(self) -> pd.DataFrame:
        """The verdict on each of the tutorial's claims over the experiments run: ``claim``, what
        ``tutorial_says``, what was ``measured``, the ``verdict`` and its ``rule``."""
        return pd.DataFrame([{key: v.get(key, "") for key in VERDICTS} for v in self.payload["verdicts"]],
                            columns=VERDICTS)

    def plot(self):
        """A matplotlib Figure: every seed's accuracy per experiment, the mean with its 95%
        interval and the tutorial's published run."""
        from lstmstate.output import figures

        display.show_figures_inline()
        kept = {name: e for name, e in self.payload["experiments"].items() if e["accuracy"]["per_seed"]}
        return figures.accuracy_per_seed(kept)

    def _title(self) -> str:
        seeds = len(self.payload.get("seeds", []))
        return f"lstmstate suite: {len(self.payload['experiments'])} experiments over {seeds} seeds"

    def _sentences(self) -> list[str]:
        return [f"saved in {self.folder} (report.html)" if self.folder is not None else ""]

    def _repr_html_(self) -> str:
        results = self.results.copy()
        for column in ("tutorial", "mean", "low", "high"):
            results[column] = [percent(v) if pd.notna(v) else "-" for v in results[column]]
        results["at_100"] = [f"{100 * v:.0f}%" if pd.notna(v) else "-" for v in self.results["at_100"]]
        tables = [("Accuracy over seeds", results.drop(columns=["section"]))]
        if len(self.verdicts):
            tables.append(("Claims", self.verdicts))
        return display.page(self._title(), self._sentences(), tables, self.plot())

    def __repr__(self) -> str:
        lines = [f"{name}: {percent(row['mean'])} [{percent(row['low'])}, {percent(row['high'])}], tutorial "
                 f"{percent(row['tutorial'])}" for name, row in self.results.iterrows()]
        lines += [f"{v['claim']}: {v['verdict']}" for _, v in self.verdicts.iterrows()]
        return display.text(self._title(), [*lines, *self._sentences()])


def suite(seeds: int = 20, *, experiments=None, controls: bool = False, epochs: int | None = None,
          units: int | None = None, streams: int | None = None, out=None, overwrite: bool = False,
          quiet: bool | None = None, on_start=None) -> Suite:
    """Run the tutorial's experiments over seeds ``0..seeds-1``, as ``lstmstate suite`` does.

    ``experiments``: names (a list, or one name, or a comma string; default the suite's twelve,
    with ``controls`` the five controls too; ``lstmstate list`` names them); ``epochs``,
    ``units``, ``streams`` override the published settings (``lstmstate run``'s options);
    ``out``: the run folder to write, report included; ``quiet`` as in ``fit``; ``on_start(name,
    seeds)``: a caller's own progress display."""
    for name, value, optional in (("seeds", seeds, False), ("epochs", epochs, True), ("units", units, True),
                                  ("streams", streams, True)):
        if value is None and optional:
            continue
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1{' or None' if optional else ''}, "
                             f"got {value!r}")
    names = _names(experiments, controls)
    with api_errors():
        folder = prepare(Path(out), names, seeds, epochs, units, streams, overwrite) if out is not None else None
        try:
            with shown(on_start, quiet) as started:
                ran = run_suite(names, int(seeds), folder, epochs=epochs, units=units, streams=streams,
                                on_start=started)
        finally:
            if folder is not None:
                runfolder.unlock(folder)
    return Suite(ran.payload, folder, ran.outcomes)


def _names(experiments, controls: bool) -> list[str]:
    if experiments is None:
        return list(registry.DEFAULT_SUITE) + (list(registry.CONTROLS) if controls else [])
    if isinstance(experiments, str):
        experiments = [name.strip() for name in experiments.split(",") if name.strip()]
    names_only = isinstance(experiments, (list, tuple)) and all(isinstance(name, str) for name in experiments)
    if not names_only or not experiments:
        raise ValueError(f"experiments must be None (the suite), a name, or a list of names; got {experiments!r}")
    if controls:
        raise ValueError("controls adds the controls to the default suite; with experiments=, list them by name")
    return list(experiments)
