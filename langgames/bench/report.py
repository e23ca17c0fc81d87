"""Report a benchmark run: rows, the leaderboard, warnings, ``report.md`` and the plots.

**The score.** Each episode scores in [0, 1]: per role the policy plays whose optimal return is
positive, its return over that optimum, clipped to [0, 1], averaged over those roles (see
`langgames.bench.execute.episode_score`). 1 is optimal play, 0 is nothing achieved. Format
penalties can push a return below 0 (a 42-move game of unreadable replies returns -4.2); the
clip stops them from dominating averages across games, and failed moves are reported apart, as
a share of all moves. A policy's score is the mean over games (each game weighs the same,
whatever its number of difficulties) of the game's mean over its difficulties.

**Exploit probes** (``--policy probes``) are collapsed into one row, "best exploit probe": on
each game the probe that scored best there. It is the score a cheat choosing its trick per game
would get: a floor a model must clearly beat. The probes' own rows are in ``results.json`` and
behind that row in ``report.html``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langgames.bench.plan import family_of

__all__ = [
    "BEST_PROBE",
    "SCORE_SCALE",
    "aggregate",
    "board_rows",
    "game_table",
    "leaderboard",
    "leaderboard_table",
    "make_plots",
    "markdown_report",
    "probe_summary",
    "short_game",
    "warnings_for",
    "wilson_interval",
]

#: The name of the collapsed row of exploit probes.
BEST_PROBE = "best exploit probe"

#: How scores are defined, written into results.json and the reports.
SCORE_SCALE = (
    "in [0, 1]: per episode, each scored role's return over its optimal return, clipped "
    "to [0, 1] (format penalties below 0 count as 0; failed moves are reported apart), averaged "
    "over the game's episodes and difficulties, then over games (each game weighs the same)"
)


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


def _mean_interval(values: Sequence[float], z: float = 1.959964) -> tuple[float, float]:
    """A normal 95% interval of a mean of scores in [0, 1], clipped to [0, 1]; ``(0, 1)`` for
    fewer than two values, and at least the width of one episode's step (1/n) when every value
    is the same, so that two runs of a few episodes are never called different on no evidence."""
    n = len(values)
    if n < 2:
        return (0.0, 1.0)
    mean = sum(values) / n
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    half = max(z * math.sqrt(var / n), 1.0 / n)
    return (max(0.0, mean - half), min(1.0, mean + half))


def short_game(game_id: str) -> str:
    """``langgames/NumberHunt-v0`` -> ``NumberHunt-v0``."""
    return game_id.split("/", 1)[-1]


# ---------------------------------------------------------------------------------- rows
def aggregate(records: list[dict[str, Any]], policies: list[str]) -> list[dict[str, Any]]:
    """One row per policy, game and difficulty, in policy order."""
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
        extra = {}
        if all("tool_calls" in r for r in recs):
            extra["tool_calls_per_episode"] = sum(r["tool_calls"] for r in recs) / n
        scores = [float(r["score"]) for r in recs]
        rows.append(
            {
                "policy": pol,
                "game": game,
                "family": family_of(game),
                "difficulty": diff,
                "episodes": n,
                "mean_reward": sum(r["reward"] for r in recs) / n,
                "mean_score": sum(scores) / n,
                "score_ci": list(_mean_interval(scores)),
                "success_rate": wins / n,
                "success_ci": list(wilson_interval(wins, n)),
                "failures": dict(sorted(failures.items())),
                "steps": sum(len(r["steps"]) for r in recs),
                "seconds": sum(r["seconds"] for r in recs),
                **extra,
            }
        )
    return rows


def _per_game(rows: Iterable[Mapping[str, Any]], key: str) -> dict[str, float]:
    """``key`` averaged over difficulties, per game."""
    acc: dict[str, list[float]] = {}
    for r in rows:
        acc.setdefault(r["game"], []).append(float(r[key]))
    return {g: sum(v) / len(v) for g, v in acc.items()}


def _failed_moves(rows: Iterable[Mapping[str, Any]]) -> int:
    return sum(v for r in rows for k, v in r["failures"].items() if k != "episode_error")


def leaderboard(
    rows: list[dict[str, Any]],
    records: Sequence[Mapping[str, Any]] = (),
    probes: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """One entry per policy, best first; a policy whose every episode failed comes last with
    ``"failed": true`` and is never ranked. ``kind`` is ``"probe"`` for the exploit probes."""
    by: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by.setdefault(row["policy"], []).append(row)
    board = []
    for pol, rs in by.items():
        n = sum(r["episodes"] for r in rs)
        wins = round(sum(r["success_rate"] * r["episodes"] for r in rs))
        mine = [r for r in records if r["policy"] == pol]
        errors = [r for r in mine if "error" in r]
        per_game = _per_game(rs, "mean_score")
        moves = sum(r["steps"] for r in rs)
        entry = {
            "policy": pol,
            "kind": "probe" if pol in probes else "policy",
            "mean_score": sum(per_game.values()) / len(per_game),
            "mean_reward": sum(r["mean_reward"] for r in rs) / len(rs),
            "success_rate": wins / n if n else 0.0,
            "success_ci": list(wilson_interval(wins, n)),
            "episodes": n,
            "games": len(per_game),
            "failures": _failed_moves(rs),
            "moves": moves,
            "failed_move_rate": _failed_moves(rs) / moves if moves else 0.0,
            "episode_errors": len(errors),
            "seconds": sum(r["seconds"] for r in rs),
            "failed": bool(mine) and len(errors) == len(mine),
        }
        if entry["failed"]:
            entry["error"] = errors[0]["error"]
        board.append(entry)
    board.sort(key=lambda b: (b["failed"], -b["mean_score"], -b["success_rate"], b["policy"]))
    return board


def probe_summary(rows: list[dict[str, Any]], probes: Sequence[str]) -> dict[str, Any] | None:
    """The "best exploit probe" row: on each game the probe that scored best there."""
    mine = [r for r in rows if r["policy"] in probes]
    if not mine:
        return None
    scores: dict[str, dict[str, float]] = {}
    success: dict[str, dict[str, float]] = {}
    for p in probes:
        rs = [r for r in mine if r["policy"] == p]
        for g, v in _per_game(rs, "mean_score").items():
            scores.setdefault(g, {})[p] = v
        for g, v in _per_game(rs, "success_rate").items():
            success.setdefault(g, {})[p] = v
    per_game: dict[str, dict[str, Any]] = {}
    for g in sorted(scores):
        best = max(scores[g], key=lambda p: (scores[g][p], success[g][p], -probes.index(p)))
        per_game[g] = {
            "probe": best,
            "mean_score": scores[g][best],
            "success_rate": success[g][best],
        }
    best_rows = [r for r in mine if r["policy"] == per_game[r["game"]]["probe"]]
    n = sum(r["episodes"] for r in best_rows)
    wins = round(sum(r["success_rate"] * r["episodes"] for r in best_rows))
    return {
        "policy": BEST_PROBE,
        "probes": [p for p in probes if any(r["policy"] == p for r in mine)],
        "mean_score": sum(v["mean_score"] for v in per_game.values()) / len(per_game),
        "success_rate": sum(v["success_rate"] for v in per_game.values()) / len(per_game),
        "success_ci": list(wilson_interval(wins, n)),
        "episodes": n,
        "per_game": per_game,
    }


def board_rows(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The leaderboard as a reader sees it: every policy that is not a probe, and one row for
    the best exploit probe (``kind: "probes"``), best first, failed policies last."""
    rows = [dict(b) for b in results["leaderboard"] if b.get("kind") != "probe"]
    summary = results.get("probes")
    if summary:
        # every figure of this row is of the best probe's episodes, game by game
        best = [r for r in results["rows"]
                if summary["per_game"].get(r["game"], {}).get("probe") == r["policy"]]  # fmt: skip
        moves = sum(r["steps"] for r in best)
        failures = _failed_moves(best)
        rows.append(
            {
                "policy": BEST_PROBE,
                "kind": "probes",
                "mean_score": summary["mean_score"],
                "success_rate": summary["success_rate"],
                "success_ci": summary["success_ci"],
                "episodes": summary["episodes"],
                "failures": failures,
                "moves": moves,
                "failed_move_rate": failures / moves if moves else 0.0,
                "episode_errors": sum(r["failures"].get("episode_error", 0) for r in best),
                "failed": False,
                "probes": summary["probes"],
            }
        )
    rows.sort(key=lambda b: (b["failed"], -b["mean_score"], -b["success_rate"], b["policy"]))
    rank = 0
    for b in rows:
        if b["failed"] or b["kind"] == "probes":
            b["rank"] = None
        else:
            rank += 1
            b["rank"] = rank
    return rows


