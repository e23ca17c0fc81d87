"""Audit: measure each game's coverage and reliability, and write its card.

``langgames audit [ids...] [--episodes N] [--workers W]`` (or `audit_game` in Python) plays every
game with its reference solver, a random-text policy and the exploit battery, and stores what it
measured in ``langgames/cards/<Name>-v<N>.json`` beside the package. The registry pairs the card
with what the game *declares* (`langgames.registry.GameSpec.card`), `langgames list` shows its grade
and `langgames show` the whole card. Seeds are the first ``N`` evaluation seeds (`EVAL_SEEDS`), the
same for every policy, so an audit is reproducible.

Coverage, per difficulty level (one reference episode per seed):

* ``unique_instance_rate``: distinct first observations / ``N``.
* ``distinct_1/2/3``: distinct word n-grams / all word n-grams over the ``N`` prompts.
* ``compression_ratio``: raw bytes / gzip bytes of the prompts joined by newlines (high means
  repetitive).
* ``vendi``: the Vendi score ``exp(-sum(l * log l))`` over the eigenvalues ``l`` of ``K / N``, where
  ``K[i, j]`` is the cosine similarity of the word 1-3-gram count vectors of prompts ``i`` and ``j``
  (1 = every prompt alike, ``N`` = all different); ``vendi_ratio`` = ``vendi / N``.
* ``answer_entropy_bits`` and ``answer_top_share``: entropy and share of the most common gold
  answer, the gold answer being the reference's *last* move of the episode as the first of
  ``game.optimal_roles`` (its final answer; ``coverage["answer_role"]`` names the role).
* ``seed_overlap``: the number of seeds in both `TRAIN_SEEDS` and `EVAL_SEEDS` (must be 0).

Reliability:

* ``reference_pass_rate``: share of reference episodes (all levels) in which every role of
  ``game.optimal_roles`` returns ``game.max_return(role)``; must be 1.0.
* ``exploits``: each probe of `langgames.policies.exploit_probes` plus ``random_text`` at the
  default difficulty. What is compared is the *positive* reward earned per episode, by learner role,
  paired by seed with `RandomText` (`earned`), and a probe fails if it `beats` random text: its
  mean paired difference exceeds ``TOLERANCE + 2 * standard error``.
* ``exploits_vs_fixed_opponents``: the same battery, by set-up, against every fixed opponent the
  game documents (`langgames.testing.opponent_setups`, e.g. BugHunt's ``BuggyCoder``).
* ``question_blind``: `langgames.testing.check_question_blind` over the candidate lists the game
  offers (by set-up and level): the best of hundreds of rules that never read the question
  against chance, with its exact binomial bound; a rule beyond it flags the game.
* ``determinism``: digests of reference and random episodes (`langgames.testing.episode_digests`)
  equal in this process and two subprocesses with ``PYTHONHASHSEED`` 0 and 4242 (skipped for a game
  declaring ``deterministic=False`` or one that is not registered).
* ``latency_ms`` (p50, p95, max of every timed ``step``) and ``verifier_error_rate`` (share of
  steps whose verdict is ``verifier_error``), over every episode the audit played.

The grade (written into every card as ``grade_rule``)::

    F  flagged: reference_pass_rate < 1, or an exploit beats random text (in self-play or
       against a fixed opponent), or a question-blind rule beats chance, or episodes differ
       between processes for a game declared deterministic, or seed_overlap > 0, or any
       verifier_error verdict.  Flagged games are left out of default benchmark suites.
    A  not flagged, and at every difficulty level unique_instance_rate >= 0.9 and
       answer_top_share <= 0.5, and latency p95 <= 250 ms.
    B  not flagged, and at every level unique_instance_rate >= 0.5 and answer_top_share <= 0.9.
    C  not flagged otherwise (reliable, but instances or answers repeat a lot).

>>> card = audit_game("langgames/BaseConvert-v0", episodes=4, cross_process=False)
>>> card["id"], card["flagged"], card["reliability"]["reference_pass_rate"]
('langgames/BaseConvert-v0', False, 1.0)
"""

from __future__ import annotations

import datetime
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import gymnasium as gym

from langgames import rollout
from langgames.core import EVAL_SEEDS, TRAIN_SEEDS, LanguageGame

