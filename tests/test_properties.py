"""Property-based tests: random sequences, windows, batch sizes and command lines either work
or fail with a clear ValueError / one-line error, never a traceback.

Each test counts its cases by outcome and requires enough of each: a property that only ever
took the error branch (or only the working one) would pass while testing half of what it says.
The draws are derandomized, so the counts are the same on every run.
"""

import warnings
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_cli
from lstmstate.core import encoding
from lstmstate.core import framing
from lstmstate.core.batches import batch_layout
from lstmstate.core.train_config import TrainConfig

sequences = st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=30)


def test_window_framings_work_or_raise_value_error():
    counts = Counter()

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(ids=sequences, window=st.integers(min_value=-2, max_value=35))
    def framed_or_refused(ids, window):
        for frame in (framing.window_features, framing.window_timesteps):
            try:
                framed = frame(ids, window)
            except ValueError as error:
                assert str(error)
                counts["refused"] += 1
                continue
            assert framed.samples == len(ids) - window
            assert (framed.targets == np.asarray(ids[window:])).all()
            encoded = encoding.Encoding("one-hot", 6).encode(framed.inputs)
            assert encoded.shape == (framed.samples, framed.steps, framed.slots * 6)
            counts["framed"] += 1

    framed_or_refused()
    assert counts["framed"] >= 50 and counts["refused"] >= 50, counts


def test_runs_and_prefixes_work_or_raise_value_error():
    counts = Counter()

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(ids=sequences, count=st.integers(-1, 20), length=st.integers(-1, 8), reserved=st.booleans())
    def cut_or_refused(ids, count, length, reserved):
        try:
            framed = framing.random_runs(ids, count, length, np.random.default_rng(0), reserved)
        except ValueError:
            counts["runs refused"] += 1
        else:
            assert framed.inputs.shape == (count, length, 1)
            assert framed.masked <= reserved
            counts["runs"] += 1
        try:
            framed = framing.prefixes(ids)
        except ValueError:
            assert len(ids) < 2
            counts["prefixes refused"] += 1
        else:
            assert framed.samples == len(ids) - 1
            counts["prefixes"] += 1

    cut_or_refused()
    assert min(counts[k] for k in ("runs", "runs refused", "prefixes", "prefixes refused")) >= 5, counts


def test_batch_layouts_cover_every_sample_once_or_raise():
    counts = Counter()

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(samples=st.integers(1, 60), batch=st.integers(1, 70), carry=st.booleans())
    def laid_out_or_refused(samples, batch, carry):
        policy = "carry-within-epoch" if carry else "reset-every-batch"
        config = TrainConfig(epochs=1, batch_size=batch, shuffle=False, policy=policy)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                layout, weight = batch_layout(samples, config)
            except ValueError:
                assert carry and batch > samples
                counts["refused"] += 1
                return
        used = layout[weight > 0]
        assert len(set(used.tolist())) == len(used)
        if carry:
            assert len(used) == (samples // batch) * batch  # whole streams only, the rest trimmed
        else:
            assert sorted(used.tolist()) == list(range(samples))
        counts["carried" if carry else "stateless"] += 1

    laid_out_or_refused()
    assert min(counts[k] for k in ("refused", "carried", "stateless")) >= 10, counts


def _never_a_traceback(monkeypatch, capsys, argv) -> tuple[int, str, str]:
    """Run ``lstmstate ARGV``: it must end in 0, or in 2 with one ``error:`` line; nothing escapes."""
    try:
        code, out, err = run_cli(monkeypatch, capsys, *argv)
    except Exception as error:  # noqa: BLE001 - the property is that nothing escapes
        pytest.fail(f"{argv} raised {type(error).__name__}: {error}")
    assert code in (0, 2), (argv, code, err)
    if code == 2:
        assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, (argv, err)
    return code, out, err


words = st.sampled_from(["run", "suite", "list", "one-char", "nope", "--seeds", "--epochs", "--units",
                         "--out", "0", "-1", "x", "1", "--quiet", "--help", "stateful", "--frob"])
# Words at random are nearly always a mistake; half the command lines start as a real command does,
# so the working branch is tested too.
commands = st.one_of(
    st.lists(words, min_size=0, max_size=6),
    st.tuples(st.sampled_from([["list"], ["run", "one-char"], ["run", "stateful"], ["suite", "--help"]]),
              st.lists(words, min_size=0, max_size=2)).map(lambda parts: parts[0] + parts[1]))


def test_command_lines_never_end_in_a_traceback(monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)  # any output in a temporary folder
    codes = Counter()

    @settings(max_examples=40, deadline=None, derandomize=True)
    @given(argv=commands)
    def ends_cleanly(argv):
        # Keep any real training tiny.
        if "run" in argv or "suite" in argv:
            argv = [*argv, "--epochs", "1", "--seeds", "1", "--units", "1"] if "run" in argv else [*argv, "--seeds", "0"]
        code, _, err = _never_a_traceback(monkeypatch, capsys, argv)
        assert "Traceback" not in err
        codes[code] += 1

    ends_cleanly()
    assert codes[0] >= 3 and codes[2] >= 10, codes


framings = st.sampled_from(["one-step", "window-features", "window-timesteps", "variable-length", "stateful",
                            "stateful-streams", "sideways"])


def test_train_on_random_sequences_works_or_says_why(monkeypatch, capsys, tmp_path):
    codes = Counter()

    @settings(max_examples=30, deadline=None, derandomize=True)
    # Each choice is valid more often than not, so some draws train and the others say why.
    @given(unit=st.text(alphabet="ab c\n", min_size=0, max_size=8), repeats=st.integers(0, 60), framing_=framings,
           window=st.sampled_from([1, 2, 3, 3, 3, 0, -1, 500]),
           batch=st.sampled_from([1, 2, 4, 8, 8, 8, 8, 0, -3, 10_000]),
           holdout=st.sampled_from(["0.2", "0.2", "0.2", "0.2", "0.9", "0", "x"]),
           tokens=st.sampled_from(["char", "char", "char", "char", "word", "line", "byte"]))
    def trains_or_says_why(unit, repeats, framing_, window, batch, holdout, tokens):
        text = unit * repeats  # a repeated pattern: often long enough to train on, sometimes empty
        data = tmp_path / "data.txt"
        data.write_text(text)
        argv = ["train", "--data", str(data), "--framing", framing_, "--window", str(window), "--tokens", tokens,
                "--batch-size", str(batch), "--holdout", holdout, "--epochs", "1", "--seeds", "1", "--units", "2",
                "--quiet"]
        code, out, _ = _never_a_traceback(monkeypatch, capsys, argv)
        if code == 0:
            assert "held-out" in out
        codes[code] += 1

    trains_or_says_why()
    assert codes[0] >= 1 and codes[2] >= 5, codes
