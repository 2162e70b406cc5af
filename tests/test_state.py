"""State you can use: saved runs, priming and cold starts, sliding windows, parallel streams,
another batch size, the Keras export (checked by plain Keras on TensorFlow), and state traces."""

import json

import numpy as np
import pytest

from conftest import run_cli, run_reference
from lstmstate.core.engine import Trainer
from lstmstate.storage import runfolder
from lstmstate.trained import keras_export, state_trace, stream
from lstmstate.trained.saved import load as load_run
from lstmstate.trained.generation import StepModel, generate
from lstmstate.tutorial import experiments, outcome as tutorial_outcome

STATEFUL_SEEDS = [0, 1, 2]
STATEFUL_EPOCHS = 150  # enough for 100% on the 25 pairs (300 as published; 150 keeps the test fast)


@pytest.fixture(scope="module")
def stateful_run(tmp_path_factory):
    """A run folder holding the tutorial's stateful experiment, trained for three seeds."""
    folder = tmp_path_factory.mktemp("stateful-run")
    outcome = tutorial_outcome.run_experiment(experiments.get("stateful"), STATEFUL_SEEDS, epochs=STATEFUL_EPOCHS)
    runfolder.write_entry(folder, tutorial_outcome.saved_entry(outcome))
    return folder, outcome


@pytest.fixture(scope="module")
def window_run(tmp_path_factory):
    """A run folder holding the stateless three-step window experiment, barely trained."""
    folder = tmp_path_factory.mktemp("window-run")
    outcome = tutorial_outcome.run_experiment(experiments.get("window-timesteps"), [0, 1], epochs=3)
    runfolder.write_entry(folder, tutorial_outcome.saved_entry(outcome))
    return folder, outcome


# ---- priming and cold starts on a trained stateful model ---------------------------------

def test_trained_stateful_model_needs_priming_to_continue_from_k(stateful_run):
    _, outcome = stateful_run
    assert outcome.accuracy.tolist() == [1.0, 1.0, 1.0]
    saved = load_run(stateful_run[0])
    for index in range(len(STATEFUL_SEEDS)):
        cold = [s.predicted for s in saved.generate("K", 3, index=index)]
        primed = [s.predicted for s in saved.generate("K", 3, list("ABCDEFGHIJ"), index=index)]
        assert cold[0] == "B", cold  # cold at K, the state it has after A: it replays the alphabet
        assert primed == ["L", "M", "N"], primed


def test_the_contrast_is_learned_not_built_in(stateful_run):
    # The same check on the initial weights fails: the test above can fail.
    setup = experiments.get("stateful").setup()
    trainer = Trainer(setup.spec, setup.config, setup.x, setup.y)
    untrained = StepModel(setup.spec, [w[0] for w in trainer.initial_weights([0])])
    primed = generate(untrained, setup.encoding, setup.vocabulary, "K", 3, "ABCDEFGHIJ")
    assert [s.predicted for s in primed] != ["L", "M", "N"]


def test_generate_command_cold_and_primed(stateful_run, monkeypatch, capsys):
    folder, _ = stateful_run
    code, out, _ = run_cli(monkeypatch, capsys, "generate", folder, "--seed-index", 1, "--start", "K")
    assert code == 0
    assert "cold start at K" in out and out.splitlines()[1] == "K -> B"
    code, out, _ = run_cli(monkeypatch, capsys, "generate", folder, "--experiment", "stateful", "--seed-index", 1,
                       "--start", "K", "--prime", "ABCDEFGHIJ", "--steps", 3)
    assert code == 0
    assert out.splitlines()[1:] == ["K -> L", "L -> M", "M -> N"]