# One definition of each diversity metric, shared with `CoverageMonitor`.
from langgames.diversity import compression_ratio, distinct_n, vendi_score
from langgames.diversity import entropy_bits as _entropy_bits
from langgames.errors import InvalidArgument
from langgames.policies import Policy, RandomText, exploit_probes, reference

__all__ = [
    "CARD_SCHEMA",
    "GRADE_RULE",
    "TOLERANCE",
    "audit_game",
    "audit_games",
    "beats",
    "card_path",
    "compression_ratio",
    "distinct_n",
    "earned",
    "vendi_score",
    "write_card",
]

CARD_SCHEMA = 1
#: Absolute margin (reward per episode) a probe must exceed random text by, on top of 2 SE.
TOLERANCE = 0.02
#: How summary grades are assigned (also stored in every card).
GRADE_RULE = (
    "F if flagged (reference_pass_rate < 1, an exploit beats random text in self-play or against "
    "a fixed opponent, a question-blind rule picks the right candidate beyond chance, "
    "nondeterministic across processes while declared deterministic, seed_overlap > 0, or any "
    "verifier_error); "
    "A if at every level unique_instance_rate >= 0.9 and answer_top_share <= 0.5 and latency "
    "p95 <= 250 ms; B if at every level unique_instance_rate >= 0.5 and answer_top_share <= 0.9; "
    "C otherwise"
)
#: Fewest seeds per set-up and level for the question-blind scan of candidate lists.
QB_SEEDS = 200
_HASHSEEDS = ("0", "4242")
_DETERMINISM_SEEDS = 3


# --------------------------------------------------------------------------- episodes
class _Tally:
    """Step latencies and verdict statuses over every episode an audit plays."""

    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.steps = 0
        self.verifier_errors = 0
        self.error_examples: list[str] = []
        #: With the Python tool: tool calls per episode, by the policy named in ``label``.
        self.label = ""
        self.tool_calls: dict[str, list[int]] = {}


def _play(
    game: LanguageGame,
    policy: Policy,
    seed: int,
    tally: _Tally,
    difficulty: int | None = None,
) -> rollout.Episode:
    """One episode, played by `langgames.rollout.play`, counted in ``tally``: each move's
    ``env.step`` time (`Turn.seconds`), its verdict and, with the Python tool, its tool calls."""
    episode = rollout.play(game, policy, seed=seed, difficulty=difficulty, transcript=False)
    for turn in episode.turns:
        tally.latencies.append(turn.seconds)
        tally.steps += 1
        if turn.verdict.get("status") == "verifier_error":
            tally.verifier_errors += 1
            if len(tally.error_examples) < 3:
                reason = str(turn.verdict.get("reason", ""))
                tally.error_examples.append(f"seed {seed}: {reason[:200]}")
    last = episode.turns[-1].extra if episode.turns else {}
    if "tool_calls" in last:
        calls = sum(last["tool_calls"].values())
        tally.tool_calls.setdefault(tally.label or "unnamed", []).append(calls)
    return episode


def earned(
    game: LanguageGame,
    policy_for_seed: Callable[[int], Policy],
    seeds: Iterable[int],
    *,
    difficulty: int | None = None,
    tally: _Tally | None = None,
) -> dict[str, list[float]]:
    """Positive reward collected in each episode (one per seed), by learner role.

    Format penalties are left out: a well-formed wrong answer (0) beating unreadable random text
    (-0.1 per move) earns nothing.
    """
    tally = tally or _Tally()
    out: dict[str, list[float]] = {role: [] for role in game.learner_roles}
    for seed in seeds:
        episode = _play(game, policy_for_seed(seed), seed, tally, difficulty)
        totals = dict.fromkeys(out, 0.0)
        for turn in episode.turns:
            for role, value in turn.rewards.items():
                if role in totals and value > 0:
                    totals[role] += value
        for role, value in totals.items():
            out[role].append(value)
    return out


