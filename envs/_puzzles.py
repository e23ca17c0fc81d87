"""Shared pieces of the logic-puzzle and planning games (Sudoku, Futoshiki, GraphColoring,
KnightsKnaves, SatAssign, LightsOut, GridPlan, BlocksWorld, ...).

Every one of these games reads its answer from the last line starting with ``answer:`` (the reply
contract, `langgames.contract`, hands that line over, keyword included; a reply without one is
handed over whole, and then its last non-empty line is read). Nothing here evaluates text: the
readers are bounded, linear-time scans that raise `ParseError` with what to write instead.

The solvers of these games are small exact searches written here rather than a SAT/CP library:
instances are small (at most 81 cells, 14 variables, 6 islanders, 4,051 block configurations), so
a counting search that stops at two solutions takes milliseconds, keeps ``pip install langgames``
free of native wheels, and is deterministic on every platform. The tests cross-check each one
against brute-force enumeration.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

import numpy as np

from langgames.core import Move, ParseError
from langgames.verifiers.verdict import Verdict

__all__ = [
    "ANSWER_MARKER",
    "MAX_ANSWER_CHARS",
    "DrawCache",
    "answer_text",
    "count_fillings",
    "decoy_candidates",
    "digit_grid_text",
    "grid_example",
    "judged",
    "latin_mistake",
    "read_digit_grid",
    "relabelled_grids",
    "tokens",
]

_T = TypeVar("_T")


class DrawCache:
    """The instances an expensive ``_setup`` drew, by game class, instance seed, difficulty and
    ``extra`` (any constructor option the draw depends on), each with the state of the game's
    generator after the draw.

    Every policy of a benchmark, an audit or the exploit battery replays the same seeds; a game
    whose draw proves uniqueness by search (Cryptarithm: about 120 candidate puzzles searched per
    instance) would search again each time. A hit restores the generator to where the draw left
    it, so a cached reset and a fresh one are the same episode, move for move. The values must be
    immutable (tuples, strings, frozen data): they are shared between games. Least recently used
    instances are dropped past ``maxsize``; safe across threads.
    """

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, tuple[Any, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def draw(self, game: Any, make: Callable[[], _T], extra: Hashable = ()) -> _T:
        """``make()`` (which draws from ``game.np_random``), or what it returned for this key."""
        key = (type(game), game.instance_seed, game.difficulty, extra)
        generator = game.np_random.bit_generator
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
        if hit is not None:
            value, state = hit
            generator.state = state
            return value
        value = make()
        with self._lock:
            self._items[key] = (value, generator.state)
            while len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


#: The reply contract marker shared by the puzzle games.
ANSWER_MARKER = "line:answer"
#: Longest answer (the text after ``answer:``) any puzzle game reads.
MAX_ANSWER_CHARS = 2_000

_LABEL = re.compile(r"(?i)^[ \t>*_`#-]{0,8}answer[*_`]{0,3}[ \t]{0,4}:")


def answer_text(action: str, *, what: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """The answer in ``action``: what follows ``answer:`` on the last line that starts with it,
    else the last non-empty line (stripped of one pair of backticks).

    >>> answer_text("I think so.\\nanswer: 1 2 3", what="the colours")
    '1 2 3'
    >>> answer_text("  `U R R D`  ", what="a plan")
    'U R R D'
    """
    line = None
    for match in re.finditer(r"(?im)^[ \t>*_`#-]{0,8}answer[*_`]{0,3}[ \t]{0,4}:.*$", action):
        line = match.group()
    if line is None:
        for candidate in reversed(action.splitlines()):
            if candidate.strip():
                line = candidate
                break
    if line is None:
        raise ParseError(f"the reply is empty; write `answer: {what}`")
    text = _LABEL.sub("", line, count=1).strip()
    text = text.replace("**", "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`$":
        text = text.strip(text[0]).strip()
    if len(text) > limit:
        raise ParseError(
            f"the answer is {len(text):,} characters long; the limit is {limit:,}: write only "
            f"{what} after `answer:`"
        )
    return text


def judged(role: str, verdict: Verdict, high: float = 1.0) -> Move:
    """The single-answer outcome: the verdict's reward (scaled to ``high``), episode over."""
    return Move(verdict, {role: verdict.reward * high}, next_role=None)


