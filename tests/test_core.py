"""The LanguageGame base class: spaces, actions, seeds, roles, turns and errors."""

from __future__ import annotations

import dataclasses
import math
import re

import gymnasium as gym
import numpy as np
import pytest

import langgames
from langgames.core import (
    EVAL_SEEDS,
    MAX_ACTION_LENGTH,
    TRAIN_SEEDS,
    GameInfo,
    LanguageGame,
    Move,
    ParseError,
    ResetNeeded,
)
from langgames.errors import InvalidActionType, InvalidArgument
from langgames.spaces import MAX_TEXT_LENGTH, clean_text, text_space
from langgames.verifiers import Status, Verdict


class Relay(LanguageGame):
    """Two roles: a `sender` picks a word, a `receiver` repeats it (multi-role plumbing)."""

    game_info = GameInfo(
        name="Relay",
        version=0,
        roles=("sender", "receiver"),
        verifiers=("exact",),
        answer_format="one lowercase word",
        reward_range=(-1.0, 1.0),
        max_turns=6,
    )

    def _setup(self) -> str:
        self.word = None
        return "sender"

    def _prompt(self, role: str) -> str:
        return f"[{role}] " + ("pick a word" if role == "sender" else f"repeat: {self.word}")

    def _play(self, role: str, action: str) -> Move:
        word = action.strip()
        if not word.isalpha() or not word.islower():
            raise ParseError(f"expected one lowercase word, got {word[:20]!r}")
        if role == "sender":
            self.word = word
            return Move(Verdict.make_accepted("word chosen"), {"sender": 0.0}, next_role="receiver")
        ok = word == self.word
        verdict = Verdict.make_correct() if ok else Verdict.make_incorrect("different word")
        reward = 1.0 if ok else 0.0
        # The sender is rewarded on the receiver's move: a delayed reward for another role.
        return Move(verdict, {"receiver": reward, "sender": reward}, next_role=None)

    def _reference(self, role: str) -> str:
        return "hello" if role == "sender" else str(self.word)


def test_text_space_covers_real_text_and_allows_empty():
    space = text_space()
    assert space.min_length == 0 and space.max_length == MAX_TEXT_LENGTH
    for text in [
        "",
        "déjà vu — naïve café",
        "∫ x² dx = x³/3 + C",
        "日本語のテキスト",
        "emoji 🎲🧮",
        "tabs\tand\nnewlines",
        "Ω≈ç√∫˜µ≤≥÷",
    ]:
        assert space.contains(text), text
    assert not space.contains("\x00") and not space.contains("\x1b[0m")
    assert len(space.character_set) > 100_000


def test_text_spaces_have_independent_rngs():
    a, b = text_space(), text_space()
    a.seed(1)
    b.seed(1)
    assert a.sample() == b.sample()
    assert a is not b and a.np_random is not b.np_random


def test_clean_text_keeps_text_inside_the_space():
    space = text_space()
    dirty = "ok\x00\x07\ud800\x1b[2J" + "z" * (MAX_TEXT_LENGTH + 10)
    cleaned = clean_text(dirty)
    assert space.contains(cleaned)
    assert cleaned.startswith("ok\ufffd\ufffd\ufffd\ufffd[2J")
    assert "truncated" in cleaned
    assert clean_text("plain\ttext\n") == "plain\ttext\n"


def test_actions_of_any_content_never_raise_but_non_text_does():
    env = Relay()
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(b"\xff\xfe")
    assert info["verdict"]["status"] == "unparseable" and reward == -1.0
    obs, reward, *_, info = env.step("\ud800")
    assert info["verdict"]["status"] == "unparseable"
    obs, reward, *_, info = env.step("x" * (MAX_ACTION_LENGTH + 1))
    assert "limit" in info["verdict"]["reason"]
    with pytest.raises(InvalidActionType, match=r"expects the action as text .* got int 5"):
        env.step(5)  # type: ignore[arg-type]


def test_unparseable_move_repeats_the_format_and_lets_the_role_retry():
    env = Relay()
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("NOT A WORD 123")
    assert not terminated and info["role"] == "sender"
    assert obs.startswith("Your last reply could not be read: expected one lowercase word")
    assert "Expected format: one lowercase word" in obs
    assert obs.endswith("[sender] pick a word\n" + env.answer_instruction())


