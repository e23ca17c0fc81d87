"""A safe reader of mathematical answers: text in, SymPy objects out, nothing evaluated as code.

This is the parser behind `langgames.verifiers.math.parse_math`. It never calls ``eval``, ``exec``,
``sympify`` or ``parse_expr``: a hand-written tokenizer feeds a recursive-descent (Pratt-style)
parser that builds every SymPy object node by node from a fixed vocabulary. Whatever the text says,
the only things that can happen are the constructions listed in the grammar below.

Grammar (lowest precedence first)::

    answer    := item ((',' | ';' | 'and' | 'or') item)*          top level: a list of answers
    item      := setexpr (relop setexpr)*          = < > <= >= != \\le \\ge \\ne \\neq \\in (chains)
    setexpr   := sum ((\\cup | \\cap | \\setminus) sum)*
    sum       := term (('+' | '-' | \\pm | \\mp) term)*
    term      := unary (('*' | '/' | \\cdot | \\times | \\div | <implicit>) unary)*  [units]
    unary     := ('-' | '+' | \\pm | \\mp) unary | power
    power     := postfix (('^' | '**') exponent)?                 right associative
    postfix   := atom ('!' | '%' | \\% | degree sign)*
    atom      := number | name | function | '(' list ')' | '[' list ']' | '{' list '}'
               | \\{ list \\} | '|' sum '|' | \\frac{a}{b} | \\sqrt[n]{a} | \\binom{n}{k}
               | \\begin{pmatrix} ... \\end{pmatrix} | constant

Numbers are exact: ``0.1`` is ``1/10``, ``3.5e-3`` is ``7/2000``, ``1,000,000`` (commas followed by
exactly three digits, outside brackets) and ``1 000 000`` / ``1{,}000`` are one million. ``12%`` is
``3/25``. ``2\\frac{1}{2}`` (an integer then a ``\\frac`` of integers) is the mixed number ``5/2``.
Implicit multiplication (``2x``, ``2(x+1)``, ``x y``, ``2\\pi``) binds like ``*``, so ``1/2x`` is
``x/2``; it is never allowed before a number (``2 3`` and ``x2`` are errors). Letter runs of two or
three letters that are not names (``xy``) are products of one-letter symbols; longer unknown words
are errors. ``e`` is Euler's number and ``i`` the imaginary unit.

``(a, b)`` is a tuple (an open interval when a bound is infinite); ``[a, b]``, ``[a, b)`` and
``(a, b]`` are intervals; ``\\{a, b\\}`` and ``{a, b}`` are sets; a top-level list ``a, b`` is a
set of answers; ``x = 1 or x = 2`` (and ``x = \\pm 1``) is a disjunction of equations. Degree signs
and unit words (``5 cm``, ``5\\text{ cm}``) are dropped and recorded; a ``\\text{}`` holding
anything but units, ``and``/``or`` or math is an error.

Limits, each enforced before the work it guards: `MAX_LENGTH` characters, `MAX_TOKENS` tokens,
`MAX_DEPTH` levels of nesting, `MAX_LITERAL_DIGITS` digits in one numeral, `MAX_BITS` bits in any
exact number the parser builds (powers, factorials and products are checked *before* they are
computed, so ``9**9**9**9`` or ``10^{10^{10}}`` is refused at once), and roots of integers above
`MAX_ROOT_BITS` bits. Exceeding a limit raises `MathSizeError`; any other unreadable text raises
`MathParseError` with the position and what was expected.

>>> parse_math("\\\\frac{1}{2} + 0.25")
3/4
>>> parse_math("2x^2 - 3x + 1")
2*x**2 - 3*x + 1
>>> parse_math("[1, 3) \\\\cup \\\\{5\\\\}")
Union({5}, Interval.Ropen(1, 3))
>>> parse_math("2x+")
Traceback (most recent call last):
...
langgames.errors.MathParseError: expected a number, a variable or '(' at ...
"""

from __future__ import annotations

import cmath
import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import sympy
from sympy import (
    Abs,
    And,
    Basic,
    Contains,
    Dummy,
    E,
    Eq,
    Expr,
    FiniteSet,
    Ge,
    Gt,
    I,
    ImmutableMatrix,
    Integer,
    Interval,
    Le,
    Lt,
    Ne,
    Or,
    Rational,
    S,
    Symbol,
    Tuple,
    oo,
    pi,
)
from sympy.core.relational import Relational
from sympy.sets.sets import Set

from langgames.verifiers import exact as _exact
from langgames.verifiers.exact import MathParseError, MathSizeError

__all__ = [
    "MAX_BITS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_LITERAL_DIGITS",
    "MAX_ROOT_BITS",
    "MAX_TOKENS",
    "MathParseError",
    "MathSizeError",
    "ParsedMath",
    "parse",
    "parse_math",
]

#: Longest text, in characters, the parser reads.
MAX_LENGTH = 5_000
#: Most tokens in one text.
MAX_TOKENS = 2_000
#: Deepest nesting of brackets, fractions, function calls, signs and exponents.
MAX_DEPTH = 40
#: Most digits in one numeral (``1e999`` counts its exponent as digits too).
MAX_LITERAL_DIGITS = 1_000
#: Largest exact number, in bits of numerator or denominator, that parsing builds (~3,900 digits);
#: the same limit as `langgames.verifiers.exact.evaluate_at`'s.
MAX_BITS = _exact.MAX_BITS
#: Largest integer, in bits, whose non-integer power (a root) is computed exactly (~77 digits).
MAX_ROOT_BITS = 256
#: Largest n for which n! and binomial coefficients are computed.
MAX_FACTORIAL = _exact.MAX_FACTORIAL


@dataclass(frozen=True)
class ParsedMath:
    """A parsed answer: the SymPy object plus what the text said about it.

    Attributes:
        expr: the SymPy object (an ``Expr``, a ``Relational`` or ``And``/``Or`` of them, a ``Set``,
            a ``Tuple`` or an ``ImmutableMatrix``).
        text: the text that was parsed.
        kind: how a lone number was written: ``"integer"``, ``"fraction"`` (``a/b`` or
            ``\\frac{a}{b}`` of integer literals), ``"mixed"``, ``"decimal"``, ``"percent"``; or
            ``"expression"`` for anything else.
        literal: ``(numerator, denominator)`` exactly as written when ``kind == "fraction"``.
        decimal: a decimal literal (``0.5``, ``1e-3``) occurs in the text.
        percent: a ``%`` sign occurs (``12%`` is ``3/25``).
        units: unit words that were dropped, as written (``("cm",)``).
        degrees: a degree sign was dropped (``30°`` reads as ``30``).
        conditions: where the answer is defined, as written, before SymPy simplified anything:
            ``("nonzero", d)`` for every divisor ``d`` with symbols (``x^2/x`` records ``x``),
            ``("nonnegative", r)`` for the radicand of an even root (``(\\sqrt{x})^2`` records
            ``x``), ``("positive", a)`` for the argument of a logarithm.
    """

    expr: Basic
    text: str
    kind: str = "expression"
    literal: tuple[int, int] | None = None
    decimal: bool = False
    percent: bool = False
    units: tuple[str, ...] = ()
    degrees: bool = False
    conditions: tuple[tuple[str, Expr], ...] = field(default=(), compare=False)


