"""A forecast of the user's series: H values after an origin (by default the end of the data), by
every seed of a saved model of numbers, with the median over seeds and a 5-95% band across them,
in the target's units.

The saved run keeps what the series was (file, columns, target, length and a checksum of its
values) but not the values: they are read again from the CSV and checked to be the same series
the model was trained on, so a forecast never quietly continues another series::

    values ... z(t-2) z(t-1) z(t) | ẑ(t+1) ... ẑ(t+H)      t = the origin (default: the last row)
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lstmstate.core import budget
from lstmstate.owndata import dataset, differencing, timeline
from lstmstate.owndata.dataset import Numbers
from lstmstate.owndata.scaling import Scaling
from lstmstate.storage import files
from lstmstate.trained import recursion
from lstmstate.trained.saved import SavedExperiment

LOW, HIGH = 5, 95  # the band across seeds, in percent
# What a forecast step costs besides its numbers (core.budget): its label as a Python string, and
# its CSV line (about 12 characters a value) made three times over: the line, the text, its bytes.
LABEL_BYTES, CSV_VALUE_BYTES, CSV_COPIES = 160, 12, 3
FIGURE_STEPS = 10_000  # --png: more steps than a figure has pixels only slow matplotlib down (minutes)
SHOWN_STEPS = 1000  # the command line's table: the first this many steps; --out has every one


@dataclass(frozen=True)
class Forecast:
    """Every seed's forecast of ``horizon`` values after ``origin``."""

    framing: str  # the saved framing that made it
    origin: int  # the last row (from 0) the forecast reads
    per_seed: np.ndarray  # (seed, horizon) in the target's units
    labels: tuple[str, ...]  # (horizon,) the time of each forecast value ("+k" without a time column)
    time_column: str | None  # the CSV column the labels come from
    history: np.ndarray  # (item,) the target's values, for the figure
    history_labels: tuple[str, ...] | None  # (item,) the time column's labels, when there is one
    actual: np.ndarray | None  # (horizon,) the true values, where the origin leaves them in the data

    @property
    def horizon(self) -> int:
        return self.per_seed.shape[1]

    @property
    def median(self) -> np.ndarray:
        return np.median(self.per_seed, axis=0)

    @property
    def band(self) -> tuple[np.ndarray, np.ndarray]:
        return np.percentile(self.per_seed, LOW, axis=0), np.percentile(self.per_seed, HIGH, axis=0)

    def csv(self) -> str:
        """The forecast as CSV: step, time, median, 5% and 95% across seeds, then every seed."""
        (low, high), median = self.band, self.median  # once: each is over every step (a step at a time was quadratic)
        seeds = self.per_seed.shape[0]
        header = "step,time,median,p5,p95," + ",".join(f"seed_index_{i}" for i in range(seeds))
        # One format applied to plain floats: 1.2 us a row, where f-strings on NumPy values took 3
        # (a stop writes the steps made so far, some millions for a small model, while the user waits).
        row = ",".join(["%d", "%s"] + ["%.6g"] * (3 + seeds))
        columns = [median.tolist(), low.tolist(), high.tolist(), *(seed.tolist() for seed in self.per_seed)]
        return "\n".join([header, *(row % values for values in zip(range(1, self.horizon + 1), self.labels,
                                                                     *columns))]) + "\n"


def series(saved: SavedExperiment, path: Path | None = None) -> Numbers:
    """The series ``saved`` was trained on, read again from ``path`` (default: the file the run
    recorded) and checked against the run's record: same columns, rows and values."""
    _require_numbers(saved)
    return recorded_series(saved, path)


def recorded_series(saved: SavedExperiment, path: Path | None = None, option: str = "`data`") -> Numbers:
    """``series`` of a model of numbers that may read columns besides the target (``cells`` reads
    its state over them; a forecast could not feed them); ``option`` gives another file."""
    if not saved.numbers:
        raise ValueError(f"{saved.name!r} is a model of symbols: it has no series of numbers to read back")
    record = saved.details.get("data", {})
    path = Path(path if path is not None else record.get("file", ""))
    if not path.is_file():
        raise ValueError(f"the series of {saved.name!r} was read from {record.get('file')!r}, which is not a file "
                         f"here; give the same CSV with {option}")
    data = dataset.read(path, None, ",".join(record["columns"]), record["target"], record.get("time_column"),
                        record.get("fill"))
    if data.items != record.get("items") or ("sha256" in record and data.checksum != record["sha256"]):
        raise ValueError(f"{path} is not the series {saved.name!r} was trained on ({record.get('items')} rows of "
                         f"{', '.join(record['columns'])}, checksum recorded in its setup.json); give that CSV with {option}")
    return data


