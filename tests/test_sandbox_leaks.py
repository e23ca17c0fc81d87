"""Nothing a job sends (code, arguments, stdin) or receives (results) is readable by a later one.

Issue 13: a wrong sample scored after a right one found the right program in the memory of the
warm worker it was forked from. Each test here runs "earlier" jobs that carry unique markers in
every channel, then a snippet that searches for them everywhere it can: its whole address space
(/proc/self/maps with /proc/self/mem, or ctypes where /proc/self/mem is closed to it), the
objects the garbage collector knows, and every place a job could leave something behind for the
next one (/tmp, /dev/shm, SysV shared memory, module state). The scanner must find its *own*
marker (the scan works) and none of the earlier ones. The same holds through `PythonTool`, from
one call to the next and from one episode to the next.
"""

from __future__ import annotations

import json
import os
import re
import secrets

import pytest

from langgames.registry import make_game
from langgames.tools import PythonTool, tool_call
from langgames.verifiers.python import PythonSandbox

# The scanner looks for "LGLEAK-" + 32 hex digits; the literal never appears whole in its source.
SCANNER = r"""
import ctypes, gc, json, os, re
PATTERN = re.compile(("LGL" + "EAK-").encode() + rb"([0-9a-f]{32})")
OWN = "LGL" "EAK-" + "{own}"
found, how = set(), []

def search(data):
    for match in PATTERN.finditer(data):
        found.add(match.group(1).decode())

regions = []
with open("/proc/self/maps") as fh:
    for line in fh:
        fields = line.split()
        start, end = (int(x, 16) for x in fields[0].split("-"))
        name = fields[5] if len(fields) > 5 else ""
        if fields[1].startswith("r") and name not in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
            regions.append((start, end, name))
try:
    mem = open("/proc/self/mem", "rb", buffering=0)
    how.append("proc_mem")
except OSError:
    mem = None
    how.append("ctypes")
scanned = 0
for start, end, name in regions:
    if name and not name.startswith("[") and not name.startswith("/memfd"):
        continue  # file-backed pages hold files, not jobs (and may end before the mapping)
    for offset in range(start, end, 1 << 20):
        size = min(1 << 20, end - offset)
        try:
            if mem is not None:
                mem.seek(offset)
                chunk = mem.read(size)
            else:
                chunk = ctypes.string_at(offset, size)
        except (OSError, ValueError, OverflowError):
            continue
        scanned += len(chunk)
        search(chunk)
for obj in gc.get_objects():
    for ref in gc.get_referents(obj):
        if isinstance(ref, str):
            search(ref.encode("utf-8", "replace"))
        elif isinstance(ref, (bytes, bytearray)):
            search(bytes(ref))
places = {}
for directory in ("/tmp", "/dev/shm", "/var/tmp"):
    try:
        names = os.listdir(directory)
    except OSError:
        continue
    places[directory] = names
    for entry in names:
        try:
            with open(os.path.join(directory, entry), "rb") as fh:
                search(fh.read())
        except OSError:
            pass
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget(0x4C47, 4096, 0)
if shmid >= 0:
    address = libc.shmat(shmid, None, 0)
    if address not in (None, ctypes.c_void_p(-1).value):
        search(ctypes.string_at(address, 4096))
import builtins
search(repr(getattr(builtins, "STASH", "")).encode())
print(json.dumps({"found": sorted(found), "how": how, "scanned": scanned, "places": places,
                  "shm": shmid, "own": OWN[-32:]}))
"""

# An earlier job that tries to leave its marker everywhere a later job might look.
STASHER = r"""
import builtins, ctypes, os
secret = "LGL" "EAK-" + "{mark}"
builtins.STASH = secret
for directory in ("/tmp", "/dev/shm", "/var/tmp"):
    try:
        with open(os.path.join(directory, "stash"), "w") as fh:
            fh.write(secret)
    except OSError:
        pass
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
shmid = libc.shmget(0x4C47, 4096, 0o1666)
if shmid >= 0:
    address = libc.shmat(shmid, None, 0)
    if address not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(address, secret.encode(), len(secret))
print(secret)
"""


def marker() -> str:
    return secrets.token_hex(16)


