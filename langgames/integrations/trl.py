"""TRL integration: single-move GRPO (a prompt dataset and a reward function) and whole multi-turn
episodes through ``GRPOTrainer``'s ``environment_factory``.

``pip install 'langgames[trl]'``. Two ways to train with TRL's ``GRPOTrainer``:

**One move per completion** (`make_dataset` + `reward_fn`): each dataset row holds a game id, an
instance ``seed``, a ``difficulty`` and the ``prompt`` (the observation after
``reset(seed=seed)``). TRL passes every column to the reward function, which rebuilds the same
instance, plays the completion with ``env.step`` and returns that step's reward for the role that
acted first. Single-move games (BaseConvert, WriteFunction, the math games) suit this path::

    from trl import GRPOConfig, GRPOTrainer
    from langgames.integrations.trl import make_dataset, reward_fn

    dataset = make_dataset("langgames/BaseConvert-v0", range(1000), difficulty=1)
    trainer = GRPOTrainer(model=model, reward_funcs=reward_fn, train_dataset=dataset,
                          args=GRPOConfig(...), processing_class=tokenizer)

**Whole episodes** (`environment_factory`, TRL >= 1.16 with transformers >= 5.2): each GRPO
rollout plays one episode of a multi-turn game. The environment has one tool, ``move(action)``,
that plays the model's move and returns the game's next observation; the rollout's reward is the
model's return over the episode (``get_reward``). With the rows of `make_dataset`
(``as_chat=True``) the ``num_generations`` rollouts of a row play the same instance, as GRPO
needs::

    from langgames.integrations.trl import environment_factory, make_dataset

    dataset = make_dataset("langgames/NumberHunt-v0", range(1000), as_chat=True)
    trainer = GRPOTrainer(model=model, train_dataset=dataset, processing_class=tokenizer,
                          environment_factory=environment_factory("langgames/NumberHunt-v0"),
                          args=GRPOConfig(max_tool_calling_iterations=12, ...))

A tool-calling model (Qwen3, Llama 3.1...) calls ``move`` in its own format. A model that does
not call tools (a base model, a tiny test model) can play too: `use_text_moves` gives its
tokenizer a chat template and a response parser that read every non-empty reply as the move, so
the episode is a plain conversation (game text as ``tool`` turns, moves as assistant turns; an
empty reply ends the rollout). Multi-turn training with any policy outside TRL:
`langgames.rollout.collect` and ``examples/train_lm_reinforce.py``.

A ``verifier_error`` verdict (the verifier could not judge, e.g. a broken sandbox) becomes
``None``, which TRL reads as "cannot judge" and leaves out, instead of a silent 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from langgames.errors import InvalidArgument, MissingExtra

__all__ = [
    "LangGameEnvironment",
    "environment_factory",
    "make_dataset",
    "reward_fn",
    "use_text_moves",
]


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


# ------------------------------------------------------------------ whole episodes (TRL >= 1.16)
#: What ``move`` answers once the episode is over (the rollout goes on until the model stops).
GAME_OVER = "The game is over; it takes no more moves. Reply with nothing to finish."


class _Seeds:
    """The instance seeds of rows without a ``seed`` column, shared by a factory's environments:
    ``group_size`` consecutive resets (one GRPO group) get the same seed."""

    def __init__(self, seeds: Iterable[int] | None, group_size: int) -> None:
        import itertools

        self._seeds = iter(seeds) if seeds is not None else itertools.count()
        self.group_size = group_size
        self._resets = 0
        self._current = 0

    def next(self) -> int:
        if self._resets % self.group_size == 0:
            try:
                self._current = int(next(self._seeds))
            except StopIteration:
                raise InvalidArgument(
                    "environment_factory ran out of seeds; pass more seeds "
                    "(or none, for 0, 1, 2...)"
                ) from None
        self._resets += 1
        return self._current


class LangGameEnvironment:
    """One langgames episode at a time, in the shape TRL's ``environment_factory`` expects.

    ``reset(**row)`` starts the episode of the row's ``seed`` (and ``difficulty``) and returns the
    first observation, which TRL appends to the row's prompt (``None`` when the prompt already
    holds it, as the rows of `make_dataset` do). ``move(action)`` is the one tool: it plays the
    model's move and returns the game's answer. ``get_reward()`` is the model's return.

    The episode is played by `langgames.rollout`, the engine every other episode goes through:
    ``self.episode`` is the `langgames.rollout.Episode` (each move's verdict and rewards). A
    rollout that TRL cuts short (``max_completion_length``, ``max_tool_calling_iterations``) is
    scored with the moves it played. Roles given an opponent
    (``env_kwargs={"opponents": {role: policy}}``) are played by it; the model plays every other
    role, and its reward is the return of ``role`` (default: the sum over the roles the model
    played). Calls of ``move`` after the episode ended change nothing and are counted in
    ``moves_after_end``.

    Only ``reset``, ``move`` and ``get_reward`` are public methods, since TRL exposes every
    other public method to the model as a tool.
    """

    def __init__(
        self,
        game_id: str,
        *,
        difficulty: int | None = None,
        env_kwargs: Mapping[str, Any] | None = None,
        role: str | None = None,
        max_steps: int | None = None,
        on_episode: Any = None,
        seeds: Iterable[int] | None = None,
        group_size: int = 1,
        _seeds: _Seeds | None = None,
    ) -> None:
        from langgames.registry import make_game

        self.game_id = game_id
        self.difficulty = difficulty
        self._env = make_game(game_id, **dict(env_kwargs or {}))
        info = self._env.game_info
        opponents = set(dict(env_kwargs or {}).get("opponents") or {})
        self.roles = tuple(r for r in info.roles if r not in opponents)
        if role is not None and role not in self.roles:
            raise InvalidArgument(
                f"role must be one of the roles the model plays in {game_id}: {list(self.roles)} "
                f"(got {role!r})"
            )
        self.role = role
        self.max_steps = max_steps
        self.on_episode = on_episode
        self._seeds = _seeds or _Seeds(seeds, group_size)
        self._run: Any = None
        self.episode: Any = None
        self.moves_after_end = 0
        self._reported = False

    def reset(self, **row: Any) -> str | None:
        """Start the episode of the row's instance; return its first observation."""
        from langgames.rollout import _Run

        game = row.get("game_id")
        if game is not None and game != self.game_id:
            raise InvalidArgument(
                f"this environment plays {self.game_id}, but the dataset row is for {game}; build "
                "the dataset and the environment_factory for the same game"
            )
        seed = int(row["seed"]) if row.get("seed") is not None else self._seeds.next()
        level = row.get("difficulty", self.difficulty)
        self._run = _Run(
            self._env,
            seed=seed,
            difficulty=None if level is None else int(level),
            max_steps=self.max_steps,
            game=self.game_id,
        )
        self._run.transcript = False
        self.episode = self._run.episode
        self.moves_after_end, self._reported = 0, False
        obs = str(self._run.obs)
        prompt = row.get("prompt")
        last = prompt[-1].get("content") if isinstance(prompt, list) and prompt else prompt
        if isinstance(last, str) and last.endswith(obs):
            return None  # the prompt is the first observation already (a make_dataset row)
        return "\n\n" + obs if isinstance(last, str) and last.strip() else obs

    def move(self, action: str) -> str:
        """Play your move in the game.

        Args:
            action: Your move, as the game asks for it.

        Returns:
            The game's answer: what happened and what it asks next.
        """
        from langgames.rollout import Reply

        run = self._run
        if run is None:
            raise InvalidArgument("move() before reset(): TRL resets each environment first")
        if run.done:
            self.moves_after_end += 1
            return GAME_OVER
        run.step(Reply(str(action)))
        if run.done:
            return f"{run.obs}\n\n{GAME_OVER}"
        return str(run.obs)

    def get_reward(self) -> float | None:
        """The model's return over the episode (``None`` if a verifier could not judge)."""
        run = self._run
        if run is None:
            raise InvalidArgument("get_reward() before reset(): TRL resets each environment first")
        episode = run.finish() if not self._reported else self.episode
        if not self._reported:
            self._reported = True
            if self.on_episode is not None:
                self.on_episode(episode)
        if any(t.status == "verifier_error" for t in episode.turns):
            return None
        roles = [self.role] if self.role is not None else list(self.roles)
        return float(sum(episode.returns.get(r, 0.0) for r in roles))


def environment_factory(
    game_id: str,
    *,
    difficulty: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    role: str | None = None,
    max_steps: int | None = None,
    seeds: Iterable[int] | None = None,
    group_size: int = 1,
    on_episode: Any = None,
) -> Any:
    """The ``environment_factory`` of TRL's ``GRPOTrainer`` for ``game_id``: each call makes a
    `LangGameEnvironment`, and each GRPO rollout plays one whole episode with it.

    The instance comes from the dataset row (the ``seed`` and ``difficulty`` columns of
    `make_dataset`), so a row's ``num_generations`` rollouts play the same instance. Without a
    ``seed`` column (no ``train_dataset``), instances are drawn from ``seeds`` (default 0, 1, 2...),
    ``group_size`` consecutive rollouts per seed: set it to ``num_generations``. ``difficulty`` is
    the default level, ``env_kwargs`` go to the game (e.g. ``{"opponents": {"tester": policy}}``
    so the model plays one role of a two-role game), ``role`` picks whose return is the reward,
    ``max_steps`` caps the moves (default: the game's ``max_turns``) and ``on_episode`` is called
    with each finished `langgames.rollout.Episode` (to log or keep them).

    Raises `langgames.errors.GameNotFound` for an unknown game.
    """
    from langgames.registry import get_spec

    get_spec(game_id)  # an unknown id fails here, with "did you mean", not inside the trainer
    if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
        raise InvalidArgument(f"group_size must be an int >= 1 (got {group_size!r})")
    shared = _Seeds(seeds, group_size)

    def factory() -> LangGameEnvironment:
        return LangGameEnvironment(
            game_id,
            difficulty=difficulty,
            env_kwargs=env_kwargs,
            role=role,
            max_steps=max_steps,
            on_episode=on_episode,
            _seeds=shared,
        )

    return factory


def use_text_moves(tokenizer: Any, *, tool: str = "move") -> Any:
    """Let a model that does not call tools play through ``environment_factory``: give
    ``tokenizer`` a chat template and a response parser that read each non-empty assistant reply
    as a call ``move(action=<reply>)``. An empty reply (end of sequence at once) is no call,
    which ends the rollout. Returns ``tokenizer``; it needs an end-of-sequence token.

    This *replaces* the tokenizer's chat template (turns are ``<|user|>...<|end|>``,
    ``<|assistant|>...<eos>`` and ``<|tool|>...<|end|>``): use it for base models and tests, and
    a tool-calling model's own template (with ``trl.chat_template_utils.add_response_schema``)
    otherwise. Needs transformers >= 5.13 (response templates).
    """
    import re

    try:
        import transformers
        from packaging.version import Version
    except ImportError as err:
        raise MissingExtra("use_text_moves", "trl", err.name or "transformers") from err
    if Version(transformers.__version__) < Version("5.13.0.dev0"):
        raise MissingExtra("use_text_moves (response templates)", "trl", "transformers>=5.13")
    eos = getattr(tokenizer, "eos_token", None)
    if not eos:
        raise InvalidArgument("use_text_moves needs a tokenizer with an eos_token")
    tokenizer.chat_template = (
        "{%- for m in messages -%}"
        "{%- if m.role == 'assistant' -%}<|assistant|>{{ m.content }}"
        "{%- for c in m.tool_calls or [] -%}"
        f"{{%- if c.function.name == '{tool}' and c.function.arguments.action is defined -%}}"
        "{{ c.function.arguments.action }}"
        "{%- else -%}{{ c.function.name }}{{ c.function.arguments | tojson }}{%- endif -%}"
        "{%- endfor -%}" + eos + "{%- else -%}<|{{ m.role }}|>{{ m.content }}<|end|>"
        "{%- endif -%}{%- endfor -%}"
        "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
    )
    tokenizer.response_template = {
        "start_anchor": "<|assistant|>",
        "defaults": {"role": "assistant"},
        "fields": {
            "tool_calls": {
                "close_pattern": re.escape(eos),
                "content": "text",
                "repeats": True,
                "transform": {
                    "type": "function",
                    "function": {"name": tool, "arguments": {"action": "{content}"}},
                },
            }
        },
    }
    return tokenizer
