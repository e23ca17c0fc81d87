"""FractionArith, Algebra and Calculus: conformance, difficulty, variety, exploit resistance."""

from __future__ import annotations

import json
import re
import statistics

import pytest

from langgames.envs.algebra import Algebra
from langgames.envs.calculus import Calculus
from langgames.envs.fraction_arith import FractionArith
from langgames.testing import play_episode

GAMES = [FractionArith, Algebra, Calculus]
LEVELS = (1, 2, 3)


@pytest.mark.parametrize(
    ("game", "task"),
    [(Algebra, t) for t in ("expand", "factor", "solve", "simplify")]
    + [(Calculus, t) for t in ("derivative", "integral")],
)
def test_every_task_reference_earns_the_maximum(game, task):
    env = game(task=task)
    for level in LEVELS:
        for seed in range(6):
            episode = play_episode(
                env, lambda o, i, e: e.reference_action(), seed, difficulty=level
            )
            assert episode.returns["player"] == 1.0, episode.transcript


def _work(env, level: int) -> float:
    """Mean size (SymPy operations) of the reference solution at a level."""
    import sympy

    from langgames.verifiers.math import parse_math

    sizes = []
    for seed in range(40):
        env.reset(seed=seed, options={"difficulty": level})
        if isinstance(env, FractionArith):
            sizes.append(env.operations)
        else:
            sizes.append(sympy.count_ops(parse_math(env.question)))
    return statistics.mean(sizes)


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
@pytest.mark.parametrize("game", GAMES, ids=lambda g: g.__name__)
def test_difficulty_really_grows_the_work(game):
    work = [_work(game(), level) for level in LEVELS]
    assert work[0] < work[1] < work[2], work


@pytest.mark.parametrize("game", GAMES, ids=lambda g: g.__name__)
def test_the_right_answer_buried_among_candidates_earns_nothing(game):
    env = game()
    for level in LEVELS:
        for seed in range(5):
            env.reset(seed=seed, options={"difficulty": level})
            right = env.reference_action()
            _, reward, *_ = env.step(f"\\boxed{{{right}}} \\boxed{{2*({right}) + 1}}")
            assert reward <= 0.0
            env.reset(seed=seed, options={"difficulty": level})
            _, reward, *_ = env.step(f"\\boxed{{{right}, 12345}}")
            assert reward <= 0.0


def test_fraction_arith_answer_format_and_feedback():
    env = FractionArith(difficulty=1)
    env.reset(seed=4)
    value = env._value
    obs, reward, terminated, _, info = env.step(f"{float(value)}")
    assert reward == -0.1 and not terminated and info["verdict"]["status"] == "unparseable"
    assert "not a decimal" in obs and "Expected format:" in obs
    obs, reward, terminated, _, info = env.step(f"{2 * value.numerator}/{2 * value.denominator}")
    assert reward == 0.0 and terminated and "lowest terms" in info["verdict"]["reason"]
    env.reset(seed=4)
    _, reward, *_ = env.step(
        f"Adding them: \\boxed{{\\frac{{{value.numerator}}}{{{value.denominator}}}}}"
    )
    assert reward == 1.0


def test_algebra_checks_the_form_the_task_asks_for():
    env = Algebra(task="factor")
    env.reset(seed=1)
    _, reward, _, _, info = env.step(env.question)  # the expanded polynomial itself
    assert reward == 0.0 and "not completely factored" in info["verdict"]["reason"]
    env = Algebra(task="expand")
    env.reset(seed=1)
    _, reward, _, _, info = env.step(env.question)  # the product itself
    assert reward == 0.0 and "not fully expanded" in info["verdict"]["reason"]
    env = Algebra(task="simplify")
    env.reset(seed=1)
    _, reward, _, _, info = env.step(env.question.replace(") / (", ")/("))
    assert reward == 0.0 and "undefined" in info["verdict"]["reason"]
    env = Algebra(task="solve")
    env.reset(seed=1)
    answer = env.reference_action()
    for variant in (answer, re.sub(r"x = ", "", answer), "\\boxed{" + answer + "}"):
        env.reset(seed=1)
        assert env.step(variant)[1] == 1.0


def test_calculus_accepts_any_equal_form_and_constants_of_integration():
    env = Calculus(task="integral", difficulty=1)
    env.reset(seed=0)
    answer = env.reference_action()
    _, reward, *_ = env.step(f"\\boxed{{{answer} + C}}")
    assert reward == 1.0
    env = Calculus(task="derivative", difficulty=2)
    env.reset(seed=0)
    _, reward, *_ = env.step(env.reference_action().replace("exp", "e^").replace("e^(", "e^("))
    assert reward == 1.0


def test_bad_task_names_teach():
    with pytest.raises(ValueError, match="Did you mean: `factor`"):
        Algebra(task="factr")
    with pytest.raises(ValueError, match="task must be one of"):
        Calculus(task="limit")


def test_game_modules_do_not_import_sympy(run_python):
    proc = run_python(
        "import sys, json\n"
        "import langgames.envs.fraction_arith, langgames.envs.algebra, langgames.envs.calculus\n"
        "from langgames.verifiers import Verdict\n"
        "print(json.dumps('sympy' in sys.modules))\n"
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) is False
