"""The Python API as a new user meets it: on a DataFrame, a str of text and a saved run, with the
same numbers as the command line, and bad arguments refused naming the argument."""

import argparse
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.datasets.sunspots

import lstmstate as ls
from conftest import run_cli
from lstmstate.api import arguments, inputs
from lstmstate.api.progress import NotebookBar, progress
from lstmstate.output import exits
from lstmstate.storage import runfolder

ROOT = Path(__file__).resolve().parent.parent
SUNSPOTS = Path(statsmodels.datasets.sunspots.__file__).with_name("sunspots.csv")  # 1700..2008, yearly
TINY = dict(window=9, seeds=2, epochs=2)  # small enough to train in seconds; the numbers are still real
TEXT = Path(argparse.__file__).read_text(encoding="utf-8")[:4000]  # Python's own argparse.py, not ours


@pytest.fixture(scope="module")
def sunspots() -> pd.DataFrame:
    return pd.read_csv(SUNSPOTS).set_index("YEAR")


@pytest.fixture(scope="module")
def fitted(sunspots):
    return ls.fit(sunspots, target="SUNACTIVITY", **TINY)


@pytest.fixture(scope="module")
def readme(tmp_path_factory) -> dict:
    """The README's Python section, run as written, in a fresh folder: the names it made."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Python\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.DOTALL)
    assert len(blocks) == 2
    folder = tmp_path_factory.mktemp("readme")
    before = Path.cwd()
    os.chdir(folder)  # it saves runs/sunspots where it runs
    try:
        namespace = {}
        for block in blocks:
            exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own example
    finally:
        os.chdir(before)
    return {**namespace, "folder": folder}


@pytest.fixture(scope="module")
def text_run():
    return ls.fit(TEXT, framing="window-timesteps", window=3, seeds=2, epochs=1)


def test_a_dataframe_gives_the_command_lines_numbers(fitted, tmp_path, monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "train", "--data", SUNSPOTS, "--target", "SUNACTIVITY", "--window",
                             "9", "--seeds", "2", "--epochs", "2", "--out", tmp_path / "cli", "--quiet")
    assert code == 0, err
    results = json.loads((tmp_path / "cli" / "results.json").read_text())
    entry = results["experiments"]["window-timesteps"]
    assert fitted.scores["score"].tolist() == entry["holdout"]["per_seed"]  # bit for bit, not approximately
    assert fitted.scores["seed"].tolist() == [0, 1]
    assert fitted.baselines["score"].tolist() == [b["score"] for b in entry["baselines"]]
    assert fitted.verdict == entry["against_baseline"]
    assert f"verdict: {fitted.verdict}" in out  # the sentence the command line prints


def test_the_dataframe_is_read_as_its_csv_is(sunspots):
    from lstmstate.owndata import dataset

    read = inputs.read(sunspots, target="SUNACTIVITY").data
    assert read.checksum == dataset.read(SUNSPOTS, target="SUNACTIVITY").checksum  # the values, exactly
    assert read.time_column == "YEAR" and read.labels[:2] == ("1700", "1701")
    # A Series and a 1-D array of the same values are the same series (the array without times).
    series = inputs.read(sunspots["SUNACTIVITY"]).data
    assert series.checksum == read.checksum and series.labels == read.labels
    array = inputs.read(sunspots["SUNACTIVITY"].to_numpy()).data
    assert array.checksum == read.checksum and array.labels is None


def test_a_monthly_index_is_a_calendar(sunspots):
    months = pd.Series(np.arange(36.0) % 12, index=pd.period_range("2001-01", periods=36, freq="M"), name="y")
    read = inputs.read(months).data
    assert read.labels[:2] == ("2001-01-01", "2001-02-01")
    from lstmstate.owndata import timeline
    assert timeline.calendar_season(read.labels) == (12, "monthly")


def test_forecasts_from_memory_are_indexed_by_the_years(fitted):
    forecast = fitted.forecast(3)
    assert list(forecast.columns) == ["median", "low", "high"]
    assert forecast.index.tolist() == [2009, 2010, 2011] and forecast.index.name == "YEAR"
    assert (forecast["low"] <= forecast["median"]).all() and (forecast["median"] <= forecast["high"]).all()
    assert fitted.forecast(3).equals(forecast)  # the same seeds' weights give the same forecast


def test_a_saved_run_loads_back_and_the_command_line_reads_it(fitted, tmp_path, monkeypatch, capsys):
    folder = fitted.save(tmp_path / "air")
    assert (folder / "data.csv").is_file()  # the DataFrame travels with the run
    loaded = ls.load(folder)
    assert isinstance(loaded, ls.Run)
    assert loaded.scores.equals(fitted.scores) and loaded.verdict == fitted.verdict
    assert loaded.baselines.equals(fitted.baselines)
    assert np.allclose(loaded.forecast(3).to_numpy(), fitted.forecast(3).to_numpy(), rtol=0, atol=1e-9)
    code, out, err = run_cli(monkeypatch, capsys, "forecast", folder, "--horizon", "3", "--out", tmp_path / "f.csv")
    assert code == 0, err
    cli = pd.read_csv(tmp_path / "f.csv")
    assert np.allclose(cli["median"], fitted.forecast(3)["median"], rtol=1e-5)  # the CSV keeps 6 digits
    with pytest.raises(ValueError, match="already holds a run"):
        fitted.save(folder)
    with pytest.raises(ValueError, match="loaded from"):
        loaded.save(tmp_path / "elsewhere")


def test_a_string_of_text_is_the_text_file(text_run, tmp_path, monkeypatch, capsys):
    (tmp_path / "argparse.txt").write_text(TEXT, encoding="utf-8")
    # A framing chosen: the Plan's defaults for the rest on both sides.
    code, out, err = run_cli(monkeypatch, capsys, "train", "--data", tmp_path / "argparse.txt", "--framing",
                             "window-timesteps", "--window", "3", "--seeds", "2", "--epochs", "1", "--out",
                             tmp_path / "cli", "--quiet")
    assert code == 0, err
    entry = json.loads((tmp_path / "cli" / "results.json").read_text())["experiments"]["window-timesteps"]
    assert text_run.scores["score"].tolist() == entry["holdout"]["per_seed"]
    assert text_run.scores["perplexity"].tolist() == entry["perplexity"]["per_seed"]
    assert text_run.metric == "accuracy" and text_run.perplexity_verdict == entry["against_perplexity"]
    generated = text_run.generate("import ", steps=7)
    assert isinstance(generated, str) and len(generated) == 7  # characters: one per step
    assert text_run.generate("import ", steps=7) == generated  # the most probable symbol: no chance in it
    loaded = ls.load(text_run.save(tmp_path / "text"))
    assert loaded.generate("import ", steps=7) == generated
    with pytest.raises(ValueError, match="model of symbols"):
        text_run.forecast(3)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        text_run.generate("\u00e9", steps=2)


def test_the_run_shows_its_table_and_figure(fitted):
    html = fitted._repr_html_()
    assert "<table" in html and "data:image/png;base64," in html
    assert "AR(" in html and fitted.verdict.split(" (")[0] in html.replace("&#x27;", "'")
    assert fitted.verdict in repr(fitted)
    from matplotlib.figure import Figure
    for kind, extra in (("scores", {}), ("curves", {}), ("forecast", {"horizon": 4})):
        assert isinstance(fitted.plot(kind, **extra), Figure)


def test_compare_ranks_framings_and_baselines_and_loads_back(readme, tmp_path):
    result = readme["comparison"]  # the README's: every framing on the sunspots, 4 seeds each
    table = result.table()
    assert table.index.tolist() == list(range(1, len(table) + 1))
    assert set(table["kind"]) == {"framing", "baseline"}
    assert set(table.loc[table["kind"] == "framing", "name"]) == set(result.runs)
    assert (np.diff(table["mean"].to_numpy()) >= 0).all()  # RMSE: lowest first
    assert result.best.framing == table.loc[table["kind"] == "framing", "name"].iloc[0]
    assert result.recommendation.startswith(("Use ", "No framing"))
    assert "<table" in result._repr_html_() and "data:image/png;base64," in result._repr_html_()
    folder = result.save(tmp_path / "cmp")
    loaded = ls.load(folder)
    assert isinstance(loaded, ls.Comparison) and loaded.table().equals(table)
    assert loaded.recommendation == result.recommendation
    one = ls.load(folder, framing="stateful")
    assert one.scores.equals(result.runs["stateful"].scores)
    assert np.allclose(one.forecast(2).to_numpy(), result.runs["stateful"].forecast(2).to_numpy(), rtol=0, atol=1e-9)


def test_suite_gives_the_command_lines_numbers_as_dataframes(tmp_path, monkeypatch, capsys):
    ran = ls.suite(seeds=2, experiments=["one-char"], epochs=2)
    code, out, err = run_cli(monkeypatch, capsys, "run", "one-char", "--seeds", "2", "--epochs", "2", "--out",
                             tmp_path / "cli", "--quiet")
    assert code == 0, err
    entry = json.loads((tmp_path / "cli" / "results.json").read_text())["experiments"]["one-char"]
    assert ran.results.loc["one-char", "mean"] == entry["accuracy"]["mean"]
    assert ran.per_seed["accuracy"].tolist() == entry["accuracy"]["per_seed"]
    assert ran.results.loc["one-char", "tutorial"] == pytest.approx(0.84)
    assert list(ran.verdicts.columns) == ["claim", "tutorial_says", "measured", "verdict", "rule"]
    assert "<table" in ran._repr_html_() and "data:image/png;base64," in ran._repr_html_()
    assert isinstance(ls.load(tmp_path / "cli"), ls.Suite)
    assert ls.load(tmp_path / "cli").results.loc["one-char", "mean"] == entry["accuracy"]["mean"]


@pytest.mark.parametrize("call, named", [
    (lambda: ls.fit(TEXT, window=0), "window"),
    (lambda: ls.fit(TEXT, seeds="3"), "seeds"),
    (lambda: ls.fit(TEXT, seeds=True), "seeds"),
    (lambda: ls.fit(TEXT, framng="stateful"), "framng"),
    (lambda: ls.fit(TEXT, framing="windows"), "framing"),
    (lambda: ls.fit(TEXT, target="x"), "target"),
    (lambda: ls.fit(TEXT, clip_norm=-1.0), "clip_norm"),
    (lambda: ls.fit(12), "data"),
    (lambda: ls.fit("no-such-file.csv"), "data"),
    (lambda: ls.fit(np.array(["a", "b"])), "data"),
    (lambda: ls.fit(pd.DataFrame({"a": [1.0, 2.0]}), target="b"), "target"),
    (lambda: ls.fit(pd.DataFrame({"a": [1.0, 2.0]}), columns=[1]), "columns"),
    (lambda: ls.fit(TEXT, out=3), "out"),
    (lambda: ls.compare(TEXT, framing="stateful"), "framing"),
    (lambda: ls.suite(seeds=0), "seeds"),
    (lambda: ls.suite(seeds=2, experiments=["nope"]), "nope"),
    (lambda: ls.suite(seeds=2, experiments=5), "experiments"),
    (lambda: ls.load(tmp_missing()), "results.json"),
])
def test_bad_arguments_raise_value_error_naming_them(call, named):
    with pytest.raises(ValueError, match=re.escape(named)) as raised:
        call()
    assert f"--{named.replace('_', '-')}" not in str(raised.value)  # the argument, not the command line's flag


def tmp_missing() -> Path:
    return ROOT / "tests"  # a folder without results.json


def test_bad_arguments_of_a_run_raise_value_error(fitted, text_run):
    for call, named in ((lambda: fitted.forecast(0), "horizon"), (lambda: fitted.forecast(2, origin="end"), "origin"),
                        (lambda: fitted.forecast(2, origin=3), "origin"), (lambda: fitted.plot("bars"), "kind"),
                        (lambda: fitted.plot("forecast"), "horizon"), (lambda: fitted.generate("x"), "numbers"),
                        (lambda: text_run.generate("import ", steps=0), "steps"),
                        (lambda: text_run.generate("", steps=2), "prime"),
                        (lambda: text_run.generate("im", temperature=-1), "temperature")):
        with pytest.raises(ValueError, match=named):
            call()


def test_messages_name_the_arguments_as_python_does():
    # The library names a field in backticks; a sweep's grid spells it as a flag.
    assert arguments.in_api_words("`clip_norm` must be above 0; `window` 3 and --time-column") == \
        "clip_norm must be above 0; window 3 and time_column"
    assert arguments.in_api_words("run `lstmstate train --out DIR`, --no-such-flag") == \
        "run `lstmstate train --out DIR`, --no-such-flag"  # advice to run a command keeps its flags
    # A command line on top of the API gets the flags back: the original message is the cause.
    with pytest.raises(ValueError) as raised:
        ls.fit(TEXT, window=0)
    assert str(raised.value) == "window must be at least 1, got 0"
    assert arguments.command_line_words(raised.value) == "`window` must be at least 1, got 0"
    assert exits.as_flags(arguments.command_line_words(raised.value)) == "--window must be at least 1, got 0"


def test_a_stopped_run_resumes_to_the_same_numbers(fitted, sunspots, tmp_path):
    def stop_at_the_second_epoch(name, seeds, epochs):
        def on_progress(done, total):
            if done == 2:
                raise KeyboardInterrupt  # as Ctrl-C would, after the first epoch's checkpoint
        return on_progress

    with pytest.raises(runfolder.Interrupted, match="after epoch 1 of 2"):
        ls.fit(sunspots, target="SUNACTIVITY", checkpoint_every=1, out=tmp_path / "stopped",
               on_start=stop_at_the_second_epoch, **TINY)
    with pytest.raises(ValueError, match="window"):
        ls.fit(resume=tmp_path / "stopped", window=3)  # not what it was trained with
    resumed = ls.fit(resume=tmp_path / "stopped")  # the DataFrame was kept in the folder as data.csv
    assert resumed.scores.equals(fitted.scores)  # as if it had never stopped


def test_quiet_unless_someone_watches(monkeypatch):
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a log file, not a terminal: nobody watches
    with progress(None) as on_start:
        assert on_start is None
    bar = NotebookBar("stateful", 10, 50)
    assert bar.advance(1, 50)  # the first update is drawn
    assert not bar.advance(2, 50)  # the next one, a moment later, waits
    assert bar.advance(50, 50) and "50/50 epochs x 10 seeds, done" in repr(bar)
    assert "<progress value='50' max='50'" in bar._repr_html_()


def test_the_public_names_are_documented():
    assert set(ls.__all__) == {"fit", "compare", "suite", "load", "Run", "Comparison", "Suite", "__version__"}
    guide = (ROOT / "docs" / "api.md").read_text()
    for name in ls.__all__:
        if name != "__version__":
            assert getattr(ls, name).__doc__, name
            assert re.search(rf"^### `(ls\.)?{name}\b", guide, re.MULTILINE), f"docs/api.md has no section on {name}"
    for option in arguments.plan_fields():
        assert f"`{option}`" in guide, f"docs/api.md does not name the option {option}"
    assert "Plan options and their defaults" in ls.fit.__doc__  # help(ls.fit) lists them


def test_the_readme_python_example_runs(readme):
    assert isinstance(readme["run"], ls.Run) and isinstance(readme["prose"], ls.Run)
    assert (readme["folder"] / "runs" / "sunspots" / "data.csv").is_file()
    assert ls.load(readme["folder"] / "runs" / "sunspots").forecast(12).index[0] == 2009
    assert len(readme["prose"].generate("def parse_", steps=20)) == 20


def test_importing_after_keras_on_another_backend_is_one_error():
    env = {**os.environ, "KERAS_BACKEND": "numpy"}
    done = subprocess.run([sys.executable, "-c", "import keras, lstmstate"], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("RuntimeError: lstmstate needs the Keras JAX backend") and "'numpy'" in last
    # Before Keras is imported, another KERAS_BACKEND is replaced, and the user is told.
    done = subprocess.run([sys.executable, "-c", "import lstmstate, keras; print(keras.backend.backend())"],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "jax"
    assert "KERAS_BACKEND was 'numpy'" in done.stderr
