"""Cryptarithm: recover the digits behind a letter sum such as SEND + MORE = MONEY; a column-wise
counting search proves every instance has exactly one solution."""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from typing import Any

import numpy as np

from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.envs._puzzles import (
    ANSWER_MARKER,
    DrawCache,
    answer_text,
    decoy_candidates,
    judged,
    tokens,
)
from langgames.verifiers.verdict import Verdict

__all__ = ["Cryptarithm", "count_solutions"]


@dataclass(frozen=True)
class _Level:
    terms: int  # addends
    digits: tuple[int, int]  # inclusive range of each addend's length


_LEVELS = {
    1: _Level(terms=2, digits=(3, 4)),
    2: _Level(terms=2, digits=(5, 5)),
    3: _Level(terms=3, digits=(4, 5)),
}
_PAIR = re.compile(r"(?P<letter>[A-Za-z])[ \t]{0,2}(?:=|:|->)[ \t]{0,2}(?P<digit>\d+)")
_MAX_PAIRS = 30
_MAX_DRAWS = 5_000  # random sums tried per instance before giving up (never reached in tests)


#: Drawing an instance searches about 120 candidate puzzles: replayed seeds reuse the draw.
_DRAWS = DrawCache()


def count_solutions(
    addends: list[str], total: str, *, limit: int = 2
) -> tuple[int, dict[str, int] | None, int]:
    """Count the digit assignments that make ``sum(addends) == total`` true, up to ``limit``.

    Letters stand for distinct digits and no word of two or more letters starts with 0. Returns
    ``(count, first_solution, nodes)``; ``nodes`` (digits tried) measures the search effort. The
    search goes column by column from the right, carrying as in written addition, so a wrong
    guess fails at the first column it breaks.

    >>> count_solutions(["SEND", "MORE"], "MONEY")[:2]
    (1, {'D': 7, 'E': 5, 'M': 1, 'N': 6, 'O': 0, 'R': 8, 'S': 9, 'Y': 2})
    >>> count_solutions(["A", "A"], "B")[0]  # 1+1=2, 2+2=4, 3+3=6, 4+4=8
    2
    """
    width = len(total)
    if any(len(a) > width for a in addends):
        return 0, None, 0
    columns = [[a[-1 - k] for a in addends if k < len(a)] for k in range(width)]
    leading = {w[0] for w in [*addends, total] if len(w) > 1}
    order: list[str] = []
    for w in [*(c for col in columns for c in col), *total[::-1]]:
        if w not in order:
            order.append(w)
    value: dict[str, int] = {}
    used = [False] * 10
    state: dict[str, Any] = {"count": 0, "first": None, "nodes": 0}

    def assign(letter: str, digit: int) -> bool:
        if used[digit] or (digit == 0 and letter in leading):
            return False
        used[digit] = True
        value[letter] = digit
        state["nodes"] += 1
        return True

    def unassign(letter: str) -> None:
        used[value.pop(letter)] = False

    def column(k: int, i: int, acc: int) -> bool:  # True: stop (limit reached)
        if k == width:
            if acc == 0:
                state["count"] += 1
                if state["first"] is None:
                    state["first"] = {w: value[w] for w in sorted(order)}
                return state["count"] >= limit
            return False
        col = columns[k]
        if i < len(col):
            letter = col[i]
            if letter in value:
                return column(k, i + 1, acc + value[letter])
            digits: range | list[int] = range(10)
            target = total[-1 - k]
            rest = col[i:]
            if target in value and all(c in value or c == letter for c in rest):
                # The last unknown of the column: its digit is fixed modulo 10.
                times = rest.count(letter)
                known = acc + sum(value[c] for c in rest if c != letter)
                digits = [d for d in range(10) if (known + times * d) % 10 == value[target]]
            for d in digits:
                if assign(letter, d):
                    stop = column(k, i + 1, acc + d)
                    unassign(letter)
                    if stop:
                        return True
            return False
        letter, digit, carry = total[-1 - k], acc % 10, acc // 10
        if letter in value:
            return value[letter] == digit and column(k + 1, 0, carry)
        if not assign(letter, digit):
            return False
        stop = column(k + 1, 0, carry)
        unassign(letter)
        return stop

    column(0, 0, 0)
    return state["count"], state["first"], state["nodes"]


