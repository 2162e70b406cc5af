"""The benchmarks still run: tiny settings, checking what they print, not how fast anything is."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"


def bench_process(script: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("XLA_FLAGS", None)  # the scripts set their own device flags
    return subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True,
                          env=env, timeout=300)


def run_bench(script: str, *args: str) -> str:
    result = bench_process(script, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_speed_compares_engine_and_pure_jax():
    out = run_bench("speed.py", "--only", "one-char", "--seeds", "2", "--max-seed-steps", "250",
                    "--repeats", "1", "--skip", "engine-1", "keras")
    row = next(line for line in out.splitlines() if line.startswith("one-char"))
    engine, one_device, pure_jax = row.split()[1:4]
    assert float(engine) > 0 and float(pure_jax) > 0 and one_device == "-"
    # 250 seed-steps of 2 seeds is 5 of the 500 epochs: the full time is marked as extrapolated.
    assert re.search(r"~\s*[\d.]+ s", row)


def test_breakdown_lists_phases_and_operations():
    out = run_bench("breakdown.py", "--experiment", "one-char", "--seeds", "2", "--epochs", "3", "--top", "3")
    for phase in ("import", "model", "first train", "steady train", "one chunk", "first evaluate",
                  "backend_compile_duration", "seed-steps/s", "XLA operations"):
        assert phase in out, phase
    assert "2 host device(s)" in out or "1 host device(s)" in out
    assert len(re.findall(r"^\s+\S+\s+[\d.]+\s+[\d.]+%\s+[\d.]+$", out, re.MULTILINE)) == 3


def test_breakdown_rejects_an_unknown_experiment():
    result = bench_process("breakdown.py", "--experiment", "nope")
    assert result.returncode != 0
    assert "unknown experiment 'nope'" in result.stderr
    assert "Traceback" not in result.stderr


def test_speed_rejects_zero_seeds():
    result = bench_process("speed.py", "--seeds", "0")
    assert result.returncode != 0
    assert "--seeds: must be at least 1, got 0" in result.stderr
    assert "Traceback" not in result.stderr


def test_crosscheck_trains_the_tutorials_code_and_ranks_equal_accuracies_as_ties(tmp_path):
    # In this process (Keras on JAX, 1 epoch): the plain-Keras code path runs and keeps each seed as it
    # finishes; the comparison is checked on numbers a person can count.
    import importlib.util
    import sys

    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location("crosscheck", BENCH / "crosscheck.py")
        crosscheck = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(crosscheck)
    finally:
        sys.path.remove(str(BENCH))
    crosscheck.keras_worker("window-features", [0, 1], tmp_path, epochs=1)
    kept = crosscheck.stored("window-features", tmp_path, epochs=1)
    assert sorted(kept) == [0, 1] and all(0.0 <= v <= 1.0 for v in kept.values())
    assert (tmp_path / "window-features-epochs1.keras.jsonl").is_file()  # apart from the published runs

    # Keras's 20/23 in float32 and the engine's in float64 are the same accuracy: ranked as ties,
    # two equal populations are no different (p = 1), however the floats round.
    keras_values, engine_values = [0.8695651888847351, 0.8260869383811951] * 5, [20 / 23, 19 / 23] * 5
    result = crosscheck.compare("window-features", keras_values, engine_values)
    assert result["mannwhitney_p"] == pytest.approx(1.0) and result["difference"] == pytest.approx(0.0, abs=1e-6)
    assert result["keras"] == result["engine"] == "82.61% x5, 86.96% x5"
    shifted = crosscheck.compare("window-features", keras_values, [20 / 23] * 10)
    assert shifted["mannwhitney_p"] < 0.05 and shifted["difference"] == pytest.approx(0.5 / 23, abs=1e-6)


def test_charlm_sets_lstmstate_beside_pytorch_and_the_ngram():
    pytest.importorskip("torch")  # bench-only: CI has no torch, and lstmstate does not depend on it
    out = run_bench("charlm.py", "--quick")
    # 20,000 characters, the last 20% held out: both sides are scored on the same 4,000.
    assert "held-out next-character accuracy (4,000 characters)" in out
    rates = re.findall(r"^  (lstmstate, 1 seed|lstmstate, 2 seeds \(total\)|PyTorch, [12] thread\(s\))\s+([\d,]+)",
                       out, re.MULTILINE)
    assert [name for name, _ in rates][:2] == ["lstmstate, 1 seed", "lstmstate, 2 seeds (total)"] and len(rates) == 3
    assert all(int(rate.replace(",", "")) > 0 for _, rate in rates)
    # PyTorch trains at least one full pass, however short lstmstate's run was.
    passes = float(re.search(r"PyTorch, ([\d.]+) passes in", out).group(1))
    assert passes >= 1
    accuracies = [float(a) for a in re.findall(r"^  (?:lstmstate, 1 seed|PyTorch), [\d.]+ passes in .* ([\d.]+)%", out,
                                               re.MULTILINE)]
    assert len(accuracies) == 2 and all(0 < a < 100 for a in accuracies)
    assert re.search(r"^  \d+-gram with backoff\s+[\d.]+%", out, re.MULTILINE)  # read from lstmstate's results.json
    assert out.count("NOT met") + out.count(": met") == 3  # 1 seed 1.5x, equal accuracy, N seeds 4x
    assert re.search(r"peak [\d,.]+ GFLOP/s measured", out)
