"""Steps per second of a random policy on NumberHunt, beside a bare Gymnasium env, in one run.

The question a user asks before training a classic-RL agent or running many rollouts: what does
langgames' base class (roles, verdicts, the reply contract, observation cleaning, the info keys,
the transcript) cost per step against a Gymnasium env that does nothing more than the game itself?
Both play the same guessing game with ``Text`` spaces, driven by the same random guesses
(``guess: N``, N uniform in [-12000, 12000]):

- ``bare NumberHunt``: NumberHunt written directly on ``gymnasium.Env``, with **the same observation
  text**, character for character: the feedback line, the rules, every guess so far and the
  answer instruction. Reset with the same seed, it draws the same instance as NumberHunt, and the
  run checks on the benchmark's own actions that both show the same text (it refuses to report
  otherwise). It reads the last integer of the reply and returns an empty ``info``. This is the
  reference: building the prompt is part of the game, not of the base class. (Reset without a
  seed, it goes on with its generator as a plain env does, while NumberHunt draws a fresh
  instance seed and generator, so that ``info["seed"]`` replays the episode: a base-class cost.)
- ``NumberHunt``: the real game, with default options (``info["candidate_actions"]`` off).
- ``floor``: the bare game with a one-line observation, for scale.
- ``NumberHunt + candidates_in_info``: the legal moves listed in every ``info``, for scale.
- ``TextArena GuessTheNumber (raw)``: only when ``textarena`` is importable (it is not a
  dependency: ``pip install textarena`` in a scratch environment). Another library's guessing
  game (numbers 1 to 20, ``[N]`` replies, random guesses in range) with its own step protocol
  (``step`` then ``get_observation``), for scale: not the same game, so no PASS/FAIL.

With ``--ablate``, the run also measures NumberHunt (unwrapped) with one per-step feature of the
base class taken out at a time, then all of them at once, to show where the gap to the bare env
goes (these variants break the API and exist only here): ``observation cleaning``
(`langgames.spaces.clean_text`), ``reply contract`` (`langgames.contract.read_reply`),
``verdict checks`` (the game builds a plain object with `Verdict`'s four fields, unchecked) and
``info dict`` (``step`` returns one shared empty ``info``).

The bare env and NumberHunt are each measured unwrapped and through ``gym.make`` (which adds
Gymnasium's ``PassiveEnvChecker`` and ``OrderEnforcing`` wrappers), and each is compared with the
bare env built the same way. Trials are interleaved so that machine noise hits every variant alike;
the table reports the median steps/s over trials. With ``--cpu-time`` the clock is the process's
CPU time rather than wall time (steadier on a busy machine).

Target (issue 14): NumberHunt through ``gym.make`` at least 0.5x the bare env through ``gym.make``
(the run prints PASS or FAIL, for both pairs) and exits 1 on FAIL with ``--check``.

Usage::

    python benchmarks/step_speed.py [--steps 20000] [--trials 7] [--cpu-time] [--ablate]
                                    [--check] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

import langgames
from langgames import core
from langgames.envs import number_hunt
from langgames.registry import make_game
from langgames.spaces import MAX_TEXT_LENGTH

__all__ = ["ABLATIONS", "TARGET", "BareNumberHunt", "FloorNumberHunt", "main", "measure"]

#: NumberHunt must run at least this fraction of the bare env's steps/s.
TARGET = 0.5
_BARE_ID = "bench/BareNumberHunt-v0"
_INT = re.compile(r"(-?\d+)\s*$")
_MAX_TURNS = 42
_BUDGET = 7  # ceil(log2(100 + 1)): the default difficulty's 100 candidate secrets
_ASK = "Reply with your next guess as one integer on the last line, e.g. `guess: 42`."
_INSTRUCTION = "You may reason first; only your last line starting with `guess:` is read."


class FloorNumberHunt(gym.Env[str, str]):
    """The floor: the guessing game with Text spaces and a one-line observation."""

    def __init__(self) -> None:
        charset = langgames.spaces.TEXT_CHARSET
        self.observation_space = spaces.Text(MAX_TEXT_LENGTH, min_length=0, charset=charset)
        self.action_space = spaces.Text(MAX_TEXT_LENGTH, min_length=0, charset=charset)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._secret = int(self.np_random.integers(-100_000, 100_000))
        self._turn = 0
        return "Guess a secret integer.", {}

    def step(self, action: str):
        self._turn += 1
        match = _INT.search(action)
        if match is None:
            return "Write one integer.", -0.1, False, self._turn >= _MAX_TURNS, {}
        guess = int(match.group(1))
        if guess == self._secret:
            return "Found it.", 1.0, True, False, {}
        answer = "higher" if self._secret > guess else "lower"
        return f"{guess}: {answer}", 0.0, False, self._turn >= _MAX_TURNS, {}


class BareNumberHunt(FloorNumberHunt):
    """NumberHunt on a bare ``gymnasium.Env``: NumberHunt's instances and observation text."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        # Reset with a seed, it draws NumberHunt's instance (LanguageGame seeds the same way);
        # without one, it goes on with its generator as a plain env does (NumberHunt draws a new
        # instance seed and generator per episode, so that ``info["seed"]`` replays it: that
        # cost is the base class's, and counted as such).
        gym.Env.reset(self, seed=seed)
        self._low = int(self.np_random.integers(-100_000, 100_000, endpoint=True))
        self._high = self._low + 99
        self._secret = int(self.np_random.integers(self._low, self._high, endpoint=True))
        self._turn = 0
        self._history: list[str] = []
        return self._prompt(""), {}

    def _prompt(self, feedback: str) -> str:
        text = "\n".join(
            [
                f"You are playing NumberHunt. I have chosen a secret integer between {self._low} "
                f"and {self._high} inclusive.",
                "Guess it. After each guess I answer 'higher' (the secret is larger) or 'lower' "
                f"(the secret is smaller). Finding it within {_BUDGET} guesses scores 1.0; each "
                f"guess beyond that costs 1/{_BUDGET} of the score.",
                *(["Your guesses so far:", *self._history] if self._history else []),
                _ASK,
                _INSTRUCTION,
            ]
        )
        return f"{feedback}\n\n{text}" if feedback else text

    def step(self, action: str):
        self._turn += 1
        truncated = self._turn >= _MAX_TURNS
        end = f"\n\nThe episode is over: the limit of {_MAX_TURNS} moves was reached."
        match = _INT.search(action)
        if match is None:
            feedback = "Your last reply could not be read: write one integer."
            return (end if truncated else self._prompt(feedback)), -0.1, False, truncated, {}
        guess = int(match.group(1))
        k = len(self._history) + 1
        if guess == self._secret:
            if k <= _BUDGET:
                reward, said = (
                    1.0,
                    f"{guess} is the secret, found with guess {k} (budget {_BUDGET})",
                )
            else:
                reward = max(0.0, 1.0 - (k - _BUDGET) / _BUDGET)
                said = (
                    f"found the secret {guess} with guess {k}, over the budget of {_BUDGET} "
                    f"guesses (score {reward:.3g})"
                )
            return f"{said}.\n\nThe episode is over.", reward, True, False, {}
        answer = "higher" if self._secret > guess else "lower"
        self._history.append(f"  {guess} -> {answer}")
        feedback = f"{guess} is not the secret: it is {answer}."
        return (feedback + end if truncated else self._prompt(feedback)), 0.0, False, truncated, {}


