"""Isolated execution of untrusted Python: a warm pool of sandboxed workers, results as plain data.

`PythonSandbox` runs a program (`run`), calls a function on argument tuples (`call`) or checks it
against ``(args, expected)`` cases (`check`, which returns a `Verdict`). Untrusted code never runs
in this process and never raises here: whatever it does becomes a status.

This module is the public class and the verdict logic (what a worker's reply means, how values
compare). The processes live elsewhere: the worker pool in ``_sandbox_pool``, the worker itself in
``_sandbox_worker``, its seccomp filter in ``_seccomp``, and the frames on every pipe in ``_wire``.

Layers (each reported by `isolation_report`, and named in every result's ``details``):

* a pool of long-lived worker processes (one per core by default), started once with the common
  standard-library modules imported, each recycled after ``recycle_after`` runs. A worker is a
  *fork template that never holds job data*: for each run the host makes fresh pipes and sends
  the child's ends over the worker's control socket (SCM_RIGHTS) with a small fixed message (run
  id, timeout, rlimits); the child reads its job (code, arguments, nonce, stdin) from its own
  pipe, and the host reads its stdout, stderr and results directly. Nothing a job sends or
  receives ever passes through the worker, so no later child (forked from it) can find it;
* each worker lives in its own bubblewrap namespace (new pid, network, ipc, uts, cgroup and, for
  an ordinary user, user namespaces) with a *minimal read-only view* of the file system: ``/usr``,
  ``/lib*``, the interpreter's prefix (site-packages hidden), ``/etc/ld.so.cache``,
  ``/etc/localtime`` and the worker script with its two sibling modules, plus fresh ``/proc``,
  ``/dev`` and ``/tmp``; nothing of ``/home``, ``/root``, ``/var``, ``/run``, the working
  directory, the project or its venv.
  Without bubblewrap the sandbox still runs, with the missing layers reported loudly (doctor, every
  result's ``details``, a one-time `SandboxIsolationWarning`); ``LANGGAMES_SANDBOX_NAMESPACES=1``
  refuses to run instead;
* each snippet runs in a child forked from the worker: new session, uid 65534 (setresuid as root;
  uid 65534 of the user namespace with every capability dropped for an ordinary user), a private
  size-limited ``/tmp``, ``/dev/shm`` and IPC namespace per run, an empty environment, only
  stdin/stdout/stderr and the result pipe open, not dumpable, rlimits (CPU, address space, open
  files, processes, file size, no core dumps) and a seccomp filter (no sockets except AF_UNIX, no
  connect/bind/listen/accept, no exec, no ptrace, mount, namespaces, bpf, perf, keyctl, kexec,
  module loading..., no signals to the worker);
* the worker kills the child's process group and every remaining descendant at the wall-clock
  deadline (and after every run, or when the host asks because output went over its limit). The
  child writes nonce-tagged, length-prefixed frames; the host parses them strictly, so bytes a
  program writes into its result pipe can only make its own result `forbidden`, never a later
  one, and values cross as tagged JSON of exact builtin types.

Run and call statuses (`RunStatus`):

====================  =========================================================================
``ok``                finished normally (exit code 0; for a call: the function returned)
``error``             raised an exception, exited non-zero, or returned something that is not
                      plain data; the exception is in ``error`` and the traceback in ``stderr``
``timeout``           hit the wall-clock deadline or the CPU-time limit
``resource_limit``    ran out of memory, output, processes or file size, or crashed (SIGSEGV)
``forbidden``         refused by the subset policy, killed by the seccomp filter, or tampered with
                      its result channel
``verifier_error``    the sandbox itself failed (never the program's fault)
====================  =========================================================================

>>> with PythonSandbox(workers=1) as sandbox:
...     print(sandbox.run("print(6 * 7)").stdout, end="")
...     results = sandbox.call("def f(a, b): return a + b", "f", [(1, 2), ("x", "y")])
...     print([r.value for r in results])
...     print(sandbox.check("def f(a): return a * 2", "f", [((2,), 4), ((0.5,), 1.0)]).status.value)
42
[3, 'xy']
correct
"""

from __future__ import annotations

import atexit
import enum
import keyword
import logging
import math
import os
import signal
import threading
import uuid
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from langgames.errors import InvalidArgument, SandboxUnavailable
from langgames.verifiers import _sandbox_worker as _w
from langgames.verifiers import _wire
from langgames.verifiers._sandbox_pool import _SYSTEM_TREES, WorkerPool, _under

if TYPE_CHECKING:  # RestrictedPython loads only when a subset policy is used
    from langgames.verifiers.pysubset import SubsetPolicy
from langgames.verifiers.verdict import Status, Verdict

__all__ = [
    "FILE_LAYERS",
    "CallResult",
    "PythonSandbox",
    "RunResult",
    "RunStatus",
    "SandboxIsolationWarning",
    "SandboxUnavailable",
    "default_sandbox",
    "isolation_report",
    "userns_support",
    "values_equal",
]

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 2.0
MAX_TIMEOUT = 600.0
DEFAULT_MEMORY_MB = 512
DEFAULT_MAX_OUTPUT = 64 * 1024
DEFAULT_MAX_RESULT = 4 * 1024 * 1024
DEFAULT_MAX_PROCESSES = 32
DEFAULT_MAX_OPEN_FILES = 64
DEFAULT_MAX_FILE_SIZE = 16 * 1024 * 1024
DEFAULT_TMP_SIZE = 64 * 1024 * 1024
DEFAULT_RECYCLE_AFTER = 500
DEFAULT_FLOAT_TOL = 1e-9
MAX_CODE_CHARS = 1_000_000
_HOST_GRACE = (
    10.0  # seconds the host waits beyond a job's deadline before declaring the worker hung
)
_ENV_NAMESPACES = "LANGGAMES_SANDBOX_NAMESPACES"
_ENV_SECCOMP = "LANGGAMES_SANDBOX_SECCOMP"
_DEFAULT_POLICY: Literal["default"] = "default"


