"""``langgames bench --compare A B``: how run B differs from run A.

Rows line up by (game, difficulty); policies line up by name, and a policy found in one run
only is paired with the one policy found in the other run only (two models compared on the same
suite: ``--label`` names each run). The exploit probes are compared as one "best exploit probe"
line. Differences of settings that make the comparison unfair (seeds, episodes, suite, versions,
score scale) are warned about first.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from langgames.bench.report import _md_table, short_game
from langgames.errors import InvalidArgument

__all__ = ["compare", "load_results"]

_SCHEMAS = ("langgames.bench/1", "langgames.bench/2")


def load_results(path: str | Path) -> dict[str, Any]:
    """The ``results.json`` of a run directory, or a results file; one-line errors otherwise."""
    p = Path(path)
    if p.is_dir():
        file = p / "results.json"
        if not file.is_file():
            hint = (
                "it holds run.json but no results.json: the run has not finished; continue it "
                "with --resume"
                if (p / "run.json").is_file()
                else "it is not a langgames bench output directory"
            )
            raise InvalidArgument(f"--compare {p}: no results.json in that directory ({hint})")
    elif p.is_file():
        file = p
    else:
        raise InvalidArgument(
            f"--compare {p}: no such file or directory; give a run directory (--out of a "
            "bench run) or its results.json"
        )
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InvalidArgument(
            f"--compare {file}: not a readable JSON results file ({err})"
        ) from None
    schema = data.get("schema") if isinstance(data, dict) else None
    if schema not in _SCHEMAS:
        raise InvalidArgument(
            f"--compare {file}: expected a results.json with schema "
            f"{' or '.join(map(repr, _SCHEMAS))} (got {schema!r})"
        )
    data.setdefault("label", ",".join(data.get("policies", [])))
    data["_path"] = str(file)
    return data


def _name(game_id: str) -> str:
    """The game's name without namespace or version: rows of two versions line up."""
    return short_game(game_id).rsplit("-v", 1)[0]


def _probe_names(res: Mapping[str, Any]) -> set[str]:
    return {b["policy"] for b in res["leaderboard"] if b.get("kind") == "probe"}


def _pairs(ra: Mapping[str, Any], rb: Mapping[str, Any]) -> tuple[list[tuple[str, str]], list[str]]:
    # the probes are compared as one line, unless a run is nothing but probes
    pa = [p for p in ra["policies"] if p not in _probe_names(ra)] or list(ra["policies"])
    pb = [p for p in rb["policies"] if p not in _probe_names(rb)] or list(rb["policies"])
    pairs = [(p, p) for p in pa if p in pb]
    rest_a = [p for p in pa if p not in pb]
    rest_b = [p for p in pb if p not in pa]
    notes = []
    if len(rest_a) == 1 and len(rest_b) == 1:
        pairs.append((rest_a[0], rest_b[0]))
    else:
        notes += [f"policy {p} is only in A" for p in rest_a]
        notes += [f"policy {p} is only in B" for p in rest_b]
    return pairs, notes


def _differences(ra: Mapping[str, Any], rb: Mapping[str, Any]) -> list[str]:
    out = []
    for key, what in (
        ("suite", "suite"),
        ("seed", "seed"),
        ("episodes", "episodes per game"),
        ("langgames_version", "langgames version"),
        ("schema", "results schema"),
    ):
        if ra.get(key) != rb.get(key):
            out.append(f"{what}: {ra.get(key)} vs {rb.get(key)}")  # fmt: skip
    if ra.get("schema") != rb.get("schema"):
        out.append("scores of langgames.bench/1 are not clipped to [0, 1]: scores differ in scale")
    ga = {_name(g): (g, v) for g, v in ra.get("games", {}).items()}
    gb = {_name(g): (g, v) for g, v in rb.get("games", {}).items()}
    versions = [
        f"{ga[n][0]} vs {gb[n][0]}" for n in sorted(set(ga) & set(gb)) if ga[n][0] != gb[n][0]
    ]
    if versions:
        out.append("game versions: " + ", ".join(short_game(v) for v in versions))
    seeds = [n for n in sorted(set(ga) & set(gb))
             if ga[n][1].get("seeds") != gb[n][1].get("seeds")]  # fmt: skip
    if seeds:
        out.append("seed blocks of " + ", ".join(seeds))
    only = sorted(set(ga) ^ set(gb))
    if only:
        out.append(f"games played by one run only: {', '.join(only)}")
    for key, what in (("tool", "Python tool"), ("max_new_tokens", "max new tokens")):
        if ra.get(key) != rb.get(key) and (key in ra or key in rb):
            out.append(f"{what}: {ra.get(key)} vs {rb.get(key)}")
    return out


