"""``langgames new``: scaffold a verifier-backed game that already passes ``check_game``.

`new_game` writes three things into a langgames checkout (the folder holding ``envs/`` and
``tests/``):

- ``envs/<snake_name>.py``: a working game on `CodeGame`, scored by the Python sandbox
  (``--verifier python``: write a function, hidden tests) or on `MathGame`, scored by the math
  verifier (``--verifier math``: compute a value exactly), with the docstring template filled in;
- one ``register(...)`` line appended to ``envs/__init__.py``;
- ``tests/test_<snake_name>.py``: runs the conformance kit on the new game.

That is the whole change a game needs: the registry-wide tests (conformance kit, reply contract,
exploit battery), the suites and the audit find it from the table. `NEXT_STEPS` says what is left:
edit the rules, run its test, then ``langgames audit <id> --refresh-shipped`` writes its card and
golden transcript in one go.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path

from langgames.errors import InvalidArgument, did_you_mean

__all__ = ["NEXT_STEPS", "VERIFIERS", "find_root", "new_game"]

#: What remains after `new_game`, printed by ``langgames new``.
NEXT_STEPS = """\
Next:
  1. Write the rules in envs/{module}.py (keep the docstring sections; bump the version on any
     change to what a player sees or how it is scored).
  2. Check it:      .venv/bin/python -m pytest tests/test_{module}.py
                    .venv/bin/python -m pytest -m "not slow" -k {name}
     (the registry-wide tests, the reply contract and the exploit battery already include it).
  3. Freeze it:     .venv/bin/langgames audit {name}-v0 --refresh-shipped
     (writes its card, langgames/cards/{name}-v0.json, and its golden transcript,
     tests/golden/{name}-v0.txt).
  4. Read CONTRIBUTING.md, add a row to the README's catalogue, and open a pull request.
"""

VERIFIERS = ("python", "math")

_PYTHON_TEMPLATE = """\
\"\"\"{name}: write a function from a short specification; hidden tests run in the sandbox.\"\"\"

from __future__ import annotations

from langgames.core import GameInfo
from langgames.envs._code_game import CodeGame

__all__ = ["{name}"]


