"""The ``langgames`` command line. Every subcommand is a function; `main` returns an exit code.

Examples::

    langgames list
    langgames show NumberHunt-v0
    langgames play langgames/NumberHunt-v0 --seed 3
    langgames demo --episodes 2
    langgames doctor
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

from langgames.errors import LangGamesError

__all__ = ["main"]

_EPILOG = """\
examples:
  langgames list                          every game and what it declares
  langgames show NumberHunt-v0            one game's spec, card and documentation
  langgames play NumberHunt-v0 --seed 3   play in the terminal, seeing what a model sees
  langgames demo --episodes 2             play every game with its reference solver
  langgames doctor                        which isolation layers this machine provides
  langgames audit --workers 2             measure every game and write its card
  langgames bench --suite core --policy reference,random --out bench-out   a leaderboard
  langgames new PrimeFactors --verifier math   scaffold a game that passes check_game
"""


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]

    def fmt(row: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()

    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *(fmt(r) for r in rows)])


def cmd_list(args: argparse.Namespace, out: IO[str]) -> int:
    from langgames.registry import list_games

    specs = list_games(tag=args.tag)
    if args.json:
        json.dump([s.to_dict() for s in specs], out, indent=2)
        out.write("\n")
        return 0
    rows = []
    for s in specs:
        i = s.info
        card = s.card
        grade = str(card.get("grade", "?")) if card else "not audited"
        rows.append(
            [
                s.id,
                ",".join(i.roles),
                ",".join(i.verifiers),
                f"{i.reward_range[0]:g}..{i.reward_range[1]:g}",
                str(i.max_turns),
                "yes" if i.deterministic else "no",
                ",".join(map(str, i.difficulty_levels)),
                ",".join(i.tags),
                grade,
            ]
        )
    out.write(
        _table(
            rows,
            [
                "id",
                "roles",
                "verifiers",
                "reward",
                "turns",
                "determ.",
                "difficulty",
                "tags",
                "card",
            ],
        )
        + "\n"
    )
    out.write(f"\n{len(specs)} games. `langgames show <id>` for one game's documentation.\n")
    return 0


def cmd_show(args: argparse.Namespace, out: IO[str]) -> int:
    from langgames.registry import get_spec

    spec = get_spec(args.id)
    data = spec.to_dict()
    if args.json:
        json.dump(data, out, indent=2)
        out.write("\n")
        return 0
    card = data.pop("card")
    out.write(f"{spec.id}: {spec.summary}\n\n")
    out.write("Declared:\n")
    for key, value in data.items():
        if key not in ("id", "summary"):
            out.write(f"  {key}: {value}\n")
    out.write("\nMeasured (card): ")
    out.write(json.dumps(card, indent=2) + "\n" if card else "not audited yet\n")
    out.write("\n" + spec.doc + "\n")
    return 0


def cmd_play(args: argparse.Namespace, out: IO[str], read: Callable[[str], str] = input) -> int:
    """Play in the terminal. Each reply is read until a line with a single ``.`` (or EOF)."""
    import gymnasium as gym

    from langgames.registry import get_spec

    spec = get_spec(args.id)
    kwargs: dict[str, Any] = {}
    if args.difficulty is not None:
        kwargs["difficulty"] = args.difficulty
    env = gym.make(spec.id, **kwargs)
    obs, info = env.reset(seed=args.seed)
    out.write(f"{spec.id} | seed {info['seed']} | difficulty {info['difficulty']}\n")
    out.write("Type your reply; end it with a line holding a single '.' (EOF ends the game).\n")
    returns: dict[str, float] = {}
    while True:
        out.write(f"\n--- observation for role {info['role']!r} ---\n{obs}\n--- your reply ---\n")
        out.flush()
        lines = []
        try:
            while (line := read("")) != ".":
                lines.append(line)
        except EOFError:
            if not lines:
                out.write("\n(no reply: game abandoned)\n")
                return 0
        obs, reward, terminated, truncated, info = env.step("\n".join(lines))
        for role, value in info["rewards"].items():
            returns[role] = returns.get(role, 0.0) + value
        verdict = info["verdict"]
        out.write(f"\n[{verdict['status']}] reward {float(reward):+.4g}: {verdict['reason']}\n")
        if terminated or truncated:
            out.write(f"\n{obs}\nReturns: {json.dumps(returns)}\n")
            return 0


def cmd_demo(args: argparse.Namespace, out: IO[str]) -> int:
    """List the games and play seeded episodes of each with the reference solver."""
    from langgames.policies import RandomText, reference
    from langgames.registry import list_games, make_game
    from langgames.testing import play_episode

    status = cmd_list(argparse.Namespace(tag=None, json=False), out)
    rows = []
    for spec in list_games():
        env = make_game(spec.id)
        for name, policy in (("reference", reference), ("random", None)):
            totals = dict.fromkeys(spec.info.roles, 0.0)
            steps, start = 0, time.perf_counter()
            for seed in range(args.seed, args.seed + args.episodes):
                ep = play_episode(env, policy or RandomText(seed), seed)
                for role, value in ep.returns.items():
                    totals[role] += value
                steps += len(ep.steps)
            elapsed = time.perf_counter() - start
            returns = " ".join(f"{r}={v / args.episodes:+.3f}" for r, v in totals.items())
            rows.append([spec.id, name, returns, str(steps), f"{steps / elapsed:,.0f}"])
        env.close()
    out.write(
        f"\nSeeded episodes (seeds {args.seed}..{args.seed + args.episodes - 1}), mean return "
        "by role:\n"
    )
    out.write(_table(rows, ["game", "policy", "mean return by role", "steps", "steps/s"]) + "\n")
    return status


def cmd_doctor(args: argparse.Namespace, out: IO[str]) -> int:
    """Report the Python, the optional extras and the sandbox's isolation layers."""
    import importlib
    import importlib.util
    import platform

    import langgames

    out.write(
        f"langgames {langgames.__version__} on Python {platform.python_version()} "
        f"({platform.system()} {platform.machine()})\n\nOptional extras:\n"
    )
    for module, extra in (
        ("torch", "hf"),
        ("transformers", "hf"),
        ("stable_baselines3", "sb3"),
        ("trl", "trl"),
        ("pettingzoo", "multiagent"),
        ("ray", "ray"),
        ("matplotlib", "plot"),
    ):
        found = importlib.util.find_spec(module) is not None
        out.write(
            f"  {module:18} "
            + ("installed" if found else f"missing  (pip install 'langgames[{extra}]')")
            + "\n"
        )
    out.write("\nPython sandbox isolation layers:\n")
    try:
        sandbox = importlib.import_module("langgames.verifiers.python")
    except ImportError as err:
        out.write(f"  unavailable: {err}\n")
        return 1
    layers = sandbox.isolation_report()
    for layer in layers:
        mark = "active " if layer["active"] else "MISSING"
        out.write(f"  [{mark}] {layer['layer']}: {layer['detail']}\n")
    missing = [layer["layer"] for layer in layers if not layer["active"]]
    if missing:
        out.write(f"\nThe sandbox runs without: {', '.join(missing)}.\n")
    return 0


