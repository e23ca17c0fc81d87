"""The one episode engine: play episodes, collect groups of them, and compute advantages.

Bench, audit, the conformance kit, the trainers and the examples all play episodes through this
module, so that an episode means the same thing everywhere.

**Policies.** A policy is any of:

* a callable ``policy(observation, info) -> reply``, or ``policy(observation, info, env)`` for
  privileged policies that read the game (the reference solver);
* an ``async`` callable with the same arguments (a model behind an HTTP API);
* a *batch policy*: an object with ``act_batch(requests) -> list[reply]`` taking one `Request`
  per in-flight episode (a local model that generates for many episodes at once);
* in `collect`, also a policy *name* (``"reference"``, ``"hf:<dir>"``, ``"openai:<model>"``, see
  `langgames.policies.load_policy`) or a `langgames.policies.NamedPolicy`: those are built once
  per episode with that episode's seed ("a class is made once per episode").

A reply is the action text, or a `Reply` that also carries the prompt and completion token ids,
their logprobs and the request's usage (latency, token counts, finish reason). `collect` keeps
them in the `Episode`.

**Episodes.** An `Episode` records, per `Turn`: the role, what it observed, its action, what the
game parsed (``info["parsed_action"]``), the verdict, the rewards the step assigned to every role
and, when the policy gave them, tokens and logprobs; and per episode the return of every role, the
game, seed and difficulty. ``Episode.to_json()`` / ``Episode.from_json()`` round-trip, and the
benchmark's ``episodes.jsonl`` lines are this JSON with the benchmark's own fields added.

>>> import langgames
>>> from langgames.policies import reference
>>> ep = play("langgames/NumberHunt-v0", reference, seed=3)
>>> ep.returns["player"] > 0, ep.turns[0].role
(True, 'player')
>>> Episode.from_json(ep.to_json()) == ep
True

**Advantages.** `group_advantages` (GRPO) normalises each role's return within a group of
episodes of the same instance; `RoleBaseline` is a running baseline per game and role for
self-play with one shared policy (SPIRAL's role-conditioned advantage estimation). Both give one
advantage per episode and role; `turn_advantages` spreads them over the episode's turns.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import time
import traceback
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from langgames.errors import InvalidArgument

__all__ = [
    "EPISODE_SCHEMA",
    "Episode",
    "Reply",
    "Request",
    "RoleBaseline",
    "Turn",
    "acollect",
    "aplay",
    "collect",
    "episode_seed",
    "group_advantages",
    "play",
    "turn_advantages",
]

#: The ``schema`` field of `Episode.to_json`; bumped on any incompatible change.
EPISODE_SCHEMA = "langgames.episode/1"

_perf_counter = time.perf_counter

#: ``info`` entries kept in `Turn.extra` when a step reports them (tool use, fixed opponents).
_EXTRA_INFO = ("tool", "tool_calls", "opponent_moves")


# ----------------------------------------------------------------------------- data records
@dataclass
class Reply:
    """What a policy may return instead of bare text.

    ``prompt_ids`` are the tokens the model was conditioned on, ``completion_ids`` the tokens it
    produced and ``logprobs`` one log-probability per completion token (sampling distribution).
    ``usage`` holds the request's measurements: ``latency`` (seconds), ``prompt_tokens``,
    ``completion_tokens``, ``finish_reason``, ``retries``.
    """

    text: str
    prompt_ids: list[int] | None = None
    completion_ids: list[int] | None = None
    logprobs: list[float] | None = None
    usage: dict[str, Any] | None = None


@dataclass
class Request:
    """One in-flight episode's request to a batch policy (see ``act_batch``)."""

    observation: str
    info: Mapping[str, Any]
    env: Any
    #: The acting role's conversation so far, ending with this observation as a user turn.
    messages: list[dict[str, str]]
    #: The seed of this episode's policy (for batch policies that sample).
    seed: int = 0


@dataclass
class Turn:
    """One move of an episode.

    ``observation`` is what ``role`` saw before acting, ``action`` the text it sent,
    ``parsed_action`` what the game read from it (``None`` if the game does not report it),
    ``verdict`` the game's verdict as a dict (the one ``env.step`` put in ``info``, which the game
    makes afresh every step), ``rewards`` what this step assigned to each role and
    ``reward`` the acting role's share. ``seconds`` is the time ``env.step`` took. Token fields
    are ``None`` unless the policy returned a `Reply` with them.
    """

    role: str
    observation: str
    action: str
    parsed_action: Any = None
    verdict: dict[str, Any] = field(default_factory=dict)
    rewards: dict[str, float] = field(default_factory=dict)
    reward: float = 0.0
    seconds: float = 0.0
    prompt_ids: list[int] | None = None
    completion_ids: list[int] | None = None
    logprobs: list[float] | None = None
    usage: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        return str(self.verdict.get("status", "")) if self.verdict else ""

    @property
    def mask(self) -> list[int] | None:
        """``0`` for each prompt token (the environment's), ``1`` for each completion token."""
        if self.prompt_ids is None or self.completion_ids is None:
            return None
        return [0] * len(self.prompt_ids) + [1] * len(self.completion_ids)


