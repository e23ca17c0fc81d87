"""Calculus: differentiate or integrate a function of x, checked with SymPy."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from langgames.core import GameInfo, ParseError
from langgames.envs._math_game import ANSWER_FORMAT, CHECK_TIMEOUT, MathGame, plain
from langgames.errors import InvalidArgument, did_you_mean
from langgames.verifiers.verdict import Verdict

if TYPE_CHECKING:
    from langgames.verifiers.exact import ParsedMath

__all__ = ["TASKS", "Calculus"]

TASKS = ("derivative", "integral")

# A template turns (x, a, b, n, c) into a function. For integrals the template is the
# antiderivative F and the player sees F'. Level 1: one rule at a time; 2: chain or product rule;
# 3: quotient rule, nested chains, integration by parts or substitution. Every template uses
# every parameter, so each level has thousands of distinct instances.
Template = Callable[[Any, int, int, int, int], Any]


def _templates(level: int, task: str) -> list[Template]:
    import sympy as sp

    if level == 1:
        return [
            lambda x, a, b, n, c: a * x**n + b * x ** (n - 1) + c * x,
            lambda x, a, b, n, c: a * sp.sin(x) + b * x**n + c,
            lambda x, a, b, n, c: a * sp.cos(x) + b * x**n + c * x,
            lambda x, a, b, n, c: a * sp.exp(x) + b * x**n + c * x,
        ]
    if level == 2:
        return [
            lambda x, a, b, n, c: (a * x + b) ** n + c * x,
            lambda x, a, b, n, c: x**n * sp.exp(a * x) + b * x + c,
            lambda x, a, b, n, c: a * sp.sin(b * x + c) + x**n,
            lambda x, a, b, n, c: sp.exp(a * x**2 + b * x) + c * x**n,
            lambda x, a, b, n, c: x**n * sp.cos(a * x) + b * x + c,
        ]
    common = [
        lambda x, a, b, n, c: sp.exp(a * x) * sp.sin(b * x) + c * x**n,
        lambda x, a, b, n, c: a * sp.log(x**2 + abs(b)) + c * x**n,
        lambda x, a, b, n, c: x**n * sp.log(x) + a * x + b + c * x**2,
        lambda x, a, b, n, c: sp.sin(a * x) ** n + b * x + c,
    ]
    if task == "derivative":
        return [
            *common,
            lambda x, a, b, n, c: (a * x + b) / (x**2 + n) + c * x,
            lambda x, a, b, n, c: x**n * sp.sqrt(x**2 + abs(b)) + a * x + c,
        ]
    return [
        *common,
        lambda x, a, b, n, c: x**n * sp.exp(a * x) + b * x + c,
        lambda x, a, b, n, c: x * sp.sin(a * x) + b * x**n + c,
    ]


class Calculus(MathGame):
    """Differentiate or integrate a function of x; answers are checked with SymPy.

    ## Description
    One of two tasks per instance (or a fixed one with ``task=``):

    - ``derivative``: give f'(x) for a shown f(x); any expression equal to the derivative counts
      (``langgames.verifiers.math`` proves it, or confirms it at many random points);
    - ``integral``: give an antiderivative of a shown f(x); it is checked by differentiating the
      answer, so any antiderivative counts and ``+ C`` is welcome.

    Functions combine polynomials, sin, cos, exp, ln and square roots; where ln or a square root
    appears, x ranges over the positive reals (the prompt says so).

    ## Roles
    ``player`` (single role).

    ## Observation
    The task, f(x), the domain of x when it matters, and the answer format.

    ## Action
    A reply whose final answer is in ``\\boxed{...}`` (otherwise its last line is read): one
    expression in x, in plain (``2*x*exp(x^2)``) or LaTeX (``2x e^{x^2}``) notation.

    ## Reward
    1.0 for a right answer in closed form (a finite-difference formula, or an answer many times
    larger than the reference, is refused with the reason); 0.0 for a wrong one (including f
    itself, or a constant); -0.1 for an unreadable reply, after which the player may try again.
    An answer too costly to check within 5 seconds earns -0.1 and ends the episode.

    ## Episode end
    Terminates after the first readable answer; truncates after ``max_turns`` moves (default 3),
    which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: 1 (one differentiation rule: powers, sin, cos, exp), 2 (chain and product
    rules), 3 (quotient rule and nested chains; integrals by parts or substitution). ``task``:
    ``"derivative"``, ``"integral"``, or ``None`` (default) to draw one per instance.

    ## Version History
    * v0: initial version. Answers must be closed forms (``verify_math(form="closed")``), and
      numeric agreement no longer accepts periodic terms such as ``sin(k*pi*x)``.
    """

    game_info = GameInfo(
        name="Calculus",
        version=0,
        roles=("player",),
        verifiers=("math",),
        answer_format=ANSWER_FORMAT + "; one expression in x",
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("calculus", "derivatives", "integrals", "single-turn", "math"),
    )
    answer_hint = "one expression in x, e.g. 2*x*exp(x^2) + cos(x)"

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
                f"Calculus: task must be one of {TASKS} or None (got {task!r})."
                f"{did_you_mean(str(task), TASKS)}"
            )
        super().__init__(difficulty=difficulty, max_turns=max_turns, render_mode=render_mode)
        self.task_choice = task
        self._task = task or TASKS[0]

    def _setup(self) -> str:
        import sympy

        rng = self.np_random
        self._task = self.task_choice or TASKS[int(rng.integers(len(TASKS)))]
        templates = _templates(self.difficulty, self._task)
        x = sympy.Symbol("x")
        while True:
            template = templates[int(rng.integers(len(templates)))]
            a = int(rng.choice([-4, -3, -2, 2, 3, 4, 5]))
            b = int(rng.choice([-5, -3, -2, -1, 1, 2, 3, 5]))
            n = int(rng.integers(2, 6))
            c = int(rng.integers(-6, 7))
            function = template(x, a, b, n, c)
            derivative = sympy.diff(function, x)
            gap = (derivative - function).evalf(15, subs={x: sympy.Rational(7, 10)})
            if abs(gap) > 1e-6:
                break  # f' = f would let the question itself be the answer
        self._positive = function.has(sympy.log) or any(
            not p.exp.is_integer for p in function.atoms(sympy.Pow)
        )
        if self._task == "derivative":
            self._shown, self._gold, self._solution = function, derivative, derivative
        else:
            self._shown, self._gold, self._solution = derivative, derivative, function
        return "player"

    @property
    def question(self) -> str:
        """The function f(x) shown to the player."""
        return plain(self._shown)

    def _prompt(self, role: str) -> str:
        domain = " (x > 0)" if self._positive else ""
        if self._task == "derivative":
            ask = f"Differentiate with respect to x: f(x) = {self.question}{domain}\nGive f'(x)"
        else:
            ask = (
                f"Find an antiderivative of f(x) = {self.question}{domain}\nGive F(x) with "
                "F'(x) = f(x) (adding + C is fine)"
            )
        return (
            f"{ask} as one expression in x, in \\boxed{{...}}. Write powers with ^, e.g. "
            "\\boxed{3*x^2*sin(x) + exp(2*x)}; ln, sqrt, sin, cos, exp and LaTeX are understood."
        )

    def _verify(self, answer: str) -> Verdict:
        from langgames.verifiers.math import verify_antiderivative, verify_math

        domain = "positive" if self._positive else "real"
        # "closed": no much larger than the reference, no function at shifted arguments (a
        # finite-difference stencil is not a derivative, however close its value)
        if self._task == "derivative":
            return verify_math(
                self._gold, answer, timeout=CHECK_TIMEOUT, domain=domain, form="closed"
            )
        return verify_antiderivative(
            self._gold, answer, timeout=CHECK_TIMEOUT, domain=domain, form="closed"
        )

    def _read_form(self, parsed: ParsedMath) -> None:
        from sympy import Expr

        if not isinstance(parsed.expr, Expr):
            raise ParseError(f"expected one expression in x; write {self.answer_hint}")

    def _reference(self, role: str) -> str:
        return plain(self._solution)

    @property
    def task(self) -> str:
        """The task of the current instance."""
        return self._task
