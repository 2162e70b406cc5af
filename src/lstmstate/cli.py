"""The command line: each command parses its arguments, calls the library once, and prints.

Errors a user can cause (a bad name, a bad number, an unwritable folder) end in one line on
stderr and exit code 2, never a traceback; Ctrl-C ends with what was kept and exit code 130,
SIGTERM the same way with exit code 143.
"""

import signal
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
# inspect's heatmap has a column per symbol: past this it is unreadable, takes minutes to draw,
# and soon exceeds what matplotlib draws (2^16 pixels a side).
HEATMAP_SYMBOLS = 1000
# run, suite, train and compare: a --out that holds a run is refused without it (storage.runfolder.prepare).
_OVERWRITE = typer.Option(False, "--overwrite", help="replace the run already in --out (its results, report "
                          "and saved experiments); without it such a folder is refused")


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
        streams: int | None = typer.Option(None, min=1, help="stateful experiments: train as B parallel streams"),
        overwrite: bool = _OVERWRITE) -> None:
    """Run one experiment: the tutorial-style output of the median seed, then the population."""
    folder = suite.prepare(out, [name], seeds, epochs, units, streams, overwrite) if out is not None else None
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
              quiet: bool = typer.Option(False, help="no progress bar"),
              controls: bool = typer.Option(False, help="also the controls on encoding and letter order "
                                            "(Dense on one-hot, the scrambled alphabet); slower"),
              overwrite: bool = _OVERWRITE) -> None:
    """Run every experiment over many seeds; print results and the verdict on each claim."""
    names = list(registry.DEFAULT_SUITE) + (list(registry.CONTROLS) if controls else [])
    folder = suite.prepare(out, names, seeds, epochs, overwrite=overwrite)
    with progress_bar(console, quiet) as bar:
        suite_run = suite.run_suite(names, seeds, folder, epochs=epochs, on_start=_progress(bar))
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
    claims = Table("claim", "the tutorial says", "measured", "verdict", "rule", title="Claims", show_lines=True)
    for verdict in payload["verdicts"]:
        # The rule is shown with the verdict: what was compared, the threshold, and why.
        claims.add_row(verdict["claim"], verdict["tutorial_says"], verdict["measured"], verdict["verdict"],
                       verdict.get("rule", ""))
    console.print(claims)


# ---- commands for saved runs: generate, export, inspect (state you can use) ----


def _load_saved(run_dir: Path, experiment: str | None):
    from lstmstate.trained import saved  # imported on use: the other commands do not need it
    return saved.load(run_dir, experiment)


def _seed_words(saved, index: int) -> str:
    return f"{saved.name}, seed {saved.seeds[index]} (index {index} of {len(saved.seeds)})"


