"""FractionArith: evaluate an expression of fractions exactly, answer in lowest terms."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from langgames.core import GameInfo, ParseError
from langgames.envs._math_game import ANSWER_FORMAT, MathGame

if TYPE_CHECKING:
    from langgames.verifiers.exact import ParsedMath

__all__ = ["FractionArith", "evaluate"]

# difficulty -> (operands, operators, largest denominator, negative numerators allowed)
_LEVELS: dict[int, tuple[tuple[int, int], str, int, bool]] = {
    1: ((2, 2), "+-", 12, False),
    2: ((3, 3), "+-*", 12, False),
    3: ((4, 5), "+-*/", 20, True),
}
_SHOW = {"+": "+", "-": "-", "*": "×", "/": "÷"}

# An expression tree: a Fraction leaf, or (operator, left, right).
Tree = Fraction | tuple[str, "Tree", "Tree"]


def evaluate(tree: Tree) -> Fraction:
    """The exact value of an expression tree.

    >>> evaluate(("+", Fraction(1, 2), ("*", Fraction(2, 3), Fraction(3, 4))))
    Fraction(1, 1)
    """
    if isinstance(tree, Fraction):
        return tree
    op, left, right = tree
    a, b = evaluate(left), evaluate(right)
    return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else Fraction(0)}[op]


def _render(tree: Tree, top: bool = True, tight: bool = False) -> str:
    """The expression as text; fractions beside × and ÷ are parenthesised (``2 ÷ (1/2)``)."""
    if isinstance(tree, Fraction):
        text = str(tree.numerator)
        if tree.denominator != 1:
            text = f"{text}/{tree.denominator}"
        return f"({text})" if not top and (tree < 0 or (tight and tree.denominator != 1)) else text
    op, left, right = tree
    tight = op in "*/"
    text = f"{_render(left, False, tight)} {_SHOW[op]} {_render(right, False, tight)}"
    return text if top else f"({text})"


def _operations(tree: Tree) -> int:
    return 0 if isinstance(tree, Fraction) else 1 + _operations(tree[1]) + _operations(tree[2])


class FractionArith(MathGame):
    """Evaluate an expression of fractions exactly and give the result in lowest terms.

    ## Description
    The game shows an arithmetic expression of fractions (``3/4 + 5/6``, ``(2/3 - 1/4) × 6/5``) and
    asks for its exact value as an integer or a fraction ``a/b`` in lowest terms. The answer is read
    by the safe math parser and compared exactly (``langgames.verifiers.math``).

    ## Roles
    ``player`` (single role).

    ## Observation
    The expression (``×`` is multiplication, ``÷`` division, parentheses group) and the answer
    format.

    ## Action
    A reply whose final answer is in ``\\boxed{...}`` (otherwise its last line is read): one
    integer (``-3``) or one fraction ``a/b`` / ``\\frac{a}{b}`` with a positive denominator, in
    lowest terms.
    An expression (including the question itself), a decimal or a mixed number is not an answer.

    ## Reward
    1.0 for the right value in lowest terms; 0.0 for a wrong value or a fraction that is not
    reduced; -0.1 for an unreadable reply or one that is not a single integer or fraction, after
    which the player may try again.

    ## Episode end
    Terminates after the first readable answer; truncates after ``max_turns`` moves (default 3),
    which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: 1 (two fractions, + and -, denominators up to 12), 2 (three fractions with
    +, - and ×, denominators up to 12), 3 (four or five signed fractions with +, -, × and ÷,
    denominators up to 20).

    ## Version History
    * v0: initial version.

    >>> game = FractionArith(difficulty=2)
    >>> obs, info = game.reset(seed=7)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    game_info = GameInfo(
        name="FractionArith",
        version=0,
        roles=("player",),
        verifiers=("math",),
        answer_format=ANSWER_FORMAT + "; here one integer or one fraction a/b in lowest terms",
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("arithmetic", "fractions", "single-turn", "math"),
    )
    answer_hint = "one integer or one fraction a/b in lowest terms, e.g. -7/12"

    def _setup(self) -> str:
        (low, high), ops, max_den, signed = _LEVELS[self.difficulty]
        n = int(self.np_random.integers(low, high + 1))
        self._tree = self._build(n, ops, max_den, signed)
        value = evaluate(self._tree)
        self._value = value
        self._gold = value
        return "player"

    def _fraction(self, max_den: int, signed: bool) -> Fraction:
        rng = self.np_random
        den = int(rng.integers(2, max_den + 1))
        num = int(rng.integers(1, 2 * den))
        if signed and rng.random() < 0.3:
            num = -num
        return Fraction(num, den)

    def _build(self, n: int, ops: str, max_den: int, signed: bool) -> Tree:
        if n == 1:
            return self._fraction(max_den, signed)
        split = int(self.np_random.integers(1, n))
        op = ops[int(self.np_random.integers(len(ops)))]
        left = self._build(split, ops, max_den, signed)
        right = self._build(n - split, ops, max_den, signed)
        if op == "/" and evaluate(right) == 0:
            op = "*"
        return (op, left, right)

    @property
    def question(self) -> str:
        """The expression shown to the player."""
        return _render(self._tree)

    def _prompt(self, role: str) -> str:
        return (
            f"Compute exactly: {self.question}\n"
            "(× is multiplication and ÷ division; do the parentheses first.)\n"
            "Give the result as one integer or one fraction a/b in lowest terms with a positive "
            "denominator, in \\boxed{...} (for example \\boxed{-7/12})."
        )

    def _read_form(self, parsed: ParsedMath) -> None:
        if parsed.kind not in ("integer", "fraction"):
            raise ParseError(
                f"expected a single integer or fraction, not {_described(parsed.kind)}; write "
                f"{self.answer_hint}"
            )

    def _check_form(self, parsed: ParsedMath) -> str | None:
        if parsed.kind == "fraction" and parsed.literal is not None:
            numerator, denominator = parsed.literal
            if Fraction(numerator, denominator).denominator != abs(denominator) or denominator < 0:
                return (
                    f"{numerator}/{denominator} is not in lowest terms with a positive denominator"
                )
        return None

    def _reference(self, role: str) -> str:
        value = self._value
        return (
            str(value.numerator)
            if value.denominator == 1
            else f"{value.numerator}/{value.denominator}"
        )

    @property
    def operations(self) -> int:
        """Operations in the current expression (the reference solver's work)."""
        return _operations(self._tree)


def _described(kind: str) -> str:
    return {
        "decimal": "a decimal",
        "mixed": "a mixed number",
        "percent": "a percentage",
    }.get(kind, "an expression")
