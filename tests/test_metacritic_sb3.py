"""A small run of examples/metacritic_sb3.py: the mechanics, not the result (that is in docs/)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load():
    spec = importlib.util.spec_from_file_location(
        "metacritic_sb3", ROOT / "examples" / "metacritic_sb3.py"
    )
    assert spec is not None and spec.loader is not None
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
    assert not set(module._EXPERIMENT_CLASSES) & set(langgames.game_ids())


def test_fog_games_hide_the_state_and_the_critic_gets_episode_lengths():
    """The long unlearnable games: the middle option (NumberHunt's winning rule) no longer wins,
    the reference still does; and each copy of the curriculum passes episode lengths on."""
    import numpy as np

    from langgames.integrations.sb3 import candidate_env
    from langgames.metacritic import MetaCritic

    module = _load()
    with module.experiment_games():
        for gid in ("langgames/ExpFogHunt-v0", "langgames/ExpFogHuntL3-v0"):
            env = candidate_env(gid, k=6, max_length=128)
            wins, moves = 0, 0
            for seed in range(5):
                env.reset(seed=seed)
                while True:
                    _, r, term, trunc, _ = env.step(2)  # the middle option
                    moves += 1
                    wins += float(r) >= 1
                    if term or trunc:
                        break
            assert wins == 0 and moves >= 5 * 14  # blind: long, lost episodes
            game: Any = env.unwrapped
            game.reset(seed=0)
            while True:
                _, r, term, trunc, _ = game.step(game._reference("player"))
                if term or trunc:
                    break
            assert float(r) == 1.0  # the state decides it: the reference solver wins
        kwargs, monitor = module.arm_config("metacritic", module.measured_cards(4))
        env = module.make_training_env(kwargs, monitor, seed=1)
        shared = MetaCritic(module.GAMES, seed=1, **kwargs)
        env.unwrapped.critic = shared  # the curriculum reports each episode's length
        env.reset(seed=1)
        rng = np.random.default_rng(0)
        for _ in range(60):
            mask = env.get_wrapper_attr("action_masks")()
            *_, term, trunc, _ = env.step(int(rng.choice(np.flatnonzero(mask))))
            if term or trunc:
                env.reset()
    lengths = {g: s["episode_steps"] for g, s in shared.report()["games"].items() if s["visits"]}
    assert lengths and all(v >= 1 for v in lengths.values())
    assert shared.report()["games"]["langgames/BaseConvert-v0"]["episode_steps"] in (0.0, 1.0)


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


def test_sampled_held_out_play_repeats_and_leaves_training_randomness_alone():
    """The sampled evaluation draws from its own reseeded generator: the same policy gets the same
    score at every checkpoint, and the training's torch random stream is as it was."""
    pytest.importorskip("sb3_contrib")
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    from langgames.integrations.sb3 import ByteEmbeddingExtractor, candidate_env

    module = _load()
    with module.experiment_games():
        venv = DummyVecEnv([lambda: candidate_env("langgames/ExpHuntL1-v0", k=6, max_length=128)])
        model = MaskablePPO(
            "MlpPolicy",
            venv,
            n_steps=16,
            seed=0,
            policy_kwargs={"features_extractor_class": ByteEmbeddingExtractor},
        )
        sampled, greedy = module.HeldOut(4, sampled=True), module.HeldOut(4)
        torch.manual_seed(123)
        before = torch.get_rng_state()
        first = sampled(model)
        assert torch.equal(torch.get_rng_state(), before)  # training draws what it would have
        assert sampled(model) == first  # common random numbers at every checkpoint
        assert set(first) == set(module.TRUSTED) and all(0 <= v <= 1 for v in first.values())
        assert greedy(model) == greedy(model)


def test_replot_refuses_to_mix_greedy_and_sampled_curves(tmp_path, capsys):
    module = _load()
    files = []
    for policy in ("greedy", "sampled"):
        f = tmp_path / f"{policy}.json"
        f.write_text(json.dumps({"runs": [{"arm": "uniform", "seed": 0, "eval_policy": policy}]}))
        files.append(str(f))
    with pytest.raises(SystemExit) as exc:
        module.main(["--replot", *files, "--out", str(tmp_path / "mixed")])
    assert exc.value.code == 2
    assert "mix held-out policies ['greedy', 'sampled']" in capsys.readouterr().err
    assert not (tmp_path / "mixed.json").exists()  # nothing written
