"""The command line: each command parses its arguments, calls the library once, and prints.

`train`, `compare` and `suite` are the Python API's ``fit``, ``compare`` and ``suite`` (the same
numbers); their plan options are made from ``owndata.plan.Plan``'s fields, each flag's default and
help the field's own. What is printed comes from ``output.terminal``, over the results.json blocks
the report reads.

Errors a user can cause (a bad name, a bad number, an unwritable folder) end in one line on
stderr and exit code 2, never a traceback; Ctrl-C ends with what was kept and exit code 130,
SIGTERM the same way with exit code 143 (``output.exits``).
"""

import sys
import types
import warnings
from inspect import Parameter, signature as signature_of
from pathlib import Path

import typer
from rich.console import Console

from lstmstate.api.arguments import command_line_words
from lstmstate.output import exits, terminal
from lstmstate.owndata import report
from lstmstate.storage import runfolder
from lstmstate.tutorial import experiments as registry

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Understand and use LSTM state: the stateful-LSTM tutorial on Keras 3 + JAX, over many seeds.")
# Tables wider than 80 columns stay readable in logs and pipes, where rich cannot ask the terminal.
console = Console(width=None if Console().is_terminal else 160)

DEFAULT_SEEDS = 20  # enough for a 95% interval a few points wide
DATA_HELP = "a UTF-8 text file (symbols) or a CSV file with a header row (numbers)"
# run, suite, train and compare: a --out that holds a run is refused without it (storage.runfolder.prepare).
_OVERWRITE = typer.Option(False, "--overwrite", help="replace the run already in --out (its results, report "
                          "and saved experiments); without it such a folder is refused")
_QUIET = typer.Option(False, help="no progress bar")
_EXPERIMENT = typer.Option(None, help="experiment in the folder (needed if it holds several)")
_SEED_INDEX = typer.Option(None, help="which seed, 0-based (default: the median seed)")
# How the data is read (owndata.dataset.read): train, compare and sweep share one definition.
_TOKENS = typer.Option(None, help="text: char (default), word or line")
_COLUMNS = typer.Option(None, help="CSV: comma-separated numeric columns (default: all)")
_TARGET = typer.Option(None, help="CSV: the column whose next value is predicted")
_TIME_COLUMN = typer.Option(None, help="CSV: the column of the rows' times (default: detected by name or dates)")
_FILL = typer.Option(None, help="CSV: fill gaps in time and empty cells: interpolate or ffill (default: refuse them)")


def plan_options(excluded: str | None = None):
    """Give a command a ``--flag`` for every field of ``owndata.plan.Plan`` (less those ``compare``
    does not take, ``plan.NOT_COMPARED``, when ``excluded`` is "compare"),
    with the field's help and default; the command takes them as ``**plan``, only those given on
    the command line, so the library's defaults (and a text's, ``plan.TEXT_DEFAULTS``) fill the rest."""
    from lstmstate.owndata import plan

    def decorate(command):
        signature = signature_of(command)
        kept = [p for p in signature.parameters.values() if p.kind is not Parameter.VAR_KEYWORD]
        added = {}
        for name, (default, help_text, kind) in plan.options().items():
            if excluded == "compare" and name in plan.NOT_COMPARED:
                continue
            optional = kind if isinstance(kind, types.UnionType) else kind | None
            shown = False if default is None else str(default)
            option = typer.Option(None, f"--{name.replace('_', '-')}", help=help_text, show_default=shown)
            added[name] = Parameter(name, Parameter.KEYWORD_ONLY, default=option, annotation=optional)
        command.__signature__ = signature.replace(parameters=[*kept, *added.values()])
        command.__annotations__ = {**command.__annotations__, **{n: p.annotation for n, p in added.items()}}
        return command
    return decorate


def _given(plan: dict) -> dict:  # the plan options set on the command line (the others are None here)
    return {name: value for name, value in plan.items() if value is not None}


@app.command("list")
def list_experiments() -> None:
    """List the experiments."""
    console.print(terminal.experiments_table(registry.EXPERIMENTS.values()))


