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
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
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
    if args.tag is None:
        from langgames.registry import _OTHER

        for other in _OTHER:
            out.write(f"{other}  (not a game: plays a different game per episode)\n")
    out.write(f"\n{len(specs)} games. `langgames show <id>` for one game's documentation.\n")
    return 0


def _card_summary(card: dict[str, Any] | None) -> list[str]:
    """A card in a few lines: grade, flags, reference pass rate, exploits, coverage, latency."""
    if not card:
        return ["not audited yet (`langgames audit <id>`)"]
    rel = card.get("reliability", {})
    cov = card.get("coverage", {})
    lines = [
        f"grade {card.get('grade', '?')}"
        + (" - FLAGGED: " + "; ".join(card.get("flags", [])) if card.get("flagged") else "")
        + f" (audited {card.get('date', '?')}, {card.get('episodes', '?')} episodes per level)",
    ]
    if "reference_pass_rate" in rel:
        lines.append(f"reference pass rate {rel['reference_pass_rate']:.3g}")
    exploits = rel.get("exploits")
    if isinstance(exploits, dict) and exploits:
        best = exploits.get("best") or exploits.get("max_return")
        if best is not None:
            lines.append(f"best exploit probe: {best}")
    levels = cov.get("levels")
    if isinstance(levels, dict):
        parts = []
        for level, data in sorted(levels.items()):
            if isinstance(data, dict) and "unique_instance_rate" in data:
                parts.append(f"level {level}: {data['unique_instance_rate']:.0%} unique")
        if parts:
            lines.append("coverage: " + ", ".join(parts))
    latency = rel.get("latency_ms")
    if isinstance(latency, dict) and "p95" in latency:
        lines.append(f"step latency p95 {latency['p95']:.3g} ms")
    return lines


def cmd_show(args: argparse.Namespace, out: IO[str]) -> int:
    from langgames.registry import _OTHER, _resolve, get_spec, load_class

    game_id = _resolve(args.id, games_only=False)
    if game_id in _OTHER:  # Curriculum-v0: an env of the namespace that is not a game
        import importlib
        import inspect

        module_name, _, attr = _OTHER[game_id][0].partition(":")
        doc = inspect.getdoc(getattr(importlib.import_module(module_name), attr)) or ""
        if args.json:
            json.dump({"id": game_id, "entry_point": _OTHER[game_id][0], "game": False}, out)
            out.write("\n")
            return 0
        out.write(f"{game_id} (not a game: no verifier of its own, no card)\n\n{doc}\n")
        return 0
    spec = get_spec(game_id)
    data = spec.to_dict()
    if args.json:
        json.dump(data, out, indent=2)
        out.write("\n")
        return 0
    card = data.pop("card")
    out.write(f"{spec.id}: {spec.summary}\n\n")
    out.write(inspect_doc(load_class(spec.entry_point)) + "\n\n")
    out.write("Declared:\n")
    for key, value in data.items():
        if key not in ("id", "summary"):
            out.write(f"  {key}: {value}\n")
    out.write("\nMeasured (card):\n")
    if args.card:
        out.write(json.dumps(card, indent=2) + "\n" if card else "  not audited yet\n")
    else:
        out.write("".join(f"  {line}\n" for line in _card_summary(card)))
        if card:
            out.write("  (`langgames show <id> --card` prints all of it)\n")
    return 0


def inspect_doc(obj: Any) -> str:
    import inspect

    return inspect.getdoc(obj) or ""


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
    from langgames.rollout import play

    status = cmd_list(argparse.Namespace(tag=None, json=False), out)
    rows = []
    for spec in list_games():
        env = make_game(spec.id)
        for name, policy in (("reference", reference), ("random", None)):
            totals = dict.fromkeys(spec.info.roles, 0.0)
            steps, start = 0, time.perf_counter()
            for seed in range(args.seed, args.seed + args.episodes):
                ep = play(env, policy or RandomText(seed), seed=seed)
                for role, value in ep.returns.items():
                    totals[role] += value
                steps += len(ep.turns)
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
    import os
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
    userns = getattr(sandbox, "userns_support", None)
    if userns is not None:
        available, detail = userns()
        if available is not None:
            out.write(f"  user namespaces: {'available' if available else 'UNAVAILABLE'}: "
                      f"{detail}\n")  # fmt: skip
    missing = [layer["layer"] for layer in layers if not layer["active"]]
    if missing:
        out.write(f"\nThe sandbox runs without: {', '.join(missing)}.\n")
    file_layers = getattr(sandbox, "FILE_LAYERS", ())
    exposed = [name for name in missing if name in file_layers]
    if exposed:
        who = "root" if os.geteuid() == 0 else "you"
        out.write(
            f"\nWARNING: snippets (model code) can read files of this machine that {who} can "
            f"read, and print them into observations (missing: {', '.join(exposed)}).\n"
            "Install bubblewrap (apt-get install bubblewrap) and allow unprivileged user "
            "namespaces; on a shared machine set LANGGAMES_SANDBOX_NAMESPACES=1 so that the "
            "sandbox refuses to run without them.\n"
        )
    return 0


