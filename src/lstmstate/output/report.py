"""The report of a run folder: ``report.html`` (self-contained, figures embedded) and
``report.md`` (figures as PNGs under ``figures/``), read as a short paper.

Order, as in a paper: what was run, the results, the verdict on each claim, the pictures.
Everything comes from ``results.json`` and the saved weights; nothing is trained here.

    lstmstate report runs/20250101-120000     # regenerate from saved results
"""

import base64
import html
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lstmstate.core import policy
from lstmstate.output import figures
from lstmstate.output.formatting import percent, score, share_of_seeds
from lstmstate.storage import runfolder
from lstmstate.storage.files import write_atomically
from lstmstate.trained import saved

FIGURES_FOLDER = runfolder.FIGURES  # PNGs beside the report, referenced by report.md
# A state figure has a column per symbol and a row per unit: past these it is too large to read
# (and, far past them, too large for matplotlib to draw), so the report leaves it out.
TRACE_SYMBOLS, TRACE_UNITS = 200, 512


@dataclass(frozen=True)
class Picture:
    """One figure of the report."""

    file: str  # path relative to the run folder, e.g. "figures/accuracy.png"
    title: str  # a heading
    caption: str  # one line: what to see in it
    png: bytes  # the image itself, embedded in the HTML; empty when it could not be drawn (caption says why)


def write_report(folder: Path, payload: dict | None = None) -> tuple[Path, Path]:
    """Write ``folder/report.html``, ``folder/report.md`` and ``folder/figures/*.png`` from the
    run's results (``payload``, or ``folder/results.json`` read and checked when None).

    Returns the paths of the HTML and Markdown reports. A folder without valid results is a
    ``ValueError``.
    """
    folder = Path(folder)
    payload = runfolder.read_results(folder) if payload is None else payload
    # A run of the user's own data (train/compare) reads differently from the tutorial's paper:
    # held-out scores beside classical baselines, no published figures or claims.
    own_data = runfolder.holds_own_data(payload)
    for name in payload["experiments"]:  # read or handed over, a name becomes a file name only if it is one
        runfolder.check_name(name)
    with runfolder.locked(folder):  # a command still writing here would interleave with the report
        # Tried before anything is drawn: a folder or a link in the way is an error now.
        html_path, md_path = (runfolder.target(folder, name) for name in runfolder.REPORTS)
        try:
            if own_data:
                pictures = draw_data_pictures(folder, payload)
                html_text, md_text = render_data_html(payload, pictures), render_data_markdown(payload, pictures)
            else:
                pictures = draw_pictures(folder, payload)
                html_text, md_text = render_html(payload, pictures), render_markdown(payload, pictures)
        except (KeyError, TypeError, IndexError, AttributeError) as error:
            # results.json parsed but lacks what its format promises: say so instead of a traceback.
            raise ValueError(f"{folder}/results.json is damaged: {type(error).__name__} {error}") from None
        write_atomically(html_path, html_text.encode())
        write_atomically(md_path, md_text.encode())
    return html_path, md_path


def draw_pictures(folder: Path, payload: dict) -> list[Picture]:
    """Every figure the run's results allow, written as PNG under ``folder/figures``."""
    # An experiment whose every seed diverged has no accuracy to draw; the tables still list it.
    experiments = {name: entry for name, entry in payload["experiments"].items() if _has_accuracy(entry)}
    pictures = []
    if not experiments:
        return pictures

    def add(stem: str, title: str, caption: str, draw) -> None:
        path = runfolder.target(folder, FIGURES_FOLDER, f"{stem}.png")  # checked: inside, no link
        pictures.append(Picture(f"{FIGURES_FOLDER}/{path.name}", title, caption, figures.save_png(draw(), path)))

    add("accuracy", "Accuracy of every seed", _accuracy_caption(experiments),
        lambda: figures.accuracy_per_seed(experiments))
    with_curves = {name: entry for name, entry in experiments.items() if "curves" in entry}
    if with_curves:
        add("curves-accuracy", "Training accuracy",
            "The line is the mean over seeds and the band its 95% interval: a curve still rising at the last "
            "epoch has not converged, and a wide band means seeds disagree.",
            lambda: figures.training_curves(with_curves, "accuracy"))
        add("curves-loss", "Training loss",
            "Cross-entropy on the training patterns: where it still falls at the last epoch, more epochs would still "
            "change the model, even if accuracy has stopped moving.",
            lambda: figures.training_curves(with_curves, "loss"))
    for name, entry in experiments.items():
        # Names come from results.json: each becomes a file name only through runfolder's checks.
        try:
            state = _state_figure(folder, name, entry)
        except ValueError as error:  # its saved experiment is damaged: say so, draw the rest
            pictures.append(Picture("", f"Hidden and cell state of {name}", f"Not drawn: {error}", b""))
            state = None
        if state is not None:
            add(runfolder.figure_stem("state", name), f"Hidden and cell state of {name}",
                _state_caption(name, entry), lambda: state)
        if entry.get("generation"):
            generation = entry["generation"]
            add(runfolder.figure_stem("generation", name), f"Cold and primed generation of {name}",
                _generation_caption(generation), lambda: figures.generation_transcripts(generation))
    return pictures


