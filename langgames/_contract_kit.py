"""The conformance kit's checks of the reply contract (`langgames.contract`), for every game.

A right answer must earn the same reward however a model wraps it, and wrapping must never turn a
wrong answer into a right one. `check_reply_contract` plays each game's reference answers wrapped
the ways chat and reasoning models write (`REPLY_STYLES`), and checks three things:

- **styles**: whole episodes whose every reference move is wrapped in one style earn the same
  return per role as the bare reference (the maximum, for the roles the reference is optimal for);
- **probes**: exploit probes (a constant, an empty answer, the marker with nothing inside...)
  wrapped in each style earn no more than the bare probe does;
- **unclosed**: the reference inside a reasoning block that never closes is `unparseable`;
- **hedge**: two marked answers, the right one first and a wrong one last, are judged exactly as
  the wrong one alone: the last marked answer counts.

`hostile_replies` are the contract's worst inputs (megabytes, thousands of markers, unbalanced
tags and braces); the hostile battery of the kit feeds them to every game.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from langgames.adversarial import CONSTANT_PROBES, hostile_replies
from langgames.contract import mark_answer
from langgames.core import LanguageGame

__all__ = ["REPLY_STYLES", "ContractReport", "check_reply_contract", "hostile_replies"]

_DECOYS = (
    "Candidates: 0, 1, -1, 42. Maybe \\boxed{0}? Or guess: 1, answer: 0, inputs: [[0]].\n"
    "```python\ndef f(*args):\n    return 0\n```\n"
)

#: How models wrap an answer: name -> function of the marked answer.
REPLY_STYLES: dict[str, Callable[[str], str]] = {
    "reasoning_before": lambda a: (
        "Let me work through this carefully, step by step, checking each part.\n"
        "After checking, I am confident.\n\n" + a
    ),
    "think_block_with_decoys": lambda a: f"<think>\n{_DECOYS}Hmm, no.\n</think>\n\n{a}",
    "unopened_think_block": lambda a: f"{_DECOYS}So that settles it.\n</think>\n{a}",
    "chatter_after": lambda a: f"{a}\n\nI hope this helps! Let me know if you want the steps.",
    # Models bold a one-line final answer, never a whole code block or multi-line proposal.
    "emphasis": lambda a: a if "\n" in a.strip() else f"**{a}**",
    "crlf": lambda a: ("Reasoning first.\n\n" + a + "\n").replace("\n", "\r\n"),
    "thinking_tag_and_chatter": lambda a: (
        f"<thinking>{_DECOYS}</thinking>\nFinal answer:\n{a}\nThat's it."
    ),
}


@dataclass
class ContractReport:
    """What `check_reply_contract` measured; ``failures`` lists every broken expectation."""

    game_id: str
    checked: int = 0
    passed: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def pass_rate(self) -> float:
        return self.passed / self.checked if self.checked else 1.0

    def record(self, ok: bool, what: str) -> None:
        self.checked += 1
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)

    def to_dict(self) -> dict[str, Any]:
        return {
            "checked": self.checked,
            "passed": self.passed,
            "pass_rate": round(self.pass_rate, 4),
            "failures": self.failures[:20],
        }


def _marker(env: LanguageGame, role: str) -> str | None:
    return env._answer_marker(role)


def _episode_returns(
    make: Callable[[], LanguageGame],
    seed: int,
    wrap: Callable[[LanguageGame, str, str], str],
) -> dict[str, float]:
    """Returns per role of an episode whose every move is ``wrap(env, role, reference)``
    (played by `langgames.rollout.play`; roles that no move rewarded are left out)."""
    from langgames.rollout import play  # the one episode loop

    env = make()
    try:
        episode = play(
            env,
            lambda obs, info, game: wrap(game, game.role, game.reference_action()),
            seed=seed,
            transcript=False,
        )
    finally:
        env.close()
    rewarded = {role for turn in episode.turns for role in turn.rewards}
    return {role: float(v) for role, v in episode.returns.items() if role in rewarded}


def _first_step(make: Callable[[], LanguageGame], seed: int, action: str) -> tuple[float, str]:
    env = make()
    try:
        env.reset(seed=seed)
        _, reward, *_, info = env.step(action)
        return float(reward), str(info["verdict"].get("status"))
    finally:
        env.close()


def check_reply_contract(
    make: Callable[[], LanguageGame], game_id: str, seeds: Iterable[int]
) -> ContractReport:
    """Check the reply contract of one game (see the module docstring)."""
    report = ContractReport(game_id)
    for seed in seeds:
        bare = _episode_returns(make, seed, lambda env, role, ref: ref)
        for style, wrap in REPLY_STYLES.items():

            def wrapped(
                env: LanguageGame, role: str, ref: str, w: Callable[[str], str] = wrap
            ) -> str:
                return w(mark_answer(ref, _marker(env, role)))

            got = _episode_returns(make, seed, wrapped)
            ok = all(math.isclose(got.get(r, 0.0), v, abs_tol=1e-9) for r, v in bare.items())
            report.record(
                ok,
                f"seed {seed}: reference in style {style!r} returned {got}, bare reference {bare}",
            )
        probe_env = make()
        probe_env.reset(seed=seed)
        role = probe_env.role
        assert role is not None
        marker = _marker(probe_env, role)
        reference = probe_env.reference_action()
        probe_env.close()
        ref_reward, _ = _first_step(make, seed, reference)
        reward, status = _first_step(make, seed, f"<think>\n{mark_answer(reference, marker)}")
        report.record(
            status == "unparseable" and reward <= 0.0,
            f"seed {seed}: the reference inside an unclosed <think> block was judged {status} "
            f"with {reward}; a reply that ends inside a reasoning block has no answer",
        )
        wrong_found = False
        for probe in CONSTANT_PROBES:
            bare_reward, bare_status = _first_step(make, seed, probe)
            marked = mark_answer(probe, marker)
            for style, wrap in REPLY_STYLES.items():
                reward, _ = _first_step(make, seed, wrap(marked))
                report.record(
                    reward <= max(bare_reward, 0.0) + 1e-9,
                    f"seed {seed}: probe {probe!r} in style {style!r} earned {reward}, bare "
                    f"{bare_reward}",
                )
            # A hedge needs two *marked* answers: without a marker, a bare wrong line after the
            # reference is prose, and the contract rightly reads the reference.
            if (
                marker is not None
                and not wrong_found
                and bare_status != "correct"
                and bare_reward < ref_reward
            ):
                wrong_found = True
                hedge = (
                    f"{mark_answer(reference, marker)}\n\nHmm, on second thought:\n\n"
                    f"{mark_answer(probe, marker)}"
                )
                wrong_reward, wrong_status = _first_step(make, seed, mark_answer(probe, marker))
                reward, status = _first_step(make, seed, hedge)
                report.record(
                    math.isclose(reward, wrong_reward, abs_tol=1e-9) and status == wrong_status,
                    f"seed {seed}: a hedge (right answer, then {probe!r} last) was judged "
                    f"{status} with {reward}; the last answer alone is {wrong_status} with "
                    f"{wrong_reward}",
                )
    return report
