"""The sweep folder: ``sweep.json`` with every configuration's record, one run folder per
configuration, and the report page; written as configurations finish and read back to resume.

::

    DIR/
    ├── sweep.json              what was asked (kind, seeds, grid, data), and every configuration:
    │                           parameters, each seed's score, mean, 95% interval, seconds, where it
    │                           ran, or its one-line error; rewritten atomically after each one
    ├── sweep.html, sweep.png   the ranked table and score against the swept parameters (sweep.page)
    ├── .lstmstate.lock         held while a sweep writes here
    └── NAME/                   one per configuration that finished: a run folder as `run`/`train
                                --out` writes it, so generate, export, inspect and report read it

A configuration's run folder is written before its record, so a record always points to a whole
run folder; a sweep stopped between the two trains that configuration again, nothing worse.
"""

import datetime
import hashlib
from pathlib import Path

import numpy as np

from lstmstate.core import statistics
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.storage import runfolder
from lstmstate.storage.files import read_json, write_json
from lstmstate.sweep.grid import TUTORIAL, Configuration, Grid
from lstmstate.sweep.task import BlockResult
from lstmstate.tutorial import outcome as tutorial_outcome
from lstmstate.tutorial import verdicts
from lstmstate.owndata import results

SWEEP = "sweep.json"
PAGE = "sweep.html"
FIGURE = "sweep.png"
FORMAT_VERSION = 1
DONE, FAILED = "done", "failed"


def prepare(out: Path) -> Path:
    """The sweep folder, made, checked writable and locked for this process: a second sweep (or a
    run) on the same folder stops at once. A run folder is refused: a sweep holds run folders."""
    out = Path(out)
    if (out / runfolder.RESULTS).exists():
        raise ValueError(f"`out` {out} holds a run (results.json), not a sweep; give another folder")
    runfolder.make_writable(out)
    runfolder.lock(out)
    return out


def request(grid: Grid, seeds: int, data: Symbols | Numbers | None, options: dict) -> dict:
    """What was asked, besides the grid: a finished configuration is read back only when this is
    the same (the same seeds, the same data file with the same contents and options)."""
    asked = {"kind": grid.kind, "seeds": seeds}
    if data is not None:
        ids = data.values if isinstance(data, Numbers) else data.ids
        asked["data"] = {**{name: options.get(name) for name in sorted(options)},
                         "sha256": hashlib.sha256(np.ascontiguousarray(ids).tobytes()).hexdigest()}
    return asked


def read_back(folder: Path, asked: dict) -> dict[str, dict]:
    """The finished configurations of an earlier sweep in ``folder`` with the same request, by
    name; nothing when there was none or it asked for something else (those are trained again)."""
    path = Path(folder) / SWEEP
    if not path.exists():
        return {}
    earlier = read_json(path)
    if earlier.get("format_version") != FORMAT_VERSION or earlier.get("request") != asked:
        return {}
    records = earlier.get("configurations")
    if not isinstance(records, list):
        return {}
    # sweep.json is data: a record that is not an object with a plain folder name is trained again,
    # never followed (a name of "../x" would read outside the sweep folder).
    return {record["name"]: record for record in records
            if isinstance(record, dict) and record.get("status") == DONE and _plain_name(record.get("name"))
            and (Path(folder) / record["name"] / runfolder.RESULTS).is_file()}


def _plain_name(name) -> bool:
    try:
        return isinstance(name, str) and runfolder.check_name(name, "configuration name") == name
    except ValueError:
        return False


def write_run_folder(folder: Path, configuration: Configuration, outcome) -> Path:
    """``outcome`` as a run folder, ``folder/NAME``, in the format ``run --out`` (tutorial) or
    ``train --out`` (own data) writes; a folder left by a stopped sweep is replaced."""
    run = runfolder.prepare(Path(folder) / configuration.name, [outcome.experiment.name
                            if configuration.kind == TUTORIAL else outcome.name], overwrite=True, report=False)
    try:
        if configuration.kind == TUTORIAL:
            payload = runfolder.header(list(outcome.population.seeds))
            payload["experiments"][outcome.experiment.name] = tutorial_outcome.entry(outcome)
            payload["verdicts"] = verdicts.judge(payload["experiments"])
            runfolder.write_entry(run, tutorial_outcome.saved_entry(outcome))
            runfolder.write_results(run, payload)
        else:
            runfolder.write_entry(run, results.saved_entry(outcome))
            runfolder.write_results(run, results.payload([outcome]))
    finally:
        runfolder.unlock(run)
    return run


def record(configuration: Configuration, results: list[BlockResult], outcome=None,
           error: str | None = None) -> dict:
    """A configuration's line in sweep.json: its parameters, and each seed's score with the mean
    and 95% interval, or its error; the seconds of its tasks and where each ran."""
    entry = {"name": configuration.name, "label": configuration.label,
             "parameters": configuration.values, "status": FAILED if error else DONE, "error": error,
             "seconds": round(sum(result.seconds for result in results), 3),
             "tasks": [{"seeds": [result.block.seeds[0], result.block.seeds[-1]], "seconds": round(result.seconds, 3),
                        **result.place.to_dict()} for result in sorted(results, key=lambda r: r.block.index)]}
    if outcome is None:
        return entry
    if configuration.kind == TUTORIAL:
        metric, scores = statistics.ACCURACY, outcome.accuracy  # diverged seeds are left out, as in a run
        seeds, diverged = list(outcome.population.seeds), int(outcome.diverged.sum())
    else:
        metric, scores, seeds, diverged = outcome.metric, outcome.scores, list(outcome.population.seeds), 0
    scores = np.asarray(scores, np.float64)
    low, high = statistics.bootstrap_ci(scores) if len(scores) else (None, None)
    entry.update(metric=metric, seeds=seeds, per_seed=scores.round(6).tolist(),
                 mean=statistics.mean(scores) if len(scores) else None, ci95=[low, high], diverged=diverged)
    return entry


def failed(configuration: Configuration, error: str) -> dict:
    """The record of a configuration refused before any task (its own mistake)."""
    return record(configuration, [], error=error)


def payload(asked: dict, grid: Grid, records: list[dict], cluster: dict) -> dict:
    """sweep.json: what was asked, where it ran, and every configuration's record in grid order."""
    return {"format_version": FORMAT_VERSION,
            "updated": datetime.datetime.now().isoformat(timespec="seconds"),
            "request": asked, "grid": {name: list(values) for name, values in grid.values},
            "swept": grid.swept, "cluster": cluster, "configurations": records}


def write(folder: Path, sweep: dict) -> Path:
    path = runfolder.target(Path(folder), SWEEP)
    write_json(path, sweep)
    return path


def ranked(records: list[dict]) -> list[dict]:
    """Finished configurations best first (highest accuracy, or lowest RMSE), then the failed ones."""
    finished = [r for r in records if r["status"] == DONE and r.get("mean") is not None]
    lower_is_better = any(r["metric"] != statistics.ACCURACY for r in finished)
    finished.sort(key=lambda r: r["mean"] if lower_is_better else -r["mean"])
    return finished + [r for r in records if r not in finished]
