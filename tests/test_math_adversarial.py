"""Attacks on the math checker found by a red team (issue 13, section 2), one class per test.

- periodic terms that vanish on every sample point (``sin(k*pi*x)`` with ``k`` a multiple of
  every denominator the points might have, or ``k = 1`` against integer points);
- finite-difference stencils with a tiny step instead of a derivative;
- checks that ignore their deadline (host-side work on huge coefficients, form checks);
- form checks that crash on a wrong-form answer instead of saying why it is wrong.
"""

from __future__ import annotations

import math
import time

import gymnasium as gym
import pytest
import sympy

import langgames  # noqa: F401 - registers the games
from langgames.verifiers import exact
from langgames.verifiers._math_form import FORMS, form_problem
from langgames.verifiers.math import (
    start_workers,
    verify_antiderivative,
    verify_math,
)
from langgames.verifiers.verdict import Status

# a multiple of every denominator a rational sample point is likely to have
LCM = math.lcm(*range(1, 30))
NOT_JUDGED = {Status.VERIFIER_ERROR}


@pytest.fixture(scope="module", autouse=True)
def warm_workers():
    start_workers(wait=True)


# ---------------------------------------------------------------------------------------------
# 1. periodic terms


PERIODIC = [
    f"sin({LCM}*pi*x)",  # zero at every rational with a denominator dividing LCM
    "sin(pi*x)",  # zero at every integer
    f"cos(2*pi*{LCM}*x) - 1",
    "cos(2*pi*x) - 1",
    f"sin({LCM}*pi*x)*exp(x)",
    f"sin({LCM}*pi*x)*sin(pi*x)",
    f"tan({LCM}*pi*x)",
    f"sin(sin({LCM}*pi*x))",
    f"sin({LCM}*pi*x)^2/1000",
    f"sin({LCM}*{LCM}*pi*x)",
    "sin(2^200*pi*x)",
    f"exp(2*pi*i*{LCM}*x) - 1",
]


@pytest.mark.parametrize("term", PERIODIC)
@pytest.mark.parametrize(
    ("gold", "domain"),
    [
        ("2*x + 1", "real"),
        ("3*x^2*exp(x) + cos(x)", "real"),
        ("log(x) + 1/x", "positive"),
        ("x^3 - 2", sympy.Interval(0, 10)),
    ],
)
def test_a_periodic_term_that_vanishes_on_lattices_is_never_accepted(term, gold, domain):
    verdict = verify_math(gold, f"{gold} + {term}", domain=domain, timeout=10)
    assert verdict.status is not Status.CORRECT, (term, verdict)
    assert verdict.status not in NOT_JUDGED, verdict


def test_periodic_terms_in_two_variables_are_caught_too():
    verdict = verify_math("x*y", f"x*y + sin({LCM}*pi*x)*cos({LCM}*pi*y)", timeout=10)
    assert verdict.status is Status.INCORRECT, verdict


def test_true_trigonometric_identities_are_still_accepted():
    for gold, answer in [
        ("2*sin(x)*cos(x)", "sin(2*x)"),
        ("sin(x)^2", "1 - cos(x)^2"),
        ("exp(2*x)*cos(3*x)", "(exp((2+3*i)*x) + exp((2-3*i)*x))/2"),
        ("sin(x)^60", r"(\frac{e^{ix}-e^{-ix}}{2i})^{60}"),
        ("cos(x)*exp(x) - sin(x)*exp(x)", "exp(x)*(cos(x) - sin(x))"),
    ]:
        verdict = verify_math(gold, answer, timeout=10)
        assert verdict.correct, (gold, answer, verdict)


@pytest.mark.parametrize("task", ["derivative", "integral"])
@pytest.mark.parametrize("level", [1, 2, 3])
def test_calculus_refuses_the_reference_plus_a_periodic_term(task, level):
    env = gym.make("langgames/Calculus-v0", task=task)
    for seed in range(4):
        env.reset(seed=seed, options={"difficulty": level})
        reference = env.unwrapped._reference("player")
        # for integrals the term's derivative, 2*pi*k*cos(...)/(2*pi*k) - ..., vanishes on lattices
        term = f"sin({LCM}*pi*x)" if task == "derivative" else f"cos(2*pi*{LCM}*x)/{LCM}"
        _, reward, *_, info = env.step(f"\\boxed{{{reference} + {term}}}")
        assert reward <= 0, (seed, info["verdict"])
        assert info["verdict"]["status"] != "verifier_error"


# ---------------------------------------------------------------------------------------------
# 2. finite differences


