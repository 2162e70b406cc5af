"""The command line: each command parses its arguments, calls the library once, and prints.

Errors a user can cause (a bad name, a bad number, an unwritable folder) end in one line on
stderr and exit code 2, never a traceback; Ctrl-C ends with what was kept and exit code 130.
"""

import sys
import warnings
from pathlib import Path

import typer

try:  # typer >= 0.20 vendors its own click; its exceptions are not click's
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover - older typer on plain click
    from click import exceptions as click_exceptions
from rich.console import Console
from rich.table import Table

from lstmstate.core import statistics
from lstmstate.output import report
from lstmstate.output.formatting import percent, score, share_of_seeds
from lstmstate.output.progress import progress_bar
from lstmstate.storage import runfolder
from lstmstate.tutorial import experiments as registry
from lstmstate.tutorial.outcome import Outcome, transcript_lines
from lstmstate.tutorial import suite

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Understand and use LSTM state: the stateful-LSTM tutorial on Keras 3 + JAX, over many seeds.")
# Tables wider than 80 columns stay readable in logs and pipes, where rich cannot ask the terminal.
console = Console(width=None if Console().is_terminal else 160)

DEFAULT_SEEDS = 20  # enough for a 95% interval a few points wide


class UserError(Exception):
    """A mistake in what the user asked for: reported in one line, exit code 2."""


def _progress(bar, total: int | None = None):
    """``on_start(name, seeds)`` for the library: a bar per experiment or framing."""
    def on_start(name: str, seeds: int | None = None):
        task = bar.add_task(name, total=total or 1, seeds=seeds)
        return lambda done, epochs: bar.update(task, completed=done, total=epochs)
    return on_start


@app.command("list")
def list_experiments() -> None:
    """List the experiments."""
    table = Table("experiment", "tutorial's section", "tutorial's figure", "what it shows")
    for experiment in registry.EXPERIMENTS.values():
        table.add_row(experiment.name, experiment.section, percent(experiment.published_accuracy), experiment.shows)
    console.print(table)


@app.command()
def run(name: str = typer.Argument(..., help="experiment name (see `lstmstate list`)"),
        seeds: int = typer.Option(DEFAULT_SEEDS, min=1, help="number of seeds trained at once"),
        epochs: int | None = typer.Option(None, min=1, help="override the published epochs"),
        units: int | None = typer.Option(None, min=1, help="override the published LSTM units"),
        out: Path | None = typer.Option(None, help="folder for results.json and weights"),
        quiet: bool = typer.Option(False, help="no progress bar"),
        streams: int | None = typer.Option(None, min=1, help="stateful experiments: train as B parallel streams")) -> None:
    """Run one experiment: the tutorial-style output of the median seed, then the population."""
    folder = runfolder.prepare(out) if out is not None else None
    # Training warnings (a sequence trimmed to fit the streams) are shown as one line each, as they happen.
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = lambda message, *_: print(f"warning: {message}", file=sys.stderr)
        with progress_bar(console, quiet) as bar:
            suite_run = suite.run_suite([name], seeds, folder, epochs=epochs, units=units, streams=streams,
                                        on_start=_progress(bar))
    (outcome,) = suite_run.outcomes
    _print_transcript(outcome)
    _print_population(outcome)
    if folder is not None:
        _print_written(folder, with_report=True)


def _print_written(folder: Path, with_report: bool = False) -> None:
    console.print(f"results written to {folder}/results.json")
    if with_report:
        console.print(f"report written to {folder}/report.html and report.md")


def _print_transcript(outcome: Outcome) -> None:
    index = outcome.median_index
    print(f"{outcome.experiment.name}: {outcome.experiment.section} "
          f"(median seed, seed {outcome.population.seeds[index]})")
    print(f"Model Accuracy: {percent(outcome.evaluation.accuracy[index])}")
    for line in transcript_lines(outcome, index):
        print(line)
    median = outcome.generation.get("median_seed") if outcome.generation else None
    if median:
        for given, predicted in median["from_A"]:
            print(f"{given} -> {predicted}")
        print(f"New start: {outcome.generation['cold_start']}")
        for given, predicted in median["cold"]:
            print(f"{given} -> {predicted}")
        print(f"Primed with {outcome.generation['prime']}, then {outcome.generation['cold_start']}:")
        for given, predicted in median["primed"]:
            print(f"{given} -> {predicted}")


