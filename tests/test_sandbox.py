"""The Python sandbox's API: run / call / check, strict comparison, argument errors, the pool.

Hostile programs live in ``test_sandbox_attacks.py``; this file checks ordinary behaviour.
"""

from __future__ import annotations

import contextlib
import math
import os
import subprocess
import sys
import threading

import pytest

from langgames.errors import InvalidArgument
from langgames.verifiers import _sandbox_worker as w
from langgames.verifiers import wire
from langgames.verifiers._sandbox_pool import _alive
from langgames.verifiers.pysubset import SubsetPolicy, check_subset
from langgames.verifiers.python import (
    CallResult,
    PythonSandbox,
    RunStatus,
    SandboxUnavailable,
    default_sandbox,
    isolation_report,
    values_equal,
)
from langgames.verifiers.verdict import Status


@pytest.fixture(scope="module")
def sandbox():
    with PythonSandbox(workers=2) as sb:
        yield sb


# -- run -------------------------------------------------------------------------------------------


def test_run_prints_and_reads_stdin(sandbox):
    result = sandbox.run("name = input()\nprint(f'hello {name}')", stdin="world\n")
    assert result.status is RunStatus.OK and result.ok
    assert result.stdout == "hello world\n"
    assert result.exit_code == 0 and result.error is None
    assert 0 < result.duration < 2
    assert (
        "namespaces" in result.details["isolation"]
        or "namespaces" in result.details["isolation_missing"]
    )


def test_run_large_stdin_and_unicode(sandbox):
    text = "é" * 200_000
    result = sandbox.run(
        "import sys\ndata = sys.stdin.read()\nprint(len(data), data[:2])", stdin=text
    )
    assert result.ok and result.stdout == "200000 éé\n"


def test_run_exception_reports_type_message_and_traceback(sandbox):
    result = sandbox.run("def f():\n    return 1 / 0\nf()")
    assert result.status is RunStatus.ERROR
    assert result.error == "ZeroDivisionError: division by zero"
    assert 'File "<snippet>", line 2' in result.stderr
    assert "_sandbox_worker" not in result.stderr  # harness frames are hidden


@pytest.mark.parametrize(
    ("code", "status", "exit_code"),
    [
        ("import sys; sys.exit(0)", RunStatus.OK, 0),
        ("import sys; sys.exit()", RunStatus.OK, 0),
        ("import sys; sys.exit(3)", RunStatus.ERROR, 3),
        ("import sys; sys.exit('bye')", RunStatus.ERROR, 1),
        ("import os; os._exit(0)", RunStatus.OK, 0),
        ("import os; os._exit(5)", RunStatus.ERROR, 5),
    ],
)
def test_run_exit_codes(sandbox, code, status, exit_code):
    result = sandbox.run(code)
    assert (result.status, result.exit_code) == (status, exit_code)


def test_run_syntax_error_is_an_error_status(sandbox):
    result = sandbox.run("def broken(:\n    pass")
    assert result.status is RunStatus.ERROR
    assert result.error.startswith("SyntaxError")


def test_run_timeout(sandbox):
    result = sandbox.run("while True:\n    pass", timeout=0.5)
    assert result.status is RunStatus.TIMEOUT
    assert 0.5 <= result.duration < 1.5


def test_run_output_is_clipped():
    with PythonSandbox(workers=1, max_output=1000) as sb:
        result = sb.run("print('x' * 5000)")
        assert result.status is RunStatus.RESOURCE_LIMIT
        assert len(result.stdout) == 1000
        assert "stdout" in result.error


def test_stdlib_runs_under_the_memory_limit(sandbox):
    code = (
        "import json, re, decimal, fractions, statistics, datetime, collections\n"
        "data = [i * i for i in range(200_000)]\n"
        "print(statistics.mean(data) > 0, len(json.dumps(data)) > 0)"
    )
    assert sandbox.run(code).stdout == "True True\n"


