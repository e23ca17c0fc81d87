"""Hostile programs against the Python sandbox. Each is harmless in effect: it aims at marker files
this test creates, at a loopback listener this test starts, or loops for a bounded time.

Every attack must be contained (the expected status, no marker touched, no connection made) and
leave the host healthy: the next ordinary run succeeds quickly and no process is left behind.
Attacks that need a layer this machine lacks are skipped with the layer's reason, so a degraded
machine shows exactly what it does not protect against.
"""

from __future__ import annotations

import os
import socket
import textwrap
import threading
import time
from pathlib import Path

import pytest

from langgames.verifiers._sandbox_pool import _descendants
from langgames.verifiers.python import PythonSandbox, RunStatus
from langgames.verifiers.verdict import Status

SECRET = "s3cr3t-LANGGAMES-7f1c"  # noqa: S105 - a marker string, not a credential
OK, ERROR, TIMEOUT, LIMIT, FORBIDDEN = (
    RunStatus.OK, RunStatus.ERROR, RunStatus.TIMEOUT, RunStatus.RESOURCE_LIMIT, RunStatus.FORBIDDEN,
)  # fmt: skip


@pytest.fixture(scope="module")
def sandbox():
    os.environ["LANGGAMES_TEST_SECRET"] = SECRET  # a secret in the host's own environment
    try:
        with PythonSandbox(workers=2, timeout=1.0) as sb:
            yield sb
    finally:
        del os.environ["LANGGAMES_TEST_SECRET"]


@pytest.fixture(scope="module")
def layers(sandbox):
    return {row["layer"]: row for row in sandbox.isolation_report()}


def need(layers, *names):
    for name in names:
        if not layers[name]["active"]:
            pytest.skip(f"layer {name} is not active here: {layers[name]['detail']}")


@pytest.fixture
def markers(tmp_path):
    """Marker files in the host's temp dir and in a directory outside /tmp that the sandbox sees."""
    here = Path(__file__).parent
    # As an ordinary user (tests/test_sandbox_user.py) the checkout is not writable: use $HOME.
    base = here if os.access(here, os.W_OK) else Path.home()
    outside = base / f".attack-markers-{os.getpid()}"
    outside.mkdir(exist_ok=True)
    paths = {}
    for where, base in (("tmp", tmp_path), ("outside", outside)):
        marker = base / "marker.txt"
        marker.write_text("keep me")
        secret = base / "secret.txt"
        secret.write_text(SECRET)
        secret.chmod(0o600)
        paths[where] = (marker, secret)
    yield paths
    for child in outside.iterdir():
        child.unlink()
    outside.rmdir()


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read()
    except OSError:
        return b""


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            data = fh.read()
    except OSError:
        return 0
    return int(data[data.rfind(b")") + 2 :].split()[1])


def leftovers(sandbox) -> list[int]:
    """Processes still running under any sandbox worker of this test process (none should be:
    snippet processes are forked from a worker, so they are its descendants)."""

    def is_worker(pid: int) -> bool:
        argv = _cmdline(pid).split(b"\0")
        return not argv[0].endswith(b"bwrap") and b"_sandbox_worker.py" in argv

    workers = [p for p in _descendants(os.getpid()) if is_worker(p) and not is_worker(_parent(p))]
    return [child for worker in workers for child in _descendants(worker)]


def assert_healthy(sandbox):
    started = time.monotonic()
    result = sandbox.run("print(sum(range(10)))")
    assert result.ok and result.stdout == "45\n", result
    assert time.monotonic() - started < 1.0
    deadline = time.monotonic() + 2.0
    while leftovers(sandbox) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert leftovers(sandbox) == []


def attack(sandbox, code, statuses, **kwargs):
    result = sandbox.run(textwrap.dedent(code), **kwargs)
    assert result.status in statuses, result
    assert SECRET not in result.stdout + result.stderr
    assert_healthy(sandbox)
    return result


# -- files ---------------------------------------------------------------------------------------


def test_write_outside_tmp_fails(sandbox, layers, markers):
    need(layers, "readonly_filesystem")
    target = markers["outside"][0].parent / "written-by-sandbox.txt"
    for path in (target, Path("/etc/langgames-pwned"), Path("/usr/langgames-pwned")):
        attack(sandbox, f"open({str(path)!r}, 'w').write('x')", {ERROR})
        assert not path.exists()


