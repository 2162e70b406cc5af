"""The user's own data: reading, framing, held-out scores and baselines, and the train and
compare commands, on small files each test writes itself."""

import json

import numpy as np
import pytest

from conftest import run_cli
from lstmstate.core import framing, memoryless
from lstmstate.core.engine import Trainer
from lstmstate.core.train_config import TrainConfig
from lstmstate.core.model import ModelSpec
from lstmstate.owndata import dataset, training
from lstmstate.owndata import samples
from lstmstate.owndata.split import split as split_sequence
from lstmstate.trained import keras_export, prediction, saved
from lstmstate.owndata.plan import Plan

PATTERN = "aaaabbbccd"  # after a comes a three times in four: context (how many a's) decides
SENTENCE = "the cat sat on the mat and the dog sat on the log "


@pytest.fixture
def pattern_file(tmp_path):
    path = tmp_path / "pattern.txt"
    path.write_text(PATTERN * 40)
    return path


@pytest.fixture
def series_file(tmp_path):
    t = np.arange(200)
    a, b = np.sin(t / 5), np.cos(t / 7)
    path = tmp_path / "series.csv"
    path.write_text("a,b\n" + "".join(f"{x:.5f},{y:.5f}\n" for x, y in zip(a, b)))
    return path


# ---- reading --------------------------------------------------------------------------------

def test_characters_get_the_ids_of_a_sorted_vocabulary(pattern_file):
    data = dataset.read(pattern_file)
    assert data.vocabulary.symbols == ("a", "b", "c", "d")
    assert data.ids[:10].tolist() == [0, 0, 0, 0, 1, 1, 1, 2, 2, 3]
    # the same as the plain definition, for a text beyond Latin-1
    text = "héllo wörld ✓ ✓"
    path = pattern_file.parent / "unicode.txt"
    path.write_text(text, encoding="utf-8")
    data = dataset.read(path)
    assert data.vocabulary.symbols == tuple(sorted(set(text)))
    assert data.ids.tolist() == data.vocabulary.encode(text).tolist()


def test_words_and_lines(tmp_path):
    path = tmp_path / "sentence.txt"
    path.write_text(SENTENCE * 3)
    words = dataset.read(path, tokens="word")
    assert words.items == 13 * 3 and words.vocabulary.size == 8
    assert words.vocabulary.decode(words.ids[:4]) == ["the", "cat", "sat", "on"]
    path.write_text("one\ntwo\none\n")
    lines = dataset.read(path, tokens="line")
    assert lines.vocabulary.decode(lines.ids) == ["one", "two", "one"]


def test_numbers_read_the_columns_asked_for(series_file):
    data = dataset.read(series_file, columns="a,b", target="b")
    assert data.columns == ("a", "b") and data.target_index == 1 and data.values.shape == (200, 2)
    # the target joins the inputs if it was not listed
    assert dataset.read(series_file, columns="a", target="b").columns == ("a", "b")


# ---- held-out part and baselines ------------------------------------------------------------

def test_baselines_agree_with_their_definitions():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, 300).astype(np.int32)
    split = split_sequence(len(ids), 0.25)
    rule = memoryless.most_frequent_successor(ids[:split.train_items - 1], ids[1:split.train_items])
    expected = np.mean([rule[p] == n for p, n in zip(ids[split.train_items - 1:-1], ids[split.train_items:])])
    assert memoryless.successor_accuracy(ids, split.train_items, 5) == pytest.approx(expected)
    assert memoryless.memoryless_ceiling_held_out(ids, split.train_items) == pytest.approx(
        memoryless.memoryless_ceiling(ids[split.train_items - 1:-1], ids[split.train_items:]))


def test_pattern_baseline_by_hand(pattern_file):
    # After a: a three times, b once; after b: b twice, c once; after c: c or d (tie: c); after d: a.
    # The rule a->a, b->b, c->c, d->a gets 3 + 2 + 1 + 1 = 7 of every 10 right.
    data = dataset.read(pattern_file)
    split = split_sequence(data.items, 0.25)
    assert memoryless.successor_accuracy(data.ids, split.train_items, 4) == pytest.approx(0.7)
    assert memoryless.memoryless_ceiling_held_out(data.ids, split.train_items) == pytest.approx(0.7)


