"""Does the meta-critic earn its place? Curriculum vs uniform sampling, same budget, several seeds.

A small tabular learner (one epsilon-greedy value table per game, keyed by the observation, over
the game's ``info["candidate_actions"]`` or a fixed fallback set of replies) trains on a mixture of

* learnable games: ``Lookup4`` and ``Lookup12`` (toy games defined here: the prompt names one of 4
  or 12 items, each item has one fixed right option among four; a table learns them);
* games it cannot learn: ``Coin`` (toy: the right option is drawn afresh each episode) and two
  registered games, ``BaseConvert-v0`` and ``Countdown-v0`` (every instance is new, and a table of
  prompts does not generalise);
* deliberately broken games: ``Noisy`` (reward is a coin flip whatever the reply) and ``Farm``
  (the reply "yes" always earns the reward: exploitable).

Arms, each with the same number of training episodes per seed:

* ``uniform``: every game equally often;
* ``metacritic``: `langgames.metacritic.MetaCritic` fed each episode's score, with the cards of
  the toy games measured here by `langgames.audit.audit_game` (the broken ones come out flagged and
  are dropped) and the registered games' stored cards;
* ``lp_only``: the same critic, but ignoring cards (``drop_flagged=False``): learning progress
  alone, to see what the reliability filter contributes.

The held-out score is the greedy policy's mean success on evaluation seeds over the *trustworthy*
games (learnable + unlearnable; the broken games' rewards mean nothing), after training; also its
mean over the learnable games alone, and "curve mean", the held-out score averaged over ten
checkpoints during training (how fast it learnt; with a large enough budget every arm saturates the
learnable games, so the end score alone cannot tell the arms apart). Also reported: the share of
the budget spent on learnable, unlearnable and broken games. Prints a table and writes a PNG::

    python examples/metacritic_experiment.py                       # ~1-2 minutes
    python examples/metacritic_experiment.py --episodes 300 --seeds 2 --plot /tmp/mc.png
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from typing import Any

import numpy as np

import langgames
from langgames.core import EVAL_SEEDS, GameInfo, LanguageGame, Move, ParseError
from langgames.verifiers import Verdict

OPTIONS = ("red", "green", "blue", "gold")
FALLBACK = ("0", "1", "2", "10", "yes", "no")


class _Choice(LanguageGame):
    """Name the option that goes with the item (one move; options listed as candidates)."""

    items = 4
    game_info = GameInfo(
        name="Lookup",
        version=0,
        roles=("player",),
        verifiers=("exact",),
        answer_format="one of: red, green, blue, gold",
        reward_range=(-0.1, 1.0),
        max_turns=1,
        difficulty_levels=(1,),
    )

    def _setup(self) -> str:
        self.item = int(self.np_random.integers(self.items))
        self.answer = self._answer()
        return "player"

    def _answer(self) -> str:
        return OPTIONS[(self.item * 7 + self.items) % len(OPTIONS)]  # a fixed table

    def _prompt(self, role: str) -> str:
        return f"Item #{self.item}: which colour goes with it? Reply with one of {OPTIONS}."

    def _candidates(self, role: str) -> list[str] | None:
        return list(OPTIONS)

    def _score(self, text: str) -> bool:
        return text == self.answer

    def _play(self, role: str, action: str) -> Move:
        text = action.strip().lower()
        if text not in OPTIONS and text != "yes":
            raise ParseError(f"expected one of {OPTIONS}")
        ok = self._score(text)
        verdict = Verdict.make_correct() if ok else Verdict.make_incorrect("wrong colour")
        return Move(verdict, {role: self._reward_for(verdict)})

    def _reference(self, role: str) -> str:
        return self.answer


class Lookup4(_Choice):
    items = 4
    game_info = GameInfo(**{**_Choice.game_info.__dict__, "name": "Lookup4"})


class Lookup12(_Choice):
    items = 12
    game_info = GameInfo(**{**_Choice.game_info.__dict__, "name": "Lookup12"})


class Coin(_Choice):
    """Unlearnable: the right colour is drawn afresh each episode, whatever the item."""

    game_info = GameInfo(**{**_Choice.game_info.__dict__, "name": "Coin"})

    def _answer(self) -> str:
        return OPTIONS[int(self.np_random.integers(len(OPTIONS)))]


class Noisy(_Choice):
    """Broken: the reward is a coin flip whatever the reply (the reference fails half the time)."""

    game_info = GameInfo(**{**_Choice.game_info.__dict__, "name": "Noisy"})

    def _score(self, text: str) -> bool:
        return bool(self.np_random.random() < 0.5)


class Farm(_Choice):
    """Broken: "yes" always earns the reward (an exploit any constant policy finds)."""

    game_info = GameInfo(**{**_Choice.game_info.__dict__, "name": "Farm"})

    def _candidates(self, role: str) -> list[str] | None:
        return [*OPTIONS, "yes"]

    def _score(self, text: str) -> bool:
        return text in (self.answer, "yes")


TOYS: dict[str, type[LanguageGame]] = {
    "Lookup4": Lookup4,
    "Lookup12": Lookup12,
    "Coin": Coin,
    "Noisy": Noisy,
    "Farm": Farm,
}
REGISTERED = ("langgames/BaseConvert-v0", "langgames/Countdown-v0")
LEARNABLE = ("Lookup4", "Lookup12")
UNLEARNABLE = ("Coin", *REGISTERED)
BROKEN = ("Noisy", "Farm")
TRUSTED = (*LEARNABLE, *UNLEARNABLE)


class TabularLearner:
    """Epsilon-greedy action values per (game, observation) over the candidate/fallback replies."""

    def __init__(self, seed: int, epsilon: float = 0.2) -> None:
        self.rng = np.random.default_rng(seed)
        self.epsilon = epsilon
        self.q: dict[tuple[str, str], dict[str, list[float]]] = {}

    def act(self, game: str, obs: str, info: dict[str, Any], greedy: bool = False) -> str:
        actions = [str(a) for a in (info.get("candidate_actions") or FALLBACK)]
        table = self.q.setdefault((game, obs), {})
        if not greedy and self.rng.random() < self.epsilon:
            return actions[int(self.rng.integers(len(actions)))]
        # optimistic for untried replies, so each is tried once before settling
        values = [table[a][0] if a in table else (0.5 if not greedy else 0.0) for a in actions]
        best = max(values)
        ties = [a for a, v in zip(actions, values, strict=True) if v == best]
        return ties[0] if greedy else ties[int(self.rng.integers(len(ties)))]

    def learn(self, game: str, obs: str, action: str, reward: float) -> None:
        value, count = self.q.setdefault((game, obs), {}).get(action, [0.0, 0.0])
        count += 1
        self.q[(game, obs)][action] = [value + (reward - value) / count, count]


def make_games() -> dict[str, LanguageGame]:
    games: dict[str, LanguageGame] = {name: cls() for name, cls in TOYS.items()}
    for gid in REGISTERED:
        games[gid] = langgames.registry.make_game(gid)
    return games


def episode(
    learner: TabularLearner, name: str, game: LanguageGame, seed: int | None, train: bool
) -> float:
    """One episode; returns the score (positive reward earned / max return, in [0, 1])."""
    obs, info = game.reset(seed=seed)
    earned = 0.0
    for _ in range(game.max_turns):
        action = learner.act(name, obs, info, greedy=not train)
        new_obs, reward, terminated, truncated, info = game.step(action)
        if train:
            learner.learn(name, obs, action, float(reward))
        earned += max(float(reward), 0.0)
        obs = new_obs
        if terminated or truncated:
            break
    return min(1.0, earned / game.max_return(game.learner_roles[0]))


def toy_cards(episodes: int) -> dict[str, dict[str, Any]]:
    from langgames.audit import audit_game

    return {n: audit_game(cls(), episodes=episodes, cross_process=False) for n, cls in TOYS.items()}


def run_arm(
    arm: str, seed: int, budget: int, eval_episodes: int, cards: dict[str, Any]
) -> dict[str, Any]:
    from langgames.metacritic import MetaCritic

    games = make_games()
    names = list(games)
    learner = TabularLearner(seed)
    rng = np.random.default_rng(seed + 10_000)
    critic = None
    if arm != "uniform":
        critic = MetaCritic(names, seed=seed, cards={**cards}, drop_flagged=(arm == "metacritic"))
    plays: dict[str, int] = defaultdict(int)
    curve = []
    for t in range(budget):
        name = names[int(rng.integers(len(names)))] if critic is None else critic.sample()
        score = episode(learner, name, games[name], int(rng.integers(0, 2**31)), train=True)
        plays[name] += 1
        if critic is not None:
            critic.update(name, score)
        if (t + 1) % max(1, budget // 10) == 0:
            curve.append((t + 1, evaluate(learner, games, eval_episodes)["mean"]))
    result = evaluate(learner, games, eval_episodes)
    auc = float(np.mean([y for _, y in curve])) if curve else result["mean"]
    for g in games.values():
        g.close()
    return {
        "arm": arm,
        "seed": seed,
        "held_out": result["mean"],
        "held_out_learnable": float(np.mean([result["per_game"][g] for g in LEARNABLE])),
        "curve_mean": auc,
        "per_game": result["per_game"],
        "budget_broken": sum(plays[n] for n in BROKEN) / budget,
        "budget_unlearnable": sum(plays[n] for n in UNLEARNABLE) / budget,
        "budget_learnable": sum(plays[n] for n in LEARNABLE) / budget,
        "plays": dict(plays),
        "curve": curve,
    }


def evaluate(learner: TabularLearner, games: dict[str, LanguageGame], n: int) -> dict[str, Any]:
    per_game = {
        name: float(
            np.mean(
                [
                    episode(learner, name, games[name], EVAL_SEEDS.start + i, train=False)
                    for i in range(n)
                ]
            )
        )
        for name in TRUSTED
    }
    return {"mean": float(np.mean(list(per_game.values()))), "per_game": per_game}


def plot(results: list[dict[str, Any]], path: str) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        raise langgames.MissingExtra("the experiment's plot", "plot", "matplotlib") from err
    arms = sorted({r["arm"] for r in results})
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    for arm in arms:
        runs = [r for r in results if r["arm"] == arm]
        xs = [x for x, _ in runs[0]["curve"]]
        ys = np.array([[y for _, y in r["curve"]] for r in runs])
        ax1.plot(xs, ys.mean(0), label=arm)
        ax1.fill_between(xs, ys.min(0), ys.max(0), alpha=0.2)
    ax1.set_xlabel("training episodes")
    ax1.set_ylabel("held-out score (trusted games)")
    ax1.legend()
    keys = ("budget_learnable", "budget_unlearnable", "budget_broken")
    width = 0.8 / len(arms)
    for i, arm in enumerate(arms):
        runs = [r for r in results if r["arm"] == arm]
        ax2.bar(
            np.arange(3) + i * width,
            [np.mean([r[k] for r in runs]) for k in keys],
            width,
            label=arm,
        )
    ax2.set_xticks(np.arange(3) + width * (len(arms) - 1) / 2)
    ax2.set_xticklabels(["learnable", "unlearnable", "broken"])
    ax2.set_ylabel("share of training budget")
    ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=400, help="training episodes per run")
    parser.add_argument("--seeds", type=int, default=8, help="seeds per arm")
    parser.add_argument("--eval-episodes", type=int, default=48, help="held-out episodes per game")
    parser.add_argument("--audit-episodes", type=int, default=20, help="episodes per toy audit")
    parser.add_argument("--plot", default="metacritic_experiment.png", help="PNG path ('' = none)")
    parser.add_argument("--json", default="", help="also write every run's results here")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    cards = toy_cards(args.audit_episodes)
    for name, card in cards.items():
        flags = "; ".join(card["flags"])[:90] or "-"
        print(f"audit {name:9} grade {card['grade']} flagged={card['flagged']}  {flags}")
    results = [
        run_arm(arm, seed, args.episodes, args.eval_episodes, cards)
        for arm in ("uniform", "metacritic", "lp_only")
        for seed in range(args.seeds)
    ]
    print(f"\n{args.episodes} training episodes x {args.seeds} seeds per arm\n")
    print(
        f"{'arm':11} {'held-out':>17} {'learnable games':>16} {'curve mean':>11}"
        f" | budget: {'learnable':>9} {'unlearnable':>12} {'broken':>7}"
    )
    summary: dict[str, Any] = {}
    for arm in ("uniform", "metacritic", "lp_only"):
        runs = [r for r in results if r["arm"] == arm]
        held = np.array([r["held_out"] for r in runs])
        row = {
            "held_out_mean": float(held.mean()),
            "held_out_sd": float(held.std(ddof=1)) if len(held) > 1 else 0.0,
            "held_out_learnable": float(np.mean([r["held_out_learnable"] for r in runs])),
            "curve_mean": float(np.mean([r["curve_mean"] for r in runs])),
            "budget_learnable": float(np.mean([r["budget_learnable"] for r in runs])),
            "budget_unlearnable": float(np.mean([r["budget_unlearnable"] for r in runs])),
            "budget_broken": float(np.mean([r["budget_broken"] for r in runs])),
            "per_game": {
                g: float(np.mean([r["per_game"][g] for r in runs])) for g in runs[0]["per_game"]
            },
        }
        summary[arm] = row
        print(
            f"{arm:11} {row['held_out_mean']:8.3f} +- {row['held_out_sd']:.3f}"
            f" {row['held_out_learnable']:16.3f} {row['curve_mean']:11.3f}"
            f" | budget: {row['budget_learnable']:9.1%} {row['budget_unlearnable']:12.1%}"
            f" {row['budget_broken']:7.1%}"
        )
    print("\nheld-out score per game (mean over seeds):")
    for arm, row in summary.items():
        print(
            f"  {arm:11} "
            + "  ".join(f"{g.split('/')[-1]}={v:.2f}" for g, v in row["per_game"].items())
        )
    if args.plot:
        plot(results, args.plot)
        print(f"\nplot: {args.plot}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump({"summary": summary, "runs": results}, f, indent=2)
    print(f"({time.perf_counter() - start:.0f} s)")
    return summary


if __name__ == "__main__":
    main()
