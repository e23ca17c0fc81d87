"""The benchmark suite: suites, policies by name, reproducible results, reports and compare."""

from __future__ import annotations

import json
import sys

import pytest

import langgames
from langgames import bench
from langgames.cli import main
from langgames.errors import InvalidArgument
from langgames.policies import load_policy, probe_names
from langgames.verifiers.verdict import TIMING_KEYS

GAMES = ["BaseConvert-v0", "Countdown-v0"]


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in TIMING_KEYS | {"seconds"}}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _episodes(path):
    return [_strip(json.loads(line)) for line in (path / "episodes.jsonl").read_text().splitlines()]


def test_suites_are_declared_inside_eval_seeds():
    suites = bench.load_suites()
    assert {"core", "math", "code", "selfplay"} <= set(suites)
    for suite in suites.values():
        for game in suite.games:
            assert langgames.EVAL_SEEDS.start <= game.seeds.start < game.seeds.stop
            assert game.seeds.stop <= langgames.EVAL_SEEDS.stop
    assert {g.id for g in suites["core"].games} == set(langgames.game_ids())


def test_unknown_suite_and_policy_teach():
    with pytest.raises(InvalidArgument, match="Did you mean: `core`"):
        bench.get_suite("coer")
    with pytest.raises(InvalidArgument, match="Did you mean: `reference`"):
        load_policy("refernce")
    with pytest.raises(InvalidArgument, match="no attribute 'nope'"):
        load_policy("langgames.policies:nope")


def test_policy_names_expand():
    names = [p.name for p in load_policy("reference, random,probes")]
    assert names == ["reference", "random", *probe_names()]
    assert [p.name for p in load_policy("langgames.policies:echo")] == ["langgames.policies:echo"]


def test_wilson_interval():
    assert bench.wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = bench.wilson_interval(10, 10)
    assert hi == 1.0 and 0.69 < lo < 0.73


def test_one_and_two_workers_give_identical_episodes(tmp_path):
    kw = {"episodes": 3, "games": GAMES, "progress": False, "plots": False, "seed": 7}
    one = bench.run_bench("math", "reference,random", workers=1, out=tmp_path / "a", **kw)
    two = bench.run_bench("math", "reference,random", workers=2, out=tmp_path / "b", **kw)
    assert one.results["executor"] == "local" and two.results["executor"] == "process"
    a, b = _episodes(tmp_path / "a"), _episodes(tmp_path / "b")
    assert len(a) == 2 * 2 * 3 * 3  # policies x games x difficulties x episodes
    assert a == b
    suite = bench.get_suite("math")
    first = next(g for g in suite.games if g.id == "langgames/BaseConvert-v0").seeds.start
    assert a[0]["seed"] == first + 7 and a[0]["episode"] == 0


def test_results_schema_report_and_compare(tmp_path, capsys):
    kw = {"episodes": 4, "games": ["BaseConvert-v0"], "progress": False}
    ref = bench.run_bench("core", "reference", out=tmp_path / "ref", **kw)
    res = json.loads((tmp_path / "ref" / "results.json").read_text())
    assert res["schema"] == bench.RESULTS_SCHEMA == ref.results["schema"]
    (row,) = res["rows"]
    assert row["success_rate"] == 1.0 and row["episodes"] == 4 and row["mean_reward"] == 1.0
    assert row["success_ci"][0] < 1.0 == row["success_ci"][1]
    assert res["leaderboard"][0]["policy"] == "reference"
    report = (tmp_path / "ref" / "report.md").read_text()
    assert "## Leaderboard" in report and "| 1 | reference |" in report
    bench.run_bench("core", "empty", out=tmp_path / "emp", **kw)
    rows = json.loads((tmp_path / "emp" / "results.json").read_text())["rows"]
    assert rows[0]["failures"].get("unparseable", 0) >= 4
    n = bench.compare(tmp_path / "ref" / "results.json", tmp_path / "ref" / "results.json")
    assert n == 0
    n = bench.compare(tmp_path / "ref" / "results.json", tmp_path / "emp" / "results.json")
    text = capsys.readouterr().out
    assert n == 2 and "only in A" in text and "only in B" in text


def test_flagged_games_are_excluded_unless_asked(tmp_path, monkeypatch):
    from langgames import registry

    real = registry.load_card

    def fake(game_id):
        if game_id.endswith("Countdown-v0"):
            return {"schema": 1, "grade": "F", "flagged": True, "flags": ["constant wins"]}
        return real(game_id)

    monkeypatch.setattr(registry, "load_card", fake)
    kw = {"episodes": 1, "games": GAMES, "progress": False, "plots": False}
    res = bench.run_bench("math", "reference", out=tmp_path / "x", **kw).results
    assert list(res["games"]) == ["langgames/BaseConvert-v0"]
    assert "constant wins" in res["excluded"][0]["reason"]
    assert "Countdown-v0" in (tmp_path / "x" / "report.md").read_text()
    res = bench.run_bench("math", "reference", out=tmp_path / "y", include_flagged=True, **kw)
    assert len(res.results["games"]) == 2 and not res.results["excluded"]


def test_without_matplotlib_plots_are_skipped_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    kw = {"episodes": 1, "games": ["BaseConvert-v0"], "progress": False}
    result = bench.run_bench("core", "random", out=tmp_path, **kw)
    assert "langgames[plot]" in result.notes[0]
    assert not (tmp_path / "scores.png").exists()
    assert "Plots skipped" in (tmp_path / "report.md").read_text()


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    kw = {"episodes": 2, "games": ["BaseConvert-v0"], "progress": False}
    bench.run_bench("core", "reference,random", out=tmp_path, **kw)
    for name in ("scores.png", "rewards.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_policy_errors_are_recorded_not_raised(tmp_path):
    kw = {"episodes": 2, "games": ["BaseConvert-v0"], "progress": False, "plots": False}
    result = bench.run_bench("core", "tests.test_bench:_broken", out=tmp_path, **kw)
    res = result.results
    assert res["rows"][0]["failures"] == {"episode_error": 2}
    # ... and said loudly, not hidden in a low score
    warnings = [n for n in result.notes if n.startswith("WARNING")]
    assert any("2 episode(s) ended because the policy raised" in w for w in warnings)
    # a policy whose every episode failed is shown as failed, never ranked as a score of 0
    assert result.failed_policies == ["tests.test_bench:_broken"]
    assert res["leaderboard"][0]["failed"] and "FAILED" in bench.leaderboard_table(res)
    assert "policy raised" in (tmp_path / "report.md").read_text()


def _broken(observation, info, env):
    raise RuntimeError("boom")


def test_cli_bench_prints_leaderboard_and_compares(tmp_path, capsys):
    out = tmp_path / "o"
    argv = ["bench", "--suite", "core", "--policy", "reference,random", "--episodes", "2"]
    argv += ["--games", "BaseConvert-v0", "--out", str(out), "--quiet", "--no-plots"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "| 1 | reference |" in text and "report.md" in text
    results = str(out / "results.json")
    assert main(["bench", "--compare", results, results]) == 0
    assert "No differences" in capsys.readouterr().out
    assert main(["bench", "--suite", "core", "--policy", "randm", "--out", str(out)]) == 2
