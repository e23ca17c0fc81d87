"""Step overhead of langgames' base class against a minimal Gymnasium text env, side by side.

Measures the time of ``reset`` + ``step`` for single-move episodes (and of a ``step`` alone in a
multi-move episode) for:

- ``minimal``: a bare ``gymnasium.Env`` with a ``Text`` space that compares the action with a
  stored string (the floor: what any text env must do);
- ``langgames:EchoWord``: the same game written on `langgames.core.LanguageGame` (adds roles,
  verdicts, info keys, action checks, observation cleaning, transcript);
- ``BaseConvert``: a real single-move game with its own parsing and scoring.

A second table gives the steps/s of a random policy (random replies in each game's format) through
``gym.make``, for the short games NumberHunt, CodeBreaker and BaseConvert, beside the bare
NumberHunt of ``benchmarks/step_speed.py`` (NumberHunt on a plain ``gymnasium.Env``, showing the
same observation text), also through ``gym.make``, so both sides carry Gymnasium's
``PassiveEnvChecker`` and ``OrderEnforcing`` wrappers. Target (issue 14): NumberHunt at least 0.5x
the bare NumberHunt; the run prints PASS or FAIL (``--check``: exit 1 on FAIL).

Trials are interleaved so that machine noise hits every variant alike; the tables report the
median over trials and the ratio to the reference.

Usage::

    python benchmarks/step_overhead.py [--episodes 2000] [--steps 20000] [--trials 7]
                                       [--check] [--json out.json]

Arguments:
    --episodes  single-move episodes per variant per trial (default 2000)
    --steps     random-policy steps per game per trial (default 20000)
    --trials    interleaved trials; medians are reported (default 7)
    --check     exit 1 if NumberHunt misses the 0.5x target
    --json      also write the results to this file
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

import langgames
from langgames.benchmarks.step_speed import TARGET
from langgames.core import GameInfo, LanguageGame, Move, ParseError
from langgames.spaces import MAX_TEXT_LENGTH
from langgames.verifiers import Verdict

_WORDS = ["apple", "river", "stone", "cloud", "ember", "maple", "quartz", "tiger"]


class MinimalTextEnv(gym.Env[str, str]):
    """The floor: a Gymnasium env with Text spaces that checks one word."""

    def __init__(self) -> None:
        charset = langgames.spaces.TEXT_CHARSET
        self.observation_space = spaces.Text(MAX_TEXT_LENGTH, min_length=0, charset=charset)
        self.action_space = spaces.Text(MAX_TEXT_LENGTH, min_length=0, charset=charset)
        self._word = ""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._word = _WORDS[int(self.np_random.integers(len(_WORDS)))]
        return f"Type the word {self._word}.", {}

    def step(self, action: str):
        reward = 1.0 if action.strip() == self._word else 0.0
        return "done", reward, True, False, {}


class EchoWord(LanguageGame):
    """The same game on langgames' base class."""

    game_info = GameInfo(
        name="EchoWord",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format="the word",
        reward_range=(-0.1, 1.0),
        max_turns=3,
    )

    def _setup(self) -> str:
        self._word = _WORDS[int(self.np_random.integers(len(_WORDS)))]
        return "player"

    def _prompt(self, role: str) -> str:
        return f"Type the word {self._word}."

    def _play(self, role: str, action: str) -> Move:
        text = action.strip()
        if not text.isalpha():
            raise ParseError("expected one word")
        verdict = Verdict.make_correct() if text == self._word else Verdict.make_incorrect("no")
        return Move(verdict, {role: self._reward_for(verdict)})

    def _reference(self, role: str) -> str:
        return self._word


def _episodes(env: gym.Env, answer: Callable[[gym.Env], str], n: int) -> float:
    """Seconds per single-move episode (reset + step)."""
    start = time.perf_counter()
    for seed in range(n):
        env.reset(seed=seed)
        env.step(answer(env))
    return (time.perf_counter() - start) / n


def _random_replies(game: str, n: int) -> list[str]:
    """``n`` random replies in the format of ``game`` (what a random policy writes)."""
    rng = np.random.default_rng(0)
    if game == "NumberHunt":
        return [f"guess: {int(x)}" for x in rng.integers(-12_000, 12_000, n)]
    if game == "CodeBreaker":
        letters = np.array(list("ABCDEFGH"))
        return ["guess: " + " ".join(row) for row in rng.choice(letters, size=(n, 4))]
    digits = np.array(list("0123456789abcdef"))
    return ["\\boxed{" + "".join(row) + "}" for row in rng.choice(digits, size=(n, 3))]


def _random_policy_steps(env: gym.Env, replies: list[str]) -> float:
    """Seconds per step of a random policy (resets included, as in training)."""
    env.reset(seed=0)
    step, reset = env.step, env.reset
    start = time.perf_counter()
    for reply in replies:
        _, _, terminated, truncated, _ = step(reply)
        if terminated or truncated:
            reset()
    return (time.perf_counter() - start) / len(replies)


_BARE_HUNT = "bare NumberHunt (gym.make)"
_BARE_ENTRY = "langgames.benchmarks.step_speed:BareNumberHunt"
_GAMES = ("NumberHunt", "CodeBreaker", "BaseConvert")


