"""Random Python programs for the code-reasoning games: a typed AST, its source and its meaning.

Shared by PredictOutput, FindInput, InduceFunction and FixBug:

- **The AST.** Expressions (`Const`, `Name`, `BinOp`, `Compare`, `BoolOp`, `Not`, `Call`,
  `Subscript`, `Slice`, `ListComp`, `IfExp`, `Tuple`, `ListLit`) and statements (`Assign`,
  `AugAssign`, `SetItem`, `Swap`, `Append`, `For`, `While`, `If`, `Break`, `Return`), frozen
  dataclasses over two static types, ``int`` and ``list`` (of ints).
- **Source.** `Function.source` renders idiomatic Python with the fewest parentheses that keep the
  tree's meaning.
- **Meaning.** `evaluate` is a host-side mirror of Python's semantics for this subset: it runs on
  real Python values with Python's own operators (so ``//`` and ``%`` round as Python does), with a
  step budget and size limits, and reports any failure as `EvalError`. It only ever runs programs
  this module generated, never model text; ``tests/test_programs.py`` checks it against the
  sandbox on hundreds of programs.
- **The generator.** `generate` chains blocks drawn from a catalogue of statement templates (map,
  filter, conditional sums and counts, running maxima, neighbour comparisons, digit loops, bubble
  passes, pair counts...) with random constants, conditions and element expressions; the level
  sets how many blocks there are and which templates are allowed. Each block also says what it
  computes in English (`Program.docstring`), for games that show a specification.
- **Mutations.** `mutants` lists every single-site change of a program (operator, comparison,
  constant, loop bound, initial value, swapped operands, wrong variable, and/or): planted bugs for
  FixBug and neighbouring hypotheses for InduceFunction.

All randomness comes from the ``numpy.random.Generator`` the caller passes (a game's
``np_random``). Iteration orders never depend on string hashing.
"""

from __future__ import annotations

import ast
import operator
import textwrap
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from langgames.core import ParseError
from langgames.envs._parsing import MAX_LITERAL as _MAX_LITERAL
from langgames.envs._parsing import extract_code, last_line, parse_literal

__all__ = [
    "INT",
    "LIST",
    "TEMPLATES",
    "Domain",
    "EvalError",
    "Function",
    "Mutant",
    "Program",
    "describe_domain",
    "evaluate",
    "extract_code",
    "format_call",
    "generate",
    "mutants",
    "outcome",
    "parse_call_args",
    "parse_literal",
    "random_args",
    "same_value",
    "steps",
    "traced",
]

INT = "int"
LIST = "list"

#: Budget of one evaluation: statements executed plus loop and comprehension iterations.
MAX_STEPS = 20_000
_MAX_INT = 10**15
_MAX_LEN = 2_000

Value = Any  # a plain Python value: int, bool, list, tuple, None


