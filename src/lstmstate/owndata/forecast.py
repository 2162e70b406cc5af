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

from lstmstate.owndata import dataset, differencing, timeline
from lstmstate.owndata.dataset import Numbers
from lstmstate.owndata.scaling import Scaling
from lstmstate.trained import recursion
from lstmstate.trained.saved import SavedExperiment

LOW, HIGH = 5, 95  # the band across seeds, in percent


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
        low, high = self.band
        seeds = self.per_seed.shape[0]
        lines = ["step,time,median,p5,p95," + ",".join(f"seed_index_{i}" for i in range(seeds))]
        for h in range(self.horizon):
            lines.append(",".join([str(h + 1), self.labels[h], f"{self.median[h]:.6g}", f"{low[h]:.6g}",
                                   f"{high[h]:.6g}", *(f"{v:.6g}" for v in self.per_seed[:, h])]))
        return "\n".join(lines) + "\n"


def series(saved: SavedExperiment, path: Path | None = None) -> Numbers:
    """The series ``saved`` was trained on, read again from ``path`` (default: the file the run
    recorded) and checked against the run's record: same columns, rows and values."""
    _require_numbers(saved)
    record = saved.details.get("data", {})
    path = Path(path if path is not None else record.get("file", ""))
    if not path.is_file():
        raise ValueError(f"the series of {saved.name!r} was read from {record.get('file')!r}, which is not a file "
                         "here; give the same CSV with --data")
    data = dataset.read(path, None, ",".join(record["columns"]), record["target"], record.get("time_column"),
                        record.get("fill"))
    if data.items != record.get("items") or ("sha256" in record and data.checksum != record["sha256"]):
        raise ValueError(f"{path} is not the series {saved.name!r} was trained on ({record.get('items')} rows of "
                         f"{', '.join(record['columns'])}, checksum recorded in its setup.json); give that CSV with --data")
    return data


def _require_numbers(saved: SavedExperiment) -> None:
    if not saved.numbers:
        raise ValueError(f"{saved.name!r} is a model of symbols: forecast and backtest need a model of numbers "
                         "(trained on a CSV); use generate for symbols")
    record = saved.details.get("data", {})
    if list(record.get("columns", [])) != [record.get("target")]:
        raise ValueError(f"{saved.name!r} reads the columns {', '.join(record.get('columns', []))}: a forecast has no "
                         "future values of the columns other than the target to feed it; train on the target alone "
                         f"(--columns {record.get('target')}) to forecast")


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
                                 modelled_origins, horizon, saved.stateful)
    finite = np.isfinite(scaled).all(axis=(1, 2))
    if not finite.any():
        raise ValueError(f"every seed of {saved.name!r} forecasts non-finite values (training diverged)")
    forecasts = scaling.invert(scaled[finite], data.target_index)
    if changes:
        forecasts = differencing.levels(forecasts, data.target_values[np.asarray(origins)][None, :])
    return forecasts


def forecast_of(saved: SavedExperiment, data: Numbers, horizon: int, origin: int | None = None) -> Forecast:
    """Every seed's forecast of ``horizon`` values after ``origin`` (default: the last row)."""
    _require_numbers(saved)
    if horizon < 1:
        raise ValueError(f"--horizon must be at least 1, got {horizon}")
    origin = data.items - 1 if origin is None else origin
    first = first_origin(saved)
    if not first <= origin < data.items:
        raise ValueError(f"--origin {origin} is out of range: the series has rows 0..{data.items - 1}, and the model "
                         f"reads {first + 1} values, so the origin can be {first}..{data.items - 1}")
    per_seed = model_forecasts(saved, data, np.array([origin]), horizon)[:, 0, :]  # (seed, horizon)
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
    return (0 if saved.stateful else saved.spec.steps * saved.spec.features - 1) + changes