#: The layers that keep this machine's files from snippets; doctor, every result's details and
#: a one-time warning say so when any is missing.
FILE_LAYERS = ("namespaces", "minimal_filesystem", "readonly_filesystem", "private_tmp", "uid_drop")


class SandboxIsolationWarning(UserWarning):
    """The sandbox runs without a layer that keeps this machine's files from snippets."""


_warned: set[str] = set()


def _warn_once(message: str, stacklevel: int = 3) -> None:
    """Warn (and log) once per process and message: a game that runs model code is starting."""
    if message not in _warned:
        _warned.add(message)
        logger.warning("%s", message)
        warnings.warn(message, SandboxIsolationWarning, stacklevel=stacklevel)


class RunStatus(str, enum.Enum):
    """How a `run` or one case of a `call` ended (see the module docstring for the table)."""

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    RESOURCE_LIMIT = "resource_limit"
    FORBIDDEN = "forbidden"
    VERIFIER_ERROR = "verifier_error"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class RunResult:
    """The outcome of `PythonSandbox.run`.

    Attributes:
        status: how the program ended.
        stdout, stderr: its output, each clipped to ``max_output`` bytes (decoded as UTF-8).
        duration: wall-clock seconds from fork to exit.
        exit_code: the process exit code when it exited by itself, else None.
        error: one line saying what went wrong (exception type and message, limit, signal).
        details: plain JSON evidence: active isolation layers, signal, CPU time, clipping...
    """

    status: RunStatus
    stdout: str
    stderr: str
    duration: float
    exit_code: int | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK


@dataclass(frozen=True)
class CallResult:
    """The outcome of one call in `PythonSandbox.call`.

    Attributes:
        status: `RunStatus.OK` when the function returned plain data.
        value: the returned value (exact builtin types: a tuple stays a tuple), or None.
        error: what went wrong when the status is not ``ok``.
        duration: seconds spent in this call (measured in the child), or None if it never ran.
    """

    status: RunStatus
    value: Any = None
    error: str | None = None
    duration: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is RunStatus.OK


# ---------------------------------------------------------------------------------------------
# Strict comparison on the host.


class _Unkeyable(Exception):
    """A value contains NaN inside a set or dict key, so it can never compare equal."""


def _canonical(value: Any) -> str:
    kind = type(value)
    if kind in (set, frozenset):
        return f"{kind.__name__}{{{','.join(sorted(_canonical(v) for v in value))}}}"
    if kind is tuple:
        return f"({','.join(_canonical(v) for v in value)})"
    if kind is float and math.isnan(value):
        raise _Unkeyable
    return f"{kind.__name__}:{value!r}"


def values_equal(received: Any, expected: Any, float_tol: float = DEFAULT_FLOAT_TOL) -> bool:
    """Strict equality of plain data: same type at every level and equal value.

    Floats compare with ``math.isclose(rel_tol=float_tol, abs_tol=0)`` (exactly when
    ``float_tol == 0``); NaN never equals anything; ``True`` is not ``1``; ``(1,)`` is not
    ``[1]``. Set elements and dict keys compare exactly.

    >>> values_equal(0.1 + 0.2, 0.3), values_equal(True, 1), values_equal([1, (2,)], [1, (2,)])
    (True, False, True)
    """
    kind = type(expected)
    if type(received) is not kind:
        return False
    if kind is float:
        if math.isnan(received) or math.isnan(expected):
            return False
        if float_tol == 0:
            return bool(received == expected)
        return math.isclose(received, expected, rel_tol=float_tol, abs_tol=0.0)
    if kind is list or kind is tuple:
        return len(received) == len(expected) and all(
            values_equal(r, e, float_tol) for r, e in zip(received, expected, strict=True)
        )
    try:
        if kind is dict:
            if len(received) != len(expected):
                return False
            mine = {_canonical(k): v for k, v in received.items()}
            theirs = {_canonical(k): v for k, v in expected.items()}
            return mine.keys() == theirs.keys() and all(
                values_equal(mine[k], theirs[k], float_tol) for k in theirs
            )
        if kind is set or kind is frozenset:
            return {_canonical(v) for v in received} == {_canonical(v) for v in expected}
    except _Unkeyable:
        return False
    return bool(received == expected)  # None, bool, int, str, bytes: exact types checked above


def _comparison_text(float_tol: float) -> str:
    floats = "exactly" if float_tol == 0 else f"with math.isclose(rel_tol={float_tol:g}, abs_tol=0)"
    return (
        f"strict: same type and value at every level (bool is not int, tuple is not list); "
        f"floats compared {floats}; NaN never equal"
    )


# ---------------------------------------------------------------------------------------------
# Argument validation (raising InvalidArgument: these are programming errors, not model output).


def _check_code(code: Any) -> str:
    if not isinstance(code, str):
        raise InvalidArgument(
            f"code must be a str of Python source (got {type(code).__name__}); "
            "decode bytes with .decode('utf-8') first"
        )
    if len(code) > MAX_CODE_CHARS:
        raise InvalidArgument(
            f"code must be at most {MAX_CODE_CHARS} characters (got {len(code)}); "
            "trim the program before sending it to the sandbox"
        )
    return code


def _check_entry_point(entry_point: Any) -> str:
    if (
        not isinstance(entry_point, str)
        or not entry_point.isidentifier()
        or keyword.iskeyword(entry_point)
    ):
        raise InvalidArgument(
            f"entry_point must be the name of a top-level function, a Python identifier such as "
            f"'solve' (got {entry_point!r})"
        )
    return entry_point


