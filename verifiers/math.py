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
arithmetic, expansion of polynomials whose expanded terms *and* coefficient sizes are bounded
beforehand, sets, tuples, intervals, relations) run in the calling thread, guarded by size limits.
Everything else (simplify, numeric evaluation, roots of denominators, derivatives, form checks
that need expansion or factoring, golds to evaluate) runs in a pool of pre-started worker
processes that receive already-parsed SymPy objects and are killed and replaced at the deadline.
``timeout`` bounds the whole call: the time spent in this process, the wait for a free worker and
the worker's work (sub-second values are fine, from any thread). Call ``start_workers(wait=True)``
once to keep the workers' first start (importing SymPy) out of the first check's time.

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
  The points are fresh for every check and irrational (a rational plus a random square root's
  fractional part and a multiple of ``e``), so ``sin(k*pi*x)`` cannot vanish on them; the
  precision grows with every digit and node written, and an agreement is re-checked at three
  times the precision (a finite-difference stencil with a step of ``10^-20`` is tiny, not zero);
  a difference that still holds sines, cosines or ``exp(i*x)`` after simplification is never
  accepted on numeric evidence alone.
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
  For a value gold, ``name = value`` is read as ``value`` when the name occurs neither in the
  value nor in the gold (``x = 5`` for ``5``, ``y = 2x + 1`` for ``2x + 1``); with
  ``variable="x"`` only ``x`` may be named. Equations are never solved for the player:
  ``x^2 = 4`` is not an answer to "find x". An inequality gold equals its solution set written
  as an interval (``x > 2`` and ``(2, \\infty)``), both ways.
- *Dataset styles* (see ``langgames.verifiers._math_dataset``): numbers in words
  (``twenty-one``), words after a number (``3 \\text{ apples}``, read as units), text answers
  (``\\text{Yes}``, ``(C)``, ``undefined``, ``no solution``: compared as normalised text, with a
  short list of synonyms; a choice letter meets a gold ``C``), and golds written as computations
  (``\\int_0^1 x^2 dx``, ``\\sum``, ``\\prod``, ``\\lim``, ``\\frac{d}{dx}``, ``\\gcd``,
  ``\\operatorname{lcm}``, ``\\det``), whose value a worker computes. An *answer* written as a
  computation is not read: restating the question does not answer it.
- *Forms.* ``form="expanded"``, ``"factored"`` or ``"closed"`` also requires the answer's form
  (see `verify_math`); a wrong form is ``incorrect`` with a reason, never an error.

>>> verify_math("1/2", "0.5").status.value
'correct'
>>> verify_math("2x+3", "2x-3").status.value
'incorrect'
>>> verify_math("(1, 2)", "\\\\{1, 2\\\\}").reason
'expected a tuple, got a set'
>>> verify_math("3", "x = 3", variable="x").status.value
'correct'
>>> verify_math("3", "three").status.value
'correct'
>>> verify_math("3", "I think so").status.value
'unparseable'
"""

from __future__ import annotations

import dataclasses
import fractions
import functools
import math
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any

import sympy
from sympy import Basic, Symbol

from langgames.errors import InvalidArgument, did_you_mean
from langgames.verifiers import _math_dataset as _dataset
from langgames.verifiers._math_compare import (
    DOMAINS,
    Comparer,
    NeedsWorker,
    Options,
    Outcome,
    show,
)
from langgames.verifiers._math_extract import extract_answer
from langgames.verifiers._math_form import FORMS
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
    "FORMS",
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


def start_workers(*, wait: bool = False) -> None:
    """Start the worker processes now rather than at the first answer that needs them.

    Their start (importing SymPy, about a second) counts against the ``timeout`` of a check that
    has to wait for it; with ``wait=True`` this returns only once every worker is ready."""
    pool = get_pool()
    if wait:
        pool.wait_ready()


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
    timeout: float,
    rel_tol: float | None,
    domain: Any,
    variable: str | None,
    form: str | None = None,
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
    if form is not None and form not in FORMS:
        raise InvalidArgument(
            f"form must be None or one of {', '.join(map(repr, FORMS))} (got {form!r})"
            f"{did_you_mean(str(form), FORMS)}"
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
        form=form,
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


_CHOICE_SYMBOLS = frozenset(_dataset.CHOICE_LETTERS)


def _build_evaluable(found: _dataset.Evaluable) -> Basic:
    """The SymPy object a gold such as ``\\int_0^1 x^2 dx`` stands for (unevaluated when the
    value needs real work: a worker computes it under the deadline)."""
    kind, parts = found
    if kind in ("gcd", "lcm"):
        values = [parse(p).expr for p in parts]
        if not all(isinstance(v, sympy.Integer) for v in values):
            raise MathParseError(f"\\{kind} needs integers")
        return functools.reduce(sympy.gcd if kind == "gcd" else sympy.lcm, values)
    if kind == "det":
        matrix = parse(parts[0]).expr
        if not isinstance(matrix, sympy.MatrixBase) or matrix.rows != matrix.cols:
            raise MathParseError("\\det needs a square matrix")
        if matrix.rows > 6:
            raise MathSizeError("\\det of a matrix larger than 6x6 is not computed")
        return sympy.Determinant(matrix)
    body = parse(parts[0]).expr
    var = Symbol(parts[1])
    if kind == "derivative":
        return sympy.Derivative(body, var)
    if kind == "limit":
        return sympy.Limit(body, var, parse(parts[2]).expr)
    low, high = parse(parts[2]).expr, parse(parts[3]).expr
    build = {"integral": sympy.Integral, "sum": sympy.Sum, "product": sympy.Product}[kind]
    return build(body, (var, low, high))


def _read_dataset_style(text: str, *, gold: bool) -> ParsedMath:
    """Read ``text`` as datasets write answers (see `langgames.verifiers._math_dataset`): a
    number in words, math, a number followed by words, a gold to compute, or a text answer
    (``kind="text"``). Raises the parser's error when none of them fits."""
    words = _dataset.number_words(text)
    if words is not None:
        return dataclasses.replace(parse(words), text=text)
    if _dataset.is_text_word(text):
        said = _dataset.text_answer(text)
        return ParsedMath(expr=Symbol(f"<{said}>"), text=text, kind="text")
    if gold and (found := _dataset.evaluable(text)) is not None:
        try:
            return ParsedMath(expr=_build_evaluable(found), text=text, kind="evaluate")
        except MathParseError:
            pass
    try:
        return parse(text)
    except MathSizeError:
        raise
    except MathParseError as err:
        error = err
    trailing = _dataset.trailing_words(text)
    if trailing is not None:
        try:
            number = parse(trailing[0])
        except MathParseError:
            number = None
        if number is not None and isinstance(number.expr, sympy.Expr) and number.expr.is_number:
            return dataclasses.replace(number, text=text, units=(*number.units, trailing[1]))
    said = _dataset.text_answer(text)
    if said is not None:
        return ParsedMath(expr=Symbol(f"<{said}>"), text=text, kind="text")
    raise error