def test_roles_turns_and_per_role_rewards():
    env = Relay()
    obs, info = env.reset(seed=0)
    assert info["role"] == "sender" and info["rewards"] == {} and info["verdict"] == {}
    obs, reward, terminated, truncated, info = env.step("apple")
    assert info["role"] == "receiver" and info["actor"] == "sender"
    assert obs == "[receiver] repeat: apple\n" + env.answer_instruction()
    obs, reward, terminated, truncated, info = env.step("apple")
    assert terminated and not truncated and info["role"] is None
    assert info["rewards"] == {"receiver": 1.0, "sender": 1.0}
    assert reward == 1.0  # the scalar reward is the acting role's
    assert info["verdict"]["status"] == "correct"


def test_turn_limit_truncates():
    env = Relay(max_turns=2)
    env.reset(seed=0)
    env.step("!!")
    obs, reward, terminated, truncated, info = env.step("!!")
    assert truncated and not terminated and info["role"] is None
    assert "limit of 2 moves" in obs
    with pytest.raises(ResetNeeded, match=r"call env\.reset"):
        env.step("again")


def test_step_before_reset_is_a_clear_error():
    with pytest.raises(ResetNeeded, match=r"step\(\) needs a running episode"):
        Relay().step("x")


def test_a_bug_in_a_game_is_a_visible_verifier_error_not_a_crash_or_a_zero_in_disguise():
    class Buggy(Relay):
        def _play(self, role, action):
            raise ZeroDivisionError("oops")

    env = Buggy()
    env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step("apple")
    assert info["verdict"]["status"] == "verifier_error"
    assert "ZeroDivisionError: oops" in info["verdict"]["reason"]
    assert "Traceback" in info["verdict"]["details"]["traceback"]
    assert terminated


def test_keyword_arguments_are_checked_with_did_you_mean():
    with pytest.raises(
        InvalidArgument, match=r"unexpected keyword argument 'dificulty'.*`difficulty`"
    ):
        gym.make("langgames/BaseConvert-v0", dificulty=2)
    with pytest.raises(InvalidArgument, match=r"difficulty must be one of \(1, 2, 3\) \(got 9\)"):
        gym.make("langgames/BaseConvert-v0", difficulty=9)
    with pytest.raises(InvalidArgument, match="max_turns must be a positive int"):
        Relay(max_turns=0)
    with pytest.raises(InvalidArgument, match="render_mode must be one of"):
        Relay(render_mode="rgb_array")
    env = Relay()
    with pytest.raises(InvalidArgument, match=r"unknown option 'dificulty'.*`difficulty`"):
        env.reset(options={"dificulty": 2})
    with pytest.raises(InvalidArgument, match="seed must be a non-negative int"):
        env.reset(seed=-1)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"reward_range": (0.5, 1.0)}, "reward_range must satisfy low <= 0 <= high"),
        ({"default_difficulty": 4}, r"default_difficulty must be one of \(1, 2, 3\) \(got 4\)"),
        ({"max_turns": 0}, r"max_turns must be >= 1 \(got 0\)"),
        ({"roles": ()}, "at least one role"),
    ],
)
def test_game_info_is_validated(bad, message):
    good = {
        "name": "X",
        "version": 0,
        "roles": ("a",),
        "verifiers": (),
        "answer_format": "",
        "reward_range": (0.0, 1.0),
        "max_turns": 1,
    }
    with pytest.raises(InvalidArgument, match=message):
        GameInfo(**{**good, **bad})


def test_seeds_replay_and_train_eval_ranges_are_disjoint():
    assert set(range(0, 10)).isdisjoint(EVAL_SEEDS)
    assert TRAIN_SEEDS.stop <= EVAL_SEEDS.start
    env = gym.make("langgames/NumberHunt-v0")
    env.reset(seed=123)
    obs1, info1 = env.reset()  # no seed: drawn from the env's generator, inside TRAIN_SEEDS
    assert info1["seed"] in TRAIN_SEEDS
    obs2, info2 = env.reset(seed=info1["seed"])
    assert obs1 == obs2
    # The sequence of unseeded episodes is itself reproducible.
    other = gym.make("langgames/NumberHunt-v0")
    other.reset(seed=123)
    assert other.reset()[1]["seed"] == info1["seed"]


def test_adjacent_seeds_are_not_shifted_copies():
    env = gym.make("langgames/NumberHunt-v0").unwrapped
    secrets = []
    for seed in range(300):
        env.reset(seed=seed)
        secrets.append(env._secret - env._low)
    offsets = np.diff(secrets)
    assert len(set(secrets)) > 90  # 100 possible offsets
    assert len(set(offsets.tolist())) > 50  # not a constant shift from one seed to the next


