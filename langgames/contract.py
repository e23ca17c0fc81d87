"""The reply contract: how every game reads a model's reply before it judges the move.

Language models do not reply in a game's exact format: they reason first (often inside
``<think>…</think>``), restate candidate answers, close with a sentence of chatter, and write
Windows line endings. The base class `langgames.core.LanguageGame` applies this contract to every
reply *before* any game parses it, so that the same right answer earns the same reward however a
model wraps it, and no game can get the rules wrong on its own:

1. **Line endings and surrounding whitespace are normalised**: ``\\r\\n`` and ``\\r`` become
   ``\\n``; leading and trailing blank space is removed.
2. **Reasoning blocks are removed** before the answer is looked for: ``<think>…</think>`` and the
   other common tag names in `REASONING_TAGS` (case-insensitive, nested blocks included). A reply
   whose first reasoning tag only *closes* (``…</think>``, as when a chat template opens the block
   in the prompt) loses everything up to that tag. A reply that ends inside an open block has no
   answer: it is `unparseable`, and the reason says so. The tag set is configurable per env
   (``env.unwrapped.reasoning_tags``).
3. **The last marked answer counts.** Every game names one answer marker in its prompt, and the
   answer is the *last* marked answer in what remains; prose before and after it is ignored:

   ==================  ==============================================================
   marker              what is taken
   ==================  ==============================================================
   ``"boxed"``         the contents of the last ``\\boxed{…}`` (balanced braces)
   ``"code"``          the last fenced ``\\`\\`\\`python`` block (passed on with its fence)
   ``"code:sql"``      the last fenced block in that language
   ``"line:kw"``       the last line that starts with ``kw:`` (``"line:query|answer"`` for several
                       keywords); the whole line is passed on, keyword included
   ``None``            the whole reply (after steps 1 and 2)
   ==================  ==============================================================

   With no marker in the reply, the whole reply is passed on, so a game's bare format (an answer
   alone on the last line) still works. A hedge, several marked answers, is judged by its last.

What the game judged is reported as ``info["parsed_action"]``.

Every scan here is linear in the length of the reply, including replies of megabytes, thousands of
markers and unbalanced tags or braces.

>>> apply_contract("<think>41? 43?</think>It is \\\\boxed{42}. Hope that helps!", "boxed")
'42'
>>> apply_contract("so it is 7.</think>\\r\\nguess: 7\\r\\n", "line:guess")
'guess: 7'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

from langgames.errors import ContractError

__all__ = [
    "REASONING_TAGS",
    "ContractError",
    "answer_instruction",
    "apply_contract",
    "check_marker",
    "mark_answer",
    "mark_reply",
    "normalise",
    "read_reply",
    "strip_reasoning",
]

#: Tag names whose blocks hold a model's reasoning and never its answer.
REASONING_TAGS: tuple[str, ...] = (
    "think",
    "thinking",
    "thought",
    "thoughts",
    "reasoning",
    "reason",
    "reflection",
    "scratchpad",
    "analysis",
)

_CODE_LANGS = {
    "python": ("python", "py", "python3", ""),
    "sql": ("sql", "sqlite", ""),
}


#: Markers `check_marker` has accepted (every game's at class creation, and every marker
#: `read_reply` has met): on its fast path `read_reply` checks only those it has not seen.
_CHECKED_MARKERS: set[str] = set()


def check_marker(marker: str | None) -> str | None:
    """Validate a game's answer marker; return it unchanged.

    >>> check_marker("line:guess")
    'line:guess'
    """
    if marker is None or marker in _CHECKED_MARKERS:
        return marker
    if (
        marker in ("boxed", "code")
        or (marker.startswith("code:") and marker[5:] in _CODE_LANGS)
        or (
            marker.startswith("line:")
            and all(
                re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ -]{0,30}", k) for k in marker[5:].split("|")
            )
        )
    ):
        _CHECKED_MARKERS.add(marker)
        return marker
    raise ValueError(
        f"unknown answer marker {marker!r}: expected None, 'boxed', 'code', "
        f"'code:<{'|'.join(sorted(_CODE_LANGS))}>' or 'line:<keyword>[|<keyword>...]'"
    )


def normalise(text: str) -> str:
    """Unix line endings, no surrounding blank space."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.strip()


_tag_cache: dict[tuple[str, ...], re.Pattern[str]] = {}


def _tag_pattern(tags: tuple[str, ...]) -> re.Pattern[str]:
    pattern = _tag_cache.get(tags)
    if pattern is None:
        names = "|".join(sorted((re.escape(t) for t in tags), key=len, reverse=True))
        # Bounded whitespace keeps every match attempt short: the scan stays linear.
        pattern = re.compile(rf"<[ \t]{{0,4}}(/?)[ \t]{{0,4}}({names})[ \t]{{0,4}}>", re.IGNORECASE)
        _tag_cache[tags] = pattern
    return pattern


