"""examples/train_lm_reinforce.py: self-play with group rollouts, per-role advantages and a
REINFORCE loss on the recorded completion tokens (plumbing, on a tiny random model)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GAME = "langgames/Negotiation-v0"


@pytest.fixture(scope="module")
def trainer():
    # imported here, not at module level: collecting the suite does not load the ML stack
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    spec = importlib.util.spec_from_file_location(
        "train_lm_reinforce", ROOT / "examples" / "train_lm_reinforce.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


class HalfReference:
    """The tiny model's policy, except that every other request is answered with the game's
    reference move, scored by the model as if it had sampled it (tokens + logprobs).

    A random byte model never writes a readable Negotiation move, so the second role would never
    get a turn; the reference moves let both roles play while the loss still trains on tokens
    and logprobs the model assigns."""

    def __init__(self, hf):
        self.hf, self.model, self.tokenizer, self.calls = hf, hf.model, hf.tokenizer, 0

    def reseed(self, seed):
        self.hf.reseed(seed)

    def act_batch(self, requests):
        import torch

        from langgames.rollout import Reply

        replies = self.hf.act_batch(requests)
        for k, request in enumerate(requests):
            self.calls += 1
            if self.calls % 2:
                continue
            text = request.env.unwrapped.reference_action()
            completion = self.tokenizer(text, add_special_tokens=False)["input_ids"]
            completion = [*completion, self.tokenizer.eos_token_id]
            room = self.model.config.n_positions - len(completion)
            prompt = replies[k].prompt_ids[-room:]  # what the model is conditioned on
            ids = torch.tensor([prompt + completion])
            with torch.no_grad():
                logp = torch.log_softmax(self.model(ids).logits[0, :-1].float(), -1)
            logprobs = [float(logp[len(prompt) - 1 + i, t]) for i, t in enumerate(completion)]
            replies[k] = Reply(text, prompt, completion, logprobs)
        return replies


@pytest.mark.slow
def test_self_play_updates_a_tiny_model(trainer, tmp_path):
    import torch

    hf = trainer.load_policy(
        "tiny", max_new_tokens=8, temperature=1.0, seed=0, workdir=str(tmp_path)
    )
    before = [p.detach().clone() for p in hf.model.parameters()]
    collected = []
    history = trainer.train(
        GAME,
        updates=2,
        prompts=1,
        group=2,
        max_turns=4,
        lr=1e-2,
        policy=HalfReference(hf),
        on_episodes=collected.append,
    )
    assert len(history) == 2 and all(math.isfinite(s.loss) for s in history)
    assert all(s.moves > 0 and s.logprob_gap < 1e-3 for s in history)  # the tokens it scored
    episodes = [ep for batch in collected for ep in batch]
    assert len(episodes) == 4 and episodes[0].seed == episodes[1].seed  # one instance per group
    assert any(len(ep.roles) > 1 for ep in episodes)  # both roles played by the one model
    assert all(t.completion_ids for ep in episodes for t in ep.turns)
    changed = any(
        not torch.equal(a, b) for a, b in zip(before, hf.model.parameters(), strict=False)
    )
    assert changed


@pytest.mark.slow
def test_the_cli_runs_one_update(trainer, capsys):
    code = trainer.main(
        ["--updates", "1", "--prompts", "1", "--group", "2", "--max-turns", "2",
         "--max-new-tokens", "4", "--baseline", "role"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "update   0" in out and "mean return, last 1 updates" in out


@pytest.mark.slow  # loads torch: the full tier
def test_policy_loss_masks_the_prompt(trainer):
    import torch

    vocab = 5

    class Constant(torch.nn.Module):
        def forward(self, input_ids, attention_mask=None):
            class Out:
                logits = torch.zeros((*input_ids.shape, vocab), requires_grad=True)

            return Out()

    uniform = math.log(1 / vocab)
    moves = [([1, 2, 3], [4, 0], [uniform, uniform], 1.0), ([1], [2], [uniform], -2.0)]
    loss, gap = trainer.policy_loss(Constant(), moves, pad_id=0)
    # move 1: A=1 x two completion tokens; move 2: A=-2 x one token; mean over moves
    assert float(loss.detach()) == pytest.approx(-(1.0 * 2 * uniform - 2.0 * uniform) / 2)
    assert gap == pytest.approx(0.0, abs=1e-6)
