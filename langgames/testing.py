"""The conformance kit: `check_game` runs every check a langgames game must pass.

>>> from langgames.testing import check_game
>>> report = check_game("langgames/BaseConvert-v0", seeds=2, cross_process=False)
>>> report.passed
True

The checks (each reported by name in `CheckReport`):

- ``gymnasium_check_env``: Gymnasium's own ``check_env`` passes with no warning.
- ``declared_metadata``: the registered id matches the game's `GameInfo`; spaces are text spaces.
- ``reference_earns_maximum``: at every difficulty, the reference solver's episode return equals
  ``env.max_return(role)`` for each role in ``env.optimal_roles`` (by default the declared
  ``reference_roles`` the caller plays), and the episode terminates.
- ``random_policy``: random text plays whole episodes without error, inside ``max_turns``.
- ``hostile_actions``: for every role, each action of `HOSTILE_ACTIONS` (`langgames.adversarial`,
  the one home of the hostile batteries: empty, megabytes, binary,
  lone surrogates, injection strings, forged verdicts...) returns within ``step_timeout`` seconds,
  is never judged correct, never earns more than 0, earns the minimum reward whenever it is
  unparseable, and creates no file.
- ``rewards_in_range``, ``observations_in_space``, ``info_keys``: over every step taken above.
- ``seeded_determinism``: the same seed gives the same episode in two fresh envs and in a reused
  env (no history leaks from one episode into the next), except that games declaring
  ``stateful=True`` (a memory that grows by design) are compared between fresh envs only.
- ``cross_process_determinism``: the same episodes, played in two other processes with different
  ``PYTHONHASHSEED``, are identical (only for games that declare ``deterministic=True``).
- ``reply_contract``: the reference, wrapped the ways models write (reasoning first, ``<think>``
  blocks with decoys, an unopened block, chatter after, emphasis, CRLF), earns what the bare
  reference earns; wrapped exploit probes earn no more than bare ones; a hedge is judged by its
  last answer; a reply ending inside a reasoning block is `unparseable` (`langgames.contract`).
- ``global_rng_untouched``: Python's ``random`` and NumPy's global state are unchanged.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import itertools
import json
import math
import os
import pickle
import random
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from langgames.adversarial import (
    GENERIC_REPLIES,
    HOSTILE_ACTIONS,
    HOSTILE_PROGRAMS,
    MARKER,
    hostile_programs,
)
from langgames.core import EVAL_SEEDS, LanguageGame
from langgames.errors import ConformanceError, InvalidArgument
from langgames.policies import Policy, RandomText, Scripted, reference
from langgames.verifiers.verdict import FAILURE_STATUSES, TIMING_KEYS, Status

__all__ = [
    "EPISODE_RULES",
    "GENERIC_REPLIES",
    "HOSTILE_ACTIONS",
    "HOSTILE_PROGRAMS",
    "BestGenericConstant",
    "CandidateList",
    "CheckReport",
    "CheckResult",
    "Episode",
    "best_generic_reply",
    "candidate_lists",
    "check_game",
    "check_question_blind",
    "episode_rule_returns",
    "golden_transcript",
    "hostile_programs",
    "opponent_setups",
    "play_episode",
    "question_blind_features",
    "scan_question_blind",
]

_MARKER = MARKER  # replaced by a path in a fresh temporary directory


_REQUIRED_INFO_KEYS = ("role", "rewards", "verdict", "seed", "turn")


@dataclass(frozen=True)
class CheckResult:
    """One check: ``passed`` is ``None`` when the check was skipped (``detail`` says why)."""

    name: str
    passed: bool | None
    detail: str = ""
    seconds: float = 0.0


@dataclass
class CheckReport:
    """Every check run on one game."""

    game: str
    results: list[CheckResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(r.passed is not False for r in self.results)

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self.results if r.passed is False]

    def __str__(self) -> str:
        lines = [f"check_game({self.game}): {'PASSED' if self.passed else 'FAILED'}"]
        for r in self.results:
            mark = {True: "ok  ", False: "FAIL", None: "skip"}[r.passed]
            lines.append(
                f"  {mark} {r.name} ({r.seconds:.2f}s){': ' + r.detail if r.detail else ''}"
            )
        return "\n".join(lines)


@dataclass(frozen=True)
class Step:
    role: str
    action: str
    observation: str
    reward: float
    terminated: bool
    truncated: bool
    info: Mapping[str, Any]


@dataclass
class Episode:
    """A played episode: the first observation, every step and the return of each role."""

    seed: int
    first_observation: str
    first_info: Mapping[str, Any]
    steps: list[Step] = field(default_factory=list)
    returns: dict[str, float] = field(default_factory=dict)
    transcript: str = ""

    @property
    def terminated(self) -> bool:
        return bool(self.steps) and self.steps[-1].terminated

    @property
    def truncated(self) -> bool:
        return bool(self.steps) and self.steps[-1].truncated

    def digest(self) -> str:
        """A hash of everything observable in the episode (for determinism checks)."""
        payload = [self.first_observation, _jsonable(self.first_info)]
        for s in self.steps:
            payload.append(
                [
                    s.role,
                    s.action,
                    s.observation,
                    s.reward,
                    s.terminated,
                    s.truncated,
                    _jsonable(s.info),
                ]
            )
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=True, default=repr)
        return hashlib.sha256(blob.encode()).hexdigest()


def _jsonable(value: Any) -> Any:
    """``value`` without measured timings (`TIMING_KEYS`), which legitimately vary between runs."""
    if isinstance(value, Mapping):
        return {k: _jsonable(v) for k, v in value.items() if k not in TIMING_KEYS}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def play_episode(
    env: LanguageGame,
    policy: Policy,
    seed: int,
    *,
    difficulty: int | None = None,
    max_steps: int | None = None,
) -> Episode:
    """Play one episode of ``env`` (the unwrapped game) with ``policy`` from ``seed``.

    The episode is played by `langgames.rollout.play` (the project's one episode loop); this
    keeps every step's full ``info`` (which the kit's checks and `Episode.digest` read), and
    passes the policy's action to ``env.step`` exactly as returned (bytes and other non-text
    included, which hostile policies send).
    """
    from langgames import rollout

    options = None if difficulty is None else {"difficulty": difficulty}
    limit = max_steps if max_steps is not None else env.max_turns
    if limit <= 0:  # no move to make: the reset is the whole episode
        obs, info = env.reset(seed=seed, options=options)
        episode = Episode(seed=seed, first_observation=obs, first_info=info)
        episode.returns = dict.fromkeys(env.game_info.roles, 0.0)
        episode.transcript = env.render() or ""
        return episode
    first: list[Mapping[str, Any]] = []
    steps: list[Step] = []

    def act(obs: str, info: Mapping[str, Any], game: LanguageGame) -> Any:
        if not first:
            first.append(info)  # the reset's info: the first move comes right after it
        action = policy(obs, info, game)
        # not text: to env.step as it is (a Reply's text is not converted), shown by its repr
        return action if isinstance(action, str) else rollout.Reply(action)

    def on_step(turn: rollout.Turn, result: tuple[Any, ...]) -> None:
        obs, reward, terminated, truncated, info = result
        steps.append(Step(turn.role, turn.action, obs, float(reward), terminated, truncated, info))

    ep = rollout.play(
        env, act, seed=seed, difficulty=difficulty, max_steps=limit, transcript=False,
        on_step=on_step,
    )  # fmt: skip
    episode = Episode(seed=seed, first_observation=ep.first_observation, first_info=first[0])
    episode.steps = steps
    episode.returns = ep.returns
    episode.transcript = env.render() or ""  # raises, as a kit check must see, if render fails
    return episode


class _Stop(Exception):
    """Raised by a kit policy to end the episode `langgames.rollout.play` is playing: the
    state it waited for is reached (`_Checker._reach`), or it has seen enough."""


def _factory(
    env_or_id: str | gym.Env,
) -> tuple[Callable[[], LanguageGame], str | None, dict[str, Any]]:
    from langgames.registry import get_spec, make_game

    if isinstance(env_or_id, str):
        spec = get_spec(env_or_id)
        kwargs: dict[str, Any] = dict(spec.kwargs)
        return (lambda: make_game(spec.id, **kwargs)), spec.id, kwargs
    game = env_or_id.unwrapped
    if not isinstance(game, LanguageGame):
        raise InvalidArgument(
            f"check_game expects a game id or a LanguageGame env, got {type(game).__name__}"
        )
    if game.spec is not None:
        kwargs = dict(game.spec.kwargs)
        game_id = game.spec.id
        return (lambda: make_game(game_id, **kwargs)), game_id, kwargs
    cls, init_kwargs = type(game), dict(getattr(game, "init_kwargs", {}))
    return (lambda: cls(**init_kwargs)), None, init_kwargs


class _Checker:
    def __init__(
        self,
        make: Callable[[], LanguageGame],
        game_id: str | None,
        kwargs: dict,
        seeds: int,
        step_timeout: float,
    ) -> None:
        self.make = make
        self.game_id = game_id
        self.kwargs = kwargs
        self.seeds = list(range(seeds))
        self.step_timeout = step_timeout
        self.env = make()
        self.info = self.env.game_info
        self.steps: list[Step] = []  # every step taken, for the range/space/info checks

    def run(self, name: str, fn: Callable[[], str | None], report: CheckReport) -> None:
        start = time.perf_counter()
        try:
            detail = fn()
            passed: bool | None = True
            if detail is not None and detail.startswith("skipped:"):
                passed, detail = None, detail[len("skipped:") :].strip()
        except ConformanceError as err:
            passed, detail = False, str(err)
        except Exception as err:
            passed, detail = False, f"raised {type(err).__name__}: {err}"
        report.results.append(CheckResult(name, passed, detail or "", time.perf_counter() - start))

    def play(self, policy: Policy, seed: int, difficulty: int | None = None) -> Episode:
        episode = play_episode(self.env, policy, seed, difficulty=difficulty)
        self.steps.extend(episode.steps)
        return episode

    # -- checks -----------------------------------------------------------------------------
    def gymnasium_check_env(self) -> str | None:
        from gymnasium.utils.env_checker import check_env

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(self.make(), skip_render_check=True)
        messages = sorted({str(w.message) for w in caught})
        if messages:
            raise ConformanceError("check_env warned: " + " | ".join(messages))
        return None

    def declared_metadata(self) -> str | None:
        if self.game_id is not None and self.game_id != self.info.id:
            raise ConformanceError(f"registered as {self.game_id} but declares {self.info.id}")
        if not isinstance(self.env.observation_space, gym.spaces.Text) or not isinstance(
            self.env.action_space, gym.spaces.Text
        ):
            raise ConformanceError("observation and action spaces must be gymnasium Text spaces")
        if self.env.observation_space.min_length != 0:
            raise ConformanceError("the observation space must allow empty text (min_length=0)")
        return None

    def reference_earns_maximum(self) -> str | None:
        problems = []
        for level in self.info.difficulty_levels:
            for seed in self.seeds:
                ep = self.play(reference, seed, difficulty=level)
                where = f"difficulty {level}, seed {seed}"
                if not ep.terminated:
                    problems.append(f"{where}: the reference did not finish the episode")
                for step in ep.steps:
                    status = step.info["verdict"]["status"]
                    if status in FAILURE_STATUSES or status == Status.VERIFIER_ERROR:
                        problems.append(
                            f"{where}: a reference move was judged {status}: "
                            f"{step.info['verdict']['reason']}"
                        )
                for role in self.env.optimal_roles:
                    got, best = ep.returns.get(role, 0.0), self.env.max_return(role)
                    if not math.isclose(got, best, abs_tol=1e-9):
                        problems.append(
                            f"{where}: role {role!r} returned {got}, expected max_return {best}"
                        )
        if problems:
            raise ConformanceError("; ".join(problems[:5]))
        return None

    def random_policy(self) -> str | None:
        for seed in self.seeds:
            ep = self.play(RandomText(seed), seed)
            if len(ep.steps) > self.env.max_turns or not (ep.terminated or ep.truncated):
                raise ConformanceError(
                    f"seed {seed}: the episode did not end within max_turns={self.env.max_turns}"
                )
        sampled = self.play(lambda o, i, e: e.action_space.sample(), self.seeds[0])
        if not sampled.steps:
            raise ConformanceError("no step was played with sampled actions")
        return None

    def reply_contract(self) -> str | None:
        """The reply contract (`langgames._contract_kit`): model-style wrappings of the reference
        earn what the bare reference earns; wrapped probes earn no more than bare ones; hedges and
        unclosed reasoning blocks are judged as the contract says."""
        from langgames._contract_kit import check_reply_contract

        game = type(self.env)
        if game.answer_marker is None and game._answer_marker is LanguageGame._answer_marker:
            return "skipped: the game declares no answer marker (`answer_marker`)"
        seed = EVAL_SEEDS.start + 11
        result = check_reply_contract(self.make, self.info.id, [seed])
        if result.failures:
            raise ConformanceError(
                f"{len(result.failures)} of {result.checked} reply-contract checks failed: "
                + "; ".join(result.failures[:3])
            )
        return None

    def hostile_actions(self) -> str | None:
        problems: list[str] = []
        played = 0
        low = self.info.reward_range[0]
        with tempfile.TemporaryDirectory(prefix="langgames-check-") as tmp:
            marker = os.path.join(tmp, "marker")
            for role in self.env.learner_roles:
                reached = False
                for name, action in HOSTILE_ACTIONS:
                    if isinstance(action, str):
                        action = action.replace(_MARKER, marker)
                    if not self._reach(role, self.seeds[0]):
                        break
                    reached = True
                    played += 1
                    start = time.perf_counter()
                    obs, reward, terminated, truncated, info = self.env.step(action)  # type: ignore[arg-type]
                    elapsed = time.perf_counter() - start
                    self.steps.append(
                        Step(role, name, obs, float(reward), terminated, truncated, info)
                    )
                    verdict = info["verdict"]
                    status = verdict["status"]
                    where = f"role {role!r}, action {name!r}"
                    if elapsed > self.step_timeout:
                        problems.append(f"{where}: step took {elapsed:.1f}s")
                    if status == Status.CORRECT:
                        problems.append(f"{where}: judged correct")
                    if status == Status.VERIFIER_ERROR:
                        problems.append(f"{where}: verifier_error: {verdict['reason']}")
                    if float(reward) > 0:
                        problems.append(f"{where}: earned {reward}")
                    if status in FAILURE_STATUSES and not math.isclose(float(reward), low):
                        problems.append(f"{where}: {status} earned {reward}, not the minimum {low}")
                    if os.path.exists(marker):
                        problems.append(f"{where}: created the marker file")
                        os.unlink(marker)
                if not reached and role != self.env.learner_roles[0]:
                    problems.append(f"role {role!r} never acted when playing the reference")
        if problems:
            raise ConformanceError("; ".join(problems[:8]))
        return f"{played} hostile moves"

    def _reach(self, role: str, seed: int) -> bool:
        """Reset and play reference moves until ``role`` is to act; False if it never is.

        The env is left where ``role`` is to act, for one probing step."""
        from langgames import rollout

        def until_role(obs: str, info: Mapping[str, Any], env: LanguageGame) -> str:
            if info["role"] == role:
                raise _Stop
            return env.reference_action()

        try:
            rollout.play(self.env, until_role, seed=seed, transcript=False)
        except _Stop:
            return True
        return False

    def rewards_in_range(self) -> str | None:
        low, high = self.info.reward_range
        for s in self.steps:
            for role, value in s.info["rewards"].items():
                if role not in self.info.roles:
                    raise ConformanceError(f"a reward was given to unknown role {role!r}")
                if not (low - 1e-9 <= value <= high + 1e-9) or math.isnan(value):
                    raise ConformanceError(
                        f"reward {value} for {role!r} outside reward_range {self.info.reward_range}"
                    )
        return f"{len(self.steps)} steps"

    def observations_in_space(self) -> str | None:
        space = self.env.observation_space
        charset: frozenset[str] = getattr(space, "character_set", frozenset())
        for s in self.steps:
            if not isinstance(s.observation, str) or not space.contains(s.observation):
                bad = sorted({c for c in str(s.observation) if c not in charset})[:5]
                raise ConformanceError(
                    f"observation outside the space (length {len(s.observation)}, "
                    f"characters {bad!r})"
                )
        return None

    def info_keys(self) -> str | None:
        for s in self.steps:
            missing = [k for k in _REQUIRED_INFO_KEYS if k not in s.info]
            if missing:
                raise ConformanceError(f"info lacks {missing}")
            role = s.info["role"]
            if role is not None and role not in self.info.roles:
                raise ConformanceError(f"info['role'] is {role!r}, not a declared role")
            if (s.terminated or s.truncated) != (role is None):
                raise ConformanceError("info['role'] must be None exactly when the episode ended")
            json.dumps(s.info["verdict"])  # verdicts are plain data
        return None

    def seeded_determinism(self) -> str | None:
        fresh = [self.make(), self.make()]
        # A stateful game (GameInfo.stateful) remembers earlier episodes by design: compare
        # fresh envs only. Otherwise a reused env must replay exactly what a fresh one plays.
        envs = fresh if self.info.stateful else [*fresh, self.env]
        for seed in self.seeds:
            for policy_name in ("reference", "random"):
                digests = []
                for env in envs:
                    policy = reference if policy_name == "reference" else RandomText(seed)
                    digests.append(play_episode(env, policy, seed).digest())
                if len(set(digests)) != 1:
                    raise ConformanceError(
                        f"seed {seed}, {policy_name} policy: episodes differ between fresh and "
                        "reused envs (history leaking between episodes, or hidden randomness)"
                    )
        return None

    def cross_process_determinism(self) -> str | None:
        if not self.info.deterministic:
            return "skipped: the game declares deterministic=False"
        if self.game_id is None:
            return "skipped: the env has no registered id to re-create in another process"
        local = episode_digests(self.game_id, self.kwargs, self.seeds)
        code = (
            "import json, sys; from langgames.testing import episode_digests; "
            "print(json.dumps(episode_digests(*json.loads(sys.argv[1]))))"
        )
        arg = json.dumps([self.game_id, self.kwargs, self.seeds])
        procs = []
        for hashseed in ("0", "4242"):
            env = {**os.environ, "PYTHONHASHSEED": hashseed}
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", code, arg],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
        for hashseed, proc in zip(("0", "4242"), procs, strict=True):
            out, err = proc.communicate(timeout=300)
            if proc.returncode != 0:
                raise ConformanceError(f"the child process failed: {err.strip()[-500:]}")
            if json.loads(out.strip().splitlines()[-1]) != local:
                raise ConformanceError(
                    f"episodes differ in a process with PYTHONHASHSEED={hashseed}"
                )
        return None


def episode_digests(game_id: str, kwargs: Mapping[str, Any], seeds: Iterable[int]) -> list[str]:
    """Digests of reference and random-policy episodes (used for cross-process determinism)."""
    from langgames.registry import make_game

    env = make_game(game_id, **kwargs)
    out = []
    for seed in seeds:
        out.append(play_episode(env, reference, seed).digest())
        out.append(play_episode(env, RandomText(seed), seed).digest())
    env.close()
    return out


def check_game(
    env_or_id: str | gym.Env,
    *,
    seeds: int = 3,
    cross_process: bool = True,
    step_timeout: float = 10.0,
    raise_on_failure: bool = True,
) -> CheckReport:
    """Run the conformance kit on a game id or env; raise `ConformanceError` listing failures.

    Args:
        env_or_id: a registered id, or an env (wrapped or not) whose ``unwrapped`` is a game.
        seeds: how many seeds to play per check (and per difficulty for the reference check).
        cross_process: also compare episodes played in two other processes.
        step_timeout: seconds any single hostile step may take.
        raise_on_failure: if False, return the report instead of raising.
    """
    make, game_id, kwargs = _factory(env_or_id)
    checker = _Checker(make, game_id, kwargs, seeds, step_timeout)
    report = CheckReport(checker.info.id)
    py_state, np_state = random.getstate(), pickle.dumps(np.random.get_state())
    for name in (
        "gymnasium_check_env",
        "declared_metadata",
        "reference_earns_maximum",
        "random_policy",
        "hostile_actions",
        "rewards_in_range",
        "observations_in_space",
        "info_keys",
        "seeded_determinism",
        "reply_contract",
    ):
        checker.run(name, getattr(checker, name), report)
    if cross_process:
        checker.run("cross_process_determinism", checker.cross_process_determinism, report)

    def rng_untouched() -> str | None:
        if random.getstate() != py_state or pickle.dumps(np.random.get_state()) != np_state:
            raise ConformanceError("the global random or numpy.random state was changed")
        return None

    checker.run("global_rng_untouched", rng_untouched, report)
    checker.env.close()
    if raise_on_failure and not report.passed:
        raise ConformanceError(str(report))
    return report


def golden_transcript(game_id: str, *, seeds: Iterable[int] = (0, 1)) -> str:
    """The text replayed by the golden-transcript test: what a model sees, move by move.

    Per game: reference episodes for ``seeds`` at the default difficulty, one at the hardest
    difficulty, and one where the player first sends an unreadable reply (to show the feedback).
    """
    from langgames.registry import make_game

    env = make_game(game_id, render_mode="ansi")
    info = env.game_info
    parts = []
    runs: list[tuple[str, Policy, int, int]] = [
        ("reference", reference, seed, info.default_difficulty) for seed in seeds
    ]
    runs.append(("reference", reference, 0, info.difficulty_levels[-1]))
    runs.append(
        ("unreadable-then-reference", Scripted(["I am not sure yet."]), 2, info.default_difficulty)
    )
    for name, policy, seed, level in runs:
        ep = play_episode(env, policy, seed, difficulty=level)
        returns = ", ".join(f"{r}={v:+.4g}" for r, v in sorted(ep.returns.items()))
        parts.append(
            f"##### {game_id} | policy={name} | seed={seed} | difficulty={level} | "
            f"returns: {returns}\n{ep.transcript}\n"
        )
    env.close()
    return "\n".join(parts)


def golden_path(game_id: str, root: str | os.PathLike[str]) -> Path:
    return Path(root) / (game_id.split("/", 1)[1] + ".txt")


# ---------------------------------------------------------------------------------------------
# Question-blind candidate scan: can the *list* of candidate answers give the right one away?

_PAYLOAD_INTS = re.compile(r"-?\d+")
_NUMERAL = re.compile(r"[0-9a-z]{1,60}")
_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"
#: Distances whose neighbour counts are scanned (besides every base 2..36 of a numeral list).
_NEIGHBOUR_STEPS = (1, 2, 3, 4, 5, 8, 10, 16, 32, 64, 100, 256)


@dataclass(frozen=True)
class CandidateList:
    """One decision point: the candidates offered and which of them would be judged correct."""

    candidates: tuple[str, ...]
    correct: tuple[bool, ...]

    @property
    def chance(self) -> float:
        return sum(self.correct) / len(self.correct) if self.correct else 0.0


def _payload(text: str) -> str:
    """What a candidate answers, without its ``guess:``/``inputs:``-style label."""
    text = text.strip().lower()
    head, sep, tail = text.partition(":")
    if sep and head.replace(" ", "").isalpha() and len(head) <= 12:
        text = tail.strip()
    return text


def _levenshtein(a: str, b: str) -> int:
    """The edit distance of ``a`` and ``b``, by Myers' bit-parallel algorithm (Hyyrö's form):
    one pass over ``a`` with ``len(b)``-bit integers as the columns of the distance table, so
    two 81-digit grids cost about 80 integer steps instead of 6,561 table cells.
    `tests/test_question_blind.py` checks it against the table on random strings."""
    if not b or not a:
        return len(a) + len(b)
    m = len(b)
    peq: dict[str, int] = {}
    for i, c in enumerate(b):
        peq[c] = peq.get(c, 0) | (1 << i)
    mask = (1 << m) - 1
    high = 1 << (m - 1)
    pv, mv, score = mask, 0, m
    for c in a:
        eq = peq.get(c, 0)
        xv = eq | mv
        xh = (((eq & pv) + pv) ^ pv) | eq
        ph = (mv | ~(xh | pv)) & mask
        mh = pv & xh
        if ph & high:
            score += 1
        elif mh & high:
            score -= 1
        ph = ((ph << 1) | 1) & mask
        mh = (mh << 1) & mask
        pv = (mh | ~(xv | ph)) & mask
        mv = ph & xv
    return score


def _count_at(values: list[float], steps: Iterable[float]) -> list[float]:
    """How many other candidates lie at a distance in ``steps`` from each one (one array pass:
    the scan calls this for every base and step, on every list)."""
    v = np.asarray(values, dtype=float)
    near = np.isin(np.abs(v[:, None] - v[None, :]), np.fromiter(steps, dtype=float))
    np.fill_diagonal(near, False)
    return near.sum(axis=1).astype(float).tolist()


def question_blind_features(candidates: list[str]) -> dict[str, list[float]]:
    """Scores per candidate that a rule blind to the question could rank a list by.

    Every feature ``f`` gives two rules, "pick the candidate with the largest ``f``" and "...the
    smallest". Features: position in the list; string length, distinct characters, digit sum,
    the count of the list's most common character, lexicographic order; edit distance to the
    others and shared first/last characters and lengths; and, reading each candidate as numbers
    (its decimal integers, or the whole of it as a numeral in every base 2-36 its digits allow):
    value, parity, distance to the list's median and mean, and how many other candidates lie at
    +-k for k in `_NEIGHBOUR_STEPS`, at +-1 or +-base, and at +-base^2.
    """
    n = len(candidates)
    texts = [_payload(c) for c in candidates]
    feats: dict[str, list[float]] = {}
    for p in range(n):
        feats[f"position_{p}"] = [float(i == p) for i in range(n)]
    feats["length"] = [float(len(t)) for t in texts]
    feats["distinct_chars"] = [float(len(set(t))) for t in texts]
    feats["lexicographic"] = [float(sorted(texts).index(t)) for t in texts]
    chars = Counter("".join(texts))
    if chars:
        top = chars.most_common(1)[0][0]
        feats["most_common_char_count"] = [float(t.count(top)) for t in texts]
    feats["digit_sum"] = [float(sum(int(c) for c in t if c.isdigit())) for t in texts]
    apart = [[0] * n for _ in range(n)]
    for i, j in itertools.combinations(range(n), 2):
        apart[i][j] = apart[j][i] = _levenshtein(texts[i], texts[j])
    feats["edit_distance_to_others"] = [float(sum(row)) for row in apart]
    feats["same_length_as_others"] = [float(sum(len(u) == len(t) for u in texts)) for t in texts]
    feats["same_first_char"] = [float(sum(u[:1] == t[:1] for u in texts)) for t in texts]
    feats["same_last_char"] = [float(sum(u[-1:] == t[-1:] for u in texts)) for t in texts]

    def numeric(
        name: str, values: list[float], bases: Iterable[int] = (), full: bool = True
    ) -> None:
        if len(set(values)) < 2:
            return
        if not full:  # another base of the same numerals: its value order and neighbours only
            feats[f"{name}_value"] = values
            for b in bases:
                feats[f"{name}_neighbours_pm1_or_pm{b}"] = _count_at(values, (1, b))
                feats[f"{name}_neighbours_pm{b}"] = _count_at(values, (b,))
            feats[f"{name}_neighbours_pm1"] = _count_at(values, (1,))
            return
        med, mean = float(np.median(values)), float(np.mean(values))
        feats[f"{name}_value"] = values
        feats[f"{name}_parity"] = [float(int(v) % 2) for v in values]
        feats[f"{name}_to_median"] = [abs(v - med) for v in values]
        feats[f"{name}_to_mean"] = [abs(v - mean) for v in values]
        for k in _NEIGHBOUR_STEPS:
            feats[f"{name}_neighbours_pm{k}"] = _count_at(values, (k,))
        feats[f"{name}_neighbours_small"] = _count_at(values, range(1, 11))
        for b in bases:
            feats[f"{name}_neighbours_pm1_or_pm{b}"] = _count_at(values, (1, b))
            feats[f"{name}_neighbours_pm{b}sq"] = _count_at(values, (b * b,))

    ints = [[int(x) for x in _PAYLOAD_INTS.findall(t)[:64]] for t in texts]
    if all(ints):
        numeric("first_int", [float(v[0]) for v in ints], range(2, 37))
        if any(len(v) > 1 for v in ints):
            numeric("count", [float(len(v)) for v in ints])
            numeric("sum", [float(sum(v)) for v in ints])
            numeric("max", [float(max(v)) for v in ints])
            numeric("min", [float(min(v)) for v in ints])
            numeric("abs_max", [float(max(map(abs, v))) for v in ints])
            numeric("distinct", [float(len(set(v))) for v in ints])
            feats["negatives"] = [float(sum(x < 0 for x in v)) for v in ints]
            feats["zeros"] = [float(v.count(0)) for v in ints]
            feats["ascending_pairs"] = [
                float(sum(a < b for a, b in itertools.pairwise(v))) for v in ints
            ]
    if all(_NUMERAL.fullmatch(t) for t in texts):
        low = max(_DIGITS36.index(c) for t in texts for c in t) + 1
        for b in range(max(2, low), 37):
            values = [float(int(t, b)) for t in texts]
            numeric(f"base{b}", values, (b,), full=b == max(2, low))
    return feats


def _rule_success(lists: list[CandidateList], scores: list[list[float]]) -> float:
    """Expected successes of "pick the top score" (ties broken uniformly) over ``lists``."""
    total = 0.0
    for cl, s in zip(lists, scores, strict=True):
        best = max(s)
        tied = [c for c, v in zip(cl.correct, s, strict=True) if v == best]
        total += sum(tied) / len(tied)
    return total


class _Rules:
    """`_rule_success` for many rules over the same lists, by list length, in array passes.

    Each list's share (right candidates among those tied at the top, over the tied) is exact
    integer arithmetic and one division, as in `_rule_success`; the shares are then summed in list
    order, so every total is the same float `_rule_success` returns (the scan compares totals
    with each other and with integer bounds: they must not drift).
    """

    def __init__(self, lists: list[CandidateList]) -> None:
        self.n = len(lists)
        groups: dict[int, list[int]] = {}
        for i, cl in enumerate(lists):
            groups.setdefault(len(cl.candidates), []).append(i)
        self.groups = [
            (np.array(rows), np.array([lists[i].correct for i in rows], dtype=np.int64))
            for rows in groups.values()
        ]

    def success(self, scores: list[list[float]], rows: slice = slice(None)) -> float:
        share = np.zeros(self.n)
        for index, correct in self.groups:
            s = np.array([scores[i] for i in index], dtype=float)
            top = s == s.max(axis=1, keepdims=True)
            share[index] = (top * correct).sum(axis=1) / top.sum(axis=1)
        return sum(share[rows].tolist())


def _poisson_binomial_bound(chances: list[float], level: float) -> float:
    """The smallest count ``k`` with ``P(X >= k) <= level`` for ``X`` the number of successes of
    independent picks that each win with probability ``chances[i]`` (exact, by convolution)."""
    dist = np.zeros(len(chances) + 1)
    dist[0] = 1.0
    for i, p in enumerate(chances):
        dist[1 : i + 2] = dist[1 : i + 2] * (1 - p) + dist[: i + 1] * p
        dist[0] *= 1 - p
    tail = np.cumsum(dist[::-1])[::-1]  # tail[k] = P(X >= k)
    above = np.nonzero(tail <= level)[0]
    return float(above[0]) if above.size else float(len(chances) + 1)


def _fit_conditional_logit(
    x: list[np.ndarray], y: list[np.ndarray], steps: int = 300, lr: float = 0.5
) -> np.ndarray:
    """Weights of a softmax-over-the-list model (a rule that combines features), by gradient
    ascent on the mean log-likelihood of the right candidates, with a small L2 penalty."""
    w = np.zeros(x[0].shape[1])
    for _ in range(steps):
        grad = -1e-3 * w
        for xi, yi in zip(x, y, strict=True):
            z = xi @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            target = yi / yi.sum()
            grad += xi.T @ (target - p) / len(x)
        w += lr * grad
    return w


def scan_question_blind(lists: list[CandidateList], *, alpha: float = 0.01) -> dict[str, Any]:
    """Scan question-blind rules over candidate lists; compare the best with chance.

    Chance is the expected success of a uniform pick, summed over lists (``sum p_i`` where
    ``p_i`` is the share of right candidates in list ``i``). Under the null hypothesis (the list
    says nothing about which candidate is right) any rule's number of wins is Poisson-binomial
    with those ``p_i``; a rule fails when its wins reach the exact upper ``alpha / R`` quantile
    of that count (Bonferroni over the ``R`` rules tried), so a fair game fails with probability
    at most ``alpha``. Two held-out
    rules are checked on the second half of the lists after being chosen on the first half: the
    best single rule, and a conditional-logit model over every feature (within-list ranks).
    """
    lists = [cl for cl in lists if len(cl.candidates) >= 2]
    winnable = [cl for cl in lists if any(cl.correct)]
    out: dict[str, Any] = {"lists": len(lists), "winnable_lists": len(winnable)}
    if not winnable:
        out.update(passed=None, detail="no candidate was ever right: nothing to give away")
        return out
    per_list = [question_blind_features(list(cl.candidates)) for cl in lists]
    names = sorted({name for f in per_list for name in f})
    rules: dict[str, list[list[float]]] = {}
    for name in names:
        up = [
            f.get(name, [0.0] * len(cl.candidates)) for f, cl in zip(per_list, lists, strict=True)
        ]
        rules[f"max {name}"] = up
        rules[f"min {name}"] = [[-v for v in s] for s in up]
    chance = sum(cl.chance for cl in lists)
    level = alpha / (len(rules) + 2)  # Bonferroni: every scanned rule, and the two held out
    bound = _poisson_binomial_bound([cl.chance for cl in lists], level)
    table = _Rules(lists)
    success = {name: table.success(s) for name, s in rules.items()}
    best = max(success, key=lambda k: success[k])
    n = len(lists)
    out.update(
        rules=len(rules),
        chance=round(chance / n, 4),
        best_rule=best,
        best=round(success[best] / n, 4),
        upper_bound=round(bound / n, 4),
    )
    # Held out: choose on the first half, measure on the second.
    half = n // 2
    test = lists[half:]
    t_chance = sum(cl.chance for cl in test)
    t_bound = _poisson_binomial_bound([cl.chance for cl in test], level)
    chosen = max(rules, key=lambda k: table.success(rules[k], slice(half)))
    held_rule = table.success(rules[chosen], slice(half, None))

    def ranks(f: dict[str, list[float]], size: int) -> np.ndarray:
        """Each feature's within-list ranks, centred and scaled (one row per candidate)."""
        missing = [0.0] * size
        v = np.array([f.get(name, missing) for name in names], dtype=float)
        r = v.argsort(axis=1).argsort(axis=1).astype(float)
        return np.ascontiguousarray(((r - (size - 1) / 2) / max(size - 1, 1)).T)

    xs = [ranks(f, len(cl.candidates)) for f, cl in zip(per_list, lists, strict=True)]
    ys = [np.array(cl.correct, dtype=float) for cl in lists]
    fit = [(x, y) for x, y in zip(xs[:half], ys[:half], strict=True) if y.sum() > 0]
    held_logit = 0.0
    if fit:
        w = _fit_conditional_logit([x for x, _ in fit], [y for _, y in fit])
        held_logit = _rule_success(test, [list(x @ w) for x in xs[half:]])
    m = max(len(test), 1)
    out.update(
        heldout_chance=round(t_chance / m, 4),
        heldout_best_rule=chosen,
        heldout_best=round(held_rule / m, 4),
        heldout_logit=round(held_logit / m, 4),
        heldout_upper_bound=round(t_bound / m, 4),
    )
    beaten = [
        what
        for what, got, limit in (
            (f"rule {best!r}", success[best], bound),
            (f"held-out rule {chosen!r}", held_rule, t_bound),
            ("held-out conditional logit", held_logit, t_bound),
        )
        if got >= limit
    ]
    out["passed"] = not beaten
    out["detail"] = (
        f"best question-blind rule {best!r} wins {success[best] / n:.3f} vs chance "
        f"{chance / n:.3f} (bound {bound / n:.3f}); held-out: rule {held_rule / m:.3f}, logit "
        f"{held_logit / m:.3f} vs chance {t_chance / m:.3f} (bound {t_bound / m:.3f})"
        + ("; beaten by " + ", ".join(beaten) if beaten else "")
    )
    return out


