"""The math checker reads answers the way datasets write them (issue 20), with no false positive
and every deadline kept: golds to evaluate, `x = 2` for a bare gold, inequalities against
intervals, numbers in words, text answers, and words after a number."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pytest

from langgames.errors import InvalidArgument
from langgames.verifiers.math import start_workers, verify_antiderivative, verify_math
from langgames.verifiers.verdict import Status

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "math_bench.py"


def _dataset_pairs():
    spec = importlib.util.spec_from_file_location("math_bench_pairs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DATASET_PAIRS


PAIRS = _dataset_pairs()


@pytest.fixture(scope="module", autouse=True)
def warm_workers():
    start_workers(wait=True)


@pytest.mark.parametrize(
    "pair", PAIRS, ids=[f"{p['category']}:{p['gold']}|{p['answer']}" for p in PAIRS]
)
def test_each_dataset_style_pair_is_judged_as_labelled(pair):
    verdict = verify_math(pair["gold"], pair["answer"], timeout=10)
    if pair["expected"] == "correct":
        assert verdict.correct, verdict
    else:
        assert not verdict.correct, verdict
        assert verdict.status.value == pair["expected"], verdict


def test_every_kind_has_right_answers_and_near_misses():
    kinds = {p["category"] for p in PAIRS}
    assert kinds >= {"evaluate", "named equation", "inequality vs interval", "number words",
                     "text", "units"}  # fmt: skip
    for kind in kinds:
        labels = {p["expected"] == "correct" for p in PAIRS if p["category"] == kind}
        assert labels == {True, False}, kind


@pytest.mark.parametrize(
    "answer",
    [
        r"\int_0^1 x^2 \, dx",  # restating the question is not answering it
        r"\sum_{k=1}^{3} k",
        r"\lim_{x \to 0} x",
    ],
)
def test_an_answer_that_restates_a_computation_is_not_its_value(answer):
    verdict = verify_math("1/3", answer)
    assert verdict.status is Status.UNPARSEABLE, verdict


def test_prose_is_still_unparseable_for_a_math_gold():
    for answer in ["I am not sure yet.", "maybe", "the answer is unclear", "\\text{hello}"]:
        verdict = verify_math("2x + 1", answer)
        assert verdict.status is Status.UNPARSEABLE, (answer, verdict)


def test_text_golds_never_accept_math_or_other_words():
    for gold, answer in [
        (r"\text{yes}", "1"),
        (r"\text{yes}", "yes and no"),
        (r"\text{yes}", "y e s"),
        ("undefined", r"\infty"),
        (r"\text{no solution}", r"\{1\}"),
        (r"\text{(B)}", "(B) or (C)"),
        (r"\text{(B)}", "b"),
    ]:
        verdict = verify_math(gold, answer)
        assert not verdict.correct, (gold, answer, verdict)


def test_words_after_a_number_that_change_its_meaning_are_not_units():
    for answer in ["5 is not it", "5 or more", "about 5 apples", "5 plus apples"]:
        assert not verify_math("5", answer).correct, answer


def test_units_that_differ_still_make_answers_differ():
    assert verify_math(r"3 \text{ apples}", r"3 \text{ pears}").status is Status.INCORRECT
    assert verify_math("5 cm", "5 m").status is Status.INCORRECT


def test_named_equations_need_a_free_name():
    assert verify_math("x + 1", "x = x + 1").status is Status.INCORRECT
    assert verify_math("2", "x^2 = 4").status is Status.INCORRECT  # never solved for the player
    assert verify_math("5", "y = 5", variable="x").status is Status.INCORRECT


def test_golds_to_evaluate_keep_the_deadline():
    begin = time.monotonic()
    verdict = verify_math(r"\int_0^1 e^{x^2} \sin(e^{x^3}) \, dx", "1", timeout=1.0)
    assert time.monotonic() - begin < 3.0, verdict
    assert not verdict.correct
    begin = time.monotonic()
    verdict = verify_math(r"\sum_{k=1}^{100000} k^{1/3} \sin(k)", "1", timeout=1.0)
    assert time.monotonic() - begin < 3.0, verdict
    assert not verdict.correct


def test_an_unreadable_gold_is_still_an_invalid_argument():
    with pytest.raises(InvalidArgument):
        verify_math(r"\int x", "1")
    with pytest.raises(InvalidArgument):
        verify_math(r"\gcd(1/2, 3)", "1")


def test_antiderivative_answers_are_never_text():
    assert verify_antiderivative("2x", "yes").status is Status.UNPARSEABLE
