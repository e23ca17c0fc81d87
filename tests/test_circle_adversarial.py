"""Red-team attacks on ScholarsCircle, one role at a time, kept as tests (issue 19).

Each attack is what a policy trained on the circle's rewards could learn: an explorer paid for
unpredictability instead of difficulty, a solver or critic paid for something other than a
correct judgement. Every test plays the attack and checks it earns nothing it should not.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from langgames.chat import ChatMessages
from langgames.envs.scholars_circle import ScholarsCircle
from langgames.envs.scholars_circle.validate import Candidate, run_program, sandbox, seed_pool
from langgames.verifiers.verdict import Verdict


def program(family: str, code: str, value=None, examples=None, tests=None) -> str:
    head = f"family: {family}\nprogram:\n```python\n{code.strip()}\n```\n"
    if family == "induction":
        return head + f"examples: {examples!r}\ntests: {tests!r}"
    return head + f"input: {value!r}"


def math_proposal(question: str, code: str) -> str:
    return f"family: math\nquestion: {question}\nprogram:\n```python\n{code.strip()}\n```"


def circle(family: str, seed: int = 0, **kwargs) -> ScholarsCircle:
    kwargs.setdefault("similarity_weight", 0.0)
    env = ScholarsCircle(families=(family,), **kwargs)
    env.reset(seed=seed)
    return env


def run(code: str, *args, solver: bool = False):
    (result,) = run_program(sandbox(), code, [args], timeout=5.0, allow_print=solver)
    return result


# ------------------------------------------------------------------ 1. the subset at run time

ESCAPES = {
    # a dunder name assembled at run time, read through a C-level getter
    "attrgetter_globals": "import operator\ndef f(x):\n"
    "    g = operator.attrgetter('__glo' + 'bals__')\n    return sorted(g(f))[:3]",
    "attrgetter_builtins_import": "import operator\ndef f(x):\n"
    "    b = operator.attrgetter('__buil' + 'tins__')(f)\n    return str(b)",
    "methodcaller": "import operator\ndef f(x):\n"
    "    return operator.methodcaller('__red' + 'uce_ex__', 2)(x)",
    # str.format reads attributes from its fields
    "format_field": "def f(x):\n    return ('{0._' + '_class__._' + '_mro__}').format(x)",
    "format_map": "def f(x):\n    return ('{x._' + '_class__}').format_map({'x': x})",
    "string_formatter": "import string\ndef f(x):\n"
    "    return string.Formatter().format('{0._' + '_class__}', x)",
    "str_subclass_format": "class S(str):\n    pass\ndef f(x):\n"
    "    return S.format('{0._' + '_class__}', x)",
    # the original Formatter behind the guarded one, through a subclass's bases
    "formatter_base": "import string\nclass F(string.Formatter):\n    pass\ndef f(x):\n"
    "    real = F.mro()[2]\n    return real().format('{0._' + '_class__}', x)",
    # frames: read the harness's job from the caller
    "generator_frame": "def f(x):\n    g = (i for i in [x])\n    return str(g.gi_frame.f_back)",
    # modules reachable from allowed ones
    "module_attribute": "import collections.abc\ndef f(x):\n    return str(collections.abc.sys)",
    "import_at_run_time": "def f(x):\n    import os\n    return os.getpid()",
    # state planted in shared objects, to tell runs apart
    "patch_a_module": "import math\ndef f(x):\n    math.pi = x\n    return 1",
    "patch_a_class": "import collections\ndef f(x):\n"
    "    collections.Counter.seen = x\n    return 1",
    "abc_register": "import collections.abc\ndef f(x):\n"
    "    collections.abc.Sequence.register(int)\n    return 1",
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_dunders_built_at_run_time_are_refused_as_the_program_runs(name):
    result = run(ESCAPES[name], 5)
    assert not result.ok, result.value
    assert (
        "not allowed in this subset" in result.error
        or "may be given attributes" in (result.error)
        or "has no attribute" in result.error
    ), result.error


def test_deeply_nested_programs_cost_the_penalty_and_never_crash_the_checks():
    """A 1,900-term sum parses, then exhausts the host's recursion limit in the tree walkers;
    it used to surface as a verifier error (reward 0, no penalty) for explorer and solver."""
    deep = "def f(x):\n    return " + "x+" * 1900 + "x"
    env = circle("deduction", difficulty=3)
    _, reward, _, _, info = env.step(program("deduction", deep, 3))
    assert reward == -0.1 and info["verdict"]["status"] == "unparseable"
    assert "nested more than" in info["verdict"]["reason"]
    env = circle("induction")
    env.step(program("induction", "def f(x):\n    return x % 2 * 5 + x", examples=[1, 2, 3],
                     tests=[4, 5, 6, 7, 8]))  # fmt: skip
    _, reward, _, _, info = env.step(f"```python\n{deep}\n```")
    assert reward == -0.1 and info["verdict"]["status"] == "unparseable"


def test_the_subset_still_runs_ordinary_python():
    code = (
        "import math\nfrom collections import Counter\nfrom functools import reduce\n"
        "class P:\n    def __init__(self, v):\n        self._v = v\n    def get(self):\n"
        "        return self._v\n"
        "def f(x):\n    c = Counter(str(x))\n"
        "    return [P(x).get(), math.gcd(x, 12), sorted(c.items()), '{} {:>3}'.format(x, 7),\n"
        "            f'{x!r:>4}', '%d-%s' % (x, 'a'), isinstance('a', str),\n"
        "            reduce(lambda a, b: a + b, [1, 2, 3])]"
    )
    result = run(code, 5)
    assert result.ok and result.value == [5, 1, [("5", 1)], "5   7", "   5", "5-a", True, 6]


def test_a_frame_reading_coin_flip_proposal_is_refused():
    """The attack of the red team: deterministic while validated, a coin once judged, decided
    from the caller's frame. Now every run refuses the frame, so it cannot pass validation."""
    env = circle("abduction")
    code = (
        "import operator\ndef f(x):\n    g = (i for i in [0])\n"
        "    frame = operator.attrgetter('gi_' + 'frame.f_' + 'back')(g)\n"
        "    return x * 3 + len(str(frame))"
    )
    verdict = env.validate(program("abduction", code, 7))
    assert isinstance(verdict, Verdict) and not verdict.correct


