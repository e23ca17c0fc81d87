"""Steps per second per game with a random policy, and verifier latency per game.

Usage::

    python benchmarks/perf.py [--episodes N] [--games ID,ID...] [--json FILE]

Arguments:
    --episodes  episodes per game and policy (default 20)
    --games     comma-separated subset of game ids (default: every registered game)
    --json      also write the table as JSON to FILE

Random-policy steps/s includes resets and policy time. Verifier latency is the wall time of
``env.step`` on the reference's moves (mostly the verifier: sandbox or SymPy), median and p95.
Generation is the wall time of ``env.reset`` (making a new instance) at the game's hardest level,
median and maximum over the episodes: a puzzle generator that searches for a unique solution
must stay interactive (the generators aim at well under 1.5 s per instance on one core).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence


def measure(game_id: str, episodes: int) -> dict[str, float | str]:
    from langgames.core import EVAL_SEEDS
    from langgames.policies import RandomText
    from langgames.registry import make_game
    from langgames.testing import play_episode

    game = make_game(game_id)
    steps, start = 0, time.perf_counter()
    for i in range(episodes):
        steps += len(play_episode(game, RandomText(i), EVAL_SEEDS.start + i).steps)
    random_sps = steps / (time.perf_counter() - start)
    latencies = []
    for i in range(episodes):
        game.reset(seed=EVAL_SEEDS.start + i)
        done = False
        while not done:
            action = game.reference_action()
            t = time.perf_counter()
            _, _, term, trunc, _ = game.step(action)
            latencies.append(time.perf_counter() - t)
            done = term or trunc
    latencies.sort()
    hardest = max(game.game_info.difficulty_levels)
    resets = []
    for i in range(episodes):
        t = time.perf_counter()
        game.reset(seed=EVAL_SEEDS.start + i, options={"difficulty": hardest})
        resets.append(time.perf_counter() - t)
    game.close()
    return {
        "game": game_id,
        "generation_ms_median": 1000 * statistics.median(resets),
        "generation_ms_max": 1000 * max(resets),
        "random_steps_per_s": random_sps,
        "verifier_ms_median": 1000 * statistics.median(latencies),
        "verifier_ms_p95": 1000 * latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--games", default=None)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    import langgames

    ids = args.games.split(",") if args.games else langgames.game_ids()
    rows = [measure(langgames.get_spec(g).id, args.episodes) for g in ids]
    print(
        "| game | random steps/s | verifier ms (median) | verifier ms (p95) "
        "| generation ms at the hardest level (median) | (max) |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {str(r['game']).split('/')[-1]} | {r['random_steps_per_s']:,.0f} | "
            f"{r['verifier_ms_median']:.2f} | {r['verifier_ms_p95']:.2f} | "
            f"{r['generation_ms_median']:.1f} | {r['generation_ms_max']:.1f} |"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
