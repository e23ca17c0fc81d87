"""Curriculum-v0: instance seeds stay in the training range, and Gymnasium's checker passes."""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest

import langgames
import langgames.curriculum  # registers langgames/Curriculum-v0
from langgames.core import EVAL_SEEDS, TRAIN_SEEDS
from langgames.curriculum import CURRICULUM_ID
from langgames.errors import InvalidArgument

GAMES = ["BaseConvert-v0", "Countdown-v0", "NumberHunt-v0"]


def make(**kwargs):
    return gym.make(CURRICULUM_ID, games=GAMES, **kwargs).unwrapped


def test_curriculum_passes_gymnasiums_check_env_without_warnings():
    from gymnasium.utils.env_checker import check_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_env(make(seed=0), skip_render_check=True)
    assert not [str(w.message) for w in caught]


def test_a_seeded_reset_then_unseeded_resets_replay_the_same_games_and_instances():
    def run(env):
        out = [env.reset(seed=123)]
        out += [env.reset() for _ in range(4)]
        return [(obs, info["game"], info["seed"]) for obs, info in out]

    assert run(make()) == run(make()) == run(make(seed=9))


def test_instance_seeds_stay_in_the_training_range():
    env = make(seed=0)
    seen = []
    for seed in range(3000):
        _, info = env.reset(seed=seed)
        seen.append(info["seed"])
        if seed % 3 == 0:
            _, info = env.reset()
            seen.append(info["seed"])
    assert all(s in TRAIN_SEEDS for s in seen)
    assert not any(s in EVAL_SEEDS for s in seen)
    assert max(seen) > TRAIN_SEEDS.stop // 2  # the whole range is used, not a corner of it


def test_evaluation_seeds_only_when_asked_for():
    env = make(instance_seeds=EVAL_SEEDS)
    seeds = [env.reset(seed=s)[1]["seed"] for s in range(200)]
    assert all(s in EVAL_SEEDS for s in seeds)
    small = make(instance_seeds=range(10, 20))
    assert {small.reset(seed=s)[1]["seed"] for s in range(200)} <= set(range(10, 20))


@pytest.mark.parametrize(
    "bad", [range(0), range(0, 2_000_000_000), range(0, 10, 2), [1, 2, 3], EVAL_SEEDS.start]
)
def test_instance_seeds_across_both_ranges_or_not_a_range_are_refused(bad):
    with pytest.raises(InvalidArgument, match="instance_seeds"):
        make(instance_seeds=bad)


def test_the_top_level_names_are_the_same_ranges():
    assert langgames.TRAIN_SEEDS is TRAIN_SEEDS and langgames.EVAL_SEEDS is EVAL_SEEDS


def test_the_critic_learns_each_games_episode_length_in_moves():
    """The budget is environment steps: the curriculum tells its critic how many moves each
    episode took, so a per-step critic can weigh progress by cost."""
    env = gym.make(CURRICULUM_ID, games=["NumberHunt-v0"], seed=0).unwrapped
    moves = []
    for _ in range(3):
        env.reset()
        n, done = 0, False
        while not done:
            _, _, terminated, truncated, _ = env.step(env.game.reference_action())
            n, done = n + 1, terminated or truncated
        moves.append(n)
    assert max(moves) > 1  # NumberHunt takes several moves, so a wrong count would show
    assert env.critic.episode_steps("langgames/NumberHunt-v0") == pytest.approx(
        sum(moves) / len(moves)
    )
