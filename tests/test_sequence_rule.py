"""SequenceRule: conformance, the hidden-terms rule, the exact evaluator, difficulty, exploits."""

from __future__ import annotations

import statistics
from fractions import Fraction

import pytest
import sympy

from langgames.envs.sequence_rule import FAMILIES, HIDDEN_TERMS, SequenceRule
from langgames.policies import RandomText
from langgames.testing import play_episode
from langgames.verifiers.exact import TooLarge, evaluate_at
from langgames.verifiers.math import parse_math

LEVELS = (1, 2, 3)


def test_the_reference_is_right_for_every_family():
    env = SequenceRule()
    seen = {level: set() for level in LEVELS}
    for level in LEVELS:
        for seed in range(40):
            episode = play_episode(
                env, lambda o, i, e: e.reference_action(), seed, difficulty=level
            )
            assert episode.returns["player"] == 1.0, episode.transcript
            seen[level].add(env.family)
    assert all(seen[level] == set(FAMILIES[level]) for level in LEVELS), seen


def game(seed: int = 0, level: int = 3) -> SequenceRule:
    env = SequenceRule(difficulty=level)
    env.reset(seed=seed)
    return env


def answer(env: SequenceRule, text: str) -> tuple[float, str, str]:
    _, reward, _, _, info = env.step(text)
    return float(reward), info["verdict"]["status"], info["verdict"]["reason"]


def _interpolating_polynomial(terms: list[int]) -> str:
    n = sympy.Symbol("n")
    poly = sympy.expand(sympy.interpolate(list(enumerate(terms, start=1)), n))
    return sympy.sstr(poly).replace("**", "^")


def test_a_table_of_the_shown_terms_fails_on_the_hidden_ones():
    """The interpolating polynomial of degree K - 1 reproduces every shown term but not the
    sequence (unless the sequence is a polynomial of degree < K, then it *is* the rule)."""
    env = SequenceRule(difficulty=3)
    failures = 0
    for seed in range(30):
        env.reset(seed=seed)
        if env.family == "quartic":
            continue
        reward, status, reason = answer(env, _interpolating_polynomial(env.shown_terms))
        assert (reward, status) == (0.0, "incorrect") and "(not shown)" in reason
        failures += 1
    assert failures >= 20


def test_any_formula_that_agrees_on_the_checked_range_is_accepted():
    env = game(seed=2)
    formula = env._formula
    checked = len(env._terms)
    n = sympy.Symbol("n")
    # a term that vanishes at n = 1..K+10 but not beyond: still accepted (the documented rule)
    vanishing = sympy.Mul(*[(n - k) for k in range(1, checked + 1)])
    text = f"{formula} + {sympy.sstr(vanishing).replace('**', '^')}"
    assert answer(env, text)[:2] == (1.0, "correct")
    env.reset(seed=2)
    shifted = sympy.Mul(*[(n - k) for k in range(1, checked)])  # vanishes up to K+9 only
    reward, status, reason = answer(env, f"{formula} + {sympy.sstr(shifted).replace('**', '^')}")
    assert (reward, status) == (0.0, "incorrect") and f"at n = {checked} (not shown)" in reason


def test_accepted_spellings():
    env = game(seed=5, level=2)
    formula = env._formula
    for text in (
        f"\\boxed{{{formula}}}",
        f"a(n) = {formula}",
        f"So the rule is\n\\boxed{{a_n = {formula}}}",
        f"$${formula}$$",
    ):
        env.reset(seed=5)
        assert answer(env, text)[:2] == (1.0, "correct"), text


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("x^2 + 1", "only the variable n"),
        ("sin(n)", "sin is not allowed"),
        ("pi*n", "pi is not allowed"),
        ("n = 3", "expected one formula"),
        ("1, 2, 3", "expected one formula"),
        ("the answer is obvious", "unknown word"),
        ("2n+", "expected"),
        ("9^9^9^9", "refused"),
    ],
)
def test_unreadable_formulas_cost_a_turn_and_say_why(text, why):
    env = game()
    obs, reward, terminated, _, info = env.step(f"\\boxed{{{text}}}")
    assert reward == -0.1 and not terminated and info["verdict"]["status"] == "unparseable"
    assert why in info["verdict"]["reason"], info["verdict"]["reason"]
    assert "Expected format: a closed form for a(n)" in obs


