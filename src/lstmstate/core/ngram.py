"""Count-based n-gram models of a symbol sequence: the classical language models an LSTM on the
same text has to beat, fitted on a training prefix and scored on the targets after it.

Two predictions per target and per order n (a context of the n-1 symbols before it):

- *backoff argmax*: the symbol that most often followed the longest context of at most n-1
  symbols that was seen in training (ties: the smaller id); a context never seen falls back to a
  shorter one, down to the most frequent symbol (n = 1);
- *interpolated Kneser-Ney* (Chen & Goodman, 1999, eq. 26, one discount per order estimated as
  D = n1 / (n1 + 2 n2)): the probability of the target, a smoothed distribution over the whole
  vocabulary, never zero, so a perplexity can be computed.

Counting is done with arrays, one order at a time, and only where it can matter: a context that
occurs once in the whole scored range cannot have been seen in training by any other target, so
its targets keep the prediction of the shorter context and are not extended further. Each order
costs one hash pass over the targets whose context is still shared::

    ids      a b a b c a b a b   context of length 2 at the last target: "b a"
    order 1: most frequent symbol            -> a
    order 2: after "a" came b, b, b          -> b
    order 3: after "b a" came b, b           -> b  (the longest seen context wins)
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pandas as pd

MAX_ORDER = 16  # the longest n-gram ever counted: contexts of 15 symbols
PATIENCE = 2  # orders in a row without improvement before the search for the best order stops
MIN_DISCOUNT, MAX_DISCOUNT = 0.05, 0.95  # a discount outside these means n1, n2 are too few to estimate it


class Fold(NamedTuple):
    """Train on the targets ``ids[:train_end]``; score the targets ``ids[train_end:end]`` (their
    context may reach back into the training part: it is input, not an answer)."""

    train_end: int
    end: int


class Prediction(NamedTuple):
    """One order's predictions of a fold's scored targets."""

    predicted: np.ndarray  # (target,) int32: the backoff argmax's prediction
    log_probability: np.ndarray  # (target,) float64: ln P_KN(target | context)


@dataclass(frozen=True)
class Selected:
    """The orders chosen on a validation fold, and the held-out fold's predictions at them."""

    accuracy_order: int  # the order of the backoff argmax with the best validation accuracy
    entropy_order: int  # the order of Kneser-Ney with the lowest validation cross entropy
    validation_accuracy: tuple[float, ...]  # per order 1, 2, ...
    validation_entropy: tuple[float, ...]  # per order, nats per symbol
    predicted: np.ndarray  # (held-out target,) int32: backoff argmax at ``accuracy_order``
    log_probability: np.ndarray  # (held-out target,) float64: ln P_KN at ``entropy_order``


def select(ids: np.ndarray, validation: Fold, held_out: Fold, vocabulary_size: int,
           max_order: int = MAX_ORDER, patience: int = PATIENCE) -> Selected:
    """Choose each model's order on ``validation`` (the last part of the training part) and
    predict ``held_out`` at that order, in one pass over the orders: both folds share the
    counting of contexts, and only the held-out predictions of the best order so far are kept.

    The search stops after ``patience`` orders in a row improve neither the validation accuracy
    nor the validation cross entropy.
    """
    accuracy, entropy = [], []
    best_predicted = best_log = None
    targets = np.asarray(ids[validation.train_end:validation.end])
    for check, held in orders(ids, (validation, held_out), vocabulary_size, max_order):
        accuracy.append(float((check.predicted == targets).mean()))
        entropy.append(float(-check.log_probability.mean()))
        if accuracy[-1] > max(accuracy[:-1], default=-1.0):  # ties keep the smaller order
            best_predicted = held.predicted
        if entropy[-1] < min(entropy[:-1], default=np.inf):
            best_log = held.log_probability
        recent = len(accuracy) - 1 - max(int(np.argmax(accuracy)), int(np.argmin(entropy)))
        if recent >= patience:
            break
    return Selected(int(np.argmax(accuracy)) + 1, int(np.argmin(entropy)) + 1, tuple(accuracy), tuple(entropy),
                    best_predicted, best_log)


