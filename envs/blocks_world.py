"""BlocksWorld: restack lettered blocks into a goal configuration with a shortest plan; checked
by simulation and scored against the BFS-optimal length."""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._puzzles import ANSWER_MARKER, answer_text, decoy_candidates, judged
from langgames.verifiers.verdict import Verdict

__all__ = ["BlocksWorld", "distances"]

State = tuple[tuple[str, ...], ...]  # stacks, bottom to top, sorted (the table has no order)
Step = tuple[str, str]  # (block, block or "table")


@dataclass(frozen=True)
class _Level:
    blocks: int
    shortest: tuple[int, int]  # inclusive range of the optimal plan length


_LEVELS = {
    1: _Level(blocks=4, shortest=(2, 4)),
    2: _Level(blocks=5, shortest=(4, 7)),
    3: _Level(blocks=6, shortest=(6, 10)),
}
_MOVE = re.compile(
    r"(?i)(?:move\s+)?(?:block\s+)?(?P<x>[A-Z])\s*(?:->|→|=>|>|\bonto\b|\bon\b|\bto\b)\s*"
    r"(?:the\s+|block\s+)?(?P<y>table\b|[A-Z]\b)"
)
_MAX_MOVES = 100


def _canon(stacks: list[list[str]] | State) -> State:
    return tuple(sorted(tuple(s) for s in stacks if s))


def _apply(state: State, step: Step) -> State | None:
    """The state after ``step``, or ``None`` if it is not a legal move."""
    block, target = step
    stacks = [list(s) for s in state]
    source = next((s for s in stacks if s and s[-1] == block), None)
    if source is None or block == target:
        return None
    if target == "table":
        if len(source) == 1:
            return None  # already on the table: a wasted move
        source.pop()
        stacks.append([block])
        return _canon(stacks)
    dest = next((s for s in stacks if s and s[-1] == target), None)
    if dest is None:
        return None
    source.pop()
    dest.append(block)
    return _canon(stacks)


def _moves(state: State) -> list[Step]:
    tops = [s[-1] for s in state]
    out: list[Step] = []
    for s in state:
        x = s[-1]
        if len(s) > 1:
            out.append((x, "table"))
        out.extend((x, y) for y in tops if y != x)
    return out


