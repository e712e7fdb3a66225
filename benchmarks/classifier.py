"""Classifier speed and size: `python benchmarks/classifier.py`.

Prints train time, artifact size, model load time (in this process, and in a fresh one with the
lemmatizer's dictionaries and the resident memory it adds), single-message predict latency
(p50/p99; "new texts" are scored with the score cache emptied, as a message never seen) and
peak memory. Targets: predict p50 < 5 ms, load < 1 s, at most +150 MB resident, artifact < 10 MB.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier import Classifier, load_jsonl  # noqa: E402

DEV_SET = Path(__file__).resolve().parents[1] / "data" / "dev.jsonl"
MESSAGE = "после обновления main 23.300 белый экран, сайт не открывается, 500 на всех страницах"


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


# Loads the model in a fresh interpreter: the time and the resident memory it adds.
_FRESH_LOAD = """
import sys, time
from pathlib import Path
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
import numpy, sklearn, skops.io  # what any process of the desk has imported already
from classifier import Classifier
before = rss(); started = time.perf_counter()
Classifier.load(Path(sys.argv[1])).predict("сайт не открывается")
print(time.perf_counter() - started, rss() - before)
"""


def _fresh_load(model_dir: Path) -> tuple[float, float]:
    out = subprocess.run(
        [sys.executable, "-c", _FRESH_LOAD, str(model_dir)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout.split()
    return float(out[0]), float(out[1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp)
        started = time.perf_counter()
        Classifier.train(model_dir=model_dir)
        train_s = time.perf_counter() - started
        size = sum(p.stat().st_size for p in model_dir.iterdir())

        loads = []
        for _ in range(7):
            started = time.perf_counter()
            model = Classifier.load(model_dir)
            loads.append(time.perf_counter() - started)

        fresh_s, fresh_mb = _fresh_load(model_dir)
        tracemalloc.start()
        Classifier.load(model_dir)
        _, load_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

    for _ in range(200):  # warm up
        model.predict(MESSAGE)
    one = []
    for _ in range(5000):
        started = time.perf_counter()
        model.predict(MESSAGE)
        one.append(time.perf_counter() - started)
    texts = [ex.text for ex in load_jsonl(DEV_SET)]
    varied = []
    for text in texts * 3:
        model._scores.cache_clear()  # a message never seen: nothing cached for it
        started = time.perf_counter()
        model.predict(text)
        varied.append(time.perf_counter() - started)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"train time              {train_s:8.2f} s  ({model.metadata['n_examples']} phrases)")
    print(f"artifact size           {size / 1e6:8.2f} MB (skops + metadata)")
    print(f"model load (median)     {statistics.median(loads) * 1e3:8.1f} ms")
    print(f"predict one message p50 {_percentile(one, 0.5) * 1e3:8.3f} ms")
    print(f"predict one message p99 {_percentile(one, 0.99) * 1e3:8.3f} ms")
    print(f"fresh process load      {fresh_s * 1e3:8.1f} ms, +{fresh_mb:.1f} MB resident")
    print(f"predict new texts   p50 {_percentile(varied, 0.5) * 1e3:8.3f} ms")
    print(f"predict new texts   p99 {_percentile(varied, 0.99) * 1e3:8.3f} ms")
    print(f"peak memory of a load   {load_peak / 1e6:8.1f} MB (tracemalloc)")
    print(f"peak process RSS        {rss_mb:8.1f} MB (includes training)")


if __name__ == "__main__":
    main()
