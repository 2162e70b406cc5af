"""Baselines: what a model with no memory scores on the same data, computed exactly; the numbers
every LSTM result is judged against.

Symbols are ids ``(item,)``; a held-out part is the items from ``train_items`` on, fitted on the
items before it only.

A model that sees only the previous symbol can do no better than predicting, for each symbol,
its most frequent successor; the share of samples that rule gets right is the *memoryless
ceiling*. An LSTM above it has used context; an LSTM at it may have used none.
"""

from collections import Counter, defaultdict

import numpy as np


def _pair_counts(previous: np.ndarray, following: np.ndarray, vocabulary_size: int):
    """Distinct (previous, following) pairs and how often each occurs, without a Python loop
    (memory stays linear in the length, whatever the vocabulary)."""
    codes = previous.astype(np.int64) * vocabulary_size + following.astype(np.int64)
    pairs, counts = np.unique(codes, return_counts=True)
    return pairs // vocabulary_size, pairs % vocabulary_size, counts


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
    """The best accuracy any function of the previous symbol alone can reach on these pairs: for
    each previous symbol, its most frequent successor.

    ``ABCDEFABCXYZ``: after C comes D once and X once, everything else is determined, so the
    ceiling is 10 of 11 pairs.

    >>> memoryless_ceiling([0, 1, 2, 3, 4, 5, 0, 1, 2, 6, 7], [1, 2, 3, 4, 5, 0, 1, 2, 6, 7, 8])
    0.9090909090909091
    """
    previous, following = np.asarray(previous), np.asarray(following)
    if len(previous) == 0:
        raise ValueError("the memoryless ceiling needs at least one pair")
    size = int(max(previous.max(), following.max())) + 1
    first, _, counts = _pair_counts(previous, following, size)
    best = np.zeros(size, np.int64)
    np.maximum.at(best, first, counts)
    return float(best.sum() / len(previous))


# ---- baselines on symbols: the rule "after x, the successor seen most often after x" -----------

def successor_rule(ids: np.ndarray, train_items: int, vocabulary_size: int) -> np.ndarray:
    """``rule[x]``: the symbol that most often follows ``x`` in the training part (ties: the
    smaller id, as ``most_frequent_successor``); a symbol never followed by anything in
    training gets the training part's most frequent symbol. Shape ``(vocabulary,)``."""
    training = np.asarray(ids[:train_items])
    previous, following, counts = _pair_counts(training[:-1], training[1:], vocabulary_size)
    order = np.lexsort((following, -counts, previous))  # by previous, then most frequent, then smallest id
    first = np.ones(len(order), bool)
    first[1:] = previous[order][1:] != previous[order][:-1]
    rule = np.full(vocabulary_size, np.argmax(np.bincount(training, minlength=vocabulary_size)), np.int32)
    rule[previous[order][first]] = following[order][first]
    return rule


def successor_accuracy(ids: np.ndarray, train_items: int, vocabulary_size: int,
                       positions: np.ndarray | None = None) -> float:
    """The held-out accuracy of the successor rule learned on the training part, on the held-out
    targets at ``positions`` (all of them when None)."""
    rule = successor_rule(ids, train_items, vocabulary_size)
    held = np.asarray(ids[train_items:])
    previous = np.asarray(ids[train_items - 1:-1])
    if positions is not None:
        index = np.asarray(positions) - train_items
        held, previous = held[index], previous[index]
    return float((rule[previous] == held).mean())


def memoryless_ceiling_held_out(ids: np.ndarray, train_items: int) -> float:
    """The best held-out accuracy any function of the previous symbol alone can reach, even one
    fitted on the held-out part itself: ``memoryless_ceiling`` of the held-out pairs."""
    return memoryless_ceiling(ids[train_items - 1:-1], ids[train_items:])
