"""The reply contract (`langgames.contract`): one way every game reads a model's reply."""

from __future__ import annotations

import contextlib
import re
import time

import pytest

import langgames
from langgames._contract_kit import REPLY_STYLES, check_reply_contract, hostile_replies
from langgames.contract import (
    ContractError,
    answer_instruction,
    apply_contract,
    mark_answer,
    strip_reasoning,
)
from langgames.registry import make_game


# ------------------------------------------------------------------------------ the rules
@pytest.mark.parametrize(
    ("reply", "marker", "expected"),
    [
        ("<think>maybe \\boxed{41}</think>It is \\boxed{42}. Hope that helps!", "boxed", "42"),
        ("I first thought 7.</think>\n\\boxed{8}", "boxed", "8"),  # block opened by the template
        ("<THINK>a</THINK><reasoning>b <think>c</think> d</reasoning>\\boxed{x}", "boxed", "x"),
        ("\\boxed{1} no wait \\boxed{2}", "boxed", "2"),  # the last marked answer counts
        ("\\boxed{\\frac{1}{2}}", "boxed", "\\frac{1}{2}"),  # braces inside the box
        ("\\boxed{\\boxed{5}}", "boxed", "5"),
        ("**\\boxed{3}**", "boxed", "3"),
        ("no box here\n17", "boxed", "no box here\n17"),  # bare format: the whole reply
        (
            "```python\r\ndef f(x):\r\n    return x\r\n```\r\nThis works.",
            "code",
            "```python\ndef f(x):\n    return x\n```",
        ),
        (
            "```py\ndef f(): return 1\n```\n```\ndef f(): return 2\n```",
            "code",
            "```python\ndef f(): return 2\n```",
        ),
        ("```sql\nSELECT 1;\n```", "code:sql", "```sql\nSELECT 1;\n```"),
        ("I guess 3.\n**guess: 50**\nGood luck!", "line:guess", "guess: 50"),
        ("> Guess: 12", "line:guess", "Guess: 12"),
        ("query: 3\nthen\nanswer: 2x + 1", "line:query|answer", "answer: 2x + 1"),
        ("  \r\n  7  \r\n", None, "7"),
    ],
)
def test_the_contract_reads_what_models_write(reply, marker, expected):
    assert apply_contract(reply, marker) == expected


def test_a_reply_that_ends_inside_a_reasoning_block_has_no_answer():
    with pytest.raises(ContractError, match=r"unclosed <think> block"):
        apply_contract("<think>the answer is \\boxed{42}", "boxed")
    with pytest.raises(ContractError, match=r"<reasoning>"):
        strip_reasoning("ok <reasoning>never closed")


def test_the_tag_set_is_configurable_per_env():
    env = make_game("langgames/NumberHunt-v0", reasoning_tags=["scratch"])
    env.reset(seed=3)
    reference = env.reference_action()
    *_, info = env.step(f"<scratch>guess: 0</scratch>\n{reference}")
    assert info["parsed_action"] == reference
    env = make_game("langgames/NumberHunt-v0", reasoning_tags=[])
    env.reset(seed=3)
    *_, info = env.step("<think>x</think>")
    assert info["parsed_action"] == "<think>x</think>"
    with pytest.raises(langgames.InvalidArgument, match="reasoning_tags"):
        make_game("langgames/NumberHunt-v0", reasoning_tags="think")


def test_mark_answer_and_the_instruction_agree_with_the_reader():
    for marker, answer in [
        ("boxed", "3/4"),
        ("code", "```python\ndef f():\n    return 1\n```"),
        ("line:guess", "guess: 9"),
        (None, "x"),
    ]:
        assert apply_contract(mark_answer(answer, marker), marker) == answer
        assert answer_instruction(marker).startswith("You may reason first")


