"""`import langgames` must stay light: no ML stack, no plotting, no SymPy, no sandbox processes."""

from __future__ import annotations

import json

HEAVY = [
    "torch",
    "transformers",
    "stable_baselines3",
    "sb3_contrib",
    "pettingzoo",
    "ray",
    "matplotlib",
    "trl",
    "datasets",
    "sympy",
    "RestrictedPython",
]


def test_import_langgames_loads_nothing_heavy(run_python):
    proc = run_python(
        "import sys, json, gymnasium as gym, langgames\n"
        "env = gym.make('langgames/NumberHunt-v0'); env.reset(seed=0)\n"
        "langgames.list_games()\n"
        f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_import_langgames_is_fast(run_python):
    proc = run_python(
        "import time; t = time.perf_counter(); import langgames; print(time.perf_counter() - t)"
    )
    assert proc.returncode == 0, proc.stderr
    assert float(proc.stdout) < 3.0  # generous: a shared CI machine; typically ~0.2 s


def test_the_sandbox_module_loads_restrictedpython_only_for_a_policy(run_python):
    proc = run_python(
        "import sys\n"
        "from langgames.verifiers.python import PythonSandbox\n"
        "print('RestrictedPython' in sys.modules)\n"
        "from langgames.verifiers import SubsetPolicy\n"
        "print('RestrictedPython' in sys.modules)\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True"]
