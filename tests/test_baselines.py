"""The classical baselines on the user's data: the n-gram models against a slow dictionary
reference, the number baselines against statsmodels and hand computation, and verdicts where a
baseline must win and where the LSTM must."""

import json
from collections import Counter, defaultdict

import numpy as np
import pytest

from conftest import run_cli
from lstmstate.core import ngram
from lstmstate.owndata import baselines, dataset, season, training
from lstmstate.owndata.baselines import Baseline
from lstmstate.owndata.split import split as split_sequence
from lstmstate.owndata.plan import Plan
from lstmstate.owndata import verdicts


# ---- n-gram models against a dictionary reference --------------------------------------------

def _discount(counts) -> float:
    n1 = sum(1 for c in counts if c == 1)
    n2 = sum(1 for c in counts if c == 2)
    return 0.5 if n1 + n2 == 0 else float(np.clip(n1 / (n1 + 2 * n2), 0.05, 0.95))


def _reference(ids: list[int], train_end: int, order: int, size: int):
    """Backoff argmax and interpolated Kneser-Ney (Chen & Goodman, 1999) with Python dictionaries,
    every count taken from scratch: slow, plain, and written from the paper, not from the arrays."""
    raw = [Counter() for _ in range(order)]  # raw[m][(context of m symbols, w)]
    left = [defaultdict(set) for _ in range(order)]  # the distinct symbols (or the start) before each gram
    for m in range(order):
        for t in range(m, train_end):
            gram = (tuple(ids[t - m:t]), ids[t])
            raw[m][gram] += 1
            left[m][gram].add(ids[t - m - 1] if t - m - 1 >= 0 else ("start", t))
    continuation = [Counter({gram: len(s) for gram, s in grams.items()}) for grams in left]

    def probability(m, context, w, highest):
        lower = 1.0 / size if m == 0 else probability(m - 1, context[1:], w, False)
        counts = raw[m] if highest else continuation[m]
        total = sum(c for (cx, _), c in counts.items() if cx == context)
        if total == 0:
            return lower
        d = _discount(counts.values())
        types = sum(1 for (cx, _), c in counts.items() if cx == context and c > 0)
        return max(counts.get((context, w), 0) - d, 0) / total + d * types / total * lower

    predicted, logs = [], []
    for t in range(train_end, len(ids)):
        for m in range(min(order - 1, t), -1, -1):
            seen = Counter({w: c for (cx, w), c in raw[m].items() if cx == tuple(ids[t - m:t])})
            if seen:
                predicted.append(min(seen.items(), key=lambda kv: (-kv[1], kv[0]))[0])
                break
        m = min(order - 1, t)
        logs.append(np.log(probability(m, tuple(ids[t - m:t]), ids[t], True)))
    return np.array(predicted), np.array(logs)


