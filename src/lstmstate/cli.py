"""The command line: each command parses its arguments and calls the library once.

Errors a user can cause (a bad name, a bad number, an unwritable folder) end in one line on
stderr and exit code 2, never a traceback.
"""

import datetime
import platform
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

from lstmstate.tutorial import experiments as registry
from lstmstate.output import report
from lstmstate.storage import runfolder as results
from lstmstate.core import statistics
from lstmstate.tutorial import suite
from lstmstate.tutorial import verdicts
from lstmstate.output.progress import progress_bar

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  help="Understand and use LSTM state: the stateful-LSTM tutorial on Keras 3 + JAX, over many seeds.")
# Tables wider than 80 columns stay readable in logs and pipes, where rich cannot ask the terminal.
console = Console(width=None if Console().is_terminal else 160)

DEFAULT_SEEDS = 20  # enough for a 95% interval a few points wide; the issue asks for at least 20


class UserError(Exception):
    """A mistake in what the user asked for: reported in one line, exit code 2."""


class Interrupted(Exception):
    """Ctrl-C during a run: what finished is already on disk; exit code 130."""


def _out_folder(out: Path | None) -> Path:
    """The run folder, created and checked writable now, before any training time is spent."""
    if out is None:
        out = Path("runs") / datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as error:
        raise UserError(f"cannot write to --out {out}: {error.strerror or error}; "
                        "give a folder you can create and write") from None
    return out


def _run_header(seeds: list[int]) -> dict:
    import jax
    import keras

    from lstmstate import __version__
    return {
        "format_version": results.FORMAT_VERSION,
        "lstmstate_version": __version__,
        "created": datetime.datetime.now().isoformat(timespec="seconds"),
        "versions": {"python": platform.python_version(), "keras": keras.__version__, "jax": jax.__version__,
                     "backend": keras.backend.backend()},
        "machine": {"platform": platform.platform(), "processor": platform.machine(),
                    "cpus": __import__("os").cpu_count()},
        "seeds": seeds,
        "experiments": {},
        "verdicts": [],
    }


def _run_all(names: list[str], seeds: int, out: Path, epochs: int | None = None, units: int | None = None,
             quiet: bool = False, streams: int | None = None) -> tuple[dict, list[suite.Outcome]]:
    """Run experiments in order, writing results after each so that finished work is kept."""
    seed_list = list(range(seeds))
    payload = _run_header(seed_list)
    outcomes = []
    try:
        with progress_bar(console, quiet) as bar:
            for name in names:
                _run_one(name, seed_list, out, payload, outcomes, bar, epochs, units, streams)
    except KeyboardInterrupt:
        # Each finished experiment was written as it finished; the one in progress is dropped.
        if payload["experiments"]:
            report.write_report(out, payload)
        kept = ", ".join(payload["experiments"]) or "nothing (no experiment had finished)"
        raise Interrupted(f"interrupted: kept {kept} (results, weights, report) in {out}") from None
    # The report is drawn once, at the end (or above, on Ctrl-C): drawing it after every
    # experiment cost ~30 s of a suite.
    report.write_report(out, payload)
    return payload, outcomes


def _run_one(name, seed_list, out, payload, outcomes, bar, epochs, units, streams=None) -> None:
    """Run one experiment and write everything it produced."""
    task = bar.add_task(name, total=1, seeds=len(seed_list))
    outcome = suite.run_experiment(
        registry.get(name), seed_list, epochs=epochs, units=units, streams=streams,
        on_progress=lambda done, total: bar.update(task, completed=done, total=total))
    outcomes.append(outcome)
    payload["experiments"][name] = suite.entry(outcome)
    payload["verdicts"] = verdicts.judge(payload["experiments"])
    suite.save(out, outcome)
    results.write_json(out / "results.json", payload)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


@app.command("list")
def list_experiments() -> None:
    """List the experiments."""
    table = Table("experiment", "seed's section", "seed's figure", "what it shows")
    for experiment in registry.EXPERIMENTS.values():
        table.add_row(experiment.name, experiment.section, _pct(experiment.published_accuracy), experiment.shows)
    console.print(table)


