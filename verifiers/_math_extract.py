"""Find the final answer in free-form model output (standard library only, linear time).

Precedence, first match wins:

1. the **last** ``\\boxed{...}`` (or ``\\fbox{...}``), with balanced braces (``\\boxed 5`` too);
2. the last "final answer" statement (``Final answer: 5``, ``Final Answer: The final answer is
   $5$. I hope it is correct.``);
3. the last "the answer is ..." / "answer: ..." statement;
4. the last math span: ``$$...$$``, ``\\[...\\]``, ``\\(...\\)`` or ``$...$``;
5. nothing: ``None`` (the caller decides whether to read the whole text).

A statement runs to the end of its line or sentence (a period followed by a space or the end; the
period of ``3.5`` does not end it); if it holds a math span, the span's content is the answer.
Nothing here guesses: no "first number in the text" rule, so ``2x+3`` never becomes ``2``.

>>> extract_answer(r"so we get \\boxed{\\frac{1}{2}}. Check: \\boxed{\\frac{2}{3}}")
'\\\\frac{2}{3}'
>>> extract_answer("Thus the answer is 3.5. Done.")
'3.5'
>>> extract_answer("The sum is $x^2 + 1$.")
'x^2 + 1'
>>> extract_answer("2x+3") is None
True
"""

from __future__ import annotations

import re

__all__ = ["extract_answer"]

_BOXED = ("\\boxed", "\\fbox")
_MAX_BOXES_TRIED = 50
_FINAL = re.compile(r"final\s+answer\s*(?:is\b|:|=)?\s*:?", re.IGNORECASE)
_ANSWER = re.compile(r"\banswer\s*(?:is\b|:|=)\s*:?", re.IGNORECASE)
_NESTED_FINAL = re.compile(r"^\s*the\s+final\s+answer\s+is\b\s*:?", re.IGNORECASE)
_SENTENCE_END = re.compile(r"\.(?=\s|$)|;|\bI hope\b", re.IGNORECASE)
_WRAPPERS = "*`_ \t"


def _braced(text: str, start: int) -> str | None:
    """The content of the ``{...}`` group opening at ``text[start]``, or ``None`` if unbalanced."""
    depth = 0
    i = start
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2  # an escaped character (\{, \}) never opens or closes
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
        i += 1
    return None


def _last_boxed(text: str) -> str | None:
    positions: list[tuple[int, str]] = []
    for command in _BOXED:
        at = text.rfind(command)
        while at != -1 and len(positions) < _MAX_BOXES_TRIED:
            positions.append((at, command))
            at = text.rfind(command, 0, at)
    for at, command in sorted(positions, reverse=True)[:_MAX_BOXES_TRIED]:
        i = at + len(command)
        if i < len(text) and text[i].isalpha():
            continue  # \boxedfoo is another command
        while i < len(text) and text[i] == " ":
            i += 1
        if i < len(text) and text[i] == "{":
            content = _braced(text, i)
            if content is not None:
                return content.strip()
        elif i < len(text):
            match = re.compile(r"[^\s$]+").match(text, i)
            if match:
                return match.group()
    return None


def _last_math_span(text: str) -> str | None:
    """The content of the last ``$$..$$``, ``\\[..\\]``, ``\\(..\\)`` or ``$..$`` span."""
    closers = {
        "$": _last_unescaped(text, "$", len(text)),
        "\\)": text.rfind("\\)"),
        "\\]": text.rfind("\\]"),
    }
    closer = max(closers, key=lambda k: closers[k])
    end = closers[closer]
    if end < 0:
        return None
    if closer == "$":
        double = end > 0 and text[end - 1] == "$"
        if double:
            start = text.rfind("$$", 0, end - 1)
            return text[start + 2 : end - 1].strip() if start >= 0 else None
        start = _last_unescaped(text, "$", end)
        return text[start + 1 : end].strip() if start >= 0 else None
    opener = "\\(" if closer == "\\)" else "\\["
    start = text.rfind(opener, 0, end)
    return text[start + 2 : end].strip() if start >= 0 else None


def _last_unescaped(text: str, char: str, before: int) -> int:
    at = text.rfind(char, 0, before)
    while at > 0 and text[at - 1] == "\\":
        at = text.rfind(char, 0, at - 1)
    return at


def _statement(text: str) -> str | None:
    """What follows the last "final answer" (else "answer is") up to the end of its sentence."""
    for pattern in (_FINAL, _ANSWER):
        last = None
        for last in pattern.finditer(text):  # noqa: B007 - we want the last match
            pass
        if last is None:
            continue
        rest = text[last.end() :]
        nested = _NESTED_FINAL.match(rest)
        if nested:
            rest = rest[nested.end() :]
        line = rest.lstrip().split("\n", 1)[0]
        span = _first_math_span(line)
        if span is not None:
            return span
        end = _SENTENCE_END.search(line)
        answer = (line[: end.start()] if end else line).strip().strip(_WRAPPERS)
        if answer:
            return answer
    return None


def _first_math_span(line: str) -> str | None:
    for opener, closer in (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$")):
        start = line.find(opener)
        if start >= 0:
            end = line.find(closer, start + len(opener))
            if end >= 0:
                return line[start + len(opener) : end].strip()
    return None


def extract_answer(text: str) -> str | None:
    """The final answer in ``text`` by the precedence of the module docstring, or ``None``.

    >>> extract_answer("Final Answer: The final answer is $12$. I hope it is correct.")
    '12'
    >>> extract_answer(r"\\boxed{1} or maybe \\boxed{2}")
    '2'
    """
    if not isinstance(text, str):
        raise TypeError(f"extract_answer expects a str, got {type(text).__name__}")
    for find in (_last_boxed, _statement, _last_math_span):
        found = find(text)
        if found is not None:
            return found
    return None
