"""The engine against plain Keras ``model.fit``, in distribution over whole runs.

``tests/test_engine.py`` shows that the engine computes what ``fit`` computes, step by step, for a
few epochs from the same weights and the same sample order. This script asks the question a
reader asks: over whole runs with independent seeds, does the engine's population of final
accuracies look like plain Keras's? It trains N seeds with the tutorial's code as written (each
seed a fresh ``Sequential`` after ``keras.utils.set_random_seed(seed)``, ``fit`` with the published
epochs, batch size and shuffling, then ``evaluate``) and M seeds with the engine, and prints:

  both distributions   every accuracy that occurs and how many seeds reached it
  means                each with its 95% bootstrap interval
  difference           mean(engine) - mean(keras), with a bootstrap interval (seeds not paired)
  rank test            the two-sided Mann-Whitney U p-value (scipy.stats.mannwhitneyu)

Plain Keras runs in a subprocess on the JAX backend for the stateless experiments and on
TensorFlow for ``stateful``: on JAX, Keras 3's ``LSTM(stateful=True)`` carries nothing through
``fit`` (see the README's warning), so only TensorFlow runs the tutorial's stateful code as
written. Every finished Keras seed is appended to ``--store`` (JSON lines) at once, so a long run
can be stopped and resumed, or grown later, without losing seeds; seeds already there are skipped.

Usage::

    python bench/crosscheck.py window-features --keras-seeds 40 --engine-seeds 60
    python bench/crosscheck.py one-char window-timesteps stateful --keras-seeds 40 --jobs 2
    python bench/crosscheck.py window-features --keras-seeds 0 --engine-seeds 60   # report only
    python bench/crosscheck.py window-features --keras-seeds 80 --keras-halves     # Keras against Keras

Time (2-core AMD EPYC, shared): plain Keras takes about 6 to 10 s per seed of one-char,
window-features or window-timesteps (500 epochs of 23-25 steps), plus the process start.
"""

import argparse
import json
import os
import pathlib
import subprocess
import sys
import time
from collections import Counter

from arguments import positive

# The tutorial's configurations, as published (its listings; SPEC.md's table). Keras's own
# names for what the engine's registry calls the same experiments.
PUBLISHED = {
    "one-char": dict(window=1, layout="timesteps", units=32, epochs=500, batch_size=1, stateful=False),
    "window-features": dict(window=3, layout="features", units=32, epochs=500, batch_size=1, stateful=False),
    "window-timesteps": dict(window=3, layout="timesteps", units=32, epochs=500, batch_size=1, stateful=False),
    "stateful": dict(window=1, layout="timesteps", units=50, epochs=300, batch_size=1, stateful=True),
}
DEFAULT_STORE = pathlib.Path("/tmp/crosscheck")


def store_path(name: str, store: pathlib.Path, epochs: int | None) -> pathlib.Path:
    """The JSON-lines file of an experiment's Keras seeds; runs with fewer epochs are kept apart."""
    return store / (f"{name}.keras.jsonl" if epochs is None else f"{name}-epochs{epochs}.keras.jsonl")


