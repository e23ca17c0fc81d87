"""Candidate lists must not give the answer away to a rule that never reads the question.

`langgames.testing.check_question_blind` scans hundreds of question-blind rules (neighbour counts
at +-1, +-k and +-base, extremes, medians, distance to the mean, digit statistics, lengths,
positions, parity, the most common character...) plus two held out ones (the best rule and a
conditional-logit model chosen on half of the lists) over the candidate lists a game offers, and
fails when one wins beyond the exact binomial bound of chance (Bonferroni-corrected).
"""

from __future__ import annotations

import random

import numpy as np
import pytest
from conftest import FULL, SANDBOX_HEAVY, with_depths

import langgames
from langgames.core import EVAL_SEEDS, LanguageGame
from langgames.envs.base_convert import BaseConvert, to_base
from langgames.envs.number_hunt import NumberHunt
from langgames.registry import get_spec, load_class
from langgames.testing import (
    CandidateList,
    candidate_lists,
    check_question_blind,
    episode_rule_returns,
    scan_question_blind,
)

SEEDS = range(EVAL_SEEDS.start, EVAL_SEEDS.start + 300)


class OldBaseConvert(BaseConvert):
    """BaseConvert with the distractors it had before: slips *of the answer* (+-1, +-base...)."""

    def _candidates(self, role):
        value, target = self._value, self._target
        right = to_base(value, target)
        rng = np.random.default_rng([self._instance_seed or 0, 0xBA5E])
        slips = (value - 1, value + 1, value - target, value + target)
        pool = [to_base(v, target) for v in slips if v >= 0]
        pool += [right[::-1].lstrip("0") or "0", to_base(value, self._source)]
        pool = [
            n
            for n in dict.fromkeys(pool)
            if all(int(c, 36) < target for c in n) and int(n, target) != value
        ]
        misses = [pool[i] for i in rng.permutation(len(pool))[:5]]
        while len(misses) < 5:
            extra = to_base(int(rng.integers(0, max(8, 2 * value))), target)
            if extra != right and extra not in misses:
                misses.append(extra)
        options = [right, *misses]
        return [options[i] for i in rng.permutation(len(options))]


def test_the_scan_catches_the_old_base_convert_distractors():
    """The red team's rule (most +-1/+-base neighbours) won about 95%; the scan must see it."""
    scans = check_question_blind(
        OldBaseConvert(), seeds=range(EVAL_SEEDS.start, EVAL_SEEDS.start + 150)
    )
    assert scans and all(scan["passed"] is False for scan in scans.values())
    assert all(scan["best"] > 0.6 for scan in scans.values())
    assert any("neighbours" in scan["best_rule"] for scan in scans.values())


@pytest.mark.slow  # 300 lists per level through the full scan: the full tier
@pytest.mark.parametrize("level", [1, 2, 3])
def test_base_convert_candidates_carry_no_structural_tell(level):
    lists = candidate_lists(BaseConvert, SEEDS, per_episode=1, difficulty=level)
    assert len(lists) == len(SEEDS) and all(sum(cl.correct) == 1 for cl in lists)
    scan = scan_question_blind(lists)
    assert scan["passed"], scan["detail"]
    assert scan["best"] < 0.25  # chance is 1/6; the old distractors lost to a rule at 0.85-0.95


def test_base_convert_right_answer_is_anywhere_in_its_cluster():
    """The answer is as often the cluster's centre (most neighbours) as any other member."""
    game = BaseConvert(difficulty=2)
    centre = 0
    for seed in SEEDS:
        game.reset(seed=seed)
        base = game._target
        values = [int(c, base) for c in game.candidate_actions()]
        degree = [sum(abs(v - w) in (1, base) for w in values) for v in values]
        best = max(degree)
        right = values.index(game._value)
        centre += degree[right] == best and degree.count(best) == 1
    assert centre / len(SEEDS) < 0.3


