"""Small, strict readers for answers in model replies, shared by the games.

They never evaluate anything: each one matches a bounded pattern and raises `ParseError` with a
message that tells the player what to write instead.
"""

from __future__ import annotations

import re

from langgames.core import ParseError

__all__ = ["last_line", "parse_int"]

_INT = re.compile(r"[+-]?\d{1,40}")


def last_line(text: str, *, what: str) -> str:
    """The last non-empty line of ``text``, stripped of spaces and of one pair of backticks.

    Games ask for the answer on the last line so a model may reason first; only that line counts.
    """
    for line in reversed(text.splitlines()):
        line = line.strip()
        if line:
            if len(line) >= 2 and line[0] == line[-1] == "`":
                line = line.strip("`").strip()
            return line
    raise ParseError(f"the reply is empty; write {what} on the last line")


def parse_int(token: str, *, what: str) -> int:
    """Read a decimal integer (optional sign, at most 40 digits) that makes up all of ``token``."""
    token = token.replace("_", "") if "_" in token and token.count("_") <= 10 else token
    if not _INT.fullmatch(token):
        shown = token if len(token) <= 40 else token[:40] + "..."
        raise ParseError(f"expected {what} as an integer in digits, got {shown!r}")
    return int(token)
