"""The classical models a forecaster fits first (statsforecast's AutoETS, AutoARIMA, Theta), the
season from the calendar, and the validation part: forecasts that read only the past, a verdict
that names ETS where ETS wins, and choices that never read a held-out target."""

import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from conftest import run_cli
from lstmstate.core import framing
from lstmstate.core.model import ModelSpec, recurrent_model, stacked_initial_weights
from lstmstate.owndata import classical, dataset, season, stationarity, timeline, training
from lstmstate.owndata import samples
from lstmstate.owndata import scoring
from lstmstate.owndata.split import split as split_sequence
from lstmstate.owndata.plan import Plan
from lstmstate.owndata import verdicts


def damped_seasonal(seed: int, items: int = 240, m: int = 12, alpha=0.2, beta=0.2, gamma=0.2, phi=0.85,
                    sigma=0.5) -> np.ndarray:
    """ETS(A,Ad,A) drawn from its innovations state space (Hyndman et al., 2008, table 2.3): a
    level, a damped trend and a season of ``m``, each moved by the same innovation."""
    rng = np.random.default_rng(seed)
    level, trend = 100.0, 2.0
    seasonal = list(10 * np.sin(2 * np.pi * np.arange(m) / m))
    values = []
    for _ in range(items):
        now = seasonal[-m]
        error = rng.normal(0, sigma)
        values.append(level + phi * trend + now + error)
        level, trend = level + phi * trend + alpha * error, phi * trend + beta * error
        seasonal.append(now + gamma * error)
    return np.array(values)


def _monthly_csv(path, values, column="y"):
    path.write_text(f"Month,{column}\n" + "".join(f"{2000 + i // 12}-{i % 12 + 1:02d},{v:.6f}\n"
                                                  for i, v in enumerate(values)))
    return path


# ---- the verdict names the model a forecaster runs first --------------------------------------

def test_ets_beats_the_lstm_on_a_seasonal_series_with_a_damped_trend(tmp_path, capsys, monkeypatch):
    """The series is ETS's own kind, monthly: the season comes from the Month column, ETS is the
    strongest baseline (AR, ARIMA and Theta score 0.60 and above; ETS 0.52), and a small LSTM
    trained for a few epochs is judged against it, not against a weaker one. On other draws of
    this process AutoARIMA is often as good: the draw is fixed (seed 11), the fits are not."""
    path = _monthly_csv(tmp_path / "ets.csv", damped_seasonal(11))
    out = tmp_path / "run"
    code, stdout, stderr = run_cli(monkeypatch, capsys, "train", "--data", path, "--target", "y", "--window", 12,
                                   "--epochs", 10, "--seeds", 3, "--units", 8, "--out", out, "--quiet")
    assert code == 0, stderr
    assert "season 12: from the time column Month (monthly)" in stdout
    payload = json.loads((out / "results.json").read_text())
    assert payload["baseline"]["name"].startswith("AutoETS ETS(")
    names = [b["name"] for b in payload["baselines"]]
    for prefix in ("persistence", "seasonal naive (season 12)", "AR(", "AutoETS", "AutoARIMA", "AutoTheta"):
        assert any(name.startswith(prefix) for name in names), (prefix, names)
    others = [b["score"] for b in payload["baselines"] if not b["name"].startswith("AutoETS")]
    assert payload["baseline"]["score"] < min(others)
    assert f"verdict: {payload['baseline']['name']} beats every seed" in stdout
    # The three parts and what the validation part chose are kept.
    parts = payload["data"]["parts"]
    assert parts == {"fitting": [0, 168], "validation": [168, 192], "held_out": [192, 240]}
    chosen = payload["chosen_on_validation"]
    assert chosen["season"] == {"length": 12, "source": "calendar", "reason": "from the time column Month (monthly)"}
    assert any(name.startswith("AR(") for name in chosen) and chosen["lstm"]["epochs_trained"] == 10


# ---- the season ---------------------------------------------------------------------------------

