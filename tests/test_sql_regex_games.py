"""SqlQuery and RegexSynth: references, exploit probes specific to each game, and their limits."""

from __future__ import annotations

import os
import time

import pytest

from langgames.envs._regex_worker import RegexJudge, default_judge
from langgames.envs.regex_synth import RegexSynth
from langgames.envs.sql_query import SqlQuery, run_query
from langgames.policies import reference
from langgames.testing import play_episode

SEEDS = range(12)


def _step(game, action):
    obs, reward, terminated, truncated, info = game.step(action)
    return reward, info["verdict"], terminated


# ---------------------------------------------------------------------------------------- SQL
@pytest.mark.parametrize("level", [1, 2, 3])
def test_sql_reference_earns_the_maximum(level):
    game = SqlQuery(difficulty=level)
    for seed in SEEDS:
        episode = play_episode(game, reference, seed)
        assert episode.returns["player"] == 1.0, episode.transcript


def test_sql_is_deterministic_and_hides_rows():
    a, b = SqlQuery(difficulty=3), SqlQuery(difficulty=3)
    for seed in SEEDS:
        assert a.reset(seed=seed)[0] == b.reset(seed=seed)[0]
        # the hidden rows change the answer, so the visible answer alone is never right
        assert a._want_full.rows != a._want_visible.rows or a._task.ordered


SQL_PROBES = {
    "drop_table": ("DROP TABLE {people}", "forbidden"),
    "delete": ("DELETE FROM {people}", "forbidden"),
    "attach": ("ATTACH DATABASE '/tmp/langgames-attack.db' AS evil", "forbidden"),
    "pragma": ("PRAGMA writable_schema = ON", "forbidden"),
    "pragma_function": ("SELECT * FROM pragma_table_info('{people}')", "forbidden"),
    "load_extension": ("SELECT load_extension('/tmp/evil.so')", "forbidden"),
    "zeroblob": ("SELECT length(zeroblob(1000000000))", "forbidden"),
    "cte_bomb": (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
        "timeout",
    ),
    "cte_rows": (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c",
        "resource_limit",
    ),
    "cte_string_growth": (
        "WITH RECURSIVE c(s) AS (SELECT 'ab' UNION ALL SELECT s || s FROM c) "
        "SELECT max(length(s)) FROM c",
        "resource_limit",
    ),
    "cross_join": (
        "SELECT count(*) FROM {facts} a, {facts} b, {facts} c, {facts} d, {facts} e, {facts} f",
        "timeout",
    ),
}


@pytest.mark.parametrize("name", sorted(SQL_PROBES))
def test_sql_hostile_queries_earn_nothing_with_a_reason(name, tmp_path):
    template, status = SQL_PROBES[name]
    game = SqlQuery(difficulty=2)
    game.reset(seed=3)
    t = game._theme
    query = template.format(people=t.people, facts=t.facts)
    start = time.perf_counter()
    reward, verdict, terminated = _step(game, f"```sql\n{query}\n```")
    assert time.perf_counter() - start < 5.0
    assert reward == 0.0 and terminated
    assert verdict["status"] == status, verdict
    assert verdict["reason"]
    assert not os.path.exists("/tmp/langgames-attack.db")


def test_sql_several_statements_and_syntax_errors_are_unreadable():
    game = SqlQuery()
    game.reset(seed=0)
    reward, verdict, terminated = _step(game, "```sql\nSELECT 1; DROP TABLE x\n```")
    assert verdict["status"] == "unparseable" and reward == -0.1 and not terminated
    reward, verdict, _ = _step(game, "```sql\nSELECT name FROM WHERE\n```")
    assert verdict["status"] == "unparseable" and "syntax error" in verdict["reason"]


def test_sql_literal_visible_answer_fails_on_hidden_rows():
    game = SqlQuery(difficulty=1)
    for seed in SEEDS:
        game.reset(seed=seed)
        rows = game._want_visible.rows
        values = ", ".join(
            "(" + ", ".join(repr(v) if isinstance(v, str) else str(v) for v in row) + ")"
            for row in rows
        )
        reward, verdict, _ = _step(game, f"```sql\nSELECT * FROM (VALUES {values})\n```")
        assert reward == 0.0, verdict
        assert "checking database" in verdict["reason"], verdict


