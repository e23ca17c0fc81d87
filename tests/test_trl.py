"""TRL integration: the prompt dataset, the reward function, and GRPOTrainer running on them."""

from __future__ import annotations

import pytest

pytest.importorskip("datasets")
pytest.importorskip("transformers")

from langgames.errors import InvalidArgument
from langgames.integrations.trl import make_dataset, reward_fn

GAME = "langgames/BaseConvert-v0"


def test_dataset_rows_rebuild_their_instances():
    import gymnasium as gym

    ds = make_dataset(GAME, [3, 4, 5], difficulty=1)
    assert ds.column_names == ["prompt", "seed", "game_id", "difficulty", "role"]
    env = gym.make(GAME, difficulty=1)
    for row in ds:
        obs, _ = env.reset(seed=row["seed"])
        assert row["prompt"] == obs and row["role"] == "player" and row["difficulty"] == 1
    chat = make_dataset(GAME, [3], as_chat=True, system="Be brief.")
    assert [m["role"] for m in chat[0]["prompt"]] == ["system", "user"]
    assert chat[0]["prompt"][1]["content"] == ds[0]["prompt"]


def test_reward_fn_scores_completions_like_env_step():
    import gymnasium as gym

    ds = make_dataset(GAME, [0, 1], difficulty=1)
    env = gym.make(GAME, difficulty=1)
    env.reset(seed=1)
    right = env.unwrapped.reference_action()
    cols = {k: ds[k] for k in ("seed", "game_id", "difficulty")}
    # seed 0 gets garbage, seed 1 its right answer (as text and as a chat completion)
    assert reward_fn(ds["prompt"], ["not a numeral!", right], **cols) == [-0.1, 1.0]
    chat = [[{"role": "assistant", "content": "zz"}], [{"role": "assistant", "content": right}]]
    assert reward_fn(ds["prompt"], chat, **cols)[1] == 1.0
    with pytest.raises(InvalidArgument, match="make_dataset"):
        reward_fn(ds["prompt"], ["1", "2"], seed=[0, 1])


def test_reward_fn_returns_none_when_the_verifier_cannot_judge(monkeypatch):
    from langgames.envs.base_convert import BaseConvert

    def broken(self, role, action):
        raise RuntimeError("verifier crashed")

    monkeypatch.setattr(BaseConvert, "_play", broken)
    ds = make_dataset("langgames/BaseConvert-v0", [0], difficulty=2)
    cols = {k: ds[k] for k in ("seed", "game_id", "difficulty")}
    assert reward_fn(ds["prompt"], ["10"], **cols) == [None]


@pytest.mark.slow
def test_grpo_trainer_runs_on_a_game(tmp_path):
    import torch
    import transformers
    from trl import GRPOConfig, GRPOTrainer

    torch.manual_seed(0)
    tokenizer = transformers.ByT5Tokenizer()
    tokenizer.padding_side = "left"
    model = transformers.GPT2LMHeadModel(
        transformers.GPT2Config(
            n_layer=2,
            n_head=2,
            n_embd=64,
            vocab_size=384,
            n_positions=512,
            bos_token_id=tokenizer.eos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    dataset = make_dataset(GAME, range(8), difficulty=1)
    args = GRPOConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        report_to=[],
        max_steps=2,
        per_device_train_batch_size=4,
        num_generations=2,
        max_completion_length=16,
        logging_steps=1,
        save_strategy="no",
        seed=0,
    )
    calls = []

    def recorded(prompts, completions, **kwargs):
        rewards = reward_fn(prompts, completions, **kwargs)
        calls.append((list(kwargs["seed"]), rewards))
        return rewards

    trainer = GRPOTrainer(
        model=model,
        reward_funcs=recorded,
        args=args,
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    trainer.train()
    logged = [float(entry["reward"]) for entry in trainer.state.log_history if "reward" in entry]
    assert len(logged) == len(calls) == 2
    for (seeds, rewards), mean in zip(calls, logged, strict=True):
        # 4 completions per step: 2 prompts x num_generations=2, each scored by the game
        assert len(seeds) == 4 and seeds[0] == seeds[1] and seeds[2] == seeds[3]
        assert all(r is not None and -0.1 <= r <= 1.0 for r in rewards)
        assert mean == pytest.approx(sum(rewards) / 4, abs=1e-3)  # what TRL trained on
