"""Wrappers over langgames envs. `CoverageMonitor` watches the diversity of a policy's own outputs.

A policy trained with RL on a game can *collapse*: it ends up emitting one string (or a handful)
whatever it is shown. `CoverageMonitor` keeps the last ``window`` actions and, after every step,
reports in ``info["coverage"]``:

* ``distinct_1`` / ``distinct_2``: distinct word unigrams / bigrams over all of them in the window
  (`langgames.diversity`, the same definitions as the audit's cards);
* ``compression_ratio``: raw bytes / gzip bytes of the window's actions joined by newlines;
* ``duplicate_rate``: ``1 - distinct actions / actions`` in the window;
* ``collapsed``: once the window holds at least ``min_samples`` actions, True when any threshold
  is crossed::

      duplicate_rate >= max_duplicate_rate       (default 0.8)
      or distinct_2 <= min_distinct_2            (default 0.05)
      or compression_ratio >= max_compression    (default 12.0)

The thresholds are arguments; defaults are set so that a constant policy collapses within
``min_samples`` steps while random text, or a policy answering different instances differently,
does not. `CoverageTracker` is the same measurement without an env, for training loops that score
text themselves (and for `langgames.metacritic.MetaCritic.update(..., collapsed=...)`).

>>> import gymnasium as gym, langgames
>>> env = CoverageMonitor(gym.make("langgames/BaseConvert-v0"), min_samples=5)
>>> obs, info = env.reset(seed=0)
>>> for _ in range(5):
...     obs, r, term, trunc, info = env.step("42")
...     if term or trunc:
...         obs, _ = env.reset()
>>> info["coverage"]["collapsed"]
True
"""

from __future__ import annotations

from collections import deque
from typing import Any, SupportsFloat

import gymnasium as gym

from langgames.chat import ChatMessages, to_chat
from langgames.diversity import compression_ratio, distinct_n, duplicate_rate
from langgames.errors import InvalidArgument
from langgames.integrations.sb3 import CandidateActions, TokenizeObservation
from langgames.proxy import ProxyReward
from langgames.recording import RecordEpisodes

# Every wrapper a trainer wants, importable from here; each lives in its own module.
__all__ = [
    "CandidateActions",
    "ChatMessages",
    "CoverageMonitor",
    "CoverageTracker",
    "ProxyReward",
    "RecordEpisodes",
    "RoleReturns",
    "TokenizeObservation",
    "to_chat",
]


class CoverageTracker:
    """Diversity of the last ``window`` texts (see the module docstring for the statistics)."""

    def __init__(
        self,
        window: int = 64,
        *,
        min_samples: int = 16,
        max_duplicate_rate: float = 0.8,
        min_distinct_2: float = 0.05,
        max_compression: float = 12.0,
    ) -> None:
        if window < 2 or min_samples < 2 or min_samples > window:
            raise InvalidArgument(
                f"need 2 <= min_samples <= window (got window={window}, "
                f"min_samples={min_samples}); e.g. CoverageTracker(window=64, min_samples=16)"
            )
        self.window = window
        self.min_samples = min_samples
        self.max_duplicate_rate = max_duplicate_rate
        self.min_distinct_2 = min_distinct_2
        self.max_compression = max_compression
        self._texts: deque[str] = deque(maxlen=window)
        self.total = 0

    def add(self, text: str) -> dict[str, Any]:
        """Record one text; return the current statistics."""
        self._texts.append(text if isinstance(text, str) else repr(text))
        self.total += 1
        return self.stats()

    def stats(self) -> dict[str, Any]:
        texts = list(self._texts)
        n = len(texts)
        ratio = compression_ratio(texts)
        duplicate = duplicate_rate(texts)
        d2 = distinct_n(texts, 2)
        collapsed = n >= self.min_samples and (
            duplicate >= self.max_duplicate_rate
            or d2 <= self.min_distinct_2
            or ratio >= self.max_compression
        )
        return {
            "window": n,
            "distinct_1": round(distinct_n(texts, 1), 4),
            "distinct_2": round(d2, 4),
            "compression_ratio": round(ratio, 3),
            "duplicate_rate": round(duplicate, 4),
            "collapsed": collapsed,
        }

    def reset(self) -> None:
        self._texts.clear()
        self.total = 0


class CoverageMonitor(gym.Wrapper[str, str, str, str]):
    """Adds ``info["coverage"]`` (diversity of the actions played) after every step.

    The window spans episodes (collapse shows across instances, not within one), so the statistics
    survive ``reset``; call `CoverageMonitor.tracker`'s ``reset()`` to start over. Arguments are
    those of `CoverageTracker`.
    """

    def __init__(self, env: gym.Env[str, str], window: int = 64, **thresholds: Any) -> None:
        super().__init__(env)
        self.tracker = CoverageTracker(window, **thresholds)

    def step(self, action: str) -> tuple[str, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        info = {**info, "coverage": self.tracker.add(action)}
        return obs, reward, terminated, truncated, info

    @property
    def collapsed(self) -> bool:
        return bool(self.tracker.stats()["collapsed"])


class RoleReturns(gym.Wrapper[Any, Any, Any, Any]):
    """Per-role returns of the running episode in ``info["role_returns"]``, after every step.

    ``step`` returns as ``reward`` what the role that just moved earned; rewards that a move
    assigns to *other* roles (a proposer rewarded once the solvers have answered) are only in
    ``info["rewards"]``. Gymnasium's `RecordEpisodeStatistics` sums the scalar rewards, so on a
    multi-role game its ``info["episode"]["r"]`` mixes every role. This wrapper keeps one return
    per role, summed from ``info["rewards"]``:

    * ``info["role_returns"]`` maps every role of the game to its return so far (``0.0`` after
      ``reset``): one type in every state, so vector envs merge it; at the end of an episode it
      holds the episode's returns.
    * ``reward_role="solver"`` makes the scalar ``reward`` that role's reward in the step (0.0
      when the step gives it nothing), so ``RecordEpisodeStatistics(RoleReturns(env,
      reward_role="solver"))`` records the solver's return.

    >>> import gymnasium as gym, langgames
    >>> env = RoleReturns(gym.make("langgames/BugHunt-v0"))
    >>> _, info = env.reset(seed=1)
    >>> sorted(info["role_returns"])
    ['coder', 'tester']
    """

    def __init__(self, env: gym.Env[Any, Any], *, reward_role: str | None = None) -> None:
        super().__init__(env)
        info = getattr(env.unwrapped, "game_info", None)
        self.roles: tuple[str, ...] = tuple(info.roles) if info is not None else ()
        if reward_role is not None and reward_role not in self.roles:
            from langgames.errors import did_you_mean

            raise InvalidArgument(
                f"reward_role {reward_role!r} is not a role of this game."
                f"{did_you_mean(str(reward_role), self.roles)} Its roles are: "
                f"{', '.join(self.roles) or '(none: not a langgames game)'}."
            )
        self.reward_role = reward_role
        self._returns: dict[str, float] = dict.fromkeys(self.roles, 0.0)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self._returns = dict.fromkeys(self.roles, 0.0)
        self._add(info.get("rewards", {}))  # opponents that moved inside reset
        return obs, {**info, "role_returns": dict(self._returns)}

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        rewards = info.get("rewards", {})
        self._add(rewards)
        if self.reward_role is not None:
            reward = float(rewards.get(self.reward_role, 0.0))
        return obs, reward, terminated, truncated, {**info, "role_returns": dict(self._returns)}

    def _add(self, rewards: Any) -> None:
        for role, value in dict(rewards).items():
            self._returns[role] = self._returns.get(role, 0.0) + float(value)