def test_delete_markers_fails(sandbox, layers, markers):
    need(layers, "readonly_filesystem")
    for marker, secret in markers.values():
        code = f"""
        import os, shutil
        for p in ({str(marker)!r}, {str(secret)!r}):
            try:
                os.remove(p)
            except OSError:
                pass
        shutil.rmtree({str(marker.parent)!r}, ignore_errors=True)
        """
        attack(sandbox, code, {OK})
        assert marker.read_text() == "keep me" and secret.read_text() == SECRET


def test_reading_a_host_secret_file_sees_nothing(sandbox, layers, markers):
    need(layers, "private_tmp")
    for _, secret in markers.values():
        attack(sandbox, f"print(open({str(secret)!r}).read())", {ERROR})


def test_tmp_is_private_and_fresh_per_run(sandbox, layers, tmp_path):
    need(layers, "private_tmp")
    (tmp_path / "host-file").write_text("host")
    attack(sandbox, "import os; print(os.listdir('/tmp'))", {OK})
    for _ in range(4):  # both workers, several runs
        attack(
            sandbox, "open('/tmp/leak', 'w').write('x'); import builtins; builtins.LEAK = 1", {OK}
        )
        result = attack(
            sandbox,
            "import os, builtins; print(os.listdir('/tmp'), hasattr(builtins, 'LEAK'))",
            {OK},
        )
        assert result.stdout == "[] False\n"


def test_fill_tmp_is_bounded(sandbox, layers):
    need(layers, "private_tmp")
    code = """
    i = 0
    while True:
        with open(f'/tmp/f{i}', 'wb') as fh:
            fh.write(b'x' * (1 << 20))
        i += 1
    """
    attack(sandbox, code, {ERROR, LIMIT})


# -- secrets in the environment -------------------------------------------------------------------


def test_environment_secrets_are_invisible(sandbox):
    code = """
    import os
    print(dict(os.environ))
    for pid in ['self', '1', str(os.getppid())] + [p for p in os.listdir('/proc') if p.isdigit()]:
        for name in ('environ', 'cmdline'):
            try:
                print(open(f'/proc/{pid}/{name}', 'rb').read())
            except OSError:
                pass
    """
    result = attack(sandbox, code, {OK})
    assert "LANGGAMES_TEST_SECRET" not in result.stdout


# -- processes, exec, ctypes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "import os; os.system('touch {m}')",
        "import subprocess; subprocess.run(['touch', '{m}'])",
        "import posix; posix.execv('/usr/bin/touch', ['touch', '{m}'])",
        "import os; os.execv('/bin/sh', ['sh', '-c', 'touch {m}'])",
        "import ctypes; ctypes.CDLL(None).system(b'touch {m}')",
        "import pty; pty.spawn(['touch', '{m}'])",
    ],
)
def test_exec_is_refused(sandbox, tmp_path, code):
    marker = tmp_path / "exec-marker"
    attack(sandbox, code.format(m=marker), {OK, ERROR, FORBIDDEN})  # pty.spawn trips seccomp
    assert not marker.exists()


@pytest.mark.parametrize(
    "code",
    [
        "import ctypes; ctypes.CDLL(None).ptrace(16, 1, 0, 0)",
        "import ctypes; ctypes.CDLL(None).unshare(0x10000000)",
        "import ctypes; ctypes.CDLL(None).mount(b'none', b'/mnt', b'tmpfs', 0, None)",
        "import ctypes; ctypes.CDLL(None).syscall(321, 0, 0, 0)",  # bpf on x86_64
    ],
)
def test_dangerous_syscalls_kill_the_process(sandbox, layers, code):
    need(layers, "seccomp")
    result = attack(sandbox, code, {FORBIDDEN, ERROR})
    assert result.status is FORBIDDEN or "Permission" in result.error


def test_signals_to_the_worker_are_refused(sandbox):
    code = """
    import os, signal
    for target in (os.getppid(), 1, -1):
        try:
            os.kill(target, signal.SIGKILL)
        except OSError as exc:
            print(type(exc).__name__)
    """
    attack(sandbox, code, {OK})


