"""The suite: the tutorial's experiments run one after another into a run folder, each saved as
it finishes, the claims judged over what has finished, and the report drawn at the end.

::

    for each experiment:  train every seed -> outcome -> results.json entry + NAME/ (saved now)
                                                       -> verdicts over the entries so far
    at the end (or at Ctrl-C, over what finished):     -> report.html, report.md, figures/

Ctrl-C keeps every experiment that finished, with its weights and the report; the one in
progress is dropped and ``runfolder.Interrupted`` says what was kept.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lstmstate.output import report
from lstmstate.storage import runfolder
from lstmstate.tutorial import experiments, verdicts
from lstmstate.tutorial.outcome import Outcome, entry, run_experiment, saved_entry

# on_start(experiment, seeds) may return the progress callback of that experiment's training.
OnStart = Callable[[str, int], Callable[[int, int], None] | None]


@dataclass(frozen=True)
class SuiteRun:
    """Experiments run in order: their outcomes and the results.json they make."""

    outcomes: tuple[Outcome, ...]  # in the order run
    payload: dict  # results.json: header, experiments {NAME: entry}, verdicts
    folder: Path | None  # where it was saved; None when nothing was written


def run_suite(names: Sequence[str], seeds: int, folder: Path | None = None, epochs: int | None = None,
              units: int | None = None, streams: int | None = None, on_start: OnStart | None = None) -> SuiteRun:
    """Run the experiments ``names`` over seeds ``0..seeds-1``; with a ``folder``, save each as it
    finishes and write the report at the end. ``epochs``, ``units`` and ``streams`` override the
    published settings (``Experiment.setup``)."""
    chosen = [experiments.get(name) for name in names]  # an unknown name fails before any training
    seed_list = list(range(seeds))
    payload = {**runfolder.header(seed_list), "verdicts": []}
    outcomes = []
    try:
        for experiment in chosen:
            progress = on_start(experiment.name, len(seed_list)) if on_start is not None else None
            outcome = run_experiment(experiment, seed_list, epochs=epochs, units=units, streams=streams,
                                     on_progress=progress)
            outcomes.append(outcome)
            payload["experiments"][experiment.name] = entry(outcome)
            payload["verdicts"] = verdicts.judge(payload["experiments"])
            if folder is not None:
                runfolder.write_entry(folder, saved_entry(outcome))
                runfolder.write_results(folder, payload)
    except KeyboardInterrupt:
        if folder is None:
            raise runfolder.Interrupted("interrupted: nothing was written (no --out)") from None
        # Each finished experiment was written as it finished; the one in progress is dropped.
        if payload["experiments"]:
            report.write_report(folder, payload)
        kept = ", ".join(payload["experiments"]) or "nothing (no experiment had finished)"
        raise runfolder.Interrupted(f"interrupted: kept {kept} (results, weights, report) in {folder}") from None
    if folder is not None:
        # The report is drawn once, at the end: drawing it after every experiment cost ~30 s of a suite.
        report.write_report(folder, payload)
    return SuiteRun(tuple(outcomes), payload, folder)
