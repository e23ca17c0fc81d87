"""The inside of the Python sandbox: a long-lived worker that forks one confined child per snippet.

This file is standard-library only and has two lives:

* run as a script (``python -s -S _sandbox_worker.py``), usually inside a bubblewrap namespace, it
  is a *worker*, a fork template that never holds job data: it pre-imports common modules, then
  for each run receives on its control socket (fd 0) a small fixed message and the child's four
  pipe ends, forks a child, confines it (session, rlimits, private ``/tmp`` and IPC, dropped uid
  or capabilities, empty environment, closed descriptors, seccomp filter), enforces the
  wall-clock deadline by killing the child's whole process tree, and replies with the exit status
  only. The child reads its job from its own pipe; its output goes to the host directly;
* imported by the host (``langgames.verifiers._sandbox_worker``), it provides the shared pieces:
  the tagged-JSON value codec and `Collector` (the parent's side of one run's pipes).

Two sibling modules, also standard library only, hold the rest: ``_wire`` (the length-prefixed
frames on every pipe) and ``_seccomp`` (the system-call filter). Run as a script, the worker loads
them by path (its folder is deliberately not importable); bubblewrap binds all three files.

Nothing here decides a verdict: the worker only reports exit status and timings; the host
(``langgames.verifiers.python``) collects the frames and interprets them. Frames written by the
child are parsed strictly; anything malformed is flagged as tampering.
"""

from __future__ import annotations

import sys

# Run as a script, this file's folder (langgames/verifiers) is sys.path[0], where `math.py` and
# friends would shadow the standard library for the worker and every snippet. Drop it before any
# other import. (`-I` would also do it, but it ignores PYTHONHASHSEED, which the workers pin.)
if __name__ == "__main__" and sys.path and sys.path[0] == __file__.rpartition("/")[0]:
    del sys.path[0]

import contextlib
import json
import math
import os
import signal
import time
from typing import TYPE_CHECKING, Any


def _load_sibling(name: str) -> Any:
    """Load ``name``.py from this file's folder, by its path (run as a script, that folder is not
    importable: see above; inside bubblewrap it holds only this file and its two siblings)."""
    import importlib.util

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"_langgames_worker{name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the sandbox worker's module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


if TYPE_CHECKING or __name__ != "__main__":
    from langgames.verifiers import _seccomp, _wire
else:  # the worker script: standard library only, siblings loaded by path
    _seccomp = _load_sibling("_seccomp")
    _wire = _load_sibling("_wire")

# The frame format (length-prefixed JSON) is `_wire`'s; these names are used on both sides.
pack_frame = _wire.pack_frame
read_frame = _wire.read_frame
write_all = _wire.write_all
split_frames = _wire.split_frames

# ---------------------------------------------------------------------------------------------
# Tagged JSON: plain Python data across the boundary with its exact types preserved.
#
# None, bool, str, list and small ints / finite floats are JSON as they are; everything else is an
# object {"$": tag, "v": payload}. Only exact builtin types are accepted: a subclass of int or an
# object with a custom __eq__ cannot be encoded, so it can never arrive on the host looking equal.

MAX_DEPTH = 100
_SAFE_INT = 2**53


class CodecError(ValueError):
    """A value cannot be encoded, or tagged JSON cannot be decoded, as plain data."""


