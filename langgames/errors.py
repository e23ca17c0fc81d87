"""The one exception hierarchy of langgames.

Every error raised for *user* input says what was expected, what was received and how to fix it.
A model's action is never a reason to raise: it gets a verdict instead. These exceptions are for
programming errors (a wrong keyword argument, an unknown game id, a missing optional dependency).

Each class also derives from the matching built-in exception, so ``except ValueError`` and friends
keep working for callers who do not know about langgames.

Every exception a caller can meet is defined here (and re-exported where it is raised, so
``langgames.verifiers.exact.MathParseError`` and friends still work). Exceptions that never leave
the library's internals stay private to their modules: control flow of the program interpreter
(``envs/_programs.py``), and the worker pipe protocol and value codec, which also run inside
sandbox workers that cannot import langgames (``verifiers/_wire.py``, ``_sandbox_worker.py``).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConformanceError",
    "ContractError",
    "DatasetError",
    "InvalidActionType",
    "InvalidArgument",
    "LangGamesError",
    "LibraryCorrupt",
    "MathParseError",
    "MathSizeError",
    "MissingExtra",
    "NotExact",
    "ParseError",
    "PolicyError",
    "ResetNeeded",
    "SandboxUnavailable",
    "TooLarge",
    "Undefined",
    "UnknownGame",
    "Unsupported",
    "did_you_mean",
]


class LangGamesError(Exception):
    """Base class of every exception raised by langgames."""


class InvalidArgument(LangGamesError, ValueError):
    """A keyword argument or parameter has a wrong name, type or value."""


class UnknownGame(LangGamesError, LookupError):
    """No game is registered under the requested id."""

    def __str__(self) -> str:  # LookupError would otherwise quote the message like a KeyError
        return str(self.args[0]) if self.args else ""


class InvalidActionType(LangGamesError, TypeError):
    """``env.step`` received something that is not text at all (a programming error, not a move)."""


class MissingExtra(LangGamesError, ImportError):
    """An optional integration was used without its extra installed."""

    def __init__(self, feature: str, extra: str, package: str) -> None:
        super().__init__(
            f"{feature} needs the optional package {package!r}, which is not installed. "
            f"Install it with: pip install 'langgames[{extra}]'"
        )
        self.feature = feature
        self.extra = extra
        self.package = package


class ConformanceError(LangGamesError, AssertionError):
    """A game failed a check of the conformance kit (``langgames.testing.check_game``)."""


def did_you_mean(name: str, choices: Iterable[str], *, n: int = 3) -> str:
    """Return ``" Did you mean: `a`, `b`?"`` for the closest choices, or ``""`` if none is close."""
    pool = list(choices)
    close = difflib.get_close_matches(name, pool, n=n, cutoff=0.5)
    if not close:
        lowered = {c.lower(): c for c in pool}
        close = [lowered[c] for c in difflib.get_close_matches(name.lower(), lowered, n=n)]
    if not close:
        return ""
    return " Did you mean: " + ", ".join(f"`{c}`" for c in close) + "?"


class ResetNeeded(LangGamesError, RuntimeError):
    """``step`` was called before ``reset`` or after the episode ended."""


class ParseError(Exception):
    """Raised by a game's `LanguageGame._play` when a move cannot be read.

    ``reason`` is shown to the player, followed by the game's answer format, so it should say what
    was wrong in terms the player can fix (``"expected a number after 'guess', got 'fifty'"``).
    It is the *player's* error, turned into an `unparseable` verdict, never raised to the caller;
    so it does not derive from `LangGamesError`.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ContractError(ParseError, ValueError):
    """A reply the reply contract cannot read (`langgames.contract`), e.g. one that ends inside
    a reasoning block. The base class turns it into an `unparseable` verdict."""


# ---------------------------------------------------------------------------------------------
# Raised by the math verifiers on text they cannot read (`langgames.verifiers.exact`). A model's
# answer that fails to parse gets an `unparseable` verdict; these reach only direct callers of the
# parser and evaluator.


class MathParseError(ValueError):
    """The text is not a mathematical answer the parser can read.

    Attributes:
        message: what went wrong, in words a person (or a model) can act on.
        position: index in the text where reading failed, or ``None``.
    """

    def __init__(self, message: str, position: int | None = None) -> None:
        self.message = message
        self.position = position
        super().__init__(message)

    def __reduce__(self) -> tuple[type, tuple[str, int | None]]:  # crosses worker pipes intact
        return (type(self), (self.message, self.position))


class MathSizeError(MathParseError):
    """The text exceeds a limit (length, nesting, size of a number): refused before any work."""


class Unsupported(ValueError):
    """The formula uses something outside the vocabulary (a function, a constant such as pi)."""


class Undefined(ValueError):
    """The formula has no value at this point (division by zero, factorial of -1, ...)."""


class TooLarge(ValueError):
    """A value met while evaluating exceeds `langgames.verifiers.exact.MAX_BITS` bits."""


class NotExact(ValueError):
    """The value is not rational (a root that is not exact, or an even root of a negative)."""


# ---------------------------------------------------------------------------------------------
# Games' own data.


class DatasetError(InvalidArgument):
    """The data given to a dataset game cannot be used as asked (the message says how to fix it)."""


class LibraryCorrupt(LangGamesError, RuntimeError):
    """A ScholarsCircle library archive cannot be used (not a library, another format, or SQLite
    reports damage)."""


# ---------------------------------------------------------------------------------------------
# The Python sandbox (`langgames.verifiers.python`).


class SandboxUnavailable(LangGamesError, RuntimeError):
    """The sandbox could not start (or a required layer is missing and was asked for)."""


# ---------------------------------------------------------------------------------------------
# Model policies.


class PolicyError(LangGamesError, RuntimeError):
    """A model policy could not produce a reply (after its retries). ``kind`` names the cause."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind

    def __reduce__(self) -> tuple[type, tuple[str, str]]:
        return (type(self), (str(self), self.kind))