class EvalError(Exception):
    """A generated program failed on an input: ``kind`` is the exception's name or the limit."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


class _Frame:
    __slots__ = ("limit", "steps", "vars")

    def __init__(self, variables: dict[str, Value], limit: int = MAX_STEPS) -> None:
        self.vars = variables
        self.steps = 0
        self.limit = limit

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.limit:
            raise EvalError("step limit")


def _checked(value: Value) -> Value:
    kind = type(value)
    if kind is int and not -_MAX_INT <= value <= _MAX_INT:
        raise EvalError("integer too large")
    if kind is list and len(value) > _MAX_LEN:
        raise EvalError("list too long")
    return value


class _Return(Exception):  # control flow, not an error
    def __init__(self, value: Value) -> None:
        self.value = value


class _Break(Exception):  # control flow, not an error
    pass


_MISSING = object()

# ----------------------------------------------------------------------------- expressions
# Precedence, as in Python's grammar: a child binds looser than its parent -> parentheses.
_P_IFEXP = 0
_P_OR = 1
_P_AND = 2
_P_NOT = 3
_P_CMP = 4
_P_ADD = 6
_P_MUL = 7
_P_UNARY = 8
_P_ATOM = 10

_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "%": operator.mod,
}
_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.iadd,
    "-": operator.isub,
    "*": operator.imul,
    "//": operator.ifloordiv,
    "%": operator.imod,
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "in": lambda a, b: a in b,
    "not in": lambda a, b: a not in b,
}
_CALLS: dict[str, Callable[..., Any]] = {
    "len": len,
    "abs": abs,
    "min": min,
    "max": max,
    "sum": sum,
    "sorted": sorted,
    "list": list,
    "range": range,
}


class Expr:
    """An expression node."""

    prec = _P_ATOM

    def ev(self, fr: _Frame) -> Value:
        raise NotImplementedError

    def render(self) -> str:
        raise NotImplementedError

    def children(self) -> tuple[Expr, ...]:
        return ()


def _wrap(child: Expr, min_prec: int) -> str:
    """``child`` rendered, in parentheses when it binds looser than ``min_prec``."""
    text = child.render()
    return f"({text})" if child.prec < min_prec else text


@dataclass(frozen=True)
class Const(Expr):
    value: int | bool | None

    @property
    def prec(self) -> int:  # type: ignore[override]
        negative = type(self.value) is int and self.value < 0
        return _P_UNARY if negative else _P_ATOM

    def ev(self, fr: _Frame) -> Value:
        return self.value

    def render(self) -> str:
        return repr(self.value)


@dataclass(frozen=True)
class Name(Expr):
    id: str
    type: str

    def ev(self, fr: _Frame) -> Value:
        try:
            return fr.vars[self.id]
        except KeyError:
            raise EvalError("NameError") from None

    def render(self) -> str:
        return self.id


@dataclass(frozen=True)
class BinOp(Expr):
    op: str
    left: Expr
    right: Expr

    @property
    def prec(self) -> int:  # type: ignore[override]
        return _P_ADD if self.op in ("+", "-") else _P_MUL

    def ev(self, fr: _Frame) -> Value:
        return _checked(_BINOPS[self.op](self.left.ev(fr), self.right.ev(fr)))

    def render(self) -> str:
        p = self.prec
        return f"{_wrap(self.left, p)} {self.op} {_wrap(self.right, p + 1)}"

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Compare(Expr):
    op: str
    left: Expr
    right: Expr
    prec = _P_CMP

    def ev(self, fr: _Frame) -> Value:
        return _COMPARE[self.op](self.left.ev(fr), self.right.ev(fr))

    def render(self) -> str:
        return f"{_wrap(self.left, _P_CMP + 1)} {self.op} {_wrap(self.right, _P_CMP + 1)}"

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class BoolOp(Expr):
    op: str  # "and" | "or"
    left: Expr
    right: Expr

    @property
    def prec(self) -> int:  # type: ignore[override]
        return _P_AND if self.op == "and" else _P_OR

    def ev(self, fr: _Frame) -> Value:
        left = self.left.ev(fr)
        if (self.op == "and") == (not left):
            return left
        return self.right.ev(fr)

    def render(self) -> str:
        p = self.prec
        return f"{_wrap(self.left, p)} {self.op} {_wrap(self.right, p + 1)}"

    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)


@dataclass(frozen=True)
class Not(Expr):
    operand: Expr
    prec = _P_NOT

    def ev(self, fr: _Frame) -> Value:
        return not self.operand.ev(fr)

    def render(self) -> str:
        return f"not {_wrap(self.operand, _P_NOT)}"

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)


@dataclass(frozen=True)
class Call(Expr):
    func: str
    args: tuple[Expr, ...]

    def ev(self, fr: _Frame) -> Value:
        args = [a.ev(fr) for a in self.args]
        if self.func != "range":
            for a in args:
                if type(a) is range and len(a) > _MAX_LEN:
                    raise EvalError("range too long")
        return _checked(_CALLS[self.func](*args))

    def render(self) -> str:
        return f"{self.func}({', '.join(a.render() for a in self.args)})"

    def children(self) -> tuple[Expr, ...]:
        return self.args


@dataclass(frozen=True)
class Subscript(Expr):
    value: Expr
    index: Expr

    def ev(self, fr: _Frame) -> Value:
        return self.value.ev(fr)[self.index.ev(fr)]

    def render(self) -> str:
        return f"{_wrap(self.value, _P_ATOM)}[{self.index.render()}]"

    def children(self) -> tuple[Expr, ...]:
        return (self.value, self.index)


@dataclass(frozen=True)
class Slice(Expr):
    value: Expr
    lower: Expr | None = None
    upper: Expr | None = None
    step: Expr | None = None

    def ev(self, fr: _Frame) -> Value:
        parts = [None if p is None else p.ev(fr) for p in (self.lower, self.upper, self.step)]
        return self.value.ev(fr)[parts[0] : parts[1] : parts[2]]

    def render(self) -> str:
        lo, hi = ("" if p is None else p.render() for p in (self.lower, self.upper))
        step = "" if self.step is None else f":{self.step.render()}"
        return f"{_wrap(self.value, _P_ATOM)}[{lo}:{hi}{step}]"

    def children(self) -> tuple[Expr, ...]:
        return tuple(p for p in (self.value, self.lower, self.upper, self.step) if p is not None)


@dataclass(frozen=True)
class ListComp(Expr):
    elt: Expr
    var: str
    iter: Expr
    cond: Expr | None = None

    def ev(self, fr: _Frame) -> Value:
        iterable = self.iter.ev(fr)  # evaluated in the enclosing scope, as in Python
        saved = fr.vars.get(self.var, _MISSING)
        out = []
        try:
            for item in iterable:
                fr.tick()
                fr.vars[self.var] = item
                if self.cond is None or self.cond.ev(fr):
                    out.append(self.elt.ev(fr))
        finally:  # the comprehension's variable does not leak (its own scope in Python)
            if saved is _MISSING:
                fr.vars.pop(self.var, None)
            else:
                fr.vars[self.var] = saved
        return _checked(out)

    def render(self) -> str:
        cond = "" if self.cond is None else f" if {_wrap(self.cond, _P_OR)}"
        return f"[{_wrap(self.elt, _P_OR)} for {self.var} in {_wrap(self.iter, _P_OR)}{cond}]"

    def children(self) -> tuple[Expr, ...]:
        return (self.elt, self.iter) + (() if self.cond is None else (self.cond,))


@dataclass(frozen=True)
class IfExp(Expr):
    cond: Expr
    body: Expr
    orelse: Expr
    prec = _P_IFEXP

    def ev(self, fr: _Frame) -> Value:
        return self.body.ev(fr) if self.cond.ev(fr) else self.orelse.ev(fr)

    def render(self) -> str:
        return (
            f"{_wrap(self.body, _P_OR)} if {_wrap(self.cond, _P_OR)} else "
            f"{_wrap(self.orelse, _P_OR)}"
        )

    def children(self) -> tuple[Expr, ...]:
        return (self.cond, self.body, self.orelse)


@dataclass(frozen=True)
class Tuple(Expr):
    elts: tuple[Expr, ...]

    def ev(self, fr: _Frame) -> Value:
        return tuple(e.ev(fr) for e in self.elts)

    def render(self) -> str:
        inner = ", ".join(e.render() for e in self.elts)
        return f"({inner},)" if len(self.elts) == 1 else f"({inner})"

    def children(self) -> tuple[Expr, ...]:
        return self.elts


@dataclass(frozen=True)
class ListLit(Expr):
    elts: tuple[Expr, ...] = ()

    def ev(self, fr: _Frame) -> Value:
        return [e.ev(fr) for e in self.elts]

    def render(self) -> str:
        return f"[{', '.join(e.render() for e in self.elts)}]"

    def children(self) -> tuple[Expr, ...]:
        return self.elts


# ----------------------------------------------------------------------------- statements
class Stmt:
    """A statement node."""

    def run(self, fr: _Frame) -> None:
        raise NotImplementedError

    def lines(self, indent: str) -> list[str]:
        raise NotImplementedError

    def exprs(self) -> tuple[Expr, ...]:
        return ()

    def blocks(self) -> tuple[tuple[Stmt, ...], ...]:
        return ()


def _run_block(body: tuple[Stmt, ...], fr: _Frame) -> None:
    for stmt in body:
        stmt.run(fr)


def _block_lines(body: tuple[Stmt, ...], indent: str) -> list[str]:
    return [line for stmt in body for line in stmt.lines(indent)]


@dataclass(frozen=True)
class Assign(Stmt):
    target: str
    value: Expr

    def run(self, fr: _Frame) -> None:
        fr.tick()
        fr.vars[self.target] = self.value.ev(fr)

    def lines(self, indent: str) -> list[str]:
        return [f"{indent}{self.target} = {self.value.render()}"]

    def exprs(self) -> tuple[Expr, ...]:
        return (self.value,)


@dataclass(frozen=True)
class AugAssign(Stmt):
    target: str
    op: str
    value: Expr

    def run(self, fr: _Frame) -> None:
        fr.tick()
        try:
            current = fr.vars[self.target]
        except KeyError:
            raise EvalError("NameError") from None
        fr.vars[self.target] = _checked(_INPLACE[self.op](current, self.value.ev(fr)))

    def lines(self, indent: str) -> list[str]:
        return [f"{indent}{self.target} {self.op}= {self.value.render()}"]

    def exprs(self) -> tuple[Expr, ...]:
        return (self.value,)


@dataclass(frozen=True)
class SetItem(Stmt):
    target: str
    index: Expr
    value: Expr

    def run(self, fr: _Frame) -> None:
        fr.tick()
        value = self.value.ev(fr)
        Name(self.target, LIST).ev(fr)[self.index.ev(fr)] = value

    def lines(self, indent: str) -> list[str]:
        return [f"{indent}{self.target}[{self.index.render()}] = {self.value.render()}"]

    def exprs(self) -> tuple[Expr, ...]:
        return (self.index, self.value)


@dataclass(frozen=True)
class Swap(Stmt):
    """``t[i], t[j] = t[j], t[i]``."""

    target: str
    i: Expr
    j: Expr

    def run(self, fr: _Frame) -> None:
        fr.tick()
        seq = Name(self.target, LIST).ev(fr)
        first, second = seq[self.j.ev(fr)], seq[self.i.ev(fr)]  # the right-hand tuple first
        seq[self.i.ev(fr)] = first
        seq[self.j.ev(fr)] = second

    def lines(self, indent: str) -> list[str]:
        t, i, j = self.target, self.i.render(), self.j.render()
        return [f"{indent}{t}[{i}], {t}[{j}] = {t}[{j}], {t}[{i}]"]

    def exprs(self) -> tuple[Expr, ...]:
        return (self.i, self.j)


@dataclass(frozen=True)
class Append(Stmt):
    target: str
    value: Expr

    def run(self, fr: _Frame) -> None:
        fr.tick()
        seq = Name(self.target, LIST).ev(fr)
        seq.append(self.value.ev(fr))
        _checked(seq)

    def lines(self, indent: str) -> list[str]:
        return [f"{indent}{self.target}.append({self.value.render()})"]

    def exprs(self) -> tuple[Expr, ...]:
        return (self.value,)


@dataclass(frozen=True)
class For(Stmt):
    var: str
    iter: Expr
    body: tuple[Stmt, ...]

    def run(self, fr: _Frame) -> None:
        fr.tick()
        for item in self.iter.ev(fr):
            fr.tick()
            fr.vars[self.var] = item
            try:
                _run_block(self.body, fr)
            except _Break:
                break

    def lines(self, indent: str) -> list[str]:
        head = f"{indent}for {self.var} in {self.iter.render()}:"
        return [head, *_block_lines(self.body, indent + "    ")]

    def exprs(self) -> tuple[Expr, ...]:
        return (self.iter,)

    def blocks(self) -> tuple[tuple[Stmt, ...], ...]:
        return (self.body,)


@dataclass(frozen=True)
class While(Stmt):
    cond: Expr
    body: tuple[Stmt, ...]

    def run(self, fr: _Frame) -> None:
        fr.tick()
        while self.cond.ev(fr):
            fr.tick()
            try:
                _run_block(self.body, fr)
            except _Break:
                break

    def lines(self, indent: str) -> list[str]:
        return [f"{indent}while {self.cond.render()}:", *_block_lines(self.body, indent + "    ")]

    def exprs(self) -> tuple[Expr, ...]:
        return (self.cond,)

    def blocks(self) -> tuple[tuple[Stmt, ...], ...]:
        return (self.body,)


@dataclass(frozen=True)
class If(Stmt):
    cond: Expr
    body: tuple[Stmt, ...]
    orelse: tuple[Stmt, ...] = ()

    def run(self, fr: _Frame) -> None:
        fr.tick()
        _run_block(self.body if self.cond.ev(fr) else self.orelse, fr)

    def lines(self, indent: str) -> list[str]:
        out = [f"{indent}if {self.cond.render()}:", *_block_lines(self.body, indent + "    ")]
        if self.orelse:
            out += [f"{indent}else:", *_block_lines(self.orelse, indent + "    ")]
        return out

    def exprs(self) -> tuple[Expr, ...]:
        return (self.cond,)

    def blocks(self) -> tuple[tuple[Stmt, ...], ...]:
        return (self.body, self.orelse)


@dataclass(frozen=True)
class Break(Stmt):
    def run(self, fr: _Frame) -> None:
        fr.tick()
        raise _Break

    def lines(self, indent: str) -> list[str]:
        return [f"{indent}break"]


@dataclass(frozen=True)
class Return(Stmt):
    value: Expr

    def run(self, fr: _Frame) -> None:
        fr.tick()
        raise _Return(self.value.ev(fr))

    def lines(self, indent: str) -> list[str]:
        value = self.value
        if isinstance(value, Tuple) and len(value.elts) > 1:
            return [f"{indent}return {', '.join(e.render() for e in value.elts)}"]
        return [f"{indent}return {value.render()}"]

    def exprs(self) -> tuple[Expr, ...]:
        return (self.value,)


@dataclass(frozen=True)
class Function:
    """``def name(params): body`` with typed parameters (``(name, INT | LIST)`` pairs)."""

    name: str
    params: tuple[tuple[str, str], ...]
    body: tuple[Stmt, ...]

    def source(self, docstring: str | None = None) -> str:
        head = f"def {self.name}({', '.join(p for p, _ in self.params)}):"
        doc: list[str] = []
        if docstring:
            first, *rest = docstring.splitlines()
            if rest:
                doc = [
                    f'    """{first}',
                    *(f"    {line}" if line else "" for line in rest),
                    '    """',
                ]
            else:
                doc = [f'    """{first}"""']
        return "\n".join([head, *doc, *_block_lines(self.body, "    ")]) + "\n"