def test_parsed_action_is_what_the_game_judged_and_always_text():
    env = make_game("langgames/Countdown-v0")
    _, info = env.reset(seed=1)
    assert info["parsed_action"] == ""
    *_, info = env.step("<think>\\boxed{1}</think> So: \\boxed{2 + 2}. Done.")
    assert info["parsed_action"] == "2 + 2"
    env.reset(seed=1)
    *_, info = env.step("<think>never closed \\boxed{2 + 2}")
    assert info["parsed_action"] == "" and info["verdict"]["status"] == "unparseable"
    assert "unclosed <think>" in info["verdict"]["reason"]


def test_every_prompt_ends_with_the_marker_statement():
    from langgames.core import LanguageGame

    for game_id in langgames.game_ids():
        env = make_game(game_id)
        # Every registered game names its marker, so the kit's contract check runs on it.
        assert (
            type(env).answer_marker is not None
            or type(env)._answer_marker is not LanguageGame._answer_marker
        ), f"{game_id} declares no answer_marker"
        obs, _ = env.reset(seed=1_000_000_007)
        assert obs.endswith(env.answer_instruction()), game_id


# ------------------------------------------------------------------------------ linear time
@pytest.mark.parametrize("name", sorted(hostile_replies()))
def test_contract_scans_stay_linear_on_hostile_replies(name):
    """Quadrupling a hostile reply about quadruples the time; a quadratic scan would take 16x.

    The two sizes are timed interleaved and the fastest of five runs is kept, so a busy machine
    slows both alike; the 8x bound sits halfway (on a log scale) between linear and quadratic.
    """
    text = hostile_replies()[name]
    quarter = hostile_replies(0.25)[name]

    def seconds(reply: str) -> float:
        start = time.perf_counter()
        for marker in ("boxed", "code", "line:guess|answer", None):
            with contextlib.suppress(ContractError):
                apply_contract(reply, marker)
        return time.perf_counter() - start

    runs: dict[str, list[float]] = {"small": [], "large": []}
    for _ in range(5):
        runs["small"].append(seconds(quarter))
        runs["large"].append(seconds(text))
    small, large = min(runs["small"]), min(runs["large"])
    # Only a guard against a hang (a quadratic scan of a megabyte takes hours); the ratio is the
    # linearity check.
    assert large < 10.0, f"{name}: {large:.2f} s for {len(text):,} characters"
    assert large < 8 * small + 0.05, f"{name}: {small:.4f} s -> {large:.4f} s at 4x the length"


# ------------------------------------------------------------------------------ every game
# The conformance kit runs `check_reply_contract` on every registered game (its `reply_contract`
# check, in tests/test_conformance.py). Here: the check itself catches a game without a marker.
def test_the_kit_catches_a_game_that_ignores_the_contract(monkeypatch):
    from langgames.envs.countdown import Countdown

    monkeypatch.setattr(Countdown, "answer_marker", None)
    report = check_reply_contract(
        lambda: make_game("langgames/Countdown-v0"), "Countdown-v0", [1_000_000_011]
    )
    assert report.checked >= len(REPLY_STYLES) + 2
    assert any("chatter_after" in f for f in report.failures)


def test_read_reply_agrees_with_apply_contract_on_its_fast_path_and_off_it():
    from langgames.contract import read_reply

    replies = [
        "guess: 7",
        "  guess: 7  ",
        "**guess:** 7",
        "> guess: 7",
        "- guess: 7",
        "# Guess: 7",
        "`guess: 7`",
        "_guess: 7_",
        "guess 7",
        "7",
        "",
        "   ",
        "reasoning\nguess: 3\nguess: 4",
        "guess: 1\r\nguess: 2\r\n",
        "<think>guess: 1</think>guess: 2",
        "so 5</think> guess: 6",
        "a < b, guess: 9",
        "\\boxed{3} then \\boxed{4}",
        "```python\nx = 1\n```",
    ]
    for marker in ("line:guess", "line:query|answer", "boxed", "code", None):
        for reply in replies:
            assert read_reply(reply, marker)[1] == apply_contract(reply, marker), (reply, marker)
            assert read_reply(reply, marker, ())[1] == apply_contract(reply, marker, tags=())
    with pytest.raises(ContractError):
        read_reply("<think>never closed", "line:guess")


