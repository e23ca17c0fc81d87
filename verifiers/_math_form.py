"""Form checks: is an answer written the way the question asked, beyond having the right value?

`form_problem` answers for one of `FORMS`:

- ``"expanded"``: a sum of monomials (``2*x^2 - 5*x + 3``), nothing left to multiply out;
- ``"factored"``: a product of polynomials in the answer's variables with rational coefficients,
  each irreducible over the rationals (``2*(x - 3)*(x + 1)``);
- ``"closed"``: a closed form of about the size of the reference, with no function applied at
  shifted copies of one argument (``sin(x + h)`` beside ``sin(x)``): a finite-difference stencil
  or a sum of samples is not a derivative, however close its value.

Every check reads a parsed SymPy object and never raises on a hostile one: an answer it cannot
read as the asked form *is* not in that form, and the reason says why. A check whose cost could
grow with the answer (expansion, factoring) raises `NeedsWorker` in the host (``host=True``)
unless the work is provably small, so that it runs in a worker under the deadline instead.
"""

from __future__ import annotations

from collections.abc import Callable

import sympy
from sympy import Basic, Expr, Rational, Symbol

__all__ = ["CLOSED_SIZE_FACTOR", "FORMS", "form_problem", "size"]

#: Accepted values of the ``form`` option of `langgames.verifiers.math.verify_math`.
FORMS = ("expanded", "factored", "closed")
#: A closed-form answer may have at most this many times the reference's nodes (plus a margin).
CLOSED_SIZE_FACTOR = 4
_CLOSED_SIZE_MARGIN = 24
#: Largest total degree the host factors (beyond it, a worker does, under the deadline).
_HOST_DEGREE = 12
#: What SymPy may raise on a well-formed object it cannot treat as a polynomial.
_READ_ERRORS = (
    sympy.PolynomialError,
    sympy.polys.polyerrors.PolificationFailed,
    sympy.polys.polyerrors.CoercionFailed,
    sympy.polys.polyerrors.DomainError,
    TypeError,
    ValueError,
    NotImplementedError,
    AttributeError,
    ArithmeticError,
)


def size(expr: Basic) -> int:
    """The number of nodes of ``expr``'s tree (a fair measure of how much was written)."""
    return sum(1 for _ in sympy.preorder_traversal(expr))


def _polynomial_in(expr: Expr, gens: list[Symbol]) -> sympy.Poly | None:
    """``expr`` as a polynomial with rational coefficients in ``gens``, else ``None``."""
    if not gens:
        return None
    try:
        poly = sympy.Poly(expr, *gens)
    except _READ_ERRORS:
        return None
    domain = poly.get_domain()
    if not (domain.is_ZZ or domain.is_QQ):
        return None
    return poly


def _expanded(expr: Basic, host: bool, cheap: Callable[[Basic], bool]) -> str | None:
    if not isinstance(expr, Expr):
        return "it is not an expression"
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and isinstance(node.base, sympy.Add):
            return "it is not fully expanded (a power of a sum remains)"
        if isinstance(node, sympy.Mul) and any(isinstance(a, sympy.Add) for a in node.args):
            return "it is not fully expanded (a product with a sum remains)"
    if host and not cheap(expr):
        from langgames.verifiers._math_compare import NeedsWorker

        raise NeedsWorker
    if sympy.expand(expr) != expr:
        return "it is not fully expanded"
    return None


