"""The SymPy math verifier: read an answer safely, decide whether it equals the gold, in time.

Three public functions (and one for calculus games):

- `parse_math` turns untrusted text into a SymPy object with a hand-written tokenizer and parser
  (never ``eval``, ``exec``, ``sympify`` or ``parse_expr``), under limits on length, nesting and the
  size of numbers. Its grammar is in ``langgames.verifiers._math_parse``.
- `extract_answer` finds the final answer in free-form model output (``\\boxed{}``, "final answer",
  "the answer is", ``$...$``), by a documented precedence.
- `verify_math` returns a `Verdict`: ``correct``, ``incorrect``, ``unparseable`` (the answer cannot
  be read), ``resource_limit`` (it exceeds a size limit, e.g. ``9**9**9**9``), ``timeout`` (checking
  it took longer than ``timeout``) or ``verifier_error`` (a worker process died: never the answer's
  fault, and never reported as ``incorrect``).
- `verify_antiderivative` checks an integral by differentiating the answer.

**Where the work runs.** Parsing and the cheap comparisons (structural equality, exact rational
arithmetic, expansion of polynomials whose expanded size is bounded beforehand, sets, tuples,
intervals, relations) run in the calling thread, guarded by size limits. Everything else (simplify,
numeric evaluation, roots of denominators, derivatives) runs in a pool of pre-started worker
processes that receive already-parsed SymPy objects and are killed and replaced at the deadline.
``timeout`` bounds that work (sub-second values are fine, from any thread); the wait for a busy or
starting worker is not counted.

**Equivalence rules** (what ``correct`` means):

- *Numbers are exact.* ``0.5 == 1/2``, ``1e-3 == 1/1000``, but ``0.333 != 1/3`` and
  ``1e-7 != 2e-7``. With ``rel_tol`` a number without symbols is correct when
  ``|answer - gold| <= rel_tol * |gold|`` (``<= rel_tol`` if the gold is 0).
- *Percent means hundredths.* ``12%`` is ``3/25``: it equals ``0.12`` and never ``12``. A game that
  wants a percentage writes the gold with ``%``.
- *Units and degree signs are dropped* (``5 cm`` reads as ``5``, ``30°`` as ``30``), but if both
  sides name units and they differ, the answer is incorrect.
- *Expressions* are correct when their difference is proved to be zero (expansion, cancellation,
  ``simplify``) and both are defined at the same points of the domain; when no proof is found, the
  *numeric rule* decides: the two agree at at least 12 of 16 seeded random points of the domain,
  to a precision far beyond the digits written in either (so a 30-digit decimal is never ``pi``),
  neither is undefined (or, in a real domain, non-real) where the other is defined, and neither
  contains a non-analytic function (``|x|``, floor, sign...). Otherwise the answer is incorrect
  (the checks were inconclusive), because a false positive is worse than a false negative.
- *Domains.* ``domain`` is ``"real"`` (default), ``"positive"``, ``"nonnegative"``, ``"complex"``
  or a SymPy ``Interval``: symbols are given those assumptions when simplifying and random points
  are drawn there. Every denominator *as written* counts: ``(x^2-1)/(x-1)`` is not ``x+1``
  (undefined at 1), and ``x^2/x`` is not ``x``; ``sqrt(x^2)`` is ``|x|``, equal to ``x`` only with
  ``domain="positive"``.
- *Equations* are equal when ``lhs - rhs`` of one is a non-zero constant multiple of the other's
  (``y = 2x+1`` equals ``2x - y + 1 = 0``; ``x^2 = 4`` does not equal ``x = 2``); inequalities
  when the multiple is positive and strictness matches.
- *Sets, tuples, intervals, matrices* compare as what they are: sets element by element in any
  order, tuples and matrices in order, intervals by bounds and openness. ``(1, 2)`` never equals
  ``{1, 2}``; a tuple ``(a, b)`` is read as an open interval only when the gold is an interval.
- *Relations as answers.* For an interval or set gold, a relation that isolates one variable is
  read as its solution set: ``x > 2`` equals ``(2, \\infty)``, ``x = 1 or x = 2`` equals ``{1, 2}``.
  For a value gold, ``x = 5`` is read as ``5`` **only** if the caller passes ``variable="x"``.
  Equations are never solved for the player: ``x^2 = 4`` is not an answer to "find x".

>>> verify_math("1/2", "0.5").status.value
'correct'
>>> verify_math("2x+3", "2x-3").status.value
'incorrect'
>>> verify_math("(1, 2)", "\\\\{1, 2\\\\}").reason
'expected a tuple, got a set'
>>> verify_math("3", "x = 3", variable="x").status.value
'correct'
>>> verify_math("3", "three").status.value
'unparseable'
"""