@app.command()
def generate(run_dir: Path = typer.Argument(..., help="a folder written by run/suite/train --out"),
             experiment: str | None = typer.Option(None, help="experiment in the folder (needed if it holds several)"),
             seed_index: int | None = typer.Option(None, help="which seed, 0-based (default: the median seed)"),
             start: str | None = typer.Option(None, help="the symbol to start from, e.g. K (default: the prime's last symbol)"),
             prime: str = typer.Option("", help="context fed first, e.g. ABCDEFGHIJ (default: a cold start)"),
             prime_file: Path | None = typer.Option(None, help="context fed first, from a UTF-8 text file split as "
                                                    "the training text was (characters, words or lines)"),
             steps: int = typer.Option(5, min=1, help="symbols to generate"),
             temperature: float = typer.Option(0.0, help="0: the most probable symbol at each step; above 0: drawn "
                                               "from the softmax sharpened by it (below 1 sharper, above 1 flatter)"),
             sample_seed: int = typer.Option(0, help="the random seed of the draws (temperature above 0): the same "
                                             "seed gives the same symbols"),
             text: bool = typer.Option(False, "--text", help="print only the generated symbols, as text (characters "
                                       "joined, words by spaces, lines by newlines), not one line per step")) -> None:
    """Generate from a saved seed: each next symbol fed back as input, the state carried (stateful) or the window slid (stateless)."""
    from lstmstate.trained.sampling import Sampling

    sampling = Sampling(temperature, sample_seed)
    if prime and prime_file is not None:
        raise UserError("give the context with --prime or with --prime-file, not both")
    saved = _load_saved(run_dir, experiment)
    index = saved.seed_index(seed_index)
    context = saved.read_prime(prime_file) if prime_file is not None else saved.symbols(prime)
    if start is None:
        if not context:
            raise UserError("nothing to start from: give --start (a symbol), or a prime to continue")
        start, context = context[-1], context[:-1]  # continue the prime from its last symbol
    # Checked now, made in compiled blocks: each block is printed as soon as it exists, so a long
    # generation shows its progress and a stop (Ctrl-C, SIGTERM) keeps what was printed.
    blocks = saved.generate_blocks(start, steps, context, index, sampling)
    if saved.stateful:
        if prime_file is not None:
            how = f"primed with {prime_file} ({len(context)} symbols), then {start!r}"
        else:
            how = f"primed with {''.join(context)}, then {start}" if context else f"cold start at {start} (zero state)"
        header = f"{_seed_words(saved, index)}: stateful stream, {how}"
    else:
        header = (f"{_seed_words(saved, index)}: stateless, a window of {saved.window_size} symbol(s) slid over "
                  "its predictions (no state between windows)")
    if not sampling.greedy:
        header += f"; {sampling.describe()}"
    if text:
        # The text alone on stdout, to be piped or saved; what made it on stderr.
        print(header, file=sys.stderr, flush=True)
        separator = _TEXT_SEPARATORS.get(saved.tokens, "")
        for number, block in enumerate(blocks):
            print(("" if number == 0 else separator) + separator.join(step.predicted for step in block),
                  end="", flush=True)
        print(flush=True)
        return
    print(header, flush=True)
    for block in blocks:
        if saved.stateful:
            lines = [f"{step.given} -> {step.predicted}" for step in block]
        else:
            lines = [f"{list(step.window)} -> {step.predicted}" for step in block]
        print("\n".join(lines), flush=True)


# How `generate --text` joins the symbols of a run whose text was split into words or lines
# (owndata.dataset.TOKENS); characters, and the tutorial's letters, are joined as they are.
_TEXT_SEPARATORS = {"word": " ", "line": "\n"}


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
    symbols = saved.symbols(sequence)
    path = png if png is not None else saved.heatmap_path(index)  # checked before the work
    trace = saved.trace(symbols, index)
    print(f"{_seed_words(saved, index)}: state after each symbol, from a zero state "
          f"(h and c: {trace.h.shape[0]} steps x {trace.h.shape[1]} units)")
    for line in state_trace.compact_lines(trace):
        print(line)
    if len(symbols) > HEATMAP_SYMBOLS:
        print(f"heatmap not drawn: {len(symbols)} symbols are more columns than it shows ({HEATMAP_SYMBOLS}); "
              "give a shorter --sequence for one")
        return
    try:
        figures.save_png(figures.state_trace_heatmaps(trace, f"{saved.name}, seed {saved.seeds[index]}"), path)
    except OSError as error:
        raise UserError(f"cannot write the heatmap {path}: {error.strerror or error}") from None
    print(f"heatmap written to {path}")


# ---- commands for a saved model of numbers: forecast, backtest ----


