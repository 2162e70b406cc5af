"""Hostile input on the commands for a saved model of numbers and on sweeps: forecast, backtest,
time columns, sweep grids. Sizes and labels are checked before any work, in one line naming the
option and the largest value that fits; a stop keeps the steps made; nothing is written through a
link. Each check is shown to pass on the value it names, so it could fail."""

import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from conftest import run_cli, terminated_after_cpu
from lstmstate.core import budget
from lstmstate.core.model import ModelSpec
from lstmstate.owndata import dataset, forecast, timeline
from lstmstate.storage import files
from lstmstate.sweep import grid as grids
from lstmstate.trained import recursion, saved

CLI = [sys.executable, "-c", "from lstmstate.cli import main; main()"]
MONTHS = 60  # 1960-01 .. 1964-12


def _series(path: Path, with_time: bool) -> Path:
    values = 100 + 10 * np.sin(np.arange(MONTHS) / 3)
    months = pd.date_range("1960-01-01", periods=MONTHS, freq="MS").strftime("%Y-%m")
    rows = [f"{m},{v:.4f}" for m, v in zip(months, values)] if with_time else [f"{v:.4f}" for v in values]
    path.write_text(("month,y\n" if with_time else "y\n") + "\n".join(rows) + "\n")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """Two saved window models of a monthly series, barely trained: with its month column and without."""
    from lstmstate.cli import main

    where = tmp_path_factory.mktemp("numbers")
    made = {}
    for name, with_time in (("monthly", True), ("rows", False)):
        data = _series(where / f"{name}.csv", with_time)
        argv = ["lstmstate", "train", "--data", str(data), "--target", "y", "--window", "4", "--units", "4",
                "--epochs", "1", "--seeds", "2", "--out", str(where / name), "--quiet"]
        if with_time:
            argv += ["--time-column", "month"]
        old, sys.argv = sys.argv, argv
        try:
            with pytest.raises(SystemExit) as ended:
                main()
                raise SystemExit(0)
        finally:
            sys.argv = old
        assert not ended.value.code, ended.value
        made[name] = where / name
    return made


def _error(monkeypatch, capsys, *args) -> str:
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: "), (code, err)
    return err


# ---- forecast: sizes and labels before any work ------------------------------------------------

def test_a_horizon_past_pandas_dates_is_one_line_naming_the_largest_that_fits(runs, monkeypatch, capsys, tmp_path):
    # As found: --horizon 100000 on a monthly run ended in pandas' OutOfBoundsDatetime.
    start = time.perf_counter()
    err = _error(monkeypatch, capsys, "forecast", runs["monthly"], "--horizon", 10 ** 9)
    assert time.perf_counter() - start < 10, "refused before the forecast was made"
    assert "--horizon 1000000000 runs past" in err and "2262-04-11" in err
    most = int(err.split("--horizon ")[-1].split()[0])
    assert most == (2262 - 1964) * 12 + 4 - 12  # 1964-12 to 2262-04-01, the last month that starts in range
    code, _, _ = run_cli(monkeypatch, capsys, "forecast", runs["monthly"], "--horizon", most,
                         "--out", tmp_path / "f.csv")
    assert code == 0
    last = (tmp_path / "f.csv").read_text().splitlines()[-1].split(",")
    assert last[0] == str(most) and last[1] == "2262-04-01"
    _error(monkeypatch, capsys, "forecast", runs["monthly"], "--horizon", most + 1)


def test_a_horizon_too_large_for_memory_names_the_largest_that_fits(runs, monkeypatch, capsys):
    monkeypatch.setattr(budget, "available_memory", lambda: 10 ** 8)  # 100 MB
    err = _error(monkeypatch, capsys, "forecast", runs["rows"], "--horizon", 10 ** 9)
    assert err.startswith("error: --horizon 1000000000 is too large for this machine") and "or fewer fit" in err
    most = int(err.split("; --horizon ")[1].split()[0])
    per_step = forecast.LABEL_BYTES + forecast.CSV_COPIES * forecast.CSV_VALUE_BYTES * (5 + 2)
    budget.check_forecast(2, most, per_step, available=10 ** 8)  # the number it names fits
    with pytest.raises(ValueError):
        budget.check_forecast(2, most + 1, per_step, available=10 ** 8)  # and one more does not


