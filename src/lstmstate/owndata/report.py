"""The report of a run of the user's own data (``train``/``compare``): ``report.html`` and
``report.md``, the seeds' held-out scores beside the classical baselines, and the command that
trains the run again, every option the saved plan holds.

``write_report`` writes the report of any run folder: this one for the user's own data, the
tutorial's (``tutorial.report``) for a suite's, so ``lstmstate report DIR`` reads either.
"""

import shlex
from dataclasses import fields
from functools import partial
from html import escape
from pathlib import Path

import numpy as np

from lstmstate.output import cells, figures, markup
from lstmstate.output.formatting import score
from lstmstate.output.report import Picture, drawn, environment, write
from lstmstate.owndata.plan import Plan
from lstmstate.storage import runfolder
from lstmstate.tutorial import report as tutorial_report


def write_report(folder: Path, payload: dict | None = None) -> tuple[Path, Path]:
    """Write ``folder/report.html``, ``folder/report.md`` and ``folder/figures/*.png`` from the
    run's results (``payload``, or ``folder/results.json`` read and checked when None): the
    own-data report, or the tutorial's for a suite's folder.

    Returns the paths of the HTML and Markdown reports. A folder without valid results is a
    ``ValueError``.
    """
    folder = Path(folder)
    payload = runfolder.read_results(folder) if payload is None else payload
    if not runfolder.holds_own_data(payload):
        return tutorial_report.write_report(folder, payload)
    try:
        command = reproduce(payload, saved_plans(folder, payload))
    except (KeyError, TypeError, AttributeError) as error:  # as write says of what it draws and renders
        raise ValueError(f"{folder}/results.json is damaged: {type(error).__name__} {error}") from None
    return write(folder, payload, draw_pictures, partial(render_html, command=command),
                 partial(render_markdown, command=command))


def draw_pictures(folder: Path, payload: dict) -> list[Picture]:
    """The seeds' held-out scores beside every baseline, and the training loss, as PNGs."""
    experiments = {name: entry for name, entry in payload["experiments"].items()
                   if any(v is not None for v in entry["holdout"]["per_seed"])}
    pictures = []
    if not experiments:
        return pictures
    metric = payload["holdout"]["metric"]
    unit = "accuracy" if metric == "accuracy" else f"RMSE of {payload['data'].get('target', 'the target')}"

    def add(stem: str, title: str, caption: str, draw) -> None:
        pictures.append(drawn(folder, stem, title, caption, draw))

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


def _title(payload: dict) -> str:
    count = len(payload["experiments"])
    what = f"{count} framings compared" if "ranking" in payload else f"framing {payload.get('framing', '?')}"
    return f"lstmstate on {payload['data'].get('file', 'your data')}: {what} over {len(payload.get('seeds', []))} seeds"


def _summary(payload: dict) -> str:
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


def _configuration_rows(payload: dict) -> tuple[list[str], list[list[str]]]:
    header = ["framing", "window", "units", "epochs", "batch", "encoding", "seeds", "seconds"]
    rows = [[name, str(e.get("window", "")), str(e.get("units", "")), str(e.get("epochs", "")),
             str(e.get("batch_size", "")), str(e.get("encoding", "")), str(len(e.get("seeds", []))),
             f"{e.get('seconds', 0):.1f}"] for name, e in payload["experiments"].items()]
    return header, rows


def _result_rows(payload: dict) -> tuple[list[str], list[list[str]]]:
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


def _baseline_rows(payload: dict) -> tuple[list[str], list[list[str]]]:
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


def _verdicts(payload: dict) -> list[str]:
    lines = []
    for name, entry in payload["experiments"].items():
        if entry.get("against_baseline"):
            lines.append(f"{name}: {entry['against_baseline']}.")
        if entry.get("against_perplexity"):
            lines.append(f"{name}, perplexity: {entry['against_perplexity']}.")
    if payload.get("recommendation", {}).get("text"):
        lines.append(payload["recommendation"]["text"])
    return lines


def reproduce(payload: dict, plans: dict[str, Plan]) -> list[str]:
    """The command that trains the run again: the data read as it was, and every option of the
    saved plans that differs from the Plan's default, derived from the Plan's fields (field
    ``learning_rate`` is ``--learning-rate``), so an option added to the Plan is never left out.

    ``train`` names its framing: on a text, a framing not given would take a language model's
    defaults (``plan.TEXT_DEFAULTS``). ``compare`` trains every framing with one plan; an
    option one framing set aside (the stateful framing's one stream drops ``--batch-size``) is
    taken from the others.
    """
    if "ranking" in payload:
        return [_command("compare", payload["data"], list(plans.values()))]
    return [_command("train", payload["data"], [plan]) for plan in plans.values()]