def _factored(expr: Basic, host: bool, cheap: Callable[[Basic], bool]) -> str | None:
    if not isinstance(expr, Expr):
        return "it is not an expression"
    gens = sorted(expr.free_symbols, key=lambda s: s.name)
    if not gens:
        return "it is a number, not a product of factors in x"
    constant_seen = False
    for factor in sympy.Mul.make_args(expr):
        base, exponent = factor.as_base_exp()
        if not base.free_symbols:
            if not isinstance(factor, Rational):
                return f"its constant factor {sympy.sstr(factor)[:40]} is not a rational number"
            if constant_seen:
                return "it has more than one constant factor"
            constant_seen = True
            continue
        if not (isinstance(exponent, sympy.Integer) and exponent > 0):
            return f"{sympy.sstr(factor)[:60]} is not a polynomial factor"
        if host and not cheap(base):
            from langgames.verifiers._math_compare import NeedsWorker

            raise NeedsWorker
        poly = _polynomial_in(base, gens)
        if poly is None:
            return (
                f"{sympy.sstr(base)[:60]} is not a polynomial with rational coefficients in "
                f"{', '.join(s.name for s in gens)}"
            )
        if poly.total_degree() < 1:
            return f"{sympy.sstr(base)[:60]} is a constant written as a factor"
        if host and poly.total_degree() > _HOST_DEGREE:
            from langgames.verifiers._math_compare import NeedsWorker

            raise NeedsWorker
        _, parts = poly.factor_list()
        if len(parts) != 1 or parts[0][1] != 1:
            return f"it is not completely factored ({sympy.sstr(base)[:60]} factors further)"
    return None


def _shifted_arguments(expr: Basic) -> tuple[str, str, str] | None:
    """Two applications of one function (or powers of one base) whose arguments differ by a
    non-zero constant: ``(function, first, second)``, else ``None``."""
    seen: dict[str, list[Expr]] = {}
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, sympy.Pow) and node.base.free_symbols:
            key, argument = "power", node.base
        elif isinstance(node, sympy.Function) and len(node.args) == 1 and node.free_symbols:
            key, argument = type(node).__name__, node.args[0]
        else:
            continue
        if not isinstance(argument, Expr):
            continue
        group = seen.setdefault(key, [])
        if argument in group or len(group) > 64:
            continue
        for other in group:
            gap = argument - other
            if gap != 0 and not gap.free_symbols:
                return key, sympy.sstr(other)[:40], sympy.sstr(argument)[:40]
        group.append(argument)
    return None


def _closed(expr: Basic, reference: Basic) -> str | None:
    if not isinstance(expr, Expr):
        return "it is not one expression"
    limit = CLOSED_SIZE_FACTOR * size(reference) + _CLOSED_SIZE_MARGIN
    written = size(expr)
    if written > limit:
        return (
            f"it is far larger than a closed form needs ({written} parts; the reference has "
            f"{size(reference)}): simplify it"
        )
    if _shifted_arguments(reference) is None:
        shifted = _shifted_arguments(expr)
        if shifted is not None:
            name, first, second = shifted
            what = "a power of" if name == "power" else f"{name} at"
            return (
                f"it evaluates {what} {first} and at the shifted {second}: a finite-difference "
                "formula is not a closed form"
            )
    return None


def form_problem(
    expr: Basic,
    form: str,
    *,
    reference: Basic | None = None,
    host: bool = False,
    cheap: Callable[[Basic], bool] | None = None,
) -> str | None:
    """Why ``expr`` is not in ``form`` (one of `FORMS`), or ``None`` if it is.

    ``reference`` is the expected answer (``"closed"`` compares sizes with it). In the host
    (``host=True``), work that is not provably small raises ``NeedsWorker``; ``cheap`` says
    whether expanding an expression is provably small.

    >>> x = sympy.Symbol("x")
    >>> form_problem((x - 1) * (x + 1), "factored") is None
    True
    >>> form_problem((x - 1) * (sympy.sin(x)**2 + sympy.cos(x)**2), "factored")
    'sin(x)**2 + cos(x)**2 is not a polynomial with rational coefficients in x'
    """
    always: Callable[[Basic], bool] = cheap or (lambda _: True)
    try:
        if form == "expanded":
            return _expanded(expr, host, always)
        if form == "factored":
            return _factored(expr, host, always)
        if form == "closed":
            return _closed(expr, reference if reference is not None else expr)
    except RecursionError:
        return "it is nested too deeply to read as the requested form"
    except _READ_ERRORS as err:
        return f"it could not be read as the requested form ({type(err).__name__})"
    raise ValueError(f"unknown form {form!r}; expected one of {FORMS}")
