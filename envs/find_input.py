"""FindInput: find arguments on which a generated Python function returns a given value."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, Opponent, ParseError
from langgames.envs._programs import (
    LIST,
    Domain,
    Program,
    format_call,
    generate,
    outcome,
    parse_call_args,
    random_args,
    same_value,
)
from langgames.verifiers.verdict import Verdict

__all__ = ["FindInput"]

#: Bounds on the player's arguments (keep every check to a fraction of a second in the sandbox).
MAX_ABS = 1000
MAX_LEN = 12

# difficulty -> where the hidden reachable input comes from (the level also sets program size)
_DOMAINS = {
    1: Domain(min_len=2, max_len=5, low=-9, high=20, n_low=0, n_high=500),
    2: Domain(min_len=3, max_len=6, low=-9, high=12, k_low=0, k_high=6, n_low=-100, n_high=500),
    3: Domain(min_len=3, max_len=7, low=-9, high=15, k_low=-2, k_high=6, n_low=-300, n_high=999),
}
# The guesses a player could make without reading the function: instances whose target one of
# them reaches are redrawn, so constant answers earn nothing.
_PROBE_LISTS: tuple[list[int], ...] = (
    [], [0], [1], [-1], [2], [3], [5], [10], [100], [0, 0], [1, 1], [1, 2], [2, 1], [1, 2, 3],
    [3, 2, 1], [0, 0, 0], [1, 1, 1], [1, 2, 3, 4, 5], [-1, -2, -3], [1000], [-1000],
)  # fmt: skip
_PROBE_INTS = (0, 1, -1, 2, 3, 5, 10, 100, 1000, -1000)
_EXAMPLE = "`f([3, 1, 2], 5)`"
# difficulty -> how many random draws (of `_SAMPLES`) from the level's domain must reach the
# target (at least, at most): the rarer the inputs that work, the less guessing helps.
_SAMPLES = 60
_HITS = {1: (0, 12), 2: (0, 1), 3: (0, 0)}


def _probe_args(params: tuple[tuple[str, str], ...], target: Any) -> list[tuple]:
    options: list[list[Any]] = []
    for _, kind in params:
        extra: list[Any]
        if kind == LIST:
            extra = [target] if type(target) is list and len(target) <= MAX_LEN else []
            extra += [[target]] if type(target) is int and abs(target) <= MAX_ABS else []
            options.append([*_PROBE_LISTS, *extra])
        else:
            extra = [target] if type(target) is int and abs(target) <= MAX_ABS else []
            options.append([*_PROBE_INTS, *extra])
    return list(itertools.product(*options))


def _hits(program: Program, target: Any, rng: np.random.Generator, domain: Domain) -> int:
    """How many of `_SAMPLES` random argument draws from ``domain`` make ``program`` return
    ``target`` (a measure of how easy the target is to hit by guessing)."""
    hits = 0
    for _ in range(_SAMPLES):
        ok, value = outcome(program.func, random_args(rng, program.params, domain))
        hits += ok and same_value(value, target)
    return hits


def _informative(target: Any) -> bool:
    if target is None or isinstance(target, bool):
        return False
    return len(repr(target)) <= 100


class FindInput(LanguageGame):
    """Find arguments on which a generated Python function returns a given target value.

    ## Description
    The game generates a small Python function ``f`` (the catalogue of PredictOutput: maps,
    filters, conditional sums and counts, running totals, neighbour comparisons, digit loops,
    bubble passes...) and a target value, which ``f`` returns on some hidden arguments drawn at
    random (so a solution always exists). The player proposes arguments; the game runs ``f`` on
    them in the isolated Python sandbox (``langgames.verifiers.python``) and compares the result
    with the target on the host, strictly (type and value). Any arguments that work are correct.
    Instances whose target is reached by an obvious guess (empty or tiny lists, 0, 1, 10, the
    target itself passed back, or in a list...) are redrawn, so constant answers earn nothing; so
    are instances whose target random arguments reach too often, so guessing does not pay.

    ## Roles
    ``player`` (single role).

    ## Observation
    The function's source, the parameter types, the bounds on arguments and the target value.

    ## Action
    A reply whose last non-empty line is a call of ``f`` on literal arguments, e.g.
    ``f([3, 1, 2], 5)`` (a tuple of the arguments, ``([3, 1, 2], 5)``, is read the same way),
    optionally in backticks; at most 2,000 characters. Lists hold at most 12 ints, and every int is
    between -1000 and 1000. The line is read with ``ast`` and ``ast.literal_eval``, never run in
    the host.

    ## Reward
    1.0 if ``f`` returns the target on the arguments, 0.0 if it returns something else or raises,
    -0.1 for a line that is not such a call (wrong number or types of arguments, values out of
    bounds, not literals), after which the player may try again.

    ## Episode end
    Terminates after the first readable answer; truncates after ``max_turns`` moves (default 3),
    which only unreadable replies can use up.

    ## Arguments
    ``difficulty``: 1 (one block over one parameter; at most 12 of 60 random argument draws from
    the level's input range reach the target), 2 (two chained blocks, some functions take an
    extra int ``k``; at most 1 of 60 draws reaches it), 3 (three chained blocks, with nested
    loops, bubble passes, early exits, while loops and pair outputs; none of 60 draws reaches
    the target).

    ## Version History
    * v0: initial version.
    """

    answer_marker = "boxed"
    game_info = GameInfo(
        name="FindInput",
        version=0,
        roles=("player",),
        verifiers=("python",),
        answer_format=(
            f"a call of f on literal arguments in \\boxed{{...}}, e.g. "
            f"\\boxed{{{_EXAMPLE.strip('`')}}} (without a box, the last line of the reply is "
            f"read; lists of at most {MAX_LEN} ints, every int from -{MAX_ABS} to {MAX_ABS})"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("code", "code-reasoning", "abduction", "single-turn", "sandbox"),
    )

    def _setup(self) -> str:
        rng = self.np_random
        domain = _DOMAINS[self.difficulty]
        for _ in range(10_000):
            program = generate(rng, self.difficulty)
            args = random_args(rng, program.params, domain)
            ok, target = outcome(program.func, args)
            if not ok or not _informative(target):
                continue
            probes = _probe_args(program.params, target)
            if any(same_value(outcome(program.func, p)[1], target) for p in probes):
                continue
            low, high = _HITS[self.difficulty]
            if not low <= _hits(program, target, rng, domain) <= high:
                continue
            self._program: Program = program
            self._source = program.source()
            self._args = args
            self._target = target
            return "player"
        raise RuntimeError("FindInput: no instance found")  # pragma: no cover

    @property
    def target(self) -> Any:
        return self._target

    def _prompt(self, role: str) -> str:
        kinds = ", ".join(
            f"`{name}` is a list of ints" if kind == LIST else f"`{name}` is an int"
            for name, kind in self._program.params
        )
        return (
            f"Here is a Python function ({kinds}):\n\n"
            f"```python\n{self._source}```\n\n"
            f"Find arguments for which `f` returns exactly `{self._target!r}` (same value and "
            "type). Any arguments that work are accepted.\n"
            f"Lists may hold at most {MAX_LEN} ints, and every int must be between -{MAX_ABS} "
            f"and {MAX_ABS}. Reason if you like, then write the call in \\boxed{{...}}, "
            f"for example \\boxed{{{_EXAMPLE.strip('`')}}}."
        )

    def _play(self, role: str, action: str) -> Move:
        params = self._program.params
        example = format_call("f", [[3, 1, 2] if k == LIST else 5 for _, k in params])
        args = parse_call_args(action, "f", len(params), f"`{example}`")
        for (name, kind), value in zip(params, args, strict=True):
            _check_argument(name, kind, value)
        from langgames.verifiers.python import RunStatus, default_sandbox

        result = default_sandbox().call(self._source, "f", [args])[0]
        call = _clip(format_call("f", args))
        if result.status is RunStatus.VERIFIER_ERROR:
            verdict = Verdict.make_verifier_error(f"the sandbox failed: {result.error}")
        elif not result.ok:
            verdict = Verdict.make_incorrect(
                f"{call} does not return the target: it ended with {result.status.value}: "
                f"{_clip(result.error or '')}"
            )
        elif same_value(result.value, self._target):
            verdict = Verdict.make_correct(f"{call} returns the target")
        else:
            verdict = Verdict.make_incorrect(
                f"{call} returns {_clip(repr(result.value))}, not the target"
            )
        return Move(verdict, {role: self._reward_for(verdict)}, next_role=None)

    def game_probes(self) -> dict[str, Opponent]:
        def call(lists: list[int], ints: int) -> Opponent:
            def probe(obs: str, info: Any, env: Any) -> str:
                params = env.unwrapped._program.params
                return format_call("f", [lists if kind == LIST else ints for _, kind in params])

            return probe

        def target_as_input(obs: str, info: Any, env: Any) -> str:
            target = env.unwrapped.target
            return call(target if type(target) is list else [target], 0)(obs, info, env)

        return {
            "empty_list": call([], 0),
            "small_list": call([1, 2, 3], 1),
            "other_list": call([4, 7, 2, 9], 3),
            "zeros": call([0, 0, 0, 0], 0),
            "target_as_input": target_as_input,
            "the_target_itself": lambda obs, info, env: repr(env.unwrapped.target),
        }

    def _reference(self, role: str) -> str:
        return format_call("f", self._args)


def _check_argument(name: str, kind: str, value: Any) -> None:
    if kind == LIST:
        ok = (
            type(value) is list
            and len(value) <= MAX_LEN
            and all(type(v) is int and abs(v) <= MAX_ABS for v in value)
        )
        want = f"a list of at most {MAX_LEN} ints, each from -{MAX_ABS} to {MAX_ABS}"
    else:
        ok = type(value) is int and abs(value) <= MAX_ABS
        want = f"an int from -{MAX_ABS} to {MAX_ABS}"
    if not ok:
        raise ParseError(f"`{name}` must be {want} (got {_clip(repr(value))})")


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
