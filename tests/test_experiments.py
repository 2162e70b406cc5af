"""The registry against the tutorial's table (the project's specification), and the framings behind it."""

import numpy as np
import pytest

from lstmstate.core import memoryless
from lstmstate.tutorial import experiments
from lstmstate.core import framing

# (data shape, units, epochs, batch, shuffle, carries state, published) from the tutorial's published table
SEED_TABLE = {
    "one-char": ((25, 1, 1), 32, 500, 1, True, False, 0.84),
    "window-features": ((23, 1, 3), 32, 500, 1, True, False, 0.8696),
    "window-timesteps": ((23, 3, 1), 32, 500, 1, True, False, 1.0),
    "whole-batch": ((25, 1, 1), 16, 5000, 25, False, False, 1.0),
    "stateful": ((25, 1, 1), 50, 300, 1, False, True, 1.0),
    "variable-length": ((1000, 5, 1), 32, 500, 1, True, False, 0.989),
}


@pytest.mark.parametrize("name", SEED_TABLE)
def test_tutorial_experiments_match_the_published_configuration(name):
    shape, units, epochs, batch, shuffle, stateful, published = SEED_TABLE[name]
    experiment = experiments.get(name)
    setup = experiment.setup()
    assert setup.x.shape == shape
    assert setup.spec.units == units and setup.spec.outputs == 26
    assert setup.config.epochs == epochs and setup.config.batch_size == batch
    assert setup.config.shuffle == shuffle and setup.config.carries_state == stateful
    assert experiment.published_accuracy == pytest.approx(published)
    assert setup.encoding.name == "scalar" and setup.config.learning_rate == 0.001
    # the tutorial's input encoding: id / 26
    assert setup.x.max() <= 25 / 26 and setup.x.min() >= 0


def test_every_registered_experiment_builds():
    expected = {"one-char", "window-features", "window-timesteps", "whole-batch", "stateful", "variable-length",
                "prefix-padded", "whole-batch-shuffled", "dense-only", "variable-length-masked",
                "memory-stateless", "memory-stateful", "dense-onehot", "one-char-scrambled",
                "window-features-scrambled", "window-timesteps-scrambled", "stateful-scrambled"}
    assert set(experiments.EXPERIMENTS) == expected
    for experiment in experiments.EXPERIMENTS.values():
        setup = experiment.setup(epochs=1, units=2)
        assert len(setup.x) == len(setup.y) and experiment.shows and experiment.section


def test_variable_length_pads_with_a_then_with_a_reserved_id():
    tutorial_way = experiments.get("variable-length").setup().framed
    masked = experiments.get("variable-length-masked").setup()
    assert not tutorial_way.masked and (tutorial_way.inputs[:, 0, 0] == 0).mean() > 0.5  # mostly padding, i.e. "A"
    assert masked.framed.masked and masked.spec.mask_value == -1.0
    # the same runs, only the padding differs
    np.testing.assert_array_equal(np.where(masked.framed.inputs == framing.PAD, 0, masked.framed.inputs),
                                  tutorial_way.inputs)


def test_memory_experiments_need_context():
    setup = experiments.get("memory-stateless").setup()
    assert setup.vocabulary.symbols == tuple("ABCDEFXYZ")
    # The same input, C, is followed by D and by X: no function of the current symbol gets both,
    # so the memoryless ceiling is below 100%: 3 of the 35 pairs (C -> the rarer-chosen successor) are lost.
    framed = setup.framed
    after_c = set(framed.targets[framed.last_ids() == setup.vocabulary.encode("C")[0]].tolist())
    assert setup.vocabulary.decode(sorted(after_c)) == ["D", "X"]
    assert memoryless.memoryless_ceiling(framed.last_ids(), framed.targets) == pytest.approx(32 / 35)
    # The stateful twin reads the same pairs as one stream, in order, so its state can hold what came before C.
    stateful = experiments.get("memory-stateful").setup()
    assert stateful.config.carries_state and not stateful.config.shuffle
    np.testing.assert_array_equal(stateful.framed.inputs, framed.inputs)


def test_unknown_experiment_lists_the_known_ones():
    with pytest.raises(ValueError, match="one-char"):
        experiments.get("two-char")


def test_framings_worked_examples():
    f = framing.window_timesteps(np.arange(26), 3)
    assert f.inputs[0, :, 0].tolist() == [0, 1, 2] and f.targets[0] == 3 and f.samples == 23
    p = framing.prefixes(np.arange(26), 25)
    assert p.inputs.shape == (25, 25, 1) and p.inputs[0, -1, 0] == 0 and (p.inputs[0, :-1] == framing.PAD).all()
    assert framing.batchify(6, 2).tolist() == [[0, 3], [1, 4], [2, 5]]
    with pytest.warns(UserWarning, match="the last 1 sample"):
        framing.batchify(7, 2)


def test_scrambled_alphabet_is_one_fixed_permutation_and_keeps_each_framing():
    order = experiments.SCRAMBLED_ORDER
    assert sorted(order.tolist()) == list(range(26)) and (order != np.arange(26)).sum() > 20
    letters = experiments.scrambled_letters()
    assert len(set(letters)) == 26 and letters == "".join(experiments.ALPHABET.decode(order))
    pairs = experiments.get("one-char-scrambled").setup()
    # By hand: the first pair is the first scrambled letter -> the second, read as id/26.
    assert pairs.framed.inputs[0, 0, 0] == order[0] and pairs.y[0] == order[1]
    assert pairs.x[0, 0, 0] == np.float32(order[0] / 26)
    for name in ("one-char", "window-features", "window-timesteps", "stateful"):
        plain, scrambled = experiments.get(name).setup(), experiments.get(f"{name}-scrambled").setup()
        # The same framing, model and training; only the letters' order differs.
        assert plain.x.shape == scrambled.x.shape and plain.spec == scrambled.spec and plain.config == scrambled.config
        # Every letter still has one successor: no memory is needed, in order or scrambled.
        assert memoryless.memoryless_ceiling(scrambled.framed.last_ids(), scrambled.framed.targets) == 1.0
        # The id order is gone: the next id is no longer the last id plus one.
        assert (scrambled.y != scrambled.framed.last_ids() + 1).mean() > 0.8


def test_controls_are_outside_the_default_suite():
    assert set(experiments.CONTROLS) == {"dense-onehot", "one-char-scrambled", "window-features-scrambled",
                                         "window-timesteps-scrambled", "stateful-scrambled"}
    assert set(experiments.DEFAULT_SUITE) | set(experiments.CONTROLS) == set(experiments.EXPERIMENTS)
    onehot = experiments.get("dense-onehot").setup()
    assert onehot.spec.kind == "dense" and onehot.x.shape == (25, 1, 26) and (onehot.x.sum(-1) == 1).all()
    np.testing.assert_array_equal(onehot.y, experiments.get("dense-only").setup().y)
