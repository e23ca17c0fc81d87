"""Throughput of `langgames bench` with 1 and 2 worker processes, side by side in one run.

Usage::

    python benchmarks/bench_scaling.py [--game ID] [--episodes N] [--policy SPEC]

Arguments:
    --game      a CPU-bound game (default CodeBreaker-v0: pure Python, in-process)
    --episodes  episodes per difficulty (default 1000)
    --policy    policies to run (default reference,random)
    --no-ceiling  skip measuring the machine's own 2-process speed-up on pure CPU work (other
                  load on the machine lowers both numbers alike)

Both runs use the process executor (spawned workers, startup included) and the same seed; the
script checks that their episodes are identical apart from timings and prints the speed-up.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


def _strip(value):  # type: ignore[no-untyped-def]
    from langgames.verifiers.verdict import TIMING_KEYS

    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in TIMING_KEYS | {"seconds"}}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _spin(n: int) -> int:
    total = 0
    for i in range(n):
        total += i * i
    return total


def machine_ceiling(n: int = 10_000_000) -> float:
    """The speed-up two spawned processes get on pure CPU work right now (other load counts)."""
    import multiprocessing as mp

    start = time.perf_counter()
    _spin(n)
    _spin(n)
    serial = time.perf_counter() - start
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(_spin, [1, 1])  # start the workers before timing
        start = time.perf_counter()
        pool.map(_spin, [n, n])
        parallel = time.perf_counter() - start
    return serial / parallel


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--game", default="CodeBreaker-v0")
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--policy", default="reference,random")
    parser.add_argument("--suite", default="core")
    parser.add_argument(
        "--no-ceiling", dest="ceiling", action="store_false", help="skip the pure-CPU baseline"
    )
    args = parser.parse_args(argv)
    from langgames.bench import run_bench

    seconds: dict[int, float] = {}
    episodes: dict[int, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            out = Path(tmp) / str(workers)
            start = time.perf_counter()
            res = run_bench(
                args.suite,
                args.policy,
                episodes=args.episodes,
                workers=workers,
                executor="process",
                games=[args.game],
                out=out,
                progress=False,
                plots=False,
                chunk=8,
            )
            seconds[workers] = time.perf_counter() - start
            n = sum(r["episodes"] for r in res.results["rows"])
            lines = (out / "episodes.jsonl").read_text().splitlines()
            episodes[workers] = [_strip(json.loads(x)) for x in lines]
    same = episodes[1] == episodes[2]
    print("| workers | episodes | seconds | episodes/s |")
    print("|---|---|---|---|")
    for w in (1, 2):
        print(f"| {w} | {n} | {seconds[w]:.2f} | {n / seconds[w]:.2f} |")
    print(f"\nspeed-up 2 vs 1 workers: {seconds[1] / seconds[2]:.2f}x; identical episodes: {same}")
    if args.ceiling:
        print(f"machine ceiling (pure CPU, 2 processes vs 1, now): {machine_ceiling():.2f}x")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
