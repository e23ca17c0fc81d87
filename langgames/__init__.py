"""langgames: language games as Gymnasium environments with grounded rewards.

>>> import gymnasium as gym, langgames
>>> env = gym.make("langgames/NumberHunt-v0")
>>> obs, info = env.reset(seed=0)
>>> info["role"]
'player'

``import langgames`` registers every game with Gymnasium and loads nothing heavy: no torch,
transformers, stable-baselines3, PettingZoo, Ray, plotting library or SymPy.
"""

from __future__ import annotations

from langgames import curriculum as _curriculum  # noqa: F401  (Curriculum-v0; not a game)
from langgames import envs as _envs  # noqa: F401  (registers every game)
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

__version__ = "0.1.0"

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
