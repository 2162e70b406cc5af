"""Cells of a model of numbers: the units of a saved carried-state LSTM trained on a CSV whose
state follows the season's phase, the level or the last change of its series, measured as
``trained.cells`` measures a text's; and ``find`` and ``measure`` for a saved run of either kind
(``lstmstate cells``, ``Run.cells``), since only this layer can read a run's series again::

    the run's CSV (read back and checked as forecast reads it) or another with its columns
      -> rows scaled as training scaled them (setup.json) -> trained.state_record.record_rows
         from row 0 -> h, c (step, units), the rows measured kept (default: the held-out part)
    the target's values at each row -> core.series_features (season cos/sin, level, last change)
    per feature: trained.cells.of_states (best unit, interval, untrained control); and the
    input row alone: the best linear function of the row just read (core.correlation.row_alone)
"""

from pathlib import Path

import numpy as np

from lstmstate.core import correlation, series_features
from lstmstate.owndata import dataset
from lstmstate.owndata.dataset import Numbers
from lstmstate.owndata.forecast import recorded_series
from lstmstate.owndata.scaling import Scaling
from lstmstate.storage import files
from lstmstate.trained import cells, state_record
from lstmstate.trained.cells import Cells, kept  # kept: re-exported, so `cells` finds and keeps through one module
from lstmstate.trained.saved import SavedExperiment, load


def find(run_dir: Path, experiment: str | None = None, text_file: Path | None = None,
         seed_index: int | None = None, out: Path | None = None, png: Path | None = None) -> Cells:
    """``measure`` on the experiment of ``run_dir``: ``lstmstate cells``; the page's ``out`` and
    ``png`` are checked first."""
    files.check_destinations({"out": out, "png": png})
    return measure(load(run_dir, experiment), text_file, seed_index)


def measure(saved: SavedExperiment, text_file: Path | None = None, seed_index: int | None = None) -> Cells:
    """The cells of seed ``seed_index`` (every seed whose training did not diverge when None): a
    model of symbols over a text (``trained.cells.measure``), a model of numbers over the rows of
    ``text_file`` (a CSV with the run's columns) or the held-out part of the run's series."""
    if not saved.numbers:
        return cells.measure(saved, text_file, seed_index)
    cells.check_carried(saved)
    data, first, source = _series(saved, text_file)
    scaling = Scaling(**{key: tuple(value) for key, value in saved.details["scaling"].items()})
    changes = bool(saved.details.get("plan", {}).get("differencing", 0))
    # A model of changes reads row t - 1 of the changes at row t of the series (the change into it).
    rows = scaling.apply(np.diff(data.values, axis=0) if changes else data.values)  # (step, column): the model's inputs
    places = np.arange(len(rows)) + (1 if changes else 0)  # each input's row of the series
    chosen = places >= first
    measured_rows = int(chosen.sum())
    if measured_rows < correlation.MIN_STEPS:
        remedy = f"; give the whole series with --text-file {data.source}" if text_file is None else ""
        raise ValueError(f"{source} holds {measured_rows} rows, too few to measure correlations (at least "
                         f"{correlation.MIN_STEPS}){remedy}")
    season = (saved.details.get("season") or {}).get("length")  # the seasonal naive baseline's season
    # Features of the whole series, then the rows measured: the first one's last change is from the row before it.
    every = series_features.features(data.target_values, np.arange(data.items), season)
    values = {name: feature[places][chosen] for name, feature in every.items()}
    constant = tuple(name for name in series_features.FEATURES if name not in values or np.ptp(values[name]) == 0)
    measured = {name: feature for name, feature in values.items() if name not in constant}
    alone = {name: correlation.row_alone(rows[chosen], feature) for name, feature in measured.items()}
    block = correlation.block_length(measured_rows)

    def record(weights):
        # The whole stream from row 0, as training and forecast read it: the held-out rows are read
        # with the state the rows before them left, not from a zero state in the middle of a season.
        h, c = state_record.record_rows(saved.spec, weights, rows)
        return h[:, chosen], c[:, chosen]

    found = cells.of_states(saved, cells.seed_indices(saved, seed_index), measured, alone, block, record)
    text = tuple(f"{value:.4g}" for value in data.target_values[places][chosen])
    return Cells(saved.name, text, measured_rows, source, block, saved.spec.units, found, constant,
                 folder=saved.folder, numbers=True)


def _series(saved: SavedExperiment, text_file: Path | None) -> tuple[Numbers, int, str]:
    """The series to read, the first row (from 0) measured, and where the rows came from, in words."""
    record = saved.details.get("data", {})
    if text_file is None:
        data = recorded_series(saved, option="`text_file`")
        start, end = record.get("parts", {}).get("held_out", (record.get("train_items", 0), data.items))
        return data, int(start), f"the held-out part of {data.source} (rows {start:,}..{end - 1:,})"
    if not Path(text_file).is_file():
        raise ValueError(f"`text_file` {text_file}: no such file")
    # Another series of the same columns: read as the run's was, scaled by the run's scaling.
    data = dataset.read(Path(text_file), None, ",".join(record["columns"]), record["target"], None,
                        record.get("fill"))
    return data, 0, f"{text_file} (every row; the season's phase counted from its first row)"
