"""ScholarsCircle's run-time subset: circle programs run under the rules they were checked against.

The static check (`langgames.verifiers.pysubset`) reads the source; a program can still build a
dunder name at run time (``operator.attrgetter('__glo' + 'bals__')``, ``'{0.__class__}'.format``)
and reach ``__builtins__``, ``sys._getframe`` or ``os``. So a circle program never runs as
written. On the host its AST is rewritten (never executed):

* every attribute read ``a.b`` becomes ``_lg_ga(a, 'b')``: names that start with ``_`` (except
  non-dunder ones on the program's own objects), frame, code and generator internals
  (``gi_frame``, ``f_back``, ``tb_frame``...), ``format``/``format_map`` of ``str`` (replaced by
  a formatter whose field lookups are guarded) and ABC ``register`` are refused at run time, and
  no module object is ever returned;
* every attribute write ``a.b = v`` goes through ``_lg_wa(a)``: only the program's own objects and
  classes may be written;
* sets iterate in a canonical order (sorted by type and value; functions and classes by the
  order the program created them; otherwise by ``repr``), never in the order of their hash table:
  set displays, comprehensions, the ``set``/``frozenset`` builtins, set operations and dict views'
  set operations (``d.keys() & s``) all make such sets, so a set of strings reads the same under
  every ``PYTHONHASHSEED`` and a set of lambdas the same at every address (Python leaves the order
  unspecified; this is one legal order). What this misses, the validator's runs in three
  processes with drawn hash seeds catch;
* f-strings and ``%`` formatting are scrubbed of object addresses (`` at 0x...``), as are
  ``repr``, ``str``, ``ascii`` and ``format``, and the program's classes get a deterministic
  default ``repr`` and ``hash``: an address is a coin the explorer could flip between runs.

The rewritten source travels to the sandbox inside a small harness (`harness`): it compiles the
program once per job and, **for every call**, executes it in a fresh namespace whose builtins are
an allow-list (no ``open``, ``eval``, ``exec``, ``getattr``, ``type``, ``id``, ``hash``,
``globals``...), whose ``import`` hands out read-only proxies of the allowed modules (no module
attribute, no ``operator.attrgetter`` or ``string.Formatter`` that could read a dunder, no
``functools.singledispatch``, which evaluates annotation strings), then calls the entry point with
the call's arguments. Nothing survives from one call to the next, and every call has the same
shape, so a program cannot tell a validation run from a judging run. The sandbox's process
isolation still contains whatever this layer misses.

Names beginning with ``_lg_`` are reserved for the harness (`reserved_names` refuses them).
"""

from __future__ import annotations

import ast
import functools
import warnings
from collections.abc import Iterable

__all__ = ["ENTRY", "RESERVED_PREFIX", "harness", "reserved_names", "rewrite"]

RESERVED_PREFIX = "_lg_"
#: The harness function the sandbox calls (it calls the program's own entry point).
ENTRY = "_lg_entry"


def reserved_names(tree: ast.AST) -> list[str]:
    """Identifiers in ``tree`` that use the harness's reserved prefix (they must be refused)."""
    found: list[str] = []
    for node in ast.walk(tree):
        names: list[str | None] = []
        if isinstance(node, ast.Name):
            names.append(node.id)
        elif isinstance(node, ast.arg):
            names.append(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.alias):
            names += [node.name, node.asname]
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            names += list(node.names)
        elif isinstance(node, (ast.ExceptHandler, ast.MatchAs, ast.MatchStar)):
            names.append(node.name)
        elif isinstance(node, ast.MatchMapping):
            names.append(node.rest)
        elif isinstance(node, ast.Attribute):
            names.append(node.attr)
        elif isinstance(node, ast.keyword):
            names.append(node.arg)
        found += [n for n in names if n and n.startswith(RESERVED_PREFIX)]
    return found


