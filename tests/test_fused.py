"""The fused sequence program against Keras's own recurrent layers over a whole chunk.

The reference is plain Keras: ``LSTM``/``GRU(return_sequences=True, return_state=True)`` stacked
over a (row, T, features) chunk from a given state, with the mask passed explicitly, and a Dense
head on every step. The fused program must give the same outputs, final states and gradients
with respect to every weight (float32 tolerance), from the same weights.
"""

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from lstmstate.core import fused
from lstmstate.core.encoding import Encoding
from lstmstate.core.framing import PAD
from lstmstate.core.model import CELLS, ModelSpec, layer_name, stacked_initial_weights

T, ROWS, VOCABULARY = 7, 3, 5


def keras_reference(spec: ModelSpec, steps: int) -> keras.Model:
    """``[x (row, T, features), mask (row, T), *state] -> [y (row, T, outputs), *state]`` in plain Keras."""
    x = keras.Input((steps, spec.features), name="x")
    mask = keras.Input((steps,), dtype="bool", name="mask")
    state_in = [keras.Input((spec.units,)) for _ in range(spec.state_count)]
    sequence = x
    if spec.embedding:
        sequence = keras.layers.Embedding(spec.outputs + 1, spec.embedding, name="embedding")(
            keras.layers.Reshape((steps,))(x))
    per_layer = spec.state_count // spec.layers
    state_out = []
    for layer in range(1, spec.layers + 1):
        recurrent = CELLS[spec.kind](spec.units, return_sequences=True, return_state=True,
                                     name=layer_name(spec.kind, layer))
        sequence, *state = recurrent(sequence, initial_state=state_in[(layer - 1) * per_layer:layer * per_layer],
                                     mask=mask)
        state_out += state
    y = keras.layers.Dense(spec.outputs, activation="softmax", name="dense")(sequence)
    return keras.Model([x, mask, *state_in], [y, *state_out])


def _case(kind: str, layers: int, encoding_name: str | None, masked: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCABULARY, size=(T, ROWS, 1))
    if masked:
        ids[rng.random((T, ROWS)) < 0.3] = PAD
    encoding = None if encoding_name is None else Encoding(encoding_name, VOCABULARY)
    if encoding is None:  # plain floats, as numbers are fed
        x = rng.normal(size=(T, ROWS, 2)).astype(np.float32)
        features, embedding = 2, 0
        if masked:
            x[ids[..., 0] == PAD] = 0.0
    else:
        x = ids.astype(np.int32)
        features = encoding.features(1)
        embedding = 4 if encoding_name == "embedding" else 0
    spec = ModelSpec(kind, steps=1, features=features, outputs=VOCABULARY, units=6, layers=layers,
                     embedding=embedding)
    model = spec.build()
    weights = [jnp.asarray(w[0]) for w in stacked_initial_weights(model, [seed])]
    # Nonzero biases, so a bias used in the wrong place shows.
    weights = [w + 0.1 * jnp.asarray(rng.normal(size=w.shape), jnp.float32) for w in weights]
    state = tuple(jnp.asarray(rng.normal(size=(ROWS, spec.units)) * 0.5, jnp.float32)
                  for _ in range(spec.state_count))
    mask = ids[..., 0] != PAD  # (T, row)
    floats = x if encoding is None else np.asarray(encoding.in_program(jnp.asarray(x)))
    return spec, model, encoding, weights, state, x, floats, mask


def _keras_outputs(spec, weights, state, floats, mask):
    reference = keras_reference(spec, T)
    non_trainable = [v.value for v in reference.non_trainable_variables]
    x = jnp.swapaxes(jnp.asarray(floats), 0, 1)  # (row, T, features)
    (y, *after), _ = reference.stateless_call(weights, non_trainable, [x, jnp.asarray(mask.T), *state])
    return jnp.swapaxes(y, 0, 1), tuple(after)  # y (T, row, outputs)


