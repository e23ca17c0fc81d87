"""KnightsKnaves: tell knights (always truthful) from knaves (always lying) by their statements."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._puzzles import ANSWER_MARKER, answer_text, decoy_candidates, judged
from langgames.verifiers.verdict import Verdict

__all__ = ["KnightsKnaves", "consistent_worlds"]

_NAMES = (
    "Alice", "Bruno", "Chloe", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
    "Kiran", "Lena", "Marco", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Samir", "Tessa",
    "Umar", "Vera", "Wendel", "Ximena", "Yusuf", "Zara",
)  # fmt: skip


@dataclass(frozen=True)
class _Statement:
    """What one islander says: ``kind`` over the islanders ``about`` (and a number ``m``)."""

    speaker: int
    kind: str
    about: tuple[int, ...] = ()
    m: int = 0

    def holds(self, world: tuple[bool, ...]) -> bool:
        k, a = self.kind, self.about
        if k == "knight":
            return world[a[0]]
        if k == "knave":
            return not world[a[0]]
        if k == "same":
            return world[self.speaker] == world[a[0]]
        if k == "different":
            return world[self.speaker] != world[a[0]]
        if k == "both_knights":
            return world[a[0]] and world[a[1]]
        if k == "both_knaves":
            return not world[a[0]] and not world[a[1]]
        if k == "either_knight":
            return world[a[0]] or world[a[1]]
        if k == "exactly_one":
            return world[a[0]] != world[a[1]]
        if k == "if_then":  # if a0 is a knight then a1 is a knave
            return not world[a[0]] or not world[a[1]]
        if k == "count_knights":
            return sum(world) == self.m
        if k == "count_knaves_at_least":
            return len(world) - sum(world) >= self.m
        raise ValueError(f"unknown statement kind {k!r}")

    def mentions(self) -> set[int]:
        if self.kind.startswith("count"):
            return set(range(10_000))  # everyone: checked only once all are assigned
        return {self.speaker, *self.about}

    def render(self, names: list[str]) -> str:
        k, a = self.kind, [names[i] for i in self.about]
        if k == "knight":
            return f"{a[0]} is a knight."
        if k == "knave":
            return f"{a[0]} is a knave."
        if k == "same":
            return f"{a[0]} and I are the same kind."
        if k == "different":
            return f"{a[0]} and I are different kinds."
        if k == "both_knights":
            return f"{a[0]} and {a[1]} are both knights."
        if k == "both_knaves":
            return f"{a[0]} and {a[1]} are both knaves."
        if k == "either_knight":
            return f"At least one of {a[0]} and {a[1]} is a knight."
        if k == "exactly_one":
            return f"Exactly one of {a[0]} and {a[1]} is a knight."
        if k == "if_then":
            return f"If {a[0]} is a knight, then {a[1]} is a knave."
        if k == "count_knights":
            verb = "is a knight" if self.m == 1 else "are knights"
            return f"Exactly {self.m} of us {len(names)} {verb}."
        verb = "is a knave" if self.m == 1 else "are knaves"
        return f"At least {self.m} of us {len(names)} {verb}."


@dataclass(frozen=True)
class _Level:
    islanders: int
    kinds: tuple[str, ...]


_SIMPLE = ("knight", "knave", "same", "different")
_PAIRS = ("both_knights", "both_knaves", "either_knight", "exactly_one", "if_then")
_LEVELS = {
    1: _Level(islanders=3, kinds=_SIMPLE),
    2: _Level(islanders=4, kinds=_SIMPLE + _PAIRS),
    3: _Level(islanders=6, kinds=_SIMPLE + _PAIRS + ("count_knights", "count_knaves_at_least")),
}
_PAIR_KINDS = frozenset(_PAIRS)
_FILLERS = frozenset({"is", "a", "an", "and", "the", "are"})
_WORD = re.compile(r"[A-Za-z]{1,20}")
_SEPARATORS = frozenset(" \t,;:=.-()")


def consistent_worlds(n: int, statements: list[_Statement]) -> tuple[list[tuple[bool, ...]], int]:
    """Every knight/knave assignment (True = knight) in which each islander's statement is true
    exactly when the islander is a knight; and the nodes of the backtracking search that finds
    them (islanders assigned in order, each statement checked once everyone it mentions is).

    >>> s = [_Statement(0, "knave", (1,)), _Statement(1, "same", (0,))]
    >>> consistent_worlds(2, s)[0]
    [(True, False)]
    """
    ready: list[list[_Statement]] = [[] for _ in range(n)]
    for s in statements:
        ready[min(max(s.mentions()), n - 1)].append(s)
    found: list[tuple[bool, ...]] = []
    world: list[bool] = []
    nodes = 0

    def search() -> None:
        nonlocal nodes
        nodes += 1
        if len(world) == n:
            found.append(tuple(world))
            return
        for value in (True, False):
            world.append(value)
            full = tuple(world) + (False,) * (n - len(world))
            if all(s.holds(full) == world[s.speaker] for s in ready[len(world) - 1]):
                search()
            world.pop()

    search()
    return found, nodes


class KnightsKnaves(LanguageGame):
    """Tell knights (who always tell the truth) from knaves (who always lie), checked exactly.

    ## Description
    Each islander says one sentence about the others (or about themselves and another, or how
    many of the group are knights). The player decides who is a knight and who is a knave. Every
    instance is checked by exhaustive search over all 2^n assignments: exactly one assignment
    makes every knight's sentence true and every knave's sentence false, and that one is the
    answer. The hidden assignment is drawn uniformly, then sentences true or false as the
    speaker requires are drawn until the assignment is the only consistent one.

    ## Roles
    ``player`` (single role).

    ## Observation
    The rules, the islanders' names, what each says, and the answer format.

    ## Action
    The last line starting with ``answer:``, followed by every islander's name and ``knight`` or
    ``knave``, e.g. ``answer: Alice knight, Bruno knave, Chloe knight`` (in any order; ``is a``,
    ``:`` and ``=`` between them are fine).

    ## Reward
    1.0 if every islander is named with the right kind; 0.0 for a readable but wrong answer;
    -0.1 for an unreadable reply (an islander missing or named twice, an unknown word), after
    which the player may try again.

    ## Episode end
    Terminates after the first readable answer; truncates after ``max_turns`` (default 3).

    ## Arguments
    ``difficulty``: 1 (3 islanders; "X is a knight/knave", "X and I are the same/different
    kinds"), 2 (4 islanders; also sentences about two others: both, at least one, exactly one,
    if-then), 3 (6 islanders; also counting sentences about the whole group).

    ## Version History
    * v0: initial version.

    >>> game = KnightsKnaves()
    >>> obs, info = game.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="KnightsKnaves",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "`answer:` followed by each islander's name and knight or knave, e.g. "
            "`answer: Alice knight, Bruno knave`"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("logic", "deduction", "puzzle", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        level = _LEVELS[self.difficulty]
        rng = self.np_random
        picks = sorted(int(i) for i in rng.choice(len(_NAMES), size=level.islanders, replace=False))
        self._names = [_NAMES[i] for i in picks]
        self._world, self._statements, self._nodes = self._generate(rng, level)
        return "player"

    @staticmethod
    def _generate(
        rng: np.random.Generator, level: _Level
    ) -> tuple[tuple[bool, ...], list[_Statement], int]:
        n = level.islanders
        world = tuple(bool(b) for b in rng.integers(0, 2, size=n))

        def draw(speaker: int) -> _Statement:
            while True:
                kind = level.kinds[int(rng.integers(len(level.kinds)))]
                others = [int(j) for j in rng.permutation(n) if j != speaker]
                about: tuple[int, ...] = (
                    (others[0], others[1]) if kind in _PAIR_KINDS else (others[0],)
                )
                m = 0
                if kind == "count_knights":
                    m = int(rng.integers(0, n + 1))
                    about = ()
                elif kind == "count_knaves_at_least":
                    m = int(rng.integers(1, n))
                    about = ()
                s = _Statement(speaker, kind, about, m)
                if s.holds(world) == world[speaker]:
                    return s

        statements = [draw(i) for i in range(n)]
        for _ in range(10_000):
            worlds, nodes = consistent_worlds(n, statements)
            if worlds == [world]:
                return world, statements, nodes
            who = int(rng.integers(n))
            statements[who] = draw(who)
        raise RuntimeError("KnightsKnaves: no unique instance found")  # pragma: no cover

    @property
    def search_nodes(self) -> int:
        """Nodes of the backtracking search that proves the answer unique (the difficulty)."""
        return self._nodes

    def _prompt(self, role: str) -> str:
        names = self._names
        said = "\n".join(f'{names[s.speaker]} says: "{s.render(names)}"' for s in self._statements)
        flip = all(k == bool(i % 2) for i, k in enumerate(self._world))  # never the answer
        example = ", ".join(
            f"{name} {'knight' if bool(i % 2) != flip else 'knave'}" for i, name in enumerate(names)
        )
        return (
            "Knights and knaves. On this island every inhabitant is either a knight, who always "
            f"tells the truth, or a knave, who always lies. You meet {len(names)} islanders: "
            f"{', '.join(names)}.\n\n{said}\n\n"
            "Exactly one assignment of knights and knaves is consistent with these statements. "
            f"Name each islander with their kind on one line, e.g. `answer: {example}` (that "
            "is the format, not the solution)."
        )

    def _parse(self, text: str) -> tuple[bool, ...]:
        lookup = {name.lower(): i for i, name in enumerate(self._names)}
        kinds: dict[int, bool] = {}
        current: int | None = None
        pos = 0
        while pos < len(text):
            char = text[pos]
            if char in _SEPARATORS or char.isspace():
                pos += 1
                continue
            match = _WORD.match(text, pos)
            if match is None:
                raise ParseError(
                    f"unexpected {char!r} in the answer: write names and knight or knave"
                )
            word = match.group().lower()
            pos = match.end()
            if word in lookup:
                if current is not None:
                    raise ParseError(f"{self._names[current]} has no kind before the next name")
                current = lookup[word]
                if current in kinds:
                    raise ParseError(f"{self._names[current]} is named twice")
            elif word in ("knight", "knights", "knave", "knaves"):
                if current is None:
                    raise ParseError(f"{word!r} does not follow an islander's name")
                kinds[current] = word.startswith("knight")
                current = None
            elif word not in _FILLERS:
                raise ParseError(
                    f"{match.group()!r} is neither an islander ({', '.join(self._names)}) nor "
                    "knight or knave"
                )
        if current is not None:
            raise ParseError(f"{self._names[current]} has no kind")
        missing = [self._names[i] for i in range(len(self._names)) if i not in kinds]
        if missing:
            raise ParseError(f"the answer does not say what {', '.join(missing)} is")
        return tuple(kinds[i] for i in range(len(self._names)))

    def _play(self, role: str, action: str) -> Move:
        text = answer_text(action, what="each islander's name with knight or knave")
        world = self._parse(text)
        details = {"islanders": len(self._names), "search_nodes": self._nodes}
        if world != self._world:
            # The answer is unique, so some statement contradicts any other assignment.
            bad = next(s for s in self._statements if s.holds(world) != world[s.speaker])
            who = self._names[bad.speaker]
            kind = "a knight" if world[bad.speaker] else "a knave"
            truth = "false" if world[bad.speaker] else "true"
            verdict = Verdict.make_incorrect(
                f"not consistent: you call {who} {kind}, but {who}'s statement would be {truth}",
                **details,
            )
            return judged(role, verdict)
        return judged(role, Verdict.make_correct("the only consistent assignment", **details))

    def _answer(self, world: tuple[bool, ...]) -> str:
        return "answer: " + ", ".join(
            f"{name} {'knight' if k else 'knave'}"
            for name, k in zip(self._names, world, strict=True)
        )

    def _reference(self, role: str) -> str:
        return self._answer(self._world)

    def _candidates(self, role: str) -> list[str]:
        """The answer and up to five decoys, in a random order: each decoy is the hidden
        assignment of another instance of the same level (the same distribution as the answer),
        written with these islanders' names. A pure function of the instance."""
        level = _LEVELS[self.difficulty]
        rng = np.random.default_rng([self._instance_seed or 0, 0x4B4E])
        make: Callable[[np.random.Generator], str] = lambda r: self._answer(  # noqa: E731
            self._generate(r, level)[0]
        )
        return decoy_candidates(self._reference(role), make, rng)