@dataclass
class Episode:
    """A played episode. See the module docstring; `to_json` documents the JSON form."""

    game: str
    seed: int
    difficulty: int | None
    turns: list[Turn] = field(default_factory=list)
    returns: dict[str, float] = field(default_factory=dict)
    first_observation: str = ""
    final_observation: str = ""
    terminated: bool = False
    truncated: bool = False
    #: ``"ExceptionType: message"`` when the policy (or the env) raised; the episode stopped there.
    error: str | None = None
    #: The kind of error (``"policy"``, or a policy's own kind such as ``"timeout"``).
    error_kind: str | None = None
    traceback: str | None = None
    #: The index of the group (one instance, several episodes) in a `collect` call.
    group: int | None = None
    policy_seed: int | None = None
    transcript: str = ""
    seconds: float = 0.0

    @property
    def roles(self) -> list[str]:
        """The roles that moved, in order of first move."""
        return list(dict.fromkeys(t.role for t in self.turns))

    def messages(
        self, role: str, *, system: str | None = None, final: bool = False
    ) -> list[dict[str, str]]:
        """``role``'s conversation: each observation it saw as a ``user`` turn, each of its moves
        as an ``assistant`` turn (the `langgames.chat.ChatMessages` view). ``final=True`` adds the
        closing observation when ``role`` made the last move."""
        out: list[dict[str, str]] = [{"role": "system", "content": system}] if system else []
        for turn in self.turns:
            if turn.role == role:
                out.append({"role": "user", "content": turn.observation})
                out.append({"role": "assistant", "content": turn.action})
        if final and self.turns and self.turns[-1].role == role:
            out.append({"role": "user", "content": self.final_observation})
        return out

    def tokens(self, role: str) -> tuple[list[int], list[int], list[float]]:
        """``role``'s turns as one token sequence: ``(ids, mask, logprobs)``.

        Works when each turn's prompt extends the previous turn's prompt and completion (a chat
        model re-sent its whole conversation); ``mask`` is 1 on the model's tokens and 0 on the
        environment's, ``logprobs`` 0.0 on the environment's. Raises `InvalidArgument` when the
        turns have no token ids or are not prefix-consistent (use the per-turn fields then).
        """
        ids: list[int] = []
        mask: list[int] = []
        logps: list[float] = []
        for turn in (t for t in self.turns if t.role == role):
            if turn.prompt_ids is None or turn.completion_ids is None:
                raise InvalidArgument(
                    f"episode turns of role {role!r} have no token ids; the policy must return "
                    "Reply(prompt_ids=..., completion_ids=...) (e.g. HFPolicy(return_tokens=True))"
                )
            if turn.prompt_ids[: len(ids)] != ids:
                raise InvalidArgument(
                    f"role {role!r}: a turn's prompt does not extend the previous prompt and "
                    "completion, so the turns cannot be one sequence; use each Turn's prompt_ids, "
                    "completion_ids and mask instead"
                )
            new = turn.prompt_ids[len(ids) :]
            ids += new + turn.completion_ids
            mask += [0] * len(new) + [1] * len(turn.completion_ids)
            lp = turn.logprobs or [0.0] * len(turn.completion_ids)
            logps += [0.0] * len(new) + list(lp)
        return ids, mask, logps

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: ``schema``, ``game``, ``seed``, ``difficulty``, ``returns``,
        ``turns`` (one dict per `Turn`, token fields only when present), ``first_observation``,
        ``final_observation``, ``terminated``, ``truncated``, ``error``, ``error_kind``,
        ``traceback``, ``group``, ``policy_seed``, ``transcript``, ``seconds``."""
        out: dict[str, Any] = {"schema": EPISODE_SCHEMA}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "turns":
                value = [_turn_json(t) for t in value]
            out[f.name] = value
        return _jsonable(out)

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | str) -> Episode:
        """The `Episode` of `to_json` output, or of a benchmark ``episodes.jsonl`` line (whose
        extra fields are ignored)."""
        if isinstance(data, str):
            data = json.loads(data)
        assert isinstance(data, Mapping)
        if data.get("schema", EPISODE_SCHEMA) != EPISODE_SCHEMA:
            raise InvalidArgument(
                f"expected an episode with schema {EPISODE_SCHEMA!r} (got {data.get('schema')!r})"
            )
        if "turns" not in data:
            raise InvalidArgument(
                "this record has no 'turns': it was written before langgames.rollout "
                "(an old episodes.jsonl); re-run the benchmark to get full episodes"
            )
        names = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in names}
        turn_names = {f.name for f in fields(Turn)}
        kwargs["turns"] = [
            Turn(**{k: v for k, v in t.items() if k in turn_names}) for t in data["turns"]
        ]
        return cls(**kwargs)


def _turn_json(turn: Turn) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(turn):
        value = getattr(turn, f.name)
        if value is None and f.name in ("prompt_ids", "completion_ids", "logprobs", "usage"):
            continue
        if f.name == "extra" and not value:
            continue
        out[f.name] = value
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return repr(value)


# ------------------------------------------------------------------------------ policies
class _Caller:
    """Calls a policy the way it wants to be called: 2 or 3 arguments, sync or async."""

    __slots__ = ("policy", "with_env")

    def __init__(self, policy: Any) -> None:
        if not callable(policy):
            raise InvalidArgument(
                f"a policy must be callable as policy(observation, info[, env]) -> str "
                f"(got {type(policy).__name__})"
            )
        self.policy = policy
        self.with_env = _takes_env(policy)

    def __call__(self, obs: str, info: Mapping[str, Any], env: Any) -> Any:
        if self.with_env:
            return self.policy(obs, info, env)
        return self.policy(obs, info)


#: Whether a policy takes ``env``, by function or by class (its ``__call__``); weak keys, so
#: the closures a caller makes per episode are not kept alive.
_TAKES_ENV: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def _takes_env(policy: Any) -> bool:
    key = policy if inspect.isfunction(policy) else type(policy)
    found = _TAKES_ENV.get(key)
    if found is None:
        if key is not policy and not inspect.isfunction(
            inspect.getattr_static(key, "__call__", None)
        ):  # bound methods, partials, builtins: one type, many signatures
            return _signature_takes_env(policy)
        # a function, or a class whose instances share its ``__call__``
        found = _TAKES_ENV[key] = _signature_takes_env(policy)
    return found


def _signature_takes_env(policy: Any) -> bool:
    try:
        sig = inspect.signature(policy)
    except (TypeError, ValueError):
        return True  # builtins and C callables: the historical three-argument form
    positional = [
        p for p in sig.parameters.values() if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if any(p.kind == p.VAR_POSITIONAL for p in sig.parameters.values()):
        return True
    return len(positional) >= 3


def is_batch_policy(policy: Any) -> bool:
    """True for objects with ``act_batch(requests)`` (one call for many in-flight episodes)."""
    return callable(getattr(policy, "act_batch", None))


def _as_reply(value: Any) -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, (bytes, bytearray)):
        return Reply(bytes(value).decode("utf-8", errors="replace"))
    if isinstance(value, str):
        return Reply(str(value))
    # Anything else goes to env.step as is, which rejects it with a teaching error.
    return Reply(value)


# ------------------------------------------------------------------------------- playing
class _Run:
    """The state of one episode being played (shared by the sync, async and batch loops).

    This is the engine's hot path: `step` runs once per move of every episode, next to an
    ``env.step`` that takes ~15 us for the light games, so it records the `Turn` and nothing
    else (no copies of the conversation; `messages` builds it only when a batch policy asks).
    """

    __slots__ = ("done", "env", "episode", "info", "limit", "obs", "on_step", "returns",
                 "start", "transcript", "turns")  # fmt: skip

    def __init__(
        self,
        env: Any,
        *,
        seed: int,
        difficulty: int | None,
        max_steps: int | None,
        game: str | None = None,
        group: int | None = None,
        policy_seed: int | None = None,
        on_step: Callable[[Turn, tuple[Any, ...]], None] | None = None,
    ) -> None:
        self.env = env
        game_env = env.unwrapped
        options = None if difficulty is None else {"difficulty": difficulty}
        self.start = time.perf_counter()
        obs, info = env.reset(seed=seed, options=options)
        if game is None:
            spec = getattr(game_env, "spec", None)
            game = spec.id if spec is not None else game_env.game_info.id
        self.turns: list[Turn] = []
        self.returns = dict.fromkeys(game_env.game_info.roles, 0.0)
        self.episode = Episode(
            game,
            seed,
            info.get("difficulty", difficulty),
            self.turns,
            self.returns,
            obs,
            group=group,
            policy_seed=policy_seed,
        )
        limit = max_steps if max_steps is not None else getattr(env, "max_turns", None)
        self.limit = int(limit if limit is not None else game_env.max_turns)
        self.obs, self.info = obs, info
        self.done = self.limit <= 0
        self.transcript = True
        self.on_step = on_step

    @property
    def role(self) -> str:
        role = self.info.get("role")
        return "player" if role is None else str(role)

    def messages(self) -> list[dict[str, str]]:
        """The acting role's conversation, ending with the current observation."""
        role = self.role
        out: list[dict[str, str]] = []
        for turn in self.turns:
            if turn.role == role:
                out.append({"role": "user", "content": turn.observation})
                out.append({"role": "assistant", "content": turn.action})
        out.append({"role": "user", "content": self.obs})
        return out

    def step(self, reply: Any) -> None:
        """Send the policy's reply (text, a `Reply`, or anything else for env.step to reject)."""
        if type(reply) is str:
            text: Any = reply
            tokens = None
        else:
            tokens = reply = _as_reply(reply)
            text = reply.text
        role = self.info.get("role")
        observation = self.obs
        start = _perf_counter()
        result = self.env.step(text)
        seconds = _perf_counter() - start
        obs, reward, terminated, truncated, info = result
        rewards = info.get("rewards")
        turn = Turn(
            "player" if role is None else role if type(role) is str else str(role),
            observation,
            text if type(text) is str else repr(text),
            info.get("parsed_action"),
            info.get("verdict") or {},  # the env's own dict: LanguageGame makes one every step
            {r: float(v) for r, v in rewards.items()} if rewards else {},
            float(reward),
            seconds,
        )
        if tokens is not None:
            turn.prompt_ids = tokens.prompt_ids
            turn.completion_ids = tokens.completion_ids
            turn.logprobs = tokens.logprobs
            turn.usage = tokens.usage
        if "tool" in info or "tool_calls" in info or "opponent_moves" in info:  # _EXTRA_INFO
            turn.extra = {k: info[k] for k in _EXTRA_INFO if k in info}
        turns = self.turns
        turns.append(turn)
        if rewards:
            returns = self.returns
            for r, value in turn.rewards.items():
                returns[r] = returns.get(r, 0.0) + value
        self.obs, self.info = obs, info
        if terminated or truncated or len(turns) >= self.limit:
            self.episode.terminated, self.episode.truncated = bool(terminated), bool(truncated)
            self.done = True
        if self.on_step is not None:
            self.on_step(turn, result)

    def fail(self, err: BaseException) -> None:
        self.episode.error = f"{type(err).__name__}: {err}"
        self.episode.error_kind = str(getattr(err, "kind", "") or "policy")
        self.episode.traceback = traceback.format_exc(limit=5)
        self.done = True

    def finish(self) -> Episode:
        ep = self.episode
        ep.final_observation = self.obs if ep.turns else ""
        if self.transcript:
            try:
                ep.transcript = self.env.render() or ""
            except Exception as err:  # a transcript is a convenience: never lose the episode
                ep.transcript = f"(render failed: {type(err).__name__}: {err})"
        ep.seconds = time.perf_counter() - self.start
        return ep


