"""The math worker: a long-lived process that runs the expensive SymPy steps for the host.

Started by `langgames.verifiers._math_pool` as ``python -m langgames.verifiers._math_worker``. It
imports SymPy and the comparison rules once, says it is ready, then answers jobs one at a time:

- frames are `langgames.verifiers._wire` frames: a 4-byte big-endian length, then the body;
- host -> worker bodies are pickles of plain dicts holding `ParsedMath` objects the host built
  with the safe parser (the worker trusts only its parent, which wrote its stdin pipe; it never
  parses or evaluates text as code);
- worker -> host bodies are UTF-8 JSON, so the host never unpickles what a worker says. A reply is
  either a *partial* result (``"final": false``: the numeric rule already accepts, kept in case the
  deadline hits during ``simplify``) or the final one.

The worker limits its own address space (`MEMORY_LIMIT`), so a runaway expansion ends in a
``resource_limit`` reply rather than swapping; the host enforces the wall-clock deadline by killing
the process. The worker exits when its parent disappears or closes the pipe.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
import traceback
from typing import Any

from langgames.verifiers import _wire

__all__ = ["FRAME", "MEMORY_LIMIT", "encode_job", "main"]

#: The frame header (`langgames.verifiers._wire.HEADER`), named here for older callers.
FRAME = _wire.HEADER
#: Address-space limit of a worker process, in bytes.
MEMORY_LIMIT = 4 * 1024**3
_MAX_FRAME = 256 * 1024 * 1024
_STDIN, _STDOUT = 0, 1


def encode_job(job: dict[str, Any]) -> bytes:
    """One host -> worker frame."""
    return _wire.pack(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))


_write_lock = threading.Lock()


def _write(message: dict[str, Any]) -> None:
    frame = _wire.pack_frame(message)
    with _write_lock:  # a partial reply and the final one never interleave
        _wire.write_all(_STDOUT, frame)


def _read() -> dict[str, Any] | None:
    """The next job, or None when the host closed the pipe."""
    try:
        body = _wire.recv_bytes(_STDIN, _MAX_FRAME)
    except EOFError:
        return None
    job: dict[str, Any] = pickle.loads(body)  # noqa: S301 - written by our parent process only
    return job


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(0.5)
        if os.getppid() != parent:
            os._exit(0)


def _limit_memory() -> None:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):  # not on this platform: the deadline still holds
        pass


def _handle(job: dict[str, Any], send: Any) -> dict[str, Any]:
    from langgames.verifiers._math_compare import Comparer

    op = job["op"]
    if op == "ping":
        return {"status": "pong"}
    if op == "sleep":  # for tests of the deadline: only the host's own code can send it
        time.sleep(float(job["seconds"]))
        return {"status": "slept"}
    if op == "crash":  # for tests of crash handling
        os._exit(int(job.get("code", 3)))
    comparer = Comparer(job["options"], full=True)
    comparer.on_partial = lambda outcome: send(
        {
            "final": False,
            "status": outcome.status,
            "method": outcome.method,
            "reason": outcome.reason,
        }
    )
    if op == "compare":
        outcome = comparer.judge(job["gold"], job["answer"])
    elif op == "antiderivative":
        outcome = comparer.judge(job["gold"], job["answer"], job["variable"])
    else:
        raise ValueError(f"unknown job {op!r}")
    return {"status": outcome.status, "method": outcome.method, "reason": outcome.reason}


def main() -> int:
    """Serve jobs from stdin until it closes."""
    _limit_memory()
    import sympy  # noqa: F401 - imported once, before saying ready

    import langgames.verifiers._math_compare  # noqa: F401

    sys.stdout = sys.stderr  # nothing may print into the reply stream (fd 1, written directly)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    _write({"ready": True, "pid": os.getpid()})
    while True:
        job = _read()
        if job is None:
            return 0
        job_id = job.get("id")

        def send(message: dict[str, Any], job_id: Any = job_id) -> None:
            _write({"id": job_id, **message})

        try:
            reply = {"final": True, **_handle(job, send)}
        except MemoryError:
            reply = {"final": True, "error": "resource_limit", "message": "ran out of memory"}
        except RecursionError:
            reply = {
                "final": True,
                "error": "resource_limit",
                "message": "the expression is nested too deeply for SymPy",
            }
        except Exception as err:
            reply = {
                "final": True,
                "error": "internal",
                "message": f"{type(err).__name__}: {err}"[:500],
                "traceback": traceback.format_exc(limit=6)[-2000:],
            }
        send(reply)


if __name__ == "__main__":
    sys.exit(main())
