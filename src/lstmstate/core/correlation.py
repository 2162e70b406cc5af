"""Correlation of state with a feature: which column of a recorded state (a unit's h or c) goes
most with a feature of the text, and how sure that number is, by a block bootstrap.

Neighbouring characters are not independent samples (a cell and a feature both change slowly
along a line), so the interval resamples whole blocks of consecutive steps (Künsch 1989, the
moving-block bootstrap, here with non-overlapping blocks): each block is reduced once to its
sums, and a resample adds up the sums of the blocks it drew::

    steps   |--- block 0 ---|--- block 1 ---| … |- last, shorter -|
    sums    n, Σx, Σx², Σy, Σy², Σxy per block and column
    resample: draw blocks with replacement -> add their sums -> Pearson r
"""

from dataclasses import dataclass

import numpy as np

BLOCK = 200  # steps per block: longer than a line of text, so a block keeps most of what a cell tracks
MIN_BLOCKS = 20  # fewer blocks than this and the interval says little; the block is shortened to keep them
MIN_STEPS = 100  # below this no correlation is measured
RESAMPLES = 2000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Best:
    """The column that goes most with a feature, and its correlation."""

    column: int  # index into the state's columns
    correlation: float  # Pearson r of that column with the feature, signed, over the whole text
    low: float  # the block bootstrap's 95% interval of that r
    high: float


