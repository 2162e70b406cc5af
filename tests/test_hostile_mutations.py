"""A valid setup.json and results.json changed one field at a time (a wrong type, a value out of
range, a field removed, added or nested deeper), and every command that reads them held to a
one-line error or a correct result: never a traceback, never a write outside the run folder."""

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstmstate.owndata import report
from lstmstate.tutorial.report import render_html, render_markdown
from lstmstate.storage import runfolder
from lstmstate.trained import saved
from lstmstate.tutorial import suite

# Text drawn from the whole of Unicode ends up in figure labels; a glyph the font lacks is drawn as a box.
pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")

# Values that have broken a reader somewhere: the wrong JSON type, edges of int32 and float64,
# names that climb out of a folder, the strings the schema's sets hold, and nesting.
HOSTILE = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-2 ** 70, max_value=2 ** 70),
    st.sampled_from([0, -1, 1, 2, 25, 26, 2 ** 31 - 1, 2 ** 31, 2 ** 63, 10 ** 9]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.5, -0.0, 1e-300, 1e300, -1e300, 2.0, 1.0000001]),
    st.text(max_size=12),
    st.sampled_from(["", "..", "../../x/ESCAPED", "/tmp/x", "a/b", "01", "K", "softmax", "linear", "dense", "lstm",
                     "one-hot", "scalar", "standardized", "carry-always", "mean_squared_error", "stateful"]),
    st.lists(st.one_of(st.integers(-3, 30), st.text(max_size=2)), max_size=4),
    st.dictionaries(st.text(max_size=6), st.integers(-2, 2), max_size=3),
    st.recursive(st.none() | st.integers(), lambda inner: st.lists(inner, max_size=2) | st.dictionaries(
        st.sampled_from(["a", "mean", "per_seed"]), inner, max_size=2), max_leaves=6),
)


def _paths(value, prefix=()):
    """Every place in a JSON value: dict keys, and the first items of lists."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:2]):
            yield from _paths(item, (*prefix, index))


def _mutated(payload: dict, path: tuple, how: str, value) -> dict:
    payload = json.loads(json.dumps(payload))
    if not path:
        return {"format_version": 2, "wrapped": payload} if how == "nest" else payload
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if how == "remove" and isinstance(parent, dict):
        del parent[last]
    elif how == "nest":
        parent[last] = [parent[last]]
    elif how == "add" and isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    else:
        parent[last] = value
    return payload


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("mutations") / "run"
    suite.run_suite(["stateful"], 2, folder, epochs=2, units=4)
    return folder


def _held_to_one_line(call) -> object:
    """``call()``'s result, or None when it raised a one-line ``ValueError``; anything else fails."""
    try:
        return call()
    except ValueError as error:
        assert str(error) and "\n" not in str(error), str(error)
        return None


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def _same_kind(original) -> st.SearchStrategy:
    """Another value of ``original``'s JSON type: what passes a type check and meets the range checks."""
    if isinstance(original, bool):
        return st.booleans()
    if isinstance(original, int):
        return st.integers(-3, 2 ** 31 + 3) | st.sampled_from([0, 1, 2, 3, 25, 26, 27])
    if isinstance(original, float):
        return st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, 0.5, 1.0, 1e-9, -1e-9])
    if isinstance(original, str):
        return st.text(max_size=8) | st.sampled_from(["K", "AB", "stateful", "one-char", "x" * 65])
    if isinstance(original, list):
        return st.permutations(original) | st.just(original[:1]) | st.just(original + original[:1]) | st.just([])
    if isinstance(original, dict):
        return st.just({}) | st.just(original)
    return HOSTILE


def _at(payload, path):
    for key in path:
        payload = payload[key]
    return payload


@st.composite
def mutations(draw, base: dict) -> tuple[tuple, str, object]:
    """One change to ``base``: where, how (replace by any value or by one of the same type, remove,
    nest one level deeper, add a field), and what."""
    path = draw(st.sampled_from(list(_paths(base))))
    how = draw(st.sampled_from(["replace", "same kind", "same kind", "remove", "nest", "add"]))
    value = draw(_same_kind(_at(base, path)) if how == "same kind" else HOSTILE)
    return path, "replace" if how == "same kind" else how, value