def _register_bare() -> None:
    if _BARE_ID not in gym.registry:
        gym.register(_BARE_ID, entry_point="langgames.benchmarks.step_speed:BareNumberHunt")


def _actions(steps: int) -> list[str]:
    rng = np.random.default_rng(0)
    return [f"guess: {int(x)}" for x in rng.integers(-12_000, 12_000, steps)]


def same_observations(actions: list[str]) -> bool:
    """Whether the bare env shows exactly NumberHunt's observations for these actions."""
    _register_bare()
    bare, game = gym.make(_BARE_ID), gym.make("langgames/NumberHunt-v0")
    episode = 0
    seen = [env.reset(seed=episode)[0] for env in (bare, game)]
    for action in actions:
        if seen[0] != seen[1]:
            return False
        steps = [env.step(action) for env in (bare, game)]
        seen = [steps[0][0], steps[1][0]]
        if steps[0][1:4] != steps[1][1:4]:  # reward, terminated, truncated
            return False
        if steps[0][2] or steps[0][3]:
            episode += 1
            if seen[0] != seen[1]:
                return False
            seen = [env.reset(seed=episode)[0] for env in (bare, game)]
    return seen[0] == seen[1]


class _TextArenaGuess:
    """TextArena's GuessTheNumber behind ``reset``/``step``, driven by in-range random guesses."""

    def __init__(self) -> None:
        import textarena  # optional: only for this comparison

        self._env = textarena.make("GuessTheNumber-v0-raw")
        self._rng = np.random.default_rng(0)
        self._episode = 0

    def reset(self, seed: int | None = None) -> None:
        self._episode += 1
        self._env.reset(num_players=1, seed=self._episode if seed is None else seed)
        self._env.get_observation()

    def step(self, action: str) -> tuple[None, float, bool, bool, dict[str, Any]]:
        # The random policy's reply in this game's format (the shared action list is NumberHunt's).
        done, _ = self._env.step(f"[{int(self._rng.integers(1, 21))}]")
        if not done:
            self._env.get_observation()
        return None, 0.0, done, False, {}


