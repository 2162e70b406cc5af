"""What the command line prints: tables and lines for a terminal, made from the same results.json
blocks the report and the Python API read, so the three never disagree.

Each function takes finished numbers (a results.json payload or entry, or a table of rows) and
returns lines or a rich ``Table``; the command line prints them and computes nothing itself.
"""

from rich.table import Table

from lstmstate.core.statistics import ACCURACY, PERPLEXITY, RMSE
from lstmstate.core.vocabulary import SEPARATORS
from lstmstate.output.formatting import percent, score, share_of_seeds

METRIC_WORDS = {ACCURACY: "accuracy", RMSE: "RMSE", PERPLEXITY: "perplexity"}


def written(folder, report: bool = False) -> str:
    """Where a run was written."""
    return f"results written to {folder}/results.json" + (
        f"\nreport written to {folder}/report.html and report.md" if report else "")


# ---- the tutorial's experiments (`list`, `run`, `suite`) ------------------------------------------

def experiments_table(experiments) -> Table:
    """The registry's experiments (``tutorial.experiments.Experiment``), a row each."""
    table = Table("experiment", "tutorial's section", "tutorial's figure", "what it shows")
    for experiment in experiments:
        table.add_row(experiment.name, experiment.section, percent(experiment.published_accuracy), experiment.shows)
    return table


def tutorial_transcript(name: str, entry: dict) -> list[str]:
    """The tutorial's printout of the median seed: its accuracy, each pattern's prediction and,
    for the stateful alphabet, the cold and primed starts."""
    if "median_seed" not in entry:
        raise ValueError(f"every seed of {name} diverged (its loss became NaN or infinite)")
    seed = entry["median_seed"]
    diverged = set(entry["diverged"]["seeds"])
    kept = [s for s in entry["seeds"] if s not in diverged]
    lines = [f"{name}: {entry['section']} (median seed, seed {seed})",
             f"Model Accuracy: {percent(entry['accuracy']['per_seed'][kept.index(seed)])}",
             *entry["transcript"]]
    generation = entry.get("generation")
    median = generation.get("median_seed") if generation else None
    if median:
        lines += [f"{given} -> {predicted}" for given, predicted in median["from_A"]]
        lines.append(f"New start: {generation['cold_start']}")
        lines += [f"{given} -> {predicted}" for given, predicted in median["cold"]]
        lines.append(f"Primed with {generation['prime']}, then {generation['cold_start']}:")
        lines += [f"{given} -> {predicted}" for given, predicted in median["primed"]]
    return lines


def population_lines(entry: dict) -> list[str]:
    """Every seed of one experiment in a line: mean, interval, share at 100%, range, the
    tutorial's figure; diverged seeds counted first."""
    lines = []
    diverged, seeds = entry["diverged"]["count"], len(entry["seeds"])
    if diverged:
        lines.append(f"{diverged} of {seeds} seeds diverged (loss became NaN or infinite) and are left out of the "
                     "statistics")
    accuracy = entry["accuracy"]
    low, high = accuracy["ci95"]
    values = accuracy["per_seed"]
    lines.append(f"Population: {len(values)} seeds, mean {percent(accuracy['mean'])} [95% interval {percent(low)}, "
                 f"{percent(high)}], {share_of_seeds(entry['perfect_share'])} of seeds at 100%, range "
                 f"{percent(min(values))}..{percent(max(values))}; tutorial's figure "
                 f"{percent(entry['published_accuracy'])}; {entry['seconds']:.1f} s")
    return lines


def suite_tables(payload: dict) -> tuple[Table, Table]:
    """The results table and the verdicts table of a suite."""
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
    claims = Table("claim", "the tutorial says", "measured", "verdict", "rule", title="Claims", show_lines=True)
    for verdict in payload["verdicts"]:
        # The rule is shown with the verdict: what was compared, the threshold, and why.
        claims.add_row(verdict["claim"], verdict["tutorial_says"], verdict["measured"], verdict["verdict"],
                       verdict.get("rule", ""))
    return table, claims


# ---- the user's own data (`train`, `compare`) -----------------------------------------------------

def data_line(source: str, description: str, parts: str) -> str:
    return f"data: {source}, {description}; {parts}"


