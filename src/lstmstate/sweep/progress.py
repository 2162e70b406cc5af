"""The sweep's progress bar: one bar over every configuration's seeds, with the configurations
done and the time left, on a terminal only."""

from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn


@contextmanager
def sweep_bar(console: Console, quiet: bool = False):
    """``on_progress(seeds done, seeds, configurations done, configurations)`` for
    ``execution.run``, drawing one bar; nothing with ``quiet`` or when output is not a terminal."""
    progress = Progress(TextColumn("sweep"), BarColumn(), TextColumn("{task.completed}/{task.total} seeds"),
                        TextColumn("{task.fields[configurations]}"), TimeElapsedColumn(), TextColumn("time left"),
                        TimeRemainingColumn(), console=console, disable=quiet or not console.is_terminal)
    task = progress.add_task("sweep", total=None, configurations="")

    first = []

    def on_progress(seeds_done: int, seeds: int, done: int, configurations: int) -> None:
        # Seeds, not configurations, fill the bar: with seed blocks a configuration is done in parts.
        words = f"{done}/{configurations} configurations"
        if not first:  # what a resumed sweep read back took no time: it must not count as speed
            first.append(True)
            progress.reset(task, completed=seeds_done, total=seeds, configurations=words)
        else:
            progress.update(task, completed=seeds_done, total=seeds, configurations=words)

    with progress:
        yield on_progress
