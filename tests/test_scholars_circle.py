"""ScholarsCircle-v0: every stage, family and role's reward; retries, rounds, opponents, the kit."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from langgames.core import ParseError
from langgames.envs.scholars_circle import (
    CalibratedCritic,
    ConstantCritic,
    NoisySolver,
    OracleCritic,
    OracleSolver,
    ReferenceExplorer,
    ScholarsCircle,
)
from langgames.envs.scholars_circle.env import _parse_critique
from langgames.errors import InvalidArgument
from langgames.policies import Scripted, reference
from langgames.testing import play_episode

GAME_ID = "langgames/ScholarsCircle-v0"
ENTRY_POINT = "langgames.envs.scholars_circle.env:ScholarsCircle"

PROPOSALS = {
    "deduction": "family: deduction\nprogram:\n```python\ndef f(x):\n"
    "    return [v * 3 - 1 for v in x if v % 2]\n```\ninput: [1, 2, 3, 4, 5]",
    "abduction": "family: abduction\nprogram:\n```python\ndef f(x):\n"
    "    return x * x - 6 * x + 1\n```\ninput: 11",
    "induction": "family: induction\nprogram:\n```python\ndef f(x):\n"
    "    return x % 2 * 5 + x\n```\nexamples: [1, 2, 3]\ntests: [4, 5, 6, 7, 8]",
    "math": "family: math\nquestion: What is 7 times 8 plus 3? Give the answer as an integer.\n"
    "program:\n```python\ndef f():\n    return 7 * 8 + 3\n```",
}
RIGHT = {
    "deduction": "Odd ones, times 3, minus 1.\nanswer: [2, 8, 14]",
    "abduction": "x = -5 also works: 25 + 30 + 1.\ninput: -5",  # not the explorer's own input
    "induction": "```python\ndef f(x):\n    return x + 5 if x % 2 else x\n```",
    "math": "7 * 8 = 56, plus 3 is \\boxed{59}",
}
WRONG = {
    "deduction": "answer: (2, 8, 14)",  # a tuple is not a list
    "abduction": "input: 10",
    "induction": "```python\ndef f(x):\n    return {1: 6, 2: 2, 3: 8}.get(x, x)\n```",  # a lookup
    "math": "answer: 58",
}


def circle(family: str, **kwargs) -> ScholarsCircle:
    kwargs.setdefault("similarity_weight", 0.0)
    env = ScholarsCircle(families=(family,), **kwargs)
    env.reset(seed=0)
    return env


@pytest.fixture
def registered(monkeypatch):
    """The game under its id, as the lead's registration line will make it (undone after)."""
    from gymnasium.envs.registration import EnvSpec
    from gymnasium.envs.registration import registry as gym_registry

    from langgames import registry

    if GAME_ID not in registry._TABLE:
        monkeypatch.setitem(registry._TABLE, GAME_ID, (ENTRY_POINT, {}))
        monkeypatch.setitem(gym_registry, GAME_ID, EnvSpec(id=GAME_ID, entry_point=ENTRY_POINT))
    return GAME_ID


# ---------------------------------------------------------------------------------- the kit


def test_the_package_keeps_every_public_name_and_the_old_entry_point():
    """ScholarsCircle became a package: its names, the old ``module:Class`` string (saved in
    specs and configs) and pickles of its objects keep working."""
    import pickle

    import langgames.envs.scholars_circle as package
    from langgames.envs.scholars_circle.starter import starter_entries
    from langgames.registry import _TABLE, load_class

    assert sorted(package.__all__) == sorted(
        [
            "FAMILIES",
            "CalibratedCritic",
            "Candidate",
            "ConstantCritic",
            "Entry",
            "Library",
            "LibraryCorrupt",
            "LibraryStats",
            "NoisySolver",
            "OracleCritic",
            "OracleSolver",
            "Proposal",
            "ReferenceExplorer",
            "ScholarsCircle",
            "parse_proposal",
            "render_proposal",
            "wrong_answer",
        ]
    )
    assert all(hasattr(package, name) for name in package.__all__)
    assert load_class("langgames.envs.scholars_circle:ScholarsCircle") is ScholarsCircle
    assert load_class(_TABLE[GAME_ID][0]) is ScholarsCircle
    entry = starter_entries()[0]
    back = pickle.loads(pickle.dumps(entry))  # noqa: S301  (our own bytes)
    assert back == entry and (back.struct_sketch == entry.struct_sketch).all()
    proposal = package.parse_proposal(PROPOSALS["deduction"])
    assert pickle.loads(pickle.dumps(proposal)) == proposal  # noqa: S301


