"""The engine against plain Keras, the reference: same weights, same order, same numbers."""


import jax
import keras
import numpy as np
import pytest

from conftest import run_reference
from lstmstate.core import encoding
from lstmstate.core import framing
from lstmstate.core.batches import Batch, epoch_order, seed_key
from lstmstate.core.engine import Trainer
from lstmstate.core.train_config import TrainConfig
from lstmstate.core.loss import MEAN_SQUARED_ERROR
from lstmstate.core.model import ModelSpec
from lstmstate.core.policy import CARRY_ALWAYS, CARRY_WITHIN_EPOCH, RESET_EVERY_BATCH

ALPHABET = np.arange(26)


def one_char_data():
    framed = framing.next_symbol(ALPHABET)
    return encoding.Encoding("scalar", 26).encode(framed.inputs), framed.targets


def plain_keras_model(units, batch_shape=None, stateful=False):
    """The model as a Keras user writes it (Sequential, LSTM, Dense softmax)."""
    inputs = keras.Input(batch_shape=batch_shape) if batch_shape else keras.Input((1, 1))
    return keras.Sequential([inputs, keras.layers.LSTM(units, stateful=stateful),
                             keras.layers.Dense(26, activation="softmax")])


def test_stateless_training_matches_keras_fit():
    x, y = one_char_data()
    spec = ModelSpec("lstm", 1, 1, 26, units=8)
    config = TrainConfig(epochs=3, batch_size=1, shuffle=True)
    trainer = Trainer(spec, config, x, y)
    seed = 3
    start = trainer.initial_weights([seed])
    population = trainer.train([seed], weights=start)

    reference = plain_keras_model(8)
    reference.set_weights([w[0] for w in start])
    reference.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    targets = keras.utils.to_categorical(y, 26)
    history = []
    for epoch in range(config.epochs):
        order = np.asarray(epoch_order(seed_key(seed), epoch, len(x)))
        fit = reference.fit(x[order], targets[order], batch_size=1, epochs=1, shuffle=False, verbose=0)
        history.append(fit.history["loss"][0])

    for ours, theirs in zip(population.member_weights(0), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(population.loss[0], history, rtol=1e-4)
    # The weights really moved: the test could fail.
    assert max(np.abs(a - b).max() for a, b in zip(population.member_weights(0), start)) > 1e-3
    # evaluate agrees with Keras evaluate
    loss, accuracy = reference.evaluate(x, targets, verbose=0)
    evaluation = trainer.evaluate(population.weights)
    np.testing.assert_allclose(evaluation.loss[0], loss, rtol=1e-4)
    np.testing.assert_allclose(evaluation.accuracy[0], accuracy)


def test_short_last_batch_matches_keras_fit():
    x, y = one_char_data()  # 25 samples, batch 4: six full batches and one of one
    spec = ModelSpec("lstm", 1, 1, 26, units=4)
    config = TrainConfig(epochs=2, batch_size=4, shuffle=False)
    trainer = Trainer(spec, config, x, y)
    start = trainer.initial_weights([0])
    population = trainer.train([0], weights=start)
    reference = plain_keras_model(4)
    reference.set_weights([w[0] for w in start])
    reference.compile(optimizer="adam", loss="categorical_crossentropy")
    reference.fit(x, keras.utils.to_categorical(y, 26), batch_size=4, epochs=2, shuffle=False, verbose=0)
    for ours, theirs in zip(population.member_weights(0), reference.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


STATEFUL_REFERENCE = r"""
import json, sys
import numpy as np
import keras
data = np.load(sys.argv[1])
x, y, epochs, units = data["x"], data["y"], int(data["epochs"]), int(data["units"])
model = keras.Sequential([keras.Input(batch_shape=(1, 1, 1)), keras.layers.LSTM(units, stateful=True),
                          keras.layers.Dense(26, activation="softmax")])
model.set_weights([data[f"w{i}"] for i in range(5)])
model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
targets = keras.utils.to_categorical(y, 26)
for epoch in range(epochs):
    model.fit(x, targets, batch_size=1, epochs=1, shuffle=False, verbose=0)
    model.layers[0].reset_state()
loss, accuracy = model.evaluate(x, targets, batch_size=1, verbose=0)
np.savez(sys.argv[2], *model.get_weights(), accuracy=accuracy, loss=loss)
"""


def test_stateful_training_matches_keras_stateful_lstm(tmp_path, tensorflow_python):
    x, y = one_char_data()
    spec = ModelSpec("lstm", 1, 1, 26, units=8)
    config = TrainConfig(epochs=4, batch_size=1, shuffle=False, policy="carry-within-epoch")
    trainer = Trainer(spec, config, x, y)
    start = trainer.initial_weights([5])
    population = trainer.train([5], weights=start)
    evaluation = trainer.evaluate(population.weights)

    np.savez(tmp_path / "in.npz", x=x, y=y, epochs=config.epochs, units=8,
             **{f"w{i}": w[0] for i, w in enumerate(start)})
    run_reference(tensorflow_python, STATEFUL_REFERENCE, str(tmp_path / "in.npz"), str(tmp_path / "out.npz"))
    reference = np.load(tmp_path / "out.npz")
    for i, ours in enumerate(population.member_weights(0)):
        np.testing.assert_allclose(ours, reference[f"arr_{i}"], rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(evaluation.loss[0], reference["loss"], rtol=1e-3)


def one_seed(state, index=0):
    """The ``index``-th seed's part of a stacked ``TrainState``."""
    return jax.tree.map(lambda a: a[index], state)


@pytest.mark.parametrize("policy", [RESET_EVERY_BATCH, CARRY_WITHIN_EPOCH, CARRY_ALWAYS], ids=lambda p: p.name)
def test_carried_state_changes_the_output_and_reset_does_not(policy):
    # Two training steps on the same sample, M (A is 0.0: no signal), at learning rate 0: the
    # weights stay, so the second step differs from the first only by the (h, c) it starts from,
    # which is what train_step's policy gives it.
    x, y = one_char_data()
    same_twice, targets = np.repeat(x[12:13], 2, axis=0), np.repeat(y[12:13], 2)
    config = TrainConfig(epochs=1, batch_size=1, shuffle=False, policy=policy, learning_rate=0.0)
    trainer = Trainer(ModelSpec("lstm", 1, 1, 26, units=8), config, same_twice, targets)
    state = one_seed(trainer.initial_state([0]))
    step = jax.jit(trainer.train_step)
    losses = []
    for index in range(2):
        batch = Batch(same_twice[None, index:index + 1], targets[None, index:index + 1], np.ones((1, 1), np.float32), index)
        state, metrics = step(state, batch)
        losses.append(float(metrics.loss))
    for after, before in zip(state.trainable, trainer.initial_weights([0])):
        np.testing.assert_array_equal(after, before[0])
    if policy.carries_state:
        assert abs(losses[1] - losses[0]) > 1e-4, losses
    else:
        assert losses[1] == losses[0], losses


def test_dropout_draws_a_new_mask_every_step_and_for_every_seed():
    # Dropout's SeedGenerator keeps its state in a non-trainable variable; train_step must return
    # it (else one mask forever) and every seed must start its own (else one mask for all).
    x, y = one_char_data()
    spec = ModelSpec("lstm", 1, 1, 26, units=8, dropout=0.5)
    config = TrainConfig(epochs=1, batch_size=5, shuffle=False, learning_rate=0.0)
    trainer = Trainer(spec, config, x, y)
    same = [np.repeat(w[:1], 2, axis=0) for w in trainer.initial_weights([0])]  # seed 0's weights for both
    state = trainer.initial_state([0, 1], weights=same)
    batch = Batch(x[None, :5], y[None, :5], np.ones((1, 5), np.float32), 0)
    step = jax.jit(jax.vmap(trainer.train_step, in_axes=(0, None)))
    after_one, first = step(state, batch)
    after_two, second = step(after_one, batch)
    # Same weights, same batch: only the two seeds' masks can tell their losses apart...
    assert first.loss[0] != first.loss[1]
    # ...and at learning rate 0 only a new mask can tell one step's loss from the next.
    assert (first.loss != second.loss).all()
    # The generators' states, in model order: the LSTM cell's (no dropout of its own: it draws
    # nothing), then Dropout's, which advances by one draw, [0, 1], each step; each seed's apart.
    lstm_cell, dropout = zip(*(s.non_trainable for s in (state, after_one, after_two)))
    assert all(np.array_equal(lstm_cell[0], later) for later in lstm_cell[1:])
    np.testing.assert_array_equal(np.diff(np.stack(dropout), axis=0), [[[0, 1]] * 2] * 2)
    assert dropout[0][0, 0] != dropout[0][1, 0]

    # Trained as usual from the same weights, the two seeds end apart, the same way every time
    # (the generators' states come from the seeds, not from Keras's random default).
    config = TrainConfig(epochs=3, batch_size=5, shuffle=False)
    first_run = Trainer(spec, config, x, y).train([0, 1], weights=same)
    second_run = Trainer(spec, config, x, y).train([0, 1], weights=same)
    assert not np.allclose(first_run.weights[0][0], first_run.weights[0][1])
    for a, b in zip(first_run.weights, second_run.weights):
        np.testing.assert_array_equal(a, b)
    # Evaluation draws no masks: the same weights give the same outputs.
    outputs = trainer.outputs(same)
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_seed_alone_equals_seed_among_eight():
    x, y = one_char_data()
    spec = ModelSpec("lstm", 1, 1, 26, units=8)
    config = TrainConfig(epochs=5, batch_size=1, shuffle=True)
    trainer = Trainer(spec, config, x, y)
    among = trainer.train(range(8))
    alone = trainer.train([5])
    for together, single in zip(among.weights, alone.weights):
        np.testing.assert_allclose(together[5], single[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(among.loss[5], alone.loss[0], rtol=1e-5)
    # and the seeds really differ from one another
    assert not np.allclose(among.weights[0][0], among.weights[0][1])


def test_training_is_deterministic():
    x, y = one_char_data()
    trainer = Trainer(ModelSpec("lstm", 1, 1, 26, units=8), TrainConfig(epochs=3, batch_size=1, shuffle=True), x, y)
    first, second = trainer.train([0, 1]), trainer.train([0, 1])
    for a, b in zip(first.weights, second.weights):
        np.testing.assert_array_equal(a, b)


def test_chunking_does_not_change_the_result():
    x, y = one_char_data()
    trainer = Trainer(ModelSpec("lstm", 1, 1, 26, units=8), TrainConfig(epochs=7, batch_size=1, shuffle=True), x, y)
    seen = []
    whole = trainer.train([2], chunks=1)
    pieces = trainer.train([2], chunks=3, on_progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (7, 7) and len(seen) == 3
    for a, b in zip(whole.weights, pieces.weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert whole.loss.shape == (1, 7)


@pytest.mark.parametrize("carried", [False, True])
def test_long_epochs_in_parts_train_as_whole_epochs(monkeypatch, carried):
    # Stateless and shuffled, or streams with truncated BPTT (the fused program), trained with
    # each epoch in compiled parts: the same steps in the same order, so the same weights.
    from lstmstate.core import engine

    rng = np.random.default_rng(3)
    ids = rng.integers(0, 26, 400)
    framed = framing.next_symbol(ids)
    x = encoding.Encoding("one-hot", 26).encode(framed.inputs)
    config = (TrainConfig(epochs=3, batch_size=4, shuffle=False, policy=CARRY_WITHIN_EPOCH, bptt=5) if carried
              else TrainConfig(epochs=3, batch_size=8, shuffle=True))
    spec = ModelSpec("lstm", 1, 26, 26, units=6)
    whole = Trainer(spec, config, x, framed.targets).train([0, 1], every=1)
    monkeypatch.setattr(engine, "PART_PAIRS", 150)  # an epoch of about 400 pairs per seed: 6 parts for two seeds
    trainer = Trainer(spec, config, x, framed.targets)
    assert trainer._parts(2) > 1
    seen, boundaries = [], []
    parted = trainer.train([0, 1], every=2, on_progress=lambda done, total: seen.append(done),
                           after_chunk=lambda progress: boundaries.append(progress.epochs) or False)
    assert boundaries == [2, 3] and seen[-1] == 3 and any(0 < done < 1 for done in seen)
    for a, b in zip(whole.weights, parted.weights, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(whole.loss, parted.loss, rtol=1e-5)
    np.testing.assert_allclose(whole.accuracy, parted.accuracy, rtol=1e-5)


def test_masked_padding_leaves_the_state_at_zero():
    framed = framing.prefixes(np.arange(5))
    enc = encoding.Encoding("scalar", 26)
    spec = ModelSpec("lstm", framed.steps, 1, 26, units=4, mask_value=enc.mask_value)
    short = ModelSpec("lstm", 1, 1, 26, units=4)
    x = enc.encode(framed.inputs)
    trainer = Trainer(spec, TrainConfig(epochs=1, batch_size=1, shuffle=False), x, framed.targets)
    weights = trainer.initial_weights([0])
    # Non-zero biases, as after training: a zero input then moves the state, so a padding step
    # that is not skipped shows (with Keras's zero biases it would not).
    weights[2] = weights[2] + 0.5
    padded = trainer.outputs(weights)  # (seed, sample, classes)
    single = Trainer(short, TrainConfig(epochs=1, batch_size=1, shuffle=False), x[:1, -1:], framed.targets[:1])
    alone = single.outputs(weights)
    # "- - - A" with a mask predicts exactly what "A" alone predicts...
    np.testing.assert_allclose(padded[0, 0], alone[0, 0], rtol=1e-5, atol=1e-6)
    # ...and the same run padded with zeros (the tutorial's way, no mask) does not.
    unmasked = ModelSpec("lstm", framed.steps, 1, 26, units=4)
    zeros = np.where(framed.inputs == framing.PAD, 0, framed.inputs)
    plain = Trainer(unmasked, TrainConfig(epochs=1, batch_size=1, shuffle=False), enc.encode(zeros), framed.targets)
    zero_padded = plain.outputs(weights)
    assert np.abs(zero_padded[0, 0] - alone[0, 0]).max() > 1e-4


def test_bad_configuration_is_a_value_error():
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0, batch_size=1, shuffle=False)
    with pytest.raises(ValueError, match="shuffle"):
        TrainConfig(epochs=1, batch_size=1, shuffle=True, policy="carry-always")
    with pytest.raises(ValueError, match="policy"):
        TrainConfig(epochs=1, batch_size=1, shuffle=False, policy="sometimes")
    with pytest.raises(ValueError, match="loss"):
        TrainConfig(epochs=1, batch_size=1, shuffle=False, loss="hinge")
    with pytest.raises(ValueError, match="dropout"):
        ModelSpec("lstm", 1, 1, 26, dropout=1.0)


def test_configurations_hold_named_objects_and_save_names():
    by_name = TrainConfig(epochs=2, batch_size=3, shuffle=False, policy="carry-within-epoch",
                          loss="mean_squared_error")
    by_object = TrainConfig(epochs=2, batch_size=3, shuffle=False, policy=CARRY_WITHIN_EPOCH, loss=MEAN_SQUARED_ERROR)
    assert by_name == by_object and by_name.policy is CARRY_WITHIN_EPOCH and by_name.carries_state
    saved = by_object.to_dict()
    assert saved == {"epochs": 2, "batch_size": 3, "shuffle": False, "policy": "carry-within-epoch",
                     "loss": "mean_squared_error", "learning_rate": 0.001, "bptt": 1, "clip_norm": None}
    assert TrainConfig.from_dict(saved) == by_object
    # A model saved before dropout existed reads back as one without it.
    old = {"kind": "lstm", "steps": 1, "features": 1, "outputs": 26, "units": 8, "mask_value": None,
           "output_activation": "softmax", "unroll": False}
    assert ModelSpec.from_dict(old).dropout == 0.0
    assert [layer.name for layer in ModelSpec.from_dict(old).build().layers] == ["x", "h", "c", "lstm", "dense"]


def test_seeds_that_do_not_fill_the_devices_come_back_alone():
    # With one JAX device per core the seeds are padded to fill them; the padding must not leak.
    x, y = one_char_data()
    trainer = Trainer(ModelSpec("lstm", 1, 1, 26, units=4), TrainConfig(epochs=2, batch_size=1, shuffle=True), x, y)
    three = trainer.train([4, 5, 6])
    assert three.loss.shape == (3, 2) and all(w.shape[0] == 3 for w in three.weights)
    alone = trainer.train([6])
    for together, single in zip(three.weights, alone.weights):
        np.testing.assert_allclose(together[2], single[0], rtol=1e-5, atol=1e-6)
