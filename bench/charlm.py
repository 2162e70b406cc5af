"""lstmstate against a PyTorch character language model trained as PyTorch's word_language_model
trains, on a real text, side by side in one run: training speed and held-out accuracy at equal time.

The text is the first 400,000 characters of ``Lib/pydoc_data/topics.py``, the Python
documentation's topic pages that ship with every Python install (Sphinx output; nobody here
wrote it; its content depends on the Python version, so the version is printed). Tokens are
characters; the last 20% is held out, as ``lstmstate train --holdout 0.2`` holds it out.

What each side does:

  lstmstate   ``owndata.training.run`` (what ``lstmstate train --framing stateful-streams`` calls):
              the training part as ``--batch-size`` parallel streams (``framing.batchify``),
              truncated BPTT over ``--bptt`` steps with a target at every step, the state carried
              from chunk to chunk with its gradient stopped and reset when an epoch starts, Keras's
              Adam; ``--epochs`` passes; then the whole text read in the same number of streams
              from zero state, the state carried, every held-out character predicted. Run once with 1 seed and
              once with ``--population`` seeds (one compiled program for all of them).
  PyTorch     word_language_model's loop: the same training pairs cut into the same streams
              (``batchify``), ``get_batch`` chunks of ``bptt`` steps with a target at every step,
              ``repackage_hidden`` (detach) before each chunk, the hidden state made anew at each
              epoch, a stacked ``nn.LSTM``, dropout between layers and before the decoder, the mean
              cross entropy, ``clip_grad_norm_`` when ``--clip-norm`` is given, ``torch.optim.Adam``
              with Keras's learning rate and epsilon; one-hot input (as lstmstate's) or
              ``nn.Embedding`` with ``--embedding D``. It trains for as many seconds as lstmstate's
              1-seed training took (compilation included; ``--seconds`` overrides), at least one
              full pass, and is scored exactly as lstmstate scores: the whole text in the same
              streams from zero state, the state carried (the stream that crosses into the
              held-out part reads it warm).
  n-gram      the baselines lstmstate fits on the training part and scores on the same held-out
              characters, read from the run's results.json (never reimplemented here).

Speed is training characters per second: training pairs x passes (x seeds) over the seconds of
the training call, with and without JAX's compilation (measured by ``jax.monitoring``; the
compilation cache starts empty unless ``--warm-cache``, so compilation is what a fresh machine pays).

Usage (torch is for this benchmark only, not a dependency of lstmstate)::

    pip install torch==2.13.0
    python bench/charlm.py                              # the README numbers: bptt 1
    python bench/charlm.py --bptt 35                    # the README numbers: bptt 35
    python bench/charlm.py --layers 2 --dropout 0.2 --bptt 8 --profile
    python bench/charlm.py --quick                      # a smoke run, under a minute
"""

import argparse
import collections
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, fields
from pathlib import Path
from statistics import median

from arguments import positive
from lstmstate.owndata.plan import prepare

CHECKOUT_SRC = Path(__file__).resolve().parent.parent / "src"
HOLDOUT = 0.2  # the held-out fraction, lstmstate train's default
QUICK = dict(chars=20_000, units=16, batch=16, epochs=1, population=2)  # --quick: the pipeline, not the numbers


