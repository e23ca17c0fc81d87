"""The registry: which games exist, what each declares, and what was measured about it.

Games are registered by one line each in ``langgames/envs/__init__.py`` (the single table)::

    register("langgames/NumberHunt-v0", "langgames.envs.number_hunt:NumberHunt")

The entry point is a string, so registering costs nothing until a game is made, and this module
loads neither Gymnasium nor any game: the table is copied into Gymnasium's registry when
Gymnasium is imported (see `langgames._import_hook`), so ``gym.make`` finds every id whichever of
``langgames`` and ``gymnasium`` is imported first. `list_games` loads
the game classes (light modules) to read their declared `GameInfo`, and pairs each with its
*measured* card (coverage and reliability, written by ``langgames audit``), kept apart from what the
game declares.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from langgames._import_hook import when_imported
from langgames.errors import InvalidArgument, UnknownGame, did_you_mean

if TYPE_CHECKING:
    import gymnasium as gym

    from langgames.core import GameInfo, LanguageGame

__all__ = ["GameSpec", "game_ids", "get_spec", "list_games", "make", "register"]

_ID_PATTERN = re.compile(r"^langgames/(?P<name>[A-Z][A-Za-z0-9]*)-v(?P<version>\d+)$")

# id -> (entry point, default kwargs), in registration order. The one list of games.
_TABLE: dict[str, tuple[str, dict[str, Any]]] = {}
# Envs under the langgames/ namespace that are not games (no verifier, no card): Curriculum-v0.
_OTHER: dict[str, tuple[str, dict[str, Any]]] = {
    "langgames/Curriculum-v0": ("langgames.curriculum:CurriculumEnv", {}),
}


@dataclass(frozen=True)
class GameSpec:
    """A registered game: its declared metadata beside its measured card.

    Attributes:
        id: ``langgames/<Name>-v<N>``.
        entry_point: ``"module:Class"``.
        kwargs: default keyword arguments passed by ``gym.make``.
        info: what the game declares (`GameInfo`): roles, verifiers, format, reward range...
        summary: the first line of the game's docstring.
        card: what was measured (coverage, reliability), or ``None`` before the first audit.
    """

    id: str
    entry_point: str
    kwargs: Mapping[str, Any]
    info: GameInfo
    summary: str
    card: Mapping[str, Any] | None = field(default=None, compare=False)

    @property
    def doc(self) -> str:
        """The game's full documentation (its class docstring)."""
        return inspect.getdoc(load_class(self.entry_point)) or ""

    def to_dict(self) -> dict[str, Any]:
        info = self.info
        return {
            "id": self.id,
            "entry_point": self.entry_point,
            "kwargs": dict(self.kwargs),
            "summary": self.summary,
            "roles": list(info.roles),
            "verifiers": list(info.verifiers),
            "answer_format": info.answer_format,
            "reward_range": list(info.reward_range),
            "max_return": info.max_return,
            "max_turns": info.max_turns,
            "deterministic": info.deterministic,
            "difficulty_levels": list(info.difficulty_levels),
            "default_difficulty": info.default_difficulty,
            "tags": list(info.tags),
            "card": None if self.card is None else dict(self.card),
        }


def register(id: str, entry_point: str, **kwargs: Any) -> None:
    """Register a game under ``id`` (``langgames/<Name>-v<N>``) with a string entry point."""
    if not _ID_PATTERN.match(id):
        raise InvalidArgument(
            f"game ids look like 'langgames/<Name>-v<N>' with a capitalised name (got {id!r})"
        )
    if ":" not in entry_point:
        raise InvalidArgument(f"entry_point must look like 'module:Class' (got {entry_point!r})")
    if id in _TABLE:
        if _TABLE[id] == (entry_point, kwargs):
            return  # the table module was imported again (e.g. importlib.reload): nothing to do
        raise InvalidArgument(f"{id} is already registered with entry point {_TABLE[id][0]!r}")
    _TABLE[id] = (entry_point, dict(kwargs))
    if "gymnasium" in sys.modules:  # else the hook copies the whole table on import
        when_imported("gymnasium", _sync_gymnasium)


def _sync_gymnasium() -> None:
    """Copy every id of the table (and the non-game envs) into Gymnasium's registry."""
    import gymnasium as gym

    for table in (_TABLE, _OTHER):
        for id, (entry_point, kwargs) in table.items():
            if id not in gym.registry:
                gym.register(id=id, entry_point=entry_point, kwargs=dict(kwargs))


when_imported("gymnasium", _sync_gymnasium)


def game_ids() -> list[str]:
    """Every registered id, in table order. Cheap: loads no game module."""
    return list(_TABLE)


def load_class(entry_point: str) -> type[LanguageGame]:
    from langgames.core import LanguageGame

    module_name, _, attr = entry_point.partition(":")
    cls = getattr(importlib.import_module(module_name), attr)
    if not (isinstance(cls, type) and issubclass(cls, LanguageGame)):
        raise InvalidArgument(f"{entry_point} is not a LanguageGame subclass (got {cls!r})")
    return cls


def _resolve(id: str, *, games_only: bool = True) -> str:
    known = list(_TABLE) if games_only else [*_TABLE, *_OTHER]
    if not isinstance(id, str):
        raise InvalidArgument(
            f"a game id must be a str such as 'langgames/NumberHunt-v0' (got {id!r})"
        )
    if id in known:
        return id
    if f"langgames/{id}" in known:  # allow the short form "NumberHunt-v0"
        return f"langgames/{id}"
    short = [i.split("/", 1)[1] for i in known]
    hint = did_you_mean(id.split("/", 1)[-1], short)
    raise UnknownGame(
        f"No langgames game is registered as {id!r}.{hint} Run `langgames list` to see every id."
    )


