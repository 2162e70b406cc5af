"""Where an lstmstate training run spends its time: start-up, compilation, steps, round-trips.

For one experiment it runs, in this process and in order, what ``lstmstate run`` does, and
times each phase:

  import        ``import lstmstate`` (Keras, JAX, and TensorFlow when it is installed)
  model         building the Trainer: the Keras models and Adam's variables
  weights       the seeded initial weights of every seed
  trace/lower/compile   JAX's own monitoring events for the first ``train`` call: tracing the
                program, lowering it to XLA, and XLA compiling it (or reading it from the cache)
  first train   the whole first call, compilation included
  steady train  a second call with the same seeds: the steps alone
  one chunk     the same call in one chunk instead of the default 20 (after compiling that
                program): the difference is what reporting progress (a round-trip to the host
                per chunk) costs
  evaluate      the first evaluation (compiles) and a second one

and then profiles one steady call with the JAX profiler and lists the XLA operations that take
the most time per optimizer step (XLA's CPU thunks: fusions, dots, loops).

The compilation cache starts empty (a temporary folder) unless ``--warm`` is given, so the
compile phase is what a fresh machine pays. Usage::

    python bench/breakdown.py                              # variable-length, 20 seeds, 20 epochs
    python bench/breakdown.py --experiment stateful --epochs 300
"""

import argparse
import collections
import glob
import os
import sys
import tempfile
import time

from arguments import positive

# XLA reports per-operation times to the profiler only with this flag, read when JAX starts.
os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_cpu_enable_xprof_traceme=true".strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="variable-length")
    parser.add_argument("--seeds", type=positive, default=20)
    parser.add_argument("--epochs", type=positive, default=20, help="fewer than published keeps it short; "
                        "the step time does not depend on it")
    parser.add_argument("--top", type=int, default=15, help="how many XLA operations to list")
    parser.add_argument("--warm", action="store_true", help="use the user's compilation cache as it is")
    args = parser.parse_args()
    if args.warm:
        profile(args)
        return
    with tempfile.TemporaryDirectory() as cache:
        os.environ["LSTMSTATE_CACHE_DIR"] = cache
        profile(args)


def profile(args) -> None:
    started = time.perf_counter()
    # Measure the checkout this file is in, not whichever lstmstate happens to be installed.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
    # First: lstmstate sets the device flags, which only count before anything imports JAX.
    import lstmstate  # noqa: F401  (selects the backend, enables the cache, sets device flags)
    import jax
    import jax.monitoring

    compile_events = collections.Counter()
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, seconds, **_: compile_events.update({event.rsplit("/", 1)[-1]: seconds}))

    from lstmstate.core.engine import Trainer
    from lstmstate.tutorial.experiments import EXPERIMENTS

    phases = [("import", time.perf_counter() - started)]
    if args.experiment not in EXPERIMENTS:
        raise SystemExit(f"unknown experiment {args.experiment!r}; choose one of {', '.join(EXPERIMENTS)}")
    setup = EXPERIMENTS[args.experiment].setup(epochs=args.epochs)
    seeds = range(args.seeds)

    def timed(name, call):
        start = time.perf_counter()
        result = call()
        phases.append((name, time.perf_counter() - start))
        return result

    trainer = timed("model", lambda: Trainer(setup.spec, setup.config, setup.x, setup.y))
    weights = timed("weights", lambda: trainer.initial_weights(seeds))
    compile_events.clear()
    population = timed("first train", lambda: trainer.train(seeds, weights=weights))
    first_compile = dict(compile_events)
    timed("steady train", lambda: trainer.train(seeds, weights=weights))
    trainer.train(seeds, chunks=1, weights=weights)  # another program (one chunk of all epochs): compile it
    timed("one chunk", lambda: trainer.train(seeds, chunks=1, weights=weights))
    timed("first evaluate", lambda: trainer.evaluate(population.weights))
    timed("evaluate", lambda: trainer.evaluate(population.weights))

    steps = args.epochs * trainer.layout.shape[0]
    seconds = dict(phases)
    print(f"{args.experiment}: {args.seeds} seeds x {args.epochs} epochs x {trainer.layout.shape[0]} batches "
          f"= {steps:,} steps of {args.seeds} seeds, on {len(jax.devices())} host device(s), "
          f"compilation cache {'as it is' if args.warm else 'empty'}\n")
    for name, value in phases:
        print(f"  {name:16} {value:8.3f} s")
    for event in ("jaxpr_trace_duration", "jaxpr_to_mlir_module_duration", "backend_compile_duration"):
        print(f"    {event:30} {first_compile.get(event, 0.0):8.3f} s  (first train)")
    steady = seconds["steady train"]
    print(f"\n  compilation and tracing: {seconds['first train'] - steady:.2f} s of the first call")
    print(f"  step: {steady / steps * 1e6:.1f} us for {args.seeds} seeds "
          f"({args.seeds * steps / steady:,.0f} seed-steps/s)")
    print(f"  progress round-trips (20 chunks vs 1): {steady - seconds['one chunk']:+.3f} s")

    with tempfile.TemporaryDirectory(prefix="lstmstate-trace-") as trace_folder:
        with jax.profiler.trace(trace_folder):
            trainer.train(seeds, weights=weights)
        operations(trace_folder, steps, args.top)


def operations(folder: str, steps: int, top: int) -> None:
    """The XLA operations that took longest in the traced call, per optimizer step."""
    from jax.profiler import ProfileData

    total, count = collections.Counter(), collections.Counter()
    for path in glob.glob(os.path.join(folder, "**", "*.xplane.pb"), recursive=True):
        for plane in ProfileData.from_file(path).planes:
            for line in plane.lines:
                # XLA's intra-op threads run the operations; the rest is Python and waiting.
                if not line.name.startswith("tf_XLAEigen"):
                    continue
                for event in line.events:
                    # Executor bookkeeping, and loops and conditionals, whose time is their contents'.
                    if event.name.startswith(("ThunkExecutor", "while", "cond", "call")):
                        continue
                    # An operation that finishes on another thread reports its tail as "end: <name>":
                    # the same operation's time, not another call of it.
                    name = event.name.removeprefix("end: ")
                    total[name] += event.duration_ns
                    count[name] += name == event.name
    if not total:
        print("\n  (the profiler recorded no XLA operations)")
        return
    busy = sum(total.values())
    # Recording an operation costs microseconds, so the many small ones look bigger here than they
    # are: read the ranking of the large ones, not the sum, against the step time above.
    print(f"\n  XLA operations, all devices together, as the profiler saw them: {busy / steps / 1e3:.1f} us per "
          f"step (recording inflates small operations)")
    print(f"  {'operation':32} {'us/step':>8} {'share':>6} {'calls/step':>10}")
    for name, nanoseconds in total.most_common(top):
        print(f"  {name[:32]:32} {nanoseconds / steps / 1e3:8.2f} {nanoseconds / busy:6.1%} {count[name] / steps:10.2f}")


if __name__ == "__main__":
    main()
