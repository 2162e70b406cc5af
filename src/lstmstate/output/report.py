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

from lstmstate.core import policy
from lstmstate.output import figures
from lstmstate.output.formatting import percent, share_of_seeds
from lstmstate.storage import runfolder
from lstmstate.storage.files import write_atomically
from lstmstate.trained import saved

FIGURES_FOLDER = "figures"  # PNGs beside the report, referenced by report.md


@dataclass(frozen=True)
class Picture:
    """One figure of the report."""

    file: str  # path relative to the run folder, e.g. "figures/accuracy.png"
    title: str  # a heading
    caption: str  # one line: what to see in it
    png: bytes  # the image itself, embedded in the HTML


def write_report(folder: Path, payload: dict | None = None) -> tuple[Path, Path]:
    """Write ``folder/report.html``, ``folder/report.md`` and ``folder/figures/*.png`` from the
    run's results (``payload``, or ``folder/results.json`` read and checked when None).

    Returns the paths of the HTML and Markdown reports. A folder without valid results is a
    ``ValueError``.
    """
    folder = Path(folder)
    payload = runfolder.read_results(folder) if payload is None else payload
    try:
        pictures = draw_pictures(folder, payload)
        html_text, md_text = render_html(payload, pictures), render_markdown(payload, pictures)
    except (KeyError, TypeError, IndexError) as error:
        # results.json parsed but lacks what its format promises: say so instead of a traceback.
        raise ValueError(f"{folder}/results.json is damaged: {type(error).__name__} {error}") from None
    html_path, md_path = folder / "report.html", folder / "report.md"
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

    def add(name: str, title: str, caption: str, draw) -> None:
        path = f"{FIGURES_FOLDER}/{name}.png"
        pictures.append(Picture(path, title, caption, figures.save_png(draw(), folder / path)))

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
        trace_png = _state_png(folder, name, entry)
        if trace_png:
            path = f"{FIGURES_FOLDER}/state-{name}.png"
            write_atomically(folder / path, trace_png)
            pictures.append(Picture(path, f"Hidden and cell state of {name}", _state_caption(name, entry), trace_png))
        if entry.get("generation"):
            generation = entry["generation"]
            png = figures.to_png(figures.generation_transcripts(generation))
            path = f"{FIGURES_FOLDER}/generation-{name}.png"
            write_atomically(folder / path, png)
            pictures.append(Picture(path, f"Cold and primed generation of {name}", _generation_caption(generation), png))
    return pictures


def _has_accuracy(entry: dict) -> bool:
    accuracy = entry.get("accuracy", {})
    return bool(accuracy.get("per_seed")) and accuracy.get("mean") is not None


def _state_png(folder: Path, name: str, entry: dict) -> bytes | None:
    """The median seed's state over its own training stream, for an experiment that carries state
    from one sample to the next (over a stream of windows, the state would mean nothing)."""
    try:
        # Read from the entry first, so an experiment that resets its state is not loaded at all.
        if not policy.get(entry.get("policy", policy.RESET_EVERY_BATCH.name)).carries_state:
            return None
        experiment = saved.load(folder, name)
        if experiment.stream is None:
            return None
        trace = experiment.trace(list(experiment.stream))
    except ValueError:
        return None
    seed = experiment.seeds[experiment.median_index]
    return figures.to_png(figures.state_heatmaps(
        trace.h, trace.c, list(trace.symbols),
        f"{name}: state of seed {seed} (the median seed) over its training stream, from zero state"))


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
        rows.append([name, str(entry.get("section", "")), str(entry.get("model", "")), str(entry.get("units", "")),
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
    header = ["claim", "the tutorial says", "measured", "verdict", "evidence"]
    return header, [[v.get("claim", ""), v.get("tutorial_says", ""), v.get("measured", ""), v.get("verdict", ""),
                     v.get("evidence", "")] for v in payload.get("verdicts", [])]


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
    for number, picture in enumerate(pictures, start=1):
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
    for number, picture in enumerate(pictures, start=1):
        parts += [f"![{picture.title}]({picture.file})", "", f"*Figure {number}. {picture.title}.* {picture.caption}", ""]
    if not pictures:
        parts += ["No finished experiment to draw yet.", ""]
    return "\n".join(parts)
