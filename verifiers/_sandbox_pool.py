"""The worker pool of the Python sandbox: launching, checking out, returning and recycling workers.

`PythonSandbox` (``langgames.verifiers.python``) is the public face and decides every verdict;
this module owns the processes it runs on:

* how a worker is launched: the interpreter, ``-s -S``, and, with bubblewrap, every namespace and
  a minimal read-only view of the file system (`_bwrap_command`, `_minimal_view`);
* one worker (`_Worker`): a fork template that never holds job data. Per run the host makes four
  fresh pipes, sends the child's ends with a small control message over the worker's
  ``SOCK_SEQPACKET`` socket (SCM_RIGHTS), writes the job into the child's input pipe and reads
  its stdout, stderr and result pipes itself (`_sandbox_worker.Collector`); control messages are
  `_wire` bodies;
* the pool (`WorkerPool`): start with a fallback to no namespaces when bubblewrap fails here,
  check out an idle worker, return it, recycle it after ``recycle_after`` runs or when it broke,
  survive a fork of the host, and kill every process on `close`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from langgames.errors import SandboxUnavailable
from langgames.verifiers import _sandbox_worker as _w
from langgames.verifiers import _wire

__all__ = ["WorkerPool"]

logger = logging.getLogger("langgames.verifiers.python")

_STARTUP_TIMEOUT = 30.0
_HERE = os.path.dirname(os.path.abspath(__file__))
_WORKER_SCRIPT = os.path.join(_HERE, "_sandbox_worker.py")
#: The worker script's standard-library-only siblings, which it loads by path (bound beside it).
_WORKER_SIBLINGS = tuple(os.path.join(_HERE, name) for name in ("_seccomp.py", "_wire.py"))
_INTERPRETER = os.path.realpath(sys.executable)


# ---------------------------------------------------------------------------------------------
# Launching workers.

# The minimal view of the file system a snippet gets under bubblewrap: system trees, the
# interpreter's own prefix (its site-packages hidden), two small files of /etc, the worker
# script and its two siblings.
_SYSTEM_TREES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/localtime")
_SANDBOX_DIR = "/langgames"  # where the worker script and its siblings appear inside
_SANDBOX_SCRIPT = f"{_SANDBOX_DIR}/_sandbox_worker.py"
_NAMESPACE_MOUNTS = ("proc", "dev", "tmp")


def _under(path: str, trees: Iterable[str]) -> bool:
    return any(path == tree or path.startswith(tree.rstrip("/") + "/") for tree in trees)


def _interpreter_trees() -> list[str]:
    """The directories the interpreter needs: its prefixes (standard library, lib-dynload)."""
    trees = {os.path.realpath(p) for p in (sys.base_prefix, sys.base_exec_prefix)}
    trees.add(os.path.dirname(_INTERPRETER))
    return sorted(t for t in trees if not _under(t, [x for x in trees if x != t]))


def _site_packages() -> list[str]:
    """Every site-packages of the base interpreter (hidden from snippets: standard library only)."""
    import site
    import sysconfig

    found: set[str] = set()
    for prefix in {sys.base_prefix, sys.base_exec_prefix}:
        paths = list(site.getsitepackages([prefix]))
        for key in ("purelib", "platlib"):
            with contextlib.suppress(KeyError, ValueError):
                paths.append(sysconfig.get_path(key, vars={"base": prefix, "platbase": prefix}))
        found.update(os.path.realpath(p) for p in paths if os.path.isdir(p))
    return sorted(found)


def _minimal_view() -> dict[str, Any]:
    """What `_bwrap_command` binds: ``{"trees", "files", "hidden", "tops"}`` (paths on the host)."""
    trees, links = [], []
    for top in _SYSTEM_TREES:
        if os.path.islink(top):
            links.append(top)
        elif os.path.isdir(top):
            trees.append(top)
    trees += [t for t in _interpreter_trees() if not _under(t, trees)]
    files = [f for f in _SYSTEM_FILES if os.path.exists(f)]
    hidden = [p for p in _site_packages() if _under(p, trees)]
    tops = {p.strip("/").split("/")[0] for p in [*trees, *links, *files, _SANDBOX_SCRIPT]}
    return {"trees": trees, "links": links, "files": files, "hidden": hidden,
            "tops": sorted(tops | set(_NAMESPACE_MOUNTS))}  # fmt: skip


def _bwrap_command(bwrap: str, is_root: bool) -> list[str]:
    """The bubblewrap prefix: every namespace and a minimal, read-only view of the file system.

    A snippet sees only what the interpreter needs (``/usr``, ``/lib*``, the interpreter's prefix
    with its site-packages hidden, ``/etc/ld.so.cache`` and ``/etc/localtime``), the worker
    script and its two sibling modules (``_seccomp``, ``_wire``), a fresh ``/proc`` and
    ``/dev``, and a private tmpfs ``/tmp`` per run; nothing of
    ``/home``, ``/root``, ``/var``, ``/run``, the rest of ``/etc``, the working directory, the
    project or its venv. Everything is read-only, so no run can leave anything for a later one.

    As root the worker is real root (no user namespace), so each child can drop to uid 65534. An
    ordinary user gets a user namespace in which the worker is uid 65534 with that namespace's
    capabilities (to give each child its own mounts); each child drops them all.
    ``--die-with-parent`` is not used: it is tied to the spawning *thread*, and workers are
    spawned from whichever thread recycles them; a worker exits instead when the host's end of
    its control socket closes.
    """
    view = _minimal_view()
    cmd = [bwrap, "--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
           "--unshare-cgroup-try"]  # fmt: skip
    if not is_root:
        cmd += ["--unshare-user", "--uid", str(_w.NOBODY), "--gid", str(_w.NOBODY)]
        cmd += ["--cap-add", "ALL"]  # inside the new user namespace only
    cmd += ["--new-session", "--chdir", "/"]
    bound: list[str] = []
    made: set[str] = set()

    def parents(path: str) -> None:  # bwrap would create missing parents mode 0700
        parts = path.strip("/").split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directory = "/" + "/".join(parts[:depth])
            if directory not in made and not _under(directory, bound):
                made.add(directory)
                cmd.extend(["--perms", "0755", "--dir", directory])

    for link in view["links"]:
        cmd += ["--symlink", os.readlink(link), link]
    for tree in view["trees"]:
        parents(tree)
        cmd += ["--ro-bind", tree, tree]
        bound.append(tree)
    for path in view["files"]:
        parents(path)
        cmd += ["--symlink", os.readlink(path), path] if os.path.islink(path) else [
            "--ro-bind", path, path]  # fmt: skip
    for path in view["hidden"]:
        cmd += ["--tmpfs", path, "--remount-ro", path]
    parents(_SANDBOX_SCRIPT)
    cmd += ["--ro-bind", _WORKER_SCRIPT, _SANDBOX_SCRIPT]
    for sibling in _WORKER_SIBLINGS:
        cmd += ["--ro-bind", sibling, f"{_SANDBOX_DIR}/{os.path.basename(sibling)}"]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev"]
    cmd += ["--tmpfs", "/tmp", "--remount-ro", "/tmp", "--remount-ro", "/"]  # noqa: S108
    return [*cmd, "--"]


class _WorkerFailed(Exception):
    """A worker died, hung or spoke garbage: an infrastructure failure."""


class _Worker:
    """One worker process (a fork template that never holds job data) and its control socket.

    Per run the host makes four fresh pipes, sends the child's ends with a small fixed control
    message (run id, timeout, rlimits) over the socket (SCM_RIGHTS), and itself writes the job
    into the child's input pipe and reads its stdout, stderr and result pipes. The worker only
    forks, confines, kills at the deadline and reports the exit status.
    """

    def __init__(self, command: list[str], init: dict[str, Any], hash_seed: int = 0) -> None:
        self.runs = 0
        self.ready: dict[str, Any] | None = None
        self.broken = False
        self.failure: str | None = None  # why the worker could not even be launched
        self.proc: subprocess.Popen[bytes] | None = None
        self._sock: socket.socket | None = None
        try:
            host_end, worker_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self._sock = host_end
            try:
                self.proc = subprocess.Popen(
                    command,
                    stdin=worker_end.fileno(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    env={"PYTHONHASHSEED": str(hash_seed)},
                    start_new_session=True,  # terminal signals go to the host, not the workers
                )
            finally:
                worker_end.close()
            self._send(init)
        except (OSError, _WorkerFailed) as exc:
            self.broken, self.failure = True, f"could not launch {command[0]}: {exc}"

    def _send(self, obj: dict[str, Any], fds: Sequence[int] = ()) -> None:
        assert self._sock is not None
        data = _wire.encode(obj)
        try:
            if fds:
                socket.send_fds(self._sock, [data], list(fds))
            else:
                self._sock.send(data)
        except OSError as exc:
            # A worker that died at once (e.g. bwrap refused) says why on stderr: report that.
            raise _WorkerFailed(
                f"could not send to the worker: {exc} ({self._stderr_tail()})"
            ) from None

    def _read_message(self) -> dict[str, Any]:
        assert self._sock is not None
        try:
            message = self._sock.recv(1 << 20)
        except OSError as exc:  # e.g. reset: the worker died at once (bwrap refused...)
            raise _WorkerFailed(f"worker exited: {exc} ({self._stderr_tail()})") from None
        if not message:
            raise _WorkerFailed(f"worker exited ({self._stderr_tail()})")
        try:
            return _wire.decode(message, "the worker's message")
        except _wire.WireError as exc:
            raise _WorkerFailed(str(exc)) from None

    def _receive(self, timeout: float) -> dict[str, Any]:
        assert self._sock is not None
        poller = select.poll()
        poller.register(self._sock.fileno(), select.POLLIN)
        if not poller.poll(max(1, int(timeout * 1000))):
            raise _WorkerFailed(f"worker did not answer within {timeout:.1f} s")
        return self._read_message()

    def _stderr_tail(self) -> str:
        if self.proc is None:
            return "never started"
        try:
            self.proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return "still running"
        err = b""
        if self.proc.stderr is not None:
            os.set_blocking(self.proc.stderr.fileno(), False)
            with contextlib.suppress(OSError):
                err = self.proc.stderr.read() or b""
        text = err.decode("utf-8", "replace").strip()[-500:]
        return f"exit status {self.proc.returncode}" + (f": {text}" if text else "")

    def ensure_ready(self) -> dict[str, Any]:
        if self.failure is not None:
            raise _WorkerFailed(self.failure)
        if self.ready is None:
            try:
                ready = self._receive(_STARTUP_TIMEOUT)
            except (_WorkerFailed, ValueError, OSError) as exc:
                self.broken = True
                raise _WorkerFailed(f"worker failed to start: {exc}") from None
            if ready.get("k") != "ready":
                self.broken = True
                raise _WorkerFailed(f"worker sent {ready!r} instead of its ready frame")
            self.ready = ready
        return self.ready

    def run(
        self, control: dict[str, Any], payload: bytes, caps: dict[str, int], wait: float
    ) -> dict[str, Any]:
        """One run: hand the child's pipe ends to the worker, feed and collect them here."""
        self.ensure_ready()
        assert self._sock is not None
        child_fds, parent_fds = _w.run_pipes()
        try:
            self._send(control, child_fds)
        except _WorkerFailed:
            self.broken = True
            for fd in parent_fds:
                os.close(fd)
            raise
        finally:
            for fd in child_fds:
                os.close(fd)
        collector = _w.Collector(payload, parent_fds, caps)
        status: dict[str, Any] | None = None
        try:
            collector.register(self._sock.fileno())
            deadline = time.monotonic() + wait
            stop_sent = False
            while status is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise _WorkerFailed(f"worker did not answer within {wait:.1f} s")
                if collector.wait(remaining):
                    status = self._read_message()
                if collector.exceeded and not stop_sent and status is None:
                    self._send({"op": "stop", "id": control["id"]})  # kill it now
                    stop_sent = True
            collector.drain()
        except (_WorkerFailed, ValueError, OSError) as exc:
            self.broken = True
            raise _WorkerFailed(str(exc)) from None
        finally:
            collector.close()
        if status.get("id") != control["id"]:
            self.broken = True
            raise _WorkerFailed("worker answered a different run (protocol desynchronised)")
        self.runs += 1
        return {**status, **collector.result()}

    def kill(self) -> None:
        self.broken = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        if self.proc is None:
            return
        with contextlib.suppress(OSError):  # the worker's own session (bwrap included)
            os.killpg(self.proc.pid, signal.SIGKILL)
        try:
            self.proc.kill()
            self.proc.wait(timeout=5.0)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if self.proc.stderr is not None:
            with contextlib.suppress(OSError):
                self.proc.stderr.close()

    def host_pids(self) -> list[int]:
        """Host pids of this worker's processes (bwrap and the Python worker)."""
        return [] if self.proc is None else _descendants(self.proc.pid, include_self=True)


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return False
    return data[data.rfind(b")") + 2 : data.rfind(b")") + 3] != b"Z"