def test_a_tell_planted_in_a_list_fails_and_fair_lists_pass():
    rng = np.random.default_rng(0)
    fair, told = [], []
    for _ in range(300):
        values = [int(v) for v in rng.choice(1000, size=6, replace=False)]
        right = int(rng.integers(6))
        fair.append(CandidateList(tuple(map(str, values)), tuple(i == right for i in range(6))))
        biggest = values.index(max(values))  # the tell: the right one is nearly always the largest
        pick = biggest if rng.random() < 0.5 else right
        told.append(CandidateList(tuple(map(str, values)), tuple(i == pick for i in range(6))))
    assert scan_question_blind(fair)["passed"]
    caught = scan_question_blind(told)
    assert caught["passed"] is False
    assert caught["best_rule"].startswith("max ") and "value" in caught["best_rule"]


@pytest.mark.slow  # 100 episodes scanned and 20 played per rule: the full tier
def test_number_hunt_lists_encode_the_state_as_documented():
    """The median of NumberHunt's list is the binary-search move: documented, and measured here.

    At any one turn no candidate is more likely to be the secret (the scan passes), but over an
    episode the rule "pick the middle candidate" plays like the reference.
    """
    scans = check_question_blind(
        NumberHunt(), seeds=range(EVAL_SEEDS.start, EVAL_SEEDS.start + 100), per_episode=3
    )
    assert all(scan["passed"] is not False for scan in scans.values())
    returns = episode_rule_returns(NumberHunt, range(EVAL_SEEDS.start, EVAL_SEEDS.start + 20))
    assert returns["min first_int_to_median"] >= returns["reference"] - 0.05
    assert returns["uniform candidate"] < returns["reference"]
    assert "median" in (NumberHunt.__doc__ or "") and "binary-search" in (NumberHunt.__doc__ or "")


def _games_with_candidates() -> list[str]:
    """Games that override `LanguageGame._candidates` (read from the class: nothing is played)."""
    return [
        game_id
        for game_id in langgames.game_ids()
        if load_class(get_spec(game_id).entry_point)._candidates is not LanguageGame._candidates
    ]


@pytest.mark.parametrize(
    ("game_id", "depth"),
    with_depths(
        [(g,) for g in _games_with_candidates()], smoke_if=lambda g: g not in SANDBOX_HEAVY
    ),
)
def test_every_candidate_list_is_question_blind(game_id, depth):
    """Registry-wide, in self-play and against every fixed opponent, at every level.

    Full depth (CI): 60 seeds per level (30 for the multi-role sandbox games, whose every step runs
    programs; the audit's card scans at least as many as its episodes). Smoke depth: 15.
    """
    n = 30 if game_id in ("langgames/BugHunt-v0", "langgames/ScholarsCircle-v0") else 60
    n = n if depth == FULL else 15
    scans = check_question_blind(game_id, seeds=range(EVAL_SEEDS.start, EVAL_SEEDS.start + n))
    if not scans:  # e.g. Negotiation: overrides _candidates to list none (see its comment)
        pytest.skip(f"{game_id} lists no candidate actions")
    failed = {name: scan["detail"] for name, scan in scans.items() if scan["passed"] is False}
    assert not failed, failed


def _edit_distance_table(a: str, b: str) -> int:
    """The textbook table, the oracle of the bit-parallel `_levenshtein`."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def test_the_fast_edit_distance_agrees_with_the_table():
    from langgames.testing import _levenshtein

    rng = random.Random(7)
    for trial in range(4000):
        alphabet = ("ab", "abcdefg", "0123456789 -x", "é字\U0001f600a")[trial % 4]
        longest = 90 if trial % 5 == 0 else 12  # past 64 characters: more than one machine word
        a, b = ("".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest)))
                for _ in range(2))  # fmt: skip
        assert _levenshtein(a, b) == _levenshtein(b, a) == _edit_distance_table(a, b), (a, b)


def test_neighbour_counts_are_the_pairs_at_the_given_distances():
    from langgames.testing import _count_at

    rng = random.Random(3)
    for _ in range(500):
        values = [float(rng.choice([rng.randint(-20, 20), rng.randint(0, 2**60)]))
                  for _ in range(rng.randint(2, 9))]  # fmt: skip
        steps = rng.sample([1, 2, 3, 8, 10, 16, 2**40], rng.randint(1, 3))
        expected = [
            float(sum(1 for j, w in enumerate(values) if j != i and abs(v - w) in steps))
            for i, v in enumerate(values)
        ]
        assert _count_at(values, steps) == expected, (values, steps)
