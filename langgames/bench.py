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

import asyncio
import contextlib
import datetime as _dt
import inspect
import json
import math
import os
import signal
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from langgames.errors import InvalidArgument, MissingExtra, did_you_mean
from langgames.rollout import _jsonable

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

    @property
    def key(self) -> tuple[str, str, int, int]:
        return (self.policy, self.game, self.difficulty, self.episode)


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
    #: Options for model policies (`langgames.policies.load_policy`'s ``options``).
    options: dict[str, Any] = field(default_factory=dict)
    #: Episodes in flight at once per worker.
    concurrency: int = 1


# ---------------------------------------------------------------------------------- workers
_WORKER: dict[str, Any] = {}

#: Longest action or observation text kept per turn in episodes.jsonl.
_MAX_TEXT = 20_000


def _worker_init(config: BenchConfig, stop: Any = None, ignore_sigint: bool = False) -> None:
    from langgames.policies import load_policy

    if ignore_sigint:
        # The terminal's Ctrl-C reaches every process of the group; the parent decides what
        # to do, and a worker (and the sandboxes it starts, which inherit this) carries on.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    policies = load_policy(
        config.policy_spec,
        max_new_tokens=config.max_new_tokens,
        temperature=config.temperature,
        options=config.options,
    )
    _WORKER.clear()
    _WORKER.update(config=config, policies={p.name: p for p in policies}, pools={}, stop=stop)


def _close_worker() -> None:
    for pool in _WORKER.get("pools", {}).values():
        pool.close()
    _WORKER["pools"] = {}


def _pool(game_id: str) -> Any:
    from langgames.registry import make_game
    from langgames.rollout import EnvPool

    pools = _WORKER["pools"]
    if game_id not in pools:
        tool = _WORKER["config"].tool

        def make() -> Any:
            if tool is None:
                return make_game(game_id)
            from langgames.tools import PythonTool

            return PythonTool(make_game(game_id), **tool)

        pools[game_id] = EnvPool(game_id, make=make)
    return pools[game_id]


def _short(text: Any, limit: int) -> Any:
    if isinstance(text, str) and len(text) > limit:
        return text[:limit] + "...[truncated]"
    return text


def _record(task: Task, ep: Any, game: Any, tool: bool) -> dict[str, Any]:
    """One episodes.jsonl line: the `Episode` JSON plus the benchmark's fields."""
    record: dict[str, Any] = ep.to_json()
    for turn in record["turns"]:
        turn["action"] = _short(turn["action"], _MAX_TEXT)
        turn["observation"] = _short(turn["observation"], _MAX_TEXT)
    record["first_observation"] = _short(record["first_observation"], _MAX_TEXT)
    record["final_observation"] = _short(record["final_observation"], _MAX_TEXT)
    record.update(
        policy=task.policy,
        game=task.game,
        difficulty=task.difficulty,
        episode=task.episode,
        seed=task.seed,
        policy_seed=task.policy_seed,
    )
    failures: dict[str, int] = {}
    steps = []
    for t in ep.turns:
        status = t.status
        if status in _FAILURE_KEYS:
            failures[status] = failures.get(status, 0) + 1
        step: dict[str, Any] = {
            "role": t.role,
            "action": _short(t.action, 2000),
            "reward": t.reward,
            "status": status,
            "reason": t.verdict.get("reason", ""),
        }
        if t.parsed_action is not None:
            step["parsed_action"] = _short(t.parsed_action, 2000)
        if "tool" in t.extra:
            step["tool_status"] = t.extra["tool"]["status"]
        if t.usage:
            for key in (
                "latency",
                "prompt_tokens",
                "completion_tokens",
                "finish_reason",
                "retries",
            ):
                if key in t.usage:
                    step[key] = t.usage[key]
        steps.append(step)
    learners = game.learner_roles or game.game_info.roles
    guaranteed = game.optimal_roles or learners
    if ep.error is not None:
        failures["episode_error"] = 1
        record.update(reward=0.0, score=0.0, success=False)
    else:
        record["reward"] = sum(ep.returns.get(r, 0.0) for r in learners) / len(learners)
        # a role whose optimal return is 0 (e.g. a defender that cannot gain) counts its raw return
        record["score"] = sum(
            ep.returns.get(r, 0.0) / (game.max_return(r) if game.max_return(r) > 0 else 1.0)
            for r in learners
        ) / len(learners)
        record["success"] = all(
            ep.returns.get(r, 0.0) >= game.max_return(r) - 1e-9 for r in guaranteed
        )
    for key in ("error", "error_kind", "traceback"):
        if record.get(key) is None:
            record.pop(key, None)
    record.update(steps=steps, failures=failures, transcript=_short(ep.transcript, _MAX_TEXT))
    if tool:  # calls run (refused ones excluded) over every role, this episode
        last = ep.turns[-1].extra if ep.turns else {}
        record["tool_calls"] = sum(last.get("tool_calls", {}).values())
    return _jsonable(record)


