"""Training as practitioners do: truncated BPTT, stacked LSTM and GRU layers, dropout, embeddings,
gradient clipping, validation while training with patience, checkpoints and resume, TensorBoard,
and every model exported to plain Keras (TensorFlow backend) with the same predictions."""

import itertools
from dataclasses import replace
from pathlib import Path

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from conftest import run_cli, run_reference
from lstmstate.core import loss as losses
from lstmstate.core import policy
from lstmstate.core.engine import Trainer
from lstmstate.core.train_config import TrainConfig
from lstmstate.core.model import ModelSpec, stacked_initial_weights
from lstmstate.owndata import samples
from lstmstate.owndata import scoring, training
from lstmstate.storage import checkpoint, runfolder
from lstmstate.trained import keras_export, stream
from lstmstate.owndata.plan import TEXT_DEFAULTS, prepare
from lstmstate.owndata import results, verdicts

# A real text that ships with Python, nobody here wrote: the start of argparse's source.
TEXT = Path(__import__("argparse").__file__).read_text()[:6000]


@pytest.fixture(scope="module")
def text_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("text") / "argparse.txt"
    path.write_text(TEXT)
    return path


# ---- truncated BPTT against Keras's own sequence LSTM ------------------------------------

def _sequence_reference(spec: ModelSpec, weights, x_chunks, y_chunks, learning_rate: float):
    """Two gradient steps as word_language_model takes them, written with Keras's own layers:
    a stacked ``LSTM(return_sequences=True)`` model run over each chunk of K steps from the state
    the chunk before left (detached), loss the mean over every step of every stream, Adam."""
    x = keras.Input((x_chunks.shape[1], spec.features))  # chunks are (step, K, row, 1, features)
    states = [keras.Input((spec.units,)) for _ in range(2 * spec.layers)]
    sequence, out_states = x, []
    for layer in range(spec.layers):
        sequence, h, c = keras.layers.LSTM(spec.units, return_sequences=True, return_state=True)(
            sequence, initial_state=states[2 * layer:2 * layer + 2])
        out_states += [h, c]
    y = keras.layers.Dense(spec.outputs, activation="softmax")(sequence)
    model = keras.Model([x, *states], [y, *out_states])
    optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    optimizer.build(model.trainable_variables)
    optimizer_state = [v.value for v in optimizer.variables]
    trainable = [jnp.asarray(w) for w in weights]
    state = [jnp.zeros((x_chunks.shape[2], spec.units))] * (2 * spec.layers)

    fixed = [v.value for v in model.non_trainable_variables]  # the cells' random-generator states, unused

    def chunk_loss(trainable, x, y, state):
        (probabilities, *after), _ = model.stateless_call(trainable, fixed, [x, *state])
        picked = jnp.take_along_axis(probabilities, y[..., None], axis=-1)[..., 0]
        return -jnp.mean(jnp.log(picked)), after

    for x_chunk, y_chunk in zip(x_chunks, y_chunks):
        # (K, row, 1, features) -> (row, K, features): each row a stream, K steps.
        x_rows = jnp.transpose(jnp.asarray(x_chunk[:, :, 0]), (1, 0, 2))
        y_rows = jnp.asarray(y_chunk).T
        (_, after), gradients = jax.value_and_grad(chunk_loss, has_aux=True)(trainable, x_rows, y_rows, state)
        trainable, optimizer_state = optimizer.stateless_apply(optimizer_state, gradients, trainable)
        state = [jax.lax.stop_gradient(s) for s in after]
    return trainable


