"""Forecasts and backtests of a saved model of numbers, on small series made here with known
answers: H-step forecasts against the model's own one-step predictions, a sine forecast ahead, a
random walk where persistence must win, AR(p) forecasts against their recursion by hand."""

import json

import numpy as np
import pytest

from conftest import run_cli
from lstmstate.owndata import backtest, baselines, dataset, forecast, timeline, training
from lstmstate.trained import saved
from lstmstate.owndata.split import split as split_sequence
from lstmstate.owndata.plan import Plan
from lstmstate.owndata import verdicts


def _write(path, values, time=None):
    head = "year,y\n" if time is not None else "y\n"
    rows = [f"{t},{v:.6f}\n" for t, v in zip(time, values)] if time is not None else [f"{v:.6f}\n" for v in values]
    path.write_text(head + "".join(rows))
    return path


@pytest.mark.parametrize("framing", ["window-timesteps", "stateful"])
def test_one_step_forecasts_equal_the_held_out_predictions(tmp_path, capsys, monkeypatch, framing):
    """A forecast of one step from each held-out origin reads the same inputs as one-step
    scoring (the window before it; the stream from the start), so it must give the same numbers."""
    values = np.sin(np.arange(120) / 4) + 0.1 * np.random.default_rng(0).normal(size=120)
    path = _write(tmp_path / "s.csv", values)
    out = tmp_path / "run"
    code, _, _ = run_cli(monkeypatch, capsys, "train", "--data", path, "--target", "y", "--framing", framing,
                         "--window", 4, "--epochs", 3, "--seeds", 2, "--out", out, "--quiet")
    assert code == 0
    model = saved.load(out)
    data = forecast.series(model)
    result = backtest.run(model, horizon=1)
    payload = json.loads((out / "results.json").read_text())
    # Persistence one step ahead from the same origins is the held-out persistence score.
    assert result.errors(result.baselines["persistence"])["rmse"][0] == pytest.approx(
        {b["name"]: b["score"] for b in payload["baselines"]}["persistence"])
    per_seed_rmse = result.errors(result.seeds)["rmse"][:, 0]
    np.testing.assert_allclose(per_seed_rmse, payload["holdout"]["per_seed"], rtol=1e-4)
    assert data.items == 120


def test_a_sine_is_forecast_ten_steps_ahead(tmp_path, capsys, monkeypatch):
    values = np.sin(2 * np.pi * np.arange(300) / 25)
    path = _write(tmp_path / "sine.csv", values, time=np.arange(1900, 2200))
    out = tmp_path / "run"
    code, _, _ = run_cli(monkeypatch, capsys, "train", "--data", path, "--columns", "y", "--target", "y",
                         "--framing", "window-features", "--window", 8, "--epochs", 60, "--seeds", 3, "--out", out,
                         "--quiet")
    assert code == 0
    code, stdout, _ = run_cli(monkeypatch, capsys, "forecast", out, "--horizon", 10, "--origin", 249,
                              "--out", tmp_path / "f.csv", "--png", tmp_path / "f.png")
    assert code == 0 and "year" in stdout and "2150" in stdout  # the time column's labels, row 250 = 2150
    rows = (tmp_path / "f.csv").read_text().splitlines()
    assert rows[0].startswith("step,time,median,p5,p95") and len(rows) == 11
    median = np.array([float(row.split(",")[2]) for row in rows[1:]])
    # Measured: a largest error of about 0.05 on an amplitude of 1; 0.2 leaves room for other machines.
    assert np.abs(median - values[250:260]).max() < 0.2
    assert (tmp_path / "f.png").stat().st_size > 1000
    # After the end of the data the labels go on one year at a time.
    code, stdout, _ = run_cli(monkeypatch, capsys, "forecast", out, "--horizon", 3)
    assert code == 0 and "2200" in stdout and "2202" in stdout