def beats(probe: Sequence[float], baseline: Sequence[float], tolerance: float = TOLERANCE) -> bool:
    """True if the probe earns more than the baseline beyond noise (paired, same seeds).

    The margin is two standard errors of the per-seed difference plus ``tolerance``: a game whose
    guessing base rate is a few percent must not fail on one lucky seed, while a constant that
    farms the game (earning, say, 0.3 more per episode) is caught.

    >>> beats([1.0] * 10, [0.0] * 10), beats([0.0, 1.0] * 5, [1.0, 0.0] * 5)
    (True, False)
    """
    if len(probe) != len(baseline):
        raise InvalidArgument(
            f"beats() compares episodes paired by seed: got {len(probe)} probe and "
            f"{len(baseline)} baseline episodes; play both on the same seeds"
        )
    diffs = [p - b for p, b in zip(probe, baseline, strict=True)]
    n = len(diffs)
    if n == 0:
        return False
    mean = sum(diffs) / n
    var = sum((d - mean) ** 2 for d in diffs) / (n - 1) if n > 1 else 0.0
    return mean > tolerance + 2 * (var / n) ** 0.5


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def _percentile(xs: Sequence[float], q: float) -> float:
    if not xs:
        return 0.0
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, math.ceil(q / 100 * len(s)) - 1))]


# --------------------------------------------------------------------------- the audit
def _coverage(
    game: LanguageGame, seeds: Sequence[int], tally: _Tally
) -> tuple[dict[str, Any], list[str]]:
    """Coverage per level, plus the reference's failures (from the same episodes)."""
    levels: dict[str, Any] = {}
    failures: list[str] = []
    passed = total = 0
    # The gold answer: the reference's last move as the first optimal role (the answering role;
    # in a multi-role game the other roles' moves, e.g. a critic's verdict, are not answers).
    answer_role = (game.optimal_roles or game.learner_roles)[0]
    tally.label = "reference"
    for level in game.game_info.difficulty_levels:
        prompts, answers = [], []
        for seed in seeds:
            episode = _play(game, reference, seed, tally, level)
            returns = episode.returns
            prompts.append(episode.first_observation)
            moves = [t.action for t in episode.turns if t.role == answer_role]
            answers.append(moves[-1] if moves else "")
            total += 1
            bad = [
                f"{r} returned {returns.get(r, 0.0):g} (max {game.max_return(r):g})"
                for r in game.optimal_roles
                if not math.isclose(returns.get(r, 0.0), game.max_return(r), abs_tol=1e-9)
            ]
            if bad:
                failures.append(f"difficulty {level}, seed {seed}: " + ", ".join(bad))
            else:
                passed += 1
        counts = Counter(answers)
        n = len(prompts)
        vendi = vendi_score(prompts)
        levels[str(level)] = {
            "episodes": n,
            "unique_instance_rate": round(len(set(prompts)) / n, 4),
            "distinct_1": round(distinct_n(prompts, 1), 4),
            "distinct_2": round(distinct_n(prompts, 2), 4),
            "distinct_3": round(distinct_n(prompts, 3), 4),
            "compression_ratio": round(compression_ratio(prompts), 3),
            "vendi": round(vendi, 3),
            "vendi_ratio": round(vendi / n, 4),
            "answer_entropy_bits": round(_entropy_bits(counts), 3),
            "answer_top_share": round(counts.most_common(1)[0][1] / n, 4),
            "distinct_answers": len(counts),
        }
    overlap = max(
        0, min(TRAIN_SEEDS.stop, EVAL_SEEDS.stop) - max(TRAIN_SEEDS.start, EVAL_SEEDS.start)
    )
    coverage = {
        "levels": levels,
        "answer_role": answer_role,
        "seed_overlap": overlap,
        "train_seeds": [TRAIN_SEEDS.start, TRAIN_SEEDS.stop],
        "eval_seeds": [EVAL_SEEDS.start, EVAL_SEEDS.stop],
        "reference_passed": passed,
        "reference_episodes": total,
    }
    return coverage, failures


def _same(policy: Policy) -> Callable[[int], Policy]:
    """The same policy for every seed (a probe keeps no state between episodes)."""
    return lambda seed: policy