def _fused_outputs(spec, model, encoding, weights, state, x, mask):
    layout = fused.Layout.of(model, spec)
    non_trainable = [v.value for v in model.non_trainable_variables]
    y, after, _ = fused.outputs(spec, encoding, layout, weights, non_trainable, jnp.asarray(x), state,
                                jnp.asarray(mask))
    return y, after


CASES = [("lstm", 1, None, False), ("lstm", 2, None, True), ("lstm", 1, "one-hot", False),
         ("lstm", 2, "one-hot", True), ("lstm", 2, "embedding", False), ("gru", 1, None, True),
         ("gru", 2, "one-hot", False), ("gru", 1, "embedding", True)]


@pytest.mark.parametrize("kind, layers, encoding_name, masked", CASES)
def test_outputs_states_and_gradients_equal_keras(kind, layers, encoding_name, masked):
    spec, model, encoding, weights, state, x, floats, mask = _case(kind, layers, encoding_name, masked)
    y_keras, state_keras = _keras_outputs(spec, weights, state, floats, mask)
    y_fused, state_fused = _fused_outputs(spec, model, encoding, weights, state, x, mask)
    assert y_fused.shape == (T, ROWS, VOCABULARY)
    # Where a step is masked, Keras's output is the previous step's: compare only read steps' outputs.
    np.testing.assert_allclose(np.asarray(y_fused)[mask], np.asarray(y_keras)[mask], atol=2e-6)
    for mine, theirs in zip(state_fused, state_keras, strict=True):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), atol=2e-6)

    cotangent = jnp.asarray(np.random.default_rng(1).normal(size=y_fused.shape), jnp.float32) * mask[..., None]

    def objective(outputs_of):
        def value(weights):
            y, after = outputs_of(weights)
            return jnp.sum(y * cotangent) + sum(jnp.sum(s * (i + 1)) for i, s in enumerate(after))
        return value

    keras_gradients = jax.grad(objective(lambda w: _keras_outputs(spec, w, state, floats, mask)))(weights)
    fused_gradients = jax.grad(objective(lambda w: _fused_outputs(spec, model, encoding, w, state, x, mask)))(weights)
    for variable, mine, theirs in zip(model.trainable_variables, fused_gradients, keras_gradients, strict=True):
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), atol=2e-5, rtol=1e-4, err_msg=variable.path)


def test_a_wrong_gate_order_is_caught():
    """The comparison can fail: swapping the LSTM's input and forget gates changes the outputs."""
    spec, model, encoding, weights, state, x, floats, mask = _case("lstm", 1, "one-hot", False)
    y_keras, _ = _keras_outputs(spec, weights, state, floats, mask)
    swapped = list(weights)
    for index in (0, 1, 2):  # kernel, recurrent kernel, bias: i <-> f
        i, f, c, o = jnp.split(swapped[index], 4, axis=-1)
        swapped[index] = jnp.concatenate([f, i, c, o], axis=-1)
    y_fused, _ = _fused_outputs(spec, model, encoding, swapped, state, x, mask)
    assert np.abs(np.asarray(y_fused) - np.asarray(y_keras)).max() > 1e-3


def test_dropout_draws_once_per_chunk_and_advances_its_generator():
    spec = ModelSpec("lstm", steps=1, features=VOCABULARY, outputs=VOCABULARY, units=6, layers=2, dropout=0.5)
    model = spec.build()
    layout = fused.Layout.of(model, spec)
    assert len(layout.dropouts) == 2
    weights = [jnp.asarray(w[0]) for w in stacked_initial_weights(model, [0])]
    non_trainable = [v.value for v in model.non_trainable_variables]
    x = jnp.asarray(np.random.default_rng(0).integers(0, VOCABULARY, size=(T, ROWS, 1)))
    encoding = Encoding("one-hot", VOCABULARY)
    state = spec.zero_state(ROWS)
    mask = jnp.ones((T, ROWS), bool)
    y1, _, after = fused.outputs(spec, encoding, layout, weights, non_trainable, x, state, mask, training=True)
    y2, _, _ = fused.outputs(spec, encoding, layout, weights, after, x, state, mask, training=True)
    y_eval, _, unchanged = fused.outputs(spec, encoding, layout, weights, non_trainable, x, state, mask)
    for index in layout.dropouts:
        assert np.asarray(after[index]).tolist() == (np.asarray(non_trainable[index]) + [0, 1]).tolist()
        assert np.asarray(unchanged[index]).tolist() == np.asarray(non_trainable[index]).tolist()
    assert not np.allclose(np.asarray(y1), np.asarray(y2))  # new masks at the next chunk
    assert not np.allclose(np.asarray(y1), np.asarray(y_eval))


