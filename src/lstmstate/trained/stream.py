"""A stream: one sequence predicted sample by sample at batch size 1, its state carried, by a
model rebuilt at batch size 1 from weights trained with any number of parallel streams.

Training with ``B`` streams (``framing.batchify``) runs ``B`` copies of the same weights side
by side, each row with its own state; nothing in the weights depends on ``B``. Keras's own
``LSTM(stateful=True)`` fixes the batch size in its state variables and refuses any other
(keras/src/layers/rnn/rnn.py), so predicting one sequence needs a second model with the weights
copied in. Here the state is explicit, so that second model is ``spec.build(batch_size=1)``
with the trained weights assigned::

    trained, B = 2 streams              predicting, batch size 1
    batch t: [ a_t  m_t ] -> 2 states   [ a_0 ] [ a_1 ] [ a_2 ] …  one state, carried
"""

import keras
import numpy as np

from lstmstate.core.model import ModelSpec, assign_weights


def batch_one_model(spec: ModelSpec, weights: list[np.ndarray]) -> keras.Model:
    """The Keras model of ``spec`` at batch size 1 with ``weights`` (one seed's, unstacked)."""
    return assign_weights(spec.build(batch_size=1, initialized=False), weights)


def predict_stream(spec: ModelSpec, weights: list[np.ndarray], x: np.ndarray,
                   state: tuple[np.ndarray, ...] | None = None) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """Predict the samples of one stream in order, at batch size 1, carrying the state.

    ``x`` is ``(sample, step, feature)``; starts from ``state`` (``spec.zero_state(1)`` if None).
    Returns the probabilities ``(sample, outputs)`` and the state after the last sample. This is
    what the engine's evaluation computes for each of its streams, from a reset state.
    """
    if not spec.has_state:
        raise ValueError(f"a {spec.kind} model has no state to carry along a stream")
    x = np.asarray(x, np.float32)
    if x.ndim != 3 or x.shape[1:] != (spec.steps, spec.features):
        raise ValueError(f"x must be (sample, {spec.steps}, {spec.features}), got {x.shape}")
    model = batch_one_model(spec, weights)
    state = [keras.ops.convert_to_tensor(s) for s in (spec.zero_state(1) if state is None else state)]
    probabilities = []
    for sample in keras.ops.convert_to_tensor(x):
        y, *state = model([sample[None], *state], training=False)
        probabilities.append(np.asarray(y[0]))
    return np.stack(probabilities), tuple(np.asarray(s) for s in state)