def test_a_program_cannot_tell_validation_from_judging():
    """State kept between calls would let a program count calls (validation makes many, the
    judge one): every call starts from a fresh namespace, so the count is always 1."""
    code = "calls = []\ndef f(x):\n    calls.append(x)\n    return x * 7 + len(calls) * 1000"
    env = circle("abduction")
    obs, reward, *_ = env.step(program("abduction", code, 4))
    assert reward == 0.0, obs
    assert env.candidate.entry.outputs == (1028,)
    _, reward, *_ = env.step("input: 4")
    assert reward == 1.0


def test_addresses_are_not_a_coin():
    code = "def f(x):\n    class A:\n        pass\n    return repr(A()) + str(lambda: 0) + f'{A}'"
    result = run(code, 1)
    assert result.ok and "0x0>" in result.value and "A object" in result.value
    assert run(code, 1).value == run(code, 1).value


def test_induction_solvers_run_under_the_subset_too():
    env = circle("induction")
    env.step(program("induction", "def f(x):\n    return x % 2 * 5 + x", examples=[1, 2, 3],
                     tests=[4, 5, 6, 7, 8]))  # fmt: skip
    peek = (
        "```python\nimport operator\ndef f(x):\n"
        "    return operator.attrgetter('__glo' + 'bals__')(f)\n```"
    )
    _, reward, _, _, info = env.step(peek)
    assert reward == 0.0 and info["verdict"]["status"] == "incorrect"
    _, reward, _, _, info = env.step("```python\n_lg_ga = 1\ndef f(x):\n    return x\n```")
    assert reward == -0.1 and info["verdict"]["status"] == "forbidden"


# ------------------------------------------------------------------ 2. nondeterminism


