"""The sandbox's seccomp filter on its own: its system-call table against libseccomp's, its BPF
program's shape, and what it does once installed in a throwaway process.

The behaviour inside the sandbox (a snippet that calls ptrace is ``forbidden``, sockets other than
AF_UNIX fail...) is covered by ``tests/test_sandbox_attacks.py``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import signal
import subprocess
import sys

import pytest

from langgames.verifiers import _seccomp

ARCHES = sorted(_seccomp._SYSCALLS)
BPF_MAXINSNS = 4096
# Every name the filter looks up beyond the three lists (see build_seccomp_filter).
_EXTRA_CALLS = ("clone", "clone3", "socket", "socketpair", "sendto")


def _libseccomp() -> ctypes.CDLL:
    for name in ("libseccomp.so.2", ctypes.util.find_library("seccomp")):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
        lib.seccomp_syscall_resolve_name.restype = ctypes.c_int
        lib.seccomp_syscall_resolve_name_arch.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
        lib.seccomp_syscall_resolve_name_arch.restype = ctypes.c_int
        lib.seccomp_arch_native.argtypes = []
        lib.seccomp_arch_native.restype = ctypes.c_uint32
        return lib
    pytest.skip(
        "libseccomp (libseccomp.so.2) is not installed here, so our system-call table cannot be "
        "checked against its table (apt-get install libseccomp2)"
    )


@pytest.fixture(scope="module")
def libseccomp() -> ctypes.CDLL:
    return _libseccomp()


@pytest.mark.parametrize("arch", ARCHES)
def test_every_syscall_number_matches_libseccomp(libseccomp, arch):
    """libseccomp's arch tokens are the AUDIT_ARCH values our filter checks first."""
    token = _seccomp._AUDIT_ARCH[arch]
    table = _seccomp._SYSCALLS[arch]
    wrong = {
        name: (nr, libseccomp.seccomp_syscall_resolve_name_arch(token, name.encode()))
        for name, nr in table.items()
        if libseccomp.seccomp_syscall_resolve_name_arch(token, name.encode()) != nr
    }
    assert not wrong, f"{arch}: name: (ours, libseccomp's) = {wrong}"


def test_the_native_table_matches_libseccomp_for_this_machine(libseccomp):
    arch, detail = _seccomp.seccomp_arch()
    if arch is None:
        pytest.skip(f"no seccomp filter on this machine: {detail}")
    assert libseccomp.seccomp_arch_native() == _seccomp._AUDIT_ARCH[arch]
    for name, nr in _seccomp._SYSCALLS[arch].items():
        assert libseccomp.seccomp_syscall_resolve_name(name.encode()) == nr, name


@pytest.mark.parametrize("arch", ARCHES)
def test_every_call_the_filter_names_is_in_the_table_or_absent_on_that_arch(libseccomp, arch):
    """A kill-list call missing from an arch's table (iopl, ioperm on aarch64) must be one that
    arch really lacks: libseccomp resolves it to no (or a negative pseudo) number there."""
    token = _seccomp._AUDIT_ARCH[arch]
    table = _seccomp._SYSCALLS[arch]
    for name in (*_seccomp._EPERM_CALLS, *_seccomp._SIGNAL_CALLS, *_EXTRA_CALLS):
        assert name in table, f"{arch} table lacks {name}, which the filter needs"
    for name in _seccomp._KILL_CALLS:
        if name not in table:
            assert libseccomp.seccomp_syscall_resolve_name_arch(token, name.encode()) < 0, name
    assert set(table) <= {
        *_seccomp._KILL_CALLS,
        *_seccomp._EPERM_CALLS,
        *_seccomp._SIGNAL_CALLS,
        *_EXTRA_CALLS,
    }, "a table entry no rule uses"


@pytest.mark.parametrize("arch", ARCHES)
def test_the_program_checks_the_arch_first_and_every_jump_lands_inside(arch):
    prog = _seccomp.build_seccomp_filter(arch, [1234, -1234, -1, 1, 99])
    assert 0 < len(prog) < BPF_MAXINSNS
    code_ld, code_jeq, code_ret = 0x20, 0x15, 0x06
    assert prog[0] == (code_ld, 0, 0, 4)  # seccomp_data.arch
    assert prog[1] == (code_jeq, 1, 0, _seccomp._AUDIT_ARCH[arch])
    assert prog[2] == (code_ret, 0, 0, _seccomp._RET_KILL_PROCESS)
    assert prog[-1] == (code_ret, 0, 0, _seccomp._RET_ALLOW)
    for pc, (code, jt, jf, _k) in enumerate(prog):
        if code & 0x07 == 0x05:  # BPF_JMP
            assert pc + 1 + max(jt, jf) < len(prog), f"jump at {pc} leaves the program"
    for pid in (1234, 1, 99, -1234 & 0xFFFFFFFF, 0xFFFFFFFF):
        assert (code_jeq, 0, 1, pid) in prog, f"no guard for pid {pid}"


