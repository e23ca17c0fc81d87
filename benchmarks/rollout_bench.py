"""The cost of `langgames.rollout.collect` over a bare ``env.step`` loop, and its concurrency.

For each game, plays the same episodes (reference policy, the same seeds) three ways:

* ``bare``: ``make_game`` + ``env.reset`` + ``env.step`` in a plain loop, nothing recorded;
* ``collect c=1``: `collect` with one episode in flight (full `Episode` records kept);
* ``collect c=8``: eight episodes in flight (the reference policy never waits, so `collect`
  plays them one after another as at ``c=1``: this checks that ``concurrency`` costs nothing).

The three are run in interleaved trials (bare, c=1, c=8, bare, ...) and the script prints the
median episodes/s of each and the median of the per-trial ratios ``collect time / bare time``,
on CPU time of this process (``time.process_time``, robust to other processes on a loaded
machine) and on wall time. Goal: ``c=1 / bare`` at most 1.2x.

Arguments: ``--episodes`` per trial and game (100), ``--trials`` (21), ``--games``
(comma-separated ids, ``langgames/`` optional). Example::

    python benchmarks/rollout_bench.py --episodes 100 --trials 21 --games NumberHunt-v0

Measured on 2 shared cores under a load average of 5-10 from other jobs (Python 3.11), CPU-time
ratios ``collect / bare``, medians of 21 interleaved trials of 100 episodes (``after``: this
script; ``before``: the engine before its synchronous path, run from git side by side with the
current one in one process, 1.43x against 1.33x then for NumberHunt; ``first``: the engine as
first written; the bare loop itself is faster now than when ``first`` was measured, which
raises every ratio):

==============  ==========  ==========  ==========  ==========  ==========
game            first       before      after c=1   after c=8   kept/bare
==============  ==========  ==========  ==========  ==========  ==========
NumberHunt-v0   2.07x       1.53x       1.35x       1.46x       1.08x
CodeBreaker-v0  1.06x       1.04x       1.03x       1.03x       1.01x
Algebra-v0      1.05x       1.04x       1.03x       0.99x       1.00x
==============  ==========  ==========  ==========  ==========  ==========

The 1.2x goal holds wherever a move costs more than a few dozen microseconds, and is not met
on NumberHunt, whose whole episode (reset and ~6 moves) now takes ~300 us of CPU here: what
remains is ~2 us per move of recording (the `Turn`, its rewards, two clock reads), ~5 us per
episode (the `Episode`, the env pool, the policy build) and the allocator, cache and GC cost of
*keeping* every move's records (with the garbage collector off, ``c=1`` measured ~0.1x lower),
each a few percent of such an episode. A cProfile of ``collect`` on NumberHunt puts 80% of its
time in the game's own ``reset``/``step``/reference solver.

Causes found and fixed (NumberHunt, CPU time): one `numpy.random.SeedSequence` per episode for
the policy seeds (~8 us of ~95 us; now one pass over all episodes, as lane-wise arithmetic on
one Python int, with identical results), a NamedTuple per episode (~5 us each here), the
role's conversation copied on every move (now built only when a batch policy asks), a `Reply`
and a coroutine per move for plain-text policies, an event loop per `collect` and a coroutine
per episode for synchronous policies (now played without asyncio: such a policy never yields,
so ``concurrency`` changed nothing but the cost), ``load_policy`` listing every probe on each
call (built-in names are now loaded once), one task and semaphore round trip per episode,
a shallow copy of every verdict, and Python 3.11's `asyncio.run` formatting the repr of every
returned `Episode` when it restores SIGINT.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import langgames  # noqa: F401 - registers the games
from langgames.policies import reference
from langgames.registry import make_game
from langgames.rollout import collect

CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}


def bare(game_id: str, seeds: list[int]) -> None:
    env = make_game(game_id)  # collect builds its env too
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        for _ in range(env.max_turns):
            obs, _, terminated, truncated, info = env.step(reference(obs, info, env))
            if terminated or truncated:
                break
    env.close()


def kept(game_id: str, seeds: list[int]) -> None:
    """The floor: the bare loop, but keeping what each step returned (no engine)."""
    env = make_game(game_id)
    episodes = []
    for seed in seeds:
        obs, info = env.reset(seed=seed)
        moves = []
        for _ in range(env.max_turns):
            action = reference(obs, info, env)
            new_obs, reward, terminated, truncated, info = env.step(action)
            moves.append((obs, action, info, reward))
            obs = new_obs
            if terminated or truncated:
                break
        episodes.append(moves)
    env.close()


def measure(game_id: str, seeds: list[int], trials: int) -> dict[str, dict[str, list[float]]]:
    ways = {
        "bare": lambda: bare(game_id, seeds),
        "kept": lambda: kept(game_id, seeds),
        "c=1": lambda: collect(game_id, "reference", seeds, concurrency=1),
        "c=8": lambda: collect(game_id, "reference", seeds, concurrency=8),
    }
    for way in ways.values():  # warm up (imports, caches)
        way()
    times: dict[str, dict[str, list[float]]] = {c: {w: [] for w in ways} for c in CLOCKS}
    for _ in range(trials):
        for name, way in ways.items():
            start = {c: clock() for c, clock in CLOCKS.items()}
            way()
            for c, clock in CLOCKS.items():
                times[c][name].append(clock() - start[c])
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=100, help="episodes per trial and game")
    parser.add_argument("--trials", type=int, default=21, help="interleaved trials")
    parser.add_argument("--games", default="NumberHunt-v0,CodeBreaker-v0,Algebra-v0")
    args = parser.parse_args(argv)
    seeds = list(range(1_000_000_000, 1_000_000_000 + args.episodes))
    print(f"{args.trials} interleaved trials of {args.episodes} episodes; medians")
    print(f"{'game':26} {'clock':5} {'bare ep/s':>10} {'c=1 ep/s':>9} {'c=8 ep/s':>9} "
          f"{'kept/bare':>9} {'c=1/bare':>9} {'c=8/bare':>9}")  # fmt: skip
    for game in args.games.split(","):
        gid = game if "/" in game else f"langgames/{game}"
        times = measure(gid, seeds, args.trials)
        for clock, t in times.items():
            rate = {w: len(seeds) / statistics.median(v) for w, v in t.items()}
            ratio = {
                w: statistics.median(a / b for a, b in zip(t[w], t["bare"], strict=True))
                for w in ("kept", "c=1", "c=8")
            }
            print(f"{gid:26} {clock:5} {rate['bare']:10.0f} {rate['c=1']:9.0f} {rate['c=8']:9.0f} "
                  f"{ratio['kept']:8.2f}x {ratio['c=1']:8.2f}x {ratio['c=8']:8.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
