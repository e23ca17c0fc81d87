"""The meta-critic, the curriculum env and the experiment's smoke test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

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
    assert sum(s["visits"] for s in env.unwrapped.critic.report()["games"].values()) >= 3
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