class _UncheckedVerdict:
    """`Verdict`'s four fields without its checks (the ``verdict checks`` ablation only)."""

    __slots__ = ("details", "reason", "reward", "status")

    def __init__(self, status: Any, reward: float, reason: str, details: Any = None) -> None:
        self.status, self.reward, self.reason = status, reward, reason
        self.details = {} if details is None else details


_NO_INFO: dict[str, Any] = {}

#: Per-step features of the base class, and how the ablation takes each out: (owner, attribute,
#: replacement) patches applied only while that variant is timed.
ABLATIONS: dict[str, list[tuple[Any, str, Any]]] = {
    "observation cleaning": [(core, "clean_text", lambda text: text)],
    "reply contract": [(core, "read_reply", lambda text, marker, tags=(): (text, text))],
    "verdict checks": [(number_hunt, "Verdict", _UncheckedVerdict)],
    "info dict": [(core.LanguageGame, "_info", lambda self, verdict, rewards, actor: _NO_INFO)],
}


@contextlib.contextmanager
def _patched(patches: list[tuple[Any, str, Any]]) -> Any:
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, value in patches:
            setattr(owner, name, value)
        yield
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def _steps_per_second(env: Any, actions: list[str], clock: Callable[[], float]) -> float:
    env.reset(seed=0)
    step, reset = env.step, env.reset
    start = clock()
    for action in actions:
        _, _, terminated, truncated, _ = step(action)
        if terminated or truncated:
            reset()
    return len(actions) / (clock() - start)


#: (NumberHunt variant, the bare variant it is compared with) for the PASS/FAIL lines.
PAIRS = (
    ("NumberHunt (gym.make)", "bare NumberHunt (gym.make)"),
    ("NumberHunt (unwrapped)", "bare NumberHunt (unwrapped)"),
)