def _stream_trainer(encoding_name: str | None, kind: str = "lstm", layers: int = 2):
    from lstmstate.core import policy
    from lstmstate.core.engine import Trainer
    from lstmstate.core.train_config import TrainConfig

    rng = np.random.default_rng(3)
    ids = rng.integers(0, VOCABULARY, size=(300, 1, 1))  # one-step samples of a stream
    targets = np.roll(ids[:, 0, 0], -1).astype(np.int32)
    coder = Encoding("one-hot", VOCABULARY)
    spec = ModelSpec(kind, steps=1, features=VOCABULARY, outputs=VOCABULARY, units=8, layers=layers)
    config = TrainConfig(epochs=2, batch_size=4, shuffle=False, policy=policy.CARRY_WITHIN_EPOCH, bptt=6,
                         learning_rate=0.01)
    if encoding_name is None:  # floats made on the host, as before ids were kept
        return Trainer(spec, config, coder.encode(ids), targets)
    return Trainer(spec, config, ids, targets, encoding=coder)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_fused_training_equals_the_step_by_step_program(kind):
    """Truncated BPTT through the fused program ends with the weights of the program that calls
    the model once per step on host-made one-hot floats (the engine before the fused program)."""
    fused_trainer = _stream_trainer("one-hot", kind)
    assert fused_trainer._fused is not None
    stepwise = _stream_trainer(None, kind)
    stepwise._fused = None  # the scan over the chunk's batches, each a call of the Keras model
    mine = fused_trainer.train([0, 1])
    theirs = stepwise.train([0, 1])
    for a, b in zip(mine.weights, theirs.weights, strict=True):
        np.testing.assert_allclose(a, b, atol=2e-5)
    np.testing.assert_allclose(mine.loss, theirs.loss, rtol=1e-5)
    np.testing.assert_allclose(mine.accuracy, theirs.accuracy)
    assert not np.allclose(mine.weights[0], fused_trainer.initial_weights([0, 1])[0])  # it trained


def test_held_out_scoring_reads_through_the_fused_program(monkeypatch):
    """Scoring streams through the fused program gives the predictions and log probabilities of
    calling the model on each batch in turn."""
    from lstmstate.core.framing import batchify
    from lstmstate.trained import prediction

    rng = np.random.default_rng(5)
    ids = rng.integers(0, VOCABULARY, size=(203, 1, 1)).astype(np.int32)
    targets = np.roll(ids[:, 0, 0], -1).astype(np.int32)
    spec = ModelSpec("lstm", steps=1, features=VOCABULARY, outputs=VOCABULARY, units=8, layers=2)
    weights = stacked_initial_weights(spec.build(), [0, 1])
    layout = 3 + batchify(200, 4)
    coder = Encoding("one-hot", VOCABULARY)
    monkeypatch.setattr(prediction, "CHUNK_SAMPLES", 64)  # several calls, the state carried between them
    fused_result = prediction.predict(spec, weights, ids, layout, True, True, first_kept=100, targets=targets,
                                      encoding=coder)
    prediction._compiled.cache_clear()
    monkeypatch.setattr(fused, "supports", lambda spec: False)
    stepwise = prediction.predict(spec, weights, coder.encode(ids), layout, True, True, first_kept=100,
                                  targets=targets)
    prediction._compiled.cache_clear()
    np.testing.assert_array_equal(fused_result[0], stepwise[0])
    np.testing.assert_array_equal(fused_result[1], stepwise[1])
    np.testing.assert_allclose(fused_result[2], stepwise[2], atol=1e-5)
    assert len(fused_result[0]) == 103
