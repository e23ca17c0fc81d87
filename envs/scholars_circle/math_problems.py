"""ScholarsCircle's math problems are grounded: the answer is what a program computes, and unique.

A math proposal is a question and a program whose ``f()`` computes the exact answer in the
sandbox (exact arithmetic: ints, `fractions.Fraction`, an expression as text, under the run-time
subset). The explorer never states the answer. The validator then checks, on the host and with
the math verifier's safe parser only (`langgames.verifiers.math.parse_math`, never ``sympify``):

* *form*: the question says what form the answer takes ("as a reduced fraction", "as an
  integer", "in standard form", "exact value"...), and the answer has that form;
* *uniqueness*: a program that returns the *set* of answers must return exactly one; a question
  that asks to solve an equation (``solve``, ``roots``, ``solutions``...) must expose the
  equation with ``equation()`` returning it as written in the question, and the validator solves
  it (a polynomial of degree at most 4 with rational coefficients): exactly one real solution,
  equal to the program's answer, or the question is refused as ambiguous;
* *triviality*: the answer is not 0, 1, a number written in the question, or text copied from it.
"""

from __future__ import annotations

import re
from typing import Any

from langgames.envs.scholars_circle.core import MAX_MATH_ANSWER_CHARS, numbers_in, reject
from langgames.verifiers.verdict import Verdict

__all__ = ["check_math_question", "read_math_answer"]

_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("integer", re.compile(r"(?i)\b(as an? (whole number|integer)|integer answer)\b")),
    (
        "rational",
        re.compile(
            r"(?i)\b(as an? (reduced |simplified |irreducible |common |proper |improper )?"
            r"fraction|in lowest terms)\b"
        ),
    ),
    (
        "any",
        re.compile(
            r"(?i)\b(in (simplest|standard|expanded|factored|exact) form|as an? (expression|"
            r"polynomial|exact (number|value))|exact (value|answer)|simplif(y|ied))\b"
        ),
    ),
)
_SOLVE = re.compile(
    r"(?i)\b(solve|roots?|solutions?|zeros?|satisf(y|ies))\b"
    r"|\b(find|determine|what is|what are|which)\s+(all\s+)?(the\s+)?(values?\s+of\s+)?"
    r"(?!(?:a|an|i)\b)[a-z]\b(?!')"
)
_MAX_DEGREE = 4


def _form(question: str) -> str | None:
    for name, pattern in _FORMS:
        if pattern.search(question):
            return name
    return None


def check_math_question(question: str) -> Verdict | None:
    """Why the question is refused before its program runs, or None."""
    if len(question.split()) < 4:
        return reject(
            "incorrect",
            "shape",
            "the question is too short to be a question",
            "ask a complete question (at least four words) with one exact answer",
        )
    if _form(question) is None:
        return reject(
            "incorrect",
            "form",
            "the question does not say what form the answer takes",
            "say it in the question, e.g. 'Give the answer as an integer.', 'as a reduced "
            "fraction', 'in standard form' or 'as an exact value'",
        )
    return None


def _text(value: list[Any]) -> str | None:
    tag = value[0] if isinstance(value, list) and value else None
    if tag == "int" and len(value) == 2 and type(value[1]) is int:
        return str(value[1])
    if tag == "frac" and len(value) == 3 and type(value[1]) is int and type(value[2]) is int:
        return f"{value[1]}/{value[2]}"
    if tag == "expr" and len(value) == 2 and type(value[1]) is str:
        return value[1].strip()
    return None


