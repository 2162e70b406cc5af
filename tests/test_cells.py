"""`lstmstate cells`: the units whose state tracks a feature of a text, found, measured and shown.

The main check trains a small character model with carried state on nested brackets and asks
that some unit follow the bracket depth, far more than the same seeds' untrained weights do and
more than the current symbol alone can say. Measured when this was written (2-core AMD EPYC,
2026-12-05): |r| 0.821 (seed 0, c 11) and 0.883 (seed 1, h 4) after 30 epochs; untrained 0.471
and 0.494; the symbol alone 0.353. A model of numbers is checked the same way on a seasonal series.
"""

import json
import random
import shutil

import numpy as np
import pytest

import lstmstate as ls
from conftest import run_cli
from lstmstate.core import correlation, series_features, text_features
from lstmstate.output import cells as cells_page
from lstmstate.owndata import cells as series_cells
from lstmstate.trained import cells, saved, state_record


def nested_brackets(symbols: int, seed: int, depth: int = 4) -> str:
    """Lines of balanced brackets up to ``depth`` deep around runs of 1 to 6 equal letters:
    ``b((bbbbbaaaaa)(ccc)cccccc)``. Long runs make the depth something to remember: a state
    that only echoes the last few symbols loses it."""
    draw = random.Random(seed)

    def group(level: int) -> str:
        parts = []
        for _ in range(draw.randint(1, 3)):
            if level < depth and draw.random() < 0.5:
                parts.append("(" + group(level + 1) + ")")
            else:
                parts.append(draw.choice("abc") * draw.randint(1, 6))
        return "".join(parts)

    text = ""
    while len(text) < symbols:
        text += group(0) + "\n"
    return text


@pytest.fixture(scope="module")
def bracket_run(tmp_path_factory):
    """A stateful-streams model of 8,000 bracket symbols, two seeds; and an unseen text of 4,000."""
    folder = tmp_path_factory.mktemp("brackets")
    (folder / "train.txt").write_text(nested_brackets(8000, seed=0))
    (folder / "unseen.txt").write_text(nested_brackets(4000, seed=1))
    ls.fit(str(folder / "train.txt"), framing="stateful-streams", bptt=10, units=16, epochs=30, seeds=2,
           learning_rate=0.005, out=folder / "run", quiet=True)
    return folder


def test_a_trained_unit_tracks_bracket_depth_and_the_untrained_ones_do_not(bracket_run):
    found = cells.find(bracket_run / "run", text_file=bracket_run / "unseen.txt")
    depth = found.of("bracket depth")
    assert [cell.seed for cell in depth] == [0, 1]
    for cell in depth:
        assert abs(cell.correlation) > 0.7, cell
        assert cell.low <= cell.correlation <= cell.high and cell.high - cell.low < 0.1
        # Training put it there: the seed's initial weights and the symbol just read fall well short.
        assert abs(cell.correlation) - cell.untrained > 0.2, cell
        assert abs(cell.correlation) - cell.symbol_alone > 0.3, cell
    assert "inside quotes" in found.constant and "is digit" in found.constant  # no quotes, no digits here
    assert found.block == 200 and len(found.text) == len((bracket_run / "unseen.txt").read_text())


def test_a_stateful_alphabet_model_has_a_unit_that_follows_the_position_in_the_alphabet(tmp_path):
    # The alphabet a line at a time, one-hot, with carried state. Measured (2-core AMD EPYC, 2026-12-05):
    # best |r| 0.786 (seed 0, c 28) and 0.846 (seed 1, c 29); untrained 0.695 and 0.743. The letter just
    # read says the position outright (symbol alone 1.0): here the state follows what the input says.
    (tmp_path / "abc.txt").write_text("abcdefghijklmnopqrstuvwxyz\n" * 200)
    ls.fit(str(tmp_path / "abc.txt"), framing="stateful", seeds=2, out=tmp_path / "run", quiet=True)
    found = cells.find(tmp_path / "run")
    position = found.of("alphabet position")
    assert [cell.seed for cell in position] == [0, 1]
    for cell in position:
        assert abs(cell.correlation) > 0.7 and abs(cell.correlation) > cell.untrained, cell
        assert cell.symbol_alone == 1.0


def test_the_same_seeds_give_the_same_numbers(bracket_run):
    first = cells.find(bracket_run / "run", text_file=bracket_run / "unseen.txt", seed_index=1)
    again = cells.find(bracket_run / "run", text_file=bracket_run / "unseen.txt", seed_index=1)
    assert [(c.unit, c.kind, c.correlation, c.low, c.high, c.untrained) for c in first.cells] == \
           [(c.unit, c.kind, c.correlation, c.low, c.high, c.untrained) for c in again.cells]


