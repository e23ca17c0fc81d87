"""Countdown: reach a target number from given numbers with + - * / and parentheses, exactly."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Union

from langgames.core import GameInfo, LanguageGame, Move, Opponent, ParseError
from langgames.envs._exact_answer import final_answer, strip_label
from langgames.verifiers.verdict import Verdict

__all__ = ["Countdown", "Expr", "evaluate", "parse_expression", "reachable", "render"]

_SMALL = tuple(range(1, 11))
_LARGE = (25, 50, 75, 100)


@dataclass(frozen=True)
class _Level:
    small: int  # how many numbers are drawn from 1..10
    large: int  # how many from 25, 50, 75, 100 (without repetition)
    used: tuple[int, int]  # the reference expression uses this many numbers (inclusive range)
    ops: str
    target: tuple[int, int]  # inclusive range of the target
    excluded: int  # no expression over this many numbers or fewer reaches the target


_LEVELS = {
    1: _Level(small=4, large=0, used=(2, 3), ops="+-*", target=(10, 99), excluded=1),
    2: _Level(small=4, large=1, used=(3, 4), ops="+-*/", target=(100, 499), excluded=2),
    3: _Level(small=4, large=2, used=(4, 6), ops="+-*/", target=(100, 999), excluded=3),
}

# An expression: an integer literal, or (operator, left, right).
Expr = Union[int, tuple[str, "Expr", "Expr"]]  # noqa: UP007 (a runtime alias: `|` cannot take a string)

_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2}
_ALIASES = {"×": "*", "÷": "/", "·": "*", "x": "*", "X": "*", "−": "-", "[": "(", "]": ")"}
_TOKEN = re.compile(r"\s*(?:(?P<int>\d+)|(?P<sym>\S))")
_TRAILING_VALUE = re.compile(r"\s*=\s*\d{1,12}\s*$")
_MAX_TOKENS = 100
_MAX_DEPTH = 30
_MAX_DIGITS = 9


def evaluate(expr: Expr) -> Fraction:
    """The exact value of ``expr``; raises `ZeroDivisionError` on a division by zero.

    >>> evaluate(("/", ("+", 1, 2), 4))
    Fraction(3, 4)
    """
    if isinstance(expr, int):
        return Fraction(expr)
    op, left, right = expr
    a, b = evaluate(left), evaluate(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b  # ZeroDivisionError for b == 0


def literals(expr: Expr) -> list[int]:
    """The numbers written in ``expr``, left to right."""
    if isinstance(expr, int):
        return [expr]
    return literals(expr[1]) + literals(expr[2])


def render(expr: Expr) -> str:
    """``expr`` as text with only the parentheses it needs.

    >>> render(("*", ("-", 75, 5), ("+", 3, 1)))
    '(75 - 5) * (3 + 1)'
    """
    if isinstance(expr, int):
        return str(expr)
    op, left, right = expr
    prec = _PRECEDENCE[op]
    left_text, right_text = render(left), render(right)
    if not isinstance(left, int) and _PRECEDENCE[left[0]] < prec:
        left_text = f"({left_text})"
    if not isinstance(right, int) and (
        _PRECEDENCE[right[0]] < prec or (_PRECEDENCE[right[0]] == prec and op in "-/")
    ):
        right_text = f"({right_text})"
    return f"{left_text} {op} {right_text}"


class _Parser:
    """Recursive descent over ``expr := term (('+'|'-') term)*``, ``term := factor (('*'|'/')
    factor)*``, ``factor := integer | '(' expr ')'``. No unary signs, no implicit products."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:  # only trailing whitespace is left
                break
            pos = match.end()
            if match["int"] is not None:
                digits = match["int"]
                if len(digits) > _MAX_DIGITS:
                    raise ParseError(
                        f"the number {digits[:12]}... is far longer than any given number"
                    )
                self.tokens.append(("int", digits))
            else:
                sym = _ALIASES.get(match["sym"], match["sym"])
                if sym not in "+-*/()":
                    raise ParseError(
                        f"unexpected character {match['sym']!r}: write only the given numbers, "
                        "+ - * / and parentheses"
                    )
                self.tokens.append(("sym", sym))
            if len(self.tokens) > _MAX_TOKENS:
                raise ParseError(f"the expression has more than {_MAX_TOKENS} symbols")
        if not self.tokens:
            raise ParseError("the expression is empty")
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else None

    def parse(self) -> Expr:
        expr = self.sum(0)
        if self.i < len(self.tokens):
            raise self.stray()
        return expr

    def stray(self) -> ParseError:
        """The error for a token that follows a complete (sub)expression."""
        kind, item = self.tokens[self.i]
        if kind == "int" or item == "(":
            return ParseError(
                f"{item!r} follows a complete expression: numbers cannot be joined into new "
                "numbers and products need an explicit *"
            )
        return ParseError(f"unexpected {item!r} after a complete expression")

    def sum(self, depth: int) -> Expr:
        expr = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.tokens[self.i][1]
            self.i += 1
            expr = (op, expr, self.term(depth))
        return expr

    def term(self, depth: int) -> Expr:
        expr = self.factor(depth)
        while self.peek() in ("*", "/"):
            op = self.tokens[self.i][1]
            self.i += 1
            expr = (op, expr, self.factor(depth))
        return expr

    def factor(self, depth: int) -> Expr:
        if self.i >= len(self.tokens):
            raise ParseError("the expression ends too early: a number or '(' is missing")
        kind, item = self.tokens[self.i]
        self.i += 1
        if kind == "int":
            return int(item)
        if item == "(":
            if depth >= _MAX_DEPTH:
                raise ParseError(f"parentheses are nested more than {_MAX_DEPTH} deep")
            expr = self.sum(depth + 1)
            if self.peek() is None:
                raise ParseError("a '(' is never closed")
            if self.peek() != ")":
                raise self.stray()
            self.i += 1
            return expr
        if item in "+-":
            raise ParseError(
                f"a sign {item!r} stands where a number is expected: unary minus or plus is not "
                "allowed (write 5 - 3, not -3 + 5)"
            )
        raise ParseError(f"{item!r} stands where a number or '(' is expected")