def _stencil(function: sympy.Expr, x: sympy.Symbol, h: sympy.Expr, order: int = 4) -> str:
    """A central-difference formula of ``order`` for f'(x): no differentiation at all."""
    weights = {
        2: {1: sympy.Rational(1, 2)},
        4: {1: sympy.Rational(2, 3), 2: sympy.Rational(-1, 12)},
        8: {
            1: sympy.Rational(4, 5),
            2: sympy.Rational(-1, 5),
            3: sympy.Rational(4, 105),
            4: sympy.Rational(-1, 280),
        },
    }[order]
    terms = [
        w * (function.subs(x, x + k * h) - function.subs(x, x - k * h)) / h
        for k, w in weights.items()
    ]
    return sympy.sstr(sympy.Add(*terms, evaluate=False)).replace("**", "^")


@pytest.mark.parametrize("order", [2, 4, 8])
@pytest.mark.parametrize("step", ["10^(-20)", "10^(-60)", "exp(-50)"])
def test_a_stencil_is_not_the_derivative(order, step):
    x = sympy.Symbol("x")
    h = exact.parse_math(step)
    for function in [sympy.sin(x) * sympy.exp(x), sympy.exp(3 * x), sympy.log(x**2 + 2)]:
        gold = sympy.diff(function, x)
        answer = _stencil(function, x, h, order)
        verdict = verify_math(gold, answer, timeout=10)
        assert verdict.status is not Status.CORRECT, (function, order, step, verdict)
        assert verdict.status not in NOT_JUDGED, verdict


@pytest.mark.parametrize("level", [1, 2, 3])
def test_calculus_refuses_a_stencil_at_every_level_with_a_reason(level):
    x = sympy.Symbol("x")
    env = gym.make("langgames/Calculus-v0", task="derivative")
    for seed in range(4):
        env.reset(seed=seed, options={"difficulty": level})
        shown = env.unwrapped._shown
        for order in (4, 8):
            answer = _stencil(shown, x, sympy.Rational(1, 10**20), order)
            _, reward, *_, info = env.step(f"\\boxed{{{answer}}}")
            verdict = info["verdict"]
            assert reward <= 0, (seed, order, verdict)
            assert verdict["status"] in ("incorrect", "unparseable", "resource_limit"), verdict
            if verdict["status"] == "incorrect" and "closed form" in verdict["reason"]:
                assert "finite-difference" in verdict["reason"] or "larger" in verdict["reason"], (
                    verdict
                )
            env.reset(seed=seed, options={"difficulty": level})


def test_a_polynomial_stencil_is_exact_yet_refused_as_not_a_closed_form():
    # for a polynomial a high-order stencil *is* the derivative: only the form check refuses it
    x = sympy.Symbol("x")
    function = 3 * x**4 - 2 * x**3 + x
    answer = _stencil(function, x, sympy.Rational(1, 10**20), 8)
    gold = sympy.diff(function, x)
    assert verify_math(gold, answer, timeout=10).correct
    verdict = verify_math(gold, answer, timeout=10, form="closed")
    assert verdict.status is Status.INCORRECT
    assert verdict.reason.startswith("the answer is not a closed form")


def test_a_stencil_with_a_step_written_without_tiny_numbers_is_never_accepted():
    # h = exp(-1000*(x^2+2x+2)/((x+1)^2+1)) is e^-1000 everywhere, yet holds no tiny number
    x = sympy.Symbol("x")
    h = sympy.exp(-1000 * (x**2 + 2 * x + 2) / ((x + 1) ** 2 + 1))
    function = sympy.exp(3 * x)
    answer = _stencil(function, x, h, 2)
    verdict = verify_math(sympy.diff(function, x), answer, timeout=2.0)
    assert verdict.status is not Status.CORRECT, verdict
    assert verdict.status not in NOT_JUDGED, verdict
    verdict = verify_math(sympy.diff(function, x), answer, timeout=2.0, form="closed")
    assert verdict.status is Status.INCORRECT, verdict
    assert "not a closed form" in verdict.reason


def test_closed_form_accepts_ordinary_rewritings():
    for gold, answer in [
        ("2*x*exp(x^2)", "2x e^{x^2}"),
        ("exp(x)*(sin(x) + cos(x))", "e^x sin(x) + e^x cos(x)"),
        ("6*(2*x + 1)^2", "24x^2 + 24x + 6"),
        ("(x+1)^2 + (x-1)^2", "2x^2 + 2"),  # shifts already in the reference are fine
    ]:
        assert verify_math(gold, answer, timeout=10, form="closed").correct, (gold, answer)


# ---------------------------------------------------------------------------------------------
# 3. deadlines

BIG = ["1" * 300, "2" * 300, "3" * 300]


