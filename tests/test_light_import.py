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


def test_import_langgames_loads_the_game_table_and_nothing_else(run_python):
    """What keeps `import langgames` fast (its time is measured, against the interpreter alone
    and Gymnasium, by ``benchmarks/import_time.py``: target < 0.3 s): five modules of ours and a
    few dozen of the standard library."""
    proc = run_python(
        "import sys\n"
        "before = set(sys.modules)\n"
        "import langgames\n"
        "print('\\n'.join(sorted(set(sys.modules) - before)))\n"
    )
    assert proc.returncode == 0, proc.stderr
    loaded = proc.stdout.split()
    ours = {m for m in loaded if m.split(".")[0] == "langgames"}
    assert ours == {
        "langgames",
        "langgames._import_hook",
        "langgames.envs",
        "langgames.errors",
        "langgames.registry",
    }
    assert not {"tempfile", "shutil", "importlib.resources", "json"} & set(loaded), loaded
    assert len(loaded) < 60, loaded


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


def test_verifier_modules_load_neither_gymnasium_nor_the_games(run_python):
    """Math and sandbox workers start from the verifiers alone (issue 14): importing one loads the
    package's game *table* (strings) but no Gymnasium, NumPy, game module, curriculum or tool."""
    proc = run_python(
        "import sys, json\n"
        "import langgames.verifiers.verdict, langgames.verifiers\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('gymnasium', 'numpy', 'sympy')\n"
        "       or m in ('langgames.core', 'langgames.curriculum', 'langgames.tools',\n"
        "                'langgames.envs.number_hunt', 'langgames.registry_cards')]\n"
        "print(json.dumps(bad))\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []


def test_import_langgames_registers_the_games_whichever_is_imported_first(run_python):
    for order in ("import langgames, gymnasium as gym", "import gymnasium as gym, langgames"):
        proc = run_python(
            f"{order}\n"
            "import sys\n"
            "ids = [i for i in gym.registry if i.startswith('langgames/')]\n"
            "assert set(langgames.game_ids()) <= set(ids), ids\n"
            "assert 'langgames/Curriculum-v0' in ids\n"
            "print(gym.make('langgames/NumberHunt-v0').reset(seed=0)[1]['role'])\n"
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == "player"


def test_import_langgames_alone_loads_no_gymnasium(run_python):
    proc = run_python("import sys, langgames; print('gymnasium' in sys.modules)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_langgames_make_covers_every_langgames_id(run_python):
    """`langgames.make` is `gym.make` for every `langgames/` id, the curriculum included."""
    proc = run_python(
        "import langgames\n"
        "env = langgames.make('langgames/Curriculum-v0', games=['BaseConvert-v0'])\n"
        "print(env.reset(seed=0)[1]['game'])\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "langgames/BaseConvert-v0"