def _print_population(outcome: Outcome) -> None:
    values = outcome.accuracy
    if outcome.diverged.any():
        print(f"{int(outcome.diverged.sum())} of {len(outcome.diverged)} seeds diverged "
              "(loss became NaN or infinite) and are left out of the statistics")
    low, high = statistics.bootstrap_ci(values)
    print(f"Population: {len(values)} seeds, mean {percent(statistics.mean(values))} "
          f"[95% interval {percent(low)}, {percent(high)}], {share_of_seeds(statistics.perfect_share(values))} "
          f"of seeds at 100%, range {percent(values.min())}..{percent(values.max())}; "
          f"tutorial's figure {percent(outcome.experiment.published_accuracy)}; {outcome.seconds:.1f} s")


@app.command("suite")
def run_suite(seeds: int = typer.Option(DEFAULT_SEEDS, min=1, help="number of seeds per experiment"),
              out: Path | None = typer.Option(None, help="folder for results (default: a new runs/TIMESTAMP)"),
              epochs: int | None = typer.Option(None, min=1, help="override every experiment's epochs (a quick look)"),
              quiet: bool = typer.Option(False, help="no progress bar")) -> None:
    """Run every experiment over many seeds; print results and the verdict on each claim."""
    folder = runfolder.prepare(out)
    with progress_bar(console, quiet) as bar:
        suite_run = suite.run_suite(list(registry.EXPERIMENTS), seeds, folder, epochs=epochs, on_start=_progress(bar))
    print_tables(suite_run.payload)
    _print_written(folder, with_report=True)


def print_tables(payload: dict) -> None:
    """The results table and the verdicts table of a run."""
    table = Table("experiment", "tutorial's figure", "mean [95% interval]", "at 100%", "epochs", "seconds",
                  title="Accuracy over seeds")
    for name, entry in payload["experiments"].items():
        accuracy = entry["accuracy"]
        low, high = accuracy["ci95"]
        diverged = entry.get("diverged", {}).get("count", 0)
        note = f" ({diverged} diverged, left out)" if diverged else ""
        if not accuracy["per_seed"]:
            table.add_row(name, percent(entry["published_accuracy"]), f"every seed diverged{note}", "-",
                          str(entry["epochs"]), f"{entry['seconds']:.1f}")
            continue
        table.add_row(name, percent(entry["published_accuracy"]),
                      f"{percent(accuracy['mean'])} [{percent(low)}, {percent(high)}]{note}",
                      share_of_seeds(entry["perfect_share"]), str(entry["epochs"]), f"{entry['seconds']:.1f}")
    console.print(table)
    claims = Table("claim", "the tutorial says", "measured", "verdict", title="Claims", show_lines=True)
    for verdict in payload["verdicts"]:
        claims.add_row(verdict["claim"], verdict["tutorial_says"], verdict["measured"], verdict["verdict"])
    console.print(claims)


# ---- commands for saved runs: generate, export, inspect (state you can use) ----


def _load_saved(run_dir: Path, experiment: str | None):
    from lstmstate.trained import saved  # imported on use: the other commands do not need it
    return saved.load(run_dir, experiment)


def _seed_words(saved, index: int) -> str:
    return f"{saved.name}, seed {saved.seeds[index]} (index {index} of {len(saved.seeds)})"


@app.command()
def generate(run_dir: Path = typer.Argument(..., help="a folder written by run/suite --out"),
             experiment: str | None = typer.Option(None, help="experiment in the folder (needed if it holds several)"),
             seed_index: int | None = typer.Option(None, help="which seed, 0-based (default: the median seed)"),
             start: str = typer.Option(..., help="the symbol to start from, e.g. K"),
             prime: str = typer.Option("", help="context fed first, e.g. ABCDEFGHIJ (default: a cold start)"),
             steps: int = typer.Option(5, min=1, help="symbols to generate")) -> None:
    """Generate from a saved seed: predictions fed back as inputs, the state carried (stateful) or the window slid (stateless)."""
    saved = _load_saved(run_dir, experiment)
    index = saved.seed_index(seed_index)
    context = saved.symbols(prime)
    transcript = saved.generate(start, steps, context, index)
    if saved.stateful:
        how = f"primed with {''.join(context)}, then {start}" if context else f"cold start at {start} (zero state)"
        print(f"{_seed_words(saved, index)}: stateful stream, {how}")
        for step in transcript:
            print(f"{step.given} -> {step.predicted}")
    else:
        print(f"{_seed_words(saved, index)}: stateless, a window of {len(transcript[0].window)} symbol(s) slid over "
              "its predictions (no state between windows)")
        for step in transcript:
            print(f"{list(step.window)} -> {step.predicted}")


