"""Cost of the classical baselines on a large text: time and peak memory of the n-gram models
(backoff argmax and Kneser-Ney, orders chosen on the last 20% of the training part) as ``train``
runs them, on real text that ships with Python: the standard library's own sources.

Usage::

    python bench/baselines.py                    # 10 MB of the standard library, char tokens
    python bench/baselines.py --megabytes 1 --repeats 3

Each repeat runs in a fresh subprocess, so peak memory (ru_maxrss) is that repeat's own; the
process reads the text, builds the vocabulary and fits every symbol baseline, as ``train`` does
after it trains. Prints the median time, the largest peak of the process, and the largest peak
above what the process held before the baselines started (what the baselines themselves cost).
"""

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import sysconfig
import tempfile

CHILD = """
import json, resource, sys, time
from pathlib import Path
import numpy as np
start = time.perf_counter()
from lstmstate.owndata import baselines, dataset
from lstmstate.owndata.split import split
data = dataset.read(Path(sys.argv[1]), "char")
held = split(data.items, 0.2)
loaded = time.perf_counter()
resident = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize() / 2 ** 20  # MiB now
found = baselines.for_symbols(data.ids, held, data.vocabulary.size, np.arange(held.train_items, data.items))
done = time.perf_counter()
print(json.dumps({"items": data.items, "vocabulary": data.vocabulary.size, "read_seconds": loaded - start,
                  "baseline_seconds": done - loaded, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "before_mib": resident,
                  "baselines": [[b.name, round(b.score, 4)] for b in found]}))
"""


def standard_library_text(megabytes: float) -> str:
    """The standard library's Python sources, concatenated in sorted path order, cut to size."""
    root = pathlib.Path(sysconfig.get_paths()["stdlib"])
    wanted, parts, size = int(megabytes * 1_000_000), [], 0
    for path in sorted(root.rglob("*.py")):
        if "site-packages" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="ignore")
        parts.append(text)
        size += len(text)
        if size >= wanted:
            break
    return "".join(parts)[:wanted]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=10.0)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = pathlib.Path(folder) / "stdlib.txt"
        path.write_text(standard_library_text(args.megabytes), encoding="utf-8")
        runs = [json.loads(subprocess.run([sys.executable, "-c", CHILD, str(path)], check=True, text=True,
                                          capture_output=True).stdout) for _ in range(args.repeats)]
    first = runs[0]
    print(f"{first['items']:,} characters ({first['vocabulary']} distinct), last 20% held out")
    for name, score in first["baselines"]:
        print(f"  {name:<28} {score}")
    seconds = statistics.median(r["baseline_seconds"] for r in runs)
    print(f"baselines: median {seconds:.1f} s over {len(runs)} runs "
          f"({', '.join('%.1f' % r['baseline_seconds'] for r in runs)}); "
          f"reading the text {statistics.median(r['read_seconds'] for r in runs):.1f} s; "
          f"peak memory of the whole process {max(r['peak_mib'] for r in runs):.0f} MiB, of which "
          f"{max(r['before_mib'] for r in runs):.0f} MiB were in use before the baselines started "
          f"(Python, JAX and Keras imported, the text read): the baselines took at most "
          f"{max(r['peak_mib'] - r['before_mib'] for r in runs):.0f} MiB")


if __name__ == "__main__":
    main()
