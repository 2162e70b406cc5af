"""A saved experiment: what one experiment of a run folder trained, and every seed's weights, loaded back.

``run --out DIR`` and ``suite --out DIR`` write, per experiment (see ``suite.save``)::

    DIR/
    ├── results.json          numbers and verdicts (the median seed of each experiment)
    └── NAME/
        ├── setup.json        format_version, model spec, train config, encoding, vocabulary, seeds
        ├── weights.npz       w0 … wN, each (seed, *variable shape), in model.trainable_variables order
        └── curves.npz        loss and accuracy, (seed, epoch)

Loading checks everything it can before any seed is used: the format version, that each file
parses, and that the weights have the shapes the saved model spec builds. A run from another
version or a damaged file is a ``ValueError`` naming the file and what is wrong with it.
"""

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmstate.trained import generation
from lstmstate.trained import keras_export
from lstmstate.storage import runfolder as results
from lstmstate.trained import window as sliding_window
from lstmstate.trained import state_trace
from lstmstate.core.encoding import Encoding
from lstmstate.core.engine import TrainConfig
from lstmstate.core.model import ModelSpec
from lstmstate.core.vocabulary import Vocabulary


@dataclass(frozen=True)
class SavedExperiment:
    """One experiment of a run folder, loaded and checked."""

    folder: Path  # the experiment's own folder, RUN_DIR/NAME
    name: str  # the experiment's name (the registry's, or the user's for their own data)
    spec: ModelSpec  # the model, rebuildable at any batch size
    config: TrainConfig  # how it was trained; carries_state tells stateful from stateless
    encoding: Encoding | None  # ids -> features, as in training; None for a model of numbers
    vocabulary: Vocabulary | None  # the symbols of the ids; None for a model of numbers
    seeds: tuple[int, ...]  # the integer seed of each member, in weights order
    weights: tuple[np.ndarray, ...]  # model.trainable_variables order, each (seed, *variable shape)
    median_index: int  # position of results.json's median seed (0 when results.json does not say)

    @property
    def stateful(self) -> bool:
        """Whether training carried state between batches (so the model is used as a stream)."""
        return self.config.carries_state

    def seed_index(self, index: int | None) -> int:
        """``index`` checked against the population; ``None`` means the median seed."""
        if index is None:
            return self.median_index
        if not 0 <= index < len(self.seeds):
            raise ValueError(f"seed index {index} is out of range: experiment {self.name!r} has "
                             f"{len(self.seeds)} seeds, indices 0..{len(self.seeds) - 1}")
        return index

    def member_weights(self, index: int | None = None) -> list[np.ndarray]:
        """The weights of seed ``index`` (the median seed if None), unstacked."""
        index = self.seed_index(index)
        weights = [w[index] for w in self.weights]
        # A seed whose training diverged is saved as it ended (NaN); it is kept out of statistics too.
        if not all(np.isfinite(w).all() for w in weights):
            raise ValueError(f"seed {self.seeds[index]} (index {index}) of {self.name!r} diverged in training: "
                             "its weights are not finite; choose another --seed-index")
        return weights

    def _require_symbols(self) -> None:
        if self.vocabulary is None:
            raise ValueError(f"{self.name!r} is a model of numbers (next value, mean squared error): generate "
                             "and inspect work on symbol runs; `lstmstate export` writes its Keras model")

    def symbols(self, text: str) -> list[str]:
        """A command-line string as symbols: characters, or whitespace-separated tokens when some
        symbol of the vocabulary is longer than one character (a vocabulary of words)."""
        self._require_symbols()
        if any(len(s) != 1 for s in self.vocabulary.symbols):
            return text.split()
        return [c for c in text if not c.isspace()]

    def check_symbols(self, symbols: list[str], what: str) -> None:
        """A ``ValueError`` listing the vocabulary if any of ``symbols`` is not in it."""
        self._require_symbols()
        for symbol in symbols:
            if symbol not in self.vocabulary:
                raise ValueError(f"{what} {symbol!r} is not in the vocabulary of {self.name!r}; "
                                 f"it holds {self.vocabulary.describe()}")

    # ---- what one seed can do: generate, trace its state, leave as a plain Keras model ----

    def generate(self, start: str, steps: int = 5, prime: list[str] = (), index: int | None = None
                 ) -> list[generation.Step] | list[sliding_window.WindowStep]:
        """Generate ``steps`` symbols from ``start`` after ``prime`` with seed ``index``.

        A stateful model is a stream: the prime and each prediction are fed one by one with
        the state carried (cold when ``prime`` is empty). A stateless model slides its window.
        """
        self.check_symbols([*prime, start], "symbol")
        weights = self.member_weights(index)
        if self.stateful:
            return generation.generate(generation.StepModel(self.spec, weights), self.encoding,
                                       self.vocabulary, start, steps, list(prime))
        return sliding_window.generate_by_window(self.spec, weights, self.encoding, self.vocabulary,
                                                 start, steps, list(prime))

    def trace(self, symbols: list[str], index: int | None = None) -> state_trace.StateTrace:
        """``h`` and ``c`` after each of ``symbols``, fed from a zero state by seed ``index``."""
        self.check_symbols(symbols, "symbol")
        return state_trace.trace(self.spec, self.member_weights(index), self.encoding, self.vocabulary, symbols)

    def export(self, path: Path, index: int | None = None) -> Path:
        """Seed ``index`` as a plain-Keras ``.keras`` file: ``LSTM(stateful=True)`` at batch size 1
        for a stateful experiment, an ordinary ``Sequential`` otherwise."""
        index = self.seed_index(index)
        model = keras_export.keras_model(self.spec, self.member_weights(index), self.stateful,
                                         name=f"{self.name}-seed{self.seeds[index]}".replace("-", "_"))
        return keras_export.save(model, path)


