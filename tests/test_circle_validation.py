"""ScholarsCircle's proposal validation: every hostile proposal we could think of is refused, with
the stage and a reason that says what to fix; the starter set passes the same pipeline."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest

from langgames.envs.scholars_circle import ScholarsCircle
from langgames.envs.scholars_circle.core import Proposal, parse_proposal, render_proposal
from langgames.envs.scholars_circle.library import Library
from langgames.envs.scholars_circle.starter import STARTER, starter_entries
from langgames.envs.scholars_circle.validate import LEVELS, Candidate, Validator
from langgames.verifiers.math import parse_math
from langgames.verifiers.verdict import Verdict


def program(family: str, code: str, value=None, examples=None, tests=None) -> str:
    head = f"family: {family}\nprogram:\n```python\n{code.strip()}\n```\n"
    if family == "induction":
        return head + f"examples: {examples!r}\ntests: {tests!r}"
    return head + f"input: {value!r}"


def circle(family: str = "deduction", difficulty: int = 2) -> ScholarsCircle:
    env = ScholarsCircle(families=(family,), difficulty=difficulty)
    env.reset(seed=0)
    return env


def judged(env: ScholarsCircle, text: str) -> Verdict:
    result = env.validate(text)
    assert isinstance(result, Verdict), f"accepted: {text}"
    return result


RUNNING_SUM = next(p for p in STARTER if "total += v" in p.code)

# (name, proposal text, expected status, stage, words in the reason)
HOSTILE = [
    # ---- escaping the sandbox, I/O, forbidden imports, dunder access
    (
        "import_os",
        program("deduction", "import os\ndef f(x):\n    return len(os.listdir('/')) + x", 3),
        "forbidden",
        "subset",
        'import of module "os"',
    ),
    (
        "import_subprocess",
        program("deduction", "import subprocess\ndef f(x):\n    return x + 1", 3),
        "forbidden",
        "subset",
        '"subprocess"',
    ),
    (
        "import_sys",
        program("deduction", "import sys\ndef f(x):\n    return x * 2 + len(sys.argv)", 3),
        "forbidden",
        "subset",
        '"sys"',
    ),
    (
        "dunder_import",
        program("deduction", "def f(x):\n    return __import__('os').getpid() + x", 3),
        "forbidden",
        "subset",
        "__import__",
    ),
    (
        "open_file",
        program("deduction", "def f(x):\n    return open('/etc/passwd').read()[:x]", 3),
        "forbidden",
        "subset",
        '"open"',
    ),
    (
        "dunder_attribute",
        program("deduction", "def f(x):\n    return str(().__class__.__bases__) * x", 3),
        "forbidden",
        "subset",
        "dunder attribute",
    ),
    (
        "getattr",
        program("deduction", "def f(x):\n    return getattr(x, 'real') * 3", 3),
        "forbidden",
        "subset",
        '"getattr"',
    ),
    (
        "format_dunder",
        program("deduction", "def f(x):\n    return '{0.__class__}'.format(x) * 2", 3),
        "forbidden",
        "subset",
        "format field",
    ),
    (
        "eval",
        program("deduction", "def f(x):\n    return eval('x * 7 + 1')", 3),
        "forbidden",
        "subset",
        "Eval calls are not allowed",
    ),
    (
        "print_io",
        program("deduction", "def f(x):\n    print('leak', x)\n    return x * 3 + 1", 3),
        "forbidden",
        "subset",
        '"print"',
    ),
    (
        "input_io",
        program("deduction", "def f(x):\n    return input() * x", 3),
        "forbidden",
        "subset",
        '"input"',
    ),
    # ---- non-determinism
    (
        "import_random",
        program("deduction", "import random\ndef f(x):\n    return x + random.randint(0, 9)", 3),
        "forbidden",
        "subset",
        '"random"',
    ),
    (
        "import_time",
        program("deduction", "import time\ndef f(x):\n    return x + int(time.time()) % 7", 3),
        "forbidden",
        "subset",
        '"time"',
    ),
    (
        "id_builtin",
        program("deduction", "def f(x):\n    return id(x) % 97 + x", 3),
        "forbidden",
        "subset",
        '"id"',
    ),
    (
        "hash_builtin",
        program("deduction", "def f(x):\n    return hash(str(x)) % 97", 3),
        "forbidden",
        "subset",
        '"hash"',
    ),
    (
        "object_with_forged_eq",
        program(
            "deduction",
            "class A:\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return A()",
            3,
        ),
        "incorrect",
        "termination",
        "not plain data",
    ),
    (
        "generator",
        program("deduction", "def f(x):\n    return (v for v in range(x))", 3),
        "incorrect",
        "termination",
        "not plain data",
    ),
    (
        "recursion",
        program("deduction", "def f(x):\n    return f(x) + 1", 3),
        "incorrect",
        "termination",
        "RecursionError",
    ),
    # ---- limits
    (
        "memory_bomb",
        program("deduction", "def f(x):\n    return len([0] * (10 ** 10)) + x", 3),
        "resource_limit",
        "termination",
        "exceeded a limit",
    ),
    (
        "huge_output",
        program("deduction", "def f(x):\n    return 'ab' * 400000 + str(x)", 3),
        "resource_limit",
        "termination",
        "exceeded a limit",
    ),
    (
        "long_output",
        program("deduction", "def f(x):\n    return str(x) * 400", 12),
        "resource_limit",
        "output",
        "the limit is 300",
    ),
    (
        "huge_int",
        program("deduction", "def f(x):\n    return 10 ** 5000 + x", 3),
        "incorrect",
        "output",
        "<an int of",
    ),
    (
        "not_a_literal",
        program("deduction", "def f(x):\n    return (x, float('inf'))", 3),
        "incorrect",
        "output",
        "cannot be written as a Python literal",
    ),
    # ---- trivial
    (
        "constant",
        program("deduction", "def f(x):\n    return 42", 3),
        "incorrect",
        "triviality",
        "same value",
    ),
    (
        "identity",
        program("deduction", "def f(x):\n    return list(x)", [1, 2]),
        "incorrect",
        "triviality",
        "input unchanged",
    ),
    (
        "fails_on_most_probes",
        program("deduction", "def f(x):\n    return x[5] * 2", [1, 2, 3, 4, 5, 6]),
        "incorrect",
        "triviality",
        "fails on",
    ),
    (
        "guessable_sorted",
        program("deduction", "def f(x):\n    return sorted(x)", [3, 1, 2]),
        "incorrect",
        "triviality",
        "the input sorted",
    ),
    (
        "guessable_bool",
        program("deduction", "def f(x):\n    return len(x) > 3", [3, 1, 2]),
        "incorrect",
        "triviality",
        "False",
    ),
    # ---- duplicates
    (
        "exact_duplicate",
        program("deduction", RUNNING_SUM.code, [1, 2, 3]),
        "incorrect",
        "novelty",
        "same program",
    ),
    (
        "renamed_duplicate",
        program(
            "deduction",
            '''
def f(numbers):
    """Prefix sums."""
    result = []
    acc = 0
    for n in numbers:
        acc += n
        result.append(acc)
    return result
''',
            [2, 2, 5],
        ),
        "incorrect",
        "novelty",
        "same program",
    ),
    (
        "behaviour_duplicate",
        program(
            "deduction",
            "import itertools\ndef f(x):\n    return list(itertools.accumulate(x))",
            [4, 1],
        ),
        "incorrect",
        "novelty",
        "behaves exactly like",
    ),
    (
        "near_duplicate",
        program(
            "deduction",
            """
