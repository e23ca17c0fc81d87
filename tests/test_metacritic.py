"""The meta-critic, the curriculum env and the experiment's smoke test."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import Any

import gymnasium as gym
import pytest

import langgames
import langgames.curriculum  # registers langgames/Curriculum-v0
from langgames.curriculum import CURRICULUM_ID
from langgames.errors import InvalidArgument
from langgames.metacritic import MetaCritic

ROOT = Path(__file__).resolve().parent.parent
A, B, C = "langgames/BaseConvert-v0", "langgames/Countdown-v0", "langgames/Algebra-v0"


def test_prefers_the_game_with_progress():
    critic = MetaCritic([A, B, C], seed=0)
    for t in range(60):
        critic.update(A, min(1.0, t / 30))  # learning
        critic.update(B, 0.0)  # flat
        critic.update(C, 1.0)  # mastered
    w = critic.weights()
    assert w[A] > 0.5 and w[B] == pytest.approx(w[C])
    assert min(w.values()) >= critic.epsilon / 3  # the exploration floor
    assert sum(w.values()) == pytest.approx(1.0)


def test_pure_noise_is_not_progress():
    import numpy as np

    rng = np.random.default_rng(1)
    critic = MetaCritic([A, B], seed=0)
    for _ in range(300):
        critic.update(A, float(rng.random() < 0.5))  # a coin flip, no learning
        critic.update(B, 0.0)
    assert critic.weights()[A] < 0.75


def test_collapse_down_weights_and_flagged_cards_drop():
    critic = MetaCritic([A, B], seed=0)
    for _ in range(5):
        critic.update(A, 0.0)
        critic.update(B, 0.0)
    critic.update(A, 0.0, collapsed=True)
    w = critic.weights()
    assert w[A] < w[B]
    bad = {"flagged": True, "flags": ["exploit: constant_yes"]}
    critic = MetaCritic([A, B], cards={B: bad})
    assert critic.game_ids == [A] and critic.report()["dropped"] == {B: ["exploit: constant_yes"]}
    with pytest.raises(langgames.InvalidArgument, match="dropped"):
        critic.update(B, 1.0)
    with pytest.raises(langgames.InvalidArgument, match="every game"):
        MetaCritic([B], cards={B: bad})
    assert MetaCritic([A, B], cards={B: bad}, drop_flagged=False).game_ids == [A, B]


def test_sampling_is_seeded_and_warms_up_every_game():
    def draws(seed):
        critic = MetaCritic([A, B, C], seed=seed, warmup=2)
        out = []
        for _ in range(30):
            g = critic.sample()
            critic.update(g, float(g == A))
            out.append(g)
        return out

    assert draws(3) == draws(3)
    assert sorted(draws(3)[:6]) == sorted([A, A, B, B, C, C])
    with pytest.raises(langgames.UnknownGame, match="Did you mean"):
        MetaCritic([A], seed=0).update("langgames/BaseConvert-v1", 1.0)


def test_curriculum_env_reports_the_game_and_updates_the_critic():
    env = gym.make(CURRICULUM_ID, games=[A, "Countdown-v0"], seed=0, monitor_coverage=True)
    seen = set()
    obs, info = env.reset(seed=0)
    for _ in range(12):
        assert info["game"] in (A, B)
        seen.add(info["game"])
        obs, _, terminated, truncated, info = env.step("7")
        assert info["game"] in (A, B) and "coverage" in info
        if terminated or truncated:
            assert 0.0 >= info["curriculum"]["score"] >= -1.0
            obs, info = env.reset()
    assert seen == {A, B}
    critic: Any = env.unwrapped.critic  # type: ignore[attr-defined]
    assert sum(s["visits"] for s in critic.report()["games"].values()) >= 3
    assert CURRICULUM_ID not in langgames.game_ids()  # not a game: kept out of the game table
    env.close()


def test_curriculum_rejects_a_bare_string():
    with pytest.raises(langgames.InvalidArgument, match="non-empty list"):
        gym.make(CURRICULUM_ID, games="NumberHunt-v0")


def test_experiment_smoke(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    spec = importlib.util.spec_from_file_location(
        "metacritic_experiment", ROOT / "examples" / "metacritic_experiment.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    png = tmp_path / "mc.png"
    summary = module.main(
        [
            "--episodes",
            "40",
            "--seeds",
            "2",
            "--eval-episodes",
            "4",
            "--audit-episodes",
            "10",
            "--plot",
            str(png),
        ]
    )
    assert png.stat().st_size > 1000
    assert summary["metacritic"]["budget_broken"] == 0.0  # both broken toys are flagged
    assert "held-out" in capsys.readouterr().out


def test_misspelt_game_ids_get_the_registrys_did_you_mean():
    from langgames.errors import UnknownGame

    with pytest.raises(UnknownGame, match=r"Did you mean.*BaseConvert-v0"):
        MetaCritic(["langgames/BaseConvrt-v0", "langgames/Countdown-v0"])
    with pytest.raises(UnknownGame, match="Did you mean"):
        MetaCritic(["basconvert-v0"])
    with pytest.raises(InvalidArgument, match="list of game ids"):
        MetaCritic("langgames/BaseConvert-v0")


def test_short_ids_are_normalised_and_deduplicated():
    critic = MetaCritic(["BaseConvert-v0", "langgames/BaseConvert-v0", "Countdown-v0"], seed=0)
    assert critic.game_ids == ["langgames/BaseConvert-v0", "langgames/Countdown-v0"]
    critic.update("langgames/BaseConvert-v0", 1.0)  # the full id is the one it knows


def test_names_the_cards_cover_are_kept_as_given():
    critic = MetaCritic(["my-own-game"], cards={"my-own-game": {"flagged": False}})
    assert critic.game_ids == ["my-own-game"]


def test_slope_estimator_matches_least_squares_and_ignores_coin_flips():
    import numpy as np

    from langgames.metacritic import _slope

    y = np.random.default_rng(0).random(30) + 0.01 * np.arange(30)
    b, se = _slope(y)
    fit, cov = np.polyfit(np.arange(30), y, 1, cov=True)
    assert b == pytest.approx(fit[0]) and se == pytest.approx(math.sqrt(cov[0, 0]), rel=0.05)
    assert _slope([1.0, 0.0, 1.0]) == (0.0, math.inf)  # too few scores: no claim
    # Stationary coin flips: false progress on about 5% of the episodes (z = 2), the EMA gap
    # on far more (module docstring); a ramp is detected.
    rng = np.random.default_rng(5)
    false, ema_false, seen = 0, 0, 0
    for _ in range(20):
        slope = MetaCritic([A, B], estimator="slope", window=60)
        ema = MetaCritic([A, B])
        for t in range(200):
            x = float(rng.random() < 0.4)
            slope.update(A, x)
            ema.update(A, x)
            if t >= 60:
                seen += 1
                false += slope.progress(A) > 0
                ema_false += ema.progress(A) > 0
    assert false / seen < 0.12 < ema_false / seen
    critic = MetaCritic([A, B, C], estimator="slope", window=80, seed=0)
    for t in range(100):
        critic.update(A, float(rng.random() < min(0.9, 0.1 + t / 120)))  # learning
        critic.update(B, float(rng.random() < 0.4))  # a coin
        critic.update(C, 0.0)  # unlearnable
    w = critic.weights()
    assert critic.progress(A) > 0 and w[A] > 0.5 and w[C] == pytest.approx(critic.epsilon / 3, 0.05)


def test_per_step_progress_prefers_cheap_episodes():
    critic = MetaCritic([A, B, C], per_step=True, seed=0)
    plain = MetaCritic([A, B, C], seed=0)
    for t in range(60):
        for c in (critic, plain):
            c.update(A, min(1.0, t / 30), steps=2)  # learning, 2 moves an episode
            c.update(B, min(1.0, t / 30), steps=20)  # learning as fast, 20 moves an episode
            c.update(C, 0.0, steps=2)
    assert critic.progress(A) == pytest.approx(critic.progress(B))  # per episode: equal
    assert critic.progress(A) > 0
    assert plain.weights()[A] == pytest.approx(plain.weights()[B])
    w = critic.weights()
    assert w[A] > 5 * w[B] and critic.episode_steps(B) == pytest.approx(20.0)
    assert critic.report()["games"][B]["episode_steps"] == pytest.approx(20.0)
    no_lengths = MetaCritic([A, B], per_step=True)
    no_lengths.update(A, 1.0)  # lengths never given: per_step has nothing to divide by
    assert no_lengths.weights() == MetaCritic([A, B]).weights()
    with pytest.raises(InvalidArgument, match="steps"):
        critic.update(A, 1.0, steps=0)


def test_new_options_are_checked_and_defaults_unchanged():
    critic = MetaCritic([A, B])
    assert (critic.estimator, critic.per_step, critic.fast, critic.kappa) == ("ema", False, 0.2, 1)
    with pytest.raises(InvalidArgument, match="estimator"):
        MetaCritic([A], estimator="beta")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="window"):
        MetaCritic([A], estimator="slope", window=2)


def test_optimistic_ranks_by_plausible_progress():
    """The upper bound separates "surely flat" (a constant score) from "too noisy to tell"."""
    import numpy as np

    rng = np.random.default_rng(2)
    kw: dict[str, Any] = {"estimator": "slope", "window": 40, "seed": 0}
    bounds = {flag: MetaCritic([A, B, C], optimistic=flag, **kw) for flag in (False, True)}
    for _ in range(40):
        x = float(rng.random() < 0.4)
        for critic in bounds.values():
            critic.update(A, x)  # a coin: no progress, but not surely none
            critic.update(B, 0.0)  # surely flat
            critic.update(C, 1.0)  # mastered: surely flat
    lower, upper = bounds[False].weights(), bounds[True].weights()
    assert lower[B] == pytest.approx(lower[C])  # both flat, and the lower bound says so
    assert upper[A] > 2 * upper[B] and upper[B] == pytest.approx(upper[C])
    assert bounds[True].progress(A) > bounds[True].progress(B) > 0
    with pytest.raises(InvalidArgument, match="optimistic"):
        MetaCritic([A], optimistic=True)


def test_learnability_weights_the_games_that_are_sometimes_won():
    """``4 p (1 - p)`` of the window's mean score: never won and always won both teach nothing."""
    import numpy as np

    rng = np.random.default_rng(3)
    critic = MetaCritic([A, B, C], estimator="learnability", window=40, seed=0)
    assert critic.progress(A) == 1.0  # no score yet: worth trying
    for _ in range(60):
        critic.update(A, float(rng.random() < 0.5))  # won half the time: the most to learn
        critic.update(B, 0.0)  # never won (unlearnable, or too hard for now)
        critic.update(C, 1.0)  # always won (mastered)
    w = critic.weights()
    assert critic.progress(B) == critic.progress(C) == 0.0
    assert w[B] == pytest.approx(w[C]) and w[B] == pytest.approx(critic.epsilon / 3, rel=0.05)
    assert w[A] > 0.8
    # Only the last `window` scores count: a game that starts being won comes back, and scores
    # outside [0, 1] (a penalty, a bonus) are clipped rather than read as more than certainty.
    for _ in range(20):
        critic.update(B, 1.0)
        critic.update(C, 2.0)
    assert critic.progress(B) == pytest.approx(4 * 0.5 * 0.5)
    assert critic.progress(C) == 0.0
    with pytest.raises(InvalidArgument, match="learnability"):
        MetaCritic([A], estimator="trend")  # type: ignore[arg-type]


def test_curriculum_takes_the_learnability_critic_the_docs_recommend():
    """``critic={"estimator": "learnability", "window": 40}`` (docs/metacritic_sb3.md): the game
    that is always lost sinks to the exploration floor once the warm-up is over."""
    env = gym.make(
        CURRICULUM_ID, games=[A, B], seed=0, critic={"estimator": "learnability", "window": 40}
    )
    critic: Any = env.unwrapped.critic  # type: ignore[attr-defined]
    assert critic.estimator == "learnability" and critic.window == 40
    env.reset(seed=0)
    # Untried games are worth trying (the default fast/slow gap says 0 here).
    assert critic.progress(A) == critic.progress(B) == 1.0
    for _ in range(40):
        *_, terminated, truncated, info = env.step("7")  # a wrong answer in both games
        if terminated or truncated:
            assert info["curriculum"]["weights"] == critic.weights()  # what the critic holds
            env.reset()
    assert min(critic.report()["games"][g]["visits"] for g in (A, B)) >= critic.warmup
    assert critic.progress(A) == critic.progress(B) == 0.0  # never won: nothing to learn
    env.close()