def _judge_candidate(env: LanguageGame, candidate: str) -> bool:
    """Would ``candidate`` be judged correct now? Played on a copy, so ``env`` is untouched."""
    shared = (env.observation_space, env.action_space)  # large and immutable: never copied
    trial = copy.deepcopy(env, {id(x): x for x in shared})
    _, _, _, _, info = trial.step(candidate)
    return bool(info["verdict"] and info["verdict"]["status"] == Status.CORRECT)


def candidate_lists(
    make: Callable[[], LanguageGame],
    seeds: Iterable[int],
    *,
    per_episode: int = 3,
    difficulty: int | None = None,
) -> list[CandidateList]:
    """The candidate lists a game offers, with which candidates are right, over ``seeds``.

    Each episode is played by picking uniformly random candidates (seeded by the episode seed;
    the reference for a role that lists none), and up to ``per_episode`` decision points are
    recorded: the first, then later ones (where a multi-turn game's list reflects its state).
    """
    from langgames import rollout

    env = make()
    out: list[CandidateList] = []
    for seed in seeds:
        picker = _CandidatePicker(np.random.default_rng([seed, 0xC4]), per_episode, out)
        with contextlib.suppress(_Stop):  # the picker has recorded ``per_episode`` lists
            rollout.play(env, picker, seed=seed, difficulty=difficulty, transcript=False)
    env.close()
    return out