def encode_value(value: Any, _depth: int = 0) -> Any:
    """Encode plain data as tagged JSON; raise `CodecError` naming the first unsupported part.

    >>> encode_value((1, [2.5, None], {"a": True}))
    {'$': 'tuple', 'v': [1, [2.5, None], {'$': 'dict', 'v': [['a', True]]}]}
    """
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is int:
        return value if -_SAFE_INT <= value <= _SAFE_INT else {"$": "int", "v": hex(value)}
    if kind is float:
        return value if math.isfinite(value) else {"$": "float", "v": repr(value)}
    if _depth >= MAX_DEPTH:
        raise CodecError(f"data nested more than {MAX_DEPTH} levels deep")
    depth = _depth + 1
    if kind is list:
        return [encode_value(item, depth) for item in value]
    if kind is tuple:
        return {"$": "tuple", "v": [encode_value(item, depth) for item in value]}
    if kind is dict:
        pairs = [[encode_value(k, depth), encode_value(v, depth)] for k, v in value.items()]
        return {"$": "dict", "v": pairs}
    if kind is set or kind is frozenset:
        return {"$": kind.__name__, "v": [encode_value(item, depth) for item in value]}
    if kind is bytes:
        return {"$": "bytes", "v": value.hex()}
    raise CodecError(
        f"a value of type {kind.__module__}.{kind.__qualname__} is not plain data "
        "(allowed: None, bool, int, float, str, bytes, list, tuple, dict, set, frozenset; "
        "exact types, not subclasses)"
    )


def decode_value(data: Any, _depth: int = 0) -> Any:
    """Inverse of `encode_value`; strict: anything `encode_value` would not produce is refused."""
    kind = type(data)
    if data is None or kind is bool or kind is str or kind is int:
        return data
    if kind is float:
        if not math.isfinite(data):
            raise CodecError("untagged non-finite float")
        return data
    if _depth > MAX_DEPTH:
        raise CodecError(f"data nested more than {MAX_DEPTH} levels deep")
    depth = _depth + 1
    if kind is list:
        return [decode_value(item, depth) for item in data]
    if kind is not dict or set(data) != {"$", "v"}:
        raise CodecError(f"unexpected JSON value of type {kind.__name__}")
    tag, payload = data["$"], data["v"]
    try:
        if tag == "int" and type(payload) is str and len(payload) <= 1 << 20:
            return int(payload, 16)
        if tag == "float" and payload in ("nan", "inf", "-inf"):
            return float(payload)
        if tag == "bytes" and type(payload) is str:
            return bytes.fromhex(payload)
        if type(payload) is list:
            items = [decode_value(item, depth) for item in payload]
            if tag == "tuple":
                return tuple(items)
            if tag == "set":
                return set(items)
            if tag == "frozenset":
                return frozenset(items)
            if tag == "dict" and all(type(p) is list and len(p) == 2 for p in payload):
                return {decode_value(k, depth): decode_value(v, depth) for k, v in payload}
    except (TypeError, ValueError) as exc:  # unhashable keys, bad hex...
        raise CodecError(f"malformed {tag!r} value: {exc}") from None
    raise CodecError(f"malformed tagged value with tag {tag!r}")


# ---------------------------------------------------------------------------------------------
# Child confinement (runs in the forked child, before any untrusted code).

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4
_PR_SET_CHILD_SUBREAPER = 36
_CLONE_NEWNS, _CLONE_NEWIPC = 0x00020000, 0x08000000
_MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 2, 4, 8
_MS_REC, _MS_PRIVATE = 0x4000, 0x40000
_CAP_SYS_ADMIN = 21
NOBODY = 65534
RESULT_FD = 3
# Shared writable directories that also get a fresh tmpfs per run (when they exist), so that no
# run can leave anything there for a later one.
_PRIVATE_DIRS = ("/tmp", "/dev/shm", "/var/tmp")  # noqa: S108 - each gets its own fresh tmpfs


