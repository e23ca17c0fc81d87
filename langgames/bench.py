"""The benchmark suite: run policies over the games of a suite, locally or on a Ray cluster.

``langgames bench --suite core --policy reference,random,probes --episodes 5 --out bench-out``
writes to ``--out``:

- ``results.json``: schema ``langgames.bench/1`` (see `RESULTS_SCHEMA`). Top level: ``schema``,
  ``langgames_version``, ``created``, ``suite``, ``seed``, ``episodes``, ``workers``,
  ``executor``, ``policies``, ``excluded`` (games left out and why), ``seconds``, ``rows`` and
  ``leaderboard``. One row per policy, game and difficulty: ``episodes``, ``mean_reward`` (mean
  episode return averaged over the roles the policy plays), ``mean_score`` (the same, divided by
  each role's maximum return), ``success_rate`` (episodes where every role the reference can
  guarantee reached its maximum return) with its 95% Wilson interval ``success_ci``,
  ``failures`` (steps per failing verdict status: unparseable, timeout, resource_limit,
  forbidden, plus ``episode_error`` for episodes whose policy raised), ``steps`` and
  ``seconds``. ``leaderboard``: one entry per policy, averaged over rows, best first.
- ``report.md``: the leaderboard and a game-by-policy table of success rates.
- ``episodes.jsonl``: every episode (seeds, actions, verdicts, returns, transcript), in canonical
  order: policy, game, difficulty, episode index.
- ``scores.png`` and ``rewards.png`` when matplotlib is installed (``langgames[plot]``).

Reproducibility: episode ``i`` of game ``g`` at difficulty ``d`` uses the instance seed
``start + seed + i`` from the game's range in the suite, and a policy seed derived from
``(seed, g, d, i)`` alone, so the episodes never depend on the number of workers or the executor.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import sys
import time
import traceback
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from langgames.errors import InvalidArgument, MissingExtra, did_you_mean

__all__ = [
    "RESULTS_SCHEMA",
    "BenchConfig",
    "Suite",
    "Task",
    "compare",
    "load_suites",
    "run_bench",
    "wilson_interval",
]

#: The ``schema`` field of ``results.json``; bumped on any incompatible change.
RESULTS_SCHEMA = "langgames.bench/1"

_FAILURE_KEYS = ("unparseable", "timeout", "resource_limit", "forbidden")


# ------------------------------------------------------------------------------------ suites
@dataclass(frozen=True)
class SuiteGame:
    id: str
    seeds: range
    difficulties: tuple[int, ...]


@dataclass(frozen=True)
class Suite:
    name: str
    description: str
    games: tuple[SuiteGame, ...]


def _suites_file() -> Path:
    """``suites.json``: from the installed ``langgames.benchmarks`` package, else the checkout."""
    candidates: list[Path] = []
    try:
        from importlib import resources

        candidates.append(Path(str(resources.files("langgames.benchmarks") / "suites.json")))
    except (ImportError, ModuleNotFoundError, TypeError):
        pass
    candidates.append(Path(__file__).resolve().parent.parent / "benchmarks" / "suites.json")
    for path in candidates:
        if path.is_file():
            return path
    raise InvalidArgument(
        "cannot find the suite declarations (suites.json); looked in "
        + ", ".join(map(str, candidates))
        + ". Reinstall langgames, or run from a checkout that has benchmarks/suites.json."
    )


def load_suites(path: str | Path | None = None) -> dict[str, Suite]:
    """Every suite declared in ``suites.json`` (or in ``path``), by name."""
    from langgames.core import EVAL_SEEDS
    from langgames.registry import get_spec

    file = Path(path) if path else _suites_file()
    data = json.loads(file.read_text())
    if data.get("schema") != 1:
        raise InvalidArgument(f'{file}: expected "schema": 1 (got {data.get("schema")!r})')
    suites = {}
    for name, body in data["suites"].items():
        games = []
        for gid, entry in body["games"].items():
            spec = get_spec(gid)
            start, stop = entry["seeds"]
            if not (EVAL_SEEDS.start <= start < stop <= EVAL_SEEDS.stop):
                raise InvalidArgument(
                    f"{file}: suite {name!r}, game {gid}: seeds [{start}, {stop}) must lie "
                    f"inside EVAL_SEEDS [{EVAL_SEEDS.start}, {EVAL_SEEDS.stop})"
                )
            diffs = tuple(entry.get("difficulties", body.get("difficulties", [None])))
            diffs = tuple(d if d is not None else spec.info.default_difficulty for d in diffs)
            games.append(SuiteGame(spec.id, range(start, stop), diffs))
        suites[name] = Suite(name, body.get("description", ""), tuple(games))
    return suites


def get_suite(name: str) -> Suite:
    suites = load_suites()
    if name not in suites:
        raise InvalidArgument(
            f"unknown suite {name!r}.{did_you_mean(name, suites)} "
            f"Suites: {', '.join(suites)} (declared in benchmarks/suites.json)."
        )
    return suites[name]


# ------------------------------------------------------------------------------------ tasks
@dataclass(frozen=True)
class Task:
    """One episode to play. Everything in it is fixed before any worker starts."""

    policy: str
    game: str
    difficulty: int
    episode: int
    seed: int
    policy_seed: int


def policy_seed(seed: int, game: str, difficulty: int, episode: int) -> int:
    """The policy's RNG seed for one episode (independent of worker, executor and policy)."""
    import numpy as np

    ss = np.random.SeedSequence([seed, zlib.crc32(game.encode()), difficulty, episode])
    return int(ss.generate_state(1)[0])