@dataclass(frozen=True)
class Config:
    """One configuration, the same on both sides."""

    chars: int  # characters of topics.py read from its start
    units: int  # LSTM units per layer
    layers: int  # stacked LSTM layers
    dropout: float  # between layers and before the head (training only)
    bptt: int  # steps of every stream per gradient step, a target at every step
    batch: int  # parallel streams
    epochs: int  # lstmstate's passes over the training part
    population: int  # seeds of lstmstate's speed run (total characters per second over all of them)
    embedding: int  # 0: one-hot input; D: an embedding of D dimensions
    learning_rate: float  # Adam's, both sides
    clip_norm: float | None  # the gradients' global norm clipped to this (None: not clipped)
    seed: int  # torch.manual_seed of the PyTorch run (lstmstate's seeds are 0, 1, ...)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=positive, default=400_000, help="characters of topics.py, from its start")
    parser.add_argument("--units", type=positive, default=128)
    parser.add_argument("--layers", type=positive, default=1)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--bptt", type=positive, default=1)
    parser.add_argument("--batch-size", type=positive, default=32, help="parallel streams, both sides")
    parser.add_argument("--epochs", type=positive, default=3, help="lstmstate's passes; PyTorch gets the same time")
    parser.add_argument("--population", type=positive, default=8, help="seeds of lstmstate's speed run")
    parser.add_argument("--population-epochs", type=positive, default=1,
                        help="passes of the speed run (its characters per second hardly depend on it)")
    parser.add_argument("--embedding", type=int, default=0, help="embedding dimensions (default 0: one-hot)")
    parser.add_argument("--learning-rate", type=float, default=0.001, help="Adam's, Keras's default")
    parser.add_argument("--clip-norm", type=float, default=None)
    parser.add_argument("--seconds", type=float, default=None,
                        help="PyTorch's training seconds (default: lstmstate's 1-seed training seconds)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, choices=(0, 1, 2), default=0,
                        help="torch.set_num_threads; 0 (default): 1 or 2, whichever a short probe finds faster")
    parser.add_argument("--warm-cache", action="store_true", help="use lstmstate's compilation cache as it is")
    parser.add_argument("--quick", action="store_true", help="a smoke run of tiny settings, under a minute")
    parser.add_argument("--json", type=Path, default=None, help="also write every number to this file")
    parser.add_argument("--repeat", type=positive, default=3,
                        help="rounds of (lstmstate 1 seed, lstmstate N seeds, PyTorch), medians reported (default 3)")
    parser.add_argument("--profile", action="store_true",
                        help="then profile one more pass of lstmstate, 1 seed: the XLA operations per time step "
                             "(as bench/breakdown.py; the recording slows it, so its time is not a result)")
    args = parser.parse_args()
    if not 0 <= args.dropout < 1:
        parser.error(f"--dropout: must be in [0, 1), got {args.dropout}")
    if args.profile:
        import breakdown  # noqa: F401  (sets the XLA flag that reports operations, before JAX starts)
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, {"batch": "batch_size"}.get(name, name), value)
        args.population_epochs = 1
        args.repeat = 1
    try:
        import torch  # noqa: F401
    except ImportError:
        raise SystemExit("bench/charlm.py needs PyTorch, which lstmstate does not depend on: "
                         "pip install torch==2.13.0") from None
    config = Config(args.chars, args.units, args.layers, args.dropout, args.bptt, args.batch_size, args.epochs,
                    args.population, args.embedding, args.learning_rate, args.clip_norm, args.seed)
    with tempfile.TemporaryDirectory(prefix="charlm-") as folder:
        if not args.warm_cache:
            os.environ["LSTMSTATE_CACHE_DIR"] = str(Path(folder) / "cache")
        benchmark(config, Path(folder), args)


def topics_text(chars: int) -> tuple[str, str]:
    """The first ``chars`` characters of pydoc_data/topics.py, and where it was read."""
    import pydoc_data.topics

    path = pydoc_data.topics.__file__
    return Path(path).read_text(encoding="utf-8")[:chars], path


# ---------------------------------------------------------------------------------------------
# lstmstate


@dataclass
class LstmstateRun:
    """One ``lstmstate train`` run as the benchmark measured it."""

    seeds: int  # trained at once, 0..seeds-1
    train_seconds: float  # the Trainer.train call: compilation and every step
    compile_seconds: float  # JAX's tracing, lowering and XLA compilation inside it
    pairs: int  # training (input, target) pairs per pass
    epochs: int  # passes over the training part
    accuracy: list[float]  # (seed,) held-out next-character accuracy
    results: dict  # the run's results.json
    ids: object  # (character,) the text as lstmstate's vocabulary ids

    @property
    def chars_per_second(self) -> float:
        return self.pairs * self.epochs * self.seeds / self.train_seconds

    @property
    def steady_chars_per_second(self) -> float:
        return self.pairs * self.epochs * self.seeds / (self.train_seconds - self.compile_seconds)