@app.command()
def forecast(run_dir: Path = typer.Argument(..., help="a folder written by train/compare --out on a CSV"),
             horizon: int = typer.Option(..., help="values to forecast after the origin"),
             origin: int | None = typer.Option(None, help="the last row (from 0) the forecast reads (default: the last)"),
             framing: str | None = typer.Option(None, help="the framing in the folder (needed if it holds several)"),
             data: Path | None = typer.Option(None, help="the CSV the run was trained on (default: the recorded path)"),
             out: Path | None = typer.Option(None, help="write the forecast as CSV here"),
             png: Path | None = typer.Option(None, help="figure of history, forecast and band (default: none)")) -> None:
    """Forecast H values of a saved model of numbers, recursively, by every seed: median and 5-95% band."""
    from lstmstate.output import figures
    from lstmstate.owndata import forecast as forecasting
    from lstmstate.storage.files import write_atomically

    saved = _load_saved(run_dir, framing)
    # Checked before the work (sizes, labels, --out and --png); a stop keeps the steps made.
    try:
        result, stopped = forecasting.forecast_of(saved, forecasting.series(saved, data), horizon, origin, out, png), None
    except forecasting.Stopped as stop:
        if stop.finished is None:
            raise
        result, stopped = stop.finished, stop
    (low, high), median = result.band, result.median
    shown = min(result.horizon, forecasting.SHOWN_STEPS)
    table = Table("step", result.time_column or "row", "median", "5%", "95%",
                  title=f"{saved.name}: {result.horizon} values after row {result.origin}, over {len(result.per_seed)} seeds")
    for h in range(shown):
        table.add_row(str(h + 1), result.labels[h], f"{median[h]:.4g}", f"{low[h]:.4g}", f"{high[h]:.4g}")
    console.print(table)
    if shown < result.horizon:
        print(f"the first {shown} of {result.horizon} steps shown; " + ("--out has them all" if out is not None
                                                                        else "give --out F.csv for all of them"))
    if out is not None:
        try:
            write_atomically(out, result.csv().encode())
        except OSError as error:
            raise UserError(f"cannot write {out}: {error.strerror or error}") from None
        print(f"forecast written to {out}")
    if png is not None:
        try:
            figures.save_png(figures.forecast_band(result.history, result.origin, median, low, high, result.actual,
                                                   f"{saved.name}: forecast over {len(result.per_seed)} seeds"), png)
        except OSError as error:
            raise UserError(f"cannot write the figure {png}: {error.strerror or error}") from None
        print(f"figure written to {png}")
    if stopped is not None:
        raise runfolder.Interrupted(f"interrupted: kept the first {result.horizon} of {horizon} steps")


@app.command()
def backtest(run_dir: Path = typer.Argument(..., help="a folder written by train/compare --out on a CSV"),
             horizon: int = typer.Option(..., help="values forecast from each origin"),
             stride: int = typer.Option(1, help="rows between origins"),
             framing: str | None = typer.Option(None, help="the framing in the folder (needed if it holds several)"),
             data: Path | None = typer.Option(None, help="the CSV the run was trained on (default: the recorded path)"),
             season: int | None = typer.Option(None, help="the seasonal naive baseline's season (default: as trained)")
             ) -> None:
    """Forecast H steps from every origin of the held-out part; errors per step beside the baselines."""
    from lstmstate.owndata import backtest as backtesting
    from lstmstate.owndata import forecast as forecasting

    saved = _load_saved(run_dir, framing)
    result = backtesting.run(saved, horizon, stride, forecasting.series(saved, data), season)
    # Kept in the run's results.json (the report shows it) when the folder is a whole run.
    run_folder = saved.folder.parent if saved.folder is not None else None
    if run_folder is not None and (run_folder / runfolder.RESULTS).is_file():
        block = backtesting.record(run_folder, result)
    else:
        block = result.payload()
    seeds = len(result.seeds)
    table = Table("step", f"LSTM RMSE ({seeds} seeds)", "95% interval", *result.baselines, "LSTM MASE",
                  title=f"{saved.name}: RMSE of {horizon}-step forecasts from {len(result.origins)} held-out origins")
    for h in range(horizon):
        low, high = block["lstm"]["rmse"]["ci95"][h]
        table.add_row(str(h + 1), f"{block['lstm']['rmse']['mean'][h]:.4g}", f"{low:.4g}..{high:.4g}",
                      *(f"{block['baselines'][name]['rmse']['per_step'][h]:.4g}" for name in result.baselines),
                      f"{block['lstm']['mase']['mean'][h]:.3g}")
    overall = block["lstm"]["rmse"]["overall"]
    table.add_row("all", f"{overall['mean']:.4g}", f"{overall['ci95'][0]:.4g}..{overall['ci95'][1]:.4g}",
                  *(f"{block['baselines'][name]['rmse']['overall']:.4g}" for name in result.baselines),
                  f"{block['lstm']['mase']['overall']['mean']:.3g}", style="bold")
    console.print(table)
    for line in block["verdicts"]:
        print(line)
    if run_folder is not None and (run_folder / runfolder.RESULTS).is_file():
        print(f"backtest kept in {run_folder / runfolder.RESULTS}; `lstmstate report {run_folder}` shows it")