def orders(ids: np.ndarray, folds: tuple[Fold, ...], vocabulary_size: int,
           max_order: int = MAX_ORDER) -> Iterator[list[Prediction]]:
    """For n = 1, 2, ... ``max_order``: every fold's predictions at order n. Stops early once no
    scored target of any fold has a context long enough to be refined (higher orders would
    repeat the last predictions)."""
    end = max(fold.end for fold in folds)
    for fold in folds:
        if not 0 < fold.train_end < fold.end:
            raise ValueError(f"an n-gram needs a training part and a scored part, got {fold.train_end} "
                             f"and {fold.end - fold.train_end} targets")
    ids = np.asarray(ids[:end], np.int32)
    size = int(vocabulary_size)
    fits = [_Fit(fold, size) for fold in folds]
    # int32 throughout (ids below 2**31 items), int64 only for the (context, target) codes: half the memory.
    positions = np.arange(end, dtype=np.int32)  # the active targets, increasing
    context = np.zeros(end, np.int32)  # id of each active target's context (order 1: the empty one)
    gram_at = np.full(end, -1, np.int32)  # the gram id ending at each active position
    for order in range(1, max_order + 1):
        length = order - 1  # context symbols
        codes = context.astype(np.int64) * size + ids[positions]
        gram = pd.factorize(codes)[0].astype(np.int32)  # (active,) dense id of (context, target)
        del codes
        grams, contexts = int(gram.max()) + 1, int(context.max()) + 1
        prefix = np.empty(grams, np.int32)
        prefix[gram] = context
        last = np.empty(grams, np.int32)
        last[gram] = ids[positions]
        yield [fit.add_order(length, positions, gram, context, prefix, last, contexts) for fit in fits]
        # Extend every target whose context is shared (and has a symbol before it) one symbol left:
        # a context seen once cannot have been seen in training by any other target. By induction the
        # active targets hold every occurrence of a shared context, so "shared" is exact.
        shared = (np.bincount(context, minlength=contexts) >= 2)[context]
        extend = shared & (positions > length)
        if not any(fit.refinable(extend) for fit in fits):
            return
        for fit in fits:
            fit.keep_for_continuation(gram, prefix, extend)
        # The context of t one symbol longer is the gram ending at t - 1, active too: its own context
        # is a prefix of t's, so it occurs wherever t's does.
        gram_at[positions] = gram
        positions = positions[extend]
        context = gram_at[positions - 1]


class _Fit:
    """One fold's counts and running predictions, order by order."""

    def __init__(self, fold: Fold, size: int):
        self.fold, self.size = fold, size
        scored = fold.end - fold.train_end
        self.predicted = np.zeros(scored, np.int32)  # the running backoff prediction of every scored target
        self.lower = np.full(scored, 1.0 / size)  # P_KN of each target under the order below (continuation)
        self.previous = None  # the order before: what its continuation counts need from this order's grams

    def add_order(self, length: int, positions: np.ndarray, gram: np.ndarray, context: np.ndarray,
                  prefix: np.ndarray, last: np.ndarray, contexts: int) -> Prediction:
        """This fold's predictions at the order whose grams are ``gram`` (over the active
        ``positions``, each with its ``context``; ``prefix`` and ``last`` split each gram)."""
        train_end, size = self.fold.train_end, self.size
        training = positions < train_end
        scored = (positions >= train_end) & (positions < self.fold.end)
        index = positions[scored] - train_end
        grams = len(prefix)
        if self.previous is not None:
            # The order below as a lower order needs this order's grams (its left extensions).
            self.lower = self.previous.continuation_probability(gram, training)
        # int32 counts: a count is at most the number of items (< 2**31); half the memory of bincount's int64.
        count = np.bincount(gram[training], minlength=grams).astype(np.int32)  # c(context, w) in training
        context_count = np.bincount(context[training], minlength=contexts).astype(np.int32)  # c(context)
        # Training targets dropped at an earlier order have a context seen once: each a gram seen once.
        dropped = max(0, train_end - length) - int(training.sum())
        discount = _discount(count, dropped)

        # Backoff argmax: the most frequent continuation of each seen context (ties: the smaller id).
        seen = count > 0
        best = np.full(contexts, -1, np.int64)
        np.maximum.at(best, prefix[seen], count[seen] * size + (size - 1 - last[seen].astype(np.int64)))
        held_context = context[scored]
        known = context_count[held_context] > 0
        self.predicted[index[known]] = size - 1 - best[held_context[known]] % size

        # Interpolated Kneser-Ney with this order as the highest: raw counts, the order below as continuation.
        del best
        types = np.bincount(prefix[seen], minlength=contexts).astype(np.int32)  # N1+(context .)
        probability = self.lower.copy()
        total = context_count[held_context[known]].astype(np.float64)
        mass = np.maximum(count[gram[scored][known]] - discount, 0.0) / total
        weight = discount * types[held_context[known]] / total
        probability[index[known]] = mass + weight * self.lower[index[known]]
        # What this order's continuation counts will need, once the next order's grams exist.
        self.training, self.scored, self.index, self.dropped = training, scored, index, dropped
        return Prediction(self.predicted.copy(), np.log(probability))

    def refinable(self, extend: np.ndarray) -> bool:
        """Whether a scored target of this fold is extended to the next order."""
        return bool((extend & self.scored).any())

    def keep_for_continuation(self, gram: np.ndarray, prefix: np.ndarray, extend: np.ndarray) -> None:
        """Keep what this order's continuation counts will need once the next order's grams exist."""
        self.previous = _Order(gram, prefix, self.training, self.scored, self.index, extend, self.dropped, self.lower)


