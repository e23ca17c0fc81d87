"""Policies for ScholarsCircle: reference (oracle) and noisy players for every role.

Each is a callable ``policy(observation, info, game) -> str`` usable as a `langgames.policies`
policy or as an ``opponents=`` entry. They read the game's hidden state (they are oracles, for
tests, baselines and reward-design studies), never the global random state: each owns a seeded
generator.

- `ReferenceExplorer` proposes valid, novel problems by mutating library programs (constants,
  operators), composing two of them (difficulty 3) or instantiating templates, and re-validating
  each candidate with the game's own pipeline until one passes. Math problems come from
  parametrised templates whose exact answers are computed here.
- `OracleSolver` answers correctly; `NoisySolver(q)` answers correctly with probability ``q`` and
  otherwise gives a well-formed wrong answer.
- `OracleCritic` reports the truth with certainty; `CalibratedCritic(accuracy)` sees a noisy
  signal and reports its Bayesian probability; `ConstantCritic(p)` always says the same
  probability (``ConstantCritic(1.0)`` always says "correct").
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from langgames.envs.scholars_circle.core import (
    CODE_FAMILIES,
    Proposal,
    canon,
    code_fingerprint,
    fits,
    kind_parts,
    parse_code,
    question_fingerprint,
    render_proposal,
    show_value,
)
from langgames.envs.scholars_circle.library import Entry, Library
from langgames.envs.scholars_circle.validate import Candidate, LevelRules
from langgames.verifiers.verdict import Verdict

__all__ = [
    "CalibratedCritic",
    "Circle",
    "ConstantCritic",
    "NoisySolver",
    "OracleCritic",
    "OracleSolver",
    "ReferenceExplorer",
    "propose",
    "wrong_answer",
]


class Circle(Protocol):
    """What these policies read of a running circle; `ScholarsCircle` is one. (A protocol, so
    that this module does not import the game that imports it.)"""

    @property
    def family(self) -> str: ...
    @property
    def difficulty(self) -> int: ...
    @property
    def rules(self) -> LevelRules: ...
    @property
    def library(self) -> Library: ...
    @property
    def recent_window(self) -> int: ...
    @property
    def candidate(self) -> Candidate | None: ...
    def validate(
        self, proposal: Proposal | str, *, timeout: float | None = None
    ) -> Candidate | Verdict: ...


_MAX_TRIES = 40
_BATCH = 4  # candidates drawn, then validated least similar first
#: Sandbox limit when screening a candidate (its success is reused by the full validation).
SCREEN_TIMEOUT = 1.0
# difficulty -> (parent program sizes, mutations, input spread, longest list)
_LEVEL = {1: ((5, 35), 1, 12, 4), 2: ((30, 110), 2, 60, 6), 3: ((5, 180), 1, 300, 9)}
_WORDS = (
    "apple",
    "tree",
    "river",
    "stone",
    "cloud",
    "amber",
    "delta",
    "echo",
    "lemon",
    "mango",
    "north",
    "orbit",
    "pixel",
    "quartz",
    "rain",
    "solar",
    "tiger",
    "umbra",
    "vivid",
    "wheat",
    "yarn",
    "zebra",
    "bold",
    "calm",
    "dawn",
    "ember",
    "frost",
    "glow",
    "haze",
    "iris",
    "jade",
)


# ---------------------------------------------------------------------------------------------
# Random inputs of a kind.


def random_value(kind: str, rng: np.random.Generator, level: int) -> Any:
    """A random argument of ``kind`` whose size grows with ``level``."""
    _, _, spread, longest = _LEVEL[level]
    parts = kind_parts(kind)
    if len(parts) > 1:
        return tuple(random_value(p, rng, level) for p in parts)
    if kind == "int":
        return int(rng.integers(-spread, spread + 1))
    if kind == "str":
        if rng.random() < 0.5:
            return str(_WORDS[int(rng.integers(len(_WORDS)))])
        letters = "abcdefghijklmnopqrstuvwxyz  AEIOU"
        n = int(rng.integers(1, 4 + 2 * level))
        return "".join(letters[int(i)] for i in rng.integers(0, len(letters), size=n))
    n = int(rng.integers(1, longest + 1))
    if kind == "list[int]":
        half = max(3, spread // 2)
        return [int(v) for v in rng.integers(-half, half + 1, size=n)]
    return [str(_WORDS[int(i)]) for i in rng.integers(0, len(_WORDS), size=min(n, 5))]


def _distinct_values(kind: str, rng: np.random.Generator, level: int, n: int) -> list[Any]:
    out: list[Any] = []
    seen: set[str] = set()
    for _ in range(20 * n):
        value = random_value(kind, rng, level)
        key = show_value(value)
        if key not in seen:
            seen.add(key)
            out.append(value)
            if len(out) == n:
                break
    return out


# ---------------------------------------------------------------------------------------------
# Program mutation and composition (AST in, source out).

_BINOP_SWAPS: dict[type, tuple[type, ...]] = {
    ast.Add: (ast.Sub, ast.Mult),
    ast.Sub: (ast.Add,),
    ast.Mult: (ast.Add, ast.Sub),
    ast.FloorDiv: (ast.Mod,),
    ast.Mod: (ast.FloorDiv,),
}
_CMP_SWAPS: dict[type, type] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
}


def _mutable_nodes(tree: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    for node in ast.walk(tree):
        constant = isinstance(node, ast.Constant) and (
            type(node.value) is int or (type(node.value) is str and bool(node.value))
        )
        operator = (isinstance(node, ast.BinOp) and type(node.op) in _BINOP_SWAPS) or (
            isinstance(node, ast.Compare) and type(node.ops[0]) in _CMP_SWAPS
        )
        if constant or operator or isinstance(node, ast.BoolOp):
            out.append(node)
    return out


def mutate(code: str, rng: np.random.Generator, times: int = 1) -> str | None:
    """``code`` with ``times`` random changes to constants or operators (None if none applies)."""
    tree = parse_code(code)
    for _ in range(times):
        nodes = _mutable_nodes(tree)
        if not nodes:
            return None
        node = nodes[int(rng.integers(len(nodes)))]
        if isinstance(node, ast.Constant) and type(node.value) is int:
            c = node.value
            options = [c + 1, c - 1, c + 2, c + 3, c * 2, c * 3 + 1]
            if c:
                options.append(-c)
            node.value = int(options[int(rng.integers(len(options)))])
        elif isinstance(node, ast.Constant) and type(node.value) is str:
            text = node.value
            i = int(rng.integers(len(text)))
            letter = "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(26))]
            node.value = text[:i] + letter + text[i + 1 :]
        elif isinstance(node, ast.BinOp):
            choices = _BINOP_SWAPS[type(node.op)]
            node.op = choices[int(rng.integers(len(choices)))]()
        elif isinstance(node, ast.Compare):
            node.ops[0] = _CMP_SWAPS[type(node.ops[0])]()
        elif isinstance(node, ast.BoolOp):
            node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    return ast.unparse(tree) + "\n"


class _Prefix(ast.NodeTransformer):
    """Renames the top-level functions of a program (``f`` becomes ``new_f``)."""

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = names

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self.names.get(node.name, node.name)
        return self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self.names.get(node.id, node.id)
        return node


def compose(first: str, second: str) -> str:
    """A program computing ``second(first(x))`` from two one-argument programs."""
    parts = []
    for code, prefix in ((first, "step_one"), (second, "step_two")):
        tree = parse_code(code)
        names = {
            n.name: (prefix if n.name == "f" else f"{prefix}_{n.name}")
            for n in tree.body
            if isinstance(n, ast.FunctionDef)
        }
        parts.append(ast.unparse(_Prefix(names).visit(tree)))
    return "\n\n".join(parts) + "\n\n\ndef f(x):\n    return step_two(step_one(x))\n"


_TEMPLATES: dict[str, tuple[str, ...]] = {
    "int": (
        "def f(x):\n    return (x * {a} + {b}) % {m}\n",
        "def f(x):\n    total = 0\n    for d in str(abs(x)):\n        total += int(d) * {a}\n"
        "    return total + x % {m}\n",
        "def f(x):\n    n = abs(x)\n    count = 0\n    while n > 0:\n        n //= {m}\n"
        "        count += {a}\n    return count - {b}\n",
    ),
    "list[int]": (
        "def f(x):\n    return [v * {a} + {b} for v in x if v % {m} != 0]\n",
        "def f(x):\n    return sum(v for v in x if v > {b}) * {a} - len(x) % {m}\n",
        "def f(x):\n    best = 0\n    for i in range(len(x)):\n"
        "        best = max(best, x[i] * {a} - i * {b})\n    return best % {m}\n",
    ),
    "str": (
        "def f(x):\n    kept = ''.join(c * {a} for c in x if c not in 'aeiou')\n"
        "    return kept + str(len(x) % {m})\n",
        "def f(x):\n    return x[{b}::{a}] + x[:{m}].upper()\n",
        "def f(x):\n    return sum(ord(c) % {m} for c in x) * {a} + {b}\n",
    ),
    "list[str]": (
        "def f(x):\n    return [w[:{a}] + str(len(w) % {m}) for w in x]\n",
        "def f(x):\n    return sum(len(w) for w in x if len(w) > {a}) * {m} + {b}\n",
    ),
}


def _from_template(kind: str, rng: np.random.Generator) -> str:
    options = _TEMPLATES[kind]
    template = options[int(rng.integers(len(options)))]
    return template.format(
        a=int(rng.integers(2, 9)), b=int(rng.integers(0, 12)), m=int(rng.integers(3, 17))
    )


# ---------------------------------------------------------------------------------------------
# Math templates with exact answers computed here.


def _frac(q: Fraction) -> str:
    return str(q.numerator) if q.denominator == 1 else f"{q.numerator}/{q.denominator}"


def _poly(coeffs: list[int]) -> str:
    """Coefficients, highest power first, as ``3x^2 - 4x + 1``."""
    terms = []
    degree = len(coeffs) - 1
    for i, c in enumerate(coeffs):
        power = degree - i
        if c == 0:
            continue
        sign = "-" if c < 0 else "+"
        size = abs(c)
        body = "" if size == 1 and power else str(size)
        var = "" if power == 0 else ("x" if power == 1 else f"x^{power}")
        terms.append((sign, body + var))
    if not terms:
        return "0"
    first = ("-" if terms[0][0] == "-" else "") + terms[0][1]
    return first + "".join(f" {s} {t}" for s, t in terms[1:])


_POLY_TEXT = """
def poly_text(coeffs):
    # coefficients, highest power first, as 3x^2 - 4x + 1
    degree = len(coeffs) - 1
    terms = []
    for i, c in enumerate(coeffs):
        power = degree - i
        if c == 0:
            continue
        size = abs(c)
        body = '' if size == 1 and power else str(size)
        var = '' if power == 0 else ('x' if power == 1 else 'x^' + str(power))
        terms.append(('-' if c < 0 else '+', body + var))
    if not terms:
        return '0'
    first = ('-' if terms[0][0] == '-' else '') + terms[0][1]
    return first + ''.join(' ' + s + ' ' + t for s, t in terms[1:])