def cmd_new(args: argparse.Namespace, out: IO[str]) -> int:
    """Scaffold a game module, its registration line and its test."""
    from pathlib import Path

    from langgames.scaffold import find_root, new_game

    root = Path(args.root) if args.root else find_root()
    for path in new_game(args.name, args.verifier, root):
        out.write(f"wrote {path}\n")
    module = "".join("_" + c.lower() if c.isupper() else c for c in args.name).lstrip("_")
    out.write(
        f"\nNext: edit envs/{module}.py, then run\n"
        f"  python -m pytest tests/test_{module}.py\n"
        "  LANGGAMES_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py\n"
        "and read CONTRIBUTING.md.\n"
    )
    return 0


def _tool_arg(args: argparse.Namespace) -> bool | dict[str, Any]:
    """``--tool`` / ``--tool-options JSON`` as the ``tool=`` argument of bench and audit."""
    if args.tool_options is None:
        return bool(args.tool)
    try:
        options = json.loads(args.tool_options)
    except json.JSONDecodeError as err:
        from langgames.errors import InvalidArgument

        raise InvalidArgument(
            f"--tool-options must be a JSON object such as '{{\"max_calls\": 4}}' "
            f"(got {args.tool_options!r}: {err.msg})"
        ) from None
    return options


def _add_tool_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tool", action="store_true", help="give every game the sandboxed Python tool")
    p.add_argument(
        "--tool-options",
        default=None,
        help='the tool\'s limits as JSON, e.g. \'{"max_calls": 4, "timeout": 2}\' (implies --tool)',
    )


def cmd_audit(args: argparse.Namespace, out: IO[str]) -> int:
    """Measure games' coverage and reliability and write their cards; 1 if any is flagged."""
    from langgames.audit import audit_games, write_card

    def report(card: dict[str, Any]) -> None:
        where = write_card(card, args.out) if not args.dry_run else "(not written)"
        flags = "; ".join(card["flags"]) or "-"
        out.write(f"{card['id']:34} grade {card['grade']}  {card['seconds']:6.1f}s  {where}\n")
        if card["flagged"]:
            out.write(f"  FLAGGED: {flags}\n")
        out.flush()

    cards = audit_games(
        args.ids or None,
        episodes=args.episodes,
        workers=args.workers,
        cross_process=not args.no_cross_process,
        tool=_tool_arg(args),
        on_card=report,
    )
    flagged = [c["id"] for c in cards if c["flagged"]]
    out.write(f"\n{len(cards)} games audited, {len(flagged)} flagged{': ' if flagged else ''}")
    out.write(", ".join(flagged) + "\n")
    return 1 if flagged else 0


