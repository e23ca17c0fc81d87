"""InduceFunction: write a function from examples only; hidden tests in the sandbox decide."""

from __future__ import annotations

import statistics
from collections import Counter

import pytest

from langgames.envs import _programs as P
from langgames.envs.induce_function import N_HIDDEN, InduceFunction
from langgames.policies import RandomText, exploit_probes
from langgames.testing import hostile_programs

LEVELS = (1, 2, 3)

#: Code that tries to pass without computing anything: every one must earn nothing.
HOSTILE_CODE = hostile_programs("f")


def fresh(seed: int = 0, difficulty: int = 1) -> InduceFunction:
    env = InduceFunction(difficulty=difficulty)
    env.reset(seed=seed)
    return env


def play(env: InduceFunction, code: str):
    return env.step(f"Here is my function.\n```python\n{code}\n```")


def test_a_table_of_the_examples_earns_nothing():
    """Memorising the shown examples (with the commonest output as a fallback) fails."""
    for level in LEVELS:
        for seed in range(6):
            env = fresh(seed, level)
            table = {repr(list(args)): out for args, out in env._shown}
            common = Counter(repr(out) for _, out in env._shown).most_common(1)[0][0]
            code = (
                f"TABLE = {table!r}\n"
                "def f(*args):\n"
                f"    return TABLE.get(repr(list(args)), {common})"
            )
            _, reward, terminated, _, info = play(env, code)
            assert (reward, terminated) == (0.0, True), info["verdict"]
            # Every shown output used as a constant fails as well.
            for out in {repr(out) for _, out in env._shown}:
                env.reset(seed=seed)
                _, reward, *_ = play(env, f"def f(*args):\n    return {out}")
                assert reward == 0.0


def test_hidden_cases_are_new_varied_and_pin_down_the_function():
    resolved = 0
    for level in LEVELS:
        for seed in range(30):
            env = fresh(seed, level)
            shown = {repr(args) for args, _ in env._shown}
            assert len(env._hidden) == N_HIDDEN
            assert not shown & {repr(args) for args, _ in env._hidden}
            assert len({repr(out) for _, out in env._hidden}) >= 3
            assert len({repr(out) for _, out in env._shown}) >= 2
            resolved += env.unresolved == 0
            for args, out in env._shown + env._hidden:
                assert P.same_value(P.evaluate(env._program.func, args), out)
    assert resolved / 90 >= 0.85


def test_hidden_cases_are_not_shown_to_the_player():
    for seed in range(10):
        env = fresh(seed, 2)
        prompt = env._prompt("coder")
        assert all(P.format_call("f", args) not in prompt for args, _ in env._hidden)
        assert all(P.format_call("f", args) in prompt for args, _ in env._shown)


@pytest.mark.parametrize("name", sorted(HOSTILE_CODE))
def test_hostile_code_earns_nothing(name):
    env = fresh(seed=3, difficulty=2)
    _, reward, terminated, _, info = play(env, HOSTILE_CODE[name])
    assert reward <= 0.0 and terminated, info["verdict"]
    assert info["verdict"]["status"] != "correct"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("It doubles every element.", "no Python code found"),
        ("```python\nprint('hi')\n```", "does not define `f`"),
        ("```python\n" + "x = 1\n" * 5000 + "def f(xs): pass\n```", "limit is 20,000"),
    ],
)
def test_unreadable_replies_say_how_to_fix_them(reply, reason):
    env = fresh()
    obs, reward, terminated, _, info = env.step(reply)
    assert info["verdict"]["status"] == "unparseable" and reward == -0.1 and not terminated
    assert reason in info["verdict"]["reason"]
    assert "```python" in obs


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_difficulty_really_changes_the_work():
    """Longer hidden programs (the reference's lines) and more examples to read."""
    lines, examples = {}, {}
    for level in LEVELS:
        env = InduceFunction(difficulty=level)
        n, k = [], []
        for seed in range(40):
            env.reset(seed=seed)
            n.append(env.reference_action().count("\n"))
            k.append(len(env._shown))
        lines[level], examples[level] = statistics.mean(n), statistics.mean(k)
    assert lines[1] < lines[2] < lines[3], lines
    assert examples[1] < examples[2] < examples[3], examples


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_exploits_earn_no_more_than_random_text():
    env = InduceFunction()
    probes = exploit_probes(env)

    def run(policy) -> tuple[float, float]:
        rewards, correct = [], 0
        for level in LEVELS:
            for seed in range(4):
                obs, info = env.reset(seed=seed + 500, options={"difficulty": level})
                _, reward, _, _, info = env.step(policy(obs, info, env))
                rewards.append(float(reward))
                correct += info["verdict"]["status"] == "correct"
        return statistics.mean(rewards), correct / len(rewards)

    random_mean, _ = run(RandomText(0))
    for name, policy in probes.items():
        mean, correct_rate = run(policy)
        assert mean <= max(random_mean, 0.0) + 0.05, (name, mean, random_mean)
        assert correct_rate == 0.0, (name, correct_rate)
