"""`langgames new` writes a game that passes the conformance kit right away."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from langgames.cli import main
from langgames.errors import InvalidArgument
from langgames.scaffold import find_root, new_game

ROOT = Path(__file__).resolve().parent.parent


def checkout(tmp_path: Path) -> Path:
    """A throwaway copy of the parts of the checkout that `new` writes to."""
    root = tmp_path / "repo"
    (root / "tests").mkdir(parents=True)
    (root / "langgames").mkdir()
    shutil.copytree(ROOT / "envs", root / "envs", ignore=shutil.ignore_patterns("__pycache__"))
    return root


@pytest.mark.parametrize("verifier", ["python", "math"])
def test_new_game_passes_check_game(tmp_path, verifier):
    root = checkout(tmp_path)
    name = "ScaffoldPy" if verifier == "python" else "ScaffoldMath"
    out = io.StringIO()
    assert main(["new", name, "--verifier", verifier, "--root", str(root)], out=out) == 0
    module = "scaffold_py" if verifier == "python" else "scaffold_math"
    assert f"wrote {root / 'envs' / (module + '.py')}" in out.getvalue()
    table = (root / "envs" / "__init__.py").read_text()
    assert table.endswith(f'register("langgames/{name}-v0", "langgames.envs.{module}:{name}")\n')
    # Run the generated test against the generated module, as a contributor would.
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('langgames.envs.{module}', "
        f"r'{root / 'envs' / (module + '.py')}')\n"
        "mod = importlib.util.module_from_spec(spec); sys.modules[spec.name] = mod\n"
        "spec.loader.exec_module(mod)\n"
        "import pytest\n"
        f"test = r'{root / 'tests' / ('test_' + module + '.py')}'\n"
        "raise SystemExit(pytest.main(['-q', '-p', 'no:cacheprovider', test]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2 passed" in proc.stdout


def test_new_refuses_bad_names_and_existing_games(tmp_path):
    root = checkout(tmp_path)
    with pytest.raises(InvalidArgument, match="CamelCase"):
        new_game("prime_factors", "math", root)
    with pytest.raises(InvalidArgument, match=r"number_hunt\.py already exists"):
        new_game("NumberHunt", "math", root)
    with (root / "envs" / "__init__.py").open("a") as table:
        table.write('register("langgames/Ghost-v0", "langgames.envs.ghost:Ghost")\n')
    with pytest.raises(InvalidArgument, match="langgames/Ghost-v0 is already registered"):
        new_game("Ghost", "math", root)
    with pytest.raises(InvalidArgument, match="--verifier must be one of python, math"):
        new_game("Primes", "sympy", root)


def test_find_root_explains_where_it_looked(tmp_path):
    with pytest.raises(InvalidArgument, match="no langgames checkout found"):
        find_root(tmp_path)
    assert find_root(ROOT / "tests") == ROOT


@pytest.mark.slow
def test_a_new_game_is_two_code_files_and_a_test(tmp_path):
    """Issue 14: adding a game changes only its module, its registration line and its test; the
    registry, `langgames list`, the `core` suite and the audit find it from the table."""
    root = tmp_path / "repo"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("langgames", "envs", "verifiers", "benchmarks", "tests"):
        shutil.copytree(ROOT / part, root / part, ignore=ignore)
    git = [shutil.which("git") or "git", "-c", "user.email=t@example.com", "-c", "user.name=t"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "base"], cwd=root, check=True)

    assert main(["new", "TwoFiles", "--verifier", "python", "--root", str(root)]) == 0
    status = subprocess.run(
        [*git, "status", "--porcelain"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.split("\n")
    changed = sorted(line[3:] for line in status if line)
    assert changed == ["envs/__init__.py", "envs/two_files.py", "tests/test_two_files.py"]

    # The copy, importable as the installed layout (envs/ and verifiers/ inside the package).
    stage = tmp_path / "stage"
    stage.mkdir()
    (stage / "langgames").symlink_to(root / "langgames")
    shutil.rmtree(root / "langgames" / "envs", ignore_errors=True)
    (root / "langgames" / "envs").symlink_to(root / "envs")
    (root / "langgames" / "verifiers").symlink_to(root / "verifiers")
    (root / "langgames" / "benchmarks").symlink_to(root / "benchmarks")
    code = (
        "import langgames, io\n"
        f"assert langgames.__file__.startswith({str(stage)!r}), langgames.__file__\n"
        "from langgames.registry import suite_members\n"
        "from langgames.cli import main\n"
        "out = io.StringIO(); main(['list'], out=out)\n"
        "assert 'langgames/TwoFiles-v0' in out.getvalue()\n"
        "assert 'langgames/TwoFiles-v0' in [g for g, _, _ in suite_members('core')]\n"
        "out = io.StringIO()\n"
        "main(['audit', 'TwoFiles-v0', '--episodes', '3', '--no-cross-process', '--dry-run'],"
        " out=out)\n"
        "print(out.getvalue())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(stage)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "langgames/TwoFiles-v0" in proc.stdout and "grade" in proc.stdout
