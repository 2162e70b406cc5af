"""What every report of a run folder shares: its figures (``Picture``), the lines on where and
with what it ran, and writing ``report.html`` (self-contained, figures embedded) and ``report.md``
(figures as PNGs under ``figures/``) under the folder's lock.

The reports themselves are ``tutorial.report`` (the tutorial's suite, read as a short paper) and
``owndata.report`` (a run of the user's own data, beside the classical baselines); ``lstmstate
report DIR`` writes whichever the folder holds (``owndata.report.write_report``). Everything
comes from ``results.json`` and the saved weights; nothing is trained here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from matplotlib.figure import Figure

from lstmstate.output import figures
from lstmstate.storage import runfolder
from lstmstate.storage.files import write_atomically

FIGURES_FOLDER = runfolder.FIGURES  # PNGs beside the report, referenced by report.md


@dataclass(frozen=True)
class Picture:
    """One figure of the report."""

    file: str  # path relative to the run folder, e.g. "figures/accuracy.png"
    title: str  # a heading
    caption: str  # one line: what to see in it
    png: bytes  # the image itself, embedded in the HTML; empty when it could not be drawn (caption says why)


def drawn(folder: Path, stem: str, title: str, caption: str, draw: Callable[[], Figure]) -> Picture:
    """``draw()``'s figure saved as ``folder/figures/STEM.png``, as a ``Picture``."""
    path = runfolder.target(folder, FIGURES_FOLDER, f"{stem}.png")  # checked: inside, no link
    return Picture(f"{FIGURES_FOLDER}/{path.name}", title, caption, figures.save_png(draw(), path))


def write(folder: Path, payload: dict, draw: Callable[[Path, dict], list[Picture]],
          html: Callable[[dict, list[Picture]], str],
          markdown: Callable[[dict, list[Picture]], str]) -> tuple[Path, Path]:
    """Write ``folder/report.html`` and ``folder/report.md``: the figures ``draw(folder, payload)``
    saves, and the two texts ``html`` and ``markdown`` render around them.

    Returns the paths of the HTML and Markdown reports. Results that lack what their format
    promises are a ``ValueError``.
    """
    for name in payload["experiments"]:  # read or handed over, a name becomes a file name only if it is one
        runfolder.check_name(name)
    with runfolder.locked(folder):  # a command still writing here would interleave with the report
        # Tried before anything is drawn: a folder or a link in the way is an error now.
        html_path, md_path = (runfolder.target(folder, name) for name in runfolder.REPORTS)
        try:
            pictures = draw(folder, payload)
            html_text, md_text = html(payload, pictures), markdown(payload, pictures)
        except (KeyError, TypeError, IndexError, AttributeError) as error:
            # results.json parsed but lacks what its format promises: say so instead of a traceback.
            raise ValueError(f"{folder}/results.json is damaged: {type(error).__name__} {error}") from None
        write_atomically(html_path, html_text.encode())
        write_atomically(md_path, md_text.encode())
    return html_path, md_path


def environment(payload: dict) -> list[str]:
    """Where and with what the run ran, one line each: versions, machine, seeds."""
    versions = payload.get("versions", {})
    machine = payload.get("machine", {})
    return [
        f"created {payload.get('created', '?')} by lstmstate {payload.get('lstmstate_version', '?')}",
        "python {python}, keras {keras}, jax {jax}, Keras backend {backend}".format(
            **{key: versions.get(key, "?") for key in ("python", "keras", "jax", "backend")}),
        f"machine: {machine.get('platform', '?')} ({machine.get('processor', '?')}, {machine.get('cpus', '?')} CPUs)",
        f"seeds: {_seed_list(payload.get('seeds', []))}",
    ]


def _seed_list(seeds: list[int]) -> str:
    if seeds and seeds == list(range(seeds[0], seeds[0] + len(seeds))) and len(seeds) > 3:
        return f"{seeds[0]}..{seeds[-1]} ({len(seeds)})"
    return ", ".join(map(str, seeds))
