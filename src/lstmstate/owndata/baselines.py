"""The baselines on the user's data: the classical models a language modeller or a forecaster
tries first, each fitted on the training part only and scored on exactly the held-out targets
the LSTM is scored on. An LSTM is worth its cost only where it beats the strongest of them.

Symbols (the next symbol's accuracy; perplexity)::

    most frequent successor   after x, the symbol seen most often after x (a bigram's argmax)
    n-gram with backoff       the most frequent continuation of the longest context seen in
                              training, up to n-1 symbols; n chosen on the validation part (fitted
                              on the fitting part before it), then refitted on the training part
    Kneser-Ney n-gram         interpolated Kneser-Ney probabilities (perplexity), n chosen the same way

Numbers (the target's next value, RMSE in its units)::

    persistence               the last value
    seasonal naive            the value one season ago (``owndata.season``: given, the calendar's,
                              or detected and chosen on the validation part)
    AR(p)                     an autoregression fitted by statsmodels, p up to 10 log10(n) (R's
                              ``ar()``) chosen on the validation part, refitted on the training part
    AutoETS, AutoARIMA,       statsforecast's automatic models with that season, fitted on the
    AutoTheta                 training part (``owndata.classical``)

Every baseline predicts a held-out target from the true values before it (one step ahead), as
the LSTM does.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from lstmstate.core import memoryless
from lstmstate.core import ngram
from lstmstate.core.statistics import ACCURACY, PERPLEXITY, RMSE
from lstmstate.owndata import classical
from lstmstate.owndata.season import Season
from lstmstate.owndata.split import Split


@dataclass(frozen=True)
class Baseline:
    """One classical model scored on the held-out targets."""

    name: str  # as printed: "AR(9)", "7-gram with backoff"
    metric: str  # ACCURACY, RMSE or PERPLEXITY: what ``score`` is
    score: float  # on the held-out targets the LSTM is scored on
    description: str  # what it is and how it was fitted, one sentence
    parameters: dict = field(default_factory=dict)  # e.g. {"p": 9, "chosen_by": "AIC on the training part"}

    @property
    def higher_is_better(self) -> bool:
        return self.metric == ACCURACY

    def to_dict(self) -> dict:
        return {"name": self.name, "metric": self.metric, "score": self.score, "description": self.description,
                "parameters": self.parameters}


def strongest(baselines: list[Baseline], metric: str) -> Baseline:
    """The best baseline on ``metric`` (the first listed among equals)."""
    scored = [b for b in baselines if b.metric == metric and np.isfinite(b.score)]
    if not scored:
        # Values so large that every error overflows: the first is kept, and judge says no verdict.
        scored = [b for b in baselines if b.metric == metric]
        if not scored:
            raise ValueError(f"no baseline scores {metric}")
        return scored[0]
    sign = 1 if metric == ACCURACY else -1
    return max(scored, key=lambda b: sign * b.score)


# ---- symbols ---------------------------------------------------------------------------------

def for_symbols(ids: np.ndarray, split: Split, vocabulary_size: int, positions: np.ndarray) -> list[Baseline]:
    """The symbol baselines, scored on the held-out targets at ``positions`` (absolute, each
    ``>= split.train_items``)."""
    ids = np.asarray(ids)
    train_items, index = split.train_items, np.asarray(positions) - split.train_items
    targets = ids[train_items:][index]
    successor = memoryless.successor_accuracy(ids, train_items, vocabulary_size, positions)
    result = [Baseline("most frequent successor", ACCURACY, successor,
                       "after each symbol, the symbol that most often followed it in the training part",
                       {"n": 2})]
    validation_start = split.fit_items
    if validation_start < 1 or split.validation_items < 1:
        return result  # nothing to choose an order on
    chosen = ngram.select(ids, ngram.Fold(validation_start, train_items), ngram.Fold(train_items, len(ids)),
                          vocabulary_size)
    chosen_by = (f"validation on the validation part ({split.validation_items} targets; fitted on the fitting part, "
                 f"then refitted on the training part), orders 1..{len(chosen.validation_accuracy)} tried")
    n = chosen.accuracy_order
    result.append(Baseline(
        f"{n}-gram with backoff", ACCURACY, float((chosen.predicted[index] == targets).mean()),
        f"the most frequent continuation of the longest context (up to {_symbols(n - 1)}) seen in the training part"
        if n > 1 else "the most frequent symbol of the training part",
        {"n": n, "chosen_by": chosen_by,
         "validation_accuracy": [round(a, 6) for a in chosen.validation_accuracy]}))
    n = chosen.entropy_order
    perplexity = float(np.exp(-chosen.log_probability[index].mean()))
    result.append(Baseline(
        f"Kneser-Ney {n}-gram", PERPLEXITY, perplexity,
        f"interpolated Kneser-Ney probabilities of contexts up to {_symbols(n - 1)}, counted on the training part",
        {"n": n, "chosen_by": chosen_by,
         "validation_perplexity": [round(float(np.exp(e)), 6) for e in chosen.validation_entropy]}))
    return result


def _symbols(count: int) -> str:
    return f"{count} symbol" + ("" if count == 1 else "s")


# ---- numbers ---------------------------------------------------------------------------------

def for_numbers(values: np.ndarray, split: Split, positions: np.ndarray, chosen: Season) -> list[Baseline]:
    """The number baselines of the target ``values`` ``(item,)``, scored on the held-out targets
    at ``positions``, with the season ``chosen`` (``owndata.season``)."""
    values = np.asarray(values, np.float64)
    train_items, index = split.train_items, np.asarray(positions) - split.train_items
    targets = values[train_items:][index]

    def rmse(predicted: np.ndarray) -> float:
        return float(np.sqrt(np.mean((predicted[index] - targets) ** 2)))

    result = [Baseline("persistence", RMSE, rmse(values[train_items - 1:-1]), "the last value")]
    if chosen.length is not None:
        season = chosen.length
        result.append(Baseline(f"seasonal naive (season {season})", RMSE,
                               rmse(values[train_items - season:len(values) - season]),
                               f"the value {season} steps before ({chosen.reason})",
                               {"season": season, "season_from": chosen.reason}))
    with one_blas_thread():
        result.append(autoregression(values, split, rmse))
        models, failed = classical.fit(values, train_items, chosen.length)
        for line in failed:  # a model statsforecast cannot fit on this series is left out, and said so
            warnings.warn(line, UserWarning, stacklevel=2)
        for model in models:
            predicted = model.one_step(values)[train_items:]
            result.append(Baseline(model.name, RMSE, rmse(predicted), model.description, dict(model.parameters)))
    return result


def one_blas_thread():
    """A context in which BLAS runs on one thread: these models solve many small systems, where
    threads only wait for each other (a 3,600 x 33 least squares: 1.8 ms on one thread, 33 ms on
    two of a busy 2-core machine)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def autoregression(values: np.ndarray, split: Split, rmse) -> Baseline:
    """AR(p) with p chosen on the validation part, refitted by statsmodels on the training part;
    each held-out value predicted from the true values before it with the training part's
    coefficients."""
    p, params, errors = fit_autoregression(values, split)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns about frequency-less indexes
        # The same model on the whole series, with the training coefficients: one step ahead from the true past.
        predicted = _autoregression_model(values, p).predict(params, start=split.train_items, end=len(values) - 1)
    return Baseline(_autoregression_name(p), RMSE, rmse(np.asarray(predicted)),
                    f"an autoregression on the last {p} values, fitted by statsmodels on the training part",
                    {"p": p, "chosen_by": f"the lowest one-step RMSE on the validation part ({split.validation_items} "
                                          f"values) over p = 0..{len(errors) - 1}, each fitted on the fitting part",
                     "validation_rmse": [round(e, 6) for e in errors],
                     "coefficients": [round(float(c), 6) for c in params]})


