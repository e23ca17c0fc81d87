"""TRL integration: a game's instances as a prompt dataset, and a reward function that plays them.

``pip install 'langgames[trl]'``. Use with TRL's ``GRPOTrainer`` (or any trainer taking TRL-style
reward functions)::

    from trl import GRPOConfig, GRPOTrainer
    from langgames.integrations.trl import make_dataset, reward_fn

    dataset = make_dataset("langgames/BaseConvert-v0", range(1000), difficulty=1)
    trainer = GRPOTrainer(model=model, reward_funcs=reward_fn, train_dataset=dataset,
                          args=GRPOConfig(...), processing_class=tokenizer)

How it works: each dataset row holds a game id, an instance ``seed``, a ``difficulty`` and the
``prompt`` (the observation after ``reset(seed=seed)``). TRL passes every column to the reward
function, which rebuilds the same instance from them, plays the completion with ``env.step`` and
returns that step's reward for the role that acted first. One completion is one move: in a
multi-turn game (NumberHunt, CodeBreaker) the completion is scored as the first move only, so
these games train well with a custom multi-turn loop (see ``examples/train_lm_reinforce.py``) and
single-move games (BaseConvert, WriteFunction, the math games) suit this path. In a multi-role
game, the row is for the role that acts first; a role rewarded later (BugHunt's coder) gets 0
here.

A ``verifier_error`` verdict (the verifier could not judge, e.g. a broken sandbox) becomes
``None``, which TRL reads as "cannot judge" and leaves out, instead of a silent 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langgames.errors import InvalidArgument, MissingExtra

__all__ = ["make_dataset", "reward_fn"]


def _make_env(game_id: str, difficulty: int | None) -> Any:
    import gymnasium as gym

    import langgames  # noqa: F401 - registers the games

    kwargs: dict[str, Any] = {} if difficulty is None else {"difficulty": difficulty}
    return gym.make(game_id, **kwargs)


def make_dataset(
    game_id: str,
    seeds: Iterable[int],
    *,
    difficulty: int | None = None,
    as_chat: bool = False,
    system: str | None = None,
) -> Any:
    """A ``datasets.Dataset`` with one row per instance seed.

    Columns: ``prompt`` (the first observation as text, or with ``as_chat=True`` a conversation
    ``[{"role": "system", ...}?, {"role": "user", ...}]`` for chat-template models), ``seed``,
    ``game_id``, ``difficulty`` (the level used, never ``None``) and ``role`` (the role whose move
    the completion is). `reward_fn` needs ``seed``, ``game_id`` and ``difficulty``.

    Raises `MissingExtra` without ``datasets``, and `InvalidArgument` for no seeds or a
    ``system`` text without ``as_chat``.
    """
    try:
        import datasets
    except ImportError as err:
        raise MissingExtra("langgames.integrations.trl.make_dataset", "trl", "datasets") from err
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise InvalidArgument("make_dataset needs at least one seed, e.g. seeds=range(100)")
    if system is not None and not as_chat:
        raise InvalidArgument("system= needs as_chat=True (a plain-text prompt has no system turn)")
    env = _make_env(game_id, difficulty)
    rows: dict[str, list[Any]] = {
        k: [] for k in ("prompt", "seed", "game_id", "difficulty", "role")
    }
    try:
        for seed in seeds:
            obs, info = env.reset(seed=seed)
            prompt: Any = obs
            if as_chat:
                prompt = ([{"role": "system", "content": system}] if system else []) + [
                    {"role": "user", "content": obs}
                ]
            rows["prompt"].append(prompt)
            rows["seed"].append(seed)
            rows["game_id"].append(game_id)
            rows["difficulty"].append(int(info["difficulty"]))
            rows["role"].append(info["role"])
    finally:
        env.close()
    return datasets.Dataset.from_dict(rows)


_ENVS: dict[tuple[str, int], Any] = {}


def _completion_text(completion: Any) -> str:
    """TRL passes plain text, or for chat prompts a list of messages; take the assistant text."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence):
        parts = [
            str(m.get("content", ""))
            for m in completion
            if isinstance(m, Mapping) and m.get("role", "assistant") == "assistant"
        ]
        return "".join(parts)
    raise InvalidArgument(
        f"reward_fn: a completion must be text or a list of chat messages "
        f"(got {type(completion).__name__})"
    )


def reward_fn(
    prompts: Sequence[Any], completions: Sequence[Any], **kwargs: Any
) -> list[float | None]:
    """TRL reward function: the reward of playing each completion as the first move.

    Needs the dataset columns ``seed``, ``game_id`` and ``difficulty`` (from `make_dataset`),
    which TRL passes as keyword arguments, one list entry per completion. Each instance is
    rebuilt with ``reset(seed=...)``; the completion's reward is what ``step`` assigns to the
    role that acted (``info["rewards"]``), or ``None`` when the verdict is ``verifier_error``.
    Envs are cached per (game, difficulty) in this process; a stateful game (whose episodes change
    later ones) would see completions in scoring order.
    """
    missing = [k for k in ("seed", "game_id", "difficulty") if k not in kwargs]
    if missing:
        raise InvalidArgument(
            f"reward_fn needs the dataset columns {missing} (passed by TRL as keyword "
            "arguments); build the dataset with langgames.integrations.trl.make_dataset"
        )
    seeds, games, levels = kwargs["seed"], kwargs["game_id"], kwargs["difficulty"]
    if not len(seeds) == len(games) == len(levels) == len(completions):
        raise InvalidArgument(
            f"reward_fn got {len(completions)} completions but {len(seeds)} seeds, {len(games)} "
            f"game ids and {len(levels)} difficulties; they must match one to one"
        )
    rewards: list[float | None] = []
    for completion, seed, game_id, level in zip(completions, seeds, games, levels, strict=True):
        key = (str(game_id), int(level))
        env = _ENVS.get(key)
        if env is None:
            env = _ENVS[key] = _make_env(*key)
        _, info = env.reset(seed=int(seed))
        role = info["role"]
        _, _, _, _, info = env.step(_completion_text(completion))
        verdict = info.get("verdict") or {}
        if verdict.get("status") == "verifier_error":
            rewards.append(None)
        else:
            rewards.append(float(info["rewards"].get(role, 0.0)))
    return rewards