def test_truncated_bptt_is_keras_sequence_training_with_the_state_detached():
    rng = np.random.default_rng(0)
    rows, bptt, vocabulary = 3, 4, 5
    ids = rng.integers(0, vocabulary, size=rows * 2 * bptt + 1)
    spec = ModelSpec("lstm", 1, vocabulary, vocabulary, units=6, layers=2)
    x = np.eye(vocabulary, dtype=np.float32)[ids[:-1]][:, None, :]
    y = ids[1:].astype(np.int32)
    config = TrainConfig(epochs=1, batch_size=rows, shuffle=False, policy=policy.CARRY_WITHIN_EPOCH,
                         loss=losses.CATEGORICAL_CROSSENTROPY, learning_rate=0.05, bptt=bptt)
    trainer = Trainer(spec, config, x, y)
    weights = [w[0] for w in stacked_initial_weights(trainer.model, [3])]
    ours = trainer.train([3], weights=[w[None] for w in weights]).weights
    # The engine's layout in chunks of K batches: (step, K, row) sample indices.
    layout = trainer.layout.reshape(-1, bptt, rows)
    reference = _sequence_reference(spec, weights, x[layout], y[layout], 0.05)
    for mine, theirs in zip(ours, reference):
        np.testing.assert_allclose(mine[0], np.asarray(theirs), atol=2e-6)
    # And K matters: one step per batch (bptt 1) trains other weights from the same start.
    one = Trainer(spec, replace(config, bptt=1), x, y).train([3], weights=[w[None] for w in weights]).weights
    assert max(float(np.abs(a - b).max()) for a, b in zip(one, ours)) > 1e-3


def test_a_padding_batch_leaves_the_carried_state_as_it_was():
    # 10 batches in chunks of 4: the last chunk has 2 real batches and 2 of padding. Carried
    # across epochs (never reset), the next epoch must start from the state after batch 10.
    spec = ModelSpec("gru", 1, 3, 3, units=4)
    ids = np.arange(21) % 3
    x, y = np.eye(3, dtype=np.float32)[ids[:-1]][:, None, :], ids[1:].astype(np.int32)
    config = TrainConfig(epochs=1, batch_size=2, shuffle=False, policy=policy.CARRY_ALWAYS, bptt=4,
                         learning_rate=0.0)
    trainer = Trainer(spec, config, x, y)
    state = jax.tree.map(lambda a: a[0], trainer.initial_state([0]))
    after, _ = jax.jit(trainer.train_epoch, static_argnums=())(state, 0, jax.tree.map(jnp.asarray, trainer._data))
    _, carried = stream.predict_stream(spec, state.trainable, x[trainer.layout[:, 0]])  # stream 0, batch 1
    np.testing.assert_allclose(np.asarray(after.lstm_state[0][0]), carried[0][0], atol=1e-5)


# ---- every model exports to plain Keras with the same predictions ------------------------

EXPORTS = r"""
import sys
import numpy as np
import keras
assert keras.backend.backend() == "tensorflow"
data = np.load(sys.argv[1])
out = {}
for index in range(int(data["count"])):
    model = keras.saving.load_model(f"{sys.argv[2]}/model{index}.keras", safe_mode=True)
    x = data[f"x{index}"]
    if bool(data[f"stateful{index}"]):
        for layer in model.layers:
            if hasattr(layer, "reset_state"):
                layer.reset_state()
        out[f"y{index}"] = np.concatenate([model.predict(x[i:i + 1], verbose=0) for i in range(len(x))])
    else:
        out[f"y{index}"] = model.predict(x, verbose=0)
np.savez(sys.argv[3], **out)
"""

COMBINATIONS = list(itertools.product(("lstm", "gru"), (1, 2), (0, 3), (False, True)))