import itertools
def f(x):
    if x == [9]:
        return [0]
    return list(itertools.accumulate(x))
""",
            [4, 1],
        ),
        "incorrect",
        "novelty",
        "23 of the 24",
    ),
    # ---- format
    (
        "syntax_error",
        program("deduction", "def f(x) return x", 3),
        "unparseable",
        "",
        "syntax error",
    ),
    (
        "two_arguments",
        program("deduction", "def f(x, y):\n    return x + y", 3),
        "unparseable",
        "",
        "exactly one positional argument",
    ),
    (
        "no_f",
        program("deduction", "def g(x):\n    return x + 1", 3),
        "unparseable",
        "",
        "define `f`",
    ),
    (
        "dict_input",
        program("deduction", "def f(x):\n    return len(x) * 3", {"a": 1}),
        "unparseable",
        "",
        "not a supported argument",
    ),
    (
        "call_as_input",
        "family: deduction\nprogram:\n```python\ndef f(x):\n    return x * 3\n```\n"
        "input: __import__('os').system('true')",
        "unparseable",
        "",
        "not a Python literal",
    ),
    (
        "wrong_family",
        program(
            "induction", "def f(x):\n    return x * 3 - 1", examples=[1, 2], tests=[3, 4, 5, 6, 7]
        ),
        "incorrect",
        "family",
        "asks for a deduction problem",
    ),
]


@pytest.mark.parametrize(
    ("text", "status", "stage", "words"),
    [h[1:] for h in HOSTILE],
    ids=[h[0] for h in HOSTILE],
)
def test_hostile_proposals_are_refused_with_a_reason(text, status, stage, words):
    env = circle("deduction", difficulty=1)
    verdict = judged(env, text)
    assert verdict.status.value == status, verdict.reason
    assert words in verdict.reason, verdict.reason
    if stage:
        assert verdict.details["stage"] == stage
        assert verdict.details["fix"]  # every rejection says how to fix it


def test_a_hanging_program_is_a_timeout_not_a_hang():
    env = circle("deduction", difficulty=1)
    start = time.perf_counter()
    verdict = judged(env, program("deduction", "def f(x):\n    while True:\n        x += 1", 3))
    assert time.perf_counter() - start < 15
    assert verdict.status.value == "timeout" and verdict.details["stage"] == "termination"
    # hanging only on some probe inputs is still refused
    code = "def f(x):\n    while x != 5:\n        x -= 1\n    return x * 2"
    partial = env.validate(program("deduction", code, 9), timeout=0.5)
    assert isinstance(partial, Verdict) and partial.status.value == "timeout"


def test_a_refusal_names_every_construct_it_refused():
    env = circle("deduction")
    verdict = judged(
        env, program("deduction", "import os, random\ndef f(x):\n    return id(x) + x", 1)
    )
    constructs = {v["message"] for v in verdict.details["violations"]}
    assert any('"os"' in m for m in constructs) and any('"random"' in m for m in constructs)
    assert any('"id"' in m for m in constructs)


def test_abduction_targets_must_be_rare_and_not_reached_by_naive_inputs():
    env = circle("abduction")
    common = judged(env, program("abduction", "def f(x):\n    return len(x) % 2 * 3", [1, 2]))
    assert "probe inputs already give the target" in common.reason
    naive = judged(env, program("abduction", "def f(x):\n    return x * 2 + 1 + x // 1000", 0))
    assert "already gives the target output" in naive.reason
    itself = judged(env, program("abduction", "def f(x):\n    return x * x - 12", 4))
    assert "the output itself" in itself.reason  # f(4) == 4: guessing the target solves it
    good = env.validate(program("abduction", "def f(x):\n    return x * x - 6 * x + 1", 11))
    assert isinstance(good, Candidate)


def test_induction_shape_and_triviality():
    env = circle("induction")
    code = "def f(x):\n    return x % 2 * 5 + x"
    assert (
        "examples"
        in judged(env, program("induction", code, examples=[1], tests=[2, 3, 4, 5, 6])).reason
    )
    assert "tests" in judged(env, program("induction", code, examples=[1, 2], tests=[3])).reason
    repeat = judged(env, program("induction", code, examples=[1, 2], tests=[2, 3, 4, 5, 6]))
    assert "repeat an input" in repeat.reason
    same = judged(
        env,
        program(
            "induction", "def f(x):\n    return x % 2 + 7", examples=[1, 3], tests=[2, 4, 6, 8, 10]
        ),
    )
    assert "every test has the same output" in same.reason
    mixed = judged(env, program("induction", code, examples=[1, 2], tests=[3, "a", 5, 6, 7]))
    assert "not all of one kind" in mixed.reason
    good = env.validate(program("induction", code, examples=[1, 2, 3], tests=[4, 5, 6, 7, 8]))
    assert isinstance(good, Candidate) and good.entry.n_shown == 3


def test_math_proposals():
    env = circle("math")

    def math(question: str, body: str):
        code = "from fractions import Fraction\n\ndef f():\n    " + body
        return env.validate(f"family: math\nquestion: {question}\nprogram:\n```python\n{code}\n```")

    assert isinstance(
        math("What is 7 times 8 plus 3? Give it as an integer.", "return 7*8+3"), Candidate
    )
    assert (
        "number written in the question"
        in math("What is 2 + 3, which is 5? Give it as an integer.", "return 5").reason
    )
    assert "0, 1" in math("How many even primes are there, as an integer?", "return 1").reason
    assert "not an exact answer" in math("What is 7 / 8 as an exact value?", "return 7 / 8").reason
    assert "too short" in math("Seven eights?", "return 56").reason
    unexposed = math("Solve for x: 3x + 7 = 25. Give x as an integer.", "return 6")
    assert unexposed.details["stage"] == "uniqueness"  # must expose its equation
    code = "def equation():\n    return '3x + 7 = 25'\n\ndef f():\n    return {6}"
    same = env.validate(
        "family: math\nquestion: Solve for x: 3x + 7 = 25. Give x as an integer.\n"
        f"program:\n```python\n{code}\n```"
    )
    assert "same question" in same.reason
    # the same template with the same answer (3/4 + 5/6 == 1/4 + 4/3) is the same problem
    template = math(
        "Compute 1/4 + 4/3 and give the result as a reduced fraction.",
        "return Fraction(1, 4) + Fraction(4, 3)",
    )
    assert "same kind of question with the same answer" in template.reason
    assert isinstance(
        math(
            "Compute 1/4 + 4/5 and give the result as a reduced fraction.",
            "return Fraction(1, 4) + Fraction(4, 5)",
        ),
        Candidate,
    )


def test_program_size_bounds_follow_the_difficulty():
    small = "def f(x):\n    return x * 3 + 1"
    big = (
        "def f(x):\n"
        + "".join(f"    x = (x * {i + 2} + {i}) % 1009\n" for i in range(12))
        + "    return x"
    )
    easy, hard = circle("deduction", 1), circle("deduction", 3)
    assert isinstance(easy.validate(program("deduction", small, 5)), Candidate)
    assert judged(easy, program("deduction", big, 5)).details["stage"] == "size"
    assert judged(hard, program("deduction", small, 5)).details["stage"] == "size"
    assert isinstance(hard.validate(program("deduction", big, 5)), Candidate)


def test_the_proposal_format_round_trips_and_tolerates_reasoning_first():
    text = "I will propose a prime-ish counter.\n\n" + program(
        "deduction", "def f(x):\n    return x * 7 % 11", 5
    )
    parsed = parse_proposal(text)
    assert parsed == Proposal("deduction", "def f(x):\n    return x * 7 % 11\n", (5,), 1)
    assert parse_proposal(render_proposal(parsed)) == parsed
    with pytest.raises(Exception, match="no `family:` line"):
        parse_proposal("def f(x): return x")
    with pytest.raises(Exception, match="Did you mean: `deduction`"):
        parse_proposal("family: deducton")


def test_every_starter_problem_passes_the_pipeline_and_matches_its_fingerprints():
    """The starter set is validated by the same pipeline (in the sandbox), each against the
    library without it, and its in-process fingerprints equal the sandbox's."""
    entries = starter_entries()
    assert len(entries) == len(STARTER) >= 48
    assert {e.family for e in entries} == {"deduction", "abduction", "induction", "math"}
    validator = Validator()
    for i, (problem, entry) in enumerate(zip(STARTER, entries, strict=True)):
        others = [e for j, e in enumerate(entries) if j != i]
        library = Library(capacity=1000, starter=others)
        level = next(
            lv for lv in (1, 2, 3) if LEVELS[lv].min_nodes <= entry.n_nodes <= LEVELS[lv].max_nodes
        )
        proposal = Proposal(
            problem.family, problem.code, problem.inputs, problem.n_shown, problem.question
        )
        assert parse_proposal(render_proposal(proposal)) == proposal
        result = validator.validate(
            proposal,
            family=problem.family,
            rules=LEVELS[level],
            level=level,
            library=library,
            recent_window=16,
        )
        assert isinstance(result, Candidate), (i, result.reason)
        got = replace(result.entry, source="starter", struct_sketch=entry.struct_sketch)
        assert got == entry, i
        if problem.family == "math":
            assert str(parse_math(problem.answer)) == problem.canonical
