"""Plan a benchmark run: which games (suites from the registry), which episodes, which seeds.

Everything here is decided before any episode is played, so the run never depends on the
number of workers, the executor or the order in which episodes finish.
"""

from __future__ import annotations

import functools
import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgames.errors import InvalidArgument, did_you_mean

__all__ = [
    "FAMILIES",
    "BenchConfig",
    "Plan",
    "Suite",
    "SuiteGame",
    "Task",
    "family_of",
    "get_suite",
    "load_suites",
    "make_plan",
    "policy_seed",
]


# ------------------------------------------------------------------------------------ suites
@dataclass(frozen=True)
class SuiteGame:
    id: str
    seeds: range
    difficulties: tuple[int, ...]


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    games: tuple[SuiteGame, ...]


def load_suites(path: str | Path | None = None) -> dict[str, Suite]:
    """Every suite, by name.

    Without ``path``: the suites of `langgames.registry.SUITES`, derived from what each game
    declares, with each game's computed block of evaluation seeds
    (`langgames.registry.eval_seed_block`). With ``path``: a JSON file of custom suites::

        {"schema": 1, "suites": {"mine": {"description": "...", "difficulties": [1, 2],
          "games": {"NumberHunt-v0": {"seeds": [1000000000, 1000010000]},
                    "BaseConvert-v0": {}}}}}

    where a game without ``seeds`` plays its registry block, and ``difficulties`` (per suite or
    per game) default to the game's default difficulty.
    """
    from langgames.registry import SUITES, get_spec, suite_members

    if path is None:
        return {
            name: Suite(
                name,
                rule.description,
                tuple(SuiteGame(gid, seeds, diffs) for gid, seeds, diffs in suite_members(name)),
            )
            for name, rule in SUITES.items()
        }
    from langgames.core import EVAL_SEEDS
    from langgames.registry import eval_seed_block

    file = Path(path)
    try:
        data = json.loads(file.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise InvalidArgument(f"cannot read the suites file {file}: {err}") from None
    if not isinstance(data, dict) or data.get("schema") != 1 or "suites" not in data:
        raise InvalidArgument(
            f'{file}: expected {{"schema": 1, "suites": {{...}}}} '
            f"(got schema {data.get('schema') if isinstance(data, dict) else None!r})"
        )
    suites = {}
    for name, body in data["suites"].items():
        games = []
        for gid, entry in body["games"].items():
            spec = get_spec(gid)
            start, stop = entry.get("seeds") or (
                eval_seed_block(spec.id).start,
                eval_seed_block(spec.id).stop,
            )
            if not (EVAL_SEEDS.start <= start < stop <= EVAL_SEEDS.stop):
                raise InvalidArgument(
                    f"{file}: suite {name!r}, game {gid}: seeds [{start}, {stop}) must lie "
                    f"inside EVAL_SEEDS [{EVAL_SEEDS.start}, {EVAL_SEEDS.stop})"
                )
            diffs = tuple(entry.get("difficulties", body.get("difficulties", [None])))
            diffs = tuple(d if d is not None else spec.info.default_difficulty for d in diffs)
            games.append(SuiteGame(spec.id, range(start, stop), diffs))
        suites[name] = Suite(name, body.get("description", ""), tuple(games))
    return suites


def get_suite(name: str, path: str | Path | None = None) -> Suite:
    """The suite ``name`` (of the registry, or of the JSON file ``path``)."""
    suites = load_suites(path)
    if name not in suites:
        where = str(path) if path else "langgames.registry.SUITES"
        raise InvalidArgument(
            f"unknown suite {name!r}.{did_you_mean(name, suites)} "
            f"Suites: {', '.join(suites)} (declared in {where})."
        )
    return suites[name]


#: Game families for reports, first match wins: (family, tags that put a game in it). Derived
#: from the tags each game declares, so a new game finds its family without a second list.
FAMILIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("multi-role", ("multi-role", "self-play")),
    ("code", ("code", "sql")),
    ("logic", ("logic", "puzzle", "constraint")),
    ("planning", ("planning",)),
    ("math", ("math", "arithmetic", "algebra", "calculus")),
    ("deduction/induction", ("deduction", "induction")),
)


