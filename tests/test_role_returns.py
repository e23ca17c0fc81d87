"""`RoleReturns`: per-role episode returns, with RecordEpisodeStatistics and vector envs."""

from __future__ import annotations

import gymnasium as gym
import pytest

import langgames
from langgames.errors import InvalidArgument
from langgames.wrappers import RoleReturns


def play_reference(env: gym.Env, seed: int) -> tuple[dict, dict]:
    """Play the reference for every role; return (summed info['rewards'], last info)."""
    _, info = env.reset(seed=seed)
    total: dict[str, float] = {}
    while True:
        action = env.unwrapped.reference_action()
        _, _, terminated, truncated, info = env.step(action)
        for role, value in info["rewards"].items():
            total[role] = total.get(role, 0.0) + value
        if terminated or truncated:
            return total, info


@pytest.mark.parametrize("game_id", ["langgames/BugHunt-v0", "langgames/Negotiation-v0"])
def test_role_returns_sum_every_roles_rewards(game_id):
    env = RoleReturns(gym.make(game_id))
    total, info = play_reference(env, seed=3)
    roles = env.unwrapped.game_info.roles
    assert set(info["role_returns"]) == set(roles)
    for role in roles:
        assert info["role_returns"][role] == pytest.approx(total.get(role, 0.0))
    _, info = env.reset(seed=4)
    assert info["role_returns"] == dict.fromkeys(roles, 0.0)


def test_record_episode_statistics_records_one_roles_return():
    """Without RoleReturns, RecordEpisodeStatistics sums the scalar rewards of every role."""
    env = gym.wrappers.RecordEpisodeStatistics(
        RoleReturns(gym.make("langgames/BugHunt-v0"), reward_role="coder")
    )
    _, info = play_reference(env, seed=5)
    assert info["episode"]["r"] == pytest.approx(info["role_returns"]["coder"])


def test_vector_envs_merge_role_returns():
    envs = gym.vector.SyncVectorEnv(
        [lambda: RoleReturns(gym.make("langgames/BugHunt-v0")) for _ in range(2)]
    )
    try:
        _, info = envs.reset(seed=[1, 2])
        assert info["role_returns"]["coder"].tolist() == [0.0, 0.0]
        for _ in range(3):
            _, _, _, _, info = envs.step(("0", "```python\ndef compute(xs):\n    return xs\n```"))
            assert info["role_returns"]["coder"].shape == (2,)
    finally:
        envs.close()


def test_unknown_reward_role_is_a_clear_error():
    with pytest.raises(InvalidArgument, match=r"[Dd]id you mean"):
        RoleReturns(langgames.make("langgames/BugHunt-v0"), reward_role="coders")