def evaluate(func: Function, args: Sequence[Value], max_steps: int = MAX_STEPS) -> Value:
    """``func(*args)`` computed on the host, as Python would; `EvalError` on any failure,
    including running more than ``max_steps`` steps (statements and loop iterations).

    Lists passed in are copied first, so the caller's values are never changed.
    """
    value, _ = _execute(func, args, max_steps)
    return value


def _execute(func: Function, args: Sequence[Value], max_steps: int) -> tuple[Value, int]:
    """``(value, steps taken)``; raises `EvalError`."""
    if len(args) != len(func.params):
        raise EvalError("TypeError")
    variables = {
        name: list(value) if type(value) is list else value
        for (name, _), value in zip(func.params, args, strict=True)
    }
    fr = _Frame(variables, max_steps)
    try:
        _run_block(func.body, fr)
    except _Return as ret:
        return ret.value, fr.steps
    except (ArithmeticError, LookupError, TypeError, ValueError, AttributeError) as exc:
        raise EvalError(type(exc).__name__) from None
    except RecursionError:
        raise EvalError("RecursionError") from None
    return None, fr.steps


def steps(func: Function, args: Sequence[Value]) -> int:
    """How many steps (statements and loop iterations) ``func(*args)`` takes; a work measure."""
    return _execute(func, args, MAX_STEPS)[1]


# ----------------------------------------------------------------------------- walking
def _walk_exprs(e: Expr) -> Iterator[Expr]:
    yield e
    for child in e.children():
        yield from _walk_exprs(child)


def _walk_stmts(body: tuple[Stmt, ...]) -> Iterator[Stmt]:
    for stmt in body:
        yield stmt
        for block in stmt.blocks():
            yield from _walk_stmts(block)


def names_used(func: Function) -> list[str]:
    """Every variable name read anywhere in ``func``, in first-use order."""
    seen: dict[str, None] = {}
    for stmt in _walk_stmts(func.body):
        for expr in stmt.exprs():
            for node in _walk_exprs(expr):
                if isinstance(node, Name):
                    seen.setdefault(node.id, None)
    return list(seen)


# ----------------------------------------------------------------------------- mutations
@dataclass(frozen=True)
class Mutant:
    """``func`` with one change: ``kind`` names the change ("comparison", "loop bound"...)."""

    kind: str
    func: Function


_OP_ALTS = {"+": ("-", "*"), "-": ("+",), "*": ("+",), "//": ("%", "*"), "%": ("//",)}
_CMP_ALTS = {
    "<": ("<=", ">"),
    "<=": ("<", ">="),
    ">": (">=", "<"),
    ">=": (">", "<="),
    "==": ("!=",),
    "!=": ("==",),
    "in": ("not in",),
    "not in": ("in",),
}


def _const_alts(value: int) -> list[int]:
    alts = [value + 1, value - 1]
    if abs(value) >= 100:
        alts.append(0)
    return alts


class _MutationContext:
    def __init__(self, func: Function) -> None:
        types: dict[str, str] = {name: kind for name, kind in func.params}
        for stmt in _walk_stmts(func.body):
            for expr in stmt.exprs():
                for node in _walk_exprs(expr):
                    if isinstance(node, Name):
                        types.setdefault(node.id, node.type)
        self.by_type: dict[str, list[str]] = {}
        for name, kind in types.items():
            self.by_type.setdefault(kind, []).append(name)


