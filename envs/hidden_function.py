"""HiddenFunction: a keeper sets a hidden function and must answer queries truthfully; a prober
asks and then names the function. The game checks every answer and the final guess itself."""

from __future__ import annotations

import re
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.errors import InvalidArgument
from langgames.verifiers.verdict import Verdict

__all__ = ["HiddenFunction", "SystematicProber", "TruthfulKeeper", "evaluate", "parse_function"]

#: The function's domain is every integer x from -d to d, with d drawn per instance from these.
DOMAINS = (6, 7, 8, 9, 10)
_PENALTY = -0.1
_MAX_TOKENS = 60
_MAX_DEPTH = 12
_MAX_CONST = 99
#: (largest keeper function in nodes, queries the prober may ask) per level.
_LEVELS = {1: (5, 3), 2: (7, 4), 3: (9, 5)}
#: The prober's guess may be up to this many times larger than the keeper's limit.
_GUESS_FACTOR = 3

# An expression: ("c", value) | ("x",) | (op, left, right) for + - * % min max | ("abs", e) |
# ("neg", e).
Expr = tuple[Any, ...]

_TOKEN = re.compile(r"\s*(?:(?P<int>\d+)|(?P<name>[A-Za-z_]+)|(?P<sym>\S))")
_LINE = re.compile(
    r"(?i)^[\W_]{0,3}(?P<kw>function|answer|query|guess)[*_`]{0,3}[ \t]{0,4}[:=][ \t]*(?P<body>.*)$"
)


def evaluate(expr: Expr, x: int) -> int:
    """The value of ``expr`` at ``x`` (``%`` is Python's: the result has the divisor's sign).

    >>> evaluate(parse_function("abs(x - 3) * 2 + x % 4"), -2)
    12
    """
    kind = expr[0]
    if kind == "c":
        return expr[1]
    if kind == "x":
        return x
    if kind == "neg":
        return -evaluate(expr[1], x)
    if kind == "abs":
        return abs(evaluate(expr[1], x))
    a = evaluate(expr[1], x)
    b = evaluate(expr[2], x)
    if kind == "+":
        return a + b
    if kind == "-":
        return a - b
    if kind == "*":
        return a * b
    if kind == "%":
        return a % b  # the parser admits only a positive constant divisor
    if kind == "min":
        return min(a, b)
    return max(a, b)


def size(expr: Expr) -> int:
    """The number of nodes of ``expr`` (a constant, ``x``, an operator or a function call)."""
    if expr[0] in ("c", "x"):
        return 1
    return 1 + sum(size(e) for e in expr[1:])


def constants(expr: Expr) -> list[int]:
    if expr[0] == "c":
        return [expr[1]]
    if expr[0] == "x":
        return []
    return [c for e in expr[1:] for c in constants(e)]


def render(expr: Expr) -> str:
    """``expr`` as text the parser reads back (binary operations parenthesised when nested).

    >>> render(parse_function("(3*x+ 2) % 5"))
    '(3 * x + 2) % 5'
    """
    return _render(expr, top=True)


_PREC = {"+": 1, "-": 1, "*": 2, "%": 2}


def _render(expr: Expr, top: bool = False, parent: int = 0, right: bool = False) -> str:
    kind = expr[0]
    if kind == "c":
        value = expr[1]
        return f"({value})" if value < 0 and not top else str(value)
    if kind == "x":
        return "x"
    if kind == "neg":
        return f"-({_render(expr[1], top=True)})"
    if kind in ("abs", "min", "max"):
        return f"{kind}(" + ", ".join(_render(e, top=True) for e in expr[1:]) + ")"
    if kind == "+" and expr[2][0] == "c" and expr[2][1] < 0:
        expr = ("-", expr[1], ("c", -expr[2][1]))
        kind = "-"
    prec = _PREC[kind]
    text = f"{_render(expr[1], parent=prec)} {kind} {_render(expr[2], parent=prec, right=True)}"
    if prec < parent or (prec == parent and right):
        return f"({text})"
    return text