def _has_accuracy(entry: dict) -> bool:
    accuracy = entry.get("accuracy", {})
    return bool(accuracy.get("per_seed")) and accuracy.get("mean") is not None


def _state_figure(folder: Path, name: str, entry: dict):
    """The median seed's state over its own training stream, for an experiment that carries state
    from one sample to the next (over a stream of windows, the state would mean nothing)."""
    # Read from the entry first, so an experiment that resets its state is not loaded at all.
    if not policy.get(entry.get("policy", policy.RESET_EVERY_BATCH.name)).carries_state:
        return None
    if not (folder / name / runfolder.SETUP).is_file():
        return None  # results without saved weights (a payload written on its own): nothing to trace
    experiment = saved.load(folder, name)
    if experiment.stream is None or len(experiment.stream) > TRACE_SYMBOLS or experiment.spec.units > TRACE_UNITS:
        return None
    trace = experiment.trace(list(experiment.stream))
    seed = experiment.seeds[experiment.median_index]
    return figures.state_heatmaps(trace.h, trace.c, list(trace.symbols),
                                  f"{name}: state of seed {seed} (the median seed) over its training stream, "
                                  "from zero state")


def _accuracy_caption(experiments: dict) -> str:
    return ("Each dot is one seed and the black bar the mean with its 95% interval; the red cross is the tutorial's "
            "single published run: where it sits outside the dots, one run did not stand for the method.")


def _state_caption(name: str, entry: dict) -> str:
    return ("Each column is the state after one more symbol, carried from the left: look for units that change "
            "steadily along the stream; they tell the model where it is, which the one input symbol cannot.")


def _generation_caption(generation: dict) -> str:
    start, prime = generation["cold_start"], generation["prime"]
    cold = Counter(generation["cold_predictions"]).most_common(1)
    primed = Counter(generation["primed_predictions"]).most_common(1)
    if not cold or not primed:
        return f"What the model predicts after {start}, started cold and primed with {prime}."
    text = (f"Started cold at {start}, most seeds predict {cold[0][0]}; primed with {prime}, most predict "
            f"{primed[0][0]}")
    if cold[0][0] != primed[0][0]:
        return text + ": the same input, another answer, because only the carried state differs."
    return text + ": here priming did not change the answer, so the state was not yet used."


# ---- a run of the user's own data: held-out scores beside the baselines ----

