"""Shared test setup: lstmstate picks the JAX backend before anything imports Keras."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import lstmstate  # noqa: F401  (selects the JAX backend first)


def reference_python() -> str | None:
    """A Python that can run Keras on the TensorFlow backend, where stateful LSTMs work; or None."""
    candidate = os.environ.get("LSTMSTATE_REFERENCE_PYTHON", sys.executable)
    probe = subprocess.run([candidate, "-c", "import tensorflow"], capture_output=True,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    return candidate if probe.returncode == 0 else None


@pytest.fixture(scope="session")
def tensorflow_python():
    python = reference_python()
    if python is None:
        pytest.skip("no Python with tensorflow for the stateful Keras reference "
                    "(pip install tensorflow-cpu, or set LSTMSTATE_REFERENCE_PYTHON)")
    return python


def run_reference(python: str, script: str, *args: str) -> None:
    """Run ``script`` with Keras on the TensorFlow backend in a fresh process."""
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3",
           "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([python, "-c", script, *args], capture_output=True, text=True, env=env, timeout=600)
    if result.returncode != 0:
        raise AssertionError(f"reference run failed:\n{result.stderr[-3000:]}")


def run_cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    """``lstmstate ARGS`` in this process, as a user types it: (exit code, stdout, stderr)."""
    from lstmstate.cli import main

    monkeypatch.setattr(sys, "argv", ["lstmstate", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code or 0
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def terminated_after_cpu(process: subprocess.Popen, cpu_seconds: float = 6, within: float = 10) -> tuple[str, str]:
    """SIGTERM to ``process`` once it has used ``cpu_seconds`` of CPU (under a shared machine's load
    the wall clock says little about how far it got); its stdout and stderr, asserting it ended
    within ``within`` seconds of the signal."""
    deadline = time.time() + 120
    while _cpu_seconds(process.pid) < cpu_seconds:
        assert process.poll() is None and time.time() < deadline, process.communicate()
        time.sleep(0.2)
    sent = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert time.perf_counter() - sent < within, stderr
    return stdout, stderr


def _cpu_seconds(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far (proc(5): fields 14 and 15 of stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