class _NeedsLoop(Exception):
    """A policy that looked synchronous returned an awaitable: play it in an event loop."""


def _drive(
    run: _Run,
    act: Callable[..., Any],
    with_env: bool,
    on_error: str,
    should_stop: Callable[[], bool] | None = None,
) -> Episode:
    """The synchronous episode loop: `play`, and `collect` with a synchronous policy.

    Raises `_NeedsLoop` (having closed the awaitable, which never ran) when the policy returns
    an awaitable; the caller replays the episode from its reset with `aplay`.
    """
    env = run.env
    while not run.done:
        if should_stop is not None and should_stop():
            run.episode.error, run.episode.error_kind = "cancelled", "cancelled"
            break
        try:
            reply = act(run.obs, run.info, env) if with_env else act(run.obs, run.info)
        except Exception as err:
            if on_error == "raise":
                raise
            run.fail(err)
            break
        if type(reply) is not str and inspect.isawaitable(reply):
            close = getattr(reply, "close", None)
            if close is not None:
                close()
            raise _NeedsLoop
        run.step(reply)
    return run.finish()


def _open(env_or_id: Any, env_kwargs: Mapping[str, Any] | None) -> tuple[Any, bool]:
    if isinstance(env_or_id, str):
        from langgames.registry import make_game

        return make_game(env_or_id, **dict(env_kwargs or {})), True
    if env_kwargs:
        raise InvalidArgument("env_kwargs is only used with a game id, not with an env")
    return env_or_id, False


