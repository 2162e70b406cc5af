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
from lstmstate.core import budget
from lstmstate.core.population import Progress
from lstmstate.core.train_state import TrainState
from lstmstate.storage import files, schema

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
    """The description of ``folder``'s checkpoint; a missing one, a damaged or forged one (its JSON
    checked as every JSON file lstmstate reads, and its fields' kinds), another format or another
    version of lstmstate is a one-line ``ValueError``."""
    where = path(folder)
    with _opened(folder) as archive:
        member = _member(archive, META)
        if member is None:
            raise ValueError(f"{where} is damaged: it has no description of the run")
        if member.file_size > files.MAX_JSON_BYTES + files.NPY_HEADER_BYTES:
            raise ValueError(f"{where} is damaged: its description inflates to {member.file_size} bytes")
        with archive.open(member) as stream:
            try:
                raw = np.lib.format.read_array(stream, allow_pickle=False)
            except (ValueError, OSError, EOFError) as error:
                raise ValueError(f"{where} is damaged: its description: {str(error).splitlines()[0]}") from None
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise ValueError(f"{where} is damaged: it has no description of the run")
    meta = files.parse_json(raw.tobytes(), f"{where}'s description")
    if meta.get("format") != FORMAT or meta.get("version") != lstmstate.__version__:
        raise ValueError(f"{where} was written by lstmstate {_plain(meta.get('version'))} (checkpoint format "
                         f"{_plain(meta.get('format'))}); this is lstmstate {lstmstate.__version__} (format "
                         f"{FORMAT}), which cannot resume it exactly: train again without --resume")
    _check_meta(where, meta)
    return meta


def _check_meta(where: Path, meta: dict) -> None:
    """The fields a resuming run reads, of the kinds it reads them as: a forged checkpoint is one
    line here, not a KeyError or TypeError in the middle of resuming."""
    def refuse(field: str, wanted: str):
        raise ValueError(f"{where} is damaged: {field} is {schema.short(_at(meta, field))}, not {wanted} "
                         "(train again without --resume)")

    epochs = meta.get("epochs")
    if not isinstance(epochs, int) or isinstance(epochs, bool) or not 0 <= epochs <= budget.INT32_MAX:
        refuse("epochs", f"a whole number of epochs done (0..{budget.INT32_MAX})")
    configuration = meta.get("configuration")
    if not isinstance(configuration, dict):
        refuse("configuration", "an object")
    for part in ("plan", "data"):
        if not isinstance(configuration.get(part), dict):
            refuse(f"configuration.{part}", "an object")
    if not isinstance(configuration["data"].get("path"), str):
        refuse("configuration.data.path", "the data file's path")
    validation = meta.get("validation")
    if not isinstance(validation, dict) or not isinstance(validation.get("epochs"), list) \
            or len(validation["epochs"]) > epochs:
        refuse("validation", "an object with the epochs validated so far")


def _plain(value) -> str:
    """A version or format as written (``0.1.0``, ``1``), or cut short and quoted when forged."""
    text = str(value)
    return text if len(text) <= 40 and text.isprintable() and isinstance(value, (str, int)) else schema.short(value)


def _at(meta: dict, field: str):
    value = meta
    for key in field.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _member(archive: zipfile.ZipFile, name: str) -> zipfile.ZipInfo | None:
    try:
        return archive.getinfo(f"{name}.npy")
    except KeyError:
        return None


def read_arrays(folder: Path, expected: dict[str, tuple[tuple[int, ...], np.dtype]]) -> dict[str, np.ndarray]:
    """The checkpoint's arrays, exactly the names, shapes and dtypes of ``expected``, each checked
    from its ``.npy`` header before its data is inflated (``files.read_member``)."""
    where = path(folder)
    with _opened(folder) as archive:
        members = archive.infolist()
        names = sorted(member.filename.removesuffix(".npy") for member in members if member.filename != f"{META}.npy")
        if names != sorted(expected) or len(members) != len(expected) + 1:
            missing, extra = sorted(set(expected) - set(names)), sorted(set(names) - set(expected))
            raise ValueError(f"{where} does not belong to this configuration: it lacks {schema.short(missing[:5])} "
                             f"and has {schema.short(extra[:5])} (train again without --resume)")
        arrays = {}
        for name, (shape, dtype) in expected.items():
            try:
                arrays[name] = files.read_member(where, archive, archive.getinfo(f"{name}.npy"), tuple(shape), dtype)
            except ValueError as error:  # named as this module always named a checkpoint that does not fit
                raise ValueError(f"{error} (this run needs {np.dtype(dtype)} {tuple(shape)}; train again "
                                 "without `resume`)") from None
            except (OSError, EOFError, zipfile.BadZipFile, NotImplementedError, RuntimeError) as error:
                raise ValueError(f"{where} is damaged: {name}: {str(error).splitlines()[0]}") from None
    return arrays


class _opened:
    """The checkpoint as an open zip archive, in a context, with its errors as one line."""

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
            self.archive = zipfile.ZipFile(self.where)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
            raise ValueError(f"{self.where} is damaged: {str(error).splitlines()[0] if str(error) else error!r}") from None
        return self.archive

    def __exit__(self, *exc):
        self.archive.close()
        return False
