"""Step overhead of langgames' base class against a minimal Gymnasium text env, side by side.

Measures the time of ``reset`` + ``step`` for single-move episodes (and of a ``step`` alone in a
multi-move episode) for:

- ``minimal``: a bare ``gymnasium.Env`` with a ``Text`` space that compares the action with a
  stored string (the floor: what any text env must do);
- ``langgames:EchoWord``: the same game written on `langgames.core.LanguageGame` (adds roles,
  verdicts, info keys, action checks, observation cleaning, transcript);
- ``BaseConvert`` and ``NumberHunt``: real games with their own parsing and scoring.

Each is measured unwrapped and through ``gym.make`` (Gymnasium's order-enforcing and passive
checker wrappers). Trials are interleaved so that machine noise hits every variant alike; the
table reports the median over trials and the ratio to the minimal env.

Usage::

    python benchmarks/step_overhead.py [--episodes 2000] [--trials 7] [--json out.json]

Arguments:
    --episodes  episodes per variant per trial (default 2000)
    --trials    interleaved trials; medians are reported (default 7)
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
from gymnasium import spaces

import langgames
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


def _hunt_steps(env: gym.Env, n: int) -> float:
    """Seconds per step of NumberHunt (a long episode, reset excluded)."""
    game = env.unwrapped
    total, steps, seed = 0.0, 0, 0
    while steps < n:
        env.reset(seed=seed)
        seed += 1
        done = False
        while not done and steps < n:
            action = game.reference_action()
            start = time.perf_counter()
            *_, term, trunc, _ = env.step(action)
            total += time.perf_counter() - start
            steps += 1
            done = term or trunc
    return total / n


def measure(episodes: int, trials: int) -> dict[str, Any]:
    word = lambda env: env.unwrapped._word  # noqa: E731 - both echo envs store the word
    variants: dict[str, Callable[[], float]] = {}
    minimal, echo = MinimalTextEnv(), EchoWord()
    if "bench/EchoWord-v0" not in gym.registry:
        gym.register("bench/EchoWord-v0", entry_point=EchoWord)
    wrapped_echo = gym.make("bench/EchoWord-v0")
    convert = gym.make("langgames/BaseConvert-v0").unwrapped
    hunt = gym.make("langgames/NumberHunt-v0").unwrapped
    variants["minimal gymnasium.Env (Text)"] = lambda: _episodes(minimal, word, episodes)
    variants["langgames EchoWord (unwrapped)"] = lambda: _episodes(echo, word, episodes)
    variants["langgames EchoWord (gym.make)"] = lambda: _episodes(wrapped_echo, word, episodes)
    variants["BaseConvert (unwrapped)"] = lambda: _episodes(
        convert, lambda e: e.unwrapped.reference_action(), episodes
    )
    variants["NumberHunt step (unwrapped)"] = lambda: _hunt_steps(hunt, episodes)
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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--trials", type=int, default=7)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    result = measure(args.episodes, args.trials)
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
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