def measure_random_policy(steps: int, trials: int) -> dict[str, Any]:
    """Random-policy seconds per step through ``gym.make``, beside the bare NumberHunt."""
    if "bench/BareNumberHunt-v0" not in gym.registry:
        gym.register("bench/BareNumberHunt-v0", entry_point=_BARE_ENTRY)
    envs = {_BARE_HUNT: (gym.make("bench/BareNumberHunt-v0"), _random_replies("NumberHunt", steps))}
    for game in _GAMES:
        envs[f"{game} (gym.make)"] = (
            gym.make(f"langgames/{game}-v0"),
            _random_replies(game, steps),
        )
    samples: dict[str, list[float]] = {name: [] for name in envs}
    for env, replies in envs.values():  # warm-up
        _random_policy_steps(env, replies[: max(1, steps // 10)])
    for _ in range(trials):
        for name, (env, replies) in envs.items():
            samples[name].append(_random_policy_steps(env, replies))
    base = statistics.median(samples[_BARE_HUNT])
    rows = []
    for name, values in samples.items():
        med = statistics.median(values)
        rows.append(
            {
                "variant": name,
                "median_us": med * 1e6,
                "steps_per_s": 1.0 / med,
                "ratio_to_bare_hunt": base / med,  # steps/s relative to the bare NumberHunt
            }
        )
    ratio = base / statistics.median(samples["NumberHunt (gym.make)"])
    return {"rows": rows, "numberhunt_ratio": ratio, "passed": ratio >= TARGET}


def measure(episodes: int, trials: int) -> dict[str, Any]:
    word = lambda env: env.unwrapped._word  # noqa: E731 - both echo envs store the word
    variants: dict[str, Callable[[], float]] = {}
    minimal, echo = MinimalTextEnv(), EchoWord()
    if "bench/EchoWord-v0" not in gym.registry:
        gym.register("bench/EchoWord-v0", entry_point=EchoWord)  # type: ignore[arg-type]
    wrapped_echo = gym.make("bench/EchoWord-v0")
    convert = gym.make("langgames/BaseConvert-v0").unwrapped
    variants["minimal gymnasium.Env (Text)"] = lambda: _episodes(minimal, word, episodes)
    variants["langgames EchoWord (unwrapped)"] = lambda: _episodes(echo, word, episodes)
    variants["langgames EchoWord (gym.make)"] = lambda: _episodes(wrapped_echo, word, episodes)
    variants["BaseConvert (unwrapped)"] = lambda: _episodes(
        convert,
        lambda e: e.unwrapped.reference_action(),  # type: ignore[attr-defined]
        episodes,
    )
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for fn in variants.values():  # warm-up
        fn()
    for _ in range(trials):
        for name, fn in variants.items():
            samples[name].append(fn())
    base = statistics.median(samples["minimal gymnasium.Env (Text)"])
    rows = []
    for name, values in samples.items():
        med = statistics.median(values)
        rows.append(
            {
                "variant": name,
                "median_us": med * 1e6,
                "min_us": min(values) * 1e6,
                "ratio_to_minimal": med / base,
                "overhead_us": (med - base) * 1e6,
            }
        )
    return {"episodes": episodes, "trials": trials, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="example: python benchmarks/step_overhead.py --episodes 2000 --steps 20000",
    )
    parser.add_argument("--episodes", type=int, default=2000, help="single-move episodes")
    parser.add_argument("--steps", type=int, default=20_000, help="random-policy steps per game")
    parser.add_argument("--trials", type=int, default=7, help="interleaved trials (medians)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the target is missed")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    args = parser.parse_args(argv)
    result = measure(args.episodes, args.trials)
    result["random_policy"] = policy = measure_random_policy(args.steps, args.trials)
    print(
        f"reset+step per single-move episode; median of {args.trials} interleaved trials "
        f"of {args.episodes} episodes"
    )
    print(f"{'variant':34} {'median µs':>10} {'min µs':>9} {'x minimal':>10} {'overhead µs':>12}")
    for r in result["rows"]:
        print(
            f"{r['variant']:34} {r['median_us']:10.1f} {r['min_us']:9.1f} "
            f"{r['ratio_to_minimal']:10.2f} {r['overhead_us']:12.1f}"
        )
    print(
        f"\nrandom-policy steps through gym.make (resets included); median of {args.trials} "
        f"interleaved trials of {args.steps} steps"
    )
    print(f"{'variant':34} {'median µs':>10} {'steps/s':>10} {'x bare NumberHunt':>18}")
    for r in policy["rows"]:
        print(
            f"{r['variant']:34} {r['median_us']:10.1f} {r['steps_per_s']:10,.0f} "
            f"{r['ratio_to_bare_hunt']:18.2f}"
        )
    print(
        f"{'PASS' if policy['passed'] else 'FAIL'}: NumberHunt (gym.make) runs at "
        f"{policy['numberhunt_ratio']:.2f}x {_BARE_HUNT} (target >= {TARGET}x)"
    )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return 1 if args.check and not policy["passed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
