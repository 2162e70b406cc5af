"""Verdicts: each claim of the tutorial (and of its readers) tested against measured results.

Each judge reads the results.json entries of the experiments it needs and returns
``{"claim", "tutorial_says", "measured", "verdict", "evidence"}`` with verdict ``supported``,
``refuted`` or ``inconclusive``; a claim whose experiments were not run is left out.
"""

import numpy as np

from lstmstate.core import statistics
from lstmstate.output.formatting import percent, share_of_seeds

MARGIN = 0.02  # a difference under 2 accuracy points is treated as no practical difference
SPREAD = 0.10  # seeds spread over more than 10 points: one run cannot stand for the method
TUTORIAL_SIX = ("one-char", "window-features", "window-timesteps", "whole-batch", "stateful", "variable-length")


def _per_seed(entry: dict) -> np.ndarray:
    return np.asarray(entry["accuracy"]["per_seed"], np.float64)


def _interval(values) -> str:
    low, high = statistics.bootstrap_ci(values)
    return f"{percent(statistics.mean(values))} [{percent(low)}, {percent(high)}]"


def _difference_verdict(better, worse, margin: float = MARGIN) -> tuple[str, str]:
    """'supported' when ``better`` beats ``worse`` by more than ``margin`` (interval above it),
    'refuted' when the interval of the difference lies below ``margin``."""
    delta, (low, high) = statistics.difference(better, worse)
    text = f"difference {100 * delta:+.1f} points [{100 * low:+.1f}, {100 * high:+.1f}]"
    if low > margin:
        return "supported", text
    if high < margin:
        return "refuted", text
    return "inconclusive", text


def whole_batch_context(experiments: dict) -> dict | None:
    if "whole-batch" not in experiments or "whole-batch-shuffled" not in experiments:
        return None
    ordered, shuffled = _per_seed(experiments["whole-batch"]), _per_seed(experiments["whole-batch-shuffled"])
    verdict, difference = _difference_verdict(ordered, shuffled)
    return {
        "claim": "state within a batch",
        "tutorial_says": "samples in one batch share state, so the unshuffled batch of 25 gives context (100%)",
        "measured": f"in order {_interval(ordered)}, shuffled {_interval(shuffled)}",
        "verdict": verdict,
        "evidence": f"whole-batch minus whole-batch-shuffled: {difference}; "
                    "Keras gives each sample of a batch its own zero state",
    }


def needs_memory(experiments: dict) -> dict | None:
    if "one-char" not in experiments or "dense-only" not in experiments:
        return None
    lstm, dense = _per_seed(experiments["one-char"]), _per_seed(experiments["dense-only"])
    verdict, difference = _difference_verdict(lstm, dense)
    return {
        "claim": "the alphabet needs an LSTM",
        "tutorial_says": "the LSTM learns the one-char mapping (readers: a Dense layer alone does it)",
        "measured": f"LSTM one-char {_interval(lstm)}, Dense only {_interval(dense)}",
        "verdict": verdict,
        "evidence": f"one-char minus dense-only: {difference}; same data, 500 epochs and Adam defaults, "
                    "a Dense softmax reads the same single number id/26",
    }


def padding_harmless(experiments: dict) -> dict | None:
    if "variable-length" not in experiments or "variable-length-masked" not in experiments:
        return None
    tutorial_way, masked = _per_seed(experiments["variable-length"]), _per_seed(experiments["variable-length-masked"])
    verdict, difference = _difference_verdict(masked, tutorial_way, margin=0.005)
    # The claim is that zero padding is harmless: masking being clearly better refutes it.
    verdict = {"supported": "refuted", "refuted": "supported"}.get(verdict, verdict)
    return {
        "claim": "zero padding is harmless",
        "tutorial_says": "pad_sequences' 0 padding works (98.9%), though 0 is also the id of A",
        "measured": f"zero padding {_interval(tutorial_way)}, reserved id + mask {_interval(masked)}",
        "verdict": verdict,
        "evidence": f"masked minus zero-padded: {difference} (margin 0.5 points)",
    }


def stateful_perfect(experiments: dict) -> dict | None:
    if "stateful" not in experiments:
        return None
    values = _per_seed(experiments["stateful"])
    share = statistics.perfect_share(values)
    low, high = statistics.bootstrap_ci(values)
    verdict = "supported" if share >= 0.9 else "refuted" if high < 0.95 or share < 0.5 else "inconclusive"
    return {
        "claim": "the stateful LSTM learns the alphabet perfectly",
        "tutorial_says": "100% accuracy (readers report 30-36%)",
        "measured": f"{_interval(values)}, {share_of_seeds(share)} of {len(values)} seeds at 100%, "
                    f"range {percent(values.min())}..{percent(values.max())}",
        "verdict": verdict,
        "evidence": "supported needs 90% of seeds at 100%; refuted when the mean's interval stays below 95% "
                    "or fewer than half the seeds reach 100%",
    }


