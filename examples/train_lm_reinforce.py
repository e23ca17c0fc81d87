"""Train a small causal LM on a langgames game with REINFORCE and group baselines (GRPO-style).

A compact, single-file trainer (no TRL) that plays *whole episodes* through ``gym.make``, so it
handles multi-turn and multi-role games: every update draws ``--prompts`` instance seeds, plays
``--group`` episodes of each (the same instance, different samples), and gives every move the
advantage

    A = R_role - mean(R_role over the group's episodes of that instance)

where ``R_role`` is the episode return of the role that made the move (summed from
``info["rewards"]``, so a multi-role game gets one baseline per role). The loss is
``-mean(A * log p(move | observation))`` over the moves' tokens (up to and including the end of
sequence token), optimised with Adam. No value network, no KL term: the group mean is the
baseline.

Prompts: a model with a chat template gets each role's conversation
(`langgames.chat.to_chat`: game text as user turns, its earlier moves as assistant turns); a model
without one (the tiny model) gets the current observation as plain text.

Models (never downloaded): ``--model tiny`` builds a randomly initialised 2-layer GPT-2 with the
byte-level ``transformers.ByT5Tokenizer()`` in memory; ``--model /path/to/dir`` loads any local
causal LM saved with ``save_pretrained``.

What a tiny random model can learn in a few CPU minutes, honestly: the answer *format*. On
``langgames/BaseConvert-v0`` (one move per episode with ``--max-turns 1``) an unreadable reply
earns -0.1 and a well-formed wrong numeral 0.0; a random byte model almost never writes a numeral
(mean reward about -0.1), and within a few dozen updates it learns to emit short digit strings
(mean reward near 0, parse rate near 1). Correct conversions stay at chance: that needs a real
model. The defaults are this setting:

    python examples/train_lm_reinforce.py --model tiny --updates 30
    python examples/train_lm_reinforce.py --model ./my-local-model --game langgames/NumberHunt-v0 \\
        --max-turns 8 --max-new-tokens 32 --lr 1e-5

Each update prints the mean episode return (all roles) and the parse rate (moves not judged
``unparseable``).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

import langgames  # noqa: F401 - registers the games
from langgames.chat import to_chat

__all__ = [
    "UpdateStats",
    "build_tiny_model",
    "group_advantages",
    "load_model",
    "main",
    "train",
]


@dataclass
class UpdateStats:
    """What one update saw: mean episode return (over episodes and roles), parse rate, loss."""

    update: int
    mean_return: float
    parse_rate: float
    loss: float
    seconds: float
    example: str = ""


def build_tiny_model(seed: int = 0) -> tuple[Any, Any]:
    """A randomly initialised 2-layer GPT-2 with the byte-level ByT5 tokenizer (no files)."""
    import torch
    import transformers

    torch.manual_seed(seed)
    tokenizer = transformers.ByT5Tokenizer()
    config = transformers.GPT2Config(
        n_layer=2,
        n_head=2,
        n_embd=64,
        vocab_size=len(tokenizer),
        n_positions=512,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    return transformers.GPT2LMHeadModel(config), tokenizer


def load_model(spec: str, seed: int = 0) -> tuple[Any, Any]:
    """``"tiny"`` or a local model directory (loaded with ``local_files_only=True``)."""
    import os

    if spec == "tiny":
        return build_tiny_model(seed)
    if not os.path.isdir(spec):
        raise SystemExit(
            f"--model must be 'tiny' or a local model directory saved with save_pretrained "
            f"(got {spec!r}); models are never downloaded"
        )
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(spec, local_files_only=True)
    model = transformers.AutoModelForCausalLM.from_pretrained(spec, local_files_only=True)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


class _Episode:
    """One env playing one instance, with each role's conversation and return."""

    def __init__(self, env: gym.Env[str, str], seed: int, group: int) -> None:
        self.env, self.group = env, group
        self.obs, self.info = env.reset(seed=seed)
        self.done = False
        self.returns: dict[str, float] = {}
        self.chats: dict[str, list[dict[str, str]]] = {}
        self.last_action: dict[str, str] = {}
        self._note(self.obs, self.info, reset=True)

    def _note(self, obs: str, info: dict[str, Any], *, reset: bool = False) -> None:
        role = info.get("role")
        if role is None:
            return
        history = None if reset else self.chats.get(role)
        # to_chat drops the history at reset; a role's first turn has none either
        self.chats[role] = to_chat(
            obs,
            {"actor": None} if history is None else info,
            history,
            action=self.last_action.get(role),
        )

    def step(self, action: str) -> tuple[str, bool]:
        role = str(self.info["role"])
        obs, _, terminated, truncated, info = self.env.step(action)
        self.last_action[role] = action
        for r, value in info["rewards"].items():
            self.returns[r] = self.returns.get(r, 0.0) + float(value)
        self.returns.setdefault(role, 0.0)
        self.obs, self.info = obs, info
        self.done = terminated or truncated
        if not self.done:
            self._note(obs, info)
        verdict = info.get("verdict") or {}
        return role, verdict.get("status") != "unparseable"