@app.command()
def run(name: str = typer.Argument(..., help="experiment name (see `lstmstate list`)"),
        seeds: int = typer.Option(DEFAULT_SEEDS, min=1, help="number of seeds trained at once"),
        epochs: int | None = typer.Option(None, min=1, help="override the published epochs"),
        units: int | None = typer.Option(None, min=1, help="override the published LSTM units"),
        out: Path | None = typer.Option(None, help="folder for results.json and weights"),
        quiet: bool = typer.Option(False, help="no progress bar"),
        streams: int | None = typer.Option(None, min=1, help="stateful experiments: train as B parallel streams")) -> None:
    """Run one experiment: the seed-style output of the median seed, then the population."""
    experiment = registry.get(name)
    folder = _out_folder(out) if out is not None else None
    # Training warnings (a sequence trimmed to fit the streams) are shown as one line each, as they happen.
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = lambda message, *_: print(f"warning: {message}", file=sys.stderr)
        if folder is None:
            with progress_bar(console, quiet) as bar:
                task = bar.add_task(name, total=1, seeds=seeds)
                outcome = suite.run_experiment(
                    experiment, list(range(seeds)), epochs=epochs, units=units, streams=streams,
                    on_progress=lambda done, total: bar.update(task, completed=done, total=total))
        else:
            _, (outcome,) = _run_all([name], seeds, folder, epochs, units, quiet, streams)
    _print_transcript(outcome)
    _print_population(outcome)
    if folder is not None:
        console.print(f"results written to {folder}/results.json")
        console.print(f"report written to {folder}/report.html and report.md")


def _print_transcript(outcome: suite.Outcome) -> None:
    index = outcome.median_index
    print(f"{outcome.experiment.name}: {outcome.experiment.section} "
          f"(median seed, seed {outcome.population.seeds[index]})")
    print(f"Model Accuracy: {100 * outcome.evaluation.accuracy[index]:.2f}%")
    for line in suite.transcript_lines(outcome, index):
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


def _print_population(outcome: suite.Outcome) -> None:
    values = outcome.accuracy
    if outcome.diverged.any():
        print(f"{int(outcome.diverged.sum())} of {len(outcome.diverged)} seeds diverged "
              "(loss became NaN or infinite) and are left out of the statistics")
    low, high = statistics.bootstrap_ci(values)
    print(f"Population: {len(values)} seeds, mean {_pct(statistics.mean(values))} "
          f"[95% interval {_pct(low)}, {_pct(high)}], {100 * statistics.perfect_share(values):.0f}% of seeds at 100%, "
          f"range {_pct(values.min())}..{_pct(values.max())}; seed's figure {_pct(outcome.experiment.published_accuracy)}; "
          f"{outcome.seconds:.1f} s")


@app.command("suite")
def run_suite(seeds: int = typer.Option(DEFAULT_SEEDS, min=1, help="number of seeds per experiment"),
              out: Path | None = typer.Option(None, help="folder for results (default: a new runs/TIMESTAMP)"),
              epochs: int | None = typer.Option(None, min=1, help="override every experiment's epochs (a quick look)"),
              quiet: bool = typer.Option(False, help="no progress bar")) -> None:
    """Run every experiment over many seeds; print results and the verdict on each claim."""
    folder = _out_folder(out)
    payload, _ = _run_all(list(registry.EXPERIMENTS), seeds, folder, epochs=epochs, quiet=quiet)
    print_tables(payload)
    console.print(f"results written to {folder}/results.json")
    console.print(f"report written to {folder}/report.html and report.md")


def print_tables(payload: dict) -> None:
    """The results table and the verdicts table of a run."""
    table = Table("experiment", "seed's figure", "mean [95% interval]", "at 100%", "epochs", "seconds",
                  title="Accuracy over seeds")
    for name, entry in payload["experiments"].items():
        accuracy = entry["accuracy"]
        low, high = accuracy["ci95"]
        diverged = entry.get("diverged", {}).get("count", 0)
        note = f" ({diverged} diverged, left out)" if diverged else ""
        if not accuracy["per_seed"]:
            table.add_row(name, _pct(entry["published_accuracy"]), f"every seed diverged{note}", "-",
                          str(entry["epochs"]), f"{entry['seconds']:.1f}")
            continue
        table.add_row(name, _pct(entry["published_accuracy"]),
                      f"{_pct(accuracy['mean'])} [{_pct(low)}, {_pct(high)}]{note}",
                      f"{100 * entry['perfect_share']:.0f}%", str(entry["epochs"]), f"{entry['seconds']:.1f}")
    console.print(table)
    claims = Table("claim", "the seed says", "measured", "verdict", title="Claims", show_lines=True)
    for verdict in payload["verdicts"]:
        claims.add_row(verdict["claim"], verdict["seed_says"], verdict["measured"], verdict["verdict"])
    console.print(claims)


