"""The seccomp filter of the Python sandbox: its system-call table, its BPF program, its install.

A hand-written classic-BPF program (no dependency), for x86_64 and aarch64 only. The sandbox
worker builds it once (`build_seccomp_filter`, then `prepare_filter` turns it into a
``sock_fprog``), and every child installs it just before the untrusted code runs
(`install_filter`: ``no_new_privs``, then ``PR_SET_SECCOMP``). What it does:

* kills the process (SIGSYS, status ``forbidden``) on ptrace, mount, namespaces, bpf, perf,
  keyctl, kexec, module loading and the other calls of `_KILL_CALLS`;
* fails with EPERM connect/bind/listen/accept, sendmsg, exec, personality and pidfd signals
  (`_EPERM_CALLS`), so library code sees a PermissionError it can handle; ``clone3`` fails with
  ENOSYS (libc falls back to ``clone``), and ``clone`` with namespace flags with EPERM;
* refuses sockets other than AF_UNIX (EAFNOSUPPORT), ``sendto`` with an address, and signals to
  the protected pids (the worker, its process group, init, the host, every process).

The system-call numbers are ours (`_SYSCALLS`); ``tests/test_seccomp.py`` checks each one against
libseccomp's own table. Standard library only and import-free of langgames: the sandbox worker
loads this file by its path inside the sandbox, where langgames cannot be imported.
"""

from __future__ import annotations

import os
import platform
import struct
import sys
from typing import Any

__all__ = ["build_seccomp_filter", "install_filter", "prepare_filter", "seccomp_arch"]

_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_MACHINE_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}

# System calls that no snippet has a reason to make: the process is killed (status `forbidden`).
_KILL_CALLS = [
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "unshare",
    "setns",
    "kexec_load",
    "kexec_file_load",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "sethostname",
    "setdomainname",
    "userfaultfd",
    "open_by_handle_at",
    "name_to_handle_at",
    "lookup_dcookie",
    "fanotify_init",
    "syslog",
    "quotactl",
    "iopl",
    "ioperm",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "open_tree",
    "move_mount",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "mount_setattr",
    "pidfd_getfd",
]
# System calls that fail with EPERM, so ordinary library code sees a PermissionError it can handle.
_EPERM_CALLS = [
    "connect",
    "accept",
    "accept4",
    "bind",
    "listen",
    "sendmsg",
    "sendmmsg",
    "execve",
    "execveat",
    "personality",
    "pidfd_open",
    "pidfd_send_signal",
]
_SIGNAL_CALLS = ("kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo")

_X86_64 = dict(
    socket=41, socketpair=53, connect=42, accept=43, accept4=288, bind=49, listen=50, sendto=44,
    sendmsg=46, sendmmsg=307, ptrace=101, process_vm_readv=310, process_vm_writev=311, mount=165,
    umount2=166, pivot_root=155, chroot=161, unshare=272, setns=308, kexec_load=246,
    kexec_file_load=320, bpf=321, perf_event_open=298, keyctl=250, add_key=248, request_key=249,
    init_module=175, finit_module=313, delete_module=176, reboot=169, swapon=167, swapoff=168,
    acct=163, settimeofday=164, clock_settime=227, clock_adjtime=305, adjtimex=159,
    sethostname=170, setdomainname=171, userfaultfd=323, open_by_handle_at=304,
    name_to_handle_at=303, personality=135, lookup_dcookie=212, fanotify_init=300, syslog=103,
    quotactl=179, execve=59, execveat=322, clone=56, clone3=435, kill=62, tkill=200, tgkill=234,
    rt_sigqueueinfo=129, rt_tgsigqueueinfo=297, pidfd_open=434, pidfd_send_signal=424,
    pidfd_getfd=438, io_uring_setup=425, io_uring_enter=426, io_uring_register=427, open_tree=428,
    move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442,
    iopl=172, ioperm=173,
)  # fmt: skip
_AARCH64 = dict(
    socket=198, socketpair=199, connect=203, accept=202, accept4=242, bind=200, listen=201,
    sendto=206, sendmsg=211, sendmmsg=269, ptrace=117, process_vm_readv=270,
    process_vm_writev=271, mount=40, umount2=39, pivot_root=41, chroot=51, unshare=97, setns=268,
    kexec_load=104, kexec_file_load=294, bpf=280, perf_event_open=241, keyctl=219, add_key=217,
    request_key=218, init_module=105, finit_module=273, delete_module=106, reboot=142, swapon=224,
    swapoff=225, acct=89, settimeofday=170, clock_settime=112, clock_adjtime=266, adjtimex=171,
    sethostname=161, setdomainname=162, userfaultfd=282, open_by_handle_at=265,
    name_to_handle_at=264, personality=92, lookup_dcookie=18, fanotify_init=262, syslog=116,
    quotactl=60, execve=221, execveat=281, clone=220, clone3=435, kill=129, tkill=130, tgkill=131,
    rt_sigqueueinfo=138, rt_tgsigqueueinfo=240, pidfd_open=434, pidfd_send_signal=424,
    pidfd_getfd=438, io_uring_setup=425, io_uring_enter=426, io_uring_register=427, open_tree=428,
    move_mount=429, fsopen=430, fsconfig=431, fsmount=432, fspick=433, mount_setattr=442,
)  # fmt: skip
_SYSCALLS = {"x86_64": _X86_64, "aarch64": _AARCH64}

_RET_KILL_PROCESS = 0x80000000
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_EPERM, _ENOSYS, _EAFNOSUPPORT = 1, 38, 97
_AF_UNIX = 1
_NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET
_LD, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06


