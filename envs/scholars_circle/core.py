"""ScholarsCircle's building blocks: values and kinds, probes, fingerprints and the proposal format.

Everything here is light (standard library and NumPy) and deterministic across processes: no
``hash()``, no iteration over sets of strings, so two processes with different ``PYTHONHASHSEED``
compute the same fingerprints and show the same text.

- *Kinds.* A program's argument ``x`` is an ``int``, a ``str``, a ``list[int]``, a ``list[str]`` or
  a tuple of 2 or 3 of those (`kind_of`). Each kind has 24 fixed probe inputs (`probes`).
- *Values as text.* `show_value` writes plain data as a Python literal that reads back with
  ``ast.literal_eval`` (sets sorted, so the text never depends on the hash seed); `canon` is a
  canonical string for hashing and equality (sets and dicts order-free).
- *Fingerprints.* `code_fingerprint` normalises a program (AST, docstrings dropped, every name the
  program binds renamed ``v0, v1, ...`` in order of first appearance, constants kept) and hashes
  it; the *structure* hash also replaces constants by their type. `minhash` sketches a set of
  tokens for Jaccard estimates.
- *Proposals.* `parse_proposal` reads the explorer's text format and `render_proposal` writes it.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import itertools
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from langgames.core import ParseError
from langgames.envs._parsing import FENCE, MAX_LITERAL, parse_literal
from langgames.errors import did_you_mean
from langgames.verifiers.verdict import Verdict

__all__ = [
    "CODE_FAMILIES",
    "FAMILIES",
    "KINDS",
    "N_PROBES",
    "Proposal",
    "canon",
    "code_fingerprint",
    "kind_of",
    "minhash",
    "parse_literal",
    "parse_proposal",
    "probes",
    "reject",
    "render_proposal",
    "show_value",
    "stable_hash",
]

FAMILIES = ("deduction", "abduction", "induction", "math")
CODE_FAMILIES = ("deduction", "abduction", "induction")

MAX_PROPOSAL_CHARS = 12_000
MAX_CODE_CHARS = 4_000
MAX_LITERAL_CHARS = MAX_LITERAL
MAX_QUESTION_CHARS = 1_500
MAX_MATH_ANSWER_CHARS = 200
MAX_STR = 60
MAX_LIST = 20
MAX_INT = 10**9
_MAX_SHOWN_BITS = 12_000  # below Python's 4,300-digit limit on int-to-text conversion

_BASE_KINDS = ("int", "str", "list[int]", "list[str]")
KINDS: tuple[str, ...] = _BASE_KINDS + tuple(
    f"tuple[{','.join(parts)}]"
    for n in (2, 3)
    for parts in itertools.product(_BASE_KINDS, repeat=n)
)

# ---------------------------------------------------------------------------------------------
# Stable hashing.


def stable_hash(*parts: str) -> int:
    """A 64-bit hash of ``parts`` that is the same in every process (never Python's ``hash``)."""
    h = hashlib.blake2b(digest_size=8)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return int.from_bytes(h.digest(), "big")


def _hex(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Values.


def canon(value: Any) -> str:
    """A canonical text of plain data: equal values (sets and dicts in any order) give equal text,
    and different types never collide (``1``, ``1.0``, ``True`` and ``"1"`` all differ)."""
    kind = type(value)
    if value is None:
        return "n"
    if kind is bool:
        return "b1" if value else "b0"
    if kind is int:
        return f"i{value:x}"  # hexadecimal: no digit limit for huge ints
    if kind is float:
        return f"f{value!r}"
    if kind is str or kind is bytes:
        return f"{kind.__name__[0]}{value!r}"
    if kind is list:
        return "[" + ",".join(canon(v) for v in value) + "]"
    if kind is tuple:
        return "(" + ",".join(canon(v) for v in value) + ")"
    if kind is set or kind is frozenset:
        return kind.__name__[0] + "{" + ",".join(sorted(canon(v) for v in value)) + "}"
    if kind is dict:
        items = sorted(canon(k) + ":" + canon(v) for k, v in value.items())
        return "d{" + ",".join(items) + "}"
    return f"?{kind.__name__}"


def show_value(value: Any) -> str:
    """``value`` as a Python literal, the same text in every process (set elements sorted).

    >>> show_value({"b", "a"}), show_value((1,)), show_value(set()), show_value([1.5, None])
    ("{'a', 'b'}", '(1,)', 'set()', '[1.5, None]')
    """
    kind = type(value)
    if kind is list:
        return "[" + ", ".join(show_value(v) for v in value) + "]"
    if kind is tuple:
        inner = ", ".join(show_value(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if kind is set:
        if not value:
            return "set()"
        return "{" + ", ".join(show_value(v) for v in sorted(value, key=canon)) + "}"
    if kind is frozenset:
        return f"frozenset({show_value(set(value))})"
    if kind is dict:
        return "{" + ", ".join(f"{show_value(k)}: {show_value(v)}" for k, v in value.items()) + "}"
    if kind is int and value.bit_length() > _MAX_SHOWN_BITS:
        return f"<an int of {value.bit_length()} bits>"  # not a literal: refused where shown
    return repr(value)


def is_literal(value: Any) -> bool:
    """True when `show_value` of ``value`` reads back (``ast.literal_eval``) as an equal value."""
    try:
        back = ast.literal_eval(show_value(value))
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False
    return canon(back) == canon(value)


def reject(status: str, stage: str, reason: str, fix: str, **details: Any) -> Verdict:
    """A rejected proposal: ``reason`` says what failed, ``fix`` how to repair it."""
    make = {
        "incorrect": Verdict.make_incorrect,
        "forbidden": Verdict.make_forbidden,
        "timeout": Verdict.make_timeout,
        "resource_limit": Verdict.make_resource_limit,
        "unparseable": Verdict.make_unparseable,
        "verifier_error": Verdict.make_verifier_error,
    }[status]
    return make(f"rejected at {stage}: {reason}", stage=stage, fix=fix, **details)


def kind_of(value: Any) -> str | None:
    """The kind of an argument (one of `KINDS`), or None if ``value`` is not a supported input.

    >>> kind_of(3), kind_of(["a"]), kind_of(([1], 2)), kind_of(True), kind_of([1, "a"])
    ('int', 'list[str]', 'tuple[list[int],int]', None, None)
    """
    kind = type(value)
    if kind is int:
        return "int" if abs(value) <= MAX_INT else None
    if kind is str:
        return "str" if len(value) <= MAX_STR else None
    if kind is list:
        if len(value) > MAX_LIST:
            return None
        if all(type(v) is int and abs(v) <= MAX_INT for v in value):
            return "list[int]"  # the empty list counts as a list of ints (it also fits list[str])
        if all(type(v) is str and len(v) <= MAX_STR for v in value):
            return "list[str]"
        return None
    if kind is tuple and len(value) in (2, 3):
        parts = [kind_of(v) for v in value]
        if all(p in _BASE_KINDS for p in parts):
            return f"tuple[{','.join(p for p in parts if p)}]"
    return None


def fits(value: Any, kind: str) -> bool:
    """True when ``value`` is a valid argument of ``kind`` (``[]`` fits both list kinds)."""
    own = kind_of(value)
    if own == kind:
        return True
    if own is None:
        return False
    if kind.startswith("tuple[") and own.startswith("tuple["):
        want = kind[6:-1].split(",")
        return len(want) == len(value) and all(fits(v, k) for v, k in zip(value, want, strict=True))
    return value == [] and kind == "list[str]"


def kind_parts(kind: str) -> list[str]:
    return kind[6:-1].split(",") if kind.startswith("tuple[") else [kind]


# ---------------------------------------------------------------------------------------------
# Probes: 24 fixed inputs per kind, small enough to run fast, varied enough to tell programs apart.

N_PROBES = 24
_PROBE_POOLS: dict[str, list[Any]] = {
    "int": [0, 1, -1, 2, 3, 5, 7, 10, 12, 15, -4, 100, 37, 64, -13, 9, 21, 8, 6, 4, 1000, 99,
            -100, 13],
    "str": ["", "a", "ab", "abc", "hello", "aab", "racecar", "Hello World", "xyz", "banana",
            "a b c", "12345", "zzz", "Mississippi", "AbC", "abba", "the quick brown fox", "q",
            "aaaa", "python", "OpenAI", "level", "data", "x1y2"],
    "list[int]": [[], [0], [1], [-1], [1, 2, 3], [3, 2, 1], [5, 5, 5], [1, -2, 3, -4],
                  [10, 20, 30, 40], [2, 7, 1, 8, 2, 8], [0, 0, 1], [9], [4, 1, 3], [-5, -1, -3],
                  [1, 2, 2, 3, 3, 3], [100, 1], [7, 3, 9, 1, 5], [2, 4, 6, 8, 10, 12], [6, 1],
                  [1, 1], [3, 1, 4, 1, 5, 9, 2, 6], [-2, 2], [8, 0, 8], [11, 13, 17]],
    "list[str]": [[], ["a"], ["a", "b"], ["b", "a"], ["hello", "world"], ["x", "x", "y"],
                  ["abc", "de", "f"], ["apple", "banana", "cherry"], ["", "a"], ["zz", "a", "m"],
                  ["one", "two", "three", "four"], ["Aa", "aA"], ["cat", "dog", "cat"], ["q"],
                  ["ab", "ba", "ab"], ["sun", "moon", "star", "sky", "sea"], ["1", "22", "333"],
                  ["hi", "HI"], ["red", "green"], ["a b", "c"], ["level", "kayak", "noon"],
                  ["x"], ["b", "c", "a"], ["mississippi"]],
}  # fmt: skip


def probes(kind: str) -> list[Any]:
    """The 24 probe inputs of ``kind`` (fixed: behaviour signatures compare across problems)."""
    parts = kind_parts(kind)
    if len(parts) == 1:
        return [_copy(v) for v in _PROBE_POOLS[kind]]
    out = []
    for i in range(N_PROBES):
        out.append(
            tuple(
                _copy(_PROBE_POOLS[p][(i * (2 * j + 1) + 5 * j) % N_PROBES])
                for j, p in enumerate(parts)
            )
        )
    return out


def _copy(value: Any) -> Any:
    return list(value) if type(value) is list else value


# ---------------------------------------------------------------------------------------------
# Sketches.

_MERSENNE = (1 << 31) - 1
_N_PERM = 64
_perm_rng = np.random.default_rng(20240531)
_PERM_A = _perm_rng.integers(1, _MERSENNE, size=_N_PERM, dtype=np.uint64)
_PERM_B = _perm_rng.integers(0, _MERSENNE, size=_N_PERM, dtype=np.uint64)
del _perm_rng


def minhash(items: Iterable[int]) -> np.ndarray:
    """A 64-value MinHash of a set of 64-bit item hashes (``uint32`` array; all ``2**31-1``
    for the empty set). The fraction of equal positions of two sketches estimates Jaccard."""
    values = np.fromiter((i % _MERSENNE for i in items), dtype=np.uint64)
    if values.size == 0:
        return np.full(_N_PERM, _MERSENNE, dtype=np.uint32)
    table = (_PERM_A[:, None] * values[None, :] + _PERM_B[:, None]) % _MERSENNE
    return table.min(axis=1).astype(np.uint32)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two `minhash` sketches."""
    return float(np.count_nonzero(a == b)) / len(a)


_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\d+|\S")


def shingles(tokens: Sequence[str], n: int = 3) -> list[int]:
    """Hashes of the ``n``-token windows of ``tokens`` (the tokens themselves if fewer)."""
    if len(tokens) <= n:
        return [stable_hash(" ".join(tokens))] if tokens else []
    return sorted({stable_hash(" ".join(tokens[i : i + n])) for i in range(len(tokens) - n + 1)})


# ---------------------------------------------------------------------------------------------
# Code normalisation.


@dataclass(frozen=True)
class CodeFingerprint:
    """What novelty and coverage know about a program.

    Attributes:
        code_hash: hash of the normalised AST (names canonical, constants kept).
        struct_hash: the same with every constant replaced by its type (the program's template).
        struct_sketch: `minhash` of 3-token shingles of the template (fuzzy similarity).
        n_nodes: number of AST nodes (the program's size).
    """

    code_hash: str
    struct_hash: str
    struct_sketch: np.ndarray = field(compare=False)
    n_nodes: int


class _Renamer(ast.NodeTransformer):
    """Renames every name the program binds, in order of first appearance; drops docstrings."""

    def __init__(self, bound: set[str], abstract_constants: bool) -> None:
        self.bound = bound
        self.names: dict[str, str] = {}
        self.abstract = abstract_constants

    def _name(self, name: str) -> str:
        if name not in self.bound:
            return name
        if name not in self.names:
            self.names[name] = f"v{len(self.names)}"
        return self.names[name]

    def generic_visit(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
        return super().generic_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._name(node.name)
        return self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = self._name(node.name)
        return self.generic_visit(node)

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._name(node.arg)
        node.annotation = None
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._name(node.id)
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        if node.name:
            node.name = self._name(node.name)
        return self.generic_visit(node)

    def visit_Global(self, node: ast.Global) -> ast.AST:
        node.names = [self._name(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global  # type: ignore[assignment]

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if self.abstract:
            return ast.Constant(value=f"<{type(node.value).__name__}>")
        return node


def _bound_names(tree: ast.AST) -> set[str]:
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            bound.update(node.names)
    return bound


#: Deepest syntax tree a program may have: the checks that walk it recurse (a 2,000-term sum
#: ``x+x+...+x`` is 2,000 levels deep and would exhaust Python's recursion limit on the host).
MAX_DEPTH = 100


def parse_code(code: str) -> ast.Module:
    """``ast.parse`` with syntax warnings silenced (a `SyntaxError` propagates), refusing trees
    deeper than `MAX_DEPTH` with a `ValueError`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        tree = ast.parse(code, "<program>", "exec")
    stack: list[tuple[ast.AST, int]] = [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(
                f"the program is nested more than {MAX_DEPTH} levels deep; split long "
                "expressions (e.g. a loop instead of a 1,000-term sum)"
            )
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return tree


@functools.lru_cache(maxsize=2048)
def code_fingerprint(code: str) -> CodeFingerprint:
    """Fingerprint a program that parses (see `CodeFingerprint`).

    >>> a = code_fingerprint("def f(x):\\n    total = x * 2\\n    return total")
    >>> b = code_fingerprint("def f(n):\\n    '''Double.'''\\n    y = n * 2\\n    return y")
    >>> c = code_fingerprint("def f(x):\\n    total = x * 3\\n    return total")
    >>> a.code_hash == b.code_hash, a.code_hash == c.code_hash, a.struct_hash == c.struct_hash
    (True, False, True)
    """
    tree = parse_code(code)
    n_nodes = sum(1 for _ in ast.walk(tree))
    bound = _bound_names(tree)
    exact = _Renamer(bound, abstract_constants=False).visit(parse_code(code))
    struct = _Renamer(bound, abstract_constants=True).visit(tree)
    dump_exact = ast.dump(exact, annotate_fields=False, include_attributes=False)
    dump_struct = ast.dump(struct, annotate_fields=False, include_attributes=False)
    tokens = _TOKEN.findall(ast.unparse(struct))
    return CodeFingerprint(
        code_hash=_hex("code", dump_exact),
        struct_hash=_hex("struct", dump_struct),
        struct_sketch=minhash(shingles(tokens)),
        n_nodes=n_nodes,
    )


_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_WORDS = re.compile(r"[a-z]+|\d+(?:\.\d+)?|[^\sa-z\d]")
_PUNCTUATION = frozenset(".,;:!?'\"`")


@functools.lru_cache(maxsize=2048)
def question_fingerprint(question: str) -> CodeFingerprint:
    """The math analogue of `code_fingerprint`: the question's words, numbers and math symbols,
    lower-cased, without punctuation (``code_hash``); with every number replaced by ``#`` (the
    template)."""
    tokens = [t for t in _WORDS.findall(question.lower()) if t not in _PUNCTUATION]
    template = ["#" if _NUMBER.fullmatch(t) else t for t in tokens]
    return CodeFingerprint(
        code_hash=_hex("question", " ".join(tokens)),
        struct_hash=_hex("qtemplate", " ".join(template)),
        struct_sketch=minhash(shingles(template)),
        n_nodes=len(tokens),
    )


def numbers_in(text: str) -> list[str]:
    """The numerals written in ``text``, in order, without repeats."""
    return list(dict.fromkeys(_NUMBER.findall(text)))


# ---------------------------------------------------------------------------------------------
# The proposal format.


@dataclass(frozen=True)
class Proposal:
    """A parsed (not yet validated) proposal.

    ``inputs`` holds the one input of a deduction or abduction problem, or the examples followed
    by the tests of an induction problem (``n_shown`` of them are examples). A math proposal has
    a ``question`` and a ``code`` whose ``f()`` computes the answer; ``answer`` is filled in by
    validation (the program's output), never by the explorer.
    """

    family: str
    code: str = ""
    inputs: tuple[Any, ...] = ()
    n_shown: int = 0
    question: str = ""
    answer: str = ""

    @property
    def kind(self) -> str:
        return kind_of(self.inputs[0]) or "" if self.inputs else ""


_FAMILY_LINE = re.compile(r"(?im)^[ \t>*#]*family[ \t]*[:=][ \t]*`?([A-Za-z_-]+)`?[ \t.]*$")
_KEY = re.compile(r"(?i)^[ \t>*]*(program|input|examples|tests|question|answer)[ \t]*:[ \t]*(.*)$")

_FORMAT_HINT = {
    "deduction": "family: deduction\nprogram:\n```python\ndef f(x):\n    ...\n```\n"
    "input: <a Python literal>",
    "abduction": "family: abduction\nprogram:\n```python\ndef f(x):\n    ...\n```\n"
    "input: <a Python literal, kept secret; solvers see f's output on it>",
    "induction": "family: induction\nprogram:\n```python\ndef f(x):\n    ...\n```\n"
    "examples: [<input>, <input>, ...]\ntests: [<input>, <input>, ...]",
    "math": "family: math\nquestion: <the question, saying what form the answer takes>\n"
    "program:\n```python\nfrom fractions import Fraction\n\ndef f():\n    ...  # compute and "
    "return the exact answer\n```",
}


def format_hint(family: str) -> str:
    return _FORMAT_HINT[family]


def _keyed_values(text: str) -> dict[str, str]:
    """``key: value`` sections; a value runs on over the following lines until the next key or a
    blank line (so closing prose after the proposal, as models write it, is not read as part of
    the last value)."""
    values: dict[str, list[str]] = {}
    current: str | None = None
    for line in text.splitlines():
        match = _KEY.match(line)
        if match:
            current = match[1].lower()
            values[current] = [match[2]]
        elif not line.strip():
            if current is not None and "".join(values[current]).strip():
                current = None
        elif current is not None:
            values[current].append(line)
    return {k: "\n".join(v).strip() for k, v in values.items()}


def is_proposal(text: str) -> bool:
    """True when ``text`` has a ``family:`` line, i.e. is written in the explorer's format."""
    return _FAMILY_LINE.search(text) is not None


def parse_proposal(text: str) -> Proposal:
    """Read a proposal; raise `ParseError` saying what to fix. The *last* ``family:`` line starts
    the proposal, so a reply may reason first. See ``ScholarsCircle`` for the exact format."""
    if len(text) > MAX_PROPOSAL_CHARS:
        raise ParseError(
            f"the proposal is {len(text):,} characters long; the limit is {MAX_PROPOSAL_CHARS:,}"
        )
    starts = list(_FAMILY_LINE.finditer(text))
    if not starts:
        raise ParseError(
            "no `family:` line found; start the proposal with a `family:` line naming the "
            "round's family, then the fields of the format below"
        )
    last = starts[-1]
    family = last[1].lower()
    if family not in FAMILIES:
        raise ParseError(
            f"unknown family {last[1]!r}.{did_you_mean(family, FAMILIES)} The families are: "
            f"{', '.join(FAMILIES)}"
        )
    body = text[last.end() :]
    fences = list(FENCE.finditer(body))
    if family == "math":
        return _parse_math(body, fences)
    if not fences:
        raise ParseError(
            "no program found: after `program:` put the code in a fenced block that starts with "
            "```python and ends with ```"
        )
    fence = fences[0]
    code = fence[1]
    if len(code) > MAX_CODE_CHARS:
        raise ParseError(
            f"the program is {len(code):,} characters; the limit is {MAX_CODE_CHARS:,}"
        )
    _check_program(code)
    keys = _keyed_values(body[: fence.start()] + "\n" + body[fence.end() :])
    if family in ("deduction", "abduction"):
        if "input" not in keys:
            raise ParseError(
                "missing `input:` line; after the program write `input: ` and the argument of "
                "f as a Python literal, e.g. `input: [3, 1, 2]`"
            )
        value = _leading_literal(keys["input"], what="the input")
        _check_kind(value, "the input")
        return Proposal(family, code, (value,), 1)
    for key in ("examples", "tests"):
        if key not in keys:
            raise ParseError(
                f"missing `{key}:` line; an induction problem lists `examples: [...]` (inputs "
                "shown with their outputs) and `tests: [...]` (hidden inputs), each a Python list "
                "of arguments of f"
            )
    shown = _parse_inputs(keys["examples"], "examples")
    tests = _parse_inputs(keys["tests"], "tests")
    return Proposal(family, code, tuple(shown + tests), len(shown))


def _leading_literal(text: str, *, what: str) -> Any:
    """The literal that ``text`` starts with: all of it, else its first lines (closing prose that
    follows the last field on the next line is not part of the value)."""
    try:
        return parse_literal(text, what=what)
    except ParseError:
        lines = text.splitlines()
        # At most a few trailing lines of prose are dropped, so the retries stay cheap.
        for end in range(len(lines) - 1, max(0, len(lines) - 5), -1):
            try:
                return parse_literal("\n".join(lines[:end]), what=what)
            except ParseError:
                continue
        raise


def _parse_inputs(text: str, what: str) -> list[Any]:
    value = _leading_literal(text, what=f"`{what}:`")
    if type(value) is not list:
        raise ParseError(
            f"`{what}:` must be a Python list of arguments of f, e.g. [1, 5, 10] or "
            f"[[1, 2], [3]] (got a {type(value).__name__})"
        )
    for item in value:
        _check_kind(item, f"an item of `{what}:`")
    return value


def _check_kind(value: Any, what: str) -> None:
    if kind_of(value) is None:
        raise ParseError(
            f"{what} ({show_value(value)[:60]}) is not a supported argument: use an int (at "
            f"most {MAX_INT:,} in size), a str (at most {MAX_STR} characters), a list of at "
            f"most {MAX_LIST} ints or of strs, or a tuple of 2 or 3 of those"
        )


def _check_program(code: str, *, math: bool = False) -> None:
    try:
        tree = parse_code(code)
    except SyntaxError as exc:
        raise ParseError(
            f"the program has a syntax error on line {exc.lineno}: {exc.msg}"
        ) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        detail = str(exc) if isinstance(exc, ValueError) and "nested" in str(exc) else ""
        raise ParseError(f"the program cannot be read: {detail or type(exc).__name__}") from None
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "f"]
    if not defs:
        raise ParseError(
            "the program does not define `f` at top level; write "
            + (
                "`def f():` returning the answer"
                if math
                else "`def f(x):` taking the one argument x"
            )
        )
    args = defs[-1].args
    if math:
        if args.args or args.posonlyargs or args.vararg or args.kwarg or args.kwonlyargs:
            raise ParseError(
                "a math program's `f` takes no arguments: write `def f():` and return the exact "
                "answer (an int, a Fraction, an expression as text, or the set of all answers)"
            )
        return
    if (
        len(args.args) != 1
        or args.posonlyargs
        or args.vararg
        or args.kwarg
        or args.kwonlyargs
        or args.defaults
    ):
        raise ParseError(
            "`f` must take exactly one positional argument and nothing else (no defaults, *args "
            "or **kwargs): write `def f(x):`, and pass several values as a tuple"
        )


def _parse_math(body: str, fences: list[re.Match[str]]) -> Proposal:
    if not fences:
        raise ParseError(
            "no program found: a math proposal is `question: <the question>` then `program:` "
            "and a fenced ```python block defining `def f():`, which computes the exact answer "
            "(the answer is what the program returns, never a claim)"
        )
    fence = fences[0]
    code = fence[1]
    if len(code) > MAX_CODE_CHARS:
        raise ParseError(
            f"the program is {len(code):,} characters; the limit is {MAX_CODE_CHARS:,}"
        )
    _check_program(code, math=True)
    keys = _keyed_values(body[: fence.start()] + "\n" + body[fence.end() :])
    question = keys.get("question", "")
    if not question:
        raise ParseError(
            "missing `question:`; a math proposal is `question: <the question>` followed by "
            "`program:` and the program that computes its answer"
        )
    if len(question) > MAX_QUESTION_CHARS:
        raise ParseError(
            f"the question is {len(question):,} characters; the limit is {MAX_QUESTION_CHARS:,}"
        )
    return Proposal("math", code=code, question=question)


def render_proposal(p: Proposal) -> str:
    """The proposal in the exact text format (what the reference explorer sends)."""
    if p.family == "math":
        return f"family: math\nquestion: {p.question}\nprogram:\n```python\n{p.code.rstrip()}\n```"
    head = f"family: {p.family}\nprogram:\n```python\n{p.code.rstrip()}\n```\n"
    if p.family == "induction":
        shown, tests = p.inputs[: p.n_shown], p.inputs[p.n_shown :]
        return head + f"examples: {show_value(list(shown))}\ntests: {show_value(list(tests))}"
    return head + f"input: {show_value(p.inputs[0])}"
