"""LightsOut: switch off every light of a grid, where pressing a cell toggles it and its
neighbours; every instance has exactly one solution."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._puzzles import ANSWER_MARKER, answer_text, decoy_candidates, judged, tokens
from langgames.verifiers.verdict import Verdict

__all__ = ["LightsOut", "nullity"]


@dataclass(frozen=True)
class _Level:
    rows: int
    cols: int
    presses: tuple[int, int]  # inclusive range of the solution's size


# Only boards whose press matrix is invertible over GF(2) (nullity 0): every lit pattern then
# has exactly one solution (up to pressing a cell twice, which does nothing).
_LEVELS = {
    1: _Level(rows=3, cols=4, presses=(3, 5)),
    2: _Level(rows=4, cols=5, presses=(4, 7)),
    3: _Level(rows=6, cols=6, presses=(8, 14)),
}
_CELL = re.compile(r"(?P<col>[A-Za-z])[ \t]{0,2}(?P<row>\d{1,2})")
_NONE = frozenset({"none", "nothing", "-", "{}", "[]"})
_MAX_PRESSES = 200


def _press_mask(rows: int, cols: int, r: int, c: int) -> int:
    mask = 0
    for dr, dc in ((0, 0), (1, 0), (-1, 0), (0, 1), (0, -1)):
        a, b = r + dr, c + dc
        if 0 <= a < rows and 0 <= b < cols:
            mask |= 1 << (a * cols + b)
    return mask


def nullity(rows: int, cols: int) -> int:
    """Dimension of the kernel of the press matrix over GF(2): 0 means unique solutions.

    >>> nullity(3, 3), nullity(5, 5), nullity(4, 4)
    (0, 2, 4)
    """
    vectors = [_press_mask(rows, cols, r, c) for r in range(rows) for c in range(cols)]
    rank = 0
    for bit in range(rows * cols):
        pivot = next((k for k in range(rank, len(vectors)) if vectors[k] >> bit & 1), None)
        if pivot is None:
            continue
        vectors[rank], vectors[pivot] = vectors[pivot], vectors[rank]
        for k in range(len(vectors)):
            if k != rank and vectors[k] >> bit & 1:
                vectors[k] ^= vectors[rank]
        rank += 1
    return rows * cols - rank


class LightsOut(LanguageGame):
    """Switch off every light: pressing a cell toggles it and its orthogonal neighbours.

    ## Description
    The game shows a grid of lights, some on. Pressing a cell toggles that light and the lights
    directly above, below, left and right of it. The player lists cells to press so that every
    light ends off; the answer is checked by simulating the presses. Only board sizes whose press
    matrix is invertible over GF(2) are used (checked by elimination), so every instance has
    exactly one solution as a *set* of cells (order does not matter; pressing a cell twice
    undoes it). Instances are made by pressing a uniformly random set of cells on a dark board;
    its size (the number of presses needed) is the measured difficulty with the board size.

    ## Roles
    ``player`` (single role).

    ## Observation
    The board (``1`` on, ``0`` off) with column letters and row numbers, and the answer format.

    ## Action
    The last line starting with ``answer:``, followed by the cells to press as column letter and
    row number, e.g. ``answer: A1 C2 B3``, in any order.

    ## Reward
    1.0 if every light is off after the presses; 0.0 for a readable press list that leaves some
    light on; -0.1 for an unreadable reply (a cell outside the board, other text), after which
    the player may try again.

    ## Episode end
    Terminates after the first readable press list; truncates after ``max_turns`` (default 3).

    ## Arguments
    ``difficulty``: 1 (3 rows x 4 columns, 3-5 presses), 2 (4 rows x 5 columns, 4-7 presses),
    3 (6x6, 8-14 presses).

    ## Version History
    * v0: initial version.

    >>> game = LightsOut()
    >>> obs, info = game.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="LightsOut",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format="`answer:` followed by the cells to press, e.g. `answer: A1 C2 B3`",
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("logic", "puzzle", "linear-algebra", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        level = _LEVELS[self.difficulty]
        self._rows, self._cols = level.rows, level.cols
        self._presses = self._draw(self.np_random, level)
        self._board = self._apply(0, self._presses)
        return "player"

    @staticmethod
    def _draw(rng: np.random.Generator, level: _Level, size: int | None = None) -> list[int]:
        if size is None:
            size = int(rng.integers(level.presses[0], level.presses[1] + 1))
        cells = rng.choice(level.rows * level.cols, size=size, replace=False)
        return sorted(int(i) for i in cells)

    def _apply(self, board: int, presses: list[int]) -> int:
        for i in presses:
            board ^= _press_mask(self._rows, self._cols, i // self._cols, i % self._cols)
        return board

    def _name(self, i: int) -> str:
        return f"{chr(ord('A') + i % self._cols)}{i // self._cols + 1}"

    def _prompt(self, role: str) -> str:
        rows, cols = self._rows, self._cols
        header = "   " + " ".join(chr(ord("A") + c) for c in range(cols))
        lines = [header]
        for r in range(rows):
            bits = " ".join(str(self._board >> (r * cols + c) & 1) for c in range(cols))
            lines.append(f"{r + 1:>2} {bits}")
        lit = bin(self._board).count("1")
        names = {self._name(i) for i in self._presses}
        example = "A1 C2 B3" if names != {"A1", "C2", "B3"} else "A2 B1 C3"  # never the answer
        return (
            f"Lights Out on a {rows}x{cols} board ({lit} lights on: 1 = on, 0 = off). Pressing a "
            "cell toggles its light and the lights directly above, below, left and right of it "
            "(fewer at the edges). Press cells so that every light ends off. The order of presses "
            "does not matter and pressing a cell twice undoes it; exactly one set of cells "
            "works.\n\n"
            + "\n".join(lines)
            + "\n\nName each cell to press by column letter and row number on one line, e.g. "
            f"`answer: {example}` (that is the format, not the solution)."
        )

    def _play(self, role: str, action: str) -> Move:
        rows, cols = self._rows, self._cols
        what = "the cells to press, e.g. A1 C2 B3"
        text = answer_text(action, what=what)
        if text.lower() in _NONE:
            presses: list[int] = []
        else:
            if not text:
                raise ParseError(f"the answer is empty; write {what}")
            presses = []
            for match in tokens(text, _CELL, what=what, limit=_MAX_PRESSES):
                c = ord(match["col"].upper()) - ord("A")
                r = int(match["row"]) - 1
                if not (0 <= c < cols and 0 <= r < rows):
                    last = chr(ord("A") + cols - 1)
                    raise ParseError(
                        f"{match.group()} is not on the board (columns A-{last}, rows 1-{rows})"
                    )
                presses.append(r * cols + c)
        board = self._apply(self._board, presses)
        details = {"board": f"{rows}x{cols}", "presses_needed": len(self._presses)}
        if board:
            left = bin(board).count("1")
            first = (board & -board).bit_length() - 1
            verdict = Verdict.make_incorrect(
                f"{left} light{'s stay' if left > 1 else ' stays'} on (for example "
                f"{self._name(first)})",
                **details,
            )
        else:
            verdict = Verdict.make_correct("every light is off", **details)
        return judged(role, verdict)

    def _answer(self, presses: list[int]) -> str:
        return "answer: " + " ".join(self._name(i) for i in presses)

    def _reference(self, role: str) -> str:
        return self._answer(self._presses)

    def _candidates(self, role: str) -> list[str]:
        """The solution and five other press sets of the same size, each uniformly random like
        the solution, in a random order: a rule blind to the board wins 1/6 of the time. A pure
        function of the instance."""
        level = _LEVELS[self.difficulty]
        rng = np.random.default_rng([self._instance_seed or 0, 0x1165])
        size = len(self._presses)
        return decoy_candidates(
            self._reference(role),
            lambda r: self._answer(self._draw(r, level, size)),
            rng,
        )