@dataclass
class BenchConfig:
    """Everything a worker needs to play tasks (plain data: it crosses process boundaries)."""

    policy_spec: str
    max_new_tokens: int = 256
    temperature: float = 0.0
    #: `langgames.tools.PythonTool` options when games are played with the Python tool, else None.
    tool: dict[str, Any] | None = None


# ---------------------------------------------------------------------------------- workers
_WORKER: dict[str, Any] = {}


def _worker_init(config: BenchConfig) -> None:
    from langgames.policies import load_policy

    policies = load_policy(
        config.policy_spec,
        max_new_tokens=config.max_new_tokens,
        temperature=config.temperature,
    )
    _WORKER.clear()
    _WORKER.update(config=config, policies={p.name: p for p in policies}, games={})


def _jsonable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _play(task: Task) -> dict[str, Any]:
    from langgames.registry import make_game
    from langgames.testing import play_episode

    games = _WORKER["games"]
    tool = _WORKER["config"].tool

    def make() -> Any:
        if tool is None:
            return make_game(task.game)
        from langgames.tools import PythonTool

        return PythonTool(make_game(task.game), **tool)

    if task.game not in games:
        games[task.game] = make()
    game = games[task.game]
    if game.game_info.stateful:
        # a stateful game's episodes read a memory its earlier episodes wrote: a fresh game per
        # episode keeps each episode independent of which worker played what before it
        game.close()
        game = games[task.game] = make()
    start = time.perf_counter()
    record: dict[str, Any] = {
        "policy": task.policy,
        "game": task.game,
        "difficulty": task.difficulty,
        "episode": task.episode,
        "seed": task.seed,
        "policy_seed": task.policy_seed,
    }
    try:
        policy = _WORKER["policies"][task.policy].build(game, task.policy_seed)
        ep = play_episode(game, policy, task.seed, difficulty=task.difficulty)
    except Exception as err:
        record.update(
            error=f"{type(err).__name__}: {err}",
            traceback=traceback.format_exc(limit=5),
            returns={},
            reward=0.0,
            score=0.0,
            success=False,
            steps=[],
            failures={"episode_error": 1},
            transcript="",
            **({} if tool is None else {"tool_calls": 0}),
            seconds=time.perf_counter() - start,
        )
        return record
    learners = game.learner_roles or game.game_info.roles
    guaranteed = game.optimal_roles or learners
    reward = sum(ep.returns.get(r, 0.0) for r in learners) / len(learners)
    # a role whose optimal return is 0 (e.g. a defender that cannot gain) counts its raw return
    score = sum(
        ep.returns.get(r, 0.0) / (game.max_return(r) if game.max_return(r) > 0 else 1.0)
        for r in learners
    ) / len(learners)
    success = all(ep.returns.get(r, 0.0) >= game.max_return(r) - 1e-9 for r in guaranteed)
    failures: dict[str, int] = {}
    steps = []
    for s in ep.steps:
        verdict = s.info.get("verdict") or {}
        status = str(verdict.get("status", ""))
        if status in _FAILURE_KEYS:
            failures[status] = failures.get(status, 0) + 1
        action = s.action if len(s.action) <= 2000 else s.action[:2000] + "...[truncated]"
        step = {
            "role": s.role,
            "action": action,
            "reward": s.reward,
            "status": status,
            "reason": verdict.get("reason", ""),
        }
        if "tool" in s.info:
            step["tool_status"] = s.info["tool"]["status"]
        steps.append(step)
    record.update(
        returns=ep.returns,
        reward=reward,
        score=score,
        success=success,
        terminated=ep.terminated,
        truncated=ep.truncated,
        steps=steps,
        failures=failures,
        transcript=ep.transcript if len(ep.transcript) <= 20_000 else ep.transcript[:20_000],
        seconds=time.perf_counter() - start,
    )
    if tool is not None:  # calls run (refused ones excluded) over every role, this episode
        last = ep.steps[-1].info if ep.steps else {}
        record["tool_calls"] = sum(last.get("tool_calls", {}).values())
    return _jsonable(record)


