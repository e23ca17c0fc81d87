"""Train stable-baselines3 PPO on langgames with the classic-RL adapters; report held-out success.

Each game is wrapped as ``TokenizeObservation(CandidateActions(game, k))`` (see
`langgames.integrations.sb3.candidate_env`): the policy reads the prompt and the numbered
candidate moves as byte ids, embedded by ``ByteEmbeddingExtractor``, and picks one of ``k``
indices. With sb3-contrib installed it trains ``MaskablePPO`` (indices without a candidate are
masked); otherwise plain ``PPO``, whose masked picks are played as an empty, unparseable reply.

After training, the deterministic policy plays ``--eval-episodes`` episodes on `EVAL_SEEDS` (never
seen in training, which draws from `TRAIN_SEEDS`) beside a policy that picks a candidate uniformly
at random on the same seeds. Success is an episode with the game's full return (BaseConvert: the
right numeral; NumberHunt: the secret found within its guess budget). For a single-move k-way
choice, random success is the chance level 1/k.

Games (``--games``, default both):

- ``BaseConvert``: six numerals, exactly one right (chance 1/6). Reading the base and the digits
  is needed to beat chance; a few thousand steps only learn the surface cues (e.g. that a
  binary-looking numeral is wrong for base 16).
- ``NumberHunt``: up to five guesses inside the still-possible range, ascending, one of them the
  midpoint (binary search). ``--max-turns`` (default: the guess budget) makes a slow search fail.

Usage::

    python examples/sb3_ppo.py                       # both games, ~2-4 minutes on 2 CPU cores
    python examples/sb3_ppo.py --games NumberHunt --steps 20000 --difficulty 2
    python examples/sb3_ppo.py --plain-ppo           # PPO without action masks

Needs ``pip install 'langgames[sb3]'`` (stable-baselines3, sb3-contrib, torch).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from langgames.core import EVAL_SEEDS
from langgames.integrations.sb3 import candidate_env

#: Guess budget of NumberHunt at each difficulty (its default --max-turns).
_NUMBER_HUNT_BUDGET = {1: 7, 2: 14, 3: 20}


def make_env(game: str, difficulty: int, k: int, max_length: int, max_turns: int | None) -> Any:
    """The wrapped game, ready for SB3 (game names without the ``langgames/`` prefix work)."""
    game_id = game if "/" in game else f"langgames/{game}-v0"
    kwargs: dict[str, Any] = {"difficulty": difficulty}
    if max_turns is not None:
        kwargs["max_turns"] = max_turns
    return candidate_env(game_id, k=k, max_length=max_length, **kwargs)


def evaluate(env: Any, choose: Callable[[np.ndarray, np.ndarray], int], episodes: int) -> float:
    """Fraction of held-out episodes (the first ``episodes`` of `EVAL_SEEDS`) that reach the
    game's full return with the index policy ``choose(observation, mask)``."""
    best = env.unwrapped.max_return(env.unwrapped.learner_roles[0])
    wins = 0
    for seed in EVAL_SEEDS[:episodes]:
        obs, _ = env.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            mask = env.get_wrapper_attr("action_masks")()
            obs, reward, terminated, truncated, _ = env.step(choose(obs, mask))
            total += float(reward)
            done = terminated or truncated
        wins += total >= best - 1e-9
    return wins / episodes


def random_choice(seed: int) -> Callable[[np.ndarray, np.ndarray], int]:
    """Uniform choice among the unmasked indices (the chance baseline)."""
    rng = np.random.default_rng(seed)
    return lambda obs, mask: int(rng.choice(np.flatnonzero(mask)))