def test_the_calendar_gives_the_season_and_the_user_overrides_it():
    assert timeline.calendar_season([f"1949-{m:02d}" for m in range(1, 13)]) == (12, "monthly")
    assert timeline.calendar_season(["2001-01-01", "2001-04-01", "2001-07-01", "2001-10-01"]) == (4, "quarterly")
    assert timeline.calendar_season(["2020-01-01", "2020-01-02", "2020-01-03"]) == (7, "daily")
    assert timeline.calendar_season(["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 02:00"]) == (24, "hourly")
    assert timeline.calendar_season(["2001-01-01", "2002-01-01", "2003-01-01"]) is None  # years: none
    assert timeline.calendar_season(["1700", "1701", "1702"]) is None  # numbers: no calendar
    values = damped_seasonal(0, items=120)
    labels = tuple(f"{2000 + i // 12}-{i % 12 + 1:02d}" for i in range(120))
    data = dataset.Numbers("x", ("y",), "y", values[:, None], "Month", labels)
    parts = split_sequence(120, 0.2)
    assert season.choose(data, parts).length == 12
    assert season.choose(data, parts, given=6) == season.Season(6, "given", "given with --season")
    # Without a time column the season is detected, and says so.
    plain = dataset.Numbers("x", ("y",), "y", values[:, None])
    detected = season.choose(plain, parts)
    assert detected.source == "detected" and detected.length == 12 and "validation part" in detected.reason


def test_a_multiple_of_the_season_does_not_replace_it_by_chance():
    """A sine of period 12 with noise: on its 24 validation values lag 24 happens to score better
    (RMSE 1.13 against 1.28), not significantly; the season stays 12."""
    rng = np.random.default_rng(1)
    values = 10 * np.sin(2 * np.pi * np.arange(240) / 12) + rng.normal(0, 1, 240)
    parts = split_sequence(240, 0.25)
    validation = np.arange(parts.fit_items, parts.train_items)
    rmse = {lag: np.sqrt(np.mean((values[validation] - values[validation - lag]) ** 2)) for lag in (12, 24)}
    assert rmse[24] < rmse[12]  # the chance the rule guards against is there
    assert season.detect(values, parts).length == 12


# ---- forecasts from the true past with the training parameters ------------------------------------

@pytest.fixture(scope="module")
def fitted_models():
    values = damped_seasonal(3, items=300)
    models, failed = classical.fit(values, 240, 12)
    assert failed == [] and [m.name.split()[0] for m in models] == ["AutoETS", "AutoARIMA", "AutoTheta"]
    return values, models


def test_one_step_forecasts_read_only_the_past(fitted_models):
    """Values changed from row 270 on leave every forecast before row 270 as it was, and the
    forecast of row 270 too (ARIMA's up to its residual convention: a change of 0.1% of the
    error); each one-step forecast is the forecast made from the origin before it."""
    values, models = fitted_models
    changed = values.copy()
    changed[270:] += 100 * np.random.default_rng(0).normal(size=30)
    for model in models:
        before, after = model.one_step(values), model.one_step(changed)
        np.testing.assert_array_equal(before[240:270], after[240:270])
        error = abs(values[270] - before[270])
        tolerance = 1e-3 * abs(changed[270] - after[270]) if model.name.startswith("AutoARIMA") else 0.0
        assert abs(before[270] - after[270]) <= tolerance, model.name
        for row in (240, 255, 299):
            origin = model.ahead(values, row - 1, 1)[0]
            assert origin == pytest.approx(before[row], abs=1e-3 * error if tolerance else 1e-9), model.name
        # Forecasts H steps ahead read the origin's past only.
        np.testing.assert_array_equal(model.ahead(values, 265, 4), model.ahead(changed, 265, 4))


def test_theta_on_the_training_part_is_statsforecasts_own(fitted_models):
    """The Theta model deseasonalized with the training part's factors gives, on the training part,
    exactly the fitted values statsforecast reports for it (where it had nothing after to read)."""
    values, models = fitted_models
    theta = next(m for m in models if m.name.startswith("AutoTheta"))
    assert theta.parameters["model"] in ("DOTM", "DSTM") and theta.parameters["deseasonalized"]
    np.testing.assert_allclose(theta.one_step(values)[:240], theta.model.predict_in_sample()["fitted"], atol=1e-9)


# ---- the validation part ---------------------------------------------------------------------------

@settings(max_examples=200, deadline=None)
@given(items=st.integers(20, 5000), holdout=st.floats(0.05, 0.5), validation=st.floats(0.05, 0.4))
def test_the_three_parts_follow_each_other_and_never_overlap(items, holdout, validation):
    try:
        parts = split_sequence(items, holdout, validation=validation)
    except ValueError as error:
        assert "\n" not in str(error)
        return
    fitting, checked, held = (range(*parts.to_dict()[name]) for name in ("fitting", "validation", "held_out"))
    assert fitting.start == 0 and fitting.stop == checked.start and checked.stop == held.start == parts.train_items
    assert held.stop == items and len(checked) >= 1 and len(held) >= 1