async def _play_task(task: Task, should_stop: Callable[[], bool]) -> dict[str, Any] | None:
    """Play one task; ``None`` when it was stopped before it finished."""
    from langgames.rollout import Episode, aplay

    pool = _pool(task.game)
    env = pool.acquire()
    tool = _WORKER["config"].tool is not None
    try:
        try:
            policy = _WORKER["policies"][task.policy].build(env, task.policy_seed)
        except Exception as err:
            ep = Episode(task.game, task.seed, task.difficulty, policy_seed=task.policy_seed)
            ep.error = f"{type(err).__name__}: {err}"
            ep.error_kind = "policy_build"
            ep.traceback = traceback.format_exc(limit=5)
        else:
            ep = await aplay(
                env,
                policy,
                seed=task.seed,
                difficulty=task.difficulty,
                on_error="record",
                game=task.game,
                policy_seed=task.policy_seed,
                should_stop=should_stop,
                transcript=True,
            )
    finally:
        pool.release(env)
    if ep.error_kind == "cancelled":
        return None
    return _record(task, ep, env, tool)


async def _play_tasks(
    tasks: Sequence[Task],
    concurrency: int,
    should_stop: Callable[[], bool],
    on_record: Callable[[dict[str, Any]], None],
) -> None:
    """Play ``tasks`` with up to ``concurrency`` in flight; stop within ~0.1 s of the signal."""
    sem = asyncio.Semaphore(concurrency)

    async def one(task: Task) -> None:
        async with sem:
            if should_stop():
                return
            record = await _play_task(task, should_stop)
            if record is not None:
                on_record(record)

    running = [asyncio.ensure_future(one(t)) for t in tasks]

    async def watch() -> None:
        while not should_stop():
            await asyncio.sleep(0.1)
        for t in running:
            t.cancel()  # in-flight requests end now; their episodes are left to --resume

    watcher = asyncio.ensure_future(watch())
    try:
        results = await asyncio.gather(*running, return_exceptions=True)
    finally:
        watcher.cancel()
        for named in _WORKER["policies"].values():
            if named.close is not None:
                closing = named.close()
                if inspect.isawaitable(closing):
                    with contextlib.suppress(Exception):
                        await closing
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError):
            raise r


def _play_chunk(tasks: list[Task]) -> list[dict[str, Any]]:
    """In a worker process: play a chunk, return the finished records."""
    stop = _WORKER.get("stop")
    records: list[dict[str, Any]] = []

    def should_stop() -> bool:
        return stop is not None and stop.is_set()

    asyncio.run(_play_tasks(tasks, _WORKER["config"].concurrency, should_stop, records.append))
    return records


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


class _Stopper:
    """First Ctrl-C: stop cleanly (finish the report); second: exit at once."""

    def __init__(self) -> None:
        self.stopped = False
        self._old: Any = None

    def __enter__(self) -> _Stopper:
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)

    def _handle(self, signum: int, frame: Any) -> None:
        if self.stopped:
            sys.stderr.write("\nsecond interrupt: exiting now (finished episodes are saved)\n")
            sys.stderr.flush()
            os._exit(130)
        self.stopped = True
        sys.stderr.write(
            "\ninterrupted: stopping the episodes in flight and writing the report for the "
            "finished ones (Ctrl-C again to exit at once)\n"
        )
        sys.stderr.flush()

    def __call__(self) -> bool:
        return self.stopped