class _Parser:
    """``e := t (('+'|'-') t)*``; ``t := u (('*'|'%') u)*``; ``u := '-' u | atom``;
    ``atom := int | 'x' | '(' e ')' | abs(e) | min(e, e) | max(e, e)``. ``%`` takes a positive
    integer constant on its right."""

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None:
                break
            pos = match.end()
            if match["int"] is not None:
                if len(match["int"]) > 3:
                    raise ParseError(f"the number {match['int'][:8]} is too large (at most 999)")
                self.tokens.append(match["int"])
            elif match["name"] is not None:
                name = match["name"].lower()
                if name not in ("x", "abs", "min", "max"):
                    raise ParseError(
                        f"unknown name {match['name'][:20]!r}: the only variable is x and the "
                        "only functions are abs, min and max"
                    )
                self.tokens.append(name)
            else:
                sym = {"−": "-", "×": "*", "·": "*"}.get(match["sym"], match["sym"])
                if sym not in "+-*%(),":
                    raise ParseError(
                        f"unexpected character {match['sym']!r}: use integers, x, + - * %, "
                        "parentheses, abs(), min(,) and max(,)"
                    )
                self.tokens.append(sym)
            if len(self.tokens) > _MAX_TOKENS:
                raise ParseError(f"the expression has more than {_MAX_TOKENS} symbols")
        if not self.tokens:
            raise ParseError("the expression is empty")
        self.i = 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, want: str) -> None:
        if self.peek() != want:
            got = self.peek()
            raise ParseError(
                f"expected {want!r} " + (f"but found {got!r}" if got else "at the end")
            )
        self.i += 1

    def parse(self) -> Expr:
        expr = self.sum(0)
        if self.i < len(self.tokens):
            raise ParseError(f"unexpected {self.tokens[self.i]!r} after a complete expression")
        return expr

    def sum(self, depth: int) -> Expr:
        if depth > _MAX_DEPTH:
            raise ParseError(f"the expression nests more than {_MAX_DEPTH} deep")
        expr = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.tokens[self.i]
            self.i += 1
            expr = (op, expr, self.term(depth))
        return expr

    def term(self, depth: int) -> Expr:
        expr = self.unary(depth)
        while self.peek() in ("*", "%"):
            op = self.tokens[self.i]
            self.i += 1
            right = self.unary(depth)
            if op == "%" and not (right[0] == "c" and right[1] > 0):
                raise ParseError("the right side of % must be a positive integer, e.g. x % 3")
            expr = (op, expr, right)
        return expr

    def unary(self, depth: int) -> Expr:
        if self.peek() == "-":
            self.i += 1
            inner = self.unary(depth + 1)
            if inner[0] == "c":
                return ("c", -inner[1])
            return ("neg", inner)
        return self.atom(depth)

    def atom(self, depth: int) -> Expr:
        item = self.peek()
        if item is None:
            raise ParseError("the expression ends too early")
        self.i += 1
        if item.isdigit():
            return ("c", int(item))
        if item == "x":
            return ("x",)
        if item == "(":
            expr = self.sum(depth + 1)
            self.take(")")
            return expr
        if item in ("abs", "min", "max"):
            self.take("(")
            first = self.sum(depth + 1)
            if item == "abs":
                self.take(")")
                return ("abs", first)
            self.take(",")
            second = self.sum(depth + 1)
            self.take(")")
            return (item, first, second)
        raise ParseError(f"{item!r} stands where a number, x or '(' is expected")


def parse_function(text: str) -> Expr:
    """Parse a function of x in the game's small language (never ``eval``).

    >>> parse_function("max(x, 2) - 3")
    ('-', ('max', ('x',), ('c', 2)), ('c', 3))
    """
    return _Parser(text).parse()


