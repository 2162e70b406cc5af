"""Sweeps on Ray, run as a user runs them: a tiny grid in local mode, the same grid on a two-node
cluster on 127.0.0.1 and with a worker process killed under it (the same numbers each time,
bit for bit), a sweep resumed, seed blocks, and bad grids refused in one line."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import run_cli

# one-char with streams fails for its own reason (streams are for stateful experiments): it must
# be reported and must not stop the three others.
GRID = ["--experiments", "one-char,stateful", "--streams", "none,2", "--epochs", "3"]
SEEDS = 2
CLI = [sys.executable, "-c", "from lstmstate.cli import main; main()"]


def _grid():
    from lstmstate.sweep import grid

    given = grid.split_arguments(GRID[2:])
    given[grid.EXPERIMENT] = GRID[1]
    return grid.make(grid.TUTORIAL, given)


def _weights(folder: Path) -> dict[str, list[np.ndarray]]:
    """Every finished configuration's weights, by name: what must not change between runs."""
    sweep = json.loads((folder / "sweep.json").read_text())
    found = {}
    for record in sweep["configurations"]:
        if record["status"] == "done":
            (path,) = (folder / record["name"]).glob("*/weights.npz")
            with np.load(path) as arrays:
                found[record["name"]] = [arrays[key] for key in sorted(arrays)]
    return found


def _assert_same_numbers(folder: Path, reference: Path, configurations: int = 3) -> None:
    """Every configuration finished in ``folder`` has the weights and scores it has in ``reference``, bit for bit."""
    ours, theirs = _weights(folder), _weights(reference)
    assert len(ours) == configurations and ours.keys() <= theirs.keys()
    for name in ours:
        for mine, other in zip(ours[name], theirs[name], strict=True):
            np.testing.assert_array_equal(mine, other, err_msg=name)
    def scores(where: Path) -> dict:
        return {r["name"]: r.get("per_seed") for r in json.loads((where / "sweep.json").read_text())["configurations"]}

    assert all(scores(folder)[name] == scores(reference)[name] for name in ours)


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """The grid swept with Ray started in this process on 2 CPUs, a task for each configuration."""
    pytest.importorskip("ray")
    from lstmstate.sweep import execution

    folder = tmp_path_factory.mktemp("sweep") / "local"
    result = execution.run(_grid(), SEEDS, folder, cpus=2)
    return result


def test_a_local_sweep_trains_every_configuration_and_reports_the_one_that_fails(local_sweep):
    from lstmstate.trained import saved

    records = {r["label"]: r for r in local_sweep.records}
    assert len(records) == 4 and local_sweep.trained == 3
    failed = records["experiment=one-char streams=2 epochs=3"]
    assert failed["status"] == "failed" and "streams apply to stateful experiments only" in failed["error"]
    assert "\n" not in failed["error"]
    for label, record in records.items():
        if record is failed:
            continue
        assert record["status"] == "done" and record["seeds"] == [0, 1] and len(record["per_seed"]) == 2
        low, high = record["ci95"]
        assert low <= record["mean"] <= high
        assert all(task["node"] != "this process" and task["pid"] != os.getpid() for task in record["tasks"])
        assert [task["seeds"] for task in record["tasks"]] == [[0, 1]]  # one task: seeds 0 to 1
        run = saved.load(local_sweep.folder / record["name"], None)  # a run folder as `run --out` writes
        assert run.seeds == (0, 1)
    assert local_sweep.ranked[-1] is failed
    page = (local_sweep.folder / "sweep.html").read_text()
    assert "data:image/png;base64," in page and "streams apply to stateful" in page
    assert (local_sweep.folder / "sweep.png").stat().st_size > 1000


