"""A small run of examples/metacritic_sb3.py: the mechanics, not the result (that is in docs/)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location(
        "metacritic_sb3", ROOT / "examples" / "metacritic_sb3.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_broken_variant_is_flagged_and_the_registry_is_restored():
    import langgames

    module = _load()
    with module.experiment_games():
        assert set(module.GAMES) <= set(langgames.game_ids())
        card = module.measured_cards(4)[module.BROKEN[0]]
    assert card["flagged"] and "reference pass rate" in card["flags"][0]
    assert not set(module.BROKEN + module.LEARNABLE) & set(langgames.game_ids())


@pytest.mark.slow
def test_small_run_writes_curves_and_keeps_off_the_flagged_game(tmp_path):
    pytest.importorskip("sb3_contrib")
    pytest.importorskip("matplotlib")
    module = _load()
    out = tmp_path / "mc"
    argv = ["--steps", "768", "--seeds", "1", "--eval-every", "256", "--eval-episodes", "3"]
    argv += ["--arms", "uniform", "metacritic", "--audit-episodes", "4", "--out", str(out)]
    assert module.main(argv) == 0
    data = json.loads(out.with_suffix(".json").read_text())
    assert out.with_suffix(".png").stat().st_size > 0
    summary = data["summary"]
    assert set(summary["arms"]) == {"uniform", "metacritic"}
    for arm in summary["arms"].values():
        assert len(arm["mean_curve"]) == len(summary["steps"]) >= 3  # start + checkpoints
        assert sum(arm["share_by_kind"].values()) == pytest.approx(1.0)
    assert summary["arms"]["metacritic"]["share_by_kind"].get("broken", 0.0) < 0.05
    assert summary["arms"]["uniform"]["share_by_kind"].get("broken", 0.0) > 0.0  # it is played
    assert all(len(r["curve"]) >= 3 for r in data["runs"])


def test_candidate_wrappers_work_over_the_curriculum():
    import gymnasium as gym

    import langgames.curriculum  # noqa: F401  (registers Curriculum-v0)
    from langgames.integrations.sb3 import CandidateActions, candidate_env
    from langgames.registry import make_game

    env = CandidateActions(gym.make("langgames/Curriculum-v0", games=["BaseConvert-v0"]), k=6)
    obs, info = env.reset(seed=3)
    bare = CandidateActions(make_game("langgames/BaseConvert-v0"), k=6)
    bare_obs, _ = bare.reset(seed=info["seed"])
    assert obs == bare_obs  # the policy sees the same text through the curriculum
    assert env.action_masks().all() and len(info["candidate_actions"]) == 6
    *_, info = env.step(0)
    assert "curriculum" in info
    assert candidate_env("langgames/BaseConvert-v0").observation_space.shape == (512,)
