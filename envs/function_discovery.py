"""FunctionDiscovery: find a hidden function by asking for its values, in as few queries as
possible; the formula is checked with SymPy."""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from langgames.core import GameInfo, LanguageGame, Move, Opponent, ParseError
from langgames.envs._exact_answer import show_rational
from langgames.envs._parsing import last_line
from langgames.verifiers.exact import extract_answer
from langgames.verifiers.verdict import Status, Verdict

__all__ = ["QUERY_RANGE", "FunctionDiscovery", "Hidden"]

#: Queries ask for f(x) at an integer x with ``-QUERY_RANGE <= x <= QUERY_RANGE``.
QUERY_RANGE = 20
_CHECK_TIMEOUT = 5.0
_QUERY = re.compile(r"(?i)^(?:query\s*[:=]?\s*(?P<a>\S+)|f\s*\(\s*(?P<b>[^()]*?)\s*\))$")
_ANSWER = re.compile(r"(?i)^answer\s*[:=]?\s*(?P<formula>.*)$")
_BOXED = re.compile(r"\\boxed\s*\{")
_INTEGER = re.compile(r"[+-]?\d{1,6}")
_PREFIX = re.compile(r"(?i)^\s*(?:f\s*\(\s*x\s*\)|y)\s*=\s*")
_HINT = "`query: 3` to ask for f(3), or `answer: <formula in x>` such as `answer: 2x^2 - 3x + 1`"


@dataclass(frozen=True)
class Hidden:
    """A hidden function ``P(x) / Q(x)``; coefficients highest degree first (``Q = [1]`` for a
    polynomial)."""

    numerator: tuple[int, ...]
    denominator: tuple[int, ...] = (1,)

    def __call__(self, x: int) -> Fraction:
        return Fraction(_horner(self.numerator, x), _horner(self.denominator, x))

    @property
    def text(self) -> str:
        """The function as a formula in x (the parser reads it back)."""
        top = _poly_text(self.numerator)
        if self.denominator == (1,):
            return top
        return f"({top})/({_poly_text(self.denominator)})"


def _horner(coeffs: tuple[int, ...], x: int) -> int:
    value = 0
    for c in coeffs:
        value = value * x + c
    return value


def _poly_text(coeffs: tuple[int, ...] | list[Any]) -> str:
    """``coeffs`` (highest first, integers or SymPy rationals) as ``2*x^2 - (3/2)*x + 1``."""
    degree = len(coeffs) - 1
    parts: list[str] = []
    for i, c in enumerate(coeffs):
        if c == 0:
            continue
        power = degree - i
        body = "" if power == 0 else "x" if power == 1 else f"x^{power}"
        size = abs(c)
        number = str(size) if "/" not in str(size) or not body else f"({size})"
        term = number if not body else body if size == 1 else f"{number}*{body}"
        if not parts:
            parts.append(term if c > 0 else f"-{term}")
        else:
            parts.append(f"{'+' if c > 0 else '-'} {term}")
    return " ".join(parts) or "0"


# difficulty -> (description of the class, parameters = fewest values that determine f)
_CLASSES = {
    1: ("a polynomial of degree at most 2 with integer coefficients", 3),
    2: ("a polynomial of degree at most 4 with integer coefficients", 5),
    3: (
        "a rational function P(x)/Q(x) in lowest terms, where P is a polynomial of degree at "
        "most 3 with integer coefficients and Q = x^2 + d*x + e with integers d, e has no real "
        "root (so f is defined at every real x)",
        6,
    ),
}


