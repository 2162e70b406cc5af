"""Numbers as people read them: one function per kind of number, the same in the terminal, in
results.json's sentences and in the report."""

from lstmstate.core.statistics import ACCURACY



def percent(value: float | None) -> str:
    """A share as a percentage with two decimals (the tutorial prints ``84.00%``); ``-`` for None.

    >>> percent(0.8696), percent(None)
    ('86.96%', '-')
    """
    return "-" if value is None else f"{100 * value:.2f}%"


def score(metric: str, value: float | None) -> str:
    """A held-out score: a percentage for accuracy, four significant digits otherwise (RMSE).

    >>> score("accuracy", 0.5), score("rmse", 20.214)
    ('50.00%', '20.21')
    """
    if value is None:
        return "-"
    return percent(value) if metric == ACCURACY else f"{value:.4g}"


def share_of_seeds(value: float | None) -> str:
    """The share of seeds that did something, in whole percent (``90%``); ``-`` for None."""
    return "-" if value is None else f"{100 * value:.0f}%"