@pytest.mark.parametrize("args, expected", [
    (["--start", "k"], "'k' is not in the vocabulary of 'stateful'; it holds 'A', 'B'"),
    (["--start", "K", "--prime", "AB7"], "'7' is not in the vocabulary"),
    (["--start", "K", "--seed-index", "3"], "seed index 3 is out of range"),
    (["--start", "K", "--experiment", "one-char"], "no saved experiment 'one-char'; it holds: stateful"),
])
def test_generate_bad_input_is_one_line_and_exit_2(stateful_run, monkeypatch, capsys, args, expected):
    code, out, err = run_cli(monkeypatch, capsys, "generate", stateful_run[0], *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and expected in err and len(err.strip().splitlines()) == 1
    if "vocabulary" in expected:
        assert "'Z'" in err  # the whole vocabulary is listed


# ---- stateless models generate by sliding their window -----------------------------------

def test_window_model_slides_its_window_and_agrees_with_the_engine(window_run):
    folder, outcome = window_run
    saved = load_run(folder, "window-timesteps")
    assert not saved.carries_state
    steps = saved.generate("K", 3, list("HIJ"), index=0)
    first, second, third = steps
    assert first.window == ("I", "J", "K")  # only the last three symbols of the context matter
    assert second.window == ("J", "K", first.predicted)
    assert third.window == ("K", first.predicted, second.predicted)
    # The window IJK is the engine's sample 8 (ABC->D is sample 0): same prediction.
    assert first.predicted == saved.vocabulary.symbols[outcome.evaluation.predictions[0][8]]
    # A cold start pads with id 0 as pad_sequences does, which the model sees as A.
    assert saved.generate("K", 1, index=0)[0].window == ("A", "A", "K")


# ---- loading checks versions and damage ---------------------------------------------------

def _copy_run(source, target):
    import shutil
    shutil.copytree(source, target)
    return target


def test_loading_another_version_or_a_damaged_file_is_a_clear_error(stateful_run, tmp_path):
    folder = _copy_run(stateful_run[0], tmp_path / "run")
    setup_path = folder / "stateful" / "setup.json"
    setup = json.loads(setup_path.read_text())

    # A folder of the first format (the tutorial was "the seed" there) is refused, naming both versions.
    assert runfolder.FORMAT_VERSION == 2
    for version in (1, 3):
        setup_path.write_text(json.dumps({**setup, "format_version": version}))
        with pytest.raises(ValueError, match=f"run format {version}; this lstmstate reads format 2 only"):
            load_run(folder)

    setup_path.write_text(json.dumps(setup)[:-20])
    with pytest.raises(ValueError, match="setup.json is damaged"):
        load_run(folder)

    setup_path.write_text(json.dumps({**setup, "vocabulary": setup["vocabulary"][:-1]}))
    with pytest.raises(ValueError, match="predicts 26 classes but the vocabulary has 25"):
        load_run(folder)

    setup_path.write_text(json.dumps({**setup, "seeds": [0, 1]}))
    with pytest.raises(ValueError, match=r"w0 is \(3, 1, 200\), the model needs \(2, 1, 200\)"):
        load_run(folder)

    setup_path.write_text(json.dumps(setup))
    weights_path = folder / "stateful" / "weights.npz"
    arrays = dict(np.load(weights_path))
    arrays["w0"][1] = np.nan  # seed index 1 diverged; the others stay usable
    np.savez(weights_path, **arrays)
    with pytest.raises(ValueError, match=r"seed 1 \(index 1\) of 'stateful' diverged"):
        load_run(folder).generate("K", 1, index=1)
    assert load_run(folder).generate("K", 1, index=0)[0].predicted == "B"

    weights_path.write_bytes(weights_path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="weights.npz is damaged"):
        load_run(folder)
    weights_path.unlink()
    with pytest.raises(ValueError, match="weights.npz is missing"):
        load_run(folder)


def test_a_folder_of_several_experiments_needs_a_choice(stateful_run, window_run, tmp_path):
    folder = tmp_path / "both"
    _copy_run(stateful_run[0] / "stateful", folder / "stateful")
    _copy_run(window_run[0] / "window-timesteps", folder / "window-timesteps")
    with pytest.raises(ValueError, match="holds 2 experiments; choose one with `experiment`: stateful, window-timesteps"):
        load_run(folder)
    assert load_run(folder, "stateful").name == "stateful"
    assert load_run(folder / "window-timesteps").name == "window-timesteps"  # an experiment's own folder
    with pytest.raises(ValueError, match="no saved experiments"):
        load_run(tmp_path)


# ---- parallel streams and another batch size ------------------------------------------------

def test_streams_that_do_not_divide_the_sequence_are_trimmed_with_a_warning():
    setup = experiments.get("stateful").setup(epochs=1, streams=2)
    with pytest.warns(UserWarning, match="25 samples do not divide into 2 streams: the last 1 sample"):
        trainer = Trainer(setup.spec, setup.config, setup.x, setup.y)
    # Row b of every batch continues stream b: A..L in stream 0, M..X in stream 1.
    assert trainer.layout[:, 0].tolist() == list(range(12))
    assert trainer.layout[:, 1].tolist() == list(range(12, 24))
    with pytest.raises(ValueError, match="streams apply to stateful experiments only"):
        experiments.get("one-char").setup(streams=2)


def test_run_with_streams_prints_the_trim_warning(monkeypatch, capsys, tmp_path):
    code, out, err = run_cli(monkeypatch, capsys, "run", "stateful", "--seeds", 1, "--epochs", 2, "--units", 4,
                         "--streams", 2, "--quiet")
    assert code == 0
    assert "warning: 25 samples do not divide into 2 streams: the last 1 sample(s) are dropped" in err
    assert "Model Accuracy:" in out
    code, _, err = run_cli(monkeypatch, capsys, "run", "one-char", "--streams", 2)
    assert code == 2 and "streams apply to stateful experiments only" in err


def test_a_model_trained_with_five_streams_predicts_at_batch_size_one_as_the_engine():
    setup = experiments.get("stateful").setup(epochs=150, units=16, streams=5)  # 25 = 5 streams of 5
    trainer = Trainer(setup.spec, setup.config, setup.x, setup.y)
    population = trainer.train([4])
    evaluation = trainer.evaluate(population.weights)
    weights = population.member_weights(0)
    engine = evaluation.predictions[0].reshape(trainer.layout.shape)  # (batch, stream)
    losses = []
    for column in range(5):
        samples = trainer.layout[:, column]
        probabilities, _ = stream.predict_stream(setup.spec, weights, setup.x[samples])
        np.testing.assert_array_equal(probabilities.argmax(-1), engine[:, column])
        losses.append(-np.log(probabilities[np.arange(len(samples)), setup.y[samples]]))
    np.testing.assert_allclose(np.mean(losses), evaluation.loss[0], rtol=1e-5)
    # The state really carries: the same samples from a zero state each give other numbers.
    carried, _ = stream.predict_stream(setup.spec, weights, setup.x[trainer.layout[:, 0]])
    alone = np.concatenate([stream.predict_stream(setup.spec, weights, setup.x[[i]])[0] for i in trainer.layout[:, 0]])
    assert np.abs(carried[1:] - alone[1:]).max() > 0.05


# ---- export to plain Keras, checked on the TensorFlow backend ------------------------------

EXPORT_REFERENCE = r"""
import sys
import numpy as np
import keras
assert keras.backend.backend() == "tensorflow"
data = np.load(sys.argv[1])
out = {}
stateful = keras.saving.load_model(sys.argv[2], safe_mode=True)
lstm = stateful.get_layer("lstm")
assert lstm.stateful and stateful.inputs[0].shape == (1, 1, 1), (lstm.stateful, stateful.inputs[0].shape)
lstm.reset_state()
out["stream"] = stateful.predict(data["x"], batch_size=1, verbose=0)  # the state carries from sample to sample

def generate(prime, start, steps):
    lstm.reset_state()
    for letter in prime:
        stateful.predict(np.array([[[letter / 26]]]), verbose=0)
    letter, produced = start, []
    for _ in range(steps):
        letter = int(stateful.predict(np.array([[[letter / 26]]]), verbose=0).argmax())
        produced.append(letter)
    return produced

out["cold"] = generate([], 10, 5)
out["primed"] = generate(list(range(10)), 10, 5)
stateless = keras.saving.load_model(sys.argv[3], safe_mode=True)
assert not stateless.layers[0].stateful
out["window"] = stateless.predict(data["windows"], verbose=0)
np.savez(sys.argv[4], **out)
"""


def test_exported_models_reproduce_the_engine_in_plain_keras_on_tensorflow(
        stateful_run, window_run, tmp_path, tensorflow_python, monkeypatch, capsys):
    stateful_folder, stateful_outcome = stateful_run
    window_folder, window_outcome = window_run
    code, out, _ = run_cli(monkeypatch, capsys, "export", stateful_folder, "--experiment", "stateful",
                       "--seed-index", 2, "--to", tmp_path / "stateful.keras")
    assert code == 0 and "LSTM(50, stateful=True) with keras.Input(batch_shape=(1, 1, 1))" in out
    assert "KERAS_BACKEND=tensorflow" in out
    saved_window = load_run(window_folder)
    saved_window.export(tmp_path / "window.keras", index=1)

    saved = load_run(stateful_folder)
    windows = window_outcome.setup.x
    np.savez(tmp_path / "in.npz", x=stateful_outcome.setup.x, windows=windows)
    run_reference(tensorflow_python, EXPORT_REFERENCE, str(tmp_path / "in.npz"), str(tmp_path / "stateful.keras"),
                  str(tmp_path / "window.keras"), str(tmp_path / "out.npz"))
    reference = np.load(tmp_path / "out.npz")

    # Predictions: the engine's, and the batch-1 stream's probabilities.
    ours, _ = stream.predict_stream(saved.spec, saved.member_weights(2), stateful_outcome.setup.x)
    np.testing.assert_allclose(reference["stream"], ours, atol=1e-5)
    np.testing.assert_array_equal(reference["stream"].argmax(-1), stateful_outcome.evaluation.predictions[2])
    # Generation, cold and primed.
    letters = saved.vocabulary.symbols
    assert [letters[i] for i in reference["cold"]] == [s.predicted for s in saved.generate("K", 5, index=2)]
    assert [letters[i] for i in reference["primed"]] == ["L", "M", "N", "O", "P"]
    # The stateless export: the engine's predictions, and the same probabilities as in Keras on JAX.
    np.testing.assert_array_equal(reference["window"].argmax(-1), window_outcome.evaluation.predictions[1])
    jax_model = keras_export.keras_model(saved_window.spec, saved_window.member_weights(1), stateful=False)
    np.testing.assert_allclose(reference["window"], np.asarray(jax_model(windows)), atol=1e-5)


def test_export_needs_a_keras_file_name(stateful_run, tmp_path):
    with pytest.raises(ValueError, match="must end in .keras"):
        load_run(stateful_run[0]).export(tmp_path / "model.h5")
    with pytest.raises(ValueError, match="does not exist"):
        load_run(stateful_run[0]).export(tmp_path / "missing" / "model.keras")


# ---- state capture ------------------------------------------------------------------------

def test_state_trace_shapes_and_values(stateful_run, window_run):
    saved = load_run(stateful_run[0])
    trace = saved.trace(list("ABCDEFGHIJK"), index=0)
    assert trace.h.shape == trace.c.shape == (11, 50)
    assert "".join(trace.predicted) == "BCDEFGHIJKL"
    # The state after K equals the batch-1 Keras model's after the same stream.
    _, (h, c) = stream.predict_stream(saved.spec, saved.member_weights(0), saved.encoding.encode(
        saved.vocabulary.encode(list("ABCDEFGHIJK"))[:, None, None]))
    np.testing.assert_allclose(trace.h[-1], h[0], atol=1e-5)
    np.testing.assert_allclose(trace.c[-1], c[0], atol=1e-5)
    assert np.abs(trace.h).max() <= 1.0  # h = o * tanh(c)

    # A three-step window model stepped one step at a time: its last step is the engine's sample.
    window = load_run(window_run[0])
    window_trace = window.trace(list("IJK"), index=1)
    assert window_trace.predicted[-1] == window.vocabulary.symbols[window_run[1].evaluation.predictions[1][8]]


def test_state_trace_rejects_models_without_one_symbol_per_step(tmp_path):
    outcome = tutorial_outcome.run_experiment(experiments.get("window-features"), [0], epochs=1)
    runfolder.write_entry(tmp_path, tutorial_outcome.saved_entry(outcome))
    with pytest.raises(ValueError, match="reads 3 symbols per step"):
        load_run(tmp_path).trace(list("ABC"))


def test_inspect_prints_the_state_and_writes_a_heatmap(stateful_run, monkeypatch, capsys, tmp_path):
    png = tmp_path / "state.png"
    code, out, _ = run_cli(monkeypatch, capsys, "inspect", stateful_run[0], "--sequence", "ABCDEFGHIJK",
                       "--seed-index", 0, "--png", png)
    assert code == 0
    lines = out.splitlines()
    assert "11 steps x 50 units" in lines[0]
    step_lines = [line for line in lines if " -> " in line and "|h|" not in line]
    assert len(step_lines) == 11 and step_lines[-1].startswith("K -> L")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    code, _, err = run_cli(monkeypatch, capsys, "inspect", stateful_run[0], "--sequence", "AB?")
    assert code == 2 and "'?' is not in the vocabulary" in err


def test_spark_levels():
    assert state_trace.spark(np.array([-2.0, 0.0, 2.0]), 2.0) == "▁▅█"