class {name}(CodeGame):
    \"\"\"Write ``f(x)`` returning ``k*x + c`` for stated k and c; hidden tests run in the sandbox.

    ## Description
    TODO: say what the player does and what makes the score trustworthy. This scaffold asks for
    a linear function; the hidden inputs and expected outputs never enter the sandbox, and the
    host compares returned values strictly.

    ## Roles
    ``player`` (single role).

    ## Observation
    The specification and the answer format.

    ## Action
    Python code defining ``f(x)`` in a fenced ```` ```python ```` block (the last block counts).

    ## Reward
    1.0 if every hidden test passes, 0.0 otherwise, -0.1 for a reply without code (the player may
    then try again).

    ## Episode end
    Terminates after the first readable program; truncates after ``max_turns`` moves (default 3).

    ## Arguments
    ``difficulty``: 1, 2 or 3 (larger coefficients).

    ## Version History
    * v0: initial version.
    \"\"\"

    entry = "f"
    game_info = GameInfo(
        name="{name}",
        version=0,
        roles=("player",),
        verifiers=("python",),
        answer_format=(
            "Python code defining f(x) in a fenced block: ```python\\\\ndef f(x): ...\\\\n```"
        ),
        reward_range=(-0.1, 1.0),
        max_turns=3,
        tags=("code", "single-turn"),
    )

    def _setup(self) -> str:
        rng = self.np_random
        self._k = int(rng.integers(2, 10**self.difficulty))
        self._c = int(rng.integers(-9, 10))
        inputs = [int(x) for x in rng.integers(-1000, 1000, size=12)]
        self._hidden = [((x,), self._k * x + self._c) for x in inputs]
        return "player"

    def _prompt(self, role: str) -> str:
        return (
            f"Write a Python function f(x) that returns {{self._k}} * x + ({{self._c}}) for an "
            f"integer x.\\n{{self._code_request('f(x)')}}"
        )

    def _reference_source(self) -> str:
        return f"def f(x):\\n    return {{self._k}} * x + {{self._c}}\\n"
"""

_MATH_TEMPLATE = '''\
"""{name}: compute a value exactly; the answer is checked by the math verifier."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from langgames.core import GameInfo
from langgames.envs._math_game import ANSWER_FORMAT, MathGame

__all__ = ["{name}"]


class {name}(MathGame):
    """Compute ``a/b + c`` exactly; the answer is checked by the math verifier.

    ## Description
    TODO: say what the player does and what makes the score trustworthy. This scaffold asks for
    the exact value of a small expression; the math verifier compares exactly (``0.333`` is not
    ``1/3``).

    ## Roles
    ``player`` (single role).

    ## Observation
    The expression and the answer format.

    ## Action
    The value in ``\\\\boxed{{...}}`` (or alone on the last line).

    ## Reward
    1.0 if the value is right, 0.0 if it is wrong, -0.1 for an unreadable answer (the player may
    then try again).

    ## Episode end
    Terminates after the first readable answer; truncates after ``max_turns`` moves (default 3).

    ## Arguments
    ``difficulty``: 1, 2 or 3 (larger numbers).

    ## Version History
    * v0: initial version.
    """

    answer_hint = "one integer or fraction, e.g. \\\\boxed{{-7/12}}"
    game_info = GameInfo(
        name="{name}",
        version=0,
        roles=("player",),
        verifiers=("math",),
        answer_format=ANSWER_FORMAT,
        reward_range=(-0.1, 1.0),
        max_turns=3,
        tags=("math", "single-turn"),
    )

    def _setup(self) -> str:
        import sympy

        rng = self.np_random
        top = 10**self.difficulty
        self._a, self._b = int(rng.integers(1, top)), int(rng.integers(2, top))
        self._c = int(rng.integers(-top, top))
        value = Fraction(self._a, self._b) + self._c
        self._gold: Any = sympy.Rational(value.numerator, value.denominator)
        return "player"

    def _prompt(self, role: str) -> str:
        return (
            f"Compute exactly: {{self._a}}/{{self._b}} + ({{self._c}})\\n"
            f"Answer format: {{ANSWER_FORMAT}}."
        )

    def _reference(self, role: str) -> str:
        return f"\\\\boxed{{{{{{self._gold}}}}}}"
'''

_TEST_TEMPLATE = '''\
"""{name}: the conformance kit, plus the rules of this game."""

from __future__ import annotations

from langgames.envs.{module} import {name}
from langgames.testing import check_game


def test_{module}_passes_the_conformance_kit():
    report = check_game({name}(), seeds=3, cross_process=False)
    assert report.passed, str(report)


def test_{module}_reference_is_correct():
    game = {name}()
    game.reset(seed=0)
    _, reward, terminated, _, info = game.step(game.reference_action())
    assert (reward, terminated, info["verdict"]["status"]) == (1.0, True, "correct")
'''


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def find_root(start: Path | None = None) -> Path:
    """The langgames checkout containing ``start`` (default: the current folder)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "envs" / "__init__.py").is_file() and (folder / "langgames").is_dir():
            return folder
    raise InvalidArgument(
        f"no langgames checkout found at or above {here} (expected a folder holding envs/ and "
        "langgames/); run the command inside your clone or pass --root"
    )


def new_game(name: str, verifier: str, root: Path) -> list[Path]:
    """Create the module, registration line and test of a new game; return the files written."""
    if not re.fullmatch(r"[A-Z][A-Za-z0-9]{1,40}", name) or keyword.iskeyword(name):
        raise InvalidArgument(
            f"a game name is CamelCase letters and digits, starting with a capital, e.g. "
            f"'PrimeFactors' (got {name!r})"
        )
    if verifier not in VERIFIERS:
        raise InvalidArgument(
            f"--verifier must be one of {', '.join(VERIFIERS)} (got {verifier!r})."
            + did_you_mean(verifier, VERIFIERS)
        )
    module = _snake(name)
    game_file = root / "envs" / f"{module}.py"
    test_file = root / "tests" / f"test_{module}.py"
    table = root / "envs" / "__init__.py"
    game_id = f"langgames/{name}-v0"
    for path in (game_file, test_file):
        if path.exists():
            raise InvalidArgument(f"{path} already exists; choose another name or remove it")
    if f'"{game_id}"' in table.read_text(encoding="utf-8"):
        raise InvalidArgument(f"{game_id} is already registered in {table}")
    template = _PYTHON_TEMPLATE if verifier == "python" else _MATH_TEMPLATE
    game_file.write_text(template.format(name=name), encoding="utf-8")
    test_file.parent.mkdir(exist_ok=True)
    test_file.write_text(_TEST_TEMPLATE.format(name=name, module=module), encoding="utf-8")
    with table.open("a", encoding="utf-8") as fh:
        fh.write(f'register("{game_id}", "langgames.envs.{module}:{name}")\n')
    return [game_file, table, test_file]
