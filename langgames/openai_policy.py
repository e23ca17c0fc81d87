"""A model behind an OpenAI-compatible chat API as a policy (``pip install 'langgames[openai]'``).

vLLM, SGLang, Ollama, llama.cpp's server, TGI, ``transformers serve`` and hosted APIs all speak
``POST /v1/chat/completions``. `OpenAIPolicy` talks to them with the official ``openai`` async
client, so episodes overlap their requests (`langgames.rollout.collect` with ``concurrency=N``,
``langgames bench --concurrency N``).

Each episode gets its own conversation per role (`OpenAIPolicy.episode`, the
`langgames.chat.ChatMessages` view: what the game showed that role as ``user`` turns, its own
replies as ``assistant`` turns, an optional system prompt first), so multi-turn games send the
history. ``temperature=0`` asks for greedy decoding.

Failures: each request has a timeout; 429, 5xx, timeouts and connection errors are retried up to
``max_retries`` times with exponential backoff and full jitter (``backoff * 2**attempt`` seconds,
capped at ``max_backoff``, times a random factor in [0.5, 1]); then `PolicyError` is raised with
its ``kind`` (``timeout``, ``connection``, ``rate_limit``, ``server_error``, ``http_<status>``),
which the benchmark records as an ``episode_error``. Other HTTP errors (400, 401, 404) are not
retried: they will not fix themselves.

Every reply is a `langgames.rollout.Reply` whose ``usage`` holds ``latency`` (seconds of the
request that succeeded), ``prompt_tokens``, ``completion_tokens`` (from the server's ``usage``),
``finish_reason`` and ``retries``.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from langgames.errors import InvalidArgument, MissingExtra, PolicyError
from langgames.rollout import Reply

__all__ = ["OPENAI_OPTIONS", "OpenAIPolicy", "PolicyError"]

#: Options an ``openai:<model>`` policy accepts (``openai:m?temperature=0.7``, --policy-options).
OPENAI_OPTIONS = (
    "api_base",
    "api_key",
    "temperature",
    "max_new_tokens",
    "top_p",
    "stop",
    "seed",
    "system_prompt",
    "timeout",
    "max_retries",
    "backoff",
    "max_backoff",
    "extra_body",
)


def _require_openai() -> Any:
    try:
        import openai
    except ImportError as err:
        raise MissingExtra("the openai: policy", "openai", "openai") from err
    return openai


class OpenAIPolicy:
    """A chat model served behind an OpenAI-compatible API.

    Args:
        model: the model name the server knows (``--served-model-name`` in vLLM, the directory
            given to ``transformers serve``, ``llama3.1:8b`` in Ollama).
        api_base: the server's base URL ending in ``/v1`` (default ``$OPENAI_BASE_URL``, else
            OpenAI's API).
        api_key: default ``$OPENAI_API_KEY``; local servers need none (``"EMPTY"`` is sent).
        temperature, top_p, stop, max_new_tokens: sampling options; ``temperature=0`` is greedy.
        seed: ``True`` (default) sends each episode's policy seed as the request's ``seed`` (servers
            that accept one sample reproducibly), ``False`` sends none, an int sends that seed.
        system_prompt: text of a system turn opening every conversation.
        timeout: seconds per request; max_retries, backoff, max_backoff: see the module docstring.
        extra_body: extra JSON fields for the request (server-specific options).

    Use ``policy.episode(seed)`` for one episode's callable (it keeps each role's conversation);
    the benchmark and `langgames.rollout.collect` do that through `load_policy`.
    """

    def __init__(
        self,
        model: str,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        temperature: float = 0.0,
        max_new_tokens: int = 256,
        top_p: float | None = None,
        stop: str | Sequence[str] | None = None,
        seed: bool | int = True,
        system_prompt: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        _require_openai()
        if not model:
            raise InvalidArgument("openai policy: the model name is empty; e.g. openai:gpt-4o-mini")
        if temperature < 0 or max_new_tokens < 1 or timeout <= 0 or max_retries < 0:
            raise InvalidArgument(
                "openai policy: temperature >= 0, max_new_tokens >= 1, timeout > 0 and "
                f"max_retries >= 0 are required (got {temperature}, {max_new_tokens}, {timeout}, "
                f"{max_retries})"
            )
        self.model = model
        self.api_base = api_base or os.environ.get("OPENAI_BASE_URL") or None
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        if self.api_base is None and self.api_key is None:
            raise InvalidArgument(
                f"openai:{model} needs a server: give --api-base URL (e.g. "
                "http://127.0.0.1:8000/v1) or set OPENAI_BASE_URL; for OpenAI's own API set "
                "OPENAI_API_KEY"
            )
        self.temperature = float(temperature)
        self.max_new_tokens = int(max_new_tokens)
        self.top_p = top_p
        self.stop = [stop] if isinstance(stop, str) else (list(stop) if stop else None)
        self.seed = seed
        self.system_prompt = system_prompt
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.extra_body = dict(extra_body or {})
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary()
        )
        # jitter only spreads retries in time; it never touches what an episode contains
        self._jitter = random.Random()  # noqa: S311 - not cryptographic
        openai = _require_openai()
        from openai.types.chat import ChatCompletion

        self._response_type = ChatCompletion
        # as create() does: send only the API key (never an admin key) on this request
        self._options: dict[str, Any] = (
            {"security": {"bearer_auth": True}}
            if "security" in getattr(getattr(openai, "RequestOptions", None), "__annotations__", {})
            else {}
        )

    def __repr__(self) -> str:
        return f"OpenAIPolicy({self.model!r}, api_base={self.api_base!r})"

    def _client(self) -> Any:
        """One async client per event loop (an httpx client must not cross loops)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            openai = _require_openai()
            client = openai.AsyncOpenAI(
                base_url=self.api_base,
                api_key=self.api_key or "EMPTY",
                timeout=self.timeout,
                max_retries=0,  # retries are ours: counted, jittered, reported per step
            )
            self._clients[loop] = client
        return client

    def episode(self, seed: int = 0) -> _Conversation:
        """A policy for one episode: ``await conv(observation, info) -> Reply``."""
        return _Conversation(self, seed)

    async def complete(self, messages: list[dict[str, str]], seed: int = 0) -> Reply:
        """One chat completion for ``messages`` with retries; raises `PolicyError` at the end."""
        openai = _require_openai()
        request: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_new_tokens,
        }
        if self.top_p is not None:
            request["top_p"] = self.top_p
        if self.stop:
            request["stop"] = self.stop
        if self.seed is not False:
            request["seed"] = int(seed if self.seed is True else self.seed)
        if self.extra_body:
            request.update(self.extra_body)  # what create(extra_body=...) merges into the JSON
        client, options = self._client(), self._options
        attempt = 0
        while True:
            start = time.perf_counter()
            try:
                # The client's documented low-level call rather than chat.completions.create:
                # create() first runs the request through the SDK's TypedDict transform, which
                # walks every message of the conversation against the union of message types
                # (~60 ms per request at 40 turns under cProfile, quadratic over an episode:
                # 70% of the client's CPU in a 16-episode NumberHunt run). Our messages are
                # plain role/content strings that the transform leaves unchanged, so the JSON
                # on the wire is the same.
                response = await client.post(
                    "/chat/completions", body=request, cast_to=self._response_type,
                    options=options,
                )  # fmt: skip
                break
            except openai.APITimeoutError as err:
                kind, retry, error = "timeout", True, err
            except openai.APIConnectionError as err:
                kind, retry, error = "connection", True, err
            except openai.RateLimitError as err:
                kind, retry, error = "rate_limit", True, err
            except openai.APIStatusError as err:
                status = int(getattr(err, "status_code", 0) or 0)
                kind = "server_error" if status >= 500 else f"http_{status}"
                retry, error = status >= 500, err
            if not retry or attempt >= self.max_retries:
                where = self.api_base or "the OpenAI API"
                raise PolicyError(
                    f"{self.model} at {where}: {kind} after {attempt + 1} attempt(s): "
                    f"{type(error).__name__}: {error}",
                    kind,
                ) from error
            delay = min(self.max_backoff, self.backoff * 2**attempt)
            await asyncio.sleep(delay * (0.5 + 0.5 * self._jitter.random()))
            attempt += 1
        latency = time.perf_counter() - start
        if not response.choices:
            raise PolicyError(f"{self.model}: the server returned no choices", "empty_response")
        choice = response.choices[0]
        usage = getattr(response, "usage", None)
        return Reply(
            text=choice.message.content or "",
            usage={
                "latency": latency,
                "prompt_tokens": getattr(usage, "prompt_tokens", None),
                "completion_tokens": getattr(usage, "completion_tokens", None),
                "finish_reason": choice.finish_reason,
                "retries": attempt,
            },
        )

    async def aclose(self) -> None:
        """Close this loop's client (the benchmark calls it when its event loop ends)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()


class _Conversation:
    """One episode of an `OpenAIPolicy`: every role's conversation so far."""

    def __init__(self, policy: OpenAIPolicy, seed: int) -> None:
        self.policy = policy
        self.seed = seed
        self.chats: dict[str, list[dict[str, str]]] = {}

    async def __call__(self, observation: str, info: Mapping[str, Any]) -> Reply:
        role = str(info.get("role") or "player")
        chat = self.chats.get(role)
        if chat is None:
            system = self.policy.system_prompt
            chat = self.chats[role] = [{"role": "system", "content": system}] if system else []
        messages = [*chat, {"role": "user", "content": observation}]
        reply = await self.policy.complete(messages, self.seed)
        chat += [messages[-1], {"role": "assistant", "content": reply.text}]
        return reply