def parse_expression(text: str) -> Expr:
    """Parse an arithmetic expression over integers, + - * / and parentheses (never ``eval``).

    >>> parse_expression("(75 - 5) * 3 + 8")
    ('+', ('*', ('-', 75, 5), 3), 8)
    >>> parse_expression("-3 + 5")
    Traceback (most recent call last):
    ...
    langgames.errors.ParseError: a sign '-' stands where a number is expected: unary minus ...
    """
    return _Parser(text).parse()


def reachable(numbers: list[int], most: int) -> set[Fraction]:
    """Every value of an expression over at most ``most`` of ``numbers`` (each used once)."""
    count = len(numbers)
    values: dict[int, set[Fraction]] = {}
    for mask in sorted(range(1, 1 << count), key=lambda m: bin(m).count("1")):
        size = bin(mask).count("1")
        if size > most:
            continue
        if size == 1:
            values[mask] = {Fraction(numbers[mask.bit_length() - 1])}
            continue
        found: set[Fraction] = set()
        sub = (mask - 1) & mask
        while sub:
            rest = mask ^ sub
            if sub < rest:
                for a in values[sub]:
                    for b in values[rest]:
                        found.update((a + b, a - b, b - a, a * b))
                        if b:
                            found.add(a / b)
                        if a:
                            found.add(b / a)
            sub = (sub - 1) & mask
        values[mask] = found
    out: set[Fraction] = set()
    for found in values.values():
        out |= found
    return out


