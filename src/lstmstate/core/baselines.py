"""Baselines: what a model with no memory can score on the same data, computed exactly.

A model that sees only the previous symbol can do no better than predicting, for each symbol,
its most frequent successor; the share of samples that rule gets right is the *memoryless
ceiling*. An LSTM above it has used context; an LSTM at it may have used none.
"""

from collections import Counter, defaultdict

import numpy as np


def successor_counts(previous, following) -> dict[int, Counter]:
    """For each previous id, how often each next id follows it."""
    counts: dict[int, Counter] = defaultdict(Counter)
    for a, b in zip(np.asarray(previous).tolist(), np.asarray(following).tolist()):
        counts[a][b] += 1
    return counts


def most_frequent_successor(previous, following) -> dict[int, int]:
    """The rule "after x predict the successor seen most often after x" (ties: the smaller id)."""
    return {a: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0]
            for a, c in successor_counts(previous, following).items()}


def memoryless_ceiling(previous, following) -> float:
    """The best accuracy any function of the previous symbol alone can reach on these pairs.

    ``ABCDEFABCXYZ``: after C comes D once and X once, everything else is determined, so the
    ceiling is 10 of 11 pairs.

    >>> memoryless_ceiling([0, 1, 2, 3, 4, 5, 0, 1, 2, 6, 7], [1, 2, 3, 4, 5, 0, 1, 2, 6, 7, 8])
    0.9090909090909091
    """
    previous = np.asarray(previous)
    if len(previous) == 0:
        raise ValueError("the memoryless ceiling needs at least one pair")
    best = sum(max(c.values()) for c in successor_counts(previous, following).values())
    return best / len(previous)
