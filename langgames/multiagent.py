"""The PettingZoo view of a language game: each role is an agent of an AEC environment.

A thin adapter over *any* `LanguageGame`: the game keeps its rules, turns and rewards; the adapter
maps roles to agents (``possible_agents`` are the game's roles, in order). A role that acts several
times (e.g. ScholarsCircle's solvers) is one agent that is selected several times.

>>> from langgames.multiagent import make_aec
>>> env = make_aec("langgames/NumberHunt-v0")  # doctest: +SKIP
>>> env.reset(seed=0)                            # doctest: +SKIP
>>> for agent in env.agent_iter():               # doctest: +SKIP
...     observation, reward, terminated, truncated, info = env.last()
...     env.step(None if terminated or truncated else my_policy(observation["text"]))

**Observations.** PettingZoo's ``api_test`` refuses bare text observations (it checks the
``dtype`` of what an agent observes), so each observation is a ``Dict`` space with two keys:

- ``"text"``: the game's observation for this agent (a `langgames.spaces.text_space`): what the
  role saw when it last had to act, ``""`` before its first turn, and the final text once the
  episode is over;
- ``"observation"``: a one-hot ``int8`` vector over the roles marking the agent's own role (the
  NumPy array ``api_test`` expects under that key; it carries no hidden information).

Actions are text, as in the Gymnasium view. ``rewards`` holds what each agent earned in the last
step (``info["rewards"]`` of the game, so a proposer rewarded at the critic's step gets it there);
``infos[agent]`` is the game's ``info`` for the agent that acts next (``{}`` for the others, and the
last ``info`` for everyone when the episode ends). ``reset(options=...)`` passes ``difficulty`` to
the game and ignores other keys (PettingZoo's ``api_test`` sends arbitrary options).

PettingZoo is an optional dependency (``pip install 'langgames[multiagent]'``); it is imported only
when `make_aec` is called.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import gymnasium as gym
import numpy as np

from langgames.core import LanguageGame
from langgames.errors import InvalidArgument, MissingExtra
from langgames.spaces import text_space

__all__ = ["make_aec"]


def make_aec(env: str | gym.Env, **kwargs: Any) -> Any:
    """A PettingZoo ``AECEnv`` playing ``env``: a registered game id (built with ``kwargs``), or
    a game instance (wrapped or not; then ``kwargs`` must be empty).

    Raises:
        MissingExtra: PettingZoo is not installed.
        InvalidArgument: ``env`` is neither a game id nor a language game.
    """
    try:
        import pettingzoo  # noqa: F401
    except ImportError:
        raise MissingExtra("make_aec", "multiagent", "pettingzoo") from None
    game: Any
    if isinstance(env, str):
        from langgames.registry import make_game

        game = make_game(env, **kwargs)
    else:
        game = getattr(env, "unwrapped", env)
        if not isinstance(game, LanguageGame):
            raise InvalidArgument(
                f"make_aec expects a game id such as 'langgames/ScholarsCircle-v0' or a "
                f"LanguageGame, got {type(env).__name__}"
            )
        if kwargs:
            raise InvalidArgument(
                f"make_aec got keyword arguments {sorted(kwargs)} with a game instance; pass them "
                "when building the game, or pass the game's id instead"
            )
    return _aec_class()(game)


@functools.lru_cache(maxsize=1)
def _aec_class() -> type:
    """Build the adapter class (it subclasses PettingZoo's ``AECEnv``, imported only now)."""
    from pettingzoo import AECEnv

    class LanguageGameAEC(AECEnv):
        """A `LanguageGame` as a PettingZoo AEC environment (see `langgames.multiagent`)."""

        metadata: dict[str, Any] = {
            "render_modes": ["ansi"],
            "name": "langgames_aec",
            "is_parallelizable": False,
        }

        def __init__(self, game: LanguageGame) -> None:
            super().__init__()
            self.game = game
            self.metadata = {**type(self).metadata, "name": game.game_info.id}
            roles = list(game.game_info.roles)
            self.possible_agents = roles
            self.render_mode = game.render_mode
            self._one_hot = {
                role: np.eye(len(roles), dtype=np.int8)[i] for i, role in enumerate(roles)
            }
            self._observation_spaces = {
                role: gym.spaces.Dict(
                    {
                        "observation": gym.spaces.Box(0, 1, shape=(len(roles),), dtype=np.int8),
                        "text": text_space(),
                    }
                )
                for role in roles
            }
            self._action_spaces = {role: text_space() for role in roles}
            self.agents: list[str] = []
            self.rewards: dict[str, float] = {}
            self._cumulative_rewards: dict[str, float] = {}
            self.terminations: dict[str, bool] = {}
            self.truncations: dict[str, bool] = {}
            self.infos: dict[str, dict[str, Any]] = {}
            self._texts: dict[str, str] = {}
            self.agent_selection = roles[0]

        def observation_space(self, agent: str) -> gym.spaces.Space:
            return self._observation_spaces[agent]

        def action_space(self, agent: str) -> gym.spaces.Space:
            return self._action_spaces[agent]

        def observe(self, agent: str) -> dict[str, Any]:
            return {"observation": self._one_hot[agent].copy(), "text": self._texts[agent]}

        def reset(self, seed: int | None = None, options: Mapping[str, Any] | None = None) -> None:
            known = {k: v for k, v in (options or {}).items() if k == "difficulty"}
            text, info = self.game.reset(seed=seed, options=known or None)
            self.agents = list(self.possible_agents)
            self.rewards = {a: 0.0 for a in self.agents}
            self._cumulative_rewards = {a: 0.0 for a in self.agents}
            self.terminations = {a: False for a in self.agents}
            self.truncations = {a: False for a in self.agents}
            self.infos = {a: {} for a in self.agents}
            self._texts = {a: "" for a in self.agents}
            role = info["role"]
            self._texts[role] = text
            self.infos[role] = dict(info)
            self.agent_selection = role

        def step(self, action: Any) -> None:
            agent = self.agent_selection
            if self.terminations[agent] or self.truncations[agent]:
                self._was_dead_step(action)
                return
            self._cumulative_rewards[agent] = 0.0
            text, _, terminated, truncated, info = self.game.step(action)
            self.rewards = {a: 0.0 for a in self.agents}
            for role, value in info["rewards"].items():
                if role in self.rewards:
                    self.rewards[role] += float(value)
            if terminated or truncated:
                for a in self.agents:
                    self.terminations[a] = bool(terminated)
                    self.truncations[a] = bool(truncated)
                    self._texts[a] = text
                    self.infos[a] = dict(info)
            else:
                self.infos = {a: {} for a in self.agents}
                role = info["role"]
                self._texts[role] = text
                self.infos[role] = dict(info)
                self.agent_selection = role
            self._accumulate_rewards()
            if terminated or truncated:
                self._deads_step_first()

        def render(self) -> str | None:
            return self.game.render()

        def close(self) -> None:
            self.game.close()

        def __str__(self) -> str:
            return f"LanguageGameAEC({self.game.game_info.id})"

    return LanguageGameAEC