def _wait_gone(pids: list[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.01)


def _descendants(root: int, *, include_self: bool = False) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        ppid = int(data[data.rfind(b")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found if include_self else found[1:]


# ---------------------------------------------------------------------------------------------
# The pool.


class WorkerPool:
    """``size`` sandbox workers, started together, checked out one per run. Thread-safe.

    Arguments:
        size: number of worker processes.
        tmp_size: bytes of each run's private ``/tmp`` (with namespaces).
        recycle_after: replace a worker after this many runs.
        hash_seed: the ``PYTHONHASHSEED`` of every worker.
        want_namespaces, want_seccomp: True (required), False (off) or None (when they work).

    After `start`, ``facts`` holds what the first worker measured (its ready message, with the
    probe's facts), ``init`` what every worker was told, ``view`` the bubblewrap view (empty
    without it) and ``namespace_note`` why namespaces are, or are not, in use.
    """

    def __init__(
        self,
        size: int,
        *,
        tmp_size: int,
        recycle_after: int,
        hash_seed: int,
        want_namespaces: bool | None,
        want_seccomp: bool | None,
    ) -> None:
        self.size = size
        self.tmp_size = tmp_size
        self.recycle_after = recycle_after
        self.hash_seed = hash_seed
        self.want_namespaces = want_namespaces
        self.want_seccomp = want_seccomp
        self._lock = threading.Lock()
        self._idle: queue.LifoQueue[_Worker | None] = queue.LifoQueue()
        self._all: set[_Worker] = set()
        self.started = False
        self.closed = False
        self.owner = os.getpid()
        self.command: list[str] = []
        self.init: dict[str, Any] = {}
        self.namespace_note = ""
        self.facts: dict[str, Any] = {}
        self.view: dict[str, Any] = {}

    def start(self, accept: Callable[[], None]) -> None:
        """Start every worker (idempotent). Once the first one is ready and ``facts`` are known,
        ``accept()`` may refuse them by raising: the workers are then killed and it propagates."""
        with self._lock:
            if os.getpid() != self.owner:  # we were forked: the workers belong to the parent
                self._all, self._idle = set(), queue.LifoQueue()
                self.started, self.owner = False, os.getpid()
            if self.closed:
                raise SandboxUnavailable("this PythonSandbox is closed; create a new one")
            if self.started:
                return
            self._configure()
            workers = [self._spawn() for _ in range(self.size)]
            try:
                ready = workers[0].ensure_ready()
            except _WorkerFailed as exc:
                for worker in workers:
                    worker.kill()
                if self.want_namespaces is not None or not self.namespace_note.startswith("bwrap"):
                    raise SandboxUnavailable(f"the Python sandbox could not start: {exc}") from None
                logger.warning("sandbox: namespaces unavailable, running without them: %s", exc)
                self.namespace_note = f"bubblewrap failed here, running without it: {exc}"
                self._configure(use_namespaces=False)
                workers = [self._spawn() for _ in range(self.size)]
                try:
                    ready = workers[0].ensure_ready()
                except _WorkerFailed as exc2:
                    for worker in workers:
                        worker.kill()
                    raise SandboxUnavailable(
                        f"the Python sandbox could not start: {exc2}"
                    ) from None
            self.facts = ready
            try:
                accept()
            except BaseException:
                for worker in workers:
                    worker.kill()
                raise
            for worker in workers:
                self._idle.put(worker)
            self.started = True

    def _configure(self, use_namespaces: bool | None = None) -> None:
        """Decide the worker command line: inside bubblewrap or not."""
        if use_namespaces is None:
            use_namespaces = self.want_namespaces is not False
            bwrap = shutil.which("bwrap")
            if bwrap is None:
                if self.want_namespaces:
                    raise SandboxUnavailable(
                        "namespaces=True was requested but bubblewrap (bwrap) is not installed; "
                        "install it (e.g. apt-get install bubblewrap) or pass namespaces=None"
                    )
                use_namespaces = False
                self.namespace_note = "bubblewrap (bwrap) is not installed"
            elif use_namespaces:
                self.namespace_note = f"bwrap at {bwrap}"
            else:
                self.namespace_note = (
                    "disabled (namespaces=False or LANGGAMES_SANDBOX_NAMESPACES=0)"
                )
        # -s -S: no site-packages (snippets get the standard library only); the environment is
        # ours entirely (env below), so -E is not needed and a fixed PYTHONHASHSEED makes set and
        # dict iteration orders the same in every worker.
        # The real interpreter, not a virtualenv's symlink to it: the venv is not in the
        # namespace's view, and workers use the stdlib only (-s -S).
        python = [_INTERPRETER, "-s", "-S", "-B", "-X", "utf8"]
        if use_namespaces:
            prefix = _bwrap_command(shutil.which("bwrap") or "bwrap", os.geteuid() == 0)
            self.view = _minimal_view()
            python.append(_SANDBOX_SCRIPT)
        else:
            prefix, self.view = [], {}
            python.append(_WORKER_SCRIPT)
        self.command = prefix + python
        self.init = {
            "namespaces": use_namespaces,
            "seccomp": self.want_seccomp is not False,
            "tmp_size": self.tmp_size,
            "host_pid": os.getpid(),
        }

    def _spawn(self) -> _Worker:
        worker = _Worker(self.command, self.init, self.hash_seed)
        self._all.add(worker)
        return worker

    def close(self) -> None:
        """Kill every worker and everything they run. Idempotent; later runs raise."""
        with self._lock:
            self.closed = True
            workers, self._all = list(self._all), set()
        pids = [pid for worker in workers for pid in worker.host_pids()]
        for worker in workers:
            worker.kill()
        _wait_gone(pids, timeout=2.0)
        for _ in range(self.size):  # wake threads waiting for a worker
            self._idle.put(None)

    def _acquire(self) -> _Worker:
        if not self.started or os.getpid() != self.owner:
            raise SandboxUnavailable("the sandbox's worker pool is not started in this process")
        worker = self._idle.get()
        if worker is None or self.closed:
            self._idle.put(None)
            raise SandboxUnavailable("this PythonSandbox was closed while the call was waiting")
        return worker

    def _release(self, worker: _Worker, recycle: bool) -> None:
        if self.closed:
            worker.kill()
            return
        if recycle or worker.broken or worker.runs >= self.recycle_after:
            worker.kill()
            with self._lock:
                self._all.discard(worker)
                if self.closed:
                    return
                worker = self._spawn()  # starts now; its handshake is awaited on first use
        self._idle.put(worker)

    def run(
        self, control: dict[str, Any], payload: bytes, caps: dict[str, int], wait: float
    ) -> dict[str, Any]:
        """One run on an idle worker (waiting for one if all are busy): the worker's reply merged
        with what the collector gathered. A worker failure becomes ``{"worker_error": why}`` and
        the worker is replaced, as is one that left processes behind or reported an error."""
        worker = self._acquire()
        recycle = False
        try:
            reply = worker.run(control, payload, caps, wait)
            recycle = not reply.get("clean", True) or "worker_error" in reply
        except _WorkerFailed as exc:
            logger.warning("sandbox worker failed: %s", exc)
            reply = {"worker_error": str(exc)}
        finally:
            self._release(worker, recycle)
        return reply

    def worker_pids(self) -> list[int]:
        """Host pids of all worker processes (for monitoring and tests)."""
        return [pid for worker in list(self._all) for pid in worker.host_pids()]
