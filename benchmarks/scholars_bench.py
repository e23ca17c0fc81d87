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

3. With ``--ray-workers``, **a circle on many workers** (Ray, started locally here): library
   writes per second and reference rounds per second through one `CircleLibraryService` with 1
   and 2 workers, against the single-process circle (an in-process SQLite `Library`, and the
   rounds of measurement 1), with the ratios.

Usage::

    .venv/bin/python benchmarks/scholars_bench.py
    .venv/bin/python benchmarks/scholars_bench.py --rounds 200 --sizes 1000 50000 --json out.json
    .venv/bin/python benchmarks/scholars_bench.py --ray-workers 1 2 --ray-rounds 40

Arguments:
    --rounds N        timed reference rounds (default 100)
    --warmup N        untimed rounds before them: sandbox start-up, SymPy import (default 5)
    --difficulty D    difficulty of the rounds: 1, 2 or 3 (default 1)
    --families F ...  families the rounds are drawn from (default: all four)
    --sizes A B       the two synthetic library sizes for the novelty timing (default 1000 50000)
    --queries N       novelty checks timed per size (default 2000)
    --seed S          seed of the rounds and the synthetic libraries (default 0)
    --ray-workers N.. also measure the Ray circle with these worker counts (e.g. 1 2)
    --ray-rounds N    reference rounds per Ray worker (default 30)
    --ray-writes N    synthetic library writes per Ray worker (default 300)
    --ray-address A   an existing Ray cluster (default: start a local one)
    --baseline DIR    also time rounds of another version of langgames (a directory holding a
                      ``langgames`` package, e.g. an old checkout), interleaved with this one
                      in fresh processes, ``--repeats`` times each: before/after on a shared,
                      noisy machine
    --repeats K       interleaved repetitions for --baseline (default 3)
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

from langgames.envs.scholars_circle import ScholarsCircle
from langgames.envs.scholars_circle.core import FAMILIES, minhash, probes, shingles, stable_hash
from langgames.envs.scholars_circle.library import Entry, Library
from langgames.envs.scholars_circle.validate import behaviour_of
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


def single_process_writes(writes: int, directory: str) -> dict[str, Any]:
    """Library writes per second in this process (SQLite archive, one transaction each)."""
    import os

    from langgames.envs.scholars_circle.service import synthetic_entry
    from langgames.envs.scholars_circle.starter import starter_entries

    library = Library(
        capacity=writes + 1000,
        path=os.path.join(directory, "single.sqlite"),
        starter=starter_entries(),
    )
    start = time.perf_counter()
    for serial in range(writes):
        library.add_unique(synthetic_entry(serial))
    elapsed = time.perf_counter() - start
    library.close()
    return {"writes": writes, "seconds": elapsed, "writes_per_second": writes / elapsed}


def ray_circle(
    workers: Sequence[int], rounds: int, writes: int, seed: int, address: str | None
) -> dict[str, Any]:
    """Writes/s and rounds/s through one library service, for each worker count."""
    import os
    import tempfile

    import ray

    from langgames.envs.scholars_circle.service import CircleWorker, library_service

    started = not ray.is_initialized()
    if started:
        if address:
            ray.init(address=address, log_to_driver=False)
        else:
            ray.init(
                num_cpus=max(workers),
                include_dashboard=False,
                log_to_driver=False,
                _node_ip_address="127.0.0.1",
            )
    rows = []
    try:
        with tempfile.TemporaryDirectory() as directory:
            single = single_process_writes(writes, directory)
            for n in workers:
                path = os.path.join(directory, f"ray-{n}.sqlite")
                service = library_service(path, capacity=n * (writes + rounds) + 1000)
                actor = ray.remote(num_cpus=1)(CircleWorker)
                pool = [actor.remote(service) for _ in range(n)]
                ray.get([w.play.remote([seed + 1_000_000 + k]) for k, w in enumerate(pool)])
                chunks = [list(range(k * writes, (k + 1) * writes)) for k in range(n)]
                t0 = time.perf_counter()
                ray.get([w.write.remote(c) for w, c in zip(pool, chunks, strict=True)])
                write_seconds = time.perf_counter() - t0
                seeds = [[seed + k * rounds + i for i in range(rounds)] for k in range(n)]
                t0 = time.perf_counter()
                played = ray.get([w.play.remote(s) for w, s in zip(pool, seeds, strict=True)])
                round_seconds = time.perf_counter() - t0
                rows.append(
                    {
                        "workers": n,
                        "writes_per_second": n * writes / write_seconds,
                        "rounds_per_second": n * rounds / round_seconds,
                        "solver_return": sum(p["returns"].get("solver", 0.0) for p in played),
                    }
                )
                for w in [*pool, service]:
                    ray.kill(w)
    finally:
        if started:
            ray.shutdown()
    return {"single_process_writes": single, "rows": rows}


