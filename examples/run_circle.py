"""Run a ScholarsCircle for N rounds and watch its library grow.

Each round is one episode of ``ScholarsCircle`` played by the chosen policies: the explorer
proposes, ``--solvers`` solvers answer, the critic judges, and the problem enters the library with
its solve rate. Every ``--every`` rounds the script prints the library's size, coverage and
solve-rate spread, and the mean rewards so far; a progress bar runs on stderr.

Usage::

    .venv/bin/python examples/run_circle.py --rounds 60
    .venv/bin/python examples/run_circle.py --rounds 200 --solver noisy --q 0.6 \\
        --critic calibrated --archive /tmp/circle.sqlite

Arguments:
    --rounds N          rounds to play (default 40)
    --every K           print the library every K rounds (default 10)
    --solvers N         solvers per round (default 3)
    --solver P          oracle | noisy (right with probability --q) (default noisy)
    --q Q               the noisy solver's accuracy (default 0.6)
    --critic P          oracle | calibrated | always-yes (default calibrated)
    --accuracy A        the calibrated critic's signal accuracy (default 0.8)
    --difficulty D      1, 2 or 3 (default 1)
    --families F ...    families rounds are drawn from (default: all four)
    --archive PATH      persist the library in this SQLite file (default: in memory)
    --seed S            seed of the circle and the policies (default 0)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from langgames.envs.scholars_circle import (
    CalibratedCritic,
    ConstantCritic,
    NoisySolver,
    OracleCritic,
    OracleSolver,
    ReferenceExplorer,
    ScholarsCircle,
)
from langgames.envs.scholars_circle.core import FAMILIES
from langgames.rollout import play


def progress(done: int, total: int, stream: TextIO, width: int = 30) -> None:
    """Draw ``[#####.....] done/total`` in place on ``stream``."""
    filled = width * done // max(total, 1)
    end = "\n" if done >= total else ""
    stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}{end}")
    stream.flush()


def build_policies(args: argparse.Namespace) -> dict[str, Any]:
    solver: Any = OracleSolver() if args.solver == "oracle" else NoisySolver(args.q, args.seed)
    if args.critic == "oracle":
        critic: Any = OracleCritic()
    elif args.critic == "always-yes":
        critic = ConstantCritic(1.0)
    else:
        critic = CalibratedCritic(args.accuracy, args.seed)
    return {"explorer": ReferenceExplorer(args.seed), "solver": solver, "critic": critic}


def report(env: ScholarsCircle, played: int, start_size: int, returns: dict[str, float]) -> str:
    s = env.stats()
    rate = (
        "no rated problems yet"
        if s.solve_rate_mean is None
        else f"solve rate mean {s.solve_rate_mean:.2f} sd {s.solve_rate_std:.2f}, "
        f"learnable {100 * (s.learnable or 0):.0f}%"
    )
    means = ", ".join(f"{role} {value / played:+.3f}" for role, value in returns.items())
    families = " ".join(f"{f}={n}" for f, n in s.by_family.items())
    return (
        f"round {played:>4} | library {s.size} (+{s.size - start_size}) [{families}] | "
        f"templates {s.templates}, mean distance {s.mean_distance:.2f} | {rate} | "
        f"mean reward per round: {means}"
    )


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run a ScholarsCircle and print its library's growth.",
        epilog="example: examples/run_circle.py --rounds 60 --solver noisy --q 0.6",
    )
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--solvers", type=int, default=3)
    parser.add_argument("--solver", choices=("oracle", "noisy"), default="noisy")
    parser.add_argument("--q", type=float, default=0.6)
    parser.add_argument(
        "--critic", choices=("oracle", "calibrated", "always-yes"), default="calibrated"
    )
    parser.add_argument("--accuracy", type=float, default=0.8)
    parser.add_argument("--difficulty", type=int, choices=(1, 2, 3), default=1)
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES))
    parser.add_argument("--archive", default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    out = out or sys.stdout
    policies = build_policies(args)
    env = ScholarsCircle(
        families=tuple(args.families),
        n_solvers=args.solvers,
        difficulty=args.difficulty,
        archive_path=args.archive,
    )
    start_size = len(env.library)
    returns = {role: 0.0 for role in env.game_info.roles}
    print(f"library starts with {start_size} problems", file=out)

    def circle(obs: str, info: dict[str, Any], game: ScholarsCircle) -> Any:
        """Each role's move by its own policy: the round is one episode of `rollout.play`."""
        return policies[info["role"]](obs, info, game)

    try:
        for played in range(1, args.rounds + 1):
            episode = play(env, circle, seed=args.seed * 1_000_003 + played, transcript=False)
            for role, value in episode.returns.items():
                returns[role] += value
            progress(played, args.rounds, sys.stderr)
            if played % args.every == 0 or played == args.rounds:
                print(report(env, played, start_size, returns), file=out)
    finally:
        env.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
