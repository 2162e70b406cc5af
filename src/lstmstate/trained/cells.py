"""Cells: the units of a saved LSTM whose state tracks a feature of a text (the line position,
bracket depth, …), each with its correlation, how sure that is, and what the same seed's
untrained weights give, so a reader sees what training put into the state.

After Karpathy, Johnson and Fei-Fei, "Visualizing and Understanding Recurrent Networks" (2015),
over every seed of a population and with intervals::

    text --------------------------> core.text_features   (feature, step)
    text -> trained.state_record --> h, c (step, units) of the trained seed and of its
                                     untrained initial weights (core.model's, as training began)
    for each feature: the column of [h | c] with the largest |r| (core.correlation), its r with a
    block-bootstrap interval, and the untrained weights' largest |r| on the same text

The state is read as a stream from a zero state, as a carried-state model reads its held-out part.
A model of numbers is measured the same way (``of_states``) on the features of its series, by
``owndata.cells``, which reads the series as ``forecast`` does.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lstmstate.core import correlation, series_features, text_features
from lstmstate.core.model import stacked_initial_weights
from lstmstate.storage import files, runfolder
from lstmstate.trained import prime, state_record
from lstmstate.trained.saved import SavedExperiment, load

EXCERPT = 2000  # symbols of each chosen cell's activation kept for the pictures
KEPT = 600  # of those, kept in results.json for the run's report: each feature's top cell only


@dataclass(frozen=True, eq=False)  # eq: the excerpt is an array
class Cell:
    """For one feature and one seed: the unit whose state goes most with the feature."""

    feature: str  # a name of core.text_features.FEATURES (or core.series_features.FEATURES)
    seed: int  # the seed's integer, as trained
    kind: str  # "h" (hidden state) or "c" (cell state)
    unit: int  # the unit's index, 0-based
    correlation: float  # Pearson r over the whole text, signed
    low: float  # 95% block-bootstrap interval of that r
    high: float
    untrained: float  # the largest |r| of any unit's h or c with the feature, from the seed's untrained weights
    symbol_alone: float  # the largest |r| of any function of the current symbol alone (core.correlation);
    #                      for numbers, of any linear function of the current input row
    excerpt: np.ndarray  # (step,) the unit's state over the text's first EXCERPT symbols


@dataclass(frozen=True, eq=False)
class Cells:
    """What ``find`` measured on one text for one experiment's seeds."""

    name: str  # the experiment (or framing)
    text: tuple[str, ...]  # the symbols measured, in order (read back from results.json: the first KEPT);
    #                        for numbers, each row's target value rounded to 4 significant digits
    measured: int  # how many symbols were measured
    source: str  # where the text came from, in words
    block: int  # steps per block of the bootstrap
    units: int  # units of the top LSTM layer
    cells: tuple[Cell, ...]  # feature by feature (FEATURES order), seed by seed
    constant: tuple[str, ...]  # features constant over this text (or no line break, or no season), so not measured
    folder: Path | None = None  # the experiment's folder (RUN_DIR/NAME), where the page goes by default
    numbers: bool = False  # a model of numbers: rows of a series, not symbols of a text

    def of(self, feature: str) -> list[Cell]:
        """Every seed's cell for ``feature``."""
        return [cell for cell in self.cells if cell.feature == feature]

    def top(self, feature: str) -> Cell:
        """The seed whose cell goes most with ``feature`` (largest |r|)."""
        return max(self.of(feature), key=lambda cell: abs(cell.correlation))

    def features(self) -> list[str]:
        """The features measured, in ``FEATURES`` order."""
        return list(dict.fromkeys(cell.feature for cell in self.cells))

    def payload(self) -> dict:
        """The results.json block (``cells[NAME]``, ``storage.schema.CellsBlock``): every cell's
        numbers, and each feature's top cell over the text's first ``KEPT`` symbols."""
        kept = min(KEPT, len(self.text))
        tops = {id(self.top(feature)) for feature in self.features()}
        cells = [{**{k: v for k, v in asdict(cell).items() if k != "excerpt"},
                  "excerpt": [round(float(v), 4) for v in cell.excerpt[:kept]] if id(cell) in tops else []}
                 for cell in self.cells]
        # A row's value is several characters: the values are kept apart by a space.
        text = (" " if self.numbers else "").join(self.text[:kept])
        return {"text": text, "measured": self.measured, "source": self.source, "block": self.block,
                "units": self.units, "constant": list(self.constant), "cells": cells}

    @classmethod
    def from_payload(cls, name: str, block: dict) -> "Cells":
        """The ``Cells`` that ``payload`` wrote, as the report reads it."""
        cells = tuple(Cell(**{**row, "excerpt": np.asarray(row["excerpt"], np.float64)}) for row in block["cells"])
        # A series' features have names of their own (core.series_features): a block of them is of numbers.
        numbers = bool({row["feature"] for row in block["cells"]} & set(series_features.FEATURES))
        text = tuple(block["text"].split(" ") if numbers else block["text"])
        return cls(name, text, block["measured"], block["source"], block["block"], block["units"], cells,
                   tuple(block["constant"]), numbers=numbers)


