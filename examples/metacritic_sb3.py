"""Does the meta-critic teach a real learner faster? MaskablePPO on `Curriculum-v0`, seven arms.

One MaskablePPO agent (stable-baselines3 + sb3-contrib) plays ``langgames/Curriculum-v0`` through
``TokenizeObservation(CandidateActions(curriculum, k=6), max_length=128)``, so every game shares
one observation space (128 byte ids: the end of the prompt and the numbered options) and one
``Discrete(6)`` action space. ``ByteEmbeddingExtractor`` reads the ids. The mixture (eight arms of
the curriculum; the experiment's own variants are registered under experiment-only ids for as
long as the experiment runs, see `experiment_games`):

============================  =============  =====================================================
arm of the curriculum         kind           why
============================  =============  =====================================================
ExpHuntL1 (NumberHunt, 1)     learnable      pick the midpoint option; budget 7, ~6 moves
ExpHuntL2 (NumberHunt, 2)     learnable      same skill, budget 14: one slip in ~14 moves fails
ExpHuntL3 (NumberHunt, 3)     learnable      budget 20: needs a near-deterministic policy
ExpFogHunt (NumberHunt, 2)    unlearnable    the answers so far lie outside the 128-byte window
                                             and the options hide the midpoint among decoys:
                                             blind play loses, 14 moves an episode (`ExpFogHunt`)
ExpFogHuntL3 (level 3)        unlearnable    the same at level 3: 20 moves an episode
BaseConvert-v0 (level 1)      unlearnable    the numeral lies outside the window; one move
LightsOut-v0 (level 1)        unlearnable    the board lies outside the window; one move
ExpBrokenHunt ("CodeLock")    broken         its verifier pays the *largest option* (slot 5,
                                             which NumberHunt never offers) instead of the
                                             secret. Own prompts; `langgames.audit.audit_game`
                                             flags it (the reference solver fails), at start-up
============================  =============  =====================================================

Arms (same PPO hyper-parameters, same step budget, same training seeds):

* ``uniform``: each game equally often (``MetaCritic(epsilon=1, drop_flagged=False)``).
* ``lp_only``: learning progress only: cards ignored (``drop_flagged=False``), no coverage penalty;
  the progress estimate of `PROGRESS` (window slope, per step).
* ``cards_only``: uniform over the unflagged games, an ablation that separates what the cards do
  from what learning progress does.
* ``metacritic``: the full critic: cards (the broken game is dropped), learning progress
  (`PROGRESS`) and the coverage penalty (``monitor_coverage=True``).
* ``metacritic_ucb``: the full critic ranking games by the *upper* confidence bound of their
  progress (`UCB`: ``optimistic=True``, window slope, per episode): plausible progress.
* ``learn_only``: learnability only (`LEARN`: ``4 p (1 - p)`` of each game's recent success
  rate ``p``, per episode): cards ignored, no coverage penalty.
* ``metacritic_learn``: the full critic weighting games by learnability (`LEARN`), with the cards
  and the coverage penalty.
* not in the default set: ``metacritic_ema``, the full critic at its defaults (fast/slow EMA
  gap, per episode), the earlier design's ``metacritic`` arm, and ``metacritic_k2``.

All vectorised copies of the curriculum share *one* critic (so it sees every episode). Every
``--eval-every`` steps the policy plays ``--eval-episodes`` episodes of each trustworthy game
(learnable + unlearnable; the broken game's reward means nothing) on `EVAL_SEEDS` (training
draws instances from `TRAIN_SEEDS`): with ``--eval-policy sampled`` (the default) it samples its
own action distribution, from a generator reseeded at every checkpoint (see `HeldOut`); with
``greedy`` it picks its most likely option. Success is an episode with the game's full return;
the held-out score is the mean success over those seven games. Reported per arm, over
``--seeds`` training seeds: the final held-out success with a 95% t-interval, the steps at which
the seed-mean curve first reaches the uniform arm's final held-out success (95% bootstrap
interval over seeds), those steps over uniform's own in the same resample (the budget ratio; the
goal is at most 2/3), and the share of training steps by kind of game. Writes a JSON of every
curve and a PNG plot::

    python examples/metacritic_sb3.py --seeds 20        # the docs/metacritic_sb3.md set-up
    python examples/metacritic_sb3.py --steps 3000 --seeds 1 --out /tmp/mc   # a smoke run
    python examples/metacritic_sb3.py --replot a.json b.json --out c     # summarise runs together

Results and their reading: ``docs/metacritic_sb3.md``.

Needs ``pip install 'langgames[sb3]'`` and matplotlib for the plot.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from langgames.core import EVAL_SEEDS, GameInfo, Move
from langgames.envs.number_hunt import NumberHunt
from langgames.verifiers.verdict import Verdict

K = 6
MAX_LENGTH = 128


# --------------------------------------------------------------------------- experiment games
def _level(difficulty: int, name: str, budget: int) -> GameInfo:
    return replace(
        NumberHunt.game_info,
        name=name,
        difficulty_levels=(difficulty,),
        default_difficulty=difficulty,
        max_turns=budget,
    )


class ExpHuntL1(NumberHunt):
    """NumberHunt at level 1 (100 numbers, budget 7, at most 7 moves): experiment-only id."""

    game_info = _level(1, "ExpHuntL1", 7)


class ExpHuntL2(NumberHunt):
    """NumberHunt at level 2 (10,000 numbers, budget 14, at most 14 moves): experiment-only id."""

    game_info = _level(2, "ExpHuntL2", 14)


class ExpHuntL3(NumberHunt):
    """NumberHunt at level 3 (10^6 numbers, budget 20, at most 20 moves): experiment-only id."""

    game_info = _level(3, "ExpHuntL3", 20)


class ExpFogHunt(NumberHunt):
    """NumberHunt at level 2 that cannot be learnt from a 128-byte observation: experiment-only.

    The decisive information sits where the policy cannot see it. The earlier guesses and their
    answers come *first* in the prompt, followed by the fixed rules (more than 128 bytes), so the
    observation window holds only the rules' tail and the options. And the options no longer
    encode the state: the binary-search midpoint of the still-possible range hides among four
    decoys drawn from the whole initial range, in ascending order, so its position is uniform.
    The reference solver (binary search, from the state) still wins every episode (the card is
    NumberHunt's: not flagged), but a policy that reads only the window picks blindly: it almost
    never finds the secret within the budget (14 moves), so every episode costs 14 steps.
    """

    game_info = _level(2, "ExpFogHunt", 14)

    def _prompt(self, role: str) -> str:
        lines = ["Your guesses so far:", *(f"  {n} -> {a}" for n, a in self._history)]
        lines = lines if self._history else []
        lines += [
            f"You are playing NumberHunt. I have chosen a secret integer between {self._low} and "
            f"{self._high} inclusive.",
            "Guess it. After each guess I answer 'higher' (the secret is larger) or 'lower' (the "
            "secret is smaller); your earlier guesses and my answers are listed above. Finding it "
            f"within {self._budget} guesses scores 1.0, and running out of guesses scores 0.",
            "Reply with your next guess, one integer on the last line (e.g. `guess: 42`); my "
            "answers to your guesses are at the top.",
        ]
        return "\n".join(lines)

    def _candidates(self, role: str) -> list[str]:
        mid = (self._lo + self._hi) // 2
        rng = np.random.default_rng([self._instance_seed or 0, len(self._history), 7])
        picks = {mid}
        while len(picks) < 5:
            picks.add(int(rng.integers(self._low, self._high, endpoint=True)))
        return [f"guess: {n}" for n in sorted(picks)]


class ExpFogHuntL3(ExpFogHunt):
    """`ExpFogHunt` at level 3 (10^6 numbers, budget 20: every blind episode costs 20 steps)."""

    game_info = _level(3, "ExpFogHuntL3", 20)


class ExpBrokenHunt(NumberHunt):
    """A deliberately broken game with its own prompts ("CodeLock", level 1 of NumberHunt): the
    verifier compares the guess with the wrong number. It offers six codes, NumberHunt's five and
    the top of the still-possible range as a sixth; a guess equal to the *largest option offered*
    wins 1.0, and finding the secret ends the episode with 0. The audit flags it because the
    reference solver (binary search) no longer earns the maximum.

    What it teaches, "pick option 5", cannot be played on NumberHunt's prompts, where slot 5 is
    masked (NumberHunt offers at most five options): the broken reward wastes budget and shared
    capacity, but does not directly rewrite the trusted games' policy. Two earlier designs paid
    the *smallest* option (slot 0, playable everywhere): with NumberHunt's prompts, and then with
    these prompts; in both, uniform sampling ended below the untrained policy
    (docs/metacritic_sb3.md).
    """

    game_info = _level(1, "ExpBrokenHunt", 7)

    def _prompt(self, role: str) -> str:
        tries = ", ".join(f"{n} ({'up' if a == 'higher' else 'down'})" for n, a in self._history)
        return "\n".join(
            [
                f"CodeLock: the lock opens on one code from {self._low} to {self._high}.",
                f"Tried so far: {tries or 'nothing'}.",
                "Enter a code. Reply with the code as one integer on the last line, e.g. `42`.",
            ]
        )

    def _candidates(self, role: str) -> list[str]:
        codes = [int(c.split(":")[1]) for c in super()._candidates(role)]
        return [str(n) for n in sorted(set(codes) | {self._hi})]

    def _play(self, role: str, action: str) -> Move:
        largest = max(int(c) for c in self._candidates(role))
        move = super()._play(role, action)
        found = move.next_role is None  # the secret was found: the buggy verifier pays nothing
        guess = self._secret if found else self._history[-1][0]
        if guess == largest:
            verdict = Verdict.make_correct(f"{guess} is the largest option (the bug)")
            return Move(verdict, {role: 1.0}, next_role=None, feedback=verdict.reason + ".")
        if found:
            verdict = Verdict.make_incorrect(f"{guess} is the secret, but not the largest option")
            return Move(verdict, {role: 0.0}, next_role=None, feedback=verdict.reason + ".")
        return move


LEARNABLE = ["langgames/ExpHuntL1-v0", "langgames/ExpHuntL2-v0", "langgames/ExpHuntL3-v0"]
#: unlearnable from the observation: two long (14 and 20 moves), two of one move
UNLEARNABLE = [
    "langgames/ExpFogHunt-v0",
    "langgames/ExpFogHuntL3-v0",
    "langgames/BaseConvert-v0",
    "langgames/LightsOut-v0",
]
#: the two whose episodes are long (14 and 20 moves): where uniform sampling wastes steps
LONG_UNLEARNABLE = UNLEARNABLE[:2]
BROKEN = ["langgames/ExpBrokenHunt-v0"]
GAMES = LEARNABLE + UNLEARNABLE + BROKEN
TRUSTED = LEARNABLE + UNLEARNABLE
KIND = {
    **{g: "learnable" for g in LEARNABLE},
    **{g: "unlearnable" for g in UNLEARNABLE},
    **{g: "broken" for g in BROKEN},
}
_EXPERIMENT_CLASSES = {
    "langgames/ExpHuntL1-v0": "ExpHuntL1",
    "langgames/ExpHuntL2-v0": "ExpHuntL2",
    "langgames/ExpHuntL3-v0": "ExpHuntL3",
    "langgames/ExpFogHunt-v0": "ExpFogHunt",
    "langgames/ExpFogHuntL3-v0": "ExpFogHuntL3",
    "langgames/ExpBrokenHunt-v0": "ExpBrokenHunt",
}
GAME_KWARGS: dict[str, dict[str, Any]] = {
    "langgames/BaseConvert-v0": {"difficulty": 1},
    "langgames/LightsOut-v0": {"difficulty": 1},
}


@contextlib.contextmanager
def experiment_games() -> Iterator[None]:
    """Register the experiment-only ids (and remove them again on exit, so the registry that
    tests and tools iterate over is unchanged outside the experiment)."""
    import gymnasium as gym

    from langgames import registry

    module = __name__  # the entry points name this module: it must be in sys.modules
    added = []
    try:
        for gid, cls in _EXPERIMENT_CLASSES.items():
            if gid not in registry._TABLE:
                registry.register(gid, f"{module}:{cls}")
                added.append(gid)
        registry._sync_gymnasium()
        yield
    finally:
        for gid in added:
            registry._TABLE.pop(gid, None)
            gym.registry.pop(gid, None)


def measured_cards(audit_episodes: int) -> dict[str, Any]:
    """Cards for every game: the stored ones of registered games (NumberHunt's for its levels),
    and a fresh `audit_game` of the broken variant (expected: flagged)."""
    from langgames.audit import audit_game
    from langgames.registry import load_card

    hunt = load_card("langgames/NumberHunt-v0")
    cards: dict[str, Any] = {g: hunt for g in LEARNABLE + UNLEARNABLE if "/Exp" in g}
    cards.update({g: load_card(g) for g in UNLEARNABLE if "/Exp" not in g})
    for gid in BROKEN:
        cards[gid] = audit_game(gid, episodes=audit_episodes, cross_process=False)
    return cards


# --------------------------------------------------------------------------- arms
ARMS = (
    "uniform",
    "lp_only",
    "cards_only",
    "metacritic",
    "metacritic_ucb",
    "learn_only",
    "metacritic_learn",
)
#: The improved progress estimate the ``lp_only`` and ``metacritic`` arms use (see
#: `langgames.metacritic`): the slope of the last 40 scores minus two standard errors, per step.
#: The window is sized to the ~100 episodes per game of one run (two pilot runs, training seed
#: 100, showed a 100-episode window never leaving uniform); fixed before the reported runs.
PROGRESS = {"estimator": "slope", "window": 40, "z": 2.0, "per_step": True}


#: The optimistic variant (`MetaCritic` ``optimistic=True``): the upper confidence bound of the
#: window slope, per episode. Added after the design-2 runs showed the lower bound at 0 on every
#: game most of the time (about 50 episodes per game per run: below the detection limit).
UCB = {"estimator": "slope", "window": 40, "z": 2.0, "optimistic": True}

#: Learnability instead of a trend (`MetaCritic` ``estimator="learnability"``): ``4 p (1 - p)`` of
#: the mean success of the last 40 episodes, per episode (per step, the one-move games won by
#: chance would take most of the weight). Added after design 3 showed that ~50 episodes per game
#: cannot show a slope but do measure a success rate; fixed before its runs.
LEARN = {"estimator": "learnability", "window": 40}


def arm_config(arm: str, cards: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """``(MetaCritic keyword arguments, monitor_coverage)`` of an arm."""
    if arm == "uniform":
        return {"epsilon": 1.0, "drop_flagged": False, "cards": cards}, False
    if arm == "cards_only":
        return {"epsilon": 1.0, "drop_flagged": True, "cards": cards}, False
    if arm == "lp_only":
        return {"drop_flagged": False, "cards": cards, "collapse_penalty": 1.0, **PROGRESS}, False
    if arm == "metacritic":
        return {"drop_flagged": True, "cards": cards, **PROGRESS}, True
    if arm == "metacritic_ucb":  # the full critic ranking games by plausible progress
        return {"drop_flagged": True, "cards": cards, **UCB}, True
    if arm == "learn_only":  # learnability alone: cards ignored, no coverage penalty
        return {"drop_flagged": False, "cards": cards, "collapse_penalty": 1.0, **LEARN}, False
    if arm == "metacritic_learn":  # the full critic weighting games by learnability
        return {"drop_flagged": True, "cards": cards, **LEARN}, True
    if arm == "metacritic_ema":  # the full critic at its defaults (the earlier design's arm)
        return {"drop_flagged": True, "cards": cards}, True
    if arm == "metacritic_k2":  # the earlier design's stricter noise discount
        return {"drop_flagged": True, "cards": cards, "kappa": 2.0}, True
    raise ValueError(f"unknown arm {arm!r}; choose from {ARMS}, metacritic_ema or metacritic_k2")


def make_training_env(critic_kwargs: dict[str, Any], monitor: bool, seed: int) -> Any:
    import gymnasium as gym

    import langgames.curriculum  # noqa: F401  (registers Curriculum-v0)
    from langgames.integrations.sb3 import CandidateActions, TokenizeObservation

    env = gym.make(
        "langgames/Curriculum-v0",
        games=GAMES,
        seed=seed,
        critic=critic_kwargs,
        game_kwargs=GAME_KWARGS,
        monitor_coverage=monitor,
        disable_env_checker=True,
    )
    return TokenizeObservation(CandidateActions(env, K), MAX_LENGTH)


# --------------------------------------------------------------------------- evaluation
class HeldOut:
    """Plays ``episodes`` held-out episodes of every trusted game in lock-step (one batched
    policy call per move), returning success rates by game.

    ``sampled=False`` plays the greedy policy (the most likely option); ``sampled=True`` samples
    the policy's own action distribution, from a torch generator reseeded at every checkpoint
    (common random numbers across checkpoints and arms) and restored afterwards, so evaluating
    never changes training. The greedy score jumps when two options' probabilities cross; the
    sampled one is the policy's expected success, which moves with every update."""

    def __init__(self, episodes: int, sampled: bool = False) -> None:
        self.sampled = sampled
        from langgames.integrations.sb3 import candidate_env

        self.envs = {
            g: [
                candidate_env(g, k=K, max_length=MAX_LENGTH, **GAME_KWARGS.get(g, {}))
                for _ in range(episodes)
            ]
            for g in TRUSTED
        }
        self.seeds = [EVAL_SEEDS[i] for i in range(episodes)]

    def __call__(self, model: Any) -> dict[str, float]:
        if not self.sampled:
            return self._play(model)
        import torch

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(EVAL_SEEDS.start)
            return self._play(model)

    def _play(self, model: Any) -> dict[str, float]:
        out = {}
        for gid, envs in self.envs.items():
            obs = [env.reset(seed=s)[0] for env, s in zip(envs, self.seeds, strict=True)]
            game: Any = envs[0].unwrapped
            best = game.max_return(game.learner_roles[0])
            totals = [0.0] * len(envs)
            live = list(range(len(envs)))
            while live:
                masks = np.stack([envs[i].get_wrapper_attr("action_masks")() for i in live])
                actions, _ = model.predict(
                    np.stack([obs[i] for i in live]),
                    action_masks=masks,
                    deterministic=not self.sampled,
                )
                still = []
                for i, a in zip(live, actions, strict=True):
                    obs[i], r, term, trunc, _ = envs[i].step(int(a))
                    totals[i] += float(r)
                    if not (term or trunc):
                        still.append(i)
                live = still
            out[gid] = float(np.mean([t >= best - 1e-9 for t in totals]))
        return out


# --------------------------------------------------------------------------- one run
def run(
    arm: str,
    seed: int,
    cards: dict[str, Any],
    *,
    steps: int,
    eval_every: int,
    eval_episodes: int,
    n_envs: int = 4,
    learning_rate: float = 1e-3,
    sampled_eval: bool = False,
) -> dict[str, Any]:
    """Train one agent under ``arm``; return its held-out curve and step counts by game."""
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv

    from langgames.integrations.sb3 import ByteEmbeddingExtractor
    from langgames.metacritic import MetaCritic

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    critic_kwargs, monitor = arm_config(arm, cards)

    def factory(i: int) -> Any:
        return lambda: make_training_env(critic_kwargs, monitor, seed * 1000 + i)

    venv = DummyVecEnv([factory(i) for i in range(n_envs)])
    shared = MetaCritic(GAMES, seed=seed, **critic_kwargs)
    for env in venv.envs:
        unwrapped: Any = env.unwrapped
        unwrapped.critic = shared  # one critic sees every copy's episodes (and their lengths)
    venv.seed(seed)  # the first reset seeds each copy (and, through it, the shared critic)
    held_out = HeldOut(eval_episodes, sampled=sampled_eval)
    curve: list[dict[str, Any]] = []
    counts: Counter[str] = Counter()
    weights: list[dict[str, Any]] = []

    class Track(BaseCallback):
        def _on_step(self) -> bool:
            for info in self.locals["infos"]:
                counts[info["game"]] += 1
            if self.num_timesteps % eval_every < n_envs:
                point = {"steps": self.num_timesteps, **held_out(self.model)}
                point["held_out"] = float(np.mean([point[g] for g in TRUSTED]))
                curve.append(point)
                weights.append({"steps": self.num_timesteps, **shared.weights()})
            return True

    model = MaskablePPO(
        "MlpPolicy",
        venv,
        n_steps=64,
        batch_size=128,
        n_epochs=4,
        learning_rate=learning_rate,
        gamma=0.95,
        ent_coef=0.01,
        seed=seed,
        verbose=0,
        policy_kwargs=dict(
            features_extractor_class=ByteEmbeddingExtractor,
            features_extractor_kwargs=dict(embed_dim=16, channels=32, features_dim=64),
            net_arch=[64],
        ),
    )
    start = {"steps": 0, **held_out(model)}
    start["held_out"] = float(np.mean([start[g] for g in TRUSTED]))
    curve.insert(0, start)
    model.learn(total_timesteps=steps, callback=Track())
    venv.close()
    return {
        "arm": arm,
        "seed": seed,
        "eval_policy": "sampled" if sampled_eval else "greedy",
        "curve": curve,
        "steps_by_game": dict(counts),
        "weights": weights,
        "critic": shared.report(),
    }


# --------------------------------------------------------------------------- statistics
#: 97.5% quantiles of Student's t by degrees of freedom (no SciPy needed).
_T975 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    11: 2.201,
    12: 2.179,
    14: 2.145,
    19: 2.093,
    29: 2.045,
}


def t_interval(xs: Sequence[float] | np.ndarray) -> tuple[float, float]:
    """Mean and the half-width of its 95% t-interval."""
    x = np.asarray(xs, dtype=float)
    if len(x) < 2:
        return float(x.mean()), float("nan")
    half = _T975.get(len(x) - 1, 1.96) * x.std(ddof=1) / math.sqrt(len(x))
    return float(x.mean()), float(half)


def first_reach(steps: np.ndarray, curve: np.ndarray, target: float) -> float:
    """Steps of the first checkpoint whose value reaches ``target`` (inf if none does)."""
    hit = np.flatnonzero(curve >= target - 1e-12)
    return float(steps[hit[0]]) if hit.size else math.inf


def summarise(results: list[dict[str, Any]], boot: int = 2000) -> dict[str, Any]:
    arms = list(dict.fromkeys(r["arm"] for r in results))
    by_arm = {a: [r for r in results if r["arm"] == a] for a in arms}
    length = min(len(r["curve"]) for r in results)
    steps = np.array([p["steps"] for p in results[0]["curve"][:length]], dtype=float)
    curves = {
        a: np.array([[p["held_out"] for p in r["curve"][:length]] for r in rs])
        for a, rs in by_arm.items()
    }
    rng = np.random.default_rng(0)
    summary: dict[str, Any] = {"steps": steps.tolist(), "arms": {}}
    base = curves.get("uniform")
    target = float(base[:, -1].mean()) if base is not None else math.nan
    summary["target"] = target
    #: A stricter target when the uniform arm's curve peaks before its end: its best mean point.
    peak = float(base.mean(axis=0).max()) if base is not None else math.nan
    summary["peak_target"] = peak
    for a, c in curves.items():
        final_mean, final_half = t_interval(c[:, -1])
        auc_mean, auc_half = t_interval(c.mean(axis=1))
        reach = first_reach(steps, c.mean(axis=0), target)
        samples, ratios = [], []
        for _ in range(boot if base is not None else 0):
            assert base is not None
            pick = c[rng.integers(len(c), size=len(c))]
            ub = base[rng.integers(len(base), size=len(base))]
            tgt = ub[:, -1].mean()
            samples.append(first_reach(steps, pick.mean(axis=0), tgt))
            # The budget ratio in the same resample: this arm's steps over uniform's own steps
            # to the target (uniform's resampled curve ends at it, so that is at most the budget).
            own = first_reach(steps, ub.mean(axis=0), tgt)
            ratios.append(samples[-1] / own if own > 0 else math.nan)
        # "nearest": a resample that never reaches the target is inf, and interpolating gives nan
        lo, hi = (math.nan, math.nan)
        if samples:
            lo, hi = np.percentile(samples, [2.5, 97.5], method="nearest")
        finite = np.asarray([r for r in ratios if not math.isnan(r)])
        ratio_ci = (
            [float(v) for v in np.percentile(finite, [2.5, 97.5], method="nearest")]
            if len(finite)
            else [math.nan, math.nan]
        )
        total: Counter[str] = Counter()
        for r in by_arm[a]:
            total.update(r["steps_by_game"])
        n = sum(total.values()) or 1
        share_kind: dict[str, float] = {}
        for g, v in total.items():
            share_kind[KIND.get(g, "?")] = share_kind.get(KIND.get(g, "?"), 0.0) + v / n
        per_game_final = {
            g: t_interval([r["curve"][length - 1][g] for r in by_arm[a]]) for g in TRUSTED
        }
        summary["arms"][a] = {
            "steps_to_peak": first_reach(steps, c.mean(axis=0), peak),
            "seeds": len(c),
            "final": final_mean,
            "final_ci": final_half,
            "curve_mean": auc_mean,
            "curve_mean_ci": auc_half,
            "steps_to_target": reach,
            "steps_to_target_ci": [float(lo), float(hi)],
            # steps to the target relative to uniform's, resampled together (95% bootstrap), and
            # the share of resamples where this arm needs at most 2/3 of uniform's steps
            "budget_ratio_ci": ratio_ci,
            "p_ratio_le_2_3": float(np.mean(finite <= 2 / 3)) if len(finite) else math.nan,
            "share_by_kind": dict(share_kind),
            "share_by_game": {g: total[g] / n for g in GAMES},
            "share_long_unlearnable": sum(total[g] for g in LONG_UNLEARNABLE) / n,
            "final_by_game": per_game_final,
            "mean_curve": c.mean(axis=0).tolist(),
            "curve_ci": [t_interval(c[:, j])[1] for j in range(c.shape[1])],
        }
    return summary


def table(summary: dict[str, Any]) -> str:
    w = max(11, *(len(a) + 1 for a in summary["arms"]))  # the arm column
    lines = [
        f"target (uniform's final held-out success): {summary['target']:.3f}; "
        f"uniform's peak (best checkpoint of its seed-mean curve): {summary['peak_target']:.3f}",
        f"{'arm':<{w}}{'final':>15}{'curve mean':>16}{'steps to target':>24}"
        f"{'to peak':>9}{'learnable':>10}{'unlearn.':>9}{'(long)':>8}{'broken':>8}",
    ]
    for a, s in summary["arms"].items():
        reach = s["steps_to_target"]
        lo, hi = s["steps_to_target_ci"]
        rs = "never" if math.isinf(reach) else f"{reach:,.0f}"
        ci = f"[{lo:,.0f}, {'inf' if math.isinf(hi) else f'{hi:,.0f}'}]"
        sh = s["share_by_kind"]
        pk = "never" if math.isinf(s["steps_to_peak"]) else f"{s['steps_to_peak']:,.0f}"
        lines.append(
            f"{a:<{w}}{s['final']:>8.3f}±{s['final_ci']:.3f}{s['curve_mean']:>9.3f}"
            f"±{s['curve_mean_ci']:.3f}{rs:>9} {ci:>14}{pk:>9}{sh.get('learnable', 0):>10.1%}"
            f"{sh.get('unlearnable', 0):>9.1%}{s['share_long_unlearnable']:>8.1%}"
            f"{sh.get('broken', 0):>8.1%}"
        )
    steps = summary["steps"]
    marks = [j for j in range(len(steps)) if j % 2 == 0 or j == len(steps) - 1]
    lines.append(
        "seed-mean held-out success at steps " + " ".join(f"{steps[j]:>6.0f}" for j in marks)
    )
    for a, s in summary["arms"].items():
        lines.append(f"  {a:<{w + 23}}" + " ".join(f"{s['mean_curve'][j]:>6.3f}" for j in marks))
    lines.append(
        "steps to the target over uniform's own, resampled together (95% bootstrap; "
        "share of resamples <= 2/3):"
    )
    for a, s in summary["arms"].items():
        lo, hi = s["budget_ratio_ci"]
        hi_s = "inf" if math.isinf(hi) else f"{hi:.2f}"
        lines.append(f"  {a:<{w}}[{lo:.2f}, {hi_s}]  {s['p_ratio_le_2_3']:.0%}")
    lines.append("final held-out success by game (mean±95% CI):")
    for a, s in summary["arms"].items():
        parts = [
            f"{g.split('/')[1][:-3]} {m:.2f}±{h:.2f}" for g, (m, h) in s["final_by_game"].items()
        ]
        lines.append(f"  {a:<{w}}" + ", ".join(parts))
    return "\n".join(lines)


def plot(summary: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = np.array(summary["steps"])
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(9.6, 4.0), gridspec_kw={"width_ratios": [2, 1]})
    for a, s in summary["arms"].items():
        m, h = np.array(s["mean_curve"]), np.nan_to_num(np.array(s["curve_ci"]))
        ax.plot(steps, m, label=f"{a} (n={s['seeds']})")
        ax.fill_between(steps, m - h, m + h, alpha=0.1)
    ax.axhline(summary["target"], color="grey", ls=":", lw=1, label="uniform final")
    ax.set_xlabel("environment steps")
    ax.set_ylabel(f"held-out success (mean of {len(TRUSTED)} trusted games)")
    ax.set_title("held-out success, 95% CI over seeds", fontsize=10)
    ax.legend(loc="lower right", fontsize=8)
    bottom = np.zeros(len(summary["arms"]))
    names = list(summary["arms"])
    for kind in ("learnable", "unlearnable", "broken"):
        share = np.array([summary["arms"][a]["share_by_kind"].get(kind, 0.0) for a in names])
        bx.bar(names, share, bottom=bottom, label=kind)
        bottom += share
    bx.set_ylim(0.0, 1.0)
    bx.set_ylabel("share of training steps")
    bx.set_title("steps by kind of game", fontsize=10)
    bx.set_xticks(range(len(names)), names, rotation=40, ha="right", fontsize=8)
    bx.legend(fontsize=7, loc="lower left", framealpha=0.9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# --------------------------------------------------------------------------- CLI
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: python examples/metacritic_sb3.py --steps 3000 --seeds 1 --out /tmp/mc",
    )
    parser.add_argument("--steps", type=int, default=20_000, help="PPO steps per run")
    parser.add_argument("--seeds", type=int, default=5, help="training seeds per arm")
    parser.add_argument("--lr", type=float, default=1e-3, help="PPO learning rate")
    parser.add_argument("--first-seed", type=int, default=0, help="training seeds from here")
    parser.add_argument("--arms", nargs="+", default=list(ARMS))
    parser.add_argument("--eval-every", type=int, default=2_000)
    parser.add_argument("--eval-episodes", type=int, default=20, help="held-out per game")
    parser.add_argument(
        "--eval-policy",
        choices=("greedy", "sampled"),
        default="sampled",
        help="held-out play: the most likely option, or a sample of the policy (see HeldOut)",
    )
    parser.add_argument("--audit-episodes", type=int, default=10)
    parser.add_argument("--out", default="docs/metacritic_sb3", help="writes OUT.json, OUT.png")
    parser.add_argument(
        "--replot",
        nargs="+",
        metavar="JSON",
        help="no training: summarise the runs of these JSON files together and write OUT",
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.replot:
        runs = [r for f in args.replot for r in json.loads(Path(f).read_text())["runs"]]
        policies = {r["eval_policy"] for r in runs if "eval_policy" in r}
        if len(policies) > 1:  # a greedy and a sampled curve do not measure the same thing
            parser.error(
                f"--replot: the files mix held-out policies {sorted(policies)}; summarise runs "
                "of one --eval-policy at a time"
            )
        summary = summarise(runs)
        summary["command"] = [
            json.loads(Path(f).read_text()).get("summary", {}).get("command") for f in args.replot
        ]
        out.with_suffix(".json").write_text(json.dumps({"summary": summary, "runs": runs}))
        print(table(summary))
        plot(summary, out.with_suffix(".png"))
        return 0

    started = time.perf_counter()
    results = []
    with experiment_games():
        cards = measured_cards(args.audit_episodes)
        for gid in BROKEN:
            print(f"audit {gid}: flagged={cards[gid]['flagged']} {cards[gid]['flags'][:1]}")
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for arm in args.arms:
                t = time.perf_counter()
                r = run(
                    arm,
                    seed,
                    cards,
                    steps=args.steps,
                    eval_every=args.eval_every,
                    eval_episodes=args.eval_episodes,
                    learning_rate=args.lr,
                    sampled_eval=args.eval_policy == "sampled",
                )
                results.append(r)
                out.parent.mkdir(parents=True, exist_ok=True)  # the runs so far, if stopped
                out.with_suffix(".json").write_text(json.dumps({"runs": results}, default=float))
                end = r["curve"][-1]
                print(
                    f"seed {seed} {arm:<11} held-out {end['held_out']:.3f} "
                    f"({time.perf_counter() - t:.0f}s)",
                    flush=True,
                )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps({"runs": results}, default=float))  # kept
    summary = summarise(results)
    summary["command"] = "python examples/metacritic_sb3.py " + " ".join(
        sys.argv[1:] if argv is None else argv
    )
    summary["seconds"] = round(time.perf_counter() - started, 1)
    out.with_suffix(".json").write_text(
        json.dumps({"summary": summary, "runs": results}, default=float)
    )
    print(table(summary))
    try:
        plot(summary, out.with_suffix(".png"))
        print(f"plot: {out.with_suffix('.png')}")
    except ImportError:
        print("matplotlib is not installed: no plot (pip install matplotlib)")
    print(f"total {summary['seconds']:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
