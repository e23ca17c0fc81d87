"""The one exception hierarchy of langgames.

Every error raised for *user* input says what was expected, what was received and how to fix it.
A model's action is never a reason to raise: it gets a verdict instead. These exceptions are for
programming errors (a wrong keyword argument, an unknown game id, a missing optional dependency).

Each class also derives from the matching built-in exception, so ``except ValueError`` and friends
keep working for callers who do not know about langgames.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "ConformanceError",
    "ContractError",
    "InvalidActionType",
    "InvalidArgument",
    "LangGamesError",
    "MissingExtra",
    "ParseError",
    "ResetNeeded",
    "UnknownGame",
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
