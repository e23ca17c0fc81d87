"""Accuracy, false positives and latency of `verify_math` beside math-verify, in one run.

Both verifiers judge the same labelled (gold, answer, expected) pairs of
``tests/data/math_pairs.jsonl``, in two forms: *bare* (as written) and *dollar* (gold and answer
wrapped in ``$...$``, the form math-verify's LaTeX extraction expects; answers that already hold
``$``, ``\\(``, ``\\[`` or ``\\boxed`` are left as written). A verdict counts as right
when "correct" agrees with the label (``expected == "correct"``); a *false positive* is a pair
labelled not correct that a verifier accepts. For langgames the exact status (``unparseable``,
``resource_limit``...) is reported too. Latency is the wall time of one call, gold parsing
included, after one warm-up call per verifier (which starts langgames' worker processes and
imports math-verify's grammar).

math-verify is optional (``pip install math-verify``); without it only langgames is measured.
Pairs that pass options (``rel_tol``, ``domain``, ``variable``) give them to langgames only:
math-verify has no such options.

Arguments:
    --pairs PATH      the labelled pairs (JSON lines; default: tests/data/math_pairs.jsonl)
    --limit N         only the first N pairs (for smoke runs)
    --forms LIST      comma-separated forms to run: bare, dollar (default: both)
    --repeat R        time each call R times and keep the fastest (default: 1)
    --no-math-verify  measure langgames only
    --show-misses     list every pair a verifier gets wrong
    --json PATH       also write the results as JSON
    --no-datasets     skip the dataset-style pairs (issue 20: words, text, units, intervals,
                      named equations, golds to evaluate), reported by kind after the table

Example::

    .venv/bin/python benchmarks/math_bench.py
    .venv/bin/python benchmarks/math_bench.py --limit 40 --forms bare --show-misses
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PAIRS = ROOT / "tests" / "data" / "math_pairs.jsonl"
FORMS = ("bare", "dollar")
MISSING = "math-verify not installed: pip install math-verify"

# A judge returns (status, accepted): the status as a word, and whether it judged "correct".
Judge = Callable[[str, str, dict[str, Any]], tuple[str, bool]]


def _pairs(kind: str, rows: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    return [{"category": kind, "gold": g, "answer": a, "expected": e} for g, a, e in rows]


#: Answer styles that datasets use (issue 20), written by the project: each kind has right
#: answers and near misses, so a checker that accepts everything of a kind is caught.
DATASET_PAIRS: list[dict[str, Any]] = [
    *_pairs("evaluate", [
        (r"\int_0^1 x^2 \, dx", "1/3", "correct"),
        (r"\int_{0}^{\pi} \sin x \, dx", "2", "correct"),
        (r"\int_0^1 x^2 \, dx", "1/2", "incorrect"),
        (r"\sum_{k=1}^{10} k^2", "385", "correct"),
        (r"\sum_{k=1}^{10} k", "56", "incorrect"),
        (r"\prod_{k=1}^{5} k", "120", "correct"),
        (r"\gcd(12, 18)", "6", "correct"),
        (r"\operatorname{lcm}(4, 6)", "12", "correct"),
        (r"\operatorname{lcm}(4, 6)", "24", "incorrect"),
        (r"\binom{6}{3}", "20", "correct"),
        (r"\lim_{x \to 0} \frac{\sin x}{x}", "1", "correct"),
        (r"\lim_{x \to 0} \frac{\sin x}{x}", "0", "incorrect"),
        (r"\det\begin{pmatrix}1 & 2\\ 3 & 4\end{pmatrix}", "-2", "correct"),
        (r"\frac{d}{dx} x^3", "3x^2", "correct"),
        (r"\frac{d}{dx} x^3", "x^3", "incorrect"),
    ]),
    *_pairs("named equation", [
        ("2", "x = 2", "correct"),
        ("2x + 1", "y = 2x + 1", "correct"),
        ("2", "x = 3", "incorrect"),
        ("x + 1", "x = x + 1", "incorrect"),
    ]),
    *_pairs("inequality vs interval", [
        (r"(2, \infty)", "x > 2", "correct"),
        ("x > 2", r"(2, \infty)", "correct"),
        (r"x \le 3", r"(-\infty, 3]", "correct"),
        ("x > 2", r"[2, \infty)", "incorrect"),
        ("1 < x < 3", "(1, 3)", "correct"),
    ]),
    *_pairs("number words", [
        ("5", "five", "correct"),
        ("21", "twenty-one", "correct"),
        ("twelve", "12", "correct"),
        ("-3", "negative three", "correct"),
        ("3/4", "three quarters", "correct"),
        ("5", "six", "incorrect"),
    ]),
    *_pairs("text", [
        (r"\text{yes}", "yes", "correct"),
        (r"\text{Yes}", r"\text{yes}", "correct"),
        (r"\text{no}", "yes", "incorrect"),
        ("(C)", r"\textbf{(C)}", "correct"),
        ("C", "(C)", "correct"),
        ("(C)", "D", "incorrect"),
        ("undefined", r"\text{undefined}", "correct"),
        ("undefined", "0", "incorrect"),
        (r"\text{no solution}", r"\emptyset", "correct"),
        (r"\text{no solution}", "x = 1", "incorrect"),
        (r"\text{Monday}", "Monday", "correct"),
        (r"\text{Monday}", "Tuesday", "incorrect"),
    ]),
    *_pairs("units", [
        ("5", "5 cm", "correct"),
        ("5 cm", "5", "correct"),
        ("3", r"3 \text{ apples}", "correct"),
        (r"3 \text{ apples}", "3", "correct"),
        ("5", "6 cm", "incorrect"),
        ("5", "5 is not it", "incorrect"),
    ]),
]  # fmt: skip


def load_pairs(path: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The labelled pairs: dicts with gold, answer, expected, category and optional options."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows[:limit] if limit else rows


def wrap(text: str, form: str) -> str:
    """``text`` in ``form``: the dollar form wraps bare math only (prose that already has ``$``,
    ``\\(``, ``\\[`` or ``\\boxed`` is left as the model wrote it)."""
    delimited = any(mark in text for mark in ("$", "\\(", "\\[", "\\boxed"))
    return f"${text}$" if form == "dollar" and not delimited else text


def langgames_judge() -> Judge:
    from langgames.verifiers.math import verify_math

    def judge(gold: str, answer: str, options: dict[str, Any]) -> tuple[str, bool]:
        verdict = verify_math(gold, answer, **options)
        return verdict.status.value, verdict.correct

    return judge


def math_verify_judge() -> Judge | None:
    try:
        from math_verify import parse, verify
    except ImportError:
        return None
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)  # it logs every timeout

    def judge(gold: str, answer: str, options: dict[str, Any]) -> tuple[str, bool]:
        try:
            accepted = bool(verify(parse(gold), parse(answer)))
        except Exception as err:  # a crash of the library under test is its verdict, reported
            return f"error: {type(err).__name__}", False
        return ("correct" if accepted else "incorrect"), accepted

    return judge


def run(
    name: str, judge: Judge, pairs: Sequence[dict[str, Any]], form: str, repeat: int
) -> dict[str, Any]:
    """Judge every pair in ``form``; return the counts, latencies and misses."""
    judge(wrap("1", form), wrap("1", form), {})  # warm-up
    latencies, misses = [], []
    right = exact = false_pos = false_neg = 0
    for row in pairs:
        gold, answer = wrap(row["gold"], form), wrap(row["answer"], form)
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            status, accepted = judge(gold, answer, dict(row.get("options", {})))
            best = min(best, time.perf_counter() - start)
        latencies.append(best)
        wanted = row["expected"] == "correct"
        if accepted == wanted:
            right += 1
        else:
            misses.append({**row, "got": status})
            false_pos += accepted and not wanted
            false_neg += wanted and not accepted
        exact += status == row["expected"]
    latencies.sort()
    n = len(pairs)
    return {
        "verifier": name,
        "form": form,
        "pairs": n,
        "accuracy": right / n,
        "exact_status_accuracy": exact / n if name == "langgames" else None,
        "false_positives": false_pos,
        "false_negatives": false_neg,
        "p50_ms": 1000 * statistics.median(latencies),
        "p95_ms": 1000 * latencies[min(n - 1, int(0.95 * n))],
        "total_s": sum(latencies),
        "misses": misses,
    }


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| verifier | form | pairs | accuracy | false positives | false negatives | p50 ms | "
        "p95 ms | total s |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['verifier']} | {r['form']} | {r['pairs']} | {100 * r['accuracy']:.1f}% | "
            f"{r['false_positives']} | {r['false_negatives']} | {r['p50_ms']:.2f} | "
            f"{r['p95_ms']:.2f} | {r['total_s']:.2f} |"
        )
    return "\n".join(lines)


def ratios(results: list[dict[str, Any]]) -> list[str]:
    out = []
    for form in FORMS:
        ours = next(
            (r for r in results if r["verifier"] == "langgames" and r["form"] == form), None
        )
        theirs = next(
            (r for r in results if r["verifier"] == "math-verify" and r["form"] == form), None
        )
        if ours and theirs and ours["p50_ms"] > 0:
            out.append(
                f"{form}: math-verify p50 / langgames p50 = "
                f"{theirs['p50_ms'] / ours['p50_ms']:.1f}x; p95 ratio "
                f"{theirs['p95_ms'] / max(ours['p95_ms'], 1e-9):.1f}x"
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example: .venv/bin/python benchmarks/math_bench.py --limit 40 --forms bare",
    )
    parser.add_argument("--pairs", type=Path, default=DEFAULT_PAIRS)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--forms", default=",".join(FORMS))
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-math-verify", action="store_true")
    parser.add_argument("--show-misses", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-datasets", action="store_true")
    args = parser.parse_args(argv)
    forms = [f.strip() for f in args.forms.split(",") if f.strip()]
    unknown = [f for f in forms if f not in FORMS]
    if unknown or args.repeat < 1:
        parser.error(f"--forms takes {', '.join(FORMS)}; --repeat must be >= 1")
    pairs = load_pairs(args.pairs, args.limit)
    judges: list[tuple[str, Judge]] = [("langgames", langgames_judge())]
    if not args.no_math_verify:
        other = math_verify_judge()
        if other is None:
            print(MISSING)
        else:
            judges.append(("math-verify", other))
    results = [
        run(name, judge, pairs, form, args.repeat) for form in forms for name, judge in judges
    ]
    print(f"{len(pairs)} labelled pairs from {args.pairs}")
    print(table(results))
    for line in ratios(results):
        print(line)
    for r in results:
        if r["exact_status_accuracy"] is not None:
            print(
                f"langgames ({r['form']}): exact status (incl. unparseable/resource_limit) "
                f"matches the label for {100 * r['exact_status_accuracy']:.1f}% of pairs"
            )
    if args.show_misses:
        for r in results:
            for miss in r["misses"]:
                print(
                    f"[{r['verifier']}/{r['form']}] expected {miss['expected']}, got "
                    f"{miss['got']}: {miss['gold']!r} vs {miss['answer']!r}"
                )
    if not args.no_datasets:
        by_kind = [
            {**run(name, judge, [p for p in DATASET_PAIRS if p["category"] == kind], "bare", 1),
             "form": kind}
            for kind in dict.fromkeys(p["category"] for p in DATASET_PAIRS)
            for name, judge in judges
        ]  # fmt: skip
        print(f"\n{len(DATASET_PAIRS)} dataset-style pairs (issue 20), by kind (form = kind):")
        print(table(by_kind))
        if args.show_misses:
            for r in by_kind:
                for miss in r["misses"]:
                    print(
                        f"[{r['verifier']}/{r['form']}] expected {miss['expected']}, got "
                        f"{miss['got']}: {miss['gold']!r} vs {miss['answer']!r}"
                    )
        results += by_kind
    if args.json is not None:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
