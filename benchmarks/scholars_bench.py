"""ScholarsCircle benchmark: rounds per second, and novelty-check cost against library size.

Two measurements, printed side by side in one run:

1. **Rounds per second** with the reference policies playing every role (the explorer mutates
   library problems and validates them in the sandbox; solvers are verified in the sandbox or with
   SymPy; the critic is scored). One round is one episode (``rounds=1``). Per-family rates too.
2. **One novelty check** (``Library.duplicate_of`` plus the similarity to the recent problems, as
   the validator runs them) against synthetic libraries of two sizes (default 1,000 and 50,000),
   with the ratio of the two medians: the indexes make the check O(1)-ish, so the ratio should
   stay near 1 (target: at most 2). The synthetic problems are programs from 16 templates with
   random constants; their behaviour on the probes is computed by running the (trusted) templates
   here.

Usage::

    .venv/bin/python benchmarks/scholars_bench.py
    .venv/bin/python benchmarks/scholars_bench.py --rounds 200 --sizes 1000 50000 --json out.json

Arguments:
    --rounds N        timed reference rounds (default 100)
    --warmup N        untimed rounds before them: sandbox start-up, SymPy import (default 5)
    --difficulty D    difficulty of the rounds: 1, 2 or 3 (default 1)
    --families F ...  families the rounds are drawn from (default: all four)
    --sizes A B       the two synthetic library sizes for the novelty timing (default 1000 50000)
    --queries N       novelty checks timed per size (default 2000)
    --seed S          seed of the rounds and the synthetic libraries (default 0)
    --json PATH       also write the results as JSON to PATH
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from langgames.envs._circle_core import FAMILIES, minhash, probes, shingles, stable_hash
from langgames.envs._circle_library import Entry, Library
from langgames.envs._circle_validate import behaviour_of
from langgames.envs.scholars_circle import ScholarsCircle
from langgames.policies import reference
from langgames.testing import play_episode

# Synthetic programs: (kind, template text, builder of the trusted closure from constants a, b, m).
_TEMPLATES: list[tuple[str, str, Callable[[int, int, int], Callable[[Any], Any]]]] = [
    ("int", "(x*A+B)%M", lambda a, b, m: lambda x: (x * a + b) % m),
    ("int", "x*x*A-B*x+M", lambda a, b, m: lambda x: x * x * a - b * x + m),
    ("int", "digits*A+x%M", lambda a, b, m: lambda x: sum(map(int, str(abs(x)))) * a + x % m),
    ("int", "(x//M)*A+B", lambda a, b, m: lambda x: (x // m) * a + b),
    ("int", "abs(x-B)*A%(M+7)", lambda a, b, m: lambda x: abs(x - b) * a % (m + 7)),
    ("int", "bin count", lambda a, b, m: lambda x: bin(abs(x) * a + m).count("1") + b),
    ("list[int]", "[v*A+B if v%M]", lambda a, b, m: lambda x: [v * a + b for v in x if v % m]),
    ("list[int]", "sum(v>B)*A", lambda a, b, m: lambda x: sum(v for v in x if v > b) * a),
    ("list[int]", "sorted(v%M)[:A]", lambda a, b, m: lambda x: sorted(v % m for v in x)[:a]),
    ("list[int]", "len*A+max", lambda a, b, m: lambda x: len(x) * a + (max(x) if x else b) % m),
    ("str", "c*(A%4)+B", lambda a, b, m: lambda x: "".join(c * (a % 4) for c in x) + str(b)),
    ("str", "x[B%5::A%3+1]", lambda a, b, m: lambda x: x[b % 5 :: a % 3 + 1] + str(len(x) % m)),
    ("str", "sum(ord)%M*A", lambda a, b, m: lambda x: sum(ord(c) % m for c in x) * a + b),
    ("str", "count(chr)", lambda a, b, m: lambda x: x.count(chr(97 + a % 26)) * m + b),
    (
        "list[str]",
        "[w[:A]+len%M]",
        lambda a, b, m: lambda x: [w[: a % 5] + str(len(w) % m) for w in x],
    ),
    (
        "list[str]",
        "sum len>A",
        lambda a, b, m: lambda x: sum(len(w) for w in x if len(w) > a % 6) * m + b,
    ),
]


def _synthetic_entry(rng: np.random.Generator, serial: int) -> Entry:
    kind, text, build = _TEMPLATES[int(rng.integers(len(_TEMPLATES)))]
    a, b, m = int(rng.integers(1, 50)), int(rng.integers(-50, 51)), int(rng.integers(2, 41))
    func = build(a, b, m)
    cases = []
    for x in probes(kind):
        try:
            cases.append(("ok", func(x)))
        except Exception as exc:
            cases.append(("error", type(exc).__name__))
    behaviour, behaviour_hash = behaviour_of(kind, cases)
    tokens = text.replace("A", f" {a} ").replace("B", f" {b} ").replace("M", f" {m} ").split()
    return Entry(
        id=0,
        family=("deduction", "abduction", "induction")[serial % 3],
        kind=kind,
        code=f"# {text} a={a} b={b} m={m} #{serial}\n",
        inputs=(),
        n_shown=0,
        outputs=(),
        question="",
        answer="",
        code_hash=format(stable_hash("synthetic", str(serial), text, str(a), str(b), str(m)), "x"),
        struct_hash=format(stable_hash("template", text), "x"),
        struct_sketch=minhash(shingles(tokens)),
        n_nodes=20,
        behaviour=behaviour,
        behaviour_hash=behaviour_hash,
    )


def novelty_cost(size: int, queries: int, seed: int) -> dict[str, Any]:
    """Build a synthetic library of ``size`` problems; time ``queries`` novelty checks."""
    rng = np.random.default_rng(seed)
    library = Library(capacity=size + 1)
    start = time.perf_counter()
    serial = 0
    while len(library) < size:
        entry = _synthetic_entry(rng, serial)
        serial += 1
        if library.duplicate_of(entry) is None:
            library.add(entry)
    build = time.perf_counter() - start
    candidates = [_synthetic_entry(rng, serial + i) for i in range(queries)]
    for entry in candidates[: min(50, queries)]:  # warm caches
        library.duplicate_of(entry)
    timings = []
    duplicates = 0
    for entry in candidates:
        t0 = time.perf_counter()
        hit = library.duplicate_of(entry)
        library.most_similar_recent(entry.struct_sketch, 16)
        timings.append(time.perf_counter() - t0)
        duplicates += hit is not None
    return {
        "size": size,
        "build_seconds": build,
        "queries": queries,
        "duplicates_found": duplicates,
        "mean_us": 1e6 * statistics.fmean(timings),
        "p50_us": 1e6 * statistics.median(timings),
        "p99_us": 1e6 * float(np.quantile(timings, 0.99)),
    }


def rounds_per_second(
    rounds: int, warmup: int, difficulty: int, families: Sequence[str], seed: int
) -> dict[str, Any]:
    """Play reference rounds; return the overall and per-family rates."""
    env = ScholarsCircle(families=tuple(families), difficulty=difficulty)
    for i in range(warmup):
        play_episode(env, reference, seed + 1_000_000 + i)
    per_family: dict[str, list[float]] = {}
    failures = 0
    start = time.perf_counter()
    for i in range(rounds):
        t0 = time.perf_counter()
        episode = play_episode(env, reference, seed + i)
        per_family.setdefault(env.family, []).append(time.perf_counter() - t0)
        failures += episode.returns.get("solver", 0.0) != env.max_return("solver")
    elapsed = time.perf_counter() - start
    stats = env.stats()
    env.close()
    return {
        "rounds": rounds,
        "seconds": elapsed,
        "rounds_per_second": rounds / elapsed,
        "failures": failures,
        "per_family": {
            f: {"rounds": len(t), "rounds_per_second": len(t) / sum(t)}
            for f, t in sorted(per_family.items())
        },
        "library_size": stats.size,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="ScholarsCircle: rounds per second with reference policies, and novelty "
        "check cost at two library sizes.",
        epilog="example: benchmarks/scholars_bench.py --rounds 200 --sizes 1000 50000",
    )
    parser.add_argument("--rounds", type=int, default=100, help="timed reference rounds")
    parser.add_argument("--warmup", type=int, default=5, help="untimed rounds first")
    parser.add_argument("--difficulty", type=int, default=1, choices=(1, 2, 3))
    parser.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    parser.add_argument("--sizes", nargs=2, type=int, default=[1000, 50000], metavar=("A", "B"))
    parser.add_argument("--queries", type=int, default=2000, help="novelty checks per size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="also write the results here")
    args = parser.parse_args(argv)

    play = rounds_per_second(args.rounds, args.warmup, args.difficulty, args.families, args.seed)
    small, large = (novelty_cost(size, args.queries, args.seed) for size in args.sizes)
    ratio = large["p50_us"] / small["p50_us"]  # medians: robust to a stray GC pause
    mean_ratio = large["mean_us"] / small["mean_us"]

    print(f"ScholarsCircle reference rounds (difficulty {args.difficulty}):")
    print(
        f"  {play['rounds']} rounds in {play['seconds']:.2f} s = "
        f"{play['rounds_per_second']:.1f} rounds/s (target >= 20); "
        f"{play['failures']} rounds where the reference solver fell short"
    )
    for family, row in play["per_family"].items():
        print(
            f"    {family:<10} {row['rounds']:>4} rounds  {row['rounds_per_second']:7.1f} rounds/s"
        )
    print("Novelty check (duplicate_of + recent similarity), synthetic libraries:")
    print(f"  {'size':>8} {'build s':>8} {'mean us':>9} {'p50 us':>8} {'p99 us':>8} {'dups':>5}")
    for row in (small, large):
        print(
            f"  {row['size']:>8} {row['build_seconds']:>8.2f} {row['mean_us']:>9.1f} "
            f"{row['p50_us']:>8.1f} {row['p99_us']:>8.1f} {row['duplicates_found']:>5}"
        )
    print(
        f"  ratio p50({large['size']}) / p50({small['size']}) = {ratio:.2f} (target <= 2); "
        f"ratio of the means {mean_ratio:.2f}"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            result = {"rounds": play, "novelty": [small, large], "ratio": ratio}
            json.dump({**result, "mean_ratio": mean_ratio}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