def run_lines(payload: dict, name: str) -> list[str]:
    """What ``train`` prints of framing ``name``: the model, the held-out score beside the strongest
    baseline, perplexity, every baseline and the verdicts."""
    entry = payload["experiments"][name]
    holdout, metric = entry["holdout"], entry["holdout"]["metric"]
    low, high = holdout["ci95"]
    scores = [v for v in holdout["per_seed"] if v is not None]
    unit = "accuracy" if metric == ACCURACY else f"RMSE of {payload['data']['target']} (original units)"
    layers = f"{entry['layers']} x " if entry["layers"] > 1 else ""
    extras = [f"bptt {entry['bptt']}" if entry["bptt"] > 1 else "",
              f"dropout {entry['dropout']:g}" if entry["dropout"] else "",
              f"embedding {entry['embedding']}" if entry["embedding"] else ""]
    trained = entry["chosen_on_validation"]["lstm"]["epochs_trained"]
    epochs = (f"{trained} of {entry['epochs']} epochs (patience, on the validation part)"
              if trained < entry["epochs"] else f"{entry['epochs']} epochs")
    strongest = entry["baseline"]
    lines = [f"framing: {name}, {entry['encoding']} inputs, {layers}{entry['model'].upper()}({entry['units']}), "
             f"{epochs}, batch size {entry['batch_size']}, " + "".join(f"{e}, " for e in extras if e)
             + f"{len(entry['seeds'])} seeds ({entry['seconds']:.1f} s)",
             f"held-out {unit}: LSTM {score(metric, holdout['mean'])} "
             f"[95% interval {score(metric, low)}, {score(metric, high)}] over {len(entry['seeds'])} seeds, "
             f"range {score(metric, min(scores))}..{score(metric, max(scores))}; "
             f"strongest baseline {strongest['name']}: {score(metric, strongest['score'])}"]
    perplexity = entry.get("perplexity")
    if perplexity is not None:
        kneser_ney = next(b for b in entry["baselines"] if b["metric"] == PERPLEXITY)
        lines.append(f"held-out perplexity: LSTM {perplexity['mean']:.4g} [95% interval {perplexity['ci95'][0]:.4g}, "
                     f"{perplexity['ci95'][1]:.4g}]; {kneser_ney['name']}: {kneser_ney['score']:.4g}")
    lines += baseline_lines(payload, name)
    lines.append(f"verdict: {entry['against_baseline']}")
    if entry.get("against_perplexity"):
        lines.append(f"verdict on perplexity: {entry['against_perplexity']}")
    return lines


def baseline_lines(payload: dict, name: str) -> list[str]:
    """The season, every baseline (simplest first) with how its order was chosen, the memoryless
    ceiling and any advice, for framing ``name``."""
    entry = payload["experiments"][name]
    season = entry["chosen_on_validation"].get("season")
    lines = []
    if season is not None:
        reason = season["reason"]
        lines.append(f"season: season {season['length']}: {reason}" if season["length"] else
                     f"season: no season: {reason}")
    chosen = "orders and season" if season is not None else "orders"
    lines.append(f"baselines, fitted on the training part ({chosen} chosen on the validation part) and scored on "
                 f"the same {payload['data']['held_out_items']} held-out targets:")
    width = max(len(b["name"]) for b in entry["baselines"])
    for baseline in entry["baselines"]:  # the order of owndata.baselines: simplest first
        how = baseline["parameters"].get("chosen_by") or baseline["parameters"].get("season_from")
        metric = baseline["metric"]
        lines.append(f"  {baseline['name']:<{width}}  {METRIC_WORDS[metric]:<10} "
                     f"{score(metric, baseline['score']):>8}  {baseline['description']}"
                     + (f"; {how}" if how and how not in baseline["description"] else ""))
    if entry.get("memoryless_ceiling") is not None:
        lines.append("  memoryless ceiling on the held-out part (no function of the previous symbol alone does "
                     f"better, even fitted on the held-out part): {percent(entry['memoryless_ceiling'])}")
    if entry.get("advice") is not None:
        lines.append(f"note: {entry['advice']}")
    return lines


def comparison_table(rows, metric: str, target: str | None, seeds: int) -> Table:
    """Framings and baselines ranked: ``rows`` as ``api.Comparison.table()`` gives them (one per
    framing or baseline, best first)."""
    unit = "accuracy" if metric == ACCURACY else f"RMSE of {target}"
    table = Table("#", "framing or baseline", "mean", "95% interval", "range over seeds", "batch", "seconds",
                  title=f"Framings and baselines ranked by held-out {unit} ({seeds} seeds each)")
    for rank, row in rows.iterrows():
        if row["kind"] == "baseline":
            table.add_row(str(rank), f"baseline: {row['name']}", score(metric, row["mean"]), "-", "-", "-", "-",
                          style="italic")
            continue
        table.add_row(str(rank), row["name"], score(metric, row["mean"]),
                      f"{score(metric, row['low'])}..{score(metric, row['high'])}",
                      f"{score(metric, row['min'])}..{score(metric, row['max'])}", str(row["batch_size"]),
                      f"{row['seconds']:.1f}")
    return table


# ---- saved seeds (`generate`, `export`, `inspect`) -------------------------------------------------

def seed_words(saved, index: int) -> str:
    """Which seed of a saved experiment (``trained.saved.SavedExperiment``), in words."""
    return f"{saved.name}, seed {saved.seeds[index]} (index {index} of {len(saved.seeds)})"