def test_a_backtest_too_large_names_the_smallest_stride_that_fits():
    available = 10 ** 9
    with pytest.raises(ValueError, match=r"`stride` 1 is too small .* `stride` \d+ or more fits") as raised:
        budget.check_backtest(2, held_out=200_000, horizon=50_000, stride=1, available=available)
    fewest = int(str(raised.value).split("; `stride` ")[1].split()[0])
    budget.check_backtest(2, 200_000, 50_000, fewest, available=available)
    with pytest.raises(ValueError):
        budget.check_backtest(2, 200_000, 50_000, fewest - 1, available=available)
    with pytest.raises(ValueError, match="give a shorter `horizon`"):  # one origin is already too many
        budget.check_backtest(2, 10 ** 9, 10 ** 9, 1, available=available)


def test_future_labels_stop_where_pandas_dates_end():
    months = ["2262-01", "2262-02", "2262-03"]
    assert timeline.future_room(months, 10 ** 12) == 1  # 2262-04-01; 2262-05-01 is past 2262-04-11
    assert timeline.future_labels(months, 1) == ["2262-04-01"]
    assert timeline.future_room(["1", "2", "3"], 10 ** 12) == 10 ** 12  # numbers: far from float's end
    assert timeline.future_room(["1e307", "5e307", "9e307"], 10) == 2  # 1.3e308, 1.7e308; then infinity


# ---- forecast: blocks, stops, writes ------------------------------------------------------------

@pytest.mark.parametrize("carried", [False, True])
def test_a_forecast_in_blocks_equals_one_made_at_once(carried):
    spec = ModelSpec("lstm", steps=1 if carried else 3, features=1, outputs=1, units=3)
    generator = np.random.default_rng(0)
    weights = [generator.normal(0, 0.5, (2, *shape)).astype(np.float32) for shape in budget.spec_shapes(spec)]
    scaled = np.sin(np.arange(30) / 3)
    origins = np.array([5, 17, 29])
    whole = recursion.recursive(spec, weights, scaled, origins, 50, carried, block=50)
    assert whole.shape == (2, 3, 50) and np.isfinite(whole).all()
    for block in (1, 7, 49):
        np.testing.assert_array_equal(recursion.recursive(spec, weights, scaled, origins, 50, carried, block), whole)
    # The first steps by hand, for the window model: each prediction slides into the window.
    if not carried:
        from lstmstate.core.model import call
        model = spec.build(initialized=False)
        window = scaled[origins[0] - 2:origins[0] + 1].astype(np.float32)
        for h in range(3):
            y, _, _ = call(model, spec, [w[1] for w in weights], [v.value for v in model.non_trainable_variables],
                           window.reshape(1, 3, 1), spec.zero_state(1))
            assert float(y[0, 0]) == pytest.approx(whole[1, 0, h], abs=1e-5)
            window = np.append(window[1:], np.float32(y[0, 0]))


