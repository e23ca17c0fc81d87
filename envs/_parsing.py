"""Small, strict readers for answers in model replies, shared by the games.

They never evaluate anything: each one matches a bounded pattern and raises `ParseError` with a
message that tells the player what to write instead.
"""

from __future__ import annotations

import ast
import re

from langgames.core import ParseError

__all__ = ["FENCE", "MAX_CODE", "extract_code", "last_line", "parse_int"]

_INT = re.compile(r"[+-]?\d{1,40}")

#: A fenced code block, ```` ```python ```` (or ``py``, ``python3``, no language) to ```` ``` ````.
FENCE = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\r?\n(.*?)```", re.DOTALL | re.IGNORECASE)
#: The longest program, in characters, that a code game will run.
MAX_CODE = 20_000


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
