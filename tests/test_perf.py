"""Smoke tests of benchmarks/perf.py and benchmarks/bench_scaling.py: tiny runs print tables."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_perf_prints_a_table(capsys, tmp_path):
    out = tmp_path / "perf.json"
    argv = ["--episodes", "2", "--games", "BaseConvert-v0,Countdown-v0", "--json", str(out)]
    assert _load("perf").main(argv) == 0
    text = capsys.readouterr().out
    assert "| game | random steps/s | verifier ms (median) | verifier ms (p95) |" in text
    assert "| BaseConvert-v0 |" in text
    assert [r["game"] for r in json.loads(out.read_text())] == [
        "langgames/BaseConvert-v0",
        "langgames/Countdown-v0",
    ]


@pytest.mark.slow
def test_bench_scaling_runs_tiny(capsys):
    argv = ["--game", "BaseConvert-v0", "--episodes", "2", "--no-ceiling"]
    assert _load("bench_scaling").main(argv) == 0
    assert "identical episodes: True" in capsys.readouterr().out