def _check_timeout(timeout: Any, default: float) -> float:
    if timeout is None:
        return default
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise InvalidArgument(
            f"timeout must be a number of seconds or None (got {type(timeout).__name__})"
        )
    if not math.isfinite(timeout) or not 0 < timeout <= MAX_TIMEOUT:
        raise InvalidArgument(
            f"timeout must be > 0 and <= {MAX_TIMEOUT:g} seconds (got {timeout!r}); "
            f"pass None for the sandbox default ({default:g} s)"
        )
    return float(timeout)


def _encode_args(args_list: Any) -> list[Any]:
    if isinstance(args_list, (str, bytes)) or not isinstance(args_list, Iterable):
        raise InvalidArgument(
            f"args_list must be a list of argument tuples such as [(1, 2), (3, 4)] "
            f"(got {type(args_list).__name__})"
        )
    encoded = []
    for index, args in enumerate(args_list):
        if type(args) not in (tuple, list):
            raise InvalidArgument(
                f"args_list[{index}] must be a tuple of positional arguments, e.g. (x,) for one "
                f"argument (got {type(args).__name__}: {_clip(repr(args), 80)})"
            )
        try:
            encoded.append(_w.encode_value(tuple(args)))
        except _w.CodecError as exc:
            raise InvalidArgument(
                f"args_list[{index}] must contain only plain data: {exc}. Convert it first "
                "(e.g. numpy values with .item() or .tolist())"
            ) from None
    return encoded


def _check_expected(index: int, expected: Any) -> None:
    try:
        _w.encode_value(expected)
    except _w.CodecError as exc:
        raise InvalidArgument(
            f"cases[{index}] expected value must be plain data: {exc}. Convert it first "
            "(e.g. numpy values with .item() or .tolist())"
        ) from None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _env_flag(name: str) -> bool | None:
    raw = os.environ.get(name, "").strip().lower()
    if raw in ("", "auto"):
        return None
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise InvalidArgument(f"environment variable {name} must be 0, 1 or auto (got {raw!r})")


def _is_policy(obj: object) -> bool:
    from langgames.verifiers.pysubset import SubsetPolicy

    return isinstance(obj, SubsetPolicy)


def userns_support() -> tuple[bool | None, str]:
    """Whether an ordinary user can create the user namespace bubblewrap needs here.

    Returns ``(available, detail)``; ``available`` is None when running as root (not needed).
    """
    if os.geteuid() == 0:
        return None, "running as root: bubblewrap needs no user namespace"
    checks = (
        ("/proc/sys/kernel/unprivileged_userns_clone", "0",
         "sysctl -w kernel.unprivileged_userns_clone=1"),
        ("/proc/sys/user/max_user_namespaces", "0", "sysctl -w user.max_user_namespaces=15000"),
        ("/proc/sys/kernel/apparmor_restrict_unprivileged_userns", "1",
         "an AppArmor profile allowing bwrap user namespaces, or "
         "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"),
    )  # fmt: skip
    for path, bad, fix in checks:
        try:
            with open(path) as fh:
                value = fh.read().strip()
        except OSError:
            continue
        if value == bad:
            name = path.removeprefix("/proc/sys/").replace("/", ".")
            return False, f"the kernel disables unprivileged user namespaces ({name}={bad}); " \
                          f"an administrator can enable them: {fix}"  # fmt: skip
    return True, "unprivileged user namespaces are enabled"


# ---------------------------------------------------------------------------------------------
# The sandbox.


