"""The command line driven as a user drives it: real processes, tiny epochs."""

import json
import os
import subprocess
import sys

import pytest

CLI = [sys.executable, "-c", "from lstmstate.cli import main; main()"]


def lstmstate(*args, cwd=None):
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=600,
                          env={**os.environ, "COLUMNS": "200"})


def test_list_shows_every_experiment():
    result = lstmstate("list")
    assert result.returncode == 0
    for name in ("one-char", "stateful", "variable-length-masked", "memory-stateful"):
        assert name in result.stdout


def test_run_prints_the_tutorial_style_output_and_writes_results(tmp_path):
    result = lstmstate("run", "one-char", "--seeds", "3", "--epochs", "5", "--out", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    accuracy_line = next(line for line in lines if line.startswith("Model Accuracy: "))
    assert accuracy_line.endswith("%")
    assert "['A'] -> " in result.stdout and "['Y'] -> " in result.stdout
    assert "Population: 3 seeds" in result.stdout
    payload = json.loads((tmp_path / "run" / "results.json").read_text())
    entry = payload["experiments"]["one-char"]
    assert entry["published_accuracy"] == 0.84 and entry["epochs"] == 5
    assert len(entry["accuracy"]["per_seed"]) == 3
    # evaluated on exactly the 25 patterns: every accuracy is a whole number of them
    assert all(abs(25 * a - round(25 * a)) < 1e-4 for a in entry["accuracy"]["per_seed"])
    low, high = entry["accuracy"]["ci95"]
    assert low <= entry["accuracy"]["mean"] <= high
    # the printed median-seed accuracy is one of the seeds'
    printed = float(accuracy_line.split()[-1].rstrip("%")) / 100
    assert min(abs(printed - a) for a in entry["accuracy"]["per_seed"]) < 1e-4


def test_stateful_run_prints_generation_and_new_start():
    result = lstmstate("run", "stateful", "--seeds", "2", "--epochs", "3", "--units", "4")
    assert result.returncode == 0, result.stderr
    assert "New start: K" in result.stdout
    assert "\nK -> " in result.stdout and "\nA -> " in result.stdout


def test_suite_writes_results_and_verdicts(tmp_path, monkeypatch):
    # The suite at a tiny scale through the library call the command makes.
    from lstmstate.tutorial.suite import run_suite
    run_suite(["whole-batch", "whole-batch-shuffled", "stateful"], 2, tmp_path, epochs=3, units=4)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["experiments"]) == {"whole-batch", "whole-batch-shuffled", "stateful"}
    claims = {v["claim"]: v for v in saved["verdicts"]}
    assert "state within a batch" in claims and "the stateful LSTM learns the alphabet perfectly" in claims
    assert all(v["verdict"] in ("supported", "refuted", "inconclusive") for v in saved["verdicts"])
    assert (tmp_path / "stateful" / "weights.npz").is_file()


def test_suite_command_end_to_end_without_out_writes_under_runs(tmp_path):
    # The real command over every experiment, as a user types it, at 2 epochs so a test can afford it.
    result = lstmstate("suite", "--seeds", "2", "--epochs", "2", "--quiet", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "runs").iterdir()
    payload = json.loads((folder / "results.json").read_text())
    from lstmstate.tutorial.experiments import DEFAULT_SUITE
    assert list(payload["experiments"]) == list(DEFAULT_SUITE)  # the controls wait for --controls
    assert all(len(e["accuracy"]["per_seed"]) == 2 and e["epochs"] == 2 for e in payload["experiments"].values())
    for name in DEFAULT_SUITE:
        assert (folder / name / "weights.npz").is_file(), name
    assert (folder / "report.html").is_file() and (folder / "figures" / "accuracy.png").is_file()
    assert "Accuracy over seeds" in result.stdout and "Claims" in result.stdout
    assert f"results written to {folder.relative_to(tmp_path)}/results.json" in result.stdout
    # Bad input on the same command: one line, nothing written.
    bad = lstmstate("suite", "--seeds", "0", cwd=tmp_path / "runs")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert not (tmp_path / "runs" / "runs").exists()


@pytest.mark.parametrize("args, expected", [
    (["run", "two-char"], "unknown experiment 'two-char'"),
    (["run", "one-char", "--seeds", "0"], "--seeds"),
    (["run", "one-char", "--epochs", "-3"], "--epochs"),
    (["run", "one-char", "--units", "0"], "--units"),
    (["run", "one-char", "--seeds", "many"], "--seeds"),
    (["suite", "--out", "/proc/forbidden"], "cannot write to --out"),
    (["frobnicate"], "No such command"),
])
def test_bad_input_is_one_line_and_exit_2(args, expected):
    result = lstmstate(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
