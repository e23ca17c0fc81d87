"""SatAssign: give the satisfying assignment of a generated 3-CNF formula that has exactly one."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._puzzles import (
    ANSWER_MARKER,
    DrawCache,
    answer_text,
    decoy_candidates,
    judged,
)
from langgames.verifiers.verdict import Verdict

__all__ = ["SatAssign", "count_models"]

Clause = tuple[int, ...]  # DIMACS literals: v or -v for variable v (1-based)


@dataclass(frozen=True)
class _Level:
    variables: int


#: Drawing an instance counts models after every added and dropped clause: replayed seeds reuse it.
_DRAWS = DrawCache()
_LEVELS = {1: _Level(variables=5), 2: _Level(variables=9), 3: _Level(variables=14)}
#: Acceptance weight of a random clause by how many of its literals the hidden model makes true.
#: With w1 = w2 + w3 every variable appears as often with the model's sign as against it, so
#: counting signs says nothing about the answer; w3 > 0 rules out the model's mirror image.
_ACCEPT = (0.0, 1.0, 0.5, 0.5)
_PAIR = re.compile(r"(?i)x?(\d{1,4})\s*(?:=|:|is)\s*(true|false|t|f|1|0)\b")
_BITS = re.compile(r"[01](?:[\s,]*[01])*")


def count_models(
    n: int, clauses: list[Clause], limit: int = 2
) -> tuple[int, list[bool] | None, int]:
    """Count the models of a CNF over variables ``1..n``, up to ``limit``.

    Returns ``(count, first_model, nodes)``; ``first_model[v - 1]`` is the value of ``v``.
    DPLL: unit propagation, then branch on the variable in most unsatisfied clauses; ``nodes``
    counts the branches (the difficulty measure). A model leaves unmentioned variables free:
    each of their values is a separate model.

    >>> count_models(2, [(1, 2), (-1,), (2, -1)])[:2]
    (1, [False, True])
    """
    value: list[int] = [0] * (n + 1)  # 0 unassigned, 1 true, -1 false
    count, nodes = 0, 0
    first: list[bool] | None = None

    def lit_value(lit: int) -> int:
        v = value[abs(lit)]
        return v if lit > 0 else -v

    def search() -> bool:
        nonlocal count, nodes, first
        nodes += 1
        trail: list[int] = []
        while True:  # unit propagation
            unit = 0
            for clause in clauses:
                free, satisfied = 0, False
                last = 0
                for lit in clause:
                    lv = lit_value(lit)
                    if lv == 1:
                        satisfied = True
                        break
                    if lv == 0:
                        free += 1
                        last = lit
                if satisfied:
                    continue
                if free == 0:
                    for v in trail:
                        value[v] = 0
                    return False
                if free == 1:
                    unit = last
                    break
            if not unit:
                break
            value[abs(unit)] = 1 if unit > 0 else -1
            trail.append(abs(unit))
        counts = [0] * (n + 1)
        for clause in clauses:
            if any(lit_value(lit) == 1 for lit in clause):
                continue
            for lit in clause:
                if value[abs(lit)] == 0:
                    counts[abs(lit)] += 1
        free_vars = [v for v in range(1, n + 1) if value[v] == 0]
        if not any(counts):
            count += 2 ** len(free_vars)
            if first is None:
                first = [value[v] > 0 for v in range(1, n + 1)]
            stop = count >= limit
        else:
            branch = max(range(1, n + 1), key=lambda v: counts[v])
            stop = False
            for sign in (1, -1):
                value[branch] = sign
                if search():
                    stop = True
                    break
            value[branch] = 0
        for v in trail:
            value[v] = 0
        return stop

    search()
    return min(count, limit), first, nodes


def _show(clause: Clause) -> str:
    return "(" + " OR ".join(f"x{lit}" if lit > 0 else f"NOT x{-lit}" for lit in clause) + ")"


class SatAssign(LanguageGame):
    """Find the one satisfying assignment of a generated 3-CNF formula, checked exactly.

    ## Description
    The game shows a formula in conjunctive normal form over variables x1..xn: clauses of three
    literals, all of which must hold. The player gives every variable a value so that each
    clause has at least one true literal. Instances are built around a hidden uniformly random
    assignment: random clauses it satisfies are added, weighted by how many of their literals it
    makes true so that each variable appears as often with the hidden value's sign as against it
    (counting signs reveals nothing), until an exact DPLL model counter finds exactly one model;
    then clauses are dropped in a random order while the model stays unique, so every clause is
    needed. The prompt says that the formula has exactly one model. Any satisfying assignment
    earns the reward (it can only be that one).

    ## Roles
    ``player`` (single role).

    ## Observation
    The clauses, one per line (``(x1 OR NOT x3 OR x4)``), and the answer format.

    ## Action
    The last line starting with ``answer:``, followed by every variable's value, e.g.
    ``answer: x1=1 x2=0 x3=1`` (``true``/``false`` and ``T``/``F`` are read too, in any
    order), or the values of x1..xn as a bit string, ``answer: 101``.

    ## Reward
    1.0 if every clause is satisfied; 0.0 for a readable assignment that falsifies a clause;
    -0.1 for an unreadable reply (a variable missing or given twice, an unknown variable), after
    which the player may try again.

    ## Episode end
    Terminates after the first readable assignment; truncates after ``max_turns`` (default 3).

    ## Arguments
    ``difficulty``: 1 (5 variables, about 10 clauses), 2 (9 variables, about 18 clauses),
    3 (14 variables, about 29 clauses): as few clauses as uniqueness needs.

    ## Version History
    * v0: initial version.

    >>> game = SatAssign()
    >>> obs, info = game.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="SatAssign",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format="`answer:` followed by every variable's value, e.g. `answer: x1=1 x2=0 x3=1`",
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("logic", "constraint", "sat", "puzzle", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        n = _LEVELS[self.difficulty].variables
        self._n = n
        model, clauses, self._nodes = _DRAWS.draw(self, lambda: self._draw(n))
        self._model, self._clauses = list(model), list(clauses)
        return "player"

    def _draw(self, n: int) -> tuple[tuple[bool, ...], tuple[Clause, ...], int]:
        model, clauses, nodes = self._generate(self.np_random, n)
        return tuple(model), tuple(clauses), nodes

    @staticmethod
    def _generate(rng: np.random.Generator, n: int) -> tuple[list[bool], list[Clause], int]:
        model = [bool(b) for b in rng.integers(0, 2, size=n)]
        clauses: list[Clause] = []
        seen: set[frozenset[int]] = set()

        def add() -> None:
            while True:
                chosen = sorted(int(v) + 1 for v in rng.choice(n, size=3, replace=False))
                lits = tuple(v if rng.random() < 0.5 else -v for v in chosen)
                true = sum((lit > 0) == model[abs(lit) - 1] for lit in lits)
                key = frozenset(lits)
                if key not in seen and rng.random() < _ACCEPT[true]:
                    seen.add(key)
                    clauses.append(lits)
                    return

        for _ in range(2 * n):
            add()
        while count_models(n, clauses)[0] > 1:
            add()
        dropped: set[int] = set()
        for i in [int(i) for i in rng.permutation(len(clauses))]:  # drop what is not needed
            kept = [c for j, c in enumerate(clauses) if j != i and j not in dropped]
            if count_models(n, kept)[0] == 1:
                dropped.add(i)
        clauses = [c for j, c in enumerate(clauses) if j not in dropped]
        nodes = count_models(n, clauses)[2]
        return model, clauses, nodes

    @property
    def search_nodes(self) -> int:
        """DPLL branches needed to prove the model unique (the measured difficulty)."""
        return self._nodes

    @property
    def clauses(self) -> list[Clause]:
        return list(self._clauses)

    def _prompt(self, role: str) -> str:
        n = self._n
        flip = all(b == bool(v % 2) for v, b in enumerate(self._model, 1))  # never the answer
        example = " ".join(f"x{v}={(v + flip) % 2}" for v in range(1, n + 1))
        return (
            f"Satisfiability. Find values (1 = true, 0 = false) for the variables x1 to x{n} "
            f"that make all {len(self._clauses)} clauses below true; a clause is true when at "
            "least one of its parts is. Exactly one assignment does this.\n\n"
            + "\n".join(_show(c) for c in self._clauses)
            + f"\n\nWrite every variable's value on one line, e.g. `answer: {example}` (that is "
            "the format, not the solution)."
        )

    def _parse(self, text: str) -> list[bool]:
        n = self._n
        compact = text.strip()
        if _BITS.fullmatch(compact):
            bits = [c for c in compact if c in "01"]
            if len(bits) != n:
                raise ParseError(f"the bit string has {len(bits)} values; there are {n} variables")
            return [b == "1" for b in bits]
        values: dict[int, bool] = {}
        pos = 0
        while pos < len(compact):
            if compact[pos] in " \t,;":
                pos += 1
                continue
            match = _PAIR.match(compact, pos)
            if match is None:
                stray = compact[pos : pos + 20]
                raise ParseError(f"cannot read {stray!r}: write each variable as x3=1 or x3=0")
            v = int(match.group(1))
            if not 1 <= v <= n:
                raise ParseError(f"there is no variable x{v}; the variables are x1 to x{n}")
            if v in values:
                raise ParseError(f"x{v} is given twice")
            values[v] = match.group(2).lower() in ("true", "t", "1")
            pos = match.end()
        missing = [f"x{v}" for v in range(1, n + 1) if v not in values]
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise ParseError(f"no value for {shown}: give every variable a value")
        return [values[v] for v in range(1, n + 1)]

    def _falsified(self, model: list[bool]) -> Clause | None:
        for clause in self._clauses:
            if not any((lit > 0) == model[abs(lit) - 1] for lit in clause):
                return clause
        return None

    def _play(self, role: str, action: str) -> Move:
        model = self._parse(answer_text(action, what="every variable's value, e.g. x1=1 x2=0"))
        details = {
            "variables": self._n,
            "clauses": len(self._clauses),
            "search_nodes": self._nodes,
        }
        bad = self._falsified(model)
        if bad is not None:
            verdict = Verdict.make_incorrect(f"the clause {_show(bad)} is false", **details)
        else:
            verdict = Verdict.make_correct("every clause is true", **details)
        return judged(role, verdict)

    def _answer(self, model: list[bool]) -> str:
        return "answer: " + " ".join(f"x{v}={int(b)}" for v, b in enumerate(model, 1))

    def _reference(self, role: str) -> str:
        return self._answer(self._model)

    def _candidates(self, role: str) -> list[str]:
        """The model and five uniformly random non-models, in a random order (the model is
        itself uniformly random, so a rule blind to the clauses wins 1/6 of the time). A pure
        function of the instance."""
        rng = np.random.default_rng([self._instance_seed or 0, 0x5A7])
        n = self._n

        def decoy(r: np.random.Generator) -> str | None:
            model = [bool(b) for b in r.integers(0, 2, size=n)]
            return None if self._falsified(model) is None else self._answer(model)

        return decoy_candidates(self._reference(role), decoy, rng)
