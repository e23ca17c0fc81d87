"""InduceFunction: write a Python function from input/output examples alone; hidden tests decide."""

from __future__ import annotations

from typing import Any

import numpy as np

from langgames.core import GameInfo
from langgames.envs._code_game import CodeGame
from langgames.envs._programs import (
    Domain,
    Function,
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

__all__ = ["InduceFunction"]

N_HIDDEN = 24
_POOL = 30  # candidate inputs for examples that tell the function from its neighbours
_MAX_MUTANTS = 30
_EXTRA_SHOWN = 4
# difficulty -> (examples shown at first, domain of every input)
_LEVELS = {
    1: (6, Domain(min_len=0, max_len=7, low=-9, high=9, n_low=0, n_high=200)),
    2: (8, Domain(min_len=0, max_len=8, low=-9, high=12, k_low=0, k_high=5, n_low=-50, n_high=300)),
    3: (
        10,
        Domain(min_len=0, max_len=8, low=-9, high=15, k_low=-2, k_high=6, n_low=-100, n_high=999),
    ),
}


class InduceFunction(CodeGame):
    """Write a Python function from input/output examples alone; hidden tests run in the sandbox.

    ## Description
    The game generates a hidden Python function ``f`` (the catalogue of PredictOutput: maps,
    filters, conditional sums and counts, running totals, neighbour comparisons, digit loops,
    bubble passes...) and shows only examples of it: calls and the values they return. There is
    no description in words. The player writes ``f``; it is run on 24 hidden inputs in the
    isolated Python sandbox (``langgames.verifiers.python``) and every returned value must equal
    the hidden function's, strictly (type and value). Hidden inputs and expected values never
    enter the sandbox.

    The examples are chosen to pin the function down: every single-site variant of the hidden
    function (another operator, comparison, constant or loop bound...) that disagrees with it on
    the hidden inputs also disagrees with it on some example, as far as up to 4 extra examples
    allow. The hidden inputs are distinct from the examples and their expected values take at
    least 3 distinct values, so a table of the examples (or a constant) cannot pass.

    ## Roles
    ``coder`` (single role).

    ## Observation
    The signature, the kind of inputs (list lengths and value ranges), the examples and the
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
    ``difficulty``: 1 (one block, 6+ examples), 2 (two chained blocks, some functions take an
    extra int ``k``, 8+ examples), 3 (three chained blocks with nested loops, early exits, while
    loops and pair outputs, 10+ examples).

    ## Version History
    * v0: initial version.
    """

    entry = "f"
    game_info = GameInfo(
        name="InduceFunction",
        version=0,
        roles=("coder",),
        verifiers=("python",),
        answer_format=(
            "Python code defining f in a fenced block: ```python\\ndef f(xs):\\n    ...\\n```"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("code", "induction", "program-synthesis", "single-turn", "sandbox"),
    )

    def _setup(self) -> str:
        rng = self.np_random
        n_shown, domain = _LEVELS[self.difficulty]
        for _ in range(10_000):
            found = _draw(rng, self.difficulty, n_shown, domain)
            if found is not None:
                # unresolved: neighbours of the function that no example tells apart from it
                self._program, self._shown, self._hidden, self.unresolved = found
                self._domain = domain
                return "coder"
        raise RuntimeError("InduceFunction: no instance found")  # pragma: no cover

    def _prompt(self, role: str) -> str:
        params = self._program.params
        signature = f"f({', '.join(name for name, _ in params)})"
        examples = "\n".join(f"  {format_call('f', args)} == {out!r}" for args, out in self._shown)
        domain = describe_domain(params, self._domain)
        return (
            f"A hidden Python function `{signature}` gives these results:\n{examples}\n\n"
            f"Write `{signature}` so that it returns exactly the same values (same types) as the "
            f"hidden function. It will be run in a sandbox on {N_HIDDEN} hidden inputs of the "
            f"same kind as the examples ({domain}), standard library "
            f"only, a few seconds at most. {self._code_request(signature)}"
        )

    def _reference_source(self) -> str:
        return self._program.source()


Case = tuple[tuple, Any]


def _differs(func: Function, args: tuple, expected: Any, budget: int) -> bool:
    ok, value = outcome(func, args, budget)
    return not ok or not same_value(value, expected)


def _draw(
    rng: np.random.Generator, level: int, n_shown: int, domain: Domain
) -> tuple[Program, list[Case], list[Case], int] | None:
    """One instance: (program, shown examples, hidden cases, unresolved neighbours) or None."""
    program = generate(rng, level)
    func = program.func
    n_inputs = N_HIDDEN + 2 * n_shown + _POOL
    inputs: list[tuple] = []
    seen: set[str] = set()
    for _ in range(4 * n_inputs):
        args = random_args(rng, program.params, domain)
        if repr(args) not in seen:
            seen.add(repr(args))
            inputs.append(args)
        if len(inputs) == n_inputs:
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
    hidden, rest = cases[:N_HIDDEN], cases[N_HIDDEN:]
    if len({repr(v) for _, v in hidden}) < 3:
        return None
    # Examples with different outputs first (more informative), then the others.
    outputs: set[str] = set()
    shown: list[Case] = []
    for case in rest[: 2 * n_shown]:
        if len(shown) < n_shown and repr(case[1]) not in outputs:
            outputs.add(repr(case[1]))
            shown.append(case)
    pool = [c for c in rest if all(c is not s for s in shown)]
    need = n_shown - len(shown)
    shown, pool = shown + pool[:need], pool[need:]
    if len(outputs) < 2:
        return None
    # Examples that tell the function from its single-site neighbours.
    candidates = mutants(func)
    order = rng.permutation(len(candidates))[:_MAX_MUTANTS]
    unresolved = 0
    for index in order:
        other = candidates[int(index)].func
        if not any(_differs(other, args, out, budget) for args, out in hidden):
            continue  # agrees on every hidden input: the player may write either
        if any(_differs(other, args, out, budget) for args, out in shown):
            continue  # already told apart by an example
        witness = next((c for c in pool if _differs(other, *c, budget)), None)
        if witness is None or len(shown) >= n_shown + _EXTRA_SHOWN:
            unresolved += 1
            continue
        shown.append(witness)
        pool.remove(witness)
    order = rng.permutation(len(shown))
    return program, [shown[int(i)] for i in order], hidden, unresolved
