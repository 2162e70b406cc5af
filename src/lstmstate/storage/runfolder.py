"""The run folder: the one module that writes and reads it, for the tutorial's experiments and
for the user's own data alike.

A run folder (``run``/``suite``/``train``/``compare --out DIR``)::

    DIR/
    ├── results.json        format_version, versions, machine, seeds, experiments {NAME: numbers},
    │                       and verdicts (tutorial) or holdout, baseline and data (own data)
    ├── report.html         tutorial.report or owndata.report, from results.json and the saved weights
    ├── report.md, figures/*.png
    ├── .lstmstate.lock     held while a command writes here, so two cannot interleave
    └── NAME/               one per experiment or framing: a ``SavedEntry``
        ├── setup.json      format_version, experiment, model, train, encoding, vocabulary, seeds,
        │                   and where they apply: stream, plan, data, scaling
        ├── weights.npz     w0 … wN, each (seed, *variable shape), in model.trainable_variables order
        └── curves.npz      training loss and accuracy, each (seed, epoch)

A run folder is data, never instructions. Reading checks everything before a seed is used: the
format version (a folder of another version is refused in one line naming both), each JSON file
against ``storage.schema``, that the model fits this machine (``core.budget``), and each weight
array's name, dtype and shape from its header before its data is read. Writing goes only to
names checked by ``target`` (``storage.paths``), inside the folder, never through a symbolic link; ``prepare``
tries every destination before any training, and refuses a folder that holds a run (unless
told to overwrite it) or that another command is writing.
"""

import datetime
import os
import platform
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lstmstate.core import budget
from lstmstate.core.encoding import Encoding
from lstmstate.core.train_config import TrainConfig
from lstmstate.core.model import ModelSpec
from lstmstate.core.vocabulary import Vocabulary
from lstmstate.storage import paths, schema
from lstmstate.storage.files import read_float_arrays, read_json, write_arrays, write_json
# The folder's lock (storage.lock) and its checked destinations (storage.paths) are reached here
# too: callers of the run folder use one module.
from lstmstate.storage.lock import LOCK, lock, locked, unlock  # noqa: F401 (LOCK, locked: re-exported)
from lstmstate.storage.paths import target

# 2: the document is "the tutorial" (verdicts' "tutorial_says"), carried-state experiments save
#    their training stream. 1: the first format.
FORMAT_VERSION = 2
RESULTS = "results.json"
SETUP = "setup.json"
WEIGHTS = "weights.npz"
CURVES = "curves.npz"
REPORTS = ("report.html", "report.md")
FIGURES = "figures"  # PNGs beside the report, referenced by report.md
RUN_FIGURES = ("accuracy", "curves-accuracy", "curves-loss", "held-out", "curves-held-out")  # one each per run
# ("held-out", "curves-held-out": own data)
EXPERIMENT_FIGURES = ("state", "generation", "forecast")  # one each per experiment: figures/state-NAME.png
NUMBERS_ENCODING = schema.NUMBERS_ENCODING


class Interrupted(Exception):
    """Ctrl-C or SIGTERM during a run: what had finished is on disk; the message says what was kept."""


@dataclass(frozen=True)
class SavedEntry:
    """One experiment (or framing of the user's data) as it lives in ``DIR/NAME``."""

    name: str  # the experiment's name, or the framing's for the user's own data (matches schema.NAME)
    spec: ModelSpec  # the model, rebuildable at any batch size
    config: TrainConfig  # how it was trained; config.carries_state tells a stream from windows
    encoding: Encoding | None  # ids -> features, as in training; None for a model of numbers
    vocabulary: Vocabulary | None  # the symbols of the ids; None for a model of numbers
    seeds: tuple[int, ...]  # the integer seed of each member, in weights order
    weights: tuple[np.ndarray, ...]  # model.trainable_variables order, each (seed, *variable shape)
    loss: np.ndarray | None = None  # (seed, epoch) training loss; None when read back
    accuracy: np.ndarray | None = None  # (seed, epoch) training accuracy (NaN for numbers); None when read back
    stream: tuple[str, ...] | None = None  # carried-state tutorial experiments: the training stream, in order
    details: dict = field(default_factory=dict)  # own data: "plan", "data", "scaling", "season" blocks of setup.json

    @property
    def numbers(self) -> bool:
        return self.vocabulary is None


def check_name(name: str, what: str = "experiment name") -> str:
    """``name`` if it can be a folder of a run folder (``schema.NAME``), else a ``ValueError``."""
    if not isinstance(name, str) or not re.fullmatch(schema.NAME, name):
        raise ValueError(f"{what} {schema.short(name)} cannot be a folder name: use letters, digits, '-' "
                         "and '_' (at most 64, starting with a letter or digit)")
    return name