def test_sigterm_stops_a_long_forecast_in_seconds_and_keeps_the_steps_made(runs, tmp_path):
    # As found: with --horizon 100000000 a SIGTERM took effect only after 352 s.
    out = tmp_path / "long.csv"
    process = subprocess.Popen([*CLI, "forecast", str(runs["rows"]), "--horizon", str(20_000_000), "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Loaded (some 3 s of CPU) and into the forecast, counted in the process's own CPU time, since on a
    # shared machine the wall clock says little: a SIGTERM before cli.main's handler is a plain kill.
    # This small model makes some 10**6 steps a second, and a stop writes those made (about 1.5 s a
    # million), so the sooner the stop, the sooner the exit.
    stdout, stderr = terminated_after_cpu(process)  # after 6 s of its CPU: loaded and into the work
    assert process.returncode == 143, stderr
    assert stderr.startswith("interrupted: kept the first ") and stderr.strip().endswith("(by SIGTERM)"), stderr
    kept = int(stderr.split("kept the first ")[1].split()[0])
    assert 0 < kept < 20_000_000
    rows = out.read_text().splitlines()
    assert len(rows) == kept + 1 and rows[-1].startswith(f"{kept},")
    assert f"the first {forecast.SHOWN_STEPS} of {kept} steps shown" in stdout



@pytest.mark.parametrize("option", ["--out", "--png"])
def test_an_output_that_is_a_link_or_a_folder_is_refused_before_the_work(runs, tmp_path, monkeypatch, capsys, option):
    target = tmp_path / "precious.txt"
    target.write_text("mine")
    link = tmp_path / "link"
    link.symlink_to(target)
    err = _error(monkeypatch, capsys, "forecast", runs["rows"], "--horizon", 3, option, link)
    assert f"refusing to write {option} {link}: it is a symbolic link" in err
    assert link.is_symlink() and target.read_text() == "mine"
    err = _error(monkeypatch, capsys, "forecast", runs["rows"], "--horizon", 3, option, tmp_path)
    assert "is a folder" in err
    code, _, _ = run_cli(monkeypatch, capsys, "forecast", runs["rows"], "--horizon", 3, option, tmp_path / "real")
    assert code == 0 and (tmp_path / "real").stat().st_size > 0


def test_an_unwritable_or_full_destination_is_refused_before_the_work(tmp_path, monkeypatch):
    # Tests run as root here, where a read-only folder is writable; the check asks access(2).
    monkeypatch.setattr(files.os, "access", lambda path, mode: False)
    with pytest.raises(ValueError, match=r"--out .*: cannot write in .* \(read-only, or not yours\)"):
        files.check_destination(tmp_path / "f.csv", "--out")
    monkeypatch.undo()
    with pytest.raises(ValueError, match=r"--out .*: the file needs about \d+ bytes"):
        files.check_destination(tmp_path / "f.csv", "--out", size=2 ** 62)
    files.check_destination(tmp_path / "f.csv", "--out", size=10)


def test_a_figure_of_more_steps_than_pixels_is_refused(runs, monkeypatch, capsys, tmp_path):
    err = _error(monkeypatch, capsys, "forecast", runs["rows"], "--horizon", forecast.FIGURE_STEPS + 1,
                 "--png", tmp_path / "f.png")
    assert f"give --horizon {forecast.FIGURE_STEPS} or fewer with --png" in err
    assert not (tmp_path / "f.png").exists()


def test_the_csv_of_a_long_forecast_is_written_in_linear_time(runs):
    # As found: the median was computed over every step once per step; 367,549 steps ran 20 minutes.
    model = saved.load(runs["rows"])
    data = forecast.series(model)
    result = forecast._made(model, data, data.items - 1, np.random.default_rng(0).normal(size=(2, 100_000)))
    start = time.perf_counter()
    text = result.csv()
    assert time.perf_counter() - start < 30  # measured 0.6 s; quadratic took minutes
    assert text.count("\n") == 100_001


# ---- time columns ------------------------------------------------------------------------------

@pytest.mark.parametrize("far", ["1000000000000", "2200-01-01"])
def test_a_far_off_time_label_is_one_line_not_a_grid_of_billions(tmp_path, far):
    # As found: --fill on a year 10**12 among 1..40 grew to 4.5 GB in a minute; a date made a 45 GB grid.
    dates = far.count("-") > 0
    labels = [str(d.date()) for d in pd.date_range("2000-01-01", periods=40)] if dates else [str(i) for i in range(1, 41)]
    path = tmp_path / "t.csv"
    path.write_text("t,y\n" + "".join(f"{t},{i}\n" for i, t in enumerate([*labels, far])))
    for fill in (None, "interpolate"):
        start = time.perf_counter()
        with pytest.raises(ValueError, match=r"`time_column` 't' runs from .* at most 410 \(10 a row\)"):
            dataset.read(path, None, "y", "y", "t", fill)
        assert time.perf_counter() - start < 5
    # A gap of a few times is still filled: the check could fail.
    path.write_text("t,y\n" + "".join(f"{t},{i}\n" for i, t in enumerate(labels[:10] + labels[12:])))
    assert dataset.read(path, None, "y", "y", "t", "interpolate").items == 40


def _time_outcome(path: Path, labels: list[str], fill: str | None) -> str:
    """What reading a CSV with these time labels does: "read", "refused" (one line), or an assertion."""
    path.write_text("t,y\n" + "".join(f"{t},{i % 7}\n" for i, t in enumerate(labels)))
    try:
        data = dataset.read(path, None, "y", "y", "t", fill)
    except ValueError as error:
        assert str(error) and "\n" not in str(error), str(error)
        return "refused"
    assert data.items >= len(labels) and len(data.labels) == data.items
    timeline.future_labels(list(data.labels), min(50, timeline.future_room(list(data.labels), 50)))
    return "read"


def test_hypothesis_time_columns_are_read_or_refused_in_one_line(tmp_path):
    outcomes = []
    start = pd.Timestamp("2000-01-01")
    steps = st.sampled_from(["D", "h", "MS", "YS", "s", "W-SUN"])
    numbers = st.lists(st.integers(-10 ** 15, 10 ** 15), min_size=2, max_size=40)
    dated = st.tuples(steps, st.lists(st.integers(0, 200), min_size=2, max_size=40, unique=True))
    holes = st.sets(st.integers(1, 28), max_size=3)

    @settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(kind=st.sampled_from(["numbers", "dates", "regular", "far"]), numbers=numbers, dated=dated, holes=holes,
           fill=st.sampled_from([None, "interpolate", "ffill"]))
    def check(kind, numbers, dated, holes, fill):
        if kind == "numbers":
            labels = [str(n) for n in sorted(set(numbers))]
        elif kind == "dates":
            step, positions = dated
            grid = pd.date_range(start, periods=max(positions) + 1, freq=step)
            labels = [str(grid[p]) for p in sorted(positions)]
        elif kind == "regular":  # a regular series with a few rows left out: the case --fill is for
            labels = [str(1900 + i) for i in range(30) if i not in holes]
        else:  # the same with its last label far off (a typo, or a year in another unit)
            labels = [str(1900 + i) for i in range(30) if i not in holes] + [str(10 ** 4 + abs(numbers[0]))]
        outcomes.append(_time_outcome(tmp_path / "t.csv", labels, fill))

    check()
    # Both outcomes happen often, so the property is about real runs and real refusals.
    assert outcomes.count("read") >= 20 and outcomes.count("refused") >= 10, (outcomes.count("read"),
                                                                              outcomes.count("refused"))


# ---- sweep grids -------------------------------------------------------------------------------

def test_a_grid_of_too_many_configurations_is_refused_before_it_is_listed(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text("".join(f"{name} = {list(range(1, 101))}\n" for name in ("units", "epochs", "window", "batch_size")))
    start = time.perf_counter()
    with pytest.raises(ValueError, match=r"the grid makes 100000000 configurations .* at most 10000"):
        grids.make(grids.OWN_DATA, {}, grids.read_file(path))
    assert time.perf_counter() - start < 2
    path.write_text("units = " + str(list(range(1, 101))) + "\nepochs = " + str(list(range(1, 101))) + "\n")
    assert len(grids.make(grids.OWN_DATA, {}, grids.read_file(path)).configurations()) == grids.MAX_CONFIGURATIONS


@pytest.mark.parametrize("where", ["/dev/zero", "a folder", "a big file"])
def test_a_grid_file_that_is_not_a_small_file_is_not_read(tmp_path, where):
    path = Path(where) if where.startswith("/") else tmp_path
    if where == "a big file":
        path = tmp_path / "big.toml"
        path.write_text("# " + "x" * grids.MAX_GRID_BYTES + "\n")
    start = time.perf_counter()
    with pytest.raises(ValueError, match="`grid`"):
        grids.read_file(path)
    assert time.perf_counter() - start < 2


_TOML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.datetimes().map(str),
    lambda inner: st.lists(inner, max_size=3), max_leaves=6)


def _toml(value) -> str:
    """``value`` as a TOML value (None has no TOML form: an empty inline table stands in)."""
    if value is None:
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    return "[" + ", ".join(_toml(v) for v in value) + "]"


def test_hypothesis_toml_grids_are_made_or_refused_in_one_line(tmp_path):
    outcomes = []
    names = st.sampled_from(["units", "epochs", "framing", "learning_rate", "season", "dropout", "batch_size",
                             "experiments", "nonsense", "a\nb"])

    # A plain grid, half the time with one hostile entry beside it (or over one of its own).
    plain = st.dictionaries(st.sampled_from(["units", "epochs", "batch_size", "window"]),
                            st.lists(st.integers(1, 64), min_size=1, max_size=4), min_size=1, max_size=3)

    @settings(max_examples=150, deadline=None, database=None)
    @given(entries=plain, hostile=st.none() | st.tuples(names, _TOML_VALUES))
    def check(entries, hostile):
        if hostile is not None:
            entries = {**entries, hostile[0]: hostile[1]}
        path = tmp_path / "grid.toml"
        path.write_text("".join(f"{_key(name)} = {_toml(value)}\n" for name, value in entries.items()))
        try:
            made = grids.make(grids.OWN_DATA, {}, grids.read_file(path))
        except ValueError as error:
            assert str(error) and "\n" not in str(error) and len(str(error)) < 1000, str(error)
            outcomes.append("refused")
            return
        configurations = made.configurations()
        assert 1 <= len(configurations) <= grids.MAX_CONFIGURATIONS
        for configuration in configurations:
            for name, value in configuration.values.items():
                assert not isinstance(value, float) or math.isfinite(value), (name, value)
            assert configuration.name  # each names a run folder
        outcomes.append("made")

    check()
    assert outcomes.count("made") >= 20 and outcomes.count("refused") >= 20, (outcomes.count("made"),
                                                                              outcomes.count("refused"))


def _key(name: str) -> str:
    return name if name.isidentifier() else '"' + name.replace("\n", "\\n") + '"'


# ---- damaged and forged checkpoints ------------------------------------------------------------

@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory) -> Path:
    """A text run stopped after epoch 2 of 4, its checkpoint kept for --resume."""
    from lstmstate.owndata import plan as plans
    from lstmstate.owndata import training
    from lstmstate.storage import runfolder

    where = tmp_path_factory.mktemp("stopped")
    text = where / "text.txt"
    text.write_text("abcabdabcabe" * 30)
    data, plan, _ = plans.prepare(text, None, None, None, framing="stateful-streams", epochs=4, seeds=2,
                                     units=4, checkpoint_every=2)

    def stop(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(runfolder.Interrupted):
        training.run(data, plan, runfolder.prepare(where / "run", [plan.framing], report=False), on_progress=stop)
    return where / "run"


def _forged(path: Path, meta_change=None, arrays_change=None) -> None:
    """Rewrite the checkpoint at ``path`` with its meta and arrays changed (as someone else could)."""
    import json
    archive = dict(np.load(path))
    meta = json.loads(archive.pop("meta").tobytes())
    if meta_change is not None:
        meta = meta_change(meta)
    if arrays_change is not None:
        arrays_change(archive)
    text = meta if isinstance(meta, bytes) else json.dumps(meta).encode()
    np.savez(path, meta=np.frombuffer(text, np.uint8), **archive)


FORGERIES = {
    "epochs a word": dict(meta_change=lambda m: {**m, "epochs": "two"}),
    "epochs a list": dict(meta_change=lambda m: {**m, "epochs": [2]}),
    "epochs negative": dict(meta_change=lambda m: {**m, "epochs": -1}),
    "epochs past int32": dict(meta_change=lambda m: {**m, "epochs": 2 ** 40}),
    "epochs more than kept": dict(meta_change=lambda m: {**m, "epochs": 3}),
    "no validation": dict(meta_change=lambda m: {k: v for k, v in m.items() if k != "validation"}),
    "no configuration": dict(meta_change=lambda m: {**m, "configuration": None}),
    "no data path": dict(meta_change=lambda m: {**m, "configuration": {**m["configuration"], "data": {}}}),
    "deep meta": dict(meta_change=lambda m: (json_prefix := b'{"a":' * 5000) and json_prefix + b"1" + b"}" * 5000),
    "meta not JSON": dict(meta_change=lambda m: b"\xff\xfe not json"),
    "loss as integers": dict(arrays_change=lambda a: a.update(loss=a["loss"].astype(np.int64))),
    "loss reshaped": dict(arrays_change=lambda a: a.update(loss=a["loss"].reshape(-1))),
    "an array missing": dict(arrays_change=lambda a: a.pop("loss")),
    "an array added": dict(arrays_change=lambda a: a.update(extra=np.zeros(3))),
    "a pickle": dict(arrays_change=lambda a: a.update(loss=np.array([{"x": 1}], dtype=object))),
}


@pytest.mark.parametrize("how", [*FORGERIES, "cut short", "not a zip", "a bomb"])
def test_a_damaged_or_forged_checkpoint_is_one_line_and_writes_nothing(stopped_run, tmp_path, monkeypatch, capsys, how):
    import shutil
    from lstmstate.storage import checkpoint

    run = tmp_path / "run"
    shutil.copytree(stopped_run, run)
    path = checkpoint.path(run)
    if how in FORGERIES:
        _forged(path, **FORGERIES[how])
    elif how == "cut short":
        path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])
    elif how == "not a zip":
        path.write_bytes(b"PK\x03\x04 but nothing else")
    else:  # the loss declared as 2 GB and inflating to it, from a few megabytes on disk
        import zipfile
        arrays = dict(np.load(path))
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, value in arrays.items():
                if name != "loss":
                    with archive.open(f"{name}.npy", "w") as member:
                        np.lib.format.write_array(member, value)
            with archive.open("loss.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False,
                                                              "shape": (2 ** 29,)})
                for _ in range(2 ** 11):
                    member.write(bytes(2 ** 20))
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    start = time.perf_counter()
    code, _, err = run_cli(monkeypatch, capsys, "train", "--resume", run, "--quiet")
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert str(path) in err or "--resume" in err, err
    assert time.perf_counter() - start < (3 if how == "a bomb" else 30)  # the bomb is never inflated
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


