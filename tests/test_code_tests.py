"""CodeTests: code problems from a user's dataset (or the shipped sample); hidden tests judge."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import langgames  # noqa: F401  (registers the games)
from langgames._dataset_audit import dataset_flags, dataset_report
from langgames.core import EVAL_SEEDS
from langgames.envs.code_tests import CodeTests
from langgames.testing import check_game, hostile_programs

EVAL = EVAL_SEEDS.start

# MBPP-style rows (its own field names), HumanEval-style rows and stdin/stdout rows.
MBPP = [
    {"text": "Write a function to double a number.", "code": "def dbl(x):\n    return 2 * x",
     "test_list": ["assert dbl(2) == 4", "assert dbl(-1) == -2", "assert dbl(0) == 0"]},
    {"text": "Write a function that returns the last element of a list.",
     "code": "def last(xs):\n    return xs[-1]",
     "test_list": ["assert last([1, 2]) == 2", "assert last('ab') == 'b'"]},
    {"text": "Write a function that sorts a list of words by length, then alphabetically.",
     "code": "def by_len(ws):\n    return sorted(ws, key=lambda w: (len(w), w))",
     "test_list": ["assert by_len(['bb', 'a', 'ab']) == ['a', 'ab', 'bb']",
                   "assert by_len([]) == []"]},
    {"text": "Write a function that tells whether n is even.",
     "code": "def is_even(n):\n    return n % 2 == 0",
     "test_list": ["assert is_even(4)", "assert not is_even(7)", "assert is_even(0) is True"]},
]  # fmt: skip
HUMANEVAL = {
    "prompt": 'from typing import List\n\n\ndef total(xs: List[int]) -> int:\n    """Sum xs."""\n',
    "entry_point": "total",
    "solution": "    return sum(xs)\n",
    "tests": "def check(candidate):\n    assert candidate([1, 2]) == 3\n"
    "    for n in range(5):\n        assert candidate(list(range(n))) == n * (n - 1) // 2\n",
}
IO = {
    "prompt": "Read two integers and print their sum.",
    "solution": "a, b = map(int, input().split())\nprint(a + b)",
    "tests": {"inputs": ["1 2\n", "-5 5\n", "10 20\n"], "outputs": ["3\n", "0\n", "30\n"]},
}


def play(env, seed, reply):
    env.reset(seed=seed)
    _, reward, _, _, info = env.step(reply)
    return reward, info["verdict"]["status"]


def fenced(code):
    return f"```python\n{code}\n```"


@pytest.fixture(scope="module")
def sample():
    return CodeTests()


def seed_of(env, kind):
    """An evaluation seed whose row is a function problem with asserts, check() or stdin/stdout."""
    for i in range(len(env.source.eval)):
        env.reset(seed=EVAL + i)
        p = env._problem
        style = "io" if p.entry is None else "check" if "def check" in p.snippets[0] else "asserts"
        if style == kind:
            return EVAL + i
    raise AssertionError(kind)


# ------------------------------------------------------------------------------- out of the box
def test_the_sample_works_out_of_the_box_and_every_reference_passes(sample):
    env = gym.make("langgames/CodeTests-v0")
    obs, info = env.reset(seed=EVAL)
    assert info["row"]["split"] == "test" and "```python" in obs
    report = dataset_report(sample)  # runs every row's reference against its own tests
    assert report["rows"] == 48 and report["playable_rows"] == 48 and report["flags"] == []
    for kind in ("asserts", "check", "io"):
        seed = seed_of(sample, kind)
        sample.reset(seed=seed)
        assert play(sample, seed, sample.reference_action()) == (1.0, "correct")


def test_the_tests_are_never_shown(sample):
    for i in range(len(sample.source.eval)):
        obs, _ = sample.reset(seed=EVAL + i)
        problem = sample._problem
        for snippet in problem.snippets:
            assert snippet not in obs and "assert" not in obs
        for _stdin, stdout in problem.io:
            assert stdout.strip() not in obs.split("\n")


def test_a_user_file_in_mbpp_style_passes_the_conformance_kit(tmp_path):
    path = tmp_path / "mbpp.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in [*MBPP, HUMANEVAL, IO][:6]))
    env = gym.make("langgames/CodeTests-v0", data_files=str(path), prompt_key="text",
                   solution_key="code", tests_key="test_list", eval_fraction=0.3)  # fmt: skip
    report = check_game(env, seeds=3, cross_process=True)
    assert report.passed, str(report)


def test_humaneval_and_stdin_rows_and_the_entry_point_guess():
    rows = [*MBPP, dict(HUMANEVAL, text=HUMANEVAL["prompt"], code=HUMANEVAL["solution"],
                        test_list=HUMANEVAL["tests"]),
            dict(IO, text=IO["prompt"], code=IO["solution"], test_list=IO["tests"])]  # fmt: skip
    env = CodeTests(dataset=rows, prompt_key="text", solution_key="code", tests_key="test_list",
                    eval_fraction=0.4)  # fmt: skip
    entries = {env.problem_of(r).entry for r in env.source.all_refs()}
    assert entries == {"dbl", "last", "by_len", "is_even", "total", None}
    for seed in [*range(6), *range(EVAL, EVAL + 3)]:
        env.reset(seed=seed)
        assert play(env, seed, env.reference_action()) == (1.0, "correct")
    seeds = [*range(10), *range(EVAL, EVAL + 5)]
    he = next(s for s in seeds if env.reset(seed=s) and env._problem.entry == "total")
    obs, _ = env.reset(seed=he)
    assert "def total(xs: List[int])" in obs  # the signature is shown as code
    # the prompt's imports are given to the answer (it may omit `from typing import List`)
    assert play(env, he, fenced("def total(xs: List[int]) -> int:\n    return sum(xs)")) == (
        1.0,
        "correct",
    )


# ------------------------------------------------------------------------------- exploits
EXTRA_EXPLOITS = {
    "override_assertion_error": (
        "import builtins\nclass AE(Exception): pass\nbuiltins.AssertionError = AE\n"
        "def {entry}(*args):\n    return None"
    ),
    "patch_builtins": (
        "import builtins\nbuiltins.isinstance = lambda *a: True\n"
        "builtins.abs = lambda x: 0\ndef {entry}(*args):\n    return 0"
    ),
    "read_tests_from_disk": (
        "import os\ndef {entry}(*args):\n    found = []\n"
        "    for root, dirs, files in os.walk('/'):\n        found += files\n"
        "        if len(found) > 200: break\n    return found"
    ),
    "read_tests_from_memory": (
        "import gc\ndef {entry}(*args):\n    return [o for o in gc.get_objects()\n"
        "            if isinstance(o, str) and 'assert' in o][:5]"
    ),
    "exit_before_asserts": "import sys\nsys.exit(0)\ndef {entry}(*args):\n    return 1",
    "raise_system_exit": "def {entry}(*args):\n    raise SystemExit(0)",
    "eq_everything_list": (
        "class L(list):\n    def __eq__(self, other): return True\n"
        "def {entry}(*args):\n    return L()"
    ),
}


@pytest.mark.parametrize("kind", ["asserts", "check", "io"])
def test_forged_passes_earn_nothing(sample, kind):
    seed = seed_of(sample, kind)
    sample.reset(seed=seed)
    entry = sample._problem.entry or "main"
    programs = {**hostile_programs(entry), **{
        k: v.replace("{entry}", entry) for k, v in EXTRA_EXPLOITS.items()}}  # fmt: skip
    for name, code in programs.items():
        if kind == "io":
            code += f"\nprint({entry}())"
        reward, status = play(sample, seed, fenced(code))
        assert reward <= 0 and status != "correct", (kind, name, status)
        assert status in ("incorrect", "timeout", "resource_limit", "forbidden"), (name, status)


def test_empty_and_unreadable_replies_earn_the_minimum(sample):
    seed = seed_of(sample, "asserts")
    for reply in ("", "I would loop over the list.", "```python\nprint('no def')\n```"):
        assert play(sample, seed, reply) == (-0.1, "unparseable")
    assert play(sample, seed_of(sample, "io"), "Let me think about it.") == (-0.1, "unparseable")


def test_crlf_replies_and_unfenced_code_are_accepted(sample):
    for kind in ("asserts", "check", "io"):
        seed = seed_of(sample, kind)
        sample.reset(seed=seed)
        reference = sample.reference_action()
        assert play(sample, seed, "Here:\r\n" + reference.replace("\n", "\r\n")) == (
            1.0,
            "correct",
        )
        bare = reference.removeprefix("```python\n").removesuffix("\n```")
        assert play(sample, seed, bare) == (1.0, "correct")


def test_partial_credit_is_off_by_default():
    rows = [MBPP[0], MBPP[1]]
    half = fenced("def dbl(x):\n    return 4 if x == 2 else 0")  # passes 2 of 3 asserts
    off = CodeTests(dataset=rows, prompt_key="text", solution_key="code", tests_key="test_list")
    on = CodeTests(dataset=rows, prompt_key="text", solution_key="code", tests_key="test_list",
                   partial_credit=True)  # fmt: skip
    seeds = [*range(10), *range(EVAL, EVAL + 3)]
    seed = next(s for s in seeds if off.reset(seed=s) and off._problem.entry == "dbl")
    assert play(off, seed, half) == (0.0, "incorrect")
    reward, status = play(on, seed, half)
    assert status == "incorrect" and reward == pytest.approx(2 / 3)


def test_tests_whose_inputs_depend_on_the_answers_are_replayed():
    row = {
        "prompt": "Write inc(x) that returns x + 1.",
        "entry_point": "inc",
        "solution": "def inc(x):\n    return x + 1",
        "tests": ["y = inc(1)\nassert inc(y) == 3\nassert inc(inc(y)) == 4"],
    }
    env = CodeTests(dataset=[row, row])
    assert play(env, 0, env.reset(seed=0) and env.reference_action()) == (1.0, "correct")
    wrong = fenced("def inc(x):\n    return x + 2")  # asks for inputs the reference never saw
    assert play(env, 0, wrong) == (0.0, "incorrect")


# ------------------------------------------------------------------------------- bad data
def test_rows_that_cannot_be_played_are_skipped_and_reported():
    rows = [
        dict(MBPP[0], split="train"),
        dict(MBPP[1], code="", split="train"),  # no reference solution
        dict(MBPP[2], test_list=["assert by_len(["], split="train"),  # tests do not parse
        dict(MBPP[3], code="def is_even(n):\n    return True", split="test"),  # fails its tests
        dict(MBPP[2], split="test"),
    ]
    env = CodeTests(dataset=rows, prompt_key="text", solution_key="code", tests_key="test_list")
    for seed in [*range(6), *range(EVAL, EVAL + 3)]:
        env.reset(seed=seed)
        assert env._problem.entry in (("by_len", "is_even") if seed >= EVAL else ("dbl",))
    report = dataset_report(env)
    problems = " | ".join(u["problem"] for u in report["unplayable"])
    assert report["playable_rows"] == 2, problems
    assert "no reference solution" in problems and "does not parse" in problems
    assert "the reference solution fails" in problems
    lenient = CodeTests(dataset=rows, prompt_key="text", solution_key="code",
                        tests_key="test_list", require_solution=False)  # fmt: skip
    assert lenient.row_problem(lenient.source.all_refs()[1]) is None


def test_dataset_flags_duplicate_problems():
    rows = [*MBPP, dict(MBPP[0])]
    flags = dataset_flags(CodeTests(dataset=rows, prompt_key="text", solution_key="code",
                                    tests_key="test_list"))  # fmt: skip
    assert any("1 duplicate rows" in f for f in flags)


def test_the_audit_measures_a_user_file(tmp_path):
    from langgames.audit import audit_game

    rows = [
        {"prompt": f"Write add{k}(x) returning x + {k}.", "entry_point": f"add{k}",
         "solution": f"def add{k}(x):\n    return x + {k}",
         "tests": [f"assert add{k}(1) == {1 + k}", f"assert add{k}(-{k}) == 0"]}
        for k in range(20)
    ]  # fmt: skip
    path = tmp_path / "adders.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    kwargs = {"data_files": str(path), "eval_fraction": 0.5}
    card = audit_game("langgames/CodeTests-v0", kwargs=kwargs, episodes=10)
    assert card["flagged"] is False, card["flags"]
    assert card["coverage"]["levels"]["1"]["unique_instance_rate"] == 1.0
    assert card["reliability"]["reference_pass_rate"] == 1.0