_CHILD = """
import hashlib, json, sys
from langgames.envs.scholars_circle import ScholarsCircle
from langgames.policies import RandomText, reference
from langgames.testing import play_episode
out = []
for seed in json.loads(sys.argv[1]):
    out.append(play_episode(ScholarsCircle(), reference, seed).digest())
    out.append(play_episode(ScholarsCircle(), RandomText(seed), seed).digest())
env = ScholarsCircle(render_mode="ansi")
for seed in json.loads(sys.argv[1]):
    play_episode(env, reference, seed)
out.append(hashlib.sha256(env.render().encode()).hexdigest())
print(json.dumps(out))
"""


def _digests(seeds: list[int]) -> list[str]:
    from langgames.policies import RandomText

    out = []
    for seed in seeds:
        out.append(play_episode(ScholarsCircle(), reference, seed).digest())
        out.append(play_episode(ScholarsCircle(), RandomText(seed), seed).digest())
    env = ScholarsCircle(render_mode="ansi")
    for seed in seeds:
        play_episode(env, reference, seed)
    out.append(hashlib.sha256((env.render() or "").encode()).hexdigest())
    return out


def test_episodes_are_identical_across_processes_with_different_hash_seeds():
    """What ``check_game(id)`` checks across processes, through instances until it is
    registered: fresh envs, reference and random episodes, and a transcript."""
    seeds = [0, 1, 2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(seeds)],
            env={**os.environ, "PYTHONHASHSEED": hashseed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for hashseed in ("0", "4242")
    ]
    local = _digests(seeds)
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err[-2000:]
        assert json.loads(out.strip().splitlines()[-1]) == local


def test_golden_transcripts_work_and_are_stable(registered):
    from langgames.testing import golden_transcript

    first = golden_transcript(registered)
    assert first == golden_transcript(registered)
    assert "policy=unreadable-then-reference" in first
    assert "rejected" in first and "How to fix it" in first  # the unreadable reply's feedback
    assert "duration" not in first and "cpu" not in first


def test_default_construction_is_fast_and_writes_no_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ScholarsCircle()  # the first build pays for the shared text space tables
    start = time.perf_counter()
    env = ScholarsCircle()
    assert time.perf_counter() - start < 0.5
    assert env.library.path is None and list(tmp_path.iterdir()) == []
    env.reset(seed=0)
    assert list(tmp_path.iterdir()) == []