def test_the_default_text_is_the_held_out_part(bracket_run, monkeypatch):
    monkeypatch.chdir(bracket_run)  # the run records its text as given, relative to where it trained
    found = cells.find(bracket_run / "run", seed_index=0)
    text = (bracket_run / "train.txt").read_text()
    assert "".join(found.text) == text[-len(found.text):] and 0.15 < len(found.text) / len(text) < 0.25
    assert "held-out part" in found.source


def test_the_compiled_record_equals_the_stepped_trace(bracket_run):
    experiment = saved.load(bracket_run / "run")
    symbols = list((bracket_run / "unseen.txt").read_text()[:60])
    h, c = state_record.record(experiment.spec, list(experiment.weights), experiment.encoding,
                               experiment.vocabulary.encode(symbols))
    for index in range(2):
        trace = experiment.trace(symbols, index)
        np.testing.assert_allclose(h[index], trace.h, atol=1e-5)
        np.testing.assert_allclose(c[index], trace.c, atol=1e-5)


def test_the_command_prints_the_table_and_writes_the_page(bracket_run, monkeypatch, capsys, tmp_path):
    page, png = tmp_path / "cells.html", tmp_path / "cells.png"
    code, out, _ = run_cli(monkeypatch, capsys, "cells", bracket_run / "run", "--text-file",
                           bracket_run / "unseen.txt", "--out", page, "--png", png)
    assert code == 0
    rows = [line.split() for line in out.splitlines() if line.startswith("bracket depth ")]
    assert [row[2] for row in rows] == ["0", "1"] and all(abs(float(row[5])) > 0.7 for row in rows)
    html = page.read_text()
    assert html.count('<div class="strip">') == 7  # one strip per feature measured (9 less the two constant)
    assert "bracket depth (open brackets ( [ {): seed " in html and "<img" not in html and "http" not in html
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_run_report_shows_what_the_command_kept(bracket_run, monkeypatch, capsys, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(bracket_run / "run", run)
    code, out, _ = run_cli(monkeypatch, capsys, "cells", run, "--text-file", bracket_run / "unseen.txt")
    assert code == 0 and f"kept in {run / 'results.json'}" in out
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    assert code == 0, err
    html, markdown = (run / "report.html").read_text(), (run / "report.md").read_text()
    assert "6. What the state holds" in html and html.count('<div class="strip">') == 7
    assert "stateful-streams/cells.html" in html and "## 6. What the state holds" in markdown
    depth = [line for line in markdown.splitlines() if line.startswith("| bracket depth")]
    assert len(depth) == 2  # both seeds
    # A forged block is refused in one line, as any damaged results.json is.
    payload = json.loads((run / "results.json").read_text())
    payload["cells"]["stateful-streams"]["cells"][0]["correlation"] = 5.0
    (run / "results.json").write_text(json.dumps(payload))
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    assert code == 2 and "is damaged" in err and "correlation" in err and len(err.strip().splitlines()) == 1, err


def test_the_api_gives_a_dataframe(bracket_run):
    frame = ls.load(bracket_run / "run").cells(text_file=bracket_run / "unseen.txt", seed_index=0)
    assert list(frame.columns) == ["feature", "seed", "unit", "kind", "correlation", "low", "high", "untrained",
                                   "symbol_alone"]
    depth = frame[frame.feature == "bracket depth"].iloc[0]
    assert depth.seed == 0 and depth.kind in ("h", "c") and abs(depth.correlation) > 0.7


@pytest.fixture(scope="module")
def other_runs(tmp_path_factory):
    """Runs cells refuses: a window model of text, a stateful model of numbers."""
    folder = tmp_path_factory.mktemp("refused")
    ls.fit(nested_brackets(600, seed=2), framing="window-timesteps", units=4, epochs=1, seeds=1,
           out=folder / "window", quiet=True)
    ls.fit(np.sin(np.arange(80.0)), framing="stateful", units=4, epochs=1, seeds=1, out=folder / "numbers",
           quiet=True)
    return folder


@pytest.mark.parametrize("case, message", [
    ("window", "was trained on windows from a zero state"),
    ("numbers", "holds 16 rows, too few to measure correlations (at least 100); give the whole series with --text-file"),
    ("missing", "no such file"),
    ("unknown", "1 symbol not in the vocabulary"),
    ("short", "too short to measure correlations"),
    ("seed", "seed index 7 is out of range"),
])
def test_bad_input_is_one_line(case, message, bracket_run, other_runs, monkeypatch, capsys, tmp_path):
    (tmp_path / "unknown.txt").write_text("(a)" * 50 + "x")
    (tmp_path / "short.txt").write_text("(ab)\n" * 10)
    run = other_runs / case if case in ("window", "numbers") else bracket_run / "run"
    extra = {"missing": ["--text-file", tmp_path / "nothing.txt"], "unknown": ["--text-file", tmp_path / "unknown.txt"],
             "short": ["--text-file", tmp_path / "short.txt"], "seed": ["--seed-index", 7]}.get(case, [])
    code, out, err = run_cli(monkeypatch, capsys, "cells", run, *extra)
    assert code == 2 and err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1, err


# ---- the pieces, by hand ----

def test_features_by_hand():
    text = list('a "b(c)"\nd [e{f}]')
    values = text_features.features(text)
    assert values["line position"].tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6, 7]
    assert values["inside quotes"].tolist() == [0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert values["bracket depth"].tolist() == [0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 2, 2, 1, 0]
    assert values["since space"].tolist() == [1, 0, 1, 2, 3, 4, 5, 6, 0, 1, 0, 1, 2, 3, 4, 5, 6]
    assert values["is letter"].tolist() == [1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0, 0]
    with pytest.raises(ValueError, match="measured on characters"):
        text_features.features(["ab", "c"])


def test_the_interval_excludes_zero_only_for_a_real_relation():
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(size=4000))  # a slowly changing feature, as a bracket depth is
    unrelated = np.cumsum(rng.normal(size=4000))[:, None]  # another walk: spuriously correlated, often strongly
    related = (walk + rng.normal(size=4000) * 3)[:, None]
    real = correlation.best_column(related, walk, block=200)
    spurious = correlation.best_column(unrelated, walk, block=200)
    assert real.low > 0.9
    # Two independent walks: r can be far from 0, and the block bootstrap's interval says how little that means.
    assert spurious.high - spurious.low > 5 * (real.high - real.low)