PLAN_OPTIONS = {  # Config field -> (lstmstate Plan field, the CLI option, its value when off)
    "layers": ("layers", "--layers", 1), "dropout": ("dropout", "--dropout", 0.0), "bptt": ("bptt", "--bptt", 1),
    "embedding": ("embedding", "--embedding", 0), "learning_rate": ("learning_rate", "--learning-rate", 0.001),
    "clip_norm": ("clip_norm", "--clip-norm", None),
}


def plan_options(config: Config, seeds: int, epochs: int) -> dict:
    """The keyword arguments of ``prepare`` (a Plan), with the options this checkout has.
    An option it lacks is an error only when asked for (a value other than its default)."""
    from lstmstate.owndata.plan import Plan

    known = {field.name for field in fields(Plan)}
    plan = dict(framing="stateful-streams", units=config.units, epochs=epochs, batch_size=config.batch,
                seeds=seeds, holdout=HOLDOUT, encoding="auto" if config.embedding else "one-hot")
    for name, (field, option, off) in PLAN_OPTIONS.items():
        value = getattr(config, name)
        if field in known:
            plan[field] = value
        elif value != off:
            raise SystemExit(f"this lstmstate has no {option} yet (Plan has no {field!r}); run without it")
    if "validate_every" in known:
        plan["validate_every"] = epochs  # one held-out evaluation, at the end (its time is not training's)
    return plan


def command_line(config: Config, seeds: int, epochs: int, path: str, out: str) -> str:
    """The ``lstmstate train`` command that trains what ``plan_options`` trains."""
    words = ["lstmstate", "train", "--data", path, "--tokens", "char", "--framing", "stateful-streams",
             "--batch-size", str(config.batch), "--units", str(config.units), "--epochs", str(epochs),
             "--seeds", str(seeds), "--holdout", str(HOLDOUT)]
    words += [] if config.embedding else ["--encoding", "one-hot"]  # an embedding reads ids
    words += ["--validate-every", str(epochs)]
    for name, (_, option, off) in PLAN_OPTIONS.items():
        value = getattr(config, name)
        if value != off:
            words += [option, str(value)]
    return " ".join(words + ["--out", out, "--quiet"])


COMPILE_EVENTS = ("jaxpr_trace_duration", "jaxpr_to_mlir_module_duration", "backend_compile_duration")
compiling = collections.Counter()  # seconds of JAX's compilation events so far (jax.monitoring)


def compile_seconds() -> float:
    return sum(seconds for event, seconds in compiling.items() if event.endswith(COMPILE_EVENTS))


def train_lstmstate(config: Config, path: Path, seeds: int, epochs: int, folder: Path,
                    trace: Path | None = None) -> LstmstateRun:
    """Train seeds 0..seeds-1 through the library, as ``lstmstate train`` does, timing the training
    call (``Trainer.train``) less the held-out evaluation the library runs inside it at the end;
    with ``trace``, the training call is recorded there by the JAX profiler."""
    import jax.profiler

    from lstmstate.core.engine import Trainer
    from lstmstate.owndata import training

    # The class that scores a part for stacked weights: owndata.scoring.Part (the validation and
    # held-out parts), training.HeldOut in checkouts before it.
    try:
        from lstmstate.owndata.scoring import Part as scorer
    except ImportError:
        scorer = training.HeldOut
    timing, training_now = collections.Counter(), [False]
    train, evaluate = Trainer.train, scorer.__call__

    def timed_train(trainer, *positional, **keywords):
        timing["pairs"] = len(trainer.x)
        before, start = compile_seconds(), time.perf_counter()
        training_now[0] = True
        try:
            if trace is None:
                population = train(trainer, *positional, **keywords)
            else:
                with jax.profiler.trace(str(trace)):
                    population = train(trainer, *positional, **keywords)
        finally:
            training_now[0] = False
        timing["seconds"] += time.perf_counter() - start
        timing["compile"] += compile_seconds() - before
        return population

    def timed_evaluate(held_out, *positional, **keywords):
        before, start = compile_seconds(), time.perf_counter()
        scored = evaluate(held_out, *positional, **keywords)
        if training_now[0]:  # the library's evaluation while training: not training time
            timing["seconds"] -= time.perf_counter() - start
            timing["compile"] -= compile_seconds() - before
        return scored

    data, plan, _ = prepare(path, "char", None, None, **plan_options(config, seeds, epochs))
    Trainer.train, scorer.__call__ = timed_train, timed_evaluate
    try:
        outcome = training.run(data, plan, folder)
    finally:
        Trainer.train, scorer.__call__ = train, evaluate
    results = json.loads((folder / "results.json").read_text())
    return LstmstateRun(seeds, timing["seconds"], timing["compile"], timing["pairs"], epochs,
                        [float(s) for s in outcome.scores], results, data.ids)


