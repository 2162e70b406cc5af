"""The tutorial's report: ``report.html`` and ``report.md`` of a suite's run folder, read as a
short paper.

Order, as in a paper: what was run, the results, the verdict on each claim, the pictures, the
median seed's transcripts. Everything comes from ``results.json`` and the saved weights; nothing
is trained here.

    lstmstate report runs/20250101-120000     # regenerate from saved results
"""

from collections import Counter
from html import escape
from pathlib import Path

from lstmstate.core import policy
from lstmstate.output import cells, figures, markup
from lstmstate.output.formatting import percent, share_of_seeds
from lstmstate.output.report import Picture, drawn, environment, write
from lstmstate.storage import runfolder
from lstmstate.trained import saved

# A state figure has a column per symbol and a row per unit: past these it is too large to read
# (and, far past them, too large for matplotlib to draw), so the report leaves it out.
TRACE_SYMBOLS, TRACE_UNITS = 200, 512


def write_report(folder: Path, payload: dict | None = None) -> tuple[Path, Path]:
    """Write ``folder/report.html``, ``folder/report.md`` and ``folder/figures/*.png`` from the
    suite's results (``payload``, or ``folder/results.json`` read and checked when None).

    Returns the paths of the HTML and Markdown reports. A folder without valid results is a
    ``ValueError``.
    """
    folder = Path(folder)
    payload = runfolder.read_results(folder) if payload is None else payload
    return write(folder, payload, draw_pictures, render_html, render_markdown)


def draw_pictures(folder: Path, payload: dict) -> list[Picture]:
    """Every figure the run's results allow, written as PNG under ``folder/figures``."""
    # An experiment whose every seed diverged has no accuracy to draw; the tables still list it.
    experiments = {name: entry for name, entry in payload["experiments"].items() if _has_accuracy(entry)}
    pictures = []
    if not experiments:
        return pictures

    def add(stem: str, title: str, caption: str, draw) -> None:
        pictures.append(drawn(folder, stem, title, caption, draw))

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



def _reproduce(payload: dict) -> list[str]:
    seeds = len(payload.get("seeds", []))
    return [f"lstmstate run {name} --seeds {seeds} --epochs {entry.get('epochs')} --out DIR"
            for name, entry in payload["experiments"].items() if "epochs" in entry]


# ---- HTML ----

def render_html(payload: dict, pictures: list[Picture]) -> str:
    """The report as one HTML page with every image embedded: no network, no other files."""
    title = _title(payload)
    parts = [f"<h1>{escape(title)}</h1>",
             "<p class=\"meta\">Understanding stateful LSTMs in Keras, reproduced over many seeds</p>",
             f"<p class=\"abstract\">{escape(_summary(payload))}</p>",
             "<h2>1. What was run</h2>",
             markup.table(*_configuration_rows(payload), numeric={3, 4, 5, 8, 9}),
             markup.bullets(environment(payload)),
             "<p>To reproduce one experiment:</p><pre>" + escape("\n".join(_reproduce(payload))) + "</pre>",
             "<h2>2. Results</h2>",
             "<p>Accuracy on the training patterns, as Keras <code>evaluate</code> reports it; the interval is a "
             "percentile bootstrap over seeds.</p>",
             markup.table(*_result_rows(payload), numeric={1, 2, 3, 4, 5, 6, 7}),
             "<h2>3. Claims</h2>"]
    header, rows = _verdict_rows(payload)
    parts.append(markup.table(header, rows, verdict_column=3) if rows else "<p>No claim could be judged from the "
                 "experiments run so far.</p>")
    parts.append("<h2>4. Pictures</h2>")
    if not pictures:
        parts.append("<p>No finished experiment to draw yet.</p>")
    for picture in pictures:
        if not picture.png:
            parts.append(f"<p><b>{escape(picture.title)}</b>: {escape(picture.caption)}</p>")
    for number, picture in enumerate([picture for picture in pictures if picture.png], start=1):
        parts.append(markup.figure(picture.png, picture.title,
                                   f"<b>Figure {number}. {escape(picture.title)}.</b> {escape(picture.caption)}"))
    parts.append("<h2>5. Transcripts of the median seed</h2>")
    for name, entry in payload["experiments"].items():
        if entry.get("transcript"):
            parts.append(f"<details><summary>{escape(name)} (seed {entry.get('median_seed', '?')}, "
                         f"accuracy {percent(_median_accuracy(entry))})</summary>"
                         f"<pre>{escape(chr(10).join(entry['transcript']))}</pre></details>")
    return markup.page(title, parts + cells.report_html(payload, 6))


def _median_accuracy(entry: dict) -> float | None:
    # per_seed holds the seeds that did not diverge, in the order of ``seeds``.
    diverged = set(entry.get("diverged", {}).get("seeds", []))
    kept = [seed for seed in entry.get("seeds", []) if seed not in diverged]
    per_seed = entry.get("accuracy", {}).get("per_seed", [])
    if entry.get("median_seed") in kept and len(per_seed) == len(kept):
        return per_seed[kept.index(entry["median_seed"])]
    return None


# ---- Markdown ----

def render_markdown(payload: dict, pictures: list[Picture]) -> str:
    """The report as Markdown, figures referenced as the PNGs beside it."""
    header, verdict_rows = _verdict_rows(payload)
    parts = [f"# {_title(payload)}", "", _summary(payload), "", "## 1. What was run", "",
             markup.markdown_table(*_configuration_rows(payload)), ""]
    parts += [f"- {line}" for line in environment(payload)]
    parts += ["", "To reproduce one experiment:", "", "```", *_reproduce(payload), "```", "",
              "## 2. Results", "", "Accuracy on the training patterns; the interval is a percentile bootstrap over seeds.",
              "", markup.markdown_table(*_result_rows(payload)), "", "## 3. Claims", "",
              markup.markdown_table(header, verdict_rows) if verdict_rows else "No claim could be judged yet.", "",
              "## 4. Pictures", ""]
    parts += [f"**{picture.title}**: {picture.caption}\n" for picture in pictures if not picture.png]
    for number, picture in enumerate([picture for picture in pictures if picture.png], start=1):
        parts += [f"![{picture.title}]({picture.file})", "", f"*Figure {number}. {picture.title}.* {picture.caption}", ""]
    if not pictures:
        parts += ["No finished experiment to draw yet.", ""]
    return "\n".join(parts + cells.report_markdown(payload, 5))