def scan(run, own: str) -> dict:
    out = run(SCANNER.replace("{own}", own))
    report = json.loads(out.strip().splitlines()[-1])
    assert own in report["found"], f"the scan does not work (own marker not found): {report}"
    assert report["scanned"] > 1 << 20, report
    return report


@pytest.fixture(scope="module")
def sandbox():
    with PythonSandbox(workers=1, timeout=5.0) as box:
        yield box


def _earlier_jobs(box: PythonSandbox) -> set[str]:
    """Jobs that put markers in code, stdin, arguments, return values, stdout and every stash."""
    marks = {name: marker() for name in ("code", "stdin", "stdout", "arg", "ret", "stash")}
    code = f"X = 'LGLEAK-{marks['code']}'\nprint(input(), 'LGLEAK-' + {marks['stdout']!r})"
    result = box.run(code, stdin=f"LGLEAK-{marks['stdin']}")
    assert result.ok and marks["stdout"] in result.stdout, result
    calls = box.call(
        f"def f(a):\n    return (a, 'LGLEAK-{marks['ret']}')", "f", [(f"LGLEAK-{marks['arg']}",)]
    )
    assert calls[0].ok, calls
    stashed = box.run(STASHER.replace("{mark}", marks["stash"]))
    assert stashed.ok and marks["stash"] in stashed.stdout, stashed
    return set(marks.values())


def test_a_later_snippet_finds_nothing_of_earlier_jobs(sandbox):
    earlier = _earlier_jobs(sandbox)
    for _ in range(2):  # and again after more runs of the same worker
        report = scan(lambda code: sandbox.run(code).stdout, own=marker())
        assert not earlier & set(report["found"]), report
        assert report["shm"] < 0, report  # no SysV segment survives: an IPC namespace per run
        assert all("stash" not in names for names in report["places"].values()), report


def test_earlier_jobs_never_reach_the_worker_process():
    """Read the worker (the fork template) from outside: no job's marker is in its memory."""
    if os.geteuid() != 0:
        pytest.skip("reading another process's memory needs root (the worker is not dumpable)")
    with PythonSandbox(workers=1, timeout=5.0) as box:
        earlier = _earlier_jobs(box)
        pids = [p for p in box.worker_pids() if b"_sandbox_worker" in _cmdline(p)]
        pids = [p for p in pids if b"bwrap" not in _cmdline(p).split(b"\0")[0]]
        assert pids
        for pid in pids:
            found = _scan_process(pid)
            assert found, "the scan of the worker read nothing"
            assert not earlier & found["markers"], found["markers"]


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _scan_process(pid: int) -> dict:
    pattern = re.compile(rb"LGLEAK-([0-9a-f]{32})")
    markers: set[str] = set()
    scanned = 0
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in maps:
            fields = line.split()
            if not fields[1].startswith("r"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except OSError:
                continue
            scanned += len(data)
            markers.update(m.group(1).decode() for m in pattern.finditer(data))
    return {"markers": markers, "scanned": scanned} if scanned else {}


def test_python_tool_keeps_nothing_between_calls_and_episodes():
    env = PythonTool(make_game("langgames/BaseConvert-v0"), timeout=5.0, max_calls=8)
    try:
        env.reset(seed=1)
        first, second = marker(), marker()
        obs, *_ = env.step(tool_call(f"v = 'LGLEAK-{first}'\nprint(v)"))
        assert first in obs
        obs, *_, info = env.step(tool_call(STASHER.replace("{mark}", second)))
        assert info["tool"]["status"] == "ok" and second in obs

        def run(code: str) -> str:
            _, _, _, _, info = env.step(tool_call(code))
            assert info["tool"]["status"] == "ok", info["tool"]
            return info["tool"]["output"].replace("&quot;", '"')

        report = scan(run, own=marker())  # the next call of the same episode
        assert not {first, second} & set(report["found"]), report
        env.reset(seed=2)  # a new episode
        report = scan(run, own=marker())
        assert not {first, second} & set(report["found"]), report
        out = run("import builtins; print(hasattr(builtins, 'STASH'), 'v' in globals())")
        assert out.strip() == "False False"
    finally:
        env.close()