# ---------------------------------------------------------------------------------------------
# PyTorch, as examples/word_language_model (data.py, model.py, main.py)


def batchify(ids, streams: int):
    """word_language_model's ``batchify``: the sequence cut into ``streams`` contiguous columns.

    With the alphabet and 4 streams::

        ┌ a g m s ┐
        │ b h n t │    columns are streams: a..f, g..l, m..r, s..x;
        │ c i o u │    row t is the t-th step of every stream
        │ d j p v │
        │ e k q w │
        └ f l r x ┘    y and z do not fill a row: dropped
    """
    steps = len(ids) // streams
    return ids[:steps * streams].view(streams, steps).t().contiguous()  # (step, stream)


def repackage_hidden(hidden):
    """Detach the hidden state from the graph of the chunk that made it: the state goes on to the
    next chunk, its gradient stops here (truncated BPTT)."""
    import torch

    if isinstance(hidden, torch.Tensor):
        return hidden.detach()
    return tuple(repackage_hidden(h) for h in hidden)


def char_model(vocabulary: int, config: Config):
    """word_language_model's RNNModel with lstmstate's input and dropout: one-hot (or an
    embedding) into stacked LSTM layers, dropout between them and before the decoder."""
    import torch
    from torch import nn

    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocabulary, config.embedding) if config.embedding else None
            inputs = config.embedding or vocabulary
            self.rnn = nn.LSTM(inputs, config.units, config.layers, dropout=config.dropout if config.layers > 1 else 0)
            self.drop = nn.Dropout(config.dropout)
            self.decoder = nn.Linear(config.units, vocabulary)
            # word_language_model's init_weights: the encoder and decoder uniform in +-0.1, no bias.
            if self.embedding is not None:
                nn.init.uniform_(self.embedding.weight, -0.1, 0.1)
            nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
            nn.init.zeros_(self.decoder.bias)

        def forward(self, ids, hidden):  # ids (step, stream)
            if self.embedding is not None:
                inputs = self.embedding(ids)  # (step, stream, embedding)
            else:
                inputs = nn.functional.one_hot(ids, vocabulary).float()  # (step, stream, vocabulary)
            output, hidden = self.rnn(inputs, hidden)  # (step, stream, units)
            return self.decoder(self.drop(output)), hidden  # logits (step, stream, vocabulary)

        def init_hidden(self, streams: int):
            zeros = torch.zeros(config.layers, streams, config.units)
            return zeros, zeros.clone()

    return CharLSTM()


@dataclass
class TorchRun:
    """The PyTorch model's run."""

    seconds: float  # training only
    chars: int  # training targets read, over every pass
    passes: float  # passes over the training part (a last partial one counts its share)
    threads: int  # torch.set_num_threads
    accuracy: float | None  # held-out next-character accuracy (None: not scored)


