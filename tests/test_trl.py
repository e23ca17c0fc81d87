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


# ---------------------------------------------------------- whole episodes (environment_factory)
MULTI = "langgames/NumberHunt-v0"


def test_environment_plays_a_whole_episode_with_the_game_reward():
    from langgames.integrations.trl import GAME_OVER, environment_factory
    from langgames.policies import reference
    from langgames.rollout import play

    episodes = []
    factory = environment_factory(MULTI, on_episode=episodes.append)
    env = factory()
    assert env.reset(seed=5, difficulty=1, prompt=[{"role": "user", "content": ""}])
    # the reference solver's moves, played through the tool, give the reference episode
    ref = play(MULTI, reference, seed=5)
    for turn in ref.turns:
        answer = env.move(turn.action)
    assert answer.endswith(GAME_OVER) and env.move("guess: 1") == GAME_OVER
    assert env.moves_after_end == 1
    assert env.get_reward() == pytest.approx(ref.returns["player"]) and env.get_reward() > 0
    assert len(episodes) == 1 and [t.action for t in episodes[0].turns] == [
        t.action for t in ref.turns
    ]
    # a make_dataset row already holds the first observation: reset adds nothing
    row = make_dataset(MULTI, [5], as_chat=True)[0]
    assert env.reset(**row) is None and env.episode.seed == 5


def test_environment_seeds_without_a_dataset_come_in_groups():
    from langgames.integrations.trl import environment_factory

    factory = environment_factory(MULTI, seeds=[10, 20], group_size=2)
    envs = [factory() for _ in range(4)]
    for env in envs:
        env.reset(prompt=[{"role": "user", "content": "Play."}])
    assert [e.episode.seed for e in envs] == [10, 10, 20, 20]
    with pytest.raises(InvalidArgument, match="ran out of seeds"):
        factory().reset()
    with pytest.raises(InvalidArgument, match="plays langgames/NumberHunt-v0"):
        envs[0].reset(seed=1, game_id="langgames/BaseConvert-v0")
    with pytest.raises(InvalidArgument, match="group_size"):
        environment_factory(MULTI, group_size=0)


def test_environment_exposes_one_tool_to_trl():
    import inspect

    from langgames.integrations.trl import LangGameEnvironment

    public = [
        n
        for n, _ in inspect.getmembers(LangGameEnvironment, predicate=inspect.isfunction)
        if not n.startswith("_")
    ]
    assert sorted(public) == ["get_reward", "move", "reset"]  # TRL makes every other one a tool


def test_text_moves_read_every_reply_as_a_move():
    transformers = pytest.importorskip("transformers")
    from packaging.version import Version

    if Version(transformers.__version__) < Version("5.13"):
        pytest.skip("response templates need transformers >= 5.13")
    pytest.importorskip("trl")
    from trl.chat_template_utils import (
        is_chat_template_prefix_preserving,
        parse_response,
        supports_tool_calling,
    )

    from langgames.integrations.trl import use_text_moves

    tok = use_text_moves(transformers.ByT5Tokenizer())
    assert supports_tool_calling(tok) and is_chat_template_prefix_preserving(tok)
    prefix = tok.apply_chat_template(
        [{"role": "user", "content": "hi"}], add_generation_prompt=True, return_dict=True
    )["input_ids"]
    ids = tok("guess: 50</s>", add_special_tokens=False)["input_ids"]
    call = parse_response(tok, ids, prefix=prefix)["tool_calls"][0]["function"]
    assert call == {"name": "move", "arguments": {"action": "guess: 50"}}
    empty = parse_response(tok, tok("</s>", add_special_tokens=False)["input_ids"], prefix=prefix)
    assert "tool_calls" not in empty  # an empty reply ends the rollout


@pytest.mark.slow
def test_grpo_trainer_plays_whole_multi_turn_episodes(tmp_path, monkeypatch):
    import torch
    import transformers
    from trl import GRPOConfig, GRPOTrainer

    from langgames.integrations.trl import environment_factory, use_text_moves

    monkeypatch.setenv("TRL_EXPERIMENTAL_SILENCE", "1")
    torch.manual_seed(0)
    # a random byte-level model calls no tools: use_text_moves reads each reply as the move
    tokenizer = use_text_moves(transformers.ByT5Tokenizer())
    tokenizer.padding_side = "left"
    model = transformers.GPT2LMHeadModel(
        transformers.GPT2Config(
            n_layer=2,
            n_head=2,
            n_embd=32,
            vocab_size=384,
            n_positions=2048,  # byte tokens: NumberHunt's prompt and two answers are ~1.8k
            bos_token_id=tokenizer.eos_token_id,
            eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    )
    episodes = []
    args = GRPOConfig(
        output_dir=str(tmp_path),
        use_cpu=True,
        report_to=[],
        max_steps=2,
        per_device_train_batch_size=2,
        num_generations=2,
        max_completion_length=1400,
        generation_kwargs={"max_new_tokens": 8},  # per turn
        max_tool_calling_iterations=2,
        logging_steps=1,
        save_strategy="no",
        seed=0,
    )
    trainer = GRPOTrainer(
        model=model,
        args=args,
        train_dataset=make_dataset(MULTI, range(8), as_chat=True),
        processing_class=tokenizer,
        environment_factory=environment_factory(MULTI, max_steps=2, on_episode=episodes.append),
    )
    trainer.train()
    logged = [e for e in trainer.state.log_history if "reward" in e]
    assert len(logged) == 2 and len(episodes) == 4  # 2 steps x (1 instance x 2 generations)
    for step, entry in enumerate(logged):
        group = episodes[2 * step : 2 * step + 2]
        assert group[0].seed == group[1].seed  # a GRPO group plays one instance
        for ep in group:
            assert len(ep.turns) == 2  # more than one move per episode, each judged by the game
            assert all(t.verdict.get("status") for t in ep.turns)
            assert ep.returns["player"] == pytest.approx(sum(t.reward for t in ep.turns))
        mean = sum(ep.returns["player"] for ep in group) / 2
        assert float(entry["reward"]) == pytest.approx(mean, abs=1e-4)  # what TRL trained on
        assert float(entry["tools/call_frequency"]) == 2.0
