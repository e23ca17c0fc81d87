"""``langgames/Curriculum-v0``: one env that plays a different game per episode, chosen by a
`langgames.metacritic.MetaCritic`.

>>> import gymnasium as gym
>>> import langgames.curriculum
>>> env = gym.make("langgames/Curriculum-v0", games=["BaseConvert-v0", "Countdown-v0"], seed=0)
>>> obs, info = env.reset(seed=0)
>>> info["game"] in ("langgames/BaseConvert-v0", "langgames/Countdown-v0")
True

It is not a game (no verifier of its own, no card), so it is registered with
`gymnasium.register` here rather than in the game table: `langgames.game_ids()` stays the list of
games that the registry-wide tests parametrize over. Importing this module registers it.

At the end of each episode the critic is told the episode's score: the caller's return divided
by the sum of ``max_return(role)`` over the learner roles (so scores of different games are on one
scale). With ``monitor_coverage=True`` a `langgames.wrappers.CoverageTracker` per game watches the
actions and its ``collapsed`` flag goes to the critic too (and ``info["coverage"]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, SupportsFloat

import gymnasium as gym

from langgames.core import LanguageGame, ResetNeeded
from langgames.errors import InvalidArgument
from langgames.spaces import text_space

__all__ = ["CURRICULUM_ID", "CurriculumEnv"]

CURRICULUM_ID = "langgames/Curriculum-v0"


class CurriculumEnv(gym.Env[str, str]):
    """Plays the game the meta-critic chooses, one episode at a time; ``info["game"]`` names it.

    Args:
        games: game ids to choose from (flagged games are dropped by the critic).
        seed: seed of the critic's generator (a ``reset(seed=...)`` reseeds it too).
        critic: keyword arguments for `MetaCritic` (``epsilon``, ``fast``, ``cards``...).
        game_kwargs: keyword arguments for making each game, by id.
        monitor_coverage: track each game's action diversity and report collapse to the critic.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(
        self,
        games: Sequence[str],
        *,
        seed: int | None = None,
        critic: Mapping[str, Any] | None = None,
        game_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
        monitor_coverage: bool = False,
        render_mode: str | None = None,
    ) -> None:
        from langgames.metacritic import MetaCritic
        from langgames.registry import get_spec

        if isinstance(games, str) or not games:
            raise InvalidArgument(
                "games must be a non-empty list of game ids, e.g. "
                f"games=['NumberHunt-v0', 'Countdown-v0'] (got {games!r})"
            )
        ids = [get_spec(g).id for g in games]
        self.critic = MetaCritic(ids, seed=seed, **dict(critic or {}))
        self.observation_space = text_space()
        self.action_space = text_space()
        self.render_mode = render_mode
        self._game_kwargs = {get_spec(k).id: dict(v) for k, v in (game_kwargs or {}).items()}
        self._games: dict[str, LanguageGame] = {}
        self._monitor = monitor_coverage
        self._trackers: dict[str, Any] = {}
        self.game_id: str | None = None
        self._return = 0.0
        self._done = True

    @property
    def game(self) -> LanguageGame:
        """The game being played (after `reset`)."""
        if self.game_id is None:
            raise ResetNeeded("call reset() before using the curriculum's current game")
        return self._games[self.game_id]

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[str, dict[str, Any]]:
        """Choose a game with the critic and reset it (``seed`` seeds the critic and the game)."""
        import numpy as np

        from langgames.registry import make_game

        super().reset(seed=seed)
        if seed is not None:
            self.critic._rng = np.random.default_rng(seed)
        self.game_id = gid = self.critic.sample()
        if gid not in self._games:
            self._games[gid] = make_game(gid, **self._game_kwargs.get(gid, {}))
        game_seed = None if seed is None else int(self.np_random.integers(0, 2**31))
        obs, info = self._games[gid].reset(seed=game_seed, options=options)
        self._return, self._done = 0.0, False
        return obs, {**info, "game": gid}

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._done or self.game_id is None:
            raise ResetNeeded("the curriculum episode is over (or never began): call reset()")
        gid, game = self.game_id, self.game
        obs, reward, terminated, truncated, info = game.step(action)
        self._return += float(reward)
        info = {**info, "game": gid}
        collapsed = None
        if self._monitor:
            from langgames.wrappers import CoverageTracker

            tracker = self._trackers.setdefault(gid, CoverageTracker())
            info["coverage"] = tracker.add(action)
            collapsed = info["coverage"]["collapsed"]
        if terminated or truncated:
            self._done = True
            best = sum(game.max_return(r) for r in game.learner_roles) or 1.0
            score = self._return / best
            self.critic.update(gid, score, collapsed=collapsed)
            info["curriculum"] = {"score": score, "weights": self.critic.weights()}
        return obs, reward, terminated, truncated, info

    def render(self) -> str | None:
        return None if self.game_id is None else self.game.render()

    def close(self) -> None:
        for game in self._games.values():
            game.close()
        self._games.clear()


if CURRICULUM_ID not in gym.registry:
    gym.register(id=CURRICULUM_ID, entry_point="langgames.curriculum:CurriculumEnv")