def warnings_for(results: Mapping[str, Any], records: Sequence[Mapping[str, Any]]) -> list[str]:
    """What a reader must know before reading the numbers, most serious first."""
    out = []
    if results.get("interrupted") or results.get("missing"):
        out.append(
            f"interrupted: {results['missing']} episode(s) are missing; the report covers the "
            "finished ones. Re-run with --resume to finish the run."
        )
    for b in results["leaderboard"]:
        if b.get("failed"):
            out.append(
                f"policy {b['policy']} FAILED: every one of its {b['episodes']} episodes raised "
                f"(e.g. {b['error']}); it is not ranked."
            )
    failed = [r for r in records if "error" in r]
    if failed:
        first = failed[0]
        # An episode whose policy raised scores 0: say so loudly, never as a quiet low score.
        out.append(
            f"{len(failed)} episode(s) ended because the policy raised (scored 0, counted as "
            f"episode_error), e.g. {first['policy']} on {short_game(first['game'])}: "
            f"{first['error']}. Tracebacks are in episodes.jsonl."
        )
    summary = results.get("probes")
    if summary:
        random_scores = _per_game(
            [r for r in results["rows"] if r["policy"] == "random"], "mean_score"
        )
        for game, best in summary["per_game"].items():
            base = random_scores.get(game)
            if base is not None and best["mean_score"] > base + 0.05:
                out.append(
                    f"exploit probe {best['probe']} scores {best['mean_score']:.2f} on "
                    f"{short_game(game)}, above random ({base:.2f}): an exploit, or legitimate "
                    "play (e.g. answering with a listed candidate)? Open its transcripts."
                )
            elif base is None and best["success_rate"] > 0:
                out.append(
                    f"exploit probe {best['probe']} succeeds in {best['success_rate']:.0%} of "
                    f"{short_game(game)}'s episodes: an exploit, or legitimate play? Open its "
                    "transcripts."
                )
    if results.get("excluded"):
        out.append(
            f"{len(results['excluded'])} game(s) left out (flagged cards): "
            + ", ".join(short_game(e["game"]) for e in results["excluded"])
            + "; see Excluded games."
        )
    return out