def _unreadable(parsed: ParsedMath) -> Verdict:
    """The parser's own verdict on a text answer where a math answer is expected."""
    try:
        parse(parsed.text)
    except MathParseError as err:
        return Verdict.make_unparseable(str(err), answer=parsed.text[:200])
    return Verdict.make_unparseable("expected a math answer", answer=parsed.text[:200])


def _said(parsed: ParsedMath) -> str | None:
    """The normalised words of a text answer, ``None`` for math."""
    if parsed.kind != "text" or not isinstance(parsed.expr, Symbol):
        return None
    return parsed.expr.name[1:-1]


def _text_verdict(gold: ParsedMath, answer: ParsedMath) -> Verdict | None:
    """The verdict when either side is a text answer (``kind="text"``), else ``None``."""
    said_gold, said = _said(gold), _said(answer)
    details = {"method": "text", "expected": gold.text[:200], "received": answer.text[:200]}
    if said_gold is not None:
        if said is not None:
            if _dataset.same_text(said_gold, said):
                return Verdict.make_correct("the answer says the expected text", **details)
            return Verdict.make_incorrect(f"expected {said_gold!r}, got {said!r}", **details)
        if _dataset.says_no_solution(said_gold) and answer.expr == sympy.S.EmptySet:
            return Verdict.make_correct("the empty set says there is no solution", **details)
        return Verdict.make_incorrect(f"expected the answer {said_gold!r} in words", **details)
    if said is None:
        return None
    if gold.expr == sympy.S.EmptySet and _dataset.says_no_solution(said):
        return Verdict.make_correct("'no solution' states the empty set", **details)
    if isinstance(gold.expr, Symbol) and gold.expr.name in _CHOICE_SYMBOLS:
        if said == gold.expr.name.lower():
            return Verdict.make_correct("the answer names the expected choice", **details)
        return Verdict.make_incorrect(f"expected choice {gold.expr.name}", **details)
    return None


@functools.lru_cache(maxsize=1024)
def _gold_from_text(text: str) -> ParsedMath:
    try:
        return _read_dataset_style(text, gold=True)
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
        return _answer_from_text(text)
    except MathSizeError as err:
        return Verdict.make_resource_limit(str(err), length=len(text))
    except MathParseError as err:
        return Verdict.make_unparseable(str(err), answer=text[:200])


@functools.lru_cache(maxsize=4096)
def _answer_from_text(text: str) -> ParsedMath:
    """`parse_answer`, or the dataset-style readings when the parser alone cannot read it."""
    if _dataset.number_words(text) is not None or _dataset.is_text_word(text):
        return _read_dataset_style(text, gold=False)
    try:
        return parse_answer(text)
    except MathSizeError:
        raise
    except MathParseError as err:
        try:
            return _read_dataset_style(text, gold=False)
        except MathParseError:
            raise err from None


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