def block_length(steps: int) -> int:
    """``BLOCK``, or shorter so the text holds ``MIN_BLOCKS`` blocks.

    >>> block_length(100_000), block_length(1_000)
    (200, 50)
    """
    if steps < MIN_STEPS:
        raise ValueError(f"a text of {steps} symbols is too short to measure correlations; give at least {MIN_STEPS}")
    return min(BLOCK, steps // MIN_BLOCKS)


def pearson(states: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """Pearson r of each column of ``states`` ``(step, column)`` with ``feature`` ``(step,)``:
    ``(column,)``, 0 for a constant column, NaN for every column when the feature is constant.

    >>> states = np.array([[1.0, 3.0, 5.0], [2.0, 2.0, 5.0], [3.0, 1.0, 5.0]])  # up, down, constant
    >>> np.round(pearson(states, np.array([0.0, 1.0, 2.0])), 6).tolist()
    [1.0, -1.0, 0.0]
    """
    return pearson_matrix(states, np.asarray(feature)[:, None])[:, 0]


def pearson_matrix(states: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Pearson r of every column of ``states`` ``(step, column)`` with every column of
    ``features`` ``(step, feature)``: ``(column, feature)``, as ``pearson`` gives each. One
    matrix product of the standardized columns: a text of 100,000 steps and 256 state columns
    is a fraction of a second."""
    x, x_constant = _standardized(np.asarray(states))
    y, y_constant = _standardized(np.asarray(features))
    r = np.clip((x.T @ y) / len(x), -1.0, 1.0).astype(float)  # (column, feature)
    r[x_constant, :] = 0.0  # a constant column goes with nothing
    r[:, y_constant] = np.nan  # a constant feature leaves r undefined
    return r


def _standardized(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Columns as (value - mean) / deviation in float32 for the product, the mean and deviation in
    # float64 (a sum of a million squares loses nothing that matters there); constant columns as 0.
    mean = values.mean(axis=0, dtype=np.float64)
    deviation = values.std(axis=0, dtype=np.float64)
    constant = deviation <= 1e-9 * np.maximum(np.abs(mean), 1.0)
    scale = np.where(constant, 1.0, deviation)
    return ((values - mean) / scale).astype(np.float32) * ~constant, constant


def best_column(states: np.ndarray, feature: np.ndarray, block: int, seed: int = 0,
                r: np.ndarray | None = None) -> Best | None:
    """The column of ``states`` ``(step, column)`` with the largest |r| with ``feature``
    ``(step,)``, its r, and a percentile interval from ``RESAMPLES`` resamples of blocks of
    ``block`` steps (drawn from ``seed``: the same numbers every time). None for a constant
    feature. ``r``: every column's r with the feature, if already computed (``pearson_matrix``).

    >>> steps = np.arange(1000.0)
    >>> best = best_column(np.stack([np.sin(steps), steps % 7], axis=1), steps % 7, block=50)
    >>> best.column, round(best.correlation, 3), round(best.low, 3), round(best.high, 3)
    (1, 1.0, 1.0, 1.0)
    """
    feature = np.asarray(feature, float)
    r = pearson(states, feature) if r is None else r
    if np.isnan(r).all():
        return None
    column = int(np.nanargmax(np.abs(r)))
    starts = np.arange(0, len(feature), block)
    blocks = [slice(s, s + block) for s in starts]
    chosen = np.asarray(states[:, column], float)
    per_block = _sums(np.stack([_padded(chosen[b], block) for b in blocks])[..., None],
                      np.stack([_padded(feature[b], block) for b in blocks]),
                      np.stack([_padded(np.ones(len(feature[b])), block) for b in blocks]))
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, len(blocks), (RESAMPLES, len(blocks)))
    counts = np.stack([np.bincount(row, minlength=len(blocks)) for row in drawn]).astype(float)  # (resample, block)
    resampled = _r(*(counts @ s for s in per_block))[:, 0]  # (resample,)
    resampled = resampled[np.isfinite(resampled)]
    tail = (1 - CONFIDENCE) / 2 * 100
    low, high = np.percentile(resampled, [tail, 100 - tail]) if len(resampled) else (np.nan, np.nan)
    return Best(column, float(r[column]), float(low), float(high))


def _padded(values: np.ndarray, length: int) -> np.ndarray:
    # The last block may be shorter: zeros with a weight of 0 leave every sum as it was.
    return np.concatenate([values, np.zeros(length - len(values))])


def _sums(states: np.ndarray, feature: np.ndarray, weight: np.ndarray | None = None):
    """Per block: n ``(block,)``, Σx, Σx², Σxy ``(block, column)``, Σy, Σy² ``(block,)`` from
    ``states`` ``(block, step, column)`` and ``feature`` ``(block, step)``; ``weight`` ``(block,
    step)`` is 1 for a real step, 0 for padding."""
    weight = np.ones(feature.shape) if weight is None else weight
    x, y = states * weight[..., None], feature * weight
    return (weight.sum(1), x.sum(1), (x * states).sum(1), (x * feature[..., None]).sum(1), y.sum(1),
            (y * feature).sum(1))


def _r(n, sx, sxx, sxy, sy, syy) -> np.ndarray:
    # Pearson r from sums; n, sy, syy broadcast over columns. float64 throughout: sums of squares of
    # a million steps lose nothing that matters.
    n, sy, syy = (np.asarray(a, float)[..., None] for a in (n, sy, syy))
    covariance = sxy / n - sx / n * sy / n
    var_x = np.maximum(sxx / n - (sx / n) ** 2, 0.0)
    var_y = np.maximum(syy / n - (sy / n) ** 2, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = covariance / np.sqrt(var_x * var_y)
    # A constant column goes with nothing (0); a constant feature leaves r undefined (NaN).
    r = np.where(var_x <= 1e-12 * np.maximum(sxx / n, 1.0), 0.0, r)
    r = np.where(var_y <= 1e-12 * np.maximum(syy / n, 1.0), np.nan, r)
    return np.clip(r, -1.0, 1.0)


def symbol_alone(ids: np.ndarray, feature: np.ndarray) -> float:
    """The largest |r| any function of the current symbol alone reaches with ``feature``: the
    correlation of the feature with its mean given the symbol (the correlation ratio). A cell
    above it holds something the current symbol does not say: it remembers. ``ids`` and
    ``feature`` are ``(step,)``; NaN for a constant feature.

    >>> symbol_alone(np.array([0, 0, 1, 1]), np.array([0.0, 0.0, 1.0, 1.0]))  # the symbol says it all
    1.0
    >>> symbol_alone(np.array([0, 0, 1, 1]), np.array([0.0, 1.0, 0.0, 1.0]))  # the symbol says nothing
    0.0
    """
    ids, feature = np.asarray(ids), np.asarray(feature, float)
    means = np.bincount(ids, weights=feature) / np.maximum(np.bincount(ids), 1)
    return float(round(abs(pearson(means[ids][:, None], feature)[0]), 12))


def row_alone(rows: np.ndarray, feature: np.ndarray) -> float:
    """``symbol_alone`` for a model of numbers: the largest |r| any linear function of the current
    input row reaches with ``feature``, the multiple correlation of a least-squares fit with an
    intercept. ``rows`` are ``(step, column)``, ``feature`` ``(step,)``; NaN for a constant feature.

    >>> steps = np.arange(8.0)
    >>> row_alone(np.stack([steps, steps ** 2], axis=1), 3 * steps - 1)  # the row says it all
    1.0
    >>> phase = 2 * np.pi * np.arange(24) / 12
    >>> row_alone(np.cos(phase)[:, None], np.sin(phase))  # a quarter season away, over whole seasons: nothing
    0.0
    """
    rows, feature = np.asarray(rows, np.float64), np.asarray(feature, np.float64)
    if np.ptp(feature) == 0:
        return float("nan")
    design = np.concatenate([np.ones((len(rows), 1)), rows], axis=1)
    coefficients, *_ = np.linalg.lstsq(design, feature, rcond=None)
    fitted = design @ coefficients
    return float(round(abs(pearson(fitted[:, None], feature)[0]), 12))