def _exploits(game: LanguageGame, seeds: Sequence[int], tally: _Tally) -> dict[str, Any]:
    tally.label = "random_text"
    baseline = earned(game, RandomText, seeds, tally=tally)
    probes: dict[str, Any] = {
        "random_text": {r: round(_mean(v), 4) for r, v in baseline.items()},
    }
    beaten: list[str] = []
    battery = exploit_probes(game)
    if hasattr(game, "tool_help"):  # played with the Python tool: probes that farm the tool
        from langgames.tools import tool_probes

        battery.update(tool_probes())
    for name, probe in battery.items():
        tally.label = name
        runs = earned(game, _same(probe), seeds, tally=tally)
        probes[name] = {r: round(_mean(v), 4) for r, v in runs.items()}
        for role, values in runs.items():
            if beats(values, baseline[role]):
                beaten.append(
                    f"{name} earns {_mean(values):+.3f} as {role} "
                    f"(random text: {_mean(baseline[role]):+.3f})"
                )
    return {
        "episodes": len(seeds),
        "tolerance": TOLERANCE,
        "mean_positive_reward": probes,
        "beaten": beaten,
    }


def _opponent_exploits(
    game: LanguageGame, kwargs: Mapping[str, Any], seeds: Sequence[int], tally: _Tally, run: bool
) -> dict[str, Any]:
    """The exploit battery against each fixed opponent the game documents (not self-play)."""
    from langgames.testing import opponent_setups

    out: dict[str, Any] = {}
    if not run:  # played with the Python tool: the set-ups are the bare game's
        return out
    for setup, opponents in opponent_setups(game).items():
        if opponents:
            rival = type(game)(**{**kwargs, "opponents": opponents})
            out[setup] = _exploits(rival, seeds, tally)
            rival.close()
    return out


def _question_blind(
    game: LanguageGame, kwargs: Mapping[str, Any], episodes: int, run: bool
) -> dict[str, Any]:
    """`langgames.testing.check_question_blind` on the first ``max(episodes, QB_SEEDS)``
    evaluation seeds, in every set-up and at every level (``{}`` if no candidates are listed)."""
    from langgames.testing import check_question_blind

    if not run:
        return {}
    seeds = range(EVAL_SEEDS.start, EVAL_SEEDS.start + max(episodes, QB_SEEDS))
    fresh = type(game)(**dict(kwargs))
    try:
        return check_question_blind(fresh, seeds=seeds)
    finally:
        fresh.close()


def _determinism(game_id: str | None, kwargs: Mapping[str, Any], declared: bool) -> dict[str, Any]:
    if not declared:
        return {"checked": False, "ok": None, "detail": "skipped: declared deterministic=False"}
    if game_id is None:
        return {"checked": False, "ok": None, "detail": "skipped: not a registered game"}
    from langgames.testing import episode_digests

    seeds = list(range(EVAL_SEEDS.start, EVAL_SEEDS.start + _DETERMINISM_SEEDS))
    local = episode_digests(game_id, kwargs, seeds)
    code = (
        "import json, sys; from langgames.testing import episode_digests; "
        "print(json.dumps(episode_digests(*json.loads(sys.argv[1]))))"
    )
    arg = json.dumps([game_id, dict(kwargs), seeds])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, arg],
            env={**os.environ, "PYTHONHASHSEED": h},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for h in _HASHSEEDS
    ]
    problems = []
    for h, proc in zip(_HASHSEEDS, procs, strict=True):
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            problems.append(f"PYTHONHASHSEED={h}: the child failed: {err.strip()[-300:]}")
        elif json.loads(out.strip().splitlines()[-1]) != local:
            problems.append(f"episodes differ in a process with PYTHONHASHSEED={h}")
    return {
        "checked": True,
        "ok": not problems,
        "hashseeds": list(_HASHSEEDS),
        "seeds": len(seeds),
        "detail": "; ".join(problems) or "identical digests in every process",
    }


def _grade(coverage: Mapping[str, Any], reliability: Mapping[str, Any], flagged: bool) -> str:
    if flagged:
        return "F"
    levels = coverage["levels"].values()
    unique = min(v["unique_instance_rate"] for v in levels)
    top = max(v["answer_top_share"] for v in levels)
    if unique >= 0.9 and top <= 0.5 and reliability["latency_ms"]["p95"] <= 250:
        return "A"
    if unique >= 0.5 and top <= 0.9:
        return "B"
    return "C"