def train(
    game: str,
    *,
    difficulty: int = 1,
    k: int = 6,
    max_length: int = 128,
    max_turns: int | None = None,
    steps: int = 8192,
    n_envs: int = 4,
    learning_rate: float = 3e-3,
    n_epochs: int = 10,
    gamma: float = 0.95,
    plain_ppo: bool = False,
    seed: int = 0,
    eval_episodes: int = 200,
    threads: int = 1,
) -> dict[str, float]:
    """Train on ``game`` and return ``{"success", "random", "chance", "seconds"}``.

    ``threads`` is torch's thread count: one is fastest for this small network (several threads
    cost more in synchronisation than they save, and more so on a shared machine).
    """
    import torch
    from stable_baselines3.common.env_util import make_vec_env

    from langgames.integrations.sb3 import ByteEmbeddingExtractor

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    start = time.perf_counter()
    venv = make_vec_env(
        lambda: make_env(game, difficulty, k, max_length, max_turns), n_envs=n_envs, seed=seed
    )
    common: dict[str, Any] = dict(
        n_steps=128,
        batch_size=128,
        learning_rate=learning_rate,
        n_epochs=n_epochs,
        gamma=gamma,
        ent_coef=0.0,
        seed=seed,
        verbose=0,
        policy_kwargs=dict(features_extractor_class=ByteEmbeddingExtractor, net_arch=[64]),
    )
    if plain_ppo:
        from stable_baselines3 import PPO

        model: Any = PPO("MlpPolicy", venv, **common)
    else:
        from sb3_contrib import MaskablePPO

        model = MaskablePPO("MlpPolicy", venv, **common)
    model.learn(total_timesteps=steps)
    seconds = time.perf_counter() - start

    def learned(obs: np.ndarray, mask: np.ndarray) -> int:
        kwargs = {} if plain_ppo else {"action_masks": mask}
        action, _ = model.predict(obs, deterministic=True, **kwargs)
        return int(action)

    env = make_env(game, difficulty, k, max_length, max_turns)
    env.reset(seed=EVAL_SEEDS[0])
    offered = int(env.get_wrapper_attr("action_masks")().sum())
    return {
        "success": evaluate(env, learned, eval_episodes),
        "random": evaluate(env, random_choice(seed), eval_episodes),
        "chance": 1.0 / offered,
        "seconds": seconds,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: python examples/sb3_ppo.py --games NumberHunt --steps 8192",
    )
    parser.add_argument("--games", nargs="+", default=["NumberHunt", "BaseConvert"])
    parser.add_argument(
        "--difficulty",
        type=int,
        default=None,
        help="game difficulty (default: 2 for NumberHunt, 1 otherwise)",
    )
    parser.add_argument("--steps", type=int, default=8192, help="PPO environment steps per game")
    parser.add_argument("--k", type=int, default=6, help="number of discrete actions")
    parser.add_argument(
        "--max-length",
        type=int,
        default=128,
        help="token ids per observation (the end of the text is kept)",
    )
    parser.add_argument(
        "--max-turns",
        type=int,
        default=None,
        help="move limit (default: NumberHunt's guess budget, else the game's)",
    )
    parser.add_argument("--n-envs", type=int, default=4)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--n-epochs", type=int, default=10)
    parser.add_argument("--gamma", type=float, default=0.95)
    parser.add_argument("--plain-ppo", action="store_true", help="PPO without action masks")
    parser.add_argument("--eval-episodes", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args(argv)

    print(f"{'game':<14}{'steps':>7}{'success':>9}{'random':>8}{'chance':>8}{'seconds':>9}")
    for game in args.games:
        name = game.split("/")[-1].split("-v")[0]
        difficulty = args.difficulty or (2 if name == "NumberHunt" else 1)
        max_turns = args.max_turns
        if max_turns is None and name == "NumberHunt":
            max_turns = _NUMBER_HUNT_BUDGET[difficulty]
        result = train(
            game,
            difficulty=difficulty,
            k=args.k,
            max_length=args.max_length,
            max_turns=max_turns,
            steps=args.steps,
            n_envs=args.n_envs,
            learning_rate=args.learning_rate,
            n_epochs=args.n_epochs,
            gamma=args.gamma,
            plain_ppo=args.plain_ppo,
            seed=args.seed,
            eval_episodes=args.eval_episodes,
            threads=args.threads,
        )
        print(
            f"{name:<14}{args.steps:>7}{result['success']:>9.3f}{result['random']:>8.3f}"
            f"{result['chance']:>8.3f}{result['seconds']:>9.1f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
