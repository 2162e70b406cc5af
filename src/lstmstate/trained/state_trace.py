"""A state trace: the hidden and cell state of one seed's LSTM after every step of an input sequence.

The sequence is fed one symbol per time step from a zero state, carrying the state, so step
``t`` holds what the LSTM has after reading symbols ``0..t``::

    symbols    A     B     C    …
    h        h_0   h_1   h_2    (step, units)
    c        c_0   c_1   c_2    (step, units)
    predicted  B     C     D    the next symbol if the sequence ended here

For a stateful model this is its stream; for a stateless window model it is the recurrence it
runs inside each window, extended over the whole sequence (running ``steps`` steps at once from
zero equals stepping ``steps`` times with the state carried).
"""

from dataclasses import dataclass, replace

import numpy as np

from lstmstate.core.encoding import Encoding
from lstmstate.trained.generation import StepModel
from lstmstate.core.model import ModelSpec
from lstmstate.core.vocabulary import Vocabulary

SPARK = "▁▂▃▄▅▆▇█"  # eight levels for a compact row of values in a terminal


@dataclass(frozen=True)
class StateTrace:
    """What one seed's LSTM holds after each step of a sequence."""

    symbols: tuple[str, ...]  # the symbol read at each step
    h: np.ndarray  # (step, units) hidden state after each step
    c: np.ndarray  # (step, units) cell state after each step
    predicted: tuple[str, ...]  # the most probable next symbol after each step


def trace(spec: ModelSpec, weights: list[np.ndarray], encoding: Encoding, vocabulary: Vocabulary,
          symbols: list[str]) -> StateTrace:
    """Feed ``symbols`` one per step from a zero state and record ``h`` and ``c`` after each (of
    the top layer, when the LSTM layers are stacked)."""
    if spec.kind != "lstm":
        raise ValueError(f"a {spec.kind} model has no LSTM state (h and c) to trace")
    if spec.features != encoding.features(1):
        raise ValueError(f"the model reads {spec.features // encoding.features(1)} symbols per step; "
                         "a state trace needs a model of one symbol per step")
    if not symbols:
        raise ValueError("a state trace needs at least one symbol")
    ids = vocabulary.encode(symbols)
    # The same weights stepped one time step at a time: the step count is not part of the weights.
    step_model = StepModel(replace(spec, steps=1, unroll=False), weights)
    state = step_model.zero_state()
    hs, cs, predicted = [], [], []
    for i in ids:
        probabilities, state = step_model(encoding.encode(np.array([[[i]]]))[0, 0], state)
        hs.append(np.asarray(state[-2][0]))  # the top layer's (h, c): the last two of the state
        cs.append(np.asarray(state[-1][0]))
        predicted.append(vocabulary.symbols[int(np.argmax(probabilities))])
    return StateTrace(tuple(symbols), np.stack(hs), np.stack(cs), tuple(predicted))


def spark(values: np.ndarray, scale: float) -> str:
    """``values`` in ``[-scale, scale]`` as a row of eight-level blocks (low: most negative).

    >>> spark(np.array([-1.0, 0.0, 1.0]), 1.0)
    '▁▅█'
    """
    levels = np.clip(np.round((np.asarray(values) / max(scale, 1e-12) + 1) / 2 * (len(SPARK) - 1)),
                     0, len(SPARK) - 1)
    return "".join(SPARK[int(level)] for level in levels)


def compact_lines(state_trace: StateTrace) -> list[str]:
    """One line per step: the symbol, the prediction, the size of h and c, and h as blocks."""
    scale = float(np.abs(state_trace.h).max())
    width = max(len(s) for s in state_trace.symbols + state_trace.predicted)
    lines = [f"{'in':>{width}} -> {'next':<{width}}  |h|    |c|    h per unit (▁ = -{scale:.2f} … █ = +{scale:.2f})"]
    for symbol, predicted, h, c in zip(state_trace.symbols, state_trace.predicted, state_trace.h, state_trace.c):
        lines.append(f"{symbol:>{width}} -> {predicted:<{width}}  {np.linalg.norm(h):5.2f}  "
                     f"{np.linalg.norm(c):5.2f}  {spark(h, scale)}")
    return lines
