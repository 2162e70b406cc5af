"""An outcome: one of the tutorial's experiments trained for every seed and evaluated, and what
it becomes in the run folder (a results.json entry and a saved entry).

Data flows one way: experiment -> setup -> engine -> outcome -> results.json entry.
"""

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from lstmstate.core import memoryless, statistics
from lstmstate.core.engine import Trainer
from lstmstate.core.population import Evaluation, Population
from lstmstate.storage.runfolder import SavedEntry
from lstmstate.trained.generation import StepModel, generate
from lstmstate.tutorial.experiments import ALPHABET, Experiment, Setup, scrambled_letters

COLD_START = "K"  # the tutorial's "New start: K"
PRIME = "ABCDEFGHIJ"  # the letters before K: the context a stateful model needs there
GENERATION_STEPS = 5  # the tutorial generates five letters from K


@dataclass
class Outcome:
    """One experiment trained and evaluated for every seed."""

    experiment: Experiment
    setup: Setup
    population: Population
    evaluation: Evaluation
    seconds: float  # training and evaluation, compilation included
    generation: dict = field(default_factory=dict)  # stateful alphabet only: cold and primed starts

    @property
    def diverged(self) -> np.ndarray:
        """(seed,) True where training or evaluation loss stopped being finite (NaN or inf)."""
        training = np.isfinite(self.population.loss).all(axis=1)
        return ~(training & np.isfinite(self.evaluation.loss))

    @property
    def accuracy(self) -> np.ndarray:
        """(kept seed,) final accuracy of the seeds that did not diverge."""
        return self.evaluation.accuracy[~self.diverged]

    @property
    def median_index(self) -> int:
        """Index (among all seeds) of the median seed of those that did not diverge."""
        kept = np.flatnonzero(~self.diverged)
        if len(kept) == 0:
            raise ValueError(f"every seed of {self.experiment.name} diverged (its loss became NaN or infinite)")
        return int(kept[statistics.median_index(self.evaluation.accuracy[kept])])


def run_experiment(experiment: Experiment, seeds: Sequence[int], epochs: int | None = None,
                   units: int | None = None,
                   on_progress: Callable[[int, int], None] | None = None,
                   streams: int | None = None) -> Outcome:
    """Train ``experiment`` for every seed and evaluate it as Keras ``evaluate`` would;
    ``streams`` trains a stateful experiment as that many parallel streams."""
    start = time.perf_counter()
    setup = experiment.setup(epochs=epochs, units=units, streams=streams)
    trainer = Trainer(setup.spec, setup.config, setup.x, setup.y)
    population = trainer.train(seeds, on_progress=on_progress)
    evaluation = trainer.evaluate(population.weights)
    outcome = Outcome(experiment, setup, population, evaluation, 0.0)
    # The cold start at K and the priming with A..J are about the alphabet in order; in the
    # scrambled order K follows another letter, so they would test nothing.
    if experiment.carries_state and setup.vocabulary == ALPHABET and not experiment.scrambled \
            and not outcome.diverged.all():
        outcome.generation = generation_of(outcome)
    outcome.seconds = time.perf_counter() - start
    return outcome


def generation_of(outcome: Outcome) -> dict:
    """Cold and primed starts at K for every seed, and the median seed's transcripts."""
    setup = outcome.setup
    cold, primed = [], []
    for index in np.flatnonzero(~outcome.diverged):
        model = StepModel(setup.spec, outcome.population.member_weights(index))
        cold.append(generate(model, setup.encoding, setup.vocabulary, COLD_START, 1)[0].predicted)
        primed.append(generate(model, setup.encoding, setup.vocabulary, COLD_START, 1, PRIME)[0].predicted)
    median = StepModel(setup.spec, outcome.population.member_weights(outcome.median_index))
    from_a = generate(median, setup.encoding, setup.vocabulary, "A", len(ALPHABET) - 1)
    cold_k = generate(median, setup.encoding, setup.vocabulary, COLD_START, GENERATION_STEPS)
    primed_k = generate(median, setup.encoding, setup.vocabulary, COLD_START, GENERATION_STEPS, PRIME)
    expected = ALPHABET.symbols[ALPHABET.symbols.index(COLD_START) + 1]
    return {
        "cold_start": COLD_START,
        "prime": PRIME,
        "cold_predictions": dict(Counter(cold).most_common()),
        "primed_predictions": dict(Counter(primed).most_common()),
        "cold_expected_share": float(np.mean([p == expected for p in cold])),
        "primed_expected_share": float(np.mean([p == expected for p in primed])),
        "median_seed": {
            "from_A": [[s.given, s.predicted] for s in from_a],
            "cold": [[s.given, s.predicted] for s in cold_k],
            "primed": [[s.given, s.predicted] for s in primed_k],
        },
    }


