"""The PettingZoo AEC view (langgames.multiagent): PettingZoo's own api_test and seed_test, a full
ScholarsCircle round through it, and the missing-extra error. Needs the `multiagent` extra."""

from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pytest
from pettingzoo.test import api_test, seed_test

from langgames.envs.number_hunt import NumberHunt
from langgames.envs.scholars_circle import ScholarsCircle
from langgames.errors import InvalidArgument, MissingExtra
from langgames.multiagent import make_aec


@pytest.mark.parametrize(
    "factory",
    [lambda: make_aec(ScholarsCircle()), lambda: make_aec("langgames/NumberHunt-v0")],
    ids=["ScholarsCircle", "NumberHunt"],
)
def test_pettingzoo_api_and_seed_tests_pass(factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # advice for numeric spaces, not failures
        api_test(factory(), num_cycles=10)
        seed_test(factory, num_cycles=10)


def test_a_reference_round_through_the_aec_view():
    env = make_aec(ScholarsCircle(families=("deduction",), similarity_weight=0.0))
    assert env.possible_agents == ["explorer", "solver", "critic"]
    env.reset(seed=3)
    game = env.game
    order, totals, dead = [], {a: 0.0 for a in env.possible_agents}, []
    for agent in env.agent_iter(max_iter=50):
        observation, reward, terminated, truncated, info = env.last()
        totals[agent] += reward
        assert observation["observation"].tolist() == [int(a == agent) for a in env.possible_agents]
        assert env.observation_space(agent).contains(observation)
        if terminated or truncated:
            dead.append(agent)
            env.step(None)
            continue
        order.append(agent)
        assert observation["text"].startswith(f"[ScholarsCircle | role: {agent}")
        env.step(game.reference_action())
    assert order == ["explorer", "solver", "solver", "solver", "critic"]
    assert sorted(dead) == ["critic", "explorer", "solver"] and env.agents == []
    assert totals["solver"] == 3.0 and totals["critic"] == 1.0
    assert totals["explorer"] == 0.0  # every reference solver solved it: nothing to learn


def test_rewards_reach_agents_that_did_not_act():
    """The explorer's learnability arrives at the critic's step; the explorer sees it in last()."""
    env = make_aec(ScholarsCircle(families=("math",), similarity_weight=0.0))
    env.reset(seed=0)
    game = env.game
    answers = iter(["\\boxed{0}", "\\boxed{0}"])
    got = {}
    for agent in env.agent_iter(max_iter=50):
        _, reward, terminated, truncated, _ = env.last()
        if terminated or truncated:
            got[agent] = reward
            env.step(None)
        elif agent == "solver":
            env.step(next(answers, game.reference_action()))
        else:
            env.step(game.reference_action())
    assert got["explorer"] == pytest.approx(2 / 3)  # one solver of three solved it


def test_make_aec_checks_its_arguments():
    with pytest.raises(InvalidArgument, match="with a game instance"):
        make_aec(NumberHunt(), difficulty=2)
    with pytest.raises(InvalidArgument, match="expects a game id"):
        make_aec(object())  # type: ignore[arg-type]
    env = make_aec("langgames/NumberHunt-v0", difficulty=2)
    env.reset(seed=0, options={"difficulty": 3, "ignored": True})
    assert env.game.difficulty == 3
    assert isinstance(env.observe(env.agent_selection)["observation"], np.ndarray)


def test_a_missing_pettingzoo_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pettingzoo", None)
    with pytest.raises(MissingExtra, match=r"pip install 'langgames\[multiagent\]'"):
        make_aec("langgames/NumberHunt-v0")


def test_importing_the_module_does_not_import_pettingzoo(run_python):
    proc = run_python(
        "import sys, json, langgames.multiagent\nprint(json.dumps('pettingzoo' in sys.modules))"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) is False
