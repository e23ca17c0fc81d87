"""Registration, specs, ids and the one game table."""

from __future__ import annotations

import re
from pathlib import Path

import gymnasium as gym
import pytest

import langgames
from langgames.errors import InvalidArgument, UnknownGame
from langgames.registry import get_spec, list_games, register

ROOT = Path(__file__).resolve().parent.parent

#: Every game's docstring follows this template (CONTRIBUTING.md), in this order.
TEMPLATE = [
    "## Description",
    "## Roles",
    "## Observation",
    "## Action",
    "## Reward",
    "## Episode end",
    "## Arguments",
    "## Version History",
]


def test_the_table_in_envs_is_the_one_list_of_games():
    table = (ROOT / "envs" / "__init__.py").read_text()
    registered = re.findall(r'register\("([^"]+)"', table)
    assert registered == langgames.game_ids()
    assert len(registered) >= 2


def test_list_games_returns_declared_specs():
    specs = list_games()
    assert [s.id for s in specs] == langgames.game_ids()
    for spec in specs:
        d = spec.to_dict()
        for key in (
            "id",
            "roles",
            "verifiers",
            "answer_format",
            "reward_range",
            "max_turns",
            "deterministic",
            "difficulty_levels",
            "tags",
            "card",
        ):
            assert key in d
        assert spec.summary and spec.info.id == spec.id
        headings = [line for line in spec.doc.splitlines() if line.startswith("## ")]
        assert headings == TEMPLATE, f"{spec.id}: docstring headings {headings}"
    deduction = list_games(tag="deduction")
    assert "langgames/NumberHunt-v0" in [s.id for s in deduction]
    assert all("deduction" in s.info.tags for s in deduction) and len(deduction) < len(specs)


def test_unknown_ids_get_did_you_mean():
    with pytest.raises(
        UnknownGame, match=r"'langgames/NumberHnt-v0'.*Did you mean: `NumberHunt-v0`"
    ):
        get_spec("langgames/NumberHnt-v0")
    with pytest.raises(UnknownGame, match="Did you mean: `BaseConvert-v0`"):
        langgames.make("baseconvert-v0")
    assert get_spec("NumberHunt-v0").id == "langgames/NumberHunt-v0"


def test_gym_make_also_suggests_and_points_to_new_versions():
    with pytest.raises(gym.error.Error, match="NumberHunt"):
        gym.make("langgames/NumberHunt-v7")


def test_register_validates_its_input():
    with pytest.raises(InvalidArgument, match="look like 'langgames/<Name>-v<N>'"):
        register("NumberHunt", "x:y")
    with pytest.raises(InvalidArgument, match="module:Class"):
        register("langgames/Other-v0", "no_colon")
    with pytest.raises(InvalidArgument, match="already registered"):
        register("langgames/NumberHunt-v0", "langgames.envs.base_convert:BaseConvert")


def test_gym_make_with_module_prefix_in_a_fresh_process(run_python):
    proc = run_python(
        "import gymnasium as gym\n"
        "env = gym.make('langgames:langgames/NumberHunt-v0')\n"
        "obs, info = env.reset(seed=0)\n"
        "print(info['role'], type(env.unwrapped).__name__)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["player", "NumberHunt"]