def keras_worker(name: str, seeds: list[int], store: pathlib.Path, epochs: int | None = None) -> None:
    """Train ``seeds`` with plain Keras, the tutorial's code as written; append each result to ``store``.

    Runs in its own process: ``KERAS_BACKEND`` is read when Keras is imported.
    """
    import keras
    import numpy

    config = dict(PUBLISHED[name])
    if epochs is not None:
        config["epochs"] = epochs
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    window = config["window"]
    data_x = [[i + k for k in range(window)] for i in range(len(alphabet) - window)]
    data_y = [i + window for i in range(len(alphabet) - window)]
    if config["layout"] == "features":
        x = numpy.reshape(data_x, (len(data_x), 1, window))
    else:
        x = numpy.reshape(data_x, (len(data_x), window, 1))
    x = x / float(len(alphabet))
    y = keras.utils.to_categorical(data_y)
    for seed in seeds:
        start = time.perf_counter()
        numpy.random.seed(seed)
        keras.utils.set_random_seed(seed)
        if config["stateful"]:
            model = keras.Sequential([keras.Input(batch_shape=(1, x.shape[1], x.shape[2])),
                                      keras.layers.LSTM(config["units"], stateful=True),
                                      keras.layers.Dense(y.shape[1], activation="softmax")])
        else:
            model = keras.Sequential([keras.Input(shape=(x.shape[1], x.shape[2])),
                                      keras.layers.LSTM(config["units"]),
                                      keras.layers.Dense(y.shape[1], activation="softmax")])
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
        if config["stateful"]:
            # The tutorial's loop: one unshuffled epoch at a time, state reset between epochs.
            for _ in range(config["epochs"]):
                model.fit(x, y, epochs=1, batch_size=1, verbose=0, shuffle=False)
                model.layers[0].reset_state()
            accuracy = model.evaluate(x, y, batch_size=1, verbose=0)[1]
        else:
            model.fit(x, y, epochs=config["epochs"], batch_size=config["batch_size"], verbose=0)
            accuracy = model.evaluate(x, y, verbose=0)[1]
        record = {"experiment": name, "seed": seed, "accuracy": float(accuracy),
                  "seconds": round(time.perf_counter() - start, 2), "backend": keras.backend.backend(),
                  "keras": keras.__version__}
        with open(store_path(name, store, epochs), "a") as out:
            out.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)


def stored(name: str, store: pathlib.Path, epochs: int | None = None) -> dict[int, float]:
    """Keras seeds already trained: seed -> accuracy."""
    path = store_path(name, store, epochs)
    if not path.exists():
        return {}
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {r["seed"]: r["accuracy"] for r in records}


def run_keras(name: str, wanted: int, jobs: int, store: pathlib.Path, epochs: int | None = None) -> None:
    """Train the Keras seeds 0..wanted-1 not yet in ``store``, in ``jobs`` parallel processes."""
    done = stored(name, store, epochs)
    missing = [seed for seed in range(wanted) if seed not in done]
    if not missing:
        return
    backend = "tensorflow" if PUBLISHED[name]["stateful"] else "jax"
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3",
           # One thread per process: the work is thousands of tiny steps, and the processes share the cores.
           "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false",
           "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    workers = []
    for part in range(jobs):
        seeds = missing[part::jobs]
        if seeds:
            command = [sys.executable, __file__, "--worker", name, "--store", str(store),
                       "--seeds", ",".join(map(str, seeds))] + (["--epochs", str(epochs)] if epochs else [])
            workers.append(subprocess.Popen(command, env=env))
    for worker in workers:
        if worker.wait() != 0:
            raise SystemExit(f"a plain-Keras worker for {name} failed (exit code {worker.returncode})")


def run_engine(name: str, seeds: int, first: int = 0, epochs: int | None = None) -> list[float]:
    """Final accuracies of the engine's seeds first..first+seeds-1 (every seed at once)."""
    from lstmstate.tutorial.experiments import get
    from lstmstate.tutorial.outcome import run_experiment

    outcome = run_experiment(get(name), list(range(first, first + seeds)), epochs=epochs)
    return [float(a) for a in outcome.accuracy]


def distribution(values: list[float]) -> str:
    """Every accuracy that occurs, with its count: '82.61% x20, 86.96% x19'."""
    counts = Counter(round(100 * v, 2) for v in values)
    return ", ".join(f"{value:.2f}% x{count}" for value, count in sorted(counts.items()))


