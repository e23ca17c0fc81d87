"""`CoverageMonitor`: a collapsing policy is flagged, a varied one is not."""

from __future__ import annotations

import gymnasium as gym
import pytest

import langgames
from langgames.policies import RandomText
from langgames.wrappers import CoverageMonitor, CoverageTracker


def drive(env, policy, steps=80):
    obs, info = env.reset(seed=0)
    game = env.unwrapped
    for _ in range(steps):
        obs, _, terminated, truncated, info = env.step(policy(obs, info, game))
        coverage = info["coverage"]
        if terminated or truncated:
            obs, info = env.reset()
    return coverage


def test_a_constant_policy_collapses():
    env = CoverageMonitor(gym.make("langgames/BaseConvert-v0"))
    coverage = drive(env, lambda o, i, g: "42")
    assert coverage["collapsed"] and coverage["duplicate_rate"] > 0.9
    assert env.collapsed


def test_varied_policies_do_not_collapse():
    env = CoverageMonitor(gym.make("langgames/BaseConvert-v0"))
    assert not drive(env, RandomText(0))["collapsed"]
    env = CoverageMonitor(gym.make("langgames/BaseConvert-v0"))
    coverage = drive(env, lambda o, i, g: g.reference_action())
    assert not coverage["collapsed"] and coverage["duplicate_rate"] < 0.5


def test_no_verdict_before_min_samples_and_stats():
    tracker = CoverageTracker(window=8, min_samples=5)
    assert not tracker.add("a")["collapsed"]
    for _ in range(4):
        stats = tracker.add("a")
    assert stats["collapsed"] and stats["window"] == 5
    with pytest.raises(langgames.InvalidArgument, match="min_samples"):
        CoverageTracker(window=4, min_samples=8)
