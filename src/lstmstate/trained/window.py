"""The sliding window: how a stateless model generates, predicting from its last N symbols.

A stateless model (state reset every sample, or no LSTM at all) keeps nothing between calls:
everything it knows is in its window of ``steps × slots`` symbols. To generate, it predicts
from the window, then the window slides one symbol on and takes the prediction in::

    window of 3, primed with "HIJ", start K
    ┌ I J K ┐ -> L
      ┌ J K L ┐ -> M
        ┌ K L M ┐ -> N

A window that is not yet full is left-padded: with the reserved padding id where the model
masks it, otherwise with id 0, as Keras's ``pad_sequences`` (and so the tutorial's
variable-length experiment) does. Only the last ``N`` symbols of the prime matter.
"""

import functools
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from lstmstate.core.encoding import Encoding
from lstmstate.core.framing import PAD
from lstmstate.core.model import ModelSpec, call
from lstmstate.core.vocabulary import Vocabulary


@dataclass(frozen=True)
class WindowStep:
    """One generated step of a window model."""

    window: tuple[str, ...]  # the symbols the model sees, oldest first ("" for masked padding)
    predicted: str  # the most probable next symbol


@functools.lru_cache(maxsize=16)
def _compiled_forward(spec: ModelSpec):
    """``(weights, x (1, steps, features)) -> probabilities (1, outputs)`` from a zero state."""
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]

    def forward(weights, x):
        y, _, _ = call(model, spec, weights, non_trainable, x, spec.zero_state(1))
        return y

    return jax.jit(forward)


def window_size(spec: ModelSpec, encoding: Encoding) -> int:
    """Symbols a model reads per sample: time steps × ids per step."""
    return spec.steps * (spec.features // encoding.features(1))


def generate_by_window(spec: ModelSpec, weights: list[np.ndarray], encoding: Encoding, vocabulary: Vocabulary,
                       start: str, steps: int, prime: list[str] = ()) -> list[WindowStep]:
    """Feed the window ending at ``start`` (after ``prime``), then slide it over each prediction,
    ``steps`` times."""
    return list(window_steps(spec, weights, encoding, vocabulary, start, steps, prime))


def window_steps(spec: ModelSpec, weights: list[np.ndarray], encoding: Encoding, vocabulary: Vocabulary,
                 start: str, steps: int, prime: list[str] = ()) -> Iterator[WindowStep]:
    """``generate_by_window`` one step at a time, each as soon as it is made (so it can be printed
    at once, and a long generation holds only its window). The arguments are checked now."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    size = window_size(spec, encoding)
    pad = PAD if spec.mask_value is not None else 0
    # Only the last ``size`` symbols are ever read: the window, never the whole history.
    history = deque([pad] * size + [int(i) for i in vocabulary.encode([*prime, start])], maxlen=size)
    return _window_steps(spec, [jnp.asarray(w) for w in weights], encoding, vocabulary, history, steps)


def _window_steps(spec: ModelSpec, weights, encoding: Encoding, vocabulary: Vocabulary, history: deque,
                  steps: int) -> Iterator[WindowStep]:
    slots = history.maxlen // spec.steps
    forward = _compiled_forward(spec)
    for _ in range(steps):
        window = list(history)
        x = encoding.encode(np.asarray(window, np.int32).reshape(1, spec.steps, slots))
        predicted = int(np.argmax(np.asarray(forward(weights, jnp.asarray(x)))[0]))
        # Zero padding is shown as the symbol it is (the tutorial's pitfall: 0 is also A); masked padding as "".
        shown = tuple(vocabulary.symbols[i] if i != PAD else "" for i in window)
        yield WindowStep(shown, vocabulary.symbols[predicted])
        history.append(predicted)