def test_ordinary_program_passes(sandbox):
    code = """
import math, collections, itertools, re, functools, heapq
from dataclasses import dataclass

@dataclass
class P:
    x: int
    y: int = 0

def counter():
    n = 0
    def inc():
        nonlocal n
        n += 1
        return n
    return inc

def shape(v):
    match v:
        case [a, b]:
            return f"pair {a}-{b}"
        case {"k": k}:
            return k
        case _:
            return None

inc = counter(); inc()
print(inc(), shape([1, 2]), shape({"k": 3}), P(1).y, math.gcd(12, 18),
      collections.Counter("aab").most_common(1), list(itertools.islice(itertools.count(), 3)),
      re.sub(r"\\d", "#", "a1"), functools.reduce(lambda a, b: a * b, [1, 2, 3]),
      heapq.nsmallest(2, [5, 1, 3]))
"""
    assert check_subset(code) is None
    result = sandbox.run(code)
    assert result.ok, result.stderr
    assert result.stdout == "2 pair 1-2 3 0 6 [('a', 2)] [0, 1, 2] a# 6 [1, 3]\n"


# -- call ------------------------------------------------------------------------------------------


def test_call_preserves_exact_types(sandbox):
    code = "def ident(x):\n    return x"
    values = [
        1, True, 1.5, "s", None, b"\x00\xff", (1, 2), [1, (2,)], {1: "a", "b": (2,)},
        {1, 2}, frozenset({3}), 2**200, -(2**70), float("inf"), [], (), {},
    ]  # fmt: skip
    results = sandbox.call(code, "ident", [(v,) for v in values])
    for value, result in zip(values, results, strict=True):
        assert result.ok, result
        assert type(result.value) is type(value)
        assert values_equal(result.value, value), (result.value, value)
    nan = sandbox.call(code, "ident", [(float("nan"),)])[0].value
    assert isinstance(nan, float) and math.isnan(nan)


def test_call_reports_each_case_separately(sandbox):
    code = "def f(a, b):\n    return a // b"
    ok, err, bad_type = sandbox.call(code, "f", [(7, 2), (1, 0), (1, "x")])
    assert ok == CallResult(RunStatus.OK, 3, None, ok.duration)
    assert (
        err.status is RunStatus.ERROR
        and err.error == "ZeroDivisionError: integer division or modulo by zero"
    )
    assert bad_type.status is RunStatus.ERROR and bad_type.error.startswith("TypeError")


def test_call_missing_entry_point(sandbox):
    results = sandbox.call("def g():\n    return 1", "f", [(), ()])
    assert [r.status for r in results] == [RunStatus.ERROR] * 2
    assert "no function named 'f'" in results[0].error


def test_call_unencodable_return_value_is_an_error(sandbox):
    results = sandbox.call("def f():\n    return object()", "f", [()])
    assert results[0].status is RunStatus.ERROR
    assert "not plain data" in results[0].error


def test_call_timeout_keeps_earlier_results(sandbox):
    code = "def f(n):\n    while n:\n        pass\n    return n"
    results = sandbox.call(code, "f", [(0,), (1,), (0,)], timeout=0.5)
    assert [r.status for r in results] == [RunStatus.OK, RunStatus.TIMEOUT, RunStatus.TIMEOUT]


def test_call_with_no_cases(sandbox):
    assert sandbox.call("def f():\n    pass", "f", []) == []


def test_module_level_failure_fails_every_case(sandbox):
    results = sandbox.call("raise ValueError('boom')\ndef f():\n    return 1", "f", [(), ()])
    assert all(r.status is RunStatus.ERROR and r.error == "ValueError: boom" for r in results)


# -- check -----------------------------------------------------------------------------------------


def test_check_correct(sandbox):
    verdict = sandbox.check("def sq(x):\n    return x * x", "sq", [((2,), 4), ((1.5,), 2.25)])
    assert verdict.status is Status.CORRECT and verdict.reward == 1.0
    assert "rel_tol=1e-09" in verdict.reason
    assert verdict.details["passed"] == 2 and verdict.details["float_tol"] == 1e-9