def _values(expr: Expr, xs: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(evaluate(expr, x) for x in xs)


# ------------------------------------------------------------------------- instance functions
def _const(rng: np.random.Generator, low: int, high: int, nonzero: bool = True) -> Expr:
    while True:
        v = int(rng.integers(low, high + 1))
        if v or not nonzero:
            return ("c", v)


def _linear(rng: np.random.Generator) -> Expr:
    a = _const(rng, -5, 5)
    while abs(a[1]) < 2:
        a = _const(rng, -5, 5)
    return ("+", ("*", a, ("x",)), _const(rng, -9, 9))


def _family(rng: np.random.Generator, level: int) -> Expr:
    """A random function of the level's families (the keeper's reference and TruthfulKeeper)."""
    x: Expr = ("x",)
    kind = int(rng.integers(3))
    if level == 1:
        if kind == 0:
            return _linear(rng)
        if kind == 1:
            return ("abs", ("-", x, _const(rng, -5, 5)))
        return ("+", ("%", x, _const(rng, 2, 5)), _const(rng, -9, 9))
    if level == 2:
        if kind == 0:
            return ("+", ("*", _const(rng, -3, 3), ("*", x, x)), _const(rng, -9, 9))
        if kind == 1:
            return ("+", ("*", _const(rng, 2, 4), ("abs", x)), _const(rng, -9, 9))
        return ("max", _linear(rng), _const(rng, -5, 5))
    if kind == 0:
        return ("%", _linear(rng), _const(rng, 3, 7))
    if kind == 1:
        return ("min", ("*", _const(rng, -3, 3), ("abs", ("-", x, _const(rng, -4, 4)))),
                _const(rng, -6, 6))  # fmt: skip
    return ("+", ("*", x, ("+", x, _const(rng, -4, 4))), ("%", x, _const(rng, 2, 3)))


def _fit_polynomial(points: list[tuple[int, int]]) -> Expr | None:
    """The lowest-degree (<= 2) polynomial with integer coefficients through ``points``."""
    for degree in range(3):
        if len(points) < degree + 1:
            break
        base = points[: degree + 1]
        coeffs = _solve(base, degree)
        if coeffs is None:
            continue
        fits = all(sum(c * x**k for k, c in enumerate(coeffs)) == y for x, y in points)
        if fits and all(c.denominator == 1 for c in coeffs):
            return _poly_expr([int(c) for c in coeffs])
    return None


def _solve(points: list[tuple[int, int]], degree: int) -> list[Fraction] | None:
    """Coefficients c0..c_degree of the polynomial through ``points`` (Lagrange, exact)."""
    n = degree + 1
    matrix = [[Fraction(x) ** k for k in range(n)] + [Fraction(y)] for x, y in points]
    for col in range(n):
        pivot = next((r for r in range(col, n) if matrix[r][col] != 0), None)
        if pivot is None:
            return None
        matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
        for r in range(n):
            if r != col and matrix[r][col] != 0:
                factor = matrix[r][col] / matrix[col][col]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[col], strict=True)]
    return [matrix[k][n] / matrix[k][k] for k in range(n)]


def _poly_expr(coeffs: list[int]) -> Expr:
    terms: list[Expr] = []
    for k, c in enumerate(coeffs):
        if c == 0:
            continue
        mono: Expr = ("c", c)
        if k >= 1:
            power: Expr = ("x",) if k == 1 else ("*", ("x",), ("x",))
            mono = power if c == 1 else ("*", ("c", c), power)
        terms.append(mono)
    if not terms:
        return ("c", 0)
    expr = terms[-1]
    for term in reversed(terms[:-1]):
        expr = ("+", expr, term)
    return expr