"""


def math_candidate(rng: np.random.Generator, level: int) -> Proposal:
    """A templated math question with the program that computes its exact answer (the
    validator runs it; the answer is never stated); harder templates at higher levels."""

    def r(lo: int, hi: int) -> int:
        return int(rng.integers(lo, hi + 1))

    pick = r(0, 2)
    if level == 1:
        if pick == 0:
            a, b, c, d = r(1, 9), r(2, 12), r(1, 9), r(2, 12)
            q = f"Compute {a}/{b} + {c}/{d} and give the result as a reduced fraction."
            code = (
                "from fractions import Fraction\n\n\ndef f():\n"
                f"    return Fraction({a}, {b}) + Fraction({c}, {d})\n"
            )
        elif pick == 1:
            x, a, b = r(2, 30), r(2, 9), r(1, 40)
            eq = f"{a}x + {b} = {a * x + b}"
            q = f"Solve for x: {eq}. Give x as an integer."
            code = (
                "from fractions import Fraction\n\n\ndef equation():\n"
                f"    return {eq!r}\n\n\ndef f():\n"
                f"    a, b, c = {a}, {b}, {a * x + b}\n    return {{Fraction(c - b, a)}}\n"
            )
        else:
            pct, base = r(2, 19) * 5, r(2, 40) * 20
            form = "an integer" if pct * base % 100 == 0 else "a reduced fraction"
            q = f"What is {pct}% of {base}? Give the answer as {form}."
            code = (
                "from fractions import Fraction\n\n\ndef f():\n"
                f"    return Fraction({pct}, 100) * {base}\n"
            )
    elif level == 2:
        if pick == 0:
            coeffs = [r(1, 5), r(-6, 6), r(-9, 9), r(-9, 9)]
            x0 = r(-3, 4)
            q = (
                f"What is the derivative of {_poly(coeffs)} evaluated at x = {x0}? Give the "
                "answer as an integer."
            )
            code = (
                f"def f():\n    coeffs = {coeffs!r}\n    x = {x0}\n    degree = len(coeffs) - 1\n"
                "    return sum(c * (degree - i) * x ** (degree - i - 1)\n"
                "               for i, c in enumerate(coeffs) if degree - i > 0)\n"
            )
        elif pick == 1:
            n = r(30, 2000)
            q = f"How many positive divisors does {n} have? Give the answer as an integer."
            code = (
                f"def f():\n    n = {n}\n    return sum(1 for d in range(1, n + 1) if n % d == 0)\n"
            )
        else:
            a, b, c = r(4, 30), r(4, 30), r(4, 30)
            q = (
                f"What is the least common multiple of {a}, {b} and {c}? Give the answer as an "
                "integer."
            )
            code = (
                "import math\n\n\ndef f():\n    out = 1\n"
                f"    for n in ({a}, {b}, {c}):\n        out = out * n // math.gcd(out, n)\n"
                "    return out\n"
            )
    elif pick == 0:
        coeffs = [r(-4, 4) or 1, r(-6, 6), r(-9, 9)]
        lo, hi = r(-3, 1), r(2, 5)
        q = (
            f"Compute the definite integral of {_poly(coeffs)} from x = {lo} to x = {hi}. Give "
            "the answer as a reduced fraction."
        )
        code = (
            "from fractions import Fraction\n\n\ndef f():\n"
            f"    coeffs = {coeffs!r}\n    degree = len(coeffs) - 1\n\n"
            "    def antiderivative(x):\n"
            "        return sum(Fraction(c, degree - i + 1) * Fraction(x) ** (degree - i + 1)\n"
            "                   for i, c in enumerate(coeffs))\n\n"
            f"    return antiderivative({hi}) - antiderivative({lo})\n"
        )
    elif pick == 1:
        base, exponent, modulus = r(2, 12), r(5, 40), r(7, 61)
        q = (
            f"Find the remainder when {base}^{exponent} is divided by {modulus}. Give the answer "
            "as an integer."
        )
        code = f"def f():\n    return pow({base}, {exponent}, {modulus})\n"
    else:
        a, n = r(2, 7), r(3, 5)
        q = f"Expand (x + {a})^{n} and write the polynomial in standard form."
        code = (
            "import math\n" + _POLY_TEXT + f"\n\ndef f():\n    a, n = {a}, {n}\n"
            "    return poly_text([math.comb(n, k) * a ** k for k in range(n + 1)])\n"
        )
    return Proposal("math", code=code, question=q)


# ---------------------------------------------------------------------------------------------
# The reference explorer.


def _program_candidate(
    game: Circle, rng: np.random.Generator, family: str, level: int, fresh: bool
) -> Proposal | None:
    (smallest, largest), times, _, _ = _LEVEL[level]
    rules = game.rules
    code: str | None = None
    kind = ""
    if not fresh:
        # Parents outside the recent window, so a variant is not penalised as similar to them.
        recent = {e.id for e in game.library.recent(game.recent_window)}
        parents = game.library.draw(
            rng,
            12,
            lambda e: (
                e.family in CODE_FAMILIES
                and smallest <= e.n_nodes <= largest
                and e.id not in recent
            ),
        )
        if level == 3 and len(parents) >= 2:
            first = parents[0]
            seconds = [e for e in parents[1:] if e.kind == first.out_kind]
            if seconds:
                code = mutate(compose(first.code, seconds[0].code), rng, times)
                kind = first.kind
        if code is None and parents:
            parent = parents[0]
            code, kind = mutate(parent.code, rng, times), parent.kind
    if code is None:
        kind = ("int", "list[int]", "str", "list[str]")[int(rng.integers(4))]
        code = _from_template(kind, rng)
    if family == "induction":
        values = _distinct_values(kind, rng, level, 3 + rules.min_tests + 1)
        if len(values) < 3 + rules.min_tests:
            return None
        return Proposal("induction", code, tuple(values), 3)
    return Proposal(family, code, (random_value(kind, rng, level),), 1)


def _similarity(game: Circle, proposal: Proposal) -> float:
    """The similarity penalty's input, computed on the host without running anything."""
    try:
        fp = (
            question_fingerprint(proposal.question)
            if proposal.family == "math"
            else code_fingerprint(proposal.code)
        )
    except (SyntaxError, ValueError, RecursionError):
        return 2.0
    return game.library.most_similar_recent(fp.struct_sketch, game.recent_window)[0]