def test_check_incorrect_does_not_reveal_expected(sandbox):
    secret = "EXPECTED-ANSWER-93417"  # noqa: S105 - a marker string, not a credential
    verdict = sandbox.check("def f():\n    return 'guess'", "f", [((), secret)])
    assert verdict.status is Status.INCORRECT and verdict.reward == 0.0
    assert "case 1 of 1 failed: returned 'guess' (str)" in verdict.reason
    assert secret not in verdict.to_json()
    revealed = sandbox.check(
        "def f():\n    return 'guess'", "f", [((), secret)], reveal_expected=True
    )
    assert revealed.details["results"][0]["expected"] == repr(secret)


def test_check_strict_types(sandbox):
    code = "def f(kind):\n    return {'bool': True, 'list': [1], 'int': 1, 'float': 1.0}[kind]"
    for kind, expected in [("bool", 1), ("list", (1,)), ("int", 1.0), ("float", 1), ("int", True)]:
        verdict = sandbox.check(code, "f", [((kind,), expected)])
        assert verdict.status is Status.INCORRECT, (kind, expected)


def test_check_float_tolerance_and_nan(sandbox):
    code = "def f(x):\n    return x"
    assert sandbox.check(code, "f", [((0.1 + 0.2,), 0.3)]).correct
    assert not sandbox.check(code, "f", [((0.1 + 0.2,), 0.3)], float_tol=0).correct
    assert sandbox.check(code, "f", [((1.001,), 1.0)], float_tol=0.01).correct
    nan = float("nan")
    assert sandbox.check(code, "f", [((nan,), nan)]).status is Status.INCORRECT


def test_check_partial_credit(sandbox):
    code = "def f(x):\n    return x if x < 3 else -1"
    cases = [((i,), i) for i in range(4)]
    assert sandbox.check(code, "f", cases).reward == 0.0
    partial = sandbox.check(code, "f", cases, partial_credit=True)
    assert partial.status is Status.INCORRECT and partial.reward == 0.75
    assert "3 of 4 passed (partial credit)" in partial.reason


def test_check_exception_is_incorrect_with_the_error(sandbox):
    verdict = sandbox.check("def f(x):\n    return 1 / x", "f", [((1,), 1.0), ((0,), 0.0)])
    assert verdict.status is Status.INCORRECT
    assert "case 2 of 2 failed: error: ZeroDivisionError" in verdict.reason


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("def f():\n    while True:\n        pass", Status.TIMEOUT),
        ("def f():\n    return bytearray(2**34)", Status.RESOURCE_LIMIT),
        (
            "import ctypes\ndef f():\n    return ctypes.CDLL(None).ptrace(0, 0, 0, 0)",
            Status.FORBIDDEN,
        ),
    ],
)
def test_check_limit_statuses(sandbox, code, status):
    verdict = sandbox.check(code, "f", [((), 1)], timeout=0.5)
    assert verdict.status is status and verdict.reward == 0.0


def test_check_policy_refuses_before_running(sandbox):
    verdict = sandbox.check(
        "import os\ndef f():\n    return 1", "f", [((), 1)], policy=SubsetPolicy()
    )
    assert verdict.status is Status.FORBIDDEN
    assert verdict.reason.startswith('line 1: import of module "os" is not allowed')
    assert verdict.details["violations"][0]["construct"] == "import"
    run = sandbox.run("open('x')", policy=SubsetPolicy())
    assert run.status is RunStatus.FORBIDDEN and '"open" is not allowed' in run.error
    with PythonSandbox(workers=1, policy=SubsetPolicy()) as strict:
        assert strict.run("import os").status is RunStatus.FORBIDDEN
        assert strict.run("import os", policy=None).ok  # per-call override