def _mut_expr(
    e: Expr, ctx: _MutationContext, const_kind: str = "constant"
) -> Iterator[tuple[str, Expr]]:
    if isinstance(e, Const):
        if type(e.value) is int:
            for v in _const_alts(e.value):
                yield const_kind, Const(v)
    elif isinstance(e, Name):
        for other in ctx.by_type.get(e.type, []):
            if other != e.id:
                yield "variable", Name(other, e.type)
    elif isinstance(e, BinOp):
        for op in _OP_ALTS[e.op]:
            yield "operator", replace(e, op=op)
        if e.op in ("-", "//", "%"):
            yield "swapped operands", replace(e, left=e.right, right=e.left)
        if e.op in ("+", "-") and e.right == Const(1):
            yield "off by one", e.left
        for kind, new in _mut_expr(e.left, ctx, const_kind):
            yield kind, replace(e, left=new)
        for kind, new in _mut_expr(e.right, ctx, const_kind):
            yield kind, replace(e, right=new)
    elif isinstance(e, Compare):
        for op in _CMP_ALTS[e.op]:
            yield "comparison", replace(e, op=op)
        if e.op in ("<", "<=", ">", ">="):
            yield "swapped operands", replace(e, left=e.right, right=e.left)
        for kind, new in _mut_expr(e.left, ctx):
            yield kind, replace(e, left=new)
        for kind, new in _mut_expr(e.right, ctx):
            yield kind, replace(e, right=new)
    elif isinstance(e, BoolOp):
        yield "boolean", replace(e, op="or" if e.op == "and" else "and")
        for kind, new in _mut_expr(e.left, ctx):
            yield kind, replace(e, left=new)
        for kind, new in _mut_expr(e.right, ctx):
            yield kind, replace(e, right=new)
    elif isinstance(e, Not):
        yield "boolean", e.operand
        for kind, new in _mut_expr(e.operand, ctx):
            yield kind, replace(e, operand=new)
    elif isinstance(e, Call):
        bound = "loop bound" if e.func == "range" else const_kind
        if e.func == "range" and len(e.args) <= 2:
            stop = e.args[-1]
            if not (isinstance(stop, BinOp) and isinstance(stop.right, Const)):
                yield "loop bound", replace(e, args=(*e.args[:-1], BinOp("-", stop, Const(1))))
                yield "loop bound", replace(e, args=(*e.args[:-1], BinOp("+", stop, Const(1))))
        for i, arg in enumerate(e.args):
            for kind, new in _mut_expr(arg, ctx, bound):
                yield kind, replace(e, args=(*e.args[:i], new, *e.args[i + 1 :]))
    elif isinstance(e, Subscript):
        for kind, new in _mut_expr(e.index, ctx, "index"):
            yield kind, replace(e, index=new)
    elif isinstance(e, Slice):
        for field_name in ("lower", "upper", "step"):
            part = getattr(e, field_name)
            if part is not None:
                for kind, new in _mut_expr(part, ctx, "slice bound"):
                    yield kind, replace(e, **{field_name: new})
    elif isinstance(e, ListComp):
        for kind, new in _mut_expr(e.elt, ctx):
            yield kind, replace(e, elt=new)
        for kind, new in _mut_expr(e.iter, ctx):
            yield kind, replace(e, iter=new)
        if e.cond is not None:
            for kind, new in _mut_expr(e.cond, ctx):
                yield kind, replace(e, cond=new)
    elif isinstance(e, IfExp):
        for field_name in ("cond", "body", "orelse"):
            for kind, new in _mut_expr(getattr(e, field_name), ctx):
                yield kind, replace(e, **{field_name: new})
    elif isinstance(e, Tuple):
        for i, elt in enumerate(e.elts):
            for kind, new in _mut_expr(elt, ctx):
                yield kind, replace(e, elts=(*e.elts[:i], new, *e.elts[i + 1 :]))


def _mut_stmt(s: Stmt, ctx: _MutationContext) -> Iterator[tuple[str, Stmt]]:
    if isinstance(s, Assign):
        kind = "initial value" if isinstance(s.value, (Const, ListLit)) else "constant"
        for k, new in _mut_expr(s.value, ctx, kind):
            yield k, replace(s, value=new)
    elif isinstance(s, AugAssign):
        for op in _OP_ALTS[s.op]:
            yield "operator", replace(s, op=op)
        for k, new in _mut_expr(s.value, ctx):
            yield k, replace(s, value=new)
    elif isinstance(s, (Append, Return)):
        for k, new in _mut_expr(s.value, ctx):
            yield k, replace(s, value=new)
    elif isinstance(s, SetItem):
        for k, new in _mut_expr(s.index, ctx, "index"):
            yield k, replace(s, index=new)
        for k, new in _mut_expr(s.value, ctx):
            yield k, replace(s, value=new)
    elif isinstance(s, Swap):
        for k, new in _mut_expr(s.j, ctx, "index"):
            yield k, replace(s, j=new)
    elif isinstance(s, For):
        for k, new in _mut_expr(s.iter, ctx):
            yield k, replace(s, iter=new)
        for k, body in _mut_body(s.body, ctx):
            yield k, replace(s, body=body)
    elif isinstance(s, While):
        for k, new in _mut_expr(s.cond, ctx):
            yield k, replace(s, cond=new)
        for k, body in _mut_body(s.body, ctx):
            yield k, replace(s, body=body)
    elif isinstance(s, If):
        for k, new in _mut_expr(s.cond, ctx):
            yield k, replace(s, cond=new)
        for k, body in _mut_body(s.body, ctx):
            yield k, replace(s, body=body)
        for k, body in _mut_body(s.orelse, ctx):
            yield k, replace(s, orelse=body)


def _mut_body(
    body: tuple[Stmt, ...], ctx: _MutationContext
) -> Iterator[tuple[str, tuple[Stmt, ...]]]:
    for i, stmt in enumerate(body):
        for kind, new in _mut_stmt(stmt, ctx):
            yield kind, (*body[:i], new, *body[i + 1 :])


def mutants(func: Function) -> list[Mutant]:
    """Every distinct single-site change of ``func`` (by rendered source), in program order.

    Some are equivalent to ``func`` on every input; callers keep those that differ on theirs.
    """
    ctx = _MutationContext(func)
    original = func.source()
    seen = {original}
    out = []
    for kind, body in _mut_body(func.body, ctx):
        mutant = replace(func, body=body)
        text = mutant.source()
        if text not in seen:
            seen.add(text)
            out.append(Mutant(kind, mutant))
    return out


# ----------------------------------------------------------------------------- the generator
@dataclass(frozen=True)
class Block:
    """What one template produced: statements, the variable they define and what it means."""

    stmts: tuple[Stmt, ...]
    out: str
    out_type: str
    desc: str


@dataclass(frozen=True)
class Program:
    """A generated function with its meaning in English, one sentence per block."""

    func: Function
    steps_desc: tuple[str, ...]
    returns: str  # what the return statement gives, in words
    templates: tuple[str, ...]

    @property
    def params(self) -> tuple[tuple[str, str], ...]:
        return self.func.params

    def source(self, *, with_docstring: bool = False) -> str:
        return self.func.source(self.docstring() if with_docstring else None)

    def docstring(self) -> str:
        described = " and ".join(
            f"`{name}` (a list of ints)" if kind == LIST else f"`{name}` (an int)"
            for name, kind in self.params
        )
        lines = [f"Compute a value from {described}.", "", "Step by step:"]
        for d in self.steps_desc:
            lines += textwrap.wrap(d, width=88, initial_indent="- ", subsequent_indent="  ")
        lines.append(f"Return {self.returns}.")
        return "\n".join(lines)


