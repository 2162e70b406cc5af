"""The classical models a forecaster fits first, from statsforecast: AutoETS, AutoARIMA and a
Theta model, each fitted on the training part only and then applied with those parameters to the
true past, one step ahead or H steps ahead from an origin.

statsforecast's ``forward`` applies a fitted model to a longer series with its fitted parameters:
the held-out values then update the model's state as observations arrive, as a forecaster's model
would be used, but change no parameter. Two of its outputs would read the future, so::

    ETS     forward's fitted values are one-step forecasts from the past (checked in the tests)
    ARIMA   the same, up to R's convention that a residual is an innovation over sqrt(gain):
            below 1e-5 of the error once the Kalman filter has settled (checked against forecasts
            from each origin in the tests)
    Theta   AutoTheta's forward re-decomposes the whole series it is given (the held-out part
            included) and its static models (STM, OTM) fit their trend line on all of it; here
            the dynamic models (DSTM, DOTM, Fiorucci et al. 2016), whose trend is updated as values
            arrive, are fitted, and the series is deseasonalized with the training part's factors
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

# statsforecast's ETS fits no season above 24 (as R's forecast::ets: "frequency too high") and its
# seasonal ARIMA search grows with the season (season 24, 4,000 values: 226 s exact, 10 s with R's
# approximation): longer seasons are fitted without one, and said so.
LONGEST_SEASON = 24
APPROXIMATE_ABOVE = 150  # R's auto.arima approximates the search above 150 values (or a season above 12)


@dataclass
class Classical:
    """One statsforecast model fitted on the training part."""

    name: str  # as printed: "AutoETS ETS(A,Ad,A)"
    description: str  # what it is and how it was fitted, one sentence
    parameters: dict = field(default_factory=dict)
    model: object = None  # the fitted statsforecast model
    train_items: int = 0
    factors: np.ndarray | None = None  # Theta: (season,) the training part's seasonal factors, from train_items on
    multiplicative: bool = True  # Theta: how the factors apply

    def one_step(self, values: np.ndarray) -> np.ndarray:
        """``(item,)``: each value of ``values`` predicted from the true values before it, with the
        training parameters (NaN where no forecast is made: before the model's first)."""
        values = np.asarray(values, np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # statsforecast warns about convergence of its optimisers
            if self.factors is None:
                return np.asarray(self.model.forward(values, h=1, fitted=True)["fitted"], np.float64)
            factor = self._factors(0, len(values))
            adjusted = self._remove(values, factor)
            fitted = adjusted - self._theta_state(adjusted)["residuals"]
            return self._restore(fitted, factor)

    def ahead(self, values: np.ndarray, origin: int, horizon: int) -> np.ndarray:
        """``(horizon,)``: the forecast of the ``horizon`` values after row ``origin`` from the
        true values up to it, with the training parameters."""
        from statsforecast.theta import forecast_theta

        past = np.asarray(values[:origin + 1], np.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if self.factors is None:
                return np.asarray(self.model.forward(past, h=horizon)["mean"], np.float64)
            adjusted = self._remove(past, self._factors(0, len(past)))
            mean = np.asarray(forecast_theta(self._theta_state(adjusted), horizon)["mean"], np.float64)
            return self._restore(mean, self._factors(origin + 1, origin + 1 + horizon))

    # ---- Theta: the training part's seasonal factors, and the dynamic model on the adjusted series ----

    def _factors(self, start: int, end: int) -> np.ndarray:
        """The seasonal factor of rows ``start..end-1``: the training part's, repeated each season."""
        return self.factors[(np.arange(start, end) - self.train_items) % len(self.factors)]

    def _remove(self, values, factor):
        return values / factor if self.multiplicative else values - factor

    def _restore(self, values, factor):
        return values * factor if self.multiplicative else values + factor

    def _theta_state(self, adjusted: np.ndarray) -> dict:
        from statsforecast.theta import forward_theta

        # m = 1: the series is deseasonalized already, so statsforecast must not decompose it again.
        return forward_theta({**self.model.model_, "m": 1}, adjusted)


def fit(values: np.ndarray, train_items: int, season: int | None) -> tuple[list[Classical], list[str]]:
    """AutoETS, AutoARIMA and the dynamic Theta models fitted on ``values[:train_items]`` with
    ``season`` (None: none), and one line for each model that could not be fitted."""
    training = np.asarray(values[:train_items], np.float64)
    length = season if season is not None and season <= LONGEST_SEASON else 1
    note = "" if season is None or season <= LONGEST_SEASON else (
        f"; fitted without the season {season}, longer than the {LONGEST_SEASON} these models fit")
    where = f"fitted by statsforecast on the training part ({train_items} values)"
    models, failed = [], []
    for name, fitter in (("AutoETS", _ets), ("AutoARIMA", _arima), ("AutoTheta", _theta)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = fitter(training, length)
        except Exception as error:  # statsforecast raises bare Exceptions on series it cannot fit
            failed.append(f"{name} could not be fitted: {str(error).splitlines()[0] if str(error) else type(error).__name__}")
            continue
        model.train_items = train_items
        model.description += f", {where}{note}"
        model.parameters["season_length"] = length
        models.append(model)
    return models, failed


def _ets(training: np.ndarray, season: int) -> Classical:
    from statsforecast.models import AutoETS

    model = AutoETS(season_length=season).fit(training)
    method = model.model_["method"]
    return Classical(f"AutoETS {method}", "exponential smoothing, error, trend and season chosen by AICc",
                     {"method": method, "selected_by": "AICc on the training part"}, model)


def _arima(training: np.ndarray, season: int) -> Classical:
    from statsforecast.models import AutoARIMA

    approximate = len(training) > APPROXIMATE_ABOVE or season > 12
    model = AutoARIMA(season_length=season, approximation=approximate).fit(training)
    p, q, big_p, big_q, m, d, big_d = model.model_["arma"]
    order = f"ARIMA({p},{d},{q})" + (f"({big_p},{big_d},{big_q})[{m}]" if m > 1 else "")
    drift = " with drift" if "drift" in model.model_["coef"] else ""
    return Classical(f"AutoARIMA {order}{drift}", "ARIMA, orders chosen by a stepwise search on AICc "
                     "(Hyndman & Khandakar, 2008)", {"order": order + drift, "selected_by": "AICc on the training part",
                                                    "approximation": approximate}, model)


def _theta(training: np.ndarray, season: int) -> Classical:
    from statsforecast.models import AutoTheta

    fits = [AutoTheta(season_length=season, model=kind).fit(training) for kind in ("DOTM", "DSTM")]
    model = min(fits, key=lambda fitted: fitted.model_["mse"])
    kind = model.model_["modeltype"]
    decomposed = bool(model.model_.get("decompose", False))
    multiplicative = model.model_.get("decomposition_type", "multiplicative") == "multiplicative"
    factors = np.asarray(model.model_["seas_forecast"]["mean"], np.float64) if decomposed else np.ones(1)
    if not decomposed:
        multiplicative = True  # factors of one: the series as it is
    how = (f"deseasonalized by the training part's {'multiplicative' if multiplicative else 'additive'} "
           f"factors" if decomposed else "not deseasonalized (no season significant in the training part)")
    return Classical(f"AutoTheta {kind}", f"the dynamic {'optimised' if kind == 'DOTM' else 'standard'} Theta "
                     f"model, the lower in-sample MSE of DOTM and DSTM, {how}",
                     {"model": kind, "selected_by": "in-sample MSE on the training part", "deseasonalized": decomposed},
                     model, factors=factors, multiplicative=multiplicative)
