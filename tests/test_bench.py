"""The benchmarks still run: tiny settings, checking what they print, not how fast anything is."""

import os
import re
import subprocess
import sys
from pathlib import Path

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
