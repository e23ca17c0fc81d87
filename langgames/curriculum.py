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

from langgames.core import EVAL_SEEDS, TRAIN_SEEDS, LanguageGame, ResetNeeded
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
        instance_seeds: the range every game's instance seed is drawn from: `TRAIN_SEEDS`
            (default), or `EVAL_SEEDS` to evaluate through the curriculum, or any sub-range of
            either. Training through the curriculum never sees an evaluation instance unless the
            caller asks for one.

    **Seeds.** Every ``reset`` draws the game's instance seed from the curriculum's own generator
    (``self.np_random``, reseeded by ``reset(seed=...)`` with the critic's), inside
    ``instance_seeds``; ``info["seed"]`` holds it. So ``reset(seed=s)`` followed by any number of
    ``reset()`` calls replays the same games and instances (as long as the same episodes are
    played in between, since the critic learns from them).
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
        instance_seeds: range = TRAIN_SEEDS,
    ) -> None:
        from langgames.metacritic import MetaCritic
        from langgames.registry import get_spec

        if not isinstance(instance_seeds, range) or len(instance_seeds) == 0:
            raise InvalidArgument(
                "instance_seeds must be a non-empty range, e.g. langgames.TRAIN_SEEDS (the "
                f"default) or langgames.EVAL_SEEDS (got {instance_seeds!r})"
            )
        if instance_seeds.step != 1 or not (
            _within(instance_seeds, TRAIN_SEEDS) or _within(instance_seeds, EVAL_SEEDS)
        ):
            raise InvalidArgument(
                "instance_seeds must be a contiguous range inside TRAIN_SEEDS "
                f"[{TRAIN_SEEDS.start}, {TRAIN_SEEDS.stop}) or inside EVAL_SEEDS "
                f"[{EVAL_SEEDS.start}, {EVAL_SEEDS.stop}), never across both "
                f"(got {instance_seeds!r})"
            )
        self.instance_seeds = instance_seeds

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
        self._moves = 0  # moves of the current episode: the critic weighs progress per step
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
        """Choose a game with the critic and reset it (``seed`` seeds the critic and the game's
        instance seed, drawn inside ``instance_seeds``)."""
        import numpy as np

        from langgames.registry import make_game

        super().reset(seed=seed)
        if seed is not None:
            self.critic._rng = np.random.default_rng(seed)
        self.game_id = gid = self.critic.sample()
        if gid not in self._games:
            self._games[gid] = make_game(gid, **self._game_kwargs.get(gid, {}))
        # Always from our own generator, inside instance_seeds: reproducible after a seeded reset
        # and never an evaluation instance unless asked for.
        seeds = self.instance_seeds
        game_seed = int(self.np_random.integers(seeds.start, seeds.stop))
        obs, info = self._games[gid].reset(seed=game_seed, options=options)
        self._return, self._moves, self._done = 0.0, 0, False
        return obs, {**info, "game": gid}

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._done or self.game_id is None:
            raise ResetNeeded("the curriculum episode is over (or never began): call reset()")
        gid, game = self.game_id, self.game
        obs, reward, terminated, truncated, info = game.step(action)
        self._return += float(reward)
        self._moves += 1
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
            self.critic.update(gid, score, collapsed=collapsed, steps=self._moves)
            info["curriculum"] = {"score": score, "weights": self.critic.weights()}
        return obs, reward, terminated, truncated, info

    def candidate_actions(self) -> list[str] | None:
        """The current game's legal moves (so `CandidateActions` can wrap the curriculum)."""
        return self.game.candidate_actions()

    def answer_instruction(self, role: str | None = None) -> str:
        """The current game's answer-format line (what `CandidateActions` strips off)."""
        return self.game.answer_instruction(role)

    def render(self) -> str | None:
        return None if self.game_id is None else self.game.render()

    def close(self) -> None:
        for game in self._games.values():
            game.close()
        self._games.clear()


def _within(inner: range, outer: range) -> bool:
    return outer.start <= inner.start and inner.stop <= outer.stop


if CURRICULUM_ID not in gym.registry:
    gym.register(id=CURRICULUM_ID, entry_point="langgames.curriculum:CurriculumEnv")