def fit_autoregression(values: np.ndarray, split: Split) -> tuple[int, np.ndarray, list[float]]:
    """``(p, coefficients (constant first), the validation RMSE of each p tried)``: each AR(p),
    p from 0 to 10 log10(n) (R's ``ar()`` default), fitted on the fitting part and scored one step
    ahead on the validation part; the best p refitted on the whole training part."""
    values = np.asarray(values, np.float64)
    fit, train = split.fit_items, split.train_items
    max_lag = max(0, min(int(10 * np.log10(fit)), fit // 2 - 2))
    # The candidates by least squares on a lag matrix, as AutoReg fits them (conditional on the first
    # p values), without its per-fit statistics: 33 AutoReg fits of 3,500 values take 6 s, these 0.1 s.
    lagged = np.stack([np.ones(train)] + [np.roll(values[:train], i) for i in range(1, max_lag + 1)], axis=1)
    errors = []
    for p in range(max_lag + 1):
        params = np.linalg.lstsq(lagged[p:fit, :p + 1], values[p:fit], rcond=None)[0]
        errors.append(float(np.sqrt(np.mean((lagged[fit:train, :p + 1] @ params - values[fit:train]) ** 2))))
    p = int(np.argmin(errors))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels warns about frequency-less indexes and near-unit roots
        params = _autoregression_model(values[:train], p).fit().params
    return p, np.asarray(params, np.float64), errors


def _autoregression_model(values: np.ndarray, p: int):
    from statsmodels.tsa.ar_model import AutoReg

    return AutoReg(np.asarray(values, np.float64), lags=p, trend="c")


def _autoregression_name(p: int) -> str:
    return f"AR({p})" if p else "AR(0) (the training mean)"


# ---- numbers, H steps ahead --------------------------------------------------------------------

def multi_step(values: np.ndarray, split: Split, origins: np.ndarray, horizon: int,
               season: int | None) -> dict[str, np.ndarray]:
    """Each number baseline's forecast of ``horizon`` steps from each origin, from the true values
    up to the origin only: ``{name: (origin, horizon)}`` in the values' units. Persistence repeats
    the origin's value; seasonal naive repeats the last season; AR(p) (fitted on the training part)
    feeds its own forecasts back, as statsmodels' dynamic prediction does; the statsforecast models
    forecast from their state at the origin, with the training part's parameters."""
    values = np.asarray(values, np.float64)
    origins = np.asarray(origins)
    steps = np.arange(1, horizon + 1)
    result = {"persistence": np.repeat(values[origins][:, None], horizon, axis=1)}
    if season is not None:
        back = season * -(-steps // season)  # the same phase of the last season seen: h - s*ceil(h/s) <= 0
        result[f"seasonal naive (season {season})"] = values[origins[:, None] + steps[None, :] - back[None, :]]
    with one_blas_thread():
        p, params, _ = fit_autoregression(values, split)
        model = _autoregression_model(values, p)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result[_autoregression_name(p)] = np.stack([
                np.asarray(model.predict(params, start=int(o) + 1, end=int(o) + horizon, dynamic=True))
                for o in origins])
        for fitted in classical.fit(values, split.train_items, season)[0]:
            result[fitted.name] = np.stack([fitted.ahead(values, int(o), horizon) for o in origins])
    return result