def find(run_dir: Path, experiment: str | None = None, text_file: Path | None = None,
         seed_index: int | None = None, out: Path | None = None, png: Path | None = None) -> Cells:
    """``measure`` on the experiment of ``run_dir`` (``owndata.cells.find`` reads a model of numbers too).
    The page's ``out`` and ``png``, when given, are checked first (a link, a folder, a read-only place)."""
    files.check_destinations({"out": out, "png": png})
    return measure(load(run_dir, experiment), text_file, seed_index)


def measure(saved: SavedExperiment, text_file: Path | None = None, seed_index: int | None = None) -> Cells:
    """The cells of seed ``seed_index`` (every seed whose training did not diverge when None) over
    the symbols of ``text_file``, or the run's held-out part (a tutorial run: its training stream).
    A model of numbers is measured by ``owndata.cells``, which reads its series."""
    if saved.numbers:
        raise ValueError(f"{saved.name!r} is a model of numbers: its cells are measured on its series "
                         "(lstmstate.owndata.cells), not on a text")
    check_carried(saved)
    if any(len(symbol) != 1 for symbol in saved.vocabulary.symbols):
        raise ValueError(f"the symbols of {saved.name!r} are words or lines; cells measures features of characters")
    symbols, source = _text(saved, text_file)
    block = correlation.block_length(len(symbols))
    values = text_features.features(symbols)
    # A text without a line break has no lines, one without a space no words: their "line position"
    # and "since space" would be the position in the text, which any drifting unit follows.
    unmarked = {"line position": "\n" not in symbols, "since space": not any(s.isspace() for s in symbols)}
    constant = tuple(name for name, feature in values.items() if np.ptp(feature) == 0 or unmarked.get(name))
    measured = {name: feature for name, feature in values.items() if name not in constant}
    if not measured:  # as found: a text of one letter ended in numpy's "need at least one array to stack"
        raise ValueError(f"no feature varies over the text {source}: {', '.join(constant)} are all constant there; "
                         "give a text with lines, words or brackets")
    indices = seed_indices(saved, seed_index)
    ids = saved.vocabulary.encode(symbols)
    alone = {name: correlation.symbol_alone(ids, feature) for name, feature in measured.items()}
    found = of_states(saved, indices, measured, alone, block,
                      lambda weights: state_record.record(saved.spec, weights, saved.encoding, ids))
    return Cells(saved.name, tuple(symbols), len(symbols), source, block, saved.spec.units, found, constant,
                 folder=saved.folder)


def seed_indices(saved: SavedExperiment, seed_index: int | None) -> list[int]:
    """``[seed_index]`` checked (a diverged seed asked for by name is an error), or, for None,
    every seed whose training did not diverge."""
    if seed_index is not None:
        index = saved.seed_index(seed_index)
        saved.member_weights(index)  # raises for a diverged seed
        return [index]
    indices = [i for i in range(len(saved.seeds)) if all(np.isfinite(w[i]).all() for w in saved.weights)]
    if not indices:
        raise ValueError(f"every seed of {saved.name!r} diverged in training: no weights to measure")
    return indices