# ---------------------------------------------------------------------------------------------
# Vocabulary


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_FUNCTIONS: dict[str, Callable[[Expr], Expr]] = {
    "sin": sympy.sin,
    "cos": sympy.cos,
    "tan": sympy.tan,
    "cot": sympy.cot,
    "sec": sympy.sec,
    "csc": sympy.csc,
    "arcsin": sympy.asin,
    "arccos": sympy.acos,
    "arctan": sympy.atan,
    "asin": sympy.asin,
    "acos": sympy.acos,
    "atan": sympy.atan,
    "arccot": sympy.acot,
    "sinh": sympy.sinh,
    "cosh": sympy.cosh,
    "tanh": sympy.tanh,
    "exp": sympy.exp,
    "ln": sympy.log,
    "log": sympy.log,
    "sqrt": sympy.sqrt,
    "cbrt": lambda a: sympy.root(a, 3),
    "abs": Abs,
    "floor": sympy.floor,
    "ceil": sympy.ceiling,
    "ceiling": sympy.ceiling,
}
# tan x is undefined where cos x = 0, cot x where sin x = 0...
_POLES: dict[str, Callable[[Expr], Expr]] = {
    "tan": sympy.cos,
    "sec": sympy.cos,
    "cot": sympy.sin,
    "csc": sympy.sin,
}
_ROOTS = {"sqrt": Rational(1, 2), "cbrt": Rational(1, 3)}
_INVERSE = {"sin": "arcsin", "cos": "arccos", "tan": "arctan", "cot": "arccot"}
_CONSTANTS: dict[str, Basic] = {
    "pi": pi,
    "oo": oo,
    "inf": oo,
    "infty": oo,
    "infinity": oo,
    "e": E,
    "E": E,
    "i": I,
    "I": I,
}
_GREEK = _words(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu "
    "nu xi omicron rho sigma tau upsilon phi varphi chi psi omega Gamma Delta Theta Lambda "
    "Xi Pi Sigma Upsilon Phi Psi Omega"
)
_UNICODE_GREEK_NAMES = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi rho sigma tau "
    "upsilon phi chi psi omega"
)
_UNICODE_GREEK = dict(zip("αβγδεζηθικλμνξρστυφχψω", _UNICODE_GREEK_NAMES.split(), strict=True))
# Unit words. Words of two letters or more are recognised in plain text too; every word is
# recognised inside \text{...}. They are dropped only where a unit can stand (after a value, at the
# end of an item), so "cm" elsewhere still reads as c*m.
_UNIT_WORDS = _words(
    "cm mm km m kg g mg s sec secs second seconds min mins minute minutes h hr hrs hour "
    "hours day days week weeks month months year years ft feet foot inch inches yd yard "
    "yards mi mile miles l ml liter liters litre litres dollar dollars cent cents unit "
    "units sq square cubic meter meters metre metres centimeter centimeters centimetre "
    "centimetres kilometer kilometers millimeter millimeters gram grams kilogram kilograms "
    "pound pounds lb lbs oz ounce ounces mph kph degree degrees deg rad radian radians per "
    "people person students times ways"
)
_PLAIN_UNIT_EXCLUDED = frozenset({"min", "in", "per", "deg", "times", "sq"})
_SEPARATOR_WORDS = frozenset({"and", "or"})

_SPACING_COMMANDS = _words(
    ", ; : ! quad qquad displaystyle textstyle scriptstyle limits nolimits left right big "
    "Big bigg Bigg bigl bigr Bigl Bigr biggl biggr Biggl Biggr mathstrut boxed fbox"
) | {" ", "(", ")", "[", "]"}  # \( \) \[ \] delimit math, like $
_OPERATOR_COMMANDS = {
    "cdot": "*",
    "times": "*",
    "ast": "*",
    "div": "/",
    "pm": "pm",
    "mp": "mp",
    "le": "<=",
    "leq": "<=",
    "leqslant": "<=",
    "ge": ">=",
    "geq": ">=",
    "geqslant": ">=",
    "lt": "<",
    "gt": ">",
    "ne": "!=",
    "neq": "!=",
    "cup": "cup",
    "cap": "cap",
    "setminus": "setminus",
    "in": "in",
    "{": "\\{",
    "}": "\\}",
    "lbrace": "\\{",
    "rbrace": "\\}",
    "langle": "langle",
    "rangle": "rangle",
    "lfloor": "lfloor",
    "rfloor": "rfloor",
    "lceil": "lceil",
    "rceil": "rceil",
    "lvert": "|",
    "rvert": "|",
    "vert": "|",
    "%": "%",
    "degree": "deg",
    "\\": "\\\\",
}
_CONSTANT_COMMANDS: dict[str, Basic] = {
    "pi": pi,
    "infty": oo,
    "emptyset": S.EmptySet,
    "varnothing": S.EmptySet,
}
_SET_LETTERS: dict[str, Basic] = {
    "R": S.Reals,
    "Z": S.Integers,
    "N": S.Naturals0,
    "Q": S.Rationals,
    "C": S.Complexes,
}
_FONT_COMMANDS = _words(
    "mathrm mathbf mathit mathsf boldsymbol bm operatorname textbf textit textrm text "
    "textup textnormal mbox"
)
_TEXT_ONLY = _words("text textrm textup textnormal mbox textbf textit")
_MATRIX_ENVS = _words("pmatrix bmatrix Bmatrix matrix smallmatrix array")
_REFUSED_COMMANDS = {
    "approx": "'≈' gives an approximation, not an exact answer",
    "dots": "'...' (an infinite list) cannot be checked",
    "ldots": "'...' (an infinite list) cannot be checked",
    "cdots": "'...' (an infinite list) cannot be checked",
    "mid": "set-builder notation {x | ...} is not supported; write the set or interval",
    "vmatrix": "a determinant is not supported; give its value",
}
# Unicode characters that stand for an operator or a command.
_UNICODE = {
    "−": "-",
    "–": "-",
    "×": "*",
    "·": "*",
    "⋅": "*",
    "∙": "*",
    "÷": "/",
    "≤": "<=",
    "⩽": "<=",
    "≥": ">=",
    "⩾": ">=",
    "≠": "!=",
    "∪": "cup",
    "∩": "cap",
    "∈": "in",
    "±": "pm",
    "∓": "mp",
    "°": "deg",
    "√": "sqrt",
}
_SUPERSCRIPTS = {"²": "2", "³": "3", "¹": "1"}
_GROUP_SPACES = frozenset(" \u00a0\u2009\u202f~")

_OPENERS = {"(": ")", "[": "]", "{": "}", "\\{": "\\}", "langle": "rangle"}
_CLOSERS = frozenset({")", "]", "}", "\\}", "rangle", "|", "rfloor", "rceil", "end", "&", "\\\\"})
_RELATIONS = {"=": Eq, "<": Lt, ">": Gt, "<=": Le, ">=": Ge, "!=": Ne}


# ---------------------------------------------------------------------------------------------
# Tokens


class _Token(NamedTuple):
    kind: str  # num, name, cmd, op, sep, unit, const, text, begin, end, eof
    text: str  # canonical text (operator, command name, letters, unit)
    pos: int
    value: Any = None  # Rational for numbers; SymPy object for constants
    decimal: bool = False  # a decimal literal
    space: bool = False  # whitespace came right before


def _show(token: _Token) -> str:
    if token.kind == "eof":
        return "the end of the input"
    if token.kind == "num":
        return f"the number {token.text}"
    return repr(token.text if token.kind != "cmd" else "\\" + token.text)


_NUMBER = re.compile(r"(\d+\.?\d*|\.\d+)(?:[eE]([+-]?\d+))?")
_GROUP_COMMA = re.compile(r"\d{1,3}(?:,\d{3})+(?![\d])")
_LETTERS = re.compile(r"[A-Za-z]+")
_OVERLINE = re.compile(r"\\overline\s*\{\s*(\d{1,50})\s*\}")
_COMMAND = re.compile(r"\\([A-Za-z]+|.)", re.DOTALL)


def _number_value(text: str, pos: int) -> tuple[Rational, bool]:
    match = _NUMBER.fullmatch(text)
    assert match is not None
    mantissa, exponent = match.group(1), match.group(2)
    whole, _, frac = mantissa.partition(".")
    exp = int(exponent) if exponent else 0
    digits = len(whole) + len(frac) + abs(exp)
    if digits > MAX_LITERAL_DIGITS:
        raise MathSizeError(
            f"the number at position {pos} has {digits} digits (counting its exponent); the limit "
            f"is {MAX_LITERAL_DIGITS}",
            pos,
        )
    value = Rational(int(whole + frac or "0"), 10 ** len(frac)) * Rational(10) ** exp
    return value, bool(frac) or bool(exponent)


