"""Statistics and baselines on arrays small enough to check by hand."""

import numpy as np
import pytest

from lstmstate.core import memoryless
from lstmstate.core import statistics


def test_mean_share_and_median():
    values = [0.5, 1.0, 1.0, 0.9]
    assert statistics.mean(values) == pytest.approx(0.85)
    assert statistics.perfect_share(values) == 0.5
    assert statistics.median_index(values) == 3  # sorted: 0.5, 0.9, 1.0, 1.0 -> lower median 0.9


def test_bootstrap_interval_brackets_the_mean_and_is_deterministic():
    values = np.array([0.80, 0.84, 0.88, 0.76, 0.92, 0.84])
    low, high = statistics.bootstrap_ci(values)
    assert low < values.mean() < high
    assert (low, high) == statistics.bootstrap_ci(values)
    # The interval of a mean is narrower than the spread of the values themselves.
    assert values.min() < low and high < values.max()
    assert statistics.bootstrap_ci([0.84]) == (0.84, 0.84)


def test_difference_of_two_populations():
    delta, (low, high) = statistics.difference([1.0, 1.0, 1.0], [0.5, 0.6, 0.7])
    assert delta == pytest.approx(0.4)
    assert 0.3 <= low <= 0.4 <= high <= 0.5
    assert statistics.difference([0.5, 0.6], [0.5, 0.6])[0] == 0.0


def test_bad_values_are_a_value_error():
    with pytest.raises(ValueError, match="non-empty"):
        statistics.mean([])


def test_memoryless_ceiling_on_a_hand_made_sequence():
    # ABCDEFABCXYZ: after C comes D once and X once; all else is determined: 10 of 11 pairs.
    ids = {s: i for i, s in enumerate("ABCDEFXYZ")}
    sequence = [ids[s] for s in "ABCDEFABCXYZ"]
    assert memoryless.memoryless_ceiling(sequence[:-1], sequence[1:]) == pytest.approx(10 / 11)
    # a sequence where every successor is determined
    assert memoryless.memoryless_ceiling([0, 1, 2], [1, 2, 3]) == 1.0
    # aaab: after a comes a twice and b once
    assert memoryless.memoryless_ceiling([0, 0, 0], [0, 0, 1]) == pytest.approx(2 / 3)
    assert memoryless.most_frequent_successor([0, 0, 0], [0, 0, 1]) == {0: 0}
