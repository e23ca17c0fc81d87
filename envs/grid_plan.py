"""GridPlan: write a move list that leads through a generated maze with keys and doors to the
goal; checked by simulation and scored against the BFS-optimal length."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._puzzles import ANSWER_MARKER, answer_text, decoy_candidates, judged
from langgames.verifiers.verdict import Verdict

__all__ = ["GridPlan", "shortest_plan"]

_STEPS = {"U": (-1, 0), "D": (1, 0), "L": (0, -1), "R": (0, 1)}
_WORDS = {
    "u": "U", "up": "U", "north": "U", "n": "U",
    "d": "D", "down": "D", "south": "D", "s": "D",
    "l": "L", "left": "L", "west": "L", "w": "L",
    "r": "R", "right": "R", "east": "R", "e": "R",
}  # fmt: skip
_WORD = re.compile(r"[A-Za-z]{1,8}")
_MAX_MOVES = 400


@dataclass(frozen=True)
class _Level:
    size: int
    walls: float  # share of wall cells
    doors: int  # key/door pairs, each door needed to reach the goal
    shortest: int  # the optimal plan has at least this many moves


_LEVELS = {
    1: _Level(size=5, walls=0.3, doors=0, shortest=5),
    2: _Level(size=7, walls=0.3, doors=1, shortest=10),
    3: _Level(size=9, walls=0.3, doors=2, shortest=16),
}


def shortest_plan(grid: list[str]) -> tuple[str | None, int]:
    """A shortest move string from ``S`` to ``G`` in ``grid`` (``#`` wall, lowercase key,
    uppercase door opened by holding its key), or ``None``; and the states BFS expanded.

    >>> shortest_plan(["S.#", "a.A", "##G"])
    ('DRRD', 9)
    """
    h, w = len(grid), len(grid[0])
    start = next((r, c) for r in range(h) for c in range(w) if grid[r][c] == "S")
    key_bits = {ch: 1 << i for i, ch in enumerate("abcdef")}
    first = (start[0], start[1], 0)
    parent: dict[tuple[int, int, int], tuple[tuple[int, int, int], str] | None] = {first: None}
    queue = deque([first])
    expanded = 0
    while queue:
        state = queue.popleft()
        expanded += 1
        r, c, keys = state
        if grid[r][c] == "G":
            moves = []
            node = parent[state]
            while node is not None:
                prev, move = node
                moves.append(move)
                node = parent[prev]
            return "".join(reversed(moves)), expanded
        for move, (dr, dc) in _STEPS.items():
            a, b = r + dr, c + dc
            if not (0 <= a < h and 0 <= b < w):
                continue
            cell = grid[a][b]
            if cell == "#" or (
                cell.isupper() and cell not in "SG" and not keys & key_bits[cell.lower()]
            ):
                continue
            nxt = (a, b, keys | key_bits.get(cell, 0))
            if nxt not in parent:
                parent[nxt] = (state, move)
                queue.append(nxt)
    return None, expanded


class GridPlan(LanguageGame):
    """Plan a route through a maze with keys and doors, checked by simulation against the
    BFS-optimal length.

    ## Description
    The game shows a square grid: walls ``#``, open floor ``.``, the start ``S`` and the goal
    ``G``; from difficulty 2 on also keys (``a``, ``b``) and the doors they open (``A``, ``B``).
    Stepping on a key picks it up; a door can be entered only while holding its key (it stays
    usable). The player writes the whole plan at once, a list of moves U, D, L, R. The game
    simulates it: a move into a wall, off the grid or into a locked door makes the plan invalid;
    otherwise the plan must end on ``G``. Breadth-first search over (position, keys held) gives
    the optimal length, and every door is *needed*: with any door walled up the goal is
    unreachable.

    ## Roles
    ``player`` (single role).

    ## Observation
    The grid, one row per line, the rules and the answer format.

    ## Action
    The last line starting with ``answer:``, followed by the moves, e.g. ``answer: R R D L``
    (``RRDL``, commas, and the words up/down/left/right are read too).

    ## Reward
    ``optimal / len(plan)`` for a valid plan that ends on ``G`` (1.0 for a shortest plan;
    ``correct`` only then); 0.0 for a readable plan that is invalid or ends elsewhere; -0.1 for
    an unreadable reply, after which the player may try again.

    ## Episode end
    Terminates after the first readable plan; truncates after ``max_turns`` (default 3).

    ## Arguments
    ``difficulty``: 1 (5x5, no doors, shortest plan >= 5 moves), 2 (7x7, one key and door,
    >= 10 moves), 3 (9x9, two keys and doors, >= 16 moves); about 30% walls.

    ## Version History
    * v0: initial version.

    >>> game = GridPlan()
    >>> obs, info = game.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="GridPlan",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format="`answer:` followed by the moves U, D, L, R, e.g. `answer: R R D L`",
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("planning", "search", "grid", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        self._grid, self._plan, self._expanded = self._generate(
            self.np_random, _LEVELS[self.difficulty]
        )
        return "player"

    @staticmethod
    def _generate(rng: np.random.Generator, level: _Level) -> tuple[list[str], str, int]:
        n = level.size
        while True:
            cells = [
                ["#" if rng.random() < level.walls else "." for _ in range(n)] for _ in range(n)
            ]
            floor = [(r, c) for r in range(n) for c in range(n) if cells[r][c] == "."]
            if len(floor) < 2 + 2 * level.doors:
                continue
            picks = rng.permutation(len(floor))
            (sr, sc), (gr, gc) = floor[int(picks[0])], floor[int(picks[1])]
            cells[sr][sc], cells[gr][gc] = "S", "G"
            path, _ = shortest_plan(["".join(row) for row in cells])
            if path is None:
                continue
            # Doors go on cells of the shortest path that cut S from G; keys on the near side.
            ok = True
            for d in range(level.doors):
                door, key = "AB"[d], "ab"[d]
                grid = ["".join(row) for row in cells]
                route = _cells_on(grid, path)[1:-1]
                cuts = [p for p in route if grid[p[0]][p[1]] == "." and _cuts(grid, p)]
                if not cuts:
                    ok = False
                    break
                dr, dc = cuts[int(rng.integers(len(cuts)))]
                cells[dr][dc] = door
                near = _reachable(["".join(row) for row in cells], closed=door)
                spots = sorted(p for p in near if cells[p[0]][p[1]] == ".")
                if not spots:
                    ok = False
                    break
                kr, kc = spots[int(rng.integers(len(spots)))]
                cells[kr][kc] = key
                path, _ = shortest_plan(["".join(row) for row in cells])
                if path is None:
                    ok = False
                    break
            if not ok:
                continue
            grid = ["".join(row) for row in cells]
            plan, expanded = shortest_plan(grid)
            if plan is None or len(plan) < level.shortest:
                continue
            return grid, plan, expanded

    @property
    def optimal_length(self) -> int:
        """Moves in a shortest plan (BFS)."""
        return len(self._plan)

    @property
    def search_states(self) -> int:
        """States (position, keys) the BFS expanded before reaching the goal."""
        return self._expanded

    def _prompt(self, role: str) -> str:
        n = len(self._grid)
        doors = any(ch.isupper() and ch not in "SG" for row in self._grid for ch in row)
        rules = (
            "Keys are lowercase letters and doors uppercase: stepping on a key picks it up, and "
            "you can step into a door only while holding its key (a opens A, b opens B). "
            if doors
            else ""
        )
        example = "R R D L" if self._plan != "RRDL" else "D D R U"  # never the answer
        return (
            f"Grid planning on a {n}x{n} grid. # is a wall, . is open floor, S is your start "
            f"and G the goal. {rules}Each move goes one cell up (U), down (D), left (L) or right "
            "(R); moving into a wall, off the grid or into a locked door makes the plan invalid. "
            "Write the whole plan: it must end on G. A shortest plan scores 1.0; a valid longer "
            "plan scores shortest/length.\n\n"
            + "\n".join(" ".join(row) for row in self._grid)
            + f"\n\nWrite the moves on one line, e.g. `answer: {example}` (that is the format, "
            "not the solution)."
        )

    def _parse(self, text: str) -> str:
        moves: list[str] = []
        pos = 0
        while pos < len(text):
            char = text[pos]
            if char.isspace() or char in ",;.-→>":
                pos += 1
                continue
            match = _WORD.match(text, pos)
            if match is None:
                raise ParseError(f"unexpected {char!r} in the plan: write moves U, D, L, R")
            word = match.group()
            pos = match.end()
            if word.lower() in _WORDS:
                moves.append(_WORDS[word.lower()])
            elif all(ch in "UDLRudlr" for ch in word):
                moves.extend(word.upper())
            else:
                raise ParseError(f"{word!r} is not a move: write U, D, L or R")
            if len(moves) > _MAX_MOVES:
                raise ParseError(f"the plan has more than {_MAX_MOVES} moves")
        if not moves:
            raise ParseError("the plan is empty: write at least one move U, D, L or R")
        return "".join(moves)

    def _simulate(self, plan: str) -> tuple[bool, str]:
        """(reaches the goal, why not)."""
        grid = self._grid
        n = len(grid)
        r, c = next((r, c) for r in range(n) for c in range(n) if grid[r][c] == "S")
        keys: set[str] = set()
        for i, move in enumerate(plan, 1):
            dr, dc = _STEPS[move]
            a, b = r + dr, c + dc
            where = f"move {i} ({move}) from row {r + 1}, column {c + 1}"
            if not (0 <= a < n and 0 <= b < n):
                return False, f"{where} leaves the grid"
            cell = grid[a][b]
            if cell == "#":
                return False, f"{where} runs into a wall"
            if cell.isupper() and cell not in "SG" and cell.lower() not in keys:
                return False, f"{where} runs into door {cell} without key {cell.lower()}"
            if cell.islower():
                keys.add(cell)
            r, c = a, b
        if grid[r][c] != "G":
            return False, f"the plan ends on row {r + 1}, column {c + 1}, not on G"
        return True, ""

    def _play(self, role: str, action: str) -> Move:
        plan = self._parse(answer_text(action, what="the moves, e.g. R R D L"))
        best = len(self._plan)
        details = {"moves": len(plan), "optimal": best}
        ok, why = self._simulate(plan)
        if not ok:
            return judged(role, Verdict.make_incorrect(why, **details))
        if len(plan) == best:
            return judged(role, Verdict.make_correct(f"a shortest plan ({best} moves)", **details))
        verdict = Verdict.make_incorrect(
            f"the plan reaches G in {len(plan)} moves; the shortest takes {best}",
            reward=best / len(plan),
            **details,
        )
        return judged(role, verdict)

    def _reference(self, role: str) -> str:
        return "answer: " + " ".join(self._plan)

    def _candidates(self, role: str) -> list[str]:
        """A shortest plan and up to five decoys, in a random order: each decoy is the shortest
        plan of another maze of the same level (the same distribution as the answer) that does
        not solve this one. A rule blind to the grid wins 1/6 of the time. A pure function of
        the instance."""
        level = _LEVELS[self.difficulty]
        rng = np.random.default_rng([self._instance_seed or 0, 0x6121D])
        return decoy_candidates(
            self._reference(role),
            lambda r: "answer: " + " ".join(self._generate(r, level)[1]),
            rng,
            is_right=lambda text: self._simulate(text.split(":", 1)[1].replace(" ", ""))[0],
        )


def _cells_on(grid: list[str], path: str) -> list[tuple[int, int]]:
    n = len(grid)
    r, c = next((r, c) for r in range(n) for c in range(n) if grid[r][c] == "S")
    out = [(r, c)]
    for move in path:
        r, c = r + _STEPS[move][0], c + _STEPS[move][1]
        out.append((r, c))
    return out


def _reachable(grid: list[str], closed: str = "") -> set[tuple[int, int]]:
    """Cells reachable from S when the doors named in ``closed`` (and walls) block; every other
    door counts as open."""
    n = len(grid)
    start = next((r, c) for r in range(n) for c in range(n) if grid[r][c] == "S")
    seen = {start}
    queue = deque([start])
    while queue:
        r, c = queue.popleft()
        for dr, dc in _STEPS.values():
            a, b = r + dr, c + dc
            if 0 <= a < n and 0 <= b < n and (a, b) not in seen:
                cell = grid[a][b]
                if cell == "#" or (cell in closed):
                    continue
                seen.add((a, b))
                queue.append((a, b))
    return seen


def _cuts(grid: list[str], cell: tuple[int, int]) -> bool:
    """True if walling up ``cell`` leaves G unreachable from S, even with every door open."""
    r, c = cell
    walled = [row if i != r else row[:c] + "#" + row[c + 1 :] for i, row in enumerate(grid)]
    n = len(grid)
    goal = next((a, b) for a in range(n) for b in range(n) if grid[a][b] == "G")
    return goal not in _reachable(walled)
