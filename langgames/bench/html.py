"""``report.html``: one self-contained page of a benchmark run.

Everything is inline (CSS, a little JavaScript, the plots as ``data:`` URIs, the episodes as
JSON), so the page needs no network at view time and can be mailed or archived as one file.
Tables sort on a click of their header; a click on a score opens that cell's episodes, each
with its transcript: every move's role, action, what the game parsed, the verdict and reward.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from langgames.bench.report import (
    BEST_PROBE,
    SCORE_SCALE,
    board_rows,
    game_table,
    short_game,
)

__all__ = ["html_report"]

#: Longest text kept per field in the page (episodes.jsonl has the rest).
_TEXT = 1500
#: Most moves shown per episode.
_STEPS = 60
#: Above this many characters of episode JSON, observations after the first move are dropped.
_BUDGET = 12_000_000


def _cut(text: Any, limit: int = _TEXT) -> Any:
    if isinstance(text, str) and len(text) > limit:
        return text[:limit] + f"... [{len(text) - limit} more characters in episodes.jsonl]"
    return text


def _episode(record: Mapping[str, Any], observations: bool) -> dict[str, Any]:
    steps = []
    for i, s in enumerate(record.get("steps", [])[:_STEPS]):
        verdict = s.get("verdict") or {}
        steps.append(
            {
                "role": s.get("role"),
                "action": _cut(s.get("action")),
                "parsed": _cut(s.get("parsed_action"), 500),
                "status": verdict.get("status", s.get("status", "")),
                "reason": _cut(verdict.get("reason", s.get("reason", "")), 500),
                "reward": s.get("reward"),
                "observation": _cut(s.get("observation")) if observations or i == 0 else None,
            }
        )
    return {
        "episode": record["episode"],
        "seed": record["seed"],
        "score": record["score"],
        "success": record["success"],
        "returns": {k: round(float(v), 4) for k, v in record.get("returns", {}).items()},
        "error": record.get("error"),
        "moves": len(record.get("steps", [])),
        "steps": steps,
        "final": _cut(record.get("final_observation")),
    }


def _episodes_json(records: Sequence[Mapping[str, Any]]) -> str:
    def build(observations: bool) -> str:
        data: dict[str, list[dict[str, Any]]] = {}
        for r in records:
            key = f"{r['policy']}|{r['game']}|{r['difficulty']}"
            data.setdefault(key, []).append(_episode(r, observations))
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    text = build(True)
    if len(text) > _BUDGET:
        text = build(False)
    # inside <script>: never let the data close the element or open a comment
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _colour(score: float) -> str:
    """A light background from red (0) through yellow to green (1), readable with black text."""
    hue = 120 * max(0.0, min(1.0, score))
    return f"hsl({hue:.0f}, 70%, 85%)"


def _leaderboard(results: Mapping[str, Any]) -> str:
    head = (
        '<tr><th data-sort="num">rank</th><th data-sort="text">policy</th>'
        '<th data-sort="num">score</th><th data-sort="num">success</th><th>95% CI</th>'
        '<th data-sort="num">episodes</th><th data-sort="num">failed moves</th>'
        '<th data-sort="num">errors</th></tr>'
    )
    probes = {b["policy"]: b for b in results["leaderboard"] if b.get("kind") == "probe"}
    summary = results.get("probes") or {"per_game": {}}
    body = []
    for b in board_rows(results):
        rank = "" if b["rank"] is None else b["rank"]
        if b.get("failed"):
            body.append(
                f'<tr class="failed"><td data-v="999">-</td><td>{_e(b["policy"])}</td>'
                f'<td data-v="-1" colspan="6">FAILED: every episode raised '
                f"({_e(b.get('error', ''))})</td></tr>"
            )
            continue
        if b["kind"] == "probes":
            inner = "".join(
                f"<tr><td>{_e(p)}</td><td>{probes[p]['mean_score']:.3f}</td>"
                f"<td>{probes[p]['success_rate']:.0%}</td><td>"
                + _e(", ".join(short_game(g) for g, v in summary["per_game"].items()
                               if v["probe"] == p and v["mean_score"] > 0) or "-")
                + "</td></tr>"
                for p in b["probes"]
            )  # fmt: skip
            name = (
                f"<details><summary>{_e(BEST_PROBE)} (max of {len(b['probes'])} per game)"
                '</summary><table class="inner"><tr><th>probe</th><th>score</th>'
                f"<th>success</th><th>best on</th></tr>{inner}</table></details>"
            )
        else:
            name = _e(b["policy"])
        lo, hi = b["success_ci"]
        body.append(
            f'<tr class="{_e(b["kind"])}"><td data-v="{rank or 998}">{rank or "-"}</td>'
            f'<td data-v="{_e(b["policy"])}">{name}</td>'
            f'<td data-v="{b["mean_score"]:.6f}" style="background:{_colour(b["mean_score"])}">'
            f"{b['mean_score']:.3f}</td>"
            f'<td data-v="{b["success_rate"]:.6f}">{b["success_rate"]:.1%}</td>'
            f"<td>{lo:.2f}-{hi:.2f}</td>"
            f'<td data-v="{b["episodes"]}">{b["episodes"]}</td>'
            f'<td data-v="{b["failed_move_rate"]:.6f}">{b["failed_move_rate"]:.0%}</td>'
            f'<td data-v="{b["episode_errors"]}">{b["episode_errors"]}</td></tr>'
        )
    return (
        f'<table class="sortable" id="leaderboard"><thead>{head}</thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _games(results: Mapping[str, Any]) -> str:
    columns, games = game_table(results)
    summary = results.get("probes") or {"per_game": {}}
    head = '<tr><th data-sort="text">game</th><th data-sort="num">difficulty</th>' + "".join(
        f'<th data-sort="num">{_e(c)}</th>' for c in columns
    )
    bodies: list[str] = []
    family = None
    rows: list[str] = []

    def close() -> None:
        if family is not None:
            bodies.append(
                f'<tbody><tr class="group"><th colspan="{2 + len(columns)}">{_e(family)}</th>'
                f"</tr>{''.join(rows)}</tbody>"
            )

    for g in games:
        if g["family"] != family:
            close()
            family, rows = g["family"], []
        cells = []
        for col in columns:
            cell = g["cells"][col]
            if cell is None:
                cells.append('<td data-v="-1">-</td>')
                continue
            who = cell["policy"]
            title = f"{who} on {short_game(g['game'])} d{g['difficulty']}"
            if col == BEST_PROBE:
                title += f" (best exploit probe: {summary['per_game'][g['game']]['probe']})"
            cells.append(
                f'<td data-v="{cell["mean_score"]:.6f}" '
                f'style="background:{_colour(cell["mean_score"])}">'
                f'<button class="cell" data-key="{_e(who)}|{_e(g["game"])}|{g["difficulty"]}" '
                f'data-title="{_e(title)}" title="open the episodes">'
                f"{cell['mean_score']:.2f} <small>({cell['success_rate']:.0%})</small>"
                "</button></td>"
            )
        rows.append(
            f'<tr><td data-v="{_e(short_game(g["game"]))}">{_e(short_game(g["game"]))}</td>'
            f'<td data-v="{g["difficulty"]}">{g["difficulty"]}</td>{"".join(cells)}</tr>'
        )
    close()
    return f'<table class="sortable" id="games"><thead>{head}</thead>{"".join(bodies)}</table>'


def _policies(results: Mapping[str, Any]) -> str:
    probes = [b["policy"] for b in results["leaderboard"] if b.get("kind") == "probe"]
    named = [p for p in results["policies"] if p not in probes]
    return ", ".join(named + ([f"{len(probes)} exploit probes"] if probes else []))


def _settings(results: Mapping[str, Any]) -> str:
    items = [
        ("label", results.get("label", "-")),
        ("suite", f"{results['suite']} ({len(results['games'])} games)"),
        ("policies", _policies(results)),
        ("seed", results["seed"]),
        ("episodes", f"{results['episodes']} per game and difficulty"),
        ("langgames", results["langgames_version"]),
        ("created", results["created"]),
        ("executor", f"{results['executor']}, {results['workers']} worker(s), "
                     f"{results.get('concurrency', 1)} in flight each"),
        ("wall time", f"{results['seconds']:.1f} s"),
    ]  # fmt: skip
    return '<dl class="settings">' + "".join(
        f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items
    ) + "</dl>"  # fmt: skip


_CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5em auto;
max-width:1200px;padding:0 1em;color:#1b1b1b}
h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin-top:1.6em}
dl.settings{display:grid;grid-template-columns:max-content minmax(0,1fr) max-content
minmax(0,1fr);gap:.1em 1em;margin:.5em 0;font-size:.92em}
dl.settings dt{color:#666}dl.settings dd{margin:0}
.warnings{background:#fff4e5;border-left:4px solid #e08a00;padding:.4em 1em;margin:1em 0}
.warnings li{margin:.2em 0}
table{border-collapse:collapse;margin:.5em 0}th,td{border:1px solid #ddd;padding:.25em .5em;
text-align:left;vertical-align:top}thead th{background:#f3f3f3;position:sticky;top:0}
th[data-sort]{cursor:pointer;user-select:none}th[data-sort]:after{content:" \\2195";color:#aaa}
th[aria-sort=ascending]:after{content:" \\2191";color:#000}
th[aria-sort=descending]:after{content:" \\2193";color:#000}
tr.group th{background:#e8eef7;text-align:left}tr.probes td{color:#555}
tr.failed td{background:#fde8e8}table.inner{font-size:.9em}
button.cell{all:unset;cursor:pointer;display:block;width:100%}button.cell:hover{
text-decoration:underline}
.scroll{overflow-x:auto}img{max-width:100%;border:1px solid #eee;margin:.5em 0}
dialog{width:min(1000px,92vw);max-height:88vh;border:1px solid #999;border-radius:6px;padding:0}
dialog header{position:sticky;top:0;background:#fff;padding:.6em 1em;border-bottom:1px solid
#ddd;display:flex;justify-content:space-between;align-items:center}dialog .body{padding:.5em 1em}
.ep{border:1px solid #ddd;border-radius:4px;margin:.4em 0;padding:.2em .6em}
.ep summary{cursor:pointer;font-weight:600}
.move{border-top:1px dashed #ddd;padding:.3em 0}.role{font-weight:600}
pre{white-space:pre-wrap;word-break:break-word;background:#f7f7f7;padding:.4em;margin:.2em 0;
font-size:.9em;max-height:20em;overflow:auto}
.st{padding:0 .4em;border-radius:3px;font-size:.85em}.st-correct{background:#c8f0c8}
.st-incorrect,.st-unparseable,.st-forbidden,.st-timeout,.st-resource_limit,
.st-verifier_error{background:#f6c9c9}.st-accepted{background:#e4e4f6}
.muted{color:#777;font-size:.9em}
"""

