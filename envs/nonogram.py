"""Nonogram: shade the cells of a grid from its row and column clues; an exact line solver plus
search proves every instance has exactly one solution."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._puzzles import ANSWER_MARKER, answer_text, decoy_candidates, judged
from langgames.verifiers.verdict import Verdict

__all__ = ["Nonogram", "clues_of", "count_solutions"]


@dataclass(frozen=True)
class _Level:
    size: int  # the grid is size x size
    density: tuple[float, float]  # range of the share of shaded cells in the random grid


_LEVELS = {
    1: _Level(size=5, density=(0.5, 0.65)),
    2: _Level(size=7, density=(0.5, 0.65)),
    3: _Level(size=10, density=(0.5, 0.65)),
}
_FILLED = frozenset("#1")
_EMPTY = frozenset(".0-")
_SEPARATORS = frozenset(",/|;")
_MAX_DRAWS = 500  # random grids tried per instance before giving up (never reached in tests)

Clue = tuple[int, ...]


def clues_of(line: list[int] | tuple[int, ...]) -> Clue:
    """The clue of one line: the lengths of its runs of shaded cells (``()`` for none).

    >>> clues_of([1, 1, 0, 1, 0]), clues_of([0, 0, 0])
    ((2, 1), ())
    """
    runs: list[int] = []
    run = 0
    for v in line:
        if v:
            run += 1
        elif run:
            runs.append(run)
            run = 0
    if run:
        runs.append(run)
    return tuple(runs)


@lru_cache(maxsize=4096)
def _placements(clue: Clue, n: int) -> tuple[int, ...]:
    """Every line of length ``n`` with that clue, as bitmasks (bit i = cell i shaded)."""
    if not clue:
        return (0,)
    out: list[int] = []

    def place(k: int, start: int, mask: int) -> None:
        if k == len(clue):
            out.append(mask)
            return
        rest = sum(clue[k + 1 :]) + len(clue) - k - 1  # room the later runs need
        for s in range(start, n - rest - clue[k] + 1):
            place(k + 1, s + clue[k] + 1, mask | ((1 << clue[k]) - 1) << s)

    place(0, 0, 0)
    return tuple(out)


def count_solutions(
    rows: list[Clue], cols: list[Clue], *, limit: int = 2
) -> tuple[int, list[int] | None, int, int]:
    """Count the grids with these clues, up to ``limit``.

    Returns ``(count, first_solution, line_steps, branches)``: the solution as a flat list of
    0/1 cells, row by row; ``line_steps`` counts lines narrowed by the line solver (exact: a cell
    is fixed when every placement of its line that fits the known cells agrees on it), and
    ``branches`` the guesses the search made when line solving alone got stuck (0 for a puzzle
    solvable line by line). Together they measure the difficulty.

    >>> count_solutions([(1,), (1,)], [(1,), (1,)])[0]  # two diagonals
    2
    >>> count_solutions([(2,), (1,)], [(2,), (1,)])[:2]
    (1, [1, 1, 1, 0])
    """
    h, w = len(rows), len(cols)
    row_opts = [_placements(c, w) for c in rows]
    col_opts = [_placements(c, h) for c in cols]
    state: dict[str, Any] = {"count": 0, "first": None, "steps": 0, "branches": 0}

    def solve(filled: list[int], empty: list[int]) -> bool:  # True: stop (limit reached)
        # filled[r] / empty[r]: bitmasks of the cells of row r known shaded / known empty.
        filled, empty = list(filled), list(empty)
        dirty_rows, dirty_cols = set(range(h)), set(range(w))
        while dirty_rows or dirty_cols:
            for r in sorted(dirty_rows):
                fits = [p for p in row_opts[r] if p & filled[r] == filled[r] and not p & empty[r]]
                state["steps"] += 1
                if not fits:
                    return False
                both, either = fits[0], 0
                for p in fits:
                    both &= p
                    either |= p
                new_f, new_e = both, ((1 << w) - 1) & ~either
                changed = (new_f & ~filled[r]) | (new_e & ~empty[r])
                filled[r] |= new_f
                empty[r] |= new_e
                for c in range(w):
                    if changed >> c & 1:
                        dirty_cols.add(c)
            dirty_rows.clear()
            for c in sorted(dirty_cols):
                col_f = sum(1 << r for r in range(h) if filled[r] >> c & 1)
                col_e = sum(1 << r for r in range(h) if empty[r] >> c & 1)
                fits = [p for p in col_opts[c] if p & col_f == col_f and not p & col_e]
                state["steps"] += 1
                if not fits:
                    return False
                both, either = fits[0], 0
                for p in fits:
                    both &= p
                    either |= p
                for r in range(h):
                    if both >> r & 1 and not filled[r] >> c & 1:
                        filled[r] |= 1 << c
                        dirty_rows.add(r)
                    elif not either >> r & 1 and not empty[r] >> c & 1:
                        empty[r] |= 1 << c
                        dirty_rows.add(r)
            dirty_cols.clear()
        full = (1 << w) - 1
        open_rows = [r for r in range(h) if (filled[r] | empty[r]) != full]
        if not open_rows:
            state["count"] += 1
            if state["first"] is None:
                state["first"] = [filled[r] >> c & 1 for r in range(h) for c in range(w)]
            return state["count"] >= limit
        r = open_rows[0]
        c = next(c for c in range(w) if not (filled[r] | empty[r]) >> c & 1)
        state["branches"] += 1
        for shade in (1, 0):
            f, e = list(filled), list(empty)
            (f if shade else e)[r] |= 1 << c
            if solve(f, e):
                return True
        return False

    solve([0] * h, [0] * h)
    return state["count"], state["first"], state["steps"], state["branches"]


def _as_answer(cells: list[int], n: int) -> str:
    return " ".join(
        "".join("#" if v else "." for v in cells[r * n : (r + 1) * n]) for r in range(n)
    )


def _dihedral(cells: list[int], n: int, k: int) -> list[int]:
    """The grid under the k-th symmetry of the square (0 = identity, 1-3 rotations, 4-7
    reflections)."""
    grid = np.array(cells, dtype=np.int8).reshape(n, n)
    if k >= 4:
        grid = grid.T
    grid = np.rot90(grid, k % 4)
    return [int(v) for v in grid.reshape(-1)]


class Nonogram(LanguageGame):
    """Shade a square grid so that every row and column shows its clue; one solution, exact.

    ## Description
    The game lists a clue for every row and every column of an n x n grid: the lengths of the
    runs of shaded cells in that line, in order, separated by at least one empty cell (``0`` for
    a line with none). The player shades the grid. Each instance is a random grid (every cell
    shaded with a probability drawn per instance) kept only if its clues have exactly one
    solution: an exact line solver (a cell is fixed when every placement of its line that fits
    the known cells agrees on it) runs to a fixed point and, where it gets stuck, a depth-first
    search guesses a cell and counts solutions, stopping at two. Any grid that matches every clue
    is accepted; by uniqueness it is the solution. The solver's effort (lines narrowed and
    guesses needed) is the measured difficulty.

    ## Roles
    ``player`` (single role).

    ## Observation
    The row clues (top to bottom) and column clues (left to right), the rules and the answer
    format.

    ## Action
    The last line starting with ``answer:``, followed by the n rows top to bottom, each a string
    of n cells, ``#`` shaded and ``.`` empty, separated by spaces, e.g. ``answer: #.#.. ##...``
    (``1``/``0`` are read as ``#``/``.``; ``-`` as empty; commas, ``/`` and ``|`` are ignored).

    ## Reward
    1.0 if every row and column matches its clue; 0.0 for a readable grid that does not; -0.1
    for an unreadable reply (not n*n cells, other characters), after which the player may try
    again.

    ## Episode end
    Terminates after the first readable grid; truncates after ``max_turns`` moves (default 3).

    ## Arguments
    ``difficulty``: 1 (5x5), 2 (7x7), 3 (10x10); shaded share 50-65%; unique solutions only.

    ## Version History
    * v0: initial version.

    >>> game = Nonogram()
    >>> obs, info = game.reset(seed=3)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="Nonogram",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "`answer:` followed by the rows of the grid, top to bottom, as strings of `#` "
            "(shaded) and `.` (empty) separated by spaces, e.g. `answer: #.#.. ##... .....`"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("logic", "constraint", "puzzle", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        level = _LEVELS[self.difficulty]
        n = level.size
        rng = self.np_random
        for _ in range(_MAX_DRAWS):
            density = float(rng.uniform(*level.density))
            cells = [int(v) for v in (rng.random(n * n) < density)]
            rows = [clues_of(cells[r * n : (r + 1) * n]) for r in range(n)]
            cols = [clues_of(cells[c::n]) for c in range(n)]
            count, _, steps, branches = count_solutions(rows, cols)
            if count == 1:
                break
        else:  # pragma: no cover - about 1 in 3 random grids is unique at every level
            raise RuntimeError(f"no unique nonogram in {_MAX_DRAWS} draws")
        self._n, self._solution, self._rows, self._cols = n, cells, rows, cols
        self._line_steps, self._branches = steps, branches
        return "player"

    @property
    def line_steps(self) -> int:
        """Lines the solver narrowed to prove the solution unique (the difficulty measure)."""
        return self._line_steps

    @property
    def branches(self) -> int:
        """Guesses the solver made where line solving alone got stuck."""
        return self._branches

    def _prompt(self, role: str) -> str:
        n = self._n

        def show(clue: Clue) -> str:
            return " ".join(map(str, clue)) if clue else "0"

        rows = "\n".join(f"row {r + 1}: {show(c)}" for r, c in enumerate(self._rows))
        cols = "\n".join(f"column {c + 1}: {show(k)}" for c, k in enumerate(self._cols))
        pattern = [int((r + c) % 3 == 0) for r in range(n) for c in range(n)]
        if pattern == self._solution:  # the format example must never be the answer
            pattern = [1 - v for v in pattern]
        example = _as_answer(pattern, n)
        return (
            f"Nonogram {n}x{n}. Shade cells of the grid so that every row and column matches its "
            "clue: the clue lists, in order (left to right for rows, top to bottom for columns), "
            "the lengths of the runs of consecutive shaded cells in that line; runs are separated "
            "by at least one empty cell, and 0 means the line has no shaded cell. The puzzle has "
            "exactly one solution.\n\n"
            f"Row clues:\n{rows}\n\nColumn clues:\n{cols}\n\n"
            f"Write the whole grid on one line, the {n} rows top to bottom, each as {n} "
            "characters (# shaded, . empty) separated by spaces, e.g. "
            f"`answer: {example}` (that is the format, not the solution)."
        )

    def _play(self, role: str, action: str) -> Move:
        n = self._n
        text = answer_text(action, what=f"the {n} rows of the grid as strings of # and .")
        cells: list[int] = []
        for char in text:
            if char.isspace() or char in _SEPARATORS:
                continue
            if char in _FILLED:
                cells.append(1)
            elif char in _EMPTY:
                cells.append(0)
            else:
                shown = char if char.isprintable() else repr(char)
                raise ParseError(
                    f"{shown!r} is not a cell: write # for a shaded cell and . for an empty one"
                )
            if len(cells) > n * n:
                break
        if len(cells) != n * n:
            got = "more than" if len(cells) > n * n else f"{len(cells)}, not"
            raise ParseError(f"the grid has {got} {n * n} cells ({n} rows of {n} cells)")
        details = {"size": f"{n}x{n}", "line_steps": self._line_steps, "branches": self._branches}
        return judged(role, self._check(cells).with_details(**details))

    def _check(self, cells: list[int]) -> Verdict:
        n = self._n
        for r, clue in enumerate(self._rows):
            got = clues_of(cells[r * n : (r + 1) * n])
            if got != clue:
                return Verdict.make_incorrect(
                    f"row {r + 1} reads {' '.join(map(str, got)) or '0'} but its clue is "
                    f"{' '.join(map(str, clue)) or '0'}"
                )
        for c, clue in enumerate(self._cols):
            got = clues_of(cells[c::n])
            if got != clue:
                return Verdict.make_incorrect(
                    f"column {c + 1} reads {' '.join(map(str, got)) or '0'} but its clue is "
                    f"{' '.join(map(str, clue)) or '0'}"
                )
        return Verdict.make_correct("every row and column matches its clue")

    def _reference(self, role: str) -> str:
        return "answer: " + _as_answer(self._solution, self._n)

    def _candidates(self, role: str) -> list[str]:
        """The solution and up to five of its rotations and reflections, in a random order.

        Random grids are as likely as any of their rotations or reflections (and so are their
        unique-solution subsets), so the gold grid is one uniformly random member of the list:
        a rule blind to the clues wins 1/len of the time. A symmetric grid has fewer distinct
        images, so its list is shorter. By uniqueness no decoy matches the clues. A pure function
        of the instance.
        """
        n = self._n
        rng = np.random.default_rng([self._instance_seed or 0, 0x9099])

        def transform(r: np.random.Generator) -> str:
            k = int(r.integers(1, 8))
            return "answer: " + _as_answer(_dihedral(self._solution, n, k), n)

        return decoy_candidates(self._reference(role), transform, rng)