@app.command()
def run(name: str = typer.Argument(..., help="experiment name (see `lstmstate list`)"),
        seeds: int = typer.Option(DEFAULT_SEEDS, min=1, help="number of seeds trained at once"),
        epochs: int | None = typer.Option(None, min=1, help="override the published epochs"),
        units: int | None = typer.Option(None, min=1, help="override the published LSTM units"),
        out: Path | None = typer.Option(None, help="folder for results.json and weights"),
        quiet: bool = _QUIET,
        streams: int | None = typer.Option(None, min=1, help="stateful experiments: train as B parallel streams"),
        overwrite: bool = _OVERWRITE) -> None:
    """Run one experiment: the tutorial-style output of the median seed, then the population."""
    from lstmstate import api

    # Training warnings (a sequence trimmed to fit the streams) are shown as one line each, as they happen.
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = lambda message, *_: print(f"warning: {message}", file=sys.stderr)
        ran = api.suite(seeds, experiments=[name], epochs=epochs, units=units, streams=streams, out=out,
                        overwrite=overwrite, quiet=quiet)
    entry = ran.payload["experiments"][name]
    print("\n".join([*terminal.tutorial_transcript(name, entry), *terminal.population_lines(entry)]))
    if out is not None:
        console.print(terminal.written(out, report=True))


@app.command("suite")
def run_suite(seeds: int = typer.Option(DEFAULT_SEEDS, min=1, help="number of seeds per experiment"),
              out: Path | None = typer.Option(None, help="folder for results (default: a new runs/TIMESTAMP)"),
              epochs: int | None = typer.Option(None, min=1, help="override every experiment's epochs (a quick look)"),
              quiet: bool = _QUIET,
              controls: bool = typer.Option(False, help="also the controls on encoding and letter order "
                                            "(Dense on one-hot, the scrambled alphabet); slower"),
              overwrite: bool = _OVERWRITE) -> None:
    """Run every experiment over many seeds; print results and the verdict on each claim."""
    from lstmstate import api

    folder = out if out is not None else runfolder.timestamped()
    ran = api.suite(seeds, controls=controls, epochs=epochs, out=folder, overwrite=overwrite, quiet=quiet)
    for table in terminal.suite_tables(ran.payload):
        console.print(table)
    console.print(terminal.written(folder, report=True))


# ---- commands for saved runs: generate, export, inspect (state you can use) ----


def _load_saved(run_dir: Path, experiment: str | None):
    from lstmstate.trained import saved  # imported on use: the other commands do not need it
    return saved.load(run_dir, experiment)