def distances(start: State, goal: State | None = None) -> dict[State, tuple[State, Step] | None]:
    """Breadth-first search from ``start`` over every reachable state (or until ``goal`` is
    found): each state's parent and the move from it (follow parents back to ``start`` for a
    shortest plan).

    >>> tree = distances((("A", "B"), ("C",)))
    >>> len(tree)  # every arrangement of 3 blocks
    13
    """
    parent: dict[State, tuple[State, Step] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        for step in _moves(state):
            nxt = _apply(state, step)
            if nxt is not None and nxt not in parent:
                parent[nxt] = (state, step)
                if nxt == goal:
                    return parent
                queue.append(nxt)
    return parent


def _plan_to(tree: dict[State, tuple[State, Step] | None], goal: State) -> list[Step]:
    plan: list[Step] = []
    node = tree[goal]
    while node is not None:
        prev, step = node
        plan.append(step)
        node = tree[prev]
    return plan[::-1]


def _random_state(rng: np.random.Generator, blocks: str) -> State:
    order = [blocks[int(i)] for i in rng.permutation(len(blocks))]
    stacks: list[list[str]] = [[]]
    for b in order:
        if stacks[-1] and rng.random() < 0.4:
            stacks.append([])
        stacks[-1].append(b)
    return _canon(stacks)


def _show(state: State) -> str:
    return "; ".join(" ".join(s) for s in sorted(state, key=lambda s: s[0]))


class BlocksWorld(LanguageGame):
    """Restack lettered blocks into a goal configuration with as few moves as possible; plans are
    simulated and scored against the BFS-optimal length.

    ## Description
    Blocks lie in stacks on a table of unlimited size. A move takes the top block of a stack and
    puts it on top of another stack or on the table (as a new stack). The player writes a whole
    plan that turns the start configuration into the goal configuration (the same stacks; where
    on the table a stack stands does not matter). The game simulates it: a move of a block that
    is not on top, onto a block that is not on top, onto itself, or of a block already alone on
    the table makes the plan invalid. Breadth-first search over all configurations gives the
    optimal length.

    ## Roles
    ``player`` (single role).

    ## Observation
    The start and goal stacks (bottom to top, stacks separated by ``;``), the rules and the
    answer format.

    ## Action
    The last line starting with ``answer:``, followed by the moves separated by commas, each
    ``X->Y`` (put block X on block Y) or ``X->table``, e.g. ``answer: C->table, A->C``;
    ``move C onto the table`` is read too.

    ## Reward
    ``optimal / len(plan)`` for a valid plan that ends in the goal (1.0 for a shortest plan;
    ``correct`` only then); 0.0 for a readable plan that is invalid or ends elsewhere; -0.1 for
    an unreadable reply, after which the player may try again.

    ## Episode end
    Terminates after the first readable plan; truncates after ``max_turns`` (default 3).

    ## Arguments
    ``difficulty``: 1 (4 blocks, 2-4 moves), 2 (5 blocks, 4-7 moves), 3 (6 blocks, 6-10
    moves); start and goal are drawn until the optimal plan length falls in that range.

    ## Version History
    * v0: initial version.

    >>> game = BlocksWorld()
    >>> obs, info = game.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="BlocksWorld",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "`answer:` followed by the moves separated by commas, each X->Y or X->table, e.g. "
            "`answer: C->table, A->C`"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("planning", "search", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        level = _LEVELS[self.difficulty]
        rng = self.np_random
        blocks = "ABCDEFGH"[: level.blocks]
        while True:
            start, goal = _random_state(rng, blocks), _random_state(rng, blocks)
            if start == goal:
                continue
            tree = distances(start, goal)
            plan = _plan_to(tree, goal)
            if level.shortest[0] <= len(plan) <= level.shortest[1]:
                break
        self._start, self._goal, self._solution = start, goal, plan
        self._states = len(tree)  # states the search reached before the goal
        return "player"

    @property
    def optimal_length(self) -> int:
        return len(self._solution)

    def _prompt(self, role: str) -> str:
        example = next(  # the format example must never be a solution
            e
            for e in ("C->table, A->C", "B->table, C->B", "A->C")
            if not self._simulate(self._parse(e))[0]
        )
        return (
            "Blocks world. Blocks stand in stacks on a table (listed bottom to top; stacks are "
            "separated by ;). A move takes the top block of a stack and puts it on top of another "
            "stack or on the table as a new stack. Only top blocks can move or be moved onto. "
            "Turn the start into the goal (the same stacks; where a stack stands does not "
            "matter) with as few moves as possible: a shortest plan scores 1.0, a valid longer "
            "plan scores shortest/length.\n\n"
            f"Start: {_show(self._start)}\n"
            f"Goal:  {_show(self._goal)}\n\n"
            "Write the whole plan on one line, moves separated by commas, each X->Y (put X on Y) "
            f"or X->table, e.g. `answer: {example}` (that is the format, not the solution)."
        )

    def _parse(self, text: str) -> list[Step]:
        names = {b for s in self._start for b in s}
        steps: list[Step] = []
        for piece in re.split(r"[,;\n]", text, maxsplit=_MAX_MOVES + 1):
            piece = piece.strip().rstrip(".").strip()
            if not piece:
                continue
            if len(steps) >= _MAX_MOVES:
                raise ParseError(f"the plan has more than {_MAX_MOVES} moves")
            match = _MOVE.fullmatch(piece)
            if match is None:
                shown = piece if len(piece) <= 30 else piece[:30] + "..."
                raise ParseError(f"cannot read the move {shown!r}: write X->Y or X->table")
            x, y = match["x"].upper(), match["y"]
            y = "table" if y.lower() == "table" else y.upper()
            for b in (x, y):
                if b != "table" and b not in names:
                    raise ParseError(
                        f"there is no block {b}; the blocks are {', '.join(sorted(names))}"
                    )
            steps.append((x, y))
        if not steps:
            raise ParseError("the plan is empty: write moves such as C->table, A->C")
        return steps

    def _simulate(self, steps: list[Step]) -> tuple[bool, str]:
        state = self._start
        for i, step in enumerate(steps, 1):
            nxt = _apply(state, step)
            if nxt is None:
                return False, f"move {i} ({step[0]}->{step[1]}) is not legal in {_show(state)}"
            state = nxt
        if state != self._goal:
            return False, f"the plan ends in {_show(state)}, not the goal"
        return True, ""

    def _play(self, role: str, action: str) -> Move:
        steps = self._parse(answer_text(action, what="moves such as C->table, A->C"))
        best = len(self._solution)
        details = {"moves": len(steps), "optimal": best, "states": self._states}
        ok, why = self._simulate(steps)
        if not ok:
            return judged(role, Verdict.make_incorrect(why, **details))
        if len(steps) == best:
            return judged(role, Verdict.make_correct(f"a shortest plan ({best} moves)", **details))
        verdict = Verdict.make_incorrect(
            f"the plan reaches the goal in {len(steps)} moves; the shortest takes {best}",
            reward=best / len(steps),
            **details,
        )
        return judged(role, verdict)

    @staticmethod
    def _answer(plan: list[Step]) -> str:
        return "answer: " + ", ".join(f"{x}->{y}" for x, y in plan)

    def _reference(self, role: str) -> str:
        return self._answer(self._solution)

    def _candidates(self, role: str) -> list[str]:
        """A shortest plan and up to five decoys, in a random order: each decoy is a shortest
        plan from the same start to another goal at the same distance (so every candidate is a
        legal plan of the same length), drawn like the goal itself. A rule blind to the goal wins
        1/6 of the time. A pure function of the instance."""
        rng = np.random.default_rng([self._instance_seed or 0, 0xB10C])
        tree = distances(self._start)
        blocks = "".join(sorted(b for s in self._start for b in s))
        best = len(self._solution)

        def decoy(r: np.random.Generator) -> str | None:
            goal = _random_state(r, blocks)
            plan = _plan_to(tree, goal)
            return self._answer(plan) if len(plan) == best else None

        return decoy_candidates(self._reference(role), decoy, rng, attempts=400)