# -- strict comparison and codec ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        (1, 1, True), (1, True, False), (1, 1.0, False), ([1], (1,), False), ("a", "a", True),
        ({1: 2.0}, {1: 2.0 + 1e-12}, True), ({1: 2}, {True: 2}, False), ({1, 2}, {2, 1}, True),
        ({1}, frozenset({1}), False), (float("nan"), float("nan"), False), (None, None, True),
        ((1, [2.0]), (1, [2.0]), True), ({(1, 2)}, {(1, 2)}, True), ({(1,)}, {(True,)}, False),
        (float("inf"), float("inf"), True), ({float("nan")}, {float("nan")}, False),
    ],
)  # fmt: skip
def test_values_equal(a, b, equal):
    assert values_equal(a, b) is equal


def test_codec_rejects_subclasses_and_forged_tags():
    class MyInt(int):
        pass

    for bad in (MyInt(3), object(), [1, {2: MyInt(1)}], True.__class__.__mro__):
        with pytest.raises(w.CodecError):
            w.encode_value(bad)
    for forged in ({"$": "int", "v": 5}, {"$": "weird", "v": []}, {"a": 1}, float("nan"),
                   {"$": "dict", "v": [[[1], 2]]}, {"$": "set", "v": [[1]]}):  # fmt: skip
        with pytest.raises(w.CodecError):
            w.decode_value(forged)
    deep = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(w.CodecError):
        w.encode_value(deep)


# -- the wire format (every worker pipe: sandbox, math workers, regex worker) --------------------


def test_wire_reader_keeps_a_partial_frame_across_a_deadline():
    import time

    read_end, write_end = os.pipe()
    try:
        frame = wire.pack_frame({"k": "case", "value": [1, 2]})
        reader = wire.FrameReader(read_end, limit=1024)
        os.write(write_end, frame[:7])
        started = time.monotonic()
        assert reader.read(time.monotonic() + 0.05) is None
        assert 0.04 < time.monotonic() - started < 5
        os.write(write_end, frame[7:] + wire.pack(b"raw"))
        assert reader.read(time.monotonic() + 5) == {"k": "case", "value": [1, 2]}
        assert reader.read_bytes(time.monotonic()) == b"raw"  # a past deadline still looks once
        os.close(write_end)
        write_end = -1
        with pytest.raises(wire.PeerClosed):
            reader.read(None)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)


def test_wire_refuses_frames_over_the_limit_and_bodies_that_are_not_objects():
    read_end, write_end = os.pipe()
    try:
        wire.send_frame(write_end, {"text": "x" * 100})
        with pytest.raises(wire.WireError, match="exceeds the 50-byte limit"):
            wire.read_frame(read_end, limit=50)
    finally:
        os.close(read_end)
        os.close(write_end)
    with pytest.raises(wire.WireError, match="not a JSON object"):
        wire.decode(b"[1, 2]")
    with pytest.raises(wire.WireError, match="not valid JSON"):
        wire.decode(b'{"x": NaN}')
    with pytest.raises(ValueError, match="Out of range float"):
        wire.encode({"x": math.nan})


def test_wire_send_with_a_deadline_times_out_when_nobody_reads():
    import time

    read_end, write_end = os.pipe()
    try:
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="bytes in time"):
            wire.send_bytes(write_end, b"x" * (4 << 20), deadline=time.monotonic() + 0.2)
        assert time.monotonic() - started < 5
    finally:
        os.close(read_end)
        os.close(write_end)


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (wire.pack_frame({"k": "start"})[:-1], "frame length does not match the data"),
        (wire.pack_frame({"k": "start"}) + b"\0\0", "truncated frame header"),
        (wire.pack(b"[1]"), "frame is not a JSON object (got list)"),
        (wire.pack(b'{"v": Infinity}'), "frame is not valid JSON (ValueError)"),
        (wire.pack(b"\xff"), "frame is not valid JSON (UnicodeDecodeError)"),
    ],
)
def test_untrusted_frames_name_the_tampering(data, problem):
    frames, found = wire.split_frames(data, limit=1 << 20)
    assert found == problem
    assert frames in ([], [{"k": "start"}])


