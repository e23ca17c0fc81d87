"""Futoshiki: fill a Latin square that obeys inequality signs between neighbouring cells; a
counting solver guarantees exactly one solution."""

from __future__ import annotations

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

__all__ = ["Futoshiki", "count_solutions"]

_SIZES = {1: 4, 2: 5, 3: 6}

#: An inequality ``(a, b)``: the cell with flat index ``a`` holds a smaller digit than ``b``.
Less = tuple[int, int]


def _neighbour_pairs(n: int) -> list[tuple[int, int]]:
    """Every pair of orthogonally adjacent cells (left-right, then top-bottom), as flat indices."""
    pairs = [(r * n + c, r * n + c + 1) for r in range(n) for c in range(n - 1)]
    pairs += [(r * n + c, (r + 1) * n + c) for r in range(n - 1) for c in range(n)]
    return pairs


def count_solutions(
    grid: list[int],
    less: list[Less],
    n: int,
    *,
    limit: int = 2,
    rng: np.random.Generator | None = None,
) -> tuple[int, list[int] | None, int]:
    """Count the Latin squares that extend ``grid`` (0 = empty) and obey ``less``, up to
    ``limit``.

    Returns ``(count, first_solution, nodes)``; ``nodes`` (search nodes visited) is the
    difficulty measure. Depth-first with bitmask candidates, the most-constrained cell first;
    a candidate digit must be above every known smaller neighbour, below every known larger
    one, and leave room for the chains of inequalities on either side. With ``rng`` the digits
    are tried in a random order (used to make full squares).

    >>> count_solutions([1, 1, 0, 0], [], 2)[0]  # a repeated digit
    0
    >>> count_solutions([0, 0, 0, 0], [(0, 1)], 2)[:2]
    (1, [1, 2, 2, 1])
    """
    cells = list(grid)
    full = (1 << (n + 1)) - 2
    smaller: list[list[int]] = [[] for _ in cells]  # smaller[i]: cells that must be below i
    larger: list[list[int]] = [[] for _ in cells]
    for a, b in less:
        smaller[b].append(a)
        larger[a].append(b)
    # Static bounds from the longest chains: a cell above a chain of k cells is at least k + 1.
    low, high = [1] * len(cells), [n] * len(cells)
    for _ in range(n):
        for a, b in less:
            low[b] = max(low[b], low[a] + 1)
            high[a] = min(high[a], high[b] - 1)
    static = [
        sum(1 << d for d in range(lo, hi + 1)) & full for lo, hi in zip(low, high, strict=True)
    ]
    row_used, col_used = [0] * n, [0] * n
    for i, v in enumerate(cells):
        if v:
            bit = 1 << v
            if row_used[i // n] & bit or col_used[i % n] & bit or not static[i] & bit:
                return 0, None, 0
            row_used[i // n] |= bit
            col_used[i % n] |= bit
    for a, b in less:
        if cells[a] and cells[b] and cells[a] >= cells[b]:
            return 0, None, 0

    def options(i: int) -> int:
        mask = static[i] & ~(row_used[i // n] | col_used[i % n])
        for j in smaller[i]:
            if cells[j]:
                mask &= ~((1 << (cells[j] + 1)) - 1)  # above cells[j]
        for j in larger[i]:
            if cells[j]:
                mask &= (1 << cells[j]) - 1  # below cells[j]
        return mask

    def toggle(i: int, d: int) -> None:
        row_used[i // n] ^= 1 << d
        col_used[i % n] ^= 1 << d

    return count_fillings(cells, n, options, toggle, limit=limit, rng=rng)


class Futoshiki(LanguageGame):
    """Fill a Latin square that obeys the inequality signs between neighbours; one solution.

    ## Description
    The game shows an n x n grid with some digits given and some inequality signs between
    orthogonally adjacent cells (``<`` and ``>`` between cells of a row, ``^`` and ``v`` between
    cells of a column, the sign pointing at the smaller digit). The player fills every cell so
    that each row and each column holds every digit 1..n once and every sign holds. Each
    instance starts from a random Latin square (a randomised search), with every digit given and
    every sign shown; givens and signs are then removed in a random order for as long as a
    counting solver (depth-first, most-constrained cell first, stopping at two solutions) still
    finds exactly one solution. The puzzle is therefore *minimal*: every remaining digit and sign
    is needed. The solver's node count on the final puzzle is the measured difficulty.

    ## Roles
    ``player`` (single role).

    ## Observation
    The grid, one row per line (``.`` for an empty cell), with the signs between the cells and
    between the rows; the rules and the answer format.

    ## Action
    The last line starting with ``answer:``, followed by the n rows as digit strings separated by
    spaces, e.g. ``answer: 1234 2341 3412 4123`` (spaces, commas, ``/`` and ``|`` between digits
    are ignored; exactly n*n digits).

    ## Reward
    1.0 if the grid is a Latin square that keeps every given digit and obeys every sign; 0.0 for
    a readable grid that does not (``.``, ``0`` or ``_`` mark a cell left empty); -0.1 for an
    unreadable reply (wrong number of digits, a digit out of range, other characters), after
    which the player may try again.

    ## Episode end
    Terminates after the first readable grid; truncates after ``max_turns`` moves (default 3).

    ## Arguments
    ``difficulty``: 1 (4x4), 2 (5x5), 3 (6x6); all minimal.

    ## Version History
    * v0: initial version.

    >>> game = Futoshiki()
    >>> obs, info = game.reset(seed=3)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="Futoshiki",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "`answer:` followed by the rows of the filled grid as digit strings separated by "
            "spaces, e.g. `answer: 1234 2341 3412 4123`"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("logic", "constraint", "puzzle", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        n = _SIZES[self.difficulty]
        rng = self.np_random
        _, solution, _ = count_solutions([0] * (n * n), [], n, limit=1, rng=rng)
        assert solution is not None
        puzzle = list(solution)
        less = [(a, b) if solution[a] < solution[b] else (b, a) for a, b in _neighbour_pairs(n)]
        shown = [True] * len(less)  # which signs the puzzle still shows

        def unique() -> bool:
            signs = [s for s, keep in zip(less, shown, strict=True) if keep]
            return count_solutions(puzzle, signs, n)[0] == 1

        # Clues: 0..n*n-1 are the given digits, n*n.. the signs; removed in a random order.
        for k in (int(k) for k in rng.permutation(n * n + len(less))):
            if k < n * n:
                keep, puzzle[k] = puzzle[k], 0
                if not unique():
                    puzzle[k] = keep
            else:
                shown[k - n * n] = False
                if not unique():
                    shown[k - n * n] = True
        self._n, self._solution, self._puzzle = n, solution, puzzle
        self._less = [s for s, keep in zip(less, shown, strict=True) if keep]
        self._nodes = count_solutions(puzzle, self._less, n)[2]
        return "player"

    @property
    def givens(self) -> int:
        """How many digits the current puzzle gives."""
        return sum(1 for v in self._puzzle if v)

    @property
    def signs(self) -> int:
        """How many inequality signs the current puzzle shows."""
        return len(self._less)

    @property
    def search_nodes(self) -> int:
        """Nodes the counting solver visits to prove the solution unique (the difficulty)."""
        return self._nodes

    def _render(self) -> list[str]:
        n = self._n
        less = set(self._less)

        def sign(a: int, b: int, small: str, big: str) -> str:
            return small if (a, b) in less else big if (b, a) in less else " "

        lines = []
        for r in range(n):
            row = []
            for c in range(n):
                v = self._puzzle[r * n + c]
                row.append(str(v) if v else ".")
                if c < n - 1:
                    row.append(sign(r * n + c, r * n + c + 1, "<", ">"))
            lines.append(" ".join(row).rstrip())
            if r < n - 1:
                # ^ : the cell above is smaller; v : the cell below is smaller.
                marks = [sign(r * n + c, (r + 1) * n + c, "^", "v") for c in range(n)]
                lines.append("   ".join(marks).rstrip())
        return lines

    def _prompt(self, role: str) -> str:
        n = self._n
        pattern = [(r + c) % n + 1 for r in range(n) for c in range(n)]
        example = grid_example(pattern, self._solution, n)
        return (
            f"Futoshiki {n}x{n}. Fill every empty cell (.) with a digit 1-{n} so that each row "
            f"and each column contains every digit 1-{n} exactly once. The given digits stay as "
            "they are. Between two cells of a row, < and > tell which digit is smaller (the sign "
            "points at the smaller one: `3 > .` means the right cell is below 3). Between two "
            "rows, ^ under a cell means that cell is smaller than the one below it, and v means "
            "it is larger. The puzzle has exactly one solution.\n\n"
            + "\n".join(self._render())
            + f"\n\nWrite the whole filled grid on one line, the {n} rows as digit strings "
            f"separated by spaces, top row first, e.g. `answer: {example}` (that is the format, "
            "not the solution)."
        )

    def _play(self, role: str, action: str) -> Move:
        cells = read_digit_grid(action, self._n)
        details = {"givens": self.givens, "signs": self.signs, "search_nodes": self._nodes}
        return judged(role, self._check(cells).with_details(**details))

    def _check(self, cells: list[int]) -> Verdict:
        n = self._n

        def at(i: int) -> str:
            return f"row {i // n + 1}, column {i % n + 1}"

        mistake = latin_mistake(cells, self._puzzle, n)
        if mistake is not None:
            return mistake
        for a, b in self._less:
            if cells[a] >= cells[b]:
                return Verdict.make_incorrect(
                    f"{at(a)} ({cells[a]}) must be smaller than {at(b)} ({cells[b]})"
                )
        return Verdict.make_correct("the grid is the solution")

    def _reference(self, role: str) -> str:
        return "answer: " + digit_grid_text(self._solution, self._n)

    def _candidates(self, role: str) -> list[str]:
        """The solution and five relabellings of it (the digits permuted), in a random order.

        The square is made by a search that tries digits in a random order, so its relabellings
        are exactly as likely: every candidate is a Latin square of the same size, only the
        puzzle tells which one is right, and a rule blind to it wins 1/6 of the time. A
        relabelling breaks at least one sign or given (the solution is unique). A pure function
        of the instance.
        """
        rng = np.random.default_rng([self._instance_seed or 0, 0xF075])
        return relabelled_grids(self._reference(role), self._solution, self._n, rng)