class PythonSandbox:
    """A pool of sandboxed Python workers. Thread-safe; use as a context manager or `close()` it.

    Arguments:
        workers: number of worker processes (default: one per core).
        timeout: default wall-clock limit per `run`/`call`/`check`, in seconds (default 2).
            The CPU-time limit is ``ceil(timeout) + 1`` seconds.
        memory_mb: address-space limit of each snippet process (default 512 MiB).
        max_output: bytes of stdout and of stderr kept; more is `resource_limit` (default 64 KiB).
        max_result_bytes: size limit of the values returned by `call` (default 4 MiB).
        max_processes, max_open_files, max_file_size: the remaining rlimits.
        tmp_size: size of each run's private ``/tmp`` (with namespaces).
        recycle_after: replace a worker after this many runs (default 500).
        namespaces: True to require bubblewrap namespaces, False to run without them, None
            (default) to use them when they work here; the ``LANGGAMES_SANDBOX_NAMESPACES``
            environment variable (0/1/auto) sets the default.
        seccomp: the same for the seccomp filter (``LANGGAMES_SANDBOX_SECCOMP``).
        policy: a `SubsetPolicy` every program must pass before it runs (default: none).
        hash_seed: the ``PYTHONHASHSEED`` of every worker (default 0), so set and dict iteration
            orders are the same in every run. A second sandbox with another seed tells whether a
            program's results depend on string hashing (ScholarsCircle's determinism check).
    """

    def __init__(
        self,
        workers: int | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        memory_mb: int = DEFAULT_MEMORY_MB,
        max_output: int = DEFAULT_MAX_OUTPUT,
        max_result_bytes: int = DEFAULT_MAX_RESULT,
        max_processes: int = DEFAULT_MAX_PROCESSES,
        max_open_files: int = DEFAULT_MAX_OPEN_FILES,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        tmp_size: int = DEFAULT_TMP_SIZE,
        recycle_after: int = DEFAULT_RECYCLE_AFTER,
        namespaces: bool | None = None,
        seccomp: bool | None = None,
        policy: SubsetPolicy | None = None,
        hash_seed: int = 0,
    ) -> None:
        if workers is None:
            workers = max(
                1,
                len(os.sched_getaffinity(0))
                if hasattr(os, "sched_getaffinity")
                else os.cpu_count() or 1,
            )
        ints = {
            "workers": workers,
            "memory_mb": memory_mb,
            "max_output": max_output,
            "max_result_bytes": max_result_bytes,
            "max_processes": max_processes,
            "max_open_files": max_open_files,
            "max_file_size": max_file_size,
            "tmp_size": tmp_size,
            "recycle_after": recycle_after,
        }
        for name, value in ints.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InvalidArgument(f"{name} must be a positive int (got {value!r})")
        if max_open_files < 16:
            raise InvalidArgument(
                f"max_open_files must be at least 16 for Python to start (got {max_open_files})"
            )
        for name, flag in (("namespaces", namespaces), ("seccomp", seccomp)):
            if flag is not None and not isinstance(flag, bool):
                raise InvalidArgument(f"{name} must be True, False or None (got {flag!r})")
        if policy is not None and not _is_policy(policy):
            raise InvalidArgument(
                f"policy must be a SubsetPolicy or None (got {type(policy).__name__})"
            )
        self.timeout = _check_timeout(timeout, DEFAULT_TIMEOUT)
        self.workers = workers
        self.recycle_after = recycle_after
        if (
            isinstance(hash_seed, bool)
            or not isinstance(hash_seed, int)
            or not 0 <= hash_seed <= 4294967295
        ):
            raise InvalidArgument(
                f"hash_seed must be an int from 0 to 4294967295, a PYTHONHASHSEED value "
                f"(got {hash_seed!r})"
            )
        self.policy = policy
        self.hash_seed = hash_seed
        self.tmp_size = tmp_size
        self.limits = {
            "memory": memory_mb * 1024 * 1024,
            "open_files": max_open_files,
            "processes": max_processes,
            "file_size": max_file_size,
            "output": max_output,
            "result": max_result_bytes,
        }
        self._want_namespaces = namespaces if namespaces is not None else _env_flag(_ENV_NAMESPACES)
        self._want_seccomp = seccomp if seccomp is not None else _env_flag(_ENV_SECCOMP)
        self._pool = WorkerPool(
            workers,
            tmp_size=tmp_size,
            recycle_after=recycle_after,
            hash_seed=hash_seed,
            want_namespaces=self._want_namespaces,
            want_seccomp=self._want_seccomp,
        )
        self._summary: dict[str, Any] | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> PythonSandbox:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if self._pool.started and not self.closed and os.getpid() == self._owner:
                self.close()
        except Exception:  # noqa: S110 - nothing useful to do during interpreter teardown
            pass

    @property
    def _owner(self) -> int:
        """The process the workers belong to (a forked child starts its own on first use)."""
        return self._pool.owner

    def start(self) -> None:
        """Start the worker pool (done automatically on first use). Idempotent."""
        self._pool.start(self._accept_layers)

    def _accept_layers(self) -> None:
        """Refuse (raise `SandboxUnavailable`) the layers the pool measured if a required one is
        missing; warn once when a layer that keeps this machine's files from snippets is."""
        facts = self._pool.facts
        if self._want_seccomp and not facts.get("seccomp"):
            raise SandboxUnavailable(
                "seccomp=True was requested but the filter is unavailable here: "
                + str(facts.get("disabled", {}).get("seccomp_arch") or facts.get("seccomp_detail"))
            )
        self._summary = None
        missing = self._file_layers_missing()
        if missing and self._want_namespaces:
            raise SandboxUnavailable(
                "namespaces=True (or LANGGAMES_SANDBOX_NAMESPACES=1) was requested but these "
                f"file-protecting layers are missing here: {', '.join(missing)}"
            )
        if missing:
            # Point at the caller of `start`: past this hook, `WorkerPool.start` and `start`.
            _warn_once(self._exposure_warning(missing), stacklevel=5)

    def close(self) -> None:
        """Kill every worker and everything they run. Idempotent; later calls raise."""
        self._pool.close()

    @property
    def closed(self) -> bool:
        return self._pool.closed

    def worker_pids(self) -> list[int]:
        """Host pids of all worker processes (for monitoring and tests)."""
        return self._pool.worker_pids()

    # -- isolation report -------------------------------------------------------------------------
    def isolation_report(self) -> list[dict[str, Any]]:
        """Which isolation layers are active here, each ``{"layer", "active", "detail"}``.

        Starts the pool if needed: the report is what a worker *measured* with a probe program
        run under the same confinement as every snippet, not what was merely configured.
        """
        self.start()
        return self._report()

    def _report(self) -> list[dict[str, Any]]:
        facts = self._pool.facts
        probe = facts.get("facts", {})
        disabled = facts.get("disabled", {})
        namespaces = bool(self._pool.init.get("namespaces"))
        seccomp = bool(facts.get("seccomp"))
        limits = self.limits
        network_ns = namespaces and probe.get("interfaces") == ["lo"]
        try:
            no_caps = int(str(probe.get("cap_eff")), 16) == 0
        except ValueError:
            no_caps = False
        unprivileged = probe.get("uid") == _w.NOBODY and no_caps
        is_root_child = probe.get("uid") == 0
        me = "root" if os.geteuid() == 0 else f"uid {os.getuid()}"
        view = self._pool.view
        visible = set(probe.get("root_entries") or [])
        minimal = namespaces and bool(visible) and visible <= set(view.get("tops", []))
        if minimal:
            prefixes = ", ".join(t for t in view["trees"] if not _under(t, _SYSTEM_TREES))
            view_detail = (
                "a snippet sees only /usr, /lib*, the interpreter's prefix "
                f"({prefixes or 'in /usr'}"
                f"; site-packages hidden), {', '.join(view['files']) or 'no file of /etc'}, the "
                "worker script and its two sibling modules, its own /proc, /dev and /tmp; nothing "
                "of /home, /root, /var, /run, the rest of /etc, the working directory, the "
                "project or its venv"
            )
        elif namespaces:
            view_detail = f"unexpected entries in the snippet's /: {sorted(visible)}"
        else:
            view_detail = (
                "no bubblewrap: a snippet sees this machine's whole file system and can read "
                "(and print into an observation) every file readable by "
                + ("uid 65534, i.e. every world-readable file" if unprivileged else f"{me}")
            )
        if facts.get("drop_uid"):
            uid_detail = f"snippets run as uid {_w.NOBODY} (setresuid from root), no capabilities"
        elif facts.get("drop_caps"):
            uid_detail = (
                f"snippets run as uid {_w.NOBODY} of a user namespace ({me} outside it) with "
                "every capability dropped; none of your files are in their view"
            )
        else:
            uid_detail = str(
                disabled.get("drop_uid") or disabled.get("drop_caps")
                or f"snippets run as {me}, with all of its file permissions"
            )  # fmt: skip
        rows = [
            ("worker_pool", True, f"{self.workers} warm worker(s), standard library pre-imported; "
             "each snippet forked from a template that never holds job data (its job, stdin and "
             "results travel on pipes only it and the host hold); "
             f"each worker recycled after {self.recycle_after} runs"),
            ("namespaces", namespaces, self._pool.namespace_note + (
                "; new pid, net, ipc, uts, cgroup"
                + ("" if os.geteuid() == 0 else ", user") + " namespaces" if namespaces else "")),
            ("minimal_filesystem", minimal, view_detail),
            ("network", network_ns or seccomp, "; ".join(filter(None, [
                "own network namespace (loopback only)" if network_ns else "no network namespace",
                "seccomp refuses sockets other than AF_UNIX and connect/bind/listen/accept"
                if seccomp else "no seccomp network filter"]))),
            ("readonly_filesystem", probe.get("root_writable") is False,
             "everything visible is bound read-only" if namespaces else
             ("no mount namespace: writes limited only by the uid's permissions"
              + ("" if unprivileged else f" ({me}: anything it may write)"))),
            ("private_tmp", bool(facts.get("private_tmp")) and probe.get("tmp_empty") is True,
             f"fresh {self.tmp_size // (1024 * 1024)} MiB tmpfs on /tmp (and /dev/shm, /var/tmp "
             "where they exist) and a fresh IPC namespace per run"
             if facts.get("private_tmp") else
             disabled.get("private_tmp", "needs a mount namespace; /tmp is shared")),
            ("uid_drop", unprivileged, uid_detail),
            ("seccomp", seccomp and probe.get("seccomp") == ["2"],
             f"{facts.get('seccomp_detail')}: kills ptrace, mount, namespaces, bpf, perf, "
             "keyctl, kexec, modules...; refuses exec, non-AF_UNIX sockets, signals to the worker"
             if seccomp else str(disabled.get("seccomp_arch") or facts.get("seccomp_detail")
                                 if self._pool.init.get("seccomp") else
                                 "disabled (seccomp=False or LANGGAMES_SANDBOX_SECCOMP=0)")),
            ("rlimits", True,
             f"CPU ceil(timeout)+1 s, address space {limits['memory'] // (1024 * 1024)} MiB, "
             f"{limits['open_files']} open files, {limits['processes']} processes"
             + (" (not enforced for uid 0)" if is_root_child else "")
             + f", files <= {limits['file_size']} bytes, no core dumps"),
            ("wall_deadline", True, "SIGKILL to the snippet's process group and every remaining "
             f"descendant at the deadline (default {self.timeout:g} s) and after every run"),
            ("clean_process", probe.get("env") == 0,
             "empty environment; only stdin, stdout, stderr and the result pipe are open; "
             "new session; not dumpable"),
            ("output_clip", True, f"stdout and stderr each kept up to {limits['output']} bytes; "
             "more is resource_limit"),
            ("result_channel", True, "fresh pipe per run, read by the host directly; "
             "nonce-tagged length-prefixed frames, strictly parsed; tampering makes only that run "
             "forbidden; exact-type tagged JSON"),
            # The subset policy is a per-call choice, not a layer a machine can lack: it is not
            # reported here (a refusal names it in the verdict instead).
        ]  # fmt: skip
        if "error" in probe:
            rows.append(("probe", False, str(probe["error"])))
        return [
            {"layer": name, "active": bool(active), "detail": detail}
            for name, active, detail in rows
        ]

    def _file_layers_missing(self) -> list[str]:
        """The layers that keep this machine's files from snippets that are missing here."""
        report = {row["layer"]: row["active"] for row in self._report()}
        return [name for name in FILE_LAYERS if not report.get(name, False)]

    def _exposure_warning(self, missing: list[str]) -> str:
        who = "root" if os.geteuid() == 0 else f"uid {os.getuid()}"
        note = self._pool.namespace_note
        return (
            f"the Python sandbox cannot hide this machine's files from snippets here (missing: "
            f"{', '.join(missing)}; {note}): model code can read, and print into "
            f"an observation, files readable by {who if 'uid_drop' in missing else 'uid 65534'}. "
            "Install bubblewrap (apt-get install bubblewrap) and allow unprivileged user "
            f"namespaces, or set {_ENV_NAMESPACES}=1 to refuse to run without them "
            "(see `langgames doctor`)."
        )

    def _isolation_summary(self) -> dict[str, Any]:
        if self._summary is None:
            report = self.isolation_report()
            summary: dict[str, Any] = {
                "isolation": [row["layer"] for row in report if row["active"]],
                "isolation_missing": [row["layer"] for row in report if not row["active"]],
            }
            missing = [name for name in FILE_LAYERS if name in summary["isolation_missing"]]
            if missing:
                summary["isolation_warning"] = self._exposure_warning(missing)
            self._summary = summary
        return {
            key: list(value) if isinstance(value, list) else value
            for key, value in self._summary.items()
        }

    # -- running -------------------------------------------------------------------------------
    def _policy_for(self, policy: SubsetPolicy | Literal["default"] | None) -> SubsetPolicy | None:
        if policy == _DEFAULT_POLICY:
            return self.policy
        if policy is not None and not _is_policy(policy):
            raise InvalidArgument(
                f"policy must be a SubsetPolicy, None, or 'default' (got {type(policy).__name__})"
            )
        return policy

    def _refused(self, code: str, policy: SubsetPolicy | None) -> Verdict | None:
        """The policy's `forbidden` verdict, or None. Syntax errors are left to the sandbox, so
        they are reported the same way with or without a policy."""
        if policy is None:
            return None
        verdict = policy.check(code)
        return verdict if verdict is not None and verdict.status is Status.FORBIDDEN else None

    def _execute(self, job: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """Run one job in a fresh child: ``(reply, nonce)``. Never raises for the code's sake.

        The job itself (code, arguments, nonce, stdin) goes straight into the child's own input
        pipe; the worker sees only the control message (run id, timeout, rlimits) and the pipe
        ends, so nothing of this job can reach the worker, and through it any later run.
        """
        nonce = uuid.uuid4().hex
        stdin = job.pop("stdin", "").encode("utf-8")
        payload = _wire.pack_frame({**job, "nonce": nonce}) + stdin
        limits = self.limits
        control = {
            "op": "run",
            "id": uuid.uuid4().hex,
            "timeout": job["timeout"],
            "limits": {k: limits[k] for k in ("memory", "open_files", "processes", "file_size")},
        }
        caps = {"stdout": limits["output"], "stderr": limits["output"], "results": limits["result"]}
        pool = self._pool
        if not pool.started or os.getpid() != pool.owner:
            self.start()
        reply = pool.run(control, payload, caps, job["timeout"] + _HOST_GRACE)
        return reply, nonce

    def run(
        self,
        code: str,
        *,
        stdin: str = "",
        timeout: float | None = None,
        policy: SubsetPolicy | Literal["default"] | None = _DEFAULT_POLICY,
    ) -> RunResult:
        """Run ``code`` as a program (``__name__ == "__main__"``) with ``stdin``; see `RunResult`.

        >>> with PythonSandbox(workers=1) as sandbox:
        ...     result = sandbox.run("print(input()[::-1])", stdin="abc")
        >>> result.status.value, result.stdout
        ('ok', 'cba\\n')
        """
        code = _check_code(code)
        if not isinstance(stdin, str):
            raise InvalidArgument(f"stdin must be a str (got {type(stdin).__name__})")
        wall = _check_timeout(timeout, self.timeout)
        active = self._policy_for(policy)
        refused = self._refused(code, active)
        if refused is not None:
            details = {**refused.details, **self._isolation_summary()}
            return RunResult(RunStatus.FORBIDDEN, "", refused.reason + "\n", 0.0, None,
                             refused.reason, details)  # fmt: skip
        reply, nonce = self._execute({"mode": "run", "code": code, "stdin": stdin, "timeout": wall})
        outcome = _interpret(reply, nonce, 0)
        details = {**outcome.details, **self._isolation_summary()}
        return RunResult(
            outcome.status,
            reply.get("stdout", ""),
            reply.get("stderr", ""),
            float(reply.get("duration", 0.0)),
            outcome.exit_code,
            outcome.error,
            details,
        )

    def call(
        self,
        code: str,
        entry_point: str,
        args_list: Sequence[Sequence[Any]],
        *,
        timeout: float | None = None,
        policy: SubsetPolicy | Literal["default"] | None = _DEFAULT_POLICY,
    ) -> list[CallResult]:
        """Define ``code``, then call ``entry_point(*args)`` for each tuple in ``args_list``.

        All calls share one process and one wall-clock ``timeout``; a call that is running when
        it expires, and every later one, get status ``timeout``. Each result carries its own
        status, plain-data value and error.
        """
        results, _ = self._call(code, entry_point, args_list, timeout=timeout, policy=policy)
        return results

    def _call(
        self,
        code: str,
        entry_point: str,
        args_list: Sequence[Sequence[Any]],
        *,
        timeout: float | None,
        policy: SubsetPolicy | Literal["default"] | None,
    ) -> tuple[list[CallResult], dict[str, Any]]:
        code = _check_code(code)
        entry_point = _check_entry_point(entry_point)
        encoded = _encode_args(args_list)
        wall = _check_timeout(timeout, self.timeout)
        active = self._policy_for(policy)
        refused = self._refused(code, active)
        if refused is not None:
            result = CallResult(RunStatus.FORBIDDEN, None, refused.reason)
            return [result] * len(encoded), {**refused.details, **self._isolation_summary()}
        if not encoded:
            return [], self._isolation_summary()
        job = {"mode": "call", "code": code, "entry_point": entry_point, "args": encoded}
        reply, nonce = self._execute({**job, "timeout": wall})
        outcome = _interpret(reply, nonce, len(encoded))
        details = {**outcome.details, **self._isolation_summary()}
        details["stderr"] = _clip(reply.get("stderr", ""), 2000)
        return outcome.cases, details

    def check(
        self,
        code: str,
        entry_point: str,
        cases: Sequence[tuple[Sequence[Any], Any]],
        *,
        timeout: float | None = None,
        float_tol: float = DEFAULT_FLOAT_TOL,
        partial_credit: bool = False,
        reveal_expected: bool = False,
        policy: SubsetPolicy | Literal["default"] | None = _DEFAULT_POLICY,
    ) -> Verdict:
        """Check ``entry_point`` against ``(args, expected)`` cases; return a `Verdict`.

        Expected values never enter the sandbox: the host compares each returned value with
        `values_equal` (same type and value; floats with ``math.isclose(rel_tol=float_tol,
        abs_tol=0)``; NaN never equal). All cases pass -> ``correct`` (1.0). A wrong value or an
        exception -> ``incorrect`` naming the first failing case (reward 0, or the fraction passed
        with ``partial_credit=True``). A limit breach or refusal in any case -> ``timeout``,
        ``resource_limit`` or ``forbidden`` (reward 0); a sandbox failure -> ``verifier_error``.
        Expected values appear in ``details`` only with ``reveal_expected=True``.
        """
        if isinstance(cases, (str, bytes)) or not isinstance(cases, Iterable):
            raise InvalidArgument(
                f"cases must be a list of (args, expected) pairs such as [((1, 2), 3)] "
                f"(got {type(cases).__name__})"
            )
        cases = list(cases)
        if not cases:
            raise InvalidArgument(
                "cases must contain at least one (args, expected) pair (got none)"
            )
        for index, case in enumerate(cases):
            if type(case) not in (tuple, list) or len(case) != 2:
                raise InvalidArgument(
                    f"cases[{index}] must be an (args, expected) pair such as ((1, 2), 3) "
                    f"(got {_clip(repr(case), 80)})"
                )
            _check_expected(index, case[1])
        if (
            isinstance(float_tol, bool)
            or not isinstance(float_tol, (int, float))
            or not (math.isfinite(float_tol) and float_tol >= 0)
        ):
            raise InvalidArgument(f"float_tol must be a finite number >= 0 (got {float_tol!r})")
        float_tol = float(float_tol)
        args_list = [case[0] for case in cases]
        active = self._policy_for(policy)
        refused = self._refused(_check_code(code), active)
        if refused is not None:
            return refused.with_details(**self._isolation_summary())
        results, run_details = self._call(
            code, entry_point, args_list, timeout=timeout, policy=None
        )
        expected = [case[1] for case in cases]
        return _judge(
            results,
            expected,
            run_details,
            float_tol,
            partial_credit=bool(partial_credit),
            reveal_expected=bool(reveal_expected),
        )


# ---------------------------------------------------------------------------------------------
# Interpreting a worker reply (the host decides; the worker only transports).


@dataclass
class _Outcome:
    status: RunStatus
    error: str | None
    exit_code: int | None
    cases: list[CallResult]
    details: dict[str, Any]


_SIGNAL_NAMES = {int(s): s.name for s in signal.Signals}


def _termination(reply: dict[str, Any], cpu_limit: float) -> tuple[RunStatus, str] | None:
    """Why the process ended abnormally, or None when it ended by itself."""
    if reply.get("timed_out"):
        return RunStatus.TIMEOUT, "wall-clock time limit exceeded"
    exceeded = reply.get("exceeded") or []
    if exceeded:
        what = "result data" if exceeded[0] == "results" else exceeded[0]
        return RunStatus.RESOURCE_LIMIT, f"{what} exceeded its size limit"
    sig = reply.get("signal")
    if sig is None:
        return None
    name = _SIGNAL_NAMES.get(sig, f"signal {sig}")
    if sig == signal.SIGSYS:
        return RunStatus.FORBIDDEN, "killed by the seccomp filter (a forbidden system call)"
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and reply.get("cpu", 0.0) >= cpu_limit):
        return RunStatus.TIMEOUT, "CPU time limit exceeded"
    if sig == signal.SIGKILL:
        return RunStatus.RESOURCE_LIMIT, "killed by SIGKILL (out of memory?)"
    if sig in (signal.SIGSEGV, signal.SIGBUS):
        return RunStatus.RESOURCE_LIMIT, f"crashed with {name} (stack overflow or memory limit)"
    if sig == signal.SIGXFSZ:
        return RunStatus.RESOURCE_LIMIT, "file size limit exceeded"
    return RunStatus.ERROR, f"killed by {name}"


