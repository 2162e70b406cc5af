"""Generation speed: the seconds to generate 2,000 symbols from a char model trained on a real
text, from loading the run folder to the last symbol printed (imports and process start left
out; model building and compiling included), for a model of carried state (stateful-streams) and
a window model (window-timesteps, window 10), at temperature 0 and sampled.

Each measurement runs in a fresh process, median of ``--repeats``, with lstmstate's persistent
JAX compilation cache in three states: "empty" (everything compiled in the process: the model's
initializers and the generation program), "after train" (the cache as ``train`` left it: what the
first ``generate`` after training costs; the generation program is compiled), and "warm" (the
cache that run filled: every later run). Beside them, the time of one compiled call per symbol, as
generation was made before it was compiled in blocks. The load average is printed with them: on a
shared machine every figure grows with it.

The text is Python's own ``Lib/pydoc_data/topics.py`` (the help topics; it ships with every
Python, and nobody here wrote it), its first ``--chars`` characters.

Usage::

    python bench/generation.py                    # a few minutes on 2 cores
    python bench/generation.py --repeats 5 --symbols 2000 --chars 200000
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pydoc_data

TOPICS = Path(pydoc_data.__file__).parent / "topics.py"
FRAMINGS = {"stateful-streams": [], "window-timesteps": ["--window", "10"]}

# Run in a fresh process: imports first (not timed), then load, build, compile and generate.
MEASURE = """
import json, os, sys, time
import numpy as np
from lstmstate.trained import generation
from lstmstate.trained.saved import load
from lstmstate.trained.sampling import Sampling
folder, symbols, temperature, mode = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
out = open(os.devnull, "w")
begin, cpu = time.perf_counter(), time.process_time()
saved = load(folder)
context = list("The ")
first = None
if mode == "blocks":
    for block in saved.generate_blocks(context[-1], symbols, context[:-1], 0, Sampling(temperature, 1)):
        out.write("".join(step.predicted for step in block))
        out.flush()
        first = first or time.perf_counter() - begin
else:  # one compiled call per symbol, argmax in numpy: generation before the compiled blocks
    step_model = generation.StepModel(saved.spec, saved.member_weights(0))
    state, _ = generation.feed(step_model, saved.encoding, saved.vocabulary.encode(context[:-1]))
    current = int(saved.vocabulary.encode(context[-1:])[0])
    for _ in range(symbols):
        state, (current,) = generation.feed(step_model, saved.encoding, [current], state)
        out.write(saved.vocabulary.symbols[current])
        out.flush()
        first = first or time.perf_counter() - begin
print(json.dumps({"seconds": time.perf_counter() - begin, "cpu": time.process_time() - cpu, "first": first}))
"""


def lstmstate(*args, cache: Path) -> None:
    env = {**os.environ, "LSTMSTATE_CACHE_DIR": str(cache)}
    subprocess.run([sys.executable, "-m", "lstmstate", *map(str, args)], check=True, capture_output=True, env=env)


def measure(folder: Path, symbols: int, temperature: float, mode: str, cache: Path) -> dict:
    env = {**os.environ, "LSTMSTATE_CACHE_DIR": str(cache)}
    result = subprocess.run([sys.executable, "-c", MEASURE, str(folder), str(symbols), str(temperature), mode],
                            check=True, capture_output=True, text=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--symbols", type=int, default=2000, help="symbols generated per measurement")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per measurement (the median is shown)")
    parser.add_argument("--chars", type=int, default=100_000, help="characters of topics.py trained on")
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        text = scratch / "topics.txt"
        text.write_text(TOPICS.read_text(encoding="utf-8")[: args.chars], encoding="utf-8")
        print(f"text: {TOPICS}, first {args.chars} characters; {args.symbols} symbols per generation, "
              f"seconds from loading the run to the last symbol; median of {args.repeats} fresh processes; "
              f"load average {os.getloadavg()[0]:.1f}")
        print("seconds, and in brackets CPU seconds of the process (what contention for the cores does not add)")
        print(f"{'model':<18} {'how':<26} {'empty':>14} {'after train':>14} {'warm':>14} {'first block (warm)':>19}")
        for framing, extra in FRAMINGS.items():
            run, trained_cache = scratch / framing, scratch / f"trained-cache-{framing}"
            started = time.perf_counter()
            lstmstate("train", "--data", text, "--framing", framing, *extra, "--epochs", args.epochs, "--seeds", 2,
                      "--out", run, "--quiet", cache=trained_cache)
            print(f"{framing:<18} trained in {time.perf_counter() - started:.1f} s (2 seeds, {args.epochs} epochs)")
            ways = [("blocks", 0.0, "compiled, temperature 0"), ("blocks", 0.8, "compiled, temperature 0.8")]
            if framing == "stateful-streams":
                ways.append(("calls", 0.0, "a call per symbol, argmax"))
            for mode, temperature, how in ways:
                runs = {"empty": [], "after train": [], "warm": []}
                for repeat in range(args.repeats):
                    empty = scratch / f"empty-{framing}-{mode}-{temperature}-{repeat}"
                    runs["empty"].append(measure(run, args.symbols, temperature, mode, empty))
                    cache = shutil.copytree(trained_cache, scratch / f"cache-{framing}-{mode}-{temperature}-{repeat}")
                    runs["after train"].append(measure(run, args.symbols, temperature, mode, cache))
                    runs["warm"].append(measure(run, args.symbols, temperature, mode, cache))  # the cache just filled
                cells = [f"{statistics.median(r['seconds'] for r in runs[name]):6.2f} "
                         f"({statistics.median(r['cpu'] for r in runs[name]):5.2f})" for name in runs]
                first = statistics.median(r["first"] for r in runs["warm"])
                print(f"{'':<18} {how:<26} {cells[0]:>14} {cells[1]:>14} {cells[2]:>14} {first:19.3f}")
        print(f"load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