def test_seccomp_arch_names_this_machine():
    arch, detail = _seccomp.seccomp_arch()
    if sys.platform.startswith("linux") and os.uname().machine in ("x86_64", "aarch64"):
        assert arch == os.uname().machine and arch in detail
    else:
        assert arch is None and detail


# The filter installed in a fresh interpreter that loads _seccomp by its path, as the sandbox
# worker does: what a confined process sees for each class of call.
_PROBE = r"""
import ctypes, errno, importlib.util, json, os, socket, sys
spec = importlib.util.spec_from_file_location("_seccomp_under_test", sys.argv[1])
sc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sc)
libc = ctypes.CDLL(None, use_errno=True)
arch, _ = sc.seccomp_arch()
protected = int(sys.argv[2])
sc.install_filter(libc, sc.prepare_filter(sc.build_seccomp_filter(arch, [protected])))
seen = {}

def attempt(name, action):
    try:
        action()
        seen[name] = "allowed"
    except OSError as exc:
        seen[name] = errno.errorcode.get(exc.errno, str(exc.errno))

attempt("inet_socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close())
attempt("unix_socket", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).close())
attempt("unix_pair", lambda: [s.close() for s in socket.socketpair()])
attempt("exec", lambda: os.execv("/bin/true", ["true"]))
attempt("signal_protected", lambda: os.kill(protected, 0))
attempt("signal_self", lambda: os.kill(os.getpid(), 0))
print(json.dumps(seen), flush=True)
if len(sys.argv) > 3:
    libc.syscall(ctypes.c_long(int(sys.argv[3])), 0, 0, 0, 0)  # a call the filter kills
    print("survived", flush=True)
"""


def _probe(*extra: str) -> subprocess.CompletedProcess[str]:
    arch, detail = _seccomp.seccomp_arch()
    if arch is None:
        pytest.skip(f"no seccomp filter on this machine: {detail}")
    return subprocess.run(
        [sys.executable, "-S", "-c", _PROBE, _seccomp.__file__, str(os.getppid()), *extra],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_installed_filter_refuses_what_it_should_and_allows_the_rest():
    proc = _probe()
    assert proc.returncode == 0, proc.stderr
    seen = json.loads(proc.stdout)
    assert seen["inet_socket"] == "EAFNOSUPPORT"
    assert seen["unix_socket"] == "allowed" and seen["unix_pair"] == "allowed"
    assert seen["exec"] == "EPERM"
    assert seen["signal_protected"] == "EPERM"
    assert seen["signal_self"] == "allowed"


@pytest.mark.parametrize("name", ["ptrace", "mount", "bpf", "unshare", "x32_getpid"])
def test_the_installed_filter_kills_forbidden_calls(name):
    arch, _ = _seccomp.seccomp_arch()
    if name == "x32_getpid":
        if arch != "x86_64":
            pytest.skip("the x32 ABI exists on x86_64 only")
        nr = 0x40000000 + 39  # getpid through the x32 ABI
    else:
        nr = _seccomp._SYSCALLS.get(arch or "", {}).get(name, -1)
    proc = _probe(str(nr))
    assert proc.returncode == -signal.SIGSYS, (proc.returncode, proc.stdout, proc.stderr)
    assert "survived" not in proc.stdout


def test_install_names_the_prctl_that_failed():
    """The worker's probe reads ``PR_SET_SECCOMP`` / ``prctl(38)`` in the error to turn the layer
    off where the kernel refuses it; a libc whose prctl fails must produce those names."""

    class FailingLibc:
        def prctl(self, option, *args):
            ctypes.set_errno(errno.EINVAL)
            return -1 if option.value == 38 else 0

    prepared = _seccomp.prepare_filter([(0x06, 0, 0, _seccomp._RET_ALLOW)])
    with pytest.raises(OSError, match=r"prctl\(38\)"):
        _seccomp.install_filter(FailingLibc(), prepared)

    class NoSeccompLibc:
        def prctl(self, option, *args):
            ctypes.set_errno(errno.EINVAL)
            return -1 if option.value == 22 else 0

    with pytest.raises(OSError, match="PR_SET_SECCOMP"):
        _seccomp.install_filter(NoSeccompLibc(), prepared)