REPORT_FILES = ("run/report.", "run/figures", "run/.lstmstate.lock")  # all a report may add


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_reader_of_a_mutated_setup_json_is_one_line_or_right(base_run, data):
    setup = json.loads((base_run / "stateful" / "setup.json").read_text())
    path, how, value = data.draw(mutations(setup), label="mutation")
    with tempfile.TemporaryDirectory() as root:
        run = Path(root) / "run"
        shutil.copytree(base_run, run, ignore=shutil.ignore_patterns(runfolder.LOCK))
        (run / "stateful" / "setup.json").write_text(json.dumps(_mutated(setup, path, how, value)))
        before = _files(Path(root))
        loaded = _held_to_one_line(lambda: saved.load(run, "stateful"))
        if loaded is not None:  # what it accepted, it can use: generate, trace, describe
            symbols = list(loaded.vocabulary.symbols)
            steps = _held_to_one_line(lambda: loaded.generate(symbols[0], 2, symbols[:2]))
            assert steps is None or len(steps) == 2
            if loaded.spec.has_state:
                _held_to_one_line(lambda: loaded.trace(symbols[:3]))
            assert loaded.export_description() and loaded.export_notes()
            # The report's state figure is this load and this trace (a damaged one becomes a note).
        assert _files(Path(root)) == before  # reading wrote nothing


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_reader_of_a_mutated_results_json_is_one_line_or_right(base_run, data):
    results = json.loads((base_run / "results.json").read_text())
    path, how, value = data.draw(mutations(results), label="mutation")
    with tempfile.TemporaryDirectory() as root:
        run = Path(root) / "run"
        shutil.copytree(base_run, run, ignore=shutil.ignore_patterns(runfolder.LOCK))
        for old in ("report.html", "report.md"):
            (run / old).unlink()
        shutil.rmtree(run / "figures")
        (run / "results.json").write_text(json.dumps(_mutated(results, path, how, value)))
        before = _files(Path(root))
        written = _held_to_one_line(lambda: report.write_report(run))
        if written is not None:
            html_path, md_path = written
            assert html_path.read_text().endswith("</html>\n") and md_path.read_text().startswith("# ")
        new = _files(Path(root)) - before
        assert all(name.startswith(REPORT_FILES) for name in new), new  # only the report, only inside
        # generate, export and inspect read its median seed: the same check, the same one line.
        _held_to_one_line(lambda: saved.load(run, "stateful"))


# ---- the same, field by field: every place, every wrong kind of value -----------------------------

WRONG_KINDS = [None, True, -1, 2 ** 31, 0.5, "", "../x", [], {}, [[[]]]]


def test_every_field_of_setup_json_with_every_wrong_kind(base_run, tmp_path):
    setup = json.loads((base_run / "stateful" / "setup.json").read_text())
    run = tmp_path / "run"
    shutil.copytree(base_run, run, ignore=shutil.ignore_patterns(runfolder.LOCK))
    accepted = 0
    for path in list(_paths(setup))[1:]:
        for how, value in [("remove", None), ("nest", None)] + [("replace", v) for v in WRONG_KINDS]:
            (run / "stateful" / "setup.json").write_text(json.dumps(_mutated(setup, path, how, value)))
            loaded = _held_to_one_line(lambda: saved.load(run, "stateful"))
            if loaded is not None:
                accepted += 1
                assert len(loaded.generate(loaded.vocabulary.symbols[0], 2)) == 2
    assert 0 < accepted < 40  # some changes are harmless (a seed renumbered); most are refused


def test_every_field_of_results_json_with_every_wrong_kind(base_run, tmp_path):
    results = json.loads((base_run / "results.json").read_text())
    run = tmp_path / "run"
    shutil.copytree(base_run, run, ignore=shutil.ignore_patterns(runfolder.LOCK))
    accepted = 0
    for path in list(_paths(results))[1:]:
        for how, value in [("remove", None), ("nest", None)] + [("replace", v) for v in WRONG_KINDS]:
            (run / "results.json").write_text(json.dumps(_mutated(results, path, how, value)))
            payload = _held_to_one_line(lambda: runfolder.read_results(run))
            if payload is not None:  # what passed the schema, the report's text can be made of
                accepted += 1
                assert _held_to_one_line(lambda: render_html(payload, [])) is not None
                assert _held_to_one_line(lambda: render_markdown(payload, [])) is not None
    assert accepted > 0
