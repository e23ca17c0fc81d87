"""WriteFunction: implement a generated specification; hidden tests run in the Python sandbox."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from langgames.core import GameInfo
from langgames.envs._code_game import CodeGame

__all__ = ["Stage", "WriteFunction", "build_spec"]

_N_HIDDEN = 16
_N_SHOWN = 3


@dataclass(frozen=True)
class Stage:
    """One step of a generated specification: its English text, its meaning and its code.

    ``apply`` is our own trusted Python (the host computes expected outputs with it; model code
    never runs in the host). ``code`` is the same step as source lines for the reference solution,
    operating on ``xs`` (transforms) or assigning ``result`` (reducers).
    """

    text: str
    apply: Callable[[list[int]], Any]
    code: tuple[str, ...]
    reduces: bool = False  # True: returns an int (assigns ``result``); False: a new ``xs``


def _int(rng: np.random.Generator, low: int, high: int) -> int:
    return int(rng.integers(low, high, endpoint=True))


# ----------------------------------------------------------------------------- transforms
def _affine(rng: np.random.Generator) -> Stage:
    a, b = _int(rng, 2, 5) * (1 if rng.random() < 0.7 else -1), _int(rng, -9, 9)
    return Stage(
        f"multiply every element by {a}, then add {b}",
        lambda xs: [a * x + b for x in xs],
        (f"xs = [{a} * x + {b} for x in xs]",),
    )


def _keep_mod(rng: np.random.Generator) -> Stage:
    k = _int(rng, 2, 5)
    r = _int(rng, 0, k - 1)
    return Stage(
        f"keep only the elements whose remainder modulo {k} is {r} (Python's %, so the "
        "remainder of a negative number is also between 0 and "
        f"{k - 1})",
        lambda xs: [x for x in xs if x % k == r],
        (f"xs = [x for x in xs if x % {k} == {r}]",),
    )


def _keep_greater(rng: np.random.Generator) -> Stage:
    t = _int(rng, -10, 10)
    return Stage(
        f"keep only the elements strictly greater than {t}",
        lambda xs: [x for x in xs if x > t],
        (f"xs = [x for x in xs if x > {t}]",),
    )


def _running_max(rng: np.random.Generator) -> Stage:
    def apply(xs: list[int]) -> list[int]:
        out, best = [], None
        for x in xs:
            best = x if best is None or x > best else best
            out.append(best)
        return out

    return Stage(
        "replace each element by the largest element seen so far (itself included)",
        apply,
        (
            "best = None",
            "out = []",
            "for x in xs:",
            "    best = x if best is None or x > best else best",
            "    out.append(best)",
            "xs = out",
        ),
    )


def _dedupe(rng: np.random.Generator) -> Stage:
    return Stage(
        "remove every element equal to an earlier element, keeping the first occurrences in order",
        lambda xs: list(dict.fromkeys(xs)),
        ("xs = list(dict.fromkeys(xs))",),
    )


def _rotate(rng: np.random.Generator) -> Stage:
    k = _int(rng, 1, 4)
    return Stage(
        f"rotate the list left by {k} positions, wrapping around (an empty list stays empty; "
        f"rotate by {k} modulo the length)",
        lambda xs: xs[k % len(xs) :] + xs[: k % len(xs)] if xs else [],
        (f"xs = xs[{k} % len(xs):] + xs[:{k} % len(xs)] if xs else []",),
    )


def _differences(rng: np.random.Generator) -> Stage:
    return Stage(
        "replace the list by the differences of neighbours, xs[i + 1] - xs[i] (one element "
        "shorter; empty if the list has fewer than 2 elements)",
        lambda xs: [b - a for a, b in itertools.pairwise(xs)],
        ("xs = [b - a for a, b in zip(xs, xs[1:])]",),
    )


def _clip(rng: np.random.Generator) -> Stage:
    lo = _int(rng, -8, 0)
    hi = _int(rng, 1, 8)
    return Stage(
        f"clip every element into the range {lo} to {hi} (smaller values become {lo}, larger "
        f"become {hi})",
        lambda xs: [min(max(x, lo), hi) for x in xs],
        (f"xs = [min(max(x, {lo}), {hi}) for x in xs]",),
    )


def _window_sums(rng: np.random.Generator) -> Stage:
    w = _int(rng, 2, 3)
    return Stage(
        f"replace the list by the sums of its windows of {w} consecutive elements, in order "
        f"(empty if it has fewer than {w} elements)",
        lambda xs: [sum(xs[i : i + w]) for i in range(len(xs) - w + 1)],
        (f"xs = [sum(xs[i:i + {w}]) for i in range(len(xs) - {w} + 1)]",),
    )


def _sort_by_distance(rng: np.random.Generator) -> Stage:
    c = _int(rng, -5, 5)
    return Stage(
        f"sort the elements by their distance to {c} (absolute difference), ties by value, "
        "both ascending",
        lambda xs: sorted(xs, key=lambda x: (abs(x - c), x)),
        (f"xs = sorted(xs, key=lambda x: (abs(x - {c}), x))",),
    )


# ----------------------------------------------------------------------------- reducers
def _sum(rng: np.random.Generator) -> Stage:
    return Stage(
        "return the sum of the elements (0 for an empty list)",
        sum,
        ("result = sum(xs)",),
        reduces=True,
    )


def _count_greater(rng: np.random.Generator) -> Stage:
    t = _int(rng, -5, 5)
    return Stage(
        f"return how many elements are strictly greater than {t}",
        lambda xs: sum(1 for x in xs if x > t),
        (f"result = sum(1 for x in xs if x > {t})",),
        reduces=True,
    )


def _max_or(rng: np.random.Generator) -> Stage:
    d = _int(rng, -99, -50)
    return Stage(
        f"return the largest element, or {d} if the list is empty",
        lambda xs: max(xs) if xs else d,
        (f"result = max(xs) if xs else {d}",),
        reduces=True,
    )


def _alternating(rng: np.random.Generator) -> Stage:
    return Stage(
        "return the alternating sum xs[0] - xs[1] + xs[2] - ... (0 for an empty list)",
        lambda xs: sum(x if i % 2 == 0 else -x for i, x in enumerate(xs)),
        ("result = sum(x if i % 2 == 0 else -x for i, x in enumerate(xs))",),
        reduces=True,
    )


def _distinct(rng: np.random.Generator) -> Stage:
    return Stage(
        "return the number of distinct values",
        lambda xs: len(set(xs)),
        ("result = len(set(xs))",),
        reduces=True,
    )


def _product_mod(rng: np.random.Generator) -> Stage:
    m = int(rng.choice([7, 11, 13, 97]))
    return Stage(
        f"return the product of the elements modulo {m} (Python's %, so between 0 and {m - 1}; "
        "the product of an empty list is 1)",
        lambda xs: _product(xs) % m,
        ("result = 1", "for x in xs:", "    result *= x", f"result %= {m}"),
        reduces=True,
    )


def _product(xs: list[int]) -> int:
    out = 1
    for x in xs:
        out *= x
    return out


def _longest_run(rng: np.random.Generator) -> Stage:
    return Stage(
        "return the length of the longest run of strictly increasing consecutive elements "
        "(0 for an empty list)",
        _longest_increasing_run,
        (
            "result = 0",
            "run = 0",
            "for i, x in enumerate(xs):",
            "    run = run + 1 if i and x > xs[i - 1] else 1",
            "    result = max(result, run)",
        ),
        reduces=True,
    )


def _longest_increasing_run(xs: list[int]) -> int:
    best = run = 0
    for i, x in enumerate(xs):
        run = run + 1 if i and x > xs[i - 1] else 1
        best = max(best, run)
    return best


def _first_argmax(rng: np.random.Generator) -> Stage:
    return Stage(
        "return the index of the first occurrence of the largest element, or -1 if the list is "
        "empty",
        lambda xs: xs.index(max(xs)) if xs else -1,
        ("result = xs.index(max(xs)) if xs else -1",),
        reduces=True,
    )


TRANSFORMS = (
    _affine,
    _keep_mod,
    _keep_greater,
    _running_max,
    _dedupe,
    _rotate,
    _differences,
    _clip,
    _window_sums,
    _sort_by_distance,
)
REDUCERS = (
    _sum,
    _count_greater,
    _max_or,
    _alternating,
    _distinct,
    _product_mod,
    _longest_run,
    _first_argmax,
)
# difficulty -> (number of transforms, whether a reducer ends the pipeline)
_SHAPES = {1: (1, False), 2: (1, True), 3: (2, True)}


def build_spec(rng: np.random.Generator, difficulty: int) -> list[Stage]:
    """A random pipeline of stages: transforms, then (above level 1) a reducer."""
    n_transforms, reduce = _SHAPES[difficulty]
    if difficulty == 1 and rng.random() < 0.5:
        return [REDUCERS[int(rng.integers(len(REDUCERS)))](rng)]
    picks = rng.choice(len(TRANSFORMS), size=n_transforms, replace=False)
    stages = [TRANSFORMS[int(i)](rng) for i in picks]
    if reduce:
        stages.append(REDUCERS[int(rng.integers(len(REDUCERS)))](rng))
    return stages


def _random_input(rng: np.random.Generator) -> list[int]:
    n = int(
        rng.choice(
            [0, 1, 2, 3, 5, 6, 8, 10, 12], p=[0.05, 0.07, 0.08, 0.1, 0.15, 0.15, 0.15, 0.13, 0.12]
        )
    )
    spread = int(rng.choice([3, 9, 20]))
    return [_int(rng, -spread, spread) for _ in range(n)]


class WriteFunction(CodeGame):
    """Implement a generated specification in Python; hidden tests run in the sandbox.

    ## Description
    The game generates a specification for ``solve(xs)``, where ``xs`` is a list of integers, as
    a pipeline of steps drawn with random parameters from a catalogue of transforms (map, filter,
    running maximum, rotation, window sums...) and reducers (sum, count, product modulo m, longest
    increasing run...). The prompt shows three examples; the player's code is run on 16 hidden
    inputs in the isolated Python sandbox (``langgames.verifiers.python``), and the host compares
    the returned values strictly (type and value) with outputs it computed itself. Hidden inputs
    and expected outputs never enter the sandbox.

    ## Roles
    ``coder`` (single role).

    ## Observation
    The specification, the signature, three input/output examples and the answer format.

    ## Action
    Python source defining ``solve(xs)``, in a fenced code block (the last ```` ```python ````
    block of the reply is used). A reply without a fenced block is read as code only if it
    contains ``def solve``. At most 20,000 characters of code.

    ## Reward
    1.0 when every hidden test passes; 0.0 when any returns a wrong value or raises; -0.1 when no
    code can be found, or the program times out, exhausts memory or is refused by the sandbox.
    No partial credit: passing some tests is not rewarded, so it cannot be farmed.

    ## Episode end
    Terminates after the first readable program; truncates after ``max_turns`` moves (default 3).

    ## Arguments
    ``difficulty``: 1 (one transform or one reducer), 2 (a transform then a reducer),
    3 (two transforms then a reducer).

    ## Version History
    * v0: initial version.
    """

    entry = "solve"
    game_info = GameInfo(
        name="WriteFunction",
        version=0,
        roles=("coder",),
        verifiers=("python",),
        answer_format=(
            "Python code defining solve(xs) in a fenced block: ```python\\ndef solve(xs):\\n    ..."
            "\\n```"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("code", "single-turn", "specification", "sandbox"),
    )

    def _setup(self) -> str:
        rng = self.np_random
        self._stages = build_spec(rng, self.difficulty)
        inputs: list[list[int]] = [[], [_int(rng, -9, 9)]]
        seen = {(), tuple(inputs[1])}
        while len(inputs) < _N_HIDDEN + _N_SHOWN:
            xs = _random_input(rng)
            if tuple(xs) not in seen:
                seen.add(tuple(xs))
                inputs.append(xs)
        order = rng.permutation(len(inputs))
        inputs = [inputs[int(i)] for i in order]
        cases = [((xs,), self._run_spec(list(xs))) for xs in inputs]
        self._shown, self._hidden = cases[:_N_SHOWN], cases[_N_SHOWN:]
        return "coder"

    def _run_spec(self, xs: list[int]) -> Any:
        value: Any = xs
        for stage in self._stages:
            value = stage.apply(value)
        return value

    def _prompt(self, role: str) -> str:
        returns = "int" if self._stages[-1].reduces else "list[int]"
        steps = "\n".join(f"  {i}. {s.text}" for i, s in enumerate(self._stages, 1))
        examples = "\n".join(f"  solve({args[0]!r}) == {out!r}" for args, out in self._shown)
        return (
            f"Write a Python function `solve(xs: list[int]) -> {returns}`. Starting from the list "
            f"xs, it must:\n{steps}\n"
            + ("  and return the resulting list.\n" if returns == "list[int]" else "")
            + f"Examples:\n{examples}\n"
            "Your function will be run on hidden inputs in a sandbox (standard library only, a "
            "few seconds and a few hundred MB at most). " + self._code_request("solve(xs)")
        )

    def _reference_source(self) -> str:
        body = [line for stage in self._stages for line in stage.code]
        body.append("return result" if self._stages[-1].reduces else "return xs")
        lines = "\n".join("    " + line for line in body)
        return f"def solve(xs):\n{lines}\n"