def test_set_order_is_no_coin():
    """Sets iterate in a canonical order under the run-time subset: an output read from a set of
    strings is the same under every hash seed, and a solver can predict it."""
    code = (
        "def f(x):\n    if x == 777777:\n        return list({'pear', 'fig', 'kiwi'})\n"
        "    return x * 3 + 1"
    )
    env = circle("deduction", difficulty=1)
    obs, reward, *_ = env.step(program("deduction", code, 777777))
    assert reward == 0.0, obs
    assert env.candidate.entry.outputs == (["fig", "kiwi", "pear"],)
    assert "sets iterate in sorted order" in obs
    _, reward, *_ = env.step("answer: ['fig', 'kiwi', 'pear']")
    assert reward == 1.0


@pytest.mark.parametrize(
    "expression",
    [
        "list(dict.fromkeys(W).keys() & set(W))",  # a set that C code builds from a dict view
        "list(dict.keys(dict.fromkeys(W)) | {'z'})",
        "[g() for g in {lambda: 'b', lambda: 'a'}]",  # functions hash by address
        "[c.tag for c in {type_b, type_a}]",  # classes too
    ],
)
def test_no_hash_or_address_order_reaches_the_program(expression):
    code = (
        "W = ['w%d' % i for i in range(12)]\n"
        "class type_a:\n    tag = 'a'\nclass type_b:\n    tag = 'b'\n"
        f"def f(x):\n    return {expression}"
    )
    outputs = set()
    for seed in seed_pool().draw(np.random.default_rng(0), 3):
        (result,) = run_program(seed_pool().sandbox(seed), code, [(0,)], timeout=5.0)
        assert result.ok, result.error
        outputs.add(json.dumps(result.value))
    assert len(outputs) == 1, outputs


def test_the_drawn_hash_seeds_are_secret_distinct_and_really_used():
    """Raw sandbox runs (no run-time subset): a set of 12 strings has a different table order
    in the processes of one validation, none of which uses the old public seeds."""
    env = circle("deduction", seed=5)
    seeds = env._conditions.seeds
    assert len(set(seeds)) == 3 and not {0, 2_718_281} & set(seeds)
    code = "def f():\n    return list({'w%d' % i for i in range(12)})"
    orders = set()
    for seed in seeds:
        (result,) = seed_pool().sandbox(seed).call(code, "f", [()], policy=None)
        orders.add(json.dumps(result.value))
    assert len(orders) > 1


def test_runs_that_disagree_are_refused(monkeypatch):
    """Whatever still makes a program's result depend on its process (an address, a hash seed):
    the three runs of a validation are compared, and one different answer refuses it."""
    from langgames.envs.scholars_circle.validate import Validator

    real = Validator._call
    env = circle("deduction", difficulty=1)
    last = env._conditions.seeds[-1]
    calls = []

    def call(self, box, code, args, timeout, math=False):
        out = real(self, box, code, args, timeout, math)
        calls.append(box.hash_seed)
        if box.hash_seed == last and isinstance(out, list):  # one process sees another value
            out = [("ok", "other"), *out[1:]]
        return out

    monkeypatch.setattr(Validator, "_call", call)
    verdict = env.validate(program("deduction", "def f(x):\n    return x * 3 + 1", 5))
    assert isinstance(verdict, Verdict) and verdict.details["stage"] == "determinism"
    assert "another process" in verdict.reason and len(set(calls)) == 3


def test_nondeterminism_on_a_solvers_input_withdraws_the_problem(monkeypatch):
    """A program whose result on the input a solver finds is not well defined (two runs under
    two freshly drawn seeds disagree): the problem is withdrawn, the explorer pays, no solver is
    charged, and the problem stays out of the library."""
    from langgames.envs.scholars_circle.validate import Validator

    env = circle("abduction", n_solvers=2)
    obs, reward, *_ = env.step(program("abduction", "def f(x):\n    return str(x * 3)", 5))
    assert reward == 0.0, obs
    real = Validator.run_on

    def run_on(self, code, args, seeds, timeout):
        runs = real(self, code, args, seeds, timeout)
        assert len(set(seeds)) == 2
        return [runs[0], [("ok", "a coin")]]

    monkeypatch.setattr(Validator, "run_on", run_on)
    size = len(env.library)
    obs, reward, terminated, _, info = env.step("input: 123457")
    assert terminated and reward == 0.0
    assert info["rewards"] == {"solver": 0.0, "explorer": -0.1}
    assert "withdrawn" in info["verdict"]["reason"]
    assert len(env.library) == size


