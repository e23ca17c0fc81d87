"""GraphColoring: colour the vertices of a generated graph with k colours, no edge monochrome."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._puzzles import ANSWER_MARKER, answer_text, decoy_candidates, judged, tokens
from langgames.verifiers.verdict import Verdict

__all__ = ["GraphColoring", "colour_graph"]


@dataclass(frozen=True)
class _Level:
    vertices: int
    colours: int
    density: float  # probability of an edge between two differently planted colours
    greedy_fails: bool  # colouring greedily in vertex order (smallest free colour) must fail


_LEVELS = {
    1: _Level(vertices=7, colours=3, density=0.5, greedy_fails=False),
    2: _Level(vertices=10, colours=3, density=0.5, greedy_fails=True),
    3: _Level(vertices=16, colours=4, density=0.5, greedy_fails=True),
}
_COLOUR = re.compile(r"(?:(?P<v>\d{1,3})\s*[:=]\s*)?(?P<c>\d{1,3})")


def colour_graph(
    n: int, edges: list[tuple[int, int]], k: int, *, dsatur: bool = True
) -> tuple[list[int] | None, int]:
    """A proper colouring of vertices ``0..n-1`` with colours ``0..k-1``, or ``None``; and the
    number of search nodes. Backtracking, most-constrained vertex first (DSATUR order; with
    ``dsatur=False``, plain vertex order), a new colour only one above the largest used so far (no
    relabelled twins are searched).

    >>> colour_graph(3, [(0, 1), (1, 2), (0, 2)], 2)
    (None, 3)
    >>> colour_graph(3, [(0, 1), (1, 2)], 2)[0]
    [1, 0, 1]
    """
    adj: list[list[int]] = [[] for _ in range(n)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    colour = [-1] * n
    nodes = 0

    def search(used: int) -> bool:
        nonlocal nodes
        nodes += 1
        best, best_free, best_key = -1, 0, (k + 2, 0)
        for v in range(n):
            if colour[v] >= 0:
                continue
            taken = {colour[u] for u in adj[v] if colour[u] >= 0}
            free = sum(1 for c in range(min(k, used + 1)) if c not in taken)
            key = (free, -len(adj[v])) if dsatur else (0, 0)
            if key < best_key:
                best, best_free, best_key = v, free, key
                if not dsatur:
                    break
        if best < 0:
            return True
        if best_free == 0:
            return False
        taken = {colour[u] for u in adj[best] if colour[u] >= 0}
        for c in range(min(k, used + 1)):
            if c in taken:
                continue
            colour[best] = c
            if search(max(used, c + 1)):
                return True
            colour[best] = -1
        return False

    found = search(0)
    return (list(colour) if found else None), nodes


def _greedy_works(n: int, edges: list[tuple[int, int]], k: int) -> bool:
    adj: list[set[int]] = [set() for _ in range(n)]
    for a, b in edges:
        adj[a].add(b)
        adj[b].add(a)
    colour: list[int] = []
    for v in range(n):
        taken = {colour[u] for u in adj[v] if u < v}
        c = next((c for c in range(k) if c not in taken), k)
        if c == k:
            return False
        colour.append(c)
    return True


def _normalised(colours: list[int]) -> list[int]:
    """Colours renamed 1, 2, ... in order of first appearance (vertex 1 always has colour 1)."""
    names: dict[int, int] = {}
    return [names.setdefault(c, len(names) + 1) for c in colours]


class GraphColoring(LanguageGame):
    """Colour the vertices of a generated graph with k colours so that no edge joins two vertices
    of the same colour, checked exactly.

    ## Description
    The game lists the edges of a graph on vertices 1..n and a number of colours k. The player
    gives every vertex a colour 1..k such that the two ends of every edge differ. The graph is
    built around a hidden balanced k-colouring (edges only between different hidden colours), so
    it is always k-colourable; an exact backtracking solver (DSATUR order) also proves that k-1
    colours do *not* suffice, so k is the chromatic number. From difficulty 2 on, colouring
    greedily in vertex order fails, so the order of the listing gives no free solution. Any
    proper colouring is accepted (colour names are interchangeable).

    ## Roles
    ``player`` (single role).

    ## Observation
    n, k, the edge list and the answer format.

    ## Action
    The last line starting with ``answer:``, followed by the colours of vertices 1..n in order,
    separated by spaces or commas, e.g. ``answer: 1 2 1 3 2``; ``v=c`` pairs in vertex order
    (``1=1 2=2 ...``) are read too.

    ## Reward
    1.0 for a proper colouring with colours 1..k; 0.0 for a readable colouring where some edge
    is monochrome; -0.1 for an unreadable reply (not n colours, a colour outside 1..k), after
    which the player may try again.

    ## Episode end
    Terminates after the first readable colouring; truncates after ``max_turns`` (default 3).

    ## Arguments
    ``difficulty``: 1 (7 vertices, 3 colours), 2 (10 vertices, 3 colours, greedy fails),
    3 (16 vertices, 4 colours, greedy fails). Edge density 0.5 between hidden colour classes.

    ## Version History
    * v0: initial version.

    >>> game = GraphColoring(difficulty=2)
    >>> obs, info = game.reset(seed=1)
    >>> obs, reward, terminated, truncated, info = game.step("answer: " + " ".join(["1"] * 10))
    >>> reward, info["verdict"]["status"]
    (0.0, 'incorrect')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="GraphColoring",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "`answer:` followed by the colours (1..k) of vertices 1..n in order, e.g. "
            "`answer: 1 2 1 3 2`"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("logic", "constraint", "graph", "puzzle", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        level = _LEVELS[self.difficulty]
        n, k, edges, colouring, nodes = self._generate(self.np_random, level)
        self._n, self._k, self._edges = n, k, edges
        self._solution, self._nodes = colouring, nodes
        return "player"

    @staticmethod
    def _generate(
        rng: np.random.Generator, level: _Level
    ) -> tuple[int, int, list[tuple[int, int]], list[int], int]:
        n, k = level.vertices, level.colours
        while True:
            hidden = [int(c) for c in rng.permutation([i % k for i in range(n)])]
            edges = [
                (a, b)
                for a in range(n)
                for b in range(a + 1, n)
                if hidden[a] != hidden[b] and rng.random() < level.density
            ]
            degree = [0] * n
            for a, b in edges:
                degree[a] += 1
                degree[b] += 1
            if min(degree) == 0:
                continue
            if level.greedy_fails and _greedy_works(n, edges, k):
                continue
            if colour_graph(n, edges, k - 1)[0] is not None:
                continue  # k is not the chromatic number
            colouring = colour_graph(n, edges, k)[0]
            assert colouring is not None  # the hidden colouring exists
            nodes = colour_graph(n, edges, k, dsatur=False)[1]
            return n, k, edges, _normalised(colouring), nodes

    @property
    def search_nodes(self) -> int:
        """Nodes that plain backtracking in vertex order visits to find a k-colouring (the
        measured difficulty: the trial and error the listing order demands)."""
        return self._nodes

    def _prompt(self, role: str) -> str:
        shown = ", ".join(f"{a + 1}-{b + 1}" for a, b in self._edges)
        pattern = [i % self._k for i in range(self._n)]
        if self._proper([c + 1 for c in pattern]):  # the format example must never be an answer
            a, b = self._edges[0]
            pattern[b] = pattern[a]
        colours = " ".join(str(c + 1) for c in pattern)
        return (
            f"Graph colouring. A graph has vertices 1 to {self._n} and these "
            f"{len(self._edges)} edges:\n{shown}\n\n"
            f"Give every vertex one of the colours 1 to {self._k} so that the two ends of every "
            f"edge have different colours. Such a colouring exists, and fewer than {self._k} "
            "colours would not be enough.\n"
            f"Write the colours of vertices 1 to {self._n} in order on one line, e.g. "
            f"`answer: {colours}` (that is the format, not the solution)."
        )

    def _play(self, role: str, action: str) -> Move:
        n, k = self._n, self._k
        what = f"{n} colours (1-{k}) for vertices 1-{n} in order, e.g. 1 2 1 ..."
        text = answer_text(action, what=what)
        found = tokens(text, _COLOUR, what=what, limit=n)
        colours = []
        for i, match in enumerate(found):
            if match["v"] is not None and int(match["v"]) != i + 1:
                raise ParseError(
                    f"colours must be listed in vertex order: item {i + 1} names vertex "
                    f"{match['v']}"
                )
            c = int(match["c"])
            if not 1 <= c <= k:
                raise ParseError(f"vertex {i + 1} has colour {c}, but the colours are 1 to {k}")
            colours.append(c)
        if len(colours) != n:
            raise ParseError(f"expected {n} colours, one per vertex, got {len(colours)}")
        details = {"vertices": n, "colours": k, "edges": len(self._edges), "nodes": self._nodes}
        for a, b in self._edges:
            if colours[a] == colours[b]:
                verdict = Verdict.make_incorrect(
                    f"the edge {a + 1}-{b + 1} joins two vertices of colour {colours[a]}",
                    **details,
                )
                return judged(role, verdict)
        return judged(role, Verdict.make_correct("every edge joins two colours", **details))

    def _proper(self, colours: list[int]) -> bool:
        return all(colours[a] != colours[b] for a, b in self._edges)

    def _reference(self, role: str) -> str:
        return "answer: " + " ".join(map(str, self._solution))

    def _candidates(self, role: str) -> list[str]:
        """A proper colouring and up to five decoys, in a random order.

        Each decoy is the reference colouring of another instance of the same level (so it is
        drawn from the same distribution as the right answer), kept only if it is not proper for
        this graph: a rule blind to the edges wins 1/6 of the time. A pure function of the
        instance.
        """
        level = _LEVELS[self.difficulty]
        rng = np.random.default_rng([self._instance_seed or 0, 0xC010])

        def other(r: np.random.Generator) -> str:
            return "answer: " + " ".join(map(str, self._generate(r, level)[3]))

        def right(text: str) -> bool:
            return self._proper([int(c) - 1 for c in text.split()[1:]])

        return decoy_candidates(self._reference(role), other, rng, is_right=right)
