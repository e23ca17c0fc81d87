"""Latency and throughput of the Python sandbox, side by side with its alternatives, in one run.

For two snippets (a tiny one and a typical ~30-line one) it measures the p50 and p95 latency of

* ``sandbox``: ``PythonSandbox.run`` (warm pool, fork per snippet, every isolation layer);
* ``subprocess``: a fresh ``python -c`` per snippet (what a naive verifier does, no isolation);
* ``exec``: in-process ``exec`` of our own trusted benchmark snippet (the floor, no isolation);

then the sustained throughput of the typical snippet with 1 and 2 workers (as many client threads
as workers), the resident memory of the worker processes, and the ratio sandbox / subprocess.

Arguments:
    --reps N                 latency samples per snippet for sandbox and exec (default 200)
    --subprocess-reps N      latency samples per snippet for subprocess (default 40)
    --throughput-seconds S   duration of each throughput measurement (default 3.0)
    --workers LIST           comma-separated worker counts for throughput (default "1,2")
    --namespaces MODE        auto | on | off: bubblewrap namespaces for the sandbox (default auto)
    --json PATH              also write every number as JSON to PATH

Example:
    python benchmarks/sandbox_bench.py --reps 300 --json bench.json

Targets on a 2-core machine: tiny-snippet sandbox p50 at most 1/5 of the subprocess p50, and at
least 200 typical snippets per second sustained with 2 workers.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from langgames.verifiers.python import PythonSandbox

TINY = "print(1 + 1)"

TYPICAL = """
import math
from collections import Counter

def primes(limit):
    sieve = [True] * (limit + 1)
    sieve[0] = sieve[1] = False
    for i in range(2, int(math.isqrt(limit)) + 1):
        if sieve[i]:
            for j in range(i * i, limit + 1, i):
                sieve[j] = False
    return [i for i, is_prime in enumerate(sieve) if is_prime]

def digit_histogram(numbers):
    counts = Counter()
    for n in numbers:
        counts.update(str(n))
    return dict(sorted(counts.items()))

class Stats:
    def __init__(self, values):
        self.values = list(values)

    def mean(self):
        return sum(self.values) / len(self.values)

    def spread(self):
        return max(self.values) - min(self.values)

found = primes(2000)
stats = Stats(found)
print(len(found), round(stats.mean(), 3), stats.spread())
print(digit_histogram(found[:50]))
"""

SNIPPETS = {"tiny": TINY, "typical": TYPICAL}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50_ms": pick(0.50) * 1e3, "p95_ms": pick(0.95) * 1e3, "n": len(ordered)}


def time_calls(fn: Callable[[], Any], reps: int) -> list[float]:
    samples = []
    for _ in range(reps):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def run_exec(code: str) -> None:
    exec(compile(code, "<bench>", "exec"), {"__name__": "__main__", "print": lambda *a: None})  # noqa: S102 - our own snippet: the in-process floor


def run_subprocess(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


def worker_rss_mib(sandbox: PythonSandbox) -> dict[str, float]:
    """Resident memory of the sandbox's processes, from /proc (python workers and bwrap)."""
    python: list[float] = []
    other: list[float] = []
    for pid in sandbox.worker_pids():
        try:
            with open(f"/proc/{pid}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
        except OSError:
            continue
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) / 1024
        (python if "python" in fields.get("Name", "") else other).append(rss)
    return {
        "python_worker_mib": round(statistics.mean(python), 1) if python else 0.0,
        "helpers_mib": round(sum(other), 1),
        "total_mib": round(sum(python) + sum(other), 1),
    }


def throughput(workers: int, seconds: float, namespaces: bool | None) -> dict[str, float]:
    with PythonSandbox(workers=workers, namespaces=namespaces) as sandbox:
        for _ in range(workers * 3):
            sandbox.run(TYPICAL)  # warm up every worker
        done = [0] * workers
        failures = [0] * workers
        stop = time.perf_counter() + seconds

        def client(index: int) -> None:
            while time.perf_counter() < stop:
                if not sandbox.run(TYPICAL).ok:
                    failures[index] += 1
                done[index] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(workers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        memory = worker_rss_mib(sandbox)
    return {"workers": workers, "per_second": sum(done) / elapsed, "failures": sum(failures),
            **memory}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--subprocess-reps", type=int, default=40)
    parser.add_argument("--throughput-seconds", type=float, default=3.0)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--namespaces", choices=("auto", "on", "off"), default="auto")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args(argv)
    namespaces = {"auto": None, "on": True, "off": False}[args.namespaces]
    worker_counts = [int(n) for n in args.workers.split(",") if n.strip()]

    latency: dict[str, dict[str, dict[str, float]]] = {}
    with PythonSandbox(workers=1, namespaces=namespaces) as sandbox:
        layers = [row["layer"] for row in sandbox.isolation_report() if row["active"]]
        for name, code in SNIPPETS.items():
            assert sandbox.run(code).ok
            methods: list[tuple[str, Callable[[], Any], int]] = [
                ("exec", functools.partial(run_exec, code), args.reps),
                ("sandbox", functools.partial(sandbox.run, code), args.reps),
                ("subprocess", functools.partial(run_subprocess, code), args.subprocess_reps),
            ]
            latency[name] = {m: percentiles(time_calls(fn, reps)) for m, fn, reps in methods}
    rates = [throughput(n, args.throughput_seconds, namespaces) for n in worker_counts]

    print(f"Python sandbox benchmark ({os.cpu_count()} cores, layers: {', '.join(layers)})\n")
    print(f"{'snippet':<9} {'method':<11} {'p50 ms':>9} {'p95 ms':>9} {'n':>5}")
    for name, methods_result in latency.items():
        for method, row in methods_result.items():
            print(
                f"{name:<9} {method:<11} {row['p50_ms']:>9.3f} {row['p95_ms']:>9.3f} {row['n']:>5}"
            )
    ratios = {
        name: rows["sandbox"]["p50_ms"] / rows["subprocess"]["p50_ms"]
        for name, rows in latency.items()
    }
    shown = (f"{name} {ratio:.3f} (1/{1 / ratio:.1f})" for name, ratio in ratios.items())
    print("\nratio sandbox p50 / subprocess p50: " + ", ".join(shown))
    print("\nsustained throughput, typical snippet:")
    for rate in rates:
        print(f"  {rate['workers']} worker(s): {rate['per_second']:7.1f} snippets/s, "
              f"{rate['failures']} failures; RSS per python worker {rate['python_worker_mib']} MiB,"
              " "
              f"all sandbox processes {rate['total_mib']} MiB")  # fmt: skip
    best = max((r["per_second"] for r in rates), default=0.0)
    targets = {
        "tiny_ratio_at_most_0.2": ratios["tiny"] <= 0.2,
        "throughput_at_least_200_per_s": best >= 200,
    }
    print("\ntargets: " + ", ".join(f"{k}: {'PASS' if v else 'MISS'}" for k, v in targets.items()))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"latency": latency, "ratios": ratios, "throughput": rates,
                       "layers": layers, "targets": targets}, fh, indent=2)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
