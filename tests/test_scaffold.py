"""`langgames new` writes a game that passes the conformance kit right away."""

from __future__ import annotations

import io
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
