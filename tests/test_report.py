"""Figures, state traces, the report and the progress bar, on small hand-made results."""

import base64
import html
import io
import json
import re
import shlex
import shutil
from dataclasses import fields

import numpy as np
import pytest
from matplotlib.figure import Figure
from rich.console import Console

from conftest import run_cli
from lstmstate.output import figures, markup
from lstmstate.owndata.plan import Plan
from lstmstate.owndata.report import reproduce, saved_plans
from lstmstate.tutorial import report
from lstmstate.core import statistics
from lstmstate.storage import files, runfolder
from lstmstate.core.encoding import Encoding
from lstmstate.core.model import ModelSpec, initial_weights
from lstmstate.output.progress import progress_bar
from lstmstate.trained.state_trace import trace
from lstmstate.core.vocabulary import Vocabulary


def _curve(values):
    values = [float(v) for v in values]
    return {"epoch": list(range(1, len(values) + 1)), "mean": values,
            "low": [v - 0.05 for v in values], "high": [v + 0.05 for v in values]}


def _entry(per_seed, published, policy="reset-every-batch", generation=None):
    per_seed = np.asarray(per_seed, np.float64)
    entry = {
        "section": "a section", "shows": "what it shows", "published_accuracy": published, "epochs": 4,
        "units": 8, "batch_size": 1, "shuffle": policy == "reset-every-batch", "policy": policy, "model": "lstm",
        "samples": 25, "seeds": list(range(len(per_seed))), "seconds": 1.5,
        "accuracy": statistics.accuracy_block(per_seed), "perfect_share": float(np.mean(per_seed == 1)),
        "loss": {"per_seed": [1.0] * len(per_seed)}, "median_seed": 1, "memoryless_ceiling": 0.6,
        "curves": {"loss": _curve([3.2, 2.0, 1.1, 0.5]), "accuracy": _curve([0.1, 0.4, 0.7, 0.8])},
        "transcript": ["['A'] -> B", "['B'] -> C"],
    }
    if generation:
        entry["generation"] = generation
    return entry


GENERATION = {
    "cold_start": "K", "prime": "ABCDEFGHIJ", "cold_predictions": {"B": 2, "C": 1}, "primed_predictions": {"L": 3},
    "cold_expected_share": 0.0, "primed_expected_share": 1.0,
    "median_seed": {"from_A": [["A", "B"], ["B", "C"], ["C", "D"]], "cold": [["K", "B"], ["B", "C"]],
                    "primed": [["K", "L"], ["L", "M"]]},
}


@pytest.fixture
def payload():
    return {
        "format_version": runfolder.FORMAT_VERSION, "lstmstate_version": "0.1.0", "created": "2025-01-01T12:00:00",
        "versions": {"python": "3.11", "keras": "3.15.1", "jax": "0.10.2", "backend": "jax"},
        "machine": {"platform": "Linux", "processor": "x86_64", "cpus": 2}, "seeds": [0, 1, 2],
        "experiments": {"one-char": _entry([0.8, 0.84, 0.88], 0.84),
                        "stateful": _entry([1.0, 1.0, 0.96], 1.0, "carry-within-epoch", GENERATION)},
        "verdicts": [{"claim": "cold start needs priming", "tutorial_says": "cold at K it predicts B",
                      "measured": "cold K -> L in 0% of seeds", "verdict": "supported",
                      "evidence": "a < b & c | d"}],
    }


def test_figures_return_figures_with_one_panel_per_experiment(payload):
    experiments = payload["experiments"]
    accuracy = figures.accuracy_per_seed(experiments)
    assert isinstance(accuracy, Figure)
    labels = [tick.get_text() for tick in accuracy.axes[0].get_yticklabels()]
    assert labels[-1].startswith("one-char") and labels[0].startswith("stateful")  # first at the top
    curves = figures.training_curves(experiments, "loss")
    assert sum(axes.get_visible() for axes in curves.axes) == 2
    with pytest.raises(ValueError, match="metric"):
        figures.training_curves(experiments, "perplexity")
    png = figures.to_png(figures.generation_transcripts(GENERATION))
    assert png.startswith(b"\x89PNG")


def test_state_heatmaps_check_shapes():
    hidden = np.linspace(-1, 1, 12).reshape(3, 4)  # (step, units)
    figure = figures.state_heatmaps(hidden, hidden / 2, ["A", "B", "C"], "three steps")
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["A", "B", "C"]
    with pytest.raises(ValueError, match="one step per symbol"):
        figures.state_heatmaps(hidden, hidden, ["A", "B"], "wrong")