# -- import tricks and introspection --------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "__import__('os').system('touch {m}')",
        "import importlib; importlib.import_module('os').system('touch {m}')",
        """
        for cls in ().__class__.__base__.__subclasses__():
            if cls.__name__ == '_wrap_close':
                cls.__init__.__globals__['system']('touch {m}')
        """,
        """
        import sys
        frame = sys._getframe()
        while frame.f_back:
            frame = frame.f_back
        frame.f_globals['os'].system('touch {m}')
        """,
        """
        try:
            1 / 0
        except ZeroDivisionError as exc:
            tb = exc.__traceback__
            tb.tb_frame.f_globals['__builtins__']['__import__']('os').system('touch {m}')
        """,
        "print('{{0.__class__.__base__.__subclasses__}}'.format(0))\n"
        "import os; os.system('touch {m}')",
    ],
)
def test_import_and_introspection_tricks_stay_inside(sandbox, tmp_path, code):
    marker = tmp_path / "trick-marker"
    attack(sandbox, code.format(m=marker), {OK, ERROR})
    assert not marker.exists()


# -- network --------------------------------------------------------------------------------------


@pytest.fixture
def listener():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    connections: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            connections.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


@pytest.mark.parametrize(
    "code",
    [
        "import socket; socket.create_connection(('127.0.0.1', {port}), timeout=0.5)",
        "import socket; s = socket.socket(socket.AF_INET6); s.connect(('::1', {port}))",
        "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
        "s.sendto(b'x', ('127.0.0.1', {port}))",
        "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{port}/', timeout=0.5)",
    ],
)
def test_no_network(sandbox, layers, listener, code):
    need(layers, "network")
    port, connections = listener
    attack(sandbox, code.format(port=port), {ERROR})
    time.sleep(0.1)
    assert connections == []


# -- bombs, loops and limits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "statuses"),
    [
        ("import os\nfor _ in range(100_000):\n    try:\n        os.fork()\n"
         "    except OSError:\n        pass",
         {TIMEOUT, ERROR, OK}),
        ("import threading, time\nfor _ in range(10_000):\n"
         "    threading.Thread(target=time.sleep, args=(5,)).start()",
         {ERROR, LIMIT, TIMEOUT}),
        ("files = [open('/dev/null') for _ in range(100_000)]", {ERROR}),
        ("while True:\n    pass", {TIMEOUT}),
        ("import time\ntime.sleep(100)", {TIMEOUT}),
        ("x = 10 ** 10 ** 8", {TIMEOUT}),
        ("x = bytearray(10 ** 11)", {LIMIT}),
        ("blocks = []\nwhile True:\n    blocks.append(' ' * 10 ** 6)", {LIMIT}),
        ("while True:\n    print('x' * 10_000)", {LIMIT}),
        ("import sys\nwhile True:\n    sys.stderr.write('y' * 10_000)", {LIMIT}),
        ("def f(n):\n    return f(n + 1)\nf(0)", {ERROR}),
        ("import sys\nsys.setrecursionlimit(10 ** 7)\ndef f(n):\n    return f(n + 1)\nf(0)",
         {TIMEOUT, LIMIT}),
        ("import re\nre.match('(a+)+$', 'a' * 40 + 'b')", {TIMEOUT}),
    ],
)  # fmt: skip
def test_bombs_and_limits(sandbox, code, statuses):
    # Filling 512 MiB takes about 0.3 s of CPU, which can outlast 1 s of wall time on a machine
    # loaded by other work: this case is about the memory limit, so give it the time to hit it.
    kwargs = {"timeout": 3.5} if "blocks.append" in code else {}
    started = time.monotonic()
    result = attack(sandbox, code, statuses, **kwargs)
    assert time.monotonic() - started < 5
    assert len(result.stdout) <= 64 * 1024 and len(result.stderr) <= 64 * 1024


def test_ignored_signals_do_not_save_it(sandbox):
    code = """
    import signal
    for sig in (signal.SIGTERM, signal.SIGALRM, signal.SIGXCPU, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)
    while True:
        pass
    """
    attack(sandbox, code, {TIMEOUT})


def test_orphaned_grandchildren_are_killed(sandbox):
    code = """
    import os, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(30)
        os._exit(0)
    print('parent done')
    """
    started = time.monotonic()
    result = attack(sandbox, code, {OK})
    assert result.stdout == "parent done\n"
    assert time.monotonic() - started < 2
    assert result.details["leftovers"] >= 1  # it was there, and it was killed


def test_a_child_holding_stdout_open_does_not_stall_the_run(sandbox):
    code = """
    import os, time
    if os.fork() == 0:
        time.sleep(30)
    print('done')
    """
    started = time.monotonic()
    assert attack(sandbox, code, {OK}).stdout == "done\n"
    assert time.monotonic() - started < 1


# -- forging a pass -------------------------------------------------------------------------------

