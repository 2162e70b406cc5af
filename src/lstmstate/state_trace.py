"""State traces: the hidden and cell state of one seed's LSTM after each symbol of a stream.

A trace is what a teacher draws to show memory: ``h`` and ``c``, each ``(step, units)``, where
row ``t`` is the state after feeding the ``t``-th symbol, starting from zero state.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmstate.encoding import Encoding
from lstmstate.generation import StepModel
from lstmstate.model import ModelSpec


@dataclass(frozen=True)
class StateTrace:
    """One seed's state over a stream of symbols."""

    hidden: np.ndarray  # (step, units) h after each symbol
    cell: np.ndarray  # (step, units) c after each symbol
    symbols: list[str]  # (step,) the symbol fed at each step
    seed: int  # which seed of the population


def state_trace(spec: ModelSpec, weights: list[np.ndarray], encoding: Encoding, ids) -> tuple[np.ndarray, np.ndarray]:
    """Feed ``ids`` (step,) one at a time from zero state, carrying the state, as a stateful
    model trained with ``carry-within-epoch`` sees its epoch's stream.

    Returns ``(h (step, units), c (step, units))``.
    """
    ids = np.asarray(ids, np.int32).reshape(-1)
    if len(ids) == 0:
        raise ValueError("a state trace needs at least one symbol")
    model = StepModel(spec, weights)
    state = model.zero_state()
    hidden, cell = [], []
    for symbol_id in ids:
        _, state = model(encoding.encode(np.array([[[symbol_id]]]))[0, 0], state)
        hidden.append(np.asarray(state[0][0]))  # (units,)
        cell.append(np.asarray(state[1][0]))
    return np.stack(hidden), np.stack(cell)


def saved_state_trace(folder: Path, name: str, entry: dict) -> StateTrace | None:
    """The median seed's trace over the experiment's own training stream, from a run folder's
    ``NAME/setup.json`` and ``NAME/weights.npz``; None when the experiment carries no state from
    one sample to the next (its state over a stream would mean nothing) or its files are missing."""
    from lstmstate import experiments as registry

    target = Path(folder) / name
    if entry.get("policy", "reset-every-batch") == "reset-every-batch" or name not in registry.EXPERIMENTS:
        return None
    if not (target / "setup.json").is_file() or not (target / "weights.npz").is_file():
        return None
    setup = json.loads((target / "setup.json").read_text())
    spec = ModelSpec.from_dict(setup["model"])
    if not spec.has_state or spec.steps != 1:
        return None
    seeds = list(setup["seeds"])
    index = seeds.index(entry["median_seed"]) if entry.get("median_seed") in seeds else 0
    with np.load(target / "weights.npz") as arrays:
        weights = [arrays[f"w{i}"][index] for i in range(len(arrays.files))]  # each (seed, ...) -> one seed
    # The registry rebuilds the data exactly (it is deterministic), so the trace follows the
    # stream the model was trained on, in training order (stateful experiments do not shuffle).
    framed, vocabulary = registry.get(name).data()
    ids = framed.last_ids()
    hidden, cell = state_trace(spec, weights, Encoding(setup["encoding"], len(setup["vocabulary"])), ids)
    return StateTrace(hidden, cell, [vocabulary.symbols[i] for i in ids], int(seeds[index]))