def test_declared_metadata():
    info = ScholarsCircle.game_info
    assert info.roles == ("explorer", "solver", "critic")
    assert info.verifiers == ("python", "math") and info.stateful
    assert info.reference_roles == ("solver", "critic")
    env = ScholarsCircle(n_solvers=4, rounds=3, max_retries=1)
    assert env.max_return("solver") == 12 and env.max_return("critic") == 3
    assert env.max_return("explorer") == pytest.approx(3 * 0.75)
    assert env.max_turns == 3 * (1 + 1 + 4 + 1)
    assert ScholarsCircle().max_turns == info.max_turns == 7
    sections = ["Description", "Roles", "Observation", "Action", "Reward", "Episode end"]
    for section in [*sections, "Arguments", "Version History"]:
        assert f"## {section}" in (ScholarsCircle.__doc__ or "")
    assert "P(correct)" in (ScholarsCircle.__doc__ or "")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"families": ("deducton",)}, "Did you mean: `deduction`"),
        ({"families": "math"}, "wrap a single family in a tuple"),
        ({"families": ()}, "at least one"),
        ({"n_solvers": 0}, "n_solvers must be an int from 1"),
        ({"rounds": 0}, "rounds must be"),
        ({"library_size": 20}, "larger than the 50 starter problems"),
        ({"similarity_weight": -1}, "similarity_weight"),
        ({"archive_path": 3}, "archive_path must be a file path"),
        ({"n_solver": 3}, "Did you mean: `n_solvers`"),
    ],
)
def test_arguments_are_checked_with_messages_that_teach(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        ScholarsCircle(**kwargs)


# ---------------------------------------------------------------------------------- stages


@pytest.mark.parametrize("family", ["deduction", "abduction", "induction", "math"])
def test_a_round_of_each_family(family):
    env = circle(family)
    size = len(env.library)
    obs, reward, terminated, _, info = env.step(PROPOSALS[family])
    assert info["verdict"]["status"] == "accepted" and reward == 0.0 and not terminated
    assert info["role"] == "solver" and info["rewards"] == {"explorer": 0.0}
    assert obs.startswith("[ScholarsCircle | role: solver | round 1 of 1]\n")
    statuses = []
    for answer in (RIGHT[family], WRONG[family], "I am not sure."):
        obs, reward, terminated, _, info = env.step(answer)
        statuses.append((info["verdict"]["status"], reward))
    assert statuses[:2] == [("correct", 1.0), ("incorrect", 0.0)]
    assert statuses[2] == ("unparseable", -0.1)
    assert info["role"] == "critic" and obs.startswith("[ScholarsCircle | role: critic")
    truth = env.oracle_truth()
    assert "One solver's answer:" in obs and "solver 1" not in obs
    _, reward, terminated, _, info = env.step("correct: yes\np: 0.7")
    y = 1.0 if truth else 0.0
    assert terminated and reward == pytest.approx(1 - (0.7 - y) ** 2)
    assert info["rewards"]["critic"] == reward
    assert info["rewards"]["explorer"] == pytest.approx(1 - 1 / 3)  # 1 of 3 solved it
    assert len(env.library) == size + 1
    added = env.library.recent(1)[0]
    assert added.family == family and added.solve_rate == pytest.approx(1 / 3)


def test_hidden_parts_never_reach_the_solvers():
    env = circle("deduction")
    obs, *_ = env.step(PROPOSALS["deduction"])
    assert "[2, 8, 14]" not in obs and "f([1, 2, 3, 4, 5])" in obs
    env = circle("abduction")
    obs, *_ = env.step(PROPOSALS["abduction"])
    assert "f(x) == 56" in obs and "11" not in obs.split("```")[-1]
    env = circle("induction")
    obs, *_ = env.step(PROPOSALS["induction"])
    assert "f(1) == 6" in obs and "f(4)" not in obs and "x % 2 * 5" not in obs


def test_solvers_do_not_see_each_others_answers():
    env = circle("deduction")
    env.step(PROPOSALS["deduction"])
    obs, *_ = env.step("my distinctive guess\nanswer: [123456789]")
    assert "123456789" not in obs and "distinctive" not in obs
    assert obs.splitlines()[0] == "[ScholarsCircle | role: solver | round 1 of 1]"


def test_answers_may_be_dressed_in_markdown():
    env = circle("deduction")
    env.step(PROPOSALS["deduction"])
    for text in ("**Answer:** [2, 8, 14]", "Final answer = `[2, 8, 14]`", "[2, 8, 14]"):
        _, reward, _, _, info = env.step(text)
        assert info["verdict"]["status"] == "correct", (text, info["verdict"])


@pytest.mark.parametrize("family", ["abduction", "induction", "math"])
def test_the_proposal_itself_is_not_an_answer(family):
    """One constant text (the proposal) must not earn as both explorer and solvers: it holds the
    hidden input, program or answer."""
    env = circle(family)
    env.step(PROPOSALS[family])
    _, reward, _, _, info = env.step(PROPOSALS[family])
    assert info["verdict"]["status"] == "unparseable" and reward == -0.1
    assert "is a proposal" in info["verdict"]["reason"]


def test_deduction_answers_are_literals_never_code():
    env = circle("deduction")
    env.step(PROPOSALS["deduction"])
    for text in ("answer: __import__('os').system('true')", "answer: [2, 8, 14] + []",
                 "answer: " + "[" * 5000 + "]" * 5000):  # fmt: skip
        _, reward, _, _, info = env.step(text)
        assert info["verdict"]["status"] == "unparseable" and reward == -0.1


def test_abduction_checks_the_kind_and_runs_the_program():
    env = circle("abduction")
    env.step(PROPOSALS["abduction"])
    _, reward, _, _, info = env.step("input: '11'")
    assert info["verdict"]["status"] == "incorrect" and "an int" in info["verdict"]["reason"]
    _, reward, _, _, info = env.step("input: 11")
    assert info["verdict"]["status"] == "correct"


def test_induction_programs_run_in_the_sandbox_under_the_subset():
    env = circle("induction", n_solvers=3)
    env.step(PROPOSALS["induction"])
    _, reward, _, _, info = env.step("```python\nimport os\ndef f(x):\n    return x\n```")
    assert info["verdict"]["status"] == "forbidden" and reward == -0.1
    _, reward, _, _, info = env.step("```python\ndef f(x):\n    while True:\n        pass\n```")
    assert info["verdict"]["status"] == "timeout" and reward == -0.1
    _, reward, _, _, info = env.step("```python\ndef f(x) return x\n```")
    assert info["verdict"]["status"] == "unparseable" and "syntax" in info["verdict"]["reason"]
    env = circle("induction", n_solvers=1)
    env.step(PROPOSALS["induction"])
    debug = RIGHT["induction"].replace("    return", "    print('debug', x)\n    return")
    _, reward, _, _, info = env.step(debug)  # a solver may print (it is ignored)
    assert info["verdict"]["status"] == "correct" and reward == 1.0


def test_math_answers_are_checked_with_sympy():
    env = circle("math")
    env.step(PROPOSALS["math"])
    _, reward, _, _, info = env.step("The answer is 118/2.")
    assert info["verdict"]["status"] == "correct" and reward == 1.0
    _, reward, _, _, info = env.step("\\boxed{9**9**9**9}")
    assert reward == -0.1 and info["verdict"]["status"] == "resource_limit"


# ---------------------------------------------------------------------------------- explorer


def test_invalid_proposals_cost_and_explain_then_the_round_ends():
    env = circle("deduction")
    obs, reward, terminated, _, info = env.step("Here is my idea: a sorting puzzle.")
    assert reward == -0.1 and not terminated and info["role"] == "explorer"
    lines = obs.splitlines()
    assert lines[0] == "[ScholarsCircle | role: explorer | round 1 of 1 | attempt 2 of 3]"
    assert lines[1].startswith("Your task: propose ONE new deduction problem")
    assert lines[2].startswith("Your proposal (attempt 1 of 3) was rejected, reward -0.1")
    assert "How to fix it:" in obs and "family: deduction" in obs
    constant = PROPOSALS["deduction"].replace("[v * 3 - 1 for v in x if v % 2]", "7")
    obs, reward, _, _, info = env.step(constant)
    assert reward == -0.1 and "same value" in obs and "make the output depend" in obs
    obs, reward, terminated, _, info = env.step(PROPOSALS["math"])
    assert terminated and reward == -0.1 and info["verdict"]["details"]["stage"] == "family"
    assert "all 3 proposals were rejected" in obs
    assert len(env.library) == 50


def test_a_failed_round_moves_on_to_the_next_round():
    env = circle("deduction", rounds=2, max_retries=0)
    obs, reward, terminated, _, info = env.step("nothing")
    assert not terminated and info["role"] == "explorer" and reward == -0.1
    assert obs.startswith("[ScholarsCircle | role: explorer | round 2 of 2 | attempt 1 of 1]")
    assert "Round 1 ended without a problem" in obs


def test_duplicates_and_trivial_proposals_earn_nothing():
    env = circle("deduction")
    starter = next(e for e in env.library if e.family == "deduction")
    copy = f"family: deduction\nprogram:\n```python\n{starter.code}```\ninput: [5, 6]"
    _, reward, _, _, info = env.step(copy)
    assert reward == -0.1 and info["verdict"]["details"]["stage"] == "novelty"
    identity = PROPOSALS["deduction"].replace("[v * 3 - 1 for v in x if v % 2]", "x[:]")
    _, reward, _, _, info = env.step(identity)
    assert reward == -0.1 and info["verdict"]["details"]["stage"] == "triviality"


def test_learnability_is_one_minus_the_solve_rate_strictly_inside():
    for solved, expected in ((0, 0.0), (1, 0.75), (2, 0.5), (3, 0.25), (4, 0.0)):
        env = circle("deduction", n_solvers=4)
        env.step(PROPOSALS["deduction"])
        for i in range(4):
            env.step(RIGHT["deduction"] if i < solved else WRONG["deduction"])
        _, _, terminated, _, info = env.step("P(correct) = 0.5")
        assert terminated and info["rewards"]["explorer"] == pytest.approx(expected)


def _mean_returns(family: str, policies: dict, episodes: int, **kwargs) -> dict[str, float]:
    env = ScholarsCircle(families=(family,), **kwargs)
    totals = {r: 0.0 for r in env.game_info.roles}
    truths = []
    for seed in range(episodes):
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            if info["role"] == "critic":
                truths.append(env.oracle_truth())
            obs, _, terminated, truncated, info = env.step(policies[info["role"]](obs, info, env))
            for role, value in info["rewards"].items():
                totals[role] += value
            done = terminated or truncated
    means = {r: v / episodes for r, v in totals.items()}
    means["base_rate"] = float(np.mean(truths))
    return means


def test_learnability_peaks_for_problems_of_intermediate_difficulty():
    explorer = ReferenceExplorer(0)
    means = {}
    for q in (0.0, 0.5, 1.0):
        policies = {
            "explorer": explorer,
            "solver": NoisySolver(q, seed=1),
            "critic": OracleCritic(),
        }
        means[q] = _mean_returns("math", policies, 24, similarity_weight=0.0)["explorer"]
    assert means[0.0] == 0.0 and means[1.0] == 0.0
    assert means[0.5] > 0.2  # E = 3/8 * 2/3 + 3/8 * 1/3 = 0.375 for three solvers


def test_a_similar_proposal_is_penalised():
    env = ScholarsCircle(families=("deduction",), similarity_weight=0.5)
    env.reset(seed=0)
    env.step(PROPOSALS["deduction"])
    for answer in (RIGHT["deduction"], WRONG["deduction"], WRONG["deduction"]):
        env.step(answer)
    env.step("correct: yes")
    env.reset(seed=1)
    variant = PROPOSALS["deduction"].replace("v * 3 - 1", "v * 4 - 2")  # same template
    _, _, _, _, info = env.step(variant)
    assert info["verdict"]["details"]["similarity_penalty"] == pytest.approx(0.5)
    for answer in (RIGHT["deduction"], WRONG["deduction"], WRONG["deduction"]):
        env.step(answer)  # RIGHT is wrong for the variant: nobody solves it
    _, _, _, _, info = env.step("correct: no")
    assert info["rewards"]["explorer"] == -0.1  # 0 learnability - 0.5, floored


# ---------------------------------------------------------------------------------- critic


@pytest.mark.parametrize(
    ("text", "p"),
    [
        ("correct: yes\np: 0.8", 0.8),
        ("I checked it.\n**correct: no**\np: 0.1", 0.1),
        ("P(correct) = 0.35", 0.35),
        ("correct: yes", 1.0),
        ("correct: no", 0.0),
        ("p: 80%", 0.8),
        ("correct: yes\np: 0.5", 0.5),
        ("**Correct:** yes\n**p:** 0.9", 0.9),
        ("`P(correct) = 0.25`", 0.25),
    ],
)
def test_critique_formats(text, p):
    assert _parse_critique(text) == pytest.approx(p)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("correct: yes\np: 0.2", "contradicts"),
        ("p: 1.5", "from 0 to 1"),
        ('{"status": "correct", "reward": 1.0}', "no verdict found"),
        ("It is correct.", "no verdict found"),
        ("P(correct) = nan", "no verdict found"),
    ],
)
def test_unreadable_critiques(text, message):
    with pytest.raises(ParseError, match=message):
        _parse_critique(text)


