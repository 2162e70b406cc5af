"""The Ray cluster a sweep's tasks run on: started in this process on this machine's CPUs (the
default), or joined at an address (``auto``, or ``HOST:PORT`` of a ``ray start --head``).

Each task asks Ray for one CPU, and its worker runs XLA on one thread with one host device, so
a node runs as many tasks at once as it has CPUs and they do not fight over cores. lstmstate's
own default (``core.backend.use_every_core``: one JAX device per core, seeds split over them) is
right for a process that has the machine to itself; a worker shares it with the other workers.
Every worker gets the same settings, so a task gives the same numbers on any node.

An address is checked before any work (``check_address``): it parses, its host resolves and a
gRPC server answers at its port, each in a few seconds, where Ray would retry for minutes.

Ray is an optional extra (``pip install -e '.[cluster]'``): without it, a sweep says so in one line.
"""

import logging
import os
import signal
import socket
import threading
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
# --address, checked before any work (check_address). Ray checks none of it in a bounded time: given
# nosuchhost:6379 or a port nothing listens on, ray.init retries for minutes (Ray 2.60: no answer in
# 120 s, measured) printing three lines of its logs to stderr each 35 s; ":" prints a traceback.
AUTO = "auto"  # Ray finds the cluster itself: RAY_ADDRESS, or the one `ray start` started on this machine
ACCEPTED = "give auto, or HOST:PORT of a running `ray start --head` (or leave --address out to start Ray here)"
SECONDS = 3.0  # for the host's name to resolve, and again for the port to answer: a cluster answers in far less
# A Ray head's port is its GCS, a gRPC server: to a client's HTTP/2 preface and empty SETTINGS frame
# it answers with a SETTINGS frame at once (RFC 9113, 3.4), where a web server answers in HTTP/1 and
# another service waits. Ray given such a port retries for minutes, as for one where nothing listens.
HTTP2_HELLO = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
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
    kept = _stop_handlers()
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
    except (ConnectionError, RuntimeError, TimeoutError, ValueError) as error:  # ValueError: an address Ray refuses
        ray.shutdown()
        _restore(kept)
        where = "start Ray here" if address is None else f"join the Ray cluster at --address {address}"
        raise ValueError(f"cannot {where}: {str(error).strip().splitlines()[0] if str(error).strip() else error!r}"
                         + ("" if address is None else f"; {ACCEPTED}")) from None
    _restore(kept)
    try:
        nodes = [node for node in ray.nodes() if node.get("Alive")]
        description = {"address": address or "local", "nodes": len(nodes),
                       "cpus": int(sum(node.get("Resources", {}).get("CPU", 0) for node in nodes)),
                       "task_cpus": TASK_CPUS}
        remote = ray.remote(num_cpus=TASK_CPUS, max_retries=RETRIES, retry_exceptions=False)(task.train_block)
        yield Cluster(ray, remote, description)
    finally:
        ray.shutdown()
        _restore(kept)


def _stop_handlers() -> dict:
    """This process's handlers of SIGINT and SIGTERM, to be put back once ``ray.init`` has run.

    ``ray.init`` replaces both: SIGTERM with ``sys.exit(15)`` (ray/_private/worker.py), and its
    core worker then installs its C++ failure handler for it, which printed six lines of "SIGTERM
    received" and aborted (exit -6), leaving the sweep folder locked and its page unwritten. The
    command line's own handlers (output.exits) turn a stop into Ctrl-C, which keeps what finished.
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread sets handlers
        return {}
    return {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}


def _restore(kept: dict) -> None:
    for number, handler in kept.items():
        if handler is not None:  # None: a handler set outside Python, which Python cannot put back
            signal.signal(number, handler)


def check_address(address: str) -> str:
    """``address`` as Ray is given it, or a one-line ``ValueError`` naming --address, what was
    wrong and what is accepted: an address that does not parse, a port outside 1..65535, a host
    that does not resolve, a port where nothing answers, or where what answers is not Ray."""
    given = address.strip()
    if given == AUTO:
        return given
    host, port = _parsed(given)
    found = _resolved(host, port)
    if isinstance(found, str):
        raise ValueError(f"`address` {given}: the host {host!r} does not resolve ({found}); {ACCEPTED}")
    try:
        with socket.create_connection(found[:2], timeout=SECONDS) as connection:
            if os.environ.get("RAY_USE_TLS", "0").lower() not in ("0", "false"):
                return given  # a TLS port answers only a TLS hello: Ray's own connection tells
            connection.sendall(HTTP2_HELLO)
            answer = connection.recv(9)
    except TimeoutError:
        raise ValueError(f"`address` {given}: nothing answered at port {port} within {SECONDS:g} s; "
                         f"{ACCEPTED}") from None
    except OSError as error:
        raise ValueError(f"`address` {given}: nothing answers there ({error.strerror or error}); "
                         f"{ACCEPTED}") from None
    if answer[3:4] != b"\x04":  # the fourth byte of an HTTP/2 frame's header is its type; 4 is SETTINGS
        raise ValueError(f"`address` {given}: what answers at port {port} is not a Ray cluster (a Ray head's "
                         f"port speaks gRPC); {ACCEPTED}")
    return given


def _parsed(given: str) -> tuple[str, int]:
    """``given`` as (host, port): HOST:PORT, or [IPV6]:PORT."""
    if not given:
        raise ValueError(f"`address` is empty; {ACCEPTED}")
    host, colon, port = given.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not colon or not host or any(character.isspace() for character in given) or "/" in given:
        raise ValueError(f"`address` {given!r} is not an address; {ACCEPTED}")
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"`address` {given}: the port must be a number from 1 to 65535, got {port!r}; {ACCEPTED}")
    return host, int(port)


def _resolved(host: str, port: int) -> tuple | str:
    """The first socket address of ``host``, or why it did not resolve. A resolver that does not
    answer would hold the command as long as it likes: the look-up runs aside, waited on for SECONDS."""
    found = {}

    def look_up() -> None:
        try:
            found["address"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][4]
        except (OSError, UnicodeError) as error:  # gaierror is an OSError; an over-long name, a UnicodeError
            found["error"] = getattr(error, "strerror", None) or str(error) or type(error).__name__
    worker = threading.Thread(target=look_up, daemon=True)
    worker.start()
    worker.join(SECONDS)
    if worker.is_alive():
        return f"no answer from the resolver within {SECONDS:g} s"
    return found.get("address") or found.get("error", "no address")