def strip_reasoning(text: str, tags: Iterable[str] = REASONING_TAGS) -> str:
    """Remove reasoning blocks from ``text``; raise `ContractError` if it ends inside one.

    >>> strip_reasoning("<think>a <think>b</think> c</think>answer")
    'answer'
    >>> strip_reasoning("reasoning that was opened by the prompt </think> answer")
    ' answer'
    """
    if "<" not in text:  # the common case: no tag of any kind
        return text
    tags = tuple(tags)
    if not tags:
        return text
    kept: list[str] = []
    depth = 0
    last = 0  # start of the text not yet kept or dropped
    opened_as = ""
    for match in _tag_pattern(tags).finditer(text):
        closing = match.group(1) == "/"
        if not closing:
            if depth == 0:
                kept.append(text[last : match.start()])
                opened_as = match.group(2).lower()
            depth += 1
        elif depth > 0:
            depth -= 1
            if depth == 0:
                last = match.end()
        else:
            # A close without an open: the block was opened before the reply (by the prompt).
            kept.clear()
            last = match.end()
    if depth > 0:
        raise ContractError(
            f"the reply ends inside an unclosed <{opened_as}> block, so it has no answer; close "
            f"the block with </{opened_as}> and give the answer after it"
        )
    kept.append(text[last:])
    return "".join(kept)


_BOX_TOKEN = re.compile(r"\\(?:boxed|fbox)[ \t]{0,4}\{|\{|\}")


def _last_boxed(text: str) -> str | None:
    """Contents of the box that closes last, or ``None``. One pass over the braces."""
    if "\\boxed" not in text and "\\fbox" not in text:
        return None
    stack: list[tuple[bool, int]] = []  # (is a box, where its contents start)
    found: tuple[int, int] | None = None
    for match in _BOX_TOKEN.finditer(text):
        brace = match.group()
        if brace == "}":
            if stack:
                is_box, start = stack.pop()
                if is_box:
                    found = (start, match.start())
        elif brace == "{":
            stack.append((False, match.end()))
        else:
            stack.append((True, match.end()))
    if found is None:
        return None
    inner = text[found[0] : found[1]].strip()
    # ``\boxed{\boxed{7}}`` reads as ``7``.
    for _ in range(3):  # bounded, so that deep nesting stays linear
        whole = _WHOLE_BOX.fullmatch(inner)
        if whole is None or not _balanced(whole.group(1)):
            break
        inner = whole.group(1).strip()
    return inner


_WHOLE_BOX = re.compile(r"\\(?:boxed|fbox)[ \t]{0,4}\{(.*)\}", re.DOTALL)


def _balanced(text: str) -> bool:
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


_FENCE = re.compile(r"^[ \t]{0,8}```", re.MULTILINE)


def _last_fenced(text: str, langs: tuple[str, ...]) -> str | None:
    """Code of the last complete fenced block in one of ``langs`` (``""``: no language)."""
    if "```" not in text:
        return None
    marks = [m.start() for m in _FENCE.finditer(text)]
    found: str | None = None
    i = 0
    while i + 1 < len(marks):
        open_at = marks[i]
        header_end = text.find("\n", open_at)
        if header_end == -1 or header_end > marks[i + 1]:
            i += 1  # "```" that does not start a block (e.g. "``` ```" on one line)
            continue
        lang = text[open_at:header_end].strip().strip("`").strip().lower()
        body = text[header_end + 1 : marks[i + 1]]
        if lang in langs:
            found = body if body.endswith("\n") or not body else body + "\n"
        i += 2
    return found


