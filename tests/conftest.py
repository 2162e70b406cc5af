"""Shared test setup: lstmstate picks the JAX backend before anything imports Keras."""

import os
import subprocess
import sys

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