def test_state_trace_matches_the_whole_sequence_in_one_call():
    # Stepping one symbol at a time with carried state must end where one LSTM call over the
    # whole sequence ends: that is what "carried state" means.
    spec = ModelSpec("lstm", steps=1, features=1, outputs=26, units=5)
    weights = initial_weights(spec.build(), seed=3)
    encoding = Encoding("scalar", 26)
    ids = np.array([0, 1, 2, 3, 4, 5])
    traced = trace(spec, weights, encoding, Vocabulary.alphabet(), list("ABCDEF"))
    hidden, cell = traced.h, traced.c
    assert hidden.shape == cell.shape == (6, 5)
    whole = ModelSpec("lstm", steps=6, features=1, outputs=26, units=5).build()
    whole.set_weights(weights)  # same variables: an LSTM's weights do not depend on the sequence length
    zero = np.zeros((1, 5), np.float32)
    _, h, c = whole.predict([encoding.encode(ids.reshape(1, 6, 1)), zero, zero], verbose=0)
    np.testing.assert_allclose(hidden[-1], h[0], atol=1e-5)
    np.testing.assert_allclose(cell[-1], c[0], atol=1e-5)
    assert not np.allclose(hidden[0], hidden[-1])
    with pytest.raises(ValueError, match="at least one symbol"):
        trace(spec, weights, encoding, Vocabulary.alphabet(), [])


def test_report_is_self_contained_and_reads_as_a_paper(tmp_path, payload):
    files.write_json(tmp_path / "results.json", payload)
    html_path, md_path = report.write_report(tmp_path)
    page = html_path.read_text()
    for heading in ("What was run", "Results", "Claims", "Pictures"):
        assert heading in page
    assert "keras 3.15.1" in page and "2 CPUs" in page
    assert "84.00%" in page and "84.0%<" not in page and "supported" in page  # the terminal's format
    assert "a &lt; b &amp; c | d" in page  # text is escaped, not markup
    images = re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    # accuracy, two curve figures, the generation (no weights saved here, so no state heatmap)
    assert len(images) == 4
    assert all(base64.b64decode(data).startswith(b"\x89PNG") for data in images)
    assert not re.search(r'(src|href)="(?!data:)', page)  # nothing to fetch: opens from disk offline
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert len(captions) == 4 and all(len(c) > 40 for c in captions)
    markdown = md_path.read_text()
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert linked and all((tmp_path / path).is_file() for path in linked)
    assert "a < b & c \\| d" in markdown  # a pipe would break the table row


def test_report_of_damaged_results_is_a_value_error(tmp_path, payload):
    with pytest.raises(ValueError, match="no results.json"):
        report.write_report(tmp_path)
    del payload["experiments"]["one-char"]["accuracy"]["ci95"]
    files.write_json(tmp_path / "results.json", payload)
    with pytest.raises(ValueError, match="damaged"):
        report.write_report(tmp_path)


def _bar_output(quiet: bool, terminal: bool) -> str:
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=terminal, width=140)
    with progress_bar(console, quiet) as bar:
        task = bar.add_task("stateful", total=300, seeds=20)
        bar.update(task, completed=150)
    return stream.getvalue()


def test_progress_shows_epochs_seeds_and_time_left_only_on_a_terminal():
    shown = _bar_output(quiet=False, terminal=True)
    assert "150/300" in shown and "epochs x 20 seeds" in shown and "time left" in shown
    assert _bar_output(quiet=True, terminal=True) == ""
    assert _bar_output(quiet=False, terminal=False) == ""


def test_results_json_of_a_report_stays_unchanged(tmp_path, payload):
    files.write_json(tmp_path / "results.json", payload)
    before = (tmp_path / "results.json").read_bytes()
    report.write_report(tmp_path)
    assert (tmp_path / "results.json").read_bytes() == before
    assert json.loads(before)["experiments"].keys() == payload["experiments"].keys()


