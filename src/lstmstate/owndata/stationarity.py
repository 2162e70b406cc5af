"""Whether a series of numbers can be modelled as levels: a model of levels is scaled on the
training part and cannot follow values outside its range, and a series with a unit root (a random
walk, a stochastic trend) wanders out of any range. Either way a model of changes
(``--differencing 1``) is the one to try, and the command says so in one line.

::

    a fifth or more of the held-out targets outside the training range    -> out of range
    ADF (H0: a unit root) not rejected and KPSS (H0: stationary) rejected at 5%  -> a unit root
"""

import warnings

import numpy as np

from lstmstate.owndata.split import Split

LEVEL = 0.05  # both tests at 5%
# The share of held-out targets outside the training range that says the series has left it: a
# cycle may peak a little higher once (sunspots: 6 of 62 above the training maximum), a trend leaves
# for good (monthly airline passengers: 7 of the last 29 months above every month before).
OUT_OF_RANGE_SHARE = 0.2


def unit_root(training: np.ndarray) -> tuple[bool, float, float]:
    """``(has a unit root, ADF p-value, KPSS p-value)`` of ``training``: the augmented Dickey-Fuller
    test cannot reject a unit root and KPSS rejects stationarity around a constant; statsmodels'
    ``adfuller`` (lags by AIC) and ``kpss`` (lags as Hobijn et al., 1998, the default)."""
    from statsmodels.tsa.stattools import adfuller, kpss

    training = np.asarray(training, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kpss warns when its p-value lies beyond its table (0.01..0.1)
        adf = float(adfuller(training, autolag="AIC")[1])
        stationary = float(kpss(training, regression="c", nlags="auto")[1])
    return adf > LEVEL and stationary < LEVEL, adf, stationary


def out_of_range(values: np.ndarray, split: Split) -> int:
    """How many held-out targets lie outside the training part's range."""
    values = np.asarray(values, np.float64)
    training, held = values[:split.train_items], values[split.train_items:]
    return int(((held > training.max()) | (held < training.min())).sum())


def advice(values: np.ndarray, split: Split) -> str | None:
    """One line saying why ``--differencing 1`` should be tried, or None where neither sign is
    there. Read with the final scores: the range check reads the held-out targets."""
    values = np.asarray(values, np.float64)
    reasons = []
    outside = out_of_range(values, split)
    if outside >= OUT_OF_RANGE_SHARE * split.held_out_items:
        reasons.append(f"{outside} of the {split.held_out_items} held-out targets lie outside the training part's "
                       f"range ({values[:split.train_items].min():.4g}..{values[:split.train_items].max():.4g}), "
                       "where a model of levels scaled on it cannot follow")
    if split.train_items >= 10:
        root, adf, stationary = unit_root(values[:split.train_items])
        if root:
            reasons.append(f"the training part has a unit root (ADF p = {adf:.2f}, KPSS p = {stationary:.2f})")
    if not reasons:
        return None
    return f"a model of changes may do better: {'; '.join(reasons)}; try --differencing 1"