# ---------------------------------------------------------------------------------- tables
def _md_table(header: list[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def leaderboard_table(results: Mapping[str, Any]) -> str:
    """The leaderboard of ``results`` as a Markdown table (probes collapsed into one row)."""
    return _md_table(
        ["rank", "policy", "score", "success", "95% CI", "episodes", "failed moves",
         "errors"],
        (
            [
                "-" if b["rank"] is None else b["rank"],
                b["policy"] if b["kind"] != "probes"
                else f"{BEST_PROBE} (max of {len(b['probes'])} per game)",
                f"{b['mean_score']:.3f}",
                f"{b['success_rate']:.1%}",
                f"{b['success_ci'][0]:.2f}-{b['success_ci'][1]:.2f}",
                b["episodes"],
                f"{b['failed_move_rate']:.0%}",
                b["episode_errors"],
            ]
            if not b.get("failed")
            else ["-", b["policy"], "FAILED", "-", "-", b["episodes"], "-",
                  "every episode raised"]
            for b in board_rows(results)
        ),
    )  # fmt: skip


def game_table(results: Mapping[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """Columns (the leaderboard's rows, in order) and one row per game and difficulty, grouped
    by family: ``{"family", "game", "difficulty", "cells": {column: row or None}}``."""
    columns = [b["policy"] for b in board_rows(results)]
    index = {(r["policy"], r["game"], r["difficulty"]): r for r in results["rows"]}
    summary = results.get("probes") or {"per_game": {}}
    keys = sorted({(r["family"] if "family" in r else family_of(r["game"]), r["game"],
                    r["difficulty"]) for r in results["rows"]})  # fmt: skip
    out = []
    for family, game, diff in keys:
        cells: dict[str, Any] = {}
        for col in columns:
            if col == BEST_PROBE:
                best = summary["per_game"].get(game)
                cells[col] = index.get((best["probe"], game, diff)) if best else None
            else:
                cells[col] = index.get((col, game, diff))
        out.append({"family": family, "game": game, "difficulty": diff, "cells": cells})
    return columns, out


def _settings_line(results: Mapping[str, Any]) -> str:
    return (
        f"label `{results.get('label', '-')}`; suite `{results['suite']}` "
        f"({len(results['games'])} games); seed {results['seed']}, {results['episodes']} "
        f"episode(s) per game and difficulty; langgames {results['langgames_version']}; "
        f"{results['created']}; {results['workers']} worker(s), executor "
        f"`{results['executor']}`, {results.get('concurrency', 1)} in flight per worker; "
        f"{results['seconds']:.1f} s wall time."
    )


def markdown_report(results: Mapping[str, Any], plots: Sequence[str], plot_note: str) -> str:
    """``report.md``: settings and warnings first, then the leaderboard, games by family."""
    columns, games = game_table(results)
    parts = [f"# langgames benchmark: suite `{results['suite']}`", "", _settings_line(results), ""]
    if results.get("warnings"):
        parts += ["## Warnings", ""]
        parts += [f"- **{w}**" for w in results["warnings"]]
        parts.append("")
    parts += [
        "## Leaderboard",
        "",
        f"Score: {SCORE_SCALE}. Success: every role the reference guarantees reached its "
        "optimal return (share of all episodes, 95% Wilson interval). Failed moves: moves "
        "judged unparseable, timed out, over a resource limit or forbidden. The best exploit "
        "probe is, per game, the probe that scored best there; each probe's result is in "
        '"Exploit probes" below.',
        "",
        leaderboard_table(results),
        "",
        "## Score (success) by game",
        "",
    ]
    table_rows = []
    last = None
    for g in games:
        fam = g["family"] if g["family"] != last else ""
        last = g["family"]
        table_rows.append(
            [fam, short_game(g["game"]), g["difficulty"]]
            + [
                "" if c is None else f"{c['mean_score']:.2f} ({c['success_rate']:.0%})"
                for c in (g["cells"][col] for col in columns)
            ]
        )
    parts += [_md_table(["family", "game", "difficulty", *columns], table_rows), ""]
    summary = results.get("probes")
    if summary:
        probes = [b for b in results["leaderboard"] if b.get("kind") == "probe"]
        parts += [
            "## Exploit probes",
            "",
            "Each probe over every game; the best per game makes the leaderboard's "
            f"\"{BEST_PROBE}\" row.",
            "",
            _md_table(
                ["probe", "score", "success", "games it is best on"],
                [
                    [b["policy"], f"{b['mean_score']:.3f}", f"{b['success_rate']:.1%}",
                     ", ".join(short_game(g) for g, v in summary["per_game"].items()
                               if v["probe"] == b["policy"] and v["mean_score"] > 0) or "-"]
                    for b in probes
                ],
            ),
            "",
        ]  # fmt: skip
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
                    [short_game(r["game"]), r["difficulty"], r["policy"],
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
    parts += ["", "Transcripts of every episode: `report.html` (open it in a browser)."]
    return "\n".join(parts) + "\n"


def usage(records: list[dict[str, Any]], names: list[str]) -> dict[str, dict[str, Any]]:
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


# ---------------------------------------------------------------------------------- plots
def make_plots(results: Mapping[str, Any], out: Path) -> list[str]:
    """``leaderboard.png`` and ``heatmap.png`` in ``out``; returns their names.

    matplotlib, because it is already the ``plot`` extra, writes static PNGs that read the same
    in report.md, on GitHub and inlined in report.html, and needs no JavaScript at view time (an
    interactive library such as Plotly would add megabytes of script to every report).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    board = [b for b in board_rows(results) if not b.get("failed")]
    failed = [b for b in board_rows(results) if b.get("failed")]
    made = []
    if board or failed:
        _leaderboard_plot(plt, results, board, failed, out / "leaderboard.png")
        made.append("leaderboard.png")
    columns, games = game_table(results)
    if games and columns:
        _heatmap(plt, results, columns, games, out / "heatmap.png")
        made.append("heatmap.png")
    return made


def _leaderboard_plot(
    plt: Any, results: Mapping[str, Any], board: list[dict[str, Any]],
    failed: list[dict[str, Any]], path: Path,
) -> None:  # fmt: skip
    """One horizontal bar per policy, labelled directly, best on top; zero is drawn as a tick
    and the value "0.00"; success with its 95% interval on the right."""
    entries = board + failed
    n = len(entries)
    fig, (ax, ax2) = plt.subplots(
        1, 2, figsize=(10.0, 1.4 + 0.42 * n), sharey=True, layout="constrained",
        gridspec_kw={"width_ratios": [3, 2]},
    )  # fmt: skip
    ys = list(range(n))[::-1]
    for y, b in zip(ys, entries, strict=True):
        probe = b["kind"] == "probes"
        colour = "#b0b0b0" if probe else "#3b6ea8"
        if b.get("failed"):
            ax.text(0.01, y, "FAILED: every episode raised", va="center", color="#b00020")
            ax2.text(0.01, y, "-", va="center")
            continue
        score = b["mean_score"]
        ax.barh(y, score, color=colour, height=0.6, hatch="//" if probe else None,
                edgecolor="white" if not probe else "#808080")  # fmt: skip
        ax.plot([0, 0], [y - 0.3, y + 0.3], color="black", lw=1.2)  # zero shows as zero
        ax.text(min(score, 1.0) + 0.01, y, f"{score:.2f}", va="center", fontsize=9)
        lo, hi = b["success_ci"]
        ax2.plot([lo, hi], [y, y], color="#555555", lw=1.5)
        ax2.plot([b["success_rate"]], [y], "o", color=colour if not probe else "#808080")
        ax2.text(min(hi, 1.0) + 0.02, y, f"{b['success_rate']:.0%}", va="center", fontsize=9)
    labels = [
        f"{b['policy']} (max of {len(b['probes'])})" if b["kind"] == "probes" else b["policy"]
        for b in entries
    ]
    ax.set_yticks(ys)
    ax.set_yticklabels(labels)
    ax.set_xlim(0, 1.15)
    ax.set_xlabel("score (0 = nothing, 1 = optimal)")
    ax.set_title("mean score over games")
    ax2.set_xlim(0, 1.2)
    ax2.set_xlabel("success rate, 95% Wilson interval")
    ax2.set_title("success")
    for a in (ax, ax2):
        a.spines[["top", "right"]].set_visible(False)
        a.set_ylim(-0.7, n - 0.3)
    fig.suptitle(
        f"langgames bench, suite {results['suite']}: {len(results['games'])} games, "
        f"{results['episodes']} episode(s) each",
        fontsize=11,
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _heatmap(
    plt: Any, results: Mapping[str, Any], columns: list[str], games: list[dict[str, Any]],
    path: Path,
) -> None:  # fmt: skip
    """Policies (rows) by games (columns, grouped by family): the score in each cell, on a
    fixed 0-1 colour scale, "-" where a policy did not play."""
    import numpy as np

    labels = [
        f"{short_game(g['game']).rsplit('-v', 1)[0]}"
        + (f" d{g['difficulty']}" if len({x['difficulty'] for x in games
                                         if x['game'] == g['game']}) > 1 else "")
        for g in games
    ]  # fmt: skip
    data = np.full((len(columns), len(games)), np.nan)
    for j, g in enumerate(games):
        for i, col in enumerate(columns):
            cell = g["cells"][col]
            if cell is not None:
                data[i, j] = cell["mean_score"]
    width = min(30.0, max(7.0, 3.0 + 0.5 * len(games)))
    fig, ax = plt.subplots(figsize=(width, 2.6 + 0.42 * len(columns)), layout="constrained")
    cmap = plt.get_cmap("viridis").with_extremes(bad="#eeeeee")
    im = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
    for i in range(len(columns)):
        for j in range(len(games)):
            v = data[i, j]
            if np.isnan(v):
                text = "-"
            elif v <= 0.0 or v >= 1.0:
                text = f"{v:.0f}"  # zero is written as 0, never as an empty bar or ".00"
            else:
                text = f"{v:.2f}".lstrip("0")
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if not np.isnan(v) and v < 0.6 else "black")  # fmt: skip
    ax.set_yticks(range(len(columns)))
    ax.set_yticklabels(columns)
    ax.set_xticks(range(len(games)))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=8)
    starts = [j for j, g in enumerate(games) if j == 0 or g["family"] != games[j - 1]["family"]]
    for j in starts[1:]:  # family separators
        ax.axvline(j - 0.5, color="white", lw=3)
    ends = [*starts[1:], len(games)]
    top = ax.secondary_xaxis("top")
    top.set_xticks([(a + b - 1) / 2 for a, b in zip(starts, ends, strict=True)])
    top.set_xticklabels([games[j]["family"] for j in starts], rotation=30, ha="left", fontsize=8)
    top.tick_params(length=0)
    ax.set_title(f"score by game and family (suite {results['suite']})")
    fig.colorbar(im, ax=ax, fraction=0.03, pad=0.01, label="score (0 = nothing, 1 = optimal)")
    fig.savefig(path, dpi=100)
    plt.close(fig)
