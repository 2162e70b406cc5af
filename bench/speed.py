"""Speed of lstmstate's engine next to a hand-written pure-JAX loop and plain Keras ``fit``.

For each of the tutorial's six experiments (the tutorial's table: data, units, epochs, batch size,
shuffling and state as published) it times, in one run:

  engine     lstmstate's ``Trainer.train`` for S seeds at once (compiled once, vmapped over seeds,
             split over one JAX device per core)
  engine-1   the same, held to one device (XLA_FLAGS), to tell fewer operations from more cores
  pure-jax   the same training written out by hand: LSTM cell, softmax cross-entropy and Adam,
             ``lax.scan`` over batches and epochs, ``vmap`` over seeds, on one CPU device (as a
             user would run it; the engine splits seeds over one device per core)
  keras      plain Keras 3 ``model.fit`` on the JAX backend, one seed, written as a user would
             (the tutorial's own listing, ported): batch size and epochs as published

Each runs in its own subprocess, so backends and XLA flags cannot leak from one to another.
The unit of work is a *seed-step*: one optimizer step (one batch) of one seed. Times are medians
over ``--repeats`` runs after a first, compiling run.

Usage::

    python bench/speed.py                       # all six, defaults (a few minutes)
    python bench/speed.py --only one-char --seeds 100 --skip engine-1 pure-jax keras
    python bench/speed.py --cache               # also: compilation cache cold vs warm

Plain Keras runs every published epoch unless that is more than ``--keras-max-steps`` optimizer
steps (only variable-length, 500,000 steps, is over the default): then it runs as many epochs as
fit and its full time is extrapolated. ``--max-seed-steps`` caps one engine or pure-JAX run
likewise (their steady throughput does not depend on the number of epochs). The output marks
every extrapolated time with ~.

Two ratios to plain Keras, per seed: ``steady`` compares throughput after compilation;
``e2e`` compares whole training calls, compilation included: the engine's first call (with an
empty compilation cache) for S seeds, divided by S, against Keras's full ``fit`` time.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

import numpy as np

from arguments import positive


@dataclass(frozen=True)
class Experiment:
    """One row of the table of the tutorial's experiments."""

    name: str
    units: int  # LSTM units
    epochs: int  # as published
    batch_size: int  # as published (25 = the whole data set in one batch)
    shuffle: bool  # fit's shuffle, as published
    stateful: bool  # the tutorial's stateful loop: state carried across batches, reset each epoch


EXPERIMENTS = {
    e.name: e for e in [
        Experiment("one-char", 32, 500, 1, True, False),
        Experiment("window-features", 32, 500, 1, True, False),
        Experiment("window-timesteps", 32, 500, 1, True, False),
        Experiment("whole-batch", 16, 5000, 25, False, False),
        Experiment("stateful", 50, 300, 1, False, True),
        Experiment("variable-length", 32, 500, 1, True, False),
    ]
}

ALPHABET = 26


def seed_data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """``x (sample, step, feature)`` float32 and ``y (sample,)`` ids, built as the tutorial builds them
    (NumPy only, so the plain-Keras worker imports nothing of lstmstate)."""
    ids = np.arange(ALPHABET)
    if name in ("one-char", "whole-batch", "stateful"):
        x, y = ids[:-1].reshape(-1, 1, 1), ids[1:]
    elif name in ("window-features", "window-timesteps"):
        windows = np.lib.stride_tricks.sliding_window_view(ids[:-1], 3)  # (23, 3)
        x = windows[:, None, :] if name == "window-features" else windows[:, :, None]
        y = ids[3:]
    elif name == "variable-length":
        # The tutorial's draw (numpy.random.seed(7)), left-padded with 0 as pad_sequences does.
        rng = np.random.RandomState(7)
        x, y = np.zeros((1000, 5, 1)), np.zeros(1000, np.int64)
        for row in range(1000):
            start = rng.randint(ALPHABET - 2)
            end = rng.randint(start, min(start + 5, ALPHABET - 1))
            run = ids[start:end + 1]
            x[row, 5 - len(run):, 0] = run
            y[row] = ids[end + 1]
    else:
        raise ValueError(f"unknown experiment {name!r}; choose from {', '.join(EXPERIMENTS)}")
    return (np.asarray(x, np.float32) / ALPHABET), np.asarray(y, np.int32)