def test_sql_reads_bare_queries_and_other_fences():
    game = SqlQuery()
    game.reset(seed=4)
    sql = game._task.sql
    assert _step(game, sql)[0] == 1.0
    game.reset(seed=4)
    assert _step(game, f"Here it is:\n```sqlite\n{sql}\n```\nDone.")[0] == 1.0
    game.reset(seed=4)
    assert _step(game, f"<think>maybe DROP</think>\r\n```sql\r\n{sql};\r\n```")[0] == 1.0


def test_sql_order_matters_only_when_asked():
    schema = ["CREATE TABLE t (x INTEGER)"]
    got = run_query(schema, {"t": [(1,), (2,)]}, "SELECT x FROM t ORDER BY x DESC")
    want = run_query(schema, {"t": [(1,), (2,)]}, "SELECT x FROM t")
    from langgames.envs.sql_query import compare_results

    assert compare_results(got, want, ordered=False) is None
    assert "order" in compare_results(got, want, ordered=True)


def test_sql_database_is_read_only_even_without_the_authorizer_gate():
    out = run_query(["CREATE TABLE t (x)"], {"t": [(1,)]}, "WITH a AS (SELECT 1) DELETE FROM t")
    assert out.status == "forbidden"


# -------------------------------------------------------------------------------------- regex
@pytest.mark.parametrize("level", [1, 2, 3])
def test_regex_reference_earns_the_maximum(level):
    game = RegexSynth(difficulty=level)
    for seed in SEEDS:
        episode = play_episode(game, reference, seed)
        assert episode.returns["player"] == 1.0, episode.transcript


def test_regex_is_deterministic():
    a, b = RegexSynth(difficulty=2), RegexSynth(difficulty=2)
    for seed in SEEDS:
        assert a.reset(seed=seed)[0] == b.reset(seed=seed)[0]


def test_regex_trivial_and_memorising_patterns_earn_nothing():
    game = RegexSynth(difficulty=1)
    for seed in SEEDS:
        game.reset(seed=seed)
        shown = game._shown_pos
        for pattern in (".*", ".+", "[a-z0-9-]*", "|".join(shown), "(?:" + "|".join(shown) + ")"):
            game.reset(seed=seed)
            reward, verdict, _ = _step(game, f"regex: {pattern}")
            assert reward <= 0.0, (pattern, verdict)
        game.reset(seed=seed)
        reward, verdict, _ = _step(game, "regex: " + "|".join(shown))
        if verdict["status"] == "incorrect":
            assert "hidden positive" in verdict["reason"]


def test_regex_long_patterns_and_missing_keyword_are_unreadable():
    game = RegexSynth()
    game.reset(seed=0)
    reward, verdict, _ = _step(game, "regex: " + "a|" * 200 + "b")
    assert verdict["status"] == "unparseable" and "limit" in verdict["reason"] and reward == -0.1
    reward, verdict, _ = _step(game, game._pattern)  # no `regex:` line
    assert verdict["status"] == "unparseable"
    reward, verdict, _ = _step(game, "regex: (unclosed")
    assert verdict["status"] == "unparseable" and "compile" in verdict["reason"]


def test_regex_catastrophic_backtracking_cannot_stall_the_host():
    judge = RegexJudge()
    try:
        start = time.perf_counter()
        result = judge.classify("(a+)+$", ["a" * 40 + "b"], deadline=0.5)
        assert result.status == "timeout"
        assert time.perf_counter() - start < 3.0
        assert judge.classify("a+", ["aa", "b"]).matches == [True, False]  # a fresh worker
    finally:
        judge.close()


def test_regex_bomb_in_the_game_is_a_timeout(monkeypatch):
    import langgames.envs.regex_synth as module

    monkeypatch.setattr(module, "DEADLINE", 0.5)
    game = RegexSynth()
    game.reset(seed=0)
    game._hidden_neg = [*game._hidden_neg, "a" * 40 + "!"]
    start = time.perf_counter()
    reward, verdict, terminated = _step(game, "regex: (a+)+")
    assert time.perf_counter() - start < 3.0
    assert verdict["status"] == "timeout" and reward == 0.0 and terminated
    # the shared worker was replaced and still judges
    game.reset(seed=0)
    assert _step(game, game.reference_action())[0] == 1.0


def test_regex_memory_bomb_is_contained():
    result = default_judge().classify("(?:a{1000}){1000}" * 3, ["a"], deadline=2.0)
    assert result.status in ("ok", "invalid", "resource_limit", "timeout")
    assert default_judge().classify("b", ["b"]).matches == [True]