_ROUNDS_CHILD = """
import json, sys, time
from langgames.envs.scholars_circle import ScholarsCircle
from langgames.policies import reference
from langgames.testing import play_episode
rounds, warmup, difficulty, seed = map(int, sys.argv[1:5])
env = ScholarsCircle(difficulty=difficulty)
for i in range(warmup):
    play_episode(env, reference, seed + 1_000_000 + i)
start = time.perf_counter()
for i in range(rounds):
    play_episode(env, reference, seed + i)
print(json.dumps({"rounds_per_second": rounds / (time.perf_counter() - start)}))
"""


def interleaved(
    baseline: str, rounds: int, warmup: int, difficulty: int, seed: int, repeats: int
) -> dict[str, Any]:
    """Rounds/s of ``baseline`` and of this checkout, each in a fresh process, alternating."""
    import os
    import subprocess
    from pathlib import Path

    here = str(Path(__file__).resolve().parent.parent)
    out: dict[str, list[float]] = {"baseline": [], "current": []}
    for _ in range(repeats):
        for name, path in (("baseline", baseline), ("current", here)):
            env = {**os.environ, "PYTHONPATH": path} if name == "baseline" else dict(os.environ)
            args = [str(v) for v in (rounds, warmup, difficulty, seed)]
            done = subprocess.run(
                [sys.executable, "-c", _ROUNDS_CHILD, *args],
                env=env,
                cwd="/" if name == "baseline" else here,
                capture_output=True,
                text=True,
                check=True,
            )
            out[name].append(json.loads(done.stdout.strip().splitlines()[-1])["rounds_per_second"])
    ratios = [c / b for b, c in zip(out["baseline"], out["current"], strict=True)]
    return {**out, "ratios": ratios, "median_ratio": statistics.median(ratios)}


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
    parser.add_argument("--ray-workers", nargs="*", type=int, default=[], metavar="N")
    parser.add_argument("--ray-rounds", type=int, default=30)
    parser.add_argument("--ray-writes", type=int, default=300)
    parser.add_argument("--ray-address", default=None)
    parser.add_argument("--baseline", default=None, metavar="DIR")
    parser.add_argument("--repeats", type=int, default=3)
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
    compared = None
    if args.baseline:
        compared = interleaved(
            args.baseline, args.rounds, args.warmup, args.difficulty, args.seed, args.repeats
        )
        print(f"Before/after, interleaved in fresh processes ({args.rounds} rounds each):")
        for b, c in zip(compared["baseline"], compared["current"], strict=True):
            print(f"  baseline {b:7.1f} rounds/s   current {c:7.1f} rounds/s   x{c / b:.2f}")
        print(f"  median ratio current / baseline = {compared['median_ratio']:.2f}")
    distributed = None
    if args.ray_workers:
        distributed = ray_circle(
            args.ray_workers, args.ray_rounds, args.ray_writes, args.seed, args.ray_address
        )
        single = distributed["single_process_writes"]
        print("Circle on Ray workers (one library service, reference policies):")
        print(
            f"  single process: {single['writes_per_second']:8.1f} library writes/s "
            f"{play['rounds_per_second']:8.1f} rounds/s"
        )
        first = distributed["rows"][0]
        for row in distributed["rows"]:
            print(
                f"  {row['workers']} worker(s):    {row['writes_per_second']:8.1f} library "
                f"writes/s {row['rounds_per_second']:8.1f} rounds/s   "
                f"(x{row['writes_per_second'] / single['writes_per_second']:.2f} and "
                f"x{row['rounds_per_second'] / play['rounds_per_second']:.2f} the single "
                f"process; x{row['rounds_per_second'] / first['rounds_per_second']:.2f} the "
                f"rounds/s of {first['workers']} worker(s))"
            )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            result = {
                "rounds": play,
                "novelty": [small, large],
                "ratio": ratio,
                "distributed": distributed,
                "compared": compared,
            }
            json.dump({**result, "mean_ratio": mean_ratio}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
