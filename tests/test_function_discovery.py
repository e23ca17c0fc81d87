"""FunctionDiscovery: conformance, query budget scoring, SymPy checks, difficulty, exploits."""

from __future__ import annotations

import math
import statistics
from fractions import Fraction

import pytest
import sympy

from langgames.envs.function_discovery import FunctionDiscovery, interpolate
from langgames.policies import reference
from langgames.testing import play_episode
from langgames.verifiers.math import parse_math

LEVELS = (1, 2, 3)


def test_the_reference_queries_the_minimum_and_interpolates_the_hidden_function():
    env = FunctionDiscovery()
    for level, budget in zip(LEVELS, (2, 4, 5), strict=True):
        for seed in range(12):
            episode = play_episode(env, reference, seed, difficulty=level)
            assert episode.returns["player"] == 1.0, episode.transcript
            queries = [s for s in episode.steps if s.action.startswith("query")]
            assert len(queries) == env.budget == budget
            answer = episode.steps[-1].action.removeprefix("answer: ")
            assert sympy.simplify(parse_math(answer) - parse_math(env.hidden.text)) == 0


def test_interpolation_is_exact():
    points = [(x, Fraction(x**3 - 2, x**2 + 1)) for x in (-2, -1, 0, 1, 2, 3)]
    formula = interpolate(points, rational=True)
    assert sympy.simplify(parse_math(formula) - parse_math("(x^3 - 2)/(x^2 + 1)")) == 0
    points = [(x, Fraction(3 * x**2 - 1, 2)) for x in (5, -7, 11)]
    assert interpolate(points, rational=False) == "(3/2)*x^2 - 1/2"


def game(seed: int = 0, level: int = 1) -> FunctionDiscovery:
    env = FunctionDiscovery(difficulty=level)
    env.reset(seed=seed)
    return env


def step(env: FunctionDiscovery, action: str):
    obs, reward, terminated, truncated, info = env.step(action)
    return obs, float(reward), terminated, info["verdict"]


def test_queries_are_answered_exactly_and_kept_in_the_observation():
    env = game(level=3)
    obs, reward, terminated, verdict = step(env, "let me ask\nquery: -3")
    value = env.hidden(-3)
    shown = str(value.numerator) if value.denominator == 1 else str(value)
    assert (reward, terminated, verdict["status"]) == (0.0, False, "accepted")
    assert obs.startswith(f"f(-3) = {shown}.") and f"f(-3) = {shown}" in obs.split("known")[-1]
    obs, *_ = step(env, "f( 4 )")
    assert "Queries used: 2 (budget 5)" in obs


@pytest.mark.parametrize(("extra", "expected"), [(0, 1.0), (1, 2 / 3), (2, 1 / 3), (3, 0.0)])
def test_the_reward_falls_linearly_past_the_budget(extra, expected):
    env = game(seed=4, level=1)
    for _ in range(env.budget + extra):
        step(env, "query: 0")  # repeats count too
    _, reward, terminated, verdict = step(env, f"answer: {env.hidden.text}")
    assert terminated and math.isclose(reward, expected)
    assert verdict["status"] == ("correct" if expected == 1.0 else "incorrect")


def test_a_formula_that_only_fits_the_queried_points_is_wrong_and_ends_the_game():
    env = game(seed=1, level=2)
    for x in (0, 1):
        step(env, f"query: {x}")
    points = [(x, env._known[x]) for x in env._order]
    fitted = interpolate(points, rational=False)  # degree 2 through 3 points of a quartic
    _, reward, terminated, verdict = step(env, f"answer: {fitted}")
    assert (reward, terminated, verdict["status"]) == (0.0, True, "incorrect")
    assert verdict["reason"].startswith("the formula is not f")


def test_submissions_are_read_in_several_spellings():
    for text in (
        "answer: {f}",
        "Answer: f(x) = {f}",
        "answer: \\boxed{{{f}}}",
        "So f is \\boxed{{{f}}}",
        "answer = `{f}`",
    ):
        env = game(seed=2)
        formula = env.hidden.text
        env._queries = 0
        _, reward, terminated, verdict = step(env, text.format(f=formula))
        assert (reward, verdict["status"]) == (1.0, "correct"), (text, verdict)


@pytest.mark.parametrize(
    ("move", "why"),
    [
        ("query: 21", "outside the query range"),
        ("query: -100", "outside the query range"),
        ("f(1.5)", "queries take one integer"),
        ("query: three", "queries take one integer"),
        ("f(x) = x^2", "expected `query: 3`"),
        ("what is f at 3?", "expected `query: 3`"),
        ("answer: y^2 + 1", "only the variable x"),
        ("answer: x, x^2", "expected one formula in x"),
        ("answer: x^2 = 4", "expected one formula in x"),
        ("answer:", "the answer is empty"),
        ("answer: 9^9^9^9", "refused"),
    ],
)
def test_unreadable_moves_cost_a_turn_but_no_query(move, why):
    env = game()
    obs, reward, terminated, verdict = step(env, move)
    assert (reward, terminated, verdict["status"]) == (-0.1, False, "unparseable")
    assert why in verdict["reason"], verdict["reason"]
    assert "Expected format: one move on the last line" in obs
    assert "Queries used: 0" in obs


def test_endless_queries_are_truncated_with_nothing_earned():
    env = FunctionDiscovery()
    episode = play_episode(env, lambda o, i, e: "query: 1", seed=0)
    assert episode.truncated and episode.returns["player"] == 0.0
    assert len(episode.steps) == env.max_turns


def _weak(observation, info, env) -> str:
    """A fixed weak policy: three values, then the quadratic through them."""
    if len(env._known) < 3:
        return f"query: {next(x for x in range(-20, 21) if x not in env._known)}"
    points = [(x, env._known[x]) for x in env._order[:3]]
    return f"answer: {interpolate(points, rational=False)}"


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_difficulty_really_grows_the_work():
    env = FunctionDiscovery()
    queries, weak = {}, {}
    for level in LEVELS:
        counts, wins = [], 0
        for seed in range(15):
            episode = play_episode(env, reference, seed, difficulty=level)
            counts.append(sum(s.action.startswith("query") for s in episode.steps))
            wins += play_episode(env, _weak, seed, difficulty=level).returns["player"] == 1.0
        queries[level], weak[level] = statistics.mean(counts), wins / 15
    assert queries[1] < queries[2] < queries[3], queries
    assert weak[1] > weak[2] >= weak[3], weak
    assert weak[1] == 1.0 and weak[3] == 0.0