_JS = r"""
(function () {
  "use strict";
  function value(row, i, numeric) {
    var cell = row.cells[i];
    if (!cell) return numeric ? -Infinity : "";
    var v = cell.getAttribute("data-v");
    if (v === null) v = cell.textContent.trim();
    if (!numeric) return v.toLowerCase();
    var n = parseFloat(v);
    return isNaN(n) ? -Infinity : n;
  }
  function sortBy(th) {
    var table = th.closest("table");
    var i = Array.prototype.indexOf.call(th.parentNode.children, th);
    var numeric = th.getAttribute("data-sort") === "num";
    var dir = th.getAttribute("aria-sort") === "descending" ? "ascending" : "descending";
    if (!numeric && !th.hasAttribute("aria-sort")) dir = "ascending";
    table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var sign = dir === "ascending" ? 1 : -1;
    Array.prototype.forEach.call(table.tBodies, function (tbody) {
      var rows = Array.prototype.filter.call(tbody.rows, function (r) {
        return !r.classList.contains("group");
      });
      rows.sort(function (a, b) {
        var x = value(a, i, numeric), y = value(b, i, numeric);
        return x < y ? -sign : x > y ? sign : 0;
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
    });
  }
  document.querySelectorAll("table.sortable thead th[data-sort]").forEach(function (th) {
    th.addEventListener("click", function () { sortBy(th); });
  });

  var data = JSON.parse(document.getElementById("episodes-data").textContent);
  var dialog = document.getElementById("episodes");
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function pre(label, text) {
    var box = el("div");
    box.appendChild(el("span", "muted", label));
    box.appendChild(el("pre", null, text === "" ? "(empty)" : text));
    return box;
  }
  function move(step, n) {
    var box = el("div", "move");
    var line = el("div");
    line.appendChild(el("span", "role", "#" + n + " " + step.role + " "));
    line.appendChild(el("span", "st st-" + step.status, step.status));
    if (step.reward !== null && step.reward !== undefined)
      line.appendChild(el("span", "muted", "  reward " + step.reward));
    box.appendChild(line);
    if (step.observation !== null && step.observation !== undefined) {
      var obs = el("details");
      obs.appendChild(el("summary", "muted", "observation"));
      obs.appendChild(el("pre", null, step.observation));
      box.appendChild(obs);
    }
    box.appendChild(pre("action", step.action));
    if (step.parsed !== null && step.parsed !== undefined)
      box.appendChild(pre("parsed_action", step.parsed));
    if (step.reason) box.appendChild(el("div", "muted", "verdict: " + step.reason));
    return box;
  }
  function episode(ep, open) {
    var d = el("details", "ep");
    if (open) d.open = true;
    var summary = "episode " + ep.episode + " \u00b7 seed " + ep.seed + " \u00b7 score " +
      Number(ep.score).toFixed(2) + " \u00b7 " + (ep.success ? "success" : "no success") +
      " \u00b7 " + ep.moves + " move(s)";
    d.appendChild(el("summary", null, summary));
    if (ep.error) d.appendChild(el("pre", null, "error: " + ep.error));
    d.appendChild(el("div", "muted", "returns: " + JSON.stringify(ep.returns)));
    ep.steps.forEach(function (s, i) { d.appendChild(move(s, i + 1)); });
    if (ep.moves > ep.steps.length)
      d.appendChild(el("div", "muted", (ep.moves - ep.steps.length) +
        " more move(s) in episodes.jsonl"));
    if (ep.final) d.appendChild(pre("final observation", ep.final));
    return d;
  }
  function openCell(button) {
    var eps = data[button.getAttribute("data-key")] || [];
    dialog.querySelector("h3").textContent = button.getAttribute("data-title");
    var body = dialog.querySelector(".body");
    body.textContent = "";
    if (!eps.length) body.appendChild(el("p", null, "No episode recorded."));
    eps.forEach(function (ep, i) { body.appendChild(episode(ep, i === 0)); });
    dialog.showModal();
  }
  document.querySelectorAll("button.cell").forEach(function (b) {
    b.addEventListener("click", function () { openCell(b); });
  });
  dialog.querySelector("button.close").addEventListener("click", function () {
    dialog.close();
  });
})();
"""