def decoy_candidates(
    right: str,
    make_decoy: Callable[[np.random.Generator], str | None],
    rng: np.random.Generator,
    *,
    count: int = 5,
    is_right: Callable[[str], bool] | None = None,
    attempts: int = 200,
) -> list[str]:
    """``right`` and up to ``count`` distinct wrong decoys, in a random order.

    ``make_decoy`` draws a decoy *from the same distribution as the right answer* (typically the
    gold answer of another instance of the same level), so that no rule blind to the question can
    tell them apart; ``is_right`` rejects decoys that would also be judged correct.
    """
    options = [right]
    for _ in range(attempts):
        if len(options) > count:
            break
        decoy = make_decoy(rng)
        if decoy is None or decoy in options or (is_right is not None and is_right(decoy)):
            continue
        options.append(decoy)
    return [options[int(i)] for i in rng.permutation(len(options))]


def tokens(text: str, pattern: re.Pattern[str], *, what: str, limit: int) -> list[Any]:
    """The matches of ``pattern`` that make up all of ``text`` (separated by spaces, commas or
    semicolons), at most ``limit`` of them. Raises `ParseError` naming the first stray piece."""
    out: list[re.Match[str]] = []
    pos = 0
    sep = re.compile(r"[\s,;]*")
    while True:
        pos = sep.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text):
            return out
        match = pattern.match(text, pos)
        if match is None or match.end() == pos:
            stray = text[pos : pos + 20]
            raise ParseError(f"cannot read {stray!r} in the answer; expected {what}")
        out.append(match)
        if len(out) > limit:
            raise ParseError(f"the answer has more than {limit} items; expected {what}")
        pos = match.end()


# ---------------------------------------------------------------------------------------------
# Digit grids (Sudoku, Futoshiki): an n x n grid of digits 1..n, flat and row-major, 0 = empty.


def count_fillings(
    cells: list[int],
    n: int,
    options: Callable[[int], int],
    toggle: Callable[[int, int], None],
    *,
    limit: int,
    rng: np.random.Generator | None = None,
) -> tuple[int, list[int] | None, int]:
    """Count the ways to fill the empty cells (0) of ``cells`` with digits 1..n, up to ``limit``.

    The rules are the caller's: ``options(i)`` is the bitmask (bit ``d`` for digit ``d``) of
    the digits cell ``i`` may hold now, read from ``cells`` and the caller's state, and
    ``toggle(i, d)`` flips digit ``d`` of cell ``i`` in that state (called once when the digit
    is placed and once when it is taken back). Depth-first, the cell with the fewest options
    first; with ``rng`` the digits are tried in a random order (to make full grids). ``cells``
    is restored before returning.

    Returns ``(count, first_solution, nodes)``; ``nodes``, the search nodes visited, is the
    games' difficulty measure.

    >>> count_fillings([1, 0], 2, lambda i: 0b110, lambda i, d: None, limit=3)
    (2, [1, 1], 3)
    """
    empty = [i for i, v in enumerate(cells) if not v]
    state: dict[str, Any] = {"count": 0, "first": None, "nodes": 0}

    def search() -> bool:  # True: stop (limit reached)
        state["nodes"] += 1
        best, best_mask, best_bits = -1, 0, n + 1
        for i in empty:
            if cells[i]:
                continue
            mask = options(i)
            bits = bin(mask).count("1")
            if bits < best_bits:
                best, best_mask, best_bits = i, mask, bits
                if bits <= 1:
                    break
        if best < 0:
            state["count"] += 1
            if state["first"] is None:
                state["first"] = list(cells)
            return state["count"] >= limit
        digits = [d for d in range(1, n + 1) if best_mask >> d & 1]
        if rng is not None:
            digits = [digits[int(k)] for k in rng.permutation(len(digits))]
        for d in digits:
            cells[best] = d
            toggle(best, d)
            stop = search()
            toggle(best, d)
            cells[best] = 0
            if stop:
                return True
        return False

    search()
    return state["count"], state["first"], state["nodes"]


#: Characters a player may write for a cell left empty.
_BLANKS = frozenset("._0")


