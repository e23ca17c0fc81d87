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

With ``estimator="slope"`` learning progress is instead read from the last ``W`` scores
``x_1..x_n`` (``n <= W = window``, default 100) as their least-squares slope ``b`` against the
episode index, minus ``z`` of its standard errors (a one-sided test at each end, ~5% for ``z = 2``),
scaled to the change over a window::

    b    = sum_i (i - i_bar)(x_i - x_bar) / Sxx,                Sxx = sum_i (i - i_bar)^2
    s2   = max(sum_i (x_i - x_bar - b (i - i_bar))^2 / (n - 2), 1 / (4 n))
    LP_g = W * max(0, |b| - z * sqrt(s2 / Sxx))                   (z = 2; 0 below 4 scores)

The slope uses every score in the window with equal weight (for a linear trend it is the
minimum-variance unbiased estimate), where the fast/slow gap spends most of its weight on the
last few scores; the standard error comes from the residuals, so a game whose score never moves
(an unlearnable game stuck at 0) has ``LP = 0`` exactly. The floor on ``s2`` keeps a short run
of equal scores from passing as a certain trend.

With ``optimistic=True`` (``"slope"`` only) the bound is turned round, as in an upper-confidence
bandit whose window is its forgetting::

    LP_g = W * (|b| + z * min(se, 1))                    (se = sqrt(s2 / Sxx))

so a game is worth playing while its progress is *plausible*: a game too noisy to judge yet
keeps a share, and one whose score is surely flat (a constant score: ``s2`` at its floor) sinks
to a small one. The lower bound cannot tell those two apart: both give ``LP = 0``.

With ``estimator="learnability"`` the weight is not a trend but how much a game can still
teach now: the variance of its success over the last ``W`` scores,

    p_g  = min(1, max(0, mean of the last W scores))      (1/2 before any score: worth trying)
    LP_g = 4 p_g (1 - p_g)