from __future__ import annotations

import fractions
import functools
import math
import re
from collections.abc import Mapping
from typing import Any

import sympy
from sympy import Basic, Symbol

from langgames.errors import InvalidArgument
from langgames.verifiers._math_compare import (
    DOMAINS,
    Comparer,
    NeedsWorker,
    Options,
    Outcome,
    show,
)
from langgames.verifiers._math_extract import extract_answer
from langgames.verifiers._math_parse import (
    MathParseError,
    MathSizeError,
    ParsedMath,
    parse,
    parse_math,
)
from langgames.verifiers._math_pool import get_pool
from langgames.verifiers._math_pool import shutdown as shutdown_workers
from langgames.verifiers.verdict import Verdict

__all__ = [
    "DEFAULT_TIMEOUT",
    "MathParseError",
    "MathSizeError",
    "ParsedMath",
    "extract_answer",
    "parse_answer",
    "parse_math",
    "shutdown_workers",
    "start_workers",
    "verify_antiderivative",
    "verify_math",
]

#: Seconds of worker time `verify_math` allows by default.
DEFAULT_TIMEOUT = 5.0
_MAX_TIMEOUT = 600.0
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def start_workers() -> None:
    """Start the worker processes now rather than at the first answer that needs them."""
    get_pool()


@functools.lru_cache(maxsize=4096)
def parse_answer(text: str) -> ParsedMath:
    """Parse ``text`` into a `ParsedMath` (the object plus how it was written: a fraction literal,
    a decimal, a percent, units, the denominators as written). Cached; raises `MathParseError`
    or its subclass `MathSizeError`.

    >>> parse_answer("-6/8").literal
    (-6, 8)
    """
    return parse(text)


def _check_options(
    timeout: float, rel_tol: float | None, domain: Any, variable: str | None
) -> Options:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise InvalidArgument(f"timeout must be a number of seconds (got {timeout!r})")
    if not 0 < timeout <= _MAX_TIMEOUT:
        raise InvalidArgument(
            f"timeout must be > 0 and <= {_MAX_TIMEOUT:g} seconds (got {timeout!r}); e.g. 2.0"
        )
    if rel_tol is not None and (
        isinstance(rel_tol, bool)
        or not isinstance(rel_tol, (int, float))
        or not 0 <= rel_tol < 1
        or math.isnan(rel_tol)
    ):
        raise InvalidArgument(
            f"rel_tol must be None (exact) or a number in [0, 1), e.g. 1e-6 (got {rel_tol!r})"
        )
    if variable is not None and not (isinstance(variable, str) and _NAME.fullmatch(variable)):
        raise InvalidArgument(f"variable must be a name such as 'x' or None (got {variable!r})")
    interval = None
    if domain is None:
        domain = "real"
    elif isinstance(domain, sympy.Interval):
        if not (domain.start.is_Rational and domain.end.is_Rational):
            raise InvalidArgument(
                f"an Interval domain needs rational bounds, e.g. Interval(0, 10) (got {domain})"
            )
        interval = (str(domain.start), str(domain.end))
        domain = "real"
    elif domain not in DOMAINS:
        raise InvalidArgument(
            f"domain must be one of {', '.join(map(repr, DOMAINS))}, a SymPy Interval with "
            f"rational bounds, or None (got {domain!r})"
        )
    return Options(
        rel_tol=None if rel_tol is None else float(rel_tol),
        domain=domain,
        interval=interval,
        variable=variable,
    )


