"""Progress of the API's training, shown where the user is: a bar in a notebook's output, rich's
bar on a terminal, nothing otherwise (a script's log, a test, a pipe) unless asked.

A notebook gets an HTML ``<progress>`` element updated in place through IPython's display
handles, which every Jupyter front end renders (JupyterLab, Notebook, VS Code, nbclient's saved
outputs) with nothing more installed; rich's and tqdm's notebook bars need ipywidgets and a
running widget manager, and print a warning without them.

``on_start(name, seeds, epochs=None)`` opens one bar and returns ``on_progress(done, epochs)``,
the callback the library takes (``owndata.training.run``); a caller may pass its own (``shown``).
"""

import html
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console

from lstmstate.output.progress import progress_bar

OnProgress = Callable[[int, int], None]
OnStart = Callable[..., OnProgress | None]
REDRAW_SECONDS = 0.25  # a notebook's bar is redrawn at most this often: each redraw is a message to the front end


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel (not a terminal IPython, not plain Python)."""
    shell = sys.modules.get("IPython") and _shell()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _shell():
    from IPython import get_ipython

    return get_ipython()


def interactive() -> bool:
    """Whether someone is watching: a notebook, or a terminal on stderr."""
    return in_notebook() or Console(stderr=True).is_terminal


@contextmanager
def progress(quiet: bool | None = None) -> Iterator[OnStart | None]:
    """``on_start`` for the library, or None when quiet. ``quiet=None`` (the default) shows the
    bars only where someone is watching (``interactive``); True never; False wherever it can."""
    if quiet is None:
        quiet = not interactive()
    if quiet:
        yield None
    elif in_notebook():
        yield _notebook_bar
    else:
        # rich's bar writes control codes only to a terminal; elsewhere it stays silent even when asked.
        with progress_bar(Console(stderr=True), quiet=False) as bar:
            def on_start(name: str, seeds: int | None = None, total: int | None = None) -> OnProgress:
                task = bar.add_task(name, total=total or 1, seeds=seeds)
                return lambda done, epochs: bar.update(task, completed=done, total=epochs)
            yield on_start


@contextmanager
def shown(on_start: OnStart | None, quiet: bool | None) -> Iterator[OnStart | None]:
    """The caller's own ``on_start`` when it gives one (the command line's bars), else ``progress``."""
    if on_start is not None:
        yield on_start
        return
    with progress(quiet) as made:
        yield made


def _notebook_bar(name: str, seeds: int | None = None, total: int | None = None) -> OnProgress:
    """One bar in the cell's output, updated in place; returns its ``on_progress``."""
    from IPython.display import display

    bar = NotebookBar(name, seeds, total or 0)
    handle = display(bar, display_id=True)

    def on_progress(done: int, epochs: int) -> None:
        if bar.advance(done, epochs):
            handle.update(bar)

    return on_progress


class NotebookBar:
    """One training's progress as HTML (for notebooks) and as text (for any other front end)."""

    def __init__(self, name: str, seeds: int | None, total: int):
        self.name, self.seeds, self.total, self.done = name, seeds, total, 0
        self.began = time.monotonic()
        self.drawn = float("-inf")

    def advance(self, done: int, epochs: int) -> bool:
        """Record progress; whether the bar should be redrawn now (always at the end)."""
        self.done, self.total = done, epochs
        now = time.monotonic()
        if done >= epochs or now - self.drawn >= REDRAW_SECONDS:
            self.drawn = now
            return True
        return False

    def _words(self) -> str:
        seeds = f" x {self.seeds} seeds" if self.seeds else ""
        elapsed = time.monotonic() - self.began
        if self.total and self.done >= self.total:
            when = f"done in {elapsed:.1f} s"
        elif self.done:
            when = f"about {elapsed * (self.total - self.done) / self.done:.0f} s left"
        else:
            when = "starting (compiling)"
        return f"{self.name}: {self.done}/{self.total or '?'} epochs{seeds}, {when}"

    def __repr__(self) -> str:
        return self._words()

    def _repr_html_(self) -> str:
        return (f"<div><progress value='{self.done}' max='{max(self.total, 1)}' style='width:18em'></progress> "
                f"<code>{html.escape(self._words())}</code></div>")
