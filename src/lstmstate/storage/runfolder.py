"""The run folder: the one module that writes and reads it, for the tutorial's experiments and
for the user's own data alike.

A run folder (``run``/``suite``/``train``/``compare --out DIR``)::

    DIR/
    ├── results.json        format_version, versions, machine, seeds, experiments {NAME: numbers},
    │                       and verdicts (tutorial) or holdout, baseline and data (own data)
    ├── report.html         output.report, from results.json and the saved weights
    ├── report.md, figures/*.png
    └── NAME/               one per experiment or framing: a ``SavedEntry``
        ├── setup.json      format_version, experiment, model, train, encoding, vocabulary, seeds,
        │                   and where they apply: stream, plan, data, scaling
        ├── weights.npz     w0 … wN, each (seed, *variable shape), in model.trainable_variables order
        └── curves.npz      training loss and accuracy, each (seed, epoch)

Reading checks everything it can before a seed is used: the format version (a folder of
another version is refused in one line naming both versions), that each file parses, and that
the weights have the shapes the saved model spec builds.
"""

import datetime
import os
import platform
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstmstate.core.encoding import Encoding
from lstmstate.core.engine import TrainConfig
from lstmstate.core.model import ModelSpec
from lstmstate.core.vocabulary import Vocabulary
from lstmstate.storage.files import read_json, write_arrays, write_json

# 2: the document is "the tutorial" (verdicts' "tutorial_says"), carried-state experiments save
#    their training stream. 1: the first format.
FORMAT_VERSION = 2
RESULTS = "results.json"
SETUP = "setup.json"
NUMBERS_ENCODING = "standardized"  # the encoding name of a model of numbers (scaled columns)


class Interrupted(Exception):
    """Ctrl-C during a run: what had finished is on disk; the message says what was kept."""


@dataclass(frozen=True)
class SavedEntry:
    """One experiment (or framing of the user's data) as it lives in ``DIR/NAME``."""

    name: str  # the experiment's name, or the framing's for the user's own data
    spec: ModelSpec  # the model, rebuildable at any batch size
    config: TrainConfig  # how it was trained; config.carries_state tells a stream from windows
    encoding: Encoding | None  # ids -> features, as in training; None for a model of numbers
    vocabulary: Vocabulary | None  # the symbols of the ids; None for a model of numbers
    seeds: tuple[int, ...]  # the integer seed of each member, in weights order
    weights: tuple[np.ndarray, ...]  # model.trainable_variables order, each (seed, *variable shape)
    loss: np.ndarray | None = None  # (seed, epoch) training loss; None when read back
    accuracy: np.ndarray | None = None  # (seed, epoch) training accuracy (NaN for numbers); None when read back
    stream: tuple[str, ...] | None = None  # carried-state tutorial experiments: the training stream, in order
    details: dict = field(default_factory=dict)  # own data: "plan", "data", "scaling" blocks of setup.json

    @property
    def numbers(self) -> bool:
        return self.vocabulary is None


def prepare(out: Path | None) -> Path:
    """The run folder, created and checked writable now, before any training time is spent
    (default: a new ``runs/TIMESTAMP``)."""
    if out is None:
        out = Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"cannot write to --out {out}: {error.strerror or error}; "
                         "give a folder you can create and write") from None
    return out


def header(seeds: list[int]) -> dict:
    """The first keys of every results.json: format, versions, machine and seeds."""
    import jax
    import keras

    from lstmstate import __version__
    return {
        "format_version": FORMAT_VERSION,
        "lstmstate_version": __version__,
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "keras": keras.__version__, "jax": jax.__version__,
                     "backend": keras.backend.backend()},
        "machine": {"platform": platform.platform(), "processor": platform.machine(), "cpus": os.cpu_count()},
        "seeds": list(seeds),
        "experiments": {},
    }


def write_results(folder: Path, payload: dict) -> Path:
    path = Path(folder) / RESULTS
    write_json(path, payload)
    return path


def read_results(folder: Path) -> dict:
    """``results.json`` of a run folder, checked; a missing or damaged file is a ``ValueError``."""
    path = Path(folder) / RESULTS
    if not path.is_file():
        raise ValueError(f"{folder} is not a run folder: it has no {RESULTS}")
    payload = read_json(path)
    _check_version(path, payload)
    if not isinstance(payload.get("experiments"), dict):
        raise ValueError(f"{path} is damaged: it has no experiments")
    return payload