which is 0 for a game that is always lost or always won and 1 at a success rate of one half.
With a binary (or [0, 1]) reward and a baseline, the expected size of a policy-gradient update
on a game scales with this variance: a game nobody ever wins gives the learner no signal, however
long it is played, and one it always wins gives none either (the "frontier of learnability" of
Foster and Foerster, 2025; the zone of proximal development of Tzannetos et al., 2023). Unlike a
trend it is a *level*, so ~40 episodes measure it well (standard error of p at most 0.08), where
the same window cannot show a slope (below). Its blind spots: chance (a game won by luck a sixth
of the time, a one-move pick among six options, looks as learnable as a hard real one; a flagged
card is what keeps a reward that pays by luck out), and scores that are not success or failure:
``4 p (1 - p)`` is the variance of a 0/1 score, and only an upper bound on that of a graded one,
so a game that always scores 0.5 weighs as much as one won half the time. With graded scores,
call `update` with success (for instance ``float(score >= 1)``) yourself; ``Curriculum-v0``
passes the graded score (return over the game's best return).

With ``per_step=True`` progress is counted per environment step, the unit of most training
budgets, rather than per episode: ``LP_g`` is divided by ``c_g = L_g / mean_h(L_h)``, where
``L_g`` is the running mean episode length (``update(..., steps=n)``, averaged like ``slow_g``)
and the mean runs over the games with a known length (``c_g = 1`` until one is reported). A game
that improves as fast per episode but takes ten times the moves gets a tenth of the weight.

Regress or improve, both count (forgetting is worth revisiting). The sampling weights are::

    q_g = (LP_g / c_g + delta) * (collapse_penalty if collapsed_g else 1)  (delta = 1e-3)
    p_g = epsilon / G + (1 - epsilon) * q_g / sum(q)                       (epsilon = 0.2)

over the ``G`` games kept, after each has been played ``warmup`` times (until then `sample` picks
uniformly among the games below ``warmup``). ``collapsed_g`` is the latest ``collapsed`` flag
passed to `update` (e.g. from `langgames.wrappers.CoverageMonitor`'s ``info["coverage"]``): a
game on which the policy's outputs collapsed is down-weighted, never dropped. A game whose card
(`langgames.registry.get_spec(id).card`, or the ``cards`` argument) says ``"flagged": true`` is
dropped at construction: its reward cannot be trusted, so progress on it is not progress.
Randomness comes only from the critic's own ``numpy.random.Generator``.

**Evidence: the progress estimates on coin flips** (simulated: a stationary Bernoulli game of rate
0.15-0.5, and a ramp from 0.2 to 0.8; "false" is the share of the stationary game's episodes with
``LP > 0``, "detected" the share of the ramp's)::

    estimator                       false   slow ramp (150 ep.)   fast ramp (30 ep.)
    EMA gap, defaults (kappa = 1)    29%          49%                  76%
    EMA gap, kappa = 2                2%          11%                  46%
    slope, W = 40, z = 2              6%          10%                  47%
    slope, W = 100, z = 2             6%          53%                  55%

At 6% false progress the window slope finds a slow ramp as often as the default EMA gap does at
29%; on a fast ramp it is no better than the EMA gap with ``kappa = 2``.

**Evidence with a real learner** (``examples/metacritic_sb3.py``; tables, plot, every run and the
command in ``docs/metacritic_sb3.md``). One MaskablePPO agent on ``Curriculum-v0`` (all copies
sharing one critic). *Design 1* (six games: NumberHunt levels 1-3, two one-move games whose
question lies outside the 128-byte window, and a NumberHunt whose verifier pays the smallest
option, flagged by `langgames.audit.audit_game`; 12,000 steps, 8 seeds): the full critic beat
uniform (held-out 0.48 +- 0.11 vs 0.21 +- 0.13), all of it from the cards (uniform over the
unflagged games: 0.53 +- 0.09); learning progress added nothing. Reasons measured: noise (the
false-progress rate above; the largest weight > 1.5x uniform at 54% of checkpoints, a different
game each time), the budget is steps while the critic chose episodes (the unlearnable games were
one-move episodes, 4-5% of the steps), and transfer among the NumberHunt levels. That design
also made the goal metric vacuous: the broken game shared NumberHunt's prompts, and uniform
sampling ended below the untrained policy.

*Design 3* (eight games: the three NumberHunt levels; two *long* unlearnable games, NumberHunt at
levels 2 and 3 with the answers outside the window and the midpoint hidden among decoys, 14 and 20
moves an episode, 44% of uniform's steps; the two one-move games; a broken game with its own
prompts paying an option slot NumberHunt never offers; 4,000 steps, 12 seeds), final held-out
success (mean of the seven trusted games, 95% t-interval): uniform 0.32 +- 0.07, metacritic 0.27 +-
0.08, lp_only 0.28 +- 0.08, cards_only 0.32 +- 0.09, metacritic_ucb 0.30 +- 0.06. No arm beats
uniform, and "steps to reach uniform's final" has no finite bootstrap interval for any arm. With
about 50 episodes per game per run, the lower-bound estimate (``"slope"``, W = 40, ``per_step``)
sees no progress anywhere most of the time: the full critic's weights were exactly uniform at 91%
of its checkpoints, so it behaves like "cards only". The upper bound (``optimistic=True``) does
reallocate: the long unlearnable games fall from 44% to 30% of the steps and the learnable ones
rise from 50% to 67%, but the learner does not turn the extra steps into held-out success in this
budget (its curve is as flat as uniform's; per-seed outcomes are bimodal: the deterministic policy
either picks the middle option or not).

*Design 4* (design 3's games and learner, 20,000 steps, held-out play *sampled* from the policy
rather than greedy, whose score jumped between two modes per seed) adds ``"learnability"``. Its
weights follow the frontier: early on NumberHunt levels 1-2 weigh most, later level 3; the fog
games sit at the exploration floor. It puts 85% of the steps on the learnable games (uniform:
51%; the long unlearnable ones get 11% instead of 44%). On 20 seeds the learnability arms were
the fastest (steps to uniform's final held-out success 10,000-12,000 vs 20,000) while the slope
estimates again stayed near uniform. A confirmatory run on 40 fresh seeds, declared before it
ran (design 4b): the full critic with learnability (cards, ``estimator="learnability"``,
``window=40``, coverage penalty) reached uniform's final held-out success (0.335) in 10,000
steps [95% bootstrap: 8,000, 16,000] against uniform's 20,000 [10,000, never]; its steps over
uniform's, resampled together, lie in [0.40, 0.80]; it ended higher (0.385 +- 0.018 vs 0.335 +-
0.027) and spent 0% of its steps on the flagged game, but its steps interval overlapped
uniform's (the goal asked for disjoint ones). A larger replication declared after that (design 4c,
80 fresh seeds): 12,000 steps [8,000, 14,000] against uniform's 20,000 [16,000, never], final
0.372 +- 0.016 vs 0.329 +- 0.017, 0% of the steps on the flagged game. The steps ratio,
resampled together, lies in [0.40, 0.75]: faster with confidence, 1.7-2x at the point estimates,
at least 1.3x at 95%.

So the defaults are unchanged (``estimator="ema"``, ``per_step=False``, ``optimistic=False``): the
estimators answer different questions, and ``"learnability"`` values a game won half the time by
chance as highly as a half-learnt one (a coin is not progress, which is what the default
measures). For binary-success games and an on-policy learner, ``"learnability"`` with ``window``
about 40 is the estimate with evidence: pass it to ``Curriculum-v0`` as
``critic={"estimator": "learnability", "window": 40}``. ``"slope"`` is the better-calibrated trend
when a game gets a few hundred episodes; ``optimistic=True`` moves budget away from games that
are surely flat when there are too few episodes to prove progress anywhere.

>>> critic = MetaCritic(["langgames/BaseConvert-v0", "langgames/Countdown-v0"], seed=0)
>>> game = critic.sample()
>>> critic.update(game, 1.0)
>>> round(sum(critic.weights().values()), 6)
1.0
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

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
    recent: deque[float] = field(default_factory=deque)  # the last `window` scores
    steps: float = 0.0  # running mean episode length (0 until a length is reported)
    timed: int = 0  # episodes whose length was reported


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
        estimator: ``"ema"`` (default: the fast/slow gap), ``"slope"`` (the least-squares
            slope of the last ``window`` scores, discounted by ``z`` standard errors) or
            ``"learnability"`` (``4 p (1 - p)`` of the mean score ``p`` of the last ``window``).
        window, z: the window (episodes) of ``"slope"`` and ``"learnability"``; the discount of
            ``"slope"``.
        per_step: divide each game's progress by its running mean episode length (relative to
            the games' average), so progress is counted per environment step, the unit of most
            training budgets. Needs the lengths: pass ``steps=`` to `update`.
        optimistic: with ``"slope"``, rank games by the *upper* confidence bound of their
            progress (``|b| + z se``): a game whose progress is uncertain is worth playing, one
            that is surely flat is not.
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
        estimator: Literal["ema", "slope", "learnability"] = "ema",
        window: int = 100,
        z: float = 2.0,
        per_step: bool = False,
        optimistic: bool = False,
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
        if estimator not in ("ema", "slope", "learnability"):
            raise InvalidArgument(
                f"estimator must be 'ema', 'slope' or 'learnability' (got {estimator!r})"
            )
        if int(window) != window or window < 4 or z < 0:
            raise InvalidArgument(f"need an integer window >= 4 and z >= 0 (got {window}, {z})")
        self.estimator, self.window, self.z, self.per_step = estimator, int(window), z, per_step
        self.optimistic = optimistic
        if optimistic and estimator != "slope":
            raise InvalidArgument("optimistic=True needs estimator='slope' (a standard error)")
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
        """``LP_g``: noise-discounted learning progress per episode (see the module docstring):
        the fast/slow gap (``estimator="ema"``), the window's slope times ``window``
        (``"slope"``) or ``4 p (1 - p)`` of the window's mean score (``"learnability"``). Not
        divided by the episode length (`weights` does that with ``per_step``).
        """
        s = self._stats[self._check(game_id)]
        if self.estimator == "learnability":
            p = min(1.0, max(0.0, sum(s.recent) / len(s.recent))) if s.recent else 0.5
            return 4.0 * p * (1.0 - p)
        if self.estimator == "slope":
            b, se = _slope(s.recent)
            if self.optimistic:  # the upper confidence bound: plausible progress
                return self.window * (abs(b) + self.z * min(se, 1.0))
            return self.window * max(0.0, abs(b) - self.z * se)
        noise = math.sqrt(max(s.var, 0.0) * self.fast / (2 - self.fast))
        return max(0.0, abs(s.fast - s.slow) - self.kappa * noise)

    def episode_steps(self, game_id: str) -> float:
        """The running mean episode length of ``game_id`` (0 until `update` got a ``steps=``)."""
        return self._stats[self._check(game_id)].steps

    def weights(self) -> dict[str, float]:
        """``p_g`` for every kept game (sums to 1)."""
        g = len(self.game_ids)
        cost = {gid: 1.0 for gid in self.game_ids}
        if self.per_step:
            timed = [s.steps for s in self._stats.values() if s.timed]
            mean = sum(timed) / len(timed) if timed else 1.0
            cost = {gid: (s.steps / mean if s.timed else 1.0) for gid, s in self._stats.items()}
        q = {
            gid: (self.progress(gid) / max(cost[gid], 1e-9) + 1e-3)
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

    def update(
        self,
        game_id: str,
        score: float,
        *,
        collapsed: bool | None = None,
        steps: int | None = None,
    ) -> None:
        """Record an episode's ``score`` on ``game_id`` (and, optionally, its coverage state and
        its length in environment ``steps``, which ``per_step`` weighs progress by)."""
        s = self._stats[self._check(game_id)]
        x = float(score)
        if not math.isfinite(x):
            raise InvalidArgument(f"score must be a finite number (got {score!r} for {game_id})")
        if steps is not None:
            if not (isinstance(steps, int | np.integer) and steps >= 1):
                raise InvalidArgument(f"steps must be a positive int (got {steps!r} for {game_id})")
            s.timed += 1
            s.steps += max(self.slow, 1 / s.timed) * (int(steps) - s.steps)
        s.recent.append(x)
        if len(s.recent) > self.window:
            s.recent.popleft()
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
                "slope": round(_slope(s.recent)[0], 5),
                "slope_se": round(_slope(s.recent)[1], 5),
                "episode_steps": round(s.steps, 2),
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


def _slope(xs: Iterable[float]) -> tuple[float, float]:
    """Least-squares slope of ``xs`` against 0, 1, 2, ... and its standard error.

    ``se = sqrt(s2 / Sxx)`` with ``s2`` the residual variance (``n - 2`` degrees of freedom),
    floored at ``1 / (4 n)`` (the variance of a score that is right half the time, shrunk by the
    window: a short run of identical scores is no proof of a trend). ``(0, inf)`` below 4 scores.
    """
    y = np.asarray(list(xs), dtype=float)
    n = len(y)
    if n < 4:
        return 0.0, math.inf
    t = np.arange(n) - (n - 1) / 2
    sxx = float(t @ t)
    b = float(t @ (y - y.mean())) / sxx
    resid = y - y.mean() - b * t
    s2 = max(float(resid @ resid) / (n - 2), 1 / (4 * n))
    return b, math.sqrt(s2 / sxx)


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
