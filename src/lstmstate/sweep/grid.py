"""The grid: which parameters a sweep may vary, their values read from comma lists or a TOML
file and checked, and the configurations (one point of the grid each) they make.

The parameters are not listed here: they are read from what trains. For the user's own data
they are the fields of ``owndata.Plan`` (its annotations give their types), so a field
added to the plan is sweepable at once; for the tutorial's experiments they are the overrides
``tutorial.outcome.run_experiment`` takes (epochs, units, streams), plus the experiment itself::

    --units 16,32 --framing window-timesteps,stateful   ->  units    (16, 32)
                                                            framing  ("window-timesteps", "stateful")
    configurations, in the grid's order:  units=16 framing=window-timesteps
                                          units=16 framing=stateful
                                          units=32 framing=window-timesteps
                                          units=32 framing=stateful

A bad grid (an unknown parameter, an empty list, a value of the wrong type) is a one-line
``ValueError`` before anything is trained.
"""

import dataclasses
import hashlib
import inspect
import itertools
import json
import math
import os
import stat
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path

from lstmstate.storage import schema
from lstmstate.tutorial import experiments as registry
from lstmstate.owndata.plan import Plan
from lstmstate.tutorial.outcome import run_experiment

TUTORIAL = "tutorial"  # a sweep of the tutorial's experiments
OWN_DATA = "data"  # a sweep of the user's own data (the `train` command's options)
EXPERIMENT = "experiment"  # the tutorial's parameter that names the experiment (--experiments)
# Not swept: the seeds are the population every configuration trains (--seeds), and what
# run_experiment takes besides its overrides is how it is called, not what it trains.
_NOT_SWEPT = {"seeds", "experiment", "on_progress"}
_NAME_LENGTH = 64  # schema.NAME: a configuration's folder name
_NONE = ("none", "default")
_LARGEST_FLOAT = 1.7976931348623157e308
# Configurations one sweep holds: each is a run folder, a row of sweep.json and of its page, and at
# least one Ray task; a grid of 10 lists of 100 values (10**20) would never be listed, let alone run.
MAX_CONFIGURATIONS = 10_000
MAX_GRID_BYTES = 2 ** 20  # a grid file is a few lines; /dev/zero or a 10 GB file is not read  # how a comma list says "the default" for a parameter that may be None


@dataclass(frozen=True)
class Parameter:
    """One sweepable parameter."""

    name: str  # as in the plan or the override, e.g. "batch_size"; the flag is --batch-size
    kinds: tuple[type, ...]  # the types a value may have, from the annotation: (int,), (int, NoneType), (str,)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def optional(self) -> bool:
        return type(None) in self.kinds

    def parse(self, text: str):
        """One value given on the command line, as its type: ``"16"`` -> 16; "none" -> None."""
        text = text.strip()
        if self.optional and text.lower() in _NONE:
            return None
        for kind in self.kinds:
            if kind is bool:
                if text.lower() in ("true", "false", "yes", "no", "1", "0"):
                    return text.lower() in ("true", "yes", "1")
            elif kind in (int, float):
                try:
                    number = kind(text)
                except ValueError:
                    continue
                if math.isfinite(number):  # "nan" and "inf" read as floats; nothing trains with them
                    return number
            elif kind is str:
                return text
        raise ValueError(f"{self.flag}: {schema.short(text)} is not {self.type_words}")

    def check(self, value):
        """One value read from a TOML file, checked against the type (an int is a float, never a bool)."""
        if value is None and self.optional:
            return value
        for kind in self.kinds:
            if kind is float and isinstance(value, int) and not isinstance(value, bool):
                if abs(value) <= _LARGEST_FLOAT:  # a TOML integer of 400 digits is no float
                    return float(value)
            elif kind is float and isinstance(value, float) and not math.isfinite(value):
                continue  # TOML's nan and inf: nothing trains with them
            elif isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
                return value
        raise ValueError(f"{self.name}: {schema.short(value)} is not {self.type_words}")

    @property
    def type_words(self) -> str:
        words = {int: "a whole number", float: "a number", str: "a word", bool: "true or false"}
        named = [words.get(kind, kind.__name__) for kind in self.kinds if kind is not type(None)]
        return " or ".join(named) + (" or none" if self.optional else "")


