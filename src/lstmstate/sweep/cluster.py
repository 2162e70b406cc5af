"""The Ray cluster a sweep's tasks run on: started in this process on this machine's CPUs (the
default), or joined at an address (``auto``, or ``HOST:PORT`` of a ``ray start --head``).

Each task asks Ray for one CPU, and its worker runs XLA on one thread with one host device, so
a node runs as many tasks at once as it has CPUs and they do not fight over cores. lstmstate's
own default (``core.backend.use_every_core``: one JAX device per core, seeds split over them) is
right for a process that has the machine to itself; a worker shares it with the other workers.
Every worker gets the same settings, so a task gives the same numbers on any node.

Ray is an optional extra (``pip install -e '.[cluster]'``): without it, a sweep says so in one line.
"""

import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

from lstmstate.sweep import blocks, task

TASK_CPUS = 1  # CPUs Ray reserves for each task: one task per CPU of a node
# XLA reads XLA_FLAGS when JAX starts in the worker: one host device (core.backend keeps a
# device count the environment sets), and Eigen's matrix products on the task's own thread.
WORKER_ENVIRONMENT = {
    "KERAS_BACKEND": "jax",
    "XLA_FLAGS": "--xla_force_host_platform_device_count=1 --xla_cpu_multi_thread_eigen=false",
    "OMP_NUM_THREADS": "1",
}
# A task whose worker process dies (killed, out of memory, its node lost) is run again, from
# the start, elsewhere if need be; a task is pure, so the retry gives the same numbers. A
# ValueError is the configuration's own and comes back as a result, never retried.
RETRIES = 3
INSTALL = "pip install -e '.[cluster]' (or pip install 'ray[default]')"


def ray_module():
    """The ``ray`` package, or a one-line ``ValueError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ValueError(f"sweeps run on Ray, which is not installed: {INSTALL}") from None
    return ray


@dataclass(frozen=True)
class Cluster:
    """A connection to Ray and the remote task function."""

    ray: object  # the ray module
    train_block: object  # task.train_block as a Ray remote function
    description: dict  # for sweep.json: address asked for, nodes and CPUs

    def submit(self, block: blocks.Block, data_reference=None):
        return self.train_block.remote(block, data_reference)


@contextmanager
def _environment(variables: dict):
    """``variables`` set in this process's environment for the block, then restored."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def local_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


@contextmanager
def connected(address: str | None = None, cpus: int | None = None):
    """Ray for the block: a local instance started here with ``cpus`` CPUs (default: this
    machine's) when ``address`` is None, else the running cluster at ``address``. Disconnected
    (and a local instance stopped) afterwards."""
    ray = ray_module()
    if ray.is_initialized():  # a connection this process made earlier: start from a clean one
        ray.shutdown()
    settings = {"log_to_driver": False, "logging_level": logging.ERROR}
    try:
        if address is None:
            if cpus is not None and cpus < 1:
                raise ValueError(f"`cpus` must be at least 1, got {cpus}")
            # "local": a new instance, even when a cluster started with `ray start` runs here. Its
            # processes inherit this environment, so the workers' settings are put there while it
            # starts (this process's JAX has read its own already): workers Ray starts ahead of the
            # first task can then take it, where a runtime_env would need new ones (seconds each).
            with _environment(WORKER_ENVIRONMENT), warnings.catch_warnings():
                # JAX warns at any fork of a process it runs in; Ray forks only to exec its own
                # programs at once (subprocess), which runs no JAX in the copy.
                warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
                ray.init(address="local", num_cpus=cpus or local_cpus(), include_dashboard=False, **settings)
        else:
            # A cluster's nodes were started elsewhere, with their own environment: the job sets it.
            ray.init(address=address, runtime_env={"env_vars": WORKER_ENVIRONMENT}, **settings)
    except (ConnectionError, RuntimeError, TimeoutError) as error:
        ray.shutdown()
        where = "start Ray here" if address is None else f"join the Ray cluster at {address}"
        raise ValueError(f"cannot {where}: {str(error).strip().splitlines()[0] if str(error).strip() else error!r}"
                         + ("" if address is None else "; is `ray start --head` running there?")) from None
    try:
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        description = {"address": address or "local", "nodes": len(nodes),
                       "cpus": int(sum(node.get("Resources", {}).get("CPU", 0) for node in nodes)),
                       "task_cpus": TASK_CPUS}
        remote = ray.remote(num_cpus=TASK_CPUS, max_retries=RETRIES, retry_exceptions=False)(task.train_block)
        yield Cluster(ray, remote, description)
    finally:
        ray.shutdown()
