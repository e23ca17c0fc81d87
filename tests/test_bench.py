"""The benchmark suite: suites, policies by name, reproducible results, reports and compare."""

from __future__ import annotations

import itertools
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


def test_suites_come_from_the_registry_inside_eval_seeds():
    from langgames.registry import SUITES, eval_seed_block

    suites = bench.load_suites()
    assert set(suites) == set(SUITES) >= {"core", "math", "code", "selfplay"}
    # every registered game is in core, without a second list to keep
    assert [g.id for g in suites["core"].games] == langgames.game_ids()
    blocks = [eval_seed_block(g) for g in langgames.game_ids()]
    for block in blocks:
        assert langgames.EVAL_SEEDS.start <= block.start < block.stop <= langgames.EVAL_SEEDS.stop
    ordered = sorted(blocks, key=lambda b: b.start)
    assert all(a.stop <= b.start for a, b in itertools.pairwise(ordered))  # disjoint
    for suite in suites.values():
        for game in suite.games:
            assert game.seeds == eval_seed_block(game.id)  # a game plays one block everywhere
    # the blocks of the first games are the ranges the hand-kept suites.json had
    assert eval_seed_block("NumberHunt-v0") == range(1_000_000_000, 1_000_010_000)
    assert eval_seed_block("ScholarsCircle-v0") == range(1_000_160_000, 1_000_170_000)
    assert all(d == (1, 2) for g in suites["selfplay"].games for d in [g.difficulties])


def test_custom_suites_file(tmp_path):
    path = tmp_path / "suites.json"
    path.write_text(json.dumps({"schema": 1, "suites": {"mine": {
        "description": "two games", "difficulties": [2],
        "games": {"BaseConvert-v0": {}, "Countdown-v0": {"seeds": [1000000000, 1000000100]}},
    }}}))  # fmt: skip
    (base, count) = bench.get_suite("mine", path).games
    assert base.seeds == bench.get_suite("core").games[1].seeds and base.difficulties == (2,)
    assert count.seeds == range(1_000_000_000, 1_000_000_100)
    with pytest.raises(InvalidArgument, match="Did you mean: `mine`"):
        bench.get_suite("mien", path)
    path.write_text("{}")
    with pytest.raises(InvalidArgument, match="schema"):
        bench.load_suites(path)


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
    assert row["success_ci"][0] < 1.0 == row["success_ci"][1] and row["family"] == "math"
    assert res["leaderboard"][0]["policy"] == "reference" and res["label"] == "reference"
    report = (tmp_path / "ref" / "report.md").read_text()
    assert "## Leaderboard" in report and "| 1 | reference |" in report
    assert report.index("label `reference`") < report.index("## Leaderboard")
    bench.run_bench("core", "empty", out=tmp_path / "emp", label="nothing", **kw)
    rows = json.loads((tmp_path / "emp" / "results.json").read_text())["rows"]
    assert rows[0]["failures"].get("unparseable", 0) >= 4
    n = bench.compare(tmp_path / "ref" / "results.json", tmp_path / "ref" / "results.json")
    assert n == 0
    capsys.readouterr()
    # two runs of one policy each line up by game, whatever the policies are called
    n = bench.compare(tmp_path / "ref", tmp_path / "emp")
    text = capsys.readouterr().out
    assert n == 1 and "only in" not in text and "WARNING" not in text
    assert "A: reference" in text and "B: nothing" in text
    assert "reference -> empty: score 1.000 -> 0.000" in text
    assert "| BaseConvert | 1 | reference -> empty | 1.000 -> 0.000 | -1.000 * |" in text
    # different settings are said first
    bench.run_bench("core", "reference", out=tmp_path / "s7", seed=7, episodes=2,
                    games=["BaseConvert-v0"], progress=False, plots=False)  # fmt: skip
    bench.compare(tmp_path / "ref", tmp_path / "s7")
    text = capsys.readouterr().out
    assert "WARNING: the runs differ in seed: 0 vs 7; episodes per game: 4 vs 2" in text
    with pytest.raises(InvalidArgument, match="no such file or directory"):
        bench.compare(tmp_path / "nope", tmp_path / "ref")
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "run.json").write_text("{}")
    with pytest.raises(InvalidArgument, match=r"has not finished.*--resume"):
        bench.compare(tmp_path / "half", tmp_path / "ref")


def test_scores_are_in_zero_one_and_probes_collapse(tmp_path):
    kw = {"episodes": 2, "games": ["NumberHunt-v0", "BaseConvert-v0"], "progress": False}
    res = bench.run_bench(
        "core", "reference,empty,constant_0,random", out=tmp_path, plots=False, **kw
    ).results
    for row in res["rows"]:
        assert 0.0 <= row["mean_score"] <= 1.0
    hunt = next(r for r in res["rows"] if r["policy"] == "empty" and "NumberHunt" in r["game"])
    assert hunt["mean_reward"] < -1.0 and hunt["mean_score"] == 0.0  # penalties clip at 0
    kinds = {b["policy"]: b["kind"] for b in res["leaderboard"]}
    assert kinds == {"reference": "policy", "random": "policy", "empty": "probe",
                     "constant_0": "probe"}  # fmt: skip
    assert set(res["probes"]["per_game"]) == set(res["games"])
    table = bench.leaderboard_table(res)
    assert "best exploit probe (max of 2 per game)" in table
    assert "| empty |" not in table and "| constant_0 |" not in table
    report = (tmp_path / "report.md").read_text()
    assert "## Exploit probes" in report and "| empty |" in report
    assert "| deduction/induction | NumberHunt-v0 |" in report


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
    assert not (tmp_path / "leaderboard.png").exists()
    assert "Plots skipped" in (tmp_path / "report.md").read_text()


def test_plots_are_written(tmp_path):
    pytest.importorskip("matplotlib")
    kw = {"episodes": 2, "games": ["BaseConvert-v0"], "progress": False}
    bench.run_bench("core", "reference,random", out=tmp_path, **kw)
    for name in ("leaderboard.png", "heatmap.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"
    page = (tmp_path / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2


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
    assert main(["bench", "--compare", str(out), str(out)]) == 0  # run directories too
    assert "No differences" in capsys.readouterr().out
    assert main(["bench", "--compare", str(out), str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "no such file" in err and "Traceback" not in err
    assert main(["bench", "--suite", "core", "--policy", "randm", "--out", str(out)]) == 2