def seccomp_arch() -> tuple[str | None, str]:
    """Return ``(arch, detail)``: the filter's architecture, or None and why there is none."""
    if not sys.platform.startswith("linux"):
        return None, f"seccomp is Linux-only (this is {sys.platform})"
    machine = platform.machine().lower()
    machine = _MACHINE_ALIASES.get(machine, machine)
    if machine not in _SYSCALLS or struct.calcsize("P") != 8:
        return None, f"no seccomp filter for architecture {machine!r} (have x86_64, aarch64)"
    return machine, f"classic-BPF filter for {machine}"


def _arg_offset(index: int, high: bool = False) -> int:
    return 16 + 8 * index + (4 if high else 0)  # struct seccomp_data, little-endian


def build_seccomp_filter(arch: str, protected_pids: list[int]) -> list[tuple[int, int, int, int]]:
    """The BPF program as ``(code, jt, jf, k)`` tuples; every block ends in a return."""
    nrs = _SYSCALLS[arch]
    kill, deny = _RET_KILL_PROCESS, _RET_ERRNO | _EPERM
    prog = [(_LD, 0, 0, 4), (_JEQ, 1, 0, _AUDIT_ARCH[arch]), (_RET, 0, 0, kill), (_LD, 0, 0, 0)]
    if arch == "x86_64":  # the x32 ABI aliases every call above 0x40000000
        prog += [(_JGE, 0, 1, 0x40000000), (_RET, 0, 0, kill)]

    def block(nr: int, body: list[tuple[int, int, int, int]]) -> None:
        prog.append((_JEQ, 0, len(body), nr))
        prog.extend(body)

    for name in _KILL_CALLS:
        if name in nrs:
            block(nrs[name], [(_RET, 0, 0, kill)])
    for name in _EPERM_CALLS:
        block(nrs[name], [(_RET, 0, 0, deny)])
    block(nrs["clone3"], [(_RET, 0, 0, _RET_ERRNO | _ENOSYS)])  # libc falls back to clone()
    for name in ("socket", "socketpair"):
        block(
            nrs[name],
            [
                (_LD, 0, 0, _arg_offset(0)),
                (_JEQ, 0, 1, _AF_UNIX),
                (_RET, 0, 0, _RET_ALLOW),
                (_RET, 0, 0, _RET_ERRNO | _EAFNOSUPPORT),
            ],
        )
    # sendto with a destination address would reach a unix socket by path without connect().
    block(
        nrs["sendto"],
        [
            (_LD, 0, 0, _arg_offset(4)),
            (_JEQ, 0, 3, 0),
            (_LD, 0, 0, _arg_offset(4, high=True)),
            (_JEQ, 0, 1, 0),
            (_RET, 0, 0, _RET_ALLOW),
            (_RET, 0, 0, deny),
        ],
    )
    block(
        nrs["clone"],
        [
            (_LD, 0, 0, _arg_offset(0)),
            (_JSET, 0, 1, _NAMESPACE_FLAGS),
            (_RET, 0, 0, deny),
            (_RET, 0, 0, _RET_ALLOW),
        ],
    )
    targets = sorted({pid & 0xFFFFFFFF for pid in protected_pids})
    guard = [(_LD, 0, 0, _arg_offset(0))]
    for target in targets:
        guard += [(_JEQ, 0, 1, target), (_RET, 0, 0, deny)]
    guard.append((_RET, 0, 0, _RET_ALLOW))
    for name in _SIGNAL_CALLS:
        block(nrs[name], guard)
    prog.append((_RET, 0, 0, _RET_ALLOW))
    return prog


# ---------------------------------------------------------------------------------------------
# Installing it (ctypes, in the worker and its children).

_PR_SET_SECCOMP = 22
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_MODE_FILTER = 2


class PreparedFilter:
    """A BPF program as a ``struct sock_fprog``, built once so each child makes only two calls."""

    def __init__(self, prog: list[tuple[int, int, int, int]]) -> None:
        import ctypes as c

        class SockFilter(c.Structure):
            _fields_ = [("code", c.c_ushort), ("jt", c.c_ubyte), ("jf", c.c_ubyte), ("k", c.c_uint)]

        class SockFprog(c.Structure):
            _fields_ = [("len", c.c_ushort), ("filter", c.POINTER(SockFilter))]

        self.length = len(prog)
        self.filter_array = (SockFilter * len(prog))(*[SockFilter(*ins) for ins in prog])
        self.fprog = SockFprog(len(prog), c.cast(self.filter_array, c.POINTER(SockFilter)))


def prepare_filter(prog: list[tuple[int, int, int, int]]) -> PreparedFilter:
    """The ``sock_fprog`` of ``prog`` (see `build_seccomp_filter`), ready for `install_filter`."""
    return PreparedFilter(prog)


def install_filter(lib: Any, prepared: PreparedFilter) -> None:
    """Set ``no_new_privs`` and install ``prepared`` on this (single-threaded) process.

    ``lib`` is libc loaded with ``ctypes.CDLL(None, use_errno=True)``. Raises `OSError` naming
    the ``prctl`` that failed (the worker's start-up probe reads that name to disable the layer).
    """
    import ctypes as c

    def check(result: int, what: str) -> None:
        if result != 0:
            err = c.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")

    zero = c.c_ulong(0)
    check(
        lib.prctl(c.c_int(_PR_SET_NO_NEW_PRIVS), c.c_ulong(1), zero, zero, zero),
        f"prctl({_PR_SET_NO_NEW_PRIVS})",
    )
    check(
        lib.prctl(
            c.c_int(_PR_SET_SECCOMP), c.c_ulong(_SECCOMP_MODE_FILTER), c.byref(prepared.fprog),
            zero, zero,
        ),
        "prctl(PR_SET_SECCOMP)",
    )  # fmt: skip
