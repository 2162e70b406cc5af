"""A checkpoint: training stopped part-way, kept in its run folder so it can be resumed exactly.

One file, ``DIR/checkpoint.npz``, written atomically (``files.write_atomically``): named arrays
(every seed's weights, optimizer state, random-generator states, carried state, shuffling keys,
curves so far, and whatever else the caller keeps, such as the best weights by held-out loss),
and a JSON description of the run among them (``meta``: format, version, epochs done, the
configuration), so the arrays and their description can never come from two different writes::

    checkpoint.npz   meta (uint8, the JSON text)   trainable0 ... optimizer0 ... key  loss ...

Reading checks the format and version first, then every array against the names, shapes and
dtypes the resuming run expects; a checkpoint that does not match is a one-line ``ValueError``.
Arrays are read with ``allow_pickle=False``: a checkpoint never runs code.
"""

import io
import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

import lstmstate
from lstmstate.core.population import Progress
from lstmstate.core.train_state import TrainState
from lstmstate.storage import files

CHECKPOINT = "checkpoint.npz"
FORMAT = 1  # bump when the arrays or the meta change meaning
META = "meta"


# TrainState's fields kept as numbered arrays (``trainable0``, ``trainable1``, ...); ``key`` is one array.
STATE_PARTS = ("trainable", "non_trainable", "optimizer", "lstm_state")


def progress_arrays(done: Progress) -> dict[str, np.ndarray]:
    """``done`` as the checkpoint's named arrays: every part of its state, and its curves."""
    arrays = {f"{part}{i}": np.asarray(value) for part in STATE_PARTS for i, value in enumerate(getattr(done.state, part))}
    arrays.update(key=np.asarray(done.state.key), loss=np.asarray(done.loss, np.float32),
                  accuracy=np.asarray(done.accuracy, np.float32))
    return arrays


def progress_expected(initial: TrainState, epochs: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """The names, shapes and dtypes ``progress_arrays`` writes for a run that starts as ``initial``
    (every seed's, a leading ``(seed,)`` axis) after ``epochs`` epochs: what ``read_arrays`` checks."""
    seeds = len(initial.key)
    expected = {f"{part}{i}": (np.shape(value), np.asarray(value).dtype)
                for part in STATE_PARTS for i, value in enumerate(getattr(initial, part))}
    expected.update(key=(initial.key.shape, initial.key.dtype), loss=((seeds, epochs), np.float32),
                    accuracy=((seeds, epochs), np.float32))
    return expected


def progress_of(arrays: dict[str, np.ndarray], initial: TrainState, epochs: int) -> Progress:
    """The ``Progress`` that ``progress_arrays`` wrote, its parts in ``initial``'s order."""
    def numbered(part):
        return [arrays[f"{part}{i}"] for i in range(len(getattr(initial, part)))]
    state = TrainState(numbered("trainable"), numbered("non_trainable"), numbered("optimizer"),
                       tuple(numbered("lstm_state")), arrays["key"])
    return Progress(epochs, state, arrays["loss"], arrays["accuracy"])


def path(folder: Path) -> Path:
    return Path(folder) / CHECKPOINT


def exists(folder: Path) -> bool:
    return path(folder).is_file()


def write(folder: Path, meta: dict, arrays: dict[str, np.ndarray]) -> Path:
    """Write ``meta`` and ``arrays`` to ``folder``'s checkpoint, replacing the one before at once."""
    if META in arrays:
        raise ValueError(f"{META!r} is the checkpoint's own description, not an array name")
    meta = {**meta, "format": FORMAT, "version": lstmstate.__version__}
    text = np.frombuffer(json.dumps(meta, allow_nan=False).encode(), np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **{META: text}, **{name: np.asarray(value) for name, value in arrays.items()})
    target = path(folder)
    files.write_atomically(target, buffer.getvalue())
    return target


def remove(folder: Path) -> None:
    """Remove the checkpoint of a run that has finished (its results replace it)."""
    path(folder).unlink(missing_ok=True)


def read_meta(folder: Path) -> dict:
    """The description of ``folder``'s checkpoint; a missing one, another format or another
    version of lstmstate is a one-line ``ValueError``."""
    with _opened(folder) as archive:
        raw = np.asarray(archive[META]) if META in archive.files else None
    if raw is None or raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError(f"{path(folder)} is damaged: it has no description of the run")
    try:
        meta = json.loads(raw.tobytes().decode())
    except (ValueError, UnicodeDecodeError):
        raise ValueError(f"{path(folder)} is damaged: its description is not JSON") from None
    if not isinstance(meta, dict):
        raise ValueError(f"{path(folder)} is damaged: its description is not a JSON object")
    if meta.get("format") != FORMAT or meta.get("version") != lstmstate.__version__:
        raise ValueError(f"{path(folder)} was written by lstmstate {meta.get('version')} (checkpoint format "
                         f"{meta.get('format')}); this is lstmstate {lstmstate.__version__} (format {FORMAT}), "
                         "which cannot resume it exactly: train again without --resume")
    return meta


def read_arrays(folder: Path, expected: dict[str, tuple[tuple[int, ...], np.dtype]]) -> dict[str, np.ndarray]:
    """The checkpoint's arrays, exactly the names, shapes and dtypes of ``expected``."""
    where = path(folder)
    with _opened(folder) as archive:
        names = sorted(set(archive.files) - {META})
        if names != sorted(expected):
            missing, extra = sorted(set(expected) - set(names)), sorted(set(names) - set(expected))
            raise ValueError(f"{where} does not belong to this configuration: it lacks {missing[:5]} and has "
                             f"{extra[:5]} (train again without --resume)")
        arrays = {}
        for name, (shape, dtype) in expected.items():
            try:
                value = archive[name]
            except (ValueError, OSError, zipfile.BadZipFile) as error:  # a pickle, or a damaged member
                raise ValueError(f"{where} is damaged: {name}: {str(error).splitlines()[0]}") from None
            if value.shape != tuple(shape) or value.dtype != np.dtype(dtype):
                raise ValueError(f"{where} does not belong to this configuration: {name} is {value.dtype} "
                                 f"{value.shape}, this run needs {np.dtype(dtype)} {tuple(shape)} "
                                 "(train again without --resume)")
            arrays[name] = value
    return arrays


class _opened:
    """``np.load`` of the checkpoint as a context, with its errors as one line."""

    def __init__(self, folder: Path):
        self.where = path(folder)

    def __enter__(self):
        try:
            info = os.stat(self.where)
        except FileNotFoundError:
            raise ValueError(f"{self.where.parent} holds no checkpoint to resume ({CHECKPOINT} is missing): "
                             "a checkpoint is written by train --out every --checkpoint-every epochs and on "
                             "Ctrl-C") from None
        except OSError as error:
            raise ValueError(f"cannot read {self.where}: {error.strerror or error}") from None
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{self.where} is not a regular file")
        try:
            self.archive = np.load(self.where, allow_pickle=False)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"{self.where} is damaged: {str(error).splitlines()[0] if str(error) else error!r}") from None
        return self.archive

    def __exit__(self, *exc):
        self.archive.close()
        return False