@pytest.mark.parametrize(
    ("gold", "answer"),
    [
        (
            f"({BIG[0]}*x + {BIG[1]}*y)^100 = 1",
            f"({BIG[1]}*x + {BIG[0]}*y)^100 = 1",
        ),
        (
            f"({BIG[0]}*x + {BIG[1]}*y + {BIG[2]}*z)^30 = "
            f"({BIG[1]}*x + {BIG[0]}*y + {BIG[2]}*w)^30",
            f"({BIG[1]}*x + {BIG[2]}*y + {BIG[0]}*z)^30 = "
            f"({BIG[2]}*x + {BIG[0]}*y + {BIG[1]}*w)^30",
        ),
        (f"({BIG[0]}*x + {BIG[1]}*y)^400", f"({BIG[1]}*x + {BIG[0]}*y)^400"),
        ("x", "(x+1)^(10^6) - (x+1)^(10^6) + x"),
        ("sin(x)^60", r"(\frac{e^{ix}-e^{-ix}}{2i})^{61} \cdot \sin(x)^{-1}"),
    ],
)
def test_every_check_returns_within_its_deadline(gold, answer):
    begin = time.monotonic()
    verdict = verify_math(gold, answer, timeout=1.0)
    elapsed = time.monotonic() - begin
    assert elapsed < 3.0, (elapsed, verdict)
    assert verdict.status not in NOT_JUDGED, verdict


@pytest.mark.parametrize("form", FORMS)
def test_form_checks_keep_the_deadline(form):
    for gold, answer in [
        ("(x+1)^3000", "(x+1)^3000"),
        (f"({BIG[0]}*x + {BIG[1]})^400", f"({BIG[0]}*x + {BIG[1]})^400"),
        ("x^2400 - 1", "x^2400 - 1"),
    ]:
        begin = time.monotonic()
        verdict = verify_math(gold, answer, timeout=1.0, form=form)
        assert time.monotonic() - begin < 3.0, (form, answer, verdict)
        assert verdict.status not in NOT_JUDGED, verdict


def test_antiderivative_checks_keep_the_deadline():
    begin = time.monotonic()
    verdict = verify_antiderivative(
        "x", f"({BIG[0]}*x + {BIG[1]}*sin(x))^300 + exp(exp(exp(x)))^50", timeout=1.0
    )
    assert time.monotonic() - begin < 3.0, verdict
    assert verdict.status is not Status.CORRECT


@pytest.mark.slow  # each answer runs into the games' 5 s deadline on purpose
@pytest.mark.parametrize(
    ("game", "task"),
    [
        ("Algebra", "expand"),
        ("Algebra", "factor"),
        ("Algebra", "solve"),
        ("Algebra", "simplify"),
        ("Calculus", "derivative"),
        ("Calculus", "integral"),
    ],
)
def test_math_game_steps_keep_the_deadline(game, task):
    from langgames.envs._math_game import CHECK_TIMEOUT

    env = gym.make(f"langgames/{game}-v0", task=task)
    for answer in [
        f"({BIG[0]}*x + {BIG[1]})^400",
        f"({BIG[0]}*x + {BIG[1]}*y)^100",
        "(x+1)^(10^6)",
        "x = " + f"({BIG[0]}*x + {BIG[1]})^50",
        "e^{e^{e^{e^{e^{e^{x}}}}}} + " + f"({BIG[0]}*x + {BIG[1]}*sin(x))^300",
    ]:
        env.reset(seed=0)
        begin = time.monotonic()
        _, reward, *_ = env.step(f"\\boxed{{{answer}}}")
        assert time.monotonic() - begin < CHECK_TIMEOUT + 2.0, (task, answer)
        assert reward <= 0


# ---------------------------------------------------------------------------------------------
# 4. form checks never crash