def _as_sympy(value: Any) -> Basic:
    """A trusted gold object as SymPy, refusing floats (they are not exact)."""
    if isinstance(value, bool):
        raise InvalidArgument(f"the gold answer cannot be a bool (got {value!r})")
    if isinstance(value, int):
        return sympy.Integer(value)
    if isinstance(value, fractions.Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        raise InvalidArgument(
            f"the gold answer {value!r} is a float, which is not exact; pass a string such as "
            f"'{value!r}' (read exactly) or a SymPy Rational"
        )
    if isinstance(value, tuple):
        return sympy.Tuple(*map(_as_sympy, value))
    if isinstance(value, (set, frozenset)):
        return sympy.FiniteSet(*map(_as_sympy, value))
    if isinstance(value, sympy.MatrixBase):
        return sympy.ImmutableMatrix(value)
    if isinstance(value, Basic):
        if value.atoms(sympy.Float):
            raise InvalidArgument(
                f"the gold answer {show(value)} contains a Float, which is not exact; use "
                "sympy.Rational or pass the gold as a string"
            )
        return value
    raise InvalidArgument(
        "the gold answer must be a string or a SymPy object (or int, Fraction, tuple, set); got "
        f"{type(value).__name__}"
    )


@functools.lru_cache(maxsize=1024)
def _gold_from_text(text: str) -> ParsedMath:
    try:
        return parse(text)
    except MathParseError as err:
        raise InvalidArgument(
            f"the gold answer {text[:80]!r} could not be parsed: {err}. Gold answers are trusted "
            "input and must parse: fix the gold, or pass a SymPy object"
        ) from None


def _gold(gold: Any) -> ParsedMath:
    if isinstance(gold, str):
        return _gold_from_text(gold)
    expr = _as_sympy(gold)
    plain = expr.xreplace({s: Symbol(s.name) for s in expr.free_symbols if isinstance(s, Symbol)})
    return ParsedMath(expr=plain, text=show(plain))


def _read_answer(answer: Any, what: str = "answer") -> ParsedMath | Verdict:
    if not isinstance(answer, str):
        raise InvalidArgument(
            f"the {what} must be the model's text (a str); got {type(answer).__name__}. "
            "Decode bytes first, e.g. answer.decode('utf-8', 'replace')"
        )
    candidate = extract_answer(answer)
    text = answer.strip() if candidate is None else candidate
    try:
        return parse_answer(text)
    except MathSizeError as err:
        return Verdict.make_resource_limit(str(err), length=len(text))
    except MathParseError as err:
        return Verdict.make_unparseable(str(err), answer=text[:200])


def _verdict(outcome: Outcome, gold: ParsedMath, answer: ParsedMath, where: str) -> Verdict:
    details: dict[str, Any] = {
        "method": outcome.method,
        "expected": show(gold.expr),
        "received": show(answer.expr),
        "checked_in": where,
    }
    if outcome.status == "equal":
        return Verdict.make_correct(outcome.reason, **details)
    if outcome.status == "different":
        return Verdict.make_incorrect(outcome.reason, **details)
    return Verdict.make_incorrect(
        f"{outcome.reason}; the verifier accepts only what it can prove or confirm numerically",
        **details,
    )


def _judge(job: Mapping[str, Any], gold: ParsedMath, answer: ParsedMath, timeout: float) -> Verdict:
    """Decide in this process if that is cheap, else in a worker under the deadline."""
    options: Options = job["options"]
    if job["op"] == "compare":
        try:
            outcome = Comparer(options, full=False).compare_parsed(gold, answer)
            return _verdict(outcome, gold, answer, "host")
        except NeedsWorker:
            pass
    reply = get_pool().run(dict(job), timeout)
    if reply.kind == "timeout":
        partial = reply.partial
        if partial is not None and partial.get("status") == "equal":
            outcome = Outcome("equal", "numeric", f"{partial['reason']} (simplify ran out of time)")
            return _verdict(outcome, gold, answer, "worker")
        return Verdict.make_timeout(
            f"checking the answer took longer than the {timeout:g} s limit",
            limit_seconds=timeout,
            received=show(answer.expr),
        )
    if reply.kind == "crashed":
        return Verdict.make_verifier_error(
            f"the math worker process died while checking this answer ({reply.message})"
        )
    result = reply.result
    if "error" in result:
        if result["error"] == "resource_limit":
            return Verdict.make_resource_limit(
                f"checking the answer exceeded a resource limit: {result['message']}"
            )
        return Verdict.make_verifier_error(
            f"the math verifier failed: {result['message']}",
            traceback=str(result.get("traceback", "")),
        )
    outcome = Outcome(str(result["status"]), str(result["method"]), str(result["reason"]))
    return _verdict(outcome, gold, answer, "worker")


def verify_math(
    gold: Any,
    answer: str,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    rel_tol: float | None = None,
    domain: str | sympy.Interval | None = None,
    variable: str | None = None,
) -> Verdict:
    """Judge ``answer`` (untrusted model text) against ``gold``; see the module docstring.

    Args:
        gold: the expected answer: a string (trusted, read by the same parser) or a SymPy object
            (also int, `fractions.Fraction`, tuple, set). Floats are refused: they are not exact.
        answer: the model's text. `extract_answer` picks the final answer out of it (the last
            ``\\boxed{}``, a "final answer" statement, the last ``$...$``...); with none of those,
            the whole text is read.
        timeout: seconds of worker time for the expensive steps.
        rel_tol: ``None`` for exact numbers, or a relative tolerance for numbers without symbols.
        domain: where variables live: ``"real"`` (default), ``"positive"``, ``"nonnegative"``,
            ``"complex"``, or a SymPy ``Interval`` with rational bounds.
        variable: the unknown's name; only then is ``x = 5`` read as ``5`` for a value gold.

    Returns:
        A `Verdict`; ``details`` has ``method`` (the rule that decided), ``expected`` and
        ``received`` (string forms) and ``checked_in`` (``"host"`` or ``"worker"``).

    Raises:
        InvalidArgument: for a gold that does not parse or an invalid option (never for an
            answer: a bad answer is a verdict).

    >>> verify_math("\\\\frac{\\\\sqrt{2}}{2}", "1/sqrt(2)").correct
    True
    >>> verify_math("[2, \\\\infty)", "x \\\\ge 2").correct
    True
    """
    options = _check_options(timeout, rel_tol, domain, variable)
    parsed_gold = _gold(gold)
    parsed = _read_answer(answer)
    if isinstance(parsed, Verdict):
        return parsed
    job = {"op": "compare", "gold": parsed_gold, "answer": parsed, "options": options}
    return _judge(job, parsed_gold, parsed, float(timeout))


def verify_antiderivative(
    integrand: Any,
    answer: str,
    *,
    variable: str = "x",
    timeout: float = DEFAULT_TIMEOUT,
    domain: str | sympy.Interval | None = None,
) -> Verdict:
    """Judge an antiderivative: correct when the derivative of ``answer`` in ``variable`` equals
    ``integrand`` under the rules of `verify_math` (so ``+ C`` is welcome and any antiderivative
    counts). The derivative is taken in a worker, under ``timeout``.

    Args:
        integrand: the function that was integrated (string or SymPy object, trusted).
        answer: the model's text (extracted as in `verify_math`).
        variable: the variable of integration.
        timeout: seconds of worker time.
        domain: as in `verify_math`.
    """
    options = _check_options(timeout, None, domain, variable)
    parsed_gold = _gold(integrand)
    parsed = _read_answer(answer)
    if isinstance(parsed, Verdict):
        return parsed
    job = {
        "op": "antiderivative",
        "gold": parsed_gold,
        "answer": parsed,
        "variable": variable,
        "options": options,
    }
    return _judge(job, parsed_gold, parsed, float(timeout))