def _check_on_error(on_error: str) -> None:
    if on_error not in ("raise", "record"):
        raise InvalidArgument(f"on_error must be 'raise' or 'record' (got {on_error!r})")


def play(
    env_or_id: Any,
    policy: Any,
    *,
    seed: int,
    difficulty: int | None = None,
    max_steps: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    on_error: str = "raise",
    transcript: bool = True,
    should_stop: Callable[[], bool] | None = None,
    on_step: Callable[[Turn, tuple[Any, ...]], None] | None = None,
) -> Episode:
    """Play one episode of ``env_or_id`` (a game id, or an env) with ``policy`` from ``seed``.

    ``max_steps`` caps the moves (default: the game's ``max_turns``). ``on_error="record"`` turns
    an exception from the policy into ``Episode.error`` instead of raising it. An async or batch
    policy is run to completion with `asyncio.run` / one request per call (a policy that returns
    an awaitable is replayed so, from its reset). ``transcript=False`` skips ``env.render()``.
    ``should_stop`` is polled before each move, as in `aplay`.

    ``on_step(turn, result)`` is called after every move with the recorded `Turn` and what
    ``env.step`` returned, ``(observation, reward, terminated, truncated, info)``: for callers
    that check every step (the conformance kit) without a loop of their own. An env passed in
    is left as the episode left it (``play`` closes only the envs it makes from an id).
    """
    _check_on_error(on_error)
    kw: dict[str, Any] = {"seed": seed, "difficulty": difficulty, "max_steps": max_steps,
                          "on_error": on_error, "transcript": transcript,
                          "should_stop": should_stop, "on_step": on_step}  # fmt: skip
    if is_batch_policy(policy) or _is_async(policy):
        return _run_async(aplay(env_or_id, policy, env_kwargs=env_kwargs, **kw))
    env, owned = _open(env_or_id, env_kwargs)
    act, with_env = _bind(policy)
    try:
        run = _Run(env, seed=seed, difficulty=difficulty, max_steps=max_steps, on_step=on_step)
        run.transcript = transcript
        try:
            return _drive(run, act, with_env, on_error, should_stop)
        except _NeedsLoop:
            episode: Episode = _run_async(aplay(env, policy, **kw))
            return episode
    finally:
        if owned:
            env.close()


def _is_async(policy: Any) -> bool:
    call = type(policy).__call__ if callable(policy) else None
    return inspect.iscoroutinefunction(policy) or inspect.iscoroutinefunction(call)


