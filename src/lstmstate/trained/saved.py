"""A saved experiment: one experiment (or framing) of a run folder loaded back, with what one of
its seeds can do: generate, trace its state, leave as a plain Keras model.

The folder's layout and its checks belong to ``storage.runfolder``; this module turns a checked
``SavedEntry`` into models.
"""

from collections.abc import Iterator
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from lstmstate.core.model import layer_name
from lstmstate.storage import runfolder
from lstmstate.storage.runfolder import SavedEntry
from lstmstate.trained import generation, keras_export, state_trace, window
from lstmstate.trained import prime as prime_file
from lstmstate.trained.sampling import Sampling


@dataclass(frozen=True)
class SavedExperiment(SavedEntry):
    """One experiment of a run folder, loaded and checked: its ``SavedEntry`` and where it lives."""

    folder: Path | None = None  # the experiment's own folder, RUN_DIR/NAME
    median_index: int = 0  # position of results.json's median seed (0 when results.json does not say)

    @property
    def carries_state(self) -> bool:
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
                             "its weights are not finite; choose another `seed_index`")
        return weights

    def _require_symbols(self) -> None:
        if self.numbers:
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

    def generate(self, start: str, steps: int = 5, prime: list[str] = (), index: int | None = None,
                 sampling: Sampling = Sampling()) -> list[generation.Step] | list[window.WindowStep]:
        """Generate ``steps`` symbols from ``start`` after ``prime`` with seed ``index``, each the
        most probable next symbol or drawn as ``sampling`` says.

        A stateful model is a stream: the prime and each next symbol are fed one by one with
        the state carried (cold when ``prime`` is empty). A stateless model slides its window.
        """
        return [step for block in self.generate_blocks(start, steps, prime, index, sampling) for step in block]

    def generate_steps(self, start: str, steps: int = 5, prime: list[str] = (), index: int | None = None,
                       sampling: Sampling = Sampling()) -> Iterator[generation.Step] | Iterator[window.WindowStep]:
        """``generate`` one step at a time, each as soon as its compiled block is made.
        Everything is checked now, before the first step."""
        blocks = self.generate_blocks(start, steps, prime, index, sampling)
        return (step for block in blocks for step in block)

    def generate_blocks(self, start: str, steps: int = 5, prime: list[str] = (), index: int | None = None,
                        sampling: Sampling = Sampling()
                        ) -> Iterator[list[generation.Step]] | Iterator[list[window.WindowStep]]:
        """``generate`` as lists of steps, one per compiled block (``lstmstate generate`` prints
        each as it comes). Everything is checked now, before the first block."""
        prime = list(prime)
        self.check_symbols(list(dict.fromkeys([*prime, start])), "symbol")  # each distinct one, first seen first
        weights = self.member_weights(index)
        if self.carries_state:
            return generation.stream_blocks(self.spec, weights, self.encoding, self.vocabulary, start, steps, prime,
                                            sampling)
        return generation.window_blocks(self.spec, weights, self.encoding, self.vocabulary, start, steps, prime,
                                        sampling)

    @property
    def tokens(self) -> str | None:
        """What one symbol of the training text was: "char", "word" or "line" for a run of the
        user's own text; None for the tutorial's experiments (letters, no text)."""
        return self.details.get("data", {}).get("tokens")

    def read_prime(self, path: Path) -> list[str]:
        """The symbols of the text file ``path``, split as the training text was and checked
        against the vocabulary (``trained.prime``)."""
        self._require_symbols()
        return prime_file.read(path, self.vocabulary, self.tokens, self.name)

    @property
    def window_size(self) -> int:
        """Symbols a stateless model reads per sample (its window)."""
        self._require_symbols()
        return window.window_size(self.spec, self.encoding)

    def trace(self, symbols: list[str], index: int | None = None) -> state_trace.StateTrace:
        """``h`` and ``c`` after each of ``symbols``, fed from a zero state by seed ``index``."""
        self.check_symbols(symbols, "symbol")
        return state_trace.trace(self.spec, self.member_weights(index), self.encoding, self.vocabulary, symbols)

    def heatmap_path(self, index: int | None = None) -> Path:
        """Where ``inspect`` writes seed ``index``'s state heatmap by default: ``NAME/state-seedS.png``
        in the experiment's folder, checked as every write into a run folder is."""
        index = self.seed_index(index)
        return runfolder.target(self.folder.parent, self.folder.name, f"state-seed{self.seeds[index]}.png")

    def export(self, path: Path, index: int | None = None) -> Path:
        """Seed ``index`` as a plain-Keras ``.keras`` file: ``LSTM(stateful=True)`` at batch size 1
        for a stateful experiment, an ordinary ``Sequential`` otherwise."""
        index = self.seed_index(index)
        model = keras_export.keras_model(self.spec, self.member_weights(index), self.carries_state,
                                         name=f"{self.name}-seed{self.seeds[index]}".replace("-", "_"))
        return keras_export.save(model, path)

    def export_description(self) -> str:
        """What ``export`` writes, as a Keras user would write it."""
        spec = self.spec
        cell = spec.kind.upper() if spec.has_state else "Dense"
        layers = f"{spec.layers} stacked " if spec.layers > 1 else ""
        embedded = f", an Embedding of width {spec.embedding}" if spec.embedding else ""
        if self.carries_state:
            return (f"{layers}{cell}({spec.units}, stateful=True) with "
                    f"keras.Input(batch_shape=(1, {spec.steps}, {spec.features})){embedded}")
        return f"a stateless Sequential on inputs ({spec.steps}, {spec.features}){embedded}"

    def export_notes(self) -> list[str]:
        """How to feed the exported model: its inputs, and for a stateful one, where it runs."""
        if self.numbers:
            return ["inputs: the columns standardized with the training part's mean and deviation "
                    "(saved in setup.json under 'scaling'); the output is the scaled next target value"]
        symbols = self.vocabulary.symbols
        scalar = {"scalar": f" (feature = id / {len(symbols)})",
                  "embedding": " (feature = id + 1, 0 for padding)"}.get(self.encoding.name, "")
        notes = [f"inputs: {self.encoding.name} encoding of {len(symbols)} symbols, ids {symbols[0]}=0 … "
                 f"{symbols[-1]}={len(symbols) - 1}{scalar}"]
        if self.carries_state:
            layers = ", ".join(f"'{layer_name(self.spec.kind, i)}'" for i in range(1, self.spec.layers + 1))
            notes.append("load it with KERAS_BACKEND=tensorflow (or torch): on the JAX backend Keras silently "
                         f"resets a stateful layer in predict; call model.get_layer(name).reset_state() for {layers} "
                         "before each new sequence")
        return notes


