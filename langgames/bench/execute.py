"""Execute a benchmark plan: play its tasks locally, in worker processes or on Ray.

Each finished episode becomes one ``episodes.jsonl`` record (`episode_record`): the
`langgames.recording` record of the episode (the schema `RecordEpisodes` writes), the
`langgames.rollout.Episode` JSON (``turns``, which ``Episode.from_json`` reads back) and the
benchmark's own fields (policy, episode index, score, success, failures).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langgames.bench.plan import BenchConfig, Task
from langgames.errors import InvalidArgument, MissingExtra, did_you_mean
from langgames.rollout import _jsonable

#: Verdict statuses counted as failed moves, per row and episode.
FAILURE_KEYS = ("unparseable", "timeout", "resource_limit", "forbidden")

# ---------------------------------------------------------------------------------- workers
_WORKER: dict[str, Any] = {}

#: Longest action or observation text kept per turn in episodes.jsonl.
_MAX_TEXT = 20_000
#: Longest text kept per step in the record's ``steps`` (a summary of ``turns``).
_STEP_TEXT = 2000


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


def episode_score(returns: Mapping[str, float], game: Any, roles: Sequence[str]) -> float:
    """An episode's score on the benchmark's scale, in [0, 1]: per role of ``roles`` whose
    optimal return is positive, the return over that optimum clipped to [0, 1], averaged.

    Clipping at 0 keeps format penalties (each unreadable move costs a little, so a long game
    can pile up -4) from letting multi-turn games dominate an average; the failed moves are
    counted apart, in ``failures``. A role whose optimal return is 0 (a defender such as
    BugHunt's tester) is left out: what it gains its opponent loses, which the score already
    shows. With no such role, the mean return over ``roles`` clipped to [0, 1].
    """
    scored = [r for r in roles if game.max_return(r) > 0]
    if not scored:
        return min(1.0, max(0.0, sum(returns.get(r, 0.0) for r in roles) / len(roles)))
    return sum(min(1.0, max(0.0, returns.get(r, 0.0) / game.max_return(r))) for r in scored) / len(
        scored
    )


def _record(task: Task, ep: Any, game: Any, tool: bool) -> dict[str, Any]:
    """One episodes.jsonl line: the `langgames.recording` record of the episode, the `Episode`
    JSON and the benchmark's fields."""
    from langgames.recording import episode_record

    ep.turns = list(ep.turns)
    for t in ep.turns:
        t.action = _short(t.action, _MAX_TEXT)
        t.observation = _short(t.observation, _MAX_TEXT)
    ep.first_observation = _short(ep.first_observation, _MAX_TEXT)
    ep.final_observation = _short(ep.final_observation, _MAX_TEXT)
    record: dict[str, Any] = ep.to_json()
    shared = episode_record(ep)
    for step in shared["steps"]:  # the full texts (up to _MAX_TEXT) are in "turns"
        step["observation"] = _short(step["observation"], _STEP_TEXT)
        step["action"] = _short(step["action"], _STEP_TEXT)
    record.update(shared)
    record.update(
        policy=task.policy,
        game=task.game,
        difficulty=task.difficulty,
        episode=task.episode,
        seed=task.seed,
        policy_seed=task.policy_seed,
    )
    failures: dict[str, int] = {}
    steps = shared["steps"]
    own = [s for s in steps if s["observation"] is not None]  # the policy's moves
    for t, step in zip(ep.turns, own, strict=True):  # one step per turn of the policy
        status = t.status
        if status in FAILURE_KEYS:
            failures[status] = failures.get(status, 0) + 1
        if "tool" in t.extra:
            step["tool_status"] = t.extra["tool"]["status"]
        if t.usage:
            for key in ("latency", "prompt_tokens", "completion_tokens", "finish_reason",
                        "retries"):  # fmt: skip
                if key in t.usage:
                    step[key] = t.usage[key]
    learners = game.learner_roles or game.game_info.roles
    guaranteed = game.optimal_roles or learners
    if ep.error is not None:
        failures["episode_error"] = 1
        record.update(reward=0.0, score=0.0, success=False)
    else:
        record["reward"] = sum(ep.returns.get(r, 0.0) for r in learners) / len(learners)
        record["score"] = episode_score(ep.returns, game, learners)
        record["success"] = all(
            ep.returns.get(r, 0.0) >= game.max_return(r) - 1e-9 for r in guaranteed
        )
    for key in ("error", "error_kind", "traceback"):
        if record.get(key) is None:
            record.pop(key, None)
    record.update(failures=failures, transcript=_short(ep.transcript, _MAX_TEXT))
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
                    ready, refs = ray.wait(refs, num_returns=1, timeout=0.2)
                    for finished in ready:
                        for record in ray.get(finished):
                            emit(record)
                    if stopper():
                        for waiting in refs:
                            ray.cancel(waiting, force=True)
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


#: The files a run writes into ``--out`` (``--overwrite`` removes these and nothing else).
#: (``scores.png`` and ``rewards.png`` are the plots of earlier versions.)
OUTPUT_FILES = ("run.json", "episodes.jsonl", "results.json", "report.md", "report.html",
                "leaderboard.png", "heatmap.png", "scores.png", "rewards.png")  # fmt: skip

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
    records: list[dict[str, Any]] = []
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


def _write_jsonl(path: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """Replace ``path`` atomically: a reader never sees a half-written file."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as fh:
        for r in records:
            fh.write(json.dumps(r, sort_keys=True) + "\n")
    os.replace(tmp, path)
