"""Forecasting on real series beside the classical baselines: for each series, every framing
trained over seeds (``lstmstate compare``), the best one backtested H steps ahead from every
held-out origin (``lstmstate backtest``), and one-step and H-step RMSE printed for the LSTM (mean
and 95% interval over seeds) beside persistence, seasonal naive and AR(p), with the time each took.

The series ship with statsmodels:

  sunspots   yearly sunspot numbers 1700-2008 (309 values), window 9
  co2        Mauna Loa CO2, weekly 1958-2001 averaged to months (526 values; the months with no
             reading are left empty and filled by --fill interpolate), trend and season:
             --differencing 1, window 24

Usage::

    python bench/forecasting.py                   # both series, 10 seeds, horizon 6 (a few minutes)
    python bench/forecasting.py --seeds 5 --epochs 100 --only sunspots
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def sunspots(folder: Path) -> Path:
    import statsmodels.api as sm

    path = folder / "sunspots.csv"
    sm.datasets.sunspots.load_pandas().data.astype({"YEAR": int}).to_csv(path, index=False)
    return path


def co2(folder: Path) -> Path:
    import statsmodels.api as sm

    weekly = sm.datasets.co2.load_pandas().data
    monthly = weekly["co2"].resample("MS").mean()  # NaN where a month has no reading
    path = folder / "co2.csv"
    monthly.rename_axis("month").reset_index().assign(month=lambda d: d["month"].dt.date).to_csv(path, index=False)
    return path


SERIES = {
    "sunspots": (sunspots, ["--columns", "SUNACTIVITY", "--target", "SUNACTIVITY", "--window", "9"]),
    "co2": (co2, ["--target", "co2", "--window", "24", "--differencing", "1", "--fill", "interpolate"]),
}


def lstmstate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lstmstate", *args], check=True, text=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--horizon", type=int, default=6)
    parser.add_argument("--only", choices=list(SERIES))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        for name, (make, options) in SERIES.items():
            if args.only and name != args.only:
                continue
            data, out = make(folder), folder / name
            start = time.perf_counter()
            lstmstate("compare", "--data", str(data), *options, "--epochs", str(args.epochs), "--seeds",
                      str(args.seeds), "--out", str(out), "--quiet")
            trained = time.perf_counter() - start
            payload = json.loads((out / "results.json").read_text())
            best = payload["ranking"][0]
            start = time.perf_counter()
            lstmstate("backtest", str(out), "--framing", best, "--horizon", str(args.horizon))
            backtested = time.perf_counter() - start
            block = json.loads((out / "results.json").read_text())["backtest"][best]
            one_step = payload["experiments"][best]["holdout"]
            h = args.horizon - 1
            print(f"\n{name}: {payload['data']['items']} values, {payload['data']['held_out_items']} held out; "
                  f"compare (6 framings x {args.seeds} seeds, {args.epochs} epochs) {trained:.0f} s, backtest "
                  f"{backtested:.1f} s; best framing {best}")
            print(f"  {'model':<34} {'1-step RMSE':>22} {f'{args.horizon}-step RMSE':>22}")
            low, high = one_step["ci95"]
            h_low, h_high = block["lstm"]["rmse"]["ci95"][h]
            print(f"  {'LSTM ' + best:<34} {one_step['mean']:>9.4g} [{low:.4g}, {high:.4g}] "
                  f"{block['lstm']['rmse']['mean'][h]:>9.4g} [{h_low:.4g}, {h_high:.4g}]")
            scores = {b["name"]: b["score"] for b in payload["baselines"]}
            for baseline, errors in block["baselines"].items():
                print(f"  {baseline:<34} {scores.get(baseline, float('nan')):>22.4g} {errors['rmse']['per_step'][h]:>22.4g}")
            print(f"  1-step verdict: {payload['experiments'][best]['against_baseline']}")
            print(f"  {block['verdicts'][h]}")


if __name__ == "__main__":
    main()
