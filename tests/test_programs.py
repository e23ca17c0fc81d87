"""The shared program generator of the code-reasoning games: source, meaning, mutations, answers."""

from __future__ import annotations

import ast
import json
import re

import numpy as np
import pytest

from langgames.core import ParseError
from langgames.envs import _programs as P
from langgames.envs._programs import (
    INT,
    LIST,
    AugAssign,
    BinOp,
    Const,
    Domain,
    EvalError,
    Function,
    Name,
    Return,
    While,
    evaluate,
    extract_code,
    generate,
    mutants,
    outcome,
    parse_call_args,
    parse_literal,
    random_args,
)


def programs(level: int, count: int, seed: int = 0):
    rng = np.random.default_rng([seed, level])
    return [generate(rng, level) for _ in range(count)]


def test_the_host_mirror_agrees_with_the_sandbox_on_programs_and_their_mutants():
    """The gold of PredictOutput and the expected values of InduceFunction and FixBug come from
    `evaluate`; here it is checked against real execution, errors included."""
    from langgames.verifiers.python import default_sandbox, values_equal

    sandbox = default_sandbox()
    rng = np.random.default_rng(11)
    compared = errors = 0
    for level in (1, 2, 3):
        for program in programs(level, 30, seed=5):
            args_list = [random_args(rng, program.params, Domain()) for _ in range(8)]
            funcs = [program.func] + [m.func for m in mutants(program.func)[::7][:3]]
            for func in funcs:
                mirrored = [outcome(func, args) for args in args_list]
                if (False, "step limit") in mirrored:
                    continue  # a loop the mirror cuts short would only time out in the sandbox
                results = sandbox.call(func.source(), "f", args_list)
                for args, (ok, value), result in zip(args_list, mirrored, results, strict=True):
                    where = f"{func.source()}\nf{args!r}: mirror {value!r}, sandbox {result}"
                    if ok:
                        assert result.ok and values_equal(result.value, value, 0), where
                        compared += 1
                    else:
                        assert not result.ok, where
                        errors += 1
    assert compared > 1000 and errors > 10


def test_sources_are_valid_python_and_every_template_is_drawn_at_its_level():
    seen: dict[int, set[str]] = {}
    for level in (1, 2, 3):
        seen[level] = set()
        for program in programs(level, 300):
            ast.parse(program.source(with_docstring=True))
            assert len(program.templates) == level
            seen[level].update(program.templates)
            for name in program.templates:
                assert P.TEMPLATES[name].level <= level
            params = {name for name, _ in program.params}
            assert params <= set(P.names_used(program.func)), program.source()
    assert seen[1] == {n for n, t in P.TEMPLATES.items() if t.level == 1}
    assert seen[3] == set(P.TEMPLATES)


def test_generation_depends_only_on_the_generator_passed_in():
    a = [p.source() for p in programs(3, 20, seed=4)]
    b = [p.source() for p in programs(3, 20, seed=4)]
    c = [p.source() for p in programs(3, 20, seed=5)]
    assert a == b and a != c


def test_precedence_is_kept_by_the_renderer():
    x, y = Name("x", INT), Name("y", INT)
    cases = [
        (BinOp("-", x, BinOp("-", y, Const(1))), "x - (y - 1)", 3 - (4 - 1)),
        (BinOp("*", BinOp("+", x, y), Const(2)), "(x + y) * 2", (3 + 4) * 2),
        (BinOp("%", BinOp("*", x, y), Const(5)), "x * y % 5", 3 * 4 % 5),
        (BinOp("//", x, BinOp("*", y, Const(2))), "x // (y * 2)", 3 // (4 * 2)),
        (BinOp("*", x, Const(-3)), "x * -3", -9),
    ]
    for expr, text, value in cases:
        func = Function("f", (("x", INT), ("y", INT)), (Return(expr),))
        assert expr.render() == text
        assert evaluate(func, (3, 4)) == value


def test_the_evaluator_has_limits_and_never_changes_its_arguments():
    loop = Function("f", (("n", INT),), (While(Const(True), (AugAssign("n", "+", Const(1)),)),))
    with pytest.raises(EvalError, match="step limit"):
        evaluate(loop, (0,))
    grow = Function(
        "f", (("n", INT),), (While(Const(True), (AugAssign("n", "*", Name("n", INT)),)),)
    )
    with pytest.raises(EvalError, match="too large"):
        evaluate(grow, (3,))
    rng = np.random.default_rng(0)
    for program in programs(3, 40):
        args = random_args(rng, program.params, Domain())
        before = json.dumps(args)
        outcome(program.func, args)
        assert json.dumps(args) == before


def test_mutants_change_exactly_one_line_and_cover_every_kind():
    kinds: set[str] = set()
    for program in programs(3, 60):
        original = program.source().splitlines()
        for mutant in mutants(program.func):
            changed = mutant.func.source().splitlines()
            assert len(changed) == len(original)
            assert sum(a != b for a, b in zip(original, changed, strict=True)) == 1
            ast.parse(mutant.func.source())
            kinds.add(mutant.kind)
    assert kinds >= {
        "operator",
        "comparison",
        "constant",
        "initial value",
        "boolean",
        "swapped operands",
        "loop bound",
        "off by one",
        "index",
        "slice bound",
        "variable",
    }


@pytest.mark.parametrize(
    ("text", "value"),
    [("12", 12), ("so it is\n`[1, 2]`", [1, 2]), ("([3], -4)", ([3], -4)), ("True", True)],
)
def test_literal_answers_are_read_from_the_last_line(text, value):
    got = parse_literal(text, what="the value", example="`1`")
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12 or 13",
        "__import__('os').system('true')",
        "[" * 300 + "]" * 300,
        "9**9**9**9",
        "1" * 3000,
        "f(3)",
    ],
)
def test_anything_but_a_literal_is_unparseable(text):
    with pytest.raises(ParseError):
        parse_literal(text, what="the value", example="`1`")