def test_every_framing_is_scored_on_the_same_held_out_targets(pattern_file, series_file):
    for data in (dataset.read(pattern_file), dataset.read(series_file, target="b")):
        split = split_sequence(data.items, 0.25)
        for name in framing.FRAMINGS:
            framed = samples.frame(data, split, name, window=3, batch_size=4 if name == "stateful-streams" else None)
            scored = np.sort(framed.layout.reshape(-1))
            scored = scored[scored >= framed.first_held_out]
            # every held-out target exactly once
            assert len(scored) == split.held_out_items, name
            assert len(np.unique(scored)) == split.held_out_items, name
            if data.kind == "symbols":
                # no training sample has a held-out target: training targets are the training part's
                assert len(framed.y_train) <= split.train_items - 1


def test_numbers_are_scaled_on_the_training_part_only(series_file):
    data = dataset.read(series_file, target="b")
    split = split_sequence(data.items, 0.25)
    framed = samples.frame(data, split, "one-step", window=1, batch_size=None)
    train = data.values[:split.train_items]
    assert framed.scaling.mean == pytest.approx(train.mean(axis=0).tolist())
    assert framed.scaling.scale == pytest.approx(train.std(axis=0).tolist())
    assert framed.x_train[:, 0, :] == pytest.approx(((train[:-1] - train.mean(0)) / train.std(0)), abs=1e-5)
    assert framed.held_out_targets.tolist() == data.target_values[split.train_items:].tolist()


# ---- chunked prediction against the engine's own evaluate -----------------------------------

@pytest.mark.parametrize("policy", ["reset-every-batch", "carry-within-epoch"])
def test_chunked_prediction_matches_engine_evaluate(monkeypatch, policy):
    ids = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 3] * 6 + [0], np.int32)  # 60 samples: 20 per stream
    framed = framing.next_symbol(ids)
    x = np.eye(4, dtype=np.float32)[framed.inputs[:, :, 0]]
    carried = policy != "reset-every-batch"
    spec = ModelSpec("lstm", 1, 4, 4, units=8)
    config = TrainConfig(epochs=3, batch_size=3 if carried else 8, shuffle=not carried, policy=policy)
    trainer = Trainer(spec, config, x, framed.targets)
    population = trainer.train([0, 1])
    reference = trainer.evaluate(population.weights)
    monkeypatch.setattr(prediction, "CHUNK_SAMPLES", 7)  # several chunks, state carried between them
    layout = trainer.layout if carried else np.arange(len(x), dtype=np.int32)[:, None]
    kept, predicted, logs = prediction.predict(spec, population.weights, x, layout, carried, classify=True,
                                               targets=framed.targets)
    assert kept.tolist() == reference.evaluated.tolist()
    assert predicted.tolist() == reference.predictions.tolist()
    # The log probability of each target (what perplexity is made of), against the engine's softmax.
    probabilities = trainer.outputs(population.weights)  # (seed, sample, class), in the order of ``kept``
    expected = np.log(np.take_along_axis(probabilities, framed.targets[kept][None, :, None], axis=2)[..., 0])
    np.testing.assert_allclose(logs, expected, rtol=1e-5, atol=1e-6)


# ---- training on the user's data ------------------------------------------------------------