def cold_start(experiments: dict) -> dict | None:
    generation = experiments.get("stateful", {}).get("generation")
    if not generation:
        return None
    cold, primed = generation["cold_expected_share"], generation["primed_expected_share"]
    cold_top = ", ".join(f"{k} x{v}" for k, v in generation["cold_predictions"].items())
    if cold <= 0.2 and primed >= 0.8:
        verdict = "supported"
    elif cold >= 0.5 or primed < 0.5:
        verdict = "refuted"
    else:
        verdict = "inconclusive"
    return {
        "claim": "cold start needs priming",
        "tutorial_says": "started cold at K the stateful model predicts B; primed with A..J it predicts L",
        "measured": f"cold K -> L in {share_of_seeds(cold)} of seeds (cold predictions: {cold_top}); "
                    f"primed K -> L in {share_of_seeds(primed)}",
        "verdict": verdict,
        "evidence": "supported when at most 20% of seeds predict L cold and at least 80% do after priming",
    }


def memory_beats_ceiling(experiments: dict) -> dict | None:
    if "memory-stateful" not in experiments or "memory-stateless" not in experiments:
        return None
    stateful, stateless = _per_seed(experiments["memory-stateful"]), _per_seed(experiments["memory-stateless"])
    ceiling = experiments["memory-stateful"]["memoryless_ceiling"]
    low, high = statistics.bootstrap_ci(stateful)
    verdict = "supported" if low > ceiling else "refuted" if high <= ceiling else "inconclusive"
    return {
        "claim": "carried state learns context",
        "tutorial_says": "a stateful LSTM remembers earlier symbols (tested on ABCDEFABCXYZ: after C, D or X)",
        "measured": f"stateful {_interval(stateful)}, one-symbol stateless {_interval(stateless)}, "
                    f"memoryless ceiling {percent(ceiling)}",
        "verdict": verdict,
        "evidence": "supported when the stateful model's interval lies above the ceiling any memoryless model has",
    }


def single_run(experiments: dict) -> dict | None:
    present = [name for name in TUTORIAL_SIX if name in experiments]
    if not present:
        return None
    spreads = {}
    for name in present:
        values = _per_seed(experiments[name])
        low, high = np.percentile(values, [5, 95])
        spreads[name] = high - low
    widest = max(spreads, key=spreads.get)
    if spreads[widest] > SPREAD:
        verdict = "refuted"
    elif all(len(_per_seed(experiments[n])) >= 10 for n in present):
        verdict = "supported"
    else:
        verdict = "inconclusive"
    return {
        "claim": "one run shows what a framing achieves",
        "tutorial_says": "each framing's accuracy, from a single run",
        "measured": "; ".join(f"{n} {100 * s:.0f} pts" for n, s in spreads.items()),
        "verdict": verdict,
        "evidence": f"5th-95th percentile spread of per-seed accuracy; widest {widest} "
                    f"({100 * spreads[widest]:.0f} points); refuted above {100 * SPREAD:.0f} points",
    }


def published_figure(name: str, entry: dict) -> dict:
    values = _per_seed(entry)
    published = entry["published_accuracy"]
    low, high = statistics.bootstrap_ci(values)
    inside = low - 0.01 <= published <= high + 0.01
    return {
        "claim": f"{name} reaches {percent(published)}",
        "tutorial_says": f"{percent(published)} ({entry['section']})",
        "measured": f"{_interval(values)}, {share_of_seeds(statistics.perfect_share(values))} of seeds at 100%",
        "verdict": "supported" if inside else "refuted",
        "evidence": "the published figure lies within the mean's 95% interval (widened by 1 point)"
                    if inside else "the published figure lies outside the mean's 95% interval (widened by 1 point)",
    }


JUDGES = (whole_batch_context, needs_memory, padding_harmless, stateful_perfect, cold_start,
          memory_beats_ceiling, single_run)


def judge(experiments: dict) -> list[dict]:
    """Every claim whose experiments are present (with at least one seed that did not diverge), judged."""
    experiments = {name: e for name, e in experiments.items() if e["accuracy"]["per_seed"]}
    verdicts = [v for v in (judge_(experiments) for judge_ in JUDGES) if v is not None]
    verdicts += [published_figure(name, experiments[name]) for name in TUTORIAL_SIX
                 if name in experiments and experiments[name].get("published_accuracy") is not None]
    return verdicts