def _timed_out(timeout: float, answer: ParsedMath) -> Verdict:
    return Verdict.make_timeout(
        f"checking the answer took longer than the {timeout:g} s limit",
        limit_seconds=timeout,
        received=show(answer.expr),
    )


def _judge(
    job: Mapping[str, Any], gold: ParsedMath, answer: ParsedMath, timeout: float, started: float
) -> Verdict:
    """Decide in this process if that is provably cheap, else in a worker under the deadline.

    ``started`` is when the call began (`time.monotonic`): the time spent here (parsing and the
    cheap rules) is taken from the worker's share, so the whole call keeps to ``timeout``."""
    options: Options = job["options"]
    job = {**job, "options": dataclasses.replace(options, salt=secrets.randbits(62))}
    if job["op"] == "compare":
        try:
            outcome = Comparer(options, full=False).judge(gold, answer)
            return _verdict(outcome, gold, answer, "host")
        except NeedsWorker:
            pass
    remaining = timeout - (time.monotonic() - started)
    if remaining <= 0:
        return _timed_out(timeout, answer)
    reply = get_pool().run(dict(job), remaining, whole=True)
    if reply.kind == "timeout":
        partial = reply.partial
        if partial is not None and partial.get("status") == "equal":
            outcome = Outcome("equal", "numeric", f"{partial['reason']} (simplify ran out of time)")
            return _verdict(outcome, gold, answer, "worker")
        return _timed_out(timeout, answer)
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
    form: str | None = None,
) -> Verdict:
    """Judge ``answer`` (untrusted model text) against ``gold``; see the module docstring.

    Args:
        gold: the expected answer: a string (trusted, read by the same parser) or a SymPy object
            (also int, `fractions.Fraction`, tuple, set). Floats are refused: they are not exact.
        answer: the model's text. `extract_answer` picks the final answer out of it (the last
            ``\\boxed{}``, a "final answer" statement, the last ``$...$``...); with none of those,
            the whole text is read.
        timeout: seconds the whole check may take (parsing, the cheap rules in this process and
            the worker's steps); past it the verdict is ``timeout``. Starting the worker
            processes the first time (`start_workers`) is not counted.
        rel_tol: ``None`` for exact numbers, or a relative tolerance for numbers without symbols.
        domain: where variables live: ``"real"`` (default), ``"positive"``, ``"nonnegative"``,
            ``"complex"``, or a SymPy ``Interval`` with rational bounds.
        variable: the unknown's name; only then is ``x = 5`` read as ``5`` for a value gold.
        form: also require a form: ``"expanded"``, ``"factored"`` (a product of irreducible
            polynomials with rational coefficients) or ``"closed"`` (no larger than a few times
            the gold, no function evaluated at shifted copies of one argument: a
            finite-difference formula is not a derivative). A right value in another form is
            ``incorrect``, with a reason that starts "the value is right but".

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
    started = time.monotonic()
    options = _check_options(timeout, rel_tol, domain, variable, form)
    parsed_gold = _gold(gold)
    parsed = _read_answer(answer)
    if isinstance(parsed, Verdict):
        return parsed
    if parsed_gold.kind == "text" or parsed.kind == "text":
        if parsed.kind != "text" and (words := _dataset.text_answer(parsed.text)) is not None:
            parsed = ParsedMath(expr=Symbol(f"<{words}>"), text=parsed.text, kind="text")
        said = _text_verdict(parsed_gold, parsed)
        return said if said is not None else _unreadable(parsed)
    job = {"op": "compare", "gold": parsed_gold, "answer": parsed, "options": options}
    return _judge(job, parsed_gold, parsed, float(timeout), started)


def verify_antiderivative(
    integrand: Any,
    answer: str,
    *,
    variable: str = "x",
    timeout: float = DEFAULT_TIMEOUT,
    domain: str | sympy.Interval | None = None,
    form: str | None = None,
) -> Verdict:
    """Judge an antiderivative: correct when the derivative of ``answer`` in ``variable`` equals
    ``integrand`` under the rules of `verify_math` (so ``+ C`` is welcome and any antiderivative
    counts). The derivative is taken in a worker, under ``timeout``.

    Args:
        integrand: the function that was integrated (string or SymPy object, trusted).
        answer: the model's text (extracted as in `verify_math`).
        variable: the variable of integration.
        timeout: seconds the whole check may take.
        domain: as in `verify_math`.
        form: as in `verify_math` (``"closed"`` compares the answer's size with the integrand's).
    """
    started = time.monotonic()
    options = _check_options(timeout, None, domain, variable, form)
    parsed_gold = _gold(integrand)
    parsed = _read_answer(answer)
    if isinstance(parsed, Verdict):
        return parsed
    if parsed.kind == "text" or parsed_gold.kind == "text":
        return _unreadable(parsed)
    job = {
        "op": "antiderivative",
        "gold": parsed_gold,
        "answer": parsed,
        "variable": variable,
        "options": options,
    }
    return _judge(job, parsed_gold, parsed, float(timeout), started)
