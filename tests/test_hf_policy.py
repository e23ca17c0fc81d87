"""`hf:<path>` policies, offline: a tiny random GPT-2 with a byte-level tokenizer built here."""

from __future__ import annotations

import json

import pytest

from langgames.cli import main
from langgames.errors import InvalidArgument


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    # imported here, not at module level: collecting the suite does not load the ML stack
    transformers = pytest.importorskip("transformers")
    torch = pytest.importorskip("torch")
    path = tmp_path_factory.mktemp("tiny-lm")
    tokenizer = transformers.ByT5Tokenizer()
    config = transformers.GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=512,
        n_embd=32,
        n_layer=1,
        n_head=2,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    torch.manual_seed(0)
    transformers.GPT2LMHeadModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.mark.slow  # loads torch, transformers and a model: the full tier
def test_hf_policy_generates_batches_greedy_and_seeded(tiny_model):
    from langgames.policies import HFPolicy

    policy = HFPolicy(str(tiny_model), max_new_tokens=8)
    a = policy.generate(["What is 2+2?", "A much longer prompt " * 40])
    assert len(a) == 2 and all(isinstance(t, str) for t in a)
    assert policy.generate(["What is 2+2?"])[0] == a[0]  # greedy: batch-independent
    sampler = HFPolicy(str(tiny_model), max_new_tokens=8, temperature=1.0)
    sampler.reseed(3)
    first = sampler.generate(["hi"])
    sampler.reseed(3)
    assert sampler.generate(["hi"]) == first
    cut = HFPolicy(str(tiny_model), max_new_tokens=8, stop=(a[0][:1],) if a[0] else ())
    assert len(cut.generate(["What is 2+2?"])[0]) <= len(a[0])


def test_hf_policy_rejects_a_missing_directory(tmp_path):
    from langgames.policies import HFPolicy

    with pytest.raises(InvalidArgument, match="never downloaded"):
        HFPolicy(str(tmp_path / "nope"))


@pytest.mark.slow  # loads torch, transformers and a model: the full tier
def test_bench_with_an_hf_policy(tiny_model, tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["bench", "--suite", "core", "--policy", f"hf:{tiny_model}", "--episodes", "2"]
    argv += ["--games", "BaseConvert-v0", "--out", str(out), "--quiet", "--no-plots"]
    argv += ["--max-new-tokens", "6", "--temperature", "0.7"]
    assert main(argv) == 0
    episodes = [json.loads(x) for x in (out / "episodes.jsonl").read_text().splitlines()]
    assert len(episodes) == 2 and all("error" not in e for e in episodes)
    assert all(e["steps"] for e in episodes)


@pytest.mark.slow  # loads torch, transformers and a model: the full tier
def test_hf_batches_match_one_at_a_time_and_give_tokens(tiny_model):
    from langgames.policies import HFPolicy
    from langgames.rollout import Request, collect

    prompts = ["What is 2+2?", "A much longer prompt " * 10, "x"]
    policy = HFPolicy(str(tiny_model), max_new_tokens=6, return_tokens=True)
    batched = policy.generate_replies(prompts)
    alone = [policy.generate_replies([p])[0] for p in prompts]
    assert [r.text for r in batched] == [r.text for r in alone]
    assert [r.completion_ids for r in batched] == [r.completion_ids for r in alone]
    for r in batched:
        assert len(r.logprobs) == len(r.completion_ids) and all(lp <= 0 for lp in r.logprobs)
        assert r.prompt_ids  # the prompt without its left padding
    assert batched[0].prompt_ids == alone[0].prompt_ids
    # per-row stop strings: each row is cut at its own first stop
    first = batched[0].text
    if first:
        cut = HFPolicy(str(tiny_model), max_new_tokens=6, stop=(first[-1],))
        assert [len(t) for t in cut.generate(prompts)] <= [len(r.text) for r in batched]
    reqs = [Request(p, {}, None, []) for p in prompts]
    assert [r.text for r in policy.act_batch(reqs)] == [r.text for r in batched]
    # collect batches the in-flight episodes, keeps tokens, and matches one at a time
    many = collect("langgames/NumberHunt-v0", policy, [1, 2, 3], concurrency=3, max_steps=2)
    few = collect("langgames/NumberHunt-v0", policy, [1, 2, 3], concurrency=1, max_steps=2)
    assert [[t.action for t in e.turns] for e in many] == [[t.action for t in e.turns] for e in few]
    assert many[0].turns[0].completion_ids and many[0].turns[0].mask[-1] == 1