def figure_stem(kind: str, name: str) -> str:
    """The file stem of one experiment's figure: ``state-NAME``, ``generation-NAME``."""
    if kind not in EXPERIMENT_FIGURES:
        raise ValueError(f"unknown figure {kind!r}; choose one of {', '.join(EXPERIMENT_FIGURES)}")
    return f"{kind}-{check_name(name)}"


# ---- writing ----------------------------------------------------------------------------------

def timestamped() -> Path:
    """A new run folder's default name: ``runs/TIMESTAMP`` (to the second) under the working folder."""
    return Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")


def prepare(out: Path | None, names: Iterable[str] = (), overwrite: bool = False, report: bool = True) -> Path:
    """The run folder, made, locked for this process and checked now, before any training time is
    spent (default: a new ``runs/TIMESTAMP``).

    Every file the run will write there (``names`` are its experiments or framings; ``report``:
    report.html, report.md and figures) is tried: not too long for the file system, no file or
    folder of the wrong kind in the way, no symbolic link. A folder that already holds a run is
    refused unless ``overwrite``; then that run's files are removed first, so results.json, the
    report and the saved experiments always describe one run.
    """
    out = Path(out) if out is not None else timestamped()
    names = [check_name(name) for name in names]
    planned = _planned(out, names, report)
    for path in planned:
        paths.check_length(path)
    paths.refuse_link(out)
    _refuse_run(out, overwrite)  # now, before anything is made (and again under the lock, below)
    make_writable(out)
    taken = lock(out)
    try:
        # Under the lock: a command that finished writing a run here a moment ago is seen now.
        _refuse_run(out, overwrite)
        for path in planned:
            paths.check_destination(out, path)
        if overwrite and holds_run(out):
            _clear_run(out)
    except BaseException:
        if taken:
            unlock(out)
        raise
    return out


def make_writable(out: Path) -> None:
    """Make ``out`` (with its parents) and check a file can be written in it, now, before any
    training time is spent."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise ValueError(f"cannot write to `out` {out}: {error.strerror or error}; "
                         "give a folder you can create and write") from None


def _refuse_run(out: Path, overwrite: bool) -> None:
    if not overwrite and paths.kind_of(out) == "folder" and holds_run(out):
        raise ValueError(f"`out` {out} already holds a run (results.json or saved experiments); "
                         "give another folder, or `overwrite` to replace that run")


def _planned(out: Path, names: list[str], report: bool) -> list[Path]:
    """Every file a run of ``names`` writes in ``out``, longest names included."""
    files = [out / RESULTS]
    for name in names:
        files += [out / name / SETUP, out / name / WEIGHTS, out / name / CURVES]
    if report:
        files += [out / file for file in REPORTS]
        files += [out / FIGURES / f"{stem}.png" for stem in RUN_FIGURES]
        files += [out / FIGURES / f"{figure_stem(kind, name)}.png" for kind in EXPERIMENT_FIGURES for name in names]
    return files


def holds_run(folder: Path) -> bool:
    """Whether ``folder`` holds a run: a results.json or a saved experiment."""
    folder = Path(folder)
    return paths.kind_of(folder / RESULTS) != "missing" or any(paths.kind_of(p) == "file" for p in folder.glob(f"*/{SETUP}"))


def _clear_run(folder: Path) -> None:
    """Remove the files a run wrote in ``folder`` (and nothing else): results, report, figures and
    saved experiments. Links are removed as links, never followed."""
    for name in (RESULTS, *REPORTS):
        _remove(folder / name)
    if paths.kind_of(folder / FIGURES) == "folder":
        for png in (folder / FIGURES).glob("*.png"):
            _remove(png)
        _remove_empty(folder / FIGURES)
    for setup in folder.glob(f"*/{SETUP}"):
        entry = setup.parent
        if paths.kind_of(entry) != "folder":
            continue
        for file in (SETUP, WEIGHTS, CURVES):
            _remove(entry / file)
        for png in entry.glob("state-seed*.png"):
            _remove(png)
        _remove_empty(entry)


def _remove(path: Path) -> None:
    if paths.kind_of(path) in ("file", "link"):
        path.unlink()


def _remove_empty(folder: Path) -> None:
    try:
        folder.rmdir()
    except OSError:
        pass  # something else lives there: it stays


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
    path = target(folder, RESULTS)
    write_json(path, payload)
    return path


def write_entry(folder: Path, entry: SavedEntry) -> Path:
    """Write ``entry`` under ``folder / entry.name``; returns that folder."""
    name = check_name(entry.name)
    setup = {
        "format_version": FORMAT_VERSION,
        "experiment": name,
        "model": entry.spec.to_dict(),
        "train": entry.config.to_dict(),
        "encoding": NUMBERS_ENCODING if entry.encoding is None else entry.encoding.name,
        "vocabulary": [] if entry.vocabulary is None else list(entry.vocabulary.symbols),
        "seeds": list(entry.seeds),
    }
    if entry.stream is not None:
        setup["stream"] = list(entry.stream)
    setup.update(entry.details)
    write_json(target(folder, name, SETUP), setup)
    write_arrays(target(folder, name, WEIGHTS), **{f"w{i}": w for i, w in enumerate(entry.weights)})
    if entry.loss is not None:
        write_arrays(target(folder, name, CURVES), loss=entry.loss, accuracy=entry.accuracy)
    return Path(folder) / name


# ---- reading ----------------------------------------------------------------------------------

def read_results(folder: Path) -> dict:
    """``results.json`` of a run folder, checked against ``schema.Results``; a missing or damaged
    file is a one-line ``ValueError``."""
    path = Path(folder) / RESULTS
    if paths.kind_of(path) == "missing":
        raise ValueError(f"{folder} is not a run folder: it has no {RESULTS}")
    payload = read_json(path)
    _check_version(path, payload)
    schema.check(schema.Results, payload, path)
    return payload


def holds_own_data(payload: dict) -> bool:
    """Whether a results.json is of the user's own data (``train``/``compare``), not the tutorial."""
    return "data" in payload