def _play_chunk(tasks: list[Task]) -> list[dict[str, Any]]:
    return [_play(t) for t in tasks]


def _ray_play_chunk(config: BenchConfig, tasks: list[Task]) -> list[dict[str, Any]]:
    if _WORKER.get("config") != config:
        _worker_init(config)
    return _play_chunk(tasks)


def _chunks(tasks: list[Task], size: int) -> list[list[Task]]:
    out: list[list[Task]] = []
    for t in tasks:
        last = out[-1] if out else None
        if (
            last
            and len(last) < size
            and (last[0].policy, last[0].game, last[0].difficulty)
            == (t.policy, t.game, t.difficulty)
        ):
            last.append(t)
        else:
            out.append([t])
    return out


def _execute(
    tasks: list[Task],
    config: BenchConfig,
    *,
    workers: int,
    executor: str,
    ray_address: str | None,
    progress: bool,
    chunk: int,
) -> list[dict[str, Any]]:
    from langgames._progress import Progress

    chunks = _chunks(tasks, chunk)
    records: list[dict[str, Any]] = []
    with Progress(len(tasks), "bench", enabled=progress) as bar:
        if executor == "local":
            _worker_init(config)
            for c in chunks:
                records.extend(_play_chunk(c))
                bar.update(len(c))
        elif executor == "process":
            import concurrent.futures as cf
            import multiprocessing as mp

            with cf.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=mp.get_context("spawn"),
                initializer=_worker_init,
                initargs=(config,),
            ) as pool:
                futures = [pool.submit(_play_chunk, c) for c in chunks]
                for fut in cf.as_completed(futures):
                    result = fut.result()
                    records.extend(result)
                    bar.update(len(result))
        elif executor == "ray":
            try:
                import ray
            except ImportError as err:
                raise MissingExtra("--executor ray", "ray", "ray") from err
            started = False
            if not ray.is_initialized():
                ray.init(address=ray_address, ignore_reinit_error=True, log_to_driver=False)
                started = True
            try:
                remote = ray.remote(num_cpus=1)(_ray_play_chunk)
                pending = [remote.remote(config, c) for c in chunks]
                while pending:
                    done, pending = ray.wait(pending, num_returns=1)
                    result = ray.get(done[0])
                    records.extend(result)
                    bar.update(len(result))
            finally:
                if started:
                    ray.shutdown()
        else:
            raise InvalidArgument(
                f"unknown executor {executor!r}.{did_you_mean(executor, EXECUTORS)} "
                f"Executors: {', '.join(EXECUTORS)}."
            )
    return records


