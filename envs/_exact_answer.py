"""Readers shared by the exact-arithmetic games (Countdown, Counterexample, SequenceRule,
FunctionDiscovery): where the final answer is, a strict rational literal, exact rationals as text.

Nothing here evaluates model text: answers are located with `extract_answer` (standard library,
linear time) or the last line, and numbers are matched by bounded regular expressions.
"""

from __future__ import annotations

import re
from fractions import Fraction

from langgames.core import ParseError
from langgames.envs._parsing import last_line
from langgames.verifiers.exact import extract_answer

__all__ = ["MAX_ANSWER_CHARS", "final_answer", "parse_rational", "show_rational", "strip_label"]

#: Longest final answer (after extraction) the games read.
MAX_ANSWER_CHARS = 300

_RATIONAL = re.compile(
    r"(?P<sign>[+-]?)\s*(?:"
    r"(?P<num>\d{1,40})\s*/\s*(?P<den>\d{1,40})"
    r"|\\frac\{\s*(?P<fsign>-?)\s*(?P<fnum>\d{1,40})\s*\}\{\s*(?P<fden>\d{1,40})\s*\}"
    r"|(?P<int>\d{1,40})(?:\.(?P<frac>\d{1,40}))?"
    r")"
)
_LABEL = re.compile(r"(?i)^\s*(?:final\s+)?(?:answer|solution|counterexample)\s*(?:is\b|:|=)\s*")


def final_answer(action: str, *, what: str) -> str:
    """The final answer in ``action``: the last ``\\boxed{}`` (or "final answer: ...", "the answer
    is ...", the last ``$...$``, as `extract_answer` decides), else the last non-empty line.

    Raises `ParseError` (telling the player to write ``what``) when there is none or it is longer
    than `MAX_ANSWER_CHARS`.
    """
    text = extract_answer(action)
    if text is None:
        text = last_line(action, what=what)
    text = text.strip().strip("`$").strip()
    if not text:
        raise ParseError(f"the answer is empty; write {what}")
    if len(text) > MAX_ANSWER_CHARS:
        raise ParseError(
            f"the answer is {len(text):,} characters long; the limit is {MAX_ANSWER_CHARS}: "
            f"write only {what}"
        )
    return text


def strip_label(text: str) -> str:
    """``text`` without a leading ``Answer:`` / ``Solution:`` / ``Counterexample:`` label."""
    return _LABEL.sub("", text, count=1).strip()


def parse_rational(text: str, *, what: str) -> Fraction:
    """One exact number written as an integer (``-12``), a fraction (``7/3``, ``\\frac{7}{3}``,
    ``\\frac{-7}{3}``) or a finite decimal (``2.25``, read exactly), making up all of ``text``.

    >>> parse_rational("-7/3", what="x"), parse_rational("2.25", what="x")
    (Fraction(-7, 3), Fraction(9, 4))
    >>> parse_rational(r"\\frac{-7}{3}", what="x"), parse_rational(r"-\\frac{-7}{3}", what="x")
    (Fraction(-7, 3), Fraction(7, 3))
    """
    match = _RATIONAL.fullmatch(text.strip())
    if match is None:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ParseError(
            f"expected {what} as one number (an integer such as -12, a fraction such as 7/3 or a "
            f"decimal such as 2.25), got {shown!r}"
        )
    if match["int"] is not None:
        digits = match["frac"] or ""
        value = Fraction(int(match["int"] + digits), 10 ** len(digits))
    else:
        num = match["num"] if match["num"] is not None else match["fnum"]
        den = match["den"] if match["den"] is not None else match["fden"]
        if int(den) == 0:
            raise ParseError(f"{num}/{den} divides by zero; write {what} as a valid number")
        value = Fraction(int(num), int(den))
    negative = (match["sign"] == "-") != (match["fsign"] == "-")
    return -value if negative else value


def show_rational(value: Fraction) -> str:
    """``-7/3`` or ``12``: how exact values are shown to players (and read back).

    >>> show_rational(Fraction(-14, 6)), show_rational(Fraction(12))
    ('-7/3', '12')
    """
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"