class FunctionDiscovery(LanguageGame):
    """Find a hidden function from its values, asking for as few as possible; checked by SymPy.

    ## Description
    The game hides a function f of a declared class (a polynomial of degree at most 2 or 4 with
    integer coefficients, or at level 3 a rational function ``P/Q`` with ``deg P <= 3`` and a
    monic quadratic ``Q`` without real roots) and shows one free value ``f(x0)``. Each turn the
    player either queries a value, ``query: 3`` (``x`` an integer in ``[-20, 20]``), and the game
    answers exactly (an integer or a fraction), or submits ``answer: <formula in x>``, which is
    compared with the hidden function by ``langgames.verifiers.math.verify_math`` (equal as
    functions: a formula that only matches the queried points is wrong).

    The class has ``m`` free parameters (3, 5 and 6 at the three levels) and ``m`` values
    determine the function (two members of the class agreeing at ``m`` points are equal), so
    with the free value an optimal player needs ``B = m - 1`` queries and then interpolates. The
    reference solver does exactly that: it queries ``B`` new integers and interpolates the ``m``
    known points with exact rationals on the host (``sympy.interpolate``, or a linear solve for
    ``P`` and ``Q``).

    ## Roles
    ``player`` (single role).

    ## Observation
    The class of f, the free value, the rules and budget ``B``, and every value known so far.

    ## Action
    One move on the last non-empty line of the reply (earlier lines are ignored): ``query: 3``
    or ``f(3)`` to ask for a value; ``answer: <formula>`` (the formula may be in ``\\boxed{}``,
    ``answer: f(x) = ...`` is fine) or a line with ``\\boxed{<formula>}`` to submit.

    ## Reward
    On a right formula after ``q`` queries: 1.0 if ``q <= B``, else ``max(0, 1 - (q - B) / m)``
    (every query counts, repeats included). A wrong formula ends the episode with 0.0 (no second
    submission, so guessing cannot be repeated). Queries earn 0. -0.1 for an unreadable move (a
    query outside ``[-20, 20]`` or not an integer, a formula that cannot be read or uses another
    variable), which uses a turn and counts as no query.

    ## Episode end
    Terminates at the first readable submission; truncates after ``max_turns`` moves (default
    30) with nothing earned.

    ## Arguments
    ``difficulty``: 1 (degree <= 2, coefficients in [-9, 9]: B = 2), 2 (degree <= 4, coefficients
    in [-9, 9]: B = 4), 3 (rational, numerator coefficients in [-9, 9], ``Q = x^2 + d x + e`` with
    ``|d| <= 6``, ``e <= 20``: B = 5).

    ## Version History
    * v0: initial version.

    >>> game = FunctionDiscovery(difficulty=1)
    >>> obs, info = game.reset(seed=3)
    >>> for _ in range(3):
    ...     obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, terminated, info["verdict"]["status"]
    (1.0, True, 'correct')
    """

    answer_marker = "line:query|answer"
    game_info = GameInfo(
        name="FunctionDiscovery",
        version=0,
        roles=("player",),
        verifiers=("math", "exact"),
        answer_format=(
            "one move on the last line: `query: 3` (an integer x from -20 to 20) to ask for f(3), "
            "or `answer: <formula in x>` (e.g. `answer: 2x^2 - 3x + 1`) to submit"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=30,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("deduction", "interpolation", "multi-turn", "math"),
    )

    # ------------------------------------------------------------------ instances
    def _setup(self) -> str:
        rng = self.np_random

        def coefficients(count: int) -> list[int]:
            return [int(c) for c in rng.integers(-9, 10, size=count)]

        if self.difficulty in (1, 2):
            degree = 2 if self.difficulty == 1 else 4
            while True:
                top = coefficients(degree + 1)
                if any(top[:-1]):  # not a constant
                    break
            self._hidden = Hidden(tuple(top))
        else:
            while True:
                d = int(rng.integers(-6, 7))
                e = int(rng.integers(d * d // 4 + 1, 21))  # d^2 < 4e: no real root
                top = coefficients(4)
                if any(top) and _remainder(top, d, e) != (0, 0):  # Q does not divide P
                    break
            self._hidden = Hidden(tuple(top), (1, d, e))
        self._parameters = _CLASSES[self.difficulty][1]
        self._budget = self._parameters - 1
        self._x0 = int(rng.integers(-QUERY_RANGE, QUERY_RANGE + 1))
        self._known: dict[int, Fraction] = {self._x0: self._hidden(self._x0)}
        self._order = [self._x0]  # the order values became known, for the prompt
        self._queries = 0
        return "player"

    # ------------------------------------------------------------------ the game
    def _prompt(self, role: str) -> str:
        description, m = _CLASSES[self.difficulty]
        known = ", ".join(f"f({x}) = {show_rational(self._known[x])}" for x in self._order)
        return (
            f"Function discovery. I am thinking of a function f(x): {description}.\n"
            f"To start, one value is free: f({self._x0}) = {show_rational(self._known[self._x0])}."
            "\nEach turn, make one move on the last line of your reply:\n"
            f"- `query: 3` asks for f(3); x must be an integer from {-QUERY_RANGE} to "
            f"{QUERY_RANGE}, and I answer with the exact value;\n"
            "- `answer: <formula in x>` (e.g. `answer: 2x^2 - 3x + 1`) submits your formula, "
            "which is checked against f with SymPy. A wrong formula ends the game with 0.\n"
            f"A right formula after at most {self._budget} queries scores 1.0; each query beyond "
            f"that costs 1/{m}.\n"
            f"Values known so far: {known}.\n"
            f"Queries used: {self._queries} (budget {self._budget})."
        )

    def _play(self, role: str, action: str) -> Move:
        line = last_line(action, what=_HINT)
        answer = _ANSWER.match(line)
        if answer is not None or _BOXED.search(line):
            return self._submit(role, answer["formula"] if answer is not None else line)
        query = _QUERY.match(line)
        if query is None:
            shown = line if len(line) <= 60 else line[:60] + "..."
            raise ParseError(f"expected {_HINT} on the last line, got {shown!r}")
        token = query["a"] if query["a"] is not None else query["b"]
        if not _INTEGER.fullmatch(token):
            shown = token if len(token) <= 30 else token[:30] + "..."
            raise ParseError(
                f"queries take one integer x from {-QUERY_RANGE} to {QUERY_RANGE}, got {shown!r}"
            )
        x = int(token)
        if not -QUERY_RANGE <= x <= QUERY_RANGE:
            raise ParseError(
                f"x = {x} is outside the query range: x must be an integer from {-QUERY_RANGE} "
                f"to {QUERY_RANGE}"
            )
        self._queries += 1
        value = self._hidden(x)
        repeat = x in self._known
        if not repeat:
            self._known[x] = value
            self._order.append(x)
        note = " (already known: the query still counts)" if repeat else ""
        return Move(
            Verdict.make_accepted(
                f"f({x}) = {show_rational(value)}{note}", x=x, queries=self._queries
            ),
            {role: 0.0},
            next_role=role,
            feedback=f"f({x}) = {show_rational(value)}{note}.",
        )

    def _submit(self, role: str, formula: str) -> Move:
        import sympy

        from langgames.verifiers.math import MathParseError, parse_answer, verify_math

        boxed = extract_answer(formula)  # the last \boxed{} (or $...$) of the line, if any
        if boxed is not None:
            formula = boxed
        formula = _PREFIX.sub("", formula.strip().strip("`$").strip(), count=1)
        if not formula:
            raise ParseError(f"the answer is empty; write {_HINT}")
        try:
            parsed = parse_answer(formula)
        except MathParseError as err:
            raise ParseError(f"{err}; write {_HINT}") from None
        expr = parsed.expr
        if not isinstance(expr, sympy.Expr):
            raise ParseError(f"expected one formula in x, not a list, set or equation; {_HINT}")
        others = sorted(s.name for s in expr.free_symbols if s.name != "x")
        if others:
            raise ParseError(
                f"the formula may use only the variable x (it uses {', '.join(others)}); "
                f"write {_HINT}"
            )
        verdict = verify_math(self._hidden.text, formula, timeout=_CHECK_TIMEOUT, variable="x")
        if verdict.status in (Status.UNPARSEABLE, Status.RESOURCE_LIMIT, Status.TIMEOUT):
            raise ParseError(f"{verdict.reason}; write a simpler formula in x")
        details = {"queries": self._queries, "budget": self._budget}
        if verdict.status is Status.VERIFIER_ERROR:
            return Move(verdict.with_details(**details), {role: 0.0}, next_role=None)
        if not verdict.correct:
            verdict = Verdict.make_incorrect(
                f"the formula is not f ({verdict.reason})", **{**verdict.details, **details}
            )
            return Move(verdict, {role: 0.0}, next_role=None)
        q, budget, m = self._queries, self._budget, self._parameters
        reward = 1.0 if q <= budget else max(0.0, 1.0 - (q - budget) / m)
        if reward == 1.0:
            verdict = Verdict.make_correct(
                f"the formula is f, found with {q} queries (budget {budget})",
                **{**verdict.details, **details},
            )
        else:
            verdict = Verdict.make_incorrect(
                f"the formula is f, but {q} queries are over the budget of {budget}",
                reward=reward,
                **{**verdict.details, **details},
            )
        return Move(verdict, {role: reward}, next_role=None, feedback=verdict.reason + ".")

    def game_probes(self) -> dict[str, Opponent]:
        def free_value(obs: str, info: Any, env: Any) -> str:
            known = env.unwrapped._known
            return f"answer: {show_rational(known[env.unwrapped._x0])}"

        return {
            "answer_0": lambda obs, info, env: "answer: 0",
            "identity": lambda obs, info, env: "answer: x",
            "the_free_value_as_a_constant": free_value,
            "many_boxed_candidates": lambda obs, info, env: " ".join(
                f"\\boxed{{{c}}}" for c in ["x", "x^2", "x^2 + 1", "2x + 1", "x^3"]
            ),
            "a_list_of_candidates": lambda obs, info, env: "answer: x, x^2, x^3, x^2 + x + 1",
        }

    # ------------------------------------------------------------------ the reference solver
    def _reference(self, role: str) -> str:
        """Query new integers 0, 1, -1, 2, ... until ``m`` values are known, then interpolate."""
        if len(self._known) < self._parameters:
            x = next(x for x in _spiral() if x not in self._known)
            return f"query: {x}"
        points = [(x, self._known[x]) for x in self._order[: self._parameters]]
        return f"answer: {interpolate(points, rational=self.difficulty == 3)}"

    @property
    def hidden(self) -> Hidden:
        """The hidden function (for tests and analysis; never shown to players)."""
        return self._hidden

    @property
    def budget(self) -> int:
        """Queries an optimal player needs after the free value."""
        return self._budget


def _spiral() -> Any:
    yield 0
    for k in range(1, QUERY_RANGE + 1):
        yield k
        yield -k


def _remainder(top: list[int], d: int, e: int) -> tuple[int, int]:
    """The remainder of ``top`` (highest first) divided by ``x^2 + d x + e``, as (r1, r0)."""
    rest = list(top)
    while len(rest) > 2:
        lead = rest.pop(0)
        rest[0] -= lead * d
        rest[1] -= lead * e
    while len(rest) < 2:
        rest.insert(0, 0)
    return rest[0], rest[1]


def interpolate(points: list[tuple[int, Fraction]], *, rational: bool) -> str:
    """The formula through ``points``: the polynomial of degree ``< len(points)``, or (with
    ``rational``) ``P/Q`` with ``deg P <= 3`` and ``Q = x^2 + d x + e`` from 6 points.

    >>> interpolate([(0, Fraction(1)), (1, Fraction(2)), (2, Fraction(5))], rational=False)
    'x^2 + 1'
    """
    import sympy

    x = sympy.Symbol("x")
    data = [(sympy.Integer(px), sympy.Rational(v.numerator, v.denominator)) for px, v in points]
    if not rational:
        poly = sympy.Poly(sympy.interpolate(data, x), x)
        return _poly_text(poly.all_coeffs())
    # f_i * (x_i^2 + d x_i + e) = p3 x_i^3 + p2 x_i^2 + p1 x_i + p0: linear in (p3..p0, d, e)
    rows, rhs = [], []
    for xi, fi in data:
        rows.append([xi**3, xi**2, xi, 1, -fi * xi, -fi])
        rhs.append(fi * xi**2)
    solution = sympy.Matrix(rows).LUsolve(sympy.Matrix(rhs))
    p3, p2, p1, p0, d, e = list(solution)
    return f"({_poly_text([p3, p2, p1, p0])})/({_poly_text([1, d, e])})"
