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
variable-length experiment) does. Only the last ``N`` symbols of the prime matter. The compiled
loop that slides it is ``generation.window_blocks``.
"""

from dataclasses import dataclass

from lstmstate.core.encoding import Encoding
from lstmstate.core.model import ModelSpec


@dataclass(frozen=True)
class WindowStep:
    """One generated step of a window model."""

    window: tuple[str, ...]  # the symbols the model sees, oldest first ("" for masked padding)
    predicted: str  # the most probable next symbol


def window_size(spec: ModelSpec, encoding: Encoding) -> int:
    """Symbols a model reads per sample: time steps × ids per step."""
    return spec.steps * (spec.features // encoding.features(1))