class _Tokenizer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[_Token] = []
        self.depth = 0  # bracket depth, for thousands separators and the nesting limit
        self.frac_digits = 0  # \frac12 and \sqrt2: the next digits are single-digit arguments

    def run(self) -> list[_Token]:
        self._scan(self.text, 0)
        self.tokens.append(_Token("eof", "", len(self.text)))
        return self.tokens

    def add(self, kind: str, text: str, pos: int, space: bool, **kw: Any) -> None:
        if len(self.tokens) >= MAX_TOKENS:
            raise MathSizeError(f"the answer has more than {MAX_TOKENS} tokens", pos)
        if kind == "op" and text in _OPENERS:
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise MathSizeError(
                    f"brackets are nested more than {MAX_DEPTH} deep at position {pos}", pos
                )
        elif kind == "op" and text in _OPENERS.values():
            self.depth = max(0, self.depth - 1)
        self.tokens.append(_Token(kind, text, pos, space=space, **kw))

    def _scan(self, text: str, offset: int) -> None:
        i, n = 0, len(text)
        space = False
        while i < n:
            c = text[i]
            pos = offset + i
            if c.isspace() or c in "$\u00a0\u2009\u202f~":
                i += 1
                space = True
                continue
            if c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
                i = self._number(text, i, offset, space)
            elif c.isalpha() and c.isascii():
                match = _LETTERS.match(text, i)
                assert match is not None
                word = match.group()
                i = match.end()
                if i < n and text[i].isdigit() and not self.frac_digits:
                    raise MathParseError(
                        f"'{word}{text[i]}' at position {pos}: a number right after a letter is "
                        f"ambiguous; write {word}*{text[i]}, {word}^{text[i]} or {word}_{text[i]}",
                        pos,
                    )
                self._word(word, pos, space)
            elif c == "\\":
                i = self._command(text, i, offset, space)
            elif c in _UNICODE:
                i += 1
                mapped = _UNICODE[c]
                if mapped == "sqrt":
                    self.add("cmd", "sqrt", pos, space)
                else:
                    self.add("op", mapped, pos, space)
            elif c in _SUPERSCRIPTS:
                self.add("op", "^", pos, space)
                self.add("num", _SUPERSCRIPTS[c], pos, False, value=Integer(_SUPERSCRIPTS[c]))
                i += 1
            elif c == "π":
                self.add("const", "pi", pos, space, value=pi)
                i += 1
            elif c == "∞":
                self.add("const", "infty", pos, space, value=oo)
                i += 1
            elif c == "∅":
                self.add("const", "emptyset", pos, space, value=S.EmptySet)
                i += 1
            elif c == "ℝ":
                self.add("const", "R", pos, space, value=S.Reals)
                i += 1
            elif c in _UNICODE_GREEK:
                self.add("name", _UNICODE_GREEK[c], pos, space, value="greek")
                i += 1
            else:
                i = self._punctuation(text, i, offset, space)
            space = False

    def _number(self, text: str, i: int, offset: int, space: bool) -> int:
        pos = offset + i
        if self.frac_digits:  # \frac12: each digit is one argument
            self.frac_digits -= 1
            self.add("num", text[i], pos, space, value=Integer(text[i]))
            return i + 1
        grouped = _GROUP_COMMA.match(text, i) if self.depth == 0 else None
        if grouped and not re.compile(r",\d").match(text, grouped.end()):
            digits, end = grouped.group().replace(",", ""), grouped.end()
        else:
            digits, end = self._space_grouped(text, i)
        rest = _NUMBER.match(digits + text[end:], 0) if digits else None
        if digits and rest is not None and rest.end() > len(digits):
            # a decimal part or exponent after the grouped digits
            literal = rest.group()
            end += rest.end() - len(digits)
        elif digits:
            literal = digits
        else:
            match = _NUMBER.match(text, i)
            assert match is not None
            literal, end = match.group(), match.end()
        value, decimal = _number_value(literal, pos)
        repeating = (
            _OVERLINE.match(text, end) if "." in literal and "e" not in literal.lower() else None
        )
        if repeating:  # 0.1\overline{6} = 1/6: the digits under the bar repeat forever
            period = repeating.group(1)
            places = len(literal.partition(".")[2])
            value += Rational(int(period), 10**places * (10 ** len(period) - 1))
            literal, end = literal + repeating.group(), repeating.end()
        self.add("num", literal, pos, space, value=value, decimal=decimal)
        return end

    @staticmethod
    def _space_grouped(text: str, i: int) -> tuple[str, int]:
        """``1 000 000``, ``1\\,000``, ``1{,}000``: digits in groups of three, else ``("", i)``."""
        match = re.compile(r"\d{1,3}").match(text, i)
        if match is None or (match.end() < len(text) and text[match.end()].isdigit()):
            return "", i
        digits, end, groups = match.group(), match.end(), 0
        while True:
            sep = re.compile(r"(?:[ \u00a0\u2009\u202f~]|\\,|\\ |\\;|\{,\})(\d{3})(?![\d])").match(
                text, end
            )
            if sep is None:
                break
            digits += sep.group(1)
            end = sep.end()
            groups += 1
        return (digits, end) if groups else ("", i)

    def _word(self, word: str, pos: int, space: bool) -> None:
        lowered = word.lower()
        if lowered in _SEPARATOR_WORDS:
            self.add("sep", lowered, pos, space)
        elif lowered == "percent":
            self.add("op", "%", pos, space)
        elif lowered in _FUNCTIONS:
            self.add("name", word, pos, space)
        elif len(word) >= 2 and lowered in _UNIT_WORDS and lowered not in _PLAIN_UNIT_EXCLUDED:
            self.add("unit", word, pos, space)
        elif lowered == "in":
            self.add("op", "in", pos, space)
        else:
            self.add("name", word, pos, space)

    def _braced(self, text: str, i: int, what: str, offset: int) -> tuple[str, int]:
        """The raw text of the ``{...}`` group starting at ``text[i]`` and the index after it."""
        while i < len(text) and text[i] == " ":
            i += 1
        if i >= len(text) or text[i] != "{":
            raise MathParseError(
                f"expected '{{' after \\{what} at position {offset + i}", offset + i
            )
        depth = 0
        for j in range(i, len(text)):
            if text[j] == "{" and text[j - 1 : j] != "\\":
                depth += 1
            elif text[j] == "}" and text[j - 1 : j] != "\\":
                depth -= 1
                if depth == 0:
                    return text[i + 1 : j], j + 1
        raise MathParseError(f"unbalanced '{{' after \\{what} at position {offset + i}", offset + i)

    def _command(self, text: str, i: int, offset: int, space: bool) -> int:
        pos = offset + i
        match = _COMMAND.match(text, i)
        if match is None:
            raise MathParseError(f"a lone backslash at position {pos}", pos)
        name, end = match.group(1), match.end()
        if name in _SPACING_COMMANDS:
            if name in ("left", "right") and end < len(text) and text[end] == ".":
                end += 1
            return end
        if name == "$":
            return end
        if name in _REFUSED_COMMANDS:
            raise MathParseError(f"{_REFUSED_COMMANDS[name]} (position {pos})", pos)
        if name in _OPERATOR_COMMANDS:
            self.add("op", _OPERATOR_COMMANDS[name], pos, space)
        elif name in _CONSTANT_COMMANDS:
            self.add("const", name, pos, space, value=_CONSTANT_COMMANDS[name])
        elif name in _GREEK:
            self.add("name", name, pos, space, value="greek")
        elif name in ("frac", "dfrac", "tfrac", "cfrac", "binom", "dbinom", "tbinom", "sqrt"):
            canonical = "sqrt" if name == "sqrt" else ("binom" if "binom" in name else "frac")
            self.add("cmd", canonical, pos, space)
            rest = text[end:].lstrip(" ")
            if rest[:1].isdigit():  # \frac12, \sqrt2
                self.frac_digits = 1 if canonical == "sqrt" else 2
        elif name in _FUNCTIONS or name in ("lg",):
            self.add("cmd", name, pos, space)
        elif name == "mathbb":
            content, end = self._braced(text, end, name, offset)
            if content.strip() not in _SET_LETTERS:
                raise MathParseError(f"unknown set \\mathbb{{{content}}} at position {pos}", pos)
            self.add("const", content.strip(), pos, space, value=_SET_LETTERS[content.strip()])
        elif name in _FONT_COMMANDS:
            content, end = self._braced(text, end, name, offset)
            self._text(name, content, pos, offset + end - len(content) - 1, space)
        elif name == "begin" or name == "end":
            content, end = self._braced(text, end, name, offset)
            env = content.strip().rstrip("*")
            if env == "vmatrix":
                raise MathParseError(f"{_REFUSED_COMMANDS['vmatrix']} (position {pos})", pos)
            if env not in _MATRIX_ENVS:
                raise MathParseError(f"unsupported environment '{env}' at position {pos}", pos)
            if name == "begin" and env == "array" and text[end:].lstrip().startswith("{"):
                _, end = self._braced(text, end, "begin{array}", offset)  # the column spec
            self.add(name, env, pos, space)
        elif name == "circ":
            raise MathParseError(
                f"'\\circ' at position {pos} is read only as a degree sign, as in 30^\\circ", pos
            )
        else:
            raise MathParseError(f"unknown LaTeX command \\{name} at position {pos}", pos)
        return end

    def _text(self, command: str, content: str, pos: int, content_pos: int, space: bool) -> None:
        words = content.strip()
        lowered = words.lower()
        if not words:
            return
        if lowered in _SEPARATOR_WORDS or lowered == ",":
            self.add("sep", "," if lowered == "," else lowered, pos, space)
            return
        if lowered == "percent" or lowered == "%":
            self.add("op", "%", pos, space)
            return
        unit_words = re.split(r"[\s/.^]+|\d+", lowered)
        if all(w in _UNIT_WORDS for w in unit_words if w) and any(unit_words):
            self.add("unit", words, pos, space)
            return
        if command in _TEXT_ONLY and not re.fullmatch(r"[\d\s.,+\-*/^()=<>]+|[A-Za-z]", words):
            raise MathParseError(
                f"cannot read the text {words[:40]!r} at position {pos}; only units, 'and'/'or' "
                "and math may appear in \\text{...}",
                pos,
            )
        self._scan(content, content_pos)

    def _punctuation(self, text: str, i: int, offset: int, space: bool) -> int:
        pos = offset + i
        two = text[i : i + 2]
        if two in ("**", "<=", ">=", "!="):
            self.add("op", "^" if two == "**" else two, pos, space)
            return i + 2
        c = text[i]
        if c == "^":
            # ^\circ, ^{\circ}, ^o: a degree sign
            match = re.compile(r"\^\s*(?:\\circ|\{\s*\\circ\s*\}|\{\s*o\s*\}|o(?![A-Za-z]))").match(
                text, i
            )
            if match:
                self.add("op", "deg", pos, space)
                return match.end()
        if c in "+-*/^!%=<>,;()[]{}|_&'":
            if c == "'":
                raise MathParseError(
                    f'unexpected "\'" at position {pos}; derivatives written with primes are not '
                    "read",
                    pos,
                )
            self.add("sep" if c == ";" else "op", "," if c == ";" else c, pos, space)
            return i + 1
        raise MathParseError(f"unexpected character {c!r} at position {pos}", pos)


