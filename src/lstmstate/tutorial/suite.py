"""The suite: the tutorial's experiments run one after another into a run folder, each saved as
it finishes, the claims judged over what has finished, and the report drawn at the end.

::

    for each experiment:  train every seed -> outcome -> results.json entry + NAME/ (saved now)
                                                       -> verdicts over the entries so far
    at the end (or at Ctrl-C, over what finished):     -> report.html, report.md, figures/

Ctrl-C (and SIGTERM, which the command line turns into one) keeps every experiment that finished,
with its weights and the report; the one in progress is dropped and ``runfolder.Interrupted``
says what was kept. Every experiment is checked before the first is trained (``check``).
"""

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lstmstate.core import budget
from lstmstate.core.batches import batch_layout
from lstmstate.tutorial import report
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


def check(names: Sequence[str], seeds: int, epochs: int | None = None, units: int | None = None,
          streams: int | None = None) -> list[experiments.Experiment]:
    """The experiments ``names``, each checked before any training: an unknown name, or a size this
    machine cannot train or the engine cannot count (``core.budget``), is a one-line ``ValueError``."""
    chosen = [experiments.get(name) for name in names]
    for experiment in chosen:
        setup = experiment.setup(epochs=epochs, units=units, streams=streams)
        # The batch layout the engine will use (more streams than samples is an error here); its
        # warning about trimmed samples is given once, by the training itself.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            batches, rows = batch_layout(setup.framed.samples, setup.config)[0].shape
        budget.check_training(setup.spec, seeds, setup.config.epochs, batches, rows, {"rows": "`streams`"})
    return chosen


def prepare(out: Path | None, names: Sequence[str], seeds: int, epochs: int | None = None, units: int | None = None,
            streams: int | None = None, overwrite: bool = False) -> Path:
    """The run folder for ``names``, made and locked once everything is checked (``check``, then
    ``runfolder.prepare``): nothing is written, or overwritten, for a request that cannot run."""
    check(names, seeds, epochs, units, streams)
    return runfolder.prepare(out, names, overwrite=overwrite)


def run_suite(names: Sequence[str], seeds: int, folder: Path | None = None, epochs: int | None = None,
              units: int | None = None, streams: int | None = None, on_start: OnStart | None = None) -> SuiteRun:
    """Run the experiments ``names`` over seeds ``0..seeds-1``; with a ``folder``, save each as it
    finishes and write the report at the end. ``epochs``, ``units`` and ``streams`` override the
    published settings (``Experiment.setup``)."""
    chosen = check(names, seeds, epochs, units, streams)  # before any training
    if folder is None:
        return _run(chosen, seeds, None, epochs, units, streams, on_start)
    Path(folder).mkdir(parents=True, exist_ok=True)
    with runfolder.locked(folder):
        return _run(chosen, seeds, folder, epochs, units, streams, on_start)


def _run(chosen, seeds: int, folder: Path | None, epochs, units, streams, on_start) -> SuiteRun:
    seed_list = list(range(seeds))
    payload = {**runfolder.header(seed_list), "verdicts": []}
    outcomes = []
    interrupted = False
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
    except KeyboardInterrupt:  # Ctrl-C, or SIGTERM as the command line turns it into one
        if folder is None:
            raise runfolder.Interrupted("interrupted: nothing was written (no `out`)") from None
        interrupted = True  # each finished experiment was written as it finished; the one in progress is dropped
    if folder is not None and payload["experiments"]:
        # The report is drawn once, at the end: drawing it after every experiment cost ~30 s of a suite.
        try:
            report.write_report(folder, payload)
        except KeyboardInterrupt:
            # A stop while the report was drawn: draw it again, so the folder never holds half a
            # report (a second Ctrl-C here still ends it; SIGTERM is only acted on once).
            interrupted = True
            report.write_report(folder, payload)
    if interrupted:
        kept = ", ".join(payload["experiments"]) or "nothing (no experiment had finished)"
        raise runfolder.Interrupted(f"interrupted: kept {kept} (results, weights, report) in {folder}")
    return SuiteRun(tuple(outcomes), payload, folder)