@app.command()
def export(run_dir: Path = typer.Argument(..., help="a folder written by run/suite --out"),
           experiment: str | None = typer.Option(None, help="experiment in the folder (needed if it holds several)"),
           seed_index: int | None = typer.Option(None, help="which seed, 0-based (default: the median seed)"),
           to: Path = typer.Option(..., help="the file to write, ending in .keras")) -> None:
    """Export a saved seed as an ordinary Keras model (.keras) that plain Keras loads and runs."""
    saved = _load_saved(run_dir, experiment)
    index = saved.seed_index(seed_index)
    path = saved.export(to, index)
    print(f"wrote {path}: {_seed_words(saved, index)} as {saved.export_description()}")
    for line in saved.export_notes():
        print(line)


@app.command()
def inspect(run_dir: Path = typer.Argument(..., help="a folder written by run/suite --out"),
            sequence: str = typer.Option(..., help="the symbols to feed, e.g. ABCDEFGHIJK"),
            experiment: str | None = typer.Option(None, help="experiment in the folder (needed if it holds several)"),
            seed_index: int | None = typer.Option(None, help="which seed, 0-based (default: the median seed)"),
            png: Path | None = typer.Option(None, help="heatmap file (default: RUN_DIR/NAME/state-seedS.png)")) -> None:
    """Show a saved seed's hidden and cell state after every symbol of a sequence; write a heatmap PNG."""
    from lstmstate.output import figures
    from lstmstate.trained import state_trace

    saved = _load_saved(run_dir, experiment)
    index = saved.seed_index(seed_index)
    trace = saved.trace(saved.symbols(sequence), index)
    print(f"{_seed_words(saved, index)}: state after each symbol, from a zero state "
          f"(h and c: {trace.h.shape[0]} steps x {trace.h.shape[1]} units)")
    for line in state_trace.compact_lines(trace):
        print(line)
    path = png if png is not None else saved.folder / f"state-seed{saved.seeds[index]}.png"
    try:
        figures.save_png(figures.state_trace_heatmaps(trace, f"{saved.name}, seed {saved.seeds[index]}"), path)
    except OSError as error:
        raise UserError(f"cannot write the heatmap {path}: {error.strerror or error}") from None
    print(f"heatmap written to {path}")


# ---- commands for the user's own data: train, compare ----

DATA_HELP = "a UTF-8 text file (symbols) or a CSV file with a header row (numbers)"


def _print_outcome(outcome) -> None:
    from lstmstate.owndata import training

    summary = outcome.summary()
    low, high = summary["ci95"]
    metric = "accuracy" if outcome.higher_is_better else f"RMSE of {outcome.data.target} (original units)"
    print(f"framing: {outcome.name}, {outcome.encoding} inputs, {outcome.spec.units} units, "
          f"{outcome.config.epochs} epochs, batch size {outcome.config.batch_size}, "
          f"{len(outcome.scores)} seeds ({outcome.seconds:.1f} s)")
    print(f"held-out {metric}: {score(outcome.metric, summary['mean'])} "
          f"[95% interval {score(outcome.metric, low)}, {score(outcome.metric, high)}] over {len(outcome.scores)} seeds, "
          f"range {score(outcome.metric, min(outcome.scores))}..{score(outcome.metric, max(outcome.scores))}")
    _print_baseline(outcome)
    print(f"verdict: {training.against_baseline(outcome)}")


def _print_baseline(outcome) -> None:
    line = f"baseline, {outcome.baseline['name']}: {score(outcome.metric, outcome.baseline['score'])}"
    if outcome.ceiling is not None:
        line += f"; memoryless ceiling on the held-out part: {percent(outcome.ceiling)}"
    print(line)


# Options that train and compare share: one definition, so the two commands cannot drift apart.
_DATA = typer.Option(..., help=DATA_HELP)
_TOKENS = typer.Option(None, help="text: char (default), word or line")
_COLUMNS = typer.Option(None, help="CSV: comma-separated numeric columns (default: all)")
_TARGET = typer.Option(None, help="CSV: the column whose next value is predicted")
_WINDOW = typer.Option(3, help="items per sample for window framings")
_UNITS = typer.Option(32, help="LSTM units")
_EPOCHS = typer.Option(50, help="passes over the training part")
_BATCH_SIZE = typer.Option(None, help="samples per batch; streams for stateful-streams")
_HOLDOUT = typer.Option(0.2, help="the last fraction of the sequence, held out")
_ENCODING = typer.Option("auto", help="symbols: auto, one-hot or scalar")