HOSTILE = [
    "(x + 1)*(sin(x)^2 + cos(x)^2)",
    "(x + 1)*(x - 1)*(sin(x)^2 + cos(x)^2)",
    "(x+1)^(1/2)*(x-1)^(1/2)",
    "(x+1)^(-1)",
    "(x+1)^x",
    "x^x",
    "sqrt(2)*(x+1)",
    "pi*(x - 1)",
    "i*(x - 1)",
    "(x - i)*(x + i)",
    "(x - sqrt(2))*(x + sqrt(2))",
    "2*3*(x+1)",
    "0",
    "1",
    "oo",
    "x/0",
    "|x|*(x+1)",
    "floor(x)*(x+1)",
    "exp(x)*(x+1)",
    "log(x)*(x - 1)",
    "(x+y)*(x-y)",
    "(x + 1)^1000",
    "x^2 = 1",
    "x > 1",
    "\\{1, 2\\}",
    "(1, 2)",
    "[1, 2]",
    "\\begin{pmatrix}1 & x\\\\ 0 & 1\\end{pmatrix}",
    "sin(x + 1/10^20) - sin(x)",
    "x*(x+1)^2",
    "(2x + 2)*(x - 1)",
    "((x+1)*(x-1))^2",
    "(x^2+1)*(x+1)",
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("text", HOSTILE)
def test_form_checks_give_a_reason_or_none_never_an_exception(form, text):
    try:
        parsed = exact.parse_answer(text)
    except exact.MathParseError:
        return
    problem = form_problem(parsed.expr, form, reference=sympy.Symbol("x") + 1)
    assert problem is None or (isinstance(problem, str) and problem)


@pytest.mark.parametrize("form", FORMS)
def test_verify_math_with_a_form_never_reports_a_verifier_error(form):
    for text in HOSTILE:
        verdict = verify_math("x^2 - 1", text, timeout=5, form=form)
        assert verdict.status not in NOT_JUDGED, (form, text, verdict)


@pytest.mark.parametrize("task", ["expand", "factor"])
def test_algebra_form_tasks_judge_hostile_answers_without_errors(task):
    env = gym.make("langgames/Algebra-v0", task=task)
    for seed in range(3):
        env.reset(seed=seed)
        reference = env.unwrapped._reference("player")
        wrong = [f"({reference})*(sin(x)^2 + cos(x)^2)", f"({reference})*(1 + tan(x)^2)*cos(x)^2"]
        # SymPy cancels these while parsing, leaving the reference: any verdict but an error
        padded = [f"({reference})*(x^2+1)/(x^2+1)", f"({reference}) + sin(pi*x)*0"]
        for answer in [*wrong, *padded, *HOSTILE]:
            env.reset(seed=seed)
            _, reward, *_, info = env.step(f"\\boxed{{{answer}}}")
            assert info["verdict"]["status"] != "verifier_error", (answer, info["verdict"])
            if answer not in padded:
                assert reward <= 0, (task, answer, info["verdict"])


def test_the_factor_crash_is_now_a_clear_incorrect():
    env = gym.make("langgames/Algebra-v0", task="factor")
    env.reset(seed=0)
    reference = env.unwrapped._reference("player")
    _, reward, *_, info = env.step(f"\\boxed{{({reference})*(sin(x)^2 + cos(x)^2)}}")
    assert reward == 0.0
    assert info["verdict"]["status"] == "incorrect"
    assert "not a polynomial" in info["verdict"]["reason"]


def test_the_trl_reward_of_the_factor_attack_is_a_number():
    from langgames.verifiers.verdict import Verdict

    verdict = verify_math(
        "(x - 1)*(x + 2)", "(x - 1)*(x + 2)*(sin(x)^2 + cos(x)^2)", form="factored"
    )
    assert isinstance(verdict, Verdict) and verdict.status is Status.INCORRECT
    assert verdict.reward == 0.0


# ---------------------------------------------------------------------------------------------
# issue 14: the public, light module for games


def test_the_exact_module_is_light_and_shares_the_parsers_size_limit(run_python):
    proc = run_python(
        "import sys\n"
        "import langgames.verifiers.exact as e\n"
        "print('sympy' in sys.modules, 'gymnasium' in sys.modules)\n"
        "print(e.extract_answer('so \\\\boxed{7/3}'))\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "False", "7/3"]
    from langgames.envs import _exact_eval
    from langgames.verifiers import _math_parse

    assert _math_parse.MAX_BITS == exact.MAX_BITS == _exact_eval.MAX_BITS
    assert _math_parse.MathParseError is exact.MathParseError
    assert _exact_eval.evaluate_at is exact.evaluate_at


def test_the_shared_limit_holds_in_both_directions():
    from fractions import Fraction

    # a number the parser builds is never refused by the evaluator for its size
    big = exact.parse_math("2^6000")
    assert exact.evaluate_at(big, {}) == Fraction(2**6000)
    with pytest.raises(exact.MathSizeError):
        exact.parse_math("2^14000")
    with pytest.raises(exact.TooLarge):
        exact.evaluate_at(exact.parse_math("n^n"), {"n": Fraction(2000)})


def test_fresh_sample_points_never_change_a_verdict_or_its_reason():
    # the points are drawn afresh for every check; what the player is told must not depend on
    # them (seeded determinism of every game that uses the checker)
    for gold, answer in [
        ("2*x + 1", "2*x + 1 + sin(pi*x)"),
        ("2*x + 1", f"2*x + 1 + sin({LCM}*pi*x)"),
        ("x*y + 1", "x*y + 2"),
        ("log(x)", "log(x) + exp(-x)"),
        ("x + 1", r"\frac{x^2-1}{x-1}"),
        ("sqrt(x^2)", "x"),
        ("arctan(x) + arctan(1/x)", "pi/2"),
    ]:
        verdicts = {
            (v.status, v.reason, v.details.get("method"))
            for v in (verify_math(gold, answer, timeout=10) for _ in range(4))
        }
        assert len(verdicts) == 1, (gold, answer, verdicts)