def digit_grid_text(cells: list[int], n: int) -> str:
    """The grid as the answer format writes it: the rows as digit strings, separated by spaces.

    >>> digit_grid_text([1, 2, 2, 1], 2)
    '12 21'
    """
    return " ".join("".join(map(str, cells[r * n : (r + 1) * n])) for r in range(n))


def grid_example(pattern: list[int], solution: list[int], n: int) -> str:
    """``pattern`` as the prompt's format example, with 1 and 2 swapped if it happens to be the
    solution (the format example must never be the answer)."""
    if pattern == solution:
        pattern = [{1: 2, 2: 1}.get(v, v) for v in pattern]
    return digit_grid_text(pattern, n)


def read_digit_grid(action: str, n: int) -> list[int]:
    """The n x n grid after ``answer:`` in ``action``: digits 1..n, ``.``, ``_`` or ``0`` for an
    empty cell (read as 0); spaces, ``,``, ``/``, ``|`` and ``;`` are ignored. Raises
    `ParseError` for any other character or a wrong number of cells.

    >>> read_digit_grid("answer: 12 2.", 2)
    [1, 2, 2, 0]
    """
    text = answer_text(action, what=f"the {n} rows of the grid as digit strings")
    cells: list[int] = []
    for char in text:
        if char.isspace() or char in ",/|;":
            continue
        if char in _BLANKS:
            cells.append(0)
        elif "1" <= char <= "9" and int(char) <= n:
            cells.append(int(char))
        else:
            shown = char if char.isprintable() else repr(char)
            raise ParseError(
                f"{shown!r} is not a digit 1-{n}: write the rows as digit strings such as "
                f"{'123456789'[:n]}"
            )
        if len(cells) > n * n:
            break
    if len(cells) != n * n:
        got = "more than" if len(cells) > n * n else f"{len(cells)}, not"
        raise ParseError(f"the grid has {got} {n * n} cells ({n} rows of {n} digits)")
    return cells


def latin_mistake(
    cells: list[int],
    puzzle: list[int],
    n: int,
    units: Iterable[tuple[str, list[list[int]]]] = (),
) -> Verdict | None:
    """The first rule of a Latin-square puzzle that ``cells`` breaks, as an incorrect verdict,
    else None: a given digit changed, a cell left empty, a digit twice in a row, a column, or
    one of the further ``units`` (``(kind, [cell indices of each unit])``, e.g. Sudoku's boxes).

    >>> latin_mistake([1, 2, 1, 2], [1, 0, 0, 0], 2).reason
    'column 1 has the digit 1 twice'
    """

    def at(i: int) -> str:
        return f"row {i // n + 1}, column {i % n + 1}"

    for i, (given, v) in enumerate(zip(puzzle, cells, strict=True)):
        if given and v != given:
            return Verdict.make_incorrect(
                f"{at(i)} is given as {given} but your grid has {v or 'nothing'} there"
            )
    if 0 in cells:
        return Verdict.make_incorrect(f"{at(cells.index(0))} is left empty")
    rows = [list(range(r * n, (r + 1) * n)) for r in range(n)]
    columns = [list(range(c, n * n, n)) for c in range(n)]
    for kind, groups in (("row", rows), ("column", columns), *units):
        for u, group in enumerate(groups):
            seen = sorted(cells[i] for i in group)
            if seen != list(range(1, n + 1)):
                twice = next(v for k, v in enumerate(seen) if k and seen[k - 1] == v)
                return Verdict.make_incorrect(f"{kind} {u + 1} has the digit {twice} twice")
    return None


def relabelled_grids(
    reference: str, solution: list[int], n: int, rng: np.random.Generator
) -> list[str]:
    """``reference`` and five relabellings of ``solution`` (the digits permuted) as answers, in a
    random order (`decoy_candidates`): every candidate is a valid grid of the same shape, so only
    the puzzle tells which one is right."""

    def relabel(r: np.random.Generator) -> str:
        perm = [0, *(int(v) + 1 for v in r.permutation(n))]
        return "answer: " + digit_grid_text([perm[v] for v in solution], n)

    return decoy_candidates(reference, relabel, rng)