def steps_per_epoch(experiment: Experiment) -> int:
    samples = len(seed_data(experiment.name)[1])
    return -(-samples // experiment.batch_size)


def keras_epochs(experiment: Experiment, max_steps: int) -> int:
    """All published epochs, or as many as fit in ``max_steps`` optimizer steps."""
    return max(2, min(experiment.epochs, max_steps // steps_per_epoch(experiment)))


def capped_epochs(experiment: Experiment, seeds: int, max_seed_steps: int) -> int:
    """All published epochs, or as many as fit in ``max_seed_steps`` seed-steps (variable-length)."""
    return max(1, min(experiment.epochs, max_seed_steps // (steps_per_epoch(experiment) * seeds)))


# ---- workers: each runs in its own process and prints one JSON line per experiment ----------


def engine_worker(names, seeds, max_seed_steps, repeats):
    started = time.perf_counter()
    # Measure the checkout this file is in, not whichever lstmstate happens to be installed.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
    import lstmstate  # noqa: F401  (selects the backend, enables the cache, sets device flags)
    import jax

    from lstmstate.core.engine import Trainer
    from lstmstate.core.train_config import TrainConfig
    from lstmstate.core.model import ModelSpec

    imported = time.perf_counter() - started
    for name in names:
        experiment = EXPERIMENTS[name]
        x, y = seed_data(name)
        epochs = capped_epochs(experiment, seeds, max_seed_steps)
        spec = ModelSpec("lstm", x.shape[1], x.shape[2], ALPHABET, units=experiment.units)
        config = TrainConfig(epochs, experiment.batch_size, experiment.shuffle,
                             policy="carry-within-epoch" if experiment.stateful else "reset-every-batch")
        trainer = Trainer(spec, config, x, y)
        t = time.perf_counter()
        weights = trainer.initial_weights(range(seeds))
        init_s = time.perf_counter() - t
        t = time.perf_counter()
        population = trainer.train(range(seeds), weights=weights)
        first_s = time.perf_counter() - t
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            trainer.train(range(seeds), weights=weights)
            runs.append(time.perf_counter() - t)
        accuracy = float(np.nanmean(population.accuracy[:, -1]))
        print(json.dumps(dict(name=name, seeds=seeds, epochs=epochs, init_s=init_s,
                              first_s=first_s, steady_s=statistics.median(runs) if runs else first_s,
                              runs=runs, import_s=imported, devices=len(jax.devices()),
                              last_epoch_accuracy=accuracy)), flush=True)


def pure_jax_worker(names, seeds, max_seed_steps, repeats):
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp

    def init(key, features, units):
        k1, k2, k3 = jax.random.split(key, 3)
        return dict(kernel=jax.random.normal(k1, (features, 4 * units)) * 0.3,
                    recurrent=jax.random.normal(k2, (units, 4 * units)) * 0.1,
                    bias=jnp.zeros(4 * units).at[units:2 * units].set(1.0),
                    dense=jax.random.normal(k3, (units, ALPHABET)) * 0.2,
                    dense_bias=jnp.zeros(ALPHABET))

    def lstm(params, x, h, c):
        """x (batch, step, feature), h and c (batch, units) -> last h, c. Gates in Keras order."""
        def cell(carry, x_t):
            h, c = carry
            z = x_t @ params["kernel"] + h @ params["recurrent"] + params["bias"]
            i, f, g, o = jnp.split(z, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None
        # Short sequences unrolled, as the engine does (a hand-written loop would write them out).
        (h, c), _ = jax.lax.scan(cell, (h, c), jnp.swapaxes(x, 0, 1), unroll=x.shape[1] <= 8)
        return h, c

    def loss_fn(params, x, y, h, c):
        h, c = lstm(params, x, h, c)
        logits = h @ params["dense"] + params["dense_bias"]
        log_p = jax.nn.log_softmax(logits)
        loss = -jnp.mean(jnp.take_along_axis(log_p, y[:, None], axis=1))
        correct = jnp.sum(jnp.argmax(logits, -1) == y)
        return loss, (correct, h, c)

    def adam(params, grads, m, v, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-7):
        m = jax.tree.map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
        v = jax.tree.map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
        step = lr * jnp.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        params = jax.tree.map(lambda p, m, v: p - step * m / (jnp.sqrt(v) + eps), params, m, v)
        return params, m, v

    def make_train(experiment, x, y, epochs):
        samples, batch = len(y), experiment.batch_size
        batches = samples // batch

        def train(key):
            params = init(key, x.shape[2], experiment.units)
            zeros = jax.tree.map(jnp.zeros_like, params)
            state = jnp.zeros((batch, experiment.units))

            def batch_step(carry, indices):
                params, m, v, t, h, c = carry
                if not experiment.stateful:
                    h, c = jnp.zeros_like(h), jnp.zeros_like(c)
                (loss, (correct, h, c)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                    params, x[indices], y[indices], jax.lax.stop_gradient(h), jax.lax.stop_gradient(c))
                params, m, v = adam(params, grads, m, v, t + 1)
                return (params, m, v, t + 1, h, c), (loss, correct)

            def epoch_step(carry, epoch):
                params, m, v, t = carry
                order = (jax.random.permutation(jax.random.fold_in(key, epoch), samples)
                         if experiment.shuffle else jnp.arange(samples))
                layout = order[: batches * batch].reshape(batches, batch)
                (params, m, v, t, _, _), (loss, correct) = jax.lax.scan(
                    batch_step, (params, m, v, t, state, state), layout)
                return (params, m, v, t), (jnp.mean(loss), jnp.sum(correct) / samples)

            (params, _, _, _), metrics = jax.lax.scan(
                epoch_step, (params, zeros, zeros, jnp.float32(0)), jnp.arange(epochs))
            return params, metrics

        return jax.jit(jax.vmap(train))

    for name in names:
        experiment = EXPERIMENTS[name]
        x, y = seed_data(name)
        epochs = capped_epochs(experiment, seeds, max_seed_steps)
        train = make_train(experiment, jnp.asarray(x), jnp.asarray(y), epochs)
        keys = jax.vmap(jax.random.PRNGKey)(jnp.arange(seeds))
        t = time.perf_counter()
        params, (_, accuracy) = jax.block_until_ready(train(keys))
        first_s = time.perf_counter() - t
        runs = []
        for _ in range(repeats):
            t = time.perf_counter()
            jax.block_until_ready(train(keys))
            runs.append(time.perf_counter() - t)
        print(json.dumps(dict(mode="pure-jax", name=name, seeds=seeds, epochs=epochs, first_s=first_s,
                              steady_s=statistics.median(runs) if runs else first_s, runs=runs,
                              devices=len(jax.devices()),
                              last_epoch_accuracy=float(jnp.mean(accuracy[:, -1])))), flush=True)


def keras_worker(names, max_steps):
    """Plain Keras as the tutorial's reader writes it: Sequential, LSTM, Dense softmax, fit."""
    os.environ["KERAS_BACKEND"] = "jax"
    import keras

    for name in names:
        experiment = EXPERIMENTS[name]
        x, y = seed_data(name)
        targets = keras.utils.to_categorical(y, ALPHABET)
        keras.utils.set_random_seed(7)
        if experiment.stateful:
            inputs = keras.Input(batch_shape=(experiment.batch_size, *x.shape[1:]))
        else:
            inputs = keras.Input(shape=x.shape[1:])
        model = keras.Sequential([inputs, keras.layers.LSTM(experiment.units, stateful=experiment.stateful),
                                  keras.layers.Dense(ALPHABET, activation="softmax")])
        model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])

        def fit(epochs):
            if experiment.stateful:  # the tutorial's loop: one epoch per fit, then reset
                for _ in range(epochs):
                    model.fit(x, targets, epochs=1, batch_size=experiment.batch_size, verbose=0, shuffle=False)
                    model.layers[0].reset_state()
            else:
                model.fit(x, targets, epochs=epochs, batch_size=experiment.batch_size, verbose=0,
                          shuffle=experiment.shuffle)

        # The first epoch compiles fit's train step; the rest is the steady rate.
        t = time.perf_counter()
        fit(1)
        first_epoch_s = time.perf_counter() - t
        epochs = keras_epochs(experiment, max_steps) - 1
        t = time.perf_counter()
        fit(epochs)
        steady_s = time.perf_counter() - t
        full_s = first_epoch_s + steady_s * (experiment.epochs - 1) / epochs
        print(json.dumps(dict(mode="keras", name=name, seeds=1, epochs=epochs, first_epoch_s=first_epoch_s,
                              steady_s=steady_s, full_s=full_s,
                              extrapolated=epochs + 1 < experiment.epochs)), flush=True)


# ---- the driver -------------------------------------------------------------------------------

# Each mode's worker process and the environment it adds.
MODES = {
    "engine": {},
    "engine-1": {"XLA_FLAGS": "--xla_force_host_platform_device_count=1"},
    "pure-jax": {},
    "keras": {},
}


def run_worker(args: list[str], env: dict | None = None) -> tuple[list[dict], float]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, __file__, "--worker", *args], capture_output=True, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})})
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"worker {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")], wall


