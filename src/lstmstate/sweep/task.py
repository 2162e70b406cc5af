"""A task: one block of one configuration's seeds, trained as one population (one compiled
program), in a Ray worker or in this process, and what it sends back.

A task is a pure function of its block (and, for the user's own data, of the data): the same
block gives the same numbers wherever and however often it runs, which is what lets Ray retry
a task whose worker died and lets a sweep be resumed.
"""

import os
import socket
import time
from dataclasses import dataclass, replace

from lstmstate.owndata import training
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.sweep import blocks
from lstmstate.sweep.blocks import Block
from lstmstate.sweep.grid import EXPERIMENT, TUTORIAL, Configuration
from lstmstate.tutorial import experiments as registry
from lstmstate.tutorial import suite
from lstmstate.tutorial.outcome import run_experiment
from lstmstate.owndata.plan import Plan, check_plan


@dataclass(frozen=True)
class Place:
    """Where a task ran: enough to tell the machines and processes of a cluster apart."""

    node: str  # Ray's node id, or "this process" when no Ray ran the task
    host: str  # the machine's host name
    address: str  # the node's IP address as Ray knows it ("" without Ray)
    pid: int  # the worker process

    def to_dict(self) -> dict:
        return {"node": self.node, "host": self.host, "address": self.address, "pid": self.pid}


@dataclass(frozen=True)
class BlockResult:
    """What a task sends back: the block's outcome, or the one line saying why it could not be trained."""

    block: Block
    outcome: object | None  # tutorial.outcome.Outcome or owndata.results.Result (its data left out); None on error
    error: str | None  # one line, for a configuration that fails for its own reason (a ValueError)
    seconds: float  # inside the task: building, compiling, training and scoring
    place: Place


def plan(configuration: Configuration, seeds: int) -> Plan:
    """The own-data plan of ``configuration`` over ``seeds`` seeds (Plan checks every value)."""
    return Plan(**configuration.values, seeds=seeds)


def overrides(configuration: Configuration) -> dict:
    """The tutorial configuration's overrides of the published settings (epochs, units, streams)."""
    return {name: value for name, value in configuration.parameters if name != EXPERIMENT}


def check(configuration: Configuration, seeds: int, data: Symbols | Numbers | None = None,
          block_size: int | None = None) -> None:
    """A ``ValueError`` now, before any task, when ``configuration`` cannot be trained: a value out
    of range, an option that does not apply to its experiment or framing, a size this machine
    cannot hold. It is that configuration's own failure; the others still run.

    A tutorial configuration is checked as its tasks train it: blocks of ``block_size`` seeds
    (None: all of them in one), each padded to whole vector groups (``blocks.padded_count``)."""
    if configuration.kind != TUTORIAL:
        check_plan(data, plan(configuration, seeds))
        return
    block = min(seeds, block_size or seeds)
    if _fits(configuration, block):
        return
    most = largest_block(configuration, block)
    if most == 0:
        # Not even one group: one seed alone may be too many already (the units, the streams, the
        # epochs: suite.check's own line), else the group's padding is.
        suite.check([configuration.values[EXPERIMENT]], 1, **overrides(configuration))
        raise ValueError(f"a task trains seeds in groups of {blocks.SEED_LANES} (so that a seed's numbers do not "
                         f"depend on its task, sweep/blocks.py), and {blocks.SEED_LANES} seeds of this configuration "
                         "need more memory than this machine has: fewer `units`")
    if block_size is None:
        raise ValueError(f"`seeds` {seeds} trained in one task need more memory than this machine has: "
                         f"`block_size` {most} or smaller splits them into tasks that fit")
    raise ValueError(f"`block_size` {block_size} is too large for this machine: a task of {_seeds(block)} needs "
                     f"more memory than it has; `block_size` {most} or smaller fits")


def check_block_size(configurations: list[Configuration], seeds: int, block_size: int) -> None:
    """A one-line ``ValueError`` naming the largest --block-size that fits every configuration
    whose tasks of ``block_size`` seeds this machine cannot hold, before any work: the option is
    the whole sweep's. A configuration that cannot train even one seed is its own failure (``check``)."""
    block = min(seeds, block_size)
    limits = {c.label: largest_block(c, block) for c in configurations if not _fits(c, block)}
    smaller = {label: most for label, most in limits.items() if most > 0}
    if smaller:
        label = min(smaller, key=smaller.get)
        raise ValueError(f"`block_size` {block_size} is too large for this machine: a task of {_seeds(block)} of "
                         f"{label} needs more memory than it has; `block_size` {smaller[label]} or smaller fits "
                         "every configuration")


def largest_block(configuration: Configuration, seeds: int) -> int:
    """The most of ``configuration``'s ``seeds`` one task can train on this machine (0: not one)."""
    low, high = 0, seeds  # _fits grows false with the count: the largest that fits, by halving
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _fits(configuration, middle) else (low, middle - 1)
    return low


def _check_task(configuration: Configuration, count: int) -> None:
    """``suite.check`` of a task of ``count`` seeds as it is trained: padded (blocks.py)."""
    suite.check([configuration.values[EXPERIMENT]], blocks.padded_count(count), **overrides(configuration))


def _seeds(count: int) -> str:
    trained = blocks.padded_count(count)
    padding = "" if trained == count else f" (trained as {trained}: whole groups of {blocks.SEED_LANES})"
    return f"{count} seeds{padding}"


def _fits(configuration: Configuration, count: int) -> bool:
    try:
        _check_task(configuration, count)
    except ValueError:
        return False
    return True


def train_block(block: Block, data: Symbols | Numbers | None = None) -> BlockResult:
    """Train ``block``: its seeds as one population. The own data's outcome comes back without
    its data (the caller holds it), so a task sends back weights and scores, not the sequence."""
    start = time.perf_counter()
    configuration = block.configuration
    try:
        if configuration.kind == TUTORIAL:
            experiment = registry.get(configuration.values[EXPERIMENT])
            # Padded to whole vector groups, so a seed's numbers do not depend on its block (blocks.py).
            padded = run_experiment(experiment, block.padded, **overrides(configuration))
            outcome = blocks.first(padded, len(block.seeds))
        else:
            if block.seeds != tuple(range(len(block.seeds))):
                raise ValueError("own-data training trains seeds 0..N-1 in one task (training.train); "
                                 "it cannot be split into seed blocks")
            outcome = replace(training.train(data, plan(configuration, len(block.seeds))), data=None)
    except ValueError as error:
        return BlockResult(block, None, _one_line(error), time.perf_counter() - start, here())
    return BlockResult(block, outcome, None, time.perf_counter() - start, here())


def here() -> Place:
    """This process's place: its Ray node when a Ray worker runs it."""
    node, address = "this process", ""
    try:
        import ray
        if ray.is_initialized():
            node, address = ray.get_runtime_context().get_node_id(), ray.util.get_node_ip_address()
    except ImportError:  # a sweep in this process needs no Ray
        pass
    return Place(node, socket.gethostname(), address, os.getpid())


def _one_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__
