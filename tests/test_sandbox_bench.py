"""Smoke test of benchmarks/sandbox_bench.py: a tiny run that must finish and write its JSON."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "sandbox_bench.py"


def test_bench_smoke(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("sandbox_bench", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = tmp_path / "bench.json"
    argv = [
        "--reps",
        "3",
        "--subprocess-reps",
        "2",
        "--throughput-seconds",
        "0.2",
        "--workers",
        "1",
    ]
    assert bench.main([*argv, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "ratio sandbox p50 / subprocess p50" in printed and "snippets/s" in printed
    data = json.loads(out.read_text())
    assert set(data["latency"]) == {"tiny", "typical"}
    assert set(data["latency"]["tiny"]) == {"exec", "sandbox", "subprocess"}
    assert data["throughput"][0]["failures"] == 0
