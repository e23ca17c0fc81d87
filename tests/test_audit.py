"""The audit: its statistics, one tiny audit, the CLI, and the stored cards of every game."""

from __future__ import annotations

import io
import json

import pytest

import langgames
from langgames.audit import (
    CARD_SCHEMA,
    GRADE_RULE,
    audit_game,
    beats,
    compression_ratio,
    distinct_n,
    vendi_score,
    write_card,
)
from langgames.cli import main
from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.registry import get_spec, load_card
from langgames.verifiers import Verdict


def test_text_statistics():
    assert distinct_n(["a b c", "a b c"], 1) == 0.5
    assert distinct_n(["a b c", "d e f"], 2) == 1.0
    assert compression_ratio(["same text"] * 200) > 20 > compression_ratio(["x"])
    assert vendi_score(["a b", "a b", "a b"]) == pytest.approx(1.0)
    assert vendi_score(["a", "b", "c"]) == pytest.approx(3.0)


def test_beats_is_paired_and_noise_aware():
    assert beats([1.0] * 20, [0.0] * 20)
    assert not beats([0.05] * 20, [0.04] * 20)  # inside the tolerance
    assert not beats([1.0, 0.0] * 10, [0.0, 1.0] * 10)
    with pytest.raises(langgames.InvalidArgument, match="paired by seed"):
        beats([1.0], [1.0, 0.0])


@pytest.fixture(scope="module")
def small_card():
    return audit_game("langgames/BaseConvert-v0", episodes=6)


def test_audit_game_writes_a_complete_card(small_card, tmp_path):
    card = small_card
    assert card["schema"] == CARD_SCHEMA and card["id"] == "langgames/BaseConvert-v0"
    assert card["langgames_version"] == langgames.__version__ and len(card["date"]) == 10
    assert card["grade"] in "ABC" and card["flagged"] is False and card["flags"] == []
    assert card["grade_rule"] == GRADE_RULE
    levels = card["coverage"]["levels"]
    assert set(levels) == {"1", "2", "3"}
    for stats in levels.values():
        assert 0 < stats["unique_instance_rate"] <= 1 and stats["vendi"] >= 1
        assert {"distinct_1", "distinct_2", "distinct_3", "compression_ratio"} <= set(stats)
        assert {"answer_entropy_bits", "answer_top_share"} <= set(stats)
    assert card["coverage"]["seed_overlap"] == 0
    rel = card["reliability"]
    assert rel["reference_pass_rate"] == 1.0
    assert rel["determinism"]["ok"] is True
    assert rel["exploits"]["beaten"] == []
    assert "random_text" in rel["exploits"]["mean_positive_reward"]
    assert "most_common_gold" in rel["exploits"]["mean_positive_reward"]
    assert rel["latency_ms"]["p95"] >= rel["latency_ms"]["p50"] > 0
    assert rel["verifier_error_rate"] == 0
    path = write_card(card, tmp_path)
    assert path.name == "BaseConvert-v0.json" and json.loads(path.read_text()) == card


class Farmable(LanguageGame):
    """Say "yes" and win: an exploitable game the audit must flag."""

    game_info = GameInfo(
        name="Farmable",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format="a number or yes",
        reward_range=(-0.1, 1.0),
        max_turns=1,
        difficulty_levels=(1,),
    )

    def _setup(self):
        self.n = int(self.np_random.integers(1000))
        return "player"

    def _prompt(self, role):
        return f"What is {self.n} + 1?"

    def _play(self, role, action):
        text = action.strip()
        if not (text.isdigit() or text == "yes"):
            raise ParseError("expected a number")
        ok = text in ("yes", str(self.n + 1))
        verdict = Verdict.make_correct() if ok else Verdict.make_incorrect("no")
        return Move(verdict, {role: self._reward_for(verdict)})

    def _reference(self, role):
        return str(self.n + 1)


def test_an_exploitable_game_is_flagged():
    card = audit_game(Farmable(), episodes=10)
    assert card["flagged"] and card["grade"] == "F"
    assert any("constant_yes" in f for f in card["flags"])
    assert card["reliability"]["determinism"]["checked"] is False  # not registered


def test_audit_rejects_bad_arguments():
    with pytest.raises(langgames.InvalidArgument, match="episodes must be"):
        audit_game("BaseConvert-v0", episodes=1)
    with pytest.raises(langgames.UnknownGame, match="Did you mean"):
        audit_game("BaseConvrt-v0", episodes=2)