class _Builder:
    def __init__(self, rng: np.random.Generator, level: int, params: tuple[tuple[str, str], ...]):
        self.rng = rng
        self.level = level
        self.taken = {name for name, _ in params}
        self.k: Name | None = next((Name(n, INT) for n, t in params if n == "k"), None)

    def int(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high, endpoint=True))

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def choice(self, options: Sequence[Any]) -> Any:
        return options[int(self.rng.integers(len(options)))]

    def name(self, *choices: str) -> str:
        """A new variable name: the first free one of ``choices``, else one with a number."""
        for choice in choices:
            if choice not in self.taken:
                self.taken.add(choice)
                return choice
        n = 2
        while f"{choices[0]}{n}" in self.taken:
            n += 1
        self.taken.add(f"{choices[0]}{n}")
        return f"{choices[0]}{n}"

    def use_k(self) -> bool:
        return self.k is not None and self.chance(0.5)


def _plus(e: Expr, c: int) -> Expr:
    """``e + c`` written naturally (``e - 3`` rather than ``e + -3``; ``e`` itself for 0)."""
    if c == 0:
        return e
    return BinOp("+", e, Const(c)) if c > 0 else BinOp("-", e, Const(-c))


def _elem_expr(b: _Builder, x: Name) -> Expr:
    """A random expression of one element ``x`` (the "map" part of a template)."""
    a, c, m = b.int(2, 5), b.int(1, 9), b.int(2, 7)
    if b.use_k():
        assert b.k is not None
        k = b.k
        forms: list[Callable[[], Expr]] = [
            lambda: BinOp("*", x, k),
            lambda: BinOp("+", x, k),
            lambda: BinOp("-", x, k),
            lambda: BinOp("+", BinOp("*", x, k), Const(c)),
        ]
    else:
        forms = [
            lambda: BinOp("*", x, Const(a)),
            lambda: _plus(x, c),
            lambda: _plus(x, -c),
            lambda: _plus(BinOp("*", Const(a), x), b.int(-9, 9)),
            lambda: BinOp("*", x, x),
            lambda: BinOp("%", x, Const(m)),
            lambda: BinOp("//", x, Const(m)),
            lambda: Call("abs", (_plus(x, -c),)),
            lambda: _plus(BinOp("*", x, x), -c),
            lambda: BinOp("%", _plus(x, c), Const(m)),
            lambda: Call("min", (x, Const(c))),
            lambda: Call("max", (x, Const(c))),
        ]
        if b.level >= 3:
            forms.append(lambda: IfExp(Compare(">", x, Const(c)), BinOp("-", x, Const(c)), x))
    return b.choice(forms)()


def _cond_expr(b: _Builder, x: Name) -> tuple[Expr, str]:
    """A random condition on one element ``x`` and the same condition in words."""
    t = b.int(-4, 9)
    if b.use_k():
        assert b.k is not None
        op, words = b.choice(
            [(">", "greater than k"), ("<", "less than k"), ("!=", "different from k")]
        )
        return Compare(op, x, b.k), words
    if b.level >= 3 and b.chance(0.3):
        lo = b.int(-5, 4)
        hi = lo + b.int(2, 6)
        if b.chance(0.5):
            return (
                BoolOp("and", Compare(">", x, Const(lo)), Compare("<", x, Const(hi))),
                f"strictly between {lo} and {hi}",
            )
        return (
            BoolOp("or", Compare("<", x, Const(lo)), Compare(">", x, Const(hi))),
            f"less than {lo} or greater than {hi}",
        )
    kind = b.int(0, 6)
    if kind <= 3:
        op, words = [
            (">", "greater than"),
            (">=", "at least"),
            ("<", "less than"),
            ("<=", "at most"),
        ][kind]
        return Compare(op, x, Const(t)), f"{words} {t}"
    if kind == 4:
        return Compare("!=", x, Const(t)), f"different from {t}"
    m = b.int(2, 5)
    r = b.int(0, m - 1)
    expr = BinOp("%", x, Const(m))
    if m == 2:
        return Compare("==", expr, Const(r)), "even" if r == 0 else "odd"
    if kind == 5:
        return Compare("==", expr, Const(r)), f"congruent to {r} modulo {m} (`x % {m} == {r}`)"
    return Compare("!=", expr, Const(0)), f"not divisible by {m}"


# Templates: (build(b, src) -> Block, input type, lowest level). Each defines one new variable.
def _t_map(b: _Builder, src: str) -> Block:
    x = Name("x", INT)
    e = _elem_expr(b, x)
    out = b.name("ys", "vals", "zs")
    if b.chance(0.5):
        stmts: tuple[Stmt, ...] = (Assign(out, ListComp(e, "x", Name(src, LIST))),)
    else:
        stmts = (Assign(out, ListLit()), For("x", Name(src, LIST), (Append(out, e),)))
    return Block(
        stmts, out, LIST, f"`{out}` lists `{e.render()}` for each element `x` of `{src}`, in order."
    )


def _t_filter(b: _Builder, src: str) -> Block:
    x = Name("x", INT)
    cond, words = _cond_expr(b, x)
    out = b.name("kept", "ys", "vals")
    if b.chance(0.5):
        stmts: tuple[Stmt, ...] = (Assign(out, ListComp(x, "x", Name(src, LIST), cond)),)
    else:
        stmts = (
            Assign(out, ListLit()),
            For("x", Name(src, LIST), (If(cond, (Append(out, x),)),)),
        )
    return Block(
        stmts, out, LIST, f"`{out}` keeps the elements of `{src}` that are {words}, in order."
    )


def _t_filter_map(b: _Builder, src: str) -> Block:
    x = Name("x", INT)
    cond, words = _cond_expr(b, x)
    e = _elem_expr(b, x)
    out = b.name("ys", "vals", "zs")
    stmts = (Assign(out, ListComp(e, "x", Name(src, LIST), cond)),)
    return Block(
        stmts,
        out,
        LIST,
        f"`{out}` lists `{e.render()}` for each element `x` of `{src}` that is {words}, in order.",
    )


def _t_sum_if(b: _Builder, src: str) -> Block:
    x = Name("x", INT)
    e = x if b.chance(0.4) else _elem_expr(b, x)
    out = b.name("total", "acc", "s")
    if b.level == 1 and b.chance(0.4):
        body: tuple[Stmt, ...] = (AugAssign(out, "+", e),)
        words = f"`{out}` is the sum of `{e.render()}` over the elements `x` of `{src}` (0 if "
        words += "it is empty)."
    else:
        cond, cwords = _cond_expr(b, x)
        body = (If(cond, (AugAssign(out, "+", e),)),)
        words = (
            f"`{out}` is the sum of `{e.render()}` over the elements `x` of `{src}` that "
            f"are {cwords} (0 if there are none)."
        )
    return Block((Assign(out, Const(0)), For("x", Name(src, LIST), body)), out, INT, words)


def _t_count_if(b: _Builder, src: str) -> Block:
    x = Name("x", INT)
    cond, words = _cond_expr(b, x)
    out = b.name("count", "n_hits", "c")
    stmts = (
        Assign(out, Const(0)),
        For("x", Name(src, LIST), (If(cond, (AugAssign(out, "+", Const(1)),)),)),
    )
    return Block(stmts, out, INT, f"`{out}` is the number of elements of `{src}` that are {words}.")


