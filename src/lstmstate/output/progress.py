"""Progress display: a bar per experiment with epochs done, seeds trained at once and time left,
on a terminal only."""

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text


@contextmanager
def progress_bar(console: Console, quiet: bool = False):
    """A rich progress display, disabled with ``quiet`` or when output is not a terminal
    (logs and pipes get no bar control codes). Tasks may carry ``seeds=N``: every seed trains
    in the same epoch, so one bar of epochs covers them all."""
    progress = Progress(TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(),
                        _Seeds(), TextColumn("time left"), TimeRemainingColumn(), console=console,
                        disable=quiet or not console.is_terminal, transient=False)
    with progress:
        yield progress


class _Seeds(ProgressColumn):
    """"epochs x N seeds" for a task that says how many seeds it trains, else "epochs"."""

    def render(self, task) -> Text:
        seeds = task.fields.get("seeds")
        return Text(f"epochs x {seeds} seeds" if seeds else "epochs")