def write_entry(folder: Path, entry: SavedEntry) -> Path:
    """Write ``entry`` under ``folder / entry.name``; returns that folder."""
    target = Path(folder) / entry.name
    setup = {
        "format_version": FORMAT_VERSION,
        "experiment": entry.name,
        "model": entry.spec.to_dict(),
        "train": entry.config.to_dict(),
        "encoding": NUMBERS_ENCODING if entry.encoding is None else entry.encoding.name,
        "vocabulary": [] if entry.vocabulary is None else list(entry.vocabulary.symbols),
        "seeds": list(entry.seeds),
    }
    if entry.stream is not None:
        setup["stream"] = list(entry.stream)
    setup.update(entry.details)
    write_json(target / SETUP, setup)
    write_arrays(target / "weights.npz", **{f"w{i}": w for i, w in enumerate(entry.weights)})
    if entry.loss is not None:
        write_arrays(target / "curves.npz", loss=entry.loss, accuracy=entry.accuracy)
    return target


def entry_names(run_folder: Path) -> list[str]:
    """The entries saved in ``run_folder`` (folders holding a setup.json), sorted."""
    run_folder = Path(run_folder)
    if not run_folder.is_dir():
        raise ValueError(f"{run_folder} is not a folder; give the folder written by run/suite/train --out")
    return sorted(p.parent.name for p in run_folder.glob(f"*/{SETUP}"))


def read_entry(folder: Path) -> SavedEntry:
    """The entry saved in ``folder`` (``RUN_DIR/NAME``), checked; its curves are not read."""
    folder = Path(folder)
    setup_path = folder / SETUP
    setup = read_json(setup_path)
    _check_version(setup_path, setup)
    try:
        spec = ModelSpec.from_dict(setup["model"])
        config = TrainConfig.from_dict(setup["train"])
        # A model of numbers (`train --data FILE.csv`) has no vocabulary: its inputs are scaled values.
        numbers = setup["encoding"] == NUMBERS_ENCODING
        vocabulary = None if numbers else Vocabulary.from_symbols(setup["vocabulary"])
        encoding = None if numbers else Encoding(setup["encoding"], vocabulary.size)
        seeds = tuple(int(s) for s in setup["seeds"])
        name = str(setup.get("experiment", folder.name))
        stream = tuple(str(s) for s in setup["stream"]) if "stream" in setup else None
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{setup_path} is damaged: {type(error).__name__}: {error}") from None
    if not seeds:
        raise ValueError(f"{setup_path} is damaged: it lists no seeds")
    if vocabulary is not None and spec.output_activation == "softmax" and spec.outputs != vocabulary.size:
        raise ValueError(f"{setup_path} is damaged: the model predicts {spec.outputs} classes "
                         f"but the vocabulary has {vocabulary.size} symbols")
    if encoding is not None and spec.features % encoding.features(1) != 0:
        raise ValueError(f"{setup_path} is damaged: {spec.features} features per step do not fit "
                         f"the {encoding.name} encoding of {vocabulary.size} symbols")
    weights = _read_weights(folder / "weights.npz", spec, len(seeds))
    details = {key: setup[key] for key in ("plan", "data", "scaling") if key in setup}
    return SavedEntry(name, spec, config, encoding, vocabulary, seeds, weights, stream=stream, details=details)


def median_seed_index(run_folder: Path, name: str, seeds: tuple[int, ...]) -> int:
    """Where results.json's median seed of ``name`` sits among ``seeds``; 0 when it does not say.

    The median seed is what ``run`` prints, so later commands default to the same seed.
    """
    try:
        median = read_json(Path(run_folder) / RESULTS)["experiments"][name]["median_seed"]
        return seeds.index(int(median))
    except (ValueError, KeyError, TypeError):
        return 0


def _check_version(path: Path, payload: dict) -> None:
    version = payload.get("format_version")
    if version != FORMAT_VERSION:
        raise ValueError(f"{path} was written in run format {version!r}; this lstmstate reads format "
                         f"{FORMAT_VERSION} only: rerun it with this version")


def _read_weights(path: Path, spec: ModelSpec, seeds: int) -> tuple[np.ndarray, ...]:
    """Every weight array, checked against the shapes of the model the spec builds."""
    if not path.is_file():
        raise ValueError(f"{path} is missing")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: np.asarray(archive[key]) for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{path} is damaged: {error}") from None
    expected = [tuple(v.shape) for v in spec.build().trainable_variables]
    keys = [f"w{i}" for i in range(len(expected))]
    if sorted(arrays) != sorted(keys):
        raise ValueError(f"{path} is damaged: it holds {sorted(arrays)}, the model needs {keys}")
    weights = []
    for key, shape in zip(keys, expected):
        value = arrays[key]
        if value.shape != (seeds, *shape):
            raise ValueError(f"{path} is damaged: {key} is {value.shape}, the model needs {(seeds, *shape)} "
                             f"({seeds} seeds)")
        weights.append(value.astype(np.float32))
    return tuple(weights)