def test_a_seed_does_not_depend_on_its_block():
    # In a worker's setting (one JAX device, as cluster.WORKER_ENVIRONMENT makes it): the whole
    # population of 5 seeds, blocks of 2, and blocks of 1 give the same numbers, bit for bit.
    from lstmstate.sweep.cluster import WORKER_ENVIRONMENT

    script = textwrap.dedent("""
        import numpy as np
        from lstmstate.sweep import blocks, grid, task
        # Two streams: batches of two rows, where a seed in a partial vector group would round differently.
        (configuration,) = grid.make(grid.TUTORIAL, {"experiment": "stateful", "epochs": "3", "units": "8",
                                                     "streams": "2"}).configurations()
        def trained(size):
            return blocks.merge([task.train_block(b) for b in blocks.split(configuration, 5, size)])
        whole = trained(None)
        for size in (2,):  # blocks [0 1] [2 3] [4]: seeds move, a block of one
            part = trained(size)
            assert part.population.seeds == whole.population.seeds == (0, 1, 2, 3, 4)
            for a, b in zip(whole.population.weights, part.population.weights):
                np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(whole.population.loss, part.population.loss)
            np.testing.assert_array_equal(whole.evaluation.accuracy, part.evaluation.accuracy)
            assert whole.generation == part.generation  # made over the merged population's median seed
        assert not np.array_equal(whole.population.weights[0][0], whole.population.weights[0][1])
        print("same")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                            env={**os.environ, **WORKER_ENVIRONMENT})
    assert result.returncode == 0 and "same" in result.stdout, result.stderr[-2000:]


def test_the_same_command_again_reads_finished_configurations_back(local_sweep, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "again"
    shutil.copytree(local_sweep.folder, folder)
    names = [r["name"] for r in local_sweep.records if r["status"] == "done"]
    before = {name: next((folder / name).glob("*/weights.npz")).stat().st_mtime_ns for name in names}
    code, out, err = run_cli(monkeypatch, capsys, "sweep", *GRID, "--seeds", SEEDS, "--out", folder, "--quiet")
    assert code == 0, err
    assert "0 configuration(s) trained, 3 read back" in out
    assert {name: next((folder / name).glob("*/weights.npz")).stat().st_mtime_ns for name in names} == before
    # A sweep stopped after a run folder was written but before its record: that one is trained again.
    from lstmstate.sweep import execution

    sweep = json.loads((folder / "sweep.json").read_text())
    dropped = sweep["configurations"].pop(0)
    (folder / "sweep.json").write_text(json.dumps(sweep))
    result = execution.run(_grid(), SEEDS, folder, in_process=True)
    assert (result.trained, result.resumed) == (1, 2)
    again = {r["name"]: r for r in result.records}[dropped["name"]]
    assert again["per_seed"] == dropped["per_seed"]


@pytest.fixture
def two_node_cluster():
    """A head and a second node on 127.0.0.1, one CPU each, each with its own temp dir.

    Ray 2.59+ turns token authentication on for a cluster on one machine, so every command of
    it (and the driver) is told the same RAY_AUTH_MODE."""
    pytest.importorskip("ray")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Ray's command line from this interpreter, not whichever `ray` is on PATH (none, when the
    # environment is used without being activated); its nodes find their tools beside it too.
    ray = [sys.executable, "-m", "ray.scripts.scripts"]
    environment = {**os.environ, "RAY_AUTH_MODE": "token",
                   "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    temporary = [tempfile.mkdtemp(prefix="lsr", dir="/tmp") for _ in range(2)]  # short: socket paths are limited
    common = ["--num-cpus", "1", "--node-ip-address", "127.0.0.1", "--disable-usage-stats"]
    commands = [[*ray, "start", "--head", "--port", str(port), "--include-dashboard=false",
                 "--temp-dir", temporary[0], *common],
                [*ray, "start", "--address", f"127.0.0.1:{port}", "--temp-dir", temporary[1], *common]]
    previous = os.environ.get("RAY_AUTH_MODE")
    try:
        for command in commands:
            started = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=120)
            assert started.returncode == 0, started.stderr[-2000:]
        os.environ["RAY_AUTH_MODE"] = "token"
        yield f"127.0.0.1:{port}"
    finally:
        # `ray stop` ends this user's Ray processes on this machine: the two nodes started above
        # (the local-mode instances of the other tests stopped with their sweeps).
        subprocess.run([*ray, "stop"], capture_output=True, env=environment, timeout=120)
        if previous is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = previous
        for folder in temporary:
            shutil.rmtree(folder, ignore_errors=True)


def test_a_two_node_cluster_gives_the_numbers_of_local_mode(local_sweep, two_node_cluster, tmp_path):
    from lstmstate.sweep import execution

    result = execution.run(_grid(), SEEDS, tmp_path / "cluster", address=two_node_cluster)
    assert result.payload["cluster"]["nodes"] == 2 and result.payload["cluster"]["cpus"] == 2
    nodes = {task["node"] for record in result.records for task in record["tasks"]}
    assert len(nodes) == 2  # both nodes trained some of it
    _assert_same_numbers(tmp_path / "cluster", local_sweep.folder)


def _descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (read from /proc: Ray's workers are its raylet's children)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_a_worker_killed_during_a_task_is_retried_with_the_same_numbers(local_sweep, tmp_path):
    pytest.importorskip("ray")
    folder = tmp_path / "killed"
    environment = {key: value for key, value in os.environ.items() if key != "RAY_AUTH_MODE"}
    # One configuration of the grid, in two tasks (a seed each): one is killed, both must finish,
    # with the numbers local mode gave for the two seeds trained together.
    sweep = subprocess.Popen([*CLI, "sweep", "--experiments", "stateful", "--streams", "none", "--epochs", "3",
                              "--seeds", str(SEEDS), "--block-size", "1", "--out", str(folder), "--quiet"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**environment, "COLUMNS": "200"})
    killed = None
    deadline = time.monotonic() + 240
    try:
        while killed is None and sweep.poll() is None and time.monotonic() < deadline:
            # A Ray worker running a task is titled ray::train_block (an idle one ray::IDLE).
            running = [pid for pid in _descendants(sweep.pid) if _command_line(pid).startswith("ray::train_block")]
            if running:
                os.kill(running[0], signal.SIGKILL)
                killed = running[0]
            time.sleep(0.05)
        out, err = sweep.communicate(timeout=300)
    finally:
        if sweep.poll() is None:
            sweep.kill()
    assert killed is not None, "no worker was seen running a task"
    assert sweep.returncode == 0, err[-2000:]
    assert "1 configuration(s) trained" in out and "0 failed" in out
    (record,) = json.loads((folder / "sweep.json").read_text())["configurations"]
    assert [task["seeds"] for task in record["tasks"]] == [[0, 0], [1, 1]]
    assert killed not in {task["pid"] for task in record["tasks"]}  # the killed task was finished by another worker
    _assert_same_numbers(folder, local_sweep.folder, configurations=1)


def test_own_data_sweeps_the_plan_and_writes_run_folders(tmp_path):
    from lstmstate.sweep import execution, grid
    from lstmstate.trained import saved

    data = tmp_path / "text.txt"
    data.write_text("abcdefgh" * 30)
    # --horizon is for numbers: on text that configuration fails alone.
    swept = grid.make(grid.OWN_DATA, {"framing": "one-step,stateful", "units": "4", "epochs": "2",
                                      "horizon": "1,2"})
    # In this process: Ray's part is the same as for the tutorial's experiments (tested above).
    result = execution.run(swept, 2, tmp_path / "sweep", {"path": data}, in_process=True)
    records = {r["label"]: r for r in result.records}
    assert len(records) == 4 and result.trained == 2
    for label, record in records.items():
        if "horizon=2" in label:
            assert record["status"] == "failed" and "for numbers" in record["error"]
        else:
            assert record["status"] == "done" and record["metric"] == "accuracy" and len(record["per_seed"]) == 2
            run = saved.load(tmp_path / "sweep" / record["name"], None)
            assert run.name == record["parameters"]["framing"]
    assert result.payload["request"]["data"]["path"] == str(data)


@pytest.mark.parametrize("arguments, words", [
    (["--experiments", "one-char", "--hidden", "3"], "unknown parameter --hidden"),
    (["--experiments", "one-char", "--units", ","], "--units in the command line has no values"),
    (["--experiments", "one-char", "--units", "16,abc"], "--units: 'abc' is not a whole number"),
    (["--experiments", "one-char,nope"], "unknown experiment 'nope'"),
    (["--experiments", "one-char", "--framing", "stateful"], "it is an option of your own data"),
    (["--units", "16"], "needs --experiments"),
    (["--experiments", "one-char", "--grid", "GRID"], "units: '16' is not a whole number"),
    (["--experiments", "one-char", "--grid", "EMPTY"], "units in --grid has no values"),
])
def test_a_bad_grid_is_refused_in_one_line(arguments, words, tmp_path, monkeypatch, capsys):
    (tmp_path / "grid.toml").write_text('units = ["16"]\n')
    (tmp_path / "empty.toml").write_text("units = []\n")
    arguments = [str(tmp_path / "grid.toml") if a == "GRID" else str(tmp_path / "empty.toml") if a == "EMPTY" else a
                 for a in arguments]
    code, out, err = run_cli(monkeypatch, capsys, "sweep", *arguments, "--out", tmp_path / "out")
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1 and words in err, err
    assert not (tmp_path / "out").exists()  # refused before anything was made


def test_without_ray_the_sweep_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` now fails as if it were not installed
    code, out, err = run_cli(monkeypatch, capsys, "sweep", "--experiments", "one-char", "--out", tmp_path / "out")
    assert code == 2 and err.count("\n") == 1
    assert "pip install -e '.[cluster]'" in err