def tokenize(text: str) -> list[_Token]:
    """Split ``text`` into tokens (raises `MathParseError` / `MathSizeError`)."""
    return _Tokenizer(text).run()


# ---------------------------------------------------------------------------------------------
# Building SymPy objects, with the size gates


def _bits(value: Rational) -> int:
    return max(int(value.p).bit_length(), int(value.q).bit_length())


def _check_number(expr: Basic, pos: int) -> Basic:
    """Refuse results that hold an exact number above `MAX_BITS`; refuse undefined results."""
    if expr is S.NaN or expr is S.ComplexInfinity:
        raise MathParseError(
            f"the expression ending at position {pos} is undefined (a division by zero or oo - oo)",
            pos,
        )
    candidates = expr.args if isinstance(expr, (sympy.Add, sympy.Mul)) else (expr,)
    for item in candidates:
        if isinstance(item, Rational) and _bits(item) > MAX_BITS:
            raise MathSizeError(
                f"the number built at position {pos} has more than {MAX_BITS} bits; numbers this "
                "large are refused",
                pos,
            )
    return expr


def _numeric_size(expr: Basic) -> float:
    """An upper bound on the bits SymPy would need to evaluate a power of ``expr`` exactly, per
    unit of exponent (``0`` when SymPy leaves such powers unevaluated)."""
    if isinstance(expr, Rational):
        return float(max(_bits(expr), 1))
    if isinstance(expr, sympy.Pow) and isinstance(expr.exp, Rational):
        return _numeric_size(expr.base) * abs(float(expr.exp))
    if isinstance(expr, sympy.Mul):
        return sum(_numeric_size(a) for a in expr.args)
    return 0.0


#: Values without symbols must stay within this magnitude (and its inverse) unless exact rationals.
_APPROX_LIMIT = 1e300
_CMATH: dict[Any, Callable[[complex], complex]] = {
    sympy.exp: cmath.exp,
    sympy.log: cmath.log,
    sympy.sin: cmath.sin,
    sympy.cos: cmath.cos,
    sympy.tan: cmath.tan,
    sympy.asin: cmath.asin,
    sympy.acos: cmath.acos,
    sympy.atan: cmath.atan,
    sympy.sinh: cmath.sinh,
    sympy.cosh: cmath.cosh,
    sympy.tanh: cmath.tanh,
    sympy.cot: lambda z: 1 / cmath.tan(z),
    sympy.sec: lambda z: 1 / cmath.cos(z),
    sympy.csc: lambda z: 1 / cmath.sin(z),
    sympy.acot: lambda z: cmath.atan(1 / z),
    Abs: lambda z: complex(abs(z)),
    sympy.floor: lambda z: complex(math.floor(z.real)) if z.imag == 0 else complex("nan"),
    sympy.ceiling: lambda z: complex(math.ceil(z.real)) if z.imag == 0 else complex("nan"),
}


class _Approximator:
    """Double-precision values of symbol-free expressions, computed with Python floats only.

    SymPy answers some assumption queries (``is_negative``...) by numerical evaluation, which
    for ``e^{e^{e^{10}}}`` allocates astronomically large integers. The parser therefore refuses to
    build a power or a function value without symbols unless its double-precision value is known
    and between 1e-300 and 1e300 in magnitude (exact rationals are bounded by `MAX_BITS`
    instead). Floats cannot hang: this check is O(1) per node, with a cache.
    """

    def __init__(self) -> None:
        self.cache: dict[Basic, complex | None] = {}

    def __call__(self, expr: Basic) -> complex | None:
        if expr in self.cache:
            return self.cache[expr]
        try:
            value = self.compute(expr)
        except (OverflowError, ValueError, ZeroDivisionError, TypeError):
            value = None
        self.cache[expr] = self.bounded(value)
        return self.cache[expr]

    @staticmethod
    def bounded(value: complex | None) -> complex | None:
        if value is None or not cmath.isfinite(value):
            return None
        size = abs(value)
        if size > _APPROX_LIMIT or (size and size < 1 / _APPROX_LIMIT):
            return None
        return value

    def compute(self, expr: Basic) -> complex | None:
        if isinstance(expr, Rational):
            return complex(float(expr))
        if expr is I:
            return 1j
        if isinstance(expr, sympy.NumberSymbol):
            return complex(float(expr))
        if expr.free_symbols or not expr.args:
            return None
        parts = [self(a) for a in expr.args]
        values: list[complex] = [p for p in parts if p is not None]
        if len(values) != len(parts):
            return None
        if isinstance(expr, sympy.Add):
            total = sum(values)
            if abs(total) < 1e-9 * max(abs(v) for v in values):
                return None  # cancellation: the magnitude is not known from doubles
            return total
        if isinstance(expr, sympy.Mul):
            product = math.prod(values, start=1 + 0j)
            return None if product == 0 and all(values) else product  # underflow
        if isinstance(expr, sympy.Pow):
            return self.power(values[0], values[1])
        if len(values) == 1:
            return self.apply(_CMATH.get(type(expr)), values[0])
        return None

    @classmethod
    def apply(
        cls, function: Callable[[complex], complex] | None, point: complex | None
    ) -> complex | None:
        """``function(point)`` if both are known and the result is in range, else ``None``."""
        if function is None or point is None:
            return None
        try:
            return cls.bounded(function(point))
        except (OverflowError, ValueError, ZeroDivisionError):
            return None

    @classmethod
    def power(cls, base: complex | None, exponent: complex | None) -> complex | None:
        if base is None or exponent is None:
            return None
        if base == 0:
            return 0j if exponent.real > 0 else None
        try:
            value = cmath.exp(exponent * cmath.log(base))
        except OverflowError:
            return None
        return None if value == 0 else cls.bounded(value)  # 0 here is an underflow