def test_the_untouched_checkpoint_resumes(stopped_run, tmp_path, monkeypatch, capsys):
    # The cases above are refused for what was changed: the same copy, unchanged, resumes.
    import shutil

    run = tmp_path / "run"
    shutil.copytree(stopped_run, run)
    code, stdout, err = run_cli(monkeypatch, capsys, "train", "--resume", run, "--quiet")
    assert code == 0 and "resuming" in stdout, err


# ---- generate: --steps and --prime-file against what can be counted and held ---------------------

@pytest.fixture(scope="module")
def symbols_run(tmp_path_factory) -> Path:
    from lstmstate.tutorial import suite

    folder = tmp_path_factory.mktemp("symbols") / "run"
    suite.run_suite(["stateful"], 1, folder, epochs=1, units=4)
    return folder


def test_generate_steps_past_its_draw_counter_is_one_line(symbols_run, monkeypatch, capsys):
    from lstmstate.trained import generation

    err = _error(monkeypatch, capsys, "generate", symbols_run, "--start", "K", "--steps", 10 ** 11)
    assert f"use --steps {generation.MAX_STEPS} or fewer" in err
    code, stdout, _ = run_cli(monkeypatch, capsys, "generate", symbols_run, "--start", "K", "--steps", 3)
    assert code == 0 and stdout.count(" -> ") == 3