@app.command()
def generate(run_dir: Path = typer.Argument(..., help="a folder written by run/suite/train --out"),
             experiment: str | None = _EXPERIMENT,
             seed_index: int | None = _SEED_INDEX,
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
        raise ValueError("give the context with --prime or with --prime-file, not both")
    saved = _load_saved(run_dir, experiment)
    index = saved.seed_index(seed_index)
    context = saved.read_prime(prime_file) if prime_file is not None else saved.symbols(prime)
    if start is None:
        if not context:
            raise ValueError("nothing to start from: give --start (a symbol), or a prime to continue")
        start, context = context[-1], context[:-1]  # continue the prime from its last symbol
    # Checked now, made in compiled blocks: each block is printed as soon as it exists, so a long
    # generation shows its progress and a stop (Ctrl-C, SIGTERM) keeps what was printed.
    blocks = saved.generate_blocks(start, steps, context, index, sampling)
    header = terminal.generation_header(saved, index, start, context, prime_file, sampling)
    # --text: the text alone on stdout, to be piped or saved; what made it on stderr.
    print(header, file=sys.stderr if text else sys.stdout, flush=True)
    for piece in terminal.generated(blocks, saved, text):
        print(piece, end="", flush=True)


@app.command()
def export(run_dir: Path = typer.Argument(..., help="a folder written by run/suite --out"),
           experiment: str | None = _EXPERIMENT,
           seed_index: int | None = _SEED_INDEX,
           to: Path = typer.Option(..., help="the file to write, ending in .keras")) -> None:
    """Export a saved seed as an ordinary Keras model (.keras) that plain Keras loads and runs."""
    saved = _load_saved(run_dir, experiment)
    index = saved.seed_index(seed_index)
    path = saved.export(to, index)
    print("\n".join([f"wrote {path}: {terminal.seed_words(saved, index)} as {saved.export_description()}",
                     *saved.export_notes()]))


@app.command()
def inspect(run_dir: Path = typer.Argument(..., help="a folder written by run/suite --out"),
            sequence: str = typer.Option(..., help="the symbols to feed, e.g. ABCDEFGHIJK"),
            experiment: str | None = _EXPERIMENT,
            seed_index: int | None = _SEED_INDEX,
            png: Path | None = typer.Option(None, help="heatmap file (default: RUN_DIR/NAME/state-seedS.png)")) -> None:
    """Show a saved seed's hidden and cell state after every symbol of a sequence; write a heatmap PNG."""
    from lstmstate.output import figures
    from lstmstate.trained import state_trace

    saved = _load_saved(run_dir, experiment)
    index = saved.seed_index(seed_index)
    symbols = saved.symbols(sequence)
    path = png if png is not None else saved.heatmap_path(index)  # checked before the work
    trace = saved.trace(symbols, index)
    print(f"{terminal.seed_words(saved, index)}: state after each symbol, from a zero state "
          f"(h and c: {trace.h.shape[0]} steps x {trace.h.shape[1]} units)")
    print("\n".join(state_trace.compact_lines(trace)))
    print(figures.heatmap_file(trace, f"{saved.name}, seed {saved.seeds[index]}", path))


@app.command()
def cells(run_dir: Path = typer.Argument(..., help="a folder written by train/compare/run --out, trained with carried state"),
          text_file: Path | None = typer.Option(None, help="a text or, for a model of numbers, a CSV (default: the held-out part)"),
          experiment: str | None = _EXPERIMENT,
          seed_index: int | None = typer.Option(None, help="one seed, 0-based (default: every seed)"),
          out: Path | None = typer.Option(None, help="the page (default: RUN_DIR/NAME/cells.html)"),
          png: Path | None = typer.Option(None, help="also write the page's strips as a PNG here")) -> None:
    """Find the units whose state tracks a feature of a text or series (line position, season, level, ...)."""
    from lstmstate.output import cells as page
    from lstmstate.owndata import cells as study

    found = study.find(run_dir, experiment, text_file, seed_index, out, png)  # --out, --png checked first
    print("\n".join(page.lines(found)))
    print("written: " + ", ".join(map(str, page.write(found, out, png))))
    if (run_folder := study.kept(found)) is not None:  # in the run's results.json: the report shows it
        print(f"kept in {run_folder / runfolder.RESULTS}; `lstmstate report {run_folder}` shows it")


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
    from lstmstate.owndata import forecast as forecasting

    saved = _load_saved(run_dir, framing)
    # Checked before the work (sizes, labels, --out and --png); a stop keeps the steps made.
    result, stopped = forecasting.kept(saved, forecasting.series(saved, data), horizon, origin, out, png)
    console.print(terminal.forecast_table(result, saved.name, forecasting.SHOWN_STEPS))
    if forecasting.SHOWN_STEPS < result.horizon:
        print(f"the first {forecasting.SHOWN_STEPS} of {result.horizon} steps shown; "
              + ("--out has them all" if out is not None else "give --out F.csv for all of them"))
    for line in forecasting.save(result, f"{saved.name}: forecast over {len(result.per_seed)} seeds", out, png):
        print(line)
    if stopped:
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
    block, run_folder = backtesting.kept(saved, result)  # in the run's results.json: the report shows it
    console.print(terminal.backtest_table(block, result.baselines, saved.name, len(result.origins), len(result.seeds)))
    print("\n".join(block["verdicts"]))
    if run_folder is not None:
        print(f"backtest kept in {run_folder / runfolder.RESULTS}; `lstmstate report {run_folder}` shows it")


# ---- commands for the user's own data: train, compare ----


@app.command("train")
@plan_options()
def train_on_data(
        data: Path | None = typer.Option(None, help=DATA_HELP + " (not needed with --resume)"),
        tokens: str | None = _TOKENS,
        columns: str | None = _COLUMNS,
        target: str | None = _TARGET,
        time_column: str | None = _TIME_COLUMN,
        fill: str | None = _FILL,
        tensorboard: Path | None = typer.Option(None, help="folder for TensorBoard event files, one run per seed"),
        resume: Path | None = typer.Option(None, help="go on with the run stopped in this folder (its checkpoint); "
                                           "options given must match it, the others are taken from it"),
        out: Path | None = typer.Option(None, help="folder for results.json and the saved run"),
        quiet: bool = _QUIET,
        overwrite: bool = _OVERWRITE,
        **plan) -> None:
    """Learn next-item prediction on your own sequence; score it on the held-out tail beside the baselines.

    On a text (--tokens), the options not given train a character (or word) language model:
    --framing stateful-streams --bptt 35 --units 128 --batch-size 32 --learning-rate 0.005 --epochs 10
    (where neither --framing nor --window is given and the fitting part holds 3,360 symbols or more).
    """
    from lstmstate import api

    fitted = api.fit(data, tokens=tokens, columns=columns, target=target, time_column=time_column, fill=fill,
                     out=out if resume is None else out or resume, overwrite=overwrite, quiet=quiet,
                     tensorboard=tensorboard, resume=resume, on_ready=print, **_given(plan))
    print("\n".join(terminal.run_lines(fitted.payload, fitted.framing)))
    if tensorboard is not None:
        print(f"TensorBoard event files: {tensorboard} (tensorboard --logdir {tensorboard})")
    if fitted.folder is not None:
        console.print(terminal.written(fitted.folder))


@app.command("compare")
@plan_options(excluded="compare")
def compare_framings(
        data: Path = typer.Option(..., help=DATA_HELP),
        tokens: str | None = _TOKENS,
        columns: str | None = _COLUMNS,
        target: str | None = _TARGET,
        time_column: str | None = _TIME_COLUMN,
        fill: str | None = _FILL,
        out: Path | None = typer.Option(None, help="folder for results.json and every framing's saved run"),
        quiet: bool = _QUIET,
        overwrite: bool = _OVERWRITE,
        **plan) -> None:
    """Train every applicable framing on your data; rank them by held-out score and say which to use."""
    from lstmstate import api

    compared = api.compare(data, tokens=tokens, columns=columns, target=target, time_column=time_column, fill=fill,
                           out=out, overwrite=overwrite, quiet=quiet, on_ready=print, **_given(plan))
    payload = compared.payload
    best = payload["experiments"][payload["framing"]]
    console.print(terminal.comparison_table(compared.table(), best["holdout"]["metric"],
                                            payload["data"].get("target"), len(best["seeds"])))
    print("\n".join(terminal.baseline_lines(payload, payload["framing"])))
    for name, why in compared.skipped:
        print(f"not run: {name} ({why})")
    print(compared.recommendation)
    if out is not None:
        console.print(terminal.written(out))


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
    console.print(terminal.sweep_table(page.HEADER, page.rows(result.payload), result.payload, seeds))
    console.print("\n".join(terminal.sweep_lines(result)))


# ---- commands for reports: report ----


@app.command("report")
def write_report(run_dir: Path = typer.Argument(..., help="a run folder written by `run --out` or `suite`")) -> None:
    """Regenerate report.html and report.md of a run folder from its saved results."""
    try:
        html_path, md_path = report.write_report(run_dir)
    except OSError as error:
        raise ValueError(f"cannot write the report in {run_dir}: {error.strerror or error}") from None
    console.print(f"report written to {html_path} and {md_path}")


def main() -> None:
    """Entry point: every command ends as ``output.exits`` says (one line, exit code 2, 130 or 143)."""
    # The API names its arguments (``out``); the command line shows the flags (``--out``).
    exits.run(typer.main.get_command(app), worded=command_line_words)