def compare(name: str, keras_values: list[float], engine_values: list[float]) -> dict:
    """The two populations side by side: means, intervals, difference and the rank test."""
    from scipy.stats import mannwhitneyu

    from lstmstate.core import statistics

    # Keras reports accuracy in float32 (20/23 = 0.86956519), the engine in float64 (0.86956522):
    # unrounded, equal accuracies would rank apart and the rank test would see a difference that
    # is not there. Six decimals keep every count of correct samples apart and join equal ones.
    keras_values = [round(v, 6) for v in keras_values]
    engine_values = [round(v, 6) for v in engine_values]
    result = {"experiment": name, "keras_seeds": len(keras_values), "engine_seeds": len(engine_values),
              "keras": distribution(keras_values), "engine": distribution(engine_values),
              "keras_mean": statistics.mean(keras_values), "keras_ci95": statistics.bootstrap_ci(keras_values),
              "engine_mean": statistics.mean(engine_values), "engine_ci95": statistics.bootstrap_ci(engine_values)}
    difference, interval = statistics.difference(engine_values, keras_values)
    result["difference"], result["difference_ci95"] = difference, interval
    # Two-sided: a difference either way would mean the engine is not computing what fit computes.
    # With every value equal, the rank test has nothing to rank; its p-value is then 1.
    if len(set(keras_values) | set(engine_values)) > 1:
        result["mannwhitney_p"] = float(mannwhitneyu(engine_values, keras_values, alternative="two-sided").pvalue)
    else:
        result["mannwhitney_p"] = 1.0
    return result


def show(result: dict) -> None:
    pct = lambda v: f"{100 * v:.2f}%"
    print(f"\n== {result['experiment']}")
    print(f"plain Keras fit, {result['keras_seeds']} seeds: mean {pct(result['keras_mean'])} "
          f"[{pct(result['keras_ci95'][0])}, {pct(result['keras_ci95'][1])}]   {result['keras']}")
    other = "engine" if "engine_first_seed" in result else "Keras again"  # --keras-halves
    print(f"{other + ',':<16} {result['engine_seeds']} seeds: mean {pct(result['engine_mean'])} "
          f"[{pct(result['engine_ci95'][0])}, {pct(result['engine_ci95'][1])}]   {result['engine']}")
    low, high = result["difference_ci95"]
    print(f"{other} - Keras: {100 * result['difference']:+.2f} points [{100 * low:+.2f}, {100 * high:+.2f}]; "
          f"Mann-Whitney U two-sided p = {result['mannwhitney_p']:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiments", nargs="+", choices=sorted(PUBLISHED))
    parser.add_argument("--keras-seeds", type=int, default=40, help="plain-Keras seeds 0..N-1 (0: only those stored)")
    parser.add_argument("--engine-seeds", type=positive, default=60, help="engine seeds FIRST..FIRST+M-1")
    parser.add_argument("--engine-first", type=int, default=0,
                        help="the engine's first seed (another range is an independent replicate)")
    parser.add_argument("--jobs", type=positive, default=1, help="plain-Keras processes in parallel")
    parser.add_argument("--epochs", type=positive, default=None,
                        help="fewer epochs than published, to check that the script runs (kept apart in the store)")
    parser.add_argument("--store", type=pathlib.Path, default=DEFAULT_STORE, help="where Keras seeds are kept")
    parser.add_argument("--keras-halves", action="store_true",
                        help="instead of the engine: plain Keras's seeds N/2..N-1 against its seeds 0..N/2-1, "
                             "to see how far two samples of the same thing differ")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seeds", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.store.mkdir(parents=True, exist_ok=True)
    if args.worker:
        keras_worker(args.experiments[0], [int(s) for s in args.seeds.split(",")], args.store, args.epochs)
        return
    results = []
    for name in args.experiments:
        run_keras(name, args.keras_seeds, args.jobs, args.store, args.epochs)
        keras_values = list(stored(name, args.store, args.epochs).values())
        if not keras_values:
            raise SystemExit(f"no plain-Keras seeds of {name} in {args.store}: run with --keras-seeds N")
        if args.keras_halves:
            # Plain Keras against itself: the "engine" column holds its second half of seeds.
            by_seed = stored(name, args.store, args.epochs)
            half = min(args.keras_seeds, len(by_seed)) // 2
            result = compare(name, [by_seed[s] for s in range(half)], [by_seed[s] for s in range(half, 2 * half)])
            result["engine"] = f"(seeds {half}..{2 * half - 1}) " + result["engine"]
        else:
            result = compare(name, keras_values, run_engine(name, args.engine_seeds, args.engine_first, args.epochs))
            result["engine_first_seed"] = args.engine_first
        show(result)
        results.append(result)
    against = "keras-halves" if args.keras_halves else f"engine{args.engine_first}"
    summary = args.store / f"crosscheck-{'-'.join(args.experiments)}-{against}.json"
    summary.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