def cmd_new(args: argparse.Namespace, out: IO[str]) -> int:
    """Scaffold a game module, its registration line and its test; say what is left."""
    from langgames.scaffold import NEXT_STEPS, _snake, find_root, new_game

    root = Path(args.root) if args.root else find_root()
    for path in new_game(args.name, args.verifier, root):
        out.write(f"wrote {path}\n")
    out.write("\n" + NEXT_STEPS.format(module=_snake(args.name), name=args.name))
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


def user_cards_dir() -> Path:
    """Where `langgames audit` writes cards by default: a user directory, never the package."""
    home = os.environ.get("LANGGAMES_HOME")
    if home:
        return Path(home).expanduser() / "cards"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "langgames" / "cards"


def _audit_out(args: argparse.Namespace) -> Path:
    from langgames.errors import InvalidArgument

    if args.refresh_shipped:
        if args.out is not None:
            raise InvalidArgument("--refresh-shipped writes the shipped cards; drop --out")
        shipped = Path(__file__).resolve().parent / "cards"
        if any(part in ("site-packages", "dist-packages") for part in shipped.parts):
            raise InvalidArgument(
                f"--refresh-shipped writes the cards of a source checkout, but langgames is "
                f"installed at {shipped.parent}; run it from a clone (pip install -e .)"
            )
        return shipped
    return Path(args.out) if args.out is not None else user_cards_dir()


def cmd_audit(args: argparse.Namespace, out: IO[str]) -> int:
    """Measure games' coverage and reliability and write their cards; 1 if any is flagged."""
    from langgames.audit import audit_games, write_card

    directory = _audit_out(args)
    golden = directory.parent.parent / "tests" / "golden" if args.refresh_shipped else None

    def report(card: dict[str, Any]) -> None:
        where = write_card(card, directory) if not args.dry_run else "(not written)"
        if golden is not None and golden.is_dir() and not args.dry_run:
            from langgames.testing import golden_path, golden_transcript

            path = golden_path(card["id"], golden)
            path.write_text(golden_transcript(card["id"]), encoding="utf-8")
            where = f"{where} and {path}"
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


