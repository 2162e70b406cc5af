"""Property-based tests: random sequences, windows, batch sizes and command lines either work
or fail with a clear ValueError / one-line error, never a traceback."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import run_cli
from lstmstate.core import encoding
from lstmstate.core import framing
from lstmstate.core.batches import batch_layout
from lstmstate.core.train_config import TrainConfig

sequences = st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=30)


@settings(max_examples=200, deadline=None)
@given(ids=sequences, window=st.integers(min_value=-2, max_value=35))
def test_window_framings_work_or_raise_value_error(ids, window):
    for frame in (framing.window_features, framing.window_timesteps):
        try:
            framed = frame(ids, window)
        except ValueError as error:
            assert str(error)
            continue
        assert framed.samples == len(ids) - window
        assert (framed.targets == np.asarray(ids[window:])).all()
        encoded = encoding.Encoding("one-hot", 6).encode(framed.inputs)
        assert encoded.shape == (framed.samples, framed.steps, framed.slots * 6)


@settings(max_examples=200, deadline=None)
@given(ids=sequences, count=st.integers(-1, 20), length=st.integers(-1, 8), reserved=st.booleans())
def test_runs_and_prefixes_work_or_raise_value_error(ids, count, length, reserved):
    try:
        framed = framing.random_runs(ids, count, length, np.random.default_rng(0), reserved)
    except ValueError:
        pass
    else:
        assert framed.inputs.shape == (count, length, 1)
        assert framed.masked <= reserved
    try:
        framed = framing.prefixes(ids)
    except ValueError:
        assert len(ids) < 2
    else:
        assert framed.samples == len(ids) - 1


@settings(max_examples=200, deadline=None)
@given(samples=st.integers(1, 60), batch=st.integers(1, 70), carry=st.booleans())
def test_batch_layouts_cover_every_sample_once_or_raise(samples, batch, carry):
    policy = "carry-within-epoch" if carry else "reset-every-batch"
    config = TrainConfig(epochs=1, batch_size=batch, shuffle=False, policy=policy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            layout, weight = batch_layout(samples, config)
        except ValueError:
            assert carry and batch > samples
            return
    used = layout[weight > 0]
    assert len(set(used.tolist())) == len(used)
    if carry:
        assert len(used) == (samples // batch) * batch  # whole streams only, the rest trimmed
    else:
        assert sorted(used.tolist()) == list(range(samples))


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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(argv=st.lists(words, min_size=0, max_size=6))
def test_command_lines_never_end_in_a_traceback(argv, monkeypatch, capsys, tmp_path):
    # Keep any real training tiny and any output in a temporary folder.
    if "run" in argv or "suite" in argv:
        argv = [*argv, "--epochs", "1", "--seeds", "1", "--units", "1"] if "run" in argv else [*argv, "--seeds", "0"]
    monkeypatch.chdir(tmp_path)
    code, _, err = _never_a_traceback(monkeypatch, capsys, argv)
    assert "Traceback" not in err


framings = st.sampled_from(["one-step", "window-features", "window-timesteps", "variable-length", "stateful",
                            "stateful-streams", "sideways"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(unit=st.text(alphabet="ab c\n", min_size=0, max_size=8), repeats=st.integers(0, 40), framing_=framings,
       window=st.sampled_from([1, 2, 3, 3, 0, -1, 500]), batch=st.sampled_from([1, 2, 4, 8, 8, 0, -3, 10_000]),
       holdout=st.sampled_from(["0.2", "0.2", "0.2", "0.9", "0", "x"]),
       tokens=st.sampled_from(["char", "char", "char", "word", "line", "byte"]))
def test_train_on_random_sequences_works_or_says_why(unit, repeats, framing_, window, batch, holdout, tokens,
                                                     monkeypatch, capsys, tmp_path):
    text = unit * repeats  # a repeated pattern: often long enough to train on, sometimes empty
    data = tmp_path / "data.txt"
    data.write_text(text)
    argv = ["train", "--data", str(data), "--framing", framing_, "--window", str(window), "--tokens", tokens,
            "--batch-size", str(batch), "--holdout", holdout, "--epochs", "1", "--seeds", "1", "--units", "2",
            "--quiet"]
    code, out, _ = _never_a_traceback(monkeypatch, capsys, argv)
    if code == 0:
        assert "held-out" in out
