"""The benchmark suite: run policies over the games of a suite, locally or on a Ray cluster.

``langgames bench --suite core --policy reference,random,probes --episodes 5 --out bench-out``
runs in three steps, one module each: `langgames.bench.plan` (the suite's games from the
registry, the tasks and their seeds), `langgames.bench.execute` (play the tasks; one
``episodes.jsonl`` record per episode) and `langgames.bench.report` / `langgames.bench.html`
(rows, leaderboard, warnings, report.md, report.html, plots). It writes to ``--out``:

- ``results.json``: schema ``langgames.bench/2`` (see `RESULTS_SCHEMA`). Top level: ``schema``,
  ``langgames_version``, ``created``, ``label`` (``--label``, by default the policy spec),
  ``suite``, ``seed``, ``episodes``, ``workers``, ``executor``, ``policies``, ``games`` (seeds,
  difficulties and family of each), ``excluded`` (games left out and why), ``warnings``,
  ``score_scale``, ``seconds``, ``rows``, ``leaderboard`` and ``probes``. One row per policy,
  game and difficulty: ``family``, ``episodes``, ``mean_reward`` (mean episode return averaged
  over the roles the policy plays), ``mean_score`` (in [0, 1], see `langgames.bench.report`)
  with ``score_ci``, ``success_rate`` (episodes where every role the reference can guarantee
  reached its maximum return) with its 95% Wilson interval ``success_ci``, ``failures`` (moves
  per failing verdict status: unparseable, timeout, resource_limit, forbidden, plus
  ``episode_error`` for episodes whose policy raised), ``steps`` and ``seconds``.
  ``leaderboard``: one entry per policy (``kind`` ``"probe"`` for exploit probes), best first.
  ``probes``: the "best exploit probe" summary (per game, the probe that scored best).
- ``report.md``: settings and warnings, the leaderboard (probes collapsed into one row) and the
  games by family.
- ``report.html``: the same in one self-contained page (sortable tables, the plots inlined,
  every episode's transcript one click from its cell).
- ``episodes.jsonl``: every episode (see `langgames.recording.episode_record` for the shared
  schema, plus the rollout ``Episode`` JSON and the benchmark's fields), in canonical order:
  policy, game, difficulty, episode index.
- ``leaderboard.png`` and ``heatmap.png`` when matplotlib is installed (``langgames[plot]``).

Reproducibility: episode ``i`` of game ``g`` at difficulty ``d`` uses the instance seed
``start + seed + i`` from the game's block of evaluation seeds, and a policy seed derived from
``(seed, g, d, i)`` alone, so the episodes never depend on the number of workers or the executor.
"""

from __future__ import annotations

import datetime as _dt
import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgames.bench.compare import compare, load_results
from langgames.bench.execute import (
    EXECUTORS,
    OUTPUT_FILES,
    RUN_SCHEMA,
    _execute,
    _load_finished,
    _prepare_out,
    _Stopper,
    _write_jsonl,
    episode_score,
)
from langgames.bench.html import html_report
from langgames.bench.plan import (
    BenchConfig,
    Suite,
    SuiteGame,
    Task,
    family_of,
    get_suite,
    load_suites,
    make_plan,
    policy_seed,
)
from langgames.bench.report import (
    SCORE_SCALE,
    aggregate,
    leaderboard,
    leaderboard_table,
    make_plots,
    markdown_report,
    probe_summary,
    usage,
    warnings_for,
    wilson_interval,
)
from langgames.errors import InvalidArgument, did_you_mean
from langgames.rollout import _jsonable

__all__ = [
    "EXECUTORS",
    "OUTPUT_FILES",
    "RESULTS_SCHEMA",
    "RUN_SCHEMA",
    "BenchConfig",
    "BenchResult",
    "Suite",
    "SuiteGame",
    "Task",
    "compare",
    "episode_score",
    "get_suite",
    "html_report",
    "leaderboard_table",
    "load_results",
    "load_suites",
    "policy_seed",
    "run_bench",
    "wilson_interval",
]

#: The ``schema`` field of ``results.json``; bumped on any incompatible change (2: scores in
#: [0, 1], a run label, probes collapsed, warnings and families).
RESULTS_SCHEMA = "langgames.bench/2"


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
    label: str | None = None,
    suites_file: str | Path | None = None,
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
    ``label``: the run's name in reports and ``--compare`` (default: the policy spec).
    ``suites_file``: a JSON file of custom suites (see `load_suites`) instead of the registry's.

    Episodes are appended to ``episodes.jsonl`` as they finish; at the end the file is rewritten
    in canonical order. A non-empty ``out`` is refused unless ``resume`` (continue the run stored
    there: same settings, finished episodes are not replayed, failed ones are) or ``overwrite``.
    The first Ctrl-C stops the run within seconds and writes the report for the finished
    episodes (``results["interrupted"]``, ``results["missing"]``); a second exits at once.
    """
    import langgames
    from langgames.policies import load_policy, probe_names

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
    # ------------------------------------------------------------------------------ plan
    plan = make_plan(
        suite, names, episodes=episodes, seed=seed, games=games,
        include_flagged=include_flagged, suites_file=suites_file,
    )  # fmt: skip
    tasks, kept = plan.tasks, plan.kept
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
    # --------------------------------------------------------------------------- execute
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
    # ---------------------------------------------------------------------------- report
    probes = [n for n in names if n in set(probe_names())]
    rows = aggregate(records, names)
    results: dict[str, Any] = {
        "schema": RESULTS_SCHEMA,
        "langgames_version": langgames.__version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "label": label or policy,
        "suite": suite,
        "seed": seed,
        "episodes": episodes,
        "workers": workers,
        "executor": executor,
        "concurrency": concurrency,
        "policies": names,
        "games": {
            g.id: {
                "seeds": [g.seeds.start, g.seeds.stop],
                "difficulties": list(g.difficulties),
                "family": family_of(g.id),
            }
            for g in kept
        },
        "excluded": plan.excluded,
        "score_scale": SCORE_SCALE,
        "seconds": elapsed,
        "rows": rows,
        "leaderboard": leaderboard(rows, records, probes),
        "probes": probe_summary(rows, probes),
        "resumed": len(previous),
        "interrupted": interrupted,
        "missing": len(tasks) - len(records),
    }
    used = usage(records, names)
    if used:
        results["usage"] = used
    if tool_opts is not None:
        results["tool"] = tool_opts
    notes = [f"WARNING: {w}" for w in warnings_for(results, records)]
    made: list[str] = []
    plot_note = ""
    if not plots:
        plot_note = "Plots were not requested (--no-plots)."
    elif not records:
        plot_note = "No plots: no episode finished."
    else:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            plot_note = (
                "Plots skipped: matplotlib is not installed "
                "(pip install 'langgames[plot]' to get leaderboard.png and heatmap.png)."
            )
            notes.insert(0, plot_note)
        else:
            made = make_plots(results, outdir)
    results["warnings"] = [n.removeprefix("WARNING: ") for n in notes]
    (outdir / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (outdir / "report.md").write_text(markdown_report(results, made, plot_note))
    html_report(results, records, outdir, made)
    return BenchResult(results, outdir, notes)
