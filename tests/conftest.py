"""Shared fixtures. Tests run against the installed package (editable in development)."""

from __future__ import annotations

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
