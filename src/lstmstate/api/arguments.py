"""The arguments of the Python API: the training plan's options taken by name and checked, and
the library's error messages told in the API's words.

One source of options: ``fit`` and ``compare`` take every field of ``owndata.Plan`` as a
keyword, so an option added to the plan is an argument of the API the day it is added, as it is a
``--flag`` of ``lstmstate sweep``. The layers below name an option by its field, in backticks;
the API writes the name the user typed, the command line the flag (``output.exits``)::

    Plan(window=0)        ->  ValueError("`window` must be at least 1, got 0")
    ls.fit(df, window=0)  ->  ValueError("window must be at least 1, got 0")
    lstmstate train --window 0  ->  error: --window must be at least 1, got 0
"""

import functools
import numbers
import re
import types
import typing
from contextlib import contextmanager
from dataclasses import MISSING, fields

from lstmstate.owndata.plan import Plan




# How the data is read (owndata.dataset.read), beside the plan's options.
READING = ("tokens", "columns", "target", "time_column", "fill")
# The API's own arguments whose command-line spelling a message may use.
OTHERS = ("data", "horizon", "origin", "out", "overwrite", "seed_index", "temperature", "sample_seed", "steps",
          "experiments", "framing")


def plan_fields() -> dict[str, object]:
    """``{option: default}`` of every field of the training plan, in the plan's order."""
    return {f.name: f.default for f in fields(Plan) if f.default is not MISSING}


def plan_options(options: dict, function: str, refused: tuple[str, ...] = ()) -> dict:
    """``options`` checked against the plan's fields, by name and by type: an unknown name, or a
    value of the wrong type (``seeds="10"``), is a ``ValueError`` naming the argument and what it
    accepts, before anything is read or trained."""
    known = {f.name: f for f in fields(Plan)}
    for name, value in options.items():
        if name in refused:
            raise ValueError(f"{function}() does not take {name!r}: {refused_because(function, name)}")
        if name not in known:
            accepted = ", ".join(n for n in known if n not in refused)
            raise ValueError(f"{function}() got an unknown option {name!r}; it takes the data, "
                             f"{', '.join(READING)}, and the plan's options: {accepted}")
        _check_type(name, value, known[name].type)
    return options


def refused_because(function: str, name: str) -> str:
    if function == "compare" and name == "framing":
        return "compare trains every framing that applies; fit(data, framing=...) trains one"
    if function == "compare":
        return "compare trains the carried framings with the tutorial's loop and keeps no checkpoint; fit takes it"
    return "it is not an option here"


def _check_type(name: str, value, annotation) -> None:
    """``value`` is of the plan field's type (``int``, ``float``, ``str``, each maybe ``None``)."""
    allowed = typing.get_args(annotation) if isinstance(annotation, types.UnionType) else (annotation,)
    if value is None and type(None) in allowed:
        return
    for kind in allowed:
        # bool is an int to Python, never a count of seeds to a user; numpy's integers are ints.
        if kind is int and isinstance(value, numbers.Integral) and not isinstance(value, bool):
            return
        if kind is float and isinstance(value, numbers.Real) and not isinstance(value, bool):
            return
        if kind is str and isinstance(value, str):
            return
    words = " or ".join("None" if kind is type(None) else kind.__name__ for kind in allowed)
    raise ValueError(f"{name} must be {words}, got {value!r} ({type(value).__name__})")


def columns_text(columns) -> str | None:
    """``columns`` as the reader takes them: None, a comma-separated string, or a list of names."""
    if columns is None or isinstance(columns, str):
        return columns
    if isinstance(columns, (list, tuple)) and columns and all(isinstance(c, str) for c in columns):
        for name in columns:
            if "," in name:
                raise ValueError(f"columns: the column name {name!r} holds a comma; rename the column")
        return ",".join(columns)
    raise ValueError(f"columns must be None, a list of column names or a comma-separated string, got {columns!r}")


@functools.cache
def _flags() -> re.Pattern:
    names = {*plan_fields(), *READING, *OTHERS}
    spelled = sorted((name.replace("_", "-") for name in names), key=len, reverse=True)  # longest first
    return re.compile(r"--(" + "|".join(map(re.escape, spelled)) + r")\b")


# A field named in a message: `window`, `batch_size` (a command in backticks has spaces).
FIELD = re.compile(r"`([a-z][a-z0-9_]*)`")
# A flag right after a command's name is advice to run that command ("lstmstate train --resume
# DIR"), which stays as it is written.
COMMANDS = ("train", "compare", "suite", "run", "forecast", "backtest", "generate", "export", "inspect", "sweep")


def in_api_words(message: str) -> str:
    """``message`` with each `field` written as the argument's name, and each ``--flag`` of an API
    argument that a sweep's grid spells as on the command line."""
    def worded(match: re.Match) -> str:
        before = message[:match.start()].split()
        if before and before[-1] in COMMANDS:
            return match.group(0)
        return match.group(1).replace("-", "_")
    return FIELD.sub(r"\1", _flags().sub(worded, message))


@contextmanager
def api_errors():
    """Re-raise a ``ValueError`` from the layers below with the API's argument names in it; the
    original stays attached as its cause for a traceback reader."""
    try:
        yield
    except ValueError as error:
        worded = in_api_words(str(error))
        if worded == str(error):
            raise
        raise ValueError(worded) from error


def command_line_words(error: Exception) -> str:
    """``error``'s message as the layers below worded it, its fields in backticks (the API's
    rewording keeps that as the cause), for the command line to spell as flags."""
    cause = error.__cause__
    return str(cause) if isinstance(cause, ValueError) and in_api_words(str(cause)) == str(error) else str(error)