def test_stateful_learns_the_pattern_past_the_memoryless_ceiling(pattern_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    code, stdout, _ = run_cli(monkeypatch, capsys, "train", "--data", pattern_file, "--framing", "stateful",
                              "--epochs", 20, "--seeds", 2, "--out", out, "--quiet")
    assert code == 0
    assert "held-out accuracy" in stdout and "70.00%" in stdout
    payload = json.loads((out / "results.json").read_text())
    assert payload["holdout"]["metric"] == "accuracy" and len(payload["holdout"]["per_seed"]) == 2
    scores = {b["name"]: b["score"] for b in payload["baselines"]}
    assert scores["most frequent successor"] == 0.7
    # Five symbols of context see where the pattern is: the n-gram is perfect, and the verdict is against it.
    assert payload["baseline"]["score"] == 1.0 and payload["baseline"]["name"].endswith("-gram with backoff")
    # Counting the a's needs state; the carried state does it (100% for both seeds when measured).
    assert payload["holdout"]["mean"] > 0.7
    setup = json.loads((out / "stateful" / "setup.json").read_text())
    assert setup["vocabulary"] == ["a", "b", "c", "d"] and setup["train"]["policy"] == "carry-within-epoch"
    with np.load(out / "stateful" / "weights.npz") as weights:
        assert weights["w0"].shape[0] == 2


def test_one_step_on_words_cannot_pass_the_memoryless_ceiling(tmp_path):
    path = tmp_path / "sentence.txt"
    path.write_text(SENTENCE * 20)
    data = dataset.read(path, tokens="word")
    outcome = training.train(data, Plan(framing="one-step", epochs=3, seeds=2, holdout=0.2))
    assert outcome.metric == "accuracy" and outcome.scores.shape == (2,)
    # One word of input is a function of the previous word: it can never beat the exact ceiling.
    assert (outcome.scores <= outcome.ceiling + 1e-9).all()


def test_numbers_report_rmse_in_original_units_beside_persistence(series_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    code, stdout, _ = run_cli(monkeypatch, capsys, "train", "--data", series_file, "--columns", "a,b",
                              "--target", "b", "--framing", "window-timesteps", "--epochs", 3, "--seeds", 2,
                              "--out", out, "--quiet")
    assert code == 0 and "RMSE of b" in stdout
    payload = json.loads((out / "results.json").read_text())
    values = dataset.read(series_file, target="b").target_values
    held = values[160:]
    persistence = np.sqrt(np.mean((held - values[159:-1]) ** 2))
    assert payload["holdout"]["metric"] == "rmse"
    scores = {b["name"]: b["score"] for b in payload["baselines"]}
    assert scores["persistence"] == pytest.approx(persistence)
    # Each seed's RMSE, recomputed by hand from the saved run: the saved weights in a plain Keras
    # model, windows of the two columns scaled with the saved training-part scaling, the output
    # turned back into units of b. A wrong scaling, window or target column would not match.
    setup = json.loads((out / "window-timesteps" / "setup.json").read_text())
    scaling = setup["scaling"]
    assert scaling["columns"] == ["a", "b"]
    table = np.loadtxt(series_file, delimiter=",", skiprows=1)  # (item, column)
    scaled = (table - np.asarray(scaling["mean"])) / np.asarray(scaling["scale"])
    windows = np.stack([scaled[t - 3:t] for t in range(160, 200)]).astype(np.float32)  # (held-out, step=3, 2)
    saved_run = saved.load(out)
    for index, reported in enumerate(payload["holdout"]["per_seed"]):
        model = keras_export.keras_model(saved_run.spec, saved_run.member_weights(index), stateful=False)
        values = model.predict(windows, verbose=0)[:, 0] * scaling["scale"][1] + scaling["mean"][1]
        assert np.sqrt(np.mean((values - held) ** 2)) == pytest.approx(reported, rel=1e-4)
    # The saved model of numbers exports as plain Keras; generate says why it cannot run on numbers.
    code, stdout, _ = run_cli(monkeypatch, capsys, "export", out, "--to", tmp_path / "series.keras")
    assert code == 0 and (tmp_path / "series.keras").is_file()
    code, _, stderr = run_cli(monkeypatch, capsys, "generate", out, "--start", "1")
    assert code == 2 and "model of numbers" in stderr


def test_compare_ranks_framings_and_recommends_one(pattern_file, tmp_path, capsys, monkeypatch):
    out = tmp_path / "cmp"
    code, stdout, _ = run_cli(monkeypatch, capsys, "compare", "--data", pattern_file, "--window", 1,
                              "--epochs", 5, "--seeds", 2, "--batch-size", 4, "--out", out, "--quiet")
    assert code == 0
    payload = json.loads((out / "results.json").read_text())
    # a window of 1 makes the window framings the one-step framing again: they are not run
    assert sorted(payload["ranking"]) == ["one-step", "stateful", "stateful-streams"]
    means = [payload["experiments"][name]["holdout"]["mean"] for name in payload["ranking"]]
    assert means == sorted(means, reverse=True)
    assert payload["recommendation"]["framing"] == payload["ranking"][0]
    best = payload["ranking"][0]
    assert f"{best} is best" in stdout and "not run: window-features" in stdout
    # The baselines are ranked in the same table. An n-gram reads this pattern perfectly, so no
    # framing can beat it (at best it ties at 100%): the recommendation must not be a framing.
    ranked = payload["ranking_with_baselines"]
    ngram = payload["baseline"]
    assert ngram["name"].endswith("-gram with backoff") and ngram["score"] == 1.0
    assert {"name": ngram["name"], "kind": "baseline", "score": 1.0} in ranked and "baseline: " in stdout
    assert [row["score"] for row in ranked] == sorted((row["score"] for row in ranked), reverse=True)
    assert [row["name"] for row in ranked if row["kind"] == "framing"] == payload["ranking"]
    assert f"Use {best}:" not in stdout
    assert f"No framing is shown to beat {ngram['name']}" in stdout or f"Use {ngram['name']}, not an LSTM" in stdout
    assert (out / "stateful-streams" / "setup.json").is_file()


# ---- bad input: one line, exit code 2, nothing written --------------------------------------

def _bad_inputs(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.dat").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "latin1.txt").write_bytes("café crème".encode("latin-1"))
    (tmp_path / "short.txt").write_text("abcab")
    (tmp_path / "same.txt").write_text("aaaaaaaaaaaa")
    (tmp_path / "pattern.txt").write_text(PATTERN * 4)
    (tmp_path / "text.csv").write_text("a,b\n1,2\n3,x\n5,6\n")
    (tmp_path / "hole.csv").write_text("a,b\n1,2\n3,\n5,6\n")
    (tmp_path / "ok.csv").write_text("a,b\n" + "".join(f"{i},{i % 3}\n" for i in range(30)))
    return {
        "missing": (["--data", tmp_path / "nope.txt"], "no such file"),
        "empty": (["--data", tmp_path / "empty.txt"], "is empty"),
        "binary": (["--data", tmp_path / "binary.dat"], "looks binary"),
        "not utf-8": (["--data", tmp_path / "latin1.txt"], "is not UTF-8"),
        "too short for the window": (["--data", tmp_path / "short.txt", "--window", 4], "too short"),
        "too short for the holdout": (["--data", tmp_path / "short.txt", "--holdout", 0.05], "too short for --holdout"),
        "single symbol": (["--data", tmp_path / "same.txt"], "single distinct symbol"),
        "non-numeric": (["--data", tmp_path / "text.csv", "--target", "b"], "line 3: column 'b' holds 'x'"),
        "missing value": (["--data", tmp_path / "hole.csv", "--target", "b"], "line 3: column 'b' has no value"),
        "unknown column": (["--data", tmp_path / "ok.csv", "--columns", "a,z", "--target", "a"], "unknown column 'z'"),
        "window out of range": (["--data", tmp_path / "pattern.txt", "--window", 0], "--window must be at least 1"),
        "window too large": (["--data", tmp_path / "pattern.txt", "--window", 40], "--window 40 is out of range"),
        "batch size out of range": (["--data", tmp_path / "pattern.txt", "--batch-size", 500],
                                    "--batch-size 500 is out of range"),
        "batch size zero": (["--data", tmp_path / "pattern.txt", "--batch-size", 0], "--batch-size must be at least 1"),
        "season for text": (["--data", tmp_path / "pattern.txt", "--season", 4], "--season is for numbers"),
        "season too long": (["--data", tmp_path / "ok.csv", "--target", "b", "--season", 29], "--season 29 is out of range"),
        "season of one": (["--data", tmp_path / "ok.csv", "--target", "b", "--season", 1], "--season must be at least 2"),
    }


@pytest.mark.parametrize("command", ["train", "compare"])
def test_bad_input_is_one_line_and_exit_code_2(tmp_path, capsys, monkeypatch, command):
    for name, (args, message) in _bad_inputs(tmp_path).items():
        out = tmp_path / f"out-{command}-{name}"
        code, stdout, stderr = run_cli(monkeypatch, capsys, command, *args, "--epochs", 1, "--seeds", 1,
                                       "--out", out, "--quiet")
        assert code == 2, name
        assert stderr.startswith("error: ") and stderr.count("\n") == 1, (name, stderr)
        assert message in stderr, (name, stderr)
        assert "Traceback" not in stderr + stdout
        assert not out.exists(), name  # nothing half-written: not even the folder