class _Libc:
    """The few libc entry points we need, loaded once in the worker before forking."""

    def __init__(self) -> None:
        import ctypes

        self.ctypes = ctypes
        self.lib = ctypes.CDLL(None, use_errno=True)

    def check(self, result: int, what: str) -> None:
        if result != 0:
            err = self.ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    def prctl(self, option: int, arg: Any = 0) -> None:
        c = self.ctypes
        self.check(
            self.lib.prctl(c.c_int(option), arg, c.c_ulong(0), c.c_ulong(0), c.c_ulong(0)),
            f"prctl({option})",
        )

    def prepare_filter(self, prog: list[tuple[int, int, int, int]]) -> None:
        """Build the ``sock_fprog`` once, in the worker, so each child only makes two calls."""
        self.seccomp_filter = _seccomp.prepare_filter(prog)

    def install_filter(self) -> None:
        """Set no_new_privs and install the prepared filter on this (single-threaded) process."""
        _seccomp.install_filter(self.lib, self.seccomp_filter)

    def private_mounts(self, size: int) -> None:
        """A mount and IPC namespace of this run's own, with a fresh tmpfs on each shared dir."""
        self.check(self.lib.unshare(_CLONE_NEWNS | _CLONE_NEWIPC), "unshare(CLONE_NEWNS)")
        # Without bubblewrap, / may be a shared mount: make ours private, or the tmpfs below
        # would propagate back to the host's /tmp.
        private = self.lib.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None)
        self.check(private, "mount --make-rprivate /")
        options = f"size={size},mode=1777,nr_inodes=4096".encode()
        flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
        for path in _PRIVATE_DIRS:
            if path == "/tmp" or os.path.isdir(path):  # noqa: S108 - see _PRIVATE_DIRS
                self.check(
                    self.lib.mount(b"tmpfs", path.encode(), b"tmpfs", flags, options),
                    f"mount {path}",
                )

    def drop_caps(self) -> None:
        """Drop every capability (the user-namespace mode, where the uid cannot change)."""
        import ctypes as c

        class Header(c.Structure):
            _fields_ = [("version", c.c_uint32), ("pid", c.c_int)]

        class Data(c.Structure):
            _fields_ = [("effective", c.c_uint32), ("permitted", c.c_uint32),
                        ("inheritable", c.c_uint32)]  # fmt: skip

        header, data = Header(0x20080522, 0), (Data * 2)()  # _LINUX_CAPABILITY_VERSION_3
        self.check(self.lib.capset(c.byref(header), data), "capset")