def _reply_contract(
    game: LanguageGame, kwargs: Mapping[str, Any], seeds: Sequence[int]
) -> dict[str, Any]:
    """`langgames._contract_kit.check_reply_contract` on a few seeds: the share of model-style
    wrappings of the reference (and of exploit probes, and hedges) judged as the contract says."""
    from langgames._contract_kit import check_reply_contract

    cls, kw = type(game), dict(kwargs)
    report = check_reply_contract(lambda: cls(**kw), game.game_info.id, seeds)
    return report.to_dict()


def _dataset(env: Any) -> dict[str, Any] | None:
    """Duplicate rows, a dominant answer and unplayable rows of a dataset game (else ``None``)."""
    from langgames._dataset_audit import dataset_report

    return dataset_report(env)


def audit_game(
    game: str | gym.Env,
    *,
    episodes: int = 40,
    cross_process: bool = True,
    kwargs: Mapping[str, Any] | None = None,
    tool: bool | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Measure one game's coverage and reliability and return its card (a JSON-ready dict).

    Args:
        game: a registered id (``"langgames/NumberHunt-v0"`` or ``"NumberHunt-v0"``) or a game env.
        episodes: seeds per difficulty level and per exploit probe (the first of `EVAL_SEEDS`).
        cross_process: check determinism in two subprocesses (needs a registered id).
        kwargs: keyword arguments for making the game (default: the registered ones).
        tool: play every episode with `langgames.tools.PythonTool` (``True``, or a dict of its
            options); the exploit battery then adds `langgames.tools.tool_probes` and the card
            gets a ``tool`` section: the options and the mean tool calls per episode by policy.
    """
    import langgames
    from langgames.registry import get_spec, make_game

    if isinstance(episodes, bool) or not isinstance(episodes, int) or episodes < 2:
        raise InvalidArgument(
            f"episodes must be an int >= 2 (paired statistics need two seeds); got {episodes!r}"
        )
    game_id: str | None
    if isinstance(game, str):
        spec = get_spec(game)
        game_id = spec.id
        make_kwargs = dict(spec.kwargs if kwargs is None else kwargs)
        env = make_game(game_id, **make_kwargs)
    else:
        unwrapped = game.unwrapped
        if not isinstance(unwrapped, LanguageGame):
            raise InvalidArgument(
                "audit_game expects a game id or a LanguageGame env, "
                f"got {type(unwrapped).__name__}"
            )
        env = unwrapped
        game_id = None
        make_kwargs = dict(kwargs or {})
    from langgames.tools import PythonTool, tool_options

    tool_opts = tool_options(tool)
    if tool_opts is not None:
        env = PythonTool(env, **tool_opts)  # type: ignore[assignment]
    info = env.game_info
    seeds = list(range(EVAL_SEEDS.start, EVAL_SEEDS.start + episodes))
    tally = _Tally()
    started = time.perf_counter()
    coverage, ref_failures = _coverage(env, seeds, tally)
    exploits = _exploits(env, seeds, tally)
    opponent_exploits = _opponent_exploits(env, make_kwargs, seeds, tally, tool_opts is None)
    question_blind = _question_blind(env, make_kwargs, episodes, tool_opts is None)
    contract = _reply_contract(env, make_kwargs, seeds[:2]) if tool_opts is None else None
    dataset = _dataset(env)
    determinism = (
        _determinism(game_id, make_kwargs, info.deterministic)
        if cross_process
        else {"checked": False, "ok": None, "detail": "skipped: cross_process=False"}
    )
    env.close()
    pass_rate = coverage.pop("reference_passed") / coverage.pop("reference_episodes")
    lat = [x * 1000 for x in tally.latencies]
    reliability: dict[str, Any] = {
        "reference_pass_rate": round(pass_rate, 4),
        "reference_failures": ref_failures[:5],
        "optimal_roles": list(env.optimal_roles),
        "exploits": exploits,
        "exploits_vs_fixed_opponents": opponent_exploits,
        "question_blind": question_blind,
        "reply_contract": contract,
        "determinism": determinism,
        "latency_ms": {
            "p50": round(_percentile(lat, 50), 3),
            "p95": round(_percentile(lat, 95), 3),
            "max": round(max(lat, default=0.0), 3),
        },
        "steps": tally.steps,
        "verifier_error_rate": round(tally.verifier_errors / max(tally.steps, 1), 5),
        "verifier_error_examples": tally.error_examples,
    }
    flags = []
    if pass_rate < 1.0:
        flags.append(f"reference pass rate {pass_rate:.3f} < 1.0")
    flags += [f"exploit: {b}" for b in exploits["beaten"]]
    for setup, result in opponent_exploits.items():
        flags += [f"exploit against {setup}: {b}" for b in result["beaten"]]
    for setup, scan in question_blind.items():
        if scan.get("passed") is False:
            flags.append(f"candidate list gives the answer away ({setup}): {scan['detail']}")
    if contract is not None and contract["pass_rate"] < 1.0:
        flags.append(
            f"reply contract pass rate {contract['pass_rate']:.3f} < 1.0: "
            + "; ".join(contract["failures"][:2])
        )
    if dataset is not None:
        flags += list(dataset["flags"])
    if determinism["ok"] is False:
        flags.append(f"nondeterministic while declared deterministic: {determinism['detail']}")
    if coverage["seed_overlap"]:
        flags.append(f"{coverage['seed_overlap']} seeds are both train and evaluation seeds")
    if tally.verifier_errors:
        flags.append(f"{tally.verifier_errors} verifier_error verdicts in {tally.steps} steps")
    card: dict[str, Any] = {
        "schema": CARD_SCHEMA,
        "id": info.id,
        "version": info.version,
        "langgames_version": langgames.__version__,
        "date": datetime.date.today().isoformat(),
        "episodes": episodes,
        "grade": _grade(coverage, reliability, bool(flags)),
        "grade_rule": GRADE_RULE,
        "flagged": bool(flags),
        "flags": flags,
        "coverage": coverage,
        "reliability": reliability,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if dataset is not None:
        card["dataset"] = dataset
    if tool_opts is not None:
        card["tool"] = {
            "options": tool_opts,
            "calls_per_episode": {
                name: round(_mean(calls), 4) for name, calls in tally.tool_calls.items()
            },
        }
    return card


def cards_dir() -> Path:
    """The directory the package's cards live in (``langgames/cards``)."""
    return Path(__file__).resolve().parent / "cards"


def card_path(game_id: str, directory: str | os.PathLike[str] | None = None) -> Path:
    """Where the card of ``game_id`` is stored: ``<directory>/<Name>-v<N>.json``."""
    return Path(directory or cards_dir()) / (game_id.split("/", 1)[-1] + ".json")


def write_card(card: Mapping[str, Any], directory: str | os.PathLike[str] | None = None) -> Path:
    """Write ``card`` as sorted, indented JSON (stable diffs); return its path."""
    path = card_path(str(card["id"]), directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _audit_one(args: tuple[str, int, bool, bool | Mapping[str, Any] | None]) -> dict[str, Any]:
    return audit_game(args[0], episodes=args[1], cross_process=args[2], tool=args[3])


def audit_games(
    ids: Sequence[str] | None = None,
    *,
    episodes: int = 40,
    workers: int = 1,
    cross_process: bool = True,
    on_card: Callable[[dict[str, Any]], None] | None = None,
    tool: bool | Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Audit several games (default: every registered one), ``workers`` processes at a time.

    ``tool`` gives every game the sandboxed Python tool (see `audit_game`).

    ``on_card`` is called with each card as soon as it is ready (in completion order); the
    returned list is in the order of ``ids``.
    """
    from langgames.registry import game_ids, get_spec

    ids = [get_spec(i).id for i in (ids or game_ids())]
    if workers < 1:
        raise InvalidArgument(f"workers must be >= 1 (got {workers})")
    jobs = [(i, episodes, cross_process, tool) for i in ids]
    cards: dict[str, dict[str, Any]] = {}
    if workers == 1:
        for job in jobs:
            cards[job[0]] = card = _audit_one(job)
            if on_card:
                on_card(card)
    else:
        from concurrent.futures import as_completed

        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(_audit_one, job): job[0] for job in jobs}
            for future in as_completed(futures):
                cards[futures[future]] = card = future.result()
                if on_card:
                    on_card(card)
    return [cards[i] for i in ids]
