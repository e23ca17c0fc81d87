"""Policies: anything that turns an observation into an action.

A policy is a callable ``policy(observation, info, env) -> str``. ``env`` is the game itself
(``env.unwrapped``), which only privileged policies such as `reference` may look into.

>>> import gymnasium as gym, langgames
>>> env = gym.make("langgames/BaseConvert-v0").unwrapped
>>> obs, info = env.reset(seed=0)
>>> reference(obs, info, env) == env.reference_action()
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from langgames.core import LanguageGame

__all__ = ["Policy", "RandomText", "Scripted", "reference"]

Policy = Callable[[str, Mapping[str, Any], LanguageGame], str]

_ALPHABET = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789 +-*/=()[]{}.,:;'\"\n"))


def reference(observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
    """The game's reference solver (an oracle: it reads the hidden instance)."""
    return env.reference_action()


class RandomText:
    """Random short text from a small alphabet of letters, digits and punctuation.

    It is the "random policy" baseline that exploit probes are compared with. Its own generator
    is seeded once; it never touches the global random state.
    """

    def __init__(self, seed: int = 0, max_length: int = 24) -> None:
        self._rng = np.random.default_rng(seed)
        self._max_length = max_length

    def __call__(self, observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
        candidates = info.get("candidate_actions")
        if candidates and self._rng.random() < 0.5:
            return str(candidates[int(self._rng.integers(len(candidates)))])
        n = int(self._rng.integers(0, self._max_length + 1))
        return "".join(self._rng.choice(_ALPHABET, size=n))


class Scripted:
    """Plays the given actions in order, then falls back to ``then`` (default: the reference)."""

    def __init__(self, actions: list[str], then: Policy = reference) -> None:
        self._actions = list(actions)
        self._then = then
        self._i = 0

    def __call__(self, observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
        if self._i < len(self._actions):
            self._i += 1
            return self._actions[self._i - 1]
        return self._then(observation, info, env)
