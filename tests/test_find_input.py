"""FindInput: propose arguments on which a generated function returns the target."""

from __future__ import annotations

import os
import statistics

import numpy as np
import pytest

from langgames.envs import _programs as P
from langgames.envs.find_input import _DOMAINS, FindInput

LEVELS = (1, 2, 3)


def fresh(seed: int = 0, difficulty: int = 1) -> FindInput:
    env = FindInput(difficulty=difficulty)
    env.reset(seed=seed)
    return env


def _neighbours(args: tuple) -> list[tuple]:
    """Arguments one small edit away from ``args`` (an element changed, dropped or added)."""
    out = []
    for i, a in enumerate(args):
        edits: list = []
        if type(a) is list:
            edits += [a[:j] + a[j + 1 :] for j in range(len(a))]
            edits += [
                [*a[:j], a[j] + d, *a[j + 1 :]] for j in range(len(a)) for d in (-2, -1, 1, 2)
            ]
            edits += [[*a, v] for v in range(-9, 21)]
        else:
            edits += [a + d for d in range(-5, 6) if d]
        out += [(*args[:i], e, *args[i + 1 :]) for e in edits]
    return out


def test_any_arguments_that_reach_the_target_are_correct():
    """Not only the hidden arguments: another preimage found by search is accepted too."""
    others = 0
    for level in LEVELS:
        for seed in range(6):
            env = fresh(seed, level)
            for args in _neighbours(env._args):
                ok, value = P.outcome(env._program.func, args)
                if ok and P.same_value(value, env.target):
                    _, reward, terminated, _, info = env.step(f"so:\n{P.format_call('f', args)}")
                    assert (reward, terminated) == (1.0, True), info["verdict"]
                    others += 1
                    break
    assert others >= 6


def test_a_wrong_input_earns_nothing_and_the_verdict_says_what_it_returned():
    env = fresh(seed=2)
    params = env._program.params
    args = tuple([999, -999, 998] if kind == P.LIST else 997 for _, kind in params)
    _, reward, terminated, _, info = env.step(P.format_call("f", args))
    assert (reward, terminated, info["verdict"]["status"]) == (0.0, True, "incorrect")
    assert "not the target" in info["verdict"]["reason"]


def test_the_tuple_form_is_read_like_the_call():
    env = fresh(seed=4)
    args = env._args
    env.reset(seed=4)
    _, reward, *_ = env.step(repr(tuple(args)))
    assert reward == 1.0


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "the reply is empty"),
        ("I would try a list.", "not a call of f"),
        ("g([1, 2])", "call f"),
        ("f(xs=[1, 2])", "positional arguments only"),
        ("f([1, 2], 3, 4, 5)", "takes"),
        ("f([1, 2000])", "must be"),
        ("f([True, 2])", "must be"),
        ("f([1.5])", "must be"),
        ("f(" + repr(list(range(13))) + ")", "at most 12"),
        ("f([[1], 2])", "must be"),
    ],
)
def test_unreadable_or_out_of_bounds_calls_say_how_to_fix_them(reply, reason):
    env = FindInput(difficulty=1)
    seed = next(s for s in range(100) if env.reset(seed=s) and _one_list_param(env))
    env.reset(seed=seed)
    obs, reward, terminated, _, info = env.step(reply)
    assert info["verdict"]["status"] == "unparseable" and reward == -0.1 and not terminated
    assert reason in info["verdict"]["reason"], info["verdict"]["reason"]
    assert "a call of f on literal arguments" in obs


def _one_list_param(env: FindInput) -> bool:
    return [kind for _, kind in env._program.params] == [P.LIST]


def test_code_in_the_arguments_is_never_run(tmp_path):
    marker = tmp_path / "marker"
    env = fresh()
    for reply in (
        f"f(__import__('os').system('touch {marker}'))",
        f"f([open('{marker}', 'w').write('x')])",
        f"(lambda: __import__('os').system('touch {marker}'))()",
    ):
        env.reset(seed=0)
        _, reward, *_ = env.step(reply)
        assert reward == -0.1
    assert not os.path.exists(marker)


@pytest.mark.slow  # a statistical sweep over many seeds: the full tier
def test_difficulty_really_changes_the_work():
    """Longer programs to invert (lines, and steps the reference input takes), and above level 1
    targets that random guessing rarely reaches."""
    rng = np.random.default_rng(123)
    hit_rate, lines, steps = {}, {}, {}
    for level in LEVELS:
        env = FindInput(difficulty=level)
        hits, n, s = [], [], []
        for seed in range(40):
            env.reset(seed=seed)
            program, target = env._program, env.target
            draws = [P.random_args(rng, program.params, _DOMAINS[level]) for _ in range(60)]
            results = [P.outcome(program.func, args) for args in draws]
            hits.append(sum(ok and P.same_value(v, target) for ok, v in results) / 60)
            n.append(program.source().count("\n"))
            s.append(P.steps(program.func, env._args))
        hit_rate[level] = statistics.mean(hits)
        lines[level], steps[level] = statistics.mean(n), statistics.mean(s)
    assert lines[1] < lines[2] < lines[3], lines
    assert steps[1] < steps[2] < steps[3], steps
    assert hit_rate[3] < min(hit_rate[1], hit_rate[2]) and hit_rate[1] < 0.2, hit_rate