class Countdown(LanguageGame):
    """Reach a target number from given numbers with + - * / and parentheses, checked exactly.

    ## Description
    The game shows a few numbers and a target. The player writes one arithmetic expression that
    uses some of the numbers, each at most as often as it is given, with ``+``, ``-``, ``*``,
    ``/`` and parentheses, whose value is the target. The expression is read by a small
    recursive-descent parser (never ``eval``) and evaluated with exact rationals, so fractions
    along the way are fine (``(7 / 2) * 4`` is 14) and a division by zero makes the expression
    invalid. Unary minus is not allowed (write ``5 - 3``, not ``-3 + 5``) and digits may not be
    joined into new numbers (``1`` and ``2`` do not make ``12``): the multiset of numbers written
    must be contained in the multiset given. Every instance is built from a random expression
    over a random subset of the numbers, so it always has a solution; the target is never one of
    the numbers, their sum or their product.

    ## Roles
    ``player`` (single role).

    ## Observation
    The numbers, the target, the rules and the answer format.

    ## Action
    A reply whose final answer is in ``\\boxed{...}`` (otherwise its last non-empty line is
    read): one expression such as ``(75 - 5) * 3 + 8``, optionally followed by ``= <value>``
    (ignored) and preceded by ``Answer:``. ``×``, ``x`` and ``·`` are read as ``*``, ``÷`` as
    ``/``, ``−`` as ``-`` and square brackets as parentheses.

    ## Reward
    1.0 if the expression uses only the given numbers and its value is the target; 0.0 if it is
    readable but wrong (another value, a number not given or used too often, a division by
    zero); -0.1 for an unreadable reply (not an expression, unary minus, two numbers side by
    side), after which the player may try again. There is no partial credit for coming close.

    ## Episode end
    Terminates after the first readable expression; truncates after ``max_turns`` moves
    (default 3), which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: 1 (four numbers from 1-10, target 10-99 built with + - * from 2-3 of them),
    2 (one of 25/50/75/100 and four from 1-10, target 100-499 from 3-4 numbers, not reachable
    with 2), 3 (two large and four small numbers, target 100-999 from 4-6 numbers, not
    reachable with 3 or fewer).

    ## Version History
    * v0: initial version.

    >>> game = Countdown(difficulty=2)
    >>> obs, info = game.reset(seed=5)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = "boxed"
    game_info = GameInfo(
        name="Countdown",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "one expression over the given numbers with + - * / and parentheses, alone on the "
            "last line or in \\boxed{...}, e.g. `(75 - 5) * 3 + 8` (no unary minus, no joined "
            "digits)"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("arithmetic", "search", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        level = _LEVELS[self.difficulty]
        rng = self.np_random
        while True:
            small = [int(v) for v in rng.choice(_SMALL, size=level.small)]
            large = [int(v) for v in rng.choice(_LARGE, size=level.large, replace=False)]
            numbers = sorted(large + small, reverse=True)
            for _ in range(60):
                expr = self._random_expression(numbers, level)
                if expr is None:
                    continue
                target = evaluate(expr)
                if not level.target[0] <= target <= level.target[1] or target in numbers:
                    continue
                if target in (sum(numbers), math.prod(numbers)):  # no blind "use them all"
                    continue
                if target in reachable(numbers, level.excluded):
                    continue
                self._numbers, self._target, self._solution = numbers, int(target), expr
                return "player"

    def _random_expression(self, numbers: list[int], level: _Level) -> Expr | None:
        """A random expression over a random subset, with positive whole intermediate values."""
        rng = self.np_random
        size = int(rng.integers(level.used[0], level.used[1] + 1))
        chosen = [numbers[int(i)] for i in rng.permutation(len(numbers))[:size]]
        return self._tree(chosen, level.ops)

    def _tree(self, chosen: list[int], ops: str) -> Expr | None:
        if len(chosen) == 1:
            return chosen[0]
        split = int(self.np_random.integers(1, len(chosen)))
        left = self._tree(chosen[:split], ops)
        right = self._tree(chosen[split:], ops)
        if left is None or right is None:
            return None
        a, b = evaluate(left), evaluate(right)
        if a < b:  # keep differences positive: the larger operand goes first
            left, right, a, b = right, left, b, a
        options = [op for op in ops if self._clean(op, a, b)]
        if not options:
            return None
        op = options[int(self.np_random.integers(len(options)))]
        return (op, left, right)

    @staticmethod
    def _clean(op: str, a: Fraction, b: Fraction) -> bool:
        """Steps a person would take: no zero, no "* 1" or "/ 1", exact division only."""
        if op == "-":
            return a > b
        if op in "*/" and b == 1:
            return False
        if op == "/":
            return (a / b).denominator == 1
        return True

    def _prompt(self, role: str) -> str:
        shown = ", ".join(map(str, self._numbers))
        return (
            f"Countdown. Numbers: {shown}. Target: {self._target}.\n"
            "Write one expression whose value is exactly the target, using +, -, *, / and "
            "parentheses. Each number may be used at most as many times as it is listed; you do "
            "not have to use them all. Digits cannot be joined into new numbers (1 and 2 do not "
            "make 12) and there is no unary minus (write 5 - 3, not -3 + 5). Division is exact: "
            "fractions along the way are fine, division by zero is not.\n"
            "Reply with the expression alone on the last line, or in \\boxed{...}, e.g. "
            "`(10 - 4) * 7 + 3`; you may end it with `= <value>`."
        )

    def _play(self, role: str, action: str) -> Move:
        text = strip_label(final_answer(action, what="one expression such as (10 - 4) * 7 + 3"))
        text = _TRAILING_VALUE.sub("", text)
        if "=" in text:
            raise ParseError(
                "write one expression, optionally followed by `= <value>` and nothing else (the "
                "value must be an integer)"
            )
        expr = parse_expression(text)
        used = Counter(literals(expr))
        given = Counter(self._numbers)
        details: dict[str, Any] = {
            "numbers": self._numbers,
            "target": self._target,
            "expression": render(expr),
        }
        for number in sorted(used):
            if used[number] > given[number]:
                if given[number] == 0:
                    why = f"{number} is not one of the given numbers"
                    if len(str(number)) > 1:
                        why += " (digits cannot be joined into new numbers)"
                else:
                    times = "once" if given[number] == 1 else f"{given[number]} times"
                    why = f"{number} is used {used[number]} times but given only {times}"
                return self._judged(role, Verdict.make_incorrect(why, **details))
        try:
            value = evaluate(expr)
        except ZeroDivisionError:
            verdict = Verdict.make_incorrect("the expression divides by zero", **details)
            return self._judged(role, verdict)
        shown = str(value.numerator) if value.denominator == 1 else str(value)
        if value == self._target:
            verdict = Verdict.make_correct(f"the expression equals {self._target}", **details)
        else:
            verdict = Verdict.make_incorrect(
                f"the expression equals {shown}, not the target {self._target}",
                value=shown,
                **details,
            )
        return self._judged(role, verdict)

    def _judged(self, role: str, verdict: Verdict) -> Move:
        return Move(verdict, {role: self._reward_for(verdict)}, next_role=None)

    def game_probes(self) -> dict[str, Opponent]:
        def numbers(env: Any) -> list[int]:
            return env.unwrapped.numbers

        return {
            "the_target_itself": lambda obs, info, env: str(env.unwrapped.target),
            "sum_of_every_number": lambda obs, info, env: " + ".join(map(str, numbers(env))),
            "product_of_every_number": lambda obs, info, env: " * ".join(map(str, numbers(env))),
            "many_boxed_candidates": lambda obs, info, env: " ".join(
                f"\\boxed{{{a} {op} {b}}}"
                for a in numbers(env)
                for b in numbers(env)
                for op in "+-*"
            ),
        }

    def _reference(self, role: str) -> str:
        return f"{render(self._solution)} = {self._target}"

    @property
    def numbers(self) -> list[int]:
        """The given numbers of the current instance (largest first)."""
        return list(self._numbers)

    @property
    def target(self) -> int:
        """The target of the current instance."""
        return self._target

    @property
    def numbers_in_solution(self) -> int:
        """How many numbers the reference expression uses (its work)."""
        return len(literals(self._solution))
