"""Hostile input and hard stops: a run folder is data, never instructions; every file read back is
checked before use; sizes are checked before anything is allocated; destinations before training;
no silent overwrite or interleaving; SIGTERM is Ctrl-C. Each test crafts its own folder."""

import io
import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli
from lstmstate.core import budget
from lstmstate.core.model import ModelSpec
from lstmstate.owndata import report
from lstmstate.storage import files, runfolder
from lstmstate.trained import saved
from lstmstate.tutorial import suite, verdicts

CLI = [sys.executable, "-c", "from lstmstate.cli import main; main()"]


@pytest.fixture(scope="module")
def base_run(tmp_path_factory) -> Path:
    """A real run folder: the stateful experiment (it has a stream, a state figure and a
    generation figure), two seeds, barely trained."""
    folder = tmp_path_factory.mktemp("base") / "run"
    suite.run_suite(["stateful"], 2, folder, epochs=2, units=4)
    return folder


def _copy(base: Path, where: Path) -> Path:
    shutil.copytree(base, where, ignore=shutil.ignore_patterns(runfolder.LOCK))
    return where


def _one_line_error(call) -> str:
    """The message of the ``ValueError`` that ``call()`` raises; it must be one line."""
    with pytest.raises(ValueError) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message and message, message
    return message


def _edit(path: Path, change) -> None:
    payload = json.loads(path.read_text())
    change(payload)
    path.write_text(json.dumps(payload))


