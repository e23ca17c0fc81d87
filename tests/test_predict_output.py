"""PredictOutput: say what a generated function returns; exact, typed comparison."""

from __future__ import annotations

import statistics

import pytest

from langgames.envs import _programs as P
from langgames.envs.predict_output import PredictOutput

LEVELS = (1, 2, 3)


def fresh(seed: int = 0, difficulty: int = 1) -> PredictOutput:
    env = PredictOutput(difficulty=difficulty)
    env.reset(seed=seed)
    return env


def test_the_gold_is_what_the_sandbox_computes():
    from langgames.verifiers.python import default_sandbox, values_equal

    for level in LEVELS:
        for seed in range(8):
            env = fresh(seed, level)
            result = default_sandbox().call(env._program.source(), "f", [env._args])[0]
            assert result.ok and values_equal(result.value, env._gold, 0), env.call


def test_answers_are_compared_with_their_types():
    env = PredictOutput(difficulty=2)

    def returns_a_list(seed: int) -> bool:
        env.reset(seed=seed)
        return type(env._gold) is list

    seed = next(s for s in range(200) if returns_a_list(s))
    env.reset(seed=seed)
    gold = env._gold
    for answer, reward in [
        (f"I traced it.\n{gold!r}", 1.0),
        (f"`{gold!r}`", 1.0),
        (repr(tuple(gold)), 0.0),
        (repr([*gold, 0]), 0.0),
        (repr([float(v) for v in gold]), 0.0),
    ]:
        env.reset(seed=seed)
        _, got, terminated, _, info = env.step(answer)
        assert (got, terminated) == (reward, True), (answer, info["verdict"])


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "the reply is empty"),
        ("The answer is 12", "is not a Python literal"),
        ("x" * 3000, "characters long"),
        ("[1, 2] + [3]", "is not a Python literal"),
        ("3" * 2500, "characters long"),
    ],
)
def test_unreadable_replies_say_how_to_fix_them(reply, reason):
    env = fresh()
    obs, reward, terminated, _, info = env.step(reply)
    assert info["verdict"]["status"] == "unparseable" and reward == -0.1 and not terminated
    assert reason in info["verdict"]["reason"]
    assert "Python literal in \\boxed{...}" in obs


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_difficulty_really_changes_the_work():
    """The reference's work: statements and loop iterations the call executes, and lines read."""
    steps, lines = {}, {}
    for level in LEVELS:
        env = PredictOutput(difficulty=level)
        s, n = [], []
        for seed in range(60):
            env.reset(seed=seed)
            s.append(P.steps(env._program.func, env._args))
            n.append(env._program.source().count("\n"))
        steps[level], lines[level] = statistics.mean(s), statistics.mean(n)
    assert steps[1] < steps[2] < steps[3], steps
    assert lines[1] < lines[2] < lines[3], lines


def test_no_answer_is_the_gold_of_many_instances():
    counts: dict[str, int] = {}
    for level in LEVELS:
        env = PredictOutput(difficulty=level)
        for seed in range(300):
            env.reset(seed=seed)
            counts[repr(env._gold)] = counts.get(repr(env._gold), 0) + 1
    assert max(counts.values()) / 900 <= 0.05, max(counts.items(), key=lambda kv: kv[1])


def test_the_right_answer_buried_among_others_earns_nothing():
    env = PredictOutput()
    for level in LEVELS:
        for seed in range(5):
            env.reset(seed=seed, options={"difficulty": level})
            gold = env.reference_action()
            for reply in (f"{gold} or 0", f"({gold}, 0)", f"[{gold}, 1]", f"{gold}\n0"):
                env.reset(seed=seed, options={"difficulty": level})
                _, reward, *_ = env.step(reply)
                assert reward <= 0.0, reply