def _power(base: Basic, exponent: Basic, pos: int, approx: _Approximator) -> Basic:
    if not _is_scalar(base) or not _is_scalar(exponent):
        raise MathParseError(
            f"'^' at position {pos} needs numbers or expressions on both sides", pos
        )
    if not base.free_symbols and not exponent.free_symbols:
        if isinstance(exponent, Rational):
            size = _numeric_size(base)
            if size * abs(float(exponent)) > MAX_BITS and base not in (
                S.Zero,
                S.One,
                S.NegativeOne,
            ):
                raise MathSizeError(
                    f"the power at position {pos} would have more than {MAX_BITS} bits; numbers "
                    "this large are refused",
                    pos,
                )
            if not isinstance(exponent, Integer) and any(
                _bits(r) > MAX_ROOT_BITS for r in base.atoms(Rational)
            ):
                raise MathSizeError(
                    f"the root at position {pos} is of a number with more than {MAX_ROOT_BITS} "
                    "bits; roots of numbers this large are refused",
                    pos,
                )
        exact = isinstance(base, Rational) and isinstance(exponent, Rational)
        if not exact and approx.power(approx(base), approx(exponent)) is None:
            raise MathSizeError(
                f"the power at position {pos} is too large or too small to evaluate safely", pos
            )
    if base == 0 and isinstance(exponent, Rational) and exponent < 0:
        raise MathParseError(f"0 to a negative power at position {pos} is undefined", pos)
    return _check_number(sympy.Pow(base, exponent), pos)


def _as_interval(
    left: Basic, right: Basic, left_open: bool, right_open: bool, pos: int, strict: bool
) -> Basic | None:
    """``Interval(left, right)`` if the bounds make one; else ``None`` (or an error if strict)."""
    if not (isinstance(left, Expr) and isinstance(right, Expr)):
        if strict:
            raise MathParseError(f"the interval at position {pos} needs numbers as bounds", pos)
        return None
    if left.is_extended_real is False or right.is_extended_real is False:
        if strict:
            raise MathParseError(f"the interval at position {pos} has a non-real bound", pos)
        return None
    width = right - left
    if width.is_number and not width.is_extended_positive:
        if strict:
            raise MathParseError(
                f"the interval at position {pos} is empty or reversed: its lower bound must be "
                "below its upper bound",
                pos,
            )
        return None
    return Interval(left, right, left_open, right_open)


def _is_scalar(value: Basic) -> bool:
    return isinstance(value, Expr) and not isinstance(value, ImmutableMatrix)


class _Node(NamedTuple):
    expr: Basic
    kind: str = "expression"  # integer, decimal, fraction, mixed, percent, expression
    literal: tuple[int, int] | None = None
    rows: tuple[Basic, ...] | None = None  # items of a [...] list (matrix rows)
    negated: bool = False


def _sub(expr: Basic, mapping: dict[Basic, Basic]) -> Basic:
    """``xreplace`` that keeps relations unevaluated (``Eq(2, 2)`` must not become ``True``)."""
    if isinstance(expr, Relational):
        return type(expr)(_sub(expr.lhs, mapping), _sub(expr.rhs, mapping), evaluate=False)
    if isinstance(expr, (And, Or)):
        return type(expr)(*(_sub(a, mapping) for a in expr.args))
    return expr.xreplace(mapping)


