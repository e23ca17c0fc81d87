"""Small, strict readers for answers in model replies, shared by the games.

They never evaluate anything: each one matches a bounded pattern and raises `ParseError` with a
message that tells the player what to write instead.
"""

from __future__ import annotations

import ast
import re
import warnings
from typing import Any

from langgames.core import ParseError

__all__ = [
    "FENCE",
    "MAX_CODE",
    "MAX_LITERAL",
    "extract_code",
    "last_line",
    "parse_int",
    "parse_literal",
]

_INT = re.compile(r"[+-]?\d{1,40}")

#: A fenced code block, ```` ```python ```` (or ``py``, ``python3``, no language) to ```` ``` ````.
FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE)
#: The longest program, in characters, that a code game will run.
MAX_CODE = 20_000
#: The longest Python literal, in characters, that `parse_literal` reads.
MAX_LITERAL = 2_000


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


def parse_literal(
    text: str, *, what: str, example: str | None = None, limit: int = MAX_LITERAL
) -> Any:
    """The Python literal in ``text``, read with ``ast.literal_eval`` on at most ``limit``
    characters (never ``eval``); anything else raises `ParseError` saying what to write.

    With ``example``, ``text`` is a whole reply and the literal stands alone on its last line
    (`last_line`); the messages ask for it there, e.g. ``example``. Without, ``text`` is the
    literal itself, e.g. a field of a structured reply (one pair of backticks allowed), and the
    messages name ``what``.

    >>> parse_literal("I get\\n`[1, 2]`", what="the value", example="`[0]`")
    [1, 2]
    >>> parse_literal(" ([3], 'x') ", what="`input:`")
    ([3], 'x')
    """
    if example is not None:
        text = last_line(text, what=what)
        if len(text) > limit:
            raise ParseError(
                f"the last line is {len(text):,} characters long; write {what} (at most "
                f"{limit:,} characters) alone on the last line, e.g. {example}"
            )
    else:
        text = text.strip()
        if len(text) >= 2 and text[0] == text[-1] == "`":
            text = text.strip("`").strip()
        if not text:
            raise ParseError(f"{what} is empty; write a Python literal such as [1, 2, 3] or 'abc'")
        if len(text) > limit:
            raise ParseError(f"{what} is {len(text):,} characters long; the limit is {limit:,}")
    try:
        with warnings.catch_warnings():  # e.g. "invalid decimal literal" for `3x`
            warnings.simplefilter("ignore")
            return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        if example is not None:
            shown = text if len(text) <= 60 else text[:60] + "..."
            raise ParseError(
                f"the last line {shown!r} is not a Python literal; write {what} alone on the "
                f"last line, e.g. {example}"
            ) from None
        shown = text if len(text) <= 60 else text[:57] + "..."
        raise ParseError(
            f"{what} {shown!r} is not a Python literal ({type(exc).__name__}); write plain data "
            "such as 42, 'abc', [1, 2] or (3, 'x'): no names, calls or operators"
        ) from None


def extract_code(action: str, entry: str) -> str:
    """The last fenced Python block of ``action`` that the game will run; it must define ``entry``.

    A reply without a fenced block is read as code only if it contains ``def <entry>``. Windows
    (``\\r\\n``) and old Mac (``\\r``) line endings are read as ``\\n``.

    >>> extract_code("Here:\\n```python\\ndef f(x):\\n    return x\\n```", "f")
    'def f(x):\\n    return x\\n'
    >>> extract_code("```python\\r\\ndef f(x):\\r\\n    return x\\r\\n```", "f")  # CRLF
    'def f(x):\\n    return x\\n'
    """
    action = action.replace("\r\n", "\n").replace("\r", "\n")  # CRLF or CR line endings
    blocks = FENCE.findall(action)
    if blocks:
        code = blocks[-1]
    elif f"def {entry}" in action:
        code = action
    else:
        raise ParseError(
            "no Python code found: put the function in a fenced block starting with ```python"
        )
    if len(code) > MAX_CODE:
        raise ParseError(f"the code is {len(code):,} characters; the limit is {MAX_CODE:,}")
    if not re.search(rf"(?m)^\s*def\s+{re.escape(entry)}\s*\(", code):
        raise ParseError(f"the code block does not define `{entry}`; write `def {entry}(...):`")
    if _is_stub(code, entry):
        raise ParseError(
            f"`{entry}` has no body (only `...`, `pass` or a docstring): this is the prompt's "
            "template, not an answer; write the function's code"
        )
    return code


def _is_stub(code: str, entry: str) -> bool:
    """True when ``code`` is only the template ``def entry(...): ...`` (echoing the prompt).

    Parsing is not running: `ast.parse` never executes the model's text.
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False  # unreadable code is for the sandbox to report
    funcs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry]
    if len(tree.body) != 1 or not funcs:
        return False
    return all(
        isinstance(stmt, ast.Pass)
        or (
            isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and (stmt.value.value is Ellipsis or isinstance(stmt.value.value, str))
        )
        for stmt in funcs[0].body
    )