# ---- commands for saved runs: generate, export, inspect (state you can use) ----


def _load_saved(run_dir: Path, experiment: str | None):
    from lstmstate.trained import saved as saved_run  # imported on use: the other commands do not need it
    return saved_run.load(run_dir, experiment)


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
    spec = saved.spec
    kind = (f"LSTM({spec.units}, stateful=True) with keras.Input(batch_shape=(1, {spec.steps}, {spec.features}))"
            if saved.stateful else f"a stateless Sequential on inputs ({spec.steps}, {spec.features})")
    print(f"wrote {path}: {_seed_words(saved, index)} as {kind}")
    if saved.vocabulary is None:
        print("inputs: the columns standardized with the training part's mean and deviation "
              "(saved in setup.json under 'scaling'); the output is the scaled next target value")
        return
    symbols = saved.vocabulary.symbols
    print(f"inputs: {saved.encoding.name} encoding of {len(symbols)} symbols, ids {symbols[0]}=0 … "
          f"{symbols[-1]}={len(symbols) - 1}" + (f" (feature = id / {len(symbols)})" if saved.encoding.name == "scalar" else ""))
    if saved.stateful:
        print("load it with KERAS_BACKEND=tensorflow (or torch): on the JAX backend Keras silently resets a "
              "stateful LSTM in predict; call model.get_layer('lstm').reset_state() before each new sequence")


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
    labels = [f"{symbol}\n→{predicted}" for symbol, predicted in zip(trace.symbols, trace.predicted)]
    figure = figures.state_heatmaps(trace.h, trace.c, labels, f"{saved.name}, seed {saved.seeds[index]}")
    try:
        results.write_atomically(Path(path), figures.to_png(figure))
    except OSError as error:
        raise UserError(f"cannot write the heatmap {path}: {error.strerror or error}") from None
    print(f"heatmap written to {path}")


# ---- commands for the user's own data: train, compare ----

DATA_HELP = "a UTF-8 text file (symbols) or a CSV file with a header row (numbers)"


def _read_plan(data: Path, tokens: str | None, columns: str | None, target: str | None, **plan):
    """The user's data and plan, every check done before a folder is made or a seed trained."""
    from lstmstate.owndata import dataset
    from lstmstate.owndata import training as userrun

    return dataset.read(data, tokens, columns, target), userrun.Plan(**plan)


def _score(metric: str, value: float) -> str:
    return _pct(value) if metric == "accuracy" else f"{value:.4g}"


