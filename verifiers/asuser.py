"""Run a command as a throwaway ordinary user, for the sandbox's tests and benchmark.

CI runs as root, but most users do not: the sandbox must be exercised as an ordinary user too
(issue 23). `ordinary_user` creates an account with its own home (removed afterwards), and
`command_as` builds the command line that runs ``argv`` as that user, with an empty environment
apart from ``HOME``, ``USER``, ``PATH`` and ``LANG``.

The interpreter, the venv and the checkout may live where an ordinary user cannot reach them (a
pyenv interpreter in ``/root``, mode 0700). Rather than change any permission on the machine, the
command then runs in a private mount namespace (bubblewrap, as root) in which each such closed
ancestor is an empty tmpfs with just those trees bound back, read-only: the user reaches the
interpreter and the project and nothing else of ``/root``. Nothing here is used at run time.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

__all__ = ["OrdinaryUser", "command_as", "ordinary_user", "unavailable_reason"]


@dataclass(frozen=True)
class OrdinaryUser:
    name: str
    uid: int
    gid: int
    home: str


def unavailable_reason() -> str | None:
    """Why a throwaway user cannot be made here (None when it can)."""
    if not sys.platform.startswith("linux"):
        return "ordinary-user tests need Linux"
    if os.geteuid() != 0:
        return "creating a throwaway user needs root (this process is already an ordinary user)"
    if shutil.which("useradd") is None:
        return "useradd is not installed"
    return None


@contextlib.contextmanager
def ordinary_user(prefix: str = "lgsbx") -> Iterator[OrdinaryUser]:
    """A fresh account with an empty home (mode 0755), deleted with its home on exit."""
    name = f"{prefix}{secrets.token_hex(4)}"
    home = f"/home/{name}"
    # The system's own useradd and userdel, found on PATH as a shell would.
    subprocess.run(
        ["useradd", "--no-create-home", "--home-dir", home, "--shell", "/bin/sh",  # noqa: S607
         "--user-group", name],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        entry = pwd.getpwnam(name)
        os.makedirs(home, mode=0o755)
        os.chmod(home, 0o755)  # noqa: S103 - readable by others: the sandbox must hide it anyway
        os.chown(home, entry.pw_uid, entry.pw_gid)
        yield OrdinaryUser(name, entry.pw_uid, entry.pw_gid, home)
    finally:
        subprocess.run(["userdel", name], check=False, capture_output=True)  # noqa: S607
        shutil.rmtree(home, ignore_errors=True)


def _traversable(path: str) -> bool:
    try:
        return bool(os.stat(path).st_mode & stat.S_IXOTH)
    except OSError:
        return False


def _closed_ancestor(path: str) -> str | None:
    parts = path.strip("/").split("/")
    for depth in range(1, len(parts)):
        ancestor = "/" + "/".join(parts[:depth])
        if not _traversable(ancestor):
            return ancestor
    return None


def command_as(
    user: OrdinaryUser,
    argv: Sequence[str],
    reach: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> list[str]:
    """The command that runs ``argv`` as ``user``; ``reach`` are extra trees it must read and
    ``env`` extra environment variables."""
    needed = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, *reach)}
    needed.add(os.path.dirname(os.path.realpath(sys.executable)))
    env = {"HOME": user.home, "USER": user.name, "LOGNAME": user.name,
           "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}  # fmt: skip
    drop = (
        "import os, sys\n"
        f"os.setgroups([]); os.setresgid({user.gid}, {user.gid}, {user.gid})\n"
        f"os.setresuid({user.uid}, {user.uid}, {user.uid}); os.chdir({user.home!r})\n"
        f"os.execve(sys.argv[1], sys.argv[1:], {env!r})\n"
    )
    command = [os.path.realpath(sys.executable), "-I", "-c", drop, *argv]
    closed = sorted({a for a in map(_closed_ancestor, needed) if a is not None})
    if not closed:
        return command
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise RuntimeError(
            f"{', '.join(closed)} cannot be traversed by an ordinary user and bubblewrap is not "
            "installed to bind the interpreter and the project elsewhere"
        )
    prefix = [bwrap, "--bind", "/", "/", "--dev-bind", "/dev", "/dev", "--die-with-parent"]
    made = set(closed)
    for hidden in closed:
        prefix += ["--perms", "0755", "--tmpfs", hidden]
    for path in sorted(needed):
        top = next((c for c in closed if path.startswith(c + "/")), None)
        if top is None:
            continue
        parts = path[len(top) :].strip("/").split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directory = top + "/" + "/".join(parts[:depth])
            if directory not in made:
                made.add(directory)
                prefix += ["--perms", "0755", "--dir", directory]
        prefix += ["--ro-bind", path, path]
    return [*prefix, "--", *command]