def effective_caps() -> int:
    """This process's effective capability mask (0 when it cannot be read)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except (OSError, ValueError):
        pass
    return 0


def _set_rlimits(limits: dict[str, int], cpu_seconds: int) -> None:
    import resource

    def cap(which: int, value: int) -> None:
        _, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (value, value))

    cap(resource.RLIMIT_CORE, 0)
    _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
    cpu_soft = cpu_seconds if cpu_hard == resource.RLIM_INFINITY else min(cpu_seconds, cpu_hard)
    cpu_max = cpu_soft + 1 if cpu_hard == resource.RLIM_INFINITY else cpu_hard
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_soft, min(cpu_soft + 1, cpu_max)))
    cap(resource.RLIMIT_NOFILE, limits["open_files"])
    cap(resource.RLIMIT_NPROC, limits["processes"])
    cap(resource.RLIMIT_FSIZE, limits["file_size"])
    cap(resource.RLIMIT_AS, limits["memory"])


def _confine(control: dict[str, Any], cfg: dict[str, Any], fds: tuple[int, ...]) -> None:
    """Everything between fork and the untrusted code. Raises on any failure (a setup error)."""
    os.setsid()
    libc: _Libc = cfg["libc"]
    libc.prctl(_PR_SET_PDEATHSIG, libc.ctypes.c_ulong(signal.SIGKILL))
    import fcntl

    high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 64) for fd in fds]  # no clash with 0..3
    for target, fd in enumerate(high):
        os.dup2(fd, target)
    os.closerange(RESULT_FD + 1, 1 << 20)
    for target in range(RESULT_FD + 1):
        os.set_inheritable(target, target != RESULT_FD)
    if cfg["private_tmp"]:
        libc.private_mounts(cfg["tmp_size"])
        os.chdir("/tmp")  # noqa: S108 - this run's own fresh tmpfs
    else:
        os.chdir("/")
    if cfg["drop_uid"]:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    if cfg["drop_caps"]:
        libc.drop_caps()
    os.umask(0o077)
    os.environ.clear()  # also unsets the variables in the C environment
    limits = dict(control["limits"])
    limits["processes"] += cfg["process_baseline"]
    _set_rlimits(limits, math.ceil(control["timeout"]) + 1)
    if cfg["seccomp_arch"]:
        libc.install_filter()


def _describe(exc: BaseException) -> str:
    try:
        text = f"{type(exc).__name__}: {exc}"
    except Exception:  # a hostile __str__ must not break the harness
        text = type(exc).__name__
    return text[:2000]


def _print_traceback(exc: BaseException) -> None:
    import traceback

    try:
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != "<snippet>":
            tb = tb.tb_next  # hide the harness frames
        sys.stderr.write("".join(traceback.format_exception(type(exc), exc, tb)))
    except BaseException:
        sys.stderr.write(_describe(exc) + "\n")


def _setup_failed(error: str, nonce: Any) -> None:
    try:
        write_all(RESULT_FD, pack_frame({"k": "setup_error", "n": nonce, "error": error}))
    finally:
        os._exit(70)


def _child(control: dict[str, Any], cfg: dict[str, Any], fds: tuple[int, ...]) -> None:
    """The forked child: confine, read its own job from fd 0, run it, report frames.

    The job (code, arguments, nonce, then the program's stdin) arrives on a pipe that only this
    child holds: the worker it was forked from never reads it, so no later child can find it.
    Never returns.
    """
    import io
    import random

    try:
        _confine(control, cfg, fds)
    except BaseException as exc:  # reported as an infrastructure failure, never the snippet's
        nonce = None
        with contextlib.suppress(BaseException):
            nonce = read_frame(0).get("nonce")
        _setup_failed(_describe(exc), nonce)
    try:
        job = read_frame(0)
        nonce = job["nonce"]
    except BaseException as exc:
        _setup_failed(f"could not read the job: {_describe(exc)}", None)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(
        io.FileIO(1, "w", closefd=False), encoding="utf-8", errors="backslashreplace"
    )
    sys.stderr = io.TextIOWrapper(
        io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace"
    )
    sys.argv = ["<snippet>"]
    random.seed()  # fresh randomness per run, as in a new interpreter (not the worker's state)
    emit = write_all
    pack = pack_frame
    end: dict[str, Any] = {"k": "end", "n": nonce, "status": "ok", "error": None, "exit_code": 0}
    emit(RESULT_FD, pack({"k": "start", "n": nonce}))
    namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        code = compile(job.pop("code"), "<snippet>", "exec")
        exec(code, namespace)  # noqa: S102 - the untrusted code, in the confined child
        if job["mode"] == "call":
            func = namespace.get(job["entry_point"])
            if not callable(func):
                raise NameError(f"the program defines no function named {job['entry_point']!r}")
            for index, raw_args in enumerate(job["args"]):
                frame: dict[str, Any] = {"k": "case", "n": nonce, "i": index}
                started = time.perf_counter()
                try:
                    frame["value"] = encode_value(func(*decode_value(raw_args)))
                    frame["status"] = "ok"
                except CodecError as exc:
                    frame.update(status="error", error=f"the return value is not plain data: {exc}")
                except MemoryError as exc:
                    frame.update(status="resource_limit", error=_describe(exc))
                except BaseException as exc:  # the snippet's own failure, reported per case
                    frame.update(status="error", error=_describe(exc))
                    _print_traceback(exc)
                frame["t"] = time.perf_counter() - started
                emit(RESULT_FD, pack(frame))
    except SystemExit as exc:
        code_value = exc.code
        if code_value is None or code_value == 0:
            end["exit_code"] = 0
        elif isinstance(code_value, int):
            end.update(status="error", exit_code=code_value, error=f"SystemExit({code_value})")
        else:
            sys.stderr.write(f"{code_value}\n")
            end.update(status="error", exit_code=1, error=f"SystemExit({str(code_value)[:200]!r})")
    except MemoryError as exc:
        end.update(status="resource_limit", exit_code=1, error=_describe(exc))
        _print_traceback(exc)
    except BaseException as exc:
        end.update(status="error", exit_code=1, error=_describe(exc))
        _print_traceback(exc)
    with contextlib.suppress(
        BaseException
    ):  # a closed or sabotaged stream must not stop the report
        sys.stdout.flush()
        sys.stderr.flush()
    emit(RESULT_FD, pack(end))
    os._exit(0)


# ---------------------------------------------------------------------------------------------
# The parent's side of one run's pipes (used by the host for every job, and by the worker only
# for its own start-up probe): feed the job, gather stdout, stderr and result frames under caps.


class Collector:
    """Feeds ``payload`` into a run's input pipe and gathers its output pipes, without blocking.

    ``fds`` are the parent's ends ``(input write end, stdout, stderr, results read ends)``; the
    collector owns them and closes them in `close`.
    """

    def __init__(self, payload: bytes, fds: tuple[int, int, int, int], caps: dict[str, int]):
        import select

        self.poller = select.poll()
        in_fd, out_fd, err_fd, res_fd = fds
        self.readers = {out_fd: "stdout", err_fd: "stderr", res_fd: "results"}
        self.open = set(self.readers)
        self.caps = caps
        self.data: dict[str, bytearray] = {name: bytearray() for name in self.readers.values()}
        self.exceeded: list[str] = []
        for fd in self.readers:
            os.set_blocking(fd, False)
            self.poller.register(fd, select.POLLIN)
        self.pending = memoryview(payload)
        self.in_fd: int | None = in_fd
        os.set_blocking(in_fd, False)
        self.poller.register(in_fd, select.POLLOUT)
        self._feed()

    def register(self, fd: int) -> None:
        import select

        self.poller.register(fd, select.POLLIN)

    def wait(self, timeout: float) -> list[int]:
        """Serve the pipes for up to ``timeout`` seconds; return the other fds that are ready."""
        others = []
        for fd, _event in self.poller.poll(max(0, int(timeout * 1000) + 1)):
            if fd == self.in_fd:
                self._feed()
            elif fd in self.open:
                self._pump(fd)
            elif fd not in self.readers:
                others.append(fd)
        return others

    def _feed(self) -> None:
        if self.in_fd is None:
            return
        try:
            self.pending = self.pending[os.write(self.in_fd, self.pending[:65536]) :]
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # the child closed its input (or died): drop the rest
            self.pending = self.pending[:0]
        if not self.pending:
            self.poller.unregister(self.in_fd)
            os.close(self.in_fd)
            self.in_fd = None

    def _pump(self, fd: int) -> bool:
        """Read one chunk from ``fd``; False when nothing is available now."""
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            return False
        if not chunk:
            self.open.discard(fd)
            self.poller.unregister(fd)
            return True
        name = self.readers[fd]
        room = self.caps[name] - len(self.data[name])
        self.data[name] += chunk[: max(room, 0)]
        if len(chunk) > room and name not in self.exceeded:
            self.exceeded.append(name)
        return True

    def drain(self) -> None:
        """Read what is left once every writer is gone (stop early if one still holds a pipe)."""
        for fd in list(self.open):
            while fd in self.open and self._pump(fd) and not self.exceeded:
                pass

    def close(self) -> None:
        for fd in (*self.readers, self.in_fd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.in_fd = None

    def result(self) -> dict[str, Any]:
        frames, problem = split_frames(bytes(self.data["results"]), self.caps["results"])
        return {
            "stdout": self.data["stdout"].decode("utf-8", "replace"),
            "stderr": self.data["stderr"].decode("utf-8", "replace"),
            "frames": frames,
            "tampered": problem,
            "exceeded": list(self.exceeded),
        }


def run_pipes() -> tuple[tuple[int, int, int, int], tuple[int, int, int, int]]:
    """Fresh pipes for one run: ``(child ends, parent ends)``, each ``(in, out, err, results)``."""
    pipes = [os.pipe() for _ in range(4)]
    child = (pipes[0][0], pipes[1][1], pipes[2][1], pipes[3][1])
    parent = (pipes[0][1], pipes[1][0], pipes[2][0], pipes[3][0])
    return child, parent


# ---------------------------------------------------------------------------------------------
# The worker (the fork template): it never holds a job. Per run it receives, over its control
# socket, a small fixed message (limits, timeout, id) and the child's four pipe ends, forks,
# closes its copies of those ends, and waits for the exit or the deadline.

_PRELOAD_FOR_SNIPPETS = (
    "abc array bisect calendar cmath collections collections.abc contextlib copy dataclasses "
    "datetime decimal enum fractions functools hashlib heapq io itertools json math numbers "
    "operator random re statistics string textwrap traceback typing unicodedata socket"
)
_PRELOAD_FOR_HARNESS = ("ctypes", "fcntl", "resource", "select")
PRELOAD = (*_PRELOAD_FOR_SNIPPETS.split(), *_PRELOAD_FOR_HARNESS)
CONTROL_MAX = 1 << 16  # bytes of one control message (they are a few hundred)


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as fh:
                    stat = fh.read()
            except OSError:
                continue
            fields = stat[stat.rfind(b")") + 2 :].split()
            if len(fields) > 1 and int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _sigkill(pid: int) -> None:
    """SIGKILL ``pid``'s process group (if it leads one), then ``pid`` itself."""
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(OSError):
            kill(pid, signal.SIGKILL)


def _kill_leftovers(deadline: float) -> tuple[int, bool]:
    """Kill and reap every remaining descendant (the worker is their subreaper).

    Returns ``(killed, clean)``; not clean means something survived until ``deadline``.
    """
    me, killed = os.getpid(), 0
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return killed, True
        if pid:
            continue
        if time.monotonic() > deadline:
            return killed, False
        for child in _children_of(me):
            _sigkill(child)
            killed += 1
        time.sleep(0.001)


def _pidfd(pid: int) -> int | None:
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


def _fork_child(control: dict[str, Any], cfg: dict[str, Any], fds: tuple[int, ...]) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            _child(control, cfg, fds)
        finally:
            os._exit(71)
    for fd in fds:
        os.close(fd)
    return pid


def _reap(pid: int, started: float, ended: float, control: dict[str, Any]) -> dict[str, Any]:
    """Kill ``pid`` and every remaining descendant; describe how it ended (no output, no data)."""
    _sigkill(pid)
    _, status, usage = os.wait4(pid, 0)
    killed, clean = _kill_leftovers(time.monotonic() + 2.0)
    return {
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "cpu": usage.ru_utime + usage.ru_stime,
        "cpu_limit": math.ceil(control["timeout"]) + 1,
        "duration": ended - started,
        "leftovers": killed,
        "clean": clean,
    }


class _HostGone(Exception):
    """The host closed the control socket: stop serving."""


def _run_one(control: dict[str, Any], fds: list[int], cfg: dict[str, Any], sock: Any) -> dict:
    """Fork the child for one run and wait for its exit, the deadline, or the host's ``stop``."""
    import select

    started = time.monotonic()
    pid = _fork_child(control, cfg, tuple(fds))
    exit_fd = _pidfd(pid)
    poller = select.poll()
    poller.register(sock.fileno(), select.POLLIN)
    if exit_fd is not None:
        poller.register(exit_fd, select.POLLIN)
    deadline = started + float(control["timeout"])
    timed_out = exited = stopped = gone = False
    while not (exited or stopped or gone):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            timed_out = True
            break
        wait_ms = max(1, int(remaining * 1000) + 1) if exit_fd is not None else 5
        for fd, _event in poller.poll(min(wait_ms, 5) if exit_fd is None else wait_ms):
            if fd == exit_fd:
                exited = True
            elif fd == sock.fileno():
                message = sock.recv(CONTROL_MAX)
                if not message:
                    gone = True
                else:
                    with contextlib.suppress(ValueError):
                        request = _wire.decode(message, "control message")
                        stopped = request == {"op": "stop", "id": control.get("id")}
        if exit_fd is None and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
            exited = True
    reply = _reap(pid, started, time.monotonic(), control)
    if exit_fd is not None:
        os.close(exit_fd)
    if gone:
        raise _HostGone
    reply.update(timed_out=timed_out, stopped=stopped)
    return reply


def serve(sock: Any, cfg: dict[str, Any]) -> None:
    """Answer run requests on the control socket until the host closes it or says ``exit``."""
    import socket

    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(sock, CONTROL_MAX, 8)
        except OSError:
            return
        if not message:
            return
        control: Any = None
        try:
            control = _wire.decode(message, "control message")
            if control.get("op") == "exit":
                return
            if control.get("op") != "run":
                continue  # e.g. a late "stop" for a run that already ended
            if len(fds) != 4:
                raise ValueError(f"a run needs 4 descriptors (got {len(fds)})")
            reply = _run_one(control, fds, cfg, sock)
            fds = []
        except _HostGone:
            return
        except Exception as exc:  # a worker-side failure: reported, then the host recycles us
            reply = {"worker_error": _describe(exc)}
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        reply["id"] = control.get("id") if isinstance(control, dict) else None
        sock.send(_wire.encode(reply))


# ---------------------------------------------------------------------------------------------
# Start-up: probe which layers really work here, then serve runs until told to stop.

PROBE_CODE = """
import csv, json, os, shlex, socket  # csv and shlex are not pre-imported: a fresh import works
facts = {"uid": os.getuid(), "env": len(os.environ), "tmp_empty": os.listdir("/tmp") == []}
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()
    facts["inet_socket"] = "allowed"
except OSError as exc:
    facts["inet_socket"] = os.strerror(exc.errno or 0)
for name, path in (("root_writable", "/.langgames-probe"), ("tmp_writable", "/tmp/probe")):
    try:
        with open(path, "w") as fh:
            fh.write("x")
        facts[name] = True
    except OSError:
        facts[name] = False
with open("/proc/self/status") as fh:
    status = {l.split(":")[0]: l.split(":", 1)[1].split() for l in fh if ":" in l}
facts["seccomp"] = status.get("Seccomp", [])[:1]
facts["cap_eff"] = status.get("CapEff", ["?"])[0]
with open("/proc/net/dev") as fh:
    facts["interfaces"] = sorted(l.split(":")[0].strip() for l in fh if ":" in l)
facts["root_entries"] = sorted(os.listdir("/"))
try:
    facts["fds"] = sorted(int(f) for f in os.listdir("/proc/self/fd"))
except OSError:  # a non-dumpable process cannot list its own fds: count them instead
    facts["fds"] = None
print(json.dumps(facts))
"""

# Which configuration key a setup error disables (matched against the error text).
_LAYER_OF_ERROR = (("unshare", "private_tmp"), ("mount", "private_tmp"), ("setres", "drop_uid"),
                   ("setgroups", "drop_uid"), ("capset", "drop_caps"),
                   ("PR_SET_SECCOMP", "seccomp_arch"), ("prctl(38)", "seccomp_arch"))  # fmt: skip

_PROBE_LIMITS = {"memory": 1 << 30, "open_files": 64, "processes": 64, "file_size": 1 << 20}
_PROBE_CAPS = {"stdout": 1 << 16, "stderr": 1 << 16, "results": 1 << 16}


def _run_local(code: str, cfg: dict[str, Any]) -> dict[str, Any]:
    """Run one trusted program (the probe) in a confined child, collecting its output here."""
    control = {"timeout": 10.0, "limits": _PROBE_LIMITS}
    child_fds, parent_fds = run_pipes()
    started = time.monotonic()
    pid = _fork_child(control, cfg, child_fds)
    payload = pack_frame({"mode": "run", "code": code, "nonce": "probe"})
    collector = Collector(payload, parent_fds, _PROBE_CAPS)
    exit_fd = _pidfd(pid)
    if exit_fd is not None:
        collector.register(exit_fd)
    deadline = started + float(control["timeout"])  # type: ignore[arg-type]
    while time.monotonic() < deadline:
        if collector.wait(0.005 if exit_fd is None else deadline - time.monotonic()):
            break
        if exit_fd is None and os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
            break
    reply = _reap(pid, started, time.monotonic(), control)
    if exit_fd is not None:
        os.close(exit_fd)
    collector.drain()
    collector.close()
    return {**reply, **collector.result()}


def _probe(cfg: dict[str, Any]) -> dict[str, Any]:
    """Run a trusted probe in a confined child; disable layers whose set-up fails here."""
    disabled = dict[str, str]()
    for _ in range(len(_LAYER_OF_ERROR) + 2):
        out = _run_local(PROBE_CODE, cfg)
        setup = [f for f in out["frames"] if f.get("k") == "setup_error"]
        if setup:
            error = str(setup[0].get("error"))
            key = next((k for needle, k in _LAYER_OF_ERROR if needle in error and cfg.get(k)), None)
        else:
            try:
                return {"facts": json.loads(out["stdout"]), "disabled": disabled}
            except ValueError:
                error = f"the probe program failed: {out['stderr'][-300:].strip()}"
                # Typically the interpreter lives where uid 65534 cannot read it (e.g. /root).
                key = "drop_uid" if cfg["drop_uid"] else None
        if key is None:
            return {"facts": {"error": f"sandbox set-up failed: {error}"}, "disabled": disabled}
        cfg[key] = None if key == "seccomp_arch" else False
        disabled[key] = error
    return {"facts": {"error": "sandbox set-up kept failing"}, "disabled": disabled}


def _count_processes(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat(f"/proc/{entry}").st_uid == uid:
                count += 1
        except OSError:
            pass
    return count


def main() -> None:
    """Serve runs on the control socket (fd 0, a unix SOCK_SEQPACKET socket) until it closes."""
    import socket

    script_dir = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != script_dir]  # not importable
    sock = socket.socket(fileno=os.dup(0))  # dup() makes it non-inheritable
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    os.close(devnull)
    init = _wire.decode(sock.recv(CONTROL_MAX), "init message")
    libc = _Libc()
    libc.prctl(_PR_SET_CHILD_SUBREAPER, libc.ctypes.c_ulong(1))
    libc.prctl(_PR_SET_PDEATHSIG, libc.ctypes.c_ulong(signal.SIGKILL))
    # Not dumpable: no child (same uid in a user namespace, capabilities dropped) can open this
    # process's /proc/<pid>/mem to read or patch the template every later child is forked from.
    libc.prctl(_PR_SET_DUMPABLE, libc.ctypes.c_ulong(0))
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    is_root = os.geteuid() == 0
    # In bubblewrap's user namespace (an ordinary user) the worker is uid 65534 there with every
    # capability of that namespace: enough to give each child its own mounts, then drop them all.
    userns_admin = not is_root and bool(effective_caps() & (1 << _CAP_SYS_ADMIN))
    arch, arch_detail = _seccomp.seccomp_arch()
    cfg: dict[str, Any] = {
        "libc": libc,
        "private_tmp": bool(init["namespaces"]),
        "tmp_size": int(init["tmp_size"]),
        "drop_uid": is_root,
        "drop_caps": userns_admin,
        "seccomp_arch": arch if init["seccomp"] else None,
        "host_pid": int(init["host_pid"]),
        "process_baseline": 0,
    }
    if arch and init["seccomp"]:
        protected = [os.getpid(), -os.getpgrp(), -1, 1, cfg["host_pid"]]
        libc.prepare_filter(_seccomp.build_seccomp_filter(arch, protected))
    probe = _probe(cfg)
    uid = NOBODY if cfg["drop_uid"] else os.getuid()
    if not init["namespaces"]:
        cfg["process_baseline"] = _count_processes(uid)
    import gc

    gc.collect()
    gc.freeze()  # keep the pre-imported heap shared between forked children
    ready = {
        "k": "ready",
        "pid": os.getpid(),
        "euid": os.geteuid(),
        "python": sys.version.split()[0],
        "private_tmp": cfg["private_tmp"],
        "drop_uid": cfg["drop_uid"],
        "drop_caps": cfg["drop_caps"],
        "userns": not is_root and bool(init["namespaces"]),
        "seccomp": cfg["seccomp_arch"],
        "seccomp_detail": arch_detail,
        "process_baseline": cfg["process_baseline"],
        **probe,
    }
    sock.send(_wire.encode(ready))
    serve(sock, cfg)


if __name__ == "__main__":
    main()