class _Batcher:
    """Gathers the requests that in-flight episodes make in one event-loop round into one
    ``act_batch`` call (a batch policy's episodes advance together)."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.queue: list[tuple[Request, asyncio.Future[Any]]] = []
        self.scheduled = False

    async def submit(self, request: Request) -> Any:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self.queue.append((request, fut))
        if not self.scheduled:
            self.scheduled = True
            # runs after every coroutine already woken in this round has queued its request
            loop.call_soon(self._flush)
        return await fut

    def _flush(self) -> None:
        batch, self.queue, self.scheduled = self.queue, [], False
        batch = [(r, f) for r, f in batch if not f.cancelled()]
        if not batch:
            return
        try:
            replies = list(self.policy.act_batch([r for r, _ in batch]))
            if len(replies) != len(batch):
                raise InvalidArgument(
                    f"act_batch returned {len(replies)} replies for {len(batch)} requests"
                )
        except Exception as err:
            for _, fut in batch:
                fut.set_exception(err)
            return
        for (_, fut), reply in zip(batch, replies, strict=True):
            fut.set_result(reply)


_BATCHERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[int, _Batcher]] = (
    weakref.WeakKeyDictionary()
)


def _batcher(policy: Any) -> _Batcher:
    per_loop = _BATCHERS.setdefault(asyncio.get_running_loop(), {})
    found = per_loop.get(id(policy))
    if found is None or found.policy is not policy:
        found = per_loop[id(policy)] = _Batcher(policy)
    return found


async def _batch_step(policy: Any, run: _Run, seed: int) -> Any:
    request = Request(run.obs, run.info, run.env, run.messages(), seed)
    return await _batcher(policy).submit(request)


def _bind(policy: Any) -> tuple[Callable[..., Any], bool]:
    """``(policy, takes_env)``: the loops call the policy directly, with 2 or 3 arguments."""
    caller = _Caller(policy)
    return caller.policy, caller.with_env


async def aplay(
    env_or_id: Any,
    policy: Any,
    *,
    seed: int,
    difficulty: int | None = None,
    max_steps: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    on_error: str = "raise",
    group: int | None = None,
    policy_seed: int | None = None,
    game: str | None = None,
    should_stop: Callable[[], bool] | None = None,
    transcript: bool = True,
    on_step: Callable[[Turn, tuple[Any, ...]], None] | None = None,
) -> Episode:
    """`play` as a coroutine: the policy's awaits let other episodes run meanwhile.

    The game steps themselves run in the event loop's thread. ``should_stop`` is polled before
    each move; when it returns true the episode ends early with ``error="cancelled"``.
    ``on_step`` is as in `play`.
    """
    _check_on_error(on_error)
    env, owned = _open(env_or_id, env_kwargs)
    batch = is_batch_policy(policy)
    act, with_env = (policy, False) if batch else _bind(policy)
    seed_of_policy = policy_seed or 0
    try:
        run = _Run(
            env,
            seed=seed,
            difficulty=difficulty,
            max_steps=max_steps,
            game=game,
            group=group,
            policy_seed=policy_seed,
            on_step=on_step,
        )
        run.transcript = transcript
        while not run.done:
            if should_stop is not None and should_stop():
                run.episode.error, run.episode.error_kind = "cancelled", "cancelled"
                break
            try:
                if batch:  # batched with the other in-flight episodes
                    reply = await _batch_step(policy, run, seed_of_policy)
                else:
                    reply = act(run.obs, run.info, env) if with_env else act(run.obs, run.info)
                    if type(reply) is not str and inspect.isawaitable(reply):
                        reply = await reply
            except asyncio.CancelledError:
                raise
            except Exception as err:
                if on_error == "raise":
                    raise
                run.fail(err)
                break
            run.step(reply)
        return run.finish()
    finally:
        if owned:
            env.close()


# ------------------------------------------------------------------------------ collecting
def episode_seed(policy_seed: int, instance_seed: int, member: int) -> int:
    """The policy seed of group member ``member`` of instance ``instance_seed`` (32 bits)."""
    import numpy as np

    ss = np.random.SeedSequence([policy_seed, instance_seed, member])
    return int(ss.generate_state(1)[0])


#: `load_policy` of the built-in names whose policies are pure functions of the name (each call
#: of `load_policy` lists every probe, most of a short `collect`'s fixed cost).
_BUILTIN_NAMED: dict[str, list[Any]] = {}


class _Builder:
    """Turns the ``policy`` argument of `collect` into one policy per episode."""

    def __init__(self, policy: Any) -> None:
        from langgames.policies import NamedPolicy, load_policy

        if isinstance(policy, str):
            named = _BUILTIN_NAMED.get(policy) or load_policy(policy)
            if policy in ("reference", "random"):  # pure functions of the name: made once
                _BUILTIN_NAMED[policy] = named
            if len(named) != 1:
                raise InvalidArgument(
                    f"collect plays one policy; {policy!r} names {len(named)}: "
                    + ", ".join(p.name for p in named)
                )
            policy = named[0]
        self.named = policy if isinstance(policy, NamedPolicy) else None
        self.policy = policy
        self.name = self.named.name if self.named else getattr(policy, "__name__", repr(policy))

    def build(self, env: Any, seed: int) -> Any:
        if self.named is not None:
            return self.named.build(env.unwrapped, seed)
        return self.policy


class EnvPool:
    """Envs of one game, reused between episodes (a stateful game gets a fresh env each time)."""

    def __init__(self, game_id: str, env_kwargs: Mapping[str, Any] | None = None,
                 make: Callable[[], Any] | None = None) -> None:  # fmt: skip
        from langgames.registry import make_game

        kwargs = dict(env_kwargs or {})
        self._make = make or (lambda: make_game(game_id, **kwargs))
        self._free: list[Any] = []
        self._all: list[Any] = []

    def acquire(self) -> Any:
        env = self._free.pop() if self._free else None
        if env is None:
            env = self._make()
            self._all.append(env)
        elif env.unwrapped.game_info.stateful:
            # a stateful game's episodes read a memory its earlier episodes wrote: a fresh env
            # keeps each episode independent of which episodes ran before it
            env.close()
            self._all.remove(env)
            env = self._make()
            self._all.append(env)
        return env

    def release(self, env: Any) -> None:
        self._free.append(env)

    def close(self) -> None:
        for env in self._all:
            env.close()
        self._all.clear()
        self._free.clear()


#: One episode of a `collect`: (position in the results, instance seed, group, member, policy
#: seed). Plain tuples: a NamedTuple costs microseconds to make, per episode.
_Job = tuple[int, int, int, int, int]


# numpy's SeedSequence constants (numpy/random/bit_generator.pyx, O'Neill's seed_seq_fe)
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _M32 = 0xCA01F9DD, 0x4973F715, 0xFFFFFFFF


def _episode_seeds(policy_seed: int, seeds: Sequence[int], group_size: int) -> list[int]:
    """``[episode_seed(policy_seed, s, m) for s in seeds for m in range(group_size)]``, at once.

    `episode_seed` builds a `numpy.random.SeedSequence` per episode (~8 us, the largest cost of
    `collect` beyond the episodes themselves). When every entropy word fits in 32 bits (the
    usual case) this runs SeedSequence's mixing over all episodes together, as arithmetic on
    one Python int that holds each episode's 32-bit word in a 64-bit lane: a product of two
    32-bit words fits its lane, so each multiply, mask, shift and xor of the int does every
    lane's at once (~140 such operations in all, about 3 us per 100 episodes each; numpy
    arrays cost as much per operation and more to set up). The results are identical
    (`tests/test_rollout.py` checks them against SeedSequence).
    """
    import numpy as np

    seeds = [int(s) for s in seeds]
    if not (0 <= policy_seed <= _M32 and group_size - 1 <= _M32
            and all(0 <= s <= _M32 for s in seeds)):  # fmt: skip
        return [episode_seed(policy_seed, s, m) for s in seeds for m in range(group_size)]
    n = len(seeds) * group_size
    every = int.from_bytes(b"\x01\x00\x00\x00\x00\x00\x00\x00" * n, "little")  # 1 in each lane
    low32 = _M32 * every
    borrow = (1 << 32) * every  # added before a subtraction, so no lane borrows from the next

    def lanes(values: list[int]) -> int:
        return int.from_bytes(np.array(values, dtype="<u8").tobytes(), "little")

    hash_const = _INIT_A

    def hashmix(value: int) -> int:
        nonlocal hash_const
        value ^= hash_const * every
        hash_const = (hash_const * _MULT_A) & _M32
        value = (value * hash_const) & low32
        return value ^ (value >> 16) & low32

    entropy = [
        policy_seed * every,
        lanes([s for s in seeds for _ in range(group_size)]),
        lanes([m for _ in seeds for m in range(group_size)]),
        0,  # the pool (4 words) is longer than the entropy (3 words)
    ]
    pool = [hashmix(word) for word in entropy]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                hashed = hashmix(pool[src])
                mixed = ((pool[dst] * _MIX_L) & low32) + borrow - ((hashed * _MIX_R) & low32)
                mixed &= low32
                pool[dst] = mixed ^ (mixed >> 16) & low32
    # generate_state(1): the first word of the pool, hashed once more
    value = ((pool[0] ^ _INIT_B * every) * ((_INIT_B * _MULT_B) & _M32)) & low32
    value ^= (value >> 16) & low32
    out: list[int] = np.frombuffer(value.to_bytes(8 * n, "little"), dtype="<u8").tolist()
    return out


def _jobs(seeds: Sequence[int], group_size: int, policy_seed: int) -> list[_Job]:
    n = len(seeds) * group_size
    return list(
        zip(
            range(n),
            [int(s) for s in seeds for _ in range(group_size)],
            [g for g in range(len(seeds)) for _ in range(group_size)],
            [m for _ in seeds for m in range(group_size)],
            _episode_seeds(policy_seed, seeds, group_size),
            strict=True,
        )
    )


class _Collection:
    """The episodes of one `collect` / `acollect` call: its jobs, envs and results.

    A synchronous policy's episodes are played by `play_sync`, one after another with no event
    loop (such a policy never yields, so ``concurrency`` could not overlap anything: the
    results are the same); an async or batch policy's by `play_async`, ``concurrency`` at a
    time. `play_sync` hands over to `play_async` at the first episode whose policy turns out
    to be async (a named policy shows what it is only once built).
    """

    def __init__(
        self,
        game_id: str,
        policy: Any,
        seeds: list[int],
        *,
        group_size: int,
        difficulty: int | None,
        max_steps: int | None,
        env_kwargs: Mapping[str, Any] | None,
        policy_seed: int,
        on_error: str,
        transcript: bool,
        on_episode: Callable[[Episode], None] | None = None,
    ) -> None:
        _check_on_error(on_error)
        self.game_id = game_id
        self.builder = _Builder(policy)
        self.jobs = _jobs(seeds, group_size, policy_seed)
        self.pool = EnvPool(game_id, env_kwargs)
        self.results: list[Episode | None] = [None] * len(self.jobs)
        self.difficulty, self.max_steps, self.on_error = difficulty, max_steps, on_error
        self.on_episode, self.transcript = on_episode, transcript

    def _done(self, job: _Job, ep: Episode) -> None:
        self.results[job[0]] = ep
        if self.on_episode is not None:
            self.on_episode(ep)

    def play_sync(self) -> int:
        """Play jobs in order while the policy is synchronous; return how many were played."""
        policy = self.builder.policy
        if self.builder.named is None and (is_batch_policy(policy) or _is_async(policy)):
            return 0
        bound: Any = None
        act: Callable[..., Any] = policy
        with_env = False
        for i, job in enumerate(self.jobs):
            _, seed, group, _, policy_seed = job
            env = self.pool.acquire()
            try:
                policy = self.builder.build(env, policy_seed)
                if policy is not bound:  # a named policy is built per episode
                    if is_batch_policy(policy) or _is_async(policy):
                        return i
                    act, with_env = _bind(policy)
                    bound = policy
                run = _Run(env, seed=seed, difficulty=self.difficulty, max_steps=self.max_steps,
                           game=self.game_id, group=group, policy_seed=policy_seed)  # fmt: skip
                run.transcript = self.transcript
                try:
                    ep = _drive(run, act, with_env, self.on_error)
                except _NeedsLoop:
                    return i
            finally:
                self.pool.release(env)
            self._done(job, ep)
        return len(self.jobs)

    async def play_async(self, start: int, concurrency: int) -> None:
        """Play the jobs from ``start`` on, ``concurrency`` at a time."""
        todo = iter(self.jobs[start:])

        async def worker() -> None:
            # ``concurrency`` workers share one queue of jobs: as many tasks as slots, not one
            # task (and a semaphore round trip) per episode
            for job in todo:
                _, seed, group, _, policy_seed = job
                env = self.pool.acquire()
                try:
                    policy = self.builder.build(env, policy_seed)
                    ep = await aplay(
                        env,
                        policy,
                        seed=seed,
                        difficulty=self.difficulty,
                        max_steps=self.max_steps,
                        on_error=self.on_error,
                        group=group,
                        policy_seed=policy_seed,
                        game=self.game_id,
                        transcript=self.transcript,
                    )
                finally:
                    self.pool.release(env)
                self._done(job, ep)

        slots = min(concurrency, len(self.jobs) - start)
        if slots <= 1:
            await worker()
        else:
            await asyncio.gather(*(worker() for _ in range(slots)))

    async def aclose_policy(self) -> None:
        close = self.builder.named.close if self.builder.named is not None else None
        if close is not None:  # e.g. an openai: policy's HTTP client, bound to this loop
            closing = close()
            if inspect.isawaitable(closing):
                await closing

    def episodes(self) -> list[Episode]:
        return [ep for ep in self.results if ep is not None]


async def acollect(
    game_id: str,
    policy: Any,
    seeds: Iterable[int],
    *,
    group_size: int = 1,
    concurrency: int = 1,
    difficulty: int | None = None,
    max_steps: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    policy_seed: int = 0,
    on_error: str = "raise",
    on_episode: Callable[[Episode], None] | None = None,
    transcript: bool = False,
) -> list[Episode]:
    """`collect` as a coroutine (one worker). See `collect`."""
    seeds = list(seeds)
    _check_collect(seeds, group_size, concurrency, 1)
    run = _Collection(game_id, policy, seeds, group_size=group_size, difficulty=difficulty,
                      max_steps=max_steps, env_kwargs=env_kwargs, policy_seed=policy_seed,
                      on_error=on_error, on_episode=on_episode, transcript=transcript)  # fmt: skip
    try:
        # a synchronous policy's episodes block the loop either way: play them without it
        played = run.play_sync()
        if played < len(run.jobs):
            await run.play_async(played, concurrency)
    finally:
        run.pool.close()
        await run.aclose_policy()
    return run.episodes()


def _check_collect(seeds: Sequence[int], group_size: int, concurrency: int, workers: int) -> None:
    if not seeds:
        raise InvalidArgument("collect needs at least one seed, e.g. seeds=range(8)")
    for name, value in (("group_size", group_size), ("concurrency", concurrency),
                        ("workers", workers)):  # fmt: skip
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidArgument(f"{name} must be an int >= 1 (got {value!r})")


def collect(
    game_id: str,
    policy: Any,
    seeds: Iterable[int],
    *,
    group_size: int = 1,
    concurrency: int = 1,
    workers: int = 1,
    difficulty: int | None = None,
    max_steps: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    policy_seed: int = 0,
    on_error: str = "raise",
    on_episode: Callable[[Episode], None] | None = None,
    transcript: bool = False,
) -> list[Episode]:
    """Play ``group_size`` episodes of each seed's instance; return them in (seed, member) order.

    The members of a group play the same instance (``Episode.group`` is the seed's index), as
    GRPO needs; member ``m`` of seed ``s`` gets the policy seed ``episode_seed(policy_seed, s, m)``
    (used by policies built per episode: a name, a `NamedPolicy`). Up to ``concurrency`` episodes
    are in flight per worker (async policies overlap their requests; a batch policy gets them in
    one ``act_batch`` call); ``workers > 1`` splits the groups over that many processes, which
    needs a policy *name* (``"reference"``, ``"openai:<model>"``...) since policies are rebuilt
    in each process. Results never depend on ``concurrency`` or ``workers``. ``transcript=True``
    also keeps each episode's rendered text (`Episode.turns` already hold every observation).

    >>> import langgames
    >>> eps = collect("langgames/NumberHunt-v0", "reference", [1, 2], group_size=2)
    >>> [(e.seed, e.group) for e in eps]
    [(1, 0), (1, 0), (2, 1), (2, 1)]
    """
    seeds = list(seeds)
    _check_collect(seeds, group_size, concurrency, workers)
    kw = {"group_size": group_size, "concurrency": concurrency, "difficulty": difficulty,
          "max_steps": max_steps, "env_kwargs": env_kwargs, "policy_seed": policy_seed,
          "on_error": on_error, "transcript": transcript}  # fmt: skip
    if workers == 1 or len(seeds) == 1:
        return _run_collect(game_id, policy, seeds, {"on_episode": on_episode, **kw})
    if not isinstance(policy, str):
        raise InvalidArgument(
            "collect(workers > 1) rebuilds the policy in each worker process, so it needs a policy "
            "name such as 'reference' or 'openai:<model>' (got "
            f"{type(policy).__name__}); use workers=1 and concurrency=N for a Python object"
        )
    import concurrent.futures as cf
    import multiprocessing as mp

    n = min(workers, len(seeds))
    parts = [seeds[i::n] for i in range(n)]
    out: list[Episode] = []
    with cf.ProcessPoolExecutor(max_workers=n, mp_context=mp.get_context("spawn")) as pool:
        futures = [pool.submit(_collect_part, game_id, policy, part, kw) for part in parts]
        per_part = [f.result() for f in futures]
    groups: dict[int, list[Episode]] = {}
    for i, eps in enumerate(per_part):
        for ep in eps:
            # group indices restart in each part: map back to the index in ``seeds``
            assert ep.group is not None
            ep.group = i + ep.group * n
            groups.setdefault(ep.group, []).append(ep)
    for g in sorted(groups):
        out.extend(groups[g])
        if on_episode is not None:
            for ep in groups[g]:
                on_episode(ep)
    return out


def _run_async(coro: Any) -> Any:
    """``asyncio.run(coro)``, with a main task that returns None.

    Python 3.11's `asyncio.run` formats the repr of its main task when it restores the SIGINT
    handler (``signal.getsignal`` tries ``Handlers(partial)``, whose ValueError message holds
    the repr), and so the repr of the task's result: every `Episode` (turns, observations) of
    a collect. Keeping the result out of the task keeps that cost off every call.
    """
    box: list[Any] = []

    async def main() -> None:
        box.append(await coro)

    asyncio.run(main())
    return box[0]


def _run_collect(game_id: str, policy: Any, seeds: list[int], kw: dict[str, Any]) -> list[Episode]:
    """`acollect` without an event loop while the policy is synchronous (the reference, random
    text, probes: no loop to start, no coroutine per episode), and in one `asyncio.run` from
    the first episode whose policy is async or batched."""
    kw = dict(kw)
    concurrency = kw.pop("concurrency")
    run = _Collection(game_id, policy, seeds, **kw)

    async def rest(start: int) -> None:
        try:
            await run.play_async(start, concurrency)
        finally:
            await run.aclose_policy()  # in the loop its clients were used in

    try:
        try:
            played = run.play_sync()
        except BaseException:
            _run_async(run.aclose_policy())
            raise
        if played < len(run.jobs):
            _run_async(rest(played))
        elif run.builder.named is not None and run.builder.named.close is not None:
            _run_async(run.aclose_policy())
    finally:
        run.pool.close()
    return run.episodes()


def _collect_part(game_id: str, policy: str, seeds: list[int], kw: dict[str, Any]) -> list[Episode]:
    return _run_collect(game_id, policy, seeds, kw)


# ------------------------------------------------------------------------------ advantages
def group_advantages(
    episodes: Sequence[Episode],
    *,
    normalize: bool = True,
    eps: float = 1e-6,
    key: Callable[[Episode], Any] | None = None,
) -> list[dict[str, float]]:
    """Group-normalised advantages per role (GRPO): one ``{role: advantage}`` per episode.

    Episodes are grouped by ``key`` (default: ``(game, seed, difficulty)``, the instance). For
    episode ``i`` of group ``G`` and a role ``r`` that moved in it, with ``R_i^r`` its return::

        A_i^r = (R_i^r - mean_{j in G_r} R_j^r) / (std_{j in G_r} R_j^r + eps)

    where ``G_r`` are the episodes of ``G`` in which ``r`` moved and ``std`` is the population
    standard deviation. ``normalize=False`` drops the division (the "Dr. GRPO" form,
    ``A = R - mean``). Each role is baselined only by the same role, so in a two-role game one
    role's wins never lower the other's signal. A group of one episode gives 0.

    >>> from langgames.rollout import Episode, Turn
    >>> a = Episode("g", 1, 1, [Turn("x", "", "")], {"x": 1.0})
    >>> b = Episode("g", 1, 1, [Turn("x", "", "")], {"x": 0.0})
    >>> group_advantages([a, b], normalize=False)
    [{'x': 0.5}, {'x': -0.5}]
    """
    key = key or (lambda e: (e.game, e.seed, e.difficulty))
    buckets: dict[tuple[Any, str], list[float]] = {}
    for ep in episodes:
        for role in ep.roles:
            buckets.setdefault((key(ep), role), []).append(ep.returns.get(role, 0.0))
    out = []
    for ep in episodes:
        adv = {}
        for role in ep.roles:
            values = buckets[(key(ep), role)]
            mean = sum(values) / len(values)
            a = ep.returns.get(role, 0.0) - mean
            if normalize:
                std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
                a /= std + eps
            adv[role] = a
        out.append(adv)
    return out


class RoleBaseline:
    """A running baseline per game and role, for self-play with one shared policy (SPIRAL).

    For an episode of game ``g`` with return ``R^r`` for role ``r``::

        A^r = R^r - b_{g,r}                     (the advantage, with the baseline before update)
        b_{g,r} <- decay * b_{g,r} + (1 - decay) * R^r

    ``b_{g,r}`` starts at 0. With one policy playing both sides of a zero-sum or asymmetric game,
    each role's expected return differs (the first mover may win more often); subtracting the
    role's own baseline removes that difference from the gradient, which is what keeps SPIRAL's
    self-play stable (its "role-conditioned advantage estimation").

    >>> b = RoleBaseline(decay=0.5)
    >>> from langgames.rollout import Episode, Turn
    >>> b.advantages([Episode("g", 0, 1, [Turn("x", "", "")], {"x": 1.0})])
    [{'x': 1.0}]
    >>> b.value("g", "x")
    0.5
    """

    def __init__(self, decay: float = 0.95) -> None:
        if not 0.0 <= decay < 1.0:
            raise InvalidArgument(f"decay must be in [0, 1) (got {decay!r})")
        self.decay = decay
        self.values: dict[tuple[str, str], float] = {}

    def value(self, game: str, role: str) -> float:
        return self.values.get((game, role), 0.0)

    def advantages(self, episodes: Sequence[Episode]) -> list[dict[str, float]]:
        """Advantages for ``episodes`` (each against the baseline before the batch), then update
        the baselines with every episode in order."""
        out = [
            {r: ep.returns.get(r, 0.0) - self.value(ep.game, r) for r in ep.roles}
            for ep in episodes
        ]
        for ep in episodes:
            for r in ep.roles:
                old = self.value(ep.game, r)
                self.values[(ep.game, r)] = self.decay * old + (1 - self.decay) * ep.returns.get(
                    r, 0.0
                )
        return out


def turn_advantages(episode: Episode, advantages: Mapping[str, float]) -> list[float]:
    """The advantage of each turn: that of the role that made it (outcome-level credit)."""
    return [float(advantages.get(t.role, 0.0)) for t in episode.turns]