EXECUTORS = ("local", "process", "ray")


# ---------------------------------------------------------------------------------- results
def wilson_interval(successes: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a success rate (95% by default); ``(0, 1)`` when ``n == 0``.

    >>> [round(x, 3) for x in wilson_interval(5, 10)]
    [0.237, 0.763]
    """
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


def _aggregate(records: list[dict[str, Any]], policies: list[str]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["policy"], r["game"], r["difficulty"]), []).append(r)
    order = {p: i for i, p in enumerate(policies)}
    rows = []
    for (pol, game, diff), recs in sorted(groups.items(), key=lambda kv: (order[kv[0][0]], kv[0])):
        n = len(recs)
        wins = sum(bool(r["success"]) for r in recs)
        failures: dict[str, int] = {}
        for r in recs:
            for k, v in r["failures"].items():
                failures[k] = failures.get(k, 0) + v
        lo, hi = wilson_interval(wins, n)
        extra = {}
        if all("tool_calls" in r for r in recs):
            extra["tool_calls_per_episode"] = sum(r["tool_calls"] for r in recs) / n
        rows.append(
            {
                "policy": pol,
                "game": game,
                "difficulty": diff,
                "episodes": n,
                "mean_reward": sum(r["reward"] for r in recs) / n,
                "mean_score": sum(r["score"] for r in recs) / n,
                "success_rate": wins / n,
                "success_ci": [lo, hi],
                "failures": dict(sorted(failures.items())),
                "steps": sum(len(r["steps"]) for r in recs),
                "seconds": sum(r["seconds"] for r in recs),
                **extra,
            }
        )
    return rows


def _leaderboard(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by.setdefault(row["policy"], []).append(row)
    board = []
    for pol, rs in by.items():
        n = sum(r["episodes"] for r in rs)
        wins = round(sum(r["success_rate"] * r["episodes"] for r in rs))
        board.append(
            {
                "policy": pol,
                "mean_score": sum(r["mean_score"] for r in rs) / len(rs),
                "mean_reward": sum(r["mean_reward"] for r in rs) / len(rs),
                "success_rate": sum(r["success_rate"] for r in rs) / len(rs),
                "success_ci": list(wilson_interval(wins, n)),
                "episodes": n,
                "failures": sum(sum(r["failures"].values()) for r in rs),
                "seconds": sum(r["seconds"] for r in rs),
            }
        )
    board.sort(key=lambda b: (-b["mean_score"], -b["success_rate"], b["policy"]))
    return board


def _md_table(header: list[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def leaderboard_table(results: Mapping[str, Any]) -> str:
    """The leaderboard of ``results`` as a Markdown table."""
    return _md_table(
        ["rank", "policy", "mean score", "success", "95% CI", "episodes", "failed steps"],
        (
            [
                i + 1,
                b["policy"],
                f"{b['mean_score']:.3f}",
                f"{b['success_rate']:.1%}",
                f"{b['success_ci'][0]:.2f}-{b['success_ci'][1]:.2f}",
                b["episodes"],
                b["failures"],
            ]
            for i, b in enumerate(results["leaderboard"])
        ),
    )


def _report(
    results: Mapping[str, Any], plots: list[str], plot_note: str, warnings: Sequence[str] = ()
) -> str:
    policies = [b["policy"] for b in results["leaderboard"]]
    cells: dict[tuple[str, int], dict[str, str]] = {}
    for r in results["rows"]:
        cells.setdefault((r["game"], r["difficulty"]), {})[r["policy"]] = (
            f"{r['success_rate']:.0%} ({r['mean_score']:.2f})"
        )
    game_rows = [
        [g.split("/", 1)[-1], d, *(v.get(p, "") for p in policies)]
        for (g, d), v in sorted(cells.items())
    ]
    parts = [
        f"# langgames benchmark: suite `{results['suite']}`",
        "",
        f"langgames {results['langgames_version']}, {results['created']}; seed "
        f"{results['seed']}, {results['episodes']} episodes per game and difficulty; "
        f"{results['workers']} worker(s), executor `{results['executor']}`; "
        f"{results['seconds']:.1f} s.",
        "",
        "## Leaderboard",
        "",
        "Mean score: episode return over maximum return, averaged over games. Success: every "
        "role the reference guarantees reached its maximum (95% Wilson interval).",
        "",
        leaderboard_table(results),
        "",
        "## Success rate (mean score) by game",
        "",
        _md_table(["game", "difficulty", *policies], game_rows),
        "",
    ]
    if results.get("tool"):
        opts = ", ".join(f"{k}={v}" for k, v in results["tool"].items())
        parts += [
            "## Python tool",
            "",
            f"Every game was played with `langgames.tools.PythonTool` ({opts}). Tool calls per "
            "episode:",
            "",
            _md_table(
                ["game", "difficulty", "policy", "tool calls / episode"],
                [
                    [r["game"].split("/", 1)[-1], r["difficulty"], r["policy"],
                     f"{r.get('tool_calls_per_episode', 0.0):.2f}"]
                    for r in results["rows"]
                ],
            ),
            "",
        ]  # fmt: skip
    if results["excluded"]:
        parts += ["## Excluded games", ""]
        parts += [f"- {e['game']}: {e['reason']}" for e in results["excluded"]]
        parts.append("")
    parts += ["## Plots", ""]
    parts += [f"![{p}]({p})" for p in plots] if plots else [plot_note]
    parts += [f"**{w}**" for w in warnings if w.startswith("WARNING")]
    return "\n".join(parts) + "\n"


def _plots(results: Mapping[str, Any], records: list[dict[str, Any]], out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    policies = [b["policy"] for b in results["leaderboard"]]
    keys = sorted({(r["game"], r["difficulty"]) for r in results["rows"]})
    shown = policies[:8]  # a readable chart; the tables have every policy
    fig, ax = plt.subplots(figsize=(min(16.0, max(6.0, 0.6 * len(keys) + 2)), 5.0))
    width = 0.8 / max(1, len(shown))
    index = {(r["policy"], r["game"], r["difficulty"]): r for r in results["rows"]}
    for j, pol in enumerate(shown):
        xs, ys, lo, hi = [], [], [], []
        for i, key in enumerate(keys):
            r = index.get((pol, *key))
            if r is None:
                continue
            xs.append(i + j * width)
            ys.append(r["success_rate"])
            lo.append(r["success_rate"] - r["success_ci"][0])
            hi.append(r["success_ci"][1] - r["success_rate"])
        ax.bar(xs, ys, width, yerr=[lo, hi], capsize=2, label=pol)
    ax.set_xticks([i + 0.4 - width / 2 for i in range(len(keys))])
    ax.set_xticklabels([f"{g.split('/')[-1]} d{d}" for g, d in keys], rotation=60, ha="right")
    ax.set_ylabel("success rate (95% Wilson CI)")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out / "scores.png", dpi=100)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(policies)), 4.5))
    data = [[r["score"] for r in records if r["policy"] == p] for p in policies]
    ax.boxplot(data)
    ax.set_xticks(range(1, len(policies) + 1))
    ax.set_xticklabels(policies, rotation=60, ha="right")
    ax.set_ylabel("episode score (return / max return)")
    fig.tight_layout()
    fig.savefig(out / "rewards.png", dpi=100)
    plt.close(fig)
    return ["scores.png", "rewards.png"]


# -------------------------------------------------------------------------------------- run
@dataclass
class BenchResult:
    results: dict[str, Any]
    out: Path
    notes: list[str] = field(default_factory=list)


def run_bench(
    suite: str,
    policy: str,
    *,
    episodes: int = 5,
    workers: int = 1,
    out: str | Path = "bench-out",
    seed: int = 0,
    executor: str | None = None,
    ray_address: str | None = None,
    include_flagged: bool = False,
    games: Sequence[str] | None = None,
    max_new_tokens: int = 256,
    temperature: float = 0.0,
    progress: bool = True,
    plots: bool = True,
    chunk: int = 4,
    tool: bool | Mapping[str, Any] | None = None,
) -> BenchResult:
    """Run ``policy`` (one or several, comma-separated) over ``suite``; write results to ``out``.

    ``executor``: ``"local"`` (this process), ``"process"`` (``workers`` spawned processes) or
    ``"ray"`` (an existing cluster at ``ray_address``, or a local Ray). The default is
    ``"local"`` for one worker and ``"process"`` otherwise. ``games`` keeps only those games.
    ``tool``: play every game wrapped in `langgames.tools.PythonTool` (``True`` for the default
    options, or a dict of its keyword arguments); ``results.json`` then records the options under
    ``"tool"``, each row its ``tool_calls_per_episode`` and each episode its ``tool_calls``.
    """
    import langgames
    from langgames.policies import load_policy
    from langgames.registry import get_spec

    if episodes < 1 or workers < 1 or chunk < 1:
        raise InvalidArgument(
            f"episodes, workers and chunk must be >= 1 (got {episodes}, {workers}, {chunk})"
        )
    if seed < 0:
        raise InvalidArgument(f"seed must be >= 0 (got {seed})")
    executor = executor or ("local" if workers == 1 else "process")
    if executor not in EXECUTORS:
        raise InvalidArgument(
            f"unknown executor {executor!r}.{did_you_mean(executor, EXECUTORS)} "
            f"Executors: {', '.join(EXECUTORS)}."
        )
    named = load_policy(policy, max_new_tokens=max_new_tokens, temperature=temperature)
    names = [p.name for p in named]
    if len(set(names)) != len(names):
        raise InvalidArgument(f"a policy is named twice in {policy!r}: {names}")
    the_suite = get_suite(suite)
    selected = list(the_suite.games)
    if games:
        wanted = {get_spec(g).id for g in games}
        known = {g.id for g in selected}
        missing = sorted(wanted - known)
        if missing:
            raise InvalidArgument(
                f"games {missing} are not in suite {suite!r}; it has: " + ", ".join(sorted(known))
            )
        selected = [g for g in selected if g.id in wanted]
    excluded = []
    kept = []
    for g in selected:
        card = get_spec(g.id).card
        if card and card.get("flagged") and not include_flagged:
            flags = "; ".join(map(str, card.get("flags", []))) or "no reason recorded"
            excluded.append(
                {
                    "game": g.id,
                    "reason": f"its card (grade {card.get('grade', '?')}) is flagged: {flags}. "
                    "Use --include-flagged to run it anyway.",
                }
            )
        else:
            kept.append(g)
    tasks = []
    for pol in names:
        for g in kept:
            if seed + episodes > len(g.seeds):
                raise InvalidArgument(
                    f"{g.id}: seed {seed} + {episodes} episodes runs past its {len(g.seeds)} "
                    "evaluation seeds; use a smaller --seed or fewer --episodes"
                )
            for d in g.difficulties:
                for i in range(episodes):
                    tasks.append(
                        Task(
                            pol, g.id, d, i, g.seeds.start + seed + i, policy_seed(seed, g.id, d, i)
                        )
                    )
    from langgames.tools import tool_options

    tool_opts = tool_options(tool)
    config = BenchConfig(
        policy, max_new_tokens=max_new_tokens, temperature=temperature, tool=tool_opts
    )
    start = time.perf_counter()
    records = _execute(
        tasks,
        config,
        workers=workers,
        executor=executor,
        ray_address=ray_address,
        progress=progress,
        chunk=chunk,
    )
    elapsed = time.perf_counter() - start
    order = {p: i for i, p in enumerate(names)}
    records.sort(key=lambda r: (order[r["policy"]], r["game"], r["difficulty"], r["episode"]))
    rows = _aggregate(records, names)
    results: dict[str, Any] = {
        "schema": RESULTS_SCHEMA,
        "langgames_version": langgames.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "suite": suite,
        "seed": seed,
        "episodes": episodes,
        "workers": workers,
        "executor": executor,
        "policies": names,
        "games": {
            g.id: {"seeds": [g.seeds.start, g.seeds.stop], "difficulties": list(g.difficulties)}
            for g in kept
        },
        "excluded": excluded,
        "seconds": elapsed,
        "rows": rows,
        "leaderboard": _leaderboard(rows),
    }
    if tool_opts is not None:
        results["tool"] = tool_opts
    outdir = Path(out)
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    with (outdir / "episodes.jsonl").open("w") as fh:
        for r in records:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    notes = []
    failed = [r for r in records if "error" in r]
    if failed:
        first = failed[0]
        # An episode whose policy raised scores 0: say so loudly, never as a quiet low score.
        notes.append(
            f"WARNING: {len(failed)} episode(s) ended because the policy raised (scored 0, counted "
            f"as episode_error), e.g. {first['policy']} on {first['game']}: {first['error']}. "
            "Tracebacks are in episodes.jsonl."
        )
    made: list[str] = []
    note = ""
    if not plots:
        note = "Plots were not requested (--no-plots)."
    else:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            note = (
                "Plots skipped: matplotlib is not installed "
                "(pip install 'langgames[plot]' to get scores.png and rewards.png)."
            )
            notes.append(note)
        else:
            made = _plots(results, records, outdir)
    (outdir / "report.md").write_text(_report(results, made, note, notes))
    return BenchResult(results, outdir, notes)


# ---------------------------------------------------------------------------------- compare
def compare(a: str | Path, b: str | Path, out: IO[str] | None = None) -> int:
    """Print how results ``b`` differ from results ``a``; return the number of changed rows.

    A row changes when its success rate or mean score differs; ``*`` marks rows whose success
    intervals do not overlap (a difference unlikely to be noise).
    """
    out = out or sys.stdout
    ra, rb = (json.loads(Path(p).read_text()) for p in (a, b))
    for p, r in ((a, ra), (b, rb)):
        if r.get("schema") != RESULTS_SCHEMA:
            raise InvalidArgument(
                f"{p}: expected a results.json with schema {RESULTS_SCHEMA!r} "
                f"(got {r.get('schema')!r})"
            )
    ia = {(r["policy"], r["game"], r["difficulty"]): r for r in ra["rows"]}
    ib = {(r["policy"], r["game"], r["difficulty"]): r for r in rb["rows"]}
    lines = []
    changed = 0
    for key in sorted(set(ia) | set(ib)):
        x, y = ia.get(key), ib.get(key)
        name = f"{key[0]} {key[1].split('/')[-1]} d{key[2]}"
        if x is None or y is None:
            lines.append([name, "only in " + ("B" if x is None else "A"), "", "", ""])
            changed += 1
            continue
        ds = y["success_rate"] - x["success_rate"]
        dm = y["mean_score"] - x["mean_score"]
        if abs(ds) < 1e-12 and abs(dm) < 1e-12:
            continue
        changed += 1
        sig = x["success_ci"][1] < y["success_ci"][0] or y["success_ci"][1] < x["success_ci"][0]
        lines.append(
            [
                name,
                f"{x['success_rate']:.0%} -> {y['success_rate']:.0%}",
                f"{ds:+.0%}{' *' if sig else ''}",
                f"{x['mean_score']:.3f} -> {y['mean_score']:.3f}",
                f"{dm:+.3f}",
            ]
        )
    out.write(f"A: {a} ({ra['created']})\nB: {b} ({rb['created']})\n")
    if not lines:
        out.write("No differences in success rate or mean score.\n")
        return 0
    out.write(
        _md_table(
            ["policy game difficulty", "success A -> B", "change", "score A -> B", "change"], lines
        )
        + "\n"
    )
    out.write(f"\n{changed} row(s) differ; * = the 95% intervals do not overlap.\n")
    return changed