def _parse_frames(
    frames: list[Any], nonce: str, n_cases: int
) -> tuple[list[dict[str, Any]], dict[str, Any] | None, str | None]:
    """Validate the frame sequence ``start, case 0..k, end``; return (cases, end, problem)."""
    if not frames or frames[0] != {"k": "start", "n": nonce}:
        return [], None, "the result channel did not start with the harness's frame"
    cases: list[dict[str, Any]] = []
    end = None
    for frame in frames[1:]:
        if end is not None:
            return cases, None, "frames after the end frame"
        if frame.get("n") != nonce:
            return cases, None, "a frame without this run's nonce"
        kind = frame.get("k")
        if kind == "case" and frame.get("i") == len(cases) < n_cases:
            status = frame.get("status")
            if status == "ok":
                try:
                    frame = {**frame, "value": _w.decode_value(frame.get("value"))}
                except _w.CodecError as exc:
                    return cases, None, f"a malformed value ({exc})"
            elif status not in ("error", "resource_limit") or not isinstance(
                frame.get("error"), str
            ):
                return cases, None, "a malformed case frame"
            if not isinstance(frame.get("t", 0.0), (int, float)):
                return cases, None, "a malformed case frame"
            cases.append(frame)
        elif kind == "end" and frame.get("status") in ("ok", "error", "resource_limit"):
            if not isinstance(frame.get("exit_code"), int):
                return cases, None, "a malformed end frame"
            end = frame
        else:
            return cases, None, f"an unexpected frame ({_clip(repr(frame), 80)})"
    return cases, end, None