def of_states(saved: SavedExperiment, indices: list[int], measured: dict[str, np.ndarray], alone: dict[str, float],
              block: int, record: Callable[[list[np.ndarray]], tuple[np.ndarray, np.ndarray]]) -> tuple[Cell, ...]:
    """Per feature of ``measured`` (name -> ``(step,)``) and seed of ``indices``: the column of
    ``[h | c]`` with the largest |r|, its interval, and the seed's untrained control. ``record``
    takes weight sets ``(set, …)`` and gives their ``h`` and ``c`` ``(set, step, units)`` over the
    steps measured; ``alone`` is each feature's input-alone |r|. Feature by feature, seed by seed."""
    feature_matrix = np.stack(list(measured.values()), axis=1)  # (step, feature)
    # The untrained control: each seed's initial weights, drawn as training drew them (core.model).
    untrained = stacked_initial_weights(saved.spec.build(), [saved.seeds[i] for i in indices])
    found = []
    for position, index in enumerate(indices):
        # One seed at a time, trained and untrained together: memory is two seeds' states, whatever the population.
        weights = [np.stack([w[index], u[position]]) for w, u in zip(saved.weights, untrained)]
        h, c = record(weights)  # each (2, step, units)
        states = np.concatenate([h, c], axis=2)  # (2, step, 2 * units): h's columns, then c's
        trained_r = correlation.pearson_matrix(states[0], feature_matrix)  # (column, feature)
        untrained_r = correlation.pearson_matrix(states[1], feature_matrix)
        for feature_index, (name, feature) in enumerate(measured.items()):
            best = correlation.best_column(states[0], feature, block, r=trained_r[:, feature_index])
            control = np.nanmax(np.abs(untrained_r[:, feature_index]))
            kind, unit = ("h", best.column) if best.column < saved.spec.units else ("c", best.column - saved.spec.units)
            found.append(Cell(name, saved.seeds[index], kind, unit, best.correlation, best.low, best.high,
                              float(control), alone[name], states[0, :EXCERPT, best.column].copy()))
    order = list(measured)
    found.sort(key=lambda cell: order.index(cell.feature))  # stable: seeds stay in order within a feature
    return tuple(found)


def kept(cells: Cells) -> Path | None:
    """Keep ``cells`` in its run's results.json (``cells[NAME]``), so ``lstmstate report`` shows it;
    the run folder, or None when the experiment is not in one."""
    run_folder = cells.folder.parent if cells.folder is not None else None
    if run_folder is None or not (run_folder / runfolder.RESULTS).is_file():
        return None
    with runfolder.locked(run_folder):  # another command writing the folder would interleave
        payload = runfolder.read_results(run_folder)
        payload.setdefault("cells", {})[cells.name] = cells.payload()
        runfolder.write_results(run_folder, payload)
    return run_folder


def check_carried(saved: SavedExperiment) -> None:
    """A ``ValueError`` unless ``saved`` is an LSTM trained with carried state: its state runs along
    the text (or series), and it has h and c to read."""
    if not saved.carries_state:
        raise ValueError(f"{saved.name!r} was trained on windows from a zero state; cells reads a model trained with "
                         "carried state (`framing` stateful or stateful-streams), whose state runs along the text")
    if saved.spec.kind != "lstm":
        raise ValueError(f"{saved.name!r} is a {saved.spec.kind.upper()}; cells reads an LSTM's h and c")


def _text(saved: SavedExperiment, text_file: Path | None) -> tuple[list[str], str]:
    """The symbols to measure on and where they came from, in words."""
    if text_file is not None:
        return prime.read(Path(text_file), saved.vocabulary, saved.tokens, saved.name, "text file"), f"{text_file}"
    if saved.stream is not None:  # the tutorial's carried-state experiments record their stream
        return list(saved.stream), "the training stream (a tutorial experiment has no held-out part)"
    data = saved.details.get("data", {})
    path, parts = data.get("file"), data.get("parts", {})
    if not path or "held_out" not in parts:
        raise ValueError(f"{saved.name!r} records no text to read back; give one with `text_file`")
    if not Path(path).is_file():
        raise ValueError(f"the run's text {path} is not found from here (the path is as `train` was given it); "
                         "give it with `text_file`")
    symbols = prime.read(Path(path), saved.vocabulary, saved.tokens, saved.name, "the run's text")
    if len(symbols) != data.get("items"):
        raise ValueError(f"{path} holds {len(symbols)} symbols, the run was trained on {data.get('items')}: "
                         "the file has changed; give the held-out text with `text_file`")
    start, end = parts["held_out"]
    return symbols[start:end], f"the held-out part of {path} (symbols {start:,}..{end - 1:,})"
