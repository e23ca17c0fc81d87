"""The meta-critic: chooses which game to play next from measured learning progress and reliability.

`MetaCritic` keeps, for every game ``g`` it may choose, three running statistics of the episode
scores ``x`` it is told about (`MetaCritic.update`), each an exponential moving average::

    fast_g  <- fast_g + max(a_f, 1/n) * (x - fast_g)             (a_f = fast, default 0.2)
    slow_g  <- slow_g + max(a_s, 1/n) * (x - slow_g)             (a_s = slow, default 0.02)
    var_g   <- var_g  + max(a_s, 1/n) * ((x - slow_g)^2 - var_g) (noise around the slow average)

where ``n`` is the number of scores seen on ``g`` so far, this one included (so early on each
average is the plain mean, and neither starts biased towards the first score).

Learning progress is the gap between the fast and the slow average, minus what noise alone would
produce (a stationary score of standard deviation ``sigma`` moves the fast average by about
``sigma * sqrt(a_f / (2 - a_f))``)::

    LP_g = max(0, |fast_g - slow_g| - kappa * sqrt(var_g * a_f / (2 - a_f)))    (kappa = 1)

Regress or improve, both count (forgetting is worth revisiting). The sampling weights are::

    q_g = (LP_g + delta) * (collapse_penalty if collapsed_g else 1)     (delta = 1e-3)
    p_g = epsilon / G + (1 - epsilon) * q_g / sum(q)                    (epsilon = 0.2)

over the ``G`` games kept, after each has been played ``warmup`` times (until then `sample` picks
uniformly among the games below ``warmup``). ``collapsed_g`` is the latest ``collapsed`` flag
passed to `update` (e.g. from `langgames.wrappers.CoverageMonitor`'s ``info["coverage"]``): a
game on which the policy's outputs collapsed is down-weighted, never dropped. A game whose card
(`langgames.registry.get_spec(id).card`, or the ``cards`` argument) says ``"flagged": true`` is
dropped at construction: its reward cannot be trusted, so progress on it is not progress.
Randomness comes only from the critic's own ``numpy.random.Generator``.

**Evidence with a real learner** (``examples/metacritic_sb3.py``; table, plot and command in
``docs/metacritic_sb3.md``). One MaskablePPO agent on ``Curriculum-v0`` (all copies of the env
sharing one critic), six arms: NumberHunt levels 1-3 (learnable), BaseConvert and LightsOut with
the question outside the 128-byte observation window (unlearnable), and a NumberHunt whose verifier
pays the smallest option (flagged by `langgames.audit.audit_game`: reference pass rate 0.70).
12,000 steps, 8 seeds; held-out success on `EVAL_SEEDS` over the five trusted games, mean and 95%
t-interval: uniform 0.21 +- 0.13, learning progress only 0.29 +- 0.16, cards only (uniform over
unflagged games) 0.53 +- 0.09, full critic 0.48 +- 0.11, full critic with ``kappa=2`` 0.47 +- 0.11.
The full critic beats uniform with non-overlapping intervals, and all of that comes from the
cards: the broken game teaches "pick the smallest option" on prompts identical to NumberHunt's, and
uniform sampling ends *below* the untrained policy (0.40). Learning progress adds nothing
measurable (full critic vs cards only: -0.05, well inside the noise), for three reasons measured:

1. *Noise in the estimate.* With Bernoulli episode scores (``sigma`` ~ 0.45) the discount is
   ``kappa * sigma * sqrt(a_f / (2 - a_f))`` ~ 0.15, yet at the defaults a stationary game shows
   ``LP_g > 0`` in 28-42% of its episodes (simulated coin flips of rate 0.15-0.5), so the weights
   chase noise: in the PPO runs the largest weight was > 1.5x uniform at 54% of the checkpoints,
   on a different game each time. The estimator has little room: for a success rate rising from
   0.2 to 0.8 over 150 episodes (a fast learner) the lag gap is ``slope * (1/a_s - 1/a_f)`` ~ 0.18,
   about one noise sd. Sweeping (fast, slow, kappa) over (0.05-0.2, 0.01-0.02, 1-2), no setting
   both keeps false progress under 5% and flags the ramp more than 28% of the time; ``kappa=2``
   (false progress 1-3%, ramp flagged 9%) leaves the critic near-uniform (max weight > 1.5x uniform
   at 3% of checkpoints) and performs like the defaults (0.47 vs 0.48).
2. *Budget is steps, the critic picks episodes.* Learning progress did move *episodes* away from
   the unlearnable games (their mean weight 0.15 vs 0.20 under uniform), but those are one-move
   episodes, 4-5% of the steps under uniform sampling: the most any reallocation away from them
   can save. The learnable levels' long episodes (5-20 moves) take 90%+ of the steps whatever the
   weights.
3. *Transfer.* The three NumberHunt levels share one skill (pick the middle option), so progress
   on one is progress on all, and choosing among them cannot buy much.

So the defaults are unchanged: trust the cards first, and read learning progress from episode
scores as a weak signal. A mixture where it should matter has expensive games that stop teaching
(long unlearnable or mastered episodes), and scores less noisy than one Bernoulli per episode.

>>> critic = MetaCritic(["langgames/BaseConvert-v0", "langgames/Countdown-v0"], seed=0)
>>> game = critic.sample()
>>> critic.update(game, 1.0)
>>> round(sum(critic.weights().values()), 6)
1.0
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from langgames.errors import InvalidArgument, UnknownGame, did_you_mean

__all__ = ["MetaCritic"]


@dataclass
class _Stats:
    visits: int = 0
    fast: float = 0.0
    slow: float = 0.0
    var: float = 0.0
    collapsed: bool = False
    last: float = 0.0


class MetaCritic:
    """Samples games in proportion to noise-aware learning progress (see the module docstring).

    Args:
        game_ids: the games to choose from: registered ids, in full or short form
            (``"NumberHunt-v0"`` becomes ``"langgames/NumberHunt-v0"``), or names ``cards``
            covers. Any other name raises `UnknownGame` with the registry's "did you mean".
        seed: seed of the critic's own generator.
        cards: measured cards by id; default: the registry's stored card of each id (``None`` for
            an unregistered name, which is then kept as "not audited").
        drop_flagged: leave out games whose card is flagged (default True).
        epsilon: exploration floor, the share of samples spread uniformly.
        fast, slow: the two moving-average rates (``0 < slow < fast <= 1``).
        kappa: how many noise standard deviations of the fast average are discounted.
        warmup: plays of each game before progress decides.
        collapse_penalty: weight multiplier of a game whose coverage collapsed.
    """

    def __init__(
        self,
        game_ids: Iterable[str],
        *,
        seed: int | None = None,
        cards: Mapping[str, Mapping[str, Any] | None] | None = None,
        drop_flagged: bool = True,
        epsilon: float = 0.2,
        fast: float = 0.2,
        slow: float = 0.02,
        kappa: float = 1.0,
        warmup: int = 3,
        collapse_penalty: float = 0.2,
    ) -> None:
        if isinstance(game_ids, str):
            raise InvalidArgument(
                f"MetaCritic expects a list of game ids, e.g. ['NumberHunt-v0', 'Countdown-v0'] "
                f"(got the string {game_ids!r})"
            )
        ids = list(dict.fromkeys(_normalise(g, cards) for g in game_ids))
        if not ids:
            raise InvalidArgument("MetaCritic needs at least one game id (got none)")
        if not 0 < slow < fast <= 1:
            raise InvalidArgument(f"need 0 < slow < fast <= 1 (got slow={slow}, fast={fast})")
        if not 0 <= epsilon <= 1 or not 0 <= collapse_penalty <= 1:
            raise InvalidArgument(
                "epsilon and collapse_penalty must lie in [0, 1] "
                f"(got {epsilon}, {collapse_penalty})"
            )
        self.epsilon, self.fast, self.slow = epsilon, fast, slow
        self.kappa, self.warmup, self.collapse_penalty = kappa, warmup, collapse_penalty
        self.dropped: dict[str, list[str]] = {}
        self.cards: dict[str, Mapping[str, Any] | None] = {}
        for gid in ids:
            card = cards[gid] if cards is not None and gid in cards else _registry_card(gid)
            self.cards[gid] = card
            if drop_flagged and card is not None and card.get("flagged"):
                self.dropped[gid] = list(card.get("flags") or ["flagged"])
        self.game_ids = [g for g in ids if g not in self.dropped]
        if not self.game_ids:
            raise InvalidArgument(
                f"every game given to MetaCritic is flagged unreliable by its card: {self.dropped}."
                " Fix the games and re-run `langgames audit`, or pass drop_flagged=False"
            )
        self._stats = {g: _Stats() for g in self.game_ids}
        self._rng = np.random.default_rng(seed)
        self.samples = 0

    # ------------------------------------------------------------------ the rule
    def progress(self, game_id: str) -> float:
        """``LP_g``: the noise-discounted gap between the fast and slow score averages."""
        s = self._stats[self._check(game_id)]
        noise = math.sqrt(max(s.var, 0.0) * self.fast / (2 - self.fast))
        return max(0.0, abs(s.fast - s.slow) - self.kappa * noise)

    def weights(self) -> dict[str, float]:
        """``p_g`` for every kept game (sums to 1)."""
        g = len(self.game_ids)
        q = {
            gid: (self.progress(gid) + 1e-3)
            * (self.collapse_penalty if self._stats[gid].collapsed else 1.0)
            for gid in self.game_ids
        }
        total = sum(q.values())
        if total <= 0:  # every game collapsed with collapse_penalty=0
            return {gid: 1.0 / g for gid in self.game_ids}
        return {gid: self.epsilon / g + (1 - self.epsilon) * q[gid] / total for gid in q}

    def sample(self) -> str:
        """The next game to play."""
        self.samples += 1
        cold = [g for g in self.game_ids if self._stats[g].visits < self.warmup]
        if cold:
            return cold[int(self._rng.integers(len(cold)))]
        w = self.weights()
        p = np.array([w[g] for g in self.game_ids])
        return self.game_ids[int(self._rng.choice(len(p), p=p / p.sum()))]

    def update(self, game_id: str, score: float, *, collapsed: bool | None = None) -> None:
        """Record an episode's ``score`` on ``game_id`` (and, optionally, its coverage state)."""
        s = self._stats[self._check(game_id)]
        x = float(score)
        if not math.isfinite(x):
            raise InvalidArgument(f"score must be a finite number (got {score!r} for {game_id})")
        s.visits += 1
        n = s.visits
        s.fast += max(self.fast, 1 / n) * (x - s.fast)
        s.slow += max(self.slow, 1 / n) * (x - s.slow)
        s.var += max(self.slow, 1 / n) * ((x - s.slow) ** 2 - s.var)
        s.last = x
        if collapsed is not None:
            s.collapsed = bool(collapsed)

    def report(self) -> dict[str, Any]:
        """Every game's statistics and weight, and the dropped games with their card's flags."""
        w = self.weights()
        games = {
            gid: {
                "visits": s.visits,
                "fast": round(s.fast, 4),
                "slow": round(s.slow, 4),
                "noise_sd": round(math.sqrt(max(s.var, 0.0)), 4),
                "progress": round(self.progress(gid), 4),
                "collapsed": s.collapsed,
                "weight": round(w[gid], 4),
                "audited": self.cards.get(gid) is not None,
            }
            for gid, s in self._stats.items()
        }
        return {"samples": self.samples, "games": games, "dropped": dict(self.dropped)}

    def _check(self, game_id: str) -> str:
        if game_id in self._stats:
            return game_id
        if game_id in self.dropped:
            raise InvalidArgument(
                f"{game_id} was dropped: its card is flagged ({'; '.join(self.dropped[game_id])})"
            )
        raise UnknownGame(
            f"MetaCritic does not choose among {game_id!r}.{did_you_mean(game_id, self.game_ids)}"
            f" Its games: {', '.join(self.game_ids)}."
        )


def _normalise(game_id: Any, cards: Mapping[str, Any] | None) -> str:
    """The registered id of ``game_id`` (short forms made full); a name ``cards`` covers as is."""
    from langgames.registry import get_spec

    if not isinstance(game_id, str):
        raise InvalidArgument(f"a game id must be a str such as 'NumberHunt-v0' (got {game_id!r})")
    if cards is not None and game_id in cards:
        return game_id
    return get_spec(game_id).id  # UnknownGame, with "did you mean", for anything else


def _registry_card(game_id: str) -> Mapping[str, Any] | None:
    from langgames.registry import get_spec

    try:
        return get_spec(game_id).card
    except UnknownGame:
        return None