def test_an_always_correct_critic_earns_exactly_the_base_rate():
    explorer, solver = ReferenceExplorer(0), NoisySolver(0.5, seed=3)
    always = _mean_returns(
        "math", {"explorer": explorer, "solver": solver, "critic": ConstantCritic(1.0)}, 30
    )
    assert always["critic"] == pytest.approx(always["base_rate"])  # 1 - (1 - y)^2 = y
    calibrated = _mean_returns(
        "math",
        {"explorer": ReferenceExplorer(0), "solver": NoisySolver(0.5, seed=3),
         "critic": CalibratedCritic(0.9, seed=4)},
        30,
    )  # fmt: skip
    b = calibrated["base_rate"]
    best_constant = 1 - b * (1 - b)  # the best a critic without information can do
    assert calibrated["critic"] > best_constant > always["critic"] - 1e-9


def test_an_unreadable_critique_still_adjudicates():
    env = circle("deduction")
    env.step(PROPOSALS["deduction"])
    for answer in (RIGHT["deduction"], WRONG["deduction"], WRONG["deduction"]):
        env.step(answer)
    _, reward, terminated, _, info = env.step("Looks fine to me!")
    assert terminated and reward == -0.1 and info["verdict"]["status"] == "unparseable"
    assert info["rewards"] == {"explorer": pytest.approx(2 / 3), "critic": -0.1}


