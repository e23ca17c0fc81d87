"""How datasets write answers that are not plain math: words, text, trailing units, expressions
to evaluate. Used by `langgames.verifiers.math.verify_math` around the safe parser.

Everything here reads text with bounded regular expressions and hands any math it finds to the
safe parser; nothing is evaluated as code. The readers:

- `number_words`: ``"twenty-one"`` -> ``"21"``, ``"negative three"`` -> ``"-3"``,
  ``"one half"`` -> ``"1/2"`` (the whole text must be a number in words);
- `text_answer`: the normalised form of a text answer (``\\text{Yes}`` -> ``"yes"``,
  ``\\textbf{(C)}`` -> ``"c"``, ``"No solution."`` -> ``"no solution"``), or ``None`` for math;
- `trailing_words`: ``3 \\text{ apples}`` -> ``("3", "apples")``, a number followed by words
  that are not known units;
- `evaluable`: a gold written as something to compute (``\\int_0^1 x^2\\,dx``, ``\\sum``,
  ``\\prod``, ``\\lim``, ``\\frac{d}{dx}``, ``\\gcd``, ``\\operatorname{lcm}``, ``\\det``), split
  into its parts; the caller parses each part and builds the SymPy object, whose value a worker
  computes under the deadline. Only golds (trusted) are read this way: an answer that restates
  the question is not its value.
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = [
    "CHOICE_LETTERS",
    "Evaluable",
    "evaluable",
    "is_text_word",
    "number_words",
    "same_text",
    "text_answer",
    "trailing_words",
]

#: Letters read as multiple-choice options.
CHOICE_LETTERS = "ABCDEFGHIJ"
_MAX_TEXT = 200

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9}
_ORDINAL_DENOMINATORS = {
    "half": 2, "halves": 2, "third": 3, "thirds": 3, "quarter": 4, "quarters": 4,
    "fourth": 4, "fourths": 4, "fifth": 5, "fifths": 5, "sixth": 6, "sixths": 6,
    "seventh": 7, "sevenths": 7, "eighth": 8, "eighths": 8, "ninth": 9, "ninths": 9,
    "tenth": 10, "tenths": 10,
}  # fmt: skip
_WRAPPER = re.compile(
    r"\\(?:text|textbf|textit|textrm|textup|textnormal|mathrm|mathbf|mathit|mbox|operatorname)"
    r"\s*\{([^{}]*)\}"
)
_WORDS_ONLY = re.compile(r"[A-Za-z][A-Za-z' \-]*")
_CHOICE = re.compile(r"\(?\s*([A-Ja-j])\s*\)?")
_TRAILING = re.compile(
    r"^(?P<math>.*?[0-9}).])\s*(?:\\text\s*\{\s*(?P<braced>[A-Za-z][A-Za-z \-]{0,40})\}|"
    r"(?P<bare>[A-Za-z]{2,20}(?:\s+[A-Za-z]{2,20}){0,2}))\s*\.?$",
    re.DOTALL,
)
#: Text golds that say the same thing (compared after normalising), kept deliberately small.
_SYNONYMS = [
    frozenset({"no solution", "no solutions", "none", "no such number", "there is no solution"}),
    frozenset({"undefined", "is undefined", "not defined"}),
    frozenset({"does not exist", "dne", "doesn't exist", "it does not exist"}),
    frozenset({"yes", "true"}),
    frozenset({"no", "false"}),
]


#: Words that are text answers even though the parser could read them as products of letters
#: (``yes`` would be ``y*e*s``).
_TEXT_WORDS = frozenset(
    {w for group in _SYNONYMS for w in group}
    | {"yes", "no", "true", "false", "odd", "even", "neither", "both", "always", "never"}
)


def is_text_word(text: str) -> bool:
    """Whether ``text`` is a common text answer (``yes``, ``\\text{No}``, ``undefined``...)."""
    said = text_answer(text)
    return said is not None and said in _TEXT_WORDS


def _unwrap(text: str) -> str:
    """``text`` without ``$``, ``\\text{...}``-style wrappers, ``\\,`` spaces and a final period."""
    text = text.strip().strip("$").strip()
    for _ in range(4):
        unwrapped = _WRAPPER.sub(r"\1", text)
        if unwrapped == text:
            break
        text = unwrapped
    text = re.sub(r"\\[,;:! ]", " ", text)
    return text.strip().rstrip(".").strip()


def number_words(text: str) -> str | None:
    """The number ``text`` spells out in English words, as digits (``"-21"``, ``"3/4"``), or
    ``None`` if ``text`` is not entirely a number in words.

    >>> number_words("Twenty-one"), number_words("negative three"), number_words("three quarters")
    ('21', '-3', '3/4')
    >>> number_words("one hundred and five"), number_words("five apples") is None
    ('105', True)
    """
    if len(text) > _MAX_TEXT:
        return None
    words = re.split(r"[\s\-]+", _unwrap(text).lower().replace(",", " "))
    words = [w for w in words if w and w != "and"]
    if not words or not all(re.fullmatch(r"[a-z]+", w) for w in words):
        return None
    sign = ""
    if words[0] in ("negative", "minus"):
        sign, words = "-", words[1:]
    denominator = None
    if len(words) >= 2 and words[-1] in _ORDINAL_DENOMINATORS:
        denominator = _ORDINAL_DENOMINATORS[words[-1]]
        words = words[:-1]
        if words == ["a"] or words == ["an"]:
            words = ["one"]
    if not words:
        return None
    total, current = 0, 0
    seen_number = False
    for word in words:
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current = 0
        else:
            return None
        seen_number = True
    if not seen_number:
        return None
    value = total + current
    return f"{sign}{value}" if denominator is None else f"{sign}{value}/{denominator}"


def text_answer(text: str) -> str | None:
    """The normalised text of a text answer (lower case, single spaces, no wrappers, no final
    period; a choice letter without its parentheses), or ``None`` if ``text`` holds math.

    >>> text_answer(r"\\text{Yes}"), text_answer(r"\\textbf{(C)}"), text_answer("No solution.")
    ('yes', 'c', 'no solution')
    >>> text_answer("2x + 1") is None, text_answer("x") is None
    (True, True)
    """
    if len(text) > _MAX_TEXT:
        return None
    plain = _unwrap(text)
    choice = _CHOICE.fullmatch(plain)
    if choice is not None and (plain.startswith("(") or plain.upper() == plain):
        letter = choice.group(1)
        if letter.upper() == letter or plain.startswith("("):
            return letter.lower()
    if not _WORDS_ONLY.fullmatch(plain):
        return None
    words = plain.lower().replace("-", " ").split()
    if len(words) == 1 and len(words[0]) == 1:
        return None  # a lone letter is a variable, not text
    return " ".join(words)


def same_text(gold: str, answer: str) -> bool:
    """Whether two normalised text answers say the same thing (equal, or listed synonyms)."""
    if gold == answer:
        return True
    return any(gold in group and answer in group for group in _SYNONYMS)


def says_no_solution(text: str) -> bool:
    """Whether a normalised text answer states that there is no solution."""
    return text in _SYNONYMS[0]


#: Words after a number that change what it says: never dropped as if they were units.
_NOT_UNITS = frozenset(
    {
        "not",
        "no",
        "never",
        "is",
        "isn",
        "isnt",
        "are",
        "aren",
        "wrong",
        "false",
        "incorrect",
        "except",
        "but",
        "or",
        "and",
        "nor",
        "than",
        "less",
        "more",
        "minus",
        "plus",
        "times",
        "over",
        "squared",
        "cubed",
        "percent",
        "root",
        "roots",
        "negative",
        "positive",
        "approximately",
        "about",
        "around",
        "almost",
        "nearly",
        "maybe",
        "possibly",
        "if",
        "unless",
        "divided",
        "multiplied",
        "to",
        "from",
    }
)


def trailing_words(text: str) -> tuple[str, str] | None:
    """``(math, words)`` for a number followed by words (``3 \\text{ apples}``, ``5 apples``),
    else ``None``. The caller keeps ``math`` only if it is a number.

    >>> trailing_words(r"3 \\text{ apples}"), trailing_words("12 red marbles")
    (('3', 'apples'), ('12', 'red marbles'))
    >>> trailing_words("5 is not it") is None, trailing_words("4 or more") is None
    (True, True)
    """
    if len(text) > _MAX_TEXT:
        return None
    match = _TRAILING.match(text.strip())
    if match is None:
        return None
    words = (match.group("braced") or match.group("bare") or "").strip()
    if not words or any(w in _NOT_UNITS for w in words.lower().replace("-", " ").split()):
        return None
    return match.group("math").strip(), " ".join(words.split())


class Evaluable(NamedTuple):
    """A gold to compute: ``kind`` and its parts as text, to parse one by one.

    ``kind`` is ``integral`` (body, variable, low, high), ``sum`` / ``product`` (body, variable,
    low, high), ``limit`` (body, variable, point), ``derivative`` (body, variable), ``gcd`` /
    ``lcm`` (arguments) or ``det`` (the matrix)."""

    kind: str
    parts: tuple[str, ...]


def _braced_or_token(name: str) -> str:
    """A ``{...}`` group or one bare token (``_0``, ``^{10}``), captured as ``name``."""
    return rf"(?:\{{(?P<{name}>[^{{}}]*)\}}|(?P<{name}_c>[^\s{{}}\\^_]+))"


_INTEGRAL = re.compile(
    r"^\\int\s*_\s*" + _braced_or_token("low") + r"\s*\^\s*" + _braced_or_token("high")
    + r"\s*(?P<body>.+?)\s*(?:\\[,;!]\s*)*\\?d\s*(?P<var>[a-zA-Z])\s*$",
    re.DOTALL,
)  # fmt: skip
_SERIES = re.compile(
    r"^\\(?P<kind>sum|prod)\s*_\s*\{\s*(?P<var>[a-zA-Z])\s*=\s*(?P<low>[^{}]+)\}\s*\^\s*"
    + _braced_or_token("high") + r"\s*(?P<body>.+)$",
    re.DOTALL,
)  # fmt: skip
_LIMIT = re.compile(
    r"^\\lim\s*_\s*\{\s*(?P<var>[a-zA-Z])\s*(?:\\to|\\rightarrow|->)\s*(?P<point>[^{}]+)\}"
    r"\s*(?P<body>.+)$",
    re.DOTALL,
)
_DERIVATIVE = re.compile(
    r"^\\(?:d|t)?frac\s*\{\s*d\s*\}\s*\{\s*d\s*(?P<var>[a-zA-Z])\s*\}\s*(?P<body>.+)$", re.DOTALL
)
_GCD = re.compile(
    r"^(?:\\(?P<kind1>gcd)|\\operatorname\s*\{\s*(?P<kind2>gcd|lcm)\s*\}|\\(?:text|mathrm)\s*"
    r"\{\s*(?P<kind3>gcd|lcm)\s*\}|(?P<kind4>gcd|lcm))\s*(?:\\left)?\s*\((?P<args>[^()]*)"
    r"(?:\\right)?\)$",
    re.DOTALL,
)
_DET = re.compile(
    r"^\\det\s*(?:\\left)?\s*(?P<matrix>\\begin\{[pbvBV]?matrix\}.*\\end\{[pbvBV]?matrix\})"
    r"\s*(?:\\right)?$",
    re.DOTALL,
)


def _group(match: re.Match[str], name: str) -> str:
    value = match.group(name)
    return value if value is not None else match.group(f"{name}_c")


def evaluable(text: str) -> Evaluable | None:
    """The parts of a gold written as something to compute, or ``None``.

    >>> evaluable(r"\\int_0^1 x^2 \\, dx")
    Evaluable(kind='integral', parts=('x^2', 'x', '0', '1'))
    >>> evaluable(r"\\sum_{k=1}^{10} k^2")
    Evaluable(kind='sum', parts=('k^2', 'k', '1', '10'))
    >>> evaluable(r"\\gcd(12, 18)")
    Evaluable(kind='gcd', parts=('12', '18'))
    """
    text = text.strip().strip("$").strip()
    if len(text) > 2_000:
        return None
    if (m := _INTEGRAL.match(text)) is not None:
        return Evaluable("integral", (m["body"], m["var"], _group(m, "low"), _group(m, "high")))
    if (m := _SERIES.match(text)) is not None:
        kind = "sum" if m["kind"] == "sum" else "product"
        return Evaluable(kind, (m["body"], m["var"], m["low"].strip(), _group(m, "high")))
    if (m := _LIMIT.match(text)) is not None:
        return Evaluable("limit", (m["body"], m["var"], m["point"].strip()))
    if (m := _DERIVATIVE.match(text)) is not None:
        return Evaluable("derivative", (m["body"], m["var"]))
    if (m := _GCD.match(text)) is not None:
        kind = m["kind1"] or m["kind2"] or m["kind3"] or m["kind4"]
        args = tuple(a.strip() for a in m["args"].split(","))
        if len(args) >= 2 and all(args):
            return Evaluable(kind, args)
    if (m := _DET.match(text)) is not None:
        return Evaluable("det", (m["matrix"],))
    return None