def propose(game: Circle, rng: np.random.Generator, max_tries: int = _MAX_TRIES) -> str:
    """A proposal for the game's current round that passes its validation (re-validated here
    with the game's own pipeline). Falls back to templates when mutations keep failing.
    Candidates are drawn in batches of `_BATCH` and validated least similar to the recent
    problems first (the similarity is computed without the sandbox), so the first valid one
    is usually unpenalised and few sandbox runs are spent."""
    family, level = game.family, game.difficulty
    last: Proposal | None = None
    drawn = tried = 0
    while tried < max_tries and drawn < 2 * max_tries:
        batch: list[tuple[float, int, Proposal]] = []
        for _ in range(_BATCH):
            if family == "math":
                proposal: Proposal | None = math_candidate(rng, level)
            else:
                proposal = _program_candidate(game, rng, family, level, fresh=drawn % 4 == 3)
            drawn += 1
            if proposal is not None:
                batch.append((_similarity(game, proposal), len(batch), proposal))
        for _, _, proposal in sorted(batch, key=lambda t: (t[0], t[1])):
            tried += 1
            last = proposal
            if isinstance(game.validate(proposal, timeout=SCREEN_TIMEOUT), Candidate):
                return render_proposal(proposal)
    if last is None:  # pragma: no cover - every template yields a candidate
        return "family: " + family
    return render_proposal(last)


