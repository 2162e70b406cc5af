"""Every number baseline on a 5,000-value series, timed: persistence, seasonal naive, AR(p) chosen
on the validation part, and statsforecast's AutoETS, AutoARIMA and Theta, fitted on the training
part and scored one step ahead on the held-out part (the last 20%), as ``train`` and ``compare``
fit them once per run.

The series is hourly-like: a level with a slow trend and a random walk, a daily cycle of 24, and
noise; once with an hourly time column (the calendar gives the season) and once without (the
season is detected).

Usage::

    python bench/number_baselines.py            # about 20-30 s per case on a 2-core AMD EPYC
"""

import platform
import time

import numpy as np
import pandas as pd

from lstmstate.owndata import baselines, season
from lstmstate.owndata.dataset import Numbers
from lstmstate.owndata.split import split


def series(items: int = 5000) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(items)
    return 100 + 0.01 * t + 10 * np.sin(2 * np.pi * t / 24) + np.cumsum(rng.normal(0, 0.3, items)) + rng.normal(
        0, 1, items)


def processor() -> str:
    """The CPU's model name, as /proc/cpuinfo gives it (Linux), else what Python knows."""
    try:
        with open("/proc/cpuinfo") as info:
            return next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main() -> None:
    values = series()
    hours = tuple(str(stamp) for stamp in pd.date_range("2020-01-01", periods=len(values), freq="h"))
    print(f"{processor()}, {len(values)} values, last 20% held out")
    for case, labels in (("hourly time column", hours), ("no time column", None)):
        data = Numbers("synthetic", ("y",), "y", values[:, None], "time" if labels else None, labels)
        parts = split(len(values), 0.2)
        began = time.perf_counter()
        chosen = season.choose(data, parts)
        found = baselines.for_numbers(values, parts, np.arange(parts.train_items, len(values)), chosen)
        seconds = time.perf_counter() - began
        print(f"{case}: {chosen.describe()}; all baselines {seconds:.1f} s")
        for baseline in found:
            print(f"  {baseline.name:<40} RMSE {baseline.score:.4f}")


if __name__ == "__main__":
    main()
