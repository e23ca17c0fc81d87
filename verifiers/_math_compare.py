"""Equivalence of parsed answers: the rules of `langgames.verifiers.math.verify_math`.

One `Comparer` holds every rule. It runs twice over:

- in the host process in *cheap* mode, where it only does what is provably fast: structural
  equality, exact rational and Gaussian-rational arithmetic, expansion of polynomials with rational
  coefficients whose expanded size is bounded in advance, and the bookkeeping of sets, tuples,
  intervals, matrices and relations. Whenever a decision needs more (simplification, numerical
  evaluation, roots), it raises `NeedsWorker`;
- in a worker process in *full* mode (``langgames.verifiers._math_worker``), under a hard deadline,
  where it may also simplify, evaluate numerically and find the roots of denominators.

The rules (documented for users in ``langgames.verifiers.math``):

- numbers are exact: two rationals are equal only if they are the same rational, unless
  ``rel_tol`` is given, in which case numbers without symbols are equal when
  ``|answer - gold| <= rel_tol * |gold|`` (``<= rel_tol`` when the gold is 0);
- expressions are equal when their difference is proved zero (expansion, cancellation,
  ``simplify``) *and* they are defined at the same points of the domain, or, when no proof is found,
  by the numeric rule: they agree at many seeded random points of the domain, at a precision far
  beyond the digits written in either (so a 30-digit approximation of pi never equals pi), neither
  is defined where the other is not, and they contain no non-analytic function (``|x|``, floor...);
- "defined at the same points": every denominator, as written (``x^2/x`` keeps ``x``), has its
  roots in the domain checked, and sampled points where one side is undefined or not real (in the
  real domain) while the other is defined make them different;
- equations are equal when ``lhs - rhs`` of one is a non-zero constant multiple of the other's;
  inequalities when the multiple is positive and strictness matches;
- sets are equal element by element (a perfect matching of equal elements); intervals by bounds
  and openness; tuples and matrices elementwise in order; a set is never equal to a tuple;
- a relation answer stands for the value or set it states only if the variable is known: for a
  set gold, ``x > 2``, ``1 < x \\le 3``, ``x \\in [1, 2]``, ``x = 1 or x = 2`` in one variable are
  read as their solution sets; for a value gold, ``x = 5`` is read as ``5`` only if the caller
  names ``x`` as the variable. Equations are never solved to produce an answer;
- a tuple ``(a, b)`` is read as the open interval when the gold is an interval or union (and a
  gold tuple as an open interval when the answer is an interval or an inequality);
- a bare value answering a set gold is a list of one answer (as ``1, 2`` is a list of two);
- units: if both sides carry unit words and they differ, the answers differ.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import mpmath
import sympy
from sympy import (
    Abs,
    And,
    Basic,
    Contains,
    Eq,
    Expr,
    FiniteSet,
    Ge,
    Gt,
    I,
    ImmutableMatrix,
    Integer,
    Interval,
    Le,
    Lt,
    Ne,
    Or,
    Rational,
    S,
    Symbol,
    Tuple,
    oo,
)
from sympy.core.relational import Relational
from sympy.sets.sets import Set

from langgames.verifiers._math_form import form_problem
from langgames.verifiers._math_parse import ParsedMath

__all__ = ["DOMAINS", "Comparer", "NeedsWorker", "Options", "Outcome", "show"]

#: Accepted values of the ``domain`` option.
DOMAINS = ("real", "positive", "nonnegative", "complex")
#: Upper bound on the number of terms a polynomial may expand to in the host process.
MAX_HOST_TERMS = 2_000
#: Upper bound on terms times 64-bit words per coefficient for host expansion (about 20 ms).
MAX_HOST_WORDS = 8_000
#: Seeded random points tried per comparison, and how many must agree for the numeric rule.
SAMPLE_POINTS = 16
MIN_AGREEING_POINTS = 12
#: Digits beyond which numeric evidence is not gathered (the check is then inconclusive).
MAX_PRECISION = 3_000
#: Functions whose values repeat or oscillate: a difference that still holds one of them after
#: simplification is never accepted on numeric evidence alone (``sin(k*pi*x)`` vanishes on a
#: lattice of points, so agreement at points proves nothing about it).
OSCILLATING = (
    sympy.sin,
    sympy.cos,
    sympy.tan,
    sympy.cot,
    sympy.sec,
    sympy.csc,
)
#: Sets larger than this are compared structurally only.
MAX_MATCHED_ELEMENTS = 30
#: Functions whose values at random points say little about their values elsewhere.
NON_ANALYTIC = (
    Abs,
    sympy.sign,
    sympy.floor,
    sympy.ceiling,
    sympy.frac,
    sympy.Piecewise,
    sympy.Min,
    sympy.Max,
    sympy.re,
    sympy.im,
    sympy.arg,
    sympy.conjugate,
)


class NeedsWorker(Exception):
    """Raised in cheap mode when a decision needs work that must run under a deadline."""


class Outcome(NamedTuple):
    """The conclusion of a comparison.

    ``status`` is ``"equal"``, ``"different"`` or ``"unknown"`` (nothing proved either way);
    ``method`` names the rule that decided; ``reason`` is one sentence for the verdict.
    """

    status: str
    method: str
    reason: str


@dataclass(frozen=True)
class Options:
    """What the caller declared about the comparison (all plain data, so it pickles)."""

    rel_tol: float | None = None
    domain: str = "real"
    interval: tuple[str, str] | None = None  # (low, high) as exact strings, for a custom domain
    variable: str | None = None
    seed: int = 0
    form: str | None = None  # one of langgames.verifiers._math_form.FORMS
    salt: int = 0  # fresh per check: where the irrational sample points fall


def show(expr: Any, limit: int = 200) -> str:
    """A short, safe string form of a SymPy object for reasons and details."""
    try:
        text = sympy.sstr(expr, order="none") if isinstance(expr, Basic) else str(expr)
    except (ValueError, RecursionError):  # e.g. an integer beyond Python's str() digit limit
        text = f"<{type(expr).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


_EQUAL_STRUCTURE = Outcome("equal", "structural", "the answer is the expected answer")


def _different(reason: str, method: str = "exact") -> Outcome:
    return Outcome("different", method, reason)


# ---------------------------------------------------------------------------------------------
# Structural helpers (safe in the host: no evaluation)


def _is_gaussian_rational(expr: Basic) -> bool:
    """``p + q*I`` with rational p, q (SymPy keeps these in one canonical form)."""
    if isinstance(expr, Rational) or expr is I:
        return True
    if isinstance(expr, sympy.Mul):
        return len(expr.args) == 2 and isinstance(expr.args[0], Rational) and expr.args[1] is I
    if isinstance(expr, sympy.Add):
        return all(_is_gaussian_rational(a) for a in expr.args)
    return False


def _is_rational_polynomial(expr: Basic) -> bool:
    """A polynomial in its symbols with rational (or Gaussian rational) coefficients."""
    if isinstance(expr, (Symbol, Rational)) or expr is I:
        return True
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        return all(_is_rational_polynomial(a) for a in expr.args)
    if isinstance(expr, sympy.Pow):
        return isinstance(expr.exp, Integer) and expr.exp > 0 and _is_rational_polynomial(expr.base)
    return False


def _expansion_terms(expr: Basic, cap: int = 10**6) -> int:
    """An upper bound on the number of terms of ``expand(expr)`` for a rational polynomial."""
    return _expansion_cost(expr, cap)[0]


def _expansion_cost(expr: Basic, cap: int = 10**6) -> tuple[int, int]:
    """Upper bounds ``(terms, bits)`` on ``expand(expr)`` for a rational polynomial: how many terms
    it has and how many bits its largest coefficient (numerator or denominator) needs. Both are
    computed from the tree without expanding anything, so the host can refuse work whose cost
    grows with the size of the coefficients (``(10^300 x + 10^300 y)^400``), not only with the
    number of terms."""
    big = 10**9
    if isinstance(expr, Rational):
        return 1, max(int(expr.p).bit_length(), int(expr.q).bit_length())
    if isinstance(expr, sympy.Add):
        terms, bits = 0, 0
        for a in expr.args:
            t, b = _expansion_cost(a, cap)
            terms, bits = min(cap, terms + t), max(bits, b)
        return terms, min(big, bits + len(expr.args).bit_length())
    if isinstance(expr, sympy.Mul):
        terms, bits = 1, 0
        for a in expr.args:
            t, b = _expansion_cost(a, cap)
            terms, bits = min(cap, terms * t), min(big, bits + b + t.bit_length())
        return terms, bits
    if isinstance(expr, sympy.Pow) and isinstance(expr.exp, Integer):
        (terms, bits), n = _expansion_cost(expr.base, cap), abs(int(expr.exp))
        grown = min(big, n * (bits + terms.bit_length() + 1))
        if terms == 1:
            return 1, grown
        if n > 200:
            return cap, grown
        return min(cap, math.comb(terms + n - 1, n)), grown
    return 1, 0


def _cheap_to_expand(*exprs: Basic) -> bool:
    """True if expanding ``exprs`` in the host is provably fast: few terms, small coefficients."""
    terms, work = 0, 0
    for expr in exprs:
        t, bits = _expansion_cost(expr)
        terms += t
        work += t * (1 + bits // 64)
    return terms <= MAX_HOST_TERMS and work <= MAX_HOST_WORDS


Condition = tuple[str, Expr]


def _conditions(expr: Basic) -> list[Condition]:
    """Where ``expr`` is defined, read from its structure: divisors are non-zero, radicands of
    even roots non-negative, arguments of logarithms positive (only parts with symbols)."""
    found: list[Condition] = []
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and node.base.free_symbols:
            if node.exp.could_extract_minus_sign():
                found.append(("nonzero", node.base))
            if isinstance(node.exp, Rational) and node.exp.q % 2 == 0:
                found.append(("nonnegative", node.base))
        elif isinstance(node, sympy.log) and node.args[0].free_symbols:
            found.append(("positive", node.args[0]))
        elif isinstance(node, (sympy.tan, sympy.sec)) and node.args[0].free_symbols:
            found.append(("nonzero", sympy.cos(node.args[0])))
        elif isinstance(node, (sympy.cot, sympy.csc)) and node.args[0].free_symbols:
            found.append(("nonzero", sympy.sin(node.args[0])))
    return found


def _has_imaginary_exponential(expr: Basic) -> bool:
    """``exp(i*x)`` and its kin oscillate like sines."""
    return any(a.args and a.args[0].has(I) for a in expr.atoms(sympy.exp)) or any(
        isinstance(p, sympy.Pow) and p.exp.has(I) and p.exp.free_symbols
        for p in expr.atoms(sympy.Pow)
    )


def _constant_magnitude(expr: Expr) -> int:
    """Decimal orders of magnitude of a constant that is not a plain rational (``exp(-50)``
    counts 22): how far it is from 1 in either direction, 0 if it cannot be estimated."""
    value = _evaluate(expr, {}, 15)
    if value is None:
        return 0
    if value == 0:
        return MAX_PRECISION  # below what evalf resolves: too small to sample
    return min(int(abs(mpmath.log10(abs(value)))) + 1, MAX_PRECISION)


_MAX_PROBED = 64


def _magnitude_at_probe(expr: Expr) -> int:
    """Decimal orders of magnitude below 1 of ``expr`` at a fixed point (every symbol at 7/10),
    from the third on: what a sub-expression such as ``exp(-1000*g(x))`` or ``(x^2+2)^-1000``
    (a tiny step written without a tiny number) adds to the precision the numeric rule needs."""
    value = _evaluate(expr, {s: Rational(7, 10) for s in expr.free_symbols}, 15)
    if value is None or value == 0 or abs(value) >= mpmath.mpf("0.01"):
        return 0  # only tiny values make a tiny step; huge ones scale both sides alike
    return min(int(-mpmath.log10(abs(value))) + 1, MAX_PRECISION)


def _digits(n: int) -> int:
    """Decimal digits of ``n`` (from its bit length: no ``str`` of a huge integer)."""
    return int(abs(n).bit_length() * 0.30103) + 1


def _precision(*exprs: Basic) -> int:
    """Digits for the numeric rule: far beyond anything written in ``exprs``.

    A sum of ``m`` shifted samples with a step of ``10^-d`` can match a derivative to about
    ``m*d`` digits, so the precision grows with every digit written (each occurrence counts,
    as does the magnitude of each constant such as ``exp(-50)``) and every node of the tree, on
    top of twice the longest number (so a 30-digit decimal is never pi)."""
    longest, total, nodes, probed = 1, 0, 0, 0
    for expr in exprs:
        stack = [expr]
        while stack:
            node = stack.pop()
            nodes += 1
            if (
                isinstance(node, (sympy.exp, sympy.Pow))
                and node.free_symbols
                and probed < _MAX_PROBED
            ):
                # exp(-1000*(x+1)^2/(x^2+2x+1)) is a tiny step written without a tiny number
                probed += 1
                total += _magnitude_at_probe(node)
            if isinstance(node, Rational):
                digits = _digits(int(node.p)) + (_digits(int(node.q)) if node.q != 1 else 0)
                longest, total = max(longest, digits), total + digits
            elif isinstance(node, Expr) and node.is_number and node.args:
                total += _constant_magnitude(node)
                stack.extend(a for a in node.args if isinstance(a, Rational))
            else:
                stack.extend(node.args)
    return 30 + 2 * longest + total + nodes


def _max_digits(*exprs: Basic) -> int:
    digits = 1
    for expr in exprs:
        for r in expr.atoms(Rational):
            digits = max(digits, len(str(abs(r.p))), len(str(r.q)))
    return digits


def _is_relation(expr: Basic) -> bool:
    return isinstance(expr, (Relational, And, Or, Contains))


def _kind(expr: Basic) -> str:
    if isinstance(expr, ImmutableMatrix):
        return "a matrix"
    if isinstance(expr, Tuple):
        return "a tuple"
    if isinstance(expr, Interval):
        return "an interval"
    if isinstance(expr, Set):
        return "a set"
    if isinstance(expr, Eq):
        return "an equation"
    if _is_relation(expr):
        return "an inequality or a combination of relations"
    return "a value"


def _flip(relation: type) -> type:
    return {Lt: Gt, Gt: Lt, Le: Ge, Ge: Le}.get(relation, relation)


def _relation_to_set(expr: Basic, var: Symbol) -> Set | None:
    """The solution set of a relation that isolates ``var`` (``x > 2``, ``x = 1 or x = 3``)."""
    if isinstance(expr, Contains):
        return expr.args[1] if expr.args[0] == var else None
    if isinstance(expr, (And, Or)):
        parts = [_relation_to_set(a, var) for a in expr.args]
        if any(p is None for p in parts):
            return None
        combine = sympy.Intersection if isinstance(expr, And) else sympy.Union
        return combine(*parts)
    if not isinstance(expr, Relational):
        return None
    kind: type = type(expr)
    if expr.lhs == var and var not in expr.rhs.free_symbols:
        bound = expr.rhs
    elif expr.rhs == var and var not in expr.lhs.free_symbols:
        bound, kind = expr.lhs, _flip(kind)
    else:
        return None
    if isinstance(expr, Eq):
        return FiniteSet(bound)
    if bound.free_symbols or bound.is_extended_real is False:
        return None
    if kind is Ne:
        return sympy.Union(Interval.open(-oo, bound), Interval.open(bound, oo))
    return {
        Lt: Interval.open(-oo, bound),
        Le: Interval(-oo, bound),
        Gt: Interval.open(bound, oo),
        Ge: Interval(bound, oo),
    }[kind]


def _named_value(answer: Eq, gold: Basic) -> Basic | None:
    """The right side of ``name = value`` when ``name`` is a lone symbol that appears neither in
    the value nor in the gold (so ``x = 2`` states 2, and ``x = x + 1`` or ``x = 2`` against the
    gold ``x + 1`` state nothing)."""
    for name, value in ((answer.lhs, answer.rhs), (answer.rhs, answer.lhs)):
        if (
            isinstance(name, Symbol)
            and name not in value.free_symbols
            and name not in gold.free_symbols
            and _is_scalar(value)
        ):
            return value
    return None


def _single_symbol(expr: Basic) -> Symbol | None:
    symbols = expr.free_symbols
    return next(iter(symbols)) if len(symbols) == 1 else None


def _match(
    golds: Sequence[Basic], answers: Sequence[Basic], same: Callable[[Basic, Basic], Outcome]
) -> Outcome:
    """Compare two collections as multisets: a perfect matching of equal elements."""
    n = len(golds)
    outcomes = [[same(g, a) for a in answers] for g in golds]

    def perfect(allowed: set[str]) -> bool:
        owner: list[int | None] = [None] * n

        def assign(i: int, seen: set[int]) -> bool:
            for j in range(n):
                if j not in seen and outcomes[i][j].status in allowed:
                    seen.add(j)
                    holder = owner[j]
                    if holder is None or assign(holder, seen):
                        owner[j] = i
                        return True
            return False

        return all(assign(i, set()) for i in range(n))

    if perfect({"equal"}):
        methods = sorted({o.method for row in outcomes for o in row if o.status == "equal"})
        return Outcome("equal", "+".join(methods) or "structural", "every element matches")
    if not perfect({"equal", "unknown"}):
        unmatched = next(
            (
                a
                for j, a in enumerate(answers)
                if all(outcomes[i][j].status == "different" for i in range(n))
            ),
            None,
        )
        detail = f" ({show(unmatched)} is not among them)" if unmatched is not None else ""
        return _different(f"the elements differ from the expected ones{detail}", "elementwise")
    return Outcome("unknown", "elementwise", "some elements could not be proved equal")


# ---------------------------------------------------------------------------------------------
# The comparer


class Comparer:
    """Compares a gold answer and an answer under `Options`; see the module docstring."""

    def __init__(self, options: Options, *, full: bool) -> None:
        self.options = options
        self.full = full
        self.on_partial: Callable[[Outcome], None] | None = None
        self.agreeing_point: dict[Symbol, Any] = {}  # the first point where the sides agreed
        self.agreeing_scale: Any = 1  # and the size of the values there

    def expandable(self, *exprs: Basic) -> bool:
        """Whether to decide by expansion: in the host only when it is provably fast (few terms
        and small coefficients); in a worker, whenever the number of terms is bounded."""
        if self.full:
            return sum(_expansion_terms(e) for e in exprs) <= MAX_HOST_TERMS
        return _cheap_to_expand(*exprs)

    # -- entry points
    def judge(self, gold: ParsedMath, answer: ParsedMath, variable: str | None = None) -> Outcome:
        """Compare (or, with ``variable``, check an antiderivative), then the requested form.

        The form is checked first, so that a numeric acceptance reported early (`on_partial`)
        is never sent for an answer in the wrong form; its problem is reported only if the value
        is right (a wrong value is reported as such)."""
        if gold.kind == "evaluate":  # a gold written as a computation: its value, here
            if not self.full:
                raise NeedsWorker
            value = gold.expr.doit()
            gold = ParsedMath(expr=value, text=gold.text, conditions=tuple(_conditions(value)))
        problem = None
        if self.options.form is not None:
            problem = form_problem(
                answer.expr,
                self.options.form,
                reference=gold.expr,
                host=not self.full,
                cheap=_cheap_to_expand,
            )
            if problem is not None and self.options.form == "closed":
                # no need to weigh the value of a finite-difference formula: refuse it as such
                return _different(f"the answer is not a closed form: {problem}", "form")
            if problem is not None:
                self.on_partial = None
        if variable is None:
            outcome = self.compare_parsed(gold, answer)
        else:
            outcome = self.compare_antiderivative(gold, answer, variable)
        if outcome.status == "equal" and problem is not None:
            return _different(f"the value is right but {problem}", "form")
        return outcome

    def compare_parsed(self, gold: ParsedMath, answer: ParsedMath) -> Outcome:
        if gold.units and answer.units:
            wanted = {u.lower().rstrip("s") for u in gold.units}
            given = {u.lower().rstrip("s") for u in answer.units}
            if wanted != given:
                return _different(
                    f"the answer is in {', '.join(answer.units)}, not {', '.join(gold.units)}",
                    "units",
                )
        g = _tuple_as_interval(gold.expr) if _states_a_set(answer.expr) else gold.expr
        if _is_relation(g) and not isinstance(g, Eq) and isinstance(answer.expr, (Set, Tuple)):
            # an inequality gold answered with its solution set: compare the sets
            var = Symbol(self.options.variable) if self.options.variable else _single_symbol(g)
            as_set = _relation_to_set(g, var) if var is not None else None
            if as_set is not None:
                g = as_set
        a = self.align(g, answer.expr)
        if isinstance(a, Outcome):
            return a
        if _is_scalar(g) and _is_scalar(a):
            conditions = ([*gold.conditions], [*answer.conditions])
            outcome = self.scalar(g, a, conditions, top=True)
        else:
            outcome = self.compare(g, a)
        if outcome.status == "different" and answer.percent and not gold.percent:
            outcome = outcome._replace(
                reason=f"{outcome.reason} (the % sign makes the answer {show(answer.expr)})"
            )
        return outcome

    def compare_antiderivative(
        self, integrand: ParsedMath, answer: ParsedMath, variable: str
    ) -> Outcome:
        """The answer is an antiderivative of ``integrand``: its derivative equals it (a constant
        of integration such as ``+ C`` differentiates away)."""
        if not _is_scalar(answer.expr):
            return _different(f"expected an expression, got {_kind(answer.expr)}", "form")
        plain = {s: Symbol(s.name) for s in answer.expr.free_symbols}
        antiderivative = self.with_domain(answer.expr)
        var = next((s for s in antiderivative.free_symbols if s.name == variable), None)
        if var is None:
            return _different(f"the answer does not depend on {variable}", "form")
        derivative = sympy.diff(antiderivative, var)
        back = {v: plain[k] for k, v in zip(plain, map(self.with_domain, plain), strict=True)}
        derived = ParsedMath(
            expr=derivative.xreplace(back),
            text=f"d/d{variable}({answer.text})",
            conditions=answer.conditions,
        )
        outcome = self.compare_parsed(integrand, derived)
        if outcome.status == "different":
            return outcome._replace(reason=f"its derivative is not the integrand: {outcome.reason}")
        if outcome.status == "equal":
            return outcome._replace(
                reason=f"its derivative equals the integrand ({outcome.method})"
            )
        return outcome

    def align(self, gold: Basic, answer: Basic) -> Basic | Outcome:
        """Read a relation answer as the value or set it states, when the rules allow it."""
        variable = Symbol(self.options.variable) if self.options.variable else None
        if _is_relation(answer) and not _is_relation(gold):
            if isinstance(gold, Set):
                var = variable or _single_symbol(answer)
                converted = _relation_to_set(answer, var) if var is not None else None
                if converted is None:
                    return _different(
                        "expected a set or interval; a relation counts only when it isolates one "
                        "variable (e.g. x > 2, 1 < x <= 3, x = 1 or x = 2)",
                        "form",
                    )
                return converted
            if variable is None and isinstance(answer, Eq) and _is_scalar(gold):
                named = _named_value(answer, gold)
                if named is not None:  # `x = 2`, `y = 2x + 1`: the value of the asked variable
                    return named
            if variable is None:
                return _different(
                    f"expected {_kind(gold)}, got {_kind(answer)}; give the value alone "
                    "(the game did not declare a variable, so `x = value` is not read as a value)",
                    "form",
                )
            stated = _relation_to_set(answer, variable)
            if isinstance(stated, FiniteSet) and len(stated) == 1 and isinstance(answer, Eq):
                return next(iter(stated))
            if isinstance(stated, FiniteSet) and isinstance(gold, Tuple):
                return stated
            return _different(
                f"expected {_kind(gold)}; the answer must state {variable} = value", "form"
            )
        if isinstance(gold, (Interval, sympy.Union)):
            return _tuple_as_interval(answer)
        if isinstance(gold, FiniteSet) and _is_scalar(answer):
            return FiniteSet(answer)  # a bare value is a list of one answer, as "1, 2" is of two
        return answer

    def compare(self, g: Basic, a: Basic) -> Outcome:
        """Any two objects: dispatch on what the gold is."""
        if g == a:
            return _EQUAL_STRUCTURE
        if _is_scalar(g):
            if not _is_scalar(a):
                return _different(f"expected {_kind(g)}, got {_kind(a)}", "form")
            return self.scalar(g, a, ([], []), top=False)
        if type(g) is not type(a) and not (isinstance(g, Set) and isinstance(a, Set)):
            if _is_relation(g) and _is_relation(a):
                return self.relations(g, a)
            return _different(f"expected {_kind(g)}, got {_kind(a)}", "form")
        if isinstance(g, Tuple):
            if len(g) != len(a):
                return _different(f"expected a tuple of {len(g)} entries, got {len(a)}", "form")
            return self.in_order(g.args, a.args, "entry")
        if isinstance(g, ImmutableMatrix):
            if g.shape != a.shape:
                return _different(f"expected a {g.shape} matrix, got {a.shape}", "form")
            return self.in_order(list(g), list(a), "entry")
        if isinstance(g, Set):
            return self.sets(g, a)
        if _is_relation(g):
            return self.relations(g, a)
        return _different(f"the answer {show(a)} does not match", "structural")

    def in_order(self, golds: Sequence[Basic], answers: Sequence[Basic], what: str) -> Outcome:
        unknown = None
        methods = set()
        for i, (g, a) in enumerate(zip(golds, answers, strict=True), 1):
            outcome = self.compare(g, a)
            if outcome.status == "different":
                return _different(f"{what} {i} differs: {outcome.reason}", outcome.method)
            if outcome.status == "unknown":
                unknown = outcome
            methods.add(outcome.method)
        if unknown is not None:
            return unknown
        return Outcome("equal", "+".join(sorted(methods)), f"every {what} matches")

    # -- sets
    def sets(self, g: Set, a: Set) -> Outcome:
        if g == a:
            return _EQUAL_STRUCTURE
        if isinstance(g, FiniteSet) and isinstance(a, FiniteSet):
            if len(g) != len(a):
                return _different(f"expected {len(g)} elements, got {len(a)}", "form")
            if len(g) > MAX_MATCHED_ELEMENTS:
                return _different("the sets differ (large sets are compared exactly)", "structural")
            return _match(list(g.args), list(a.args), self.compare)
        pieces_g, pieces_a = _pieces(g), _pieces(a)
        if pieces_g is None or pieces_a is None:
            return _different(f"expected {show(g)}-like set, got {_kind(a)}", "structural")
        if len(pieces_g) != len(pieces_a):
            return _different("the sets are made of different pieces", "form")
        return _match(pieces_g, pieces_a, self.piece)

    def piece(self, g: Basic, a: Basic) -> Outcome:
        if isinstance(g, Interval) and isinstance(a, Interval):
            if (g.left_open, g.right_open) != (a.left_open, a.right_open):
                return _different(
                    "an interval bound is open in one and closed in the other", "form"
                )
            return self.in_order([g.start, g.end], [a.start, a.end], "interval bound")
        if type(g) is not type(a):
            return _different(f"expected {_kind(g)}, got {_kind(a)}", "form")
        return self.sets(g, a) if isinstance(g, Set) else self.compare(g, a)

    # -- relations
    def relations(self, g: Basic, a: Basic) -> Outcome:
        if isinstance(g, (And, Or)) or isinstance(a, (And, Or)):
            if type(g) is not type(a):
                var = (
                    _single_symbol(g)
                    if self.options.variable is None
                    else Symbol(self.options.variable)
                )
                if var is not None:
                    sg, sa = _relation_to_set(g, var), _relation_to_set(a, var)
                    if sg is not None and sa is not None:
                        return self.sets(sg, sa)
                return _different(f"expected {_kind(g)}, got {_kind(a)}", "form")
            if len(g.args) != len(a.args):
                return _different("the answer states a different number of relations", "form")
            return _match(list(g.args), list(a.args), self.compare)
        if isinstance(g, Contains) or isinstance(a, Contains):
            var = _single_symbol(g)
            sg = _relation_to_set(g, var) if var is not None else None
            sa = _relation_to_set(a, var) if var is not None else None
            if sg is None or sa is None:
                return _different(f"expected {_kind(g)}, got {_kind(a)}", "form")
            return self.sets(sg, sa)
        if isinstance(g, Eq) != isinstance(a, Eq) or isinstance(g, Ne) != isinstance(a, Ne):
            return _different(f"expected {_kind(g)}, got {_kind(a)}", "form")
        dg, strict_g = _normal_difference(g)
        da, strict_a = _normal_difference(a)
        if strict_g != strict_a:
            return _different("one inequality is strict and the other is not", "form")
        sign_matters = not isinstance(g, (Eq, Ne))
        return self.proportional(dg, da, positive=sign_matters)

    def proportional(self, dg: Expr, da: Expr, *, positive: bool) -> Outcome:
        """``dg == c * da`` for a constant ``c`` (non-zero; positive if ``positive``)."""
        if dg == da:
            return Outcome("equal", "structural", "the relations are the same")
        if dg == 0 or da == 0:
            return _different("the relations are not equivalent", "exact")
        if _is_rational_polynomial(dg) and _is_rational_polynomial(da) and self.expandable(dg, da):
            pg, pa = sympy.expand(dg), sympy.expand(da)
            if pg == 0 or pa == 0:
                if pg == pa:
                    return Outcome("equal", "expand", "both relations hold identically")
                return _different("the relations are not equivalent", "expand")
            lead_g = sympy.Poly(pg, *sorted(pg.free_symbols | pa.free_symbols, key=str))
            lead_a = sympy.Poly(pa, *lead_g.gens)
            c = lead_g.LC() / lead_a.LC()
            if sympy.expand(pg - c * pa) == 0 and (not positive or c.is_extended_positive):
                return Outcome("equal", "expand", "the relations are equivalent")
            return _different("the relations are not equivalent", "expand")
        if not self.full:
            raise NeedsWorker
        ratio = sympy.simplify(sympy.cancel(dg / da))
        if not ratio.free_symbols and ratio.is_number and ratio != 0:
            if not positive or ratio.is_extended_positive:
                return Outcome("equal", "simplify", "the relations are equivalent")
            return _different("the inequality points the other way", "simplify")
        values = [
            v
            for point in self.points(dg.free_symbols | da.free_symbols)
            if (v := _evaluate(dg / da, point, 30)) is not None
        ]
        if len({round(abs(v.real), 8) for v in values}) > 1:
            return _different("the relations are not equivalent", "numeric")
        return Outcome("unknown", "inconclusive", "the relations could not be proved equivalent")

    # -- scalars
    def scalar(
        self, g: Expr, a: Expr, conditions: tuple[list[Condition], list[Condition]], *, top: bool
    ) -> Outcome:
        same_domain = {*conditions[0], *_conditions(g)} == {*conditions[1], *_conditions(a)}
        symbolic = bool(g.free_symbols or a.free_symbols)
        if g == a and same_domain:
            return _EQUAL_STRUCTURE
        tol = self.options.rel_tol
        if not symbolic and tol is not None:
            return self.tolerance(g, a, tol)
        if not same_domain:
            if not self.full:
                raise NeedsWorker
            return self.full_scalar(g, a, conditions, top=top)
        if _is_gaussian_rational(g) and _is_gaussian_rational(a):
            if g == a:
                return _EQUAL_STRUCTURE
            return _different(f"{show(a)} is not the expected value", "exact")
        if _is_rational_polynomial(g) and _is_rational_polynomial(a) and self.expandable(g, a):
            if sympy.expand(g - a) == 0:
                return Outcome("equal", "expand", "the answer expands to the expected polynomial")
            return _different(f"{show(a)} is not equal to the expected answer", "expand")
        if not self.full:
            raise NeedsWorker
        return self.full_scalar(g, a, conditions, top=top)

    def tolerance(self, g: Expr, a: Expr, tol: float) -> Outcome:
        if isinstance(g, Rational) and isinstance(a, Rational):
            error, scale = abs(a - g), abs(g)
        else:
            if not self.full:
                raise NeedsWorker
            vg, va = _evaluate(g, {}, 30), _evaluate(a, {}, 30)
            if vg is None or va is None:
                return _different("the answer is not a finite number", "tolerance")
            error, scale = abs(va - vg), abs(vg)
        limit = tol * scale if scale else tol
        if error <= limit:
            return Outcome("equal", "tolerance", f"within the relative tolerance {tol:g}")
        return _different(f"{show(a)} is not within the relative tolerance {tol:g}", "tolerance")

    # -- full mode (worker)
    def full_scalar(
        self, g: Expr, a: Expr, conditions: tuple[list[Condition], list[Condition]], *, top: bool
    ) -> Outcome:
        g, a = self.with_domain(g), self.with_domain(a)
        where_g = self.domain_conditions(conditions[0], g)
        where_a = self.domain_conditions(conditions[1], a)
        symbols = set().union(
            g.free_symbols, a.free_symbols, *(c.free_symbols for _, c in [*where_g, *where_a])
        )
        difference = g - a
        precision = _precision(g, a)
        if precision > MAX_PRECISION:
            samples = Outcome("unknown", "numeric", "the numbers are too large to sample")
        else:
            samples = self.sample(g, a, difference, (where_g, where_a), symbols, precision)
        if samples.status == "different":
            return samples
        singular = self.singularities(where_g, where_a, symbols)
        if singular is not None:
            return singular
        oscillating = difference.has(*OSCILLATING) or _has_imaginary_exponential(difference)
        numeric_ok = (
            samples.status == "equal"
            and not (g.has(*NON_ANALYTIC) or a.has(*NON_ANALYTIC))
            and not oscillating
        )
        outcome = Outcome("equal", "numeric", samples.reason)
        proved = self.cheap_proof(difference)
        if proved is not None:
            return proved
        if numeric_ok and not self.confirm(difference, self.agreeing_point, precision):
            return Outcome(
                "unknown",
                "numeric",
                "the difference is tiny at the sample points but not zero: not an exact identity",
            )
        if numeric_ok and top and self.on_partial is not None:
            # The numeric rule accepts whatever the proofs below conclude; say so now, in case
            # they run out of time, then try to prove it anyway.
            self.on_partial(outcome)
        if oscillating and samples.status == "equal":
            proved = self.trig_proof(difference)  # before simplify, which may take the deadline
        proved = proved or self.factored_proof(difference)
        if proved is not None:
            return proved
        try:
            if sympy.simplify(difference) == 0:
                return Outcome("equal", "simplify", "the difference simplifies to 0")
        except (TypeError, ValueError, NotImplementedError, AttributeError):
            pass
        if oscillating and samples.status == "equal":
            return Outcome(
                "unknown",
                "inconclusive",
                "the difference holds periodic terms that could not be simplified away, and "
                "agreement at sample points proves nothing about such terms",
            )
        if numeric_ok:
            return outcome
        if symbols:
            return Outcome("unknown", "inconclusive", "the answer could not be proved equal")
        return Outcome("unknown", "inconclusive", "the values could not be proved equal")

    @staticmethod
    def cheap_proof(difference: Expr) -> Outcome | None:
        if difference == 0:
            return Outcome("equal", "structural", "the answer is the expected answer")
        if _expansion_terms(difference) > 50 * MAX_HOST_TERMS:
            return None  # ((x+1)^(10^9)): expanding is hopeless; leave it to simplify's deadline
        try:
            if sympy.expand(difference) == 0:
                return Outcome("equal", "expand", "the difference expands to 0")
            if sympy.cancel(sympy.together(difference)) == 0:
                return Outcome("equal", "cancel", "the difference cancels to 0")
        except (TypeError, ValueError, NotImplementedError, sympy.PolynomialError):
            pass
        return None

    @staticmethod
    def trig_proof(difference: Expr) -> Outcome | None:
        """Proofs for differences with trigonometric terms: rewritten as exponentials, an
        identity of sines and cosines becomes one of rational functions of ``exp(i*x)``."""
        attempts: list[Callable[[Expr], Expr]] = [
            lambda d: sympy.expand(d.rewrite(sympy.exp)),
            lambda d: sympy.cancel(sympy.powsimp(sympy.expand(d.rewrite(sympy.exp)))),
            lambda d: sympy.expand(sympy.expand_trig(d)),
            sympy.trigsimp,
        ]
        for attempt in attempts:
            try:
                if attempt(difference) == 0:
                    return Outcome("equal", "simplify", "the difference simplifies to 0")
            except (
                TypeError,
                ValueError,
                NotImplementedError,
                AttributeError,
                sympy.PolynomialError,
            ):
                continue
        return None

    @staticmethod
    def factored_proof(difference: Expr) -> Outcome | None:
        """Factoring inside functions first lets ``sqrt(x^2+2x+1)`` meet ``|x+1|``."""
        if _expansion_terms(difference) > 50 * MAX_HOST_TERMS:
            return None
        try:
            factored = sympy.factor(difference, deep=True)
            if factored != difference and sympy.simplify(factored) == 0:
                return Outcome("equal", "simplify", "the difference simplifies to 0")
        except (TypeError, ValueError, NotImplementedError, sympy.PolynomialError):
            pass
        return None

    def with_domain(self, expr: Basic) -> Basic:
        domain = self.options.domain
        if domain == "complex" or not expr.free_symbols:
            return expr
        assumptions = {
            "real": {"real": True},
            "positive": {"positive": True},
            "nonnegative": {"nonnegative": True},
        }[domain]
        if self.options.interval is not None:
            low, high = (Rational(v) for v in self.options.interval)
            if low > 0:
                assumptions = {"positive": True}
            elif low == 0:
                assumptions = {"nonnegative": True}
            elif high < 0:
                assumptions = {"negative": True}
            elif high == 0:
                assumptions = {"nonpositive": True}
            else:
                assumptions = {"real": True}
        return expr.xreplace({s: Symbol(s.name, **assumptions) for s in expr.free_symbols})

    def points(
        self, symbols: Iterable[Symbol], *, irrational: bool = False, digits: int = 0
    ) -> list[dict[Symbol, Expr]]:
        """`SAMPLE_POINTS` seeded points of the domain, never 0 or +-1: awkward rationals, or with
        ``irrational``, each shifted by a fresh irrational offset (the fractional part of the
        square root of a random non-square, and a multiple of ``E``), so that no expression built
        from the usual functions can vanish on all of them by design (``sin(k*pi*x)`` vanishes
        on every rational with a denominator dividing ``k``, never at an irrational).

        With ``digits``, each irrational point is rounded once to a `Float` of that many digits
        (evaluating at a Float is much faster than at a symbolic root). Its random binary
        expansion is then ``3.3 * digits`` bits long, while the precision grows with every digit
        the answer writes, so no ``k`` the answer can write makes ``k*x`` an integer."""
        names = sorted(symbols, key=lambda s: s.name)
        seed = self.options.seed * 7919 + len(names)
        # irrational points are fresh for every check (the salt): no answer can be fitted to them
        salted = f"{seed}:{self.options.salt}" if irrational else seed
        rng = random.Random(salted)  # noqa: S311 - sample points
        out = []
        for _ in range(SAMPLE_POINTS):
            point = {}
            for symbol in names:
                point[symbol] = self.draw(rng, irrational=irrational, digits=digits)
            out.append(point)
        return out

    def draw(self, rng: random.Random, *, irrational: bool = False, digits: int = 0) -> Expr:
        domain, interval = self.options.domain, self.options.interval
        q = rng.choice((3, 7, 11, 13, 17, 19, 23))
        theta: Expr = S.Zero
        if irrational:
            while True:
                n = rng.randint(2, 10**9)
                root = math.isqrt(n)
                if root * root != n:
                    break
            # in (0, 1), irrational and transcendental: frac(sqrt(n)) / 2 + E / 10^k, k in 3..5
            k = rng.randint(3, 5)
            if digits:
                with mpmath.workdps(digits + 10):
                    value = (mpmath.sqrt(n) - root) / 2 + mpmath.e / 10**k
                    theta = sympy.Float(value, digits)
            else:
                theta = (sympy.sqrt(n) - root) / 2 + sympy.E / 10**k
        if interval is not None:
            low, high = Rational(interval[0]), Rational(interval[1])
            fraction = (rng.randint(0, q - 2) + (theta if irrational else 1)) / q
            return low + (high - low) * fraction
        p = rng.randint(1, 6 * q)
        if p == q:
            p += 1
        value = Rational(p, q) + theta / q
        if domain in ("real", "complex") and rng.random() < 0.5:
            value = -value
        if domain == "complex":
            value += I * Rational(rng.randint(-6 * q, 6 * q), q)
        return value

    def domain_conditions(self, recorded: list[Condition], expr: Expr) -> list[Condition]:
        """Recorded and structural conditions, in this domain's symbols and meaning (in the
        complex domain only "non-zero" remains: roots and logarithms of negatives are defined)."""
        out = []
        for kind, value in [*recorded, *_conditions(expr)]:
            value = self.with_domain(value)
            if self.options.domain == "complex":
                if kind == "nonnegative":
                    continue
                kind = "nonzero"
            out.append((kind, value))
        return list(dict.fromkeys(out))

    def sample(
        self,
        g: Expr,
        a: Expr,
        difference: Expr,
        conditions: tuple[list[Condition], list[Condition]],
        symbols: set[Symbol],
        precision: int,
    ) -> Outcome:
        """The numeric test: ``equal`` (enough tight agreement), ``different`` or ``unknown``.

        It runs at fresh irrational points; a difference found there is reported at a seeded
        rational point where the two differ too, when there is one, so that the same answer
        always gets the same reason (and at no point otherwise)."""
        fresh = self.points(symbols, irrational=True, digits=precision + 40) if symbols else [{}]
        outcome = self.sample_at(fresh, g, a, difference, conditions, symbols, precision)
        if outcome.status != "different" or not symbols:
            return outcome
        witness = self.sample_at(
            self.points(symbols), g, a, difference, conditions, symbols, precision
        )
        if witness.status == "different":
            return witness
        return outcome

    def sample_at(
        self,
        points: list[dict[Symbol, Expr]],
        g: Expr,
        a: Expr,
        difference: Expr,
        conditions: tuple[list[Condition], list[Condition]],
        symbols: set[Symbol],
        precision: int,
    ) -> Outcome:
        """`sample` at the given points; the reasons name the point only if it is rational."""
        needed = MIN_AGREEING_POINTS if symbols else 1
        real = self.options.domain != "complex"
        agree = 0
        threshold = mpmath.mpf(10) ** -(precision - 10)
        # evalf's result is accurate to about `precision` digits, so a difference above half of
        # them is real (a 36-digit decimal is not pi), while an identity leaves only noise.
        clearly = min(mpmath.mpf("1e-8"), mpmath.mpf(10) ** -(precision // 2))
        for point in points:
            vg = (
                None
                if _violated(conditions[0], point)
                else _evaluate(g, point, precision, real=real)
            )
            va = (
                None
                if _violated(conditions[1], point)
                else _evaluate(a, point, precision, real=real)
            )
            rational = all(isinstance(v, Rational) for v in point.values())
            where = _where(point) if rational else " at a random irrational point of the domain"
            if vg is None and va is None:
                continue
            if vg is None or va is None:
                missing = "the expected answer" if vg is None else "the answer"
                other = "the answer" if vg is None else "the expected answer"
                return _different(
                    f"{missing} is undefined{where} (or not real), while {other} is defined",
                    "domain",
                )
            scale = max(mpmath.mpf(1), abs(vg), abs(va))
            vd = _evaluate(difference, point, precision, real=False)
            error = abs(vd) if vd is not None else abs(vg - va)
            if error > clearly * scale:
                return _different(f"the answer differs from the expected one{where}", "numeric")
            if error <= threshold * scale:
                if agree == 0:
                    self.agreeing_point, self.agreeing_scale = point, scale
                agree += 1
        if agree >= needed:
            return Outcome(
                "equal",
                "numeric",
                f"equal at random points of the domain (at least {needed} of {len(points)})",
            )
        return Outcome("unknown", "numeric", "too few points where both are defined")

    def confirm(self, difference: Expr, point: dict[Symbol, Any], precision: int) -> bool:
        """Re-evaluate a difference that looked like 0 at three times the precision: an identity
        stays at the noise floor of the higher precision, while a merely tiny difference (a
        finite-difference stencil with a step of ``10^-20``) keeps its value."""
        high = min(3 * precision, MAX_PRECISION)
        value = _evaluate(difference, point, high, real=False)
        if value is None:
            return False
        return bool(abs(value) <= mpmath.mpf(10) ** -(high - 10) * self.agreeing_scale)

    def singularities(
        self, where_g: list[Condition], where_a: list[Condition], symbols: set[Symbol]
    ) -> Outcome | None:
        """Different if, at a root of a divisor or of a logarithm's argument, in the domain, one
        side is defined and the other is not (random points never land on such roots)."""
        borders = {value for kind, value in [*where_g, *where_a] if kind != "nonnegative"}
        for den in borders:
            for point in self.roots(den, symbols):
                undefined_g = _violated(where_g, point)
                undefined_a = _violated(where_a, point)
                if undefined_g != undefined_a:
                    side = "the answer" if undefined_a else "the expected answer"
                    other = "the expected answer" if undefined_a else "the answer"
                    return _different(
                        f"{side} is undefined{_where(point)}, where {other} is defined", "domain"
                    )
        return None

    def roots(self, den: Expr, symbols: set[Symbol]) -> list[dict[Symbol, Any]]:
        """Numeric roots of ``den`` in the domain, other symbols fixed at a seeded point."""
        names = sorted(den.free_symbols, key=lambda s: s.name)
        if not names:
            return []
        var = names[0]
        fixed = {s: v for s, v in self.points(symbols)[0].items() if s != var}
        poly_expr = den.xreplace(fixed)
        try:
            poly = sympy.Poly(poly_expr, var)
        except sympy.PolynomialError:
            return [{**fixed, var: r} for r in self.transcendental_roots(poly_expr, var)]
        if (
            poly.degree() < 1
            or poly.degree() > 12
            or not all(c.is_number for c in poly.all_coeffs())
        ):
            return []
        out = []
        for root in _numeric_roots(poly, real=self.options.domain != "complex"):
            re_part, im_part = (float(v) for v in root.as_real_imag())
            if self.options.domain != "complex" and abs(im_part) > 1e-20:
                continue
            if not self.in_domain(re_part):
                continue
            value = root if self.options.domain == "complex" else sympy.re(root)
            out.append({**fixed, var: value})
        return out

    def transcendental_roots(self, expr: Expr, var: Symbol) -> list[Expr]:
        """Roots of a small non-polynomial border (``cos(2x)``) that ``solve`` finds, in the
        domain; an empty list when it finds none (the random points still test the rest)."""
        if sympy.count_ops(expr) > 30:
            return []
        try:
            found = sympy.solve(expr, var)
        except (NotImplementedError, TypeError, ValueError):
            return []
        out = []
        for root in found[:8]:
            if not isinstance(root, Expr) or root.free_symbols:
                continue
            value = _evaluate(root, {}, 30)
            if value is None:
                continue
            if self.options.domain != "complex" and abs(value.imag) > 1e-20:
                continue
            if self.in_domain(float(value.real)):
                out.append(root)
        return out

    def in_domain(self, value: float) -> bool:
        domain, interval = self.options.domain, self.options.interval
        if interval is not None:
            return float(Rational(interval[0])) <= value <= float(Rational(interval[1]))
        if domain == "positive":
            return value > 0
        if domain == "nonnegative":
            return value >= 0
        return True


def _numeric_roots(poly: sympy.Poly, *, real: bool) -> list[Expr]:
    """Roots of ``poly`` to 30 digits (each once). Exact root isolation for rational
    coefficients in a real domain; otherwise numerical roots of the square-free part."""
    poly = poly.sqf_part()
    if real and poly.get_domain().is_Exact and not poly.get_domain().is_Algebraic:
        try:
            return [r.evalf(30) for r in poly.real_roots()]
        except (NotImplementedError, sympy.PolynomialError):
            pass
    try:
        return list(poly.nroots(n=30, maxsteps=200))
    except (mpmath.NoConvergence, NotImplementedError, sympy.PolynomialError):
        return []


def _tuple_as_interval(value: Basic) -> Basic:
    """A 2-tuple of real numbers ``(a, b)`` with ``a < b`` as the open interval; else unchanged."""
    if isinstance(value, Tuple) and len(value) == 2 and all(_is_scalar(e) for e in value.args):
        low, high = value.args
        width = high - low
        if not width.free_symbols and width.is_extended_positive:
            return Interval.open(low, high)
    return value


def _states_a_set(value: Basic) -> bool:
    """An interval, a union, or a relation that can only describe a set of reals."""
    if isinstance(value, (Interval, sympy.Union)):
        return True
    return _is_relation(value) and not isinstance(value, Eq) and len(value.free_symbols) == 1


def _normal_difference(relation: Relational) -> tuple[Expr, bool]:
    """``(d, strict)`` with the relation read as ``d > 0``, ``d >= 0``, ``d = 0`` or ``d != 0``."""
    if isinstance(relation, (Lt, Le)):
        return relation.rhs - relation.lhs, isinstance(relation, Lt)
    return relation.lhs - relation.rhs, isinstance(relation, Gt)


def _pieces(value: Set) -> list[Basic] | None:
    args = value.args if isinstance(value, sympy.Union) else (value,)
    if all(isinstance(p, (Interval, FiniteSet)) for p in args) or value in (S.EmptySet,):
        return list(args) if value is not S.EmptySet else []
    return None


def _is_scalar(value: Basic) -> bool:
    return isinstance(value, Expr) and not isinstance(value, (ImmutableMatrix, Tuple))


def _where(point: dict[Symbol, Any]) -> str:
    if not point:
        return ""

    def value(v: Any) -> str:
        if isinstance(v, Rational) or not isinstance(v, Expr):
            return show(v, 40)
        number = complex(v)
        return f"{number.real:.6g}" if number.imag == 0 else f"{number:.6g}"

    return " at " + ", ".join(f"{s} = {value(v)}" for s, v in sorted(point.items(), key=str))


def _evaluate(
    expr: Basic, point: dict[Symbol, Any], precision: int, *, real: bool = False
) -> mpmath.mpc | None:
    """``expr`` at ``point`` (``None`` if undefined there, or not real when ``real``), evaluated
    with SymPy's adaptive ``evalf`` at ``precision`` digits and kept as an mpmath number, so
    tiny differences are never rounded to zero."""
    bits = int(precision * 3.33) + 16
    try:
        value = expr.evalf(precision, subs=point, maxn=4 * precision + 200)
        if value.has(S.NaN, S.ComplexInfinity, oo, -oo) or value.free_symbols:
            return None
        re_part, im_part = value.as_real_imag()
        number = mpmath.mpc(re_part._to_mpmath(bits), im_part._to_mpmath(bits))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, AttributeError):
        return None
    if not mpmath.isfinite(number):
        return None
    if real and abs(number.imag) > 1e-12 * max(1, abs(number.real)):
        return None
    return number


def _violated(conditions: list[Condition], point: dict[Symbol, Any]) -> bool:
    """True if ``point`` breaks one of ``conditions`` (a near-zero value counts as zero)."""
    for kind, expr in conditions:
        value = _evaluate(expr, point, 40)
        if value is None:
            return True
        tiny = abs(value) < 1e-20
        if kind == "nonzero" and tiny:
            return True
        if kind != "nonzero" and not tiny and abs(value.imag) > 1e-20 * abs(value):
            return True  # not real
        if kind == "positive" and (tiny or value.real < 0):
            return True
        if kind == "nonnegative" and not tiny and value.real < 0:
            return True
    return False