class ReferenceExplorer:
    """Proposes valid, novel problems for the current round (see `propose`)."""

    def __init__(self, seed: int = 0, max_tries: int = _MAX_TRIES) -> None:
        self._rng = np.random.default_rng(seed)
        self._max_tries = max_tries

    def __call__(self, observation: str, info: Mapping[str, Any], game: Any) -> str:
        return propose(game.unwrapped, self._rng, self._max_tries)


# ---------------------------------------------------------------------------------------------
# Solvers.


def reference_answer(entry: Entry) -> str:
    """The correct answer to ``entry`` in the solver's format."""
    if entry.family == "deduction":
        return f"answer: {show_value(entry.outputs[0])}"
    if entry.family == "abduction":
        return f"input: {show_value(entry.inputs[0])}"
    if entry.family == "induction":
        return f"```python\n{entry.code.rstrip()}\n```"
    return f"\\boxed{{{entry.answer}}}"


def wrong_answer(game: Circle) -> str:
    """A well-formed answer that is surely wrong for the current problem."""
    candidate = game.candidate
    if candidate is None:
        raise ValueError("there is no problem to answer: the solvers' phase has not started")
    entry = candidate.entry
    if entry.family == "deduction":
        out = entry.outputs[0]
        wrong: Any = None if out is not None else 0
        if canon(wrong) == canon(out):
            wrong = "wrong"
        return f"answer: {show_value(wrong)}"
    if entry.family == "abduction":
        target = canon(entry.outputs[0])
        for x, (status, value) in zip(candidate.probe_inputs, candidate.probe_cases, strict=True):
            if status == "ok" and canon(value) != target and fits(x, entry.kind):
                return f"input: {show_value(x)}"
        return "input: 0"
    if entry.family == "induction":
        return "```python\ndef f(x):\n    return None\n```"
    return f"\\boxed{{({entry.answer}) + 1}}"


