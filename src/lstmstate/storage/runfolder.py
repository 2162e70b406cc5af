"""Results of experiments: per-seed numbers, their summaries, and the run folder they live in.

A run folder holds ``results.json`` (every experiment's numbers and the verdicts) and, per
experiment, ``NAME/setup.json`` (what was trained), ``NAME/weights.npz`` (every seed's trained
weights, each array ``(seed, …)``) and ``NAME/curves.npz`` (loss and accuracy, ``(seed, epoch)``).
Every file is written atomically: a crash never leaves a half-written file behind.
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np

from lstmstate.core import statistics

FORMAT_VERSION = 1  # bump when the layout of a run folder changes; loading checks it


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename, so readers see the old
    file or the new one, never a part."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        # mkstemp makes the file owner-only; results and reports are for people to open.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: dict) -> None:
    write_atomically(path, (json.dumps(payload, indent=2, allow_nan=False) + "\n").encode())


def write_arrays(path: Path, **arrays: np.ndarray) -> None:
    """An ``.npz`` of ``arrays``, written atomically."""
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    write_atomically(path, buffer.getvalue())


def curve_band(values: np.ndarray, points: int = 250) -> dict:
    """Per-epoch mean over seeds with a 95% band (normal approximation of the mean's interval),
    at most ``points`` epochs (evenly spaced, the last included) so results.json stays small.

    ``values`` is ``(seed, epoch)``.
    """
    values = np.asarray(values, np.float64)
    epochs = np.unique(np.linspace(0, values.shape[1] - 1, min(points, values.shape[1])).round().astype(int))
    chosen = values[:, epochs]
    mean = np.nanmean(chosen, axis=0)
    half = 1.96 * np.nanstd(chosen, axis=0, ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0 * mean
    return {"epoch": (epochs + 1).tolist(), "mean": _finite(mean), "low": _finite(mean - half),
            "high": _finite(mean + half)}


def _finite(values) -> list:
    return [None if not np.isfinite(v) else round(float(v), 6) for v in values]


def accuracy_block(per_seed) -> dict:
    """The ``accuracy`` entry of an experiment: mean, 95% interval and every seed's value."""
    per_seed = np.asarray(per_seed, np.float64)
    low, high = statistics.bootstrap_ci(per_seed)
    return {"mean": statistics.mean(per_seed), "ci95": [low, high], "per_seed": per_seed.round(6).tolist()}


def read_json(path: Path) -> dict:
    """A JSON object from ``path``; a missing file, bad JSON or a non-object is a ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path} is missing")
    try:
        payload = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{path} is damaged: {error}") from None
    if not isinstance(payload, dict):
        raise ValueError(f"{path} is damaged: it holds no JSON object")
    return payload


def read_results(folder: Path) -> dict:
    """``results.json`` of a run folder, checked; a missing or damaged file is a ``ValueError``."""
    path = Path(folder) / "results.json"
    if not path.is_file():
        raise ValueError(f"{folder} is not a run folder: it has no results.json")
    payload = read_json(path)
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{path} was written in run format {version!r}; this lstmstate reads format {FORMAT_VERSION}")
    if not isinstance(payload.get("experiments"), dict):
        raise ValueError(f"{path} is damaged: it has no experiments")
    return payload
