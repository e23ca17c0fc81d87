"""Shared fixtures. Tests run against the installed package (editable in development)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def run_python():
    """Run Python code in a fresh interpreter; return the CompletedProcess."""
    import subprocess

    def run(code: str, env: dict[str, str] | None = None, cwd: str | None = None):
        return subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )

    return run


# ---------------------------------------------------------------------------------------------
# Test tiers. A registry-wide check runs at two depths: ``smoke`` (few seeds, in the everyday
# ``pytest -m "not slow"`` loop) and full (marked ``slow``, in CI). `depths` parametrises a test
# with both; when the full twin of a smoke item is selected too (a full run), the smoke item is
# deselected, so CI does not pay for both.

SMOKE, FULL = "smoke", "full"


def depths(*, full_marks: tuple = ()) -> list:
    """``pytest.param`` values for a ``depth`` argument: a smoke depth and a slow full depth."""
    return [
        pytest.param(SMOKE, marks=pytest.mark.smoke, id=SMOKE),
        pytest.param(FULL, marks=(pytest.mark.slow, *full_marks), id=FULL),
    ]


def with_depths(cases: list[tuple], *, smoke_if=lambda *case: True) -> list:
    """``pytest.param`` values for ``(*case, depth)``: every case at full depth (slow), and at
    smoke depth those for which ``smoke_if(*case)`` holds (the everyday tier leaves out the
    costliest views, e.g. a sandbox game against a fixed opponent, which CI still plays)."""
    out = []
    for case in cases:
        name = "-".join(str(v).split("/")[-1] for v in case)
        if smoke_if(*case):
            out.append(pytest.param(*case, SMOKE, marks=pytest.mark.smoke, id=f"{name}-{SMOKE}"))
        out.append(pytest.param(*case, FULL, marks=pytest.mark.slow, id=f"{name}-{FULL}"))
    return out


#: Games whose every step runs sandboxed programs: in the everyday tier they are checked in
#: self-play only (and scanned for question-blind lists only in CI).
SANDBOX_HEAVY = {"langgames/BugHunt-v0", "langgames/ScholarsCircle-v0"}


def smoke_view(game_id: str, setup: str) -> bool:
    """Whether the everyday tier checks ``game_id`` in ``setup``: every game in self-play, and
    fixed opponents of games whose steps are cheap."""
    return setup == "self-play" or game_id not in SANDBOX_HEAVY


@pytest.hookimpl(trylast=True)  # after `-m`/`-k` have deselected what they deselect
def pytest_collection_modifyitems(config, items):
    full = {
        _twin_key(item)
        for item in items
        if item.get_closest_marker("slow") is not None and item.get_closest_marker("smoke") is None
    }
    if not full:
        return
    keep, drop = [], []
    for item in items:
        smoke = item.get_closest_marker("smoke") is not None
        (drop if smoke and _twin_key(item) in full else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _twin_key(item) -> str:
    """The node id with the depth parameter taken out, shared by a smoke item and its full twin."""
    nodeid = item.nodeid
    for depth in (SMOKE, FULL):
        nodeid = nodeid.replace(f"[{depth}-", "[").replace(f"-{depth}]", "]")
        nodeid = nodeid.replace(f"-{depth}-", "-").replace(f"[{depth}]", "")
    return nodeid


# ---------------------------------------------------------------------------------------------
# The everyday tier is measured, not guessed. `DURATIONS` lists every test that took at least
# `FAST_TIER_LIMIT` seconds (setup + call + teardown) when the suite was last timed on the
# project's reference machine (2 shared cores); those are marked ``slow`` at collection, so that
# ``pytest -m "not slow" -n 2`` stays near a minute while CI still runs everything. Re-time with
#
#     LANGGAMES_RECORD_DURATIONS=1 .venv/bin/python -m pytest -n 2
#
# which rewrites the entries of the tests it ran (a subset run updates only its own tests). A new
# test is in the everyday tier until it is timed; mark it ``slow`` by hand if it is obviously not.

DURATIONS = Path(__file__).with_name("durations.json")
FAST_TIER_LIMIT = 0.5


def _load_durations() -> dict[str, float]:
    try:
        return dict(json.loads(DURATIONS.read_text(encoding="utf-8"))["slow"])
    except FileNotFoundError:
        return {}


_SLOW_BY_DURATION = _load_durations()
_measured: dict[str, float] = {}


def pytest_itemcollected(item):
    if item.nodeid in _SLOW_BY_DURATION and item.get_closest_marker("slow") is None:
        item.add_marker(pytest.mark.slow)


def pytest_runtest_logreport(report):
    if os.environ.get("LANGGAMES_RECORD_DURATIONS"):
        _measured[report.nodeid] = _measured.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    if not os.environ.get("LANGGAMES_RECORD_DURATIONS") or hasattr(session.config, "workerinput"):
        return  # only the controller writes (under pytest-xdist, workers report to it)
    slow = {k: v for k, v in _load_durations().items() if k not in _measured}
    slow.update({k: round(v, 2) for k, v in _measured.items() if v >= FAST_TIER_LIMIT})
    data = {
        "limit_seconds": FAST_TIER_LIMIT,
        "how": "LANGGAMES_RECORD_DURATIONS=1 .venv/bin/python -m pytest -n 2 (see conftest.py)",
        "slow": dict(sorted(slow.items())),
    }
    DURATIONS.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