def test_every_combination_exports_with_the_same_predictions(tmp_path, tensorflow_python):
    rng = np.random.default_rng(1)
    vocabulary = 5
    arrays = {"count": len(COMBINATIONS) + 1}
    expected = []
    cases = [(cell, layers, embedding, stateful, None) for cell, layers, embedding, stateful in COMBINATIONS]
    cases.append(("lstm", 2, 3, False, 0.0))  # an embedding of padded windows (variable-length): mask_zero
    for index, (cell, layers, embedding, stateful, mask) in enumerate(cases):
        steps = 1 if stateful else 4
        features = 1 if embedding else vocabulary
        spec = ModelSpec(cell, steps, features, vocabulary, units=5, layers=layers, embedding=embedding,
                         dropout=0.3 if layers == 2 else 0.0, mask_value=mask)
        weights = [w[0] for w in stacked_initial_weights(spec.build(), [index])]
        ids = rng.integers(0, vocabulary, size=(7, steps))
        if mask is not None:
            ids[:3, :2] = -1  # padded steps first, as variable-length pads
        if embedding:
            x = (ids + 1).astype(np.float32)[..., None]
        else:
            x = np.where(ids[..., None] >= 0, np.eye(vocabulary, dtype=np.float32)[ids], 0.0)
        model = keras_export.keras_model(spec, weights, stateful=stateful)
        keras_export.save(model, tmp_path / f"model{index}.keras")
        if stateful:
            ours, _ = stream.predict_stream(spec, weights, x)
        else:
            from lstmstate.core.model import call
            built = spec.build()
            ours, _, _ = call(built, spec, weights, [v.value for v in built.non_trainable_variables], x,
                              spec.zero_state(len(x)))
        arrays.update({f"x{index}": x, f"stateful{index}": np.array(stateful)})
        expected.append(np.asarray(ours))
    np.savez(tmp_path / "in.npz", **arrays)
    run_reference(tensorflow_python, EXPORTS, str(tmp_path / "in.npz"), str(tmp_path), str(tmp_path / "out.npz"))
    reference = np.load(tmp_path / "out.npz")
    for index, ours in enumerate(expected):
        np.testing.assert_allclose(reference[f"y{index}"], ours, atol=1e-5, err_msg=str(cases[index]))


# ---- a stopped run resumes to exactly the weights of an uninterrupted one -----------------

def _stop_at(epoch):
    def on_progress(done, total):
        if done == epoch:
            raise KeyboardInterrupt  # what Ctrl-C raises, at that point of training
    return on_progress


def test_a_stopped_and_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(text_file, tmp_path):
    options = dict(framing="stateful-streams", epochs=6, seeds=2, units=8, batch_size=4, bptt=6, layers=2,
                   cell="lstm", dropout=0.2, embedding=4, checkpoint_every=2, patience=10, clip_norm=1.0)
    data, plan, _ = prepare(text_file, None, None, None, **options)
    whole = training.run(data, plan, runfolder.prepare(tmp_path / "whole", [plan.framing], report=False))
    folder = runfolder.prepare(tmp_path / "stopped", [plan.framing], report=False)
    with pytest.raises(runfolder.Interrupted, match="after epoch 4 of 6.*--resume"):
        training.run(data, plan, folder, on_progress=_stop_at(5))
    assert checkpoint.exists(folder) and not (folder / "results.json").exists()
    data, plan, _, resumed = training.resume(folder, {"epochs": 6, "bptt": 6})
    assert resumed["epochs"] == 4
    again = training.run(data, plan, folder, resumed=resumed)
    for a, b in zip(whole.population.weights, again.population.weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(whole.population.loss, again.population.loss)
    assert whole.validation.epochs == again.validation.epochs
    assert not checkpoint.exists(folder)  # the results replaced it


def test_resume_refuses_another_configuration_and_a_folder_without_checkpoint(text_file, tmp_path, monkeypatch,
                                                                                capsys):
    out = tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, "train", "--data", text_file, "--framing", "stateful-streams",
                           "--epochs", 4, "--seeds", 1, "--units", 4, "--checkpoint-every", 2, "--quiet",
                           "--resume", tmp_path / "nothing")
    assert code == 2 and "holds no checkpoint" in err and err.count("\n") == 1
    data, plan, _ = prepare(text_file, None, None, None, framing="stateful-streams", epochs=4, seeds=1,
                                     units=4, checkpoint_every=2)
    with pytest.raises(runfolder.Interrupted):
        training.run(data, plan, runfolder.prepare(out, [plan.framing], report=False), on_progress=_stop_at(3))
    code, _, err = run_cli(monkeypatch, capsys, "train", "--resume", out, "--units", 8, "--quiet")
    assert code == 2 and "--units 4, not 8" in err and err.count("\n") == 1
    code, stdout, err = run_cli(monkeypatch, capsys, "train", "--resume", out, "--quiet")
    assert code == 0, err
    assert "resuming" in stdout and (out / "results.json").exists()
    # A checkpoint of another version is refused in one line.
    path = checkpoint.write(out, {"configuration": {}, "epochs": 2}, {})
    import json
    archive = dict(np.load(path))
    meta = json.loads(archive["meta"].tobytes())
    archive["meta"] = np.frombuffer(json.dumps({**meta, "version": "0.0.1"}).encode(), np.uint8)
    np.savez(path, **archive)
    code, _, err = run_cli(monkeypatch, capsys, "train", "--resume", out, "--quiet")
    assert code == 2 and "lstmstate 0.0.1" in err and err.count("\n") == 1


