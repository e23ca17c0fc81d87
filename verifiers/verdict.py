"""`Verdict`: the one result type that every check in langgames returns.

A verdict never collapses distinct outcomes into a bare number. It says *what* happened (its
`status`), *how much* it is worth to the verifier (`reward`, in ``[0, 1]``), *why* (`reason`, one
sentence a person or a model can act on) and the evidence (`details`, plain JSON data).

Games turn verdicts into rewards (a game may, for example, give a format penalty below zero for an
`unparseable` answer); the verifier itself only ever reports ``reward`` in ``[0, 1]``.

>>> v = Verdict.make_correct("matches the expected output")
>>> v.correct, v.status.value, v.reward
(True, 'correct', 1.0)
>>> Verdict.make_unparseable("expected an integer, got 'abc'").to_dict()["status"]
'unparseable'
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FAILURE_STATUSES", "TIMING_KEYS", "Status", "Verdict"]


class Status(str, enum.Enum):
    """What a check concluded about an answer or a move."""

    CORRECT = "correct"
    """The answer is right. Reward 1.0 unless partial credit is defined."""
    INCORRECT = "incorrect"
    """The answer was understood and is wrong."""
    ACCEPTED = "accepted"
    """A valid intermediate move (a question, a query, a tool call) that is not scored by itself."""
    UNPARSEABLE = "unparseable"
    """The answer could not be read in the required format."""
    TIMEOUT = "timeout"
    """Running or checking the answer exceeded its time limit."""
    RESOURCE_LIMIT = "resource_limit"
    """The answer exceeded a memory, output, process or size limit."""
    FORBIDDEN = "forbidden"
    """The answer did something it is not allowed to do (a refused import, I/O, a forged result)."""
    VERIFIER_ERROR = "verifier_error"
    """The verifier itself failed. Never the player's fault, never silently `incorrect`."""

    def __str__(self) -> str:
        return self.value


#: Statuses that mean the answer was not judged on its merits because of how it was given.
FAILURE_STATUSES = frozenset(
    {Status.UNPARSEABLE, Status.TIMEOUT, Status.RESOURCE_LIMIT, Status.FORBIDDEN}
)


#: Keys of `Verdict.details` (at any depth) that hold measured timings. They legitimately differ
#: from run to run, so determinism checks and golden transcripts ignore them.
TIMING_KEYS = frozenset({"duration", "cpu", "elapsed", "latency"})


_LEAVES = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> bool:
    """True if ``value`` is plain JSON data built from exact built-in types (the common case,
    checked without building paths); `_jsonable` then has nothing to report."""
    kind = type(value)
    if kind in _LEAVES:
        return True
    if kind is dict:  # a plain loop, leaves inline: this runs on every step of every game
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _LEAVES and not _plain(item)):
                return False
        return True
    if kind is list or kind is tuple:
        return all(type(item) in _LEAVES or _plain(item) for item in value)
    return False