def generation_header(saved, index: int, start: str, context, prime_file, sampling) -> str:
    """What ``generate`` runs: the seed, the state carried (and how it was primed) or the window
    slid, and how symbols are drawn."""
    if saved.carries_state:
        if prime_file is not None:
            how = f"primed with {prime_file} ({len(context)} symbols), then {start!r}"
        else:
            how = f"primed with {''.join(context)}, then {start}" if context else f"cold start at {start} (zero state)"
        header = f"{seed_words(saved, index)}: stateful stream, {how}"
    else:
        header = (f"{seed_words(saved, index)}: stateless, a window of {saved.window_size} symbol(s) slid over "
                  "its predictions (no state between windows)")
    return header if sampling.greedy else f"{header}; {sampling.describe()}"


def generated(blocks, saved, text: bool):
    """What ``generate`` prints of ``blocks`` as each comes: one line per step, or with ``text``
    the symbols alone, joined as the training text was split (characters, words, lines)."""
    separator = SEPARATORS.get(saved.tokens, "")
    for number, block in enumerate(blocks):
        if text:
            yield ("" if number == 0 else separator) + separator.join(step.predicted for step in block)
        else:
            yield "\n".join(generation_lines(block, saved.carries_state)) + "\n"
    if text:
        yield "\n"


def generation_lines(block, carries_state: bool) -> list[str]:
    """One line per generated step: what was fed (a symbol, or the window) and what came."""
    if carries_state:
        return [f"{step.given} -> {step.predicted}" for step in block]
    return [f"{list(step.window)} -> {step.predicted}" for step in block]


# ---- saved models of numbers (`forecast`, `backtest`) ---------------------------------------------

def forecast_table(result, name: str, shown: int) -> Table:
    """A forecast's median and 5-95% band over seeds, a row for each of the first ``shown`` steps
    (``owndata.forecast.Forecast``)."""
    (low, high), median = result.band, result.median  # each computed once: a forecast may be millions of steps
    table = Table("step", result.time_column or "row", "median", "5%", "95%",
                  title=f"{name}: {result.horizon} values after row {result.origin}, over {len(result.per_seed)} seeds")
    for h in range(min(shown, result.horizon)):
        table.add_row(str(h + 1), result.labels[h], f"{median[h]:.4g}", f"{low[h]:.4g}", f"{high[h]:.4g}")
    return table


def backtest_table(block: dict, baselines, name: str, origins: int, seeds: int) -> Table:
    """A backtest's RMSE per step beside the baselines', and the LSTM's MASE (results.json's
    ``backtest`` block)."""
    horizon = len(block["lstm"]["rmse"]["mean"])
    table = Table("step", f"LSTM RMSE ({seeds} seeds)", "95% interval", *baselines, "LSTM MASE",
                  title=f"{name}: RMSE of {horizon}-step forecasts from {origins} held-out origins")
    for h in range(horizon):
        low, high = block["lstm"]["rmse"]["ci95"][h]
        table.add_row(str(h + 1), f"{block['lstm']['rmse']['mean'][h]:.4g}", f"{low:.4g}..{high:.4g}",
                      *(f"{block['baselines'][b]['rmse']['per_step'][h]:.4g}" for b in baselines),
                      f"{block['lstm']['mase']['mean'][h]:.3g}")
    overall = block["lstm"]["rmse"]["overall"]
    table.add_row("all", f"{overall['mean']:.4g}", f"{overall['ci95'][0]:.4g}..{overall['ci95'][1]:.4g}",
                  *(f"{block['baselines'][b]['rmse']['overall']:.4g}" for b in baselines),
                  f"{block['lstm']['mase']['overall']['mean']:.3g}", style="bold")
    return table


# ---- sweeps ---------------------------------------------------------------------------------------

def sweep_lines(result) -> list[str]:
    """What a sweep did (``sweep.execution.SweepResult``) and where it is written."""
    failed = sum(1 for record in result.records if record["status"] != "done")
    return [f"{result.trained} configuration(s) trained, {result.resumed} read back from an earlier sweep, "
            f"{failed} failed; {result.seconds:.1f} s",
            f"sweep written to {result.folder}/sweep.json and sweep.html; each configuration's run folder "
            f"is {result.folder}/NAME"]


def sweep_table(header, rows, payload: dict, seeds: int) -> Table:
    """Configurations ranked (``sweep.page.rows``), failures in red."""
    cluster = payload["cluster"]
    table = Table(*header, title=f"Configurations ranked ({seeds} seeds each; {cluster['address']}, "
                  f"{cluster['nodes']} node(s), {cluster['cpus']} CPUs)")
    for row in rows:
        table.add_row(*row, style="red" if row[-1].startswith("error: ") else None)
    return table
