"""The built wheel works on its own: `langgames.envs` and `langgames.verifiers` ship inside it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_installs_into_a_fresh_venv_and_makes_a_game(tmp_path):
    dist = tmp_path / "dist"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert build.returncode == 0, build.stderr
    # Issue 14: no packaging warnings (license table form, data folders missing from packages).
    log = build.stdout + build.stderr
    assert "project.license" not in log and "is absent from the `packages`" not in log, log[-3000:]
    (wheel,) = dist.glob("langgames-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "langgames/envs/__init__.py" in names
    assert "langgames/verifiers/verdict.py" in names
    assert "langgames/py.typed" in names
    assert "langgames/data/math_qa_sample.jsonl" in names
    assert any(n.startswith("langgames/cards/") and n.endswith(".json") for n in names)
    assert not any(n.startswith(("envs/", "verifiers/", "tests/", "benchmarks/")) for n in names)

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr
    code = (
        "import gymnasium as gym, langgames, langgames.envs, langgames.verifiers\n"
        "assert 'site-packages' in langgames.envs.__file__, langgames.envs.__file__\n"
        "env = gym.make('langgames/BaseConvert-v0')\n"
        "obs, info = env.reset(seed=0)\n"
        "obs, r, term, trunc, info = env.step(env.unwrapped.reference_action())\n"
        "print(r, info['verdict']['status'])\n"
        "from langgames.bench import load_suites\n"
        "assert {'core', 'math', 'code', 'selfplay'} <= set(load_suites())\n"
        "assert langgames.get_spec('langgames/NumberHunt-v0').card is not None\n"
        "import importlib.util\n"
        "print(importlib.util.find_spec('envs'), importlib.util.find_spec('verifiers'))\n"
    )
    run = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["1.0", "correct", "None", "None"]
    cli = subprocess.run(
        [str(venv / "bin" / "langgames"), "list"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert cli.returncode == 0 and "langgames/NumberHunt-v0" in cli.stdout