def get_spec(id: str) -> GameSpec:
    """The `GameSpec` of one game; unknown ids raise `UnknownGame` with "did you mean"."""
    id = _resolve(id)
    entry_point, kwargs = _TABLE[id]
    cls = load_class(entry_point)
    info = cls.game_info
    if info.id != id:
        raise InvalidArgument(
            f"{entry_point} declares id {info.id!r} but is registered as {id!r}; "
            "make the registration line and GameInfo(name=..., version=...) agree"
        )
    summary = (inspect.getdoc(cls) or "").strip().splitlines()
    return GameSpec(
        id=id,
        entry_point=entry_point,
        kwargs=kwargs,
        info=info,
        summary=summary[0] if summary else "",
        card=load_card(id),
    )


def make_game(id: str, **kwargs: Any) -> LanguageGame:
    """Make the bare game (no Gymnasium wrappers): what policies, audits and the kit drive."""
    import gymnasium as gym

    from langgames.core import LanguageGame

    game = gym.make(_resolve(id), disable_env_checker=True, **kwargs).unwrapped
    if not isinstance(game, LanguageGame):
        raise InvalidArgument(f"{id} is not a LanguageGame (got {type(game).__name__})")
    return game


def list_games(tag: str | None = None) -> list[GameSpec]:
    """The specs of every registered game (optionally only those with ``tag``), in table order."""
    specs = [get_spec(i) for i in _TABLE]
    return [s for s in specs if tag is None or tag in s.info.tags]


def make(id: str, **kwargs: Any) -> gym.Env[Any, Any]:
    """``gym.make`` for every ``langgames/`` id (games and ``Curriculum-v0``), with langgames'
    error messages (did-you-mean for ids and keyword arguments)."""
    import gymnasium as gym

    return gym.make(_resolve(id, games_only=False), **kwargs)


def card_filename(id: str) -> str:
    return id.split("/", 1)[1] + ".json"


def load_card(id: str) -> Mapping[str, Any] | None:
    """The measured card stored with the package for ``id``, or ``None`` if never audited."""
    import json  # here, not at module level: `import langgames` stays light
    from importlib import resources

    path = resources.files("langgames").joinpath("cards").joinpath(card_filename(id))
    if not path.is_file():
        return None
    data: Mapping[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


# ------------------------------------------------------------------------------------ suites
@dataclass(frozen=True)
class SuiteRule:
    """Which registered games a benchmark suite plays, derived from what each game declares.

    A game joins when it has one of ``tags_any`` (any tag if empty) and at least ``min_roles``
    roles. ``difficulties`` are played where the game has them (``None``: its default level).
    """

    description: str
    tags_any: tuple[str, ...] = ()
    min_roles: int = 1
    difficulties: tuple[int, ...] | None = None


#: The benchmark suites of ``langgames bench --suite``. Adding a game adds it to every suite whose
#: rule it matches: there is no second list of games to keep.
SUITES: dict[str, SuiteRule] = {
    "core": SuiteRule("Every registered game at its default difficulty: the main leaderboard."),
    "math": SuiteRule(
        "Math and arithmetic games scored by the SymPy verifier or exact arithmetic, at every "
        "difficulty.",
        tags_any=("math", "arithmetic"),
        difficulties=(1, 2, 3),
    ),
    "code": SuiteRule(
        "Code games scored in the Python sandbox (or SQLite), at every difficulty.",
        tags_any=("code",),
        difficulties=(1, 2, 3),
    ),
    "selfplay": SuiteRule(
        "Multi-role self-play games: one policy plays every role.",
        min_roles=2,
        difficulties=(1, 2),
    ),
}

#: Width of each game's block of evaluation seeds (see `eval_seed_block`).
EVAL_BLOCK = 10_000


def eval_seed_block(id: str) -> range:
    """The evaluation seeds a benchmark plays for game ``id``: ``EVAL_BLOCK`` seeds of
    `EVAL_SEEDS`, the block at the game's position in the table (append-only, so a game's block
    never moves). Computed, never hand-picked; episode ``i`` of a suite uses ``block[i]``.
    """
    from langgames.core import EVAL_SEEDS

    index = list(_TABLE).index(_resolve(id))
    start = EVAL_SEEDS.start + EVAL_BLOCK * index
    if start + EVAL_BLOCK > EVAL_SEEDS.stop:
        raise InvalidArgument(
            f"{id}: the table holds more than {len(EVAL_SEEDS) // EVAL_BLOCK} games; "
            "make EVAL_BLOCK smaller"
        )
    return range(start, start + EVAL_BLOCK)


def suite_members(name: str) -> list[tuple[str, range, tuple[int, ...]]]:
    """``(game id, evaluation seeds, difficulties)`` of every game in suite ``name``."""
    if name not in SUITES:
        raise InvalidArgument(
            f"unknown suite {name!r}.{did_you_mean(name, SUITES)} Suites: {', '.join(SUITES)}."
        )
    rule = SUITES[name]
    members = []
    for spec in list_games():
        info = spec.info
        if rule.tags_any and not set(rule.tags_any) & set(info.tags):
            continue
        if len(info.roles) < rule.min_roles:
            continue
        levels = tuple(d for d in (rule.difficulties or ()) if d in info.difficulty_levels)
        members.append((spec.id, eval_seed_block(spec.id), levels or (info.default_difficulty,)))
    return members
