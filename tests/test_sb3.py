"""The stable-baselines3 adapters: spaces, masks, SB3's own checker, and a short training run."""

from __future__ import annotations

import numpy as np
import pytest

import langgames
from langgames.errors import InvalidArgument
from langgames.integrations.sb3 import (
    PAD_ID,
    TRUNCATED_ID,
    VOCAB_SIZE,
    CandidateActions,
    TokenizeObservation,
    candidate_env,
    decode_ids,
    encode_text,
)
from langgames.policies import reference
from langgames.registry import make_game

#: Games whose learner role lists candidate actions (in their default configuration).
CANDIDATE_GAMES = [
    "langgames/NumberHunt-v0",
    "langgames/BaseConvert-v0",
    "langgames/CodeBreaker-v0",
    "langgames/Counterexample-v0",
]


# ---------------------------------------------------------------------------------- tokenizing
def test_encoding_keeps_the_end_and_marks_the_cut():
    text = "x" * 100 + "What is 2+2?"
    ids = encode_text(text, 16)
    assert ids.dtype == np.int64 and ids.shape == (16,)
    assert ids[0] == TRUNCATED_ID and decode_ids(ids) == "…" + text[-15:]
    start = encode_text(text, 16, keep="start")
    assert start[-1] == TRUNCATED_ID and decode_ids(start) == text[:15] + "…"
    short = encode_text("héllo", 10)  # 6 UTF-8 bytes, left-padded
    assert short[:4].tolist() == [PAD_ID] * 4 and decode_ids(short) == "héllo"
    assert int(max(ids.max(), start.max())) < VOCAB_SIZE


def test_tokenized_observations_lie_in_the_box_space():
    env = TokenizeObservation(make_game("langgames/NumberHunt-v0"), max_length=64)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert decode_ids(obs) == "…" + info["text_observation"].encode()[-63:].decode()
    obs, *_, info = env.step("guess: 1")
    assert env.observation_space.contains(obs)
    with pytest.raises(InvalidArgument, match="max_length"):
        TokenizeObservation(make_game("langgames/NumberHunt-v0"), max_length=0)


# ---------------------------------------------------------------------------------- candidates
@pytest.mark.parametrize("game_id", CANDIDATE_GAMES)
def test_index_plays_the_listed_candidate(game_id):
    env = CandidateActions(make_game(game_id), k=8)
    obs, info = env.reset(seed=1_000_000_000)
    offered = info["candidate_actions"]
    assert 1 <= len(offered) <= 8 and env.candidates == offered
    assert env.action_masks().tolist() == [i < len(offered) for i in range(8)]
    assert obs.endswith("\n".join(f"{i}) {c}" for i, c in enumerate(offered)))
    *_, info = env.step(len(offered) - 1)
    assert info["chosen_action"] == offered[-1]
    assert info["verdict"]["status"] != "unparseable"  # candidates are readable moves


def test_k_clips_and_pads_the_candidates():
    game = make_game("langgames/BaseConvert-v0", candidates_in_info=True)
    _, info = game.reset(seed=3)
    clipped = CandidateActions(make_game("langgames/BaseConvert-v0"), k=4)
    _, clipped_info = clipped.reset(seed=3)
    assert clipped_info["candidate_actions"] == info["candidate_actions"][:4]
    assert clipped.action_masks().all()
    padded = CandidateActions(make_game("langgames/BaseConvert-v0"), k=9)
    padded.reset(seed=3)
    assert padded.action_masks().tolist() == [True] * 6 + [False] * 3


def test_masked_index_is_an_error_or_the_documented_noop():
    strict = CandidateActions(make_game("langgames/BaseConvert-v0"), k=9, invalid="raise")
    strict.reset(seed=3)
    with pytest.raises(InvalidArgument, match=r"masked out.*MaskablePPO"):
        strict.step(7)
    with pytest.raises(InvalidArgument, match="action index"):
        strict.step(1.5)
    lenient = CandidateActions(make_game("langgames/BaseConvert-v0"), k=9)
    lenient.reset(seed=3)
    _, reward, terminated, _, info = lenient.step(7)  # no-op: an empty reply
    assert info["verdict"]["status"] == "unparseable" and reward == -0.1 and not terminated
    assert lenient.action_masks().sum() == 6  # same instance, same candidates


def test_a_game_without_candidates_is_a_clear_error():
    with pytest.raises(InvalidArgument, match=r"lists no candidate actions.*opponents"):
        CandidateActions(make_game("langgames/WriteFunction-v0"), k=4).reset(seed=0)