@functools.lru_cache(maxsize=64)
def _line_pattern(keywords: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(re.escape(k) for k in keywords)
    return re.compile(
        rf"^[ \t>*_`#-]{{0,8}}(?:{names})[*_`]{{0,3}}[ \t]{{0,4}}:", re.IGNORECASE | re.MULTILINE
    )


@functools.lru_cache(maxsize=64)
def _marker_line_pattern(marker: str) -> re.Pattern[str]:
    """`_line_pattern` of a ``"line:kw1|kw2"`` marker (parsed once per marker)."""
    return _line_pattern(tuple(marker[5:].split("|")))


def _last_line(text: str, keywords: tuple[str, ...]) -> str | None:
    return _find_last_line(text, _line_pattern(keywords))


def _find_last_line(text: str, pattern: re.Pattern[str]) -> str | None:
    if "\n" not in text:  # one line (the common short reply): a match can only start it
        match = pattern.match(text)
        return None if match is None else _strip_emphasis(text.strip())
    found = None
    for match in pattern.finditer(text):
        found = match
    if found is None:
        return None
    end = text.find("\n", found.start())
    line = text[found.start() : end if end != -1 else len(text)]
    return _strip_emphasis(line.strip())


_QUOTE_MARKS = (">", "-", "#")

#: Replies that every step of the contract leaves as they are, for every marker: one line of
#: letters, digits, spaces and ``:=+-.,()`` with no surrounding space, not starting with a quote
#: mark. No tag (``<``), carriage return, emphasis (``*_```), ``\boxed`` or fence can occur in
#: them, so `read_reply` returns them whole without looking further (the common short reply).
_FIXED_POINT = re.compile(r"[A-Za-z0-9(](?:[A-Za-z0-9 :=+.,()-]{0,254}[A-Za-z0-9.)])?")


def _strip_emphasis(line: str) -> str:
    """``**guess:** 42``, ``*guess: 42*`` and ``> guess: 42`` read as ``guess: 42``."""
    if line[:1] not in _QUOTE_MARKS and "*" not in line and "_" not in line and "`" not in line:
        return line  # nothing to remove (``line`` is stripped already)
    line = line.replace("**", "").replace("__", "").lstrip(">-# \t").strip()
    for mark in ("`", "*", "_"):
        if len(line) > 2 and line.startswith(mark) and line.endswith(mark):
            line = line[1:-1].strip()
    return line


def apply_contract(text: str, marker: str | None, *, tags: Iterable[str] = REASONING_TAGS) -> str:
    """What a game judges in ``text``: see the module docstring. Raises `ContractError`."""
    return mark_reply(strip_reasoning(normalise(text), tags).strip(), marker)


def read_reply(
    text: str, marker: str | None, tags: Iterable[str] = REASONING_TAGS
) -> tuple[str, str]:
    """The cleaned reply (steps 1 and 2) and what a game judges in it (step 3), in one call.

    ``read_reply(text, marker, tags)[1] == apply_contract(text, marker, tags=tags)``; the base
    class calls this on every step, so the common short reply (no tag, no carriage return, one
    line) takes a fast path with the same result. Raises `ContractError`.

    >>> read_reply("  guess: 7 ", "line:guess")
    ('guess: 7', 'guess: 7')
    """
    if _FIXED_POINT.fullmatch(text) is not None:
        if marker is not None and marker not in _CHECKED_MARKERS:
            check_marker(marker)  # an unknown marker raises here, as on the full path
        return text, text  # no tag, line break, emphasis, box or fence: nothing to take away
    if "<" in text or "\r" in text:
        reply = strip_reasoning(normalise(text), tags).strip()
    else:
        reply = text.strip()  # steps 1 and 2 come down to this without a tag or a CR
    if marker is None:
        return reply, reply
    if "\n" not in reply and marker.startswith("line:"):
        # One line: a line marker can only start it (what `_find_last_line` does, inlined).
        if _marker_line_pattern(marker).match(reply) is None:
            return reply, reply
        return reply, _strip_emphasis(reply)
    return reply, mark_reply(reply, marker)


def mark_reply(text: str, marker: str | None) -> str:
    """The last marked answer of an already cleaned reply (steps 1 and 2 done), else all of it."""
    if marker is None:
        return text
    if marker == "boxed":
        found = _last_boxed(text)
    elif marker.startswith("code"):
        lang = marker.partition(":")[2] or "python"
        found = _last_fenced(text, _CODE_LANGS[lang])
    elif marker.startswith("line:"):
        found = _find_last_line(text, _marker_line_pattern(marker))
    else:
        raise ValueError(f"unknown answer marker {marker!r}")
    if found is not None and marker.startswith("code"):
        # The block is passed on with its fence, so the game still sees that it was one.
        return f"```{marker.partition(':')[2] or 'python'}\n{found}```"
    return text if found is None else found


@functools.lru_cache(maxsize=256)  # every observation of every game ends with it
def answer_instruction(marker: str | None) -> str:
    """The one-line statement of a marker that ends every game's prompt.

    >>> answer_instruction("boxed")
    'You may reason first; only your last \\\\boxed{...} answer is read.'
    """
    if marker == "boxed":
        return "You may reason first; only your last \\boxed{...} answer is read."
    if marker is not None and marker.startswith("code"):
        lang = marker.partition(":")[2] or "python"
        return f"You may reason first; only your last fenced ```{lang} block is read."
    if marker is not None and marker.startswith("line:"):
        keys = " or ".join(f"`{k}:`" for k in marker[5:].split("|"))
        return f"You may reason first; only your last line starting with {keys} is read."
    return "You may reason first; reasoning inside <think>...</think> is ignored."


def mark_answer(answer: str, marker: str | None) -> str:
    """``answer`` written with ``marker`` (what a model following the prompt would write).

    >>> mark_answer("42", "boxed")
    '\\\\boxed{42}'
    >>> mark_answer("```python\\nx = 1\\n```", "code")
    '```python\\nx = 1\\n```'
    """
    if marker == "boxed":
        return answer if _last_boxed(answer) is not None else f"\\boxed{{{answer}}}"
    if marker is not None and marker.startswith("code"):
        lang = marker.partition(":")[2] or "python"
        if _last_fenced(answer, _CODE_LANGS[lang]) is not None:
            return answer
        return f"```{lang}\n{answer.rstrip()}\n```"
    if marker is not None and marker.startswith("line:"):
        keys = tuple(marker[5:].split("|"))
        if _last_line(answer, keys) is not None:
            return answer
        return f"{keys[0]}: {answer}"
    return answer