def _snapshot(folder: Path) -> dict:
    """Every file under ``folder`` (links not followed) with its bytes: what must stay untouched."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
            for p in sorted(folder.rglob("*"))}


# ---- a run folder is data: names, links ---------------------------------------------------------

def test_a_name_that_climbs_out_of_the_folder_writes_nothing_outside(base_run, tmp_path, monkeypatch, capsys):
    # As found: `report` made figures/generation-../../../../x/ESCAPED.png, outside the folder.
    run = _copy(base_run, tmp_path / "a" / "b" / "c" / "run")
    outside = _snapshot(tmp_path)
    name = "../../../../x/ESCAPED"
    _edit(run / "results.json", lambda p: p["experiments"].update({name: p["experiments"]["stateful"]}))
    outside = _snapshot(tmp_path)
    message = _one_line_error(lambda: report.write_report(run))
    assert "results.json is damaged: experiments" in message and "letters, digits" in message
    code, _, err = run_cli(monkeypatch, capsys, "report", run)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    # A payload handed over directly (not read from disk) meets the same check before any path is made.
    payload = json.loads((run / "results.json").read_text())
    _one_line_error(lambda: report.write_report(run, payload))
    assert _snapshot(tmp_path) == outside
    assert not (tmp_path / "x").exists() and not list(tmp_path.rglob("*ESCAPED*"))


@pytest.mark.parametrize("link", ["figures", "report.html", "run folder", "experiment folder"])
def test_nothing_is_written_through_a_symbolic_link(base_run, tmp_path, link):
    run = _copy(base_run, tmp_path / "run")
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "accuracy.png").write_bytes(b"the victim's own file")
    (victim / "state-seed0.png").write_bytes(b"the victim's own file")
    if link == "figures":
        shutil.rmtree(run / "figures")
        (run / "figures").symlink_to(victim)
    elif link == "report.html":
        (run / "report.html").unlink()
        (run / "report.html").symlink_to(victim / "accuracy.png")
    elif link == "experiment folder":
        shutil.move(run / "stateful", tmp_path / "elsewhere")
        (run / "stateful").symlink_to(tmp_path / "elsewhere")
    before = _snapshot(victim)
    if link == "run folder":
        (tmp_path / "latest").symlink_to(run)
        run = tmp_path / "latest"
    if link == "experiment folder":  # inspect's default heatmap goes inside the experiment's folder
        message = _one_line_error(lambda: saved.load(run, "stateful").heatmap_path(0))
    else:
        message = _one_line_error(lambda: report.write_report(run))
    assert "symbolic link" in message
    assert _snapshot(victim) == before


def test_the_default_heatmap_goes_inside_the_experiment_folder(base_run, tmp_path):
    run = _copy(base_run, tmp_path / "run")
    assert saved.load(run, "stateful").heatmap_path(1) == run / "stateful" / "state-seed1.png"
    # Names from the command line or the folder never become paths unchecked.
    for name in ("../x", "a/b", ".hidden", "", "..", "x" * 65):
        _one_line_error(lambda: runfolder.check_name(name))
    for name in ("../x", "a/b", ".hidden", "", "..", "/etc"):
        _one_line_error(lambda: runfolder.target(run, name, "setup.json"))


# ---- every file read back is checked ----------------------------------------------------------

SETUP_CASES = {  # as found by hand, each once a traceback or a silently wrong run
    "output_activation is a dict": (("model", "output_activation"), {"a": 1}),
    "data is a list": (("data",), [1, 2]),
    "mask_value is a string": (("model", "mask_value"), "x"),
    "an integer vocabulary": (("vocabulary",), list(range(26))),
    "seeds as a string": (("seeds",), "01"),
    "format_version true": (("format_version",), True),
    "format_version 2.0": (("format_version",), 2.0),
    "units 10**9": (("model", "units"), 10 ** 9),
    "units true": (("model", "units"), True),
    "epochs 2.5": (("train", "epochs"), 2.5),
    "an unknown activation": (("model", "output_activation"), "relu"),
    "an unknown policy": (("train", "policy"), "carry-sometimes"),
    "a negative seed": (("seeds",), [-1, 1]),
    "a seed twice": (("seeds",), [1, 1]),
    "a stream symbol outside the vocabulary": (("stream",), ["A", "?"]),
    "a name that climbs out": (("experiment",), "../../x"),
    "a model block with more fields": (("model", "eval"), "__import__('os')"),
}


@pytest.mark.parametrize("case", SETUP_CASES)
def test_a_damaged_setup_json_is_one_line(base_run, tmp_path, case):
    run = _copy(base_run, tmp_path / "run")
    path, value = SETUP_CASES[case]

    def change(setup):
        block = setup
        for key in path[:-1]:
            block = block[key]
        block[path[-1]] = value

    _edit(run / "stateful" / "setup.json", change)
    message = _one_line_error(lambda: saved.load(run, "stateful"))
    assert "setup.json" in message


@pytest.mark.parametrize("text", [
    '{"format_version": 2, "seeds": [Infinity]}', '{"format_version": 2, "seeds": [NaN]}',
    '{"format_version": 2, "seeds": [1e999]}', '{"format_version": 2, "seeds": [' + "9" * 5000 + "]}",
    "[" * 200_000 + "]" * 200_000, '{"a": ' + "[" * 200_000 + "]" * 200_000 + "}", "\xff\xfe", "", "[1, 2]"],
    ids=["Infinity", "NaN", "1e999", "5000 digits", "200000 deep", "200000 deep in an object", "not UTF-8", "empty",
         "a list"])
def test_json_that_is_not_plain_finite_shallow_json_is_one_line(base_run, tmp_path, text):
    run = _copy(base_run, tmp_path / "run")
    for path in (run / "stateful" / "setup.json", run / "results.json"):
        path.write_bytes(text.encode("utf-8", "surrogateescape") if text != "\xff\xfe" else b"\xff\xfe")
    start = time.perf_counter()
    assert "setup.json" in _one_line_error(lambda: saved.load(run, "stateful"))
    assert "results.json" in _one_line_error(lambda: report.write_report(run))
    assert time.perf_counter() - start < 1


@pytest.mark.parametrize("change", [
    lambda p: p["experiments"]["stateful"].update(median_seed=float("inf")),
    lambda p: p["experiments"]["stateful"].update(median_seed="1"),
    lambda p: p["experiments"]["stateful"].update(median_seed=7),  # not one of its seeds
    lambda p: p["experiments"].update(stateful=[1, 2]),
    lambda p: p["experiments"]["stateful"]["accuracy"].update(per_seed=[0.5, 2.0]),
    lambda p: p["experiments"]["stateful"].update(diverged=None),
    lambda p: p["experiments"]["stateful"]["generation"].update(prime=""),
    lambda p: p.update(format_version=True),
    lambda p: p.update(experiments={f"e{i}": {} for i in range(1000)}),
], ids=["median inf", "median a string", "median not a seed", "entry a list", "accuracy above 1",
        "diverged null", "empty prime", "version true", "a thousand experiments"])
def test_a_damaged_results_json_is_one_line_for_every_command(base_run, tmp_path, change, monkeypatch, capsys):
    run = _copy(base_run, tmp_path / "run")
    path = run / "results.json"
    payload = json.loads(path.read_text())
    change(payload)
    path.write_text(json.dumps(payload, allow_nan=True))
    before = _snapshot(run)
    assert "results.json" in _one_line_error(lambda: report.write_report(run))
    assert "results.json" in _one_line_error(lambda: saved.load(run, "stateful"))  # its median seed is read
    for command in (["report", run], ["generate", run, "--start", "K"], ["inspect", run, "--sequence", "AB"]):
        code, _, err = run_cli(monkeypatch, capsys, *command)
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert _snapshot(run) == before  # nothing written on the way to the error


@pytest.mark.parametrize("dtype", ["int8", "complex64", "datetime64[s]", "<U3", "bool", "object", "f4,f4", "float128"])
def test_weights_that_are_not_floats_are_refused(base_run, tmp_path, dtype):
    run = _copy(base_run, tmp_path / "run")
    weights = run / "stateful" / "weights.npz"
    arrays = {key: np.zeros(value.shape, dtype) for key, value in np.load(weights).items()}
    np.savez(weights, **arrays)
    message = _one_line_error(lambda: saved.load(run, "stateful"))
    assert "weights are floats" in message


def test_weights_of_any_float_width_load_as_float32(base_run, tmp_path):
    run = _copy(base_run, tmp_path / "run")
    weights = run / "stateful" / "weights.npz"
    original = dict(np.load(weights))
    np.savez(weights, **{key: value.astype(np.float64) for key, value in original.items()})
    loaded = saved.load(run, "stateful")
    assert all(w.dtype == np.float32 for w in loaded.weights)
    assert all(np.array_equal(w, original[f"w{i}"]) for i, w in enumerate(loaded.weights))


def _zip_bomb(path: Path, member: str, header: bytes = b"", megabytes: int = 2048) -> None:
    """A zip whose ``member`` inflates to ``megabytes`` MB (``header`` then zeros) from about 1 KB
    per MB: the deflate stream of 1 MB of zeros, repeated (each piece ends in a full flush, so
    pieces can follow each other), written by hand so that making it costs well under a second."""
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(header + block) + compressor.flush(zlib.Z_FULL_FLUSH)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    data = first + piece * (megabytes - 1) + compressor.flush(zlib.Z_FINISH)
    size = len(header) + megabytes * (1 << 20)
    crc = zlib.crc32(header + block)
    for _ in range(megabytes - 1):
        crc = zlib.crc32(block, crc)
    name = member.encode()
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0) + name
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(data), size, len(name),
                          0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(data), 0)
    path.write_bytes(local + data + central + end)


def _npy_header(shape, dtype="<f4") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


@pytest.mark.parametrize("bomb, refused_for", [
    ("2 MB inflating to 2 GB", "more than its arrays"),  # as found: read whole in 19 s and 2.3 GB
    ("an extra member, small enough on disk", "it holds ['bomb']"),
    ("a weight that inflates past its shape", "w0 inflates to"),
    ("a 1.46 TiB header", "w0 is (2, 1, 200000000000)")])
def test_an_npz_bomb_is_refused_in_under_a_second(base_run, tmp_path, bomb, refused_for):
    run = _copy(base_run, tmp_path / "run")
    weights = run / "stateful" / "weights.npz"
    if bomb == "2 MB inflating to 2 GB":
        _zip_bomb(weights, "bomb.npy")
    elif bomb == "an extra member, small enough on disk":  # past the size check, to the names
        _zip_bomb(weights, "bomb.npy", megabytes=200)
    elif bomb == "a weight that inflates past its shape":  # w0 says (2, 1, 16) and goes on for 200 MB
        others = {key: value for key, value in np.load(weights).items() if key != "w0"}
        _zip_bomb(weights, "w0.npy", header=_npy_header((2, 1, 16)), megabytes=200)
        with zipfile.ZipFile(weights, "a") as archive:
            for key, value in others.items():
                buffer = io.BytesIO()
                np.save(buffer, value)
                archive.writestr(f"{key}.npy", buffer.getvalue())
    else:
        with zipfile.ZipFile(weights, "w") as archive:
            for index in range(5):
                archive.writestr(f"w{index}.npy", _npy_header((2, 1, 200_000_000_000)) + bytes(64))
    assert weights.stat().st_size < 3 * 2 ** 20
    start = time.perf_counter()
    message = _one_line_error(lambda: saved.load(run, "stateful"))
    assert time.perf_counter() - start < 1, message
    assert "weights.npz is damaged" in message and refused_for in message, message


# ---- sizes are checked before anything is allocated -------------------------------------------

@pytest.mark.parametrize("args, option", [
    (["run", "one-char", "--units", "10000000"], "--units"),
    (["run", "one-char", "--epochs", str(10 ** 12)], "--epochs"),
    (["run", "one-char", "--seeds", str(10 ** 9)], "--seeds"),
    (["suite", "--epochs", str(2 ** 31)], "--epochs"),
    (["train", "--data", "DATA", "--units", "10000000"], "--units"),
    (["compare", "--data", "DATA", "--epochs", str(10 ** 12)], "--epochs"),
])
def test_a_request_too_large_is_one_line_naming_the_option(tmp_path, monkeypatch, capsys, args, option):
    data = tmp_path / "data.txt"
    data.write_text("abcab" * 40)
    args = [str(data) if a == "DATA" else a for a in args] + ["--out", str(tmp_path / "out")]
    start = time.perf_counter()
    code, _, err = run_cli(monkeypatch, capsys, *args)
    assert code == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: {option} ") and ("or fewer" in err), err
    assert time.perf_counter() - start < 10
    assert not (tmp_path / "out").exists()  # refused before the folder was made


def test_a_large_request_that_fits_is_let_through():
    spec = ModelSpec("lstm", steps=1, features=1, outputs=26, units=2000)  # 16 million weights a seed
    budget.check_training(spec, 20, epochs=300, batches=25, rows=1, available=64 * 10 ** 9)
    with pytest.raises(ValueError, match=r"`seeds` 20 is too many .* `seeds` \d or fewer fit"):
        budget.check_training(spec, 20, epochs=300, batches=25, rows=1, available=2 * 10 ** 9)
    assert budget.available_memory() > 0


@pytest.mark.parametrize("spec", [
    ModelSpec("lstm", steps=3, features=5, outputs=7, units=4),
    ModelSpec("lstm", steps=2, features=1, outputs=26, units=3, mask_value=-1.0, dropout=0.5),
    ModelSpec("dense", steps=3, features=2, outputs=26, units=8),
])
def test_the_budget_counts_the_weights_keras_builds(spec):
    assert budget.spec_shapes(spec) == [tuple(v.shape) for v in spec.build().trainable_variables]


# ---- destinations are checked before training; nothing non-finite is lost -----------------------

@pytest.mark.parametrize("in_the_way", ["a file named like the experiment", "a folder named report.html",
                                        "a file named figures", "a path over the limit", "a name over the limit"])
def test_a_destination_that_would_fail_is_refused_before_training(tmp_path, monkeypatch, capsys, in_the_way):
    out = tmp_path / "out"
    out.mkdir()
    if in_the_way == "a file named like the experiment":
        (out / "one-char").write_text("mine")
    elif in_the_way == "a folder named report.html":
        (out / "report.html").mkdir()
    elif in_the_way == "a file named figures":
        (out / "figures").write_text("mine")
    elif in_the_way == "a path over the limit":  # --out itself fits; the files under it would not
        room = 4080 - len(str(tmp_path))
        out = tmp_path.joinpath(*["d" * 250] * (room // 251), "e" * (room % 251 - 1))
        assert 4060 < len(str(out)) < 4090
    else:
        out = tmp_path / ("x" * 300)
    start = time.perf_counter()
    code, stdout, err = run_cli(monkeypatch, capsys, "run", "one-char", "--seeds", "1", "--epochs", "1",
                                "--out", out)
    assert code == 2 and err.startswith("error: --out") and err.count("\n") == 1, err
    assert "Model Accuracy" not in stdout and time.perf_counter() - start < 10  # nothing was trained
    assert not list(tmp_path.rglob("results.json"))


def test_non_finite_numbers_are_written_as_null_with_a_note(tmp_path):
    # As found: --out with values of 1e300 trained, then failed writing results.json (inf is not JSON).
    payload = {"format_version": 2, "experiments": {"numbers": {"holdout": {"mean": float("inf"),
                                                                        "per_seed": [1.0, float("nan")]}}}}
    runfolder.write_results(tmp_path, payload)
    written = files.read_json(tmp_path / "results.json")
    assert written["experiments"]["numbers"]["holdout"] == {"mean": None, "per_seed": [1.0, None]}
    assert written["notes"] == ["experiments.numbers.holdout.mean was inf, written as null (JSON has no NaN or infinity)",
                                "experiments.numbers.holdout.per_seed.1 was nan, written as null (JSON has no NaN or "
                                "infinity)"]
    assert payload["experiments"]["numbers"]["holdout"]["mean"] == float("inf")  # the caller's own is untouched


# ---- no silent overwrite, no interleaving -----------------------------------------------------

def test_a_folder_holding_a_run_is_refused_unless_overwrite(base_run, tmp_path):
    run = _copy(base_run, tmp_path / "run")
    (run / "notes.txt").write_text("the user's own file")
    before = _snapshot(run)
    message = _one_line_error(lambda: runfolder.prepare(run, ["one-char"]))
    assert "already holds a run" in message and "`overwrite`" in message
    assert _snapshot(run) == before
    runfolder.prepare(run, ["one-char"], overwrite=True)
    runfolder.unlock(run)
    # The old run is gone as a whole (no stale experiment beside the new one); the user's file stays.
    assert sorted(p.name for p in run.iterdir()) == sorted([runfolder.LOCK, "notes.txt"])


def test_a_second_command_on_a_folder_being_written_is_one_line(base_run, tmp_path):
    run = _copy(base_run, tmp_path / "run")
    runfolder.lock(run)  # as a running `run --out` holds it
    try:
        done = subprocess.run([*CLI, "report", str(run)], capture_output=True, text=True, timeout=120)
    finally:
        runfolder.unlock(run)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (f"error: another lstmstate command is writing to {run} (process {os.getpid()}); "
                                   "wait for it to finish, or give another folder")
    assert (run / "report.html").read_bytes() == (base_run / "report.html").read_bytes()


def test_two_runs_into_one_folder_at_once_do_not_interleave(tmp_path):
    # As found: both exited 0 and results.json listed only one of them.
    out = tmp_path / "shared"
    processes = {name: subprocess.Popen([*CLI, "run", name, "--seeds", "1", "--epochs", "20", "--units", "4",
                                         "--out", str(out), "--quiet"], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
                 for name in ("one-char", "window-features")}
    ended = {name: (process.wait(timeout=300), process.stderr.read()) for name, process in processes.items()}
    winners = [name for name, (code, _) in ended.items() if code == 0]
    assert len(winners) == 1, ended
    (loser,) = set(ended) - set(winners)
    code, err = ended[loser]
    assert code == 2 and err.count("\n") == 1, err
    assert "another lstmstate command is writing" in err or "already holds a run" in err
    assert list(json.loads((out / "results.json").read_text())["experiments"]) == winners
    assert not (out / loser).exists()


# ---- SIGTERM is handled as Ctrl-C -------------------------------------------------------------

def test_sigterm_keeps_finished_experiments_and_writes_the_report(tmp_path):
    out = tmp_path / "run"
    process = subprocess.Popen([*CLI, "suite", "--seeds", "2", "--epochs", "150", "--out", str(out), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (out / "results.json").exists():
        assert process.poll() is None and time.time() < deadline, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 143, stderr
    assert stderr.strip().startswith("interrupted: kept one-char") and stderr.strip().endswith("(by SIGTERM)")
    assert stderr.count("\n") <= 2 and "Traceback" not in stderr  # click writes a blank line first
    assert "one-char" in json.loads((out / "results.json").read_text())["experiments"]
    assert (out / "report.html").is_file() and (out / "one-char" / "weights.npz").is_file()
    assert not list(out.rglob("*.tmp"))


def test_a_sigterm_handled_inside_a_garbage_collector_callback_still_stops_the_command():
    # As found in CI: the suite ran to the end and exited 0 after a SIGTERM, whose KeyboardInterrupt was
    # raised inside JAX's garbage-collector callback and dropped there ("Exception ignored in ...").
    script = """