def compilation_cache_check(seeds: int, max_seed_steps: int) -> None:
    """End-to-end wall time of the same engine run with an empty and then a filled cache."""
    with tempfile.TemporaryDirectory() as folder:
        env = {"LSTMSTATE_CACHE_DIR": folder}
        args = ["engine", "--only", "one-char", "--seeds", str(seeds), "--max-seed-steps", str(max_seed_steps),
                "--repeats", "0"]
        cold, cold_wall = run_worker(args, env)
        warm, warm_wall = run_worker(args, env)
    print(f"\ncompilation cache, one-char, {seeds} seeds x {cold[0]['epochs']} epochs, whole process "
          f"(start-up, model, initial weights, compile, train):")
    print(f"  cold: {cold_wall:6.2f} s  (first train call {cold[0]['first_s']:.2f} s)")
    print(f"  warm: {warm_wall:6.2f} s  (first train call {warm[0]['first_s']:.2f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=list(EXPERIMENTS), choices=list(EXPERIMENTS))
    parser.add_argument("--seeds", type=positive, default=20, help="seeds for the engine and the pure-JAX loop")
    parser.add_argument("--keras-max-steps", type=int, default=60_000,
                        help="cap on plain Keras's optimizer steps per experiment (fewer epochs: extrapolated)")
    parser.add_argument("--max-seed-steps", type=int, default=500_000,
                        help="cap on the seed-steps of one engine or pure-JAX run (fewer epochs beyond it)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs after the compiling one")
    parser.add_argument("--skip", nargs="*", default=[], choices=list(MODES))
    parser.add_argument("--cache", action="store_true", help="also time the compilation cache cold and warm")
    parser.add_argument("--worker", choices=list(MODES), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        if args.worker in ("engine", "engine-1"):
            engine_worker(args.only, args.seeds, args.max_seed_steps, args.repeats)
        elif args.worker == "pure-jax":
            pure_jax_worker(args.only, args.seeds, args.max_seed_steps, args.repeats)
        else:
            keras_worker(args.only, args.keras_max_steps)
        return

    common = ["--only", *args.only, "--seeds", str(args.seeds), "--max-seed-steps", str(args.max_seed_steps),
              "--repeats", str(args.repeats), "--keras-max-steps", str(args.keras_max_steps)]
    results = {}
    for mode, env in MODES.items():
        if mode in args.skip:
            continue
        with tempfile.TemporaryDirectory() as cache:
            # An empty compilation cache: the first engine call compiles, as on a fresh machine.
            rows, wall = run_worker([mode, *common], {**env, "LSTMSTATE_CACHE_DIR": cache})
        print(f"[{mode}: {wall:.1f} s wall]", file=sys.stderr, flush=True)
        for row in rows:
            results[(mode, row["name"])] = {**row, "mode": mode}
    report(results, args)
    if args.cache:
        compilation_cache_check(args.seeds, args.max_seed_steps)


def report(results: dict, args) -> None:
    def rate(mode, name):
        row = results.get((mode, name))
        if row is None:
            return None
        steps = row["epochs"] * steps_per_epoch(EXPERIMENTS[name]) * row["seeds"]
        return steps / row["steady_s"]

    print(f"\nseed-steps per second (one seed-step = one optimizer step of one seed), medians of "
          f"{args.repeats} runs after compilation;\nengine and pure-JAX: {args.seeds} seeds, all published "
          f"epochs up to {args.max_seed_steps:,} seed-steps a run (fewer epochs: full time extrapolated, ~);\n"
          f"plain Keras: 1 seed, all published epochs up to {args.keras_max_steps:,} steps "
          f"(fewer: full time extrapolated, ~).\n")
    header = (f"{'experiment':18} {'engine':>9} {'1 device':>9} {'pure-jax':>9} {'keras':>9} {'eng/jax':>8}"
              f" {'1dev/jax':>8} {'steady':>7} {'e2e':>6} {'eng full S':>10} {'compile':>8} {'keras 1 seed':>12}")
    print(header)
    print("-" * len(header))
    for name in args.only:
        experiment = EXPERIMENTS[name]
        engine, one, jax_rate, keras_rate = (rate(m, name) for m in ("engine", "engine-1", "pure-jax", "keras"))
        row, keras_row = results.get(("engine", name)), results.get(("keras", name))
        cells = [f"{name:18}"]
        cells += [f"{r:9.3g}" if r else f"{'-':>9}" for r in (engine, one, jax_rate, keras_rate)]
        cells.append(f"{engine / jax_rate:8.2f}" if engine and jax_rate else f"{'-':>8}")
        cells.append(f"{one / jax_rate:8.2f}" if one and jax_rate else f"{'-':>8}")
        cells.append(f"{engine / keras_rate:6.0f}x" if engine and keras_rate else f"{'-':>7}")
        if row and keras_row and row["epochs"] == experiment.epochs:
            # Whole calls, compilation included: the engine's first (compiling) call per seed.
            cells.append(f"{keras_row['full_s'] / (row['first_s'] / row['seeds']):5.0f}x")
        else:
            cells.append(f"{'-':>6}")
        if engine:
            full = experiment.epochs * steps_per_epoch(experiment) * args.seeds / engine
            marker = "~" if row["epochs"] < experiment.epochs else " "
            cells.append(f"{marker}{full:8.1f} s")
            cells.append(f"{row['first_s'] - row['steady_s']:7.1f}s")
        else:
            cells += [f"{'-':>10}", f"{'-':>8}"]
        if keras_row:
            marker = "~" if keras_row["extrapolated"] else " "
            cells.append(f"{marker}{keras_row['full_s']:10.1f} s")
        print(" ".join(cells))
    engine_rows = [results[("engine", n)] for n in args.only if ("engine", n) in results]
    if engine_rows:
        print(f"\nengine on {engine_rows[0]['devices']} host device(s); import {engine_rows[0]['import_s']:.1f} s; "
              f"initial weights for {args.seeds} seeds: "
              + ", ".join(f"{r['name']} {r['init_s']:.2f} s" for r in engine_rows))
        print("steady: engine / Keras seed-steps per second after compilation. e2e: Keras's whole fit "
              "(compilation included) / the engine's first call per seed\n(empty compilation cache; "
              "shown when that call ran all published epochs). eng full S: the engine's time for all "
              "published epochs of S seeds,\nfrom its steady rate; compile: its first call minus a steady call.")


if __name__ == "__main__":
    main()