def _apart(x: Mapping[str, Any], y: Mapping[str, Any], key: str) -> bool:
    if key not in x or key not in y:
        return False
    return bool(x[key][1] < y[key][0] or y[key][1] < x[key][0])


def _summary(
    rows: list[tuple[Mapping[str, Any], Mapping[str, Any]]],
) -> tuple[float, float, float, float]:
    n = len(rows)
    return (
        sum(x["mean_score"] for x, _ in rows) / n,
        sum(y["mean_score"] for _, y in rows) / n,
        sum(x["success_rate"] for x, _ in rows) / n,
        sum(y["success_rate"] for _, y in rows) / n,
    )


def compare(a: str | Path, b: str | Path, out: IO[str] | None = None) -> int:
    """Print how run ``b`` differs from run ``a`` (run directories or results files); return
    the number of rows that differ.

    A row differs when its success rate or mean score changed; ``*`` marks rows whose 95%
    intervals (score or success) do not overlap: a difference unlikely to be noise.
    """
    out = out or sys.stdout
    ra, rb = load_results(a), load_results(b)
    out.write(f"A: {ra['label']}  ({ra['_path']}, {ra['created']})\n")
    out.write(f"B: {rb['label']}  ({rb['_path']}, {rb['created']})\n")
    warnings = _differences(ra, rb)
    pairs, notes = _pairs(ra, rb)
    if warnings:
        out.write(
            "WARNING: the runs differ in " + "; ".join(warnings)
            + ". Differences below may come from these, not from the policies.\n"
        )  # fmt: skip
    for note in notes:
        out.write(f"note: {note}\n")
    ia = {(r["policy"], _name(r["game"]), r["difficulty"]): r for r in ra["rows"]}
    ib = {(r["policy"], _name(r["game"]), r["difficulty"]): r for r in rb["rows"]}
    lines = []
    changed = 0
    summaries = []
    for pa, pb in pairs:
        keys = sorted({k[1:] for k in ia if k[0] == pa} | {k[1:] for k in ib if k[0] == pb})
        both = []
        significant = 0
        who = pa if pa == pb else f"{pa} -> {pb}"
        for game, diff in keys:
            x, y = ia.get((pa, game, diff)), ib.get((pb, game, diff))
            if x is None or y is None:
                lines.append([game, diff, who, "only in " + ("B" if x is None else "A"),
                              "", "", ""])  # fmt: skip
                changed += 1
                continue
            both.append((x, y))
            ds = y["success_rate"] - x["success_rate"]
            dm = y["mean_score"] - x["mean_score"]
            if abs(ds) < 1e-12 and abs(dm) < 1e-12:
                continue
            changed += 1
            sig = _apart(x, y, "success_ci") or _apart(x, y, "score_ci")
            significant += sig
            lines.append(
                [
                    game, diff, who,
                    f"{x['mean_score']:.3f} -> {y['mean_score']:.3f}",
                    f"{dm:+.3f}{' *' if sig else ''}",
                    f"{x['success_rate']:.0%} -> {y['success_rate']:.0%}",
                    f"{ds:+.0%}",
                ]
            )  # fmt: skip
        if both:
            sa, sb, ca, cb = _summary(both)
            summaries.append(
                f"  {who}: score {sa:.3f} -> {sb:.3f} ({sb - sa:+.3f}), success {ca:.1%} -> "
                f"{cb:.1%} ({cb - ca:+.1%}) over {len(both)} game row(s); {significant} "
                "differ beyond noise"
            )
    pa_, pb_ = ra.get("probes"), rb.get("probes")
    if pa_ and pb_:
        summaries.append(
            f"  best exploit probe: score {pa_['mean_score']:.3f} -> {pb_['mean_score']:.3f}, "
            f"success {pa_['success_rate']:.1%} -> {pb_['success_rate']:.1%}"
        )
    if summaries:
        out.write("\nPer policy (A -> B), over the games both runs played:\n")
        out.write("\n".join(summaries) + "\n")
    if not lines:
        out.write("\nNo differences in success rate or mean score.\n")
        return 0
    out.write("\n" + _md_table(
        ["game", "difficulty", "policy", "score A -> B", "change", "success A -> B", "change"],
        lines,
    ) + "\n")  # fmt: skip
    out.write(
        f"\n{changed} row(s) differ; * = the 95% intervals (score or success) do not overlap, "
        "a difference unlikely to be noise.\n"
    )
    return changed
