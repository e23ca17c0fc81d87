"""Steps per second of a random policy on NumberHunt, beside a bare Gymnasium env, in one run.

The question a user asks before training a classic-RL agent or running many rollouts: what does
langgames' base class (roles, verdicts, the reply contract, observation cleaning, the transcript)
cost per step against a Gymnasium env that does nothing more than the game itself? Both play the
same guessing game with ``Text`` spaces, driven by the same random guesses:

- ``bare gymnasium.Env``: the floor. It reads the last integer of the reply, answers
  ``higher``/``lower`` and ends on the secret; its observation is one short line.
- ``bare, with the game's prompt``: the same, but its observation is NumberHunt's (the rules and
  every guess so far), since building that text is part of the game, not of the base class;
- ``NumberHunt (unwrapped)`` and ``NumberHunt (gym.make)``: the real game, with its full prompt,
  verdicts and info keys (``info["candidate_actions"]`` off, as by default).
- ``NumberHunt + candidates_in_info``: the same with the legal moves listed in every ``info``.

Trials are interleaved so that machine noise hits every variant alike; the table reports the median
steps/s over trials and the ratio to the bare env. Target (issue 14): NumberHunt unwrapped at least
0.5x the bare env.

Usage::

    python benchmarks/step_speed.py [--steps 20000] [--trials 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

import langgames
from langgames.registry import make_game

_INT = re.compile(r"(-?\d+)\s*$")


class BareNumberHunt(gym.Env[str, str]):
    """The floor: the guessing game with Text spaces and nothing else."""

    def __init__(self) -> None:
        charset = langgames.spaces.TEXT_CHARSET
        self.observation_space = spaces.Text(max_length=100_000, charset=charset)
        self.action_space = spaces.Text(max_length=100_000, charset=charset)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._secret = int(self.np_random.integers(-10_000, 10_000))
        self._turn = 0
        return "Guess a secret integer between -10000 and 10000.", {}

    def step(self, action: str):
        self._turn += 1
        match = _INT.search(action)
        if match is None:
            return "Write one integer.", -0.1, False, self._turn >= 30, {}
        guess = int(match.group(1))
        if guess == self._secret:
            return "Found it.", 1.0, True, False, {}
        answer = "higher" if self._secret > guess else "lower"
        return f"{guess}: {answer}", 0.0, False, self._turn >= 30, {}


class PromptingNumberHunt(BareNumberHunt):
    """The bare env, but with NumberHunt's observation: the rules and every guess so far."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._history: list[str] = []
        _, info = super().reset(seed=seed, options=options)
        return self._prompt(), info

    def _prompt(self) -> str:
        return "\n".join(
            [
                "You are playing NumberHunt. I have chosen a secret integer between -10000 and "
                "10000 inclusive.",
                "Guess it. After each guess I answer 'higher' or 'lower'.",
                *(["Your guesses so far:", *self._history] if self._history else []),
                "Reply with your next guess as one integer on the last line, e.g. `guess: 42`.",
            ]
        )

    def step(self, action: str):
        obs, reward, terminated, truncated, info = super().step(action)
        if ":" in obs:
            self._history.append(f"  {obs.replace(':', ' ->')}")
        return obs if terminated else self._prompt(), reward, terminated, truncated, info


def _steps_per_second(env: gym.Env, actions: list[str]) -> float:
    env.reset(seed=0)
    start = time.perf_counter()
    for action in actions:
        _, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            env.reset()
    return len(actions) / (time.perf_counter() - start)


def measure(steps: int, trials: int) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    actions = [f"guess: {int(x)}" for x in rng.integers(-12_000, 12_000, steps)]
    variants: dict[str, gym.Env] = {
        "bare gymnasium.Env (Text)": BareNumberHunt(),
        "bare, with the game's prompt": PromptingNumberHunt(),
        "NumberHunt (unwrapped)": make_game("langgames/NumberHunt-v0"),
        "NumberHunt (gym.make)": gym.make("langgames/NumberHunt-v0"),
        "NumberHunt + candidates_in_info": make_game(
            "langgames/NumberHunt-v0", candidates_in_info=True
        ),
    }
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for env in variants.values():  # warm-up
        _steps_per_second(env, actions[: steps // 10])
    for _ in range(trials):
        for name, env in variants.items():
            samples[name].append(_steps_per_second(env, actions))
    base = statistics.median(samples["bare gymnasium.Env (Text)"])
    rows = [
        {
            "variant": name,
            "median_steps_per_s": statistics.median(values),
            "ratio_to_bare": statistics.median(values) / base,
        }
        for name, values in samples.items()
    ]
    return {"steps": steps, "trials": trials, "rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    result = measure(args.steps, args.trials)
    print(
        f"random-policy steps/s, median of {args.trials} interleaved trials of {args.steps} steps"
    )
    print(f"{'variant':34} {'steps/s':>10} {'x bare':>8}")
    for row in result["rows"]:
        print(f"{row['variant']:34} {row['median_steps_per_s']:10,.0f} {row['ratio_to_bare']:8.2f}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