class HiddenFunction(LanguageGame):
    """A keeper sets a hidden function and answers queries; a prober asks, then names it.

    ## Description
    The **keeper** writes a function of an integer ``x`` in a small language (integers, ``x``,
    ``+ - *``, ``%`` by a positive constant, parentheses, ``abs``, ``min``, ``max``), within a
    size limit, that is not constant on the domain (every integer ``x`` from ``-d`` to ``d``,
    with ``d`` from 6 to 10 drawn per instance) and takes the value the game announces to both
    players at one point (``f(a) = b``, drawn per instance). The game parses it (never
    ``eval``) and keeps it hidden from the prober. The **prober** then asks for the value at
    integers of the domain, one per move, up to a query budget, and ends with a guess: a
    function in the same language. Every keeper answer is checked by the game, which evaluates
    the function itself: a false answer is a *lie*; the game tells the prober the true value
    instead, fines the keeper and takes away any win. The guess is right if it agrees with the
    keeper's function at every x of the domain (so any equivalent expression counts).

    ## Roles
    ``keeper`` acts first (the function), then ``prober`` and ``keeper`` alternate (query,
    answer) until the prober guesses. Fixed opponents: `TruthfulKeeper` (sets a random function
    of the level's families and always answers truthfully) trains a prober; `SystematicProber`
    (queries 0, 1, -1, 2, ... and guesses the lowest-degree integer polynomial through the
    answers) trains a keeper, who beats it with any function that is not such a polynomial on
    the queried points. The reference prober is an oracle: it asks its queries, then names the
    function; the reference keeper sets the instance's function (against `SystematicProber`, a
    legal function verified at setup to beat it) and answers truthfully.

    ## Observation
    Keeper: the language, the limits, the announced value, then (for each query) its own
    function and the queried x. Prober: the language, the keeper's size limit, the announced
    value, the queries so far with their answers, the queries left and the answer format. The
    prober never sees the function.

    ## Action
    Keeper: ``function: <expression>``, then ``answer: <integer>`` for each query. Prober:
    ``query: <integer>`` or ``guess: <expression>``. The last line starting with the role's
    keywords is read.

    ## Reward
    Prober: 1.0 for a right guess, 0.0 for a wrong one. Keeper: 1.0 if the prober guesses wrong
    and the keeper never lied, else 0.0, assigned at the guess; -0.1 for each lie. Either role:
    -0.1 for an unreadable or illegal move (an expression over the size limit, a constant
    function, one that misses the announced value, a query outside the domain or beyond the
    budget), after which it tries again.
    ``max_return`` is 1.0 for the prober and, for the keeper, 1.0 against `SystematicProber`
    (reached by the reference keeper, which picks a function that beats it) and 0.0 otherwise
    (the reference prober reads the function).

    ## Episode end
    Terminates at the prober's guess; truncates after ``max_turns`` moves (default 16), which
    only unreadable moves can use up.

    ## Arguments
    ``difficulty``: 1 (functions of at most 5 nodes, 3 queries), 2 (7 nodes, 4 queries), 3 (9
    nodes, 5 queries). ``opponents``: fixed policies for some roles (see Roles).

    ## Version History
    * v0: initial version.

    >>> env = HiddenFunction(opponents={"keeper": TruthfulKeeper()})
    >>> obs, info = env.reset(seed=0)
    >>> info["role"]
    'prober'
    >>> obs, reward, terminated, truncated, info = env.step("query: 2")
    >>> info["opponent_moves"][0]["verdict"]["status"]  # the keeper's answer, checked
    'accepted'
    >>> while not terminated:
    ...     obs, reward, terminated, truncated, info = env.step(env.reference_action())
    >>> reward
    1.0
    """

    answer_marker = {"keeper": "line:function|answer", "prober": "line:query|guess"}
    game_info = GameInfo(
        name="HiddenFunction",
        version=0,
        roles=("keeper", "prober"),
        verifiers=("exact",),
        answer_format=(
            "keeper: `function: <expression in x>` first, then `answer: <integer>` for each "
            "query; prober: `query: <integer of the domain>` or `guess: <expression in x>`"
        ),
        reward_range=(_PENALTY, 1.0),
        max_turns=16,
        max_return=1.0,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("induction", "functions", "multi-role", "self-play", "adversarial", "exact"),
        reference_roles=("prober",),
    )

    @property
    def optimal_roles(self) -> tuple[str, ...]:
        if isinstance(self._opponents.get("prober"), SystematicProber):
            return ("keeper",)
        return super().optimal_roles

    def max_return(self, role: str) -> float:
        if role == "keeper":
            return 1.0 if isinstance(self._opponents.get("prober"), SystematicProber) else 0.0
        return 1.0

    # ------------------------------------------------------------------ instance
    def _setup(self) -> str:
        rng = self.np_random
        self._max_size, self._budget = _LEVELS[self.difficulty]
        while True:
            self._domain = int(DOMAINS[int(rng.integers(len(DOMAINS)))])
            self._xs = tuple(range(-self._domain, self._domain + 1))
            candidate = _family(rng, self.difficulty)
            if size(candidate) > self._max_size or len(set(self._values(candidate))) <= 2:
                continue
            anchors = [x for x in self._xs if -9 <= evaluate(candidate, x) <= 9]
            if not anchors:
                continue
            a = anchors[int(rng.integers(len(anchors)))]
            self._anchor = (a, evaluate(candidate, a))
            beater = self._find_beater(candidate)
            if beater is not None:
                break
        self._instance_function = candidate
        self._beater = beater
        self._function: Expr | None = None
        self._queries: list[tuple[int, int]] = []  # (x, true value)
        self._pending: int | None = None  # the x the keeper must answer
        self._lied = False
        self._log: list[str] = []
        return "keeper"

    def _values(self, expr: Expr) -> tuple[int, ...]:
        """``expr`` at every x of this instance's domain."""
        return _values(expr, self._xs)

    @property
    def queries_left(self) -> int:
        return self._budget - len(self._queries) - (self._pending is not None)

    # ------------------------------------------------------------------ views
    def _language(self) -> str:
        return (
            "Functions are expressions in x built from integers, x, + - * (usual precedence), "
            "% by a positive integer (Python's modulo: x % 3 is 0, 1 or 2 even for negative x), "
            "parentheses, abs(e), min(e, e) and max(e, e). The size of an expression is its "
            "number of integers, x's, operators and function calls: 3 * x + 2 has size 5. The "
            f"domain is every integer x from -{self._domain} to {self._domain}."
        )

    def _prompt(self, role: str) -> str:
        if role == "keeper":
            return self._keeper_prompt()
        return self._prober_prompt()

    def _keeper_prompt(self) -> str:
        if self._function is None:
            return (
                "Hidden function: you are the keeper. Write a function for the prober to "
                f"discover. {self._language()} Your function may have size at most "
                f"{self._max_size}, must use integers from -9 to 9 only, must not be constant on "
                f"the domain, and must satisfy f({self._anchor[0]}) = {self._anchor[1]} (a value "
                "the game announces to both players). The prober will ask for its value at up "
                f"to {self._budget} points of the domain, one at a time, and you must answer "
                "each truthfully: the game evaluates the function itself, and a false answer "
                "is corrected, fined -0.1 and forfeits your win. Then the prober guesses the "
                "function; you win 1.0 if the guess differs from your function somewhere on the "
                "domain, and the prober wins 1.0 if it agrees everywhere.\n"
                "Reply with your function on a last line that starts with `function:`, e.g. "
                "the line `function: abs(x - 2) + 1`."
            )
        assert self._pending is not None
        return (
            f"Hidden function: you are the keeper. Your function is f(x) = "
            f"{render(self._function)}.\n"
            + self._history_text()
            + f"The prober asks for f({self._pending}). Answer truthfully (the game checks).\n"
            "Reply with the value on a last line that starts with `answer:`, e.g. the line "
            "`answer: 7`."
        )

    def _prober_prompt(self) -> str:
        lines = [
            "Hidden function: you are the prober. The keeper has chosen a hidden function f "
            f"of size at most {self._max_size}, and announced that f({self._anchor[0]}) = "
            f"{self._anchor[1]}. {self._language()}",
            self._history_text().rstrip(),
            (
                f"Queries left: {self.queries_left}. Ask for f at one integer of the domain per "
                "move, or guess f."
                if self.queries_left > 0
                else "No queries are left: guess f now."
            )
            + " Your guess is right if it agrees with f at every x of the domain "
            f"(it may be any expression of size at most {self._max_size * _GUESS_FACTOR}); a "
            "right guess wins 1.0, a wrong one 0. Each answer is checked by the game, so "
            "answers are true.",
            "Reply on a last line starting with `query:` (e.g. the line `query: 3`) or with "
            "`guess:` (e.g. the line `guess: 2 * x - 1`).",
        ]
        return "\n".join(line for line in lines if line)

    def _history_text(self) -> str:
        if not self._log:
            return "No queries yet.\n"
        return "Queries so far:\n" + "\n".join(f"  {line}" for line in self._log) + "\n"

    def _candidates(self, role: str) -> list[str] | None:
        if role == "prober" and self._function is not None and self.queries_left > 0:
            return [f"query: {x}" for x in self._xs]
        return None

    # ------------------------------------------------------------------ judging
    @staticmethod
    def _read(text: str, allowed: tuple[str, ...]) -> tuple[str, str]:
        line = ""
        for candidate in reversed(text.splitlines()):
            if candidate.strip():
                line = candidate.strip()
                break
        match = _LINE.match(line[:600])
        if match is None or match["kw"].lower() not in allowed:
            shown = line[:60] + ("..." if len(line) > 60 else "")
            want = " or ".join(f"`{k}: ...`" for k in allowed)
            raise ParseError(f"expected a last line {want}, got {shown!r}")
        body = match["body"].strip().strip("`").strip()
        body = re.sub(r"(?i)^f\s*\(\s*x\s*\)\s*=\s*", "", body[:500])
        return match["kw"].lower(), body

    def _play(self, role: str, action: str) -> Move:
        if role == "keeper":
            if self._function is None:
                return self._define(action)
            return self._answer(action)
        return self._probe(action)

    def _define(self, action: str) -> Move:
        _, body = self._read(action, ("function",))
        expr = parse_function(body)
        n = size(expr)
        if n > self._max_size:
            raise ParseError(f"the function has size {n}; the limit is {self._max_size}")
        consts = constants(expr)
        if any(not -9 <= c <= 9 for c in consts):
            raise ParseError("use integers from -9 to 9 only")
        values = self._values(expr)
        if len(set(values)) == 1:
            raise ParseError(
                f"the function is constant ({values[0]}) on the domain; it must depend on x"
            )
        a, b = self._anchor
        if evaluate(expr, a) != b:
            raise ParseError(
                f"the function must satisfy f({a}) = {b} (the announced value), but gives "
                f"{evaluate(expr, a)} there"
            )
        self._function = expr
        verdict = Verdict.make_accepted(f"the keeper set a function of size {n}")
        return Move(verdict, {"keeper": 0.0}, next_role="prober")

    def _answer(self, action: str) -> Move:
        assert self._function is not None and self._pending is not None
        _, body = self._read(action, ("answer",))
        if not re.fullmatch(r"[+-]?\d{1,12}", body.replace(" ", "")):
            raise ParseError(f"expected the answer as an integer, got {body[:40]!r}")
        said = int(body.replace(" ", ""))
        x = self._pending
        truth = evaluate(self._function, x)
        self._queries.append((x, truth))
        self._pending = None
        if said != truth:
            self._lied = True
            self._log.append(f"f({x}) = {truth} (the keeper said {said}; corrected by the game)")
            verdict = Verdict.make_incorrect(
                f"the keeper said f({x}) = {said}, but f({x}) = {truth}: a lie, fined and "
                "corrected",
                query=x,
                said=said,
                truth=truth,
            )
            return Move(verdict, {"keeper": _PENALTY}, next_role="prober")
        self._log.append(f"f({x}) = {truth}")
        verdict = Verdict.make_accepted(f"f({x}) = {truth}, checked", query=x, value=truth)
        return Move(verdict, {"keeper": 0.0}, next_role="prober")

    def _probe(self, action: str) -> Move:
        assert self._function is not None
        kw, body = self._read(action, ("query", "guess"))
        if kw == "query":
            if not re.fullmatch(r"[+-]?\d{1,6}", body.replace(" ", "")):
                raise ParseError(f"expected one integer after `query:`, got {body[:40]!r}")
            x = int(body.replace(" ", ""))
            if not -self._domain <= x <= self._domain:
                raise ParseError(
                    f"query an integer from -{self._domain} to {self._domain}, not {x}"
                )
            if self.queries_left <= 0:
                raise ParseError("no queries are left: guess the function with `guess: ...`")
            self._pending = x
            verdict = Verdict.make_accepted(f"the prober asks for f({x})", query=x)
            return Move(verdict, {"prober": 0.0}, next_role="keeper")
        guess = parse_function(body)
        limit = self._max_size * _GUESS_FACTOR
        if size(guess) > limit:
            raise ParseError(f"the guess has size {size(guess)}; the limit is {limit}")
        want = self._values(self._function)
        got = self._values(guess)
        keeper = 0.0 if self._lied else 1.0
        if got == want:
            verdict = Verdict.make_correct(
                f"the guess {render(guess)} agrees with f = {render(self._function)} on the "
                "whole domain",
                lied=self._lied,
            )
            rewards = {"prober": 1.0, "keeper": 0.0}
        else:
            x = next(x for x, a, b in zip(self._xs, got, want, strict=True) if a != b)
            verdict = Verdict.make_incorrect(
                f"the guess {render(guess)} gives {evaluate(guess, x)} at x = {x}, but "
                f"f = {render(self._function)} gives {evaluate(self._function, x)}",
                lied=self._lied,
            )
            rewards = {"prober": 0.0, "keeper": keeper}
        return Move(verdict, rewards, next_role=None, feedback=verdict.reason + ".")

    # ------------------------------------------------------------------ policies
    def _reference(self, role: str) -> str:
        if role == "keeper":
            if self._function is None:
                return f"function: {render(self._keeper_choice())}"
            assert self._pending is not None
            return f"answer: {evaluate(self._function, self._pending)}"
        assert self._function is not None
        if self.queries_left > 0:  # shows the protocol; the guess below reads the function
            return f"query: {_QUERY_ORDER[len(self._queries)]}"
        return f"guess: {render(self._function)}"  # an oracle: it reads the function

    def _keeper_choice(self) -> Expr:
        """The instance's function, unless `SystematicProber` would find it: then a legal
        function (through the anchor, within the size limit) that it does not, found at setup by
        simulating it."""
        if not isinstance(self._opponents.get("prober"), SystematicProber):
            return self._instance_function
        return self._beater

    def _legal(self, expr: Expr) -> bool:
        a, b = self._anchor
        return (
            size(expr) <= self._max_size
            and all(-9 <= c <= 9 for c in constants(expr))
            and len(set(self._values(expr))) > 1
            and evaluate(expr, a) == b
        )

    def _find_beater(self, candidate: Expr) -> Expr | None:
        """A legal function that `SystematicProber` guesses wrong: ``candidate`` itself, or one
        of a few shapes fitted to the anchor (max/min with a constant, x % m shifted)."""
        a, b = self._anchor
        options = [candidate, parse_function(f"max(x, {b})"), parse_function(f"min(x, {b})")]
        for m in (2, 3, 4):
            options.append(("+", ("%", ("x",), ("c", m)), ("c", b - a % m)))
        for option in options:
            if not self._legal(option):
                continue
            guess = systematic_guess(option, self._budget)
            if self._values(guess) != self._values(option):
                return option
        return None

    def truthful_keeper(self) -> str:
        """`TruthfulKeeper`'s move: the instance's function, then true answers."""
        if self._function is None:
            return f"function: {render(self._instance_function)}"
        assert self._pending is not None
        return f"answer: {evaluate(self._function, self._pending)}"

    def systematic_prober(self) -> str:
        """`SystematicProber`'s move (it reads only the answers, never the function)."""
        if self.queries_left > 0:
            return f"query: {_QUERY_ORDER[len(self._queries)]}"
        return f"guess: {render(_guess_from(self._queries))}"