def _uniform(status: RunStatus, error: str, n_cases: int, details: dict[str, Any]) -> _Outcome:
    """An outcome where the whole run, and so every case, ended the same way."""
    return _Outcome(status, error, None, [CallResult(status, None, error)] * n_cases, details)


def _interpret(reply: dict[str, Any], nonce: str, n_cases: int) -> _Outcome:
    details: dict[str, Any] = {
        key: reply[key] for key in ("duration", "cpu", "signal", "leftovers") if key in reply
    }
    if "worker_error" in reply:
        failure = f"sandbox failure: {reply['worker_error']}"
        return _uniform(RunStatus.VERIFIER_ERROR, failure, n_cases, details)
    frames = reply.get("frames") or []
    first = frames[0] if frames else {}
    # A lone setup_error frame comes from the harness before any snippet code ran (the harness
    # writes "start" first), so it is trusted even without the nonce (the job was unreadable).
    if first.get("k") == "setup_error" and first.get("n") in (nonce, None) and len(frames) == 1:
        failure = f"sandbox set-up failed: {first.get('error')}"
        return _uniform(RunStatus.VERIFIER_ERROR, failure, n_cases, details)
    case_frames, end, parse_problem = _parse_frames(frames, nonce, n_cases)
    problem = reply.get("tampered") or parse_problem
    if problem and "results" in (reply.get("exceeded") or []):
        # The result pipe was cut at its size limit, which leaves a torn last frame: the cause is
        # the size (`_termination` reports it), not tampering.
        problem = None
    if problem:
        details["tampered"] = problem
        failure = f"the program tampered with its result channel: {problem}"
        return _uniform(RunStatus.FORBIDDEN, failure, n_cases, details)
    exit_code = reply.get("exit_code")
    error: str | None
    abnormal = _termination(reply, cpu_limit=float(reply.get("cpu_limit", math.inf)))
    if end is not None and end.get("status") == RunStatus.RESOURCE_LIMIT.value:
        # The harness saw the limit first (e.g. MemoryError); a kill during the teardown that
        # follows (freeing hundreds of MB can outlast the deadline on a busy machine) is its
        # consequence, not its cause.
        abnormal = None
    if abnormal is not None:
        status, error = abnormal
        exit_code = None if reply.get("signal") is not None else exit_code
    elif end is not None:
        status, error = RunStatus(end["status"]), end.get("error")
        exit_code = end["exit_code"]
    elif exit_code == 0 and n_cases == 0:
        status, error = RunStatus.OK, None  # os._exit(0) is a normal way for a program to end
    else:
        status = RunStatus.ERROR
        error = f"the process exited with code {exit_code} before finishing"
    cases = [
        CallResult(RunStatus(f["status"]), f.get("value"), f.get("error"), float(f.get("t", 0.0)))
        for f in case_frames
    ]
    if len(cases) < n_cases:
        missing = status if status is not RunStatus.OK else RunStatus.ERROR
        reason = error or "the program ended before this call returned"
        cases += [CallResult(missing, None, reason)] * (n_cases - len(cases))
    if n_cases and status is RunStatus.OK:
        error = None
    return _Outcome(status, error, exit_code, cases, details)