def load(run_folder: Path, experiment: str | None = None) -> SavedExperiment:
    """The experiment ``experiment`` of ``run_folder``.

    ``run_folder`` may also be an experiment's own folder (``RUN_DIR/NAME``). Without
    ``experiment``, a folder holding exactly one experiment gives that one.
    """
    run_folder = Path(run_folder)
    if (run_folder / runfolder.SETUP).is_file() and experiment in (None, run_folder.name):
        return _loaded(run_folder, run_folder.parent)
    names = runfolder.entry_names(run_folder)
    if not names:
        raise ValueError(f"{run_folder} holds no saved experiments (no NAME/setup.json); "
                         "write one with `lstmstate run NAME --out DIR`")
    if experiment is None:
        if len(names) > 1:
            raise ValueError(f"{run_folder} holds {len(names)} experiments; choose one with `experiment`: "
                             f"{', '.join(names)}")
        experiment = names[0]
    if experiment not in names:
        raise ValueError(f"{run_folder} has no saved experiment {experiment!r}; it holds: {', '.join(names)}")
    return _loaded(run_folder / experiment, run_folder)


def _loaded(folder: Path, run_folder: Path) -> SavedExperiment:
    entry = runfolder.read_entry(folder)
    return SavedExperiment(**{field.name: getattr(entry, field.name) for field in fields(SavedEntry)}, folder=folder,
                           median_index=runfolder.median_seed_index(run_folder, entry.name, entry.seeds))