def _answer(mapping: dict[str, int]) -> str:
    return "answer: " + " ".join(f"{k}={mapping[k]}" for k in sorted(mapping))


class Cryptarithm(LanguageGame):
    """Find the digit behind every letter of an addition such as SEND + MORE = MONEY.

    ## Description
    The game shows an addition in which every digit has been replaced by a letter: the same
    letter always stands for the same digit, different letters for different digits, and no
    number of two or more digits starts with 0. The player gives the digit of every letter. Each
    instance is a random addition (addends drawn uniformly at their lengths, the sum computed),
    its digits replaced by random capital letters, kept only if a column-wise counting search
    (stopping at two) finds exactly one assignment. Any assignment that makes the addition true
    under the rules is accepted; by uniqueness it is the solution. The number of letters and
    the search's node count are the measured difficulty.

    ## Roles
    ``player`` (single role).

    ## Observation
    The addition, written as a sum on one line and in columns, the rules and the answer format.

    ## Action
    The last line starting with ``answer:``, followed by ``LETTER=digit`` for every letter, in
    any order, e.g. ``answer: A=1 B=2 C=3`` (``:`` may replace ``=``; commas are ignored).

    ## Reward
    1.0 if the digits make the addition true and follow the rules; 0.0 for a readable assignment
    that does not (two letters on one digit, a leading zero, a wrong sum); -0.1 for an unreadable
    reply (a letter missing, repeated or not in the puzzle, a number that is not one digit, other
    text), after which the player may try again.

    ## Episode end
    Terminates after the first readable assignment; truncates after ``max_turns`` (default 3).

    ## Arguments
    ``difficulty``: 1 (two 3-digit addends), 2 (two addends of 4-5 digits), 3 (three addends of
    4-5 digits); letters and search effort grow with the level.

    ## Version History
    * v0: initial version.

    >>> game = Cryptarithm()
    >>> obs, info = game.reset(seed=3)
    >>> obs, reward, terminated, truncated, info = game.step(game.reference_action())
    >>> reward, info["verdict"]["status"]
    (1.0, 'correct')
    """

    answer_marker = ANSWER_MARKER
    game_info = GameInfo(
        name="Cryptarithm",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format=(
            "`answer:` followed by the digit of every letter as LETTER=digit, e.g. "
            "`answer: A=1 B=2 C=3`"
        ),
        reward_range=(-0.1, 1.0),
        max_return=1.0,
        max_turns=3,
        difficulty_levels=(1, 2, 3),
        default_difficulty=1,
        tags=("logic", "arithmetic", "constraint", "puzzle", "single-turn", "exact"),
    )

    def _setup(self) -> str:
        addends, total, nodes, solution = _DRAWS.draw(self, self._draw)
        self._addends, self._total, self._nodes = list(addends), total, nodes
        self._solution = dict(solution)
        return "player"

    def _draw(self) -> tuple[tuple[str, ...], str, int, tuple[tuple[str, int], ...]]:
        """A puzzle with exactly one solution: random sums, encoded, until one is unique."""
        level = _LEVELS[self.difficulty]
        rng = self.np_random
        for _ in range(_MAX_DRAWS):
            numbers = []
            for _ in range(level.terms):
                length = int(rng.integers(level.digits[0], level.digits[1] + 1))
                numbers.append(int(rng.integers(10 ** (length - 1), 10**length)))
            digits = sorted(set("".join(map(str, [*numbers, sum(numbers)]))))
            letters = rng.choice(list(string.ascii_uppercase), size=len(digits), replace=False)
            code = {d: str(a) for d, a in zip(digits, letters, strict=True)}
            addends = ["".join(code[d] for d in str(x)) for x in numbers]
            total = "".join(code[d] for d in str(sum(numbers)))
            count, _, nodes = count_solutions(addends, total)
            if count == 1:
                solution = tuple((code[d], int(d)) for d in digits)
                return tuple(addends), total, nodes, solution
        raise RuntimeError(  # pragma: no cover - a few percent of random sums are unique
            f"no unique cryptarithm in {_MAX_DRAWS} draws"
        )

    @property
    def letters(self) -> int:
        """How many distinct letters the puzzle has."""
        return len(self._solution)

    @property
    def search_nodes(self) -> int:
        """Digits the counting search tried to prove the solution unique (the difficulty)."""
        return self._nodes

    def _words(self) -> list[str]:
        return [*self._addends, self._total]

    def _prompt(self, role: str) -> str:
        width = len(self._total) + 2
        column = [f"{'+ ' if i else '  '}{a}".rjust(width) for i, a in enumerate(self._addends)]
        column += ["-" * width, self._total.rjust(width)]
        letters = sorted(self._solution)
        guess = {k: i for i, k in enumerate(letters)}
        if guess == self._solution:  # the format example must never be the answer
            guess = {k: (i + 1) % 10 for i, k in enumerate(letters)}
        example = _answer(guess)[len("answer: ") :]
        equation = " + ".join(self._addends) + " = " + self._total
        return (
            "Cryptarithm. In the addition below every digit was replaced by a letter: the same "
            "letter always stands for the same digit and different letters for different digits. "
            "No number of two or more digits starts with 0. Find the digit of every letter; "
            f"exactly one assignment works.\n\n{equation}\n\n```\n"
            + "\n".join(column)
            + f"\n```\n\nLetters: {', '.join(letters)} ({len(letters)} letters).\n\n"
            "Give the digit of every letter on one line, e.g. "
            f"`answer: {example}` (that is the format, not the solution)."
        )

    def _play(self, role: str, action: str) -> Move:
        what = "the digit of every letter, e.g. A=1 B=2"
        text = answer_text(action, what=what)
        if not text:
            raise ParseError(f"the answer is empty; write {what}")
        mapping: dict[str, int] = {}
        for match in tokens(text, _PAIR, what=what, limit=_MAX_PAIRS):
            letter, digit = match["letter"].upper(), match["digit"]
            if letter not in self._solution:
                raise ParseError(
                    f"{letter} is not a letter of this puzzle (its letters are "
                    f"{', '.join(sorted(self._solution))})"
                )
            if letter in mapping:
                raise ParseError(f"{letter} is given a digit twice; give each letter one digit")
            if len(digit) != 1:
                raise ParseError(f"{letter}={digit}: each letter stands for one digit 0-9")
            mapping[letter] = int(digit)
        missing = sorted(set(self._solution) - set(mapping))
        if missing:
            raise ParseError(f"no digit given for {', '.join(missing)}; give every letter a digit")
        details = {"letters": self.letters, "search_nodes": self._nodes}
        return judged(role, self._check(mapping).with_details(**details))

    def _check(self, mapping: dict[str, int]) -> Verdict:
        by_digit: dict[int, str] = {}
        for letter in sorted(mapping):
            other = by_digit.setdefault(mapping[letter], letter)
            if other != letter:
                return Verdict.make_incorrect(
                    f"{other} and {letter} are both {mapping[letter]}; different letters stand for "
                    "different digits"
                )
        for word in self._words():
            if len(word) > 1 and mapping[word[0]] == 0:
                return Verdict.make_incorrect(f"{word} would start with 0")
        values = [int("".join(str(mapping[c]) for c in w)) for w in self._words()]
        if sum(values[:-1]) != values[-1]:
            shown = " + ".join(map(str, values[:-1]))
            return Verdict.make_incorrect(f"{shown} = {sum(values[:-1])}, not {values[-1]}")
        return Verdict.make_correct("the addition is true")

    def _reference(self, role: str) -> str:
        return _answer(self._solution)

    def _candidates(self, role: str) -> list[str]:
        """The solution and five other one-to-one assignments of the same digits to the same
        letters, each uniformly random, in a random order.

        The letters of an instance are drawn at random for its digits, so given the letters and
        digits the gold assignment is itself a uniformly random bijection: a rule blind to the
        addition wins 1/6 of the time. By uniqueness no decoy is also right. A pure function of
        the instance.
        """
        rng = np.random.default_rng([self._instance_seed or 0, 0xC1F7])
        letters = sorted(self._solution)
        digits = [self._solution[k] for k in letters]

        def shuffle(r: np.random.Generator) -> str:
            return _answer(
                {
                    k: digits[int(i)]
                    for k, i in zip(letters, r.permutation(len(digits)), strict=True)
                }
            )

        return decoy_candidates(self._reference(role), shuffle, rng)