def _execute(
    tasks: list[Task],
    config: BenchConfig,
    *,
    workers: int,
    executor: str,
    ray_address: str | None,
    progress: bool,
    chunk: int,
    on_record: Callable[[dict[str, Any]], None],
    stopper: _Stopper,
) -> None:
    from langgames._progress import Progress

    if not tasks:
        return
    chunks = _chunks(tasks, max(chunk, config.concurrency))
    with Progress(len(tasks), "bench", enabled=progress) as bar:

        def emit(record: dict[str, Any]) -> None:
            on_record(record)
            bar.update(1)

        if executor == "local":
            _worker_init(config)
            try:
                asyncio.run(_play_tasks(tasks, config.concurrency, stopper, emit))
            finally:
                _close_worker()
        elif executor == "process":
            import concurrent.futures as cf
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            stop = ctx.Event()
            with cf.ProcessPoolExecutor(
                max_workers=workers,
                mp_context=ctx,
                initializer=_worker_init,
                initargs=(config, stop, True),
            ) as pool:
                pending = {pool.submit(_play_chunk, c) for c in chunks}
                cancelled = False
                while pending:
                    done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
                    for fut in done:
                        if not fut.cancelled():
                            for record in fut.result():
                                emit(record)
                    if stopper() and not cancelled:
                        stop.set()
                        for fut in pending:
                            fut.cancel()
                        cancelled = True
        elif executor == "ray":
            try:
                import ray
            except ImportError as err:
                raise MissingExtra("--executor ray", "ray", "ray") from err
            started = False
            if not ray.is_initialized():
                # without an address, a private local Ray: never join a cluster that happens to
                # run on this machine
                ray.init(
                    address=ray_address or "local",
                    num_cpus=None if ray_address else workers,
                    include_dashboard=False,
                    log_to_driver=False,
                )
                started = True
            try:
                remote = ray.remote(num_cpus=1)(_ray_play_chunk)
                refs = [remote.remote(config, c) for c in chunks]
                while refs:
                    done, refs = ray.wait(refs, num_returns=1, timeout=0.2)
                    for ref in done:
                        for record in ray.get(ref):
                            emit(record)
                    if stopper():
                        for ref in refs:
                            ray.cancel(ref, force=True)
                        break
            finally:
                if started:
                    ray.shutdown()
        else:
            raise InvalidArgument(
                f"unknown executor {executor!r}.{did_you_mean(executor, EXECUTORS)} "
                f"Executors: {', '.join(EXECUTORS)}."
            )


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