def test_read_reply_fast_path_returns_what_the_full_contract_returns():
    """`read_reply` returns one-line plain replies whole, without the contract's steps: the
    shortcut must agree with the full contract on every reply, near misses included (quote marks,
    emphasis, tags, boxes, fences, surrounding space, line breaks)."""
    import random

    from langgames import contract
    from langgames.contract import mark_reply, normalise, read_reply, strip_reasoning

    rng = random.Random(14)
    shortcuts = 0
    plain = "guessGUESSanswerquery0123456789 :=+-.,()"
    special = "<>*_`#\\{}\r\n\t/!?"
    words = [
        "guess:",
        "answer:",
        "query:",
        "\\boxed{",
        "```",
        "<think>",
        "</think>",
        "**",
        "__",
        "> ",
    ]
    markers = ("line:guess", "line:query|answer", "boxed", "code", "code:sql", None)
    for i in range(6_000):
        # Plain replies; near misses (one special character or word in a plain reply, anywhere);
        # anything.
        alphabet = plain + special if i % 3 == 2 else plain
        parts = [rng.choice(alphabet) for _ in range(rng.randint(0, 24))]
        if rng.random() < 0.5:  # a marker line (the contract strips emphasis only on those)
            parts[:0] = rng.choice(["guess: ", "Answer:", "query : ", "guess "])
        inserts = [rng.choice([*special, *words])] if i % 3 == 1 else []
        inserts += [rng.choice(words) for _ in range(rng.randint(0, 2) if i % 3 == 2 else 0)]
        for insert in inserts:
            parts.insert(rng.randint(0, len(parts)), insert)
        reply = "".join(parts)
        shortcuts += contract._FIXED_POINT.fullmatch(reply) is not None
        for marker in markers:
            try:
                expected = strip_reasoning(normalise(reply)).strip()
                expected = (expected, mark_reply(expected, marker))
            except ContractError:
                with pytest.raises(ContractError):
                    read_reply(reply, marker)
                continue
            assert read_reply(reply, marker) == expected, (reply, marker)
    assert shortcuts > 1_000  # the shortcut was taken (plain replies and marker lines)


def test_read_reply_still_refuses_an_unknown_marker_on_a_plain_reply():
    from langgames.contract import read_reply

    with pytest.raises(ValueError, match="unknown answer marker"):
        read_reply("guess: 7", "guess")


def test_every_game_judges_a_reply_the_same_with_and_without_the_fast_path(monkeypatch):
    """The attack on the shortcut, on every game: constants, marker lines, the reference's
    answer line, the listed candidates and reasoning-style replies are judged identically (same
    observation, reward, end, verdict and parsed action) when `read_reply` may not take it."""
    from langgames import contract

    def first_step(game_id: str, reply: str) -> tuple[object, ...]:
        env = make_game(game_id)
        env.reset(seed=1_000_000_007)
        obs, reward, terminated, truncated, info = env.step(reply)
        verdict = info["verdict"]
        return (
            obs,
            reward,
            terminated,
            truncated,
            verdict["status"],
            verdict["reason"],
            info["parsed_action"],
        )

    fast_path = contract._FIXED_POINT
    for game_id in langgames.game_ids():
        env = make_game(game_id)
        env.reset(seed=1_000_000_007)
        reference = env.reference_action()
        last = reference.strip().splitlines()[-1] if reference.strip() else ""
        replies = ["0", "1", "yes", "true", "A", "answer: 1", "guess: 5", "Guess: 5.", "(1, 2)"]
        replies += [last, *(env.candidate_actions() or [])[:3]]
        replies += [f"<think>let me see</think>\n{last}", f"Step by step.\n{reference}"]
        replies += [f"**{last}**", f"> {last}", f"{last} ", f"`{last}`", "**answer:** 1"]
        for reply in replies:
            monkeypatch.setattr(contract, "_FIXED_POINT", fast_path)
            fast = first_step(game_id, reply)
            monkeypatch.setattr(contract, "_FIXED_POINT", re.compile(r"(?!)"))  # never matches
            assert first_step(game_id, reply) == fast, (game_id, reply)