def test_persistence_wins_on_a_random_walk_and_the_backtest_says_so(tmp_path, capsys, monkeypatch):
    """The held-out part of this walk wanders beyond anything seen in training; a model of the
    scaled training values cannot follow it, and repeating the last value is the best forecast a
    random walk has."""
    rng = np.random.default_rng(11)
    values = np.cumsum(rng.normal(size=300))
    path = _write(tmp_path / "walk.csv", values)
    out = tmp_path / "run"
    code, _, _ = run_cli(monkeypatch, capsys, "train", "--data", path, "--target", "y", "--framing", "window-timesteps",
                         "--window", 5, "--epochs", 10, "--seeds", 3, "--out", out, "--quiet")
    assert code == 0
    code, stdout, _ = run_cli(monkeypatch, capsys, "backtest", out, "--horizon", 3)
    assert code == 0
    result = backtest.run(saved.load(out), horizon=3)
    lines = result.verdicts()
    # AR(p) fitted on a walk is close to persistence; whichever is strongest, it beats the LSTM ...
    assert all(" beats every seed" in line or " beats the LSTM" in line for line in lines)
    assert "1 step ahead:" in stdout and lines[0] in stdout
    # ... and persistence itself beats every seed at every step.
    seeds = result.errors(result.seeds)["rmse"]
    persistence = result.errors(result.baselines["persistence"])["rmse"]
    for h in range(3):
        judged = verdicts.judge(seeds[:, h], baselines.Baseline("persistence", "rmse", float(persistence[h]), ""))
        assert judged.startswith("persistence beats every seed"), judged


def test_autoregression_forecasts_are_its_recursion_by_hand():
    rng = np.random.default_rng(3)
    values = np.zeros(200)
    for t in range(2, 200):
        values[t] = 0.5 + 1.2 * values[t - 1] - 0.5 * values[t - 2] + rng.normal()
    parts = split_sequence(200, 0.2)  # the training part is the first 160
    p, params, _ = baselines.fit_autoregression(values, parts)
    origins = np.array([159, 170])
    found = baselines.multi_step(values, parts, origins, 4, season=7)
    ar = found[f"AR({p})"]
    for row, origin in enumerate(origins):
        history = list(values[:origin + 1])
        for h in range(4):
            history.append(params[0] + sum(params[i] * history[-i] for i in range(1, p + 1)))
            assert ar[row, h] == pytest.approx(history[-1])
    # Seasonal naive repeats the last season: 1..7 steps ahead read 7..1 steps back, 8 steps wraps.
    assert found["seasonal naive (season 7)"][0].tolist() == values[[153, 154, 155, 156]].tolist()
    np.testing.assert_array_equal(found["persistence"], values[origins][:, None].repeat(4, axis=1))


def test_a_different_csv_is_refused(tmp_path, capsys, monkeypatch):
    values = np.sin(np.arange(80) / 3)
    path = _write(tmp_path / "s.csv", values)
    out = tmp_path / "run"
    code, _, _ = run_cli(monkeypatch, capsys, "train", "--data", path, "--target", "y", "--epochs", 1, "--seeds", 1,
                         "--out", out, "--quiet")
    assert code == 0
    other = _write(tmp_path / "other.csv", values + 1)
    code, _, stderr = run_cli(monkeypatch, capsys, "forecast", out, "--horizon", 2, "--data", other)
    assert code == 2 and "is not the series" in stderr and len(stderr.strip().splitlines()) == 1
    code, _, stderr = run_cli(monkeypatch, capsys, "backtest", out, "--horizon", 500)
    assert code == 2 and "--horizon 500 is too long" in stderr
    code, _, stderr = run_cli(monkeypatch, capsys, "forecast", out, "--horizon", 2, "--origin", 80)
    assert code == 2 and "--origin 80 is out of range" in stderr


