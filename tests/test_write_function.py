"""WriteFunction: a specification game scored by running code in the Python sandbox."""

from __future__ import annotations

import re
import time

import numpy as np
import pytest

from langgames.envs.write_function import REDUCERS, TRANSFORMS, WriteFunction, build_spec
from langgames.testing import hostile_programs


def fresh(seed: int = 0, difficulty: int = 2) -> WriteFunction:
    env = WriteFunction(difficulty=difficulty)
    env.reset(seed=seed)
    return env


def play(env: WriteFunction, body: str):
    return env.step(f"Here is my solution.\n```python\n{body}\n```")


def test_the_reference_passes_and_a_wrong_function_fails():
    env = fresh()
    _, reward, terminated, _, info = env.step(env.reference_action())
    assert (reward, terminated, info["verdict"]["status"]) == (1.0, True, "correct")
    env = fresh()
    _, reward, terminated, _, info = play(env, "def solve(xs):\n    return 0")
    assert (reward, terminated, info["verdict"]["status"]) == (0.0, True, "incorrect")


@pytest.mark.parametrize("name", sorted(hostile_programs("solve")))
def test_forged_passes_earn_nothing(name):
    env = fresh(seed=3)
    _, reward, terminated, _, info = play(env, hostile_programs("solve")[name])
    assert reward <= 0.0 and terminated
    assert info["verdict"]["status"] != "correct"


def test_a_program_that_never_ends_is_a_timeout_not_a_hang():
    env = fresh()
    start = time.perf_counter()
    _, reward, terminated, _, info = play(env, "def solve(xs):\n    while True:\n        pass")
    assert time.perf_counter() - start < 30
    assert info["verdict"]["status"] == "timeout" and reward == -0.1


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("I would loop over the list.", "no Python code found"),
        ("```python\nprint('hi')\n```", "does not define `solve`"),
        ("```python\n" + "x = 1\n" * 5000 + "def solve(xs): pass\n```", "limit is 20,000"),
    ],
)
def test_unreadable_replies_say_how_to_fix_them(reply, reason):
    env = fresh()
    obs, reward, terminated, _, info = env.step(reply)
    assert info["verdict"]["status"] == "unparseable" and reward == -0.1 and not terminated
    assert reason in info["verdict"]["reason"]
    assert "```python" in obs


def test_hidden_tests_are_not_shown_to_the_player():
    for seed in range(10):
        env = fresh(seed=seed)
        prompt = env._prompt("coder")
        hidden_long = [args[0] for args, _ in env._hidden if len(args[0]) >= 4]
        assert hidden_long
        assert not any(repr(xs) in prompt for xs in hidden_long)
        assert len(env._hidden) == 16 and len(env._shown) == 3


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_difficulty_really_changes_the_work():
    lines = {}
    for level in (1, 2, 3):
        env = WriteFunction(difficulty=level)
        total = 0
        for seed in range(40):
            env.reset(seed=seed)
            total += env.reference_action().count("\n")
        lines[level] = total / 40
    assert lines[1] < lines[2] < lines[3]


def test_every_stage_of_the_catalogue_is_reachable_and_its_code_matches_its_meaning():
    from langgames.verifiers.python import default_sandbox

    rng = np.random.default_rng(0)
    inputs = [[], [5], [3, -1, 4, -1, 5, 9, -2, 6], [-7, -7, 0, 2, 2, 8]]
    for make in TRANSFORMS + REDUCERS:
        stage = make(rng)
        result = "result" if stage.reduces else "xs"
        code = "def solve(xs):\n" + "".join(f"    {line}\n" for line in stage.code)
        code += f"    return {result}\n"
        cases = [((list(xs),), stage.apply(list(xs))) for xs in inputs]
        verdict = default_sandbox().check(code, "solve", cases)
        assert verdict.correct, (make.__name__, verdict.reason)

    # Every catalogue entry is drawn by the generator (counted by the shape of its code).
    def shape(stage):
        return re.sub(r"-?\d+", "N", "\n".join(stage.code))

    shapes = {shape(make(np.random.default_rng(0))) for make in TRANSFORMS + REDUCERS}
    seen = set()
    for seed in range(400):
        for stage in build_spec(np.random.default_rng(seed), 3):
            seen.add(shape(stage))
    assert seen == shapes
    assert len(shapes) == len(TRANSFORMS) + len(REDUCERS)