@app.command("train")
def train_on_data(
        data: Path = _DATA,
        framing: str = typer.Option("window-timesteps", help="one-step, window-features, window-timesteps, "
                                    "variable-length, stateful or stateful-streams"),
        tokens: str | None = _TOKENS,
        columns: str | None = _COLUMNS,
        target: str | None = _TARGET,
        window: int = _WINDOW,
        units: int = _UNITS,
        epochs: int = _EPOCHS,
        batch_size: int | None = _BATCH_SIZE,
        seeds: int = typer.Option(10, help="seeds trained at once"),
        holdout: float = _HOLDOUT,
        encoding: str = _ENCODING,
        out: Path | None = typer.Option(None, help="folder for results.json and the saved run"),
        quiet: bool = typer.Option(False, help="no progress bar")) -> None:
    """Learn next-item prediction on your own sequence; score it on the held-out tail beside a baseline."""
    from lstmstate.owndata import training

    dataset, plan, split = training.prepare(data, tokens, columns, target, framing=framing, window=window,
                                            units=units, epochs=epochs, batch_size=batch_size, seeds=seeds,
                                            holdout=holdout, encoding=encoding)
    folder = runfolder.prepare(out) if out is not None else None
    print(f"data: {data}, {dataset.describe()}; {split.describe()}")
    with progress_bar(console, quiet) as bar:
        outcome = training.run(dataset, plan, folder, on_progress=_progress(bar, epochs)(framing))
    _print_outcome(outcome)
    if folder is not None:
        _print_written(folder)


@app.command("compare")
def compare_framings(
        data: Path = _DATA,
        tokens: str | None = _TOKENS,
        columns: str | None = _COLUMNS,
        target: str | None = _TARGET,
        window: int = _WINDOW,
        units: int = _UNITS,
        epochs: int = _EPOCHS,
        batch_size: int | None = _BATCH_SIZE,
        seeds: int = typer.Option(10, help="seeds trained at once, per framing"),
        holdout: float = _HOLDOUT,
        encoding: str = _ENCODING,
        out: Path | None = typer.Option(None, help="folder for results.json and every framing's saved run"),
        quiet: bool = typer.Option(False, help="no progress bar")) -> None:
    """Train every applicable framing on your data; rank them by held-out score and say which to use."""
    from lstmstate.owndata import comparison, training

    dataset, plan, split = training.prepare(data, tokens, columns, target, window=window, units=units,
                                            epochs=epochs, batch_size=batch_size, seeds=seeds, holdout=holdout,
                                            encoding=encoding)
    comparison.check(dataset, plan)
    folder = runfolder.prepare(out) if out is not None else None
    print(f"data: {data}, {dataset.describe()}; {split.describe()}")
    with progress_bar(console, quiet) as bar:
        result = comparison.run(dataset, plan, folder, on_start=_progress(bar, epochs))
    best = result.best
    metric = "accuracy" if best.higher_is_better else f"RMSE of {best.data.target}"
    table = Table("#", "framing", "mean", "95% interval", "range over seeds", "batch", "seconds",
                  title=f"Framings ranked by held-out {metric} ({len(best.scores)} seeds each)")
    for rank, outcome in enumerate(result.ranked, 1):
        summary = outcome.summary()
        low, high = summary["ci95"]
        table.add_row(str(rank), outcome.name, score(best.metric, summary["mean"]),
                      f"{score(best.metric, low)}..{score(best.metric, high)}",
                      f"{score(best.metric, min(outcome.scores))}..{score(best.metric, max(outcome.scores))}",
                      str(outcome.config.batch_size), f"{outcome.seconds:.1f}")
    console.print(table)
    _print_baseline(best)
    for name, why in result.skipped:
        print(f"not run: {name} ({why})")
    print(result.recommendation())
    if folder is not None:
        _print_written(folder)


# ---- commands for reports: report ----


@app.command("report")
def write_report(run_dir: Path = typer.Argument(..., help="a run folder written by `run --out` or `suite`")) -> None:
    """Regenerate report.html and report.md of a run folder from its saved results."""
    try:
        html_path, md_path = report.write_report(run_dir)
    except OSError as error:
        raise UserError(f"cannot write the report in {run_dir}: {error.strerror or error}") from None
    console.print(f"report written to {html_path} and {md_path}")


# click >= 8.2 raises this for a bare `lstmstate`; older versions print the help themselves.
_NO_ARGS_IS_HELP = getattr(click_exceptions, "NoArgsIsHelpError", ())


def main() -> None:
    """Entry point: run the app, turning user errors into one line and exit code 2."""
    command = typer.main.get_command(app)
    try:
        command.main(standalone_mode=False)
    except typer.Abort:
        sys.exit(130)
    except _NO_ARGS_IS_HELP as error:
        print(error.format_message())  # the help text, asked for by giving no arguments
        sys.exit(0)
    except click_exceptions.ClickException as error:
        print(f"error: {error.format_message()}", file=sys.stderr)
        sys.exit(2)
    except runfolder.Interrupted as error:
        print(error, file=sys.stderr)
        sys.exit(130)
    except (UserError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
