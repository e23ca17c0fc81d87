"""FixBug: find and fix the planted bug in a documented Python function; hidden tests decide."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from langgames.core import GameInfo
from langgames.envs._code_game import CodeGame
from langgames.envs._programs import (
    Domain,
    Function,
    Mutant,
    Program,
    describe_domain,
    format_call,
    generate,
    mutants,
    outcome,
    random_args,
    same_value,
    traced,
)

__all__ = ["FixBug"]

N_HIDDEN = 20
_POOL = 30  # inputs the shown failing example is chosen from (never hidden inputs)
_MAX_CANDIDATES = 24  # planted-bug candidates evaluated per program
_CHOICES = {1: 6, 2: 1, 3: 6}  # observable bugs to choose from (the most / any / least visible)
_DOMAIN = Domain(min_len=0, max_len=8, low=-9, high=12, k_low=-2, k_high=6, n_low=-100, n_high=500)
# difficulty -> kinds of bug that may be planted
_PLAIN = ("operator", "comparison", "constant", "initial value", "boolean")
_POSITIONAL = ("swapped operands", "loop bound", "off by one", "index", "slice bound")
_KINDS = {1: _PLAIN, 2: _PLAIN + _POSITIONAL, 3: (*_PLAIN, *_POSITIONAL, "variable")}


@dataclass(frozen=True)
class _Bug:
    mutant: Mutant
    failing: int  # hidden cases on which the buggy function is wrong
    example: tuple  # shown arguments
    expected: Any
    got: Any


class FixBug(CodeGame):
    """Find and fix the one planted bug in a documented Python function; hidden tests decide.

    ## Description
    The game generates a small Python function ``f`` whose docstring says, step by step, what it
    computes (the catalogue of PredictOutput: maps, filters, conditional sums and counts, running
    totals, neighbour comparisons, digit loops, bubble passes...), then plants one bug: a single
    change of an operator, a comparison, a constant, a loop bound, an initial value, an index,
    the order of two operands, a variable or ``and``/``or``. The player sees the buggy function,
    its docstring and one failing call (what it should return and what it returns), and replies
    with the corrected function. It is run on 20 hidden inputs in the isolated Python sandbox
    (``langgames.verifiers.python``); every value must equal the correct function's, strictly
    (type and value). Hidden inputs and expected values never enter the sandbox.

    Every planted bug is checked at generation: the buggy function is wrong on at least one
    hidden input (so returning it unchanged earns 0) and on the shown example, which is not a
    hidden input (so special-casing the example earns 0).

    ## Roles
    ``coder`` (single role).

    ## Observation
    The buggy function with its docstring, the failing call, the kind of hidden inputs and the
    answer format.

    ## Action
    Python source defining ``f``, in a fenced code block (the last ```` ```python ```` block of the
    reply is used). A reply without a fenced block is read as code only if it contains ``def f``.
    At most 20,000 characters of code.

    ## Reward
    1.0 when every hidden test passes; 0.0 when any returns a wrong value or raises; -0.1 when no
    code can be found, or the program times out, exhausts memory or is refused by the sandbox.
    No partial credit, so it cannot be farmed by passing some of the tests.

    ## Episode end
    Terminates after the first readable program; truncates after ``max_turns`` moves (default 3).

    ## Arguments
    ``difficulty``: 1 (one block; an operator, comparison, constant or initial value, chosen
    among the bugs that break the most hidden tests), 2 (two chained blocks; also loop bounds,
    indices, swapped operands; any observable bug), 3 (three chained blocks; also wrong
    variables; the bug that breaks the fewest hidden tests, i.e. the subtlest one, is planted).

    ## Version History
    * v0: initial version.
    """

    entry = "f"
    game_info = GameInfo(
        name="FixBug",
        version=0,
        roles=("coder",),
        verifiers=("python",),
        answer_format=(
            "the whole corrected function f in a fenced block: ```python\\ndef f(xs):\\n    ..."
            "\\n```"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("code", "debugging", "specification", "single-turn", "sandbox"),
    )

    def _setup(self) -> str:
        rng = self.np_random
        for _ in range(10_000):
            found = _draw(rng, self.difficulty)
            if found is not None:
                self._program, self._hidden, self._bug = found
                return "coder"
        raise RuntimeError("FixBug: no instance found")  # pragma: no cover

    @property
    def buggy_source(self) -> str:
        """The buggy function as the player sees it (with the docstring)."""
        return self._bug.mutant.func.source(self._program.docstring())

    @property
    def bug_kind(self) -> str:
        return self._bug.mutant.kind

    def _prompt(self, role: str) -> str:
        bug = self._bug
        call = format_call("f", bug.example)
        params = self._program.params
        signature = f"f({', '.join(name for name, _ in params)})"
        domain = describe_domain(params, _DOMAIN)
        return (
            "This Python function should do what its docstring says, but it has exactly one bug: "
            "one small change somewhere (an operator, a comparison, a constant, a loop bound, an "
            "index, a variable...).\n\n"
            f"```python\n{self.buggy_source}```\n\n"
            f"For example, `{call}` should return `{bug.expected!r}`, but it returns "
            f"`{bug.got!r}`.\n\n"
            f"Fix the bug. Your function will be run in a sandbox on {N_HIDDEN} hidden inputs "
            f"({domain}) and must return exactly what the docstring specifies "
            "(same values and types). Reply with the whole corrected function in a fenced block:\n"
            f"```python\ndef {signature}:\n    ...\n```"
        )

    def _reference_source(self) -> str:
        return self._program.source(with_docstring=True)