# ---- commands for the user's own data: train, compare ----

DATA_HELP = "a UTF-8 text file (symbols) or a CSV file with a header row (numbers)"


def _print_outcome(outcome) -> None:
    from lstmstate.owndata import training

    summary = outcome.summary()
    low, high = summary["ci95"]
    metric = "accuracy" if outcome.higher_is_better else f"RMSE of {outcome.data.target} (original units)"
    strongest = outcome.baseline
    spec, config = outcome.spec, outcome.config
    layers = f"{spec.layers} x " if spec.layers > 1 else ""
    extras = [f"bptt {config.bptt}" if config.bptt > 1 else "", f"dropout {spec.dropout:g}" if spec.dropout else "",
              f"embedding {spec.embedding}" if spec.embedding else ""]
    epochs = (f"{outcome.population.epochs} of {config.epochs} epochs (patience, on the validation part)"
              if outcome.population.epochs < config.epochs else f"{config.epochs} epochs")
    print(f"framing: {outcome.name}, {outcome.encoding} inputs, {layers}{spec.kind.upper()}({spec.units}), "
          f"{epochs}, batch size {config.batch_size}, " + "".join(f"{e}, " for e in extras if e)
          + f"{len(outcome.scores)} seeds ({outcome.seconds:.1f} s)")
    print(f"held-out {metric}: LSTM {score(outcome.metric, summary['mean'])} "
          f"[95% interval {score(outcome.metric, low)}, {score(outcome.metric, high)}] over {len(outcome.scores)} seeds, "
          f"range {score(outcome.metric, min(outcome.scores))}..{score(outcome.metric, max(outcome.scores))}; "
          f"strongest baseline {strongest.name}: {score(outcome.metric, strongest.score)}")
    if outcome.perplexities is not None:
        ppl_low, ppl_high = statistics.bootstrap_ci(outcome.perplexities)
        kneser_ney = next(b for b in outcome.baselines if b.metric == statistics.PERPLEXITY)
        print(f"held-out perplexity: LSTM {statistics.mean(outcome.perplexities):.4g} "
              f"[95% interval {ppl_low:.4g}, {ppl_high:.4g}]; {kneser_ney.name}: {kneser_ney.score:.4g}")
    _print_baselines(outcome)
    print(f"verdict: {training.against_baseline(outcome)}")
    if outcome.perplexities is not None:
        print(f"verdict on perplexity: {training.against_perplexity(outcome)}")


METRIC_WORDS = {statistics.ACCURACY: "accuracy", statistics.RMSE: "RMSE", statistics.PERPLEXITY: "perplexity"}


def _print_baselines(outcome) -> None:
    if outcome.season is not None:
        print(f"season: {outcome.season.describe()}")
    chosen = "orders and season" if outcome.season is not None else "orders"
    print(f"baselines, fitted on the training part ({chosen} chosen on the validation part) and scored on "
          f"the same {outcome.split.held_out_items} held-out targets:")
    width = max(len(b.name) for b in outcome.baselines)
    for baseline in outcome.baselines:  # the order of owndata.baselines: simplest first
        chosen = baseline.parameters.get("chosen_by") or baseline.parameters.get("season_from")
        print(f"  {baseline.name:<{width}}  {METRIC_WORDS[baseline.metric]:<10} {score(baseline.metric, baseline.score):>8}  "
              f"{baseline.description}" + (f"; {chosen}" if chosen and chosen not in baseline.description else ""))
    if outcome.ceiling is not None:
        print(f"  memoryless ceiling on the held-out part (no function of the previous symbol alone does better, "
              f"even fitted on the held-out part): {percent(outcome.ceiling)}")
    if outcome.advice is not None:
        print(f"note: {outcome.advice}")


