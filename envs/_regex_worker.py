"""A killable worker process that matches untrusted regular expressions under a deadline.

Python's ``re`` cannot be interrupted: a pattern such as ``(a+)+$`` on ``"a" * 40 + "b"`` holds
the interpreter for hours. So untrusted patterns are never matched in the host. They go, with the
strings to classify, to one long-lived child process (``python -I -S``, the standard library
only, its address space capped at 512 MB) over a pipe; the host waits at most ``deadline``
seconds for the answer and otherwise kills the child's whole process group and starts a new one
on the next call. The pattern is data in the child (``re.compile``), never code. Jobs and replies
are the frames of ``langgames.verifiers.wire`` (the sandbox's and math workers' format), which the
child loads from its file.

>>> judge = RegexJudge()
>>> judge.classify(r"a+b", ["aab", "ba"]).matches
[True, False]
>>> judge.classify(r"(a+)+$", ["a" * 40 + "b"], deadline=0.5).status
'timeout'
>>> judge.close()
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from langgames.verifiers import wire

__all__ = ["MatchResult", "RegexJudge", "default_judge"]

#: Address-space limit of the worker, in bytes.
WORKER_MEMORY = 512 * 1024 * 1024
#: Longest reply the host reads from the worker (the worker only sends booleans and a message).
_MAX_REPLY = 1_000_000

_WORKER_CODE = (
    wire.child_bootstrap("wire")
    + r"""
import re
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, (LIMIT, LIMIT))
    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
except Exception:
    pass
wire.send_frame(1, {"ready": True})
while True:
    try:
        job = wire.read_frame(0)
    except EOFError:
        break
    try:
        try:
            rx = re.compile(job["pattern"])
        except (re.error, OverflowError, RecursionError, ValueError) as err:
            reply = {"error": str(err)[:300]}
        else:
            reply = {"matches": [rx.fullmatch(s) is not None for s in job["strings"]]}
    except MemoryError:
        reply = {"limit": "the pattern needed more than the worker's memory"}
    except Exception as err:
        reply = {"crash": type(err).__name__ + ": " + str(err)[:300]}
    wire.send_frame(1, reply)
""".replace("LIMIT", str(WORKER_MEMORY))
)


@dataclass(frozen=True)
class MatchResult:
    """``status``: ``"ok"`` (``matches`` holds one bool per string, ``re.fullmatch``),
    ``"invalid"`` (the pattern does not compile; ``reason`` says why), ``"timeout"`` or
    ``"resource_limit"``; ``"error"`` means the worker itself failed (a verifier error)."""

    status: str
    matches: list[bool] = field(default_factory=list)
    reason: str = ""
    seconds: float = 0.0


class RegexJudge:
    """Matches untrusted patterns in a killable child process (see the module docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: wire.FrameReader | None = None
        self._owner = os.getpid()
        atexit.register(self.close)

    def _start(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WORKER_CODE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
        assert proc.stdout is not None
        self._reader = wire.FrameReader(proc.stdout.fileno(), limit=_MAX_REPLY)
        hello = self._read_reply(time.monotonic() + 30.0)
        if hello is None or not hello.get("ready"):
            self._kill(proc)
            raise RuntimeError("the regex worker process did not start")
        return proc

    def _read_reply(self, deadline: float) -> dict[str, Any] | None:
        """The worker's next reply, or ``None`` if none arrives before ``deadline`` (or the worker
        died, or sent more than `_MAX_REPLY` bytes)."""
        assert self._reader is not None
        try:
            return self._reader.read(deadline)
        except (EOFError, OSError, wire.WireError):
            return None

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            proc.kill()
        with contextlib.suppress(Exception):
            proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()

    def classify(self, pattern: str, strings: list[str], *, deadline: float = 1.0) -> MatchResult:
        """Whether ``pattern`` fully matches each of ``strings``, decided within ``deadline`` s."""
        job = wire.pack_frame({"pattern": pattern, "strings": strings})
        with self._lock:
            if self._owner != os.getpid():  # a forked copy must not share the parent's pipe
                self._proc, self._owner = None, os.getpid()
            if self._proc is None or self._proc.poll() is not None:
                self._proc = self._start()
            proc = self._proc
            start = time.monotonic()
            try:
                assert proc.stdin is not None
                wire.write_all(proc.stdin.fileno(), job, start + deadline)
                reply = self._read_reply(start + deadline)
            except (TimeoutError, OSError):  # the worker stopped reading, or died
                reply = None
            elapsed = time.monotonic() - start
            if reply is None:
                died = proc.poll() is not None
                self._kill(proc)
                self._proc = None
                if died:
                    return MatchResult(
                        "resource_limit",
                        reason="the pattern exhausted the matcher's memory",
                        seconds=elapsed,
                    )
                return MatchResult(
                    "timeout",
                    reason=f"matching did not finish within {deadline:g} s (catastrophic "
                    "backtracking?)",
                    seconds=elapsed,
                )
        if "matches" in reply:
            return MatchResult("ok", [bool(m) for m in reply["matches"]], seconds=elapsed)
        if "error" in reply:
            return MatchResult("invalid", reason=str(reply["error"]), seconds=elapsed)
        if "limit" in reply:
            return MatchResult("resource_limit", reason=str(reply["limit"]), seconds=elapsed)
        return MatchResult("error", reason=str(reply.get("crash", reply)), seconds=elapsed)

    def close(self) -> None:
        """Stop the worker (a new one starts on the next `classify`)."""
        with self._lock:
            if self._proc is not None and self._owner == os.getpid():
                self._kill(self._proc)
            self._proc = None

    @property
    def worker_pid(self) -> int | None:
        """The worker's process id, if one is running."""
        return None if self._proc is None else self._proc.pid


_DEFAULT: RegexJudge | None = None
_DEFAULT_LOCK = threading.Lock()


def default_judge() -> RegexJudge:
    """The judge shared by every game in this process (one worker, started on first use)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = RegexJudge()
        return _DEFAULT
