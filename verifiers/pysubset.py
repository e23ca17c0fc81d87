"""A declared Python subset, checked before a program runs (a *policy*, never the isolation).

The subset is ordinary Python minus the ways out: imports only from an allow-list, no dunder
attribute or name access (``__class__``, ``__globals__``, ``__builtins__``...), no frame or
traceback walking (``f_back``, ``tb_frame``, ``gi_frame``...), no private attributes except on
``self``/``cls``, no I/O or introspection builtins (``open``, ``exec``, ``eval``, ``compile``,
``getattr``...), no strings that smuggle a dunder name into ``format`` or ``attrgetter``.
Classes, dataclasses, ``nonlocal``, f-strings, ``match``, comprehensions, generators, lambdas,
``try``/``with`` and ``global`` are all in.

The checker is RestrictedPython's ``RestrictingNodeTransformer`` (default-deny for any syntax it
does not know, reviewed checks for names and attributes) with a few rules relaxed and the
allow-lists above added. Only its *diagnostics* are used: the program is never run through
RestrictedPython, it runs unchanged inside `langgames.verifiers.python.PythonSandbox`, whose
process isolation is what actually contains it.

>>> check_subset("import math\\nprint(math.sqrt(2))") is None
True
>>> v = check_subset("import os\\nos.system('ls')")
>>> v.status.value, v.reason
('forbidden', 'line 1: import of module "os" is not allowed (allowed: abc, array, bisect, ...)')
>>> check_subset("x = ().__class__").details["violations"][0]["construct"]
'attribute'
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer

from langgames.errors import InvalidArgument
from langgames.verifiers.verdict import Verdict

__all__ = [
    "DEFAULT_ALLOWED_IMPORTS",
    "DEFAULT_FORBIDDEN_NAMES",
    "DEFAULT_POLICY",
    "SubsetPolicy",
    "Violation",
    "check_subset",
]

#: Modules a program may import by default (each also allows its submodules).
DEFAULT_ALLOWED_IMPORTS: frozenset[str] = frozenset(
    [
        "abc",
        "array",
        "bisect",
        "calendar",
        "cmath",
        "collections",
        "copy",
        "dataclasses",
        "datetime",
        "decimal",
        "enum",
        "fractions",
        "functools",
        "heapq",
        "itertools",
        "json",
        "math",
        "numbers",
        "operator",
        "random",
        "re",
        "statistics",
        "string",
        "textwrap",
        "typing",
        "unicodedata",
        "__future__",
    ]
)

#: Builtins a program may not name at all: I/O, dynamic code, and reflection that bypasses the
#: static attribute checks.
DEFAULT_FORBIDDEN_NAMES: frozenset[str] = frozenset(
    [
        "open",
        "exec",
        "eval",
        "compile",
        "__import__",
        "globals",
        "locals",
        "vars",
        "getattr",
        "setattr",
        "delattr",
        "breakpoint",
        "help",
        "exit",
        "quit",
        "memoryview",
    ]
)

_DUNDER = re.compile(r"^__\w+__$")
_FORMAT_DUNDER = re.compile(r"\{[^{}]*__\w*")
_ALLOWED_DUNDER_NAMES = frozenset({"__name__"})
_ALLOWED_DUNDER_STRINGS = frozenset({"__main__"})
_SELF_NAMES = frozenset({"self", "cls"})


@dataclass(frozen=True)
class Violation:
    """One refused construct: where it is and what was refused."""

    line: int | None
    col: int | None
    construct: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "col": self.col,
            "construct": self.construct,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "somewhere"
        return f"{where}: {self.message}"


def _normalise_names(value: Iterable[str], what: str) -> frozenset[str]:
    if isinstance(value, str) or not all(isinstance(v, str) for v in value):
        raise InvalidArgument(
            f"{what} must be an iterable of module/name strings such as ['math', 're'] "
            f"(got {value!r}); wrap a single name in a list"
        )
    return frozenset(value)


@dataclass(frozen=True)
class SubsetPolicy:
    """A declared Python subset. Reusable: games build one and call `check` on each program.

    Arguments:
        allowed_imports: importable modules; ``"collections"`` also allows ``collections.abc``.
        forbidden_names: names (usually builtins) the program may not use at all.
        max_violations: how many refusals to report at most.
    """

    allowed_imports: frozenset[str] = DEFAULT_ALLOWED_IMPORTS
    forbidden_names: frozenset[str] = DEFAULT_FORBIDDEN_NAMES
    max_violations: int = 20
    _key: tuple[Any, ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "allowed_imports", _normalise_names(self.allowed_imports, "allowed_imports")
        )
        object.__setattr__(
            self, "forbidden_names", _normalise_names(self.forbidden_names, "forbidden_names")
        )
        if not isinstance(self.max_violations, int) or self.max_violations < 1:
            raise InvalidArgument(
                f"max_violations must be a positive int (got {self.max_violations!r})"
            )

    def import_allowed(self, module: str) -> bool:
        return any(module == m or module.startswith(m + ".") for m in self.allowed_imports)

    def violations(self, code: str) -> list[Violation]:
        """Every refused construct in ``code`` (empty when allowed); `SyntaxError` propagates."""
        if not isinstance(code, str):
            raise InvalidArgument(
                f"code must be a str of Python source (got {type(code).__name__})"
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(code, "<snippet>", "exec")
        checker = _SubsetChecker(self)
        checker.visit(tree)
        found = sorted(checker.found, key=lambda v: (v.line or 0, v.col or 0))
        return found[: self.max_violations]

    def check(self, code: str) -> Verdict | None:
        """None when ``code`` is inside the subset; otherwise a `forbidden` verdict naming each
        refused construct (``details["violations"]``: line, col, construct, message). A program
        that does not parse gets an `unparseable` verdict with the syntax error's position.
        """
        try:
            found = self.violations(code)
        except SyntaxError as exc:
            return Verdict.make_unparseable(
                f"line {exc.lineno}: syntax error: {exc.msg}",
                line=exc.lineno,
                col=exc.offset,
            )
        if not found:
            return None
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        return Verdict.make_forbidden(
            f"{found[0]}{more}",
            violations=[v.to_dict() for v in found],
            policy="python-subset",
        )


DEFAULT_POLICY = SubsetPolicy()


def check_subset(
    code: str,
    *,
    allowed_imports: Iterable[str] | None = None,
    forbidden_names: Iterable[str] | None = None,
) -> Verdict | None:
    """Check ``code`` against the declared Python subset (see the module docstring).

    Returns None when the program is allowed, a `forbidden` verdict naming what was refused
    (line and construct) otherwise, or an `unparseable` verdict for a syntax error.
    """
    if allowed_imports is None and forbidden_names is None:
        return DEFAULT_POLICY.check(code)
    policy = SubsetPolicy(
        allowed_imports=DEFAULT_ALLOWED_IMPORTS
        if allowed_imports is None
        else _normalise_names(allowed_imports, "allowed_imports"),
        forbidden_names=DEFAULT_FORBIDDEN_NAMES
        if forbidden_names is None
        else _normalise_names(forbidden_names, "forbidden_names"),
    )
    return policy.check(code)


class _SubsetChecker(RestrictingNodeTransformer):
    """RestrictedPython's checker with our subset's rules; collects structured violations."""

    def __init__(self, policy: SubsetPolicy) -> None:
        super().__init__()
        self.policy = policy
        self.found: list[Violation] = []
        self._class_depth = 0

    # -- reporting ------------------------------------------------------------------------------
    def refuse(self, node: ast.AST, construct: str, message: str) -> None:
        self.found.append(
            Violation(
                getattr(node, "lineno", None), getattr(node, "col_offset", None), construct, message
            )
        )

    def error(self, node: ast.AST, info: str) -> None:  # RestrictedPython's own refusals
        construct = type(node).__name__.lower()
        self.refuse(node, construct, info.rstrip("."))

    # -- names ----------------------------------------------------------------------------------
    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if name is None:
            return
        if _DUNDER.match(name) and name not in _ALLOWED_DUNDER_NAMES:
            if not (
                allow_magic_methods and self._class_depth and isinstance(node, ast.FunctionDef)
            ):
                self.refuse(node, "name", f'dunder name "{name}" is not allowed')
        elif name in self.policy.forbidden_names:
            self.refuse(node, "name", f'"{name}" is not allowed in this Python subset')

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id in ("print", "printed") and node.id not in self.policy.forbidden_names:
            return node  # RestrictedPython rewrites these; we do not (unless a policy forbids them)
        self.check_name(node, node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        attr = node.attr
        if attr.startswith("__"):
            self.refuse(node, "attribute", f'access to dunder attribute "{attr}" is not allowed')
        elif attr in INSPECT_ATTRIBUTES or attr.startswith(("gi_", "cr_", "ag_")):
            self.refuse(
                node, "attribute", f'access to frame/traceback attribute "{attr}" is not allowed'
            )
        elif attr.startswith("_") and not (
            isinstance(node.value, ast.Name) and node.value.id in _SELF_NAMES
        ):
            self.refuse(
                node, "attribute", f'private attribute "{attr}" is only allowed on self or cls'
            )
        self.node_contents_visit(node)
        return node

    def visit_Constant(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, str):
            if _DUNDER.match(value) and value not in _ALLOWED_DUNDER_STRINGS:
                self.refuse(node, "string", f'a string naming "{value}" is not allowed')
            elif _FORMAT_DUNDER.search(value):
                self.refuse(
                    node, "string", "a format field naming a dunder attribute is not allowed"
                )
        return node

    # -- imports --------------------------------------------------------------------------------
    def _check_module(self, node: ast.AST, module: str) -> None:
        if not self.policy.import_allowed(module):
            shown = sorted(m for m in self.policy.allowed_imports if not m.startswith("_"))
            allowed = ", ".join(shown[:3])
            self.refuse(
                node,
                "import",
                f'import of module "{module}" is not allowed (allowed: {allowed}, ...)',
            )

    def visit_Import(self, node: ast.Import) -> Any:
        for alias in node.names:
            self._check_module(node, alias.name)
            if alias.asname:
                self.check_name(node, alias.asname)
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        if node.level:
            self.refuse(node, "import", "relative imports are not allowed")
        else:
            self._check_module(node, node.module or "")
        for alias in node.names:
            if alias.name != "*":
                self.check_name(node, alias.asname or alias.name)
        return node

    # -- relaxed: ordinary Python that RestrictedPython refuses -----------------------------------
    def visit_ClassDef(self, node: ast.ClassDef) -> Any:
        self.check_name(node, node.name)
        if any(keyword.arg == "metaclass" for keyword in node.keywords):
            self.refuse(node, "class", 'the keyword argument "metaclass" is not allowed')
        self._class_depth += 1
        try:
            self.node_contents_visit(node)
        finally:
            self._class_depth -= 1
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        self.check_name(node, node.name, allow_magic_methods=True)
        self.check_function_argument_names(node)
        depth, self._class_depth = self._class_depth, 0  # methods' bodies are not class bodies
        try:
            self.node_contents_visit(node)
        finally:
            self._class_depth = depth
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:  # ``self.n += 1`` is ordinary code
        self.node_contents_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:  # dataclass fields
        self.node_contents_visit(node)
        return node

    def visit_Nonlocal(self, node: ast.Nonlocal) -> Any:
        for name in node.names:
            self.check_name(node, name)
        return node

    def visit_Starred(self, node: ast.Starred) -> Any:
        self.node_contents_visit(node)
        return node

    def _visit_contents(self, node: ast.AST) -> Any:
        self.node_contents_visit(node)
        return node

    def _visit_capture(self, node: Any) -> Any:
        self.check_name(node, getattr(node, "name", None) or getattr(node, "rest", None))
        self.node_contents_visit(node)
        return node

    visit_Match = visit_match_case = visit_MatchValue = visit_MatchSingleton = _visit_contents
    visit_MatchSequence = visit_MatchMapping = visit_MatchClass = visit_MatchOr = _visit_contents
    visit_MatchStar = visit_MatchAs = _visit_capture