def test_multi_role_game_through_opponents():
    # BugHunt's tester lists candidate inputs; the coder does not, so it is a fixed opponent.
    env = candidate_env("langgames/BugHunt-v0", k=6, max_length=256, opponents={"coder": reference})
    obs, info = env.reset(seed=0)
    assert [m["role"] for m in info["opponent_moves"]] == ["coder"]  # the coder moved first
    assert info["role"] == "tester" and env.get_wrapper_attr("action_masks")().all()
    assert info["text_observation"].endswith(info["candidate_actions"][-1])
    obs, reward, terminated, truncated, info = env.step(0)
    assert info["actor"] == "tester" and info["chosen_action"].startswith("inputs: ")
    assert info["verdict"]["status"] in ("correct", "incorrect") and terminated
    assert env.get_wrapper_attr("action_masks")().sum() == 0  # nothing to choose once over


@pytest.mark.parametrize("game_id", ["langgames/NumberHunt-v0", "langgames/BaseConvert-v0"])
def test_candidates_are_a_pure_function_of_the_instance(game_id):
    def run() -> list[list[str]]:
        game = make_game(game_id, candidates_in_info=True)
        _, info = game.reset(seed=42)
        seen = [info["candidate_actions"]]
        for _ in range(3):
            game.candidate_actions()  # asking again changes nothing
            *_, terminated, truncated, info = game.step(info["candidate_actions"][0])
            if terminated or truncated:
                break
            seen.append(info["candidate_actions"])
        return seen

    assert run() == run()


def test_new_game_candidates_contain_the_reference_move():
    for game_id in ("langgames/NumberHunt-v0", "langgames/BaseConvert-v0"):
        for difficulty in (1, 2, 3):
            game = make_game(game_id, difficulty=difficulty)
            for seed in range(30):
                _, info = game.reset(seed=seed)
                assert "candidate_actions" not in info  # listed on demand only (step speed)
                assert game.reference_action() in game.candidate_actions()


# ---------------------------------------------------------------------------------- SB3
@pytest.mark.slow  # loads torch and stable-baselines3: the full tier
@pytest.mark.parametrize("game_id", CANDIDATE_GAMES)
def test_wrapped_games_pass_the_sb3_env_checker(game_id):
    env_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    env_checker.check_env(candidate_env(game_id, k=6, max_length=128), warn=True)


@pytest.mark.slow  # loads torch and stable-baselines3: the full tier
def test_extractor_embeds_token_ids():
    torch = pytest.importorskip("torch")
    from langgames.integrations.sb3 import ByteEmbeddingExtractor

    env = candidate_env("langgames/BaseConvert-v0", k=6, max_length=64)
    extractor = ByteEmbeddingExtractor(env.observation_space, embed_dim=8, features_dim=16)
    obs, _ = env.reset(seed=0)
    batch = torch.as_tensor(np.stack([obs, encode_text("", 64)])).float()  # SB3 sends floats
    features = extractor(batch)
    assert features.shape == (2, 16) and torch.isfinite(features).all()
    with pytest.raises(InvalidArgument, match="Box space of TokenizeObservation"):
        ByteEmbeddingExtractor(env.action_space)


def test_light_import_of_the_adapters():
    import subprocess
    import sys

    code = (
        "import sys, langgames.integrations.sb3 as m; m.TokenizeObservation; "
        "bad = [x for x in ('torch', 'stable_baselines3') if x in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert langgames.game_ids()  # the registry is untouched by the adapters


# ---------------------------------------------------------------------------------- training
def load_example():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / "sb3_ppo.py"
    spec = importlib.util.spec_from_file_location("sb3_ppo_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_maskable_ppo_learns_binary_search_on_number_hunt():
    """A short MaskablePPO run (the example's settings, ~30 s on one core) finds the secret within
    the guess budget far more often than a random candidate does, on held-out seeds."""
    pytest.importorskip("sb3_contrib")
    example = load_example()
    result = example.train(
        "NumberHunt", difficulty=2, max_turns=14, steps=8192, eval_episodes=100, seed=0
    )
    assert result["random"] < 0.45  # the chance level of this setting: about a third
    assert result["success"] >= result["random"] + 0.2, result


@pytest.mark.slow  # loads torch and stable-baselines3: the full tier
def test_example_smoke(capsys):
    """The example's command line runs end to end (a few hundred steps, no learning asserted)."""
    pytest.importorskip("sb3_contrib")
    example = load_example()
    args = ["--games", "BaseConvert", "--steps", "256", "--eval-episodes", "5", "--n-envs", "2"]
    assert example.main(args) == 0
    out = capsys.readouterr().out
    assert "BaseConvert" in out and "0.167" in out  # chance = 1/6