def train_torch(config: Config, ids, train_items: int, seconds: float, threads: int,
                passes_at_least: int = 1, score: bool = True, fit_items: int | None = None) -> TorchRun:
    """Train for ``seconds`` (at least ``passes_at_least`` full passes) as word_language_model's
    ``train()`` on the first ``fit_items`` items (lstmstate's fitting part; default all
    ``train_items``), then score the held-out part, from ``train_items`` on, as lstmstate scores
    it (when ``score``)."""
    import torch
    from torch import nn

    torch.set_num_threads(threads)
    torch.manual_seed(config.seed)
    vocabulary = int(ids.max()) + 1
    model = char_model(vocabulary, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, eps=1e-7)  # Keras's epsilon
    criterion = nn.CrossEntropyLoss()  # the mean over every step of every stream

    # The training pairs lstmstate trains on (framed.frame): sample i reads character i and
    # predicts i+1; the first (pairs % streams) are dropped so that every stream is full.
    pairs = (fit_items or train_items) - 1
    first = pairs % config.batch
    inputs = batchify(ids[first:pairs], config.batch)  # (step, stream)
    targets = batchify(ids[first + 1:pairs + 1], config.batch)  # (step, stream)
    steps = len(inputs)

    def finish(elapsed: float, passes: float) -> TorchRun:
        return TorchRun(elapsed, chars, passes, threads, score_torch(model, ids, train_items, config) if score else None)

    model.train()
    chars, passes, start = 0, 0.0, time.perf_counter()
    while True:
        hidden = model.init_hidden(config.batch)  # reset when an epoch starts
        for i in range(0, steps, config.bptt):  # get_batch: the last chunk may be shorter
            chunk = slice(i, min(i + config.bptt, steps))
            hidden = repackage_hidden(hidden)  # the state carries on, its gradient stops here
            model.zero_grad()
            logits, hidden = model(inputs[chunk], hidden)
            loss = criterion(logits.reshape(-1, vocabulary), targets[chunk].reshape(-1))
            loss.backward()
            if config.clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), config.clip_norm)
            optimizer.step()
            chars += targets[chunk].numel()
            elapsed = time.perf_counter() - start
            if passes >= passes_at_least and elapsed >= seconds:
                return finish(elapsed, passes + chunk.stop / steps)
        passes += 1
        if time.perf_counter() - start >= seconds:
            return finish(time.perf_counter() - start, passes)


def probe_threads(config: Config, ids, train_items: int, seconds: float,
                  fit_items: int | None = None) -> dict[int, float]:
    """PyTorch's training characters per second on 1 and on 2 threads, alternated twice, the better
    of each kept: on a shared machine two threads can be many times slower than one (a parallel
    operation waits for the thread another process has descheduled), so PyTorch gets the faster."""
    rates = collections.defaultdict(float)
    for threads in (1, 2, 1, 2):
        run = train_torch(config, ids, train_items, seconds, threads, passes_at_least=0, score=False,
                          fit_items=fit_items)
        rates[threads] = max(rates[threads], run.chars / run.seconds)
    return dict(rates)


def score_torch(model, ids, train_items: int, config: Config) -> float:
    """Held-out accuracy as lstmstate scores a carried-state model (framed.frame, prediction.predict):
    every pair of the whole text, the first (pairs % streams) dropped, cut into the training's
    number of streams, read from zero state with the state carried; scored on the pairs whose
    target is held out. Streams that start in the training part read the held-out part warm."""
    import torch

    pairs = len(ids) - 1
    first = pairs % config.batch
    inputs = batchify(ids[first:pairs], config.batch)  # (step, stream)
    targets = batchify(ids[first + 1:], config.batch)
    # The position in the text of each target: held out from train_items on.
    positions = batchify(torch.arange(first + 1, len(ids)), config.batch)
    model.eval()
    correct = scored = 0
    with torch.no_grad():
        hidden = model.init_hidden(config.batch)
        for i in range(0, len(inputs), 1000):
            logits, hidden = model(inputs[i:i + 1000], hidden)
            held = positions[i:i + 1000] >= train_items
            correct += int(((logits.argmax(-1) == targets[i:i + 1000]) & held).sum())
            scored += int(held.sum())
    if scored != len(ids) - train_items:
        raise RuntimeError(f"scored {scored} held-out characters, expected {len(ids) - train_items}")
    return correct / scored