def entry_names(run_folder: Path) -> list[str]:
    """The entries saved in ``run_folder`` (folders holding a setup.json), sorted."""
    run_folder = Path(run_folder)
    if not run_folder.is_dir():
        raise ValueError(f"{run_folder} is not a folder; give the folder written by run/suite/train `out`")
    return sorted(p.parent.name for p in run_folder.glob(f"*/{SETUP}"))


def read_entry(folder: Path) -> SavedEntry:
    """The entry saved in ``folder`` (``RUN_DIR/NAME``), checked; its curves are not read."""
    folder = Path(folder)
    setup_path = folder / SETUP
    setup = read_json(setup_path)
    _check_version(setup_path, setup)
    checked = schema.check(schema.Setup, setup, setup_path)
    try:
        # From the checked blocks, whose numbers are of their field's type (an integer mask value
        # read as the float it stands for).
        spec = ModelSpec.from_dict(checked.model.model_dump())
        config = TrainConfig.from_dict(checked.train.model_dump())
        # A model of numbers (`train --data FILE.csv`) has no vocabulary: its inputs are scaled values.
        numbers = setup["encoding"] == NUMBERS_ENCODING
        vocabulary = None if numbers else Vocabulary.from_symbols(setup["vocabulary"])
        encoding = None if numbers else Encoding(setup["encoding"], vocabulary.size)
    except ValueError as error:
        raise ValueError(f"{setup_path} is damaged: {error}") from None
    seeds = tuple(setup["seeds"])
    try:
        # Before a byte of the weights is read or a model built: a setup.json asking for 10^9
        # units would otherwise end the process inside XLA.
        budget.check_loading(spec, len(seeds), {"units": "model.units", "seeds": "the number of seeds"})
    except ValueError as error:
        raise ValueError(f"{setup_path} asks for more than this machine has: {error}") from None
    shapes = {f"w{i}": (len(seeds), *shape) for i, shape in enumerate(budget.spec_shapes(spec))}
    arrays = read_float_arrays(folder / WEIGHTS, shapes)
    weights = tuple(arrays[key] for key in shapes)
    stream = tuple(setup["stream"]) if "stream" in setup else None
    details = {key: setup[key] for key in ("plan", "data", "scaling", "season") if key in setup}
    return SavedEntry(setup["experiment"], spec, config, encoding, vocabulary, seeds, weights, stream=stream,
                      details=details)


def read_plan(folder: Path) -> dict:
    """What an own-data entry (``RUN_DIR/NAME``) was trained with: its ``setup.json``'s plan,
    checked; empty for a tutorial experiment. A missing or damaged file is a ``ValueError``."""
    path = Path(folder) / SETUP
    setup = read_json(path)
    _check_version(path, setup)
    schema.check(schema.Setup, setup, path)
    return setup.get("plan") or {}


def median_seed_index(run_folder: Path, name: str, seeds: tuple[int, ...]) -> int:
    """Where results.json's median seed of ``name`` sits among ``seeds``; 0 when there is no
    results.json or it does not say. A damaged results.json is a ``ValueError``.

    The median seed is what ``run`` prints, so later commands default to the same seed.
    """
    if paths.kind_of(Path(run_folder) / RESULTS) == "missing":
        return 0
    entry = read_results(run_folder)["experiments"].get(name, {})
    median = entry.get("median_seed")
    return seeds.index(median) if median in seeds else 0


def _check_version(path: Path, payload: dict) -> None:
    version = payload.get("format_version")
    if type(version) is not int or version != FORMAT_VERSION:  # noqa: E721 (true == 1, 2.0 == 2: not versions)
        raise ValueError(f"{path} was written in run format {schema.short(version)}; this lstmstate reads format "
                         f"{FORMAT_VERSION} only: rerun it with this version")