def test_symbol_alone_and_constant_features():
    ids = np.array([0, 1, 0, 1, 2, 2])
    assert correlation.symbol_alone(ids, np.array([5.0, 1.0, 5.0, 1.0, 3.0, 3.0])) == 1.0
    assert np.isnan(correlation.pearson(np.ones((6, 2)) * np.arange(6)[:, None], np.zeros(6))).all()
    assert correlation.best_column(np.arange(12.0)[:, None], np.zeros(12), block=3) is None


def test_the_strip_escapes_and_colours():
    html = cells_page.strip_html(tuple("<a>"), np.array([-1.0, 0.0, 0.5]))
    assert html == '<div class="strip"><span class="n10">&lt;</span>a<span class="p5">&gt;</span></div>'


# ---- a model of numbers ----

def seasonal_csv(path, rows: int = 600) -> None:
    """A sine of period 12 on a slow trend, with a little noise, as a CSV with a header."""
    step = np.arange(rows)
    value = 10 + 0.02 * step + 3 * np.sin(2 * np.pi * step / 12) + np.random.default_rng(0).normal(0, 0.3, rows)
    path.write_text("step,value\n" + "".join(f"{i},{v:.4f}\n" for i, v in zip(step, value)))


@pytest.fixture(scope="module")
def season_run(tmp_path_factory):
    """A stateful model of 600 seasonal values (season 12), two seeds: about 3 s."""
    folder = tmp_path_factory.mktemp("season")
    seasonal_csv(folder / "season.csv")
    ls.fit(str(folder / "season.csv"), target="value", framing="stateful", bptt=12, units=8, epochs=30, seeds=2,
           learning_rate=0.01, season=12, out=folder / "run", quiet=True)
    return folder


def test_a_trained_unit_follows_the_season_phase_that_the_value_just_read_does_not_say(season_run, monkeypatch):
    # Measured (2-core AMD EPYC, 2026-12-05) on the 120 held-out rows: season cos |r| 0.983 (seed 0, c 1) and
    # 0.970 (seed 1, c 4), intervals [0.975, 0.992] and [0.962, 0.980]; untrained 0.824 and 0.849; the input row
    # alone 0.025 (the value goes with the sine of the phase, 0.992, not with its cosine, a quarter season away).
    # The level: 0.964 and 0.959, untrained 0.975 and 0.981, the input alone 1.0 (the input is the level).
    monkeypatch.chdir(season_run)  # the run records its CSV as given
    found = series_cells.find(season_run / "run")
    assert found.numbers and found.measured == 120 and "held-out part of" in found.source
    assert found.features() == ["season cos", "season sin", "level", "last change"] and found.constant == ()
    phase = found.of("season cos")
    assert [cell.seed for cell in phase] == [0, 1]
    for cell in phase:
        assert abs(cell.correlation) > 0.93 and cell.low <= cell.correlation <= cell.high, cell
        assert abs(cell.correlation) - cell.untrained > 0.06, cell  # training put it there
        assert cell.symbol_alone < 0.1, cell  # and the value just read does not say it
    for cell in found.of("level"):
        assert abs(cell.correlation) > 0.9 and cell.symbol_alone == 1.0, cell
    assert found.text[0] == f"{float((season_run / 'season.csv').read_text().splitlines()[481].split(',')[1]):.4g}"