# ---------------------------------------------------------------------------------------------


def benchmark(config: Config, folder: Path, args) -> None:
    sys.path.insert(0, str(CHECKOUT_SRC))  # measure this checkout, not whichever lstmstate is installed
    started = time.perf_counter()
    import lstmstate  # noqa: F401  (the JAX backend and device flags, before anything imports JAX)
    import jax
    import jax.monitoring

    jax.monitoring.register_event_duration_secs_listener(
        lambda event, seconds, **_: compiling.update({event: seconds}))
    import torch

    text, source = topics_text(config.chars)
    path = folder / "topics.txt"
    path.write_text(text, encoding="utf-8")
    print(f"text: the first {len(text):,} characters of {source} (Python {platform.python_version()}), "
          f"{len(set(text))} distinct; the last {HOLDOUT:.0%} held out")
    print(f"configuration: {config}")
    print(f"torch {torch.__version__}; jax {jax.__version__} on "
          f"{len(jax.devices())} host devices; compilation cache {'as it is' if args.warm_cache else 'empty'}\n")

    rounds, threads = [], args.threads
    for number in range(1, args.repeat + 1):
        # Both sides in each round, one after the other, so a load that comes and goes falls on both;
        # rounds after the first read the compilation cache the first wrote, as a second run would.
        print(f"round {number} of {args.repeat}", flush=True)
        print("lstmstate, 1 seed: " + command_line(config, 1, config.epochs, "TEXT", "RUN"), flush=True)
        try:
            single = train_lstmstate(config, path, 1, config.epochs, folder / f"one-{number}")
        except ValueError as error:  # a choice lstmstate refuses (--bptt longer than a stream, ...): its one line
            raise SystemExit(f"lstmstate: {error}") from None
        print(f"  {single.train_seconds:.1f} s training ({single.compile_seconds:.1f} s of it compiling), "
              f"held-out accuracy {single.accuracy[0]:.2%}", flush=True)
        print(f"lstmstate, {config.population} seeds: "
              + command_line(config, config.population, args.population_epochs, "TEXT", "RUN"), flush=True)
        population = train_lstmstate(config, path, config.population, args.population_epochs,
                                     folder / f"population-{number}")
        print(f"  {population.train_seconds:.1f} s training ({population.compile_seconds:.1f} s of it compiling)",
              flush=True)

        train_items = single.results["data"]["train_items"]
        # lstmstate learns from the fitting part (the validation part after it chooses, the held-out
        # part is scored): PyTorch learns from the same pairs. Checkouts before the validation part have none.
        fit_items = single.results["data"].get("fit_items", train_items)
        ids = torch.as_tensor(single.ids, dtype=torch.long)  # lstmstate's own ids of the characters
        if not threads:
            rates = probe_threads(config, ids, train_items, 0.5 if args.quick else 3.0, fit_items)
            threads = max(rates, key=rates.get)
            print("PyTorch's threads: " + ", ".join(f"{n} thread(s) {rate:,.0f} chars/s" for n, rate in rates.items())
                  + f" in a probe; {threads} used", flush=True)
        budget = args.seconds if args.seconds is not None else single.train_seconds
        print(f"PyTorch: {budget:.1f} s of training (at least one pass), word_language_model's loop", flush=True)
        pytorch = train_torch(config, ids, train_items, budget, threads, fit_items=fit_items)
        print(f"  {pytorch.seconds:.1f} s training, {pytorch.passes:.2f} passes, "
              f"held-out accuracy {pytorch.accuracy:.2%}\n", flush=True)
        rounds.append(Round(single, population, pytorch))

    report(config, rounds, time.perf_counter() - started, args)
    if args.profile:
        profile(config, path, folder)