class _Guard(ast.NodeTransformer):
    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            call = ast.Call(
                func=ast.Name(id="_lg_ga", ctx=ast.Load()),
                args=[node.value, ast.Constant(node.attr)],
                keywords=[],
            )
            return ast.copy_location(call, node)
        node.value = ast.Call(
            func=ast.Name(id="_lg_wa", ctx=ast.Load()), args=[node.value], keywords=[]
        )
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        self.generic_visit(node)
        call = ast.Call(func=ast.Name(id="_lg_sc", ctx=ast.Load()), args=[node], keywords=[])
        return ast.copy_location(call, node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        # Visit the value and the spec, but do not wrap the nested JoinedStr of a format spec
        # (a spec must stay a JoinedStr); the enclosing f-string's result is scrubbed anyway.
        node.value = self.visit(node.value)
        if node.format_spec is not None:
            for i, part in enumerate(node.format_spec.values):  # type: ignore[attr-defined]
                node.format_spec.values[i] = self.visit(part)  # type: ignore[attr-defined]
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        self.generic_visit(node)
        call = ast.Call(func=ast.Name(id="_lg_fn", ctx=ast.Load()), args=[node], keywords=[])
        return ast.copy_location(call, node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.decorator_list.append(ast.Name(id="_lg_fn", ctx=ast.Load()))  # applied first
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        self.generic_visit(node)
        elements = ast.List(elts=node.elts, ctx=ast.Load())
        call = ast.Call(func=ast.Name(id="_lg_mkset", ctx=ast.Load()), args=[elements], keywords=[])
        return ast.copy_location(call, node)

    def visit_SetComp(self, node: ast.SetComp) -> ast.AST:
        self.generic_visit(node)
        gen = ast.GeneratorExp(elt=node.elt, generators=node.generators)
        call = ast.Call(func=ast.Name(id="_lg_mkset", ctx=ast.Load()), args=[gen], keywords=[])
        return ast.copy_location(call, node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Mod):
            call = ast.Call(
                func=ast.Name(id="_lg_mod", ctx=ast.Load()),
                args=[node.left, node.right],
                keywords=[],
            )
            return ast.copy_location(call, node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Mod):  # x %= y -> x = _lg_mod(x, y) (names only)
            if not isinstance(node.target, ast.Name):
                raise ValueError(
                    f"line {node.lineno}: `%=` is only allowed on a plain name; write "
                    "`a[i] = a[i] % b`"
                )
            if isinstance(node.target, ast.Name):
                load = ast.Name(id=node.target.id, ctx=ast.Load())
                value = ast.Call(
                    func=ast.Name(id="_lg_mod", ctx=ast.Load()),
                    args=[load, node.value],
                    keywords=[],
                )
                return ast.copy_location(ast.Assign(targets=[node.target], value=value), node)
        return node


@functools.lru_cache(maxsize=1024)
def rewrite(code: str) -> str:
    """The guarded source of a program that passed the static subset check (see the module
    docstring). Raises `SyntaxError` for code that does not parse and `ValueError` when the
    program uses a reserved ``_lg_`` name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        tree = ast.parse(code, "<program>", "exec")
    reserved = reserved_names(tree)
    if reserved:
        raise ValueError(f"the name {reserved[0]!r} is reserved (names starting {RESERVED_PREFIX})")
    tree = ast.fix_missing_locations(_Guard().visit(tree))
    return ast.unparse(tree)


def harness(
    code: str, entry: str, allowed_imports: Iterable[str], *, allow_print: bool, math: bool = False
) -> str:
    """The source sent to the sandbox: the guard runtime, the rewritten program, and `ENTRY`,
    which runs the program in a fresh namespace and calls its ``entry`` with the call's
    arguments. With ``math``, `ENTRY` returns ``[answer, equation]``: the answer converted to
    plain data (``["int", n]``, ``["frac", p, q]``, ``["expr", text]``, ``["set", [...], n]``
    or ``["bad", type name]``) and the text returned by the program's ``equation()``, if any.

    The runtime travels as compressed, marshalled bytecode (compiling its source took most of a
    job's time), with its compressed source as a fallback for a sandbox interpreter of another
    version."""
    blob, source, tag = _runtime_blob()
    args = (
        repr(tuple(sorted(set(allowed_imports)))),
        repr(bool(allow_print)),
        repr(rewrite(code)),
        repr(entry),
        repr(bool(math)),
    )
    return (
        "import marshal as _lg_marshal, sys as _lg_sys, zlib as _lg_zlib, binascii as _lg_b64\n"
        f"if _lg_sys.implementation.cache_tag == {tag!r}:\n"
        f"    _lg_rt = _lg_marshal.loads(_lg_zlib.decompress(_lg_b64.a2b_base64({blob!r})))\n"
        "else:  # another interpreter in the sandbox: compile the runtime's source there\n"
        f"    _lg_rt = compile(_lg_zlib.decompress(_lg_b64.a2b_base64({source!r})), "
        "'<circle-runtime>', 'exec')\n"
        "_lg_ns = {'__name__': '__circle_runtime__'}\n"
        "exec(_lg_rt, _lg_ns)\n"
        "del _lg_marshal, _lg_sys, _lg_zlib, _lg_b64\n"
        f"_lg_entry = _lg_ns['_lg_setup']({', '.join(args)})\n"
    )


_BLOB: tuple[str, str, str] | None = None


def _runtime_blob() -> tuple[str, str, str]:
    """The runtime compiled here (trusted source, never model text) and marshalled, and its
    source, both compressed and base64-encoded: a short ASCII literal is quick to send, parse
    and decode (the job's size was most of its cost)."""
    global _BLOB
    if _BLOB is None:
        import base64
        import marshal
        import sys
        import zlib

        code = compile(_RUNTIME, "<circle-runtime>", "exec")
        blob = base64.b64encode(zlib.compress(marshal.dumps(code), 9)).decode("ascii")
        source = base64.b64encode(zlib.compress(_RUNTIME.encode("utf-8"), 9)).decode("ascii")
        _BLOB = (blob, source, str(sys.implementation.cache_tag))
    return _BLOB


# The trusted runtime, run in the sandbox (never on the host). Its names start with `_lg_`, which
# programs may not use; programs never see this module's globals (no frames, no __globals__).
_RUNTIME = r'''
import builtins as _lg_b
import importlib as _lg_il
import re as _lg_re
import string as _lg_string
import types as _lg_types
import _string as _lg_fs

_lg_ALLOWED = ()
_lg_ADDR = _lg_re.compile(r" at 0x[0-9a-fA-F]+")
_lg_real_str, _lg_real_repr, _lg_real_format = str, repr, format
_lg_Module = _lg_types.ModuleType
_lg_BAD_TYPES = (_lg_types.FrameType, _lg_types.TracebackType, _lg_types.CodeType,
                 _lg_types.ModuleType)
_lg_BAD_PREFIX = ("gi_", "cr_", "ag_", "f_", "tb_", "co_")
_lg_BAD_NAMES = frozenset(("mro", "register"))
_lg_user = []  # the program's classes, this call


_lg_BADDR = _lg_re.compile(rb" at 0x[0-9a-fA-F]+")


def _lg_sc(s):
    if isinstance(s, _lg_real_str):
        return _lg_ADDR.sub(" at 0x0", s) if " at 0x" in s else s
    if isinstance(s, (bytes, bytearray)):
        return _lg_BADDR.sub(b" at 0x0", s)
    return s


def _lg_mine(obj):
    return bool(_lg_user) and (isinstance(obj, tuple(_lg_user)) or
                               (isinstance(obj, type) and issubclass(obj, tuple(_lg_user))))


class _lg_Formatter(_lg_string.Formatter):
    def get_field(self, field_name, args, kwargs):
        first, rest = _lg_fs.formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            obj = _lg_ga(obj, key) if is_attr else obj[key]
        return obj, first

    def vformat(self, format_string, args, kwargs):
        return _lg_sc(super().vformat(format_string, args, kwargs))


def _lg_format_method(template):
    def format(*args, **kwargs):
        return _lg_Formatter().vformat(template, args, kwargs)
    return format


def _lg_format_map_method(template):
    def format_map(mapping):
        return _lg_Formatter().vformat(template, (), mapping)
    return format_map


def _lg_ga(obj, name):
    if not isinstance(name, _lg_real_str):
        raise TypeError("attribute name must be a string")
    if name in ("format", "format_map") and (
        isinstance(obj, _lg_real_str) or (isinstance(obj, type) and issubclass(obj, _lg_real_str))
    ):
        if isinstance(obj, _lg_real_str):
            return (_lg_format_method if name == "format" else _lg_format_map_method)(obj)
        if name == "format":
            return lambda template, *a, **k: _lg_format_method(template)(*a, **k)
        raise AttributeError(f"access to attribute {name!r} is not allowed in this subset")
    if name == "mro":  # a class's bases include the runtime's originals (string.Formatter...)
        raise AttributeError("access to attribute 'mro' is not allowed in this subset")
    mine = _lg_mine(obj)
    if name.startswith("__") or (name.startswith("_") and not mine):
        raise AttributeError(f"access to attribute {name!r} is not allowed in this subset")
    if not mine:
        if name.startswith(_lg_BAD_PREFIX) or name in _lg_BAD_NAMES:
            raise AttributeError(f"access to attribute {name!r} is not allowed in this subset")
    value = getattr(obj, name)
    if isinstance(value, _lg_BAD_TYPES):
        raise AttributeError(f"access to attribute {name!r} is not allowed in this subset")
    if (name == "keys" or name == "items") and callable(value):
        return lambda *args: _lg_view(value(*args))
    return value


def _lg_wa(obj):
    if _lg_mine(obj) and not isinstance(obj, _lg_Proxy):
        return obj
    raise AttributeError("only the program's own objects and classes may be given attributes")


def _lg_mod(a, b):
    return _lg_sc(a % b)


def _lg_attrgetter(*names):
    for n in names:
        if not isinstance(n, _lg_real_str):
            raise TypeError("attribute name must be a string")
    def get(obj):
        out = []
        for n in names:
            value = obj
            for part in n.split("."):
                value = _lg_ga(value, part)
            out.append(value)
        return out[0] if len(out) == 1 else tuple(out)
    return get


def _lg_methodcaller(name, /, *args, **kwargs):
    if not isinstance(name, _lg_real_str):
        raise TypeError("method name must be a string")
    return lambda obj: _lg_ga(obj, name)(*args, **kwargs)


class _lg_Proxy:
    """A read-only view of an allowed module's public names."""
    __slots__ = ("_lg_name", "_lg_values")

    def __init__(self, name, values):
        object.__setattr__(self, "_lg_name", name)
        object.__setattr__(self, "_lg_values", values)

    def __getattr__(self, name):
        values = object.__getattribute__(self, "_lg_values")
        if name in values:
            return values[name]
        raise AttributeError(f"module {object.__getattribute__(self, '_lg_name')!r} has no "
                             f"attribute {name!r} here")

    def __setattr__(self, name, value):
        raise AttributeError("modules are read-only")

    def __delattr__(self, name):
        raise AttributeError("modules are read-only")

    def __dir__(self):
        return sorted(object.__getattribute__(self, "_lg_values"))

    def __repr__(self):
        return f"<module {object.__getattribute__(self, '_lg_name')!r}>"

    @property
    def __all__(self):
        return sorted(object.__getattribute__(self, "_lg_values"))

    @property
    def __dict__(self):  # used by `from module import *` when __all__ is absent
        return dict(object.__getattribute__(self, "_lg_values"))


_lg_SWAPS = {
    ("operator", "attrgetter"): _lg_attrgetter,
    ("operator", "methodcaller"): _lg_methodcaller,
    ("string", "Formatter"): _lg_Formatter,
}
_lg_DROP = {("functools", "singledispatch"), ("functools", "singledispatchmethod")}
_lg_proxies = {}


def _lg_allowed(name):
    return any(name == m or name.startswith(m + ".") for m in _lg_ALLOWED)


def _lg_proxy(name):
    if name in _lg_proxies:
        return _lg_proxies[name]
    real = _lg_il.import_module(name)
    values = {}
    for key in dir(real):
        if key.startswith("_") or (name, key) in _lg_DROP:
            continue
        value = getattr(real, key)
        if isinstance(value, _lg_Module):
            full = value.__name__
            if full == f"{name}.{key}" and _lg_allowed(full):
                value = _lg_proxy(full)
            else:
                continue
        elif isinstance(value, _lg_BAD_TYPES):
            continue
        values[key] = _lg_SWAPS.get((name, key), value)
    proxy = _lg_Proxy(name, values)
    _lg_proxies[name] = proxy
    return proxy


def _lg_import(name, globals=None, locals=None, fromlist=(), level=0):
    if level or not isinstance(name, _lg_real_str) or not _lg_allowed(name):
        raise ImportError(f"import of module {name!r} is not allowed in this subset")
    if fromlist:
        return _lg_proxy(name)
    top = name.split(".")[0]
    proxy = _lg_proxy(top)
    # `import a.b` binds `a`; make sure a.b is reachable through it.
    _lg_proxy(name)
    return proxy


class _lg_StrMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, _lg_real_str)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, _lg_real_str)


class _lg_str(_lg_real_str, metaclass=_lg_StrMeta):
    def __new__(cls, *args, **kwargs):
        text = _lg_real_str(*args, **kwargs)
        if cls is _lg_str:
            return _lg_sc(text)
        return _lg_real_str.__new__(cls, text)


_lg_real_set, _lg_real_frozenset = set, frozenset


_lg_counter = [0]


def _lg_fn(func):
    """Numbers the program's functions and lambdas in order of creation: the tie-breaker that
    orders a set of functions without their addresses."""
    _lg_counter[0] += 1
    try:
        func._lg_n = _lg_counter[0]
    except (AttributeError, TypeError):
        pass
    return func


def _lg_slow_key(v):
    n = getattr(v, "_lg_n", 0) if callable(v) else 0
    return (type(v).__name__, n if type(n) is int else 0, _lg_sc(_lg_real_repr(v)))


def _lg_fast_key(v):
    t = type(v)
    if t is int or t is str or t is float or t is bytes or t is bool:
        return (t.__name__, 0, v)
    return _lg_slow_key(v)


def _lg_ordered(items):
    items = list(items)
    try:
        return sorted(items, key=_lg_fast_key)
    except TypeError:
        return sorted(items, key=_lg_slow_key)


_lg_dict_views = (type({}.keys()), type({}.items()))


def _lg_view(view):
    if isinstance(view, _lg_dict_views):
        return _lg_KeysView(view) if isinstance(view, _lg_dict_views[0]) else _lg_ItemsView(view)
    return view


class _lg_ViewMixin:
    """A dict view whose set operations give the runtime's ordered sets (a plain view's give a
    set in hash-table order)."""
    __slots__ = ("_lg_v",)

    def __init__(self, view):
        self._lg_v = view

    def __iter__(self):
        return iter(self._lg_v)

    def __len__(self):
        return len(self._lg_v)

    def __contains__(self, item):
        return item in self._lg_v

    def __repr__(self):
        return _lg_real_repr(self._lg_v)

    @classmethod
    def _from_iterable(cls, items):
        return _lg_set(items)


import collections.abc as _lg_cabc


class _lg_KeysView(_lg_ViewMixin, _lg_cabc.Set):
    __slots__ = ()


class _lg_ItemsView(_lg_ViewMixin, _lg_cabc.Set):
    __slots__ = ()


class _lg_SetMeta(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, cls._lg_base)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls._lg_base)


def _lg_set_repr(self, name):
    if not self:
        return f"{name}()"
    body = "{" + ", ".join(_lg_real_repr(v) for v in self) + "}"
    return body if name == "set" else f"frozenset({body})"


class _lg_set(set, metaclass=_lg_SetMeta):
    _lg_base = set

    def __iter__(self):
        return iter(_lg_ordered(_lg_real_set.__iter__(self)))

    def __repr__(self):
        return _lg_set_repr(self, "set")

    def pop(self):
        if not self:
            raise KeyError("pop from an empty set")
        value = next(iter(self))
        self.discard(value)
        return value


class _lg_frozenset(frozenset, metaclass=_lg_SetMeta):
    _lg_base = frozenset

    def __iter__(self):
        return iter(_lg_ordered(_lg_real_frozenset.__iter__(self)))

    def __repr__(self):
        return _lg_set_repr(self, "frozenset")


def _lg_rewrap(base):
    def method(self, *args):
        out = base(self, *args)
        if type(out) is _lg_real_set:
            return _lg_set(out)
        if type(out) is _lg_real_frozenset:
            return _lg_frozenset(out)
        return out
    return method


for _lg_name in ("__or__", "__and__", "__sub__", "__xor__", "__ror__", "__rand__", "__rsub__",
                 "__rxor__", "union", "intersection", "difference", "symmetric_difference",
                 "copy"):
    setattr(_lg_set, _lg_name, _lg_rewrap(getattr(_lg_real_set, _lg_name)))
    setattr(_lg_frozenset, _lg_name, _lg_rewrap(getattr(_lg_real_frozenset, _lg_name)))


def _lg_mkset(items):
    return _lg_set(items)


def _lg_plain(v, depth=0):
    """The program's result with the runtime's own types turned back into plain ones."""
    if depth > 50:
        return v
    t = type(v)
    if t is _lg_set or t is _lg_real_set:
        return _lg_real_set(_lg_plain(x, depth + 1) for x in _lg_real_set.__iter__(v))
    if t is _lg_frozenset or t is _lg_real_frozenset:
        return _lg_real_frozenset(_lg_plain(x, depth + 1) for x in _lg_real_frozenset.__iter__(v))
    if t is list:
        return [_lg_plain(x, depth + 1) for x in v]
    if t is tuple:
        return tuple(_lg_plain(x, depth + 1) for x in v)
    if t is dict:
        return {_lg_plain(k, depth + 1): _lg_plain(x, depth + 1) for k, x in v.items()}
    return v


def _lg_repr(obj):
    return _lg_sc(_lg_real_repr(obj))


def _lg_ascii(obj):
    return _lg_sc(ascii(obj))


def _lg_format(obj, spec=""):
    return _lg_sc(_lg_real_format(obj, spec))


def _lg_hasattr(obj, name):
    try:
        _lg_ga(obj, name)
    except AttributeError:
        return False
    return True


def _lg_default_repr(self):
    return f"<{type(self).__name__} object>"


def _lg_default_hash(self):
    return 0


_lg_real_build_class = _lg_b.__build_class__


def _lg_build_class(func, name, *bases, **kwargs):
    if "metaclass" in kwargs:
        raise TypeError("metaclasses are not allowed in this subset")
    cls = _lg_real_build_class(func, name, *bases, **kwargs)
    if cls.__repr__ is object.__repr__:
        cls.__repr__ = _lg_default_repr
    if cls.__hash__ is object.__hash__:
        cls.__hash__ = _lg_default_hash
    _lg_user.append(cls)
    _lg_counter[0] += 1
    type.__setattr__(cls, "_lg_n", _lg_counter[0])
    return cls


_lg_SAFE = (
    "abs all any bin bool bytearray bytes callable chr complex dict divmod enumerate filter "
    "float frozenset hex int isinstance issubclass iter len list map max min next oct ord pow "
    "range reversed round set slice sorted sum tuple zip property staticmethod classmethod "
    "True False None NotImplemented Ellipsis ArithmeticError AssertionError AttributeError "
    "BaseException Exception IndexError KeyError LookupError NameError NotImplementedError "
    "OverflowError RecursionError RuntimeError StopIteration TypeError ValueError "
    "ZeroDivisionError UnicodeError ImportError"
).split()
_lg_builtins = {n: getattr(_lg_b, n) for n in _lg_SAFE}
_lg_builtins.update(
    __build_class__=_lg_build_class, __import__=_lg_import, str=_lg_str, repr=_lg_repr,
    ascii=_lg_ascii, format=_lg_format, hasattr=_lg_hasattr, set=_lg_set, frozenset=_lg_frozenset,
)
_lg_print = print
del _lg_b


def _lg_math_value(v, depth=0):
    import fractions
    if isinstance(v, bool):
        return ["bad", "bool"]
    if isinstance(v, int):
        return ["int", int.__index__(v)]
    if isinstance(v, fractions.Fraction):
        q = fractions.Fraction(int.__index__(v.numerator), int.__index__(v.denominator))
        return ["int", q.numerator] if q.denominator == 1 else ["frac", q.numerator, q.denominator]
    if isinstance(v, _lg_real_str):
        return ["expr", _lg_real_str.__str__(v)[:10000]]
    if depth == 0 and isinstance(v, (list, tuple, set, frozenset)):
        items = list(v)
        return ["set", [_lg_math_value(x, 1) for x in items[:50]], len(items)]
    return ["bad", type(v).__name__]


def _lg_setup(allowed, allow_print, source, entry, math):
    global _lg_ALLOWED
    _lg_ALLOWED = allowed
    if allow_print:
        _lg_builtins["print"] = _lg_print
    code = compile(source, "<program>", "exec")

    def _lg_entry(*args):
        _lg_user.clear()
        _lg_counter[0] = 0
        namespace = {
            "__builtins__": _lg_builtins, "__name__": "__circle__", "_lg_ga": _lg_ga,
            "_lg_wa": _lg_wa, "_lg_sc": _lg_sc, "_lg_mod": _lg_mod, "_lg_mkset": _lg_mkset,
            "_lg_fn": _lg_fn,
        }
        exec(code, namespace)
        func = namespace.get(entry)
        if not callable(func):
            raise NameError(f"the program defines no function named {entry!r}")
        if not math:
            return _lg_plain(func(*args))
        answer = _lg_math_value(func())
        equation = namespace.get("equation")
        if equation is None:
            return [answer, None]
        text = equation() if callable(equation) else equation
        if not isinstance(text, _lg_real_str):
            raise TypeError("equation() must return the equation as text, e.g. '3x + 7 = 25'")
        return [answer, _lg_real_str.__str__(text)[:2000]]

    return _lg_entry
'''