# ---- validation while training, patience, TensorBoard ------------------------------------

def test_patience_keeps_each_seeds_best_weights_and_stops(text_file, tmp_path):
    # A learning rate far too high: the held-out loss soon rises, and patience stops the run.
    data, plan, _ = prepare(text_file, None, None, None, framing="window-timesteps", window=4, epochs=30,
                                     seeds=3, units=16, learning_rate=0.05, validate_every=1, patience=2)
    outcome = training.run(data, plan)
    validation = outcome.validation
    assert outcome.population.epochs < 30 and len(validation.epochs) == outcome.population.epochs
    curves = validation.curves()
    best = curves["loss"].argmin(axis=1)
    assert (validation.best_epoch == np.asarray(validation.epochs)[best]).all()
    # The weights kept are the best: scored again on the validation part they give each seed's lowest loss there.
    framed = samples.frame(data, outcome.split.fitting(), plan.framing, plan.window, plan.batch_size)
    validating = scoring.Part(data, outcome.split.fit_items, 0, outcome.spec,
                              samples.part(framed, 0, outcome.split.validation_items))
    np.testing.assert_allclose(validating(outcome.population.weights).values, curves["accuracy"][np.arange(3), best],
                               atol=1e-6)
    block = results.entry(outcome)["validation"]
    assert block["stopped_early"] and block["best_epoch"] == validation.best_epoch.tolist()
    # Chosen on the validation part, not on the held-out targets: no caveat is owed.
    assert "optimistic" not in verdicts.against_baseline(outcome)


def test_tensorboard_event_files_read_back_with_tensorboards_reader(text_file, tmp_path, monkeypatch, capsys):
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    logs, out = tmp_path / "tb", tmp_path / "run"
    code, _, err = run_cli(monkeypatch, capsys, "train", "--data", text_file, "--framing", "stateful-streams",
                           "--bptt", 5, "--cell", "gru", "--epochs", 4, "--seeds", 2, "--units", 8,
                           "--validate-every", 2, "--tensorboard", logs, "--out", out, "--quiet")
    assert code == 0, err
    results = runfolder.read_results(out)["experiments"]["stateful-streams"]
    for index, seed in enumerate((0, 1)):
        events = event_accumulator.EventAccumulator(str(logs / f"seed-{seed}"))
        events.Reload()
        assert {"train/loss", "train/accuracy", "validation/loss", "validation/accuracy",
                "validation/perplexity"} <= set(events.Tags()["scalars"])
        assert [e.step for e in events.Scalars("train/loss")] == [1, 2, 3, 4]
        validated = events.Scalars("validation/accuracy")
        assert [e.step for e in validated] == [2, 4]
        np.testing.assert_allclose([e.value for e in validated],
                                   results["validation"]["per_seed"]["accuracy"][index], atol=1e-6)
    # The report draws the held-out curves.
    code, _, err = run_cli(monkeypatch, capsys, "report", out)
    assert code == 0 and (out / "figures" / "curves-held-out.png").stat().st_size > 1000