def test_difficulty_option_applies_to_one_episode_only():
    env = gym.make("langgames/NumberHunt-v0")
    _, info = env.reset(seed=0, options={"difficulty": 3})
    assert info["difficulty"] == 3
    _, info = env.reset(seed=0)
    assert info["difficulty"] == 1


def test_render_shows_the_transcript():
    env = gym.make("langgames/BaseConvert-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step(env.unwrapped.reference_action())
    text = env.render()
    assert "=== observation (role: player) ===" in text and "=== verdict: correct" in text


def test_top_level_api():
    assert "langgames/NumberHunt-v0" in langgames.game_ids()
    assert langgames.Verdict is Verdict
    assert issubclass(langgames.UnknownGame, LookupError)


def echo_receiver(observation, info, game):
    return observation.split("repeat: ", 1)[1].split()[0]


def test_opponents_play_their_roles_inside_step():
    env = Relay(opponents={"receiver": echo_receiver})
    obs, info = env.reset(seed=0)
    assert info["role"] == "sender" and env.learner_roles == ("sender",)
    obs, reward, terminated, truncated, info = env.step("apple")
    assert terminated and info["role"] is None
    # The sender's delayed reward (given on the receiver's move) reaches the caller.
    assert reward == 1.0
    assert info["rewards"] == {"sender": 1.0, "receiver": 1.0}
    assert info["verdict"]["status"] == "accepted" and info["actor"] == "sender"
    [move] = info["opponent_moves"]
    assert move["role"] == "receiver" and move["action"] == "apple"
    assert move["verdict"]["status"] == "correct"


def test_an_opponent_that_moves_first_plays_during_reset():
    env = Relay(opponents={"sender": lambda obs, info, game: "hello"})
    obs, info = env.reset(seed=0)
    assert obs == "[receiver] repeat: hello\n" + env.unwrapped.answer_instruction()
    assert info["role"] == "receiver" and info["verdict"] == {}
    assert info["opponent_moves"][0]["role"] == "sender"
    obs, reward, terminated, truncated, info = env.step("hello")
    assert reward == 1.0 and terminated


def test_opponents_are_checked():
    with pytest.raises(InvalidArgument, match=r"no role 'reciever'.*`receiver`"):
        Relay(opponents={"reciever": echo_receiver})
    with pytest.raises(InvalidArgument, match="leave at least one role"):
        Relay(opponents={"sender": echo_receiver, "receiver": echo_receiver})
    with pytest.raises(InvalidArgument, match="must be callable"):
        Relay(opponents={"receiver": "apple"})


def test_a_game_with_opponents_passes_the_conformance_kit():
    from langgames.testing import check_game

    report = check_game(Relay(opponents={"receiver": echo_receiver}), seeds=2, cross_process=False)
    assert report.passed, str(report)
    from langgames.testing import HOSTILE_ACTIONS

    # The kit rebuilt the same game (with its opponent): only the sender was probed.
    hostile = next(r for r in report.results if r.name == "hostile_actions")
    assert hostile.detail == f"{len(HOSTILE_ACTIONS)} hostile moves"


# ------------------------------------------------------------------ the fast paths of a step
def test_clean_text_fast_path_for_ascii_agrees_with_the_charset():
    charset = langgames.spaces.TEXT_CHARSET
    for code in range(128):
        text = f"a{chr(code)}b\n"
        expected = "".join(c if c in charset else "\ufffd" for c in text)
        assert clean_text(text) == expected, code
    assert clean_text("x\x7f" * 30_000) == "x\ufffd" * 30_000


def test_info_verdict_is_the_verdicts_dict_and_moves_stay_frozen():
    from langgames.registry import make_game

    env = make_game("langgames/NumberHunt-v0")
    env.reset(seed=5)
    for action in ["guess: 1", "nonsense", env.reference_action(), b"guess: 2", "  42  "]:
        *_, info = env.step(action)
        logged = env._episode_log[-1][2]
        assert info["verdict"] == logged.to_dict()
        assert info["verdict"]["details"] is not logged.details  # a copy, never the verdict's
    move = Move(Verdict.make_accepted("ok"), next_role="player")
    assert move.rewards == {} and Move(move.verdict).rewards is not move.rewards
    assert dataclasses.replace(move, feedback="f") == Move(move.verdict, {}, "player", "f")
    with pytest.raises(dataclasses.FrozenInstanceError):
        move.feedback = "x"  # type: ignore[misc]


def test_numberhunt_plain_guess_fast_path_agrees_with_the_general_readers():
    import itertools

    from langgames.envs import number_hunt
    from langgames.envs._parsing import last_line, parse_int

    def general(reply: str) -> int | None:
        try:
            match = number_hunt._GUESS.match(last_line(reply, what="your guess"))
            return None if match is None else parse_int(match["n"], what="the guess")
        except ParseError:
            return None

    parts = ["guess", "GUESS", "Guess", ":", "=", " ", "\t", "-", "+", "0", "42", "9" * 41, "_"]
    checked = 0
    for n in range(1, 5):
        for combo in itertools.product(parts, repeat=n):
            reply = "".join(combo)
            plain = number_hunt._PLAIN_GUESS.fullmatch(reply)
            if plain is not None:
                checked += 1
                assert int(plain[1]) == general(reply), reply
    assert checked > 300


def test_step_speed_benchmarks_run_tiny(capsys):
    import importlib.util
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "benchmarks"
    for name, argv in [
        ("step_speed", ["--steps", "300", "--trials", "1", "--ablate"]),
        ("step_overhead", ["--episodes", "20", "--steps", "300", "--trials", "1"]),
    ]:
        spec = importlib.util.spec_from_file_location(name, root / f"{name}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        assert module.main(argv) == 0
        out = capsys.readouterr().out
        assert "NumberHunt (gym.make) runs at" in out and "target >= 0.5x" in out
        assert "PASS" in out or "FAIL" in out
        if name == "step_speed":  # the ablated variants ran, and left the library as it was
            assert "NumberHunt (unwrapped) - all four" in out
            from langgames import core, spaces
            from langgames.envs import number_hunt

            assert core.clean_text is spaces.clean_text and number_hunt.Verdict is Verdict
            assert core.read_reply.__module__ == "langgames.contract"
            assert core.LanguageGame._info.__qualname__ == "LanguageGame._info"


@pytest.mark.parametrize(
    "details",
    [
        {"a": 1, "b": [1, 2.5, None, True, "x"], "c": {"d": (1, {"e": "f"})}},
        {"status": Status.CORRECT},  # a str subclass: accepted, as by the checked path
    ],
)
def test_verdict_details_of_plain_data_are_accepted_and_copied(details):
    verdict = Verdict(Status.CORRECT, 1.0, "ok", details)
    assert verdict.details == details and verdict.details is not details


@pytest.mark.parametrize(
    ("details", "where"),
    [
        ({1: "x"}, "key at details"),
        ({"a": [[object()]]}, "details['a'][0][0] is a object"),
        ({"a": {"b": {1, 2}}}, "details['a']['b'] is a set"),
    ],
)
def test_verdict_details_that_are_not_json_say_where(details, where):
    with pytest.raises(TypeError, match=re.escape(where)):
        Verdict(Status.CORRECT, 1.0, "ok", details)


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("nope", 0.0, "r"), ValueError, "status must be one of"),
        ((Status.CORRECT, math.nan, "r"), ValueError, r"reward must be in \[0, 1\]"),
        ((Status.CORRECT, math.inf, "r"), ValueError, r"reward must be in \[0, 1\]"),
        ((Status.CORRECT, -0.5, "r"), ValueError, r"reward must be in \[0, 1\]"),
        ((Status.ACCEPTED, 0.5, "r"), ValueError, "must carry reward 0.0"),
        ((Status.TIMEOUT, 1.0, "r"), ValueError, "must carry reward 0.0"),
        ((Status.CORRECT, 1.0, b"r"), TypeError, "reason must be a str"),
    ],
)
def test_a_verdict_that_breaks_its_invariants_is_refused(args, error, message):
    with pytest.raises(error, match=message):
        Verdict(*args)


def test_a_verdict_coerces_its_status_and_reward_and_stays_frozen():
    verdict = Verdict(status="incorrect", reward=1, reason="half right")  # type: ignore[arg-type]
    assert verdict.status is Status.INCORRECT and type(verdict.reward) is float
    assert verdict.details == {} and verdict == Verdict(Status.INCORRECT, 1.0, "half right", {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.reward = 0.0  # type: ignore[misc]
    assert dataclasses.replace(verdict, reward=0.25).reward == 0.25