def test_cells_of_numbers_from_the_command_line_to_the_report(season_run, monkeypatch, capsys, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(season_run / "run", run)
    page, png = tmp_path / "cells.html", tmp_path / "cells.png"
    code, out, err = run_cli(monkeypatch, capsys, "cells", run, "--text-file", season_run / "season.csv",
                             "--png", png, "--out", page)
    assert code == 0, err
    assert "600 rows of" in out and "input row alone" in out and f"kept in {run / 'results.json'}" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("season cos ")]
    # Over every row (from a zero state at row 0): |r| 0.912 and 0.852 when this was written.
    assert [row[2] for row in rows] == ["0", "1"] and all(abs(float(row[5])) > 0.8 for row in rows)
    html = page.read_text()
    assert html.count('<div class="strip">') == 4 and "season cos (cos(2 pi phase / season)" in html
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    assert code == 0, err
    markdown = (run / "report.md").read_text()
    assert "## 6. What the state holds" in markdown and len([line for line in markdown.splitlines()
                                                             if line.startswith("| season cos")]) == 2
    kept = cells.Cells.from_payload("stateful", json.loads((run / "results.json").read_text())["cells"]["stateful"])
    assert kept.numbers and kept.text[:2] == tuple(f"{float(line.split(',')[1]):.4g}" for line in
                                                   (season_run / "season.csv").read_text().splitlines()[1:3])


def test_the_api_gives_a_dataframe_for_numbers(season_run):
    frame = ls.load(season_run / "run").cells(text_file=season_run / "season.csv", seed_index=1)
    assert frame.feature.tolist() == ["season cos", "season sin", "level", "last change"]
    assert (frame.seed == 1).all() and (frame.correlation.abs() > 0.5).all()


@pytest.mark.parametrize("case, message", [
    ("no target", "other.csv has columns: step, other"),
    ("missing", "nothing.csv: no such file"),
    ("short", "other.csv (every row; the season's phase counted from its first row) holds 50 rows, too few"),
])
def test_bad_input_for_numbers_is_one_line(case, message, season_run, monkeypatch, capsys, tmp_path):
    columns = "step,other" if case == "no target" else "step,value"
    (tmp_path / "other.csv").write_text(columns + "\n" + "".join(f"{i},{np.sin(i)}\n" for i in range(50)))
    extra = ["--text-file", tmp_path / ("nothing.csv" if case == "missing" else "other.csv")]
    code, out, err = run_cli(monkeypatch, capsys, "cells", season_run / "run", *extra)
    assert code == 2 and err.startswith("error: ") and message in err and len(err.strip().splitlines()) == 1, err


def test_series_features_by_hand():
    values = series_features.features(np.array([10.0, 12.0, 11.0, 9.0, 10.0]), np.arange(5), 4)
    assert values["season cos"].round(6).tolist() == [1, 0, -1, 0, 1]
    assert values["last change"].tolist() == [0, 2, -1, -2, 1] and values["level"].tolist() == [10, 12, 11, 9, 10]
    phase = 2 * np.pi * np.arange(48) / 12
    # The value of a sine says its phase's sine outright, its cosine not at all: that one needs memory.
    assert correlation.row_alone(np.sin(phase)[:, None], np.sin(phase)) == 1.0
    assert correlation.row_alone(np.sin(phase)[:, None], np.cos(phase)) == 0.0


def test_monthly_co2_the_state_holds_the_level(tmp_path):
    # Mauna Loa CO2 (statsmodels' bundled weekly data, as monthly means: 526 months, 1958-2001), its season the
    # calendar's 12. Measured (2-core AMD EPYC, 2026-12-05) on the 105 held-out months: the level |r| 0.994 (seed 0,
    # c 5) and 0.986 (seed 1, h 4), as the input row alone (1.0) and the untrained weights (0.988, 0.997) reach too;
    # the season's phase only 0.31..0.39, below the untrained 0.23..0.77: the trend, past the training part's
    # range, is all this small model's state follows. What cells shows here is that, not a seasonal cell.
    co2 = pytest.importorskip("statsmodels.datasets.co2")
    frame = co2.load_pandas().data.resample("MS").mean().interpolate()
    frame.index.name = "month"
    frame.to_csv(tmp_path / "co2.csv", date_format="%Y-%m")
    ls.fit(str(tmp_path / "co2.csv"), target="co2", framing="stateful", bptt=12, units=8, epochs=30, seeds=2,
           learning_rate=0.01, out=tmp_path / "run", quiet=True)
    found = series_cells.find(tmp_path / "run")
    assert found.measured == 105 and found.features() == ["season cos", "season sin", "level", "last change"]
    for cell in found.of("level"):
        assert abs(cell.correlation) > 0.97 and cell.symbol_alone == 1.0, cell
