"""Gymnasium vector envs over langgames: each sub-env sees its own text, and episodes auto-reset.

``gym.make_vec(id, num_envs, vectorization_mode="sync")`` works as is. ``"async"`` needs
``vector_kwargs={"shared_memory": False}``: Gymnasium's shared memory cannot hold text, and with it
on every observation comes back as placeholder characters instead of the prompt.
"""

from __future__ import annotations

import gymnasium as gym
import pytest

import langgames
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


# ------------------------------------------------------------- info keys keep one type (issue 13)
def _replies(game_id: str, env_index: int, step: int) -> str:
    """Sub-env 0 answers wrongly-but-readably, 1 writes garbage, 2 alternates: so the sub-envs
    end their episodes at different steps, and verdicts of every kind meet in one batch."""
    kinds = ["0", "\x00 not a move", "0" if step % 2 else "guess: 1"]
    return kinds[env_index % 3]


_VECTOR_GAMES = [
    gid for gid in langgames.game_ids() if "Curriculum" not in gid and "Scholars" not in gid
]


@pytest.mark.parametrize(
    ("game_id", "mode"),
    [(gid, "sync") for gid in _VECTOR_GAMES]
    + [
        pytest.param(gid, "async", marks=pytest.mark.slow)
        for gid in ("langgames/NumberHunt-v0", "langgames/BugHunt-v0", "langgames/Algebra-v0")
    ],
)
def test_vector_info_merges_when_sub_envs_end_at_different_steps(game_id, mode):
    """Gymnasium merges each info key across sub-envs into one array: a key whose type changes
    between states (``verdict`` None after a reset, a dict after a step) crashed that merge."""
    envs = gym.wrappers.vector.RecordEpisodeStatistics(
        gym.make_vec(
            game_id,
            num_envs=3,
            vectorization_mode=mode,
            vector_kwargs=MODES[mode],
            max_turns=2,
        )
    )
    try:
        _, info = envs.reset(seed=[1, 2, 3])
        ended = 0
        for step in range(7):
            actions = tuple(_replies(game_id, i, step) for i in range(3))
            _, _, terminated, truncated, info = envs.step(actions)
            ended += int((terminated | truncated).sum())
            assert isinstance(info["verdict"], dict)
            if info["verdict"]:  # empty only in a step where every sub-env was reset
                assert set(info["verdict"]) >= {"status", "reward", "reason"}
            assert info["parsed_action"].dtype == object
        assert ended >= 3
        assert "episode" in info or ended  # RecordEpisodeStatistics ran over the same infos
    finally:
        envs.close()