def _policy_options(args: argparse.Namespace) -> dict[str, Any]:
    """The model-policy options of ``langgames bench`` (flags first, then --policy-options)."""
    from langgames.errors import InvalidArgument

    options: dict[str, Any] = {}
    for key in ("top_p", "api_base", "timeout", "max_retries"):
        if getattr(args, key) is not None:
            options[key] = getattr(args, key)
    if args.stop:
        options["stop"] = list(args.stop)
    if args.system_prompt is not None:
        text = args.system_prompt
        if text.startswith("@"):
            try:
                with open(text[1:], encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as err:
                raise InvalidArgument(
                    f"--system-prompt {args.system_prompt}: cannot read {text[1:]!r} "
                    f"({err.strerror})"
                ) from None
        options["system_prompt"] = text
    if args.policy_options:
        try:
            extra = json.loads(args.policy_options)
        except json.JSONDecodeError as err:
            raise InvalidArgument(
                f"--policy-options must be a JSON object such as '{{\"temperature\": 0.7}}' "
                f"(got {args.policy_options!r}: {err.msg})"
            ) from None
        if not isinstance(extra, dict):
            raise InvalidArgument(
                f"--policy-options must be a JSON object (got {type(extra).__name__})"
            )
        options.update(extra)
    return options


def cmd_bench(args: argparse.Namespace, out: IO[str]) -> int:
    """Run a benchmark suite and print the leaderboard, or compare two results files.

    Exit codes: 0 done; 1 a policy failed every episode; 2 bad arguments; 130 interrupted (the
    report covers the finished episodes).
    """
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
        concurrency=args.concurrency,
        policy_options=_policy_options(args),
        resume=args.resume,
        overwrite=args.overwrite,
        label=args.label,
        suites_file=args.suites_file,
    )
    res = result.results
    out.write(f"Suite {res['suite']}: {len(res['games'])} games, {res['seconds']:.1f} s\n\n")
    out.write(leaderboard_table(res) + "\n\n")
    for e in res["excluded"]:
        out.write(f"excluded {e['game']}: {e['reason']}\n")
    for note in result.notes:
        out.write(note + "\n")
    out.write(
        f"Report: {result.out / 'report.html'} (open in a browser; report.md, results.json and "
        "episodes.jsonl beside it)\n"
    )
    if result.interrupted:
        return 130
    return 1 if result.failed_policies else 0


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
    p.add_argument("--card", action="store_true", help="print the whole measured card")
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
    p.add_argument(
        "--out",
        default=None,
        help="card directory (default: $LANGGAMES_HOME/cards, else ~/.local/share/langgames/cards;"
        " never the installed package)",
    )
    p.add_argument(
        "--refresh-shipped",
        action="store_true",
        help="maintainers: write the cards shipped with the package (langgames/cards in a source"
        " checkout) and the games' golden transcripts (tests/golden); refused for an installed"
        " package",
    )
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
            "A served model: langgames bench --suite core --policy openai:MODEL "
            "--api-base http://127.0.0.1:8000/v1 --concurrency 16 --out bench-model\n"
            "Compare two runs: langgames bench --compare run-a run-b (directories or "
            "results.json files; name runs with --label)\n"
            "Exit codes: 0 done, 1 a policy failed every episode, 2 bad arguments, "
            "130 interrupted (Ctrl-C; the report covers the finished episodes)."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--suite",
        help="a suite of langgames.registry.SUITES (core, math, code, selfplay), or of --suites",
    )
    p.add_argument(
        "--suites",
        dest="suites_file",
        default=None,
        metavar="FILE",
        help="JSON file of custom suites (see langgames.bench.load_suites)",
    )
    p.add_argument(
        "--label",
        default=None,
        help="the run's name in reports and --compare (default: the --policy spec)",
    )
    p.add_argument(
        "--policy",
        default="reference,random",
        help="comma-separated: reference, random, probes, a probe name, hf:<dir>, openai:<model>, "
        "module:callable, path/to/file.py:callable; options as openai:<model>?temperature=0.7",
    )
    p.add_argument("--episodes", type=int, default=5, help="per game and difficulty (default 5)")
    p.add_argument("--workers", type=int, default=1, help="worker processes (default 1)")
    p.add_argument(
        "--concurrency", type=int, default=1, help="episodes in flight per worker (default 1)"
    )
    p.add_argument("--executor", choices=["local", "process", "ray"], default=None)
    p.add_argument(
        "--ray-address", default=None, help="Ray cluster address (default: a private local Ray)"
    )
    p.add_argument("--out", default="bench-out", help="output directory (default bench-out)")
    p.add_argument("--resume", action="store_true", help="continue the run stored in --out")
    p.add_argument("--overwrite", action="store_true", help="replace the run stored in --out")
    p.add_argument("--seed", type=int, default=0, help="offset into each game's eval seeds")
    p.add_argument("--games", default=None, help="comma-separated subset of the suite's games")
    p.add_argument("--include-flagged", action="store_true", help="run games with flagged cards")
    p.add_argument("--max-new-tokens", type=int, default=256, help="model policies (default 256)")
    p.add_argument("--temperature", type=float, default=0.0, help="model policies; 0 = greedy")
    p.add_argument("--top-p", type=float, default=None, help="model policies: nucleus sampling")
    p.add_argument(
        "--stop", action="append", default=None, help="a stop string (repeat for several)"
    )
    p.add_argument(
        "--system-prompt", default=None, help="openai: policies: system text, or @file to read it"
    )
    p.add_argument(
        "--api-base",
        default=None,
        help="openai: policies: server URL ending in /v1 (default $OPENAI_BASE_URL); "
        "the key is read from $OPENAI_API_KEY",
    )
    p.add_argument(
        "--timeout", type=float, default=None, help="openai: seconds per request (default 60)"
    )
    p.add_argument(
        "--max-retries",
        type=int,
        default=None,
        help="openai: retries on 429/5xx/connection errors, with backoff (default 4)",
    )
    p.add_argument(
        "--policy-options",
        default=None,
        help='model-policy options as JSON, e.g. \'{"temperature": 0.7, "seed": false}\'',
    )
    p.add_argument("--no-plots", action="store_true", help="write no PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--compare",
        nargs=2,
        metavar=("A", "B"),
        help="compare two runs (run directories or results.json files)",
    )
    _add_tool_arguments(p)
    p.set_defaults(func=cmd_bench)
    return parser


def _exit_on_next_interrupt() -> None:
    """The command line was interrupted and the process is winding down (report, worker pools,
    interpreter shutdown): a second Ctrl-C exits at once with the same code, 130, rather than as
    an uncaught KeyboardInterrupt. Only for the real command line, never when `main` is called
    from Python (it would change the caller's Ctrl-C)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, lambda signum, frame: os._exit(130))


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    out = out or sys.stdout
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, or a usage error already printed by argparse
        return int(exc.code or 0)
    try:
        code = int(args.func(args, out))
        if code == 130 and argv is None:
            _exit_on_next_interrupt()
        return code
    except LangGamesError as err:
        # As written: a message's own line breaks are kept, and a path or a phrase is never cut
        # across lines (terminals wrap; searching a log for the message then works).
        sys.stderr.write(f"error: {err}\n")
        return 2
    except KeyboardInterrupt:
        if argv is None:
            _exit_on_next_interrupt()
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