@dataclass(frozen=True)
class _Order:
    """What one order's continuation (lower-order) probabilities need, kept until the next order's
    grams are known: ``N1+(. context w)`` counts the distinct symbols seen before ``(context, w)``."""

    gram: np.ndarray  # (active,) gram ids of this order
    prefix: np.ndarray  # (gram,) context id of each gram
    training: np.ndarray  # (active,) bool: a training target
    scored: np.ndarray  # (active,) bool: a scored target
    index: np.ndarray  # (active scored,) index of each among the fold's scored targets
    extend: np.ndarray  # (active,) bool: extended to the next order
    dropped: int  # training targets dropped at an earlier order: each a gram with one left extension
    lower: np.ndarray  # (scored,) the continuation probability of the order below

    def continuation_probability(self, next_gram: np.ndarray, next_training: np.ndarray) -> np.ndarray:
        """(scored,) P_KN of each scored target under this order as a lower order."""
        grams = len(self.prefix)
        suffix = np.empty(int(next_gram.max()) + 1, self.gram.dtype)
        suffix[next_gram] = self.gram[self.extend]  # each next-order gram ends in one gram of this order
        present = np.zeros(len(suffix), bool)
        present[next_gram[next_training]] = True
        continuation = np.bincount(suffix[present], minlength=grams)
        # A training target not extended (its context seen once, or nothing before it) is one more.
        continuation += np.bincount(self.gram[self.training & ~self.extend], minlength=grams)
        discount = _discount(continuation, self.dropped)
        seen = continuation > 0
        contexts = int(self.prefix.max()) + 1
        total = np.bincount(self.prefix, weights=continuation, minlength=contexts)  # N1+(. context .)
        types = np.bincount(self.prefix[seen], minlength=contexts)
        probability = self.lower.copy()
        gram = self.gram[self.scored]
        context = self.prefix[gram]
        known = total[context] > 0
        index = self.index[known]
        mass = np.maximum(continuation[gram[known]] - discount, 0.0) / total[context[known]]
        weight = discount * types[context[known]] / total[context[known]]
        probability[index] = mass + weight * self.lower[index]
        return probability


def _discount(count: np.ndarray, extra_singletons: int) -> float:
    """Kneser-Ney's absolute discount D = n1 / (n1 + 2 n2) (Ney, Essen & Kneser, 1994)."""
    n1 = int((count == 1).sum()) + extra_singletons
    n2 = int((count == 2).sum())
    if n1 + n2 == 0:
        return 0.5
    return float(np.clip(n1 / (n1 + 2 * n2), MIN_DISCOUNT, MAX_DISCOUNT))
