"""Interrupts, determinism and atomic writes: the run keeps what it finished."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lstmstate.storage import files, runfolder
from lstmstate.tutorial.suite import run_suite

CLI = [sys.executable, "-c", "from lstmstate.cli import main; main()"]
# The same, with Ctrl-C as a terminal gives it: a shell without job control starts background
# commands with SIGINT ignored, a child inherits that and Python then installs no handler, so a
# test run started that way would see its Ctrl-C ignored.
CTRL_C_CLI = [sys.executable, "-c", "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
              "from lstmstate.cli import main; main()"]


def _numbers(payload: dict) -> dict:
    """Everything in results.json that training computes (not timings or dates)."""
    return {name: {"accuracy": e["accuracy"], "loss": e["loss"], "curves": e["curves"],
                   "transcript": e["transcript"], "generation": e.get("generation")}
            for name, e in payload["experiments"].items()}


def test_same_seeds_same_numbers(tmp_path):
    first = run_suite(["one-char", "stateful"], 2, tmp_path / "a", epochs=4, units=4).payload
    second = run_suite(["one-char", "stateful"], 2, tmp_path / "b", epochs=4, units=4).payload
    assert _numbers(first) == _numbers(second)
    saved = json.loads((tmp_path / "a" / "results.json").read_text())
    assert _numbers(saved) == _numbers(json.loads((tmp_path / "b" / "results.json").read_text()))


def _interrupt_once_written(process: subprocess.Popen, results_file: Path, what: str) -> str:
    """Wait until ``results_file`` exists (the first finished piece of work), send SIGINT as Ctrl-C
    does, and return stderr once the process has ended."""
    deadline = time.time() + 300
    while not results_file.exists():
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            pytest.fail(f"{what} ended before its first result was written: {process.communicate()}")
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    return process.communicate(timeout=120)[1]


def test_ctrl_c_keeps_finished_experiments(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([*CTRL_C_CLI, "suite", "--seeds", "2", "--epochs", "150", "--out", str(out), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr = _interrupt_once_written(process, out / "results.json", "the suite")
    assert process.returncode == 130, stderr
    assert "interrupted: kept one-char" in stderr and str(out) in stderr
    assert "Traceback" not in stderr
    payload = json.loads((out / "results.json").read_text())
    assert "one-char" in payload["experiments"]
    assert len(payload["experiments"]["one-char"]["accuracy"]["per_seed"]) == 2
    assert (out / "one-char" / "weights.npz").is_file()
    assert not list(out.rglob("*.tmp"))


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    files.write_json(target, {"a": 1})

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        files.write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in Path(tmp_path).iterdir()] == ["results.json"]


def test_a_damaged_or_foreign_run_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="no results.json"):
        runfolder.read_results(tmp_path)
    (tmp_path / "results.json").write_text("{not json")
    with pytest.raises(ValueError, match="damaged"):
        runfolder.read_results(tmp_path)
    (tmp_path / "results.json").write_text(json.dumps({"format_version": 999, "experiments": {}}))
    with pytest.raises(ValueError, match="format 999"):
        runfolder.read_results(tmp_path)


def test_a_diverged_seed_is_left_out_and_does_not_poison_the_others():
    import numpy as np

    from lstmstate.core.engine import Trainer
    from lstmstate.tutorial import experiments, outcome, verdicts

    experiment = experiments.get("one-char")
    setup = experiment.setup(epochs=3, units=4)
    trainer = Trainer(setup.spec, setup.config, setup.x, setup.y)
    healthy = trainer.initial_weights([0, 1, 2])
    poisoned = [w.copy() for w in healthy]
    poisoned[3][1] = np.inf  # seed 1's Dense kernel: its loss is NaN from the first step
    population = trainer.train([0, 1, 2], weights=poisoned)
    evaluation = trainer.evaluate(population.weights)
    alone = trainer.train([0, 1, 2], weights=healthy)
    assert not np.isfinite(population.loss[1]).all()
    for index in (0, 2):  # the other seeds train exactly as without the poisoned one
        np.testing.assert_allclose(population.loss[index], alone.loss[index], rtol=1e-6)

    entry = outcome.entry(outcome.Outcome(experiment, setup, population, evaluation, 1.0))
    assert entry["diverged"] == {"count": 1, "seeds": [1]}
    assert len(entry["accuracy"]["per_seed"]) == 2
    assert all(np.isfinite(entry["accuracy"]["per_seed"]))
    assert verdicts.judge({"one-char": entry})  # statistics still work on the kept seeds


def test_ctrl_c_during_compare_keeps_finished_framings(tmp_path):
    data = tmp_path / "pattern.txt"
    data.write_text("aaaabbbccd" * 40)
    out = tmp_path / "cmp"
    process = subprocess.Popen([*CTRL_C_CLI, "compare", "--data", str(data), "--epochs", "400", "--seeds", "2",
                                "--out", str(out), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stderr = _interrupt_once_written(process, out / "results.json", "compare")
    assert process.returncode == 130, stderr
    assert "interrupted: kept " in stderr and str(out) in stderr and "Traceback" not in stderr
    payload = json.loads((out / "results.json").read_text())
    kept = list(payload["experiments"])
    assert kept and all((out / name / "weights.npz").is_file() for name in kept)