def entry(outcome: Outcome) -> dict:
    """The results.json entry of an outcome."""
    experiment, setup, population = outcome.experiment, outcome.setup, outcome.population
    accuracy = outcome.accuracy
    framed = setup.framed
    kept = ~outcome.diverged
    # Diverged seeds are left out of every statistic; they are listed so the count is visible.
    diverged_seeds = [int(s) for s, d in zip(population.seeds, outcome.diverged) if d]
    if not kept.any():
        return {"section": experiment.section, "published_accuracy": experiment.published_accuracy,
                "epochs": setup.config.epochs, "seeds": list(population.seeds), "seconds": round(outcome.seconds, 3),
                "accuracy": {"mean": None, "ci95": [None, None], "per_seed": []}, "perfect_share": None,
                "diverged": {"count": len(diverged_seeds), "seeds": diverged_seeds}}
    payload = {
        "section": experiment.section,
        "shows": experiment.shows,
        "published_accuracy": experiment.published_accuracy,
        "epochs": setup.config.epochs,
        "units": setup.spec.units,
        "batch_size": setup.config.batch_size,
        "shuffle": setup.config.shuffle,
        "policy": setup.config.policy.name,
        "model": setup.spec.kind,
        "encoding": setup.encoding.name,
        "samples": framed.samples,
        "seeds": list(population.seeds),
        "seconds": round(outcome.seconds, 3),
        "accuracy": statistics.accuracy_block(accuracy),
        "perfect_share": statistics.perfect_share(accuracy),
        "loss": {"per_seed": np.asarray(outcome.evaluation.loss[kept], np.float64).round(6).tolist()},
        "diverged": {"count": len(diverged_seeds), "seeds": diverged_seeds},
        "median_seed": int(population.seeds[outcome.median_index]),
        "memoryless_ceiling": memoryless.memoryless_ceiling(framed.last_ids(), framed.targets),
        "curves": {"loss": statistics.curve_band(population.loss[kept]),
                   "accuracy": statistics.curve_band(population.accuracy[kept])},
        "transcript": transcript_lines(outcome, outcome.median_index),
    }
    if experiment.scrambled:
        # The permutation itself, so a reader can rebuild the data: the letters in stream order.
        payload["scrambled_alphabet"] = scrambled_letters()
    if outcome.generation:
        payload["generation"] = outcome.generation
    return payload


def transcript_lines(outcome: Outcome, index: int, limit: int = 26) -> list[str]:
    """The tutorial's printout for seed ``index``: ``['A'] -> B`` for each pattern (at most ``limit``),
    in the order evaluated. Inputs are shown as the model sees them: the tutorial's zero padding
    appears as ``A`` (its pitfall); reserved padding is left out."""
    setup = outcome.setup
    predictions = outcome.evaluation.predictions[index]
    lines = []
    for position, sample in enumerate(outcome.evaluation.evaluated[:limit]):
        ids = setup.framed.inputs[sample].reshape(-1)
        shown = [setup.vocabulary.symbols[i] for i in ids if i >= 0]
        lines.append(f"{shown} -> {setup.vocabulary.symbols[predictions[position]]}")
    return lines


def saved_entry(outcome: Outcome) -> SavedEntry:
    """What the run folder keeps of ``outcome``: setup, every seed's weights and curves, and for
    an experiment that carries state, its training stream (the state trace of the report)."""
    setup, population = outcome.setup, outcome.population
    # The samples in order are the sequence the carried state runs along (the registry's data are
    # not shuffled when state is carried), so the report can trace the state over it.
    stream = tuple(setup.vocabulary.decode(setup.framed.last_ids())) if setup.config.carries_state else None
    return SavedEntry(outcome.experiment.name, setup.spec, setup.config, setup.encoding, setup.vocabulary,
                      tuple(population.seeds), tuple(population.weights), population.loss, population.accuracy,
                      stream=stream)
