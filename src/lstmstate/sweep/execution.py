"""A sweep's execution: every configuration of a grid checked, its seed blocks sent to Ray as
tasks, collected as they finish, and each configuration written the moment its last block is in.

::

    grid -> configurations -> read back (finished before: not trained again)
                           -> check     (a configuration's own mistake: its record says why)
                           -> blocks -> Ray tasks, as many at once as the cluster has CPUs
                                     -> as each finishes: merge -> run folder -> sweep.json
    at the end (or at Ctrl-C, over what finished):      -> sweep.html, sweep.png

Ctrl-C (or SIGTERM, which the command line turns into it) keeps every configuration that
finished; the same command again goes on from there.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from lstmstate.core import budget
from lstmstate.owndata import dataset
from lstmstate.storage import runfolder
from lstmstate.sweep import blocks, cluster, folder, page, task
from lstmstate.sweep.grid import OWN_DATA, TUTORIAL, Grid

# on_progress(seeds done, seeds in all, configurations done, configurations in all)
OnProgress = Callable[[int, int, int, int], None]
DATA_OPTIONS = ("path", "tokens", "columns", "target", "time_column", "fill")  # how --data is read; not swept


@dataclass(frozen=True)
class Sweep:
    """A finished (or resumed) sweep."""

    folder: Path  # the sweep folder
    payload: dict  # sweep.json as written
    trained: int  # configurations trained by this call
    resumed: int  # configurations read back from an earlier call
    seconds: float  # wall-clock time of this call

    @property
    def records(self) -> list[dict]:
        return self.payload["configurations"]

    @property
    def ranked(self) -> list[dict]:
        return folder.ranked(self.records)


def run(grid: Grid, seeds: int, out: Path, data_options: dict | None = None, address: str | None = None,
        cpus: int | None = None, block_size: int | None = None, in_process: bool = False,
        on_progress: OnProgress | None = None) -> Sweep:
    """Sweep ``grid`` over seeds ``0..seeds-1`` into the folder ``out``. ``address`` joins a Ray
    cluster (None: start one here on ``cpus`` CPUs); ``in_process`` trains the blocks one after
    another in this process, without Ray (the benchmark's reference)."""
    start = time.perf_counter()
    if seeds < 1:
        raise ValueError(f"`seeds` must be at least 1, got {seeds}")
    if seeds > budget.MAX_SEEDS:  # before the seeds are split into blocks: 10**9 of them would be listed first
        raise ValueError(f"`seeds` {seeds} is more than lstmstate trains at once: use `seeds` {budget.MAX_SEEDS} "
                         "or fewer")
    if not in_process:
        cluster.ray_module()  # without Ray, say how to install it before anything else is done
        if address is not None:
            address = cluster.check_address(address)  # seconds here, where Ray would retry for minutes
    if (grid.kind == OWN_DATA) != (data_options is not None):
        raise ValueError("a sweep is either of the tutorial's experiments (`experiments`) or of your own data (`data`)")
    data = None
    if data_options is not None:
        unknown = set(data_options) - set(DATA_OPTIONS)
        if unknown:
            raise ValueError(f"unknown data options: {', '.join(sorted(unknown))}")
        options = {name: data_options.get(name) for name in DATA_OPTIONS}
        data = dataset.read(Path(options["path"]), *(options[name] for name in DATA_OPTIONS[1:]))
        data_options = {**options, "path": str(options["path"])}
    configurations = grid.configurations()
    plans = {c.name: blocks.split(c, seeds, block_size) for c in configurations}  # --block-size checked here
    if block_size is not None and grid.kind == TUTORIAL:
        task.check_block_size(configurations, seeds, block_size)  # against the budget, before the folder is made
    asked = folder.request(grid, seeds, data, data_options or {})
    where = folder.prepare(out)
    try:
        earlier = folder.read_back(where, asked)
        records = {}
        waiting = []  # blocks to train, in grid order
        for configuration in configurations:
            if configuration.name in earlier:
                records[configuration.name] = earlier[configuration.name]
                continue
            try:
                task.check(configuration, seeds, data, block_size)
            except ValueError as error:
                records[configuration.name] = folder.failed(configuration, str(error).splitlines()[0])
                continue
            waiting += plans[configuration.name]
        resumed = len(earlier.keys() & {c.name for c in configurations})
        collector = _Collector(where, grid, configurations, records, asked, data, seeds, on_progress)
        collector.report_progress()
        try:
            if waiting and in_process:
                collector.cluster = {"address": "this process (no Ray)", "nodes": 1, "cpus": 1, "task_cpus": None}
                for block in waiting:
                    collector.take(task.train_block(block, data))
            elif waiting:
                with cluster.connected(address, cpus) as ray_cluster:
                    collector.cluster = ray_cluster.description
                    _run_on(ray_cluster, waiting, data, collector)
            collector.write()
        except KeyboardInterrupt:
            collector.write()
            raise runfolder.Interrupted(f"interrupted: kept {collector.kept()} of {len(configurations)} configurations "
                                        f"in {where}; run the same command again to go on from there") from None
        except OSError as error:  # the disk (full, read-only, gone): sweep.json is as last written, whole
            where_exactly = f" ({error.filename})" if error.filename else ""
            raise ValueError(f"cannot write in `out` {where}: {error.strerror or error}{where_exactly}; kept "
                             f"{collector.kept(written=True)} of {len(configurations)} configurations there; make room "
                             "and run the same command again to go on from there") from None
        return Sweep(where, collector.payload(), collector.trained, resumed, time.perf_counter() - start)
    finally:
        runfolder.unlock(where)


def _run_on(ray_cluster: cluster.Cluster, waiting: list, data, collector: "_Collector") -> None:
    """Submit every block at once (Ray queues what the CPUs cannot take yet) and take each result
    as it comes; a task that failed in Ray itself (retries used up) fails its configuration only."""
    ray = ray_cluster.ray
    reference = ray.put(data) if data is not None else None  # sent to each node once, not once per task
    pending = {ray_cluster.submit(block, reference): block for block in waiting}
    try:
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                block = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as error:
                    line = str(error).strip().splitlines()
                    result = task.BlockResult(block, None, f"the task failed in Ray: {line[0] if line else error!r}",
                                              0.0, task.Place("unknown", "", "", 0))
                collector.take(result)
    finally:
        for ref in pending:  # stopped (Ctrl-C): the tasks still queued or running are not wanted
            ray.cancel(ref, force=True)


class _Collector:
    """The blocks' results gathered into configurations; each written as its last block comes in."""

    def __init__(self, where: Path, grid: Grid, configurations, records: dict, asked: dict, data, seeds: int,
                 on_progress: OnProgress | None):
        self.where, self.grid, self.configurations = where, grid, configurations
        self.records, self.asked, self.data, self.seeds = records, asked, data, seeds
        self.on_progress = on_progress
        self.results: dict[str, list] = {}
        self.cluster = {"address": None, "nodes": 0, "cpus": 0, "task_cpus": cluster.TASK_CPUS}
        self.trained = 0
        self.written = dict(records)  # the records sweep.json holds: those read back (and refused) so far
        self.seeds_done = sum(seeds for c in configurations if c.name in records)

    def take(self, result: task.BlockResult) -> None:
        configuration = result.block.configuration
        self.seeds_done += len(result.block.seeds)
        if configuration.name in self.records:  # an earlier block of it failed: it is decided
            self.report_progress()
            return
        results = self.results.setdefault(configuration.name, [])
        results.append(result)
        if result.error is not None:
            self.records[configuration.name] = folder.record(configuration, results, error=result.error)
        elif len(results) == result.block.blocks:
            outcome = blocks.merge(results)
            if self.data is not None:
                outcome = replace(outcome, data=self.data)  # the task sent it back without the data
            folder.write_run_folder(self.where, configuration, outcome)
            self.records[configuration.name] = folder.record(configuration, results, outcome)
            self.trained += 1
        else:
            self.report_progress()
            return
        folder.write(self.where, self.payload())  # after the run folder: a record points to a whole one
        self.written = dict(self.records)
        self.report_progress()

    def kept(self, written: bool = False) -> int:
        """The configurations finished; ``written``: those sweep.json holds as last written."""
        records = self.written if written else self.records
        return sum(1 for record in records.values() if record["status"] == folder.DONE)

    def payload(self) -> dict:
        ordered = [self.records[c.name] for c in self.configurations if c.name in self.records]
        return folder.payload(self.asked, self.grid, ordered, self.cluster)

    def write(self) -> None:
        """sweep.json and the report page over every configuration decided so far."""
        sweep = self.payload()
        folder.write(self.where, sweep)
        self.written = dict(self.records)
        page.write(self.where, sweep)

    def report_progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.seeds_done, self.seeds * len(self.configurations),
                             len(self.records), len(self.configurations))
