"""A backtest of a saved model of numbers: H-step forecasts from every origin in the held-out
part (every ``stride``-th), from the true past, without retraining, scored per horizon step
beside the number baselines forecasting H steps from the same origins.

::

    training part ........ | held-out part ..............
                           t0 -> forecasts t0+1 .. t0+H      compared with the true values
                           t0+S -> ...                        (origins every S, the last at end - H)

Errors are MAE, RMSE and MASE (Hyndman & Koehler, 2006: MAE divided by the mean absolute
one-step change of the training part, so 1 is as good as persistence one step ahead in
training). The seeds' errors are summarised as a mean with a 95% bootstrap interval.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmstate.core import budget, statistics
from lstmstate.core.statistics import RMSE
from lstmstate.owndata import baselines
from lstmstate.owndata.baselines import Baseline
from lstmstate.owndata.dataset import Numbers
from lstmstate.owndata.forecast import model_forecasts, series
from lstmstate.owndata.season import check as check_season, choose as chosen_season
from lstmstate.owndata.split import VALIDATION, Split
from lstmstate.storage import runfolder
from lstmstate.trained.saved import SavedExperiment
from lstmstate.owndata import verdicts

MEASURES = ("mae", "rmse", "mase")
EXAMPLE_CONTEXT = 120  # values before the origin that the report's example figure shows


@dataclass(frozen=True)
class Backtest:
    """H-step forecasts of the model's seeds and of each baseline from the same origins."""

    framing: str
    horizon: int
    stride: int
    origins: np.ndarray  # (origin,) rows from 0, each the last value its forecast reads
    actual: np.ndarray  # (origin, horizon) the true values
    seeds: np.ndarray  # (seed, origin, horizon) the model's forecasts, target units
    baselines: dict  # name -> (origin, horizon) forecasts
    scale: float  # MASE's denominator: mean |y(t) - y(t-1)| over the training part
    history: np.ndarray  # (item,) the target's values, for the example figure

    def errors(self, forecasts: np.ndarray) -> dict[str, np.ndarray]:
        """MAE, RMSE and MASE per horizon step of ``forecasts`` ``(..., origin, horizon)``: each
        ``(..., horizon)``, plus ``overall`` versions over every step ``(...)``."""
        error = forecasts - self.actual
        mae, rmse = np.abs(error).mean(axis=-2), np.sqrt((error ** 2).mean(axis=-2))
        return {"mae": mae, "rmse": rmse, "mase": mae / self.scale,
                "overall_mae": np.abs(error).mean(axis=(-2, -1)), "overall_rmse": np.sqrt((error ** 2).mean(axis=(-2, -1))),
                "overall_mase": np.abs(error).mean(axis=(-2, -1)) / self.scale}

    def verdicts(self) -> list[str]:
        """Per horizon step, in words: the model's seeds (RMSE) against the strongest baseline there."""
        seeds = self.errors(self.seeds)["rmse"]  # (seed, horizon)
        rows = {name: self.errors(f)["rmse"] for name, f in self.baselines.items()}  # name -> (horizon,)
        lines = []
        for h in range(self.horizon):
            best = min(rows, key=lambda name: rows[name][h])
            baseline = Baseline(best, RMSE, float(rows[best][h]), "")
            lines.append(f"{h + 1} step{'s' if h else ''} ahead: {verdicts.judge(seeds[:, h], baseline)}")
        return lines

    def payload(self) -> dict:
        """results.json's ``backtest`` block: every measure per step and overall, for the seeds
        (mean, interval, per seed) and for each baseline, and the verdicts."""
        seeds = self.errors(self.seeds)
        block = {"framing": self.framing, "horizon": self.horizon, "stride": self.stride,
                 "origins": len(self.origins), "first_origin": int(self.origins[0]), "mase_scale": self.scale,
                 "lstm": {}, "baselines": {}, "verdicts": self.verdicts()}
        for measure in MEASURES:
            per_step = seeds[measure]  # (seed, horizon)
            block["lstm"][measure] = {"mean": per_step.mean(axis=0).round(6).tolist(),
                                      "ci95": [list(statistics.bootstrap_ci(per_step[:, h])) for h in range(self.horizon)],
                                      "overall": {"mean": float(seeds[f"overall_{measure}"].mean()),
                                                  "ci95": list(statistics.bootstrap_ci(seeds[f"overall_{measure}"]))}}
        for name, forecasts in self.baselines.items():
            errors = self.errors(forecasts)
            block["baselines"][name] = {m: {"per_step": np.asarray(errors[m]).round(6).tolist(),
                                            "overall": float(errors[f"overall_{m}"])} for m in MEASURES}
        block["example"] = self.example()
        return block

    def example(self, context: int = EXAMPLE_CONTEXT) -> dict:
        """The forecast from the first origin (the end of the training part) for the report's
        figure: the values before it, the median and 5-95% band over seeds, and the true values."""
        origin = int(self.origins[0])
        start = max(0, origin + 1 - context)
        low, high = np.percentile(self.seeds[:, 0, :], [5, 95], axis=0)
        return {"origin": origin, "history_start": start, "history": self.history[start:origin + 1].round(6).tolist(),
                "median": np.median(self.seeds[:, 0, :], axis=0).round(6).tolist(), "low": low.round(6).tolist(),
                "high": high.round(6).tolist(), "actual": self.actual[0].round(6).tolist()}