# The two framings of the one literal reader: a whole reply whose last line is the literal
# (the code games: `example` given), and a field of a structured reply (ScholarsCircle). Their
# messages are what a model reads back, so they are pinned here word for word.
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the reply is empty; write the value on the last line"),
        (
            "so\n12 or 13",
            "the last line '12 or 13' is not a Python literal; write the value alone on the last "
            "line, e.g. `1`",
        ),
        (
            "x" * 70,
            f"the last line {'x' * 60 + '...'!r} is not a Python literal; write the value alone "
            "on the last line, e.g. `1`",
        ),
        (
            "1" * 2001,
            "the last line is 2,001 characters long; write the value (at most 2,000 characters) "
            "alone on the last line, e.g. `1`",
        ),
    ],
)
def test_a_reply_literal_says_what_to_write_on_the_last_line(text, message):
    with pytest.raises(ParseError) as err:
        parse_literal(text, what="the value", example="`1`")
    assert err.value.reason == message


@pytest.mark.parametrize(
    ("text", "value"),
    [(" 12 ", 12), ("`[1, 2]`", [1, 2]), ("[1,\n 2]", [1, 2]), ("'\\d'", "\\d")],
)
def test_a_field_literal_is_the_whole_text(text, value):
    got = parse_literal(text, what="`tests:`")
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("text", "limit", "message"),
    [
        (" `` ", 2_000, "`tests:` is empty; write a Python literal such as [1, 2, 3] or 'abc'"),
        ("[1, 2]", 3, "`tests:` is 6 characters long; the limit is 3"),
        (
            "f(3)",
            2_000,
            "`tests:` 'f(3)' is not a Python literal (ValueError); write plain data such as 42, "
            "'abc', [1, 2] or (3, 'x'): no names, calls or operators",
        ),
        (
            "[1,",
            2_000,
            "`tests:` '[1,' is not a Python literal (SyntaxError); write plain data such as 42, "
            "'abc', [1, 2] or (3, 'x'): no names, calls or operators",
        ),
        (
            "y" * 70,
            2_000,
            f"`tests:` {'y' * 57 + '...'!r} is not a Python literal (ValueError); write plain "
            "data such as 42, 'abc', [1, 2] or (3, 'x'): no names, calls or operators",
        ),
    ],
)
def test_a_field_literal_says_what_was_wrong(text, limit, message):
    with pytest.raises(ParseError) as err:
        parse_literal(text, what="`tests:`", limit=limit)
    assert err.value.reason == message


def test_the_games_share_one_literal_reader():
    from langgames.envs import _parsing
    from langgames.envs.scholars_circle import core

    assert parse_literal is core.parse_literal is _parsing.parse_literal


def test_call_answers_are_read_without_running_anything():
    assert parse_call_args("f([1, 2], 3)", "f", 2, "e") == ([1, 2], 3)
    assert parse_call_args("it is\n`f([])`", "f", 1, "e") == ([],)
    assert parse_call_args("([1], 2)", "f", 2, "e") == ([1], 2)
    assert parse_call_args("[4, 5]", "f", 1, "e") == ([4, 5],)
    for bad, reason in [
        ("g([1])", "call f"),
        ("f(xs=[1])", "positional arguments only"),
        ("f(*[1, 2])", "no *unpacking"),
        ("f([1], 2, 3)", "takes 2 arguments"),
        ("f(__import__('os').getcwd())", "not a call of f on Python literals"),
        ("f(" * 500 + ")" * 500, "not a call of f"),
        ("print('hi')", "call f"),
    ]:
        with pytest.raises(ParseError, match=re.escape(reason)):
            parse_call_args(bad, "f", 2, "e")


def test_code_is_taken_from_the_last_fenced_block():
    reply = "first\n```python\ndef f(xs):\n    return 1\n```\nthen\n```python\ndef f(xs):\n"
    reply += "    return 2\n```"
    assert "return 2" in extract_code(reply, "f")
    assert "return 3" in extract_code("def f(xs):\n    return 3", "f")
    for bad in ["no code here", "```python\nprint(1)\n```", "```python\ndef fx(): pass\n```"]:
        with pytest.raises(ParseError):
            extract_code(bad, "f")


def test_the_four_games_are_deterministic_across_processes(run_python):
    code = (
        "import hashlib, json\n"
        "from langgames.envs.predict_output import PredictOutput\n"
        "from langgames.envs.find_input import FindInput\n"
        "from langgames.envs.induce_function import InduceFunction\n"
        "from langgames.envs.fix_bug import FixBug\n"
        "out = []\n"
        "for game in (PredictOutput, FindInput, InduceFunction, FixBug):\n"
        "    env = game()\n"
        "    for level in (1, 2, 3):\n"
        "        for seed in range(4):\n"
        "            obs, _ = env.reset(seed=seed, options={'difficulty': level})\n"
        "            text = obs + env.reference_action()\n"
        "            out.append(hashlib.sha256(text.encode()).hexdigest())\n"
        "print(json.dumps(out))\n"
    )
    runs = []
    for hashseed in ("0", "4242"):
        proc = run_python(code, env={"PYTHONHASHSEED": hashseed})
        assert proc.returncode == 0, proc.stderr
        runs.append(proc.stdout)
    assert runs[0] == runs[1]
    assert len(set(json.loads(runs[0]))) == 48


def test_list_values_are_typed():
    rng = np.random.default_rng(1)
    args = random_args(rng, (("xs", LIST), ("k", INT)), Domain(min_len=2, max_len=2))
    assert type(args[0]) is list and all(type(v) is int for v in args[0])
    assert type(args[1]) is int
