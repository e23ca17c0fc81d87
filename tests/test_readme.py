"""The README's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", [b for b in BLOCKS if "register(" not in b or "import" in b])
def test_readme_python_block_runs(code, run_python):
    proc = run_python(code)
    assert proc.returncode == 0, proc.stderr


def test_readme_names_the_two_commands_that_ci_runs():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text()
    assert "bash .ci/setup && .venv/bin/python -m pytest" in README
    assert "bash .ci/setup && .venv/bin/langgames bench --suite core" in README
    assert "bash .ci/setup" in ci and ".venv/bin/python -m pytest" in ci