def _require_numbers(saved: SavedExperiment) -> None:
    if not saved.numbers:
        raise ValueError(f"{saved.name!r} is a model of symbols: forecast and backtest need a model of numbers "
                         "(trained on a CSV); use generate for symbols")
    record = saved.details.get("data", {})
    if list(record.get("columns", [])) != [record.get("target")]:
        raise ValueError(f"{saved.name!r} reads the columns {', '.join(record.get('columns', []))}: a forecast has no "
                         "future values of the columns other than the target to feed it; train on the target alone "
                         f"(`columns` {record.get('target')}) to forecast")


def model_forecasts(saved: SavedExperiment, data: Numbers, origins: np.ndarray, horizon: int) -> np.ndarray:
    """Every seed's forecast of ``horizon`` values after each origin, in the target's units
    ``(seed, origin, horizon)``; seeds whose forecasts are not finite (training diverged) are
    left out. A model of changes (``--differencing 1``) forecasts changes, summed from the
    origin's level."""
    _require_numbers(saved)
    scaling = Scaling(**{key: tuple(value) for key, value in saved.details["scaling"].items()})
    changes = bool(saved.details.get("plan", {}).get("differencing", 0))
    values = np.diff(data.values, axis=0) if changes else data.values
    # Row t of the series is row t - 1 of its changes: the origin's last change is the one into it.
    modelled_origins = np.asarray(origins) - (1 if changes else 0)
    if changes and int(modelled_origins.min()) < 0:
        raise ValueError("a model of changes cannot forecast from row 0: there is no change into it")
    scaled = recursion.recursive(saved.spec, list(saved.weights), scaling.apply(values)[:, data.target_index],
                                 modelled_origins, horizon, saved.carries_state)
    return _in_units(saved, data, origins, scaled)


