"""Seed blocks: a configuration's population split into blocks of seeds, one task each, and the
blocks' outcomes put back together in seed order.

::

    seeds 0..9, --block-size 4:   [0 1 2 3] [4 5 6 7] [8 9]      three tasks, anywhere
    merged:                       0 1 2 3 4 5 6 7 8 9            one outcome, as if trained at once

A seed's numbers do not depend on its block: every seed's training is its own pure function of
its seed (the engine vmaps it, with no exchange between seeds), so seed 5 trains to the same
weights in [4 5 6 7] as in 0..9, bit for bit (``tests/test_sweep.py``). One thing had to be made
so: XLA's CPU code runs the vmapped seed axis SEED_LANES float32 values at a time (one 256-bit
vector), and seeds left over in a last, partial group take the loop's remainder code, whose
rounding differs in the last bit (up to 1.5e-8 in a weight, measured on batches of 2 and 25 rows;
batches of one row were equal anyway). So a task trains its block padded to a multiple of
SEED_LANES (the last seed repeated; the copies dropped), and every seed is computed in a full group.
"""

from dataclasses import dataclass

import numpy as np

from lstmstate.core.population import Evaluation, Population
from lstmstate.sweep.grid import TUTORIAL, Configuration
from lstmstate.tutorial import outcome as tutorial_outcome

SEED_LANES = 8  # float32 values in one 256-bit vector: XLA's CPU loops over the seed axis this many at a time


@dataclass(frozen=True)
class Block:
    """Some of a configuration's seeds, trained together in one task."""

    configuration: Configuration
    seeds: tuple[int, ...]  # the integer seeds of this block, ascending
    index: int  # the block's place among its configuration's blocks, from 0
    blocks: int  # how many blocks the configuration has

    @property
    def padded(self) -> tuple[int, ...]:
        """The seeds a task trains: the block's, the last repeated up to a multiple of SEED_LANES."""
        return self.seeds + self.seeds[-1:] * (padded_count(len(self.seeds)) - len(self.seeds))


def padded_count(count: int) -> int:
    """How many seeds a task of ``count`` seeds trains: a multiple of SEED_LANES (at least one group)."""
    return count + (-count % SEED_LANES) if count else SEED_LANES


def split(configuration: Configuration, seeds: int, block_size: int | None = None) -> list[Block]:
    """``configuration``'s seeds ``0..seeds-1`` in blocks of at most ``block_size`` (None: one block).
    The own data trains in one block (``owndata.training.train`` trains seeds 0..N-1 together)."""
    if block_size is not None and block_size < 1:
        raise ValueError(f"`block_size` must be at least 1, got {block_size}")
    if block_size is not None and configuration.kind != TUTORIAL:
        raise ValueError("`block_size` splits the tutorial's experiments; your own data trains its seeds "
                         "0..N-1 in one task (owndata.training.train)")
    if block_size is None:
        block_size = seeds
    starts = range(0, seeds, block_size)
    return [Block(configuration, tuple(range(start, min(start + block_size, seeds))), index, len(starts))
            for index, start in enumerate(starts)]


def first(outcome, count: int):
    """A tutorial outcome of its first ``count`` seeds: the copies a padded block trained, dropped."""
    if len(outcome.population.seeds) == count:
        return outcome
    return _joined([outcome], count)


def merge(results: list) -> object:
    """One outcome of every block (``task.BlockResult``) of a configuration, in seed order."""
    results = sorted(results, key=lambda result: result.block.index)
    if len(results) == 1:
        return results[0].outcome
    return _joined([result.outcome for result in results])


def _joined(outcomes: list, count: int | None = None):
    """The seeds of ``outcomes`` (tutorial outcomes) as one outcome, the first ``count`` of them."""
    first = outcomes[0]
    keep = slice(None, count)
    population = Population(
        tuple(seed for outcome in outcomes for seed in outcome.population.seeds)[keep],
        [np.concatenate(arrays)[keep] for arrays in zip(*(outcome.population.weights for outcome in outcomes))],
        np.concatenate([outcome.population.loss for outcome in outcomes])[keep],
        np.concatenate([outcome.population.accuracy for outcome in outcomes])[keep])
    evaluation = Evaluation(
        np.concatenate([outcome.evaluation.loss for outcome in outcomes])[keep],
        np.concatenate([outcome.evaluation.accuracy for outcome in outcomes])[keep],
        np.concatenate([outcome.evaluation.predictions for outcome in outcomes])[keep],
        first.evaluation.evaluated)  # every block evaluates the same samples in the same order
    merged = tutorial_outcome.Outcome(first.experiment, first.setup, population, evaluation,
                                      sum(outcome.seconds for outcome in outcomes))
    if any(outcome.generation for outcome in outcomes):
        # Generation reads the median seed of the whole population, which a block (or a padded
        # one) does not know: it is made again over these seeds, as run_experiment makes it.
        merged.generation = tutorial_outcome.generation_of(merged)
    return merged