def _command(command: str, data: dict, plans: list[Plan]) -> str:
    options = {"data": data.get("file")}
    if data.get("kind") == "symbols":
        options["tokens"] = data.get("tokens")
    else:
        options.update(columns=",".join(data.get("columns", [])), target=data.get("target"),
                       time_column=data.get("time_column"), fill=data.get("fill"))
    for field in fields(Plan):
        if field.name == "framing":
            if command == "train":
                options["framing"] = plans[0].framing
            continue  # compare trains every framing
        # A field without a default (MISSING) differs from it, so it is always named.
        options[field.name] = next((getattr(plan, field.name) for plan in plans
                                    if getattr(plan, field.name) != field.default), None)
    words = ["lstmstate", command]
    for name, value in options.items():
        if value is not None:
            words += [f"--{name.replace('_', '-')}", shlex.quote(str(value))]
    return " ".join(words + ["--out", "DIR"])


def saved_plans(folder: Path, payload: dict) -> dict[str, Plan]:
    """Each framing's plan, as its ``setup.json`` saved it; for results without saved weights,
    what ``results.json`` keeps of it (the Plan's defaults fill the rest)."""
    plans = {}
    kept = {field.name for field in fields(Plan)}
    for name, entry in payload["experiments"].items():
        entry_folder = folder / runfolder.check_name(name)
        if (entry_folder / runfolder.SETUP).is_file():
            saved = runfolder.read_plan(entry_folder)
        else:  # an entry's encoding is the one chosen ("standardized" for numbers), not the option asked;
            # its holdout and validation are scores, the fractions are the data's
            saved = {"framing": name, **{key: value for key, value in entry.items() if key != "encoding"},
                     "holdout": payload["data"].get("holdout"), "validation": payload["data"].get("validation"),
                     "seeds": len(entry.get("seeds", []))}
        try:
            plans[name] = Plan(**{key: value for key, value in saved.items() if key in kept and value is not None})
        except ValueError as error:
            raise ValueError(f"{entry_folder / runfolder.SETUP}: its plan is damaged: {error}") from None
    return plans


def render_html(payload: dict, pictures: list[Picture], command: list[str]) -> str:
    """The report of a run of the user's own data as one self-contained HTML page."""
    title = _title(payload)
    parts = [f"<h1>{escape(title)}</h1>",
             "<p class=\"meta\">LSTM framings trained over many seeds, judged against classical baselines</p>",
             f"<p class=\"abstract\">{escape(_summary(payload))}</p>",
             "<h2>1. What was run</h2>", markup.table(*_configuration_rows(payload), numeric={1, 2, 3, 4, 6, 7}),
             markup.bullets(environment(payload)),
             "<p>To reproduce:</p><pre>" + escape("\n".join(command)) + "</pre>",
             "<h2>2. Held-out results</h2>", markup.table(*_result_rows(payload), numeric={2, 3, 4}),
             "<h2>3. Baselines</h2>", markup.table(*_baseline_rows(payload), numeric={2}),
             "<h2>4. Verdicts</h2>",
             markup.bullets(_verdicts(payload))]
    for heading, header, rows, verdicts in _backtest_tables(payload):
        parts += [f"<h3>{escape(heading)}</h3>", markup.table(header, rows, numeric=set(range(1, len(header)))),
                  markup.bullets(verdicts)]
    parts.append("<h2>5. Pictures</h2>")
    for number, picture in enumerate(pictures, start=1):
        parts.append(markup.figure(picture.png, picture.title,
                                   f"<b>Figure {number}. {escape(picture.title)}.</b> {escape(picture.caption)}"))
    if not pictures:
        parts.append("<p>No seed finished with a finite score: nothing to draw.</p>")
    return markup.page(title, parts + cells.report_html(payload, 6))


def render_markdown(payload: dict, pictures: list[Picture], command: list[str]) -> str:
    """The report of a run of the user's own data as Markdown, figures as the PNGs beside it."""
    parts = [f"# {_title(payload)}", "", _summary(payload), "", "## 1. What was run", "",
             markup.markdown_table(*_configuration_rows(payload)), ""]
    parts += [f"- {line}" for line in environment(payload)]
    parts += ["", "To reproduce:", "", "```", *command, "```", "", "## 2. Held-out results", "",
              markup.markdown_table(*_result_rows(payload)), "", "## 3. Baselines", "", markup.markdown_table(*_baseline_rows(payload)),
              "", "## 4. Verdicts", ""]
    parts += [f"- {line}" for line in _verdicts(payload)]
    for title, header, rows, verdicts in _backtest_tables(payload):
        parts += ["", f"### {title}", "", markup.markdown_table(header, rows), ""] + [f"- {line}" for line in verdicts]
    parts += ["", "## 5. Pictures", ""]
    for number, picture in enumerate(pictures, start=1):
        parts += [f"![{picture.title}]({picture.file})", "", f"*Figure {number}. {picture.title}.* {picture.caption}", ""]
    return "\n".join(parts + cells.report_markdown(payload, 6))
