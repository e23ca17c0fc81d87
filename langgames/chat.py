"""Chat views of a game: observations as message lists for chat models and trainers.

`ChatMessages` wraps a game so that each observation is the conversation so far, as the list of
``{"role": ..., "content": ...}`` dicts that ``tokenizer.apply_chat_template`` and TRL take:

* everything the **game** says (the first prompt, every later prompt, and the feedback a game
  puts at the start of an observation, e.g. ``"50 is not the secret: it is higher."``) is a
  ``"user"`` turn;
* every **move** the policy made is an ``"assistant"`` turn holding the action text exactly,
  and nothing else: game feedback is never appended to an assistant turn;
* an optional ``system`` text opens every conversation as a ``"system"`` turn.

So a conversation alternates ``user, assistant, user, assistant, ..., user`` (after the optional
system turn) and the policy is asked for the next assistant turn. Games restate what the player
needs in every prompt (NumberHunt lists every earlier guess), so truncating a long conversation
to its last user turn loses nothing a game requires; the history is there for models that
benefit from seeing their own earlier replies.

**Episodes.** ``reset`` starts new, empty conversations: nothing leaks from one episode into the
next.

**Several roles.** In a multi-role game (BugHunt: ``coder`` then ``tester``) each role has its own
conversation: the observation returned is the conversation of the role that acts now
(``info["role"]``), made of what the game showed *that role* and that role's own moves. Another
role's moves reach it only through the game's prompts (BugHunt shows the tester the coder's
program inside the tester's user turn), exactly as in the text view. When the episode ends the
observation is the conversation of the role that moved last, ending with the game's closing
text. `ChatMessages.conversations` holds every role's conversation.

**Observation space.** Observations are Python ``list``\\ s of dicts, because chat templates and
trainers take lists. ``observation_space`` is ``Sequence(Dict(role=Text, content=Text))``;
Gymnasium's `Sequence` only contains *tuples*, so ``observation_space.contains(tuple(obs))``
holds, not ``contains(obs)``. Trainers that feed text to a model (TRL, a custom loop) do not
read the space; vectorised array-based trainers (stable-baselines3) cannot take text at all and
need an encoding wrapper instead.

>>> import gymnasium as gym, langgames
>>> env = ChatMessages(gym.make("langgames/NumberHunt-v0"), system="Answer briefly.")
>>> messages, info = env.reset(seed=0)
>>> [m["role"] for m in messages]
['system', 'user']
>>> messages, reward, terminated, truncated, info = env.step("guess: 50")
>>> [m["role"] for m in messages]
['system', 'user', 'assistant', 'user']
>>> messages[2]["content"]
'guess: 50'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
from gymnasium import spaces

from langgames.errors import InvalidArgument
from langgames.spaces import text_space

__all__ = ["ChatMessages", "Message", "chat_space", "to_chat"]

#: One chat message: ``{"role": "system" | "user" | "assistant", "content": text}``.
Message = dict[str, str]


def chat_space() -> spaces.Sequence:
    """The space of a conversation: a sequence of ``Dict(role=Text, content=Text)``.

    Gymnasium's `Sequence` contains tuples only; check a message list ``m`` with
    ``chat_space().contains(tuple(m))``.
    """
    return spaces.Sequence(spaces.Dict({"role": text_space(), "content": text_space()}))


def to_chat(
    observation: str,
    info: Mapping[str, Any],
    history: Sequence[Mapping[str, str]] | None = None,
    *,
    action: str | None = None,
    system: str | None = None,
) -> list[Message]:
    """Extend one role's conversation with a game observation; return a new list.

    For trainers that run the env themselves. ``history`` is that role's conversation so far (as
    returned by the previous call), ``action`` the move the role made since (it becomes an
    ``"assistant"`` turn), and ``observation`` becomes a ``"user"`` turn. ``history`` is ignored
    when ``info`` is from ``reset`` (``info["actor"] is None``), so an old episode never leaks
    into a new one; ``system`` opens a new conversation. ``history`` itself is not modified.

    >>> first = to_chat("Guess a number.", {"actor": None}, system="Be brief.")
    >>> to_chat("Higher.", {"actor": "player"}, first, action="guess: 5")[1:]
    [{'role': 'user', 'content': 'Guess a number.'},
     {'role': 'assistant', 'content': 'guess: 5'},
     {'role': 'user', 'content': 'Higher.'}]
    """
    if not isinstance(observation, str):
        raise InvalidArgument(
            f"to_chat expects the game's text observation, got {type(observation).__name__}; "
            "pass the observation of the unwrapped text env (not of ChatMessages)"
        )
    new_episode = history is None or info.get("actor") is None
    messages: list[Message] = []
    if new_episode:
        if system is not None:
            messages.append({"role": "system", "content": system})
    else:
        assert history is not None
        messages = [{"role": str(m["role"]), "content": str(m["content"])} for m in history]
    if action is not None and not new_episode:
        messages.append({"role": "assistant", "content": action})
    messages.append({"role": "user", "content": observation})
    return messages


# Any for the wrapper's observation type: Gymnasium 1.x annotates ``Wrapper.__init__(env)`` with
# the *wrapper's* types, so a precise ``list[Message]`` would reject the text env being wrapped.
class ChatMessages(gym.Wrapper[Any, str, str, str]):
    """Observations become the acting role's conversation (see the module docstring).

    Args:
        env: a langgames env (text observations; ``info["role"]`` names the role to act).
        system: text of a ``"system"`` turn opening every conversation (none if ``None``).

    Contract: ``reset`` clears every conversation; ``step(action)`` appends ``action`` as an
    ``"assistant"`` turn to the conversation of the role that made it (``info["actor"]``, or the
    role that was to act), then the new observation as a ``"user"`` turn to the conversation of
    the role that acts next (the actor's own when the episode ends), and returns a copy of that
    conversation. Rewards, termination and ``info`` pass through unchanged.
    """

    def __init__(self, env: gym.Env[str, str], system: str | None = None) -> None:
        super().__init__(env)
        if system is not None and not isinstance(system, str):
            raise InvalidArgument(f"system must be text or None (got {type(system).__name__})")
        self.system = system
        self.observation_space = chat_space()
        #: Every role's conversation in the current episode.
        self.conversations: dict[str, list[Message]] = {}
        self._to_act: str | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[list[Message], dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        self.conversations = {}
        role = self._role(info, None)
        self.conversations[role] = to_chat(obs, {"actor": None}, system=self.system)
        self._to_act = role
        return self._copy(role), info

    def step(self, action: str) -> tuple[list[Message], SupportsFloat, bool, bool, dict[str, Any]]:
        if self._to_act is None:
            raise InvalidArgument("ChatMessages.step() needs a running episode: call reset() first")
        actor = self._to_act
        obs, reward, terminated, truncated, info = self.env.step(action)
        if isinstance(action, (bytes, bytearray)):
            text = bytes(action).decode("utf-8", errors="replace")
        else:
            text = str(action)
        self.conversations[actor].append({"role": "assistant", "content": text})
        done = terminated or truncated
        role = actor if done else self._role(info, actor)
        conversation = self.conversations.setdefault(
            role, to_chat("", {"actor": None}, system=self.system)[:-1]
        )
        conversation.append({"role": "user", "content": obs})
        self._to_act = None if done else role
        return self._copy(role), reward, terminated, truncated, info

    @staticmethod
    def _role(info: Mapping[str, Any], default: str | None) -> str:
        # A game whose several players share one role (ScholarsCircle's solvers) names each one's
        # seat in ``info["seat"]``: conversations are kept per seat, so no player reads another's.
        seat = info.get("seat")
        if seat:
            return str(seat)
        role = info.get("role", default)
        return "player" if role is None else str(role)

    def _copy(self, role: str) -> list[Message]:
        return [dict(m) for m in self.conversations[role]]