def _t_extreme(b: _Builder, src: str) -> Block:
    x = Name("x", INT)
    largest = b.chance(0.6)
    init = b.choice([0, -100, -1000]) if largest else b.choice([0, 100, 1000])
    out = b.name("best", "top", "m") if largest else b.name("low", "least", "m")
    e: Expr = x if b.chance(0.5) else _elem_expr(b, x)
    value = x if e is x else Name(b.name("v", "val"), INT)
    body: list[Stmt] = [] if e is x else [Assign(value.id, e)]
    body.append(If(Compare(">" if largest else "<", value, Name(out, INT)), (Assign(out, value),)))
    what = "largest" if largest else "smallest"
    of = "the elements" if e is x else f"the values `{e.render()}` for the elements `x`"
    return Block(
        (Assign(out, Const(init)), For("x", Name(src, LIST), tuple(body))),
        out,
        INT,
        f"`{out}` is the {what} of {init} and {of} of `{src}`.",
    )


def _t_argext(b: _Builder, src: str) -> Block:
    largest = b.chance(0.6)
    out = b.name("where", "pos", "at")
    i = Name("i", INT)
    lst = Name(src, LIST)
    cond = Compare(">" if largest else "<", Subscript(lst, i), Subscript(lst, Name(out, INT)))
    stmts = (
        Assign(out, Const(0)),
        For("i", Call("range", (Const(1), Call("len", (lst,)))), (If(cond, (Assign(out, i),)),)),
    )
    what = "largest" if largest else "smallest"
    return Block(
        stmts,
        out,
        INT,
        f"`{out}` is the index of the first occurrence of the {what} "
        f"element of `{src}` (0 if it is empty).",
    )


def _t_running(b: _Builder, src: str) -> Block:
    x = Name("x", INT)
    out = b.name("running", "ys", "prefix")
    acc = b.name("s", "acc", "t")
    if b.chance(0.6):
        e: Expr = x if b.chance(0.6) else _elem_expr(b, x)
        stmts: tuple[Stmt, ...] = (
            Assign(acc, Const(0)),
            Assign(out, ListLit()),
            For("x", Name(src, LIST), (AugAssign(acc, "+", e), Append(out, Name(acc, INT)))),
        )
        what = "`x`" if e is x else f"`{e.render()}`"
        desc = (
            f"`{out}[i]` is the sum of {what} over the first i + 1 elements `x` of `{src}` "
            "(running totals)."
        )
    else:
        init = b.choice([0, -100])
        stmts = (
            Assign(acc, Const(init)),
            Assign(out, ListLit()),
            For(
                "x",
                Name(src, LIST),
                (Assign(acc, Call("max", (Name(acc, INT), x))), Append(out, Name(acc, INT))),
            ),
        )
        desc = (
            f"`{out}[i]` is the largest of {init} and the first i + 1 elements of `{src}` "
            "(a running maximum)."
        )
    return Block(stmts, out, LIST, desc)


def _t_neighbours(b: _Builder, src: str) -> Block:
    lst = Name(src, LIST)
    i = Name("i", INT)
    op, words = b.choice(
        [(">", "greater than"), ("<", "less than"), ("==", "equal to"), ("!=", "different from")]
    )
    out = b.name("count", "steps", "c")
    cond = Compare(op, Subscript(lst, i), Subscript(lst, BinOp("-", i, Const(1))))
    stmts = (
        Assign(out, Const(0)),
        For(
            "i",
            Call("range", (Const(1), Call("len", (lst,)))),
            (If(cond, (AugAssign(out, "+", Const(1)),)),),
        ),
    )
    return Block(
        stmts,
        out,
        INT,
        f"`{out}` is the number of elements of `{src}` {words} the element just before them.",
    )


def _t_differences(b: _Builder, src: str) -> Block:
    lst = Name(src, LIST)
    i = Name("i", INT)
    op = b.choice(["-", "+", "*"])
    words = {"-": "differences", "+": "sums", "*": "products"}[op]
    out = b.name("diffs" if op == "-" else "pairs", "ys", "zs")
    e = BinOp(op, Subscript(lst, i), Subscript(lst, BinOp("-", i, Const(1))))
    stmts = (Assign(out, ListComp(e, "i", Call("range", (Const(1), Call("len", (lst,)))))),)
    return Block(
        stmts,
        out,
        LIST,
        f"`{out}` lists the {words} `{src}[i] {op} {src}[i - 1]` of "
        f"neighbours, for i from 1 to len(`{src}`) - 1.",
    )


def _t_slice(b: _Builder, src: str) -> Block:
    lst = Name(src, LIST)
    out = b.name("ys", "part", "zs")
    kind = b.int(0, 3)
    if kind == 0:
        value: Expr = Slice(lst, step=Const(-1))
        desc = f"`{out}` is `{src}` reversed."
    elif kind == 1:
        r = b.int(1, 3)
        value = BinOp("+", Slice(lst, lower=Const(r)), Slice(lst, upper=Const(r)))
        desc = (
            f"`{out}` is `{src}` rotated left by {r} (its first {r} elements moved to the "
            "end, in order)."
        )
    elif kind == 2:
        start = b.int(0, 1)
        value = Slice(lst, lower=Const(start) if start else None, step=Const(2))
        desc = f"`{out}` lists every second element of `{src}`, starting at index {start}."
    else:
        value = Call("sorted", (lst,))
        desc = f"`{out}` is `{src}` sorted in increasing order."
    return Block((Assign(out, value),), out, LIST, desc)


def _t_dedupe(b: _Builder, src: str) -> Block:
    x = Name("x", INT)
    out = b.name("seen", "uniq", "ys")
    stmts = (
        Assign(out, ListLit()),
        For("x", Name(src, LIST), (If(Compare("not in", x, Name(out, LIST)), (Append(out, x),)),)),
    )
    return Block(
        stmts,
        out,
        LIST,
        f"`{out}` lists the distinct elements of `{src}` in the order of their first occurrence.",
    )


def _t_bubble(b: _Builder, src: str) -> Block:
    out = b.name("ys", "arr", "zs")
    lst = Name(out, LIST)
    i = Name("i", INT)
    nxt = BinOp("+", i, Const(1))
    stmts = (
        Assign(out, Call("list", (Name(src, LIST),))),
        For(
            "i",
            Call("range", (BinOp("-", Call("len", (lst,)), Const(1)),)),
            (If(Compare(">", Subscript(lst, i), Subscript(lst, nxt)), (Swap(out, i, nxt),)),),
        ),
    )
    return Block(
        stmts,
        out,
        LIST,
        f"`{out}` is a copy of `{src}` after one left-to-right pass "
        "of bubble sort: each pair of neighbours out of increasing order is swapped, "
        "from the first pair to the last.",
    )


def _t_pairs(b: _Builder, src: str) -> Block:
    lst = Name(src, LIST)
    i, j = Name("i", INT), Name("j", INT)
    out = b.name("pairs", "count", "c")
    kind = b.int(0, 2)
    if kind == 0:
        t = b.int(-2, 12)
        cond: Expr = Compare("==", BinOp("+", Subscript(lst, i), Subscript(lst, j)), Const(t))
        words = f"`{src}[i] + {src}[j] == {t}`"
    elif kind == 1:
        cond = Compare(">", Subscript(lst, i), Subscript(lst, j))
        words = f"`{src}[i] > {src}[j]`"
    else:
        cond = Compare("==", Subscript(lst, i), Subscript(lst, j))
        words = f"`{src}[i] == {src}[j]`"
    inner = For(
        "j",
        Call("range", (BinOp("+", i, Const(1)), Call("len", (lst,)))),
        (If(cond, (AugAssign(out, "+", Const(1)),)),),
    )
    stmts = (Assign(out, Const(0)), For("i", Call("range", (Call("len", (lst,)),)), (inner,)))
    return Block(stmts, out, INT, f"`{out}` is the number of index pairs i < j with {words}.")