# ---- a text's defaults: a language model, not the tutorial's window -------------------------

def test_a_text_trains_a_language_model_where_no_option_was_chosen(text_file, tmp_path, monkeypatch, capsys):
    # The defaults a new user gets (every option but the ones this test must keep small):
    # streams, truncated BPTT over 35 steps, Adam at 0.005 (TEXT_DEFAULTS).
    code, out, err = run_cli(monkeypatch, capsys, "train", "--data", text_file, "--epochs", 1, "--seeds", 1,
                             "--units", 8, "--out", tmp_path / "text", "--quiet")
    assert code == 0, err
    assert "framing: stateful-streams" in out and "batch size 32, bptt 35" in out
    entry = runfolder.read_results(tmp_path / "text")["experiments"]["stateful-streams"]
    assert entry["learning_rate"] == TEXT_DEFAULTS["learning_rate"] and entry["units"] == 8
    # A framing chosen keeps the Plan's defaults for the rest, as before.
    code, out, err = run_cli(monkeypatch, capsys, "train", "--data", text_file, "--framing", "stateful-streams",
                             "--epochs", 1, "--seeds", 1, "--units", 8, "--out", tmp_path / "chosen", "--quiet")
    assert code == 0 and "framing: stateful-streams" in out and "bptt" not in out, err
    assert runfolder.read_results(tmp_path / "chosen")["experiments"]["stateful-streams"]["learning_rate"] == 0.001
    # The command's help states them, and numbers keep the Plan's own defaults.
    code, out, _ = run_cli(monkeypatch, capsys, "train", "--help")
    words = " ".join(out.split()).replace("- ", "-")
    for name, value in TEXT_DEFAULTS.items():
        assert f"--{name.replace('_', '-')} {value}" in words
    series = tmp_path / "series.csv"
    series.write_text("value\n" + "\n".join(str(np.sin(i / 3)) for i in range(80)))
    data, plan, _ = prepare(series, None, None, None, chosen=set(), epochs=1)
    assert plan.framing == "window-timesteps" and plan.units == 32 and plan.learning_rate == 0.001


# ---- bad input: one line, exit 2 -----------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    (["--framing", "stateful-streams", "--bptt", 0], "--bptt must be at least 1"),
    (["--framing", "stateful-streams", "--bptt", 100000], "--bptt 100000 is longer than a training stream"),
    (["--framing", "window-timesteps", "--bptt", 5], "--bptt and --reset are for the framings that carry state"),
    (["--layers", 0], "--layers must be at least 1"),
    (["--dropout", 1.0], "--dropout must be at least 0 and below 1"),
    (["--dropout", -0.1], "--dropout must be at least 0 and below 1"),
    (["--cell", "rnn"], "unknown --cell 'rnn'"),
    (["--reset", "sometimes"], "unknown --reset 'sometimes'"),
    (["--embedding", 4, "--encoding", "scalar"], "cannot be combined with --encoding scalar"),
    (["--clip-norm", 0], "--clip-norm must be above 0"),
])
def test_bad_training_options_are_one_line(text_file, monkeypatch, capsys, options, message):
    code, _, err = run_cli(monkeypatch, capsys, "train", "--data", text_file, "--epochs", 1, "--seeds", 1, *options)
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_embedding_on_numbers_is_one_line(tmp_path, monkeypatch, capsys):
    csv = tmp_path / "series.csv"
    csv.write_text("value\n" + "\n".join(str(np.sin(i / 3)) for i in range(60)))
    code, _, err = run_cli(monkeypatch, capsys, "train", "--data", csv, "--embedding", 4, "--epochs", 1)
    assert code == 2 and "--embedding 4 is for symbols" in err and err.count("\n") == 1