def read_math_answer(question: str, value: Any) -> tuple[str, str] | Verdict:
    """The answer text and its canonical form from the program's output (``[answer,
    equation]``, as the harness returns it), or why the problem is refused."""
    from langgames.verifiers.math import parse_math, verify_math

    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], list)):
        return reject(
            "verifier_error",
            "sandbox",
            "the harness returned an unexpected value",
            "nothing to fix: send it again",
        )
    answer, equation = value
    bad = (
        "return the exact answer: an int, a fractions.Fraction, an expression as text "
        "(e.g. 'x^2 + 1', '2*sqrt(3)'), or the set of ALL answers (floats are not exact)"
    )
    if answer and answer[0] == "set":
        items, count = answer[1], answer[2]
        if count != 1:
            return reject(
                "incorrect",
                "uniqueness",
                f"the program returns {count} answers; a question asks for one value",
                "ask a question with exactly one answer (e.g. 'the largest solution'), and "
                "compute it",
                answers=count,
            )
        answer = items[0]
    if answer and answer[0] == "bad":
        return reject(
            "incorrect",
            "answer",
            f"the program returned a {str(answer[1])[:40]}, which is not an exact answer",
            bad,
        )
    text = _text(answer)
    if text is None or not text:
        return reject("incorrect", "answer", "the program returned no answer", bad)
    if len(text) > MAX_MATH_ANSWER_CHARS:
        return reject(
            "resource_limit",
            "answer",
            f"the answer is {len(text):,} characters; the limit is {MAX_MATH_ANSWER_CHARS}",
            "ask a question with a shorter answer",
        )
    try:
        gold = parse_math(text)
    except (ValueError, RecursionError) as exc:  # parse_math's errors are ValueErrors
        return reject(
            "unparseable",
            "answer",
            f"the program's answer {text[:60]!r} cannot be read as math: {exc}",
            "return the exact answer as a number, a Fraction or an expression such as 2*sqrt(3)",
        )
    form = _form(question)
    is_int = answer[0] == "int"
    if form == "integer" and not is_int:
        return reject(
            "incorrect",
            "form",
            f"the question asks for an integer and the answer is {text[:60]}",
            "make the question's stated form match the answer",
        )
    if form == "rational" and answer[0] not in ("int", "frac"):
        return reject(
            "incorrect",
            "form",
            f"the question asks for a fraction and the answer is {text[:60]}",
            "make the question's stated form match the answer",
        )
    verdict = _check_equation(question, equation, text, gold)
    if verdict is not None:
        return verdict
    for guess in ["0", "1", *numbers_in(question)[:20]]:
        if verify_math(text, guess, timeout=2.0).correct:
            return reject(
                "incorrect",
                "triviality",
                f"the answer equals {guess}, which a solver could guess without working "
                "(it is 0, 1 or a number written in the question)",
                "ask a question whose answer must be worked out",
            )
    squashed = "".join(text.split())
    if len(squashed) >= 2 and squashed in "".join(question.split()):
        return reject(
            "incorrect",
            "triviality",
            "the answer is written in the question",
            "do not put the answer in the question",
        )
    return text, str(gold)


def _check_equation(question: str, equation: Any, text: str, gold: Any) -> Verdict | None:
    from langgames.verifiers.math import parse_math, verify_math

    fix = (
        "define `def equation():` returning the equation exactly as the question writes it "
        "(e.g. '3x + 7 = 25'), a polynomial equation of degree 1 to 4 in one unknown with exactly "
        "one real solution"
    )
    if equation is None:
        if _SOLVE.search(question):
            return reject(
                "incorrect",
                "uniqueness",
                "the question asks to solve an equation and the program does not expose it, so "
                "the validator cannot check that the solution is unique",
                fix,
            )
        return None
    eq_text = str(equation)
    flat = "".join(eq_text.split()).lower()
    if not flat or flat not in "".join(question.split()).lower():
        return reject(
            "incorrect", "uniqueness", "equation() does not return an equation of the question", fix
        )
    import sympy

    try:
        parsed = parse_math(eq_text)
    except (ValueError, RecursionError) as exc:
        return reject("unparseable", "uniqueness", f"the equation cannot be read: {exc}", fix)
    if not isinstance(parsed, sympy.Equality) or len(parsed.free_symbols) != 1:
        return reject(
            "incorrect", "uniqueness", "the equation is not an equation in one unknown", fix
        )
    (symbol,) = parsed.free_symbols
    try:
        poly = sympy.Poly(parsed.lhs - parsed.rhs, symbol)
        if not 1 <= poly.degree() <= _MAX_DEGREE or poly.get_domain() not in (sympy.ZZ, sympy.QQ):
            raise sympy.PolynomialError("degree or domain")
        roots = {sympy.nsimplify(r) for r in poly.real_roots()}
    except (sympy.PolynomialError, ValueError, TypeError, NotImplementedError):
        return reject(
            "incorrect",
            "uniqueness",
            "the equation is not a polynomial equation of degree 1 to 4 with rational coefficients",
            fix,
        )
    if len(roots) != 1:
        return reject(
            "incorrect",
            "uniqueness",
            f"the equation {eq_text[:60]} has {len(roots)} real solutions; the question must have "
            "exactly one answer",
            "ask for one of them (e.g. the positive solution) with an equation that has only that "
            "solution, or ask a different question",
            answers=len(roots),
        )
    (root,) = roots
    if not verify_math(root, text, timeout=2.0).correct:
        return reject(
            "incorrect",
            "answer",
            f"the program's answer {text[:40]} does not solve the question's equation "
            f"(its solution is {root})",
            "compute the answer from the question's own numbers",
        )
    return None
