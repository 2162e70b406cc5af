"""The engine and plain Keras ``fit`` in lockstep for a whole run: where do they part, and why?

Both start from the same initial weights and see the samples in the same order every epoch (the
engine's ``epoch_order``, handed to ``fit`` with ``shuffle=False``), for every published epoch.
At each checkpoint it prints the largest weight difference, the training losses, and whether the
two models predict the same letter for every sample. A third run tells floating-point drift from
a real difference: plain Keras again, from the same weights nudged by one part in 10^7 (about
one float32 rounding step). If engine-vs-Keras parts no sooner and no further than
Keras-vs-nudged-Keras, the engine computes what ``fit`` computes and the gap is rounding,
amplified by training; a real difference would part sooner, and by more.

Usage::

    python bench/lockstep.py --experiment window-features --seeds 0 1 2
    python bench/lockstep.py --experiment window-features --draws 200   # how initial weights are drawn
"""

import argparse
import time

from lstmstate.core.engine import Trainer  # first: it makes Keras use JAX
from lstmstate.core.batches import epoch_order, seed_key
from lstmstate.tutorial.experiments import get

import keras
import numpy as np

CHECKPOINTS = (1, 2, 5, 10, 20, 50, 100, 150, 200, 300, 400, 500)
NUDGE = 1e-7  # relative: about one float32 rounding step (machine epsilon 1.19e-7)


def keras_run(setup, start, seed, checkpoints):
    """Plain Keras fit from ``start``, one epoch per call in the engine's order: weights and
    predictions at each checkpoint, and the per-epoch losses."""
    x, y = setup.x, keras.utils.to_categorical(setup.y, setup.spec.outputs)
    model = keras.Sequential([keras.Input((setup.spec.steps, setup.spec.features)),
                              keras.layers.LSTM(setup.spec.units),
                              keras.layers.Dense(setup.spec.outputs, activation="softmax")])
    model.set_weights(start)
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    snapshots, losses = {}, []
    for epoch in range(max(checkpoints)):
        order = np.asarray(epoch_order(seed_key(seed), epoch, len(x)))
        history = model.fit(x[order], y[order], batch_size=1, epochs=1, shuffle=False, verbose=0)
        losses.append(history.history["loss"][0])
        if epoch + 1 in checkpoints:
            snapshots[epoch + 1] = ([w.copy() for w in model.get_weights()],
                                    model.predict(x, verbose=0).argmax(-1))
    return snapshots, np.array(losses)


def engine_run(experiment, seed, start, epochs):
    """The engine from ``start`` for ``epochs`` epochs: final weights, predictions, per-epoch losses."""
    setup = experiment.setup(epochs=epochs)
    trainer = Trainer(setup.spec, setup.config, setup.x, setup.y)
    population = trainer.train([seed], weights=[w[None] for w in start])
    evaluation = trainer.evaluate(population.weights)
    return population.member_weights(0), evaluation.predictions[0], population.loss[0]


def compare_draws(experiment, seeds: int) -> None:
    """Do the engine's initial weights come from the distribution Keras draws them from?

    Lockstep runs start both from the same weights, so they cannot see a difference in how the
    weights are drawn; a difference there would change the distribution of whole runs. For each
    variable, every value of ``seeds`` engine draws against ``seeds`` models Keras builds after
    ``keras.utils.set_random_seed`` (seeds 10000..), pooled: the two-sample Kolmogorov-Smirnov
    p-value, and the spread of the values.
    """
    from scipy.stats import ks_2samp

    setup = experiment.setup()
    trainer = Trainer(setup.spec, setup.config, setup.x, setup.y)
    engine = trainer.initial_weights(list(range(seeds)))  # each (seed, *shape)
    keras_draws = []
    for seed in range(10000, 10000 + seeds):
        keras.utils.set_random_seed(seed)
        model = keras.Sequential([keras.Input((setup.spec.steps, setup.spec.features)),
                                  keras.layers.LSTM(setup.spec.units),
                                  keras.layers.Dense(setup.spec.outputs, activation="softmax")])
        keras_draws.append(model.get_weights())
    print(f"\n== initial weights of {experiment.name}: {seeds} engine draws against {seeds} Keras builds")
    for index, ours in enumerate(engine):
        theirs = np.stack([draw[index] for draw in keras_draws])
        ours, theirs = ours.reshape(-1), theirs.reshape(-1)
        if np.ptp(theirs) == 0 and np.ptp(ours) == 0:
            same = "constant, equal" if ours[0] == theirs[0] else "constant, DIFFERENT"
            print(f"variable {index} {tuple(engine[index].shape[1:])}: {same}")
            continue
        print(f"variable {index} {tuple(engine[index].shape[1:])}: KS p = {ks_2samp(ours, theirs).pvalue:.3f}; "
              f"std {ours.std():.4f} (engine) vs {theirs.std():.4f} (Keras)")


def largest_difference(a, b) -> float:
    return max(float(np.abs(u - v).max()) for u, v in zip(a, b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiment", default="window-features")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--draws", type=int, default=0,
                        help="instead: compare this many initial-weight draws of the engine and of Keras")
    args = parser.parse_args()
    experiment = get(args.experiment)
    if args.draws:
        compare_draws(experiment, args.draws)
        return
    setup = experiment.setup()
    checkpoints = [c for c in CHECKPOINTS if c <= setup.config.epochs]
    trainer = Trainer(setup.spec, setup.config, setup.x, setup.y)
    for seed in args.seeds:
        started = time.perf_counter()
        start = [w[0] for w in trainer.initial_weights([seed])]
        rng = np.random.default_rng(seed)
        nudged = [w * (1 + NUDGE * rng.choice([-1.0, 1.0], size=w.shape)).astype(np.float32) for w in start]
        reference, reference_loss = keras_run(setup, start, seed, checkpoints)
        other, other_loss = keras_run(setup, nudged, seed, checkpoints)
        print(f"\n== {args.experiment}, seed {seed}: largest |weight difference| and predictions that differ "
              f"(of {len(setup.y)} samples)")
        print("epoch  engine-vs-Keras            nudged-Keras-vs-Keras      accuracy: engine / Keras / nudged")
        engine_loss = None
        for epoch in checkpoints:
            weights, predicted, engine_loss = engine_run(experiment, seed, start, epoch)
            keras_weights, keras_predicted = reference[epoch]
            other_weights, other_predicted = other[epoch]
            order = np.arange(len(setup.y))  # evaluate's order: every sample once, unshuffled
            accuracy = lambda p: 100 * float((p == setup.y[order]).mean())
            print(f"{epoch:5d}  {largest_difference(weights, keras_weights):9.2e}  "
                  f"{int((predicted != keras_predicted).sum()):2d} differ      "
                  f"{largest_difference(other_weights, keras_weights):9.2e}  "
                  f"{int((other_predicted != keras_predicted).sum()):2d} differ      "
                  f"{accuracy(predicted):6.2f}% / {accuracy(keras_predicted):6.2f}% / {accuracy(other_predicted):6.2f}%")
        relative = np.abs(engine_loss - reference_loss) / np.abs(reference_loss)
        nudged_relative = np.abs(other_loss - reference_loss) / np.abs(reference_loss)
        for name, values in (("engine", relative), ("nudged Keras", nudged_relative)):
            parted = np.flatnonzero(values > 1e-3)
            first = int(parted[0]) + 1 if len(parted) else None
            print(f"{name}: per-epoch training loss within 0.1% of Keras's up to epoch "
                  f"{(first - 1) if first else len(values)}; largest relative gap {values.max():.2e}")
        print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