def test_a_prime_file_too_large_to_hold_is_refused_before_it_is_read(symbols_run, tmp_path, monkeypatch, capsys):
    path = tmp_path / "prime.txt"
    path.write_text("ABCDEFGHIJ" * 100_000)  # a million bytes
    monkeypatch.setattr(budget, "available_memory", lambda: 10 ** 7)  # room for some 225,000 bytes
    err = _error(monkeypatch, capsys, "generate", symbols_run, "--prime-file", path, "--steps", 2)
    most = int(err.split("a text of at most ")[1].split()[0])
    assert err.startswith(f"error: --prime-file {path} is 1000000 bytes") and most == int(0.9 * 10 ** 7) // 40
    path.write_text("ABCDEFGHIJ" * (most // 10))
    code, stdout, err = run_cli(monkeypatch, capsys, "generate", symbols_run, "--prime-file", path, "--steps", 2)
    assert code == 0 and stdout.count(" -> ") == 2, err


# ---- a forged sweep folder ---------------------------------------------------------------------

@pytest.mark.parametrize("configurations", ["a word", 3, {"a": 1}, [1, "a", None],
                                            [{"name": "../outside", "status": "done"}],
                                            [{"name": ["a"], "status": "done"}]])
def test_a_forged_sweep_json_is_trained_again_not_followed(tmp_path, configurations):
    import json
    from lstmstate.sweep import folder

    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "results.json").write_text("{}")  # what "../outside" would find
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    asked = {"kind": grids.OWN_DATA, "seeds": 2}
    (sweep / folder.SWEEP).write_text(json.dumps({"format_version": folder.FORMAT_VERSION, "request": asked,
                                                  "configurations": configurations}))
    assert folder.read_back(sweep, asked) == {}
    # A well-formed finished record is read back: the check could fail.
    (sweep / "units4").mkdir()
    (sweep / "units4" / "results.json").write_text("{}")
    (sweep / folder.SWEEP).write_text(json.dumps({"format_version": folder.FORMAT_VERSION, "request": asked,
                                                  "configurations": [{"name": "units4", "status": folder.DONE}]}))
    assert list(folder.read_back(sweep, asked)) == ["units4"]
