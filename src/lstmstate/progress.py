"""Progress display: a bar per experiment with epochs done and time left, on a terminal only."""

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def progress_bar(console: Console, quiet: bool = False):
    """A rich progress display, disabled with ``quiet`` or when output is not a terminal
    (logs and pipes get no bar control codes)."""
    progress = Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("epochs"), TimeRemainingColumn(), console=console,
                        disable=quiet or not console.is_terminal, transient=False)
    with progress:
        yield progress