def profile(config: Config, path: Path, folder: Path) -> None:
    """Where lstmstate's 1-seed training time goes: compilation against steps, and the XLA
    operations of one more pass, per time step (a batch of every stream)."""
    from breakdown import operations

    print(f"\nprofile: lstmstate, 1 seed, 1 pass, recorded by the JAX profiler")
    run = train_lstmstate(config, path, 1, 1, folder / "profiled", trace=folder / "trace")
    timesteps = run.pairs // config.batch
    print(f"  {run.train_seconds:.1f} s training, {run.compile_seconds:.1f} s of it compiling; "
          f"{(run.train_seconds - run.compile_seconds) / timesteps * 1e6:.0f} us per time step of {config.batch} "
          f"streams ({timesteps:,} time steps, {timesteps / config.bptt:,.0f} gradient steps)")
    operations(str(folder / "trace"), timesteps, 12)


@dataclass
class Round:
    """One round: both sides, one after the other."""

    single: LstmstateRun
    population: LstmstateRun
    pytorch: TorchRun

    @property
    def torch_rate(self) -> float:
        return self.pytorch.chars / self.pytorch.seconds


def flops_per_char(config: Config, vocabulary: int) -> float:
    """Floating-point operations of one training character (one target) of one seed: the matrix
    products only (2 per multiply-add), forward and backward (the backward pass takes the
    product's two gradients, twice the forward's). One-hot input is a gather of kernel rows, no
    product; an embedding's first layer multiplies D inputs; later layers multiply U.

        per layer   input U (or D) x 4U, recurrent U x 4U;  head U x vocabulary;  x 2 x 3
    """
    units, gates = config.units, 4 * config.units
    forward = config.layers * units * gates  # recurrent kernels
    forward += (config.layers - 1) * units * gates + config.embedding * gates  # input kernels after the first
    forward += units * vocabulary  # the head
    return 2 * 3 * forward