def run(saved: SavedExperiment, horizon: int, stride: int = 1, data: Numbers | None = None,
        season: int | None = None) -> Backtest:
    """Backtest ``saved`` on its own held-out part: origins from the last training row, every
    ``stride`` rows, while ``horizon`` true values follow."""
    data = series(saved, None) if data is None else data
    if horizon < 1 or stride < 1:
        raise ValueError(f"`horizon` and `stride` must be at least 1, got {horizon} and {stride}")
    record = saved.details["data"]
    train_items = int(record["train_items"])
    # The validation part the run chose on; a run of a version without one chose nothing there: the
    # default fraction stands in, taken from the end of its training part as train does.
    validation_items = int(record.get("validation_items") or max(1, round(data.items * VALIDATION)))
    split = Split(data.items, train_items, float(record.get("holdout", 0.2)), validation_items,
                  float(record.get("validation", VALIDATION)))
    last = data.items - 1 - horizon
    if last < train_items - 1:
        raise ValueError(f"`horizon` {horizon} is too long for the held-out part ({data.items - train_items} rows): "
                         f"it can be 1..{data.items - train_items}")
    # The forecasts and the baselines' beside them held at once: checked before any is made.
    budget.check_backtest(len(saved.seeds), data.items - train_items, horizon, stride)
    origins = np.arange(train_items - 1, last + 1, stride)
    forecasts = model_forecasts(saved, data, origins, horizon)  # diverged seeds left out
    values = data.target_values
    actual = values[origins[:, None] + np.arange(1, horizon + 1)[None, :]]
    if season is None:
        # The season the run's baselines had (given, the calendar's or detected); else chosen again.
        recorded = saved.details.get("season") or {}
        season = recorded.get("length") if "length" in recorded else chosen_season(data, split).length
    else:
        check_season(season, train_items)
    found = baselines.multi_step(values, split, origins, horizon, season)
    scale = float(np.mean(np.abs(np.diff(values[:train_items]))))
    return Backtest(saved.name, horizon, stride, origins, actual, forecasts, found, scale if scale > 0 else 1.0,
                    values)


def kept(saved: SavedExperiment, backtest: Backtest) -> tuple[dict, Path | None]:
    """``backtest``'s results.json block, kept in the run's results.json (``record``) when the
    saved framing belongs to a whole run folder; the folder it was kept in, or None."""
    run_folder = saved.folder.parent if saved.folder is not None else None
    if run_folder is None or not (run_folder / runfolder.RESULTS).is_file():
        return backtest.payload(), None
    return record(run_folder, backtest), run_folder


def record(run_folder: Path, backtest: Backtest) -> dict:
    """Keep ``backtest`` in the run's results.json (``backtest[FRAMING]``), so the report shows it;
    returns the block written."""
    block = backtest.payload()
    with runfolder.locked(run_folder):  # another command writing the folder would interleave
        payload = runfolder.read_results(run_folder)
        payload.setdefault("backtest", {})[backtest.framing] = block
        runfolder.write_results(run_folder, payload)
    return block
