"""FixBug: repair the one planted bug of a documented function; hidden tests decide."""

from __future__ import annotations

import statistics

import pytest

from langgames.envs import _programs as P
from langgames.envs.fix_bug import N_HIDDEN, FixBug
from langgames.policies import RandomText, exploit_probes
from langgames.testing import hostile_programs

LEVELS = (1, 2, 3)

#: Code that tries to pass without computing anything: every one must earn nothing.
HOSTILE_CODE = hostile_programs("f")


def fresh(seed: int = 0, difficulty: int = 1) -> FixBug:
    env = FixBug(difficulty=difficulty)
    env.reset(seed=seed)
    return env


def play(env: FixBug, code: str):
    return env.step(f"Fixed:\n```python\n{code}\n```")


def test_the_unfixed_code_earns_nothing():
    for level in LEVELS:
        for seed in range(8):
            env = fresh(seed, level)
            _, reward, terminated, _, info = play(env, env.buggy_source)
            assert (reward, terminated) == (0.0, True), info["verdict"]
            assert info["verdict"]["status"] == "incorrect"


def test_special_casing_the_shown_example_earns_nothing():
    for level in LEVELS:
        for seed in range(5):
            env = fresh(seed, level)
            bug = env._bug
            code = (
                f"{env.buggy_source}\n_buggy = f\n\n"
                "def f(*args):\n"
                f"    if list(args) == {list(bug.example)!r}:\n"
                f"        return {bug.expected!r}\n"
                "    return _buggy(*args)\n"
            )
            _, reward, *_ = play(env, code)
            assert reward == 0.0


def test_the_bug_is_one_line_real_and_shown_truthfully():
    visible = []
    for level in LEVELS:
        for seed in range(30):
            env = fresh(seed, level)
            bug, original = env._bug, env._program.func
            fixed = env._program.source(with_docstring=True).splitlines()
            buggy = env.buggy_source.splitlines()
            assert sum(a != b for a, b in zip(fixed, buggy, strict=True)) == 1
            assert len(env._hidden) == N_HIDDEN
            assert all(repr(args) != repr(bug.example) for args, _ in env._hidden)
            assert P.same_value(P.evaluate(original, bug.example), bug.expected)
            assert P.same_value(P.evaluate(bug.mutant.func, bug.example), bug.got)
            wrong = 0
            for args, expected in env._hidden:
                assert P.same_value(P.evaluate(original, args), expected)
                ok, value = P.outcome(bug.mutant.func, args)
                wrong += not ok or not P.same_value(value, expected)
            assert wrong == bug.failing >= 1
            visible.append(wrong)
    assert min(visible) >= 1


def test_the_prompt_shows_the_failing_call_but_not_the_hidden_inputs():
    env = fresh(seed=1, difficulty=2)
    prompt = env._prompt("coder")
    bug = env._bug
    assert P.format_call("f", bug.example) in prompt and repr(bug.got) in prompt
    assert env.buggy_source in prompt
    assert all(P.format_call("f", args) not in prompt for args, _ in env._hidden)


@pytest.mark.parametrize("name", sorted(HOSTILE_CODE))
def test_hostile_code_earns_nothing(name):
    env = fresh(seed=3, difficulty=2)
    _, reward, terminated, _, info = play(env, HOSTILE_CODE[name])
    assert reward <= 0.0 and terminated, info["verdict"]
    assert info["verdict"]["status"] != "correct"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("Change the < into <=.", "no Python code found"),
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
    """Longer functions with more places a bug could hide, and subtler bugs (failing fewer
    hidden tests)."""
    lines, sites, failing = {}, {}, {}
    for level in LEVELS:
        env = FixBug(difficulty=level)
        n, m, f = [], [], []
        for seed in range(40):
            env.reset(seed=seed)
            n.append(env._program.source().count("\n"))
            m.append(len(P.mutants(env._program.func)))
            f.append(env._bug.failing)
        lines[level], sites[level] = statistics.mean(n), statistics.mean(m)
        failing[level] = statistics.mean(f)
    assert lines[1] < lines[2] < lines[3], lines
    assert sites[1] < sites[2] < sites[3], sites
    assert failing[1] > failing[2] > failing[3], failing


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_exploits_earn_no_more_than_random_text():
    env = FixBug()
    probes = exploit_probes(env)
    probes["the_buggy_code"] = lambda o, i, e: f"```python\n{e.buggy_source}```"

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