def _judge(
    results: list[CallResult],
    expected: list[Any],
    run_details: dict[str, Any],
    float_tol: float,
    *,
    partial_credit: bool,
    reveal_expected: bool,
) -> Verdict:
    total = len(expected)
    rows: list[dict[str, Any]] = []
    first_failure: tuple[int, str] | None = None
    for index, (result, want) in enumerate(zip(results, expected, strict=True)):
        row: dict[str, Any] = {"index": index, "status": result.status.value}
        if result.ok:
            row["passed"] = values_equal(result.value, want, float_tol)
            if not row["passed"]:
                got = _clip(repr(result.value), 200)
                row["received"] = got
                why = f"returned {got} ({type(result.value).__name__}), not the expected value"
                first_failure = first_failure or (index, why)
        else:
            row["passed"] = False
            row["error"] = _clip(result.error or "", 500)
            first_failure = first_failure or (index, f"{result.status.value}: {row['error']}")
        if reveal_expected and not row["passed"]:
            row["expected"] = _clip(repr(want), 200)
        rows.append(row)
    passed = sum(row["passed"] for row in rows)
    details = {
        **run_details,
        "cases": total,
        "passed": passed,
        "float_tol": float_tol,
        "comparison": _comparison_text(float_tol),
        "results": rows,
    }
    statuses = {result.status for result in results}
    for status, make in (
        (RunStatus.VERIFIER_ERROR, Verdict.make_verifier_error),
        (RunStatus.FORBIDDEN, Verdict.make_forbidden),
        (RunStatus.TIMEOUT, Verdict.make_timeout),
        (RunStatus.RESOURCE_LIMIT, Verdict.make_resource_limit),
    ):
        if status in statuses:
            index = next(i for i, r in enumerate(results) if r.status is status)
            error = _clip(results[index].error or status.value, 300)
            return make(
                f"case {index + 1} of {total}: {error} ({passed} of {total} passed)", **details
            )
    if passed == total:
        return Verdict.make_correct(
            f"all {total} cases passed ({_comparison_text(float_tol)})", **details
        )
    assert first_failure is not None
    index, why = first_failure
    reason = f"case {index + 1} of {total} failed: {why}; {passed} of {total} passed"
    if partial_credit:
        return Verdict.make_incorrect(
            reason + " (partial credit)", reward=passed / total, **details
        )
    return Verdict.make_incorrect(reason, **details)


# ---------------------------------------------------------------------------------------------
# The process-wide default sandbox.

_default: PythonSandbox | None = None
_default_lock = threading.Lock()


def default_sandbox() -> PythonSandbox:
    """The shared sandbox of this process, started on first use and closed at interpreter exit."""
    global _default
    with _default_lock:
        if _default is None or _default.closed or _default._owner != os.getpid():
            _default = PythonSandbox()
            atexit.register(_default.close)
        return _default


def isolation_report(sandbox: PythonSandbox | None = None) -> list[dict[str, Any]]:
    """The isolation layers of ``sandbox`` (default: `default_sandbox`), as measured here.

    Each row is ``{"layer": str, "active": bool, "detail": str}``; ``langgames doctor`` prints it.
    """
    return (sandbox or default_sandbox()).isolation_report()