def draw_data_pictures(folder: Path, payload: dict) -> list[Picture]:
    """The seeds' held-out scores beside every baseline, and the training loss, as PNGs."""
    experiments = {name: entry for name, entry in payload["experiments"].items()
                   if any(v is not None for v in entry["holdout"]["per_seed"])}
    pictures = []
    if not experiments:
        return pictures
    metric = payload["holdout"]["metric"]
    unit = "accuracy" if metric == "accuracy" else f"RMSE of {payload['data'].get('target', 'the target')}"

    def add(stem: str, title: str, caption: str, draw) -> None:
        path = runfolder.target(folder, FIGURES_FOLDER, f"{stem}.png")  # checked: inside, no link
        pictures.append(Picture(f"{FIGURES_FOLDER}/{path.name}", title, caption, figures.save_png(draw(), path)))

    add("held-out", "Held-out score of every seed beside the baselines",
        "Each dot is one seed's score on the held-out part; each dashed line a classical model fitted on the training "
        "part and scored on the same held-out targets. A framing is worth its cost only where its seeds clear the "
        "strongest line.",
        lambda: figures.scores_against_baselines(experiments, payload.get("baselines", []), metric, unit))
    for framing, block in payload.get("backtest", {}).items():
        if framing not in payload["experiments"]:
            continue  # a name results.json does not list as a framing never becomes a file name
        example = block["example"]
        add(runfolder.figure_stem("forecast", framing), f"Forecast of {framing} from the end of the training part",
            f"The median over seeds of the {block['horizon']}-step forecast from row {example['origin']} (the last "
            "training row), the 5-95% band across seeds, and the true held-out values (dashed).",
            lambda example=example: figures.forecast_band(
                np.concatenate([np.full(example["history_start"], np.nan), example["history"]]), example["origin"],
                np.asarray(example["median"]), np.asarray(example["low"]), np.asarray(example["high"]),
                np.asarray(example["actual"]), f"{framing}: forecast from row {example['origin']}"))
    with_curves = {name: entry for name, entry in experiments.items() if "loss" in entry.get("curves", {})}
    if with_curves:
        add("curves-loss", "Training loss",
            "Mean over seeds with its 95% band, on the training part: a curve still falling at the last epoch means "
            "more epochs would still change the model.",
            lambda: figures.training_curves(with_curves, "loss"))
    validated = {name: entry for name, entry in experiments.items() if entry.get("validation", {}).get("epochs")}
    if validated:
        add("curves-held-out", "Validation scores while training",
            "The validation part (just before the held-out part, never trained on) scored every few epochs while "
            "training (dropout off, as in the final score), one line per seed: where the validation loss turns up "
            "while the training loss still falls, more epochs overfit. With --patience each seed keeps its weights "
            "of the dot; the held-out part is scored once, after training.",
            lambda: figures.validation_curves(validated))
    return pictures


def _data_title(payload: dict) -> str:
    count = len(payload["experiments"])
    what = f"{count} framings compared" if "ranking" in payload else f"framing {payload.get('framing', '?')}"
    return f"lstmstate on {payload['data'].get('file', 'your data')}: {what} over {len(payload.get('seeds', []))} seeds"


def _data_summary(payload: dict) -> str:
    data = payload["data"]
    what = (f"{data.get('items')} {data.get('tokens', '')} symbols ({data.get('vocabulary_size')} distinct)"
            if data.get("kind") == "symbols" else
            f"{data.get('items')} rows, predicting the next {data.get('target')} from {', '.join(data.get('columns', []))}")
    if data.get("filled"):
        what += f", {data['filled']} value{'s' if data['filled'] > 1 else ''} filled ({data.get('fill')})"
    if data.get("time_column"):
        what += f", rows timed by {data['time_column']}"
    conclusion = payload.get("recommendation", {}).get("text") or next(
        iter(e.get("against_baseline", "") for e in payload["experiments"].values()), "")
    return (f"{what}; the last {data.get('held_out_items')} items held out, never trained on. Every seed and every "
            f"baseline is scored on the same held-out targets; the baselines are fitted on the training part only. "
            f"{conclusion[:1].upper() + conclusion[1:]}")


def _data_configuration_rows(payload: dict) -> tuple[list[str], list[list[str]]]:
    header = ["framing", "window", "units", "epochs", "batch", "encoding", "seeds", "seconds"]
    rows = [[name, str(e.get("window", "")), str(e.get("units", "")), str(e.get("epochs", "")),
             str(e.get("batch_size", "")), str(e.get("encoding", "")), str(len(e.get("seeds", []))),
             f"{e.get('seconds', 0):.1f}"] for name, e in payload["experiments"].items()]
    return header, rows


