"""The cost of `langgames.rollout.collect` over a bare ``env.step`` loop, and its concurrency.

For three games, plays the same episodes (reference policy, the same seeds) three ways and
prints episodes/s side by side:

* ``bare``: ``env.reset`` + ``env.step`` in a plain loop, nothing recorded;
* ``collect c=1``: `collect` with one episode in flight (full `Episode` records);
* ``collect c=8``: eight episodes in flight (the reference policy never waits, so this measures
  the engine's bookkeeping, not overlap).

Goal: ``collect c=1`` at most 1.2x the bare loop's time. Usage::

    python benchmarks/rollout_bench.py --episodes 200 --games NumberHunt-v0,Algebra-v0
"""

from __future__ import annotations

import argparse
import sys
import time

import langgames  # noqa: F401 - registers the games
from langgames.policies import reference
from langgames.registry import make_game
from langgames.rollout import collect


def bare(game_id: str, seeds: list[int]) -> float:
    env = make_game(game_id)
    start = time.perf_counter()
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        for _ in range(env.max_turns):
            obs, _, terminated, truncated, info = env.step(reference(obs, info, env))
            if terminated or truncated:
                break
    elapsed = time.perf_counter() - start
    env.close()
    return elapsed


def timed_collect(game_id: str, seeds: list[int], concurrency: int) -> float:
    start = time.perf_counter()
    collect(game_id, "reference", seeds, concurrency=concurrency)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=200, help="episodes per game")
    parser.add_argument("--games", default="NumberHunt-v0,CodeBreaker-v0,Algebra-v0")
    args = parser.parse_args(argv)
    seeds = list(range(1_000_000_000, 1_000_000_000 + args.episodes))
    print(f"{'game':28} {'bare ep/s':>10} {'c=1 ep/s':>10} {'c=8 ep/s':>10} {'c=1/bare time':>14}")
    for game in args.games.split(","):
        gid = game if "/" in game else f"langgames/{game}"
        timed_collect(gid, seeds[:5], 1)  # warm up (imports, sandbox pool, caches)
        b = bare(gid, seeds)
        c1 = timed_collect(gid, seeds, 1)
        c8 = timed_collect(gid, seeds, 8)
        n = len(seeds)
        print(f"{gid:28} {n / b:10.0f} {n / c1:10.0f} {n / c8:10.0f} {c1 / b:13.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
