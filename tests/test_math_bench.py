"""Smoke test of benchmarks/math_bench.py: a tiny run prints the side-by-side table."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "math_bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("math_bench", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_prints_both_forms_side_by_side(bench, capsys, tmp_path):
    out = tmp_path / "results.json"
    assert bench.main(["--limit", "6", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "| verifier | form | pairs | accuracy | false positives" in text
    assert "| langgames | bare | 6 |" in text and "| langgames | dollar | 6 |" in text
    if importlib.util.find_spec("math_verify") is None:
        assert bench.MISSING in text
    else:
        assert "| math-verify | bare | 6 |" in text and "math-verify p50 / langgames p50" in text
    results = json.loads(out.read_text())
    ours = [r for r in results if r["verifier"] == "langgames"]
    assert all(r["false_positives"] == 0 for r in ours)


def test_without_math_verify_it_says_how_to_install_it(bench, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "math_verify", None)  # makes the import fail
    assert bench.main(["--limit", "3", "--forms", "bare"]) == 0
    text = capsys.readouterr().out
    assert "math-verify not installed: pip install math-verify" in text
    assert "| langgames | bare | 3 |" in text


def test_help_documents_the_arguments(bench, capsys):
    with pytest.raises(SystemExit):
        bench.main(["--help"])
    text = capsys.readouterr().out
    for flag in ("--pairs", "--limit", "--forms", "--repeat", "--no-math-verify", "--json"):
        assert flag in text
