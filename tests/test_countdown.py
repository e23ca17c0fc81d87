"""Countdown: conformance, the parser's rules, difficulty, variety and exploit resistance."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from langgames.envs.countdown import Countdown, evaluate, parse_expression, reachable, render
from langgames.testing import play_episode

LEVELS = (1, 2, 3)


def test_the_reference_always_reaches_the_target():
    env = Countdown()
    for level in LEVELS:
        for seed in range(25):
            episode = play_episode(
                env, lambda o, i, e: e.reference_action(), seed, difficulty=level
            )
            assert episode.returns["player"] == 1.0, episode.transcript


def game(seed: int = 3, level: int = 2) -> Countdown:
    env = Countdown(difficulty=level)
    env.reset(seed=seed)
    return env


def step(env: Countdown, action: str) -> tuple[float, str, str]:
    _, reward, _, _, info = env.step(action)
    return float(reward), info["verdict"]["status"], info["verdict"]["reason"]


def test_accepted_spellings_of_a_right_answer():
    env = game()
    right = render(env._solution)
    for text in (
        right,
        f"{right} = {env.target}",
        f"Let me think.\nAnswer: {right}",
        f"so \\boxed{{{right}}}",
        f"`{right}`",
        right.replace("*", "×").replace("/", "÷"),
        f"({right})",
    ):
        env.reset(seed=3)
        assert step(env, text)[:2] == (1.0, "correct"), text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("-3 + 5", "unary minus"),
        ("+3 + 5", "unary minus"),
        ("(2 3) * 4", "cannot be joined"),
        ("2(3 + 4)", "explicit *"),
        ("2.5 * 4", "unexpected character '.'"),
        ("(1 + 2", "never closed"),
        ("1 +", "ends too early"),
        ("1 = 2 = 3", "nothing else"),
        ("two plus two", "unexpected character"),
        ("9" * 12, "far longer"),
        ("(" * 40 + "1" + ")" * 40, "nested more than"),
    ],
)
def test_unreadable_expressions_cost_a_turn_and_say_why(text, why):
    env = game()
    obs, reward, terminated, _, info = env.step(text)
    assert reward == -0.1 and not terminated and info["verdict"]["status"] == "unparseable"
    assert why in info["verdict"]["reason"], info["verdict"]["reason"]
    assert "Expected format: one expression" in obs


def test_only_the_given_numbers_each_at_most_as_often_as_given():
    env = game()
    numbers = env.numbers
    joined = int(f"{numbers[-1]}{numbers[-2]}")
    if joined not in numbers:
        reward, status, reason = step(env, f"{joined} + 1")
        assert (reward, status) == (0.0, "incorrect") and "cannot be joined" in reason
    env.reset(seed=3)
    once = next(n for n in numbers if numbers.count(n) == 1)
    reward, status, reason = step(env, f"{once} + {once}")
    assert (reward, status) == (0.0, "incorrect") and "given only once" in reason
    env.reset(seed=3)
    absent = next(n for n in range(11, 99) if n not in numbers)
    reward, status, reason = step(env, str(absent))
    assert status == "incorrect" and "not one of the given numbers" in reason


def test_exact_rationals_and_division_by_zero():
    assert evaluate(parse_expression("(7 / 2) * 4")) == 14
    assert evaluate(parse_expression("8 / (3 - 1 / 3)")) == 3
    assert parse_expression("10 - 4 - 3") == ("-", ("-", 10, 4), 3)
    assert evaluate(parse_expression("100 / 5 / 2")) == 10
    env = Countdown(difficulty=3)
    for seed in range(40):
        env.reset(seed=seed)
        numbers = env.numbers
        repeated = [n for n in set(numbers) if numbers.count(n) >= 2]
        if repeated:
            break
    n = repeated[0]
    reward, status, reason = step(env, f"{numbers[0]} / ({n} - {n})")
    assert (reward, status, reason) == (0.0, "incorrect", "the expression divides by zero")


def test_a_wrong_value_is_told_but_earns_nothing():
    env = game()
    reward, status, reason = step(env, str(env.numbers[0]))
    assert (reward, status) == (0.0, "incorrect")
    assert reason == f"the expression equals {env.numbers[0]}, not the target {env.target}"


def test_render_round_trips_through_the_parser():
    env = Countdown(difficulty=3)
    for seed in range(30):
        env.reset(seed=seed)
        tree = env._solution
        assert parse_expression(render(tree)) == tree or evaluate(
            parse_expression(render(tree))
        ) == evaluate(tree)


def _random_search(numbers: list[int], target: int, rng: np.random.Generator) -> bool:
    """A fixed weak policy: 200 random expressions over random subsets of the numbers."""

    def tree(chosen):
        if len(chosen) == 1:
            return chosen[0]
        split = int(rng.integers(1, len(chosen)))
        return ("+-*/"[int(rng.integers(4))], tree(chosen[:split]), tree(chosen[split:]))

    for _ in range(200):
        size = int(rng.integers(1, len(numbers) + 1))
        chosen = [numbers[int(i)] for i in rng.permutation(len(numbers))[:size]]
        try:
            if evaluate(tree(chosen)) == target:
                return True
        except ZeroDivisionError:
            pass
    return False


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_difficulty_really_grows_the_work():
    env = Countdown()
    used, success = {}, {}
    for level in LEVELS:
        rng = np.random.default_rng(0)
        sizes, hits = [], 0
        for seed in range(40):
            env.reset(seed=seed, options={"difficulty": level})
            sizes.append(env.numbers_in_solution)
            hits += _random_search(env.numbers, env.target, rng)
        used[level], success[level] = statistics.mean(sizes), hits / 40
    assert used[1] < used[2] < used[3], used
    assert success[1] > success[2] > success[3], success
    # the targets are out of reach of fewer numbers than the level's floor
    for level, floor in ((2, 2), (3, 3)):
        for seed in range(5):
            env.reset(seed=seed, options={"difficulty": level})
            assert env.target not in reachable(env.numbers, floor)


def test_the_right_expression_among_junk_earns_nothing():
    env = Countdown()
    for level in LEVELS:
        for seed in range(5):
            env.reset(seed=seed, options={"difficulty": level})
            right = render(env._solution)
            for junk in (f"{right}, 1 + 1", f"{right} or {right} + 1", f"{right}\n1 + 1"):
                env.reset(seed=seed, options={"difficulty": level})
                assert step(env, junk)[0] <= 0.0, junk