@pytest.mark.parametrize("framing", framing.FRAMINGS)
def test_validation_and_held_out_scoring_read_their_own_targets(framing):
    values = np.sin(np.arange(150) / 4)
    data = dataset.Numbers("x", ("y",), "y", values[:, None])
    parts = split_sequence(150, 0.2)
    framed = samples.frame(data, parts.fitting(), framing, 4, None)
    assert framed.held_out_targets.tolist() == values[parts.fit_items:].tolist()
    validating = samples.part(framed, 0, parts.validation_items)
    held_out = samples.part(framed, parts.validation_items, parts.validation_items + parts.held_out_items)
    assert validating.held_out_targets.tolist() == values[parts.fit_items:parts.train_items].tolist()
    assert held_out.held_out_targets.tolist() == values[parts.train_items:].tolist()
    if framed.carries_state:  # the validation pass ends with the validation part's last target
        assert len(validating.x_scored) == parts.train_items - 1
    spec = ModelSpec("lstm", steps=framed.steps, features=framed.features, outputs=1, units=4,
                     mask_value=framed.mask_value, output_activation="linear")
    weights = stacked_initial_weights(recurrent_model(spec), (0,))
    scored = scoring.Part(data, parts.fit_items, 0, spec, validating)(weights)
    assert scored.every and scored.positions.min() == parts.fit_items and scored.positions.max() == parts.train_items - 1
    scored = scoring.Part(data, parts.train_items, 0, spec, held_out)(weights)
    assert scored.every and scored.positions.min() == parts.train_items and scored.positions.max() == 149


@pytest.mark.parametrize("framing", ["window-timesteps", "stateful"])
def test_patience_reads_no_held_out_target(tmp_path, framing):
    """Two series equal but for their held-out targets: early stopping picks the same epoch and
    keeps the same weights for every seed; only the final held-out scores differ."""
    values = np.sin(np.arange(160) / 5) + 0.1 * np.random.default_rng(0).normal(size=160)
    other = values.copy()
    other[128:] = 10 * other[128:] + 50  # the held-out part: the last 20%
    runs = []
    for name, series in (("a", values), ("b", other)):
        path = tmp_path / f"{name}.csv"
        path.write_text("y\n" + "".join(f"{v:.6f}\n" for v in series))
        plan = Plan(framing=framing, window=4, epochs=12, seeds=2, units=8, learning_rate=0.02,
                             validate_every=1, patience=3)
        runs.append(training.train(dataset.read(path, target="y"), plan))
    first, second = runs
    assert first.split.train_items == 128
    assert first.validation.best_epoch.tolist() == second.validation.best_epoch.tolist()
    np.testing.assert_array_equal(first.validation.curves()["loss"], second.validation.curves()["loss"])
    for a, b in zip(first.population.weights, second.population.weights):
        np.testing.assert_array_equal(a, b)
    assert np.all(np.abs(first.scores - second.scores) > 1)
    assert "optimistic" not in verdicts.against_baseline(first)


def test_validation_out_of_range_is_one_line(tmp_path, capsys, monkeypatch):
    path = tmp_path / "s.csv"
    path.write_text("y\n" + "".join(f"{v:.4f}\n" for v in np.sin(np.arange(60))))
    code, _, stderr = run_cli(monkeypatch, capsys, "train", "--data", path, "--validation", 0, "--quiet")
    assert code == 2 and "--validation must lie strictly between 0 and 1" in stderr and stderr.count("\n") == 1


# ---- levels or changes ---------------------------------------------------------------------------

def test_a_random_walk_is_told_to_try_differencing():
    rng = np.random.default_rng(4)
    walk, noise = np.cumsum(rng.normal(size=300)), rng.normal(size=300)
    parts = split_sequence(300, 0.2)
    advice = stationarity.advice(walk, parts)
    assert advice is not None and "unit root" in advice and advice.endswith("try --differencing 1")
    assert stationarity.advice(noise, parts) is None
    # A series that leaves its training range: the held-out part climbs above every training value.
    trend = np.arange(300.0) + rng.normal(0, 0.1, 300)
    assert stationarity.out_of_range(trend, parts) == 60 and "outside the training part's range" in \
        stationarity.advice(trend, parts)