def test_a_solvers_input_already_validated_is_not_rerun(monkeypatch):
    from langgames.envs.scholars_circle.validate import Validator

    env = circle("abduction", n_solvers=1)
    env.step(program("abduction", "def f(x):\n    return str(x * 3)", 5))
    monkeypatch.setattr(Validator, "run_on", lambda *a: pytest.fail("re-ran a validated input"))
    _, reward, *_ = env.step("input: 5")
    assert reward == 1.0


def test_validation_conditions_are_drawn_per_validation_and_reproducible():
    a, b = circle("deduction", seed=3), circle("deduction", seed=3)
    assert a._conditions == b._conditions
    first = a._conditions
    a.step("family: deduction")  # rejected: the next attempt gets new conditions
    assert a._conditions != first and len(set(first.seeds)) == len(first.seeds) >= 3
    assert 0 not in first.seeds and 2_718_281 not in first.seeds


# ------------------------------------------------------------------ 3. grounded math


def test_the_stored_math_answer_is_the_programs_not_the_explorers_claim():
    env = circle("math")
    text = (
        math_proposal(
            "What is 7 times 8 plus 3? Give the answer as an integer.",
            "def f():\n    return 7 * 8 + 3",
        )
        + "\nanswer: 58"
    )  # a claim matching a common mistake: ignored
    obs, reward, *_ = env.step(text)
    assert reward == 0.0 and env.candidate.entry.answer == "59"
    _, reward, *_ = env.step("\\boxed{58}")
    assert reward == 0.0
    _, reward, *_ = env.step("\\boxed{59}")
    assert reward == 1.0


@pytest.mark.parametrize(
    ("question", "code", "stage"),
    [
        # two valid answers, the program returning one of them
        ("Solve x^2 - 5x + 6 = 0. Give x as an integer.",
         "def equation():\n    return 'x^2 - 5x + 6 = 0'\ndef f():\n    return {2}", "uniqueness"),
        # two valid answers, honestly returned as a set
        ("Find a number whose square is 49. Give it as an integer.",
         "def f():\n    return {7, -7}", "uniqueness"),
        # "find x" without the word "solve": still an equation question
        (
            "If x^2 = 49 and x is positive, find x. Give it as an integer.",
            "def f():\n    return 7",
            "uniqueness",
        ),
        # an equation question that hides its equation
        ("Solve x^2 - 5x + 6 = 0. Give x as an integer.", "def f():\n    return 2",
         "uniqueness"),
        # an equation exposed that is not the question's
        ("Solve x^2 - 5x + 6 = 0. Give x as an integer.",
         "def equation():\n    return 'x - 2 = 0'\ndef f():\n    return {2}", "uniqueness"),
        # a wrong claim on a well-posed equation
        ("Solve for x: 3x + 7 = 28. Give x as an integer.",
         "def equation():\n    return '3x + 7 = 28'\ndef f():\n    return {8}", "answer"),
        # no stated form
        ("What is the sum of the first 12 positive integers?", "def f():\n    return 78", "form"),
        # a stated form the answer does not have
        ("What is 22 divided by 7? Give the answer as an integer.",
         "from fractions import Fraction\ndef f():\n    return Fraction(22, 7)", "form"),
        # not exact
        ("What is 22 divided by 7, as an exact value?", "def f():\n    return 22 / 7", "answer"),
        # a math program must keep to the subset
        ("What is 7 times 8 plus 5, as an integer?",
         "import os\ndef f():\n    return 61", "subset"),
    ],
)  # fmt: skip
def test_ill_posed_or_ungrounded_math_is_refused(question, code, stage):
    verdict = circle("math").validate(math_proposal(question, code))
    assert isinstance(verdict, Verdict) and not verdict.correct, verdict
    assert verdict.details.get("stage") == stage, verdict.reason


