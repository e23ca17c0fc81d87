"""Learned proxy rewards that cannot be hacked: potential-based shaping from a learned potential.

A sparse game (reward only when the secret is found, the program passes, ...) gives a learner
little signal. A *learned* reward model would add signal but can be gamed: a policy finds states
the model overrates and farms them. `ProxyReward` adds signal a policy cannot farm:

    shaping_t = beta * (gamma * phi(s_{t+1}) - phi(s_t)),      phi(end of episode) = 0

This is potential-based shaping (Ng, Harada & Russell, 1999). With ``gamma = 1`` the shaping of an
episode telescopes to ``-beta * phi(s_0)``: a constant fixed by the first observation, whatever
the policy does, so every policy's expected return moves by the same amount and the optimal
policy is unchanged; there is nothing to hack. (With ``gamma < 1`` the same holds for the
``gamma``-discounted return.) The episode's end, terminated *or* truncated, has potential 0, so
stalling until truncation earns no shaping either.

**The potential is learned** from the real reward. States are keyed by ``(role to act,
feature)``; the default feature is a hash of the observation's normalised text (lower case,
whitespace collapsed), or give ``featurize(observation, info) -> hashable``. At the end of every
episode each visited state's potential moves toward the discounted real return that followed it
(``phi += rate * (G_t - phi)``), so states that used to lead to reward and stop doing so *lose*
their potential geometrically. Potentials are read when a state is observed and reused for that
state's transition out, and the table is updated only at the episode's end, so the telescoping
above holds exactly for every episode, even while the potential learns.

The shaping is on the scalar reward stream (the reward of the role that acted). In multi-role
self-play the potential of a state is the return of the scalar stream that followed it; to shape
one role's reward, fix the other roles with ``opponents=``.

Every step reports ``info["real_reward"]`` (the game's reward), ``info["proxy_reward"]`` (the
shaping) and ``info["potential"]`` (``phi`` of the new state); the step's reward is their sum.

>>> import gymnasium as gym, langgames
>>> env = ProxyReward(gym.make("langgames/NumberHunt-v0"), beta=0.5)
>>> obs, info = env.reset(seed=0)
>>> obs, reward, terminated, truncated, info = env.step("guess: 50")
>>> info["real_reward"], info["proxy_reward"]
(0.0, 0.0)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping
from typing import Any, SupportsFloat

import gymnasium as gym

from langgames.errors import InvalidArgument

__all__ = ["ProxyReward", "text_feature"]

#: A state feature: ``featurize(observation, info) -> hashable``.
Featurizer = Callable[[Any, Mapping[str, Any]], Hashable]


def text_feature(observation: Any, info: Mapping[str, Any]) -> str:
    """The default feature: a stable hash of the observation's normalised text.

    Lower case with whitespace collapsed, hashed with BLAKE2b (the same in every process, unlike
    ``hash``). A non-text observation is hashed through its ``repr``.
    """
    text = observation if isinstance(observation, str) else repr(observation)
    normalised = " ".join(text.lower().split())
    return hashlib.blake2b(normalised.encode("utf-8"), digest_size=8).hexdigest()


class ProxyReward(gym.Wrapper[Any, Any, Any, Any]):
    """Adds a learned, potential-based shaping reward (see the module docstring).

    Args:
        env: a langgames env (or any env whose ``info`` may name the acting ``role``).
        beta: scale of the shaping (>= 0; 0 turns it off while still learning the potential).
        gamma: discount of the shaping and of the real return the potential estimates, in
            ``(0, 1]``. Use 1 (the default) for undiscounted episodic training.
        rate: step size of the potential's running estimate, in ``(0, 1]``.
        featurize: ``featurize(observation, info) -> hashable``; default `text_feature`.
        initial: the potential of a state never seen.
        learn: update the potential at each episode's end (``False`` freezes it).

    Contract: ``reward = info["real_reward"] + info["proxy_reward"]``; over one episode with
    ``gamma = 1`` the ``proxy_reward`` values sum to ``-beta * phi(s_0)``, ``phi(s_0)`` being
    ``info["potential"]`` after ``reset``.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        *,
        beta: float = 0.1,
        gamma: float = 1.0,
        rate: float = 0.1,
        featurize: Featurizer | None = None,
        initial: float = 0.0,
        learn: bool = True,
    ) -> None:
        super().__init__(env)
        if not beta >= 0:
            raise InvalidArgument(f"beta must be >= 0 (got {beta!r}); e.g. beta=0.1")
        if not 0 < gamma <= 1:
            raise InvalidArgument(f"gamma must be in (0, 1] (got {gamma!r}); e.g. gamma=1.0")
        if not 0 < rate <= 1:
            raise InvalidArgument(f"rate must be in (0, 1] (got {rate!r}); e.g. rate=0.1")
        if featurize is not None and not callable(featurize):
            raise InvalidArgument(
                "featurize must be callable as featurize(observation, info) -> hashable "
                f"(got {type(featurize).__name__})"
            )
        self.beta = float(beta)
        self.gamma = float(gamma)
        self.rate = float(rate)
        self.featurize: Featurizer = featurize or text_feature
        self.initial = float(initial)
        self.learn = learn
        #: The learned potential: ``{(role, feature): estimated discounted real return}``.
        self.table: dict[tuple[str | None, Hashable], float] = {}
        self._trajectory: list[tuple[tuple[str | None, Hashable], float]] = []
        self._key: tuple[str | None, Hashable] | None = None
        self._phi = 0.0

    def potential(self, observation: Any, info: Mapping[str, Any]) -> float:
        """``phi`` of a (non-final) state, as currently learned."""
        return self.table.get(self._state_key(observation, info), self.initial)

    def _state_key(self, observation: Any, info: Mapping[str, Any]) -> tuple[str | None, Hashable]:
        return (info.get("role"), self.featurize(observation, info))

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._trajectory = []
        self._key = self._state_key(obs, info)
        self._phi = self.table.get(self._key, self.initial)
        return obs, {**info, "potential": self._phi}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._key is None:
            raise InvalidArgument("ProxyReward.step() needs a running episode: call reset() first")
        obs, reward, terminated, truncated, info = self.env.step(action)
        real = float(reward)
        self._trajectory.append((self._key, real))
        done = terminated or truncated
        if done:
            key, phi_next = None, 0.0
        else:
            key = self._state_key(obs, info)
            phi_next = self.table.get(key, self.initial)
        shaping = self.beta * (self.gamma * phi_next - self._phi)
        self._key, self._phi = key, phi_next
        if done:
            self._learn()
        info = {**info, "real_reward": real, "proxy_reward": shaping, "potential": phi_next}
        return obs, real + shaping, terminated, truncated, info

    def _learn(self) -> None:
        if self.learn:
            ret = 0.0
            for key, real in reversed(self._trajectory):
                ret = real + self.gamma * ret
                old = self.table.get(key, self.initial)
                self.table[key] = old + self.rate * (ret - old)
        self._trajectory = []
