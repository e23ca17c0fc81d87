"""MathQA: questions from a user's dataset (or the shipped sample), judged by the math verifier."""

from __future__ import annotations

import csv
import json

import gymnasium as gym
import pytest

import langgames  # noqa: F401  (registers the games)
from langgames._dataset_audit import dataset_flags, dataset_report
from langgames.core import EVAL_SEEDS
from langgames.envs._datasets import DatasetError, extract_gold, last_boxed
from langgames.envs.math_qa import MathQA
from langgames.testing import check_game

EVAL = EVAL_SEEDS.start

ROWS = [
    {"question": "Ann has 3 apples and buys 4 more. How many apples?",
     "answer": "She has 3 + 4 = 7.\n#### 7"},
    {"question": "What is $\\frac{1}{2} + \\frac{1}{3}$?",
     "answer": "Common denominator: $\\frac{3}{6} + \\frac{2}{6} = \\boxed{\\frac{5}{6}}$."},
    {"question": "Solve $2x = 10$.", "answer": "5"},
    {"question": "Compute $12 \\cdot 12$.", "answer": 144},
    {"question": "What is half of 0.5?", "answer": 0.25},
    {"question": "How many sides has a hexagon?", "answer": "6"},
    {"question": "Expand $(x+1)^2$.", "answer": "x^2 + 2x + 1"},
    {"question": "What is $\\sqrt{49}$?", "answer": "#### 7"},
    {"question": "A shop sells 1,200 pens a day. How many in 2 days?", "answer": "#### 2,400"},
    {"question": "What is 9 - 11?", "answer": "-2"},
]  # fmt: skip


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


@pytest.fixture
def user_file(tmp_path):
    return write_jsonl(tmp_path / "problems.jsonl", ROWS)


def reference_reward(env, seed):
    env.reset(seed=seed)
    return play(env, seed, env.reference_action())[0]


def play(env, seed, reply):
    env.reset(seed=seed)
    _, reward, terminated, _, info = env.step(reply)
    return reward, info["verdict"]["status"], terminated


# ------------------------------------------------------------------------------- out of the box
def test_the_sample_works_out_of_the_box():
    env = gym.make("langgames/MathQA-v0")
    obs, info = env.reset(seed=EVAL + 5)
    assert info["row"] == {"split": "test", "index": info["row"]["index"], "pool": "eval"}
    assert env.reset(seed=3)[1]["row"]["pool"] == "train"
    assert "\\boxed" in obs and "Problem:" in obs
    game = env.unwrapped
    _, reward, terminated, _, info = env.step(game.reference_action())
    assert (reward, terminated, info["verdict"]["status"]) == (1.0, True, "correct")
    assert dataset_flags(game) == []


def test_a_user_file_passes_the_conformance_kit(user_file):
    env = gym.make("langgames/MathQA-v0", data_files=user_file, question_key="question",
                   answer_key="answer")  # fmt: skip
    report = check_game(env, seeds=3, cross_process=True)
    assert report.passed, str(report)


# ------------------------------------------------------------------------------- golds
@pytest.mark.parametrize(
    ("field", "gold_format", "gold"),
    [
        ("Twice 3 is 6.\n#### 6", "auto", "6"),
        (
            "so $\\boxed{\\frac{1}{2}}$ and not \\boxed{3}? No: \\boxed{\\frac{1}{2}}",
            "auto",
            "\\frac{1}{2}",
        ),
        ("#### 1,234,567", "####", "1234567"),
        ("42", "auto", "42"),
        (42, "auto", "42"),
        (0.125, "auto", "0.125"),
        ("$x^2$", "raw", "x^2"),
        ("no box here", "boxed", None),
        ("no hashes", "####", None),
        (None, "auto", None),
        (True, "auto", None),
        ("the answer: 9", lambda s: s.split(":")[1], "9"),
    ],
)
def test_the_gold_is_read_from_bare_answers_and_worked_solutions(field, gold_format, gold):
    assert extract_gold(field, gold_format) == gold