def html_report(
    results: Mapping[str, Any],
    records: Sequence[Mapping[str, Any]],
    out: Path,
    plots: Sequence[str] = (),
) -> Path:
    """Write ``out/report.html`` and return its path."""
    warnings = results.get("warnings") or []
    parts = [
        '<!doctype html><html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>langgames bench: {_e(results['suite'])} ({_e(results.get('label', ''))})</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>langgames benchmark: suite <code>{_e(results['suite'])}</code></h1>",
        _settings(results),
    ]
    if warnings:
        parts.append(
            '<section class="warnings" id="warnings"><strong>Warnings</strong><ul>'
            + "".join(f"<li>{_e(w)}</li>" for w in warnings)
            + "</ul></section>"
        )
    parts += [
        "<h2>Leaderboard</h2>",
        f'<p class="muted">Score: {_e(SCORE_SCALE)}. Success: every role the reference '
        "guarantees reached its optimal return (95% Wilson interval). Failed moves: share of "
        "moves judged unparseable, timed out, over a resource limit or forbidden. Click a "
        "header to sort; open the probe row for each exploit probe.</p>",
        _leaderboard(results),
        "<h2>Score (success) by game</h2>",
        '<p class="muted">Games grouped by family. Click a score to read its episodes.</p>',
        f'<div class="scroll">{_games(results)}</div>',
    ]
    if plots:
        parts.append("<h2>Plots</h2>")
        for name in plots:
            data = base64.b64encode((out / name).read_bytes()).decode("ascii")
            parts.append(f'<img alt="{_e(name)}" src="data:image/png;base64,{data}">')
    if results.get("excluded"):
        parts.append("<h2>Excluded games</h2><ul>")
        parts += [f"<li>{_e(e['game'])}: {_e(e['reason'])}</li>" for e in results["excluded"]]
        parts.append("</ul>")
    parts += [
        '<dialog id="episodes"><header><h3></h3>'
        '<button class="close" type="button">close</button></header>'
        '<div class="body"></div></dialog>',
        f'<script type="application/json" id="episodes-data">{_episodes_json(records)}</script>',
        f"<script>{_JS}</script></body></html>",
    ]
    path = out / "report.html"
    path.write_text("\n".join(parts), encoding="utf-8")
    return path