def _data_result_rows(payload: dict) -> tuple[list[str], list[list[str]]]:
    """Framings and baselines on the run's metric in one table, best first."""
    metric = payload["holdout"]["metric"]
    rows = []
    for name, entry in payload["experiments"].items():
        holdout = entry["holdout"]
        low, high = holdout.get("ci95", [None, None])
        finite = [v for v in holdout["per_seed"] if v is not None]
        rows.append((holdout.get("mean"), [name, "LSTM framing", score(metric, holdout.get("mean")),
                                           f"{score(metric, low)} .. {score(metric, high)}",
                                           f"{score(metric, min(finite, default=None))} .. "
                                           f"{score(metric, max(finite, default=None))}"]))
    for baseline in payload.get("baselines", []):
        if baseline.get("metric") == metric:
            rows.append((baseline.get("score"), [baseline["name"], "baseline", score(metric, baseline.get("score")),
                                                 "-", "-"]))
    higher = metric == "accuracy"
    rows.sort(key=lambda row: (row[0] is None, -(row[0] or 0) if higher else (row[0] or 0)))
    return ["model", "kind", "held-out " + ("accuracy" if higher else "RMSE"), "95% interval over seeds",
            "range over seeds"], [row for _, row in rows]


def _data_baseline_rows(payload: dict) -> tuple[list[str], list[list[str]]]:
    rows = []
    for baseline in payload.get("baselines", []):
        parameters = baseline.get("parameters", {})
        chosen = parameters.get("chosen_by") or parameters.get("season_from") or ""
        rows.append([baseline["name"], baseline.get("metric", ""), score(baseline.get("metric"), baseline.get("score")),
                     baseline.get("description", ""), chosen])
    return ["baseline", "metric", "score", "what it is", "how its parameter was chosen"], rows


def _backtest_tables(payload: dict) -> list[tuple[str, list[str], list[list[str]], list[str]]]:
    """Per backtested framing: a title, the RMSE (and MASE) per horizon step for the seeds and
    every baseline, and the verdicts in words."""
    tables = []
    for framing, block in payload.get("backtest", {}).items():
        names = list(block["baselines"])
        header = ["step", "LSTM RMSE (mean)", "95% interval", *names, "LSTM MASE"]
        rows = []
        for h in range(block["horizon"]):
            low, high = block["lstm"]["rmse"]["ci95"][h]
            rows.append([str(h + 1), f"{block['lstm']['rmse']['mean'][h]:.4g}", f"{low:.4g} .. {high:.4g}",
                         *(f"{block['baselines'][n]['rmse']['per_step'][h]:.4g}" for n in names),
                         f"{block['lstm']['mase']['mean'][h]:.3g}"])
        overall = block["lstm"]["rmse"]["overall"]
        rows.append(["all", f"{overall['mean']:.4g}", f"{overall['ci95'][0]:.4g} .. {overall['ci95'][1]:.4g}",
                     *(f"{block['baselines'][n]['rmse']['overall']:.4g}" for n in names),
                     f"{block['lstm']['mase']['overall']['mean']:.3g}"])
        title = (f"Backtest of {framing}: {block['horizon']}-step forecasts from {block['origins']} held-out origins "
                 f"(every {block['stride']}), RMSE in the target's units")
        tables.append((title, header, rows, list(block["verdicts"])))
    return tables


def _data_verdicts(payload: dict) -> list[str]:
    lines = []
    for name, entry in payload["experiments"].items():
        if entry.get("against_baseline"):
            lines.append(f"{name}: {entry['against_baseline']}.")
        if entry.get("against_perplexity"):
            lines.append(f"{name}, perplexity: {entry['against_perplexity']}.")
    if payload.get("recommendation", {}).get("text"):
        lines.append(payload["recommendation"]["text"])
    return lines


def _data_reproduce(payload: dict) -> list[str]:
    data = payload["data"]
    source = [f"--data {data.get('file')}"]
    if data.get("kind") == "symbols":
        source.append(f"--tokens {data.get('tokens')}")
    else:
        source += [f"--columns {','.join(data.get('columns', []))}", f"--target {data.get('target')}"]
    seeds = len(payload.get("seeds", []))
    lines = []
    for name, entry in payload["experiments"].items():
        command = "compare" if "ranking" in payload else f"train --framing {name}"
        lines.append(f"lstmstate {command} {' '.join(source)} --window {entry.get('window')} --units {entry.get('units')} "
                     f"--epochs {entry.get('epochs')} --seeds {seeds} --holdout {data.get('holdout')} --out DIR")
        if "ranking" in payload:
            break  # one command trains every framing
    return lines