# ---------------------------------------------------------------------------------- views


def test_rounds_and_reference_returns():
    env = ScholarsCircle(rounds=2)
    episode = play_episode(env, reference, 5)
    assert episode.terminated
    assert episode.returns["solver"] == 6.0 and episode.returns["critic"] == 2.0
    assert "round 2 of 2" in episode.steps[-1].info["verdict"]["reason"] or any(
        "round 2 of 2" in s.observation for s in episode.steps
    )
    assert len(env.library) == 52


def test_one_role_learning_with_opponents():
    explorer_only = ScholarsCircle(
        families=("math",),
        similarity_weight=0.0,
        opponents={"solver": NoisySolver(0.5, seed=0), "critic": OracleCritic()},
    )
    obs, info = explorer_only.reset(seed=0)
    assert info["role"] == "explorer" and obs.startswith("[ScholarsCircle | role: explorer")
    obs, reward, terminated, _, info = explorer_only.step(explorer_only.reference_action())
    assert terminated and len(info["opponent_moves"]) == 4
    assert reward == pytest.approx(info["rewards"]["explorer"])
    solved = sum(m["verdict"]["status"] == "correct" for m in info["opponent_moves"][:3])
    assert reward == pytest.approx(1 - solved / 3 if 0 < solved < 3 else 0.0)

    solver_only = ScholarsCircle(
        opponents={"explorer": ReferenceExplorer(0), "critic": OracleCritic()}
    )
    obs, info = solver_only.reset(seed=1)
    assert info["role"] == "solver" and obs.startswith("[ScholarsCircle | role: solver")
    total = 0.0
    for _ in range(3):
        obs, reward, terminated, _, info = solver_only.step(OracleSolver()(obs, info, solver_only))
        total += reward
    assert terminated and total == 3.0

    critic_only = ScholarsCircle(
        opponents={"explorer": ReferenceExplorer(1), "solver": NoisySolver(0.5, seed=2)}
    )
    obs, info = critic_only.reset(seed=2)
    assert info["role"] == "critic" and "One solver's answer" in obs
    _, reward, terminated, _, info = critic_only.step(OracleCritic()(obs, info, critic_only))
    assert terminated and reward == 1.0


