"""Exact answers for games, light to import: find, read and evaluate them with one set of limits.

Importing this module loads only the standard library; SymPy is imported on the first call that
needs it (`parse_answer`, `parse_math`, `evaluate_at` given a SymPy object). What a game needs
from the math verifier without judging equivalence lives here, under public names:

- `extract_answer`: the final answer in free-form text (``\\boxed{}``, "final answer", ``$...$``);
- `parse_answer` / `parse_math`: the safe parser (never ``eval``), giving a `ParsedMath` or a
  SymPy object, and its errors `MathParseError` / `MathSizeError`;
- `evaluate_at`: the exact value of a parsed formula at rational points, with
  `fractions.Fraction`, raising `Unsupported`, `Undefined`, `TooLarge` or `NotExact`;
- `MAX_BITS` and `MAX_FACTORIAL`: the size limits shared by the parser and the evaluator, so a
  number the parser builds is never refused by the evaluator for its size, and the reverse.

>>> extract_answer(r"so \\boxed{7/3}")
'7/3'
>>> parse_answer("-6/8").literal
(-6, 8)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from langgames.errors import (
    MathParseError,
    MathSizeError,
    NotExact,
    TooLarge,
    Undefined,
    Unsupported,
)
from langgames.verifiers._math_extract import extract_answer

if TYPE_CHECKING:
    from langgames.verifiers._math_parse import ParsedMath

__all__ = [
    "MAX_BITS",
    "MAX_FACTORIAL",
    "MathParseError",
    "MathSizeError",
    "NotExact",
    "ParsedMath",
    "TooLarge",
    "Undefined",
    "Unsupported",
    "evaluate_at",
    "extract_answer",
    "parse_answer",
    "parse_math",
]

#: Largest numerator or denominator, in bits, of any exact number the parser builds or the
#: evaluator meets (~3,900 digits). One limit for both.
MAX_BITS = 13_000
#: Largest n for which n! and binomial coefficients are computed (parser and evaluator).
MAX_FACTORIAL = 1_000
_NAMES = {"Exp1": "e", "Pi": "pi", "ImaginaryUnit": "i", "Infinity": "infinity"}


def parse_answer(text: str) -> ParsedMath:
    """Parse ``text`` with the safe parser into a `ParsedMath` (cached; loads SymPy on first use).
    Raises `MathParseError` or its subclass `MathSizeError`."""
    from langgames.verifiers.math import parse_answer as parse

    return parse(text)


def parse_math(text: str) -> Any:
    """Parse ``text`` into a SymPy object (see `parse_answer`)."""
    return parse_answer(text).expr


def __getattr__(name: str) -> Any:
    if name == "ParsedMath":
        from langgames.verifiers._math_parse import ParsedMath

        return ParsedMath
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _bits(value: Fraction) -> int:
    return max(abs(value.numerator).bit_length(), value.denominator.bit_length())


def _checked(value: Fraction) -> Fraction:
    if _bits(value) > MAX_BITS:
        raise TooLarge(f"a value exceeds {MAX_BITS:,} bits")
    return value


def _integer(value: Fraction, what: str) -> int:
    if value.denominator != 1:
        raise Undefined(f"{what} of the non-integer {value}")
    return value.numerator


def _root(value: int, k: int) -> int | None:
    """The exact ``k``-th root of ``value >= 0``, or ``None``."""
    if value < 2:
        return value
    guess = round(value ** (1.0 / k)) if value.bit_length() < 1000 else None
    if guess is None:
        lo, hi = 0, 1 << (value.bit_length() // k + 1)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if mid**k <= value:
                lo = mid
            else:
                hi = mid - 1
        guess = lo
    for candidate in (guess - 1, guess, guess + 1):
        if candidate >= 0 and candidate**k == value:
            return candidate
    return None


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    p, q = exponent.numerator, exponent.denominator
    if base == 0:
        if exponent < 0:
            raise Undefined("it divides by zero")
        return Fraction(0) if exponent > 0 else Fraction(1)
    if q == 1 and abs(base) == 1:
        return base**p  # (-1)^n stays cheap for any n
    if _bits(base) * abs(p) > MAX_BITS:
        raise TooLarge(f"a power exceeds {MAX_BITS:,} bits")
    if q != 1:
        if base < 0:  # SymPy's root of a negative number is complex: never a term here
            raise NotExact(f"a root of the negative number {base} is not a real rational")
        num, den = _root(base.numerator, q), _root(base.denominator, q)
        if num is None or den is None:
            raise NotExact(f"the root of {base} is irrational")
        base = Fraction(num, den)
    return _checked(base**p)


def _binomial(top: int, k: int) -> Fraction:
    if k < 0:
        return Fraction(0)
    if k > MAX_FACTORIAL:
        raise TooLarge(f"binomial coefficients with k above {MAX_FACTORIAL} are not computed")
    if top >= 0:
        return _checked(Fraction(math.comb(top, k)))
    # C(-m, k) = (-1)^k C(m + k - 1, k)
    return _checked(Fraction((-1) ** k * math.comb(-top + k - 1, k)))


def evaluate_at(expr: Any, values: Mapping[str, Fraction]) -> Fraction:
    """The exact value of the SymPy expression ``expr`` with each symbol named in ``values``
    replaced by its value.

    Raises `Unsupported`, `Undefined`, `TooLarge` or `NotExact` (all ``ValueError``) with a
    reason a player can act on.

    >>> evaluate_at(parse_math("3*2^n - (-1)^n*n + n!/2"), {"n": Fraction(5)})
    Fraction(161, 1)
    >>> evaluate_at(parse_math("n^(n^n)"), {"n": Fraction(9)})
    Traceback (most recent call last):
    ...
    langgames.errors.TooLarge: a power exceeds 13,000 bits
    """
    import sympy

    def walk(node: Any) -> Fraction:
        if isinstance(node, sympy.Rational):  # Integer and Rational
            return Fraction(int(node.p), int(node.q))
        if isinstance(node, sympy.Symbol):
            if node.name not in values:
                raise Unsupported(f"the formula uses {node.name}, which is not a variable here")
            return values[node.name]
        if isinstance(node, sympy.Add):
            total = Fraction(0)
            for arg in node.args:
                total = _checked(total + walk(arg))
            return total
        if isinstance(node, sympy.Mul):
            product = Fraction(1)
            for arg in node.args:
                product = _checked(product * walk(arg))
            return product
        if isinstance(node, sympy.Pow):
            base, exponent = node.args
            e = walk(exponent)
            if e.denominator > 64:
                raise NotExact(f"the exponent {e} is not a simple fraction")
            return _power(walk(base), e)
        if isinstance(node, sympy.factorial):
            k = _integer(walk(node.args[0]), "factorial")
            if k < 0:
                raise Undefined(f"{k}! is undefined")
            if k > MAX_FACTORIAL:
                raise TooLarge(f"{k}! is too large (factorials above {MAX_FACTORIAL}!)")
            return _checked(Fraction(math.factorial(k)))
        if isinstance(node, sympy.binomial):
            top = _integer(walk(node.args[0]), "binomial coefficient")
            k = _integer(walk(node.args[1]), "binomial coefficient")
            return _binomial(top, k)
        if isinstance(node, sympy.Abs):
            return abs(walk(node.args[0]))
        if isinstance(node, sympy.floor):
            return Fraction(math.floor(walk(node.args[0])))
        if isinstance(node, sympy.ceiling):
            return Fraction(math.ceil(walk(node.args[0])))
        if node in (sympy.zoo, sympy.nan):
            raise Undefined("it divides by zero")
        name = type(node).__name__
        name = _NAMES.get(name, getattr(node, "name", None) or str(node.func))
        raise Unsupported(
            f"{name} is not allowed here: use numbers, {', '.join(sorted(values))}, "
            "+ - * / ^, parentheses, factorials (k!), binomials (\\binom{a}{b}), |...|, floor "
            "and ceil"
        )

    return walk(expr)
