"""ProxyReward: shaping telescopes to a constant; potentials follow (and lose) real reward."""

from __future__ import annotations

import gymnasium as gym
import pytest

import langgames  # noqa: F401 - registers the games
from langgames.errors import InvalidArgument
from langgames.proxy import ProxyReward, text_feature


def _episode(env, seed, moves):
    """Play ``moves(env)`` until the end; return (phi(s0), shaping list, real list, rewards)."""
    obs, info = env.reset(seed=seed)
    phi0 = info["potential"]
    shaping, real, total = [], [], []
    done = False
    while not done:
        obs, reward, terminated, truncated, info = env.step(moves(env))
        shaping.append(info["proxy_reward"])
        real.append(info["real_reward"])
        total.append(reward)
        done = terminated or truncated
    return phi0, shaping, real, total


def test_shaping_sums_to_minus_beta_phi_s0_every_episode_while_learning():
    env = ProxyReward(gym.make("langgames/NumberHunt-v0", max_turns=8), beta=0.7, rate=0.5)
    reference = lambda e: e.unwrapped.reference_action()  # noqa: E731
    sums = []
    for episode in range(12):
        # the same instances recur, so potentials are non-zero and change between episodes
        seed = episode % 3
        policy = reference if episode % 2 else (lambda e: "guess: 0")
        phi0, shaping, real, total = _episode(env, seed, policy)
        # telescoping: only float rounding separates the sum from -beta * phi(s0)
        assert sum(shaping) == pytest.approx(-0.7 * phi0, abs=1e-12)
        assert total == [r + s for r, s in zip(real, shaping, strict=True)]
        sums.append(sum(shaping))
    assert any(abs(s) > 0.05 for s in sums)  # the test is not vacuous: the potential is learned


def test_a_state_that_stops_leading_to_reward_loses_its_potential():
    env = ProxyReward(gym.make("langgames/NumberHunt-v0", max_turns=4), beta=1.0, rate=0.5)
    obs, info = env.reset(seed=5)
    for _ in range(4):  # the first state leads to reward 1: its potential rises toward 1
        _, _, real, _ = _episode(env, 5, lambda e: e.unwrapped.reference_action())
        assert sum(real) == 1.0
    learned = env.potential(obs, info)
    assert learned == pytest.approx(1 - 0.5**4)
    # the policy changes: the same state is now followed by wrong guesses and truncation
    history = []
    for _ in range(4):
        _episode(env, 5, lambda e: "guess: 1000000")
        history.append(env.potential(obs, info))
    assert history == sorted(history, reverse=True)
    assert history[-1] == pytest.approx(learned * 0.5**4)
    # an episode starting in a state with potential p pays -beta*p in shaping: no farming it
    phi0, shaping, _, _ = _episode(env, 5, lambda e: e.unwrapped.reference_action())
    assert phi0 == pytest.approx(history[-1]) and sum(shaping) == pytest.approx(-phi0)


def test_featurize_and_frozen_potential():
    calls = []

    def featurize(obs, info):
        calls.append(info["role"])
        return "same"  # every state shares one potential

    env = ProxyReward(
        gym.make("langgames/NumberHunt-v0", max_turns=3), featurize=featurize, learn=False
    )
    _episode(env, 0, lambda e: e.unwrapped.reference_action())
    assert calls and set(calls) == {"player"}
    assert env.table == {}
    assert text_feature("Hello   World\n", {}) == text_feature("hello world", {})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"beta": -1}, "beta"),
        ({"gamma": 0}, "gamma"),
        ({"rate": 2}, "rate"),
        ({"featurize": 3}, "featurize"),
    ],
)
def test_bad_arguments_teach(kwargs, match):
    with pytest.raises(InvalidArgument, match=match):
        ProxyReward(gym.make("langgames/NumberHunt-v0"), **kwargs)