def test_a_child_that_cannot_import_langgames_speaks_the_same_frames():
    program = wire.child_bootstrap("wire") + (
        "job = wire.read_frame(0)\nwire.send_frame(1, {'echo': job, 'langgames': 'langgames' in "
        "__import__('sys').modules})\n"
    )
    proc = subprocess.run(
        [sys.executable, "-I", "-S", "-c", program],
        input=wire.pack_frame({"pattern": "a+"}),
        capture_output=True,
        timeout=60,
        check=True,
    )
    frames, problem = wire.split_frames(proc.stdout, limit=1024)
    assert problem is None
    assert frames == [{"echo": {"pattern": "a+"}, "langgames": False}]


# -- bad API input raises InvalidArgument ---------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda sb: sb.run(b"print(1)"), "code must be a str"),
        (lambda sb: sb.run("x", stdin=3), "stdin must be a str"),
        (lambda sb: sb.run("x", timeout=0), "timeout must be > 0"),
        (lambda sb: sb.run("x", timeout=float("nan")), "timeout must be > 0"),
        (lambda sb: sb.run("x", timeout="2"), "timeout must be a number"),
        (lambda sb: sb.run("x", timeout=True), "timeout must be a number"),
        (lambda sb: sb.run("x", timeout=1e9), "timeout must be > 0"),
        (lambda sb: sb.call("x", "1f", []), "entry_point must be the name"),
        (lambda sb: sb.call("x", "def", []), "entry_point must be the name"),
        (lambda sb: sb.call("x", None, []), "entry_point must be the name"),
        (lambda sb: sb.call("x", "f", [(object(),)]), "args_list[0] must contain only plain data"),
        (lambda sb: sb.call("x", "f", [5]), "args_list[0] must be a tuple"),
        (lambda sb: sb.call("x", "f", "abc"), "args_list must be a list"),
        (lambda sb: sb.check("x", "f", []), "at least one"),
        (lambda sb: sb.check("x", "f", [(1, 2, 3)]), "cases[0] must be an (args, expected) pair"),
        (lambda sb: sb.check("x", "f", [((), object())]), "cases[0] expected value"),
        (lambda sb: sb.check("x", "f", [((), 1)], float_tol=-1), "float_tol must be"),
        (lambda sb: sb.run("x", policy="strict"), "policy must be a SubsetPolicy"),
    ],
)
def test_bad_api_input_raises(sandbox, call, message):
    with pytest.raises(InvalidArgument) as info:
        call(sandbox)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "kwargs",
    [{"workers": 0}, {"timeout": -1}, {"memory_mb": "512"}, {"max_open_files": 3},
     {"namespaces": "yes"}, {"policy": "strict"}, {"recycle_after": True}],
)  # fmt: skip
def test_bad_constructor_arguments(kwargs):
    with pytest.raises(InvalidArgument):
        PythonSandbox(**kwargs)


# -- the pool -------------------------------------------------------------------------------------