def experiment_names(run_folder: Path) -> list[str]:
    """The experiments saved in ``run_folder`` (folders holding a setup.json), sorted."""
    run_folder = Path(run_folder)
    if not run_folder.is_dir():
        raise ValueError(f"{run_folder} is not a folder; give the folder written by run/suite --out")
    return sorted(p.parent.name for p in run_folder.glob("*/setup.json"))


def load(run_folder: Path, experiment: str | None = None) -> SavedExperiment:
    """The experiment ``experiment`` of ``run_folder``.

    ``run_folder`` may also be an experiment's own folder (``RUN_DIR/NAME``). Without
    ``experiment``, a folder holding exactly one experiment gives that one.
    """
    run_folder = Path(run_folder)
    if (run_folder / "setup.json").is_file() and experiment in (None, run_folder.name):
        return _load_experiment(run_folder, run_folder.parent)
    names = experiment_names(run_folder)
    if not names:
        raise ValueError(f"{run_folder} holds no saved experiments (no NAME/setup.json); "
                         "write one with `lstmstate run NAME --out DIR`")
    if experiment is None:
        if len(names) > 1:
            raise ValueError(f"{run_folder} holds {len(names)} experiments; choose one with --experiment: "
                             f"{', '.join(names)}")
        experiment = names[0]
    if experiment not in names:
        raise ValueError(f"{run_folder} has no saved experiment {experiment!r}; it holds: {', '.join(names)}")
    return _load_experiment(run_folder / experiment, run_folder)


def _load_experiment(folder: Path, run_folder: Path) -> SavedExperiment:
    setup_path = folder / "setup.json"
    setup = results.read_json(setup_path)
    version = setup.get("format_version")
    if version != results.FORMAT_VERSION:
        raise ValueError(f"{setup_path} was written in run format {version!r}; this lstmstate reads "
                         f"format {results.FORMAT_VERSION}: rerun the experiment with this version")
    try:
        spec = ModelSpec.from_dict(setup["model"])
        config = TrainConfig.from_dict(setup["train"])
        # A model of numbers (`train --data FILE.csv`) has no vocabulary: its inputs are scaled values.
        numbers = setup.get("data", {}).get("kind") == "numbers"
        vocabulary = None if numbers else Vocabulary.from_symbols(setup["vocabulary"])
        encoding = None if numbers else Encoding(setup["encoding"], vocabulary.size)
        seeds = tuple(int(s) for s in setup["seeds"])
        name = str(setup.get("experiment", folder.name))
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"{setup_path} is damaged: {type(error).__name__}: {error}") from None
    if not seeds:
        raise ValueError(f"{setup_path} is damaged: it lists no seeds")
    if vocabulary is None:
        pass
    elif spec.kind == "lstm" and spec.output_activation == "softmax" and spec.outputs != vocabulary.size:
        raise ValueError(f"{setup_path} is damaged: the model predicts {spec.outputs} classes "
                         f"but the vocabulary has {vocabulary.size} symbols")
    if encoding is not None and spec.features % encoding.features(1) != 0:
        raise ValueError(f"{setup_path} is damaged: {spec.features} features per step do not fit "
                         f"the {encoding.name} encoding of {vocabulary.size} symbols")
    weights = _read_weights(folder / "weights.npz", spec, len(seeds))
    return SavedExperiment(folder, name, spec, config, encoding, vocabulary, seeds, weights,
                           _median_index(run_folder, name, seeds))


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


def _median_index(run_folder: Path, name: str, seeds: tuple[int, ...]) -> int:
    """Where results.json's median seed sits among ``seeds``; 0 when it does not say.

    The median seed is what ``run`` prints, so later commands default to the same seed.
    """
    try:
        median = json.loads((run_folder / "results.json").read_text())["experiments"][name]["median_seed"]
        return seeds.index(int(median))
    except (OSError, ValueError, KeyError, TypeError):
        return 0
