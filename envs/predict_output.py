"""PredictOutput: read a generated Python function and say what one call of it returns."""

from __future__ import annotations

from typing import Any

from langgames.core import GameInfo, LanguageGame, Move, Opponent
from langgames.envs._programs import (
    LIST,
    Domain,
    Program,
    format_call,
    generate,
    outcome,
    parse_literal,
    random_args,
    same_value,
)
from langgames.verifiers.verdict import Verdict

__all__ = ["PredictOutput"]

# difficulty -> where the call's arguments come from (the level also sets the program's size)
_DOMAINS = {
    1: Domain(min_len=3, max_len=5, low=0, high=9, n_low=0, n_high=99),
    2: Domain(min_len=4, max_len=6, low=-5, high=12, k_low=1, k_high=5, n_low=-50, n_high=300),
    3: Domain(min_len=5, max_len=7, low=-9, high=15, k_low=-2, k_high=6, n_low=-200, n_high=999),
}
# Return values a player could guess without reading the program; calls returning them are redrawn.
_TRIVIAL: tuple[Any, ...] = (0, 1, -1, 2, [], (), 100, -100, 1000, -1000)
_SMALL = 10
_EXAMPLE = "`[3, 1]`, `-4` or `([2], 5)`"


def _interesting(value: Any, args: tuple) -> bool:
    """A return value worth asking about: not a guessable constant, not an argument echoed back,
    and short enough to write out."""
    if value is None or isinstance(value, bool):
        return False
    if any(same_value(value, t) for t in _TRIVIAL) or any(same_value(value, a) for a in args):
        return False
    return len(repr(value)) <= 120


def _small(value: Any) -> bool:
    """An int below 10 in absolute value, or a list of at most two of them."""
    if type(value) is int:
        return abs(value) < _SMALL
    return type(value) is list and len(value) <= 2 and all(_small(v) for v in value)


class PredictOutput(LanguageGame):
    """Read a generated Python function and predict exactly what one call of it returns.

    ## Description
    The game generates a small Python function ``f`` from a catalogue of statement templates
    (maps, filters, conditional sums and counts, running totals, neighbour comparisons, digit
    loops, bubble-sort passes, pair counts...), chained one after another with random constants,
    conditions and element expressions, and a call of it on literal arguments. The player says
    what the call returns. The expected value is computed by the host's mirror of Python's
    semantics for the generated subset (``envs/_programs.py``; its agreement with the Python
    sandbox is tested on hundreds of programs), so the gold is grounded by execution. Calls that
    return a guessable constant (0, 1, -1, 2, 100, -100, 1000, -1000, an empty list or tuple, a
    bool, None) or one of their own arguments are redrawn, and only one in ten of the calls
    returning another int below 10 in absolute value (or a list of at most two such ints) is
    kept, so that no single value is the answer to more than a few percent of the instances.

    ## Roles
    ``player`` (single role).

    ## Observation
    The function's source, the call, and the answer format.

    ## Action
    A reply whose last non-empty line is the returned value as a Python literal alone (``7``,
    ``[3, 1]``, ``([2], 5)``), optionally in backticks; at most 2,000 characters. It is read with
    ``ast.literal_eval`` (never evaluated as code). Earlier lines may hold reasoning.

    ## Reward
    1.0 if the value equals the returned value with the same type at every level (a tuple is not
    a list, ``True`` is not ``1``), 0.0 otherwise, -0.1 for a last line that is not a Python
    literal, after which the player may try again. No partial credit.

    ## Episode end
    Terminates after the first readable answer; truncates after ``max_turns`` moves (default 3),
    which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: 1 (one block, e.g. a filter or a conditional sum, over 3-5 small non-negative
    ints), 2 (two chained blocks, an extra int parameter, negative numbers, lists of 4-6),
    3 (three chained blocks including nested loops, bubble passes, early exits and while loops,
    lists of 5-7).

    ## Version History
    * v0: initial version.

    >>> env = PredictOutput()
    >>> obs, info = env.reset(seed=3)
    >>> obs, reward, terminated, truncated, info = env.step(env.reference_action())
    >>> reward, terminated, info["verdict"]["status"]
    (1.0, True, 'correct')
    """

    answer_marker = "boxed"
    game_info = GameInfo(
        name="PredictOutput",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "the value the call returns as a Python literal in \\boxed{...} (e.g. "
            "\\boxed{[3, 1]}); without a box, the last line of the reply is read"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("code", "code-reasoning", "execution", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        rng = self.np_random
        domain = _DOMAINS[self.difficulty]
        for _ in range(10_000):
            program = generate(rng, self.difficulty)
            for _ in range(6):
                args = random_args(rng, program.params, domain)
                ok, value = outcome(program.func, args)
                # Small ints (counts, digit sums...) and short lists of them would be the most
                # common answers: keep only one in ten, so that no constant answer pays.
                small = _small(value)
                if ok and _interesting(value, args) and (not small or rng.random() < 0.1):
                    self._program: Program = program
                    self._args = args
                    self._gold = value
                    return "player"
        raise RuntimeError("PredictOutput: no instance found")  # pragma: no cover

    @property
    def call(self) -> str:
        """The call the player must evaluate, e.g. ``f([3, 1, 2], 4)``."""
        return format_call("f", self._args)

    def _prompt(self, role: str) -> str:
        kinds = ", ".join(
            f"`{name}` is a list of ints" if kind == LIST else f"`{name}` is an int"
            for name, kind in self._program.params
        )
        return (
            f"Here is a Python function ({kinds}):\n\n"
            f"```python\n{self._program.source()}```\n\n"
            f"What does the call `{self.call}` return?\n"
            "Reason step by step if you like, then write the returned value as a Python literal "
            "in \\boxed{...}, e.g. \\boxed{[3, 1]} or \\boxed{-4}. The value must be exact, with "
            "the right type (a list is not a tuple)."
        )

    def _play(self, role: str, action: str) -> Move:
        value = parse_literal(action, what="the returned value as a Python literal",
                              example="`[3, 1]` or `-4`")  # fmt: skip
        if same_value(value, self._gold):
            verdict = Verdict.make_correct(f"{self.call} returns exactly that value")
        else:
            verdict = Verdict.make_incorrect(
                f"{self.call} does not return {_shown(value)} (types and values are compared "
                "exactly)"
            )
        return Move(verdict, {role: self._reward_for(verdict)}, next_role=None)

    def game_probes(self) -> dict[str, Opponent]:
        return {
            "constant_3": lambda obs, info, env: "3",
            "constant_empty_list": lambda obs, info, env: "[]",
            "constant_[0]": lambda obs, info, env: "[0]",
            "echo_the_call": lambda obs, info, env: env.unwrapped.call,
            "echo_the_arguments": lambda obs, info, env: repr(env.unwrapped._args[0]),
            "many_candidates": lambda obs, info, env: "\n".join(map(str, range(-20, 21))),
            "a_list_of_candidates": lambda obs, info, env: repr(list(range(-20, 21))),
        }

    def _reference(self, role: str) -> str:
        return repr(self._gold)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."
