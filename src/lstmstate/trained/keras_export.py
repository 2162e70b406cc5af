"""Keras export: one trained seed as an ordinary Keras ``Sequential`` model in a ``.keras`` file.

The engine's models carry state explicitly (inputs ``[x, *state]``); a Keras user expects the
model they would have written. The trainable weights are the same arrays in the same order
(an Embedding's table; each LSTM or GRU layer's kernel, recurrent kernel, bias; the Dense kernel
and bias), so they are copied as they are::

    stateful experiment                          stateless experiment
    keras.Input(batch_shape=(1, steps, feat))    keras.Input((steps, feat))
    [Embedding | Masking]                        [Embedding | Masking]
    LSTM(units, stateful=True, return_sequences) LSTM(units, return_sequences)   one per layer,
    [Dropout]                                    [Dropout]                       all but the last
    LSTM(units, stateful=True)                   LSTM(units)                     with sequences
    [Dropout]                                    [Dropout]
    Dense(outputs, activation)                   Dense(outputs, activation)

A stateful export keeps its state between calls at batch size 1, as the tutorial's model did in
``predict``; ``model.get_layer("lstm").reset_state()`` starts a new sequence. That works on the
TensorFlow and torch backends only: on JAX, Keras 3's ``predict`` drops a stateful layer's
state updates and every call starts from zeros, silently (keras/src/layers/rnn/rnn.py).
"""

import os
import tempfile
from pathlib import Path

import keras
import numpy as np

from lstmstate.core.model import CELLS, ModelSpec, assign_weights, input_layers, layer_name


def keras_model(spec: ModelSpec, weights: list[np.ndarray], stateful: bool, name: str = "lstmstate") -> keras.Sequential:
    """The plain-Keras ``Sequential`` of ``spec`` with one seed's ``weights``; ``stateful`` gives
    ``LSTM(stateful=True)`` (or ``GRU``) layers at batch size 1. The layers are named as in the
    engine's model (``lstm``, ``lstm_2``, ``dropout``, ...)."""
    if stateful and not spec.has_state:
        raise ValueError(f"a {spec.kind} model has no state: it cannot be exported as stateful")
    if stateful:
        layers = [keras.Input(batch_shape=(1, spec.steps, spec.features), name="x")]
    else:
        layers = [keras.Input((spec.steps, spec.features), name="x")]
    if spec.kind == "dense":
        layers += [keras.layers.Flatten(name="flatten")]
    else:
        layers += input_layers(spec)
        for layer in range(1, spec.layers + 1):
            last = layer == spec.layers
            layers += [CELLS[spec.kind](spec.units, stateful=stateful, return_sequences=not last,
                                        name=layer_name(spec.kind, layer))]
            if spec.dropout > 0 and not last:
                layers += [keras.layers.Dropout(spec.dropout, name=f"dropout_{layer}")]
    if spec.dropout > 0:
        layers += [keras.layers.Dropout(spec.dropout, name="dropout")]
    layers += [keras.layers.Dense(spec.outputs, activation=spec.output_activation, name="dense")]
    return assign_weights(keras.Sequential(layers, name=name), weights)


def save(model: keras.Model, path: Path) -> Path:
    """Write ``model`` to ``path`` (which must end in ``.keras``) through a temporary file, so a
    failed export never leaves a half-written file."""
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"the export file must end in .keras (Keras's own format), got {path}")
    if path.parent and not path.parent.is_dir():
        raise ValueError(f"cannot write {path}: folder {path.parent} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".keras")
    except OSError as error:
        raise ValueError(f"cannot write {path}: {error.strerror or error}") from None
    os.close(handle)
    try:
        model.save(temporary)
        _check_round_trip(model, temporary)
        os.chmod(temporary, 0o644)  # mkstemp makes it owner-only; an export is for others to load
        os.replace(temporary, path)
    except OSError as error:
        raise ValueError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def _check_round_trip(model: keras.Model, path: str) -> None:
    """Load the written file as a user will, with Keras's safe mode (no arbitrary code from the
    file), and check the weights came back, before the file takes its final name."""
    loaded = keras.saving.load_model(path, safe_mode=True, compile=False)
    for written, read in zip(model.get_weights(), loaded.get_weights()):
        if written.shape != read.shape or not np.array_equal(written, read):
            raise ValueError(f"the exported file {path} does not load back with the same weights")