# Options that train and compare share: one definition, so the two commands cannot drift apart.
_DATA = typer.Option(..., help=DATA_HELP)
_TOKENS = typer.Option(None, help="text: char (default), word or line")
_COLUMNS = typer.Option(None, help="CSV: comma-separated numeric columns (default: all)")
_TARGET = typer.Option(None, help="CSV: the column whose next value is predicted")
_WINDOW = typer.Option(3, help="items per sample for window framings")
_UNITS = typer.Option(32, help="LSTM units")
_EPOCHS = typer.Option(50, help="passes over the training part")
_BATCH_SIZE = typer.Option(None, help="samples per batch; streams for stateful-streams")
_HOLDOUT = typer.Option(0.2, help="the last fraction of the sequence, held out: scored once, at the end")
_VALIDATION = typer.Option(0.1, help="the fraction just before the held-out part that early stopping, --patience, "
                           "the n-gram's order, AR's order and the season are chosen on")
_ENCODING = typer.Option("auto", help="symbols: auto (one-hot up to 256 distinct symbols, an Embedding of 64 "
                         "above), one-hot, embedding, or scalar (the tutorial's id / vocabulary size)")
_SEASON = typer.Option(None, help="numbers: the baselines' season, in steps (default: the time column's calendar, "
                       "months 12, quarters 4, days 7, hours 24; else detected, chosen on the validation part)")
_TIME_COLUMN = typer.Option(None, help="CSV: the column of the rows' times (default: detected by name or dates)")
_FILL = typer.Option(None, help="CSV: fill gaps in time and empty cells: interpolate or ffill (default: refuse them)")
_HORIZON = typer.Option(1, help="numbers, window framings: train a direct model of the next H values "
                        "(forecast then reads them at once)")
_DIFFERENCING = typer.Option(0, help="numbers: 1 trains on changes (for series with a trend) and sums "
                             "the predicted changes back into levels")
_LAYERS = typer.Option(1, help="stacked recurrent layers, each carrying its own state")
_CELL = typer.Option("lstm", help="the recurrent cell: lstm or gru")
_DROPOUT = typer.Option(0.0, help="fraction dropped between layers and before the head while training (0 to <1)")
_EMBEDDING = typer.Option(0, help="symbols: feed ids through a Keras Embedding of this width (0: one-hot or scalar)")
_LEARNING_RATE = typer.Option(0.001, help="Adam's learning rate")
_CLIP_NORM = typer.Option(None, help="clip the gradients' global norm to this (Adam's global_clipnorm)")