def test_report_command_regenerates_and_rejects_a_bad_folder(tmp_path, payload):
    import subprocess
    import sys

    cli = [sys.executable, "-c", "from lstmstate.cli import main; main()", "report"]
    files.write_json(tmp_path / "results.json", payload)
    done = subprocess.run([*cli, str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "report.html").is_file() and (tmp_path / "figures" / "accuracy.png").is_file()
    bad = subprocess.run([*cli, str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == f"error: {tmp_path / 'nowhere'} is not a run folder: it has no results.json"


def test_report_lists_an_experiment_whose_seeds_all_diverged(tmp_path, payload):
    # As tutorial.outcome.entry writes it when every loss became NaN: no accuracy, only the count.
    payload["experiments"]["whole-batch"] = {
        "section": "LSTM State Within A Batch", "published_accuracy": 1.0, "epochs": 4, "seeds": [0, 1, 2],
        "seconds": 1.0, "accuracy": {"mean": None, "ci95": [None, None], "per_seed": []}, "perfect_share": None,
        "diverged": {"count": 3, "seeds": [0, 1, 2]}}
    payload["experiments"]["one-char"]["diverged"] = {"count": 1, "seeds": [2]}
    payload["experiments"]["one-char"]["accuracy"] = statistics.accuracy_block([0.8, 0.84])
    files.write_json(tmp_path / "results.json", payload)
    html_path, _ = report.write_report(tmp_path)
    page = html_path.read_text()
    assert "every seed diverged" in page
    assert "one-char (seed 1, accuracy 84.00%)" in page  # the median seed found among the kept seeds
    assert "(+1 diverged)" in figures.accuracy_per_seed(
        {"one-char": payload["experiments"]["one-char"]}).axes[0].get_yticklabels()[0].get_text()


# ---- the shared HTML and Markdown pieces ----------------------------------------------------------

def test_markup_escapes_every_cell_and_marks_numbers_verdicts_and_errors():
    page = markup.page("a <title>", [markup.table(["name", "n", "verdict", "folder / error"],
                                                  [["a & b", "1", "supported", "error: <x>"], ["c", "2", "refuted", "ok"]],
                                                  numeric={1}, verdict_column=2, error_column=3)])
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</body></html>\n")
    assert "<title>a &lt;title&gt;</title>" in page and "<td>a &amp; b</td>" in page
    assert '<td class="num">1</td>' in page and '<span class="verdict supported">supported</span>' in page
    assert '<td class="failed">error: &lt;x&gt;</td>' in page and "<td>ok</td>" in page
    assert markup.markdown_table(["a|b"], [["x\ny"]]) == "| a\\|b |\n|---|\n| x y |"


# ---- the own-data report's command to reproduce the run ---------------------------------------------

def _reproduced_plan(monkeypatch, capsys, tmp_path, *options) -> tuple[dict, dict, str]:
    """Train with ``options``, write the report, run its "to reproduce" line as a user would:
    the plan saved by the first run and by the second, and the line."""
    first, again = tmp_path / "first", tmp_path / "again"
    code, _, err = run_cli(monkeypatch, capsys, "train", *options, "--out", first, "--quiet")
    assert code == 0, err
    code, _, err = run_cli(monkeypatch, capsys, "report", first)
    assert code == 0, err
    markdown = (first / "report.md").read_text()
    line = markdown.split("To reproduce:\n\n```\n")[1].split("\n")[0]
    assert (first / "report.html").read_text().count(html.escape(line)) == 1  # the same line in both
    words = shlex.split(line)
    assert words[:2] == ["lstmstate", "train"] and words[-2:] == ["--out", "DIR"]
    code, _, err = run_cli(monkeypatch, capsys, *words[1:-1], again, "--quiet")
    assert code == 0, err
    (name,) = runfolder.entry_names(first)
    return runfolder.read_plan(first / name), runfolder.read_plan(again / name), line


def test_the_reproduce_line_names_every_option_that_differs_and_gives_the_plan_back(tmp_path, monkeypatch, capsys):
    text = tmp_path / "text.txt"
    text.write_text("the quick brown fox jumps over the lazy dog. " * 40)
    rows = np.arange(120)
    numbers = tmp_path / "numbers.csv"
    numbers.write_text("y\n" + "\n".join(f"{v:.3f}" for v in 10 + 0.1 * rows + np.sin(rows * np.pi / 2)))
    plans = [
        _reproduced_plan(monkeypatch, capsys, tmp_path / "symbols", "--data", text, "--framing", "stateful-streams",
                         "--units", 4, "--epochs", 2, "--batch-size", 2, "--seeds", 1, "--holdout", 0.25,
                         "--validation", 0.15, "--encoding", "embedding", "--embedding", 3, "--layers", 2,
                         "--cell", "gru", "--bptt", 3, "--reset", "never", "--dropout", 0.1, "--learning-rate", 0.005,
                         "--clip-norm", 1.5, "--validate-every", 1, "--patience", 3, "--checkpoint-every", 1),
        _reproduced_plan(monkeypatch, capsys, tmp_path / "numbers", "--data", numbers, "--framing", "window-features",
                         "--window", 5, "--units", 4, "--epochs", 1, "--seeds", 1, "--season", 4, "--horizon", 2,
                         "--differencing", 1)]
    changed = set()
    for first, again, line in plans:
        assert again == first
        defaults = {field.name: field.default for field in fields(Plan)}
        differ = {name for name, value in first.items() if value != defaults[name]}
        assert all(f"--{name.replace('_', '-')} " in line for name in differ)
        assert not [name for name in set(defaults) - differ - {"framing"} if f"--{name.replace('_', '-')} " in line]
        changed |= differ
    # Results without saved weights: the plan from what results.json keeps of it.
    alone = tmp_path / "alone"
    alone.mkdir()
    shutil.copy(tmp_path / "numbers" / "first" / runfolder.RESULTS, alone)
    (plan,) = saved_plans(alone, runfolder.read_results(alone)).values()
    assert (plan.framing, plan.window, plan.units, plan.epochs, plan.seeds) == ("window-features", 5, 4, 1, 1)
    # Every field of the Plan was set apart from its default in one of the two runs: a field added to the
    # Plan fails here until a run above sets it, and so until its reproduce line is shown to carry it.
    assert changed == {field.name for field in fields(Plan)}


def test_a_comparison_is_reproduced_by_one_compare_command():
    data = {"file": "my data.csv", "kind": "numbers", "columns": ["a", "b"], "target": "b", "time_column": None}
    plans = {"stateful": Plan(framing="stateful", units=8, horizon=1),
             "window-timesteps": Plan(framing="window-timesteps", units=8, batch_size=4)}
    (line,) = reproduce({"data": data, "ranking": []}, plans)
    assert line == "lstmstate compare --data 'my data.csv' --columns a,b --target b --units 8 --batch-size 4 --out DIR"