def test_a_well_posed_equation_is_accepted():
    result = circle("math").validate(
        math_proposal(
            "Solve for x: 3x + 5 = 26. Give x as an integer.",
            "def equation():\n    return '3x + 5 = 26'\ndef f():\n    return {7}",
        )
    )
    assert isinstance(result, Candidate) and result.entry.answer == "7"


# ------------------------------------------------------------------ 4. role hygiene


def _solver_observations(env: ScholarsCircle, answers) -> list[str]:
    observations = []
    obs, *_ = env.step(program("deduction", "def f(x):\n    return [v * 3 - 1 for v in x if v % 2]",
                               [1, 2, 3, 4, 5]))  # fmt: skip
    for answer in answers:
        observations.append(obs)
        obs, *_ = env.step(answer)
    return observations


def test_solvers_are_indistinguishable():
    env = circle("deduction", n_solvers=3)
    seen = _solver_observations(env, ["answer: [2, 8, 14]", "answer: [1]", "answer: [2, 8, 14]"])
    assert seen[0] == seen[1] == seen[2]
    assert "solver 1" not in seen[0] and " of 3" not in seen[0].splitlines()[0]


def test_a_shared_policy_cannot_solve_only_as_solver_one():
    """The attack: solve when the header says `solver 1 of n`, fail otherwise, handing the
    explorer the learnability maximum on every problem. Without an index it cannot."""

    def policy(obs: str, correct: str) -> str:
        return correct if "solver 1 of" in obs else "answer: 0"

    env = circle("deduction", n_solvers=3)
    obs, *_ = env.step(program("deduction", "def f(x):\n    return [v * 3 - 1 for v in x if v % 2]",
                               [1, 2, 3, 4, 5]))  # fmt: skip
    for _ in range(3):
        obs, reward, *_ = env.step(policy(obs, "answer: [2, 8, 14]"))
    _, _, terminated, _, info = env.step("correct: no\np: 0")
    assert terminated and info["rewards"]["explorer"] == 0.0  # all fail alike: nothing learnable


def test_every_solver_seat_has_its_own_conversation():
    env = ChatMessages(circle("deduction", n_solvers=3))
    messages, info = env.reset(seed=0)
    assert info["seat"] == "explorer"
    messages, _, _, _, info = env.step(
        program(
            "deduction", "def f(x):\n    return [v * 3 - 1 for v in x if v % 2]", [1, 2, 3, 4, 5]
        )
    )
    seats = []
    for answer in ("distinctive 987654321\nanswer: [1]", "answer: [2, 8, 14]", "answer: [3]"):
        seats.append(info["seat"])
        assert "987654321" not in json.dumps(messages)
        assert [m["role"] for m in messages] == ["user"]  # a fresh conversation per seat
        messages, _, _, _, info = env.step(answer)
    assert len(set(seats)) == 3 and all(s.startswith("solver-") for s in seats)
    assert info["seat"] == "critic"


def test_chat_messages_never_show_a_solver_another_solvers_answer():
    """The generic chat view keys conversations by seat: solver 2 does not see solver 1's reply."""
    env = ChatMessages(circle("deduction", n_solvers=2))
    env.reset(seed=0)
    messages, *_ = env.step(
        program(
            "deduction", "def f(x):\n    return [v * 3 - 1 for v in x if v % 2]", [1, 2, 3, 4, 5]
        )
    )
    messages, *_ = env.step("distinctive 987654321\nanswer: [1]")
    assert "987654321" not in json.dumps(messages)


def test_the_critic_sees_no_solver_index():
    env = circle("deduction", n_solvers=3)
    _solver_observations(env, ["answer: [2, 8, 14]", "answer: [1]", "answer: [2, 8, 14]"])
    obs = env._observation()
    assert "One solver's answer" in obs and "solver 2" not in obs and "of 3" not in obs
