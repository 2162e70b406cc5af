"""The Python API: fit, compare, forecast and load in a few lines, for notebooks and scripts.

Each function is what a command of ``lstmstate`` does, called with Python values (a DataFrame, a
str of text) instead of flags, returning objects that show themselves in a notebook::

    fit(data, target=..., framing=..., **plan)  -> Run          lstmstate train
    compare(data, target=..., **plan)            -> Comparison   lstmstate compare
    suite(seeds=20)                              -> Suite        lstmstate suite
    load(folder)                                 -> Run | Comparison | Suite   (any --out folder)
"""

from lstmstate.api.comparison import Comparison, compare
from lstmstate.api.folder import load
from lstmstate.api.run import Run, fit
from lstmstate.api.tutorial import Suite, suite

__all__ = ["fit", "compare", "suite", "load", "Run", "Comparison", "Suite"]