@app.command("train")
def train_on_data(
        ctx: typer.Context,
        data: Path | None = typer.Option(None, help=DATA_HELP + " (not needed with --resume)"),
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
        validation: float = _VALIDATION,
        encoding: str = _ENCODING,
        season: int | None = _SEASON,
        horizon: int = _HORIZON,
        time_column: str | None = _TIME_COLUMN,
        fill: str | None = _FILL,
        differencing: int = _DIFFERENCING,
        layers: int = _LAYERS,
        cell: str = _CELL,
        bptt: int = typer.Option(1, help="stateful framings: steps of each stream per gradient step, a target at "
                                 "every step (truncated backpropagation through time; 1: the tutorial's loop)"),
        reset: str = typer.Option("epoch", help="stateful framings: restart the carried state at each epoch, or never"),
        dropout: float = _DROPOUT,
        embedding: int = _EMBEDDING,
        learning_rate: float = _LEARNING_RATE,
        clip_norm: float | None = _CLIP_NORM,
        validate_every: int | None = typer.Option(None, help="epochs between evaluations of the validation part "
                                                  "(default: about 20 over the run)"),
        patience: int | None = typer.Option(None, help="keep each seed's best weights by validation loss; stop when "
                                            "no seed has improved for this many evaluations"),
        checkpoint_every: int | None = typer.Option(None, help="with --out: keep a checkpoint every E epochs "
                                                    "(one is also kept on Ctrl-C)"),
        tensorboard: Path | None = typer.Option(None, help="folder for TensorBoard event files, one run per seed"),
        resume: Path | None = typer.Option(None, help="go on with the run stopped in this folder (its checkpoint); "
                                           "options given must match it, the others are taken from it"),
        out: Path | None = typer.Option(None, help="folder for results.json and the saved run"),
        quiet: bool = typer.Option(False, help="no progress bar"),
        overwrite: bool = _OVERWRITE) -> None:
    """Learn next-item prediction on your own sequence; score it on the held-out tail beside a baseline.

    On a text (--tokens), the options not given train a character (or word) language model:
    --framing stateful-streams --bptt 35 --units 128 --batch-size 32 --learning-rate 0.005 --epochs 10
    (where neither --framing nor --window is given and the fitting part holds 3,360 symbols or more).
    """
    from lstmstate.owndata import training

    options = dict(framing=framing, window=window, units=units, epochs=epochs, batch_size=batch_size, seeds=seeds,
                   holdout=holdout, validation=validation, encoding=encoding, season=season, horizon=horizon,
                   differencing=differencing,
                   layers=layers, cell=cell, bptt=bptt, reset=reset, dropout=dropout, embedding=embedding,
                   learning_rate=learning_rate, clip_norm=clip_norm, validate_every=validate_every,
                   patience=patience, checkpoint_every=checkpoint_every)
    resumed = None
    if resume is not None:
        if out is not None and Path(out).resolve() != Path(resume).resolve():
            raise UserError(f"--resume {resume} writes its results there; --out {out} names another folder")
        if overwrite:
            raise UserError("--resume goes on with a run; it cannot be combined with --overwrite")
        reading = dict(data=data, tokens=tokens, columns=columns, target=target, time_column=time_column, fill=fill)
        given = {name: value for name, value in {**reading, **options}.items() if _given(ctx, name)}
        dataset, plan, split, resumed = training.resume(resume, given)
        out = resume
        print(f"resuming {resume} after epoch {resumed['epochs']} of {plan.epochs}")
    elif data is None:
        raise UserError("train needs --data FILE (a .txt or .csv), or --resume DIR to go on with a stopped run")
    else:
        chosen = {name for name in options if _given(ctx, name)}  # on a text, the rest take training.TEXT_DEFAULTS
        dataset, plan, split = training.prepare(data, tokens, columns, target, time_column, fill, chosen=chosen,
                                                **options)
    folder = runfolder.prepare(out, [plan.framing], overwrite, report=False) if out is not None else None
    print(f"data: {dataset.source}, {dataset.describe()}; {split.describe()}")
    with progress_bar(console, quiet) as bar:
        outcome = training.run(dataset, plan, folder, on_progress=_progress(bar, plan.epochs)(plan.framing),
                               resumed=resumed, tensorboard=tensorboard)
    _print_outcome(outcome)
    if tensorboard is not None:
        print(f"TensorBoard event files: {tensorboard} (tensorboard --logdir {tensorboard})")
    if folder is not None:
        _print_written(folder)