# ---------------------------------------------------------------------------------------------
# The parser


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.abs_depth = 0
        self.decimal = any(t.decimal for t in tokens)
        self.percent = False
        self.degrees = False
        self.units: list[str] = []
        self.conditions: list[tuple[str, Expr]] = []
        self.plus_minus: list[Dummy] = []
        self.approx = _Approximator()
        self.in_function = 0  # inside a function's argument, where degrees become radians

    # -- token helpers
    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def peek(self, k: int = 1) -> _Token:
        return self.tokens[min(self.i + k, len(self.tokens) - 1)]

    def next(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def at(self, kind: str, *texts: str) -> bool:
        t = self.tok
        return t.kind == kind and (not texts or t.text in texts)

    def expect(self, kind: str, text: str, what: str) -> _Token:
        if not self.at(kind, text):
            raise MathParseError(
                f"expected {what} at position {self.tok.pos}, got {_show(self.tok)}", self.tok.pos
            )
        return self.next()

    def fail(self, expected: str) -> MathParseError:
        return MathParseError(
            f"expected {expected} at position {self.tok.pos}, got {_show(self.tok)}", self.tok.pos
        )

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise MathSizeError(
                f"the answer is nested more than {MAX_DEPTH} levels deep at position "
                f"{self.tok.pos}",
                self.tok.pos,
            )

    # -- entry point
    def parse(self) -> ParsedMath:
        items, separators = self.parse_list(top=True)
        if not self.at("eof"):
            if self.at("op", *_CLOSERS) or self.at("end"):
                raise MathParseError(
                    f"unbalanced {_show(self.tok)} at position {self.tok.pos}", self.tok.pos
                )
            raise self.fail("an operator or the end of the answer")
        exprs = [self.expand_plus_minus(n.expr) for n in items]
        if len(items) == 1:
            expr, node = exprs[0], items[0]
            kind, literal = node.kind, node.literal
        else:
            expr, kind, literal = self.combine_items(exprs, separators), "expression", None
        if self.plus_minus:
            kind, literal = "expression", None
        return ParsedMath(
            expr=expr,
            text=self.text,
            kind=kind,
            literal=literal,
            decimal=self.decimal,
            percent=self.percent,
            units=tuple(self.units),
            degrees=self.degrees,
            conditions=tuple(self.expand_conditions()),
        )

    def expand_plus_minus(self, expr: Basic) -> Basic:
        used = [d for d in self.plus_minus if expr.has(d)]
        if not used:
            return expr
        if len(used) > 3:
            raise MathSizeError("more than three ± signs in one answer", None)
        variants = []
        for signs in itertools.product((1, -1), repeat=len(used)):
            variants.append(_sub(expr, dict(zip(used, map(Integer, signs), strict=True))))
        if all(isinstance(v, (Relational, And, Or)) for v in variants):
            return Or(*variants)
        return FiniteSet(*variants)

    def expand_conditions(self) -> list[tuple[str, Expr]]:
        out: list[tuple[str, Expr]] = []
        for kind, d in self.conditions:
            used = [p for p in self.plus_minus if d.has(p)]
            for signs in itertools.product((1, -1), repeat=len(used)):
                out.append((kind, d.xreplace(dict(zip(used, map(Integer, signs), strict=True)))))
        return out

    @staticmethod
    def combine_items(exprs: list[Basic], separators: list[str]) -> Basic:
        if all(isinstance(e, (Relational, And, Or)) for e in exprs):
            sides = {
                e.lhs if isinstance(e.lhs, Symbol) else e.rhs
                for e in exprs
                if isinstance(e, Eq) and (isinstance(e.lhs, Symbol) or isinstance(e.rhs, Symbol))
            }
            all_eq = all(isinstance(e, Eq) for e in exprs)
            if (all_eq and len(sides) == 1) or "or" in separators:
                return Or(*exprs)
            return And(*exprs)
        if any(isinstance(e, (Relational, And, Or)) for e in exprs):
            raise MathParseError("a list mixes equations or inequalities with values", None)
        return FiniteSet(*exprs)

    # -- lists and relations
    def parse_list(self, top: bool = False) -> tuple[list[_Node], list[str]]:
        items = [self.parse_item()]
        separators: list[str] = []
        while self.at("op", ",") or (self.at("sep") and (top or self.tok.text == ",")):
            separators.append(self.next().text)
            if top and self.at("sep"):  # "1, and 2"
                separators.append(self.next().text)
            items.append(self.parse_item())
        return items, separators

    def parse_item(self) -> _Node:
        first = self.parse_setexpr()
        if not (self.at("op", *_RELATIONS) or self.at("op", "in")):
            return first
        operands = [first.expr]
        ops = []
        while self.at("op", *_RELATIONS) or self.at("op", "in"):
            ops.append(self.next())
            operands.append(self.parse_setexpr().expr)
        relations = []
        for op, left, right in zip(ops, operands, operands[1:], strict=False):
            if op.text == "in":
                if not isinstance(right, Set) or not _is_scalar(left):
                    raise MathParseError(
                        f"'∈' at position {op.pos} needs a value on the left and a set on the "
                        "right",
                        op.pos,
                    )
                relations.append(Contains(left, right, evaluate=False))
                continue
            if op.text != "=" and not (_is_scalar(left) and _is_scalar(right)):
                raise MathParseError(
                    f"{op.text!r} at position {op.pos} compares values, not sets or tuples", op.pos
                )
            relations.append(_RELATIONS[op.text](left, right, evaluate=False))
        return _Node(relations[0] if len(relations) == 1 else And(*relations))

    def parse_setexpr(self) -> _Node:
        left = self.parse_sum()
        while self.at("op", "cup", "cap", "setminus"):
            op = self.next()
            right = self.parse_sum()
            if not (isinstance(left.expr, Set) and isinstance(right.expr, Set)):
                left, right = self.tuple_as_interval(left), self.tuple_as_interval(right)
            if not (isinstance(left.expr, Set) and isinstance(right.expr, Set)):
                raise MathParseError(
                    f"{op.text!r} at position {op.pos} needs sets on both sides", op.pos
                )
            combine = {"cup": sympy.Union, "cap": sympy.Intersection, "setminus": sympy.Complement}
            left = _Node(combine[op.text](left.expr, right.expr))
        return left

    @staticmethod
    def tuple_as_interval(node: _Node) -> _Node:
        expr = node.expr
        if isinstance(expr, Tuple) and len(expr) == 2:
            interval = _as_interval(expr[0], expr[1], True, True, 0, strict=False)
            if interval is not None:
                return _Node(interval)
        return node

    # -- arithmetic
    def parse_sum(self) -> _Node:
        left = self.parse_term()
        while self.at("op", "+", "-", "pm", "mp"):
            op = self.next()
            right = self.parse_term()
            self.need_scalars(left, right, op)
            if op.text == "+":
                expr = left.expr + right.expr
            elif op.text == "-":
                expr = left.expr - right.expr
            else:
                sign = self.new_plus_minus()
                expr = (
                    left.expr + sign * right.expr
                    if op.text == "pm"
                    else left.expr - sign * right.expr
                )
            left = _Node(_check_number(expr, op.pos))
        return left

    def need_scalars(self, left: _Node, right: _Node, op: _Token) -> None:
        ok = _is_scalar(left.expr) and _is_scalar(right.expr)
        if (
            not ok
            and op.text in ("+", "-")
            and all(isinstance(n.expr, ImmutableMatrix) for n in (left, right))
        ):
            ok = left.expr.shape == right.expr.shape
        if not ok:
            raise MathParseError(
                f"{op.text!r} at position {op.pos} needs numbers or expressions on both sides",
                op.pos,
            )

    def new_plus_minus(self) -> Dummy:
        sign = Dummy("pm")
        self.plus_minus.append(sign)
        return sign

    def starts_operand(self) -> bool:
        t = self.tok
        if t.kind in ("name", "const", "begin"):
            return True
        if t.kind == "cmd":
            return t.text != "lg"
        if t.kind == "op":
            if t.text == "[":  # 2[[1, 2], [3, 4]]: a matrix literal
                return self.peek().kind == "op" and self.peek().text == "["
            return t.text in ("(", "lfloor", "lceil") or (t.text == "|" and self.abs_depth == 0)
        return False

    def parse_term(self) -> _Node:
        left = self.parse_unary()
        while True:
            t = self.tok
            if t.kind == "op" and t.text in ("*", "/"):
                self.next()
                right = self.parse_unary()
                left = (
                    self.multiply(left, right, t) if t.text == "*" else self.divide(left, right, t)
                )
            elif t.kind == "unit" and self.units_here():
                self.consume_units()
            elif t.kind == "num":
                raise MathParseError(
                    f"two numbers side by side at position {t.pos}; write an operator between "
                    "them (a mixed number is written 2\\frac{1}{2})",
                    t.pos,
                )
            elif self.starts_operand():
                right = self.parse_power()
                if (
                    left.kind == "integer"
                    and right.kind == "fraction"
                    and self.tokens[self.i - 1].text in ("}", *"0123456789")
                ):
                    left = self.mixed(left, right, t)
                else:
                    left = self.multiply(left, right, t)
            else:
                return left

    def units_here(self) -> bool:
        """A unit can stand here: unit words (with powers or '/') up to the end of an item."""
        j = self.i
        while self.tokens[j].kind == "unit" or (
            self.tokens[j].kind == "op"
            and self.tokens[j].text in ("^", "/")
            and self.tokens[j + 1].kind in ("num", "unit")
        ):
            j += 1 if self.tokens[j].kind == "unit" else 2
        end = self.tokens[j]
        return end.kind in ("eof", "sep") or (end.kind == "op" and end.text in (",", *_CLOSERS))

    def consume_units(self) -> None:
        while self.at("unit") or (self.at("op", "^", "/") and self.peek().kind in ("num", "unit")):
            token = self.next()
            if token.kind == "unit":
                if token.text.lower().startswith("deg"):
                    self.degrees = True
                else:
                    self.units.append(token.text)
            else:
                self.next()

    def multiply(self, left: _Node, right: _Node, op: _Token) -> _Node:
        a, b = left.expr, right.expr
        if isinstance(a, ImmutableMatrix) and _is_scalar(b):
            a, b = b, a
        if not (_is_scalar(a) and (_is_scalar(b) or isinstance(b, ImmutableMatrix))):
            raise MathParseError(
                f"cannot multiply here (position {op.pos}): both sides must be numbers or "
                "expressions",
                op.pos,
            )
        return _Node(_check_number(a * b, op.pos))

    def divide(self, left: _Node, right: _Node, op: _Token) -> _Node:
        if not (_is_scalar(left.expr) and _is_scalar(right.expr)):
            raise MathParseError(
                f"'/' at position {op.pos} needs numbers or expressions on both sides", op.pos
            )
        if right.expr == 0:
            raise MathParseError(f"division by zero at position {op.pos}", op.pos)
        self.require("nonzero", right.expr)
        expr = _check_number(left.expr / right.expr, op.pos)
        if left.kind == "integer" and right.kind == "integer" and not right.negated:
            return _Node(expr, "fraction", (int(left.expr), int(right.expr)))
        return _Node(expr)

    def require(self, kind: str, expr: Basic) -> None:
        """Record where the answer is defined (see `ParsedMath.conditions`)."""
        if isinstance(expr, Expr) and expr.free_symbols:
            self.conditions.append((kind, expr))

    def power(self, base: Basic, exponent: Basic, pos: int) -> Basic:
        """``base ** exponent`` through the size gates, recording domain conditions."""
        if isinstance(exponent, Expr):
            if exponent.could_extract_minus_sign():
                self.require("nonzero", base)
            if isinstance(exponent, Rational) and exponent.q % 2 == 0:
                self.require("nonnegative", base)
        return _power(base, exponent, pos, self.approx)

    def mixed(self, whole: _Node, frac: _Node, op: _Token) -> _Node:
        assert frac.literal is not None
        numerator, denominator = frac.literal
        if numerator < 0 or numerator >= denominator:
            return self.multiply(whole, frac, op)
        value = abs(whole.expr) + frac.expr
        return _Node(-value if whole.negated else value, "mixed")

    def parse_unary(self) -> _Node:
        if self.at("op", "-", "+", "pm", "mp"):
            op = self.next()
            self.enter()
            operand = self.parse_unary()
            self.depth -= 1
            if not (_is_scalar(operand.expr) or isinstance(operand.expr, ImmutableMatrix)):
                raise MathParseError(
                    f"{op.text!r} at position {op.pos} needs a value after it", op.pos
                )
            if op.text == "+":
                return operand
            if op.text == "-":
                return operand._replace(
                    expr=-operand.expr,
                    negated=not operand.negated,
                    literal=None
                    if operand.literal is None
                    else (-operand.literal[0], operand.literal[1]),
                )
            return _Node(self.new_plus_minus() * operand.expr)
        return self.parse_power()

    def parse_power(self) -> _Node:
        base = self.parse_postfix()
        if self.at("op", "^"):
            op = self.next()
            exponent = self.parse_exponent()
            return _Node(self.power(base.expr, exponent.expr, op.pos))
        return base

    def parse_exponent(self) -> _Node:
        self.enter()
        if self.at("op", "{"):
            node = self.parse_group()
        elif self.at("op", "-", "+"):
            op = self.next()
            node = self.parse_exponent()
            node = node if op.text == "+" else _Node(-node.expr)
        else:
            node = self.parse_postfix()
            if self.at("op", "^"):
                op = self.next()
                node = _Node(self.power(node.expr, self.parse_exponent().expr, op.pos))
        self.depth -= 1
        if not _is_scalar(node.expr):
            raise self.fail("a number or expression as the exponent")
        return node

    def parse_postfix(self) -> _Node:
        node = self.parse_atom()
        while self.at("op", "!", "%", "deg"):
            op = self.next()
            if not _is_scalar(node.expr):
                raise MathParseError(
                    f"{op.text!r} at position {op.pos} needs a value before it", op.pos
                )
            if op.text == "!":
                node = _Node(self.factorial(node.expr, op.pos))
            elif op.text == "%":
                self.percent = True
                node = _Node(node.expr * Rational(1, 100), "percent")
            else:
                self.degrees = True
                if self.in_function:  # sin 30° is sin(pi/6); a bare 30° reads as 30
                    node = _Node(node.expr * pi / 180)
        return node

    @staticmethod
    def factorial(value: Expr, pos: int) -> Expr:
        if isinstance(value, Integer):
            if value < 0:
                raise MathParseError(f"factorial of a negative integer at position {pos}", pos)
            if value > MAX_FACTORIAL:
                raise MathSizeError(
                    f"{value}! at position {pos} is too large; factorials above "
                    f"{MAX_FACTORIAL}! are refused",
                    pos,
                )
        elif value.is_number:
            raise MathParseError(f"factorial of a non-integer at position {pos}", pos)
        return sympy.factorial(value)

    # -- atoms
    def parse_atom(self) -> _Node:
        t = self.tok
        if t.kind == "num":
            self.next()
            return _Node(t.value, "decimal" if t.decimal else "integer")
        if t.kind == "const":
            self.next()
            return _Node(t.value)
        if t.kind == "name":
            return self.parse_name()
        if t.kind == "cmd":
            return self.parse_command()
        if t.kind == "begin":
            return self.parse_matrix()
        if t.kind == "op":
            if t.text in _OPENERS:
                return self.parse_brackets()
            if t.text == "|":
                return self.parse_abs()
            if t.text in ("lfloor", "lceil"):
                self.next()
                self.enter()
                inner = self.parse_sum()
                self.depth -= 1
                closer = "rfloor" if t.text == "lfloor" else "rceil"
                self.expect("op", closer, f"\\{closer}")
                fn = sympy.floor if t.text == "lfloor" else sympy.ceiling
                return _Node(fn(inner.expr))
        if t.kind == "unit":
            raise MathParseError(
                f"unexpected unit {t.text!r} at position {t.pos}; units may only follow a value "
                "at the end of an answer",
                t.pos,
            )
        raise self.fail("a number, a variable or '('")

    def parse_name(self) -> _Node:
        t = self.next()
        word = t.text
        if t.value == "greek":
            return _Node(self.subscripted(word))
        lowered = word.lower()
        if lowered in _FUNCTIONS and (len(word) > 1):
            return self.apply_function(lowered, t)
        if word == "Matrix" and self.at("op", "("):
            node = self.parse_brackets()
            if not isinstance(node.expr, ImmutableMatrix):
                raise MathParseError(f"Matrix(...) at position {t.pos} needs [[...], ...]", t.pos)
            return node
        if word in _CONSTANTS and not self.at("op", "_"):
            return _Node(_CONSTANTS[word])
        if len(word) > 1 and lowered in _CONSTANTS:
            return _Node(_CONSTANTS[lowered])
        if len(word) == 1:
            return _Node(self.subscripted(word))
        if len(word) <= 3:
            factors = [_CONSTANTS.get(c, Symbol(c)) for c in word[:-1]]
            last = (
                self.subscripted(word[-1])
                if self.at("op", "_")
                else _CONSTANTS.get(word[-1], Symbol(word[-1]))
            )
            return _Node(sympy.Mul(*factors, last))
        raise MathParseError(
            f"unknown word {word!r} at position {t.pos}; write the answer as math (words are "
            "only read inside \\text{} as units)",
            t.pos,
        )

    def subscripted(self, name: str) -> Symbol:
        if not self.at("op", "_"):
            return Symbol(name)
        self.next()
        if self.at("op", "{"):
            open_pos = self.next().pos
            parts: list[str] = []
            while not self.at("op", "}"):
                t = self.next()
                if t.kind not in ("num", "name") or len(parts) > 8:
                    raise MathParseError(
                        f"a subscript holds letters and digits (position {t.pos})", t.pos
                    )
                parts.append(t.text)
            self.next()
            if not parts:
                raise MathParseError(f"empty subscript at position {open_pos}", open_pos)
            return Symbol(f"{name}_{''.join(parts)}")
        t = self.next()
        if t.kind not in ("num", "name"):
            raise MathParseError(f"a subscript holds letters and digits (position {t.pos})", t.pos)
        return Symbol(f"{name}_{t.text}")

    def parse_command(self) -> _Node:
        t = self.next()
        if t.text == "frac":
            numerator, denominator = self.latex_argument(), self.latex_argument()
            if not (_is_scalar(numerator.expr) and _is_scalar(denominator.expr)):
                raise MathParseError(f"\\frac at position {t.pos} needs values", t.pos)
            return self.divide(numerator, denominator, t)
        if t.text == "binom":
            n, k = self.latex_argument().expr, self.latex_argument().expr
            for v in (n, k):
                if isinstance(v, Integer) and abs(v) > MAX_FACTORIAL:
                    raise MathSizeError(
                        f"\\binom at position {t.pos}: arguments above {MAX_FACTORIAL} are refused",
                        t.pos,
                    )
            return _Node(sympy.binomial(n, k))
        if t.text == "sqrt":
            index: Basic = Integer(2)
            if self.at("op", "["):
                self.next()
                index = self.parse_sum().expr
                self.expect("op", "]", "']' after the index of \\sqrt")
            argument = self.parse_brackets() if self.at("op", "(") else self.latex_argument()
            if not _is_scalar(argument.expr) or not _is_scalar(index):
                raise MathParseError(f"\\sqrt at position {t.pos} needs a value", t.pos)
            if index == 0:
                raise MathParseError(f"a 0th root at position {t.pos} is undefined", t.pos)
            return _Node(self.power(argument.expr, 1 / index, t.pos))
        return self.apply_function(t.text, t)

    def latex_argument(self) -> _Node:
        """A ``{...}`` group, or a single token (``\\frac12``, ``\\frac{1}x``, ``\\sqrt\\pi``)."""
        if self.at("op", "{"):
            return self.parse_group()
        t = self.tok
        if t.kind == "num":
            self.next()
            return _Node(t.value, "decimal" if t.decimal else "integer")
        if t.kind == "name" and len(t.text) == 1:
            self.next()
            return _Node(_CONSTANTS.get(t.text, Symbol(t.text)))
        if t.kind in ("const", "name"):
            return self.parse_atom()
        raise self.fail("'{' or a single digit or letter")

    def parse_group(self) -> _Node:
        """``{ expression }`` (LaTeX grouping)."""
        open_token = self.next()
        self.enter()
        node = self.parse_item()
        self.depth -= 1
        if not self.at("op", "}"):
            raise MathParseError(
                f"expected '}}' to close the '{{' at position {open_token.pos}, got "
                f"{_show(self.tok)}",
                self.tok.pos,
            )
        self.next()
        return node

    def apply_function(self, name: str, t: _Token) -> _Node:
        power: Basic | None = None
        base: Basic | None = None
        if name in ("log", "lg") and self.at("op", "_"):
            self.next()
            base = self.latex_argument().expr
        if self.at("op", "^"):
            self.next()
            power = self.parse_exponent().expr
        if name in _INVERSE and power == -1:
            name, power = _INVERSE[name], None
        self.in_function += 1
        if self.at("op", "("):
            argument = self.parse_brackets()
        elif self.at("op", "{"):
            argument = self.parse_group()
        elif self.starts_operand() or self.at("num") or self.at("op", "-"):
            argument = self.function_argument()
        else:
            raise self.fail(f"an argument for {name}")
        self.in_function -= 1
        arg = argument.expr
        if not _is_scalar(arg):
            raise MathParseError(f"{name} at position {t.pos} needs a single value", t.pos)
        if name == "lg":
            base = base if base is not None else Integer(10)
        if base is not None:
            if not _is_scalar(base) or base in (0, 1):
                raise MathParseError(f"invalid logarithm base at position {t.pos}", t.pos)
            self.require("positive", arg)
            self.require("nonzero", sympy.log(base))
            value = sympy.log(arg, base)
        elif name in _ROOTS:
            value = self.power(arg, _ROOTS[name], t.pos)
        elif name == "exp":
            value = self.power(E, arg, t.pos)
        else:
            function = _FUNCTIONS[name]
            if function is sympy.log:
                self.require("positive", arg)
            if name in _POLES:
                self.require("nonzero", _POLES[name](arg))
            exact = isinstance(arg, Rational) and name in ("ln", "log", "abs", "floor", "ceil")
            estimate = self.approx.apply(_CMATH.get(function), self.approx(arg))
            if not arg.free_symbols and not exact and estimate is None:
                raise MathSizeError(
                    f"{name} at position {t.pos} of this value is too large, too small or "
                    "undefined",
                    t.pos,
                )
            value = function(arg)
        value = _check_number(value, t.pos)
        if power is not None:
            value = self.power(value, power, t.pos)
        return _Node(value)

    def function_argument(self) -> _Node:
        """``\\sin 2x`` is ``sin(2x)``: a signed run of juxtaposed factors without functions."""
        sign = 1
        while self.at("op", "-", "+"):
            sign = -sign if self.next().text == "-" else sign
        node = self.parse_power()
        expr = node.expr
        while self.starts_operand() and not (self.at("cmd") and self.tok.text in _FUNCTIONS):
            if self.at("name") and self.tok.text.lower() in _FUNCTIONS:
                break
            factor = self.parse_power()
            expr = self.multiply(_Node(expr), factor, self.tok).expr
        return _Node(sign * expr)

    def parse_abs(self) -> _Node:
        open_token = self.next()
        self.enter()
        self.abs_depth += 1
        inner = self.parse_sum()
        self.abs_depth -= 1
        self.depth -= 1
        if not self.at("op", "|"):
            raise MathParseError(
                f"expected '|' to close the '|' at position {open_token.pos}, got "
                f"{_show(self.tok)}",
                self.tok.pos,
            )
        self.next()
        if not _is_scalar(inner.expr):
            raise MathParseError(
                f"|...| at position {open_token.pos} needs a value", open_token.pos
            )
        return _Node(Abs(inner.expr))

    def parse_brackets(self) -> _Node:
        open_token = self.next()
        opener = open_token.text
        self.enter()
        saved_abs, self.abs_depth = self.abs_depth, 0
        if opener in ("{", "\\{") and self.at("op", _OPENERS[opener]):
            items: list[_Node] = []
        else:
            items, _ = self.parse_list()
        self.abs_depth = saved_abs
        self.depth -= 1
        closer = self.tok
        allowed = {
            "(": (")", "]"),
            "[": ("]", ")"),
            "{": ("}",),
            "\\{": ("\\}",),
            "langle": ("rangle",),
        }
        if not (closer.kind == "op" and closer.text in allowed[opener]):
            expected = " or ".join(repr(c) for c in allowed[opener])
            raise MathParseError(
                f"expected {expected} to close the {opener!r} at position {open_token.pos}, got "
                f"{_show(closer)}",
                closer.pos,
            )
        self.next()
        exprs = [n.expr for n in items]
        pos = open_token.pos
        if opener == "(" and closer.text == ")":
            if len(items) == 1:
                return items[0]._replace(kind="expression", literal=None)
            if len(items) == 2 and any(e in (oo, -oo) for e in exprs):
                return _Node(_as_interval(exprs[0], exprs[1], True, True, pos, strict=True))
            return _Node(Tuple(*exprs))
        if opener == "[" and closer.text == "]":
            rows = [n.rows for n in items]
            if len(items) >= 1 and all(r is not None for r in rows):
                if len({len(r) for r in rows if r is not None}) != 1:
                    raise MathParseError(
                        f"the rows of the matrix at position {pos} differ in length", pos
                    )
                return _Node(ImmutableMatrix([list(r) for r in rows if r is not None]))
            if len(items) == 2:
                interval = _as_interval(exprs[0], exprs[1], False, False, pos, strict=False)
                if interval is not None:
                    return _Node(interval, rows=tuple(exprs))
            return _Node(Tuple(*exprs), rows=tuple(exprs))
        if opener in ("(", "["):  # mixed brackets: a half-open interval
            if len(items) != 2:
                raise MathParseError(
                    f"the interval at position {pos} needs exactly two bounds", pos
                )
            return _Node(
                _as_interval(exprs[0], exprs[1], opener == "(", closer.text == ")", pos, True)
            )
        if opener == "langle":
            return _Node(Tuple(*exprs))
        if opener == "{" and len(items) == 1:
            return items[0]
        return _Node(FiniteSet(*exprs) if exprs else S.EmptySet)

    def parse_matrix(self) -> _Node:
        begin = self.next()
        self.enter()
        rows: list[list[Basic]] = [[]]
        while not self.at("end"):
            if self.at("eof"):
                raise MathParseError(
                    f"\\begin{{{begin.text}}} at position {begin.pos} is never closed", begin.pos
                )
            rows[-1].append(self.parse_item().expr)
            if self.at("op", "&"):
                self.next()
            elif self.at("op", "\\\\"):
                self.next()
                if not self.at("end"):
                    rows.append([])
            elif not self.at("end"):
                raise self.fail("'&', '\\\\' or \\end")
        end = self.next()
        self.depth -= 1
        if end.text != begin.text:
            raise MathParseError(
                f"\\end{{{end.text}}} at position {end.pos} closes \\begin{{{begin.text}}}", end.pos
            )
        rows = [r for r in rows if r]
        if not rows or len({len(r) for r in rows}) != 1:
            raise MathParseError(
                f"the matrix at position {begin.pos} has rows of different lengths", begin.pos
            )
        if not all(_is_scalar(c) for r in rows for c in r):
            raise MathParseError(f"the matrix at position {begin.pos} must hold values", begin.pos)
        return _Node(ImmutableMatrix(rows))


def parse(text: str) -> ParsedMath:
    """Parse ``text`` into a `ParsedMath` (raises `MathParseError` or `MathSizeError`).

    >>> p = parse("12%")
    >>> p.expr, p.percent, p.kind
    (3/25, True, 'percent')
    >>> parse("-\\\\frac{6}{8}").literal
    (-6, 8)
    """
    if not isinstance(text, str):
        raise TypeError(f"parse expects a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise MathSizeError(
            f"the answer is {len(text):,} characters long; the limit is {MAX_LENGTH:,}", None
        )
    if not text.strip():
        raise MathParseError("the answer is empty", 0)
    try:
        tokens = tokenize(text)
        if tokens[0].kind == "eof":
            raise MathParseError("the answer holds no math (only spacing or delimiters)", 0)
        return _Parser(text, tokens).parse()
    except RecursionError:
        raise MathSizeError("the answer is nested too deeply to read", None) from None
    except MathSizeError:
        raise
    except MathParseError as err:
        words = _prose_words(text)
        if len(words) >= 2:
            shown = ", ".join(repr(w) for w in words[:3])
            raise MathParseError(
                f"the answer reads as prose ({shown}...), not math; write only the answer ({err})",
                err.position,
            ) from None
        raise
    except (TypeError, AttributeError, sympy.SympifyError, ValueError) as err:
        raise MathParseError(f"cannot build this answer: {err}", None) from None


_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")


def _prose_words(text: str) -> list[str]:
    """Words of three letters or more that are no name, unit or LaTeX command (``\\frac``)."""
    known = {*_FUNCTIONS, *_CONSTANTS, *_UNIT_WORDS, *_SEPARATOR_WORDS, "percent", "matrix"}
    return [w for w in _WORD.findall(text[:2_000]) if w.lower() not in known][:10]


def parse_math(text: str) -> Basic:
    """Turn untrusted ``text`` into a SymPy object, without evaluating any code.

    See the module docstring for the grammar and the limits.

    >>> parse_math("x^2 + 2x + 1")
    x**2 + 2*x + 1
    >>> parse_math("\\\\left(-\\\\infty, 3\\\\right]")
    Interval(-oo, 3)
    >>> parse_math("1,000,000 + 3.5e-3")
    2000000007/2000
    """
    return parse(text).expr
