"""The held-out part of a sequence: where it starts, and the scores measured on it (the
model's per seed, and the trivial baselines the model must beat).

The held-out part is the last fraction of the sequence. Every framing is scored on the same
targets, the items at positions ``train_items .. items-1``; a sample whose target is there may
read earlier items as its input (they are context, not answers), but no training sample has a
target there::

    items     0 1 2 3 4 5 6 7 8 9        --holdout 0.2, items = 10, train_items = 8
              [ training part ] [held]   training targets 1..7, held-out targets 8, 9
"""

from dataclasses import dataclass

import numpy as np



@dataclass(frozen=True)
class Split:
    """A sequence of ``items`` cut into a training part and a held-out part."""

    items: int  # length of the whole sequence
    train_items: int  # items 0..train_items-1 train; the rest is held out
    fraction: float  # the held-out fraction the user asked for

    @property
    def held_out_items(self) -> int:
        return self.items - self.train_items

    def describe(self) -> str:
        return (f"training part {self.train_items}, held-out part {self.held_out_items} "
                f"(the last {100 * self.fraction:g}%)")


def split(items: int, fraction: float, needed: int = 2) -> Split:
    """The split of ``items`` holding out the last ``fraction`` (at least one item); the training
    part must hold at least ``needed`` items (a window plus its target, or one pair)."""
    if not 0 < fraction < 1:
        raise ValueError(f"--holdout must lie strictly between 0 and 1, got {fraction:g}")
    held = int(round(items * fraction))
    if held < 1:
        raise ValueError(f"the sequence has {items} items, too short for --holdout {fraction:g}: "
                         f"that holds out no item; hold out more or give more data")
    train = items - held
    if train < needed:
        raise ValueError(f"the sequence has {items} items: --holdout {fraction:g} leaves {train} for training, "
                         f"too short (it needs at least {needed}); give more data or a smaller holdout or window")
    return Split(items, train, fraction)


# ---- baselines on symbols: the rule "after x, the successor seen most often after x" -----------

def _pair_counts(previous: np.ndarray, following: np.ndarray, vocabulary_size: int):
    """Distinct (previous, following) pairs and how often each occurs, without a Python loop
    (memory stays linear in the length, whatever the vocabulary)."""
    codes = previous.astype(np.int64) * vocabulary_size + following.astype(np.int64)
    pairs, counts = np.unique(codes, return_counts=True)
    return pairs // vocabulary_size, pairs % vocabulary_size, counts


def successor_rule(ids: np.ndarray, train_items: int, vocabulary_size: int) -> np.ndarray:
    """``rule[x]``: the symbol that most often follows ``x`` in the training part (ties: the
    smaller id, as ``baseline.most_frequent_successor``); a symbol never followed by anything in
    training gets the training part's most frequent symbol. Shape ``(vocabulary,)``."""
    training = np.asarray(ids[:train_items])
    previous, following, counts = _pair_counts(training[:-1], training[1:], vocabulary_size)
    order = np.lexsort((following, -counts, previous))  # by previous, then most frequent, then smallest id
    first = np.ones(len(order), bool)
    first[1:] = previous[order][1:] != previous[order][:-1]
    rule = np.full(vocabulary_size, np.argmax(np.bincount(training, minlength=vocabulary_size)), np.int32)
    rule[previous[order][first]] = following[order][first]
    return rule


def successor_accuracy(ids: np.ndarray, split: Split, vocabulary_size: int) -> float:
    """The held-out accuracy of the successor rule learned on the training part."""
    rule = successor_rule(ids, split.train_items, vocabulary_size)
    held = np.asarray(ids[split.train_items:])
    previous = np.asarray(ids[split.train_items - 1:-1])
    return float((rule[previous] == held).mean())


def memoryless_ceiling_held_out(ids: np.ndarray, split: Split, vocabulary_size: int) -> float:
    """The best held-out accuracy any function of the previous symbol alone can reach, even one
    fitted on the held-out part itself: ``baseline.memoryless_ceiling`` of the held-out pairs."""
    previous, _, counts = _pair_counts(np.asarray(ids[split.train_items - 1:-1]),
                                       np.asarray(ids[split.train_items:]), vocabulary_size)
    best = np.zeros(vocabulary_size, np.int64)
    np.maximum.at(best, previous, counts)
    return float(best.sum() / split.held_out_items)


# ---- baseline on numbers: the last value ----------------------------------------------------

def persistence_rmse(values: np.ndarray, split: Split) -> float:
    """Root mean squared error, in the values' units, of predicting each held-out value by the
    value before it."""
    values = np.asarray(values, np.float64)
    return float(np.sqrt(np.mean((values[split.train_items:] - values[split.train_items - 1:-1]) ** 2)))


# ---- the model's scores, per seed -----------------------------------------------------------

def accuracy(predicted: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-seed accuracy ``(seed,)`` of predicted ids ``(seed, sample)`` against ``(sample,)``."""
    return (np.asarray(predicted) == np.asarray(targets)[None, :]).mean(axis=1)


def rmse(predicted: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-seed root mean squared error ``(seed,)`` of values ``(seed, sample)`` against ``(sample,)``."""
    error = np.asarray(predicted, np.float64) - np.asarray(targets, np.float64)[None, :]
    return np.sqrt(np.mean(error ** 2, axis=1))
