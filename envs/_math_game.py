"""What the math games share: reading the final answer and turning a math verdict into a move.

SymPy and the math verifier are imported only when a game judges its first answer (or builds its
first instance), so that ``langgames.list_games()`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from langgames.core import LanguageGame, Move, Opponent, ParseError
from langgames.envs._parsing import last_line
from langgames.verifiers.verdict import Status, Verdict

if TYPE_CHECKING:
    from langgames.verifiers.exact import ParsedMath

__all__ = ["ANSWER_FORMAT", "MathGame", "plain"]

#: How every math game asks for its answer.
ANSWER_FORMAT = (
    "put the final answer in \\boxed{...} (e.g. \\boxed{-7/12}); without a box, the last line of "
    "the reply is read as the answer"
)
#: Seconds of worker time a math game allows for checking one answer.
CHECK_TIMEOUT = 5.0
_MAX_ANSWER_CHARS = 2_000


def plain(expr: Any) -> str:
    """A SymPy object as text the parser reads back to the same object (``x^2 + 3*x``).

    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> plain(2 * x**2 - sympy.Rational(1, 2))
    '2*x^2 - 1/2'
    >>> plain(sympy.FiniteSet(-1, 3))
    '-1, 3'
    """
    import sympy

    if isinstance(expr, sympy.FiniteSet):
        return ", ".join(plain(e) for e in sorted(expr.args, key=sympy.default_sort_key))
    return sympy.sstr(expr).replace("**", "^")


class MathGame(LanguageGame):
    """A single-answer game judged by ``langgames.verifiers.math``.

    A subclass builds ``self._gold`` (a SymPy object) in ``_setup`` and may override `_verify`
    (how the answer is compared) and `_check_form` (what the answer must look like beyond being
    equal, e.g. "factored"). Unreadable or oversized answers raise `ParseError`, so the player is
    told the format and may try again; a wrong form or value is ``incorrect``.
    """

    answer_marker = "boxed"
    #: Shown when the answer cannot be read: what a good answer looks like here.
    answer_hint: ClassVar[str] = "an expression in x"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._gold: Any = None

    # -- hooks
    def _verify(self, answer: str) -> Verdict:
        from langgames.verifiers.math import verify_math

        return verify_math(self._gold, answer, timeout=CHECK_TIMEOUT)

    def _check_form(self, parsed: ParsedMath) -> str | None:
        """A reason the (equal) answer is not in the requested form, or ``None`` if it is."""
        return None

    def _read_form(self, parsed: ParsedMath) -> None:
        """Raise `ParseError` if the answer is not the *kind* of answer asked for."""

    # -- the move
    def _answer(self, action: str) -> str:
        from langgames.verifiers.exact import extract_answer

        text = extract_answer(action)
        if text is None:
            text = last_line(action, what=f"the answer ({self.answer_hint})")
        text = text.strip()
        if not text:
            raise ParseError(f"the answer is empty; write {self.answer_hint}")
        if len(text) > _MAX_ANSWER_CHARS:
            raise ParseError(
                f"the answer is {len(text):,} characters long; the limit is {_MAX_ANSWER_CHARS:,}"
            )
        return text

    def _play(self, role: str, action: str) -> Move:
        from langgames.verifiers.exact import MathParseError, parse_answer

        text = self._answer(action)
        try:
            parsed = parse_answer(text)
        except MathParseError as err:
            raise ParseError(f"{err}; write {self.answer_hint}") from None
        self._read_form(parsed)
        verdict = self._verify(text)
        if verdict.status in (Status.UNPARSEABLE, Status.RESOURCE_LIMIT):
            raise ParseError(f"{verdict.reason}; write {self.answer_hint}")
        if verdict.correct:
            problem = self._check_form(parsed)
            if problem is not None:
                verdict = Verdict.make_incorrect(
                    f"the value is right but {problem}", **{**verdict.details, "method": "form"}
                )
        return Move(verdict, {role: self._reward_for(verdict)}, next_role=None)

    def game_probes(self) -> dict[str, Opponent]:
        probes: dict[str, Opponent] = {}
        if hasattr(type(self), "question"):  # the bare problem, without the instructions
            probes["echo_the_question"] = lambda obs, info, env: env.unwrapped.question  # type: ignore[attr-defined]
        return {
            **probes,
            "constant_x": lambda obs, info, env: "x",
            "many_boxed_candidates": lambda obs, info, env: " ".join(
                f"\\boxed{{{c}}}" for c in ["-2", "-1", "0", "1/2", "1", "2", "x", "x^2", "x + 1"]
            ),
            "a_list_of_candidates": lambda obs, info, env: (
                "\\boxed{" + ", ".join(map(str, range(-9, 10))) + "}"
            ),
        }

    def _candidates(self, role: str) -> list[str] | None:
        return None