def peak_flops() -> float:
    """The machine's measured peak: float32 products of 2048 x 2048, on one host device and on
    every one at once (every core busy), the best of 5 of each."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    n, best = 2048, 0.0
    devices = jax.devices()
    for count in sorted({1, len(devices)}):
        sharding = NamedSharding(Mesh(np.array(devices[:count]), ("device",)), PartitionSpec("device"))
        a = jax.device_put(jnp.ones((count, n, n), jnp.float32), sharding)
        product = jax.jit(lambda a: jnp.einsum("dij,djk->dik", a, a))
        product(a).block_until_ready()
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(4):
                result = product(a)
            result.block_until_ready()
            best = max(best, 4 * count * 2 * n ** 3 / (time.perf_counter() - start))
    return best


def report(config: Config, rounds: list[Round], total_seconds: float, args) -> None:
    single, population, pytorch = rounds[0].single, rounds[0].population, rounds[0].pytorch
    torch_rate = median(r.torch_rate for r in rounds)
    vocabulary = int(single.ids.max()) + 1
    per_char, peak = flops_per_char(config, vocabulary), peak_flops()
    print(f"training characters per second, median of {len(rounds)} round(s); "
          f"{per_char / 1e6:.2f} MFLOP per character (matrix products, forward and backward)")
    print(f"{'':44} {'with compile':>12} {'steps only':>12} {'/ PyTorch':>10} {'of peak':>8}")
    rates = {}  # "single", "population" -> (median characters/s with compile, steps only), each / PyTorch's
    for key, name, runs in (("single", f"lstmstate, 1 seed", [r.single for r in rounds]),
                            ("population", f"lstmstate, {population.seeds} seeds (total)",
                             [r.population for r in rounds])):
        rate = median(run.chars_per_second for run in runs)
        steady = median(run.steady_chars_per_second for run in runs)
        rates[key] = (rate / torch_rate, steady / torch_rate)
        print(f"  {name:42} {rate:12,.0f} {steady:12,.0f} "
              f"{rate / torch_rate:9.2f}x ({steady / torch_rate:.2f}x steps only) {steady * per_char / peak:7.0%}")
    threads = pytorch.threads
    print(f"  {f'PyTorch, {threads} thread(s)':42} {torch_rate:12,.0f} {'':12} {1:9.2f}x"
          f" {torch_rate * per_char / peak:7.0%}")
    print(f"  (peak {peak / 1e9:,.1f} GFLOP/s measured; 'of peak' is the steps' matrix-product FLOP rate over it)")

    single_accuracy = median(r.single.accuracy[0] for r in rounds)
    torch_accuracy = median(r.pytorch.accuracy for r in rounds)
    print(f"\nheld-out next-character accuracy ({single.results['data']['held_out_items']:,} characters), "
          f"median of {len(rounds)}")
    print(f"  lstmstate, 1 seed, {single.epochs} passes in {median(r.single.train_seconds for r in rounds):.1f} s"
          f"   {single_accuracy:8.2%}")
    print(f"  PyTorch, {median(r.pytorch.passes for r in rounds):.2f} passes in "
          f"{median(r.pytorch.seconds for r in rounds):.1f} s          {torch_accuracy:8.2%}"
          f"   lstmstate minus PyTorch {100 * (single_accuracy - torch_accuracy):+.2f} points")
    if any(r.pytorch.seconds > 1.05 * r.single.train_seconds for r in rounds) and args.seconds is None:
        print(f"  (in some round PyTorch's one full pass took longer than lstmstate's training: "
              "the time is not equal, in PyTorch's favour)")
    population_mean = sum(population.accuracy) / len(population.accuracy)
    print(f"  lstmstate, {population.seeds} seeds, {population.epochs} passes (mean)  {population_mean:8.2%}")
    baselines = [b for b in single.results["baselines"] if b.get("metric") == "accuracy"]
    for baseline in baselines:
        print(f"  {baseline['name']:38} {baseline['score']:8.2%}   (lstmstate's baseline, same held-out characters)")
    print(f"  memoryless ceiling                     {single.results['memoryless_ceiling']:8.2%}")
    best = max(baselines, key=lambda b: b["score"])

    print("\ntargets")
    one, one_steady = rates["single"]
    print(f"  1 seed at least 1.5x PyTorch's training characters per second: "
          f"{'met' if one >= 1.5 else 'met on steps only' if one_steady >= 1.5 else 'NOT met'} "
          f"({one:.2f}x with compile, {one_steady:.2f}x steps only)")
    equal = single_accuracy >= torch_accuracy
    print(f"  1 seed at least PyTorch's accuracy at equal time (bptt {config.bptt}): "
          f"{'met' if equal else 'NOT met'} ({single_accuracy:.2%} against {torch_accuracy:.2%})")
    ratio, steady = rates["population"]
    print(f"  {population.seeds} seeds at least 4x PyTorch's training characters per second: "
          f"{'met' if ratio >= 4 else 'met on steps only' if steady >= 4 else 'NOT met'} "
          f"({ratio:.2f}x with compile, {steady:.2f}x steps only; 4x PyTorch is "
          f"{4 * torch_rate * per_char / peak:.0%} of the measured peak)")
    beats = single_accuracy > best["score"]
    print(f"  beats the {best['name']} within {single.train_seconds / 60:.1f} minutes: "
          f"{'yes' if beats else 'no'} ({single_accuracy:.2%} against {best['score']:.2%}, "
          f"{100 * (single_accuracy - best['score']):+.2f} points)")
    print(f"\n(the whole benchmark: {total_seconds:.0f} s)")
    if args.json is not None:
        args.json.write_text(json.dumps({
            "config": config.__dict__, "python": platform.python_version(), "peak_flops": peak,
            "flops_per_char": per_char, "torch_chars_per_second": torch_rate, "baselines": baselines,
            "rounds": [{"lstmstate_1": {**r.single.__dict__, "results": None, "ids": None},
                        "lstmstate_population": {**r.population.__dict__, "results": None, "ids": None},
                        "pytorch": r.pytorch.__dict__} for r in rounds],
        }, indent=1))


if __name__ == "__main__":
    main()
