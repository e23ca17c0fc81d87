"""Shared pieces of the logic-puzzle and planning games (Sudoku, GraphColoring, KnightsKnaves,
SatAssign, LightsOut, GridPlan, BlocksWorld).

Every one of these games reads its answer from the last line starting with ``answer:`` (the reply
contract, `langgames.contract`, hands that line over, keyword included; a reply without one is
handed over whole, and then its last non-empty line is read). Nothing here evaluates text: the
readers are bounded, linear-time scans that raise `ParseError` with what to write instead.

The solvers of these games are small exact searches written here rather than a SAT/CP library:
instances are small (at most 81 cells, 14 variables, 6 islanders, 4,051 block configurations), so
a counting search that stops at two solutions takes milliseconds, keeps ``pip install langgames``
free of native wheels, and is deterministic on every platform. The tests cross-check each one
against brute-force enumeration.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np

from langgames.core import Move, ParseError
from langgames.verifiers.verdict import Verdict

__all__ = [
    "ANSWER_MARKER",
    "MAX_ANSWER_CHARS",
    "answer_text",
    "decoy_candidates",
    "judged",
    "tokens",
]

#: The reply contract marker shared by the puzzle games.
ANSWER_MARKER = "line:answer"
#: Longest answer (the text after ``answer:``) any puzzle game reads.
MAX_ANSWER_CHARS = 2_000

_LABEL = re.compile(r"(?i)^[ \t>*_`#-]{0,8}answer[*_`]{0,3}[ \t]{0,4}:")


def answer_text(action: str, *, what: str, limit: int = MAX_ANSWER_CHARS) -> str:
    """The answer in ``action``: what follows ``answer:`` on the last line that starts with it,
    else the last non-empty line (stripped of one pair of backticks).

    >>> answer_text("I think so.\\nanswer: 1 2 3", what="the colours")
    '1 2 3'
    >>> answer_text("  `U R R D`  ", what="a plan")
    'U R R D'
    """
    line = None
    for match in re.finditer(r"(?im)^[ \t>*_`#-]{0,8}answer[*_`]{0,3}[ \t]{0,4}:.*$", action):
        line = match.group()
    if line is None:
        for candidate in reversed(action.splitlines()):
            if candidate.strip():
                line = candidate
                break
    if line is None:
        raise ParseError(f"the reply is empty; write `answer: {what}`")
    text = _LABEL.sub("", line, count=1).strip()
    text = text.replace("**", "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "`$":
        text = text.strip(text[0]).strip()
    if len(text) > limit:
        raise ParseError(
            f"the answer is {len(text):,} characters long; the limit is {limit:,}: write only "
            f"{what} after `answer:`"
        )
    return text


def judged(role: str, verdict: Verdict, high: float = 1.0) -> Move:
    """The single-answer outcome: the verdict's reward (scaled to ``high``), episode over."""
    return Move(verdict, {role: verdict.reward * high}, next_role=None)


def decoy_candidates(
    right: str,
    make_decoy: Callable[[np.random.Generator], str | None],
    rng: np.random.Generator,
    *,
    count: int = 5,
    is_right: Callable[[str], bool] | None = None,
    attempts: int = 200,
) -> list[str]:
    """``right`` and up to ``count`` distinct wrong decoys, in a random order.

    ``make_decoy`` draws a decoy *from the same distribution as the right answer* (typically the
    gold answer of another instance of the same level), so that no rule blind to the question can
    tell them apart; ``is_right`` rejects decoys that would also be judged correct.
    """
    options = [right]
    for _ in range(attempts):
        if len(options) > count:
            break
        decoy = make_decoy(rng)
        if decoy is None or decoy in options or (is_right is not None and is_right(decoy)):
            continue
        options.append(decoy)
    return [options[int(i)] for i in rng.permutation(len(options))]


def tokens(text: str, pattern: re.Pattern[str], *, what: str, limit: int) -> list[Any]:
    """The matches of ``pattern`` that make up all of ``text`` (separated by spaces, commas or
    semicolons), at most ``limit`` of them. Raises `ParseError` naming the first stray piece."""
    out: list[re.Match[str]] = []
    pos = 0
    sep = re.compile(r"[\s,;]*")
    while True:
        pos = sep.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text):
            return out
        match = pattern.match(text, pos)
        if match is None or match.end() == pos:
            stray = text[pos : pos + 20]
            raise ParseError(f"cannot read {stray!r} in the answer; expected {what}")
        out.append(match)
        if len(out) > limit:
            raise ParseError(f"the answer has more than {limit} items; expected {what}")
        pos = match.end()
