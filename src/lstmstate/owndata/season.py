"""The season of a series of numbers: how many steps a cycle takes, which the seasonal naive
baseline repeats and the seasonal classical models (ETS, ARIMA, Theta) fit.

Where it comes from, first that applies::

    --season S          given by the user
    the calendar        the time column's step: months 12, quarters 4, weeks 52, days 7, hours 24
    detected            the peaks of the autocorrelation of the fitting part's changes that white
                        noise would not reach are the candidates; the shortest is chosen unless
                        a longer one's seasonal naive forecast is significantly better on the
                        validation part (none: no season)

Changes, not levels: a trend makes every lag of the levels' autocorrelation high and hides the
season (monthly CO2: lag 11 in the levels, 12 in the changes). The validation part decides among
the peaks because the highest peak need not be the season (monthly temperatures: 24 peaks above 12).
"""

from dataclasses import dataclass

import numpy as np

from lstmstate.owndata import timeline
from lstmstate.owndata.dataset import Numbers
from lstmstate.owndata.split import Split

MAX_SEASON = 400  # the longest season searched for in the autocorrelation
SHOWN = 5  # candidate lags named in the reason
LEVEL = 0.05  # a longer candidate replaces a shorter one where it is better on the validation part at 5%


@dataclass(frozen=True)
class Season:
    """The season chosen for a series, and why."""

    length: int | None  # steps per cycle; None: no season
    source: str  # "given", "calendar", "detected" or "none"
    reason: str  # one phrase, as printed: "from the time column Month (monthly)"

    def to_dict(self) -> dict:
        return {"length": self.length, "source": self.source, "reason": self.reason}

    def describe(self) -> str:
        return f"season {self.length}: {self.reason}" if self.length else f"no season: {self.reason}"


def check(season: int, train_items: int) -> None:
    """A ``ValueError`` unless a season of ``season`` steps fits in a training part of
    ``train_items``: one season back must still be a training value."""
    if not 2 <= season < train_items:
        raise ValueError(f"`season` {season} is out of range: the training part has {train_items} items, "
                         f"so the season can be 2..{train_items - 1}")


def choose(data: Numbers, split: Split, given: int | None = None) -> Season:
    """The season of ``data``'s target: ``given``, else the calendar's, else detected on the
    fitting part and chosen on the validation part."""
    if given is not None:
        check(given, split.train_items)
        return Season(given, "given", "given with --season")
    calendar = timeline.calendar_season(data.labels)
    if calendar is not None and calendar[0] < split.train_items:
        return Season(calendar[0], "calendar", f"from the time column {data.time_column} ({calendar[1]})")
    return detect(data.target_values, split)


def detect(values: np.ndarray, split: Split) -> Season:
    """The candidate lags of the fitting part's autocorrelation (``peaks``), and of them the one
    whose seasonal naive forecast of the validation part (each value from the one a season before)
    is best: the shortest, unless a longer one is significantly better (``better``)."""
    values = np.asarray(values, np.float64)
    candidates = peaks(values[:split.fit_items])
    if not candidates:
        return Season(None, "none", "no lag of the fitting part's autocorrelation stands out from white noise")
    validation = np.arange(split.fit_items, split.train_items)
    squared = {lag: (values[validation] - values[validation - lag]) ** 2 for lag, _ in candidates}
    # A season's multiples repeat the same cycle, and on a short validation part one of them scores
    # a little better by chance (a monthly sine with noise, 24 validation values: lag 24 RMSE 1.13,
    # lag 12 1.28): a longer lag replaces a shorter one only where its squared errors are lower by a
    # paired one-sided t-test at 5% (Bonferroni over the candidates).
    level = LEVEL / max(1, len(candidates) - 1)
    best = min(squared)
    for lag in sorted(squared)[1:]:
        if better(squared[lag], squared[best], level):
            best = lag
    correlation = dict(candidates)[best]
    lags = [str(lag) for lag, _ in candidates[:SHOWN]] + ([f"{len(candidates) - SHOWN} more"] if len(candidates) > SHOWN else [])
    others = "" if len(candidates) == 1 else f", chosen on the validation part among the peaks at lags {', '.join(lags)}"
    return Season(best, "detected", f"detected: the autocorrelation of the changes is {correlation:.2f} at lag "
                                    f"{best}{others}")


def better(squared: np.ndarray, than: np.ndarray, level: float) -> bool:
    """Whether the squared errors ``squared`` are lower than ``than`` (same targets), by a paired
    one-sided t-test at ``level``; never where the two are equal throughout."""
    from scipy.stats import ttest_rel

    if len(squared) < 2 or np.allclose(squared, than):
        return False
    return bool(ttest_rel(squared, than, alternative="less").pvalue < level)


def peaks(training: np.ndarray) -> list[tuple[int, float]]:
    """``[(lag, autocorrelation)]`` of the local peaks of the autocorrelation of the changes of
    ``training`` that white noise would not reach, highest first: above its 95% band corrected for
    the number of lags tried (Bonferroni, z = 3.3 for 120 lags, not 1.96, or one lag in twenty
    would look like a season)."""
    from scipy.stats import norm
    from statsmodels.tsa.stattools import acf

    changes = np.diff(np.asarray(training, np.float64))
    n = len(changes)
    lags = min(MAX_SEASON, n // 2)
    if lags < 3 or np.ptp(changes) == 0:
        return []
    correlation = acf(changes, nlags=lags, fft=True)
    inner = np.arange(2, lags)
    band = norm.ppf(1 - 0.05 / (2 * len(inner))) / np.sqrt(n)
    found = inner[(correlation[inner] > correlation[inner - 1]) & (correlation[inner] >= correlation[inner + 1])
                  & (correlation[inner] > band)]
    return sorted(((int(lag), float(correlation[lag])) for lag in found), key=lambda pair: -pair[1])
