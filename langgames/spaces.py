"""Text spaces for language games.

Gymnasium's default `gymnasium.spaces.Text` allows only 62 alphanumeric characters and at least one
of them. Language games need real text, so every langgames space is a `Text` space with:

- the charset `TEXT_CHARSET`: tab, newline and every code point Python considers printable
  (``str.isprintable``), which covers all living scripts, mathematical symbols and emoji;
- ``min_length=0`` (the empty string is a legal action, which a game judges `unparseable`);
- ``max_length=MAX_TEXT_LENGTH`` (65,536 characters).

Observations are passed through `clean_text` so they always lie inside the space. Actions may be
anything: an action longer than the space allows is still accepted by ``step`` and judged
`unparseable` without being parsed.

>>> space = text_space()
>>> space.contains("x² + 1 = 0 → no real roots ✓\\n\\tdone")
True
>>> clean_text("bell\\a and nul\\x00") == "bell\\ufffd and nul\\ufffd"
True
"""

from __future__ import annotations

import copy
import functools
import sys

from gymnasium import spaces

__all__ = [
    "MAX_TEXT_LENGTH",
    "TEXT_CHARSET",  # noqa: F822 - provided lazily by the module __getattr__ below
    "clean_text",
    "text_space",
]

#: Maximum length, in characters, of every observation and of the action space.
MAX_TEXT_LENGTH = 65_536

_REPLACEMENT = "\ufffd"
_TRUNCATION_NOTE = "\n[... truncated by langgames: observation exceeded the text space ...]"
#: The ASCII part of `TEXT_CHARSET` (printable ASCII, tab and newline), as bytes ...
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n"
#: ... and the other ASCII characters (controls, DEL), mapped to U+FFFD by `clean_text`.
_ASCII_CONTROLS = {c: _REPLACEMENT for c in range(0x80) if c not in _PRINTABLE_ASCII}


@functools.lru_cache(maxsize=1)
def _charset() -> frozenset[str]:
    chars = {"\t", "\n"}
    chars.update(c for c in map(chr, range(sys.maxunicode + 1)) if c.isprintable())
    return frozenset(chars)


def __getattr__(name: str) -> frozenset[str]:
    # TEXT_CHARSET is built on first use (about 0.1 s), so `import langgames` stays fast.
    if name == "TEXT_CHARSET":
        return _charset()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@functools.lru_cache(maxsize=1)
def _prototype() -> spaces.Text:
    return spaces.Text(max_length=MAX_TEXT_LENGTH, min_length=0, charset=_charset())


def text_space() -> spaces.Text:
    """A new `Text` space over `TEXT_CHARSET`, lengths 0 to `MAX_TEXT_LENGTH`.

    Building the charset tables once costs about a tenth of a second; each call returns a shallow
    copy of one prototype (the tables are immutable) with its own random generator.
    """
    space = copy.copy(_prototype())
    space._np_random = None  # type: ignore[assignment]  # its own RNG, seeded on first use or by `space.seed()`
    return space


def clean_text(text: str) -> str:
    """Return ``text`` changed as little as possible so that it lies inside `text_space()`.

    Characters outside the charset (control characters, lone surrogates, unassigned code points)
    become U+FFFD; text longer than `MAX_TEXT_LENGTH` is cut with a visible note.
    """
    if text.isascii():  # the common case: one C pass over the bytes (str.isprintable is slower)
        if text.encode("ascii").translate(None, _PRINTABLE_ASCII):
            text = text.translate(_ASCII_CONTROLS)
    elif not text.replace("\n", "").replace("\t", "").isprintable():
        charset = _charset()
        text = "".join(c if c in charset else _REPLACEMENT for c in text)
    if len(text) > MAX_TEXT_LENGTH:
        text = text[: MAX_TEXT_LENGTH - len(_TRUNCATION_NOTE)] + _TRUNCATION_NOTE
    return text