@pytest.mark.parametrize(
    ("extra", "why"),
    [
        ("(n-3)/(n-3) - 1", "at n = 3 (shown) the formula has no exact value: it divides by zero"),
        ("floor(sqrt(n)) - 1", "at n = 2 (shown) the formula has no exact value: the root of 2"),
        ("floor(1/(n+1)^(n^n))", "at n = 6 (shown) the formula has no exact value: a power"),
    ],
)
def test_formulas_without_a_value_somewhere_are_wrong(extra, why):
    """The rule plus a term that is 0 where it is defined: wrong where it is not (denominators
    count as written, as in the math verifier)."""
    env = game()
    reward, status, reason = answer(env, f"\\boxed{{{env._formula} + {extra}}}")
    assert (reward, status) == (0.0, "incorrect") and why in reason, reason
    env.reset(seed=0)
    reward, status, reason = answer(env, "\\boxed{(-n)!}")
    assert (reward, status, reason) == (
        0.0,
        "incorrect",
        "at n = 1 (shown) the formula has no exact value: -1! is undefined",
    )


def test_the_evaluator_is_exact_and_bounded():
    def at(text, n):
        return evaluate_at(parse_math(text), {"n": Fraction(n)})

    assert at("n(n+1)/2", 17) == 153
    assert at("\\binom{n}{2} + floor(n/3) + |4 - n|", 7) == 21 + 2 + 3
    assert at("(-1)^(n^40)", 3) == -1  # parity, without computing 3^40 bits
    assert at("sqrt(4n^2)", 9) == 18
    assert at("2^(-n)", 3) == Fraction(1, 8)
    with pytest.raises(TooLarge):
        at("n^(n^n)", 7)
    with pytest.raises(TooLarge):
        at("(n!)!", 9)


def _weak_policy(terms: list[int]) -> str:
    """A fixed weak solver: the lowest-degree polynomial through the shown terms that predicts
    at least one of them (degree <= K - 2), else the full interpolation table."""
    n = sympy.Symbol("n")
    for degree in range(len(terms) - 1):
        poly = sympy.interpolate(list(enumerate(terms[: degree + 1], start=1)), n)
        if all(poly.subs(n, i) == t for i, t in enumerate(terms, start=1)):
            return sympy.sstr(sympy.expand(poly)).replace("**", "^")
    return _interpolating_polynomial(terms)


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_difficulty_really_grows_the_work():
    env = SequenceRule()
    success, params = {}, {}
    for level in LEVELS:
        wins, sizes = 0, []
        for seed in range(60):
            env.reset(seed=seed, options={"difficulty": level})
            sizes.append(sympy.count_ops(parse_math(env._formula)))
            wins += answer(env, _weak_policy(env.shown_terms))[0] == 1.0
        success[level], params[level] = wins / 60, statistics.mean(sizes)
    assert success[1] > success[2] > success[3], success
    assert params[1] < params[2] < params[3], params


def test_hidden_terms_never_appear_in_the_prompt():
    env = SequenceRule(difficulty=3)
    for seed in range(10):
        obs, _ = env.reset(seed=seed)
        shown = obs.splitlines()[1]
        assert shown == ", ".join(map(str, env.shown_terms))
        assert len(env._terms) == len(env.shown_terms) + HIDDEN_TERMS


def _mean_reward(env: SequenceRule, policy, seeds=range(12)) -> tuple[float, float]:
    rewards, correct = [], 0
    for level in LEVELS:
        for seed in seeds:
            episode = play_episode(env, policy, seed, difficulty=level)
            rewards.append(episode.returns["player"])
            correct += any(s.info["verdict"]["status"] == "correct" for s in episode.steps)
    return statistics.mean(rewards), correct / len(rewards)


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_a_lookup_table_is_right_only_for_polynomial_rules():
    """The interpolating polynomial of the shown terms is a real answer when the rule is a
    polynomial, and nothing else: it may beat random text, but by no more than their share.
    (The game's other probes are played by the registry-wide exploit test.)"""
    env = SequenceRule()
    random_mean, _ = _mean_reward(env, RandomText(0))
    mean, correct_rate = _mean_reward(
        env, lambda o, i, e: _interpolating_polynomial(e.unwrapped.shown_terms)
    )
    assert mean <= max(random_mean, 0.0) + 0.34, (mean, random_mean)
    assert correct_rate <= 0.34, correct_rate