def test_cli_audit_writes_cards(tmp_path):
    out = io.StringIO()
    code = main(
        [
            "audit",
            "BaseConvert-v0",
            "--episodes",
            "3",
            "--no-cross-process",
            "--out",
            str(tmp_path),
        ],
        out=out,
    )
    assert code == 0, out.getvalue()
    assert "grade" in out.getvalue() and "0 flagged" in out.getvalue()
    card = json.loads((tmp_path / "BaseConvert-v0.json").read_text())
    assert card["id"] == "langgames/BaseConvert-v0" and card["episodes"] == 3


@pytest.mark.parametrize("game_id", langgames.game_ids())
def test_every_game_has_a_stored_unflagged_card(game_id):
    card = load_card(game_id)
    assert card is not None, f"no card for {game_id}: run `langgames audit {game_id}`"
    spec = get_spec(game_id)
    assert card["schema"] == CARD_SCHEMA
    assert card["id"] == spec.id and card["version"] == spec.info.version, (
        f"the card of {game_id} is stale: re-run `langgames audit {game_id}`"
    )
    assert set(card["coverage"]["levels"]) == {str(x) for x in spec.info.difficulty_levels}
    assert spec.card == card
    assert not card["flagged"], f"{game_id} is flagged: {card['flags']}"
    # Every card carries this release's checks (issues 13 and 15).
    reliability = card["reliability"]
    assert {"question_blind", "exploits_vs_fixed_opponents", "reply_contract"} <= set(reliability)
    assert reliability["reply_contract"]["pass_rate"] == 1.0


class _Setter(LanguageGame):
    """A setter hides a colour, a guesser names it. A fixed setter that always hides "red" is a
    documented opponent under which a constant guess farms the game."""

    game_info = GameInfo(
        name="SetAndGuess",
        version=0,
        roles=("setter", "guesser"),
        verifiers=("exact",),
        answer_format="setter: a colour; guesser: a colour",
        reward_range=(-0.1, 1.0),
        max_turns=4,
        reference_roles=("guesser",),
    )

    @classmethod
    def fixed_opponents(cls):
        return {"lazy setter": {"setter": lambda obs, info, game: "red"}}

    def _setup(self):
        self.word = None
        return "setter"

    def _prompt(self, role):
        return "Hide a colour: red, green or blue." if role == "setter" else "Guess the colour."

    def _play(self, role, action):
        text = action.strip().lower()
        if text not in ("red", "green", "blue"):
            raise ParseError("expected red, green or blue")
        if role == "setter":
            self.word = text
            return Move(Verdict.make_accepted("hidden"), {role: 0.0}, next_role="guesser")
        ok = text == self.word
        verdict = Verdict.make_correct() if ok else Verdict.make_incorrect("no")
        return Move(verdict, {role: 1.0 if ok else 0.0, "setter": 0.0 if ok else 1.0})

    def _reference(self, role):
        colours = ("red", "green", "blue")
        return colours[int(self.np_random.integers(3))] if role == "setter" else self.word


def test_the_card_plays_the_battery_against_every_fixed_opponent():
    card = audit_game(_Setter(), episodes=30, cross_process=False)
    against = card["reliability"]["exploits_vs_fixed_opponents"]
    assert set(against) == {"lazy setter"}
    assert against["lazy setter"]["beaten"]  # "red" farms the guesser against the lazy setter
    assert card["flagged"] and any("exploit against lazy setter" in f for f in card["flags"])


def test_the_card_flags_a_candidate_list_that_gives_the_answer_away():
    from langgames.envs.base_convert import BaseConvert, to_base

    class Centred(BaseConvert):
        def _candidates(self, role):  # the answer is always the centre of its slips
            v, b = self._value, self._target
            values = [v + d for d in (-b, -1, 0, 1, b) if v + d > 0]
            return [to_base(x, b) for x in sorted(values, key=lambda x: (x * 7919) % 101)]

    card = audit_game(Centred(), episodes=2, cross_process=False)
    scans = card["reliability"]["question_blind"]
    assert scans and all(s["passed"] is False for s in scans.values())
    assert any("candidate list gives the answer away" in f for f in card["flags"])


def test_the_shipped_cards_of_candidate_games_carry_the_question_blind_scan():
    for game_id in ("BaseConvert-v0", "Counterexample-v0", "CodeBreaker-v0", "NumberHunt-v0"):
        card = get_spec(game_id).card
        assert card is not None and card["reliability"]["question_blind"], game_id
        assert not card["flagged"], (game_id, card["flags"])
