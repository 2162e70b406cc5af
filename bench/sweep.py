"""Sweeps on Ray against the same sweep one configuration after another in one process.

    python bench/sweep.py                      # 12 configurations x 20 seeds
    python bench/sweep.py --seeds 5 --units 8  # a quick look

The 12 configurations are one-char, window-timesteps and stateful (published epochs) with 8, 16,
32 and 64 units. Both runs start from an empty compilation cache (a new folder each), so both
compile every program once. Printed: each run's wall-clock time, their ratio, the seconds spent
inside the tasks, and what Ray adds per task: the CPU time of the Ray run not spent inside a task
(workers starting and importing lstmstate, scheduling, results coming back, run folders written,
CPUs idle at the end), divided by the tasks, Ray's own start and stop measured apart and left
out; and the round trip of an empty Ray task, which is Ray's own floor.
"""

import argparse
import os
import tempfile
import time
from pathlib import Path

# Each run gets its own empty cache; this one is the in-process run's (read when lstmstate is imported).
os.environ["LSTMSTATE_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-sweep-cache-")

from lstmstate.sweep import cluster, execution, grid  # noqa: E402


def _nothing():
    return None


def empty_task_round_trip(count: int = 100) -> tuple[float, float, float]:
    """(seconds to start and stop a local Ray; seconds per empty task, one after another; seconds
    per task, ``count`` submitted at once)."""
    ray = cluster.ray_module()
    start = time.perf_counter()
    ray.init(address="local", num_cpus=cluster.local_cpus(), include_dashboard=False, log_to_driver=False)
    started = time.perf_counter() - start
    try:
        remote = ray.remote(num_cpus=cluster.TASK_CPUS)(_nothing)
        ray.get([remote.remote() for _ in range(cluster.local_cpus())])  # workers started before timing
        start = time.perf_counter()
        for _ in range(count):
            ray.get(remote.remote())
        one_by_one = (time.perf_counter() - start) / count
        start = time.perf_counter()
        ray.get([remote.remote() for _ in range(count)])
        together = (time.perf_counter() - start) / count
    finally:
        start = time.perf_counter()
        ray.shutdown()
    return started + time.perf_counter() - start, one_by_one, together


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--units", default="8,16,32,64")
    parser.add_argument("--experiments", default="one-char,window-timesteps,stateful")
    parser.add_argument("--out", type=Path, default=None, help="keep the two sweep folders here")
    arguments = parser.parse_args()
    out = arguments.out or Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    swept = grid.make(grid.TUTORIAL, {grid.EXPERIMENT: arguments.experiments, "units": arguments.units})
    configurations = len(swept.configurations())
    print(f"{configurations} configurations x {arguments.seeds} seeds; {cluster.local_cpus()} CPUs; "
          f"load average before: {os.getloadavg()[0]:.2f}")

    start = time.perf_counter()
    alone = execution.run(swept, arguments.seeds, out / "one-process", in_process=True)
    one_process = time.perf_counter() - start
    inside_one = sum(r["seconds"] for r in alone.records)
    print(f"one process, one configuration after another: {one_process:.1f} s "
          f"({inside_one:.1f} s inside the configurations)")

    os.environ["LSTMSTATE_CACHE_DIR"] = tempfile.mkdtemp(prefix="bench-sweep-cache-")  # the workers' own, empty
    start = time.perf_counter()
    on_ray = execution.run(swept, arguments.seeds, out / "ray")
    ray_seconds = time.perf_counter() - start
    cpus = on_ray.payload["cluster"]["cpus"]
    tasks = sum(len(r["tasks"]) for r in on_ray.records)
    inside_ray = sum(t["seconds"] for r in on_ray.records for t in r["tasks"])
    print(f"local Ray, {cpus} CPUs, a task per configuration: {ray_seconds:.1f} s "
          f"({inside_ray:.1f} s inside {tasks} tasks)")
    print(f"wall-clock ratio, one process / Ray: {one_process / ray_seconds:.2f}")
    start_stop, one_by_one, together = empty_task_round_trip()
    print(f"starting and stopping a local Ray: {start_stop:.1f} s")
    print(f"Ray's overhead per task (CPU time of the Ray run, start and stop left out, not spent inside a "
          f"task, over the tasks): {((ray_seconds - start_stop) * cpus - inside_ray) / tasks:.2f} s")
    print(f"an empty Ray task: {1000 * one_by_one:.1f} ms one after another, {1000 * together:.1f} ms each "
          f"when 100 are submitted at once")
    same = all(a["per_seed"] == b["per_seed"] for a, b in zip(alone.records, on_ray.records))
    print(f"same accuracies in both: {same}; load average after: {os.getloadavg()[0]:.2f}; folders in {out}")


if __name__ == "__main__":
    main()