class OracleSolver:
    """Always answers correctly (reads the hidden problem)."""

    def __call__(self, observation: str, info: Mapping[str, Any], game: Any) -> str:
        return str(game.unwrapped.reference_action())


class NoisySolver:
    """Answers correctly with probability ``q``, else gives a well-formed wrong answer."""

    def __init__(self, q: float, seed: int = 0) -> None:
        if not 0.0 <= q <= 1.0:
            raise ValueError(f"q must be a probability in [0, 1] (got {q!r})")
        self.q = q
        self._rng = np.random.default_rng(seed)

    def __call__(self, observation: str, info: Mapping[str, Any], game: Any) -> str:
        circle = game.unwrapped
        if self._rng.random() < self.q:
            return str(circle.reference_action())
        return wrong_answer(circle)


# ---------------------------------------------------------------------------------------------
# Critics.


def _critique(p: float) -> str:
    return f"correct: {'yes' if p >= 0.5 else 'no'}\np: {p:.4f}"


class OracleCritic:
    """Knows whether the answer is correct and says so with certainty (Brier reward 1)."""

    def __call__(self, observation: str, info: Mapping[str, Any], game: Any) -> str:
        return _critique(1.0 if game.unwrapped.oracle_truth() else 0.0)


class ConstantCritic:
    """Always reports the same probability ``p`` (1.0: "always correct")."""

    def __init__(self, p: float = 1.0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p must be a probability in [0, 1] (got {p!r})")
        self.p = p

    def __call__(self, observation: str, info: Mapping[str, Any], game: Any) -> str:
        return _critique(self.p)


class CalibratedCritic:
    """Sees the truth through a channel that is right with probability ``accuracy`` and reports
    ``P(correct | signal)`` by Bayes' rule, with the base rate estimated from what it has seen
    (Laplace's rule). Calibrated, and better than any constant when ``accuracy > 0.5``."""

    def __init__(self, accuracy: float = 0.8, seed: int = 0) -> None:
        if not 0.5 <= accuracy <= 1.0:
            raise ValueError(f"accuracy must be in [0.5, 1] (got {accuracy!r})")
        self.accuracy = accuracy
        self._rng = np.random.default_rng(seed)
        self._seen = 0
        self._correct = 0

    def __call__(self, observation: str, info: Mapping[str, Any], game: Any) -> str:
        truth = bool(game.unwrapped.oracle_truth())
        signal = truth if self._rng.random() < self.accuracy else not truth
        base = (self._correct + 1) / (self._seen + 2)
        a = self.accuracy
        if signal:
            p = a * base / (a * base + (1 - a) * (1 - base))
        else:
            p = (1 - a) * base / ((1 - a) * base + a * (1 - base))
        self._seen += 1
        self._correct += truth
        return _critique(p)
