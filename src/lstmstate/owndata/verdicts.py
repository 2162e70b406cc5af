"""The verdicts on the user's data: one sentence saying whether the LSTM's seeds beat the
strongest baseline, judged by every seed and by the 95% interval of their mean, as the
tutorial's verdicts (``tutorial.verdicts``) judge its claims::

    AR(2) beats every seed, by 0.5 to 0.7 RMSE (the LSTM's mean 1.6 [95% interval 1.5, 1.7] against 1)
"""

import numpy as np

from lstmstate.core import statistics
from lstmstate.core.statistics import ACCURACY, PERPLEXITY, RMSE
from lstmstate.output.formatting import score as formatted
from lstmstate.owndata.baselines import Baseline, strongest


def winner(scores: np.ndarray, baseline: Baseline) -> str | None:
    """``"lstm"`` or ``"baseline"`` where the 95% interval of the seeds' mean lies wholly on one
    side of the baseline's score; None where it does not, or with fewer than 2 finite seeds."""
    finite = np.asarray(scores, np.float64)
    finite = finite[np.isfinite(finite)]
    if len(finite) < 2 or not np.isfinite(baseline.score):
        return None
    gap_low, gap_high = _interval_gaps(statistics.bootstrap_ci(finite), baseline)
    return "lstm" if gap_low > 0 else "baseline" if gap_high < 0 else None


def _interval_gaps(interval: tuple[float, float], baseline: Baseline) -> tuple[float, float]:
    """How much better than ``baseline`` the two ends of ``interval`` (of the seeds' mean) are,
    in the metric's units, smaller first (> 0: better, whichever way the metric points)."""
    sign = 1.0 if baseline.higher_is_better else -1.0
    low, high = sorted(sign * (bound - baseline.score) for bound in interval)
    return low, high


def judge(scores: np.ndarray, baseline: Baseline) -> str:
    """One sentence: the LSTM's seeds (``scores``, same metric) against ``baseline``, judged by
    every seed and by the 95% interval of the mean over seeds, with the margin in the metric's
    units. One seed gives no interval and no verdict; seeds whose score is not finite (diverged)
    are left out and counted."""
    scores = np.asarray(scores, np.float64)
    finite = scores[np.isfinite(scores)]
    name, metric = baseline.name, baseline.metric
    lost = "" if len(finite) == len(scores) else (
        f" ({len(scores) - len(finite)} of {len(scores)} seeds diverged and are left out)")
    if not np.isfinite(baseline.score):
        return (f"no verdict: {name}'s score is not finite (values too large for their errors to be computed); "
                f"rescale the data{lost}")
    if len(finite) < 2:
        shown = "no seed finished with a finite score" if len(finite) == 0 else (
            f"the one seed scores {formatted(metric, finite[0])}")
        return (f"no verdict: {shown} and {name} scores {formatted(metric, baseline.score)}; "
                f"an interval needs at least 2 seeds (--seeds){lost}")
    sign = 1.0 if baseline.higher_is_better else -1.0
    gaps = sign * (finite - baseline.score)  # > 0: the seed beats the baseline
    low, high = statistics.bootstrap_ci(finite)
    mean = float(finite.mean())
    gap_low, gap_high = _interval_gaps((low, high), baseline)
    unit = _unit(metric)
    lstm = (f"the LSTM's mean {formatted(metric, mean)} [95% interval {formatted(metric, low)}, "
            f"{formatted(metric, high)}] against {formatted(metric, baseline.score)}")
    wins, losses = int((gaps > 0).sum()), int((gaps < 0).sum())
    if wins == losses == 0:  # every seed scores exactly what the baseline does (a text both predict perfectly)
        return f"every seed ties with {name}: {formatted(metric, baseline.score)} ({lstm}){lost}"
    if losses == len(finite):
        return (f"{name} beats every seed, by {_amount(metric, -gaps.max())} to {_amount(metric, -gaps.min())} "
                f"{unit} ({lstm}){lost}")
    if wins == len(finite):
        return (f"the LSTM beats {name} with every seed, by {_amount(metric, gaps.min())} to "
                f"{_amount(metric, gaps.max())} {unit} ({lstm}){lost}")
    if gap_low > 0:
        return (f"the LSTM beats {name}: its whole 95% interval is better, by {_amount(metric, gap_low)} to "
                f"{_amount(metric, gap_high)} {unit}, and {wins} of {len(finite)} seeds beat it ({lstm}){lost}")
    if gap_high < 0:
        return (f"{name} beats the LSTM: the LSTM's whole 95% interval is worse, by {_amount(metric, -gap_high)} "
                f"to {_amount(metric, -gap_low)} {unit}, though {wins} of {len(finite)} seeds beat it ({lstm}){lost}")
    return (f"the LSTM is not distinguishable from {name}: its score lies inside the LSTM's 95% interval; "
            f"{wins} of {len(finite)} seeds beat it ({lstm}){lost}")


def _unit(metric: str) -> str:
    return {ACCURACY: "points of accuracy", RMSE: "RMSE", PERPLEXITY: "perplexity"}[metric]


def _amount(metric: str, value: float) -> str:
    """A margin in the metric's units: points for accuracy, three significant digits otherwise."""
    return f"{100 * value:.2f}" if metric == ACCURACY else f"{value:.3g}"


def against_baseline(result) -> str:
    """One sentence: ``result``'s seeds (an ``owndata.results.Result``) against the strongest
    baseline on their metric."""
    return judge(result.scores, result.baseline)


def against_perplexity(result) -> str | None:
    """Symbols: one sentence, the LSTM's perplexity against the smoothed n-gram's; None for numbers."""
    if result.perplexities is None:
        return None
    return judge(result.perplexities, strongest(list(result.baselines), PERPLEXITY))
