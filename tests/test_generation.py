"""Generation from saved models: the compiled blocks against the step-by-step reference,
temperature and sample seeds, priming from a file, and the generate command's options, on a
small text trained for a few seconds."""

import contextlib
import io
import math
import sys
from collections import Counter

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import run_cli
from lstmstate.core.encoding import Encoding
from lstmstate.core.framing import PAD
from lstmstate.core.model import ModelSpec, call, stacked_initial_weights
from lstmstate.core.vocabulary import Vocabulary
from lstmstate.trained import generation, prime, window
from lstmstate.trained.sampling import Sampling, choose
from lstmstate.trained.saved import load

WORDS = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "to", "log"]


def _text() -> str:
    """About 2,400 characters of words in random order, eight to a line: some structure to learn,
    and enough randomness that a sampled generation has more than one continuation."""
    rng = np.random.default_rng(0)
    lines = [" ".join(rng.choice(WORDS, 8)) for _ in range(75)]
    return "\n".join(lines) + "\n"


def _cli(*args) -> None:
    """``lstmstate ARGS`` in this process, for a module's fixtures (run_cli needs a test's fixtures)."""
    from lstmstate.cli import main

    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(io.StringIO()) as out:
        patch.setattr(sys, "argv", ["lstmstate", *map(str, args)])
        try:
            main()
        except SystemExit as exit_:
            assert not exit_.code, out.getvalue()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A char model of carried state (stateful-streams) and a window model (window-timesteps,
    window 4), each two seeds trained on the text for a few epochs."""
    folder = tmp_path_factory.mktemp("generation")
    data = folder / "words.txt"
    data.write_text(_text())
    for framing, extra in (("stateful-streams", ()), ("window-timesteps", ("--window", 4))):
        _cli("train", "--data", data, "--framing", framing, "--epochs", 3, "--seeds", 2, "--units", 16,
             *extra, "--out", folder / framing, "--quiet")
    return {"data": data, "stream": load(folder / "stateful-streams"), "window": load(folder / "window-timesteps"),
            "stream_folder": folder / "stateful-streams"}


def _predicted(steps) -> str:
    return "".join(step.predicted for step in steps)


def _step_by_step(saved, start: str, steps: int, context: list[str]) -> str:
    """The reference: one compiled call per symbol, argmax in numpy, as generation was made
    before it was compiled in blocks."""
    step_model = generation.StepModel(saved.spec, saved.member_weights(0))
    state, _ = generation.feed(step_model, saved.encoding, saved.vocabulary.encode(context))
    current, made = int(saved.vocabulary.encode([start])[0]), []
    for _ in range(steps):
        state, (current,) = generation.feed(step_model, saved.encoding, [current], state)
        made.append(saved.vocabulary.symbols[current])
    return "".join(made)


# ---- temperature 0 is the argmax generation, unchanged ------------------------------------------

def test_temperature_zero_is_the_step_by_step_argmax(runs):
    saved, text = runs["stream"], _text()
    # 150 steps cross two block boundaries (generation.BLOCK is 64); a prime of 1,100 symbols has
    # one block of generation.PRIME_BLOCK read by the fused program, the rest fed step by step.
    for context in ([], list(text[:1100])):
        made = _predicted(saved.generate("t", 150, context, index=0))
        assert made == _step_by_step(saved, "t", 150, context)
    # Primed, the model is not where it is cold: the comparison above can fail.
    assert _predicted(saved.generate("t", 150, [], index=0)) != _predicted(
        saved.generate("t", 150, list(text[:1100]), index=0))


def _slid_window(saved, start: str, steps: int, prime: list[str]) -> list[window.WindowStep]:
    """The reference: one model call per step from zero state, the window slid over each
    prediction in Python, left-padded with id 0 (or the reserved padding id where masked)."""
    spec, encoding, vocabulary = saved.spec, saved.encoding, saved.vocabulary
    model = spec.build(initialized=False)
    non_trainable = [v.value for v in model.non_trainable_variables]
    weights = [jnp.asarray(w) for w in saved.member_weights(0)]
    size = window.window_size(spec, encoding)
    pad = PAD if spec.mask_value is not None else 0
    history = ([pad] * size + [int(i) for i in vocabulary.encode([*prime, start])])[-size:]
    made = []
    for _ in range(steps):
        x = encoding.encode(np.asarray(history, np.int32).reshape(1, spec.steps, size // spec.steps))
        y, _, _ = call(model, spec, weights, non_trainable, jnp.asarray(x), spec.zero_state(1))
        predicted = int(np.argmax(np.asarray(y)[0]))
        made.append(window.WindowStep(tuple(vocabulary.symbols[i] if i != PAD else "" for i in history),
                                      vocabulary.symbols[predicted]))
        history = history[1:] + [predicted]
    return made


def test_a_window_model_generates_as_its_window_slides(runs):
    saved = runs["window"]
    assert not saved.carries_state and saved.window_size == 4
    reference = _slid_window(saved, "t", 150, list("the c"))
    made = saved.generate("t", 150, list("the c"), index=0)
    assert [(s.window, s.predicted) for s in made] == [(s.window, s.predicted) for s in reference]
    assert made[0].window == ("e", " ", "c", "t")  # only the last four symbols of the context
    sampled = saved.generate("t", 150, list("the c"), index=0, sampling=Sampling(1.0, 3))
    assert sampled == saved.generate("t", 150, list("the c"), index=0, sampling=Sampling(1.0, 3))
    assert _predicted(sampled) != _predicted(made)
    assert sampled[1].window == (" ", "c", "t", sampled[0].predicted)  # the window slides over the draws


def test_the_state_is_any_tuple_stacked_gru_and_embedding(runs):
    # Untrained models of each kind: the compiled stream carries whatever state the model has.
    vocabulary = Vocabulary.from_symbols("abcdefg")
    for spec, encoding in (
            (ModelSpec("gru", 1, 7, 7, units=8, layers=2), Encoding("one-hot", 7)),
            (ModelSpec("lstm", 1, 1, 7, units=8, layers=2, embedding=3), Encoding("embedding", 7))):
        weights = [w[0] for w in stacked_initial_weights(spec.build(), [4])]
        step_model = generation.StepModel(spec, weights)
        assert len(step_model.zero_state()) == spec.state_count
        # A prime of generation.PRIME_BLOCK symbols or more has its whole blocks read by the fused
        # program, the rest step by step; one of exactly a block starts generating straight after it.
        long = "abcdefgfedcbgabfcde" * 100
        for context in ("abab", long[:generation.PRIME_BLOCK], long[:generation.PRIME_BLOCK + 37]):
            made = _predicted(generation.generate(step_model, encoding, vocabulary, "c", 70, context))
            state, _ = generation.feed(step_model, encoding, vocabulary.encode(list(context)))
            current, reference = 2, []
            for _ in range(70):
                state, (current,) = generation.feed(step_model, encoding, [current], state)
                reference.append(vocabulary.symbols[current])
            assert made == "".join(reference)


# ---- sampling -------------------------------------------------------------------------------------

def test_same_sample_seed_same_text_another_seed_another_text(runs):
    saved = runs["stream"]
    first = _predicted(saved.generate("t", 300, index=0, sampling=Sampling(1.0, 7)))
    assert first == _predicted(saved.generate("t", 300, index=0, sampling=Sampling(1.0, 7)))
    assert first != _predicted(saved.generate("t", 300, index=0, sampling=Sampling(1.0, 8)))
    # Draw i is the i-th symbol's whatever the length asked for: a shorter generation is a prefix.
    assert _predicted(saved.generate("t", 10, index=0, sampling=Sampling(1.0, 7))) == first[:10]


def test_a_very_low_temperature_is_the_argmax(runs):
    saved = runs["stream"]
    greedy = _predicted(saved.generate("t", 200, index=0))
    assert _predicted(saved.generate("t", 200, index=0, sampling=Sampling(1e-4, 1))) == greedy
    assert _predicted(saved.generate("t", 200, index=0, sampling=Sampling(1.0, 1))) != greedy


def test_draws_follow_the_softmax_sharpened_by_the_temperature():
    # p ** (1 / T), renormalized: 0.6, 0.3, 0.1 at T = 0.5 is 0.783, 0.196, 0.022 (by hand).
    probabilities = jnp.array([0.6, 0.3, 0.1])
    keys = jax.random.split(jax.random.key(0), 40_000)
    for temperature in (0.5, 1.0, 2.0):
        draws = jax.vmap(lambda key: choose(key, probabilities, temperature))(keys)
        shares = np.bincount(np.asarray(draws), minlength=3) / len(keys)
        expected = np.array([0.6, 0.3, 0.1]) ** (1 / temperature)
        np.testing.assert_allclose(shares, expected / expected.sum(), atol=0.01)
    assert set(np.asarray(jax.vmap(lambda key: choose(key, probabilities, 0.0))(keys)).tolist()) == {0}


def _entropy(symbols: str) -> float:
    counts = np.array(list(Counter(symbols).values()), float)
    shares = counts / counts.sum()
    return float(-(shares * np.log2(shares)).sum())


def test_a_higher_temperature_spreads_the_symbols(runs):
    saved = runs["stream"]
    entropy = {t: _entropy(_predicted(saved.generate("t", 1000, index=0, sampling=Sampling(t, 2))))
               for t in (0.0, 0.3, 1.0, 3.0)}
    # Bits per symbol of the generated text's symbol counts, at most log2(15) = 3.91 for the text's
    # 15 symbols; measured 1.56, 1.96, 3.50, 3.87.
    assert entropy[0.0] + 0.2 < entropy[0.3] and entropy[0.3] + 0.5 < entropy[1.0], entropy
    assert entropy[1.0] + 0.1 < entropy[3.0], entropy
    assert entropy[3.0] > 0.9 * math.log2(saved.vocabulary.size), entropy


# ---- priming from a file --------------------------------------------------------------------------

def test_prime_file_feeds_its_symbols_as_split_in_training(runs, tmp_path, monkeypatch, capsys):
    saved, folder = runs["stream"], runs["stream_folder"]
    context = "the dog ran\nto a "
    path = tmp_path / "prime.txt"
    path.write_text(context)
    code, out, err = run_cli(monkeypatch, capsys, "generate", folder, "--seed-index", 0, "--prime-file", path,
                             "--steps", 100, "--text")
    assert code == 0, err
    # The spaces and the newline are symbols of a char model: fed, not skipped as --prime skips them.
    expected = _predicted(saved.generate(" ", 100, list(context[:-1]), index=0))
    assert out == expected + "\n"
    assert f"primed with {path} (16 symbols), then ' '" in err
    code, lines, _ = run_cli(monkeypatch, capsys, "generate", folder, "--seed-index", 0, "--prime-file", path,
                             "--steps", 3)
    assert lines.splitlines()[1:] == [f"{s.given} -> {s.predicted}" for s in
                                      saved.generate(" ", 3, list(context[:-1]), index=0)]


def test_sampled_text_from_the_command_is_reproducible(runs, monkeypatch, capsys):
    folder = runs["stream_folder"]
    args = ["generate", folder, "--start", "t", "--steps", 2000, "--temperature", 0.8, "--text"]
    code, first, err = run_cli(monkeypatch, capsys, *args, "--sample-seed", 11)
    assert code == 0 and len(first) == 2001 and "sampled at temperature 0.8, sample seed 11" in err
    assert run_cli(monkeypatch, capsys, *args, "--sample-seed", 11)[1] == first
    assert run_cli(monkeypatch, capsys, *args, "--sample-seed", 12)[1] != first


def test_prime_files_are_split_into_chars_words_or_lines(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("to be\nor not\n")
    words = Vocabulary.from_symbols(["be", "not", "or", "to"])
    assert prime.read(path, words, "word", "x") == ["to", "be", "or", "not"]
    assert prime.read(path, Vocabulary.from_symbols(["or not", "to be"]), "line", "x") == ["to be", "or not"]
    assert prime.read(path, Vocabulary.from_symbols(" \nbenortt"[:-1]), "char", "x") == list("to be\nor not\n")
    with pytest.raises(ValueError, match=r"1 symbol not in the vocabulary of 'x': 'not' at line 2, column 4 "
                                         r"\(offset 9\); it holds 'be', 'or', 'to'$"):
        prime.read(path, Vocabulary.from_symbols(["be", "or", "to"]), "word", "x")
    with pytest.raises(ValueError, match=r"'or not' at line 2; it holds"):
        prime.read(path, Vocabulary.from_symbols(["to be"]), "line", "x")
    path.write_text("xxxxxxx")
    with pytest.raises(ValueError, match=r"7 symbols .*'x' at line 1, column 5 \(offset 4\) \(the first 5 of 7\)"):
        prime.read(path, Vocabulary.from_symbols("ab"), "char", "x")


# ---- bad input: one line, exit code 2 ---------------------------------------------------------------

@pytest.mark.parametrize("args, content, expected", [
    (["--start", "t", "--temperature", "-0.5"], None, "--temperature must be 0 (the most probable symbol) or more"),
    (["--prime-file", "{file}"], "the cat\nsaZ on Q", "2 symbols not in the vocabulary of 'stateful-streams': "
                                                      "'Z' at line 2, column 3 (offset 10); 'Q' at line 2, column 8"),
    (["--prime-file", "{file}"], b"the \xff cat", "is not UTF-8 text: byte 0xff at offset 4"),
    (["--prime-file", "{file}"], "", "is empty"),
    (["--prime-file", "{file}"], b"the\x00cat", "looks binary (a NUL byte at offset 3)"),
    (["--prime-file", "{missing}"], None, "no such file"),
    (["--prime-file", "{file}", "--prime", "the"], "the", "--prime or with --prime-file, not both"),
    ([], None, "nothing to start from: give --start"),
])
def test_bad_generation_input_is_one_line_and_exit_2(runs, tmp_path, monkeypatch, capsys, args, content,
                                                     expected):
    path = tmp_path / "prime.txt"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    args = [a.format(file=path, missing=tmp_path / "nothing.txt") for a in args]
    code, out, err = run_cli(monkeypatch, capsys, "generate", runs["stream_folder"], *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and expected in err and len(err.strip().splitlines()) == 1, err
