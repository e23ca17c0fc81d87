"""Hostile answers: nothing runs, nothing hangs, each gets a clear verdict within its deadline."""

from __future__ import annotations

import time

import pytest

from langgames.verifiers import Status
from langgames.verifiers._math_pool import get_pool
from langgames.verifiers.math import verify_antiderivative, verify_math

TIMEOUT = 0.5
# A verdict must arrive within the deadline plus this margin (IPC, killing a worker).
MARGIN = 1.5

CODE = [
    "__import__('os').system('touch {marker}')",
    "open('{marker}', 'w').write('pwned')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__.__mro__[1].__subclasses__()",
    "getattr(x, '__globals__')",
    "lambda: __import__('os')",
    "(lambda: open('{marker}', 'w'))()",
    "exec(\"open('{marker}', 'w')\")",
    "eval('1+1')",
    "sympify('__import__(\"os\")')",
    "Symbol('x')",
    "'a string'",
    '"a string"',
    "f'{{7*7}}'",
    "{0.__class__}",
    "import os; os.system('touch {marker}')",
    "$(touch {marker})",
    "`touch {marker}`",
    "\\input{{/etc/passwd}}",
    "\\immediate\\write18{{touch {marker}}}",
    "\\def\\x{{1}}\\x",
    "\\catcode`\\^=12",
    "Matrix([[__import__('os')]])",
    "sqrt(__import__('os').system('touch {marker}'))",
    "x.evalf(subs={{x: open('{marker}', 'w')}})",
    "\\text{__import__('os')}",
    "\\operatorname{__import__}(1)",
    "\\mathrm{exec}(1)",
]
HUGE = [
    "9**9**9**9",
    "10^{10^{10}}",
    "2^{2^{2^{2^{2}}}}",
    "(10^{6000})^{3}",
    "e^{e^{e^{e^{10}}}}",
    "\\exp(\\exp(\\exp(100)))",
    "10^{10^{10}}!",
    "\\binom{10^{9}}{10^{5}}",
    "\\sqrt{" + "9" * 900 + "}",
    "1e99999999",
    "\\lfloor e^{10^{6}} \\rfloor",
    "\\sin(10^{100000})",
    "x^{10^{100}}",
    "(x+1)^{10^{9}}",
    "(x+y+z)^{5000}",
    "\\frac{1}{x^{1000000}}",
]
DEEP = [
    "(" * 20_000 + "1" + ")" * 20_000,
    "\\frac{" * 3_000 + "1" + "}{2}" * 3_000,
    "-" * 10_000 + "1",
    "x" + "^x" * 5_000,
    "\\sqrt{" * 2_000 + "2" + "}" * 2_000,
    "{" * 10_000 + "1" + "}" * 10_000,
    "|" * 10_000,
]
MEGABYTES = [
    "1+" * 500_000 + "1",
    "x" * 1_000_000,
    "\\frac{1}{2}" * 100_000,
    "9" * 2_000_000,
    "(" * 1_000_000,
]


CASES = [
    pytest.param(group, payload, id=f"{group}-{i}")
    for group, payloads in (
        ("code", CODE),
        ("huge", HUGE),
        ("deep", DEEP),
        ("megabytes", MEGABYTES),
    )
    for i, payload in enumerate(payloads)
]


@pytest.mark.parametrize(("group", "payload"), CASES)
def test_hostile_answer_gets_a_clear_verdict_in_time(group, payload, tmp_path):
    marker = tmp_path / "marker"
    answer = payload.replace("{marker}", str(marker)) if group == "code" else payload
    get_pool().run({"op": "ping"}, timeout=30)  # a warm worker: the wall time is the check's
    for gold in ("1", "x^2 + 1"):
        start = time.perf_counter()
        verdict = verify_math(gold, answer, timeout=TIMEOUT)
        elapsed = time.perf_counter() - start
        assert elapsed < TIMEOUT + MARGIN, (payload[:60], elapsed, verdict)
        assert verdict.status in (
            Status.UNPARSEABLE,
            Status.RESOURCE_LIMIT,
            Status.INCORRECT,
            Status.TIMEOUT,
        ), verdict
        assert verdict.reason
    assert not marker.exists()


def test_hostile_antiderivatives_are_judged_in_time(tmp_path):
    marker = tmp_path / "marker"
    for payload in [CODE[0].replace("{marker}", str(marker)), "x^{10^{100}}", "(x+1)^{10^{9}}"]:
        get_pool().run({"op": "ping"}, timeout=30)
        start = time.perf_counter()
        verdict = verify_antiderivative("2x", payload, timeout=TIMEOUT)
        assert time.perf_counter() - start < TIMEOUT + MARGIN
        assert not verdict.correct and verdict.status is not Status.VERIFIER_ERROR
    assert not marker.exists()


def test_hostile_answers_in_the_games_never_score(tmp_path):
    from langgames.envs.algebra import Algebra
    from langgames.envs.calculus import Calculus
    from langgames.envs.fraction_arith import FractionArith

    marker = tmp_path / "marker"
    payloads = [p.replace("{marker}", str(marker)) for p in CODE[:6]] + HUGE[:6] + DEEP[:2]
    for game in (FractionArith(), Algebra(), Calculus()):
        for payload in payloads:
            game.reset(seed=3)
            start = time.perf_counter()
            _, reward, _, _, info = game.step(payload)
            assert time.perf_counter() - start < 5 + MARGIN
            assert reward <= 0 and info["verdict"]["status"] != "correct", (payload, info)
            assert info["verdict"]["status"] != "verifier_error", info
    assert not marker.exists()
