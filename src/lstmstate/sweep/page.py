"""The sweep's report page, ``DIR/sweep.html``: what was swept and where it ran, the
configurations ranked with their intervals and errors, and the figure (also ``DIR/sweep.png``).

Everything comes from sweep.json; one self-contained HTML file (the figure embedded).
"""

from html import escape
from pathlib import Path

from lstmstate.core.statistics import ACCURACY
from lstmstate.output import figures, markup
from lstmstate.output.formatting import score
from lstmstate.storage import runfolder
from lstmstate.storage.files import write_atomically
from lstmstate.sweep import folder
from lstmstate.sweep.figure import score_against_parameters

def rows(sweep: dict) -> list[list[str]]:
    """The ranked table, as the terminal and the page show it: rank, configuration, mean, 95%
    interval, seeds, seconds, where it ran (hosts and nodes), and the folder or the error."""
    table = []
    rank = 0
    for record in folder.ranked(sweep["configurations"]):
        tasks = record.get("tasks", [])
        hosts = sorted({t["host"] for t in tasks if t.get("host")})
        nodes = sorted({t["node"][:8] for t in tasks if t.get("node")})
        where = f"{', '.join(hosts)} ({len(nodes)} node{'s' if len(nodes) != 1 else ''})" if tasks else "-"
        if record["status"] == folder.DONE and record.get("mean") is not None:
            rank += 1
            low, high = record["ci95"]
            diverged = f" ({record['diverged']} diverged)" if record.get("diverged") else ""
            table.append([str(rank), record["label"] or "(defaults)", score(record["metric"], record["mean"]),
                          f"{score(record['metric'], low)}..{score(record['metric'], high)}",
                          f"{len(record['per_seed'])}{diverged}", f"{record['seconds']:.1f}", where, record["name"]])
        else:
            error = record.get("error") or "every seed diverged"
            table.append(["-", record["label"] or "(defaults)", "-", "-", "-", f"{record['seconds']:.1f}", where,
                          f"{markup.ERROR}{error}"])
    return table


HEADER = ["#", "configuration", "mean", "95% interval", "seeds", "seconds", "ran on", "run folder / error"]


def write(where: Path, sweep: dict) -> Path:
    """Draw the figure (``sweep.png``) and write ``sweep.html``; returns the page's path."""
    png = figures.save_png(score_against_parameters(sweep["configurations"], sweep["grid"], sweep["swept"]),
                           runfolder.target(Path(where), folder.FIGURE))
    path = runfolder.target(Path(where), folder.PAGE)
    write_atomically(path, render(sweep, png).encode())
    return path


def render(sweep: dict, png: bytes) -> str:
    asked, records = sweep["request"], sweep["configurations"]
    what = "the tutorial's experiments" if asked["kind"] != "data" else f"your data ({asked['data']['path']})"
    metric = next((r["metric"] for r in records if r.get("metric")), ACCURACY)
    failed = sum(1 for r in records if r["status"] != folder.DONE)
    cluster = sweep.get("cluster") or {}
    grid = "; ".join(f"{name}: {', '.join('none' if v is None else str(v) for v in values)}"
                     for name, values in sweep["grid"].items())
    return markup.page("lstmstate sweep", [
        f"<h1>Sweep of {escape(what)}</h1>",
        f"<p class=\"meta\">{len(records)} configurations x {asked['seeds']} seeds; {failed} failed; "
        f"updated {escape(sweep['updated'])}; ran on {escape(str(cluster.get('address')))} "
        f"({cluster.get('nodes')} node(s), {cluster.get('cpus')} CPUs, {cluster.get('task_cpus')} CPU a task)</p>",
        f"<p>Grid: {escape(grid)}</p>",
        f"<h2>Configurations ranked by {'accuracy' if metric == ACCURACY else 'held-out ' + metric.upper()}</h2>",
        "<p>Mean over seeds with a 95% percentile-bootstrap interval. Each configuration's run folder opens with "
        "<code>lstmstate report DIR/NAME</code>, <code>generate</code> and <code>export</code>.</p>",
        markup.table(HEADER, rows(sweep), numeric={0, 2, 3, 4, 5}, error_column=len(HEADER) - 1),
        markup.figure(png, "score against the swept parameters",
                      "Score against each swept parameter: the mean and its 95% interval; configurations that "
                      "differ only in that parameter are joined.")])
