"""A comparison of framings: every applicable framing trained on the same data and scored on the
same held-out targets, ranked, with a recommendation and how sure it is.

How sure is the interval of the difference between the best framing and the runner-up
(``statistics.difference``, seeds resampled independently): when it excludes zero the ranking of
the top two holds over seeds; when it includes zero, these seeds cannot tell them apart.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import NamedTuple

from lstmstate.core import framing, statistics
from lstmstate.core.statistics import ACCURACY
from lstmstate.owndata import results, training, verdicts
from lstmstate.owndata.dataset import Numbers, Symbols
from lstmstate.owndata.plan import Plan, check_plan
from lstmstate.storage import runfolder


class Row(NamedTuple):
    """One row of the ranked table: a framing (its mean over seeds) or a baseline (its score)."""

    name: str
    mean: float
    outcome: results.Result | None  # None for a baseline


@dataclass(frozen=True)
class Comparison:
    """Framings ranked by held-out score, best first."""

    ranked: tuple[results.Result, ...]  # best first: highest accuracy or lowest RMSE
    skipped: tuple[tuple[str, str], ...]  # (framing, why it was not run)

    @property
    def best(self) -> results.Result:
        return self.ranked[0]

    def margin(self) -> tuple[float, tuple[float, float]] | None:
        """How much better the best is than the runner-up, with its 95% interval, in the metric's
        units and signed so that positive means better; None with a single framing."""
        if len(self.ranked) < 2:
            return None
        best, runner = self.ranked[0], self.ranked[1]
        difference, (low, high) = statistics.difference(best.scores, runner.scores)
        if best.higher_is_better:
            return difference, (low, high)
        return -difference, (-high, -low)

    def table(self) -> list[Row]:
        """Framings and the baselines on the same metric, in one ranking, best first."""
        best = self.best
        rows = [Row(o.name, statistics.mean(o.scores), o) for o in self.ranked]
        rows += [Row(b.name, b.score, None) for b in best.baselines if b.metric == best.metric]
        return sorted(rows, key=lambda row: row.mean, reverse=best.higher_is_better)

    def recommendation(self) -> str:
        """Which framing to use, and how sure that is, in one or two sentences; a classical
        baseline that beats the best framing is said first."""
        best = self.best
        margin = self.margin()
        units = "points" if best.metric == ACCURACY else "(RMSE, original units)"
        scale = 100 if best.metric == ACCURACY else 1
        if margin is None:
            sure = "it is the only framing that applies"
        else:
            runner = self.ranked[1].name
            difference, (low, high) = margin
            span = f"{scale * difference:.3g} {units}, 95% interval [{scale * low:.3g}, {scale * high:.3g}]"
            if low > 0:
                sure = f"it beats the runner-up {runner} by {span}: clear over these {len(best.scores)} seeds"
            else:
                sure = (f"but it is not distinguishable from the runner-up {runner} ({span} includes no difference): "
                        "either will do, or run more seeds to tell them apart")
        against = verdicts.against_baseline(best)
        winner = verdicts.winner(best.scores, best.baseline)
        if winner == "baseline":
            return (f"Use {best.baseline.name}, not an LSTM: no framing beats it ({against}). Of the framings, "
                    f"{best.name} is best: {sure}.")
        if winner is None:
            return (f"No framing is shown to beat {best.baseline.name}, a classical model that costs far less to fit: "
                    f"{against}. Of the framings, {best.name} is best: {sure}.")
        return f"Use {best.name}: {sure}. Against the strongest baseline, {against}."


def applicable(plan: Plan) -> tuple[list[str], list[tuple[str, str]]]:
    """The framings to run, and those left out with why (with a window of 1 the window framings
    are one-step again)."""
    chosen, skipped = [], []
    for name in framing.FRAMINGS:
        if framing.get(name).windowed and plan.window == 1:
            skipped.append((name, "with --window 1 it is the one-step framing"))
        else:
            chosen.append(name)
    return chosen, skipped


def plan_for(plan: Plan, name: str) -> Plan:
    """``plan`` for framing ``name``: the stateful framing is one stream whatever --batch-size says."""
    return replace(plan, framing=name, batch_size=None if name == "stateful" else plan.batch_size)


def check(data: Symbols | Numbers, plan: Plan):
    """Every framing's checks, before any is trained: a bad window or batch size is an error now.
    Returns the split, the same for every framing."""
    for name in applicable(plan)[0]:
        split = check_plan(data, plan_for(plan, name))
    return split


def compare(data: Symbols | Numbers, plan: Plan,
            on_start: Callable[[str], Callable[[int, int], None] | None] | None = None,
            on_finish: Callable[[results.Result], None] | None = None) -> Comparison:
    """Train every applicable framing with ``plan``'s settings; ``on_start(framing)`` may return a
    progress callback for that framing, ``on_finish(outcome)`` sees each framing as it finishes
    (so a caller can save it before the next one starts)."""
    split = check(data, plan)
    names, skipped = applicable(plan)
    known = training.held_out_baselines(data, split, plan)  # every framing is scored on these targets
    outcomes = []
    for name in names:
        progress = on_start(name) if on_start is not None else None
        outcomes.append(training.train(data, plan_for(plan, name), on_progress=progress, known=known))
        if on_finish is not None:
            on_finish(outcomes[-1])
    higher = outcomes[0].higher_is_better
    ranked = sorted(outcomes, key=lambda o: statistics.mean(o.scores), reverse=higher)
    return Comparison(tuple(ranked), tuple(skipped))


def payload(comparison: Comparison) -> dict:
    """results.json of a comparison: every framing, the ranking and the recommendation."""
    best = comparison.best
    result = results.payload(list(comparison.ranked), best)
    margin = comparison.margin()
    result["ranking"] = [o.name for o in comparison.ranked]
    result["ranking_with_baselines"] = [{"name": row.name, "kind": "baseline" if row.outcome is None else "framing",
                                         "score": row.mean} for row in comparison.table()]
    result["recommendation"] = {"framing": best.name, "text": comparison.recommendation(),
                                "margin_over_runner_up": None if margin is None else
                                {"difference": margin[0], "ci95": list(margin[1])}}
    return result


def run(data: Symbols | Numbers, plan: Plan, folder: Path | None = None,
        on_start: Callable[[str], Callable[[int, int], None] | None] | None = None) -> Comparison:
    """``compare``, saving each framing in ``folder`` (when given) as it finishes, so Ctrl-C keeps
    every framing that was done; the ranking and recommendation are written at the end."""
    finished = []

    def on_finish(outcome: results.Result) -> None:
        finished.append(outcome)
        if folder is not None:
            runfolder.write_entry(folder, results.saved_entry(outcome))
            runfolder.write_results(folder, results.payload(finished))

    try:
        comparison = compare(data, plan, on_start, on_finish)
    except (KeyboardInterrupt, runfolder.Interrupted):
        # A stop while a framing trains reaches here as training's Interrupted (it kept nothing of
        # that framing); what compare kept is every framing that had finished.
        kept = ", ".join(o.name for o in finished) or "nothing (no framing had finished)"
        where = f" in {folder}" if folder is not None else " (no --out: nothing written)"
        raise runfolder.Interrupted(f"interrupted: kept {kept}{where}") from None
    if folder is not None:
        runfolder.write_results(folder, payload(comparison))
    return comparison