def _t_until(b: _Builder, src: str) -> Block:
    x = Name("x", INT)
    cond, words = _cond_expr(b, x)
    out = b.name("total", "acc", "s")
    stmts = (
        Assign(out, Const(0)),
        For("x", Name(src, LIST), (If(cond, (Break(),)), AugAssign(out, "+", x))),
    )
    return Block(
        stmts,
        out,
        INT,
        f"`{out}` is the sum of the elements of `{src}` before the "
        f"first one that is {words} (all of them if there is none).",
    )


def _t_window(b: _Builder, src: str) -> Block:
    lst = Name(src, LIST)
    i = Name("i", INT)
    w = b.int(2, 3)
    out = b.name("best", "top", "m")
    s = b.name("s", "window", "t")
    stmts = (
        Assign(out, Const(-1000)),
        For(
            "i",
            Call("range", (BinOp("+", BinOp("-", Call("len", (lst,)), Const(w)), Const(1)),)),
            (
                Assign(s, Call("sum", (Slice(lst, i, BinOp("+", i, Const(w))),))),
                If(Compare(">", Name(s, INT), Name(out, INT)), (Assign(out, Name(s, INT)),)),
            ),
        ),
    )
    return Block(
        stmts,
        out,
        INT,
        f"`{out}` is the largest of -1000 and the sums of {w} consecutive elements of "
        f"`{src}` (-1000 if it has fewer than {w} elements).",
    )


def _t_digits(b: _Builder, src: str) -> Block:
    base = b.choice([10, 10, 2, 3, 5])
    m = b.name("m", "rest", "q")
    out = b.name("s", "digits", "total")
    step: Stmt
    kind = b.int(0, 3)
    mv = Name(m, INT)
    if kind == 3:
        step = Assign(
            out, BinOp("+", BinOp("*", Name(out, INT), Const(base)), BinOp("%", mv, Const(base)))
        )
        words = (
            f"the number whose base-{base} digits are those of abs(`{src}`) in reverse "
            "order (0 for 0)"
        )
    elif kind == 0:
        step = AugAssign(out, "+", BinOp("%", mv, Const(base)))
        words = f"the sum of the base-{base} digits of abs(`{src}`)"
    elif kind == 1:
        step = AugAssign(out, "+", Const(1))
        words = f"the number of base-{base} digits of abs(`{src}`) (0 for 0)"
    else:
        step = If(
            Compare("==", BinOp("%", BinOp("%", mv, Const(base)), Const(2)), Const(1)),
            (AugAssign(out, "+", Const(1)),),
        )
        words = f"the number of odd base-{base} digits of abs(`{src}`)"
    stmts = (
        Assign(m, Call("abs", (Name(src, INT),))),
        Assign(out, Const(0)),
        While(Compare(">", mv, Const(0)), (step, AugAssign(m, "//", Const(base)))),
    )
    return Block(stmts, out, INT, f"`{out}` is {words}.")


def _t_case(b: _Builder, src: str) -> Block:
    n = Name(src, INT)
    out = b.name("r", "y", "res")
    t = b.int(-5, 20)
    a, c, d = b.int(2, 5), b.int(1, 9), b.int(2, 4)
    hi: Expr = _plus(BinOp("*", Const(a), n), -c)
    lo: Expr = _plus(BinOp("//", n, Const(d)), b.int(0, 9))
    if b.chance(0.5):
        stmts: tuple[Stmt, ...] = (
            If(Compare(">", n, Const(t)), (Assign(out, hi),), (Assign(out, lo),)),
        )
    else:
        stmts = (Assign(out, IfExp(Compare(">", n, Const(t)), hi, lo)),)
    return Block(
        stmts,
        out,
        INT,
        f"`{out}` is `{hi.render()}` if `{src}` is greater than {t}, "
        f"otherwise `{lo.render()}` (// rounds down).",
    )


def _t_collatz(b: _Builder, src: str) -> Block:
    m = b.name("m", "q", "rest")
    out = b.name("steps", "count", "c")
    cap = b.int(8, 15)
    mv = Name(m, INT)
    stmts = (
        Assign(m, _plus(Call("abs", (Name(src, INT),)), 1)),
        Assign(out, Const(0)),
        While(
            BoolOp("and", Compare("!=", mv, Const(1)), Compare("<", Name(out, INT), Const(cap))),
            (
                If(
                    Compare("==", BinOp("%", mv, Const(2)), Const(0)),
                    (Assign(m, BinOp("//", mv, Const(2))),),
                    (Assign(m, _plus(BinOp("*", Const(3), mv), 1)),),
                ),
                AugAssign(out, "+", Const(1)),
            ),
        ),
    )
    return Block(
        stmts,
        out,
        INT,
        f"`{out}` counts the steps m -> m // 2 (m even) or m -> 3 * m "
        f"+ 1 (m odd) from m = abs(`{src}`) + 1 until m is 1, stopping after {cap} "
        "steps.",
    )


def _t_build(b: _Builder, src: str) -> Block:
    i = Name("i", INT)
    m = b.int(3, 7)
    e = _elem_expr(b, i)
    out = b.name("ys", "vals", "seq")
    count = BinOp("+", BinOp("%", Name(src, INT), Const(m)), Const(1))
    stmts = (Assign(out, ListComp(e, "i", Call("range", (count,)))),)
    return Block(
        stmts,
        out,
        LIST,
        f"`{out}` lists `{e.render()}` for i = 0, 1, ..., "
        f"`{src}` % {m} (Python's %, so from 0 to {m - 1}).",
    )


def _t_affine(b: _Builder, src: str) -> Block:
    n = Name(src, INT)
    out = b.name("r", "y", "res")
    a, c = b.int(2, 6), b.int(-9, 9)
    e = _plus(BinOp("*", n, Const(a)), c) if b.chance(0.6) else BinOp("%", _plus(n, c), Const(a))
    return Block((Assign(out, e),), out, INT, f"`{out}` is `{e.render()}`.")


@dataclass(frozen=True)
class Template:
    build: Callable[[_Builder, str], Block]
    takes: str
    level: int


TEMPLATES: dict[str, Template] = {
    "map": Template(_t_map, LIST, 1),
    "filter": Template(_t_filter, LIST, 1),
    "sum_if": Template(_t_sum_if, LIST, 1),
    "count_if": Template(_t_count_if, LIST, 1),
    "extreme": Template(_t_extreme, LIST, 1),
    "running": Template(_t_running, LIST, 1),
    "slice": Template(_t_slice, LIST, 1),
    "filter_map": Template(_t_filter_map, LIST, 2),
    "argext": Template(_t_argext, LIST, 2),
    "neighbours": Template(_t_neighbours, LIST, 2),
    "differences": Template(_t_differences, LIST, 2),
    "dedupe": Template(_t_dedupe, LIST, 2),
    "until": Template(_t_until, LIST, 2),
    "bubble": Template(_t_bubble, LIST, 3),
    "pairs": Template(_t_pairs, LIST, 3),
    "window": Template(_t_window, LIST, 3),
    "digits": Template(_t_digits, INT, 1),
    "case": Template(_t_case, INT, 1),
    "build": Template(_t_build, INT, 1),
    "affine": Template(_t_affine, INT, 2),
    "collatz": Template(_t_collatz, INT, 3),
}