class _CandidatePicker:
    """`candidate_lists`' policy for one episode: records the lists it is offered (with which
    candidates are right) and picks one at random; raises `_Stop` once it has ``limit``."""

    def __init__(self, rng: np.random.Generator, limit: int, out: list[CandidateList]) -> None:
        self.rng, self.limit, self.out, self.taken = rng, limit, out, 0

    def __call__(self, observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
        offered = env.candidate_actions()
        if offered:
            offered = [str(c) for c in offered]
            if self.taken < self.limit:
                marks = tuple(_judge_candidate(env, c) for c in offered)
                self.out.append(CandidateList(tuple(offered), marks))
                self.taken += 1
            action = offered[int(self.rng.integers(len(offered)))]
        else:
            action = env.reference_action()
        if self.taken >= self.limit:
            raise _Stop
        return action


def opponent_setups(game: LanguageGame | type[LanguageGame]) -> dict[str, dict[str, Any]]:
    """Every fixed-opponent set-up a game documents, by name, plus ``"self-play"`` (none).

    A game lists its own in a ``fixed_opponents()`` class method returning ``{name:
    {role: policy}}`` (e.g. BugHunt's ``BuggyCoder`` as the coder); the exploit battery and the
    question-blind scan play every one of them as well as self-play.
    """
    cls = game if isinstance(game, type) else type(game)
    setups: dict[str, dict[str, Any]] = {"self-play": {}}
    declared = getattr(cls, "fixed_opponents", None)
    if callable(declared):
        setups.update({str(k): dict(v) for k, v in declared().items()})
    return setups


def check_question_blind(
    env_or_id: str | gym.Env,
    *,
    seeds: Iterable[int] = range(EVAL_SEEDS.start, EVAL_SEEDS.start + 200),
    per_episode: int = 3,
    alpha: float = 0.01,
) -> dict[str, dict[str, Any]]:
    """`scan_question_blind` over every set-up of a game (`opponent_setups`) that lists candidates.

    Every difficulty level is scanned on its own. Returns ``{"<setup>, difficulty <d>": scan}``;
    a game that lists no candidates gets ``{}``. A scan's ``passed`` is
    ``False`` when some question-blind rule beats chance beyond its bound. A game whose lists
    legitimately encode its state (see its docstring) can still pass: this checks one decision at
    a time, where a state-consistent list leaves every consistent answer equally likely.
    """
    make, _, kwargs = _factory(env_or_id)
    probe = make()
    if probe.game_info.max_turns < 1:  # pragma: no cover - GameInfo forbids it
        return {}
    seeds = list(seeds)
    results: dict[str, dict[str, Any]] = {}
    cls = type(probe)
    for name, opponents in opponent_setups(probe).items():
        make_setup: Callable[[], LanguageGame] = (
            (lambda o=opponents: cls(**{**kwargs, "opponents": o})) if opponents else make  # type: ignore[misc]
        )
        for level in probe.game_info.difficulty_levels:
            lists = candidate_lists(make_setup, seeds, per_episode=per_episode, difficulty=level)
            if lists:
                results[f"{name}, difficulty {level}"] = scan_question_blind(lists, alpha=alpha)
    probe.close()
    return results


# ---------------------------------------------------------------------------------------------
# The best generic constant: a fixed reply chosen, by trying a pool of them, to farm a game.


def _first_step_earnings(env: LanguageGame, reply: str) -> float:
    """Positive reward the caller's roles earn when ``reply`` is played now (on a copy)."""
    shared = (env.observation_space, env.action_space)
    trial = copy.deepcopy(env, {id(x): x for x in shared})
    _, _, _, _, info = trial.step(reply)
    return sum(v for r, v in info["rewards"].items() if r in env.learner_roles and v > 0)


def best_generic_reply(
    game: LanguageGame, *, seeds: Iterable[int] = range(12), pool: Iterable[str] = GENERIC_REPLIES
) -> str:
    """The reply of ``pool`` that earns ``game`` the most on its first move over ``seeds``
    (training seeds, never the evaluation ones), played on a copy of ``game``."""
    shared = (game.observation_space, game.action_space)
    env = copy.deepcopy(game, {id(x): x for x in shared})
    replies = list(pool)
    totals = dict.fromkeys(replies, 0.0)
    for seed in seeds:
        env.reset(seed=seed)
        for reply in replies:
            totals[reply] += _first_step_earnings(env, reply)
    return max(replies, key=lambda r: totals[r])


class BestGenericConstant:
    """A constant policy: the reply of `GENERIC_REPLIES` that pays ``game`` most, chosen once
    (on first use, on training seeds) by `best_generic_reply` and then played every move."""

    def __init__(self, game: LanguageGame, pool: Iterable[str] = GENERIC_REPLIES) -> None:
        self._game = game
        self._pool = tuple(pool)
        self.text: str | None = None

    def __call__(self, observation: str, info: Mapping[str, Any], env: LanguageGame) -> str:
        if self.text is None:
            self.text = best_generic_reply(self._game, pool=self._pool)
        return self.text

    def __repr__(self) -> str:
        return f"BestGenericConstant({self.text!r})"


#: Question-blind rules `episode_rule_returns` plays over whole episodes (feature, direction).
EPISODE_RULES: tuple[tuple[str, str], ...] = (
    ("first_int_to_median", "min"),
    ("first_int_to_mean", "min"),
    ("first_int_value", "max"),
    ("first_int_value", "min"),
    ("position_0", "max"),
    ("edit_distance_to_others", "min"),
    ("length", "max"),
)


def episode_rule_returns(
    make: Callable[[], LanguageGame], seeds: Iterable[int], *, difficulty: int | None = None
) -> dict[str, float]:
    """Mean episode return (first learner role) of question-blind rules played every turn.

    For games whose candidate list reflects the state (a feasible range, codes consistent with
    the feedback): how far a rule that reads only the list gets, beside the reference and a
    uniform pick among the candidates. Keys: ``reference``, ``uniform candidate`` and
    ``"<min|max> <feature>"`` for each of `EPISODE_RULES`.
    """
    env = make()
    role = env.learner_roles[0]
    seeds = list(seeds)

    def rule_policy(feature: str, way: str) -> Policy:
        def pick(obs: str, info: Mapping[str, Any], game: LanguageGame) -> str:
            offered = [str(c) for c in game.candidate_actions() or []]
            if not offered:
                return game.reference_action()
            scores = question_blind_features(offered).get(feature, [0.0] * len(offered))
            sign = 1.0 if way == "max" else -1.0
            return offered[max(range(len(offered)), key=lambda i: sign * scores[i])]

        return pick

    def uniform(seed: int) -> Policy:
        rng = np.random.default_rng([seed, 0x5EED])

        def pick(obs: str, info: Mapping[str, Any], game: LanguageGame) -> str:
            offered = game.candidate_actions() or [game.reference_action()]
            return str(offered[int(rng.integers(len(offered)))])

        return pick

    policies: dict[str, Callable[[int], Policy]] = {
        "reference": lambda seed: reference,
        "uniform candidate": uniform,
    }
    for feature, way in EPISODE_RULES:
        policies[f"{way} {feature}"] = lambda seed, f=feature, w=way: rule_policy(f, w)  # type: ignore[misc]
    out = {}
    for name, build in policies.items():
        total = 0.0
        for seed in seeds:
            ep = play_episode(env, build(seed), seed, difficulty=difficulty)
            total += ep.returns.get(role, 0.0)
        out[name] = round(total / max(len(seeds), 1), 4)
    env.close()
    return out