@pytest.mark.parametrize("trial", range(12))
def test_ngram_arrays_equal_the_dictionary_reference(trial):
    rng = np.random.default_rng(trial)
    size, items = int(rng.integers(2, 5)), int(rng.integers(12, 60))
    train_end = int(rng.integers(4, items - 1))
    # Repeats make long shared contexts, so the pruning of contexts seen once is exercised.
    ids = np.tile(rng.integers(0, size, items // 3 + 1), 3)[:items] if trial % 2 else rng.integers(0, size, items)
    for n, (prediction,) in enumerate(ngram.orders(ids, (ngram.Fold(train_end, items),), size, max_order=5), 1):
        predicted, logs = _reference(list(ids), train_end, n, size)
        np.testing.assert_array_equal(prediction.predicted, predicted)
        np.testing.assert_allclose(prediction.log_probability, logs, rtol=0, atol=1e-12)


def test_kneser_ney_probabilities_sum_to_one_over_the_vocabulary():
    rng = np.random.default_rng(3)
    ids = rng.integers(0, 4, 80)
    for order in (1, 2, 4):
        total = 0.0
        for w in range(4):  # the last target takes every symbol in turn; training is unchanged
            ids[-1] = w
            *_, (last,) = ngram.orders(ids, (ngram.Fold(60, 80),), 4, max_order=order)
            total += np.exp(last.log_probability[-1])
        assert total == pytest.approx(1.0, abs=1e-12)


def test_the_order_is_chosen_on_the_training_part_only():
    """The held-out part follows a different rule from the training part: an order chosen on the
    held-out part would differ from the one chosen on the validation part of training."""
    rng = np.random.default_rng(0)
    training = np.tile([0, 1, 2, 3], 200)  # order 2 is perfect: after x comes x + 1
    held = rng.integers(0, 4, 200)  # noise: nothing beats order 1 there
    ids = np.concatenate([training, held])
    chosen = ngram.select(ids, ngram.Fold(640, 800), ngram.Fold(800, 1000), 4)
    assert chosen.accuracy_order == 2 and chosen.validation_accuracy[1] == 1.0
    np.testing.assert_array_equal(chosen.predicted, (ids[799:-1] + 1) % 4)  # the order-2 rule on held-out


# ---- number baselines ------------------------------------------------------------------------

def test_seasonal_naive_detects_the_season_and_says_so():
    rng = np.random.default_rng(1)
    t = np.arange(240)
    values = 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, 240)
    split = split_sequence(240, 0.25)
    chosen = season.detect(values, split)
    assert chosen.length == 12 and chosen.source == "detected"
    found = {b.name: b for b in baselines.for_numbers(values, split, np.arange(split.train_items, 240), chosen)}
    seasonal = found["seasonal naive (season 12)"]
    assert "detected" in seasonal.description and seasonal.parameters["season"] == 12
    held = values[split.train_items:]
    assert seasonal.score == pytest.approx(np.sqrt(np.mean((held - values[split.train_items - 12:-12]) ** 2)))
    data = dataset.Numbers("given", ("y",), "y", values[:, None])
    given = baselines.for_numbers(values, split, np.arange(split.train_items, 240), season.choose(data, split, 6))
    assert any(b.name == "seasonal naive (season 6)" and "given" in b.description for b in given)


def test_no_season_is_claimed_in_white_noise():
    values = np.random.default_rng(2).normal(0, 1, 300)
    assert season.peaks(values[:240]) == []
    assert season.detect(values, split_sequence(300, 0.2)).length is None


def test_autoregression_is_statsmodels_fitted_on_the_training_part():
    from statsmodels.tsa.ar_model import AutoReg

    rng = np.random.default_rng(4)
    values = np.zeros(400)
    for t in range(2, 400):
        values[t] = 1.6 * values[t - 1] - 0.9 * values[t - 2] + rng.normal()
    split = split_sequence(400, 0.2)
    ar = baselines.autoregression(values, split, lambda predicted: predicted)
    p = ar.parameters["p"]
    assert ar.name == f"AR({p})" and p >= 2  # the process has two lags; AIC may add a few
    # By hand: the training part's coefficients applied to the true past of each held-out value.
    params = AutoReg(values[:split.train_items], lags=p, trend="c").fit().params
    t = split.train_items + 5
    expected = params[0] + sum(params[i] * values[t - i] for i in range(1, p + 1))
    assert ar.score[5] == pytest.approx(expected)


# ---- verdicts ----------------------------------------------------------------------------------

def test_verdict_words_follow_the_seeds():
    ar = Baseline("AR(2)", "rmse", 1.0, "")
    assert verdicts.judge(np.array([1.5, 1.6, 1.7]), ar).startswith("AR(2) beats every seed, by 0.5 to 0.7 RMSE")
    assert verdicts.judge(np.array([0.5, 0.6, 0.7]), ar).startswith("the LSTM beats AR(2) with every seed")
    assert verdicts.judge(np.array([0.9, 1.1, 0.95, 1.05]), ar).startswith("the LSTM is not distinguishable")
    one_seed = verdicts.judge(np.array([0.5]), ar)
    assert one_seed.startswith("no verdict") and "better" not in one_seed
    diverged = verdicts.judge(np.array([np.inf, 1.5, 1.6]), ar)
    assert diverged.startswith("AR(2) beats every seed") and "1 of 3 seeds diverged" in diverged
    assert verdicts.winner(np.array([np.inf, np.nan]), ar) is None
    # As found on the alphabet, where both are perfect: "beats every seed, by -0.00 to -0.00 points".
    perfect = Baseline("most frequent successor", "accuracy", 1.0, "")
    assert verdicts.judge(np.array([1.0, 1.0]), perfect).startswith("every seed ties with most frequent successor")


def test_autoregression_beats_a_one_step_lstm_and_the_verdict_says_so(tmp_path):
    """y_t = 1.6 y_{t-1} - 0.9 y_{t-2} + noise: a model of the last value alone (one-step) cannot
    reach the noise floor that AR(2) reaches, however well it is trained."""
    rng = np.random.default_rng(5)
    values = np.zeros(300)
    for t in range(2, 300):
        values[t] = 1.6 * values[t - 1] - 0.9 * values[t - 2] + rng.normal()
    path = tmp_path / "ar2.csv"
    path.write_text("y\n" + "".join(f"{v:.6f}\n" for v in values))
    data = dataset.read(path, target="y")
    outcome = training.train(data, Plan(framing="one-step", epochs=30, seeds=3, units=8))
    assert outcome.baseline.name.startswith("AR(")
    assert verdicts.winner(outcome.scores, outcome.baseline) == "baseline"
    assert verdicts.against_baseline(outcome).startswith(f"{outcome.baseline.name} beats every seed")


def test_ngram_beats_a_one_step_lstm_on_text_with_three_symbols_of_context(tmp_path):
    """Each symbol is decided by the three before it: a model of the previous symbol alone stays at
    the memoryless ceiling, the n-gram reads the rule."""
    rng = np.random.default_rng(6)
    rule = rng.integers(0, 4, (4, 4, 4))
    ids = list(rng.integers(0, 4, 3))
    for _ in range(3000):
        ids.append(rule[ids[-3], ids[-2], ids[-1]] if rng.random() < 0.9 else rng.integers(0, 4))
    path = tmp_path / "rule.txt"
    path.write_text("".join("abcd"[i] for i in ids))
    outcome = training.train(dataset.read(path), Plan(framing="one-step", epochs=5, seeds=2, units=8))
    assert outcome.baseline.name.endswith("-gram with backoff") and outcome.baseline.parameters["n"] >= 4
    assert verdicts.winner(outcome.scores, outcome.baseline) == "baseline"
    assert (outcome.scores <= outcome.ceiling + 1e-9).all() and outcome.baseline.score > outcome.ceiling


def test_lstm_beats_every_baseline_on_a_dependency_longer_than_any_ngram(tmp_path, capsys, monkeypatch):
    """A key, 20 dots, then the key's answer: the answer depends on a symbol 21 back, further than
    the longest n-gram counted (ngram.MAX_ORDER), so only a model that reads the whole window knows it."""
    assert ngram.MAX_ORDER < 21
    keys = np.random.default_rng(7).integers(0, 2, 300)
    path = tmp_path / "long.txt"
    path.write_text("".join("AB"[k] + "." * 20 + "ab"[k] for k in keys))
    out = tmp_path / "run"
    code, stdout, _ = run_cli(monkeypatch, capsys, "train", "--data", path, "--framing", "window-features",
                              "--window", 21, "--epochs", 40, "--seeds", 3, "--out", out, "--quiet")
    assert code == 0
    assert "verdict: the LSTM beats" in stdout and "strongest baseline" in stdout
    payload = json.loads((out / "results.json").read_text())
    names = [b["name"] for b in payload["baselines"]]
    assert "most frequent successor" in names and any(n.startswith("Kneser-Ney") for n in names)
    best = max(b["score"] for b in payload["baselines"] if b["metric"] == "accuracy")
    assert payload["holdout"]["ci95"][0] > best
    # The report draws the seeds and every baseline in one figure, and lists the baselines.
    code, _, _ = run_cli(monkeypatch, capsys, "report", out)
    assert code == 0 and (out / "figures" / "held-out.png").stat().st_size > 1000
    markdown = (out / "report.md").read_text()
    assert "figures/held-out.png" in markdown and payload["against_baseline"] in markdown
    assert all(name in markdown for name in names)