# level -> (number of blocks, parameter lists with weights)
_SIGNATURES: tuple[tuple[tuple[str, str], ...], ...] = (
    (("xs", LIST),),
    (("n", INT),),
    (("xs", LIST), ("k", INT)),
)
_SIGNATURE_WEIGHTS = {1: (0.75, 0.25, 0.0), 2: (0.5, 0.2, 0.3), 3: (0.45, 0.15, 0.4)}
_BLOCKS = {1: 1, 2: 2, 3: 3}


def generate(rng: np.random.Generator, level: int, *, max_tries: int = 200) -> Program:
    """A random program at ``level`` (1-3), which sets its number of blocks and the templates it
    may use. Every parameter is read somewhere, and no template appears twice.

    >>> program = generate(np.random.default_rng(2), 1)
    >>> print(program.source(), end="")
    def f(xs):
        total = 0
        for x in xs:
            if x >= 9:
                total += abs(x - 1)
        return total
    >>> evaluate(program.func, ([12, 3, 9, -20],))
    19
    """
    for _ in range(max_tries):
        program = _try_generate(rng, level)
        if program is not None:
            return program
    raise RuntimeError(f"no program found at level {level} after {max_tries} tries")


def _try_generate(rng: np.random.Generator, level: int) -> Program | None:
    weights = _SIGNATURE_WEIGHTS[level]
    params = _SIGNATURES[int(rng.choice(len(_SIGNATURES), p=weights))]
    b = _Builder(rng, level, params)
    current, current_type = params[0]
    used: list[str] = []
    stmts: list[Stmt] = []
    descs: list[str] = []
    n_blocks = _BLOCKS[level]
    outputs: list[tuple[str, str]] = []
    for index in range(n_blocks):
        names = [
            name
            for name, t in TEMPLATES.items()
            if t.takes == current_type and t.level <= level and name not in used
        ]
        if not names:
            return None
        # Mid-chain, an int more often becomes a list again ("build") than goes through
        # another int block: long chains of int arithmetic read as contrived.
        odds = np.array(
            [3.0 if name == "build" and index < n_blocks - 1 else 1.0 for name in names]
        )
        name = names[int(rng.choice(len(names), p=odds / odds.sum()))]
        block = TEMPLATES[name].build(b, current)
        used.append(name)
        stmts.extend(block.stmts)
        descs.append(block.desc)
        current, current_type = block.out, block.out_type
        outputs.append((current, current_type))
    returned: Expr = Name(current, current_type)
    returns = f"`{current}`"
    if level == 3 and rng.random() < 0.25 and current_type == INT:
        earlier = [name for name, kind in outputs[:-1] if kind == LIST]
        if earlier:
            other = earlier[int(rng.integers(len(earlier)))]
            returned = Tuple((Name(other, LIST), Name(current, INT)))
            returns = f"the pair (`{other}`, `{current}`)"
    func = Function("f", params, (*stmts, Return(returned)))
    if not {p for p, _ in params} <= set(names_used(func)):
        return None
    return Program(func, tuple(descs), returns, tuple(used))


# ----------------------------------------------------------------------------- inputs
@dataclass(frozen=True)
class Domain:
    """Where random arguments come from: list lengths and values, and the int parameters."""

    min_len: int = 0
    max_len: int = 8
    low: int = -9
    high: int = 9
    k_low: int = -2
    k_high: int = 6
    n_low: int = -50
    n_high: int = 300


def random_args(rng: np.random.Generator, params: Sequence[tuple[str, str]], d: Domain) -> tuple:
    """One random argument tuple for ``params`` drawn from ``d``."""
    out: list[Value] = []
    for name, kind in params:
        if kind == LIST:
            n = int(rng.integers(d.min_len, d.max_len, endpoint=True))
            out.append([int(v) for v in rng.integers(d.low, d.high, size=n, endpoint=True)])
        elif name == "k":
            out.append(int(rng.integers(d.k_low, d.k_high, endpoint=True)))
        else:
            out.append(int(rng.integers(d.n_low, d.n_high, endpoint=True)))
    return tuple(out)


def describe_domain(params: Sequence[tuple[str, str]], d: Domain) -> str:
    """The inputs ``d`` gives, in words (``xs`` a list of 0 to 8 ints from -9 to 9; ...)."""
    parts = []
    for name, kind in params:
        if kind == LIST:
            ints = f"ints from {d.low} to {d.high}"
            parts.append(f"`{name}` a list of {d.min_len} to {d.max_len} {ints}")
        elif name == "k":
            parts.append(f"`{name}` an int from {d.k_low} to {d.k_high}")
        else:
            parts.append(f"`{name}` an int from {d.n_low} to {d.n_high}")
    return "; ".join(parts)


def outcome(
    func: Function, args: Sequence[Value], max_steps: int = MAX_STEPS
) -> tuple[bool, Value]:
    """``(True, value)`` or ``(False, error kind)``: `evaluate` without raising."""
    try:
        return True, _execute(func, args, max_steps)[0]
    except EvalError as err:
        return False, err.kind


def traced(func: Function, args: Sequence[Value]) -> tuple[bool, Value, int]:
    """`outcome` and the number of steps taken (0 when the call failed)."""
    try:
        value, taken = _execute(func, args, MAX_STEPS)
    except EvalError as err:
        return False, err.kind, 0
    return True, value, taken


def format_call(name: str, args: Sequence[Value]) -> str:
    """``f(1, [2, 3])``."""
    return f"{name}({', '.join(repr(a) for a in args)})"


# ----------------------------------------------------------------------------- answers


def same_value(received: Value, expected: Value) -> bool:
    """Strict equality as the sandbox's ``values_equal``: same type at every level, same value."""
    from langgames.verifiers.python import values_equal  # lazy: keeps `import langgames` light

    return values_equal(received, expected)


def parse_call_args(text: str, entry: str, n_params: int, example: str) -> tuple:
    """The arguments of ``entry(...)`` (or a tuple of them) on the last line of ``text``."""
    what = f"a call of {entry} on literal arguments"
    line = last_line(text, what=what)
    if len(line) > _MAX_LITERAL:
        raise ParseError(
            f"the last line is {len(line):,} characters long; the limit is {_MAX_LITERAL:,}. "
            f"Write {what} alone on the last line, e.g. {example}"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(line, mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        tree = None
    try:
        if isinstance(tree, ast.Call) and isinstance(tree.func, ast.Name):
            if tree.func.id != entry or tree.keywords:
                raise ParseError(
                    f"call {entry} with positional arguments only (got a call of "
                    f"{tree.func.id!r}{' with keywords' if tree.keywords else ''}); e.g. {example}"
                )
            if any(isinstance(a, ast.Starred) for a in tree.args):
                raise ParseError(f"write each argument out (no *unpacking); e.g. {example}")
            args = tuple(ast.literal_eval(a) for a in tree.args)
        elif tree is not None:
            value = ast.literal_eval(tree)
            if type(value) is tuple:
                args = value
            elif n_params == 1:
                args = (value,)
            else:
                raise ParseError(
                    f"expected {n_params} arguments as a call such as {example} (got "
                    f"{type(value).__name__} {_clip(repr(value))})"
                )
        else:
            raise ValueError
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ParseError(
            f"the last line {_clip(line)!r} is not a call of {entry} on Python literals; write "
            f"it like {example}"
        ) from None
    if len(args) != n_params:
        raise ParseError(
            f"{entry} takes {n_params} argument{'s' if n_params != 1 else ''}, your call gives "
            f"{len(args)}; e.g. {example}"
        )
    return args


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