def measure(
    steps: int, trials: int, cpu_time: bool = False, ablate: bool = False
) -> dict[str, Any]:
    actions = _actions(steps)
    if not same_observations(actions[: min(steps, 5_000)]):
        raise RuntimeError("the bare env no longer shows NumberHunt's observations: fix it first")
    _register_bare()
    variants: dict[str, Any] = {
        "bare NumberHunt (unwrapped)": BareNumberHunt(),
        "bare NumberHunt (gym.make)": gym.make(_BARE_ID),
        "NumberHunt (unwrapped)": make_game("langgames/NumberHunt-v0"),
        "NumberHunt (gym.make)": gym.make("langgames/NumberHunt-v0"),
        "floor: one-line observation": FloorNumberHunt(),
        "NumberHunt + candidates_in_info": gym.make(
            "langgames/NumberHunt-v0", candidates_in_info=True
        ),
    }
    with contextlib.suppress(ImportError):
        variants["TextArena GuessTheNumber (raw)"] = _TextArenaGuess()
    patches: dict[str, list[tuple[Any, str, Any]]] = {name: [] for name in variants}
    if ablate:
        for feature, patch in ABLATIONS.items():
            name = f"NumberHunt (unwrapped) - {feature}"
            variants[name], patches[name] = make_game("langgames/NumberHunt-v0"), patch
        name = "NumberHunt (unwrapped) - all four"
        variants[name] = make_game("langgames/NumberHunt-v0")
        patches[name] = [p for patch in ABLATIONS.values() for p in patch]
    clock = time.process_time if cpu_time else time.perf_counter
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for name, env in variants.items():  # warm-up
        with _patched(patches[name]):
            _steps_per_second(env, actions[: max(1, steps // 10)], clock)
    for _ in range(trials):
        for name, env in variants.items():
            with _patched(patches[name]):
                samples[name].append(_steps_per_second(env, actions, clock))
    median = {name: statistics.median(values) for name, values in samples.items()}
    rows = []
    for name, value in median.items():
        wrapped = "gym.make" in name or "TextArena" in name
        base = median[f"bare NumberHunt ({'gym.make' if wrapped else 'unwrapped'})"]
        rows.append(
            {
                "variant": name,
                "median_steps_per_s": value,
                "min_steps_per_s": min(samples[name]),
                "max_steps_per_s": max(samples[name]),
                "ratio_to_bare": value / base,
            }
        )
    checks = [
        {
            "variant": game,
            "bare": bare,
            "ratio": median[game] / median[bare],
            "passed": median[game] / median[bare] >= TARGET,
        }
        for game, bare in PAIRS
    ]
    return {
        "steps": steps,
        "trials": trials,
        "clock": "cpu" if cpu_time else "wall",
        "target": TARGET,
        "rows": rows,
        "checks": checks,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: python benchmarks/step_speed.py --steps 20000 --trials 7",
    )
    parser.add_argument("--steps", type=int, default=20_000, help="steps per variant per trial")
    parser.add_argument("--trials", type=int, default=7, help="interleaved trials (medians)")
    parser.add_argument("--cpu-time", action="store_true", help="time on CPU time, not wall")
    parser.add_argument(
        "--ablate", action="store_true", help="also time NumberHunt without each per-step feature"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    result = measure(args.steps, args.trials, args.cpu_time, args.ablate)
    print(
        f"random-policy steps/s ({result['clock']} clock), median of {args.trials} interleaved "
        f"trials of {args.steps} steps; bare env and NumberHunt show the same observation text"
    )
    print(f"{'variant':44} {'steps/s':>10} {'min':>10} {'max':>10} {'x bare':>7}")
    for row in result["rows"]:
        print(
            f"{row['variant']:44} {row['median_steps_per_s']:10,.0f} "
            f"{row['min_steps_per_s']:10,.0f} {row['max_steps_per_s']:10,.0f} "
            f"{row['ratio_to_bare']:7.2f}"
        )
    for check in result["checks"]:
        verdict = "PASS" if check["passed"] else "FAIL"
        print(
            f"{verdict}: {check['variant']} runs at {check['ratio']:.2f}x {check['bare']} "
            f"(target >= {TARGET}x)"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    failed = not all(check["passed"] for check in result["checks"])
    return 1 if args.check and failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
