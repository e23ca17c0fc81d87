"""langgames: language games as Gymnasium environments with grounded rewards.

>>> import gymnasium as gym, langgames
>>> env = gym.make("langgames/NumberHunt-v0")
>>> obs, info = env.reset(seed=0)
>>> info["role"]
'player'

``import langgames`` registers every game and nothing else: the game table is read without loading
Gymnasium, any game module, torch, transformers, stable-baselines3, PettingZoo, Ray, a plotting
library or SymPy, and the ids reach Gymnasium's registry when Gymnasium is imported. Every other
name below is loaded on first use, so importing a verifier (``langgames.verifiers.verdict``) costs
only that module.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

from langgames import envs as _envs  # noqa: F401  (the game table: one register line per game)

if TYPE_CHECKING:
    from langgames.core import EVAL_SEEDS, TRAIN_SEEDS, GameInfo, LanguageGame, Move, ParseError
    from langgames.errors import (
        ConformanceError,
        InvalidActionType,
        InvalidArgument,
        LangGamesError,
        MissingExtra,
        UnknownGame,
    )
    from langgames.registry import GameSpec, game_ids, get_spec, list_games, make, register
    from langgames.tools import PythonTool
    from langgames.verifiers.verdict import Status, Verdict

__version__ = "0.2.0"

_LAZY = {
    "EVAL_SEEDS": "langgames.core",
    "TRAIN_SEEDS": "langgames.core",
    "GameInfo": "langgames.core",
    "LanguageGame": "langgames.core",
    "Move": "langgames.core",
    "ParseError": "langgames.core",
    "ConformanceError": "langgames.errors",
    "InvalidActionType": "langgames.errors",
    "InvalidArgument": "langgames.errors",
    "LangGamesError": "langgames.errors",
    "MissingExtra": "langgames.errors",
    "UnknownGame": "langgames.errors",
    "GameSpec": "langgames.registry",
    "game_ids": "langgames.registry",
    "get_spec": "langgames.registry",
    "list_games": "langgames.registry",
    "make": "langgames.registry",
    "register": "langgames.registry",
    "PythonTool": "langgames.tools",
    "Status": "langgames.verifiers.verdict",
    "Verdict": "langgames.verifiers.verdict",
}

__all__ = [
    "EVAL_SEEDS",
    "TRAIN_SEEDS",
    "ConformanceError",
    "GameInfo",
    "GameSpec",
    "InvalidActionType",
    "InvalidArgument",
    "LangGamesError",
    "LanguageGame",
    "MissingExtra",
    "Move",
    "ParseError",
    "PythonTool",
    "Status",
    "UnknownGame",
    "Verdict",
    "__version__",
    "game_ids",
    "get_spec",
    "list_games",
    "make",
    "register",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
            return importlib.import_module(f"{__name__}.{name}")  # langgames.wrappers etc.
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*__all__, *globals()})