def _leaderboard(
    rows: list[dict[str, Any]],
    records: Sequence[Mapping[str, Any]] = (),
    names: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One entry per policy, best first; a policy whose every episode failed comes last with
    ``"failed": true`` and is never ranked."""
    by: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by.setdefault(row["policy"], []).append(row)
    board = []
    for pol, rs in by.items():
        n = sum(r["episodes"] for r in rs)
        wins = round(sum(r["success_rate"] * r["episodes"] for r in rs))
        mine = [r for r in records if r["policy"] == pol]
        errors = [r for r in mine if "error" in r]
        entry = {
            "policy": pol,
            "mean_score": sum(r["mean_score"] for r in rs) / len(rs),
            "mean_reward": sum(r["mean_reward"] for r in rs) / len(rs),
            "success_rate": sum(r["success_rate"] for r in rs) / len(rs),
            "success_ci": list(wilson_interval(wins, n)),
            "episodes": n,
            "failures": sum(sum(r["failures"].values()) for r in rs),
            "seconds": sum(r["seconds"] for r in rs),
            "failed": bool(mine) and len(errors) == len(mine),
        }
        if entry["failed"]:
            entry["error"] = errors[0]["error"]
        board.append(entry)
    board.sort(key=lambda b: (b["failed"], -b["mean_score"], -b["success_rate"], b["policy"]))
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
            if not b.get("failed")
            else ["-", b["policy"], "FAILED", "-", "-", b["episodes"], "every episode raised"]
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
        f"{results['workers']} worker(s), executor `{results['executor']}`, "
        f"{results.get('concurrency', 1)} episode(s) in flight per worker; "
        f"{results['seconds']:.1f} s wall time.",
        "",
        *(
            [
                f"**Interrupted: {results['missing']} episode(s) are missing; this report covers "
                "the finished ones. Re-run with `--resume` to finish.**",
                "",
            ]
            if results.get("interrupted") or results.get("missing")
            else []
        ),
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
    if results.get("usage"):
        parts += [
            "## Requests",
            "",
            f"Per policy, over the run ({results['seconds']:.1f} s wall time): requests that "
            "returned, tokens in and out (the server's `usage`), mean latency per request, "
            "retries, and episodes that ended in an error, by kind.",
            "",
            _md_table(
                ["policy", "requests", "tokens in", "tokens out", "mean latency", "retries",
                 "errors"],
                [
                    [p, u["requests"], u["prompt_tokens"], u["completion_tokens"],
                     "-" if u["mean_latency"] is None else f"{u['mean_latency'] * 1000:.0f} ms",
                     u["retries"],
                     ", ".join(f"{k}: {v}" for k, v in u["errors"].items()) or "0"]
                    for p, u in results["usage"].items()
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
    data = [[r["score"] for r in records if r["policy"] == p] or [0.0] for p in policies]
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

    @property
    def failed_policies(self) -> list[str]:
        """Policies whose every episode failed (shown as failed, never ranked)."""
        return [b["policy"] for b in self.results["leaderboard"] if b.get("failed")]

    @property
    def interrupted(self) -> bool:
        return bool(self.results.get("interrupted"))


#: The files a run writes into ``--out`` (``--overwrite`` removes these and nothing else).
OUTPUT_FILES = ("run.json", "episodes.jsonl", "results.json", "report.md", "scores.png",
                "rewards.png")  # fmt: skip

#: The ``schema`` of ``run.json``, the stored settings that ``--resume`` checks.
RUN_SCHEMA = "langgames.bench-run/1"


def _prepare_out(out: Path, settings: dict[str, Any], *, resume: bool, overwrite: bool) -> None:
    """Check ``out`` and its stored settings; create it. One-line errors for bad paths."""
    if resume and overwrite:
        raise InvalidArgument("--resume and --overwrite contradict each other; pick one")
    if out.exists() and not out.is_dir():
        raise InvalidArgument(f"--out {out} is a file; give a directory for the run's outputs")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".langgames-write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as err:
        raise InvalidArgument(
            f"--out {out}: cannot write there ({err.strerror or err}); give a writable directory"
        ) from None
    existing = sorted(p.name for p in out.iterdir())
    stored_file = out / "run.json"
    if resume:
        if not stored_file.exists():
            if existing:
                raise InvalidArgument(
                    f"--resume: {out} holds files but no run.json, so it is not a run this "
                    "version can continue; use another --out or --overwrite"
                )
            return
        stored = json.loads(stored_file.read_text())
        diff = sorted(
            k
            for k in set(stored) | set(settings)
            if k != "created" and stored.get(k) != settings.get(k)
        )
        if diff:
            details = "; ".join(
                f"{k}: stored {stored.get(k)!r}, now {settings.get(k)!r}" for k in diff
            )
            raise InvalidArgument(
                f"--resume: the settings differ from the run stored in {out}/run.json ({details}). "
                "Resume with the same settings, or start a new run with another --out."
            )
        return
    if existing and not overwrite:
        raise InvalidArgument(
            f"--out {out} is not empty ({', '.join(existing[:4])}"
            f"{', ...' if len(existing) > 4 else ''}); use --resume to continue the run in it, "
            "--overwrite to replace it, or another --out"
        )
    if overwrite:
        for name in OUTPUT_FILES:
            (out / name).unlink(missing_ok=True)
    stored_file.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")


def _load_finished(path: Path) -> list[dict[str, Any]]:
    """Finished episodes of an earlier session: valid lines without an error (those are
    retried); a line cut short by a kill is skipped."""
    records = []
    if not path.exists():
        return records
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and "error" not in record:
            records.append(record)
    return records


def _usage(records: list[dict[str, Any]], names: list[str]) -> dict[str, dict[str, Any]]:
    """Per policy: requests, tokens in and out, mean latency, retries, errors by kind."""
    out: dict[str, dict[str, Any]] = {}
    for name in names:
        recs = [r for r in records if r["policy"] == name]
        steps = [s for r in recs for s in r["steps"] if "latency" in s]
        errors: dict[str, int] = {}
        for r in recs:
            if "error" in r:
                kind = r.get("error_kind") or "policy"
                errors[kind] = errors.get(kind, 0) + 1
        if not steps and not any(k not in ("policy", "policy_build") for k in errors):
            continue
        latencies = [float(s["latency"]) for s in steps]
        finish: dict[str, int] = {}
        for s in steps:
            reason = str(s.get("finish_reason"))
            finish[reason] = finish.get(reason, 0) + 1
        out[name] = {
            "requests": len(steps),
            "prompt_tokens": sum(int(s.get("prompt_tokens") or 0) for s in steps),
            "completion_tokens": sum(int(s.get("completion_tokens") or 0) for s in steps),
            "mean_latency": sum(latencies) / len(latencies) if latencies else None,
            "retries": sum(int(s.get("retries") or 0) for s in steps),
            "finish_reasons": dict(sorted(finish.items())),
            "errors": dict(sorted(errors.items())),
        }
    return out


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
    concurrency: int = 1,
    policy_options: Mapping[str, Any] | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> BenchResult:
    """Run ``policy`` (one or several, comma-separated) over ``suite``; write results to ``out``.

    ``executor``: ``"local"`` (this process), ``"process"`` (``workers`` spawned processes) or
    ``"ray"`` (the cluster at ``ray_address``; without one, a private local Ray of ``workers``
    CPUs). The default is ``"local"`` for one worker and ``"process"`` otherwise.
    ``concurrency``: episodes in flight per worker (model policies overlap their requests; an
    ``hf:`` policy batches them); results never depend on it. ``games`` keeps only those games.
    ``tool``: play every game wrapped in `langgames.tools.PythonTool` (``True`` for the default
    options, or a dict of its keyword arguments); ``results.json`` then records the options under
    ``"tool"``, each row its ``tool_calls_per_episode`` and each episode its ``tool_calls``.
    ``policy_options``: options for model policies (see `langgames.policies.load_policy`).

    Episodes are appended to ``episodes.jsonl`` as they finish; at the end the file is rewritten
    in canonical order. A non-empty ``out`` is refused unless ``resume`` (continue the run stored
    there: same settings, finished episodes are not replayed, failed ones are) or ``overwrite``.
    The first Ctrl-C stops the run within seconds and writes the report for the finished
    episodes (``results["interrupted"]``, ``results["missing"]``); a second exits at once.
    """
    import langgames
    from langgames.policies import load_policy
    from langgames.registry import get_spec

    if episodes < 1 or workers < 1 or chunk < 1 or concurrency < 1:
        raise InvalidArgument(
            "episodes, workers, chunk and concurrency must be >= 1 "
            f"(got {episodes}, {workers}, {chunk}, {concurrency})"
        )
    if seed < 0:
        raise InvalidArgument(f"seed must be >= 0 (got {seed})")
    executor = executor or ("local" if workers == 1 else "process")
    if executor not in EXECUTORS:
        raise InvalidArgument(
            f"unknown executor {executor!r}.{did_you_mean(executor, EXECUTORS)} "
            f"Executors: {', '.join(EXECUTORS)}."
        )
    options = dict(policy_options or {})
    named = load_policy(
        policy, max_new_tokens=max_new_tokens, temperature=temperature, options=options
    )
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
        policy,
        max_new_tokens=max_new_tokens,
        temperature=temperature,
        tool=tool_opts,
        options=options,
        concurrency=concurrency,
    )
    settings = _jsonable(
        {
            "schema": RUN_SCHEMA,
            "suite": suite,
            "policy": policy,
            "episodes": episodes,
            "seed": seed,
            "games": sorted(g.id for g in kept),
            "include_flagged": include_flagged,
            "max_new_tokens": max_new_tokens,
            "temperature": temperature,
            "policy_options": options,
            "tool": tool_opts,
        }
    )
    outdir = Path(out)
    _prepare_out(outdir, settings, resume=resume, overwrite=overwrite)
    episodes_file = outdir / "episodes.jsonl"
    wanted_keys = {t.key for t in tasks}
    previous = [
        r for r in _load_finished(episodes_file)
        if (r.get("policy"), r.get("game"), r.get("difficulty"), r.get("episode")) in wanted_keys
    ]  # fmt: skip
    done_keys = {(r["policy"], r["game"], r["difficulty"], r["episode"]) for r in previous}
    todo = [t for t in tasks if t.key not in done_keys]
    # the file restarts from the finished episodes: failed ones of a resumed run are replayed
    _write_jsonl(episodes_file, previous)
    records: list[dict[str, Any]] = list(previous)
    start = time.perf_counter()
    with episodes_file.open("a") as fh, _Stopper() as stopper:

        def on_record(record: dict[str, Any]) -> None:
            records.append(record)
            fh.write(json.dumps(record, sort_keys=True) + "\n")
            fh.flush()

        _execute(
            todo,
            config,
            workers=workers,
            executor=executor,
            ray_address=ray_address,
            progress=progress,
            chunk=chunk,
            on_record=on_record,
            stopper=stopper,
        )
        interrupted = stopper.stopped
    elapsed = time.perf_counter() - start
    order = {p: i for i, p in enumerate(names)}
    records.sort(key=lambda r: (order[r["policy"]], r["game"], r["difficulty"], r["episode"]))
    _write_jsonl(episodes_file, records)
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
        "concurrency": concurrency,
        "policies": names,
        "games": {
            g.id: {"seeds": [g.seeds.start, g.seeds.stop], "difficulties": list(g.difficulties)}
            for g in kept
        },
        "excluded": excluded,
        "seconds": elapsed,
        "rows": rows,
        "leaderboard": _leaderboard(rows, records, names),
        "resumed": len(previous),
        "interrupted": interrupted,
        "missing": len(tasks) - len(records),
    }
    usage = _usage(records, names)
    if usage:
        results["usage"] = usage
    if tool_opts is not None:
        results["tool"] = tool_opts
    (outdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    notes = []
    if interrupted:
        notes.append(
            f"WARNING: interrupted: {results['missing']} of {len(tasks)} episodes are missing; "
            "the report covers the finished ones. Re-run with --resume to finish the run."
        )
    failed = [r for r in records if "error" in r]
    if failed:
        first = failed[0]
        # An episode whose policy raised scores 0: say so loudly, never as a quiet low score.
        notes.append(
            f"WARNING: {len(failed)} episode(s) ended because the policy raised (scored 0, counted "
            f"as episode_error), e.g. {first['policy']} on {first['game']}: {first['error']}. "
            "Tracebacks are in episodes.jsonl."
        )
    for b in results["leaderboard"]:
        if b.get("failed"):
            notes.append(
                f"WARNING: policy {b['policy']} FAILED: every one of its {b['episodes']} "
                f"episodes raised (e.g. {b['error']}); it is not ranked."
            )
    made: list[str] = []
    note = ""
    if not plots:
        note = "Plots were not requested (--no-plots)."
    elif not records:
        note = "No plots: no episode finished."
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


def _write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Replace ``path`` atomically: a reader never sees a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        for r in records:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    os.replace(tmp, path)


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