def test_time_labels_are_read_and_must_increase(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("date,y\n2020-01-01,1\n2020-02-01,2\n2020-03-01,3\n")
    data = dataset.read(path, target="y")
    assert data.time_column == "date" and data.columns == ("y",)  # the time labels rows; it is no feature
    assert timeline.future_labels(list(data.labels), 2) == ["2020-04-01", "2020-05-01"]
    path.write_text("date,y\n2020-01-01,1\n2020-01-01,2\n2020-01-02,2\n")
    with pytest.raises(ValueError, match="does not increase at data row 2.*a duplicate time"):
        dataset.read(path, target="y", time_column="date")
    # Undeclared, a column with a duplicate is no time: it is read as a feature, and is not a number.
    with pytest.raises(ValueError, match="column 'date' holds '2020-01-01', which is not a number"):
        dataset.read(path, target="y")


def test_a_gap_or_an_empty_cell_names_its_row_unless_filled(tmp_path, capsys, monkeypatch):
    path = tmp_path / "gap.csv"
    rows = [(1950 + i, 10 + i) for i in range(60) if i != 20]  # 1970 missing
    path.write_text("year,y\n" + "".join(f"{t},{v}\n" for t, v in rows))
    code, _, stderr = run_cli(monkeypatch, capsys, "train", "--data", path, "--target", "y", "--epochs", 1,
                              "--seeds", 2, "--quiet")
    assert code == 2 and "has a gap at data row 21: '1971' follows '1969'" in stderr
    code, stdout, _ = run_cli(monkeypatch, capsys, "train", "--data", path, "--target", "y", "--epochs", 1,
                              "--seeds", 2, "--fill", "interpolate", "--quiet", "--out", tmp_path / "run")
    assert code == 0 and "60 rows" in stdout and "1 value filled (interpolate)" in stdout
    data = forecast.series(saved.load(tmp_path / "run"))
    assert data.values[20, 0] == 30.0 and data.labels[20] == "1970"  # the straight line between 1969 and 1971
    holes = tmp_path / "holes.csv"
    holes.write_text("year,y\n2001,1\n2002,\n2003,3\n" + "".join(f"{2004 + i},{i}\n" for i in range(30)))
    code, _, stderr = run_cli(monkeypatch, capsys, "train", "--data", holes, "--target", "y", "--epochs", 1, "--quiet")
    assert code == 2 and "line 3: column 'y' has no value" in stderr
    constant = tmp_path / "constant.csv"
    constant.write_text("y\n" + "5\n" * 30)
    code, _, stderr = run_cli(monkeypatch, capsys, "train", "--data", constant, "--target", "y", "--epochs", 1)
    assert code == 2 and "is constant" in stderr


def test_differencing_follows_a_trend_that_levels_cannot(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(240)
    path = _write(tmp_path / "trend.csv", 0.5 * t + 3 * np.sin(t / 4) + rng.normal(size=240))
    data = dataset.read(path, target="y")
    plan = dict(framing="window-timesteps", window=6, epochs=20, seeds=2, units=8)
    levels = training.train(data, Plan(**plan))
    changes = training.train(data, Plan(**plan, differencing=1))
    # The held-out levels lie above anything in training: a model of levels cannot reach them.
    assert changes.scores.max() < 0.5 * levels.scores.min()


def test_a_direct_model_forecasts_its_horizon_at_once(tmp_path, capsys, monkeypatch):
    values = np.sin(2 * np.pi * np.arange(200) / 20)
    path = _write(tmp_path / "sine.csv", values)
    out = tmp_path / "run"
    code, _, _ = run_cli(monkeypatch, capsys, "train", "--data", path, "--target", "y", "--framing", "window-features",
                         "--window", 6, "--horizon", 4, "--epochs", 40, "--seeds", 2, "--out", out, "--quiet")
    assert code == 0
    model = saved.load(out)
    assert model.spec.outputs == 4
    result = forecast.forecast_of(model, forecast.series(model), 4, origin=179)
    assert np.abs(result.median - values[180:184]).max() < 0.2
    with pytest.raises(ValueError, match="`horizon` 5 is longer than the 4 values"):
        forecast.forecast_of(model, forecast.series(model), 5)
    code, _, stderr = run_cli(monkeypatch, capsys, "train", "--data", path, "--target", "y", "--framing", "stateful",
                              "--horizon", 4, "--epochs", 1)
    assert code == 2 and "needs a window framing" in stderr