import os, signal, sys, time, typer
from lstmstate.output import exits

class Dropped:
    def __del__(self):  # where the interpreter drops what is raised: the handler runs here
        os.kill(os.getpid(), signal.SIGTERM)
        sum(range(1000))

app = typer.Typer()

@app.command()
def work():
    Dropped()
    for _ in range(100):
        time.sleep(0.02)
    print("ran to the end")

exits.run(typer.main.get_command(app))
"""
    finished = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert finished.returncode == 143, finished.stderr
    assert "ran to the end" not in finished.stdout
    assert finished.stderr.strip() == "interrupted (by SIGTERM): stopped before the command finished"


def test_generate_prints_as_it_goes_and_stops_on_sigterm(base_run):
    # As found: `generate --steps 10**9` collected everything first and printed nothing for 30 s.
    process = subprocess.Popen([*CLI, "generate", str(base_run), "--start", "K", "--steps", str(10 ** 9)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    lines, pending, deadline = [], b"", time.time() + 120
    while len(lines) < 4 and time.time() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            assert chunk, process.stderr.read()
            pending += chunk
            *complete, pending = pending.split(b"\n")
            lines += complete
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert len(lines) >= 4, lines  # a header and three steps, long before the last step
    assert lines[1].startswith(b"K -> ")
    assert process.returncode == 143
    assert stderr.decode().strip() == "interrupted (by SIGTERM): stopped before the command finished"


# ---- results that were wrong, silently -------------------------------------------------------

def _entry(per_seed, **extra) -> dict:
    from lstmstate.core import statistics
    return {"accuracy": statistics.accuracy_block(per_seed), "published_accuracy": 1.0, "section": "a section",
            "memoryless_ceiling": 0.5, **extra}


def test_one_seed_is_never_judged_by_its_zero_width_interval():
    generation = {"cold_expected_share": 0.0, "primed_expected_share": 1.0, "cold_predictions": {"B": 1},
                  "primed_predictions": {"L": 1}}
    one = {name: _entry([1.0]) for name in ("whole-batch", "one-char", "variable-length", "memory-stateful")}
    one |= {name: _entry([0.2]) for name in ("whole-batch-shuffled", "dense-only", "variable-length-masked",
                                             "memory-stateless")}
    one["stateful"] = _entry([1.0], generation=generation)
    # The claims decided by an interval over seeds (or a share of seeds), each with one seed.
    judged = [verdicts.whole_batch_context(one), verdicts.padding_harmless(one), verdicts.stateful_perfect(one),
              verdicts.cold_start(one), verdicts.memory_beats_ceiling(one), verdicts.published_figure("one-char",
                                                                                                   one["one-char"])]
    for verdict in judged:
        assert verdict["verdict"] == "inconclusive", verdict
        assert "one seed" in verdict["evidence"]
    # The same numbers from two seeds each are judged: the test could fail.
    two = {name: {**entry, "accuracy": _entry(entry["accuracy"]["per_seed"] * 2)["accuracy"]}
           for name, entry in one.items()}
    two["stateful"]["generation"] = {**generation, "cold_predictions": {"B": 2}, "primed_predictions": {"L": 2}}
    assert verdicts.whole_batch_context(two)["verdict"] == "supported"
    assert verdicts.stateful_perfect(two)["verdict"] == "supported"


def test_a_csv_column_named_twice_is_named_in_the_error(tmp_path):
    from lstmstate.owndata import dataset

    table = tmp_path / "table.csv"
    table.write_text("a,a,b\n1,2,3\n4,5,6\n")
    assert "header names column 'a' twice" in _one_line_error(lambda: dataset.read_numbers(table))
    assert "`columns` names column 'b' twice" in _one_line_error(lambda: dataset.read_numbers(table, "b,b"))