def test_last_boxed_handles_nesting_and_fbox():
    assert last_boxed("\\boxed{\\frac{a}{\\sqrt{b}}} then \\fbox{7}") == "7"
    assert last_boxed("\\boxed{\\{1, 2\\}}") == "\\{1, 2\\}"
    assert last_boxed("\\boxed{unclosed") is None


def test_every_style_of_gold_earns_the_reference_the_maximum(user_file):
    env = MathQA(data_files=user_file)
    assert len(env.source.train) + len(env.source.eval) == len(ROWS)
    assert all(r["problem"] is None for r in env.dataset_rows())
    for seed in [*range(8), *range(EVAL, EVAL + 2)]:
        assert reference_reward(env, seed) == 1.0
    gsm = MathQA(dataset=[ROWS[8], ROWS[0]], eval_fraction=0.5)
    golds = {r["gold"] for r in gsm.dataset_rows()}
    assert golds == {"2400", "7"}


def test_csv_is_read_without_extras(tmp_path):
    path = tmp_path / "qa.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=["problem", "solution"])
        writer.writeheader()
        for r in ROWS:
            writer.writerow({"problem": r["question"], "solution": r["answer"]})
    env = MathQA(data_files=str(path), question_key="problem", answer_key="solution")
    assert len(env.source.train) + len(env.source.eval) == len(ROWS)
    assert reference_reward(env, 3) == 1.0


# ------------------------------------------------------------------------------- seeds and splits
def test_eval_seeds_play_every_held_out_row_once_and_never_a_training_row(user_file):
    env = MathQA(data_files=user_file, eval_fraction=0.3)
    n_eval, n_train = len(env.source.eval), len(env.source.train)
    assert (n_eval, n_train) == (3, 7)
    eval_rows = [env.reset(seed=EVAL + i)[1]["row"]["index"] for i in range(n_eval)]
    train_rows = {env.reset(seed=i)[1]["row"]["index"] for i in range(50)}
    assert len(set(eval_rows)) == n_eval
    assert not set(eval_rows) & train_rows and len(train_rows) == n_train
    # the same seed is the same row in a fresh env, and seeds wrap around the pool
    fresh = MathQA(data_files=user_file, eval_fraction=0.3)
    assert fresh.reset(seed=EVAL + 1)[1]["row"] == env.reset(seed=EVAL + 1)[1]["row"]
    assert env.reset(seed=EVAL + 1 + n_eval)[1]["row"] == env.reset(seed=EVAL + 1)[1]["row"]
    # a different shuffle_seed is a different (fixed) permutation
    other = MathQA(data_files=user_file, eval_fraction=0.3, shuffle_seed=7)
    assert [other.reset(seed=s)[1]["row"] for s in range(7)] != [
        env.reset(seed=s)[1]["row"] for s in range(7)
    ]


