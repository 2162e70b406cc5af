"""A run folder read back as the API's objects: a ``Run`` (``lstmstate train --out``, or
``run.save``), a ``Comparison`` (``lstmstate compare --out``) or a ``Suite`` (``lstmstate suite``
and ``run --out``), whichever the folder holds.

Reading goes through ``storage.runfolder`` and ``trained.saved``, which check every file
against its schema before a weight is used, as the command line's reading does.
"""

from pathlib import Path

from lstmstate.api.arguments import api_errors
from lstmstate.api.comparison import Comparison
from lstmstate.api.run import Run
from lstmstate.api.tutorial import Suite
from lstmstate.storage import runfolder
from lstmstate.trained import saved as saved_runs


def load(folder, framing: str | None = None) -> Run | Comparison | Suite:
    """The run saved in ``folder``: a ``Run`` for one framing of the user's data, a
    ``Comparison`` for a comparison (or, with ``framing``, that framing's ``Run``), a ``Suite``
    for the tutorial's experiments. A folder that holds none, or a damaged one, is a
    ``ValueError`` naming what is wrong."""
    if not isinstance(folder, (str, Path)):
        raise ValueError(f"folder must be a folder path (str or pathlib.Path), got {type(folder).__name__}")
    if framing is not None and not isinstance(framing, str):
        raise ValueError(f"framing must be None or a framing's name, got {framing!r}")
    folder = Path(folder)
    with api_errors():
        payload = runfolder.read_results(folder)
        if not runfolder.holds_own_data(payload):
            if framing is not None:
                raise ValueError(f"{folder} holds the tutorial's experiments, not framings of your data; "
                                 "load it without framing")
            return Suite(payload, folder)
        if framing is None and "ranking" in payload:
            return Comparison.loaded(folder, payload)
        name = framing or payload["framing"]
        if name not in payload["experiments"]:
            raise ValueError(f"{folder} has no framing {name!r}; it holds: {', '.join(payload['experiments'])}")
        return Run(name, payload, saved_runs.load(folder, name), folder)