def _given(ctx: typer.Context, name: str) -> bool:
    """Whether option ``name`` was set on the command line (or its environment), not defaulted."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


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
        validation: float = _VALIDATION,
        encoding: str = _ENCODING,
        season: int | None = _SEASON,
        horizon: int = _HORIZON,
        time_column: str | None = _TIME_COLUMN,
        fill: str | None = _FILL,
        differencing: int = _DIFFERENCING,
        layers: int = _LAYERS,
        cell: str = _CELL,
        dropout: float = _DROPOUT,
        embedding: int = _EMBEDDING,
        learning_rate: float = _LEARNING_RATE,
        clip_norm: float | None = _CLIP_NORM,
        out: Path | None = typer.Option(None, help="folder for results.json and every framing's saved run"),
        quiet: bool = typer.Option(False, help="no progress bar"),
        overwrite: bool = _OVERWRITE) -> None:
    """Train every applicable framing on your data; rank them by held-out score and say which to use."""
    from lstmstate.owndata import comparison, training

    dataset, plan, split = training.prepare(data, tokens, columns, target, time_column, fill, window=window, units=units,
                                            epochs=epochs, batch_size=batch_size, seeds=seeds, holdout=holdout,
                                            validation=validation,
                                            encoding=encoding, season=season,
                                            horizon=horizon, differencing=differencing, layers=layers, cell=cell,
                                            dropout=dropout, embedding=embedding, learning_rate=learning_rate,
                                            clip_norm=clip_norm)
    comparison.check(dataset, plan)
    folder = (runfolder.prepare(out, comparison.applicable(plan)[0], overwrite, report=False)
              if out is not None else None)
    print(f"data: {data}, {dataset.describe()}; {split.describe()}")
    with progress_bar(console, quiet) as bar:
        result = comparison.run(dataset, plan, folder, on_start=_progress(bar, epochs))
    best = result.best
    metric = "accuracy" if best.higher_is_better else f"RMSE of {best.data.target}"
    table = Table("#", "framing or baseline", "mean", "95% interval", "range over seeds", "batch", "seconds",
                  title=f"Framings and baselines ranked by held-out {metric} ({len(best.scores)} seeds each)")
    for rank, row in enumerate(result.table(), 1):
        if row.outcome is None:
            table.add_row(str(rank), f"baseline: {row.name}", score(best.metric, row.mean), "-", "-", "-", "-",
                          style="italic")
            continue
        outcome = row.outcome
        low, high = statistics.bootstrap_ci(outcome.scores)
        table.add_row(str(rank), outcome.name, score(best.metric, row.mean),
                      f"{score(best.metric, low)}..{score(best.metric, high)}",
                      f"{score(best.metric, min(outcome.scores))}..{score(best.metric, max(outcome.scores))}",
                      str(outcome.config.batch_size), f"{outcome.seconds:.1f}")
    console.print(table)
    _print_baselines(best)
    for name, why in result.skipped:
        print(f"not run: {name} ({why})")
    print(result.recommendation())
    if folder is not None:
        _print_written(folder)


# ---- commands for sweeps: sweep ----


@app.command("sweep", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def sweep_grid(
        context: typer.Context,
        experiments: str | None = typer.Option(None, help="the tutorial's experiments to sweep, comma-separated "
                                               "(see `lstmstate list`)"),
        data: Path | None = typer.Option(None, help=DATA_HELP + "; the sweep is then over the `train` options"),
        tokens: str | None = _TOKENS,
        columns: str | None = _COLUMNS,
        target: str | None = _TARGET,
        time_column: str | None = _TIME_COLUMN,
        fill: str | None = _FILL,
        grid: Path | None = typer.Option(None, help="a TOML grid file, one parameter a line: units = [16, 32]"),
        seeds: int = typer.Option(10, min=1, help="seeds of every configuration, trained as one population"),
        out: Path = typer.Option(..., help="the sweep folder; the same command with the same --out goes on "
                                 "where a stopped sweep ended"),
        address: str | None = typer.Option(None, help="join a running Ray cluster: auto, or HOST:PORT of "
                                           "`ray start --head` (default: start Ray here, on this machine's CPUs)"),
        cpus: int | None = typer.Option(None, min=1, help="Ray started here: the CPUs it may use (default: all)"),
        block_size: int | None = typer.Option(None, min=1, help="tutorial experiments: split each population into "
                                              "tasks of at most this many seeds (default: one task a configuration)"),
        quiet: bool = typer.Option(False, help="no progress bar")) -> None:
    """Sweep a grid on Ray: --units 16,32 --framing window-timesteps,stateful (any `train` option with --data;
    --epochs, --units, --streams of the tutorial's --experiments), each configuration's seeds as one population."""
    from lstmstate.sweep import execution, page
    from lstmstate.sweep import grid as grids
    from lstmstate.sweep.progress import sweep_bar

    given = grids.split_arguments(context.args)
    if experiments is not None:
        given[grids.EXPERIMENT] = experiments
    kind = grids.OWN_DATA if data is not None else grids.TUTORIAL
    swept = grids.make(kind, given, grids.read_file(grid) if grid is not None else None)
    options = None if data is None else {"path": data, "tokens": tokens, "columns": columns, "target": target,
                                         "time_column": time_column, "fill": fill}
    with sweep_bar(console, quiet) as on_progress:
        result = execution.run(swept, seeds, out, options, address=address, cpus=cpus, block_size=block_size,
                               on_progress=on_progress)
    table = Table(*page.HEADER, title=f"Configurations ranked ({seeds} seeds each; {result.payload['cluster']['address']}, "
                  f"{result.payload['cluster']['nodes']} node(s), {result.payload['cluster']['cpus']} CPUs)")
    for row in page.rows(result.payload):
        table.add_row(*row, style="red" if row[-1].startswith("error: ") else None)
    console.print(table)
    failed = sum(1 for record in result.records if record["status"] != "done")
    print(f"{result.trained} configuration(s) trained, {result.resumed} read back from an earlier sweep, "
          f"{failed} failed; {result.seconds:.1f} s")
    console.print(f"sweep written to {result.folder}/sweep.json and sweep.html; each configuration's run folder "
                  f"is {result.folder}/NAME")


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
    """Entry point: run the app, turning user errors into one line and exit code 2, and a stop
    (Ctrl-C, or SIGTERM handled the same way) into one line and exit code 130 or 143."""
    command = typer.main.get_command(app)
    stopped_by.clear()
    try:
        previous = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (an embedding program's): its signals stay its own
        previous = None
    try:
        # Typer turns a KeyboardInterrupt it sees into exit code 130, returned (not raised) here
        # without standalone mode; older versions raise Abort. Either is a stop.
        code = command.main(standalone_mode=False)
        if isinstance(code, int) and code != 0:
            raise KeyboardInterrupt
    except (typer.Abort, KeyboardInterrupt):
        print(f"interrupted{_signal_words()}: stopped before the command finished", file=sys.stderr)
        sys.exit(_stop_code())
    except _NO_ARGS_IS_HELP as error:
        print(error.format_message())  # the help text, asked for by giving no arguments
        sys.exit(0)
    except click_exceptions.ClickException as error:
        print(f"error: {error.format_message()}", file=sys.stderr)
        sys.exit(2)
    except runfolder.Interrupted as error:
        print(f"{error}{_signal_words()}", file=sys.stderr)
        sys.exit(_stop_code())
    except (UserError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except OSError as error:  # the disk, not the request (full, gone, read-only): still one line
        where = f" ({error.filename})" if error.filename else ""
        print(f"error: {error.strerror or error}{where}", file=sys.stderr)
        sys.exit(2)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


# The signals that stopped this command; a shell reports a command stopped by signal N as 128 + N.
stopped_by: list[int] = []


def _terminate(signum, frame) -> None:
    """SIGTERM (what kill, systemd, Kubernetes and CI send) handled as Ctrl-C is: raised as
    KeyboardInterrupt where the command is, so it keeps what finished and writes the report."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop is under way: a second must not cut the report short
    stopped_by.append(signum)
    raise KeyboardInterrupt


def _signal_words() -> str:
    return f" (by {signal.Signals(stopped_by[0]).name})" if stopped_by else ""


def _stop_code() -> int:
    return 128 + stopped_by[0] if stopped_by else 130
