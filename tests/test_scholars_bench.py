"""Smoke tests of benchmarks/scholars_bench.py and examples/run_circle.py: tiny runs that finish."""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_smoke(tmp_path, capsys):
    bench = _load(ROOT / "benchmarks" / "scholars_bench.py")
    out = tmp_path / "bench.json"
    argv = ["--rounds", "4", "--warmup", "1", "--sizes", "40", "160", "--queries", "30"]
    assert bench.main([*argv, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "rounds/s" in printed and "ratio p50(160) / p50(40)" in printed
    data = json.loads(out.read_text())
    assert data["rounds"]["rounds"] == 4 and data["rounds"]["failures"] == 0
    assert [row["size"] for row in data["novelty"]] == [40, 160] and data["ratio"] > 0


def test_run_circle_example_smoke(capsys):
    example = _load(ROOT / "examples" / "run_circle.py")
    out = io.StringIO()
    assert example.main(["--rounds", "4", "--every", "2", "--families", "math"], out=out) == 0
    lines = out.getvalue().splitlines()
    assert lines[0] == "library starts with 50 problems"
    assert lines[1].startswith("round    2 | library 52 (+2)") and "templates" in lines[1]
    assert lines[2].startswith("round    4 | library 54 (+4)") and "solve rate mean" in lines[2]
    assert "4/4" in capsys.readouterr().err  # the progress bar


@pytest.mark.slow
def test_bench_ray_smoke(tmp_path, capsys):
    pytest.importorskip("ray")
    bench = _load(ROOT / "benchmarks" / "scholars_bench.py")
    out = tmp_path / "bench.json"
    argv = ["--rounds", "2", "--warmup", "0", "--sizes", "40", "80", "--queries", "10",
            "--ray-workers", "1", "2", "--ray-rounds", "2", "--ray-writes", "20"]  # fmt: skip
    assert bench.main([*argv, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "2 worker(s):" in printed and "library writes/s" in printed
    rows = json.loads(out.read_text())["distributed"]["rows"]
    assert [r["workers"] for r in rows] == [1, 2]
    assert [r["solver_return"] for r in rows] == [6.0, 12.0]  # the reference solvers, all right


@pytest.mark.slow
def test_circle_ray_example_smoke(tmp_path):
    pytest.importorskip("ray")
    example = _load(ROOT / "examples" / "circle_ray.py")
    out = io.StringIO()
    archive = tmp_path / "circle.sqlite"
    assert (
        example.main(["--workers", "2", "--rounds", "2", "--archive", str(archive)], out=out) == 0
    )
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("library starts with 50 problems")
    assert "2 workers played 4 rounds" in lines[1] and "integrity ok" in lines[1]