def group_advantages(
    moves: list[tuple[int, str]], returns: list[dict[str, float]], groups: list[int]
) -> list[float]:
    """The advantage of each move ``(episode index, role)``: the episode's return for that role
    minus the mean return of that role over the episodes of the same group (same instance).

    A role that earned nothing in an episode counts 0 there. Per-role baselines keep a role's
    signal its own in multi-role games (BugHunt's coder is not baselined by the tester's wins).

    >>> group_advantages([(0, "a"), (1, "a"), (1, "b")], [{"a": 1.0}, {"a": 0.0, "b": 2.0}], [0, 0])
    [0.5, -0.5, 1.0]
    """
    advantages = []
    for i, role in moves:
        same = [returns[j].get(role, 0.0) for j in range(len(returns)) if groups[j] == groups[i]]
        advantages.append(returns[i].get(role, 0.0) - float(np.mean(same)))
    return advantages


def train(
    game: str = "langgames/BaseConvert-v0",
    *,
    model: str = "tiny",
    updates: int = 30,
    prompts: int = 4,
    group: int = 8,
    lr: float = 1e-2,
    max_new_tokens: int = 3,
    max_turns: int | None = 1,
    difficulty: int | None = None,
    temperature: float = 1.0,
    seed: int = 0,
    log: Callable[[UpdateStats], None] | None = None,
) -> list[UpdateStats]:
    """Train and return one `UpdateStats` per update (see the module docstring)."""
    import torch

    torch.manual_seed(seed)
    lm, tokenizer = load_model(model, seed)
    lm.train()
    tokenizer.padding_side = "left"
    chat = bool(getattr(tokenizer, "chat_template", None))
    limit = int(getattr(lm.config, "n_positions", 0) or lm.config.max_position_embeddings)
    max_prompt = limit - max_new_tokens
    optimizer = torch.optim.Adam(lm.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    kwargs: dict[str, Any] = {}
    if max_turns is not None:
        kwargs["max_turns"] = max_turns
    if difficulty is not None:
        kwargs["difficulty"] = difficulty
    envs = [gym.make(game, **kwargs) for _ in range(prompts * group)]
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    history: list[UpdateStats] = []

    def encode(episode: _Episode) -> list[int]:
        role = str(episode.info["role"])
        if chat:
            ids = tokenizer.apply_chat_template(
                episode.chats[role], add_generation_prompt=True, tokenize=True
            )
            ids = list(ids["input_ids"] if isinstance(ids, dict) else ids)
        else:
            ids = tokenizer(episode.obs, add_special_tokens=False)["input_ids"]
        return ids[-max_prompt:]

    def padded(rows: list[list[int]]) -> tuple[Any, Any]:
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, width - len(r) :] = torch.tensor(r, dtype=torch.long)
            mask[i, width - len(r) :] = 1
        return ids, mask

    for update in range(updates):
        start = time.perf_counter()
        seeds = rng.integers(0, 1_000_000_000, size=prompts)
        episodes = [_Episode(envs[i], int(seeds[i // group]), i // group) for i in range(len(envs))]
        moves: list[tuple[int, str, list[int], list[int]]] = []  # episode, role, prompt, reply
        parsed = total_moves = 0
        while active := [i for i, e in enumerate(episodes) if not e.done]:
            prompt_rows = [encode(episodes[i]) for i in active]
            ids, mask = padded(prompt_rows)
            lm.eval()
            with torch.no_grad():
                out = lm.generate(
                    input_ids=ids,
                    attention_mask=mask,
                    do_sample=True,
                    temperature=temperature,
                    top_k=0,
                    top_p=1.0,
                    max_new_tokens=max_new_tokens,
                    pad_token_id=pad,
                    eos_token_id=eos,
                )
            lm.train()
            for row, i in enumerate(active):
                reply = out[row, ids.shape[1] :].tolist()
                if eos in reply:
                    reply = reply[: reply.index(eos) + 1]
                text = tokenizer.decode(reply, skip_special_tokens=True)
                role, ok = episodes[i].step(text)
                parsed += ok
                total_moves += 1
                moves.append((i, role, prompt_rows[row], reply))
        advantages = group_advantages(
            [(i, role) for i, role, _, _ in moves],
            [e.returns for e in episodes],
            [e.group for e in episodes],
        )
        rows = [p + r for _, _, p, r in moves]
        ids, mask = padded(rows)
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = lm(input_ids=ids, attention_mask=mask, position_ids=positions).logits[:, :-1]
        logp = torch.log_softmax(logits.float(), -1).gather(-1, ids[:, 1:, None])[..., 0]
        reply_mask = torch.zeros_like(logp)
        for k, (_, _, _, r) in enumerate(moves):
            if r:
                reply_mask[k, logp.shape[1] - len(r) :] = 1.0
        adv = torch.tensor(advantages, dtype=logp.dtype)
        loss = -((logp * reply_mask).sum(-1) * adv).mean()
        optimizer.zero_grad()
        if any(a != 0 for a in advantages):
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
            optimizer.step()
        returns = [v for e in episodes for v in e.returns.values()]
        stats = UpdateStats(
            update=update,
            mean_return=float(np.mean(returns)) if returns else 0.0,
            parse_rate=parsed / max(total_moves, 1),
            loss=float(loss.detach()),
            seconds=time.perf_counter() - start,
            example=tokenizer.decode(moves[0][3], skip_special_tokens=True) if moves else "",
        )
        history.append(stats)
        if log is not None:
            log(stats)
    for env in envs:
        env.close()
    return history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: python examples/train_lm_reinforce.py --model tiny --updates 30",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--game", default="langgames/BaseConvert-v0", help="a registered game id")
    parser.add_argument("--model", default="tiny", help="'tiny' or a local model directory")
    parser.add_argument("--updates", type=int, default=30, help="policy updates")
    parser.add_argument("--prompts", type=int, default=4, help="instances per update")
    parser.add_argument("--group", type=int, default=8, help="episodes per instance (G)")
    parser.add_argument("--lr", type=float, default=1e-2, help="Adam learning rate")
    parser.add_argument("--max-new-tokens", type=int, default=3, help="tokens per move")
    parser.add_argument(
        "--max-turns", type=int, default=1, help="moves per episode (0: the game's default)"
    )
    parser.add_argument("--difficulty", type=int, default=None, help="the game's level")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    parser.add_argument("--seed", type=int, default=0, help="seed of torch and instance draws")
    args = parser.parse_args(argv)

    def log(s: UpdateStats) -> None:
        print(
            f"update {s.update:3d}  mean return {s.mean_return:+.3f}  "
            f"parse rate {s.parse_rate:.2f}  loss {s.loss:+.4f}  ({s.seconds:.2f}s)  "
            f"e.g. {s.example!r}",
            flush=True,
        )

    history = train(
        args.game,
        model=args.model,
        updates=args.updates,
        prompts=args.prompts,
        group=args.group,
        lr=args.lr,
        max_new_tokens=args.max_new_tokens,
        max_turns=args.max_turns or None,
        difficulty=args.difficulty,
        temperature=args.temperature,
        seed=args.seed,
        log=log,
    )
    k = max(1, len(history) // 5)
    first = np.mean([s.mean_return for s in history[:k]])
    last = np.mean([s.mean_return for s in history[-k:]])
    print(f"mean return: first {k} updates {first:+.3f}, last {k} updates {last:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