_QUERY_ORDER = (0, 1, -1, 2, -2, 3, -3, 4, -4)


def _guess_from(points: list[tuple[int, int]]) -> Expr:
    fitted = _fit_polynomial(points)
    if fitted is not None:
        return fitted
    return ("c", points[0][1]) if points else ("c", 0)


def systematic_guess(expr: Expr, budget: int) -> Expr:
    """What `SystematicProber` guesses for ``expr`` with ``budget`` queries."""
    points = [(x, evaluate(expr, x)) for x in _QUERY_ORDER[:budget]]
    return _guess_from(points)


class TruthfulKeeper:
    """A fixed keeper for `HiddenFunction`: a random function of the level's families (linear,
    ``abs``, ``%``, quadratic, ``max``/``min`` forms), answered truthfully. Use it as
    ``HiddenFunction(opponents={"keeper": TruthfulKeeper()})`` to train a prober."""

    def __call__(self, observation: str, info: Mapping[str, Any], game: LanguageGame) -> str:
        if not isinstance(game, HiddenFunction):
            raise InvalidArgument(
                f"TruthfulKeeper plays HiddenFunction, not {type(game).__name__}; pass it as "
                'HiddenFunction(opponents={"keeper": TruthfulKeeper()})'
            )
        return game.truthful_keeper()

    def __repr__(self) -> str:
        return "TruthfulKeeper()"


class SystematicProber:
    """A fixed prober for `HiddenFunction`: queries x = 0, 1, -1, 2, -2, ... up to the budget,
    then guesses the lowest-degree (at most 2) integer polynomial through every answer (or the
    first answer as a constant). It reads only the answers. Use it as
    ``HiddenFunction(opponents={"prober": SystematicProber()})`` to train a keeper."""

    def __call__(self, observation: str, info: Mapping[str, Any], game: LanguageGame) -> str:
        if not isinstance(game, HiddenFunction):
            raise InvalidArgument(
                f"SystematicProber plays HiddenFunction, not {type(game).__name__}; pass it as "
                'HiddenFunction(opponents={"prober": SystematicProber()})'
            )
        return game.systematic_prober()

    def __repr__(self) -> str:
        return "SystematicProber()"
