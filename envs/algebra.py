"""Algebra: expand, factor, solve or simplify a polynomial expression, checked with SymPy."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from langgames.core import GameInfo, ParseError
from langgames.envs._math_game import ANSWER_FORMAT, CHECK_TIMEOUT, MathGame, plain
from langgames.errors import InvalidArgument, did_you_mean
from langgames.verifiers.verdict import Verdict

if TYPE_CHECKING:
    from langgames.verifiers.exact import ParsedMath

__all__ = ["TASKS", "Algebra", "pretty"]

TASKS = ("expand", "factor", "solve", "simplify")
# difficulty -> (largest |constant|, largest leading coefficient, number of linear factors)
_LEVELS: dict[int, tuple[int, int, int]] = {1: (12, 1, 2), 2: (9, 3, 2), 3: (9, 4, 3)}
_SCALARS = (1, 1, 2, 3, -1, -2)  # a whole-number factor in front of expand and factor tasks
_INSTRUCTIONS = {
    "expand": "Expand and collect like terms",
    "factor": "Factor completely over the integers",
    "solve": "Solve for x",
    "simplify": "Simplify (cancel every common factor of the numerator and denominator)",
}
_HINTS = {
    "expand": "the expanded polynomial in x, e.g. 2*x^2 - 5*x - 12",
    "factor": "a product of factors, e.g. (x - 3)*(2*x + 1)",
    "solve": "every real solution separated by commas, e.g. x = -1, x = 4",
    "simplify": "one simplified fraction in x, e.g. (x + 2)/(x - 3)",
}


def pretty(expr: Any) -> str:
    """How an expression is shown in a prompt: ``(2x + 3)(x - 4)`` (the parser reads it back).

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> pretty((2 * x + 3) * (x - 4))
    '(x - 4)(2x + 3)'
    """
    text = plain(expr)
    text = re.sub(r"(\d)\*(?=[x(])", r"\1", text)
    return text.replace(")*(", ")(")


class Algebra(MathGame):
    """Expand, factor, solve or simplify polynomial expressions in x, checked with SymPy.

    ## Description
    One of four tasks per instance (or a fixed one with ``task=``), built from random linear
    factors with integer coefficients:

    - ``expand``: multiply out a product; the answer must equal it *and* be fully expanded;
    - ``factor``: factor a polynomial over the integers; the answer must equal it *and* be a
      product of irreducible factors (the expanded polynomial itself earns nothing);
    - ``solve``: list every real solution of a polynomial equation (integer roots, or at
      difficulty 3 sometimes roots with square roots); the answer is the set of solutions;
    - ``simplify``: cancel the common factors of a rational expression; the answer must be defined
      wherever the simplified expression is (an uncancelled factor leaves a point where it is
      undefined, so the unsimplified expression earns nothing).

    Answers are read by the safe parser and compared by ``langgames.verifiers.math``.

    ## Roles
    ``player`` (single role).

    ## Observation
    The task, the expression or equation, and the answer format.

    ## Action
    A reply whose final answer is in ``\\boxed{...}`` (otherwise its last line is read): an
    expression in ``x`` (``2x^2 - 5x + 3``, ``(x - 1)(2x - 3)``, ``\\frac{x+2}{x-3}``) or, for
    ``solve``, the solutions separated by commas (``x = -1, x = 4`` or ``-1, 4``).

    ## Reward
    1.0 for a right answer in the requested form; 0.0 for a wrong value or form; -0.1 for an
    unreadable reply, after which the player may try again.

    ## Episode end
    Terminates after the first readable answer; truncates after ``max_turns`` moves (default 3),
    which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: 1 (monic linear factors, constants up to 12), 2 (leading coefficients up to 3,
    constants up to 9), 3 (three factors, leading coefficients up to 4; quadratic equations may
    have irrational roots). ``task``: one of ``"expand"``, ``"factor"``, ``"solve"``,
    ``"simplify"``, or ``None`` (default) to draw one per instance.

    ## Version History
    * v0: initial version. The expanded and factored forms are checked by
      ``verify_math(form=...)`` within the check's deadline; a factor that is not a polynomial
      with rational coefficients (``sin(x)^2 + cos(x)^2``) makes the answer incorrect, never a
      verifier error.
    """

    game_info = GameInfo(
        name="Algebra",
        version=0,
        roles=("player",),
        verifiers=("math",),
        answer_format=ANSWER_FORMAT + "; an expression in x, or for equations the solutions "
        "separated by commas",
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("algebra", "polynomials", "single-turn", "math"),
    )

    def __init__(
        self,
        *,
        task: str | None = None,
        difficulty: int | None = None,
        max_turns: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        if task is not None and task not in TASKS:
            raise InvalidArgument(
                f"Algebra: task must be one of {TASKS} or None (got {task!r})."
                f"{did_you_mean(str(task), TASKS)}"
            )
        super().__init__(difficulty=difficulty, max_turns=max_turns, render_mode=render_mode)
        self.task_choice = task
        self._task = task or TASKS[0]

    @property
    def answer_hint(self) -> str:  # type: ignore[override]
        return _HINTS[self._task]

    # -- instances
    def _setup(self) -> str:
        import sympy

        rng = self.np_random
        self._task = self.task_choice or TASKS[int(rng.integers(len(TASKS)))]
        max_const, max_lead, count = _LEVELS[self.difficulty]
        x = sympy.Symbol("x")
        factors = [self._linear(x, max_const, max_lead) for _ in range(count)]
        scalar = int(rng.choice(_SCALARS))
        scaled = [sympy.Integer(scalar)] if scalar != 1 else []
        if self._task == "expand":
            self._question = sympy.Mul(*scaled, *factors, evaluate=False)
            self._gold = sympy.expand(self._question)
        elif self._task == "factor":
            self._gold = sympy.Mul(*scaled, *factors, evaluate=False)
            self._question = sympy.expand(self._gold)
        elif self._task == "solve":
            self._setup_solve(x, factors, max_const)
        else:
            self._setup_simplify(x, factors, max_const, max_lead)
        return "player"

    def _linear(self, x: Any, max_const: int, max_lead: int) -> Any:
        """A primitive linear factor ``a*x + b`` with ``1 <= a <= max_lead`` and ``b != 0``."""
        import math

        rng = self.np_random
        while True:
            a = int(rng.integers(1, max_lead + 1))
            b = int(rng.integers(-max_const, max_const + 1))
            if b != 0 and math.gcd(a, abs(b)) == 1:
                return a * x + b

    def _setup_solve(self, x: Any, factors: list[Any], max_const: int) -> None:
        import sympy

        rng = self.np_random
        if self.difficulty == 3 and rng.random() < 0.5:
            # x^2 + b x + c with a positive discriminant that is not a square: irrational roots
            while True:
                b = int(rng.integers(-max_const, max_const + 1))
                c = int(rng.integers(-max_const, max_const + 1))
                disc = b * b - 4 * c
                if disc > 0 and sympy.sqrt(disc).is_Rational is False:
                    break
            left = x**2 + b * x + c
        elif self.difficulty == 1:
            left = factors[0]
        else:
            left = sympy.Mul(*factors)
        # move a random linear term to both sides, so the equation is not already solved
        extra = int(rng.integers(1, max_const + 1)) * x + int(
            rng.integers(-max_const, max_const + 1)
        )
        polynomial = sympy.expand(left)
        self._question = sympy.Eq(sympy.expand(polynomial + extra), extra, evaluate=False)
        self._gold = sympy.FiniteSet(*sympy.solve(polynomial, x))

    def _setup_simplify(self, x: Any, factors: list[Any], max_const: int, max_lead: int) -> None:
        import sympy

        common = factors[0]
        others = [self._linear(x, max_const, max_lead) for _ in range(2)]
        numerator = sympy.Mul(common, *factors[1:])
        denominator = common * others[0]
        if self.difficulty == 3:
            denominator *= others[1]
        simplified = sympy.cancel(numerator / denominator)
        if sympy.denom(simplified).is_number:  # everything cancelled: draw a new denominator
            denominator = common * (x + max_const + 1)
            simplified = sympy.cancel(numerator / denominator)
        self._question = (sympy.expand(numerator), sympy.expand(denominator))
        num, den = sympy.fraction(sympy.factor(simplified))
        self._gold = sympy.Mul(num, sympy.Pow(den, -1, evaluate=False), evaluate=False)

    # -- prompt, checks, reference
    @property
    def question(self) -> str:
        """The expression or equation shown to the player."""
        if self._task == "simplify":
            numerator, denominator = self._question
            return f"({pretty(numerator)}) / ({pretty(denominator)})"
        if self._task == "solve":
            return f"{pretty(self._question.lhs)} = {pretty(self._question.rhs)}"
        return pretty(self._question)

    def _prompt(self, role: str) -> str:
        task = self._task
        return (
            f"{_INSTRUCTIONS[task]}: {self.question}\n"
            f"Give {_HINTS[task]}, in \\boxed{{...}}. Use ^ for powers and * or juxtaposition "
            "for products."
        )

    def _verify(self, answer: str) -> Verdict:
        from langgames.verifiers.math import verify_math

        variable = "x" if self._task == "solve" else None
        # the form is checked by the verifier, inside the same deadline as the value
        form = {"expand": "expanded", "factor": "factored"}.get(self._task)
        return verify_math(self._gold, answer, timeout=CHECK_TIMEOUT, variable=variable, form=form)

    def _read_form(self, parsed: ParsedMath) -> None:
        from sympy import Expr, FiniteSet
        from sympy.logic.boolalg import Boolean

        expr = parsed.expr
        if self._task == "solve":
            if not isinstance(expr, (Expr, FiniteSet, Boolean)):
                raise ParseError(f"expected the solutions; write {self.answer_hint}")
        elif not isinstance(expr, Expr):
            raise ParseError(f"expected an expression in x; write {self.answer_hint}")

    def _reference(self, role: str) -> str:
        if self._task == "solve":
            return ", ".join(f"x = {plain(r)}" for r in sorted(self._gold.args, key=str))
        return plain(self._gold)

    @property
    def task(self) -> str:
        """The task of the current instance."""
        return self._task