@functools.cache
def family_of(game_id: str) -> str:
    """The report family of ``game_id`` (see `FAMILIES`); ``"other"`` when no tag matches."""
    from langgames.errors import UnknownGame
    from langgames.registry import get_spec

    try:
        tags = set(get_spec(game_id).info.tags)
    except UnknownGame:  # a results file of a game this version no longer registers
        return "other"
    for family, wanted in FAMILIES:
        if tags & set(wanted):
            return family
    return "other"


# ------------------------------------------------------------------------------------ tasks
@dataclass(frozen=True)
class Task:
    """One episode to play. Everything in it is fixed before any worker starts."""

    policy: str
    game: str
    difficulty: int
    episode: int
    seed: int
    policy_seed: int

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.policy, self.game, self.difficulty, self.episode)


def policy_seed(seed: int, game: str, difficulty: int, episode: int) -> int:
    """The policy's RNG seed for one episode (independent of worker, executor and policy)."""
    import numpy as np

    ss = np.random.SeedSequence([seed, zlib.crc32(game.encode()), difficulty, episode])
    return int(ss.generate_state(1)[0])


@dataclass
class BenchConfig:
    """Everything a worker needs to play tasks (plain data: it crosses process boundaries)."""

    policy_spec: str
    max_new_tokens: int = 256
    temperature: float = 0.0
    #: `langgames.tools.PythonTool` options when games are played with the Python tool, else None.
    tool: dict[str, Any] | None = None
    #: Options for model policies (`langgames.policies.load_policy`'s ``options``).
    options: dict[str, Any] = field(default_factory=dict)
    #: Episodes in flight at once per worker.
    concurrency: int = 1


@dataclass
class Plan:
    """What a run will play: the games kept, the games excluded (and why), every task."""

    suite: Suite
    policies: list[str]
    kept: list[SuiteGame]
    excluded: list[dict[str, str]]
    tasks: list[Task]


def make_plan(
    suite: str,
    policies: Sequence[str],
    *,
    episodes: int,
    seed: int,
    games: Sequence[str] | None = None,
    include_flagged: bool = False,
    suites_file: str | Path | None = None,
) -> Plan:
    """Select the games of ``suite`` (skipping flagged cards unless ``include_flagged``) and
    list every task: episode ``i`` of game ``g`` at difficulty ``d`` plays instance seed
    ``g.seeds.start + seed + i`` with a policy seed from ``(seed, g, d, i)`` alone."""
    from langgames.registry import get_spec

    the_suite = get_suite(suite, suites_file)
    selected = list(the_suite.games)
    if games:
        wanted = {get_spec(g).id for g in games}
        known = {g.id for g in selected}
        missing = sorted(wanted - known)
        if missing:
            raise InvalidArgument(
                f"games {missing} are not in suite {suite!r}; it has: " + ", ".join(sorted(known))
            )
        selected = [g for g in selected if g.id in wanted]
    excluded = []
    kept = []
    for g in selected:
        card = get_spec(g.id).card
        if card and card.get("flagged") and not include_flagged:
            flags = "; ".join(map(str, card.get("flags", []))) or "no reason recorded"
            excluded.append(
                {
                    "game": g.id,
                    "reason": f"its card (grade {card.get('grade', '?')}) is flagged: {flags}. "
                    "Use --include-flagged to run it anyway.",
                }
            )
        else:
            kept.append(g)
    tasks = []
    for pol in policies:
        for g in kept:
            if seed + episodes > len(g.seeds):
                raise InvalidArgument(
                    f"{g.id}: seed {seed} + {episodes} episodes runs past its {len(g.seeds)} "
                    "evaluation seeds; use a smaller --seed or fewer --episodes"
                )
            for d in g.difficulties:
                for i in range(episodes):
                    tasks.append(
                        Task(
                            pol, g.id, d, i, g.seeds.start + seed + i, policy_seed(seed, g.id, d, i)
                        )
                    )
    return Plan(the_suite, list(policies), kept, excluded, tasks)
