"""Gymnasium vector envs over langgames: each sub-env sees its own text, and episodes auto-reset.

``gym.make_vec(id, num_envs, vectorization_mode="sync")`` works as is. ``"async"`` needs
``vector_kwargs={"shared_memory": False}``: Gymnasium's shared memory cannot hold text, and with it
on every observation comes back as placeholder characters instead of the prompt.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import langgames  # noqa: F401 - registers the games
from langgames.registry import make_game

MODES = {
    "sync": {},
    "async": {"shared_memory": False},
}


def single_run(game_id: str, seed: int) -> tuple[str, str]:
    """The first observation from ``seed`` and, after one readable wrong answer, the first
    observation of the next episode (what a vector env's auto-reset must show)."""
    game = make_game(game_id)
    first, _ = game.reset(seed=seed)
    game.step("0")
    second, _ = game.reset()
    return first, second


@pytest.mark.parametrize("mode", list(MODES))
def test_each_sub_env_sees_its_own_text(mode):
    envs = gym.make_vec(
        "langgames/NumberHunt-v0", num_envs=2, vectorization_mode=mode, vector_kwargs=MODES[mode]
    )
    try:
        obs, info = envs.reset(seed=[11, 12])
        assert isinstance(obs, tuple) and len(obs) == 2
        for i, seed in enumerate((11, 12)):
            assert obs[i] == make_game("langgames/NumberHunt-v0").reset(seed=seed)[0]
            assert info["seed"][i] == seed
        obs, reward, terminated, truncated, info = envs.step(("guess: 5", "nonsense"))
        assert list(info["verdict"]["status"]) == ["accepted", "unparseable"]
        assert reward.tolist() == [0.0, -0.1]
        assert obs[0].startswith("5 is not the secret")
        assert obs[1].startswith("Your last reply could not be read")
        assert not terminated.any() and not truncated.any()
    finally:
        envs.close()


@pytest.mark.parametrize("mode", list(MODES))
def test_finished_episodes_auto_reset_to_the_next_instance(mode):
    game_id = "langgames/BaseConvert-v0"  # one readable answer ends an episode
    envs = gym.make_vec(game_id, num_envs=2, vectorization_mode=mode, vector_kwargs=MODES[mode])
    try:
        obs, info = envs.reset(seed=[3, 4])
        expected = [single_run(game_id, 3), single_run(game_id, 4)]
        assert list(obs) == [first for first, _ in expected]
        obs, reward, terminated, truncated, info = envs.step(("0", "0"))
        assert terminated.tolist() == [True, True]
        # Gymnasium's default auto-reset (next step): the step after the end resets that sub-env
        # and ignores its action.
        obs, reward, terminated, truncated, info = envs.step(("ignored", "ignored"))
        assert list(obs) == [second for _, second in expected]
        assert reward.tolist() == [0.0, 0.0] and not terminated.any()
        assert all(info["role"] == "player")
    finally:
        envs.close()