def _kinds(annotation) -> tuple[type, ...]:
    """``int | None`` -> (int, NoneType); ``str`` -> (str,)."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(typing.get_args(annotation))
    return (annotation,)


def sweepable(kind: str) -> dict[str, Parameter]:
    """The parameters a sweep of ``kind`` (TUTORIAL or OWN_DATA) may vary, by name."""
    if kind == OWN_DATA:
        hints = typing.get_type_hints(Plan)
        names = [field.name for field in dataclasses.fields(Plan)]
        found = {name: Parameter(name, _kinds(hints[name])) for name in names if name not in _NOT_SWEPT}
    else:
        hints = typing.get_type_hints(run_experiment)
        names = [name for name in inspect.signature(run_experiment).parameters if name not in _NOT_SWEPT]
        found = {EXPERIMENT: Parameter(EXPERIMENT, (str,))}
        found |= {name: Parameter(name, _kinds(hints[name])) for name in names}
    return found


@dataclass(frozen=True)
class Configuration:
    """One point of the grid: a value for each swept parameter."""

    kind: str  # TUTORIAL or OWN_DATA
    parameters: tuple[tuple[str, object], ...]  # (name, value) in the grid's order

    @property
    def values(self) -> dict:
        return dict(self.parameters)

    @property
    def label(self) -> str:
        """``units=16 framing=stateful``: how a person reads the configuration."""
        return " ".join(f"{name}={_word(value)}" for name, value in self.parameters)

    @property
    def name(self) -> str:
        """The configuration's folder in the sweep folder: its values, shortened, and a hash of
        all of them, so two configurations never share a folder and the same one always finds its own."""
        # The hash reads the values sorted by name: the same configuration, whatever order the
        # grid gave its parameters in, finds its folder again when a sweep is resumed.
        digest = hashlib.sha256(json.dumps(sorted(self.parameters)).encode()).hexdigest()[:8]
        words = "-".join(re.sub(r"[^A-Za-z0-9_-]", "", (_word(value) if name in (EXPERIMENT, "framing") else
                                                        f"{name.replace('_', '')}{_word(value)}").replace(".", "p"))
                         for name, value in self.parameters)
        return f"{words[: _NAME_LENGTH - len(digest) - 1].strip('-_')}-{digest}".lstrip("-_")


def _word(value) -> str:
    return "none" if value is None else str(value)


@dataclass(frozen=True)
class Grid:
    """The swept parameters and their values, checked."""

    kind: str  # TUTORIAL or OWN_DATA
    values: tuple[tuple[str, tuple], ...]  # (name, values) in the order given

    def configurations(self) -> list[Configuration]:
        """Every combination of values, the first parameter varying slowest."""
        names = [name for name, _ in self.values]
        return [Configuration(self.kind, tuple(zip(names, combination)))
                for combination in itertools.product(*(values for _, values in self.values))]

    @property
    def swept(self) -> list[str]:
        """The parameters given more than one value: what the figure plots against."""
        return [name for name, values in self.values if len(values) > 1]


def split_arguments(tokens: list[str]) -> dict[str, str]:
    """The command line's grid options, ``["--units", "16,32", "--batch-size=8"]`` ->
    ``{"units": "16,32", "batch_size": "8"}``: every option the sweep command does not know itself."""
    found = {}
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if not token.startswith("--") or len(token) == 2:
            raise ValueError(f"unexpected argument {token!r}: grid parameters are given as --NAME V1,V2,...")
        name, equals, text = token[2:].partition("=")
        if not equals:
            if position + 1 >= len(tokens) or tokens[position + 1].startswith("--"):
                raise ValueError(f"--{name} needs a comma-separated list of values")
            text = tokens[position + 1]
            position += 1
        position += 1
        key = name.replace("-", "_")
        if key in found:
            raise ValueError(f"--{name} is given twice; give its values once, as a comma-separated list")
        found[key] = text
    return found


def read_file(path: Path) -> dict[str, list]:
    """A TOML grid file: each key a parameter (as in the plan: ``batch_size``), each value a list
    of values or one value; ``experiments = ["one-char", "stateful"]`` names the tutorial's."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        raise ValueError("`grid` needs Python 3.11 or later (tomllib); give the grid as comma lists instead") from None
    try:
        status = os.stat(path)
        if not stat.S_ISREG(status.st_mode):
            raise ValueError(f"`grid` {path} is not a file")
        if status.st_size > MAX_GRID_BYTES:
            raise ValueError(f"`grid` {path} is {status.st_size} bytes; a grid file is at most {MAX_GRID_BYTES}")
        content = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"cannot read `grid` {path}: {error.strerror or error}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"`grid` {path} is not a TOML file: {str(error).splitlines()[0]}") from None
    found = {}
    for key, value in content.items():
        if isinstance(value, dict):
            raise ValueError(f"`grid` {path}: [{schema.short(key)}] is a table; give each parameter as "
                             "`name = [values]` at the top")
        found[EXPERIMENT if key == "experiments" else key] = value if isinstance(value, list) else [value]
    return found


