"""Dataset checks for the audit: what a dataset-backed game's rows are worth as training data.

A game that plays rows of a dataset (`langgames.envs.math_qa.MathQA`,
`langgames.envs.code_tests.CodeTests`) exposes ``dataset_rows()``; `dataset_report` reads them and
returns a card section with flags, or ``None`` for a game that does not play a dataset. The audit
adds the section to the card as ``card["dataset"]`` and its ``flags`` to the card's flags::

    report = dataset_report(env)
    if report is not None:
        card["dataset"] = report
        flags += report["flags"]

Flags (each one line, naming the rows):

* **duplicate rows**: two rows with the same question (compared after folding case and
  whitespace); a question in both the training and the evaluation rows is counted apart, since it
  leaks the evaluation set into training;
* **dominant answer**: one gold answer is the gold of more than ``DOMINANT_SHARE`` of the playable
  rows (so a constant reply would farm the game);
* **unplayable rows**: rows skipped because a field is missing, the gold cannot be read, or the
  reference solution fails its own tests (``reset`` never crashes on them: the seed plays the next
  row).

>>> from langgames.envs.math_qa import MathQA
>>> report = dataset_report(MathQA())
>>> report["rows"], report["flags"]
(52, [])
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

__all__ = ["DOMINANT_SHARE", "dataset_flags", "dataset_report"]

#: A gold answer shared by more than this share of the playable rows is flagged.
DOMINANT_SHARE = 0.5
_MAX_EXAMPLES = 5


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def dataset_report(game: Any) -> dict[str, Any] | None:
    """The dataset section of ``game``'s card (``None`` if it does not play a dataset)."""
    game = getattr(game, "unwrapped", game)
    rows_of = getattr(game, "dataset_rows", None)
    if not callable(rows_of):
        return None
    rows: list[dict[str, Any]] = rows_of()
    flags: list[str] = []
    by_question: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        if row["question"]:
            by_question.setdefault(_fold(row["question"]), []).append(row)
    repeats = [group for group in by_question.values() if len(group) > 1]
    duplicates = sum(len(g) - 1 for g in repeats)
    leaked = [g for g in repeats if {r["pool"] for r in g} == {"train", "eval"}]
    if duplicates:
        shown = "; ".join(" = ".join(_name(r) for r in g[:3]) for g in repeats[:_MAX_EXAMPLES])
        flags.append(
            f"dataset: {duplicates} duplicate rows (same question), {len(leaked)} of them shared "
            f"by training and evaluation rows: {shown}"
        )
    playable = [r for r in rows if r["problem"] is None]
    golds = Counter(_fold(r["gold"]) for r in playable if r["gold"] is not None)
    top_gold, top_count = golds.most_common(1)[0] if golds else ("", 0)
    top_share = top_count / len(playable) if playable else 0.0
    if playable and len(playable) > 1 and top_share > DOMINANT_SHARE:
        flags.append(
            f"dataset: dominant answer {top_gold[:60]!r} is the gold of {top_share:.0%} of the "
            f"{len(playable)} playable rows"
        )
    broken = [r for r in rows if r["problem"] is not None]
    if broken:
        shown = "; ".join(f"{_name(r)}: {r['problem']}" for r in broken[:_MAX_EXAMPLES])
        flags.append(f"dataset: {len(broken)} of {len(rows)} rows cannot be played: {shown}")
    return {
        "rows": len(rows),
        "train_rows": sum(1 for r in rows if r["pool"] == "train"),
        "eval_rows": sum(1 for r in rows if r["pool"] == "eval"),
        "playable_rows": len(playable),
        "duplicate_rows": duplicates,
        "train_eval_overlap": len(leaked),
        "distinct_golds": len(golds),
        "top_gold_share": round(top_share, 4),
        "unplayable": [{"row": r["row"], "problem": r["problem"]} for r in broken[:20]],
        "flags": flags,
    }


def dataset_flags(game: Any) -> list[str]:
    """Just the flags of `dataset_report` (empty for a game that does not play a dataset)."""
    report = dataset_report(game)
    return [] if report is None else list(report["flags"])


def _name(row: dict[str, Any]) -> str:
    where = row["row"]
    return f"{where['split'] or 'rows'}[{where['index']}]"