def test_the_datasets_own_splits_are_used(tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", ROWS[:6])
    test = write_jsonl(tmp_path / "test.jsonl", ROWS[6:])
    env = MathQA(data_files={"train": train, "test": test})
    assert {env.reset(seed=EVAL + i)[1]["row"]["split"] for i in range(4)} == {"test"}
    assert {env.reset(seed=i)[1]["row"]["split"] for i in range(6)} == {"train"}
    column = [dict(r, split="train" if i < 6 else "validation") for i, r in enumerate(ROWS)]
    env = MathQA(dataset=column)
    assert env.reset(seed=EVAL)[1]["row"]["split"] == "validation"
    with pytest.raises(DatasetError, match="Did you mean: `validation`"):
        MathQA(dataset=column, eval_split="validaton")
    with pytest.raises(DatasetError, match="different rows"):
        MathQA(dataset=column, train_split="train", eval_split="train")


def test_dataset_objects_parquet_and_dataframes(tmp_path):
    datasets = pytest.importorskip("datasets")
    text_rows = [{k: str(v) for k, v in r.items()} for r in ROWS]  # one type per column
    ds = datasets.Dataset.from_list(text_rows)
    env = MathQA(dataset=ds)
    assert reference_reward(env, 1) == 1.0
    split = datasets.DatasetDict({"train": ds.select(range(5)), "test": ds.select(range(5, 10))})
    env = MathQA(dataset=split)
    assert env.reset(seed=EVAL)[1]["row"]["split"] == "test"
    path = tmp_path / "qa.parquet"
    ds.to_parquet(str(path))
    env = MathQA(data_files=str(path))
    assert len(env.dataset_rows()) == len(ROWS)
    assert all(r["problem"] is None for r in env.dataset_rows())
    pandas = pytest.importorskip("pandas")
    env = MathQA(dataset=pandas.DataFrame(text_rows))
    assert len(env.dataset_rows()) == len(ROWS)


def test_a_name_not_in_the_cache_is_never_downloaded(tmp_path, monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HOME", str(tmp_path))
    with pytest.raises(DatasetError, match="never downloads"):
        MathQA(dataset="langgames-test/surely-not-cached")


# ------------------------------------------------------------------------------- levels, prompts
def test_a_level_column_becomes_the_difficulty_levels():
    rows = [dict(r, level=f"Level {1 + i % 3}") for i, r in enumerate(ROWS)]
    env = MathQA(dataset=rows, eval_fraction=0.5, shuffle_seed=1)
    assert env.game_info.difficulty_levels == (0, 1, 2, 3) and env.difficulty == 0
    for level in (1, 2, 3):
        env.reset(seed=0, options={"difficulty": level})
        assert env.source.level(env._row) == level
    report = check_game(env, seeds=2, cross_process=False, raise_on_failure=False)
    assert report.passed, str(report)
    assert MathQA(dataset=[dict(r, level="hard" if i % 2 else "easy") for i, r in
                           enumerate(ROWS)]).game_info.difficulty_levels == (0, 1, 2)  # fmt: skip


def test_few_shot_examples_come_from_training_rows_only(user_file):
    env = MathQA(data_files=user_file, few_shot=2, eval_fraction=0.3)
    obs, _ = env.reset(seed=EVAL)
    assert obs.count("Example problem:") == 2
    eval_questions = {env.question_of(r) for r in env.source.eval}
    shown = [line.split(": ", 1)[1] for line in obs.splitlines()
             if line.startswith("Example problem:")]  # fmt: skip
    assert not set(shown) & eval_questions
    custom = MathQA(data_files=user_file, prompt_template="Q: {question}\nA:",
                    few_shot=[{"question": "1+1?", "answer": "2"}])  # fmt: skip
    obs, _ = custom.reset(seed=0)
    assert obs.startswith("Q: ") and "1+1?" not in obs  # no {examples}: none shown
    with pytest.raises(DatasetError, match=r"\{question\}"):
        MathQA(data_files=user_file, prompt_template="no placeholder")


# ------------------------------------------------------------------------------- bad data
def test_unreadable_golds_never_crash_reset_and_are_reported():
    rows = [
        {"question": "Good one: 2 + 2?", "answer": "4"},
        {"question": "Bad gold", "answer": "\\frac{"},
        {"question": "No gold", "answer": None},
        {"question": "", "answer": "3"},
        {"question": "Another: 3 + 3?", "answer": "#### 6"},
    ]
    env = MathQA(dataset=rows, eval_fraction=0.4)
    for seed in [*range(10), *range(EVAL, EVAL + 4)]:
        env.reset(seed=seed)
        assert env._question in ("Good one: 2 + 2?", "Another: 3 + 3?")
    report = dataset_report(env)
    assert report["playable_rows"] == 2 and len(report["unplayable"]) == 3
    assert any("3 of 5 rows cannot be played" in f for f in report["flags"])
    with pytest.raises(DatasetError, match="none of the"):
        MathQA(dataset=rows[1:4], eval_fraction=0.4).reset(seed=0)


def test_dataset_flags_duplicates_and_a_dominant_answer():
    rows = [{"question": f"Q{i}: what is {i} * 0?", "answer": "0"} for i in range(8)]
    rows += [{"question": "Q0:  WHAT is 0 * 0?", "answer": "0"}, {"question": "odd", "answer": "1"}]
    flags = dataset_flags(MathQA(dataset=rows))
    assert any("1 duplicate rows" in f for f in flags)
    assert any("dominant answer '0'" in f and "90%" in f for f in flags)


def test_errors_teach():
    with pytest.raises(DatasetError, match=r"no 'question' field.*Did you mean: `questions`"):
        MathQA(dataset=[{"questions": "1+1", "answer": "2"}] * 2)
    with pytest.raises(DatasetError, match="does not exist"):
        MathQA(data_files="/nonexistent/problems.jsonl")
    with pytest.raises(DatasetError, match="gold_format"):
        MathQA(gold_format="gsm8k")
    with pytest.raises(DatasetError, match="one row cannot be split"):
        MathQA(dataset=[ROWS[0]])


# ------------------------------------------------------------------------------- exploits
def test_exploit_probes_earn_nothing():
    env = MathQA()
    seed = EVAL + 7
    env.reset(seed=seed)
    gold = env._gold
    assert play(env, seed, "")[:2] == (-0.1, "unparseable")
    assert play(env, seed, "\\boxed{}")[:2] == (-0.1, "unparseable")
    everything = ", ".join(str(i) for i in range(-20, 300))
    assert play(env, seed, f"\\boxed{{{everything}}}")[:2] == (0.0, "incorrect")
    everything = ", ".join(str(i) for i in range(-50, 1000))  # too long to read: the minimum
    assert play(env, seed, f"\\boxed{{{everything}}}")[:2] == (-0.1, "unparseable")
    hedge = " or ".join(f"\\boxed{{{i}}}" for i in range(-5, 900))  # the last box counts
    assert play(env, seed, hedge)[0] == (1.0 if gold == "899" else 0.0)
    assert play(env, seed, f"<think>\\boxed{{{gold}}}</think> so \\boxed{{{gold}+1}}")[0] == 0.0
    assert play(env, seed, f"\\boxed{{x}} where x = {gold}")[0] <= 0.0
    assert play(env, seed, f"Answer: \\boxed{{{gold}}}\r\n")[:2] == (1.0, "correct")
    assert play(env, seed, f"<think>hmm</think>\\boxed{{{gold}}}")[:2] == (1.0, "correct")


def test_dataset_style_golds_are_played_or_reported_never_misjudged():
    golds = ["\\gcd(12, 18)", "\\boxed{\\binom{5}{2}}", "\\int_0^1 x^2\\,dx", "\\text{yes}", "(C)",
             "twenty-one", "5 \\text{ cm}", "x = 2", "[2, \\infty)", "\\frac{"]  # fmt: skip
    rows = [{"question": f"Question {i}?", "answer": g} for i, g in enumerate(golds)]
    env = MathQA(dataset=rows, eval_fraction=0.3)
    playable = [r for r in env.dataset_rows() if r["problem"] is None]
    assert len(playable) >= 6  # what the checker cannot read yet is reported, not guessed
    for seed in [*range(12), *range(EVAL, EVAL + 3)]:
        env.reset(seed=seed)
        reference = env.reference_action()
        assert play(env, seed, reference)[:2] == (1.0, "correct"), reference
        assert play(env, seed, "\\boxed{123456789}")[0] <= 0.0


def test_the_audit_measures_a_user_file(tmp_path):
    from langgames.audit import audit_game

    rows = [{"question": f"What is {a} times 7?", "answer": f"#### {7 * a}"} for a in range(30)]
    path = write_jsonl(tmp_path / "times.jsonl", rows)
    card = audit_game("langgames/MathQA-v0", kwargs={"data_files": path, "eval_fraction": 0.5},
                      episodes=15)  # fmt: skip
    assert card["flagged"] is False, card["flags"]
    assert card["coverage"]["levels"]["1"]["unique_instance_rate"] == 1.0
    assert card["reliability"]["determinism"]["ok"] is True
    assert dataset_report(MathQA(data_files=path))["flags"] == []