def test_concurrent_calls_from_threads(sandbox):
    errors: list[str] = []

    def work(k: int) -> None:
        for i in range(8):
            result = sandbox.call("def f(a, b):\n    return a * b", "f", [(k, i)])[0]
            if result.value != k * i:
                errors.append(f"{k}*{i} -> {result}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_workers_are_recycled():
    with PythonSandbox(workers=1, recycle_after=3) as sb:
        first = set(sb.worker_pids())
        for i in range(7):
            assert sb.run(f"print({i})").stdout == f"{i}\n"
        assert first.isdisjoint(sb.worker_pids())


def test_a_dead_worker_is_replaced_and_never_blamed_on_the_program():
    with PythonSandbox(workers=1) as sb:
        assert sb.run("pass").ok
        for pid in sb.worker_pids():
            with contextlib.suppress(ProcessLookupError):  # it may have exited on its own already
                os.kill(pid, 9)
        statuses = [sb.run("print(1)").status for _ in range(3)]
        assert set(statuses) <= {RunStatus.OK, RunStatus.VERIFIER_ERROR}
        assert statuses[-1] is RunStatus.OK


def test_close_kills_workers_and_refuses_new_work():
    sb = PythonSandbox(workers=2)
    sb.start()
    pids = sb.worker_pids()
    assert pids
    sb.close()
    assert not [p for p in pids if _alive(p)]
    with pytest.raises(SandboxUnavailable):
        sb.run("pass")
    sb.close()  # idempotent


def test_default_sandbox_is_shared_and_reports_isolation():
    assert default_sandbox() is default_sandbox()
    report = isolation_report()
    assert {row["layer"] for row in report} >= {"worker_pool", "namespaces", "seccomp", "rlimits"}
    assert all(set(row) == {"layer", "active", "detail"} for row in report)
    assert all(isinstance(row["active"], bool) and row["detail"] for row in report)


def test_import_is_light_and_starts_nothing():
    code = (
        "import os, sys, langgames, langgames.verifiers as v\n"
        "assert 'langgames.verifiers.python' not in sys.modules\n"
        "assert 'RestrictedPython' not in sys.modules\n"
        "def parent(p):\n"
        "    try:\n"
        "        return open(f'/proc/{p}/stat').read().rsplit(')', 1)[1].split()[1]\n"
        "    except OSError:\n"
        "        return None  # the process ended while we looked\n"
        "kids = [p for p in os.listdir('/proc') if p.isdigit() and parent(p) == str(os.getpid())]\n"
        "assert kids == [], kids\n"
        "assert v.PythonSandbox.__name__ == 'PythonSandbox'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- degraded modes -------------------------------------------------------------------------------


def _layer(report, name):
    return next(row for row in report if row["layer"] == name)


@pytest.mark.filterwarnings("ignore::langgames.verifiers.python.SandboxIsolationWarning")
def test_runs_without_namespaces_and_says_so():
    with PythonSandbox(workers=1, namespaces=False) as sb:
        report = sb.isolation_report()
        assert _layer(report, "namespaces")["active"] is False
        assert "disabled" in _layer(report, "namespaces")["detail"]
        assert _layer(report, "private_tmp")["active"] is False
        assert sb.run("print(2 + 2)").stdout == "4\n"
        assert sb.check("def f():\n    return 1", "f", [((), 1)]).correct
        assert "namespaces" in sb.run("pass").details["isolation_missing"]


def test_env_var_turns_namespaces_and_seccomp_off(monkeypatch):
    monkeypatch.setenv("LANGGAMES_SANDBOX_NAMESPACES", "0")
    monkeypatch.setenv("LANGGAMES_SANDBOX_SECCOMP", "0")
    with PythonSandbox(workers=1) as sb:
        report = sb.isolation_report()
        assert not _layer(report, "namespaces")["active"]
        assert not _layer(report, "seccomp")["active"]
        assert "LANGGAMES_SANDBOX_SECCOMP" in _layer(report, "seccomp")["detail"]
        assert sb.run("print('still runs')").stdout == "still runs\n"


@pytest.mark.filterwarnings("ignore::langgames.verifiers.python.SandboxIsolationWarning")
def test_missing_bwrap_falls_back(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with PythonSandbox(workers=1) as sb:
        row = _layer(sb.isolation_report(), "namespaces")
        assert row == {
            "layer": "namespaces",
            "active": False,
            "detail": "bubblewrap (bwrap) is not installed",
        }
        assert sb.run("print(1)").ok
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        PythonSandbox(workers=1, namespaces=True).start()


# -- the subset policy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "line", "construct"),
    [
        ("import os", 1, "import"),
        ("x = 1\nfrom subprocess import run", 2, "import"),
        ("().__class__", 1, "attribute"),
        ("open('f')", 1, "name"),
        ("eval('1')", 1, "call"),
        ("__import__('os')", 1, "name"),
        (
            "def f():\n    try:\n        1 / 0\n    except Exception as e:\n"
            "        return e.__traceback__",
            5,
            "attribute",
        ),
        ("g = (i for i in [])\nprint(g.gi_frame)", 2, "attribute"),
        ("'{0.__globals__}'.format(len)", 1, "string"),
        ("import random\nrandom._inst", 2, "attribute"),
        ("from . import sibling", 1, "import"),
    ],
)
def test_subset_refusals_name_line_and_construct(code, line, construct):
    verdict = check_subset(code)
    assert verdict is not None and verdict.status is Status.FORBIDDEN
    first = verdict.details["violations"][0]
    assert (first["line"], first["construct"]) == (line, construct), verdict.details
    assert verdict.reason.startswith(f"line {line}: ")


def test_subset_options():
    assert check_subset("import os", allowed_imports=["os"]) is None
    assert check_subset("import os.path", allowed_imports=["os"]) is None
    assert check_subset("print(len('a'))", forbidden_names=["len"]) is not None
    assert check_subset("x = (").status is Status.UNPARSEABLE
    with pytest.raises(InvalidArgument, match="allowed_imports"):
        check_subset("x", allowed_imports="math")
    policy = SubsetPolicy(allowed_imports={"math"})
    assert policy.check("import math") is None and policy.check("import re") is not None


def test_runs_are_deterministic_across_workers_and_fresh_per_run(sandbox):
    code = (
        "import sys, random\nprint(list({'apple', 'pear', 'fig', 'kiwi'}), sys.path[:1], sys.argv)"
    )
    outputs = {sandbox.run(code).stdout for _ in range(6)}
    assert len(outputs) == 1  # same set order whichever worker ran it
    assert "verifiers" not in outputs.pop()  # our own modules are not importable
    draws = {sandbox.run("import random\nprint(random.random())").stdout for _ in range(4)}
    assert len(draws) == 4  # a fresh random state per run, as in a new interpreter


@pytest.mark.filterwarnings("ignore::langgames.verifiers.python.SandboxIsolationWarning")
def test_broken_bwrap_falls_back_with_its_reason(monkeypatch, tmp_path):
    fake = tmp_path / "bwrap"
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with PythonSandbox(workers=1) as sb:
        row = _layer(sb.isolation_report(), "namespaces")
        assert row["active"] is False
        assert "No permissions to create new namespace" in row["detail"]
        assert sb.run("print(3)").stdout == "3\n"
    with pytest.raises(SandboxUnavailable, match="No permissions"):
        PythonSandbox(workers=1, namespaces=True).start()


def test_snippets_see_the_standard_library_not_our_modules(sandbox):
    # langgames/verifiers holds math.py (the SymPy verifier): it must not shadow the stdlib.
    code = "import math, sys\nprint(math.sqrt(16), any('verifiers' in p for p in sys.path))"
    assert sandbox.run(code).stdout == "4.0 False\n"


def test_a_memory_error_stays_a_resource_limit_even_if_teardown_meets_the_deadline():
    from langgames.verifiers.python import _interpret

    nonce = "n0"
    reply = {
        "frames": [
            {"k": "start", "n": nonce},
            {
                "k": "end",
                "n": nonce,
                "status": "resource_limit",
                "error": "MemoryError",
                "exit_code": 1,
            },
        ],
        "timed_out": True,  # killed while freeing memory after the MemoryError
        "signal": 9,
        "exit_code": None,
    }
    outcome = _interpret(reply, nonce, 0)
    assert outcome.status is RunStatus.RESOURCE_LIMIT
    reply["frames"][1]["status"] = "ok"
    assert _interpret(reply, nonce, 0).status is RunStatus.TIMEOUT  # a program must also end