def test_difficulty_really_changes_the_problems():
    sizes, shown = {}, {}
    for level in (1, 2, 3):
        env = ScholarsCircle(families=("deduction", "abduction", "induction"), difficulty=level)
        nodes = []
        for seed in range(6):
            obs, _ = env.reset(seed=seed)
            shown[level] = obs.count("--- library problem #")
            env.step(env.reference_action())
            assert env.candidate is not None
            nodes.append(env.candidate.entry.n_nodes)
        sizes[level] = float(np.mean(nodes))
    assert shown == {1: 3, 2: 4, 3: 5}
    assert sizes[1] < sizes[2] < sizes[3]


def test_the_archive_persists_between_circles(tmp_path):
    path = tmp_path / "circle.sqlite"
    first = ScholarsCircle(archive_path=path)
    play_episode(first, reference, 0)
    play_episode(first, reference, 1)
    first.close()
    second = ScholarsCircle(archive_path=str(path))
    assert len(second.library) == 52
    assert second.stats().rated == 2
    second.close()


def test_the_unreadable_first_move_is_shown_then_the_reference_plays_on():
    env = ScholarsCircle(render_mode="ansi")
    episode = play_episode(env, Scripted(["I am not sure yet."]), 2)
    assert episode.terminated and episode.returns["solver"] == 3.0
    text = env.render() or ""
    assert "was rejected, reward -0.1" in text


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_hundreds_of_distinct_first_observations_per_level(difficulty):
    env = ScholarsCircle(difficulty=difficulty)
    observations = {env.reset(seed=seed)[0] for seed in range(300)}
    assert len(observations) >= 270  # family x references sampled from the library