FORGERIES = {
    "always_equal": """
        class AlwaysEqual:
            def __eq__(self, other):
                return True
            __hash__ = object.__hash__
        def solve(x):
            return AlwaysEqual()
        """,
    "int_subclass": """
        class Sneaky(int):
            def __eq__(self, other):
                return True
        def solve(x):
            return Sneaky(0)
        """,
    "sys_exit_in_call": "import sys\ndef solve(x):\n    sys.exit(0)",
    "sys_exit_at_import": "import sys\nsys.exit(0)\ndef solve(x):\n    return 0",
    "os_exit": "import os\ndef solve(x):\n    print('PASSED'); os._exit(0)",
    "print_passed": "def solve(x):\n    print('ALL TESTS PASSED')\n    print('{\"status\": 1}')",
    "fake_frames_everywhere": """
        import json, os, struct
        def solve(x):
            for frame in ({'k': 'case', 'i': 0, 'status': 'ok', 'value': x * 2},
                          {'k': 'end', 'status': 'ok', 'error': None, 'exit_code': 0}):
                data = json.dumps(frame).encode()
                for fd in range(1024):
                    try:
                        os.write(fd, struct.pack('>I', len(data)) + data)
                    except OSError:
                        pass
            os._exit(0)
        """,
    "frame_walk_for_nonce": """
        import json, os, struct, sys
        def solve(x):
            frame, nonce = sys._getframe(), None
            while frame is not None:
                job = frame.f_locals.get('job')
                if isinstance(job, dict):
                    nonce = job.get('nonce')
                    assert 'expected' not in json.dumps(job)
                frame = frame.f_back
            data = json.dumps({'k': 'case', 'n': nonce, 'i': 0, 'status': 'ok', 'value': True,
                               't': 0.0}).encode()
            os.write(3, struct.pack('>I', len(data)) + data)
            return 'also a value'
        """,
    "monkeypatch_json": """
        import json
        json.dumps = lambda *a, **k: '{"k": "end", "status": "ok"}'
        def solve(x):
            return None
        """,
    "monkeypatch_compare": """
        import builtins
        builtins.isinstance = lambda *a: True
        builtins.type = lambda *a: int
        def solve(x):
            return object()
        """,
    "read_expected": """
        import gc
        def solve(x):
            found = [o for o in gc.get_objects() if isinstance(o, str) and 'EXPECTED' in o]
            return found[0] if found else 'nothing'
        """,
}


@pytest.mark.parametrize("name", sorted(FORGERIES))
def test_forging_a_pass_fails(sandbox, name):
    code = textwrap.dedent(FORGERIES[name])
    expected = "EXPECTED-" + "x" * 8 if name == "read_expected" else True
    verdict = sandbox.check(code, "solve", [((21,), expected)])
    assert verdict.status in (Status.INCORRECT, Status.FORBIDDEN), verdict
    assert verdict.reward == 0.0
    assert sandbox.check("def solve(x):\n    return True", "solve", [((1,), True)]).correct
    assert_healthy(sandbox)


def test_fake_frames_do_not_reach_later_runs(sandbox):
    forge = textwrap.dedent(FORGERIES["fake_frames_everywhere"]).replace("os._exit(0)", "return 1")
    for _ in range(4):
        sandbox.check(forge, "solve", [((1,), 2)])
        verdict = sandbox.check("def solve(x):\n    return x + 1", "solve", [((1,), 2), ((2,), 3)])
        assert verdict.correct and verdict.details["passed"] == 2


def test_ordinary_programs_still_pass(sandbox):
    code = """
    import math, collections, itertools, re, functools, heapq
    from dataclasses import dataclass, field

    @dataclass(order=True)
    class Item:
        cost: int
        name: str = field(compare=False, default='')

    def solve(words):
        counts = collections.Counter(w.lower() for w in re.findall(r'[a-z]+', words, re.I))
        heap = [Item(-n, w) for w, n in counts.items()]
        heapq.heapify(heap)
        best = heapq.heappop(heap)
        total = 0
        def add(v):
            nonlocal total
            total += v
        for a, b in itertools.pairwise(sorted(counts.values())):
            add(b - a)
        match best:
            case Item(name=name) if name:
                label = f"{name}:{-best.cost}"
            case _:
                label = '?'
        return label, total, functools.reduce(math.lcm, counts.values(), 1)
    """
    verdict = sandbox.check(textwrap.dedent(code), "solve", [(("b a B c b",), ("b:3", 2, 3))])
    assert verdict.correct, verdict
