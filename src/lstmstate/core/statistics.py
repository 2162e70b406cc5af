"""Statistics over a population of seeds: each a small pure function of per-seed values.

Every function takes ``values`` shaped ``(seed,)`` (one number per seed, e.g. final accuracy)
and returns plain floats. Intervals are percentile bootstraps of the mean (Efron, 1979), with a
fixed resampling seed so that the same values always give the same interval.
"""

import numpy as np

ACCURACY, RMSE = "accuracy", "rmse"  # the names of the per-seed metrics below, as results.json saves them
PERPLEXITY = "perplexity"  # exp of the mean negative log probability of the targets (lower is better)
RESAMPLES = 10_000  # bootstrap resamples: enough that the interval's ends move < 0.1 point between seeds
BOOTSTRAP_SEED = 0  # fixed, so intervals are deterministic


def _as_values(values) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or len(values) == 0:
        raise ValueError(f"values must be a non-empty 1-D array (seed,), got shape {values.shape}")
    return values


def mean(values) -> float:
    """The mean over seeds.

    >>> mean([0.5, 1.0])
    0.75
    """
    return float(_as_values(values).mean())


def bootstrap_ci(values, confidence: float = 0.95, resamples: int = RESAMPLES) -> tuple[float, float]:
    """Percentile-bootstrap interval of the mean over seeds.

    A single seed, or seeds that all agree, give a zero-width interval at that value.

    >>> bootstrap_ci([1.0, 1.0, 1.0])
    (1.0, 1.0)
    """
    values = _as_values(values)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means = values[rng.integers(0, len(values), size=(resamples, len(values)))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means, [tail, 1.0 - tail])
    return float(low), float(high)


def perfect_share(values, tolerance: float = 1e-6) -> float:
    """The share of seeds at 100% (accuracy within ``tolerance`` of 1).

    >>> perfect_share([1.0, 0.96, 1.0, 0.5])
    0.5
    """
    return float((_as_values(values) >= 1.0 - tolerance).mean())


def difference(a, b, confidence: float = 0.95, resamples: int = RESAMPLES) -> tuple[float, tuple[float, float]]:
    """``mean(a) - mean(b)`` with a percentile-bootstrap interval, the two populations resampled
    independently (their seeds are not paired).

    >>> difference([1.0, 1.0], [0.5, 0.5])
    (0.5, (0.5, 0.5))
    """
    a, b = _as_values(a), _as_values(b)
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    means_a = a[rng.integers(0, len(a), size=(resamples, len(a)))].mean(axis=1)
    means_b = b[rng.integers(0, len(b), size=(resamples, len(b)))].mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(means_a - means_b, [tail, 1.0 - tail])
    return float(a.mean() - b.mean()), (float(low), float(high))


def median_index(values) -> int:
    """The index of the median seed (the lower median for an even count), for showing one
    representative run.

    >>> median_index([0.2, 0.9, 0.5, 0.7])
    2
    """
    values = _as_values(values)
    order = np.argsort(values, kind="stable")
    return int(order[(len(values) - 1) // 2])


def accuracy_block(per_seed) -> dict:
    """The ``accuracy`` block of a results.json entry: mean, 95% interval and every seed's value."""
    per_seed = _as_values(per_seed)
    low, high = bootstrap_ci(per_seed)
    return {"mean": mean(per_seed), "ci95": [low, high], "per_seed": per_seed.round(6).tolist()}


def curve_band(values, points: int = 250) -> dict:
    """Per-epoch mean over seeds with a 95% band (normal approximation of the mean's interval),
    at most ``points`` epochs (evenly spaced, the last included) so results.json stays small.

    ``values`` is ``(seed, epoch)``; an epoch that is not finite is ``None``.
    """
    values = np.asarray(values, np.float64)
    epochs = np.unique(np.linspace(0, values.shape[1] - 1, min(points, values.shape[1])).round().astype(int))
    chosen = values[:, epochs]
    average = np.nanmean(chosen, axis=0)
    half = 1.96 * np.nanstd(chosen, axis=0, ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0 * average
    return {"epoch": (epochs + 1).tolist(), "mean": _finite(average), "low": _finite(average - half),
            "high": _finite(average + half)}


def _finite(values) -> list:
    return [None if not np.isfinite(v) else round(float(v), 6) for v in values]


def accuracy(predicted: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-seed accuracy ``(seed,)`` of predicted ids ``(seed, sample)`` against ``(sample,)``."""
    return (np.asarray(predicted) == np.asarray(targets)[None, :]).mean(axis=1)


def rmse(predicted: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Per-seed root mean squared error ``(seed,)`` of values ``(seed, sample)`` against ``(sample,)``."""
    error = np.asarray(predicted, np.float64) - np.asarray(targets, np.float64)[None, :]
    return np.sqrt(np.mean(error ** 2, axis=1))


def perplexity(log_probabilities: np.ndarray) -> np.ndarray:
    """Per-seed perplexity ``(seed,)``: exp of the mean negative log probability ``(seed, sample)``
    each seed gave the targets (1 is certainty; the vocabulary size is a uniform guess).

    >>> perplexity(np.log([[0.5, 0.5], [1.0, 0.25]])).round(3).tolist()
    [2.0, 2.0]
    """
    return np.exp(-np.asarray(log_probabilities, np.float64).mean(axis=1))
