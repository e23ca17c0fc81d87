"""ChatMessages / to_chat: roles, feedback placement, episode isolation, per-role histories."""

from __future__ import annotations

import gymnasium as gym
import pytest

import langgames  # noqa: F401 - registers the games
from langgames.chat import ChatMessages, chat_space, to_chat
from langgames.envs.adversarial_testing import BuggyCoder
from langgames.errors import InvalidArgument


def _roles(messages):
    return [m["role"] for m in messages]


def test_number_hunt_roles_alternate_and_feedback_is_a_user_turn():
    env = ChatMessages(gym.make("langgames/NumberHunt-v0"), system="Be brief.")
    messages, info = env.reset(seed=3)
    assert _roles(messages) == ["system", "user"]
    assert messages[1]["content"].startswith("You are playing NumberHunt")
    guesses = ["guess: 50", "not a number", "guess: 25"]
    for i, guess in enumerate(guesses, start=1):
        messages, reward, terminated, truncated, info = env.step(guess)
        assert not (terminated or truncated)
        assert _roles(messages) == ["system"] + ["user", "assistant"] * i + ["user"]
        # the assistant turn is exactly the move: the game's answer is never inside it
        assert messages[-2] == {"role": "assistant", "content": guess}
    # feedback of each move opens the next user turn
    assert messages[2 + 1]["content"].startswith("50 is not the secret: it is")
    assert messages[4 + 1]["content"].startswith("Your last reply could not be read")
    assert messages[6 + 1]["content"].startswith("25 is not the secret")
    assert env.observation_space.contains(tuple(messages))


def test_episode_end_appends_the_closing_text_and_reset_starts_clean():
    env = ChatMessages(gym.make("langgames/NumberHunt-v0"))
    messages, _ = env.reset(seed=0)
    terminated = False
    while not terminated:
        messages, reward, terminated, truncated, info = env.step(env.unwrapped.reference_action())
    assert reward == 1.0
    assert messages[-1]["role"] == "user" and "The episode is over." in messages[-1]["content"]
    assert len(messages) > 3
    first = messages[0]["content"]
    messages, _ = env.reset(seed=1)
    assert _roles(messages) == ["user"]  # no system given, nothing from the last episode
    assert messages[0]["content"] != first
    assert env.conversations == {"player": messages}


def test_returned_conversation_is_a_copy():
    env = ChatMessages(gym.make("langgames/NumberHunt-v0"))
    messages, _ = env.reset(seed=0)
    messages.append({"role": "assistant", "content": "tampered"})
    messages, *_ = env.step("guess: 1")
    assert "tampered" not in [m["content"] for m in messages]


def test_bughunt_keeps_one_conversation_per_role():
    env = ChatMessages(gym.make("langgames/BugHunt-v0"), system="sys")
    messages, info = env.reset(seed=0)
    assert info["role"] == "coder" and _roles(messages) == ["system", "user"]
    messages, _, _, _, info = env.step("no code here")  # unreadable: the coder tries again
    assert info["role"] == "coder"
    assert _roles(messages) == ["system", "user", "assistant", "user"]
    program = env.unwrapped.reference_action()
    messages, _, terminated, _, info = env.step(program)
    assert info["role"] == "tester" and not terminated
    # the tester starts its own conversation: no coder turns in it
    assert _roles(messages) == ["system", "user"]
    assert "no code here" not in messages[1]["content"]
    messages, _, terminated, _, info = env.step("inputs: [[1, 2]]")
    assert terminated
    assert _roles(messages) == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == "inputs: [[1, 2]]"
    coder = env.conversations["coder"]
    assert _roles(coder) == ["system", "user", "assistant", "user", "assistant"]
    assert coder[-1]["content"] == program
    assert set(env.conversations) == {"coder", "tester"}


def test_bughunt_with_an_opponent_shows_only_the_learner_role():
    env = ChatMessages(gym.make("langgames/BugHunt-v0", opponents={"coder": BuggyCoder()}))
    messages, info = env.reset(seed=0)
    assert info["role"] == "tester" and _roles(messages) == ["user"]
    assert set(env.conversations) == {"tester"}


def test_to_chat_builds_and_isolates_histories():
    start = to_chat("prompt", {"actor": None}, system="s")
    assert start == [{"role": "system", "content": "s"}, {"role": "user", "content": "prompt"}]
    nxt = to_chat("higher", {"actor": "player"}, start, action="guess: 1")
    assert _roles(nxt) == ["system", "user", "assistant", "user"]
    assert len(start) == 2  # not modified
    # info from reset: the old history is dropped, whatever is passed
    again = to_chat("new prompt", {"actor": None}, nxt, action="x")
    assert again == [{"role": "user", "content": "new prompt"}]
    with pytest.raises(InvalidArgument, match="text observation"):
        to_chat(nxt, {"actor": "player"})  # type: ignore[arg-type]


def test_step_before_reset_teaches():
    env = ChatMessages(gym.make("langgames/NumberHunt-v0"))
    with pytest.raises(InvalidArgument, match="call reset"):
        env.step("1")
    assert not chat_space().contains([{"role": "user", "content": "x"}])  # lists: see docs
