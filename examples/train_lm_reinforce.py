"""Train a causal LM by self-play on a two-role langgames game: group rollouts, per-role advantages,
and a REINFORCE (GRPO-style) loss on the exact tokens the model produced.

A compact, single-file on-policy trainer (no TRL) built on `langgames.rollout`. Each update:

1. **Collect.** ``rollout.collect(game, policy, seeds, group_size=G, concurrency=...)`` plays ``G``
   whole episodes of each of ``--prompts`` fresh instances. The policy is
   ``HFPolicy(return_tokens=True)``, so every `Turn` keeps the prompt token ids the model saw,
   the completion token ids it sampled and their log-probabilities; the in-flight episodes are
   batched into one ``generate`` call. One shared model plays **every role** (self-play).
2. **Advantages, per role.** ``--baseline group`` (default) uses ``rollout.group_advantages``: a
   role's return minus the mean return of that role over the group's episodes (same instance),
   divided by their standard deviation (``--no-std`` drops the division, "Dr. GRPO"). ``--baseline
   role`` uses ``rollout.RoleBaseline``, a running mean return per game and role (SPIRAL's
   role-conditioned advantage for self-play). ``rollout.turn_advantages`` then gives each move the
   advantage of the role that made it.
3. **Loss.** For every move with ``completion_ids``, the model re-scores
   ``prompt_ids + completion_ids`` and the loss is

       L = -(1 / #moves) * sum_moves A_move * sum_{t in completion} log p(token_t | prefix)

   i.e. the mask is 0 on the prompt (the environment's tokens) and 1 on the completion (the
   model's own, up to and including end of sequence). No value network, no KL term. One Adam step
   per update, so the sampled log-probabilities equal the current ones (``logprob gap`` in the log
   checks it: the mean |log p now - log p sampled| over the completion tokens, about 0 at
   ``--temperature 1``, a check that the recorded tokens are the ones scored).

The model stays in eval mode (no dropout), so training scores tokens with the distribution that
sampled them.

Models (never downloaded): ``--model tiny`` builds a randomly initialised 2-layer GPT-2 with the
byte-level ``transformers.ByT5Tokenizer()`` (saved to a temporary directory for `HFPolicy`); it
exercises the plumbing and learns nothing useful. ``--model /path/to/dir`` loads any local causal
LM saved with ``save_pretrained`` (its chat template is used). Examples:

    python examples/train_lm_reinforce.py --model tiny --updates 2
    python examples/train_lm_reinforce.py --model ./Qwen3-0.6B --game langgames/Negotiation-v0 \\
        --prompts 4 --group 8 --max-new-tokens 256 --lr 1e-6 --updates 200

Each update prints the mean return per role, the parse rate (moves not judged ``unparseable``),
the number of moves, the loss and the logprob gap.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import langgames  # noqa: F401 - registers the games
from langgames.rollout import Episode, RoleBaseline, collect, group_advantages, turn_advantages

__all__ = ["UpdateStats", "build_tiny_model", "load_policy", "main", "policy_loss", "train"]


@dataclass
class UpdateStats:
    """What one update saw and did."""

    update: int
    #: mean episode return of each role over the update's episodes (episodes where it moved)
    mean_return: dict[str, float]
    parse_rate: float
    moves: int
    loss: float
    #: mean |log p (now) - log p (sampled)| over completion tokens, before the step
    logprob_gap: float
    seconds: float
    #: roles that moved, per episode
    roles: list[list[str]] = field(default_factory=list)
    example: str = ""


def build_tiny_model(directory: str, seed: int = 0) -> str:
    """Save a randomly initialised 2-layer GPT-2 and the byte-level ByT5 tokenizer (no download)
    in ``directory``; return it."""
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
    transformers.GPT2LMHeadModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def load_policy(
    spec: str, *, max_new_tokens: int, temperature: float, seed: int, workdir: str
) -> Any:
    """An ``HFPolicy(return_tokens=True)`` of ``"tiny"`` (built in ``workdir``) or of a local
    model directory. Its ``.model`` is what `train` optimises."""
    from langgames.policies import HFPolicy

    if spec == "tiny":
        spec = build_tiny_model(workdir, seed)
    elif not os.path.isdir(spec):
        raise SystemExit(
            f"--model must be 'tiny' or a local model directory saved with save_pretrained "
            f"(got {spec!r}); models are never downloaded"
        )
    return HFPolicy(
        spec,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        seed=seed,
        return_tokens=True,
    )


def policy_loss(
    model: Any,
    moves: list[tuple[list[int], list[int], list[float], float]],
    *,
    pad_id: int,
    temperature: float = 1.0,
) -> tuple[Any, float]:
    """The REINFORCE loss of ``moves`` = ``(prompt_ids, completion_ids, sampled_logprobs,
    advantage)`` (see the module docstring), and the mean |log p - sampled log p| of the
    completion tokens. Sequences are right-padded; the mask keeps completion tokens only."""
    import torch

    width = max(len(p) + len(c) for p, c, _, _ in moves)
    ids = torch.full((len(moves), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(moves), width), dtype=torch.long)
    mask = torch.zeros((len(moves), width - 1))  # over next-token targets ids[:, 1:]
    sampled = torch.zeros((len(moves), width - 1))
    for k, (prompt, completion, logps, _) in enumerate(moves):
        seq = prompt + completion
        ids[k, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        attention[k, : len(seq)] = 1
        # target position j predicts ids[j + 1]: the completion's tokens are targets
        # len(prompt) - 1 ... len(seq) - 2
        mask[k, len(prompt) - 1 : len(seq) - 1] = 1.0
        sampled[k, len(prompt) - 1 : len(seq) - 1] = torch.tensor(logps or [0.0] * len(completion))
    logits = model(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
    logp = torch.log_softmax(logits / temperature, -1).gather(-1, ids[:, 1:, None])[..., 0]
    advantages = torch.tensor([a for _, _, _, a in moves], dtype=logp.dtype)
    loss = -((logp * mask).sum(-1) * advantages).mean()
    gap = float(((logp.detach() - sampled).abs() * mask).sum() / mask.sum().clamp(min=1))
    return loss, gap


def train(
    game: str = "langgames/Negotiation-v0",
    *,
    model: str = "tiny",
    updates: int = 20,
    prompts: int = 2,
    group: int = 4,
    lr: float = 1e-3,
    max_new_tokens: int = 16,
    max_turns: int | None = None,
    difficulty: int | None = None,
    temperature: float = 1.0,
    baseline: str = "group",
    std: bool = True,
    seed: int = 0,
    log: Callable[[UpdateStats], None] | None = None,
    on_episodes: Callable[[list[Episode]], None] | None = None,
    policy: Any = None,
) -> list[UpdateStats]:
    """Train and return one `UpdateStats` per update (see the module docstring).

    ``on_episodes`` receives each update's episodes (to save them as JSON, for instance).
    ``policy`` replaces the one built from ``model``: any object like
    ``HFPolicy(return_tokens=True)`` (``.model``, ``.tokenizer``, ``.reseed``, and replies with
    token ids and logprobs), e.g. one on a GPU or with stop strings.
    """
    import numpy as np
    import torch

    if baseline not in ("group", "role"):
        raise SystemExit(f"--baseline must be 'group' or 'role' (got {baseline!r})")
    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory(prefix="langgames-tiny-") as workdir:
        policy = policy or load_policy(
            model, max_new_tokens=max_new_tokens, temperature=temperature, seed=seed,
            workdir=workdir,
        )  # fmt: skip
    lm = policy.model
    lm.eval()  # no dropout: score tokens with the distribution that sampled them
    pad = policy.tokenizer.pad_token_id
    optimizer = torch.optim.Adam(lm.parameters(), lr=lr)
    running = RoleBaseline(decay=0.9)
    rng = np.random.default_rng(seed)
    history: list[UpdateStats] = []
    for update in range(updates):
        start = time.perf_counter()
        seeds = [int(s) for s in rng.integers(0, 2**31 - 1, size=prompts)]
        policy.reseed(seed * 1_000_003 + update)
        episodes = collect(
            game,
            policy,
            seeds,
            group_size=group,
            concurrency=prompts * group,  # every in-flight episode in one generate call
            difficulty=difficulty,
            max_steps=max_turns,
        )
        if on_episodes is not None:
            on_episodes(episodes)
        if baseline == "group":
            advantages = group_advantages(episodes, normalize=std)
        else:
            advantages = running.advantages(episodes)
        moves = []
        for ep, adv in zip(episodes, advantages, strict=True):
            for turn, a in zip(ep.turns, turn_advantages(ep, adv), strict=True):
                if turn.prompt_ids is not None and turn.completion_ids:
                    moves.append((turn.prompt_ids, turn.completion_ids, turn.logprobs or [], a))
        loss_value, gap = 0.0, 0.0
        if moves:
            loss, gap = policy_loss(lm, moves, pad_id=pad, temperature=max(temperature, 1e-6))
            loss_value = float(loss.detach())
            optimizer.zero_grad()
            if any(a != 0 for *_, a in moves):
                loss.backward()
                torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
                optimizer.step()
        turns = [t for ep in episodes for t in ep.turns]
        per_role: dict[str, list[float]] = {}
        for ep in episodes:
            for role in ep.roles:
                per_role.setdefault(role, []).append(ep.returns.get(role, 0.0))
        stats = UpdateStats(
            update=update,
            mean_return={r: float(np.mean(v)) for r, v in per_role.items()},
            parse_rate=sum(t.status != "unparseable" for t in turns) / max(len(turns), 1),
            moves=len(turns),
            loss=loss_value,
            logprob_gap=gap,
            seconds=time.perf_counter() - start,
            roles=[ep.roles for ep in episodes],
            example=turns[0].action if turns else "",
        )
        history.append(stats)
        if log is not None:
            log(stats)
    return history


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        epilog="example: python examples/train_lm_reinforce.py --model tiny --updates 2",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--game", default="langgames/Negotiation-v0", help="a registered game id")
    parser.add_argument("--model", default="tiny", help="'tiny' or a local model directory")
    parser.add_argument("--updates", type=int, default=20, help="policy updates")
    parser.add_argument("--prompts", type=int, default=2, help="instances per update")
    parser.add_argument("--group", type=int, default=4, help="episodes per instance (G)")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate")
    parser.add_argument("--max-new-tokens", type=int, default=16, help="tokens per move")
    parser.add_argument(
        "--max-turns", type=int, default=0, help="moves per episode (0: the game's max_turns)"
    )
    parser.add_argument("--difficulty", type=int, default=None, help="the game's level")
    parser.add_argument("--temperature", type=float, default=1.0, help="sampling temperature")
    parser.add_argument(
        "--baseline", choices=("group", "role"), default="group",
        help="group: GRPO group normalisation per role; role: running baseline per role (SPIRAL)",
    )  # fmt: skip
    parser.add_argument("--no-std", action="store_true", help="group baseline without the std")
    parser.add_argument("--seed", type=int, default=0, help="seed of torch and instance draws")
    args = parser.parse_args(argv)

    def log(s: UpdateStats) -> None:
        returns = " ".join(f"{r}={v:+.3f}" for r, v in sorted(s.mean_return.items()))
        print(
            f"update {s.update:3d}  return {returns}  parse rate {s.parse_rate:.2f}  "
            f"moves {s.moves}  loss {s.loss:+.4f}  logprob gap {s.logprob_gap:.1e}  "
            f"({s.seconds:.1f}s)  e.g. {s.example[:40]!r}",
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
        baseline=args.baseline,
        std=not args.no_std,
        seed=args.seed,
        log=log,
    )
    k = max(1, len(history) // 5)
    for name, part in (("first", history[:k]), ("last", history[-k:])):
        means: dict[str, list[float]] = {}
        for s in part:
            for r, v in s.mean_return.items():
                means.setdefault(r, []).append(v)
        text = " ".join(f"{r}={sum(v) / len(v):+.3f}" for r, v in sorted(means.items()))
        print(f"mean return, {name} {k} updates: {text}")
    return 0 if all(math.isfinite(s.loss) for s in history) else 1


if __name__ == "__main__":
    sys.exit(main())