def _print_outcome(outcome) -> None:
    from lstmstate.owndata import training as userrun

    summary = outcome.summary()
    low, high = summary["ci95"]
    metric = "accuracy" if outcome.metric == "accuracy" else f"RMSE of {outcome.data.target} (original units)"
    print(f"framing: {outcome.name}, {outcome.encoding} inputs, {outcome.spec.units} units, "
          f"{outcome.config.epochs} epochs, batch size {outcome.config.batch_size}, "
          f"{len(outcome.scores)} seeds ({outcome.seconds:.1f} s)")
    print(f"held-out {metric}: {_score(outcome.metric, summary['mean'])} "
          f"[95% interval {_score(outcome.metric, low)}, {_score(outcome.metric, high)}] over {len(outcome.scores)} seeds, "
          f"range {_score(outcome.metric, min(outcome.scores))}..{_score(outcome.metric, max(outcome.scores))}")
    line = f"baseline, {outcome.baseline['name']}: {_score(outcome.metric, outcome.baseline['score'])}"
    if outcome.ceiling is not None:
        line += f"; memoryless ceiling on the held-out part: {_pct(outcome.ceiling)}"
    print(line)
    print(f"verdict: {userrun.against_baseline(outcome)}")


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
    from lstmstate.owndata import training as userrun

    dataset_, plan = _read_plan(data, tokens, columns, target, framing=framing, window=window, units=units,
                                epochs=epochs, batch_size=batch_size, seeds=seeds, holdout=holdout, encoding=encoding)
    split = userrun.check(dataset_, plan)
    folder = _out_folder(out) if out is not None else None
    print(f"data: {data}, {dataset_.describe()}; {split.describe()}")
    try:
        with progress_bar(console, quiet) as bar:
            task = bar.add_task(framing, total=epochs)
            outcome = userrun.train(dataset_, plan, on_progress=lambda done, total: bar.update(task, completed=done))
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted: {framing} had not finished, so nothing was written") from None
    _print_outcome(outcome)
    if folder is not None:
        userrun.save(folder, outcome)
        results.write_json(folder / "results.json", userrun.payload([outcome]))
        console.print(f"results written to {folder}/results.json")


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
    from lstmstate.owndata import comparison
    from lstmstate.owndata import training as userrun

    dataset_, plan = _read_plan(data, tokens, columns, target, window=window, units=units, epochs=epochs,
                                batch_size=batch_size, seeds=seeds, holdout=holdout, encoding=encoding)
    comparison.check(dataset_, plan)
    folder = _out_folder(out) if out is not None else None
    print(f"data: {data}, {dataset_.describe()}; {userrun.check(dataset_, plan).describe()}")
    finished = []

    def on_finish(outcome):
        # Saved as each framing finishes, so Ctrl-C keeps every framing that was done.
        finished.append(outcome)
        if folder is not None:
            userrun.save(folder, outcome)
            results.write_json(folder / "results.json", userrun.payload(finished))

    try:
        with progress_bar(console, quiet) as bar:
            def on_start(name):
                task = bar.add_task(name, total=epochs)
                return lambda done, total: bar.update(task, completed=done)
            result = comparison.compare(dataset_, plan, on_start, on_finish)
    except KeyboardInterrupt:
        kept = ", ".join(o.name for o in finished) or "nothing (no framing had finished)"
        where = f" in {folder}" if folder is not None else " (no --out: nothing written)"
        raise Interrupted(f"interrupted: kept {kept}{where}") from None
    best = result.best
    metric = "accuracy" if best.metric == "accuracy" else f"RMSE of {best.data.target}"
    table = Table("#", "framing", "mean", "95% interval", "range over seeds", "batch", "seconds",
                  title=f"Framings ranked by held-out {metric} ({len(best.scores)} seeds each)")
    for rank, outcome in enumerate(result.ranked, 1):
        summary = outcome.summary()
        low, high = summary["ci95"]
        table.add_row(str(rank), outcome.name, _score(best.metric, summary["mean"]),
                      f"{_score(best.metric, low)}..{_score(best.metric, high)}",
                      f"{_score(best.metric, min(outcome.scores))}..{_score(best.metric, max(outcome.scores))}",
                      str(outcome.config.batch_size), f"{outcome.seconds:.1f}")
    console.print(table)
    line = f"baseline, {best.baseline['name']}: {_score(best.metric, best.baseline['score'])}"
    if best.ceiling is not None:
        line += f"; memoryless ceiling on the held-out part: {_pct(best.ceiling)}"
    print(line)
    for name, why in result.skipped:
        print(f"not run: {name} ({why})")
    print(result.recommendation())
    if folder is not None:
        payload = userrun.payload(list(result.ranked), best)
        margin = result.margin()
        payload["ranking"] = [o.name for o in result.ranked]
        payload["recommendation"] = {"framing": best.name, "text": result.recommendation(),
                                     "margin_over_runner_up": None if margin is None else
                                     {"difference": margin[0], "ci95": list(margin[1])}}
        results.write_json(folder / "results.json", payload)
        console.print(f"results written to {folder}/results.json")



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
    except Interrupted as error:
        print(error, file=sys.stderr)
        sys.exit(130)
    except (UserError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