def cmd_bench(args: argparse.Namespace, out: IO[str]) -> int:
    """Run a benchmark suite and print the leaderboard, or compare two results files."""
    from langgames.bench import compare, leaderboard_table, run_bench

    if args.compare:
        compare(args.compare[0], args.compare[1], out=out)
        return 0
    if not args.suite:
        out.write("langgames bench needs --suite NAME (or --compare A B); see --help\n")
        return 2
    result = run_bench(
        args.suite,
        args.policy,
        episodes=args.episodes,
        workers=args.workers,
        out=args.out,
        seed=args.seed,
        executor=args.executor,
        ray_address=args.ray_address,
        include_flagged=args.include_flagged,
        games=args.games.split(",") if args.games else None,
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        progress=not args.quiet,
        plots=not args.no_plots,
        tool=_tool_arg(args),
    )
    res = result.results
    out.write(f"Suite {res['suite']}: {len(res['games'])} games, {res['seconds']:.1f} s\n\n")
    out.write(leaderboard_table(res) + "\n\n")
    for e in res["excluded"]:
        out.write(f"excluded {e['game']}: {e['reason']}\n")
    for note in result.notes:
        out.write(note + "\n")
    out.write(f"Report: {result.out / 'report.md'} (results.json, episodes.jsonl beside it)\n")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="langgames",
        description="Language games as Gymnasium environments with grounded rewards.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="command")
    sub.required = True

    p = sub.add_parser("list", help="list every game and its declared metadata")
    p.add_argument("--tag", help="only games with this tag")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="show one game's spec, card and documentation")
    p.add_argument("id", help="game id, e.g. langgames/NumberHunt-v0 or NumberHunt-v0")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("play", help="play a game in the terminal, seeing what a model sees")
    p.add_argument("id", help="game id, e.g. NumberHunt-v0")
    p.add_argument("--seed", type=int, default=None, help="instance seed (default: random)")
    p.add_argument("--difficulty", type=int, default=None, help="difficulty level")
    p.set_defaults(func=cmd_play)

    p = sub.add_parser(
        "demo", help="play seeded episodes of every game with reference and random policies"
    )
    p.add_argument(
        "--episodes", type=int, default=3, help="episodes per game and policy (default 3)"
    )
    p.add_argument("--seed", type=int, default=0, help="first seed (default 0)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("doctor", help="report extras and the sandbox's isolation layers")
    p.set_defaults(func=cmd_doctor)

    p = sub.add_parser("new", help="scaffold a new game that already passes check_game")
    p.add_argument("name", help="CamelCase game name, e.g. PrimeFactors")
    p.add_argument(
        "--verifier",
        required=True,
        choices=["python", "math"],
        help="score with the Python sandbox or the math verifier",
    )
    p.add_argument(
        "--root",
        default=None,
        help="the langgames checkout to write into (default: found from the cwd)",
    )
    p.set_defaults(func=cmd_new)

    p = sub.add_parser(
        "audit",
        help="measure games' coverage and reliability and write their cards",
        description="Example: langgames audit NumberHunt-v0 --episodes 20",
    )
    p.add_argument("ids", nargs="*", help="game ids (default: every registered game)")
    p.add_argument(
        "--episodes", type=int, default=40, help="seeds per level and per probe (default 40)"
    )
    p.add_argument("--workers", type=int, default=1, help="games audited in parallel (default 1)")
    p.add_argument("--out", default=None, help="card directory (default: langgames/cards)")
    p.add_argument("--dry-run", action="store_true", help="measure, but write no card")
    p.add_argument(
        "--no-cross-process", action="store_true", help="skip the subprocess determinism check"
    )
    _add_tool_arguments(p)
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser(
        "bench",
        help="run policies over a benchmark suite; write results, report and plots",
        description=(
            "Example: langgames bench --suite core --policy reference,random,probes "
            "--episodes 5 --out bench-out\n"
            "Compare two runs: langgames bench --compare A/results.json B/results.json"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--suite", help="suite declared in benchmarks/suites.json: core, math, ...")
    p.add_argument(
        "--policy",
        default="reference,random",
        help="comma-separated: reference, random, probes, a probe name, hf:<dir>, module:callable",
    )
    p.add_argument("--episodes", type=int, default=5, help="per game and difficulty (default 5)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--executor", choices=["local", "process", "ray"], default=None)
    p.add_argument("--ray-address", default=None, help="Ray cluster address (default: local)")
    p.add_argument("--out", default="bench-out", help="output directory (default bench-out)")
    p.add_argument("--seed", type=int, default=0, help="offset into each game's eval seeds")
    p.add_argument("--games", default=None, help="comma-separated subset of the suite's games")
    p.add_argument("--include-flagged", action="store_true", help="run games with flagged cards")
    p.add_argument("--max-new-tokens", type=int, default=256, help="hf: policies (default 256)")
    p.add_argument("--temperature", type=float, default=0.0, help="hf: policies; 0 = greedy")
    p.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--compare", nargs=2, metavar=("A", "B"), help="diff two results.json files")
    _add_tool_arguments(p)
    p.set_defaults(func=cmd_bench)
    return parser


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    out = out or sys.stdout
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return int(exc.code or 0)
    try:
        return int(args.func(args, out))
    except LangGamesError as err:
        sys.stderr.write(textwrap.fill(f"error: {err}", width=100) + "\n")
        return 2
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
