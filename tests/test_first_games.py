"""Rules of NumberHunt and BaseConvert that users rely on."""

from __future__ import annotations

import math

import gymnasium as gym
import pytest

from langgames.envs.base_convert import to_base
from langgames.policies import reference
from langgames.testing import play_episode


def hunt(seed=0, difficulty=1):
    env = gym.make("langgames/NumberHunt-v0", difficulty=difficulty).unwrapped
    env.reset(seed=seed)
    return env


def test_numberhunt_answers_higher_and_lower_and_keeps_history():
    env = hunt()
    obs, reward, terminated, truncated, info = env.step(f"guess: {env._low}")
    if env._secret != env._low:
        assert info["verdict"]["reason"].endswith("higher")
        assert f"{env._low} -> higher" in obs
    obs, *_, info = env.step(f"I think...\n{env._high + 1000}")
    assert info["verdict"]["reason"].endswith("lower")


@pytest.mark.parametrize(
    ("extra_guesses", "expected"), [(0, 1.0), (1, 1 - 1 / 7), (7, 0.0), (9, 0.0)]
)
def test_numberhunt_reward_falls_linearly_past_the_budget(extra_guesses, expected):
    env = hunt(seed=4)
    assert env._budget == 7
    wrong = env._secret + 1 if env._secret < env._high else env._secret - 1
    for _ in range(6 + extra_guesses):
        env.step(f"guess: {wrong}")
    obs, reward, terminated, truncated, info = env.step(str(env._secret))
    assert terminated and math.isclose(reward, expected)
    # Found is found: the status is correct; the reward (and the reason) say how late it came.
    assert info["verdict"]["status"] == "correct"
    assert info["verdict"]["details"]["over_budget"] == (expected < 1.0)


@pytest.mark.parametrize("bad", ["fifty", "guess: 4.5", "guess 1e3", "", "12 13", "9" * 41])
def test_numberhunt_unreadable_guesses_cost_a_turn(bad):
    env = hunt()
    obs, reward, terminated, truncated, info = env.step(bad)
    assert info["verdict"]["status"] == "unparseable" and reward == -0.1 and not terminated
    assert "Expected format: one integer in digits" in obs


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_difficulty_really_changes_the_work_of_the_reference():
    guesses = {}
    for level in (1, 2, 3):
        env = gym.make("langgames/NumberHunt-v0", difficulty=level).unwrapped
        guesses[level] = sum(len(play_episode(env, reference, s).steps) for s in range(30)) / 30
    assert guesses[1] < guesses[2] < guesses[3]
    digits = {}
    for level in (1, 2, 3):
        env = gym.make("langgames/BaseConvert-v0", difficulty=level).unwrapped
        digits[level] = (
            sum(len(env.reset(seed=s) and env.reference_action()) for s in range(60)) / 60
        )
    assert digits[1] < digits[3]


def test_baseconvert_accepts_case_leading_zeros_and_backticks_but_nothing_looser():
    env = gym.make("langgames/BaseConvert-v0", difficulty=2).unwrapped
    for answer_of in (
        str.upper,
        lambda a: "000" + a,
        lambda a: f"`{a}`",
        lambda a: f"work...\n{a}\n",
    ):
        env.reset(seed=11)
        _, reward, *_ = env.step(answer_of(env.reference_action()))
        assert reward == 1.0
    env.reset(seed=11)
    right = env.reference_action()
    _, reward, *_, info = env.step(f"0x{right}")
    assert info["verdict"]["status"] == "unparseable"
    env.reset(seed=11)
    _, reward, *_, info = env.step(f"{right} or {right}0")
    assert info["verdict"]["status"] == "unparseable"


def test_baseconvert_names_digits_that_do_not_exist_in_the_base():
    env = gym.make("langgames/BaseConvert-v0").unwrapped
    for seed in range(50):
        env.reset(seed=seed)
        if env._target == 2:
            break
    _, reward, *_, info = env.step("1021")
    assert reward == -0.1
    assert info["verdict"]["reason"] == "'2' is not a digit in base 2 (its digits are 01)"


def test_to_base_round_trips():
    for value in (0, 1, 35, 36, 10**12 - 1):
        for base in (2, 7, 16, 36):
            assert int(to_base(value, base), base) == value
