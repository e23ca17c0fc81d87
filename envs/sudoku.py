"""Sudoku: fill a 4x4, 6x6 or 9x9 grid whose unique solution a counting solver guarantees."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move
from langgames.envs._puzzles import (
    ANSWER_MARKER,
    count_fillings,
    digit_grid_text,
    grid_example,
    judged,
    latin_mistake,
    read_digit_grid,
    relabelled_grids,
)
from langgames.verifiers.verdict import Verdict

__all__ = ["Sudoku", "count_solutions"]


@dataclass(frozen=True)
class _Shape:
    size: int  # the grid is size x size, digits 1..size
    box_rows: int
    box_cols: int


_SHAPES = {1: _Shape(4, 2, 2), 2: _Shape(6, 2, 3), 3: _Shape(9, 3, 3)}


def _units(shape: _Shape) -> tuple[list[int], list[int], list[int]]:
    n = shape.size
    rows = [i // n for i in range(n * n)]
    cols = [i % n for i in range(n * n)]
    boxes_per_row = n // shape.box_cols
    boxes = [
        (r // shape.box_rows) * boxes_per_row + c // shape.box_cols
        for r, c in zip(rows, cols, strict=True)
    ]
    return rows, cols, boxes


def count_solutions(
    grid: list[int],
    shape: _Shape,
    *,
    limit: int = 2,
    rng: np.random.Generator | None = None,
) -> tuple[int, list[int] | None, int]:
    """Count the completions of ``grid`` (0 = empty) up to ``limit``.

    Returns ``(count, first_solution, nodes)``: ``nodes`` is the number of search nodes visited
    (the difficulty measure). Depth-first with bitmask candidates and the most-constrained cell
    first; with ``rng`` the digits are tried in a random order (used to make full grids).

    >>> shape = _SHAPES[1]
    >>> count_solutions([1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 0], shape)[:2]
    (1, [1, 2, 3, 4, 3, 4, 1, 2, 2, 1, 4, 3, 4, 3, 2, 1])
    """
    n = shape.size
    rows, cols, boxes = _units(shape)
    full = (1 << (n + 1)) - 2  # bits 1..n
    row_used, col_used, box_used = [0] * n, [0] * n, [0] * n
    cells = list(grid)
    for i, v in enumerate(cells):
        if v:
            bit = 1 << v
            if row_used[rows[i]] & bit or col_used[cols[i]] & bit or box_used[boxes[i]] & bit:
                return 0, None, 0
            row_used[rows[i]] |= bit
            col_used[cols[i]] |= bit
            box_used[boxes[i]] |= bit

    def options(i: int) -> int:
        return full & ~(row_used[rows[i]] | col_used[cols[i]] | box_used[boxes[i]])

    def toggle(i: int, d: int) -> None:
        row_used[rows[i]] ^= 1 << d
        col_used[cols[i]] ^= 1 << d
        box_used[boxes[i]] ^= 1 << d

    return count_fillings(cells, n, options, toggle, limit=limit, rng=rng)


def _render_row(values: list[int], shape: _Shape) -> str:
    parts = []
    for c, v in enumerate(values):
        if c and c % shape.box_cols == 0:
            parts.append("|")
        parts.append(str(v) if v else ".")
    return " ".join(parts)


class Sudoku(LanguageGame):
    """Fill a Sudoku grid (4x4, 6x6 or 9x9) that has exactly one solution, checked exactly.

    ## Description
    The game shows a partly filled grid. The player fills every empty cell so that each row, each
    column and each box holds every digit 1..n exactly once, keeping the given digits. Each
    instance starts from a random full grid (a randomised search), then clues are removed in a
    random order for as long as a counting solver (depth-first, most-constrained cell first,
    stopping at two solutions) still finds exactly one solution; the puzzle is therefore
    *minimal*: every remaining clue is needed. The solver's node count on the final puzzle is the
    measured difficulty.

    ## Roles
    ``player`` (single role).

    ## Observation
    The grid, one row per line, ``.`` for an empty cell and ``|`` between boxes; the rules and
    the answer format.

    ## Action
    The last line starting with ``answer:``, followed by the n rows as digit strings separated by
    spaces, e.g. ``answer: 1234 3412 2143 4321`` (spaces, commas, ``/`` and ``|`` between digits
    are ignored; exactly n*n digits).

    ## Reward
    1.0 if the grid is a solution that keeps every given digit; 0.0 for a readable wrong or
    incomplete grid (``.``, ``0`` or ``_`` mark a cell left empty); -0.1 for an unreadable reply
    (wrong number of digits, a digit out of range, other characters), after which the player may
    try again.

    ## Episode end
    Terminates after the first readable grid; truncates after ``max_turns`` moves (default 3).

    ## Arguments
    ``difficulty``: 1 (4x4, 2x2 boxes), 2 (6x6, 2x3 boxes), 3 (9x9, 3x3 boxes); all minimal.

    ## Version History
    * v0: initial version.

    >>> game = Sudoku()
    >>> obs, info = game.reset(seed=3)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="Sudoku",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "`answer:` followed by the rows of the filled grid as digit strings separated by "
            "spaces, e.g. `answer: 1234 3412 2143 4321`"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("logic", "constraint", "puzzle", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        shape = _SHAPES[self.difficulty]
        n = shape.size
        rng = self.np_random
        _, solution, _ = count_solutions([0] * (n * n), shape, limit=1, rng=rng)
        assert solution is not None
        puzzle = list(solution)
        for i in rng.permutation(n * n):
            keep = puzzle[int(i)]
            puzzle[int(i)] = 0
            if count_solutions(puzzle, shape, limit=2)[0] != 1:
                puzzle[int(i)] = keep
        _, _, nodes = count_solutions(puzzle, shape, limit=2)
        self._shape, self._solution, self._puzzle = shape, solution, puzzle
        self._nodes = nodes
        return "player"

    @property
    def clues(self) -> int:
        """How many digits the current puzzle gives."""
        return sum(1 for v in self._puzzle if v)

    @property
    def search_nodes(self) -> int:
        """Nodes the counting solver visits to prove the solution unique (the difficulty)."""
        return self._nodes

    def _prompt(self, role: str) -> str:
        shape = self._shape
        n = shape.size
        rows = [_render_row(self._puzzle[r * n : (r + 1) * n], shape) for r in range(n)]
        for r in range(n - shape.box_rows, 0, -shape.box_rows):
            rows.insert(r, "-" * len(rows[0]))
        pattern = [
            (r * shape.box_cols + r // shape.box_rows + c) % n + 1
            for r in range(n)
            for c in range(n)
        ]
        example = grid_example(pattern, self._solution, n)
        return (
            f"Sudoku {n}x{n}. Fill every empty cell (.) with a digit 1-{n} so that each row, each "
            f"column and each {shape.box_rows}x{shape.box_cols} box (separated by | and -) "
            f"contains every digit 1-{n} exactly once. The given digits stay as they are. The "
            "puzzle has exactly one solution.\n\n"
            + "\n".join(rows)
            + f"\n\nWrite the whole filled grid on one line, the {n} rows as digit strings "
            f"separated by spaces, top row first, e.g. `answer: {example}` (that is the format, "
            "not the solution)."
        )

    def _play(self, role: str, action: str) -> Move:
        cells = read_digit_grid(action, self._shape.size)
        details = {"clues": self.clues, "search_nodes": self._nodes}
        verdict = self._check(cells)
        return judged(role, verdict.with_details(**details))

    def _check(self, cells: list[int]) -> Verdict:
        n = self._shape.size
        _, _, box_of = _units(self._shape)
        boxes = [[i for i in range(n * n) if box_of[i] == b] for b in range(n)]
        mistake = latin_mistake(cells, self._puzzle, n, [("box", boxes)])
        return mistake or Verdict.make_correct("the grid is the solution")

    def _reference(self, role: str) -> str:
        return "answer: " + digit_grid_text(self._solution, self._shape.size)

    def _candidates(self, role: str) -> list[str]:
        """The solution and five relabellings of it (the digits permuted), in a random order.

        Every candidate is a valid full grid of the same shape, so only the given digits tell
        which one is right: a rule blind to the puzzle wins 1/6 of the time. A pure function of
        the instance.
        """
        rng = np.random.default_rng([self._instance_seed or 0, 0x5D0])
        return relabelled_grids(self._reference(role), self._solution, self._shape.size, rng)