def _jsonable(value: Any, path: str) -> None:
    """Raise ``TypeError`` unless ``value`` is plain JSON data (so verdicts can be logged)."""
    if _plain(value):
        return
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        return  # NaN/inf are allowed in details; json.dumps writes them as NaN/Infinity
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _jsonable(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(
                    f"Verdict details key at {path} must be a str, got {type(key).__name__}"
                )
            _jsonable(item, f"{path}[{key!r}]")
        return
    raise TypeError(
        f"Verdict details must be plain JSON data (None, bool, int, float, str, list, dict); "
        f"{path} is a {type(value).__name__}. Convert it (e.g. str(x)) before building the verdict."
    )


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check.

    Attributes:
        status: what was concluded (see `Status`).
        reward: the verifier's score in ``[0, 1]``; 1.0 only for `Status.CORRECT` unless a game
            defines partial credit. Failure statuses always carry 0.0.
        reason: one sentence saying why, specific enough to act on.
        details: evidence as plain JSON data (expected vs received, which case failed, timings, the
            isolation layers that were active...). Never contains secrets the player must not see
            unless the game strips them before showing a verdict.
    """

    status: Status
    reward: float
    reason: str
    details: Mapping[str, Any] = field(default_factory=dict)

    def __init__(
        self, status: Status, reward: float, reason: str, details: Mapping[str, Any] | None = None
    ) -> None:
        # Every move of every game builds a verdict: the checks run inline and the fields go
        # straight into __dict__ (the generated frozen __init__ costs one object.__setattr__ per
        # field, twice as slow). Still frozen after construction.
        if type(status) is not Status:
            try:
                status = Status(status)
            except ValueError:
                allowed = ", ".join(s.value for s in Status)
                raise ValueError(
                    f"Verdict status must be one of ({allowed}) (got {status!r})"
                ) from None
        value = reward if type(reward) is float else float(reward)
        if not (0.0 <= value <= 1.0):  # NaN fails both comparisons
            raise ValueError(f"Verdict reward must be in [0, 1] (got {reward!r})")
        if value and status is not Status.CORRECT and status is not Status.INCORRECT:
            raise ValueError(
                f"a {status.value!r} verdict must carry reward 0.0 (got {value}); "
                "only correct or incorrect (partial credit) verdicts carry reward"
            )
        if type(reason) is not str and not isinstance(reason, str):
            raise TypeError(f"Verdict reason must be a str (got {type(reason).__name__})")
        if details is None:
            details = {}
        else:
            _jsonable(details, "details")
            details = dict(details)
        fields = self.__dict__
        fields["status"] = status
        fields["reward"] = value
        fields["reason"] = reason
        fields["details"] = details

    @property
    def correct(self) -> bool:
        """True exactly when the status is `Status.CORRECT`."""
        return self.status is Status.CORRECT

    @property
    def failed(self) -> bool:
        """True when the answer was not judged on its merits (unparseable, timeout, ...)."""
        return self.status in FAILURE_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """The verdict as plain JSON data (what `info["verdict"]` carries)."""
        return {
            "status": self.status.value,
            "reward": self.reward,
            "reason": self.reason,
            "details": dict(self.details),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        """Inverse of `to_dict`."""
        return cls(
            status=Status(data["status"]),
            reward=float(data["reward"]),
            reason=str(data["reason"]),
            details=dict(data.get("details", {})),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def with_details(self, **extra: Any) -> Verdict:
        """A copy with more evidence merged into `details`."""
        return Verdict(self.status, self.reward, self.reason, {**self.details, **extra})

    # Constructors for the common cases, so call sites read as what they mean.
    @classmethod
    def make_correct(cls, reason: str = "correct", **details: Any) -> Verdict:
        return cls(Status.CORRECT, 1.0, reason, details)

    @classmethod
    def make_incorrect(cls, reason: str, **details: Any) -> Verdict:
        """An incorrect verdict; ``reward=`` (default 0.0) gives partial credit, the rest of the
        keywords are details. (One ``**details`` so that callers can pass any details dict.)"""
        reward = float(details.pop("reward", 0.0))
        return cls(Status.INCORRECT, reward, reason, details)

    @classmethod
    def make_accepted(cls, reason: str = "valid move", **details: Any) -> Verdict:
        return cls(Status.ACCEPTED, 0.0, reason, details)

    @classmethod
    def make_unparseable(cls, reason: str, **details: Any) -> Verdict:
        return cls(Status.UNPARSEABLE, 0.0, reason, details)

    @classmethod
    def make_timeout(cls, reason: str, **details: Any) -> Verdict:
        return cls(Status.TIMEOUT, 0.0, reason, details)

    @classmethod
    def make_resource_limit(cls, reason: str, **details: Any) -> Verdict:
        return cls(Status.RESOURCE_LIMIT, 0.0, reason, details)

    @classmethod
    def make_forbidden(cls, reason: str, **details: Any) -> Verdict:
        return cls(Status.FORBIDDEN, 0.0, reason, details)

    @classmethod
    def make_verifier_error(cls, reason: str, **details: Any) -> Verdict:
        return cls(Status.VERIFIER_ERROR, 0.0, reason, details)