def _in_units(saved: SavedExperiment, data: Numbers, origins: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """Scaled forecasts ``(seed, origin, step)`` in the target's units, the non-finite seeds left out."""
    scaling = Scaling(**{key: tuple(value) for key, value in saved.details["scaling"].items()})
    changes = bool(saved.details.get("plan", {}).get("differencing", 0))
    finite = np.isfinite(scaled).all(axis=(1, 2))
    if not finite.any():
        raise ValueError(f"every seed of {saved.name!r} forecasts non-finite values (training diverged)")
    forecasts = scaling.invert(scaled[finite], data.target_index)
    if changes:
        forecasts = differencing.levels(forecasts, data.target_values[np.asarray(origins)][None, :])
    return forecasts


class Stopped(KeyboardInterrupt):
    """Ctrl-C or SIGTERM during a forecast: ``finished`` holds the steps made before it (or None
    when none were), so a caller can keep them; anyone else sees the usual KeyboardInterrupt."""

    def __init__(self, finished: "Forecast | None", asked: int):
        super().__init__()
        self.finished, self.asked = finished, asked


def check(saved: SavedExperiment, data: Numbers, horizon: int, origin: int | None = None,
          out: Path | None = None, png: Path | None = None) -> int:
    """Everything about a forecast that can fail, checked before any of it is made; returns the
    origin. ``horizon`` must fit in memory (``core.budget``) with its labels and CSV text, its time
    labels must exist (pandas' dates end in 2262), ``--png`` draws at most ``FIGURE_STEPS`` steps,
    and ``out`` and ``png`` must take a file (no link, no folder, a writable folder)."""
    _require_numbers(saved)
    if horizon < 1:
        raise ValueError(f"`horizon` must be at least 1, got {horizon}")
    origin = data.items - 1 if origin is None else origin
    first = first_origin(saved)
    if not first <= origin < data.items:
        raise ValueError(f"`origin` {origin} is out of range: the series has rows 0..{data.items - 1}, and the model "
                         f"reads {first + 1} values, so the origin can be {first}..{data.items - 1}")
    if saved.spec.outputs > 1 and horizon > saved.spec.outputs:  # a direct model sees as far as it was trained to
        raise ValueError(f"`horizon` {horizon} is longer than the {saved.spec.outputs} values this model was trained "
                         f"to output (train --horizon); ask for 1..{saved.spec.outputs}")
    if data.labels is not None:
        known = max(0, min(horizon, data.items - 1 - origin))  # labels of rows in the data already exist
        room = timeline.future_room(list(data.labels), horizon - known)
        if known + room < horizon:
            end = "float's largest number" if _numeric(data.labels[-1]) else \
                f"the last date pandas holds ({pd.Timestamp.max.date()})"
            raise ValueError(f"`horizon` {horizon} runs past the last time the labels can name: {data.time_column} "
                             f"after {data.labels[-1]}, in its step, reaches {end} in {room} steps; `horizon` "
                             f"{known + room} or fewer fit")
    seeds = len(saved.seeds)
    budget.check_forecast(seeds, horizon, per_step=LABEL_BYTES + CSV_COPIES * CSV_VALUE_BYTES * (5 + seeds))
    if png is not None and horizon > FIGURE_STEPS:
        raise ValueError(f"`png` draws at most {FIGURE_STEPS} forecast steps (a figure is some thousand pixels wide), "
                         f"got `horizon` {horizon}: give `horizon` {FIGURE_STEPS} or fewer with `png`, or leave it out")
    files.check_destinations({"out": out, "png": png})
    return origin


def _numeric(label: str) -> bool:
    try:
        float(label)
    except ValueError:
        return False
    return True


def forecast_of(saved: SavedExperiment, data: Numbers, horizon: int, origin: int | None = None,
                out: Path | None = None, png: Path | None = None) -> Forecast:
    """Every seed's forecast of ``horizon`` values after ``origin`` (default: the last row), checked
    first (``check``, with ``out`` and ``png`` where it will be written). Made in compiled blocks:
    a stop raises ``Stopped`` with the steps finished."""
    origin = check(saved, data, horizon, origin, out, png)
    try:
        per_seed = model_forecasts(saved, data, np.array([origin]), horizon)[:, 0, :]  # (seed, horizon)
    except recursion.Stopped as stop:
        if stop.finished is None or stop.finished.shape[-1] == 0:
            raise Stopped(None, horizon) from None
        finished = _in_units(saved, data, np.array([origin]), stop.finished)[:, 0, :]
        raise Stopped(_made(saved, data, origin, finished), horizon) from None
    return _made(saved, data, origin, per_seed)


def kept(saved: SavedExperiment, data: Numbers, horizon: int, origin: int | None = None,
         out: Path | None = None, png: Path | None = None) -> tuple[Forecast, bool]:
    """``forecast_of``, and whether a stop cut it short: then the steps finished (a stop before
    the first block re-raises), so a caller can still show and write them."""
    try:
        return forecast_of(saved, data, horizon, origin, out, png), False
    except Stopped as stop:
        if stop.finished is None:
            raise
        return stop.finished, True


def save(result: Forecast, title: str, out: Path | None = None, png: Path | None = None) -> list[str]:
    """Write ``result`` as CSV to ``out`` and its figure (history, median, band) to ``png``, each
    when given; one line for each file written."""
    from lstmstate.output import figures

    written = []
    if out is not None:
        try:
            files.write_atomically(out, result.csv().encode())
        except OSError as error:
            raise ValueError(f"cannot write {out}: {error.strerror or error}") from None
        written.append(f"forecast written to {out}")
    if png is not None:
        low, high = result.band
        try:
            figures.save_png(figures.forecast_band(result.history, result.origin, result.median, low, high,
                                                   result.actual, title), png)
        except OSError as error:
            raise ValueError(f"cannot write the figure {png}: {error.strerror or error}") from None
        written.append(f"figure written to {png}")
    return written


def _made(saved: SavedExperiment, data: Numbers, origin: int, per_seed: np.ndarray) -> Forecast:
    """The ``Forecast`` of ``per_seed`` ``(seed, step)``, with its labels and the true values."""
    horizon = per_seed.shape[1]
    name, history_labels = data.time_column, None if data.labels is None else list(data.labels)
    if history_labels is not None:
        ahead = history_labels[origin + 1:origin + 1 + horizon]
        labels = ahead + timeline.future_labels(history_labels, horizon - len(ahead))
    else:
        labels = [f"{origin + 1 + h}" for h in range(horizon)]  # row numbers, from 0
    end = min(data.items, origin + 1 + horizon)
    actual = data.target_values[origin + 1:end] if end > origin + 1 else None
    return Forecast(saved.name, origin, per_seed, tuple(labels), name, data.target_values,
                    None if history_labels is None else tuple(history_labels), actual)


def first_origin(saved: SavedExperiment) -> int:
    """The earliest row a forecast can start from: the model's window must fit before it (and a
    model of changes needs one more row)."""
    changes = 1 if saved.details.get("plan", {}).get("differencing", 0) else 0
    return (0 if saved.carries_state else saved.spec.steps * saved.spec.features - 1) + changes