def make(kind: str, given: dict[str, str], from_file: dict[str, list] | None = None) -> Grid:
    """The grid of ``kind`` from comma lists (``given``, which win) and a grid file's lists,
    every name and value checked."""
    known = sweepable(kind)
    values = {}
    for source, entries in (("`grid`", from_file or {}), ("the command line", given)):
        for name, raw in entries.items():
            if name not in known:
                raise ValueError(_unknown(name, kind, known))
            parameter = known[name]
            if isinstance(raw, str):
                parsed = [parameter.parse(text) for text in raw.split(",") if text.strip()]
            else:
                parsed = [parameter.check(value) for value in raw]
            if not parsed:
                raise ValueError(f"{parameter.flag if source != '`grid`' else name} in {source} has no values; "
                                 "give at least one")
            values[name] = tuple(dict.fromkeys(parsed))  # a value given twice is one configuration
    if kind == TUTORIAL:
        if EXPERIMENT not in values:
            raise ValueError("a sweep of the tutorial needs --experiments NAME,NAME (see `lstmstate list`), "
                             "or `data` FILE for your own data")
        for name in values[EXPERIMENT]:
            registry.get(name)  # an unknown experiment is the grid's mistake, refused now
        values = {EXPERIMENT: values.pop(EXPERIMENT), **values}
    elif values.get("framing"):
        values = {"framing": values.pop("framing"), **values}
    count = math.prod(len(v) for v in values.values())
    if count > MAX_CONFIGURATIONS:
        sizes = " x ".join(f"{len(v)} {name}" for name, v in values.items())
        raise ValueError(f"the grid makes {count} configurations ({sizes}); a sweep runs at most "
                         f"{MAX_CONFIGURATIONS}: give fewer values")
    return Grid(kind, tuple(values.items()))


def _unknown(name: str, kind: str, known: dict[str, Parameter]) -> str:
    flag = "--" + name.replace("_", "-")
    if not re.fullmatch(r"--[A-Za-z0-9-]{1,64}", flag):  # a TOML key may hold anything, newlines too
        flag = schema.short(flag)
    names = ", ".join("--experiments" if n == EXPERIMENT else p.flag for n, p in known.items())
    if kind == TUTORIAL and name in sweepable(OWN_DATA):
        return (f"unknown parameter {flag} for the tutorial's experiments (it is an option of your own data, "
                f"with --data); sweepable here: {names}")
    return f"unknown parameter {flag}; sweepable: {names}"
