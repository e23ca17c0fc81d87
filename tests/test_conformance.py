"""The conformance kit, run over every registered game, and shown to catch broken games."""

from __future__ import annotations

import dataclasses
import random

import pytest
from conftest import FULL, smoke_view, with_depths

import langgames
from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.registry import get_spec, load_class, make_game
from langgames.testing import check_game, opponent_setups
from langgames.verifiers import Verdict


def _views() -> list[tuple[str, str]]:
    """Every registered game in every documented set-up: self-play and each fixed opponent."""
    return [
        (game_id, setup)
        for game_id in langgames.game_ids()
        for setup in opponent_setups(load_class(get_spec(game_id).entry_point))
    ]


@pytest.mark.parametrize(("game_id", "setup", "depth"), with_depths(_views(), smoke_if=smoke_view))
def test_every_registered_game_passes_check_game(game_id, setup, depth):
    """The conformance kit on every game and view. Smoke depth (the everyday tier): one seed, in
    this process. Full depth (CI): three seeds and episodes replayed in two other processes in
    self-play; two seeds against each fixed opponent."""
    opponents = opponent_setups(load_class(get_spec(game_id).entry_point))[setup]
    full = depth == FULL
    if opponents:  # every step of a view plays a scripted opponent too: two seeds in CI
        env = make_game(game_id, opponents=opponents)
        report = check_game(env, seeds=2 if full else 1, cross_process=False)
    else:
        report = check_game(game_id, seeds=3 if full else 1, cross_process=full)
    assert report.passed, str(report)
    names = {r.name for r in report.results if r.passed}
    assert {"reference_earns_maximum", "hostile_actions", "reply_contract"} <= names
    if full and not opponents:
        assert "cross_process_determinism" in names


class Honest(LanguageGame):
    """Say the hidden word (a correct toy game the broken variants below start from)."""

    game_info = GameInfo(
        name="Honest",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format="the word",
        reward_range=(-0.1, 1.0),
        max_turns=2,
    )

    def _setup(self):
        self.word = ["red", "green", "blue"][int(self.np_random.integers(3))]
        return "player"

    def _prompt(self, role):
        return "Say the colour I am thinking of: red, green or blue."

    def _play(self, role, action):
        text = action.strip().lower()
        if text not in ("red", "green", "blue"):
            raise ParseError("expected red, green or blue")
        verdict = Verdict.make_correct() if text == self.word else Verdict.make_incorrect("no")
        return Move(verdict, {role: self._reward_for(verdict)})

    def _reference(self, role):
        return self.word


def failed(env) -> set[str]:
    report = check_game(env, seeds=2, cross_process=False, raise_on_failure=False)
    return {r.name for r in report.failures}


def test_a_correct_game_passes():
    assert failed(Honest()) == set()


def test_a_game_that_pays_for_a_banner_is_caught():
    class PaysForPassed(Honest):
        def _play(self, role, action):
            if "PASSED" in action:
                return Move(Verdict.make_correct("trusting the banner"), {role: 1.0})
            return super()._play(role, action)

    assert "hostile_actions" in failed(PaysForPassed())


def test_a_game_that_touches_the_global_rng_is_caught():
    class GlobalRandom(Honest):
        def _setup(self):
            random.random()
            return super()._setup()

    assert "global_rng_untouched" in failed(GlobalRandom())


def test_a_game_whose_reference_is_not_optimal_is_caught():
    class WeakReference(Honest):
        def _reference(self, role):
            return "red" if self.word != "red" else "green"

    assert "reference_earns_maximum" in failed(WeakReference())


def test_a_game_with_rewards_outside_its_declared_range_is_caught():
    class Overpays(Honest):
        def _play(self, role, action):
            move = super()._play(role, action)
            return Move(move.verdict, {role: 5.0 if move.verdict.correct else 0.0})

    assert "rewards_in_range" in failed(Overpays())


def test_a_game_with_hidden_state_across_episodes_is_caught():
    class Leaky(Honest):
        episodes = 0

        def _prompt(self, role):
            type(self).episodes += 1
            return f"Episode {self.episodes}. " + super()._prompt(role)

    assert "seeded_determinism" in failed(Leaky())


def test_a_game_that_crashes_on_garbage_is_caught():
    class Crashes(Honest):
        def _play(self, role, action):
            return super()._play(role, action.encode("ascii").decode())  # raises on non-ASCII

    assert "hostile_actions" in failed(Crashes())


def test_a_game_whose_format_error_is_not_the_minimum_reward_is_caught():
    class GentleOnGarbage(Honest):
        def _on_unparseable(self, role, verdict):
            return Move(verdict, {role: 0.0}, next_role=role)

    assert "hostile_actions" in failed(GentleOnGarbage())


def test_a_stateful_game_is_compared_between_fresh_envs_only():
    class Remembers(Honest):
        """Shows how many episodes this env has finished: a memory, declared as such."""

        played = 0

        def _play(self, role, action):
            move = super()._play(role, action)
            self.played += 1
            return move

        def _prompt(self, role):
            return f"Game {self.played}. " + super()._prompt(role)

    assert "seeded_determinism" in failed(Remembers())
    Remembers.game_info = dataclasses.replace(Honest.game_info, stateful=True)
    assert failed(Remembers()) == set()


def _line_ending_games() -> list[str]:
    """Every game some role of which answers in several lines (code games, proposals...)."""
    from langgames.registry import get_spec

    return [
        g
        for g in langgames.game_ids()
        if "python" in get_spec(g).info.verifiers or "code" in get_spec(g).info.tags
    ]


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
@pytest.mark.parametrize("game_id", _line_ending_games())
def test_a_right_answer_with_windows_line_endings_is_right(game_id, ending):
    """The reference episode replayed with every reply's line endings rewritten earns the same."""
    from langgames.policies import reference
    from langgames.registry import make_game
    from langgames.testing import play_episode

    def rewritten(obs, info, env):
        return env.reference_action().replace("\r\n", "\n").replace("\n", ending)

    game = make_game(game_id)
    for seed in (0, 1):
        want = play_episode(game, reference, seed)
        got = play_episode(game, rewritten, seed)
        statuses = [s.info["verdict"]["status"] for s in got.steps]
        assert got.returns == want.returns, (seed, statuses, got.steps[-1].info["verdict"])


def test_extract_code_reads_every_line_ending():
    from langgames.envs._parsing import extract_code

    for ending in ("\n", "\r\n", "\r"):
        reply = ending.join(["Here:", "```python", "def f(x):", "    return x", "```", ""])
        assert extract_code(reply, "f") == "def f(x):\n    return x\n"