def render_data_html(payload: dict, pictures: list[Picture]) -> str:
    """The report of a run of the user's own data as one self-contained HTML page."""
    title = _data_title(payload)
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>",
             f"<style>{_STYLE}</style></head><body>", f"<h1>{html.escape(title)}</h1>",
             "<p class=\"meta\">LSTM framings trained over many seeds, judged against classical baselines</p>",
             f"<p class=\"abstract\">{html.escape(_data_summary(payload))}</p>",
             "<h2>1. What was run</h2>", _html_table(*_data_configuration_rows(payload), numeric={1, 2, 3, 4, 6, 7}),
             "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in _environment(payload)) + "</ul>",
             "<p>To reproduce:</p><pre>" + html.escape("\n".join(_data_reproduce(payload))) + "</pre>",
             "<h2>2. Held-out results</h2>", _html_table(*_data_result_rows(payload), numeric={2, 3, 4}),
             "<h2>3. Baselines</h2>", _html_table(*_data_baseline_rows(payload), numeric={2}),
             "<h2>4. Verdicts</h2>",
             "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in _data_verdicts(payload)) + "</ul>"]
    for title, header, rows, verdicts in _backtest_tables(payload):
        parts += [f"<h3>{html.escape(title)}</h3>", _html_table(header, rows, numeric=set(range(1, len(header)))),
                  "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in verdicts) + "</ul>"]
    parts.append("<h2>5. Pictures</h2>")
    for number, picture in enumerate(pictures, start=1):
        data = base64.b64encode(picture.png).decode("ascii")
        parts.append(f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{html.escape(picture.title)}\">"
                     f"<figcaption><b>Figure {number}. {html.escape(picture.title)}.</b> "
                     f"{html.escape(picture.caption)}</figcaption></figure>")
    if not pictures:
        parts.append("<p>No seed finished with a finite score: nothing to draw.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def render_data_markdown(payload: dict, pictures: list[Picture]) -> str:
    """The report of a run of the user's own data as Markdown, figures as the PNGs beside it."""
    parts = [f"# {_data_title(payload)}", "", _data_summary(payload), "", "## 1. What was run", "",
             _md_table(*_data_configuration_rows(payload)), ""]
    parts += [f"- {line}" for line in _environment(payload)]
    parts += ["", "To reproduce:", "", "```", *_data_reproduce(payload), "```", "", "## 2. Held-out results", "",
              _md_table(*_data_result_rows(payload)), "", "## 3. Baselines", "", _md_table(*_data_baseline_rows(payload)),
              "", "## 4. Verdicts", ""]
    parts += [f"- {line}" for line in _data_verdicts(payload)]
    for title, header, rows, verdicts in _backtest_tables(payload):
        parts += ["", f"### {title}", "", _md_table(header, rows), ""] + [f"- {line}" for line in verdicts]
    parts += ["", "## 5. Pictures", ""]
    for number, picture in enumerate(pictures, start=1):
        parts += [f"![{picture.title}]({picture.file})", "", f"*Figure {number}. {picture.title}.* {picture.caption}", ""]
    return "\n".join(parts)


# ---- the text of the report, shared by HTML and Markdown ----

def _interval(entry: dict) -> str:
    accuracy = entry["accuracy"]
    low, high = accuracy["ci95"]
    if accuracy["mean"] is None:
        return "- (every seed diverged)"
    return f"{percent(accuracy['mean'])} [{percent(low)}, {percent(high)}]"


def _configuration_rows(payload: dict) -> tuple[list[str], list[list[str]]]:
    header = ["experiment", "tutorial's section or purpose", "model", "units", "epochs", "batch", "shuffle",
              "state between batches", "samples", "seeds"]
    rows = []
    for name, entry in payload["experiments"].items():
        model = str(entry.get("model", ""))
        if entry.get("encoding") == "one-hot":
            model += " on one-hot input"
        if entry.get("scrambled_alphabet"):
            model += f", scrambled alphabet {entry['scrambled_alphabet']}"
        rows.append([name, str(entry.get("section", "")), model, str(entry.get("units", "")),
                     str(entry.get("epochs", "")), str(entry.get("batch_size", "")),
                     {True: "yes", False: "no"}.get(entry.get("shuffle"), ""), str(entry.get("policy", "")),
                     str(entry.get("samples", "")), str(len(entry.get("seeds", payload.get("seeds", []))))])
    return header, rows


def _result_rows(payload: dict) -> tuple[list[str], list[list[str]]]:
    header = ["experiment", "tutorial's figure", "mean [95% interval]", "seeds at 100%", "memoryless ceiling",
              "median seed", "diverged", "seconds"]
    rows = []
    for name, entry in payload["experiments"].items():
        if "accuracy" not in entry:
            continue
        share = entry.get("perfect_share")
        rows.append([name, percent(entry.get("published_accuracy")), _interval(entry),
                     share_of_seeds(share), percent(entry.get("memoryless_ceiling")),
                     str(entry.get("median_seed", "-")), str(entry.get("diverged", {}).get("count", 0)),
                     f"{entry.get('seconds', 0):.1f}"])
    return header, rows


def _verdict_rows(payload: dict) -> tuple[list[str], list[list[str]]]:
    # The rule sits beside each verdict: what was compared, the threshold and why (runs saved before
    # verdicts carried a rule show an empty cell).
    header = ["claim", "the tutorial says", "measured", "verdict", "evidence", "rule"]
    return header, [[v.get("claim", ""), v.get("tutorial_says", ""), v.get("measured", ""), v.get("verdict", ""),
                     v.get("evidence", ""), v.get("rule", "")] for v in payload.get("verdicts", [])]


def _title(payload: dict) -> str:
    count = len(payload["experiments"])
    return f"lstmstate: {count} experiment{'s' if count != 1 else ''} over {len(payload.get('seeds', []))} seeds"


def _summary(payload: dict) -> str:
    """The abstract: what was run and what came out, in two sentences."""
    verdicts = Counter(v.get("verdict") for v in payload.get("verdicts", []))
    names = ", ".join(payload["experiments"]) or "none yet"
    claims = ", ".join(f"{verdicts[key]} {key}" for key in ("supported", "refuted", "inconclusive") if verdicts[key])
    return (f"Each experiment was trained from {len(payload.get('seeds', []))} random seeds at once, and is reported "
            f"as the distribution over seeds beside the tutorial's single published run. Experiments: {names}. "
            f"Claims tested: {len(payload.get('verdicts', []))}" + (f" ({claims})." if claims else "."))


def _environment(payload: dict) -> list[str]:
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


def _reproduce(payload: dict) -> list[str]:
    seeds = len(payload.get("seeds", []))
    return [f"lstmstate run {name} --seeds {seeds} --epochs {entry.get('epochs')} --out DIR"
            for name, entry in payload["experiments"].items() if "epochs" in entry]


# ---- HTML ----

_STYLE = """
body { font-family: Georgia, 'DejaVu Serif', serif; max-width: 62rem; margin: 2rem auto; padding: 0 1rem;
       color: #222; line-height: 1.45; background: #fff; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2rem; border-bottom: 1px solid #ddd; }
.meta { color: #666; font-size: .9rem; } .abstract { background: #f6f6f2; padding: .8rem 1rem; }
table { border-collapse: collapse; font-size: .82rem; margin: .6rem 0; width: 100%; }
th, td { border: 1px solid #ddd; padding: .25rem .45rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; } td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.verdict { font-weight: bold; padding: .05rem .35rem; border-radius: .25rem; color: #fff; white-space: nowrap; }
.supported { background: #3a8a4f; } .refuted { background: #b8413f; } .inconclusive { background: #8a8a8a; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #444; } pre { background: #f6f6f6; padding: .5rem; font-size: .8rem; }
code { font-size: .85rem; }
"""


def _html_table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset(),
                verdict_column: int | None = None) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for index, cell in enumerate(row):
            text = html.escape(cell)
            if index == verdict_column:
                text = f'<span class="verdict {html.escape(cell)}">{text}</span>'
            cells.append(f'<td class="num">{text}</td>' if index in numeric else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(payload: dict, pictures: list[Picture]) -> str:
    """The report as one HTML page with every image embedded: no network, no other files."""
    title = _title(payload)
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>",
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>",
             "<p class=\"meta\">Understanding stateful LSTMs in Keras, reproduced over many seeds</p>",
             f"<p class=\"abstract\">{html.escape(_summary(payload))}</p>",
             "<h2>1. What was run</h2>",
             _html_table(*_configuration_rows(payload), numeric={3, 4, 5, 8, 9}),
             "<ul>" + "".join(f"<li>{html.escape(line)}</li>" for line in _environment(payload)) + "</ul>",
             "<p>To reproduce one experiment:</p><pre>" + html.escape("\n".join(_reproduce(payload))) + "</pre>",
             "<h2>2. Results</h2>",
             "<p>Accuracy on the training patterns, as Keras <code>evaluate</code> reports it; the interval is a "
             "percentile bootstrap over seeds.</p>",
             _html_table(*_result_rows(payload), numeric={1, 2, 3, 4, 5, 6, 7}),
             "<h2>3. Claims</h2>"]
    header, rows = _verdict_rows(payload)
    parts.append(_html_table(header, rows, verdict_column=3) if rows else "<p>No claim could be judged from the "
                 "experiments run so far.</p>")
    parts.append("<h2>4. Pictures</h2>")
    if not pictures:
        parts.append("<p>No finished experiment to draw yet.</p>")
    drawn = [picture for picture in pictures if picture.png]
    for picture in pictures:
        if not picture.png:
            parts.append(f"<p><b>{html.escape(picture.title)}</b>: {html.escape(picture.caption)}</p>")
    for number, picture in enumerate(drawn, start=1):
        data = base64.b64encode(picture.png).decode("ascii")
        parts.append(f"<figure><img src=\"data:image/png;base64,{data}\" alt=\"{html.escape(picture.title)}\">"
                     f"<figcaption><b>Figure {number}. {html.escape(picture.title)}.</b> "
                     f"{html.escape(picture.caption)}</figcaption></figure>")
    parts.append("<h2>5. Transcripts of the median seed</h2>")
    for name, entry in payload["experiments"].items():
        if entry.get("transcript"):
            parts.append(f"<details><summary>{html.escape(name)} (seed {entry.get('median_seed', '?')}, "
                         f"accuracy {percent(_median_accuracy(entry))})</summary>"
                         f"<pre>{html.escape(chr(10).join(entry['transcript']))}</pre></details>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _median_accuracy(entry: dict) -> float | None:
    # per_seed holds the seeds that did not diverge, in the order of ``seeds``.
    diverged = set(entry.get("diverged", {}).get("seeds", []))
    kept = [seed for seed in entry.get("seeds", []) if seed not in diverged]
    per_seed = entry.get("accuracy", {}).get("per_seed", [])
    if entry.get("median_seed") in kept and len(per_seed) == len(kept):
        return per_seed[kept.index(entry["median_seed"])]
    return None


# ---- Markdown ----

def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(map(_md_cell, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def render_markdown(payload: dict, pictures: list[Picture]) -> str:
    """The report as Markdown, figures referenced as the PNGs beside it."""
    header, verdict_rows = _verdict_rows(payload)
    parts = [f"# {_title(payload)}", "", _summary(payload), "", "## 1. What was run", "",
             _md_table(*_configuration_rows(payload)), ""]
    parts += [f"- {line}" for line in _environment(payload)]
    parts += ["", "To reproduce one experiment:", "", "```", *_reproduce(payload), "```", "",
              "## 2. Results", "", "Accuracy on the training patterns; the interval is a percentile bootstrap over seeds.",
              "", _md_table(*_result_rows(payload)), "", "## 3. Claims", "",
              _md_table(header, verdict_rows) if verdict_rows else "No claim could be judged yet.", "",
              "## 4. Pictures", ""]
    parts += [f"**{picture.title}**: {picture.caption}\n" for picture in pictures if not picture.png]
    for number, picture in enumerate([picture for picture in pictures if picture.png], start=1):
        parts += [f"![{picture.title}]({picture.file})", "", f"*Figure {number}. {picture.title}.* {picture.caption}", ""]
    if not pictures:
        parts += ["No finished experiment to draw yet.", ""]
    return "\n".join(parts)