def _draw(
    rng: np.random.Generator, level: int
) -> tuple[Program, list[tuple[tuple, Any]], _Bug] | None:
    program = generate(rng, level)
    func = program.func
    inputs: list[tuple] = []
    seen: set[str] = set()
    for _ in range(4 * (N_HIDDEN + _POOL)):
        args = random_args(rng, program.params, _DOMAIN)
        if repr(args) not in seen:
            seen.add(repr(args))
            inputs.append(args)
        if len(inputs) == N_HIDDEN + _POOL:
            break
    else:
        return None
    results = [traced(func, args) for args in inputs]
    if not all(ok for ok, _, _ in results):
        return None
    cases = [(args, value) for args, (_, value, _) in zip(inputs, results, strict=True)]
    # A variant running far longer than the function itself loops: it differs, and no more
    # time is spent on it.
    budget = 4 * max(taken for _, _, taken in results) + 100
    hidden, pool = cases[:N_HIDDEN], cases[N_HIDDEN:]
    if len({repr(v) for _, v in hidden}) < 3:
        return None
    allowed = [m for m in mutants(func) if m.kind in _KINDS[level]]
    bugs: list[_Bug] = []
    for index in rng.permutation(len(allowed))[:_MAX_CANDIDATES]:
        bug = _check_bug(allowed[int(index)], hidden, pool, budget)
        if bug is not None:
            bugs.append(bug)
            if len(bugs) == _CHOICES[level]:
                break
    if not bugs:
        return None
    if level == 1:
        best = max(b.failing for b in bugs)
    elif level == 3:
        best = min(b.failing for b in bugs)
    else:
        return program, hidden, bugs[0]
    return program, hidden, next(b for b in bugs if b.failing == best)


def _check_bug(mutant: Mutant, hidden: list, pool: list, budget: int) -> _Bug | None:
    """The bug as planted, if it shows on the hidden cases and on a pool input; else None."""
    func: Function = mutant.func
    failing = 0
    for args, expected in hidden:
        ok, value = outcome(func, args, budget)
        if not ok and value == "step limit":
            return None  # might loop for long in the sandbox: not a bug we plant
        failing += not ok or not same_value(value, expected)
    if failing == 0:
        return None
    for args, expected in pool:
        ok, value = outcome(func, args, budget)
        if ok and not same_value(value, expected):
            return _Bug(mutant, failing, args, expected, value)
    return None
