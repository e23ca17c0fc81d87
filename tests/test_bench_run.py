"""`langgames bench` runs: concurrency, streaming, Ctrl-C, resume, exit codes, policy specs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from langgames import bench
from langgames.cli import main
from langgames.errors import InvalidArgument, MissingExtra
from langgames.policies import load_policy, parse_options, split_policies
from langgames.verifiers.verdict import TIMING_KEYS

ROOT = Path(__file__).resolve().parent.parent
KW = {"episodes": 3, "progress": False, "plots": False}


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in TIMING_KEYS | {"seconds"}}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _episodes(path):
    return [_strip(json.loads(x)) for x in (path / "episodes.jsonl").read_text().splitlines()]


async def _slow_async(observation, info):
    import asyncio

    await asyncio.sleep(0.05)
    return "guess: 50"


def test_concurrency_does_not_change_episodes(tmp_path):
    games = ["NumberHunt-v0", "CodeBreaker-v0"]
    for n in (1, 8):
        bench.run_bench("core", "reference,random", games=games, concurrency=n,
                        out=tmp_path / str(n), **KW)  # fmt: skip
    assert _episodes(tmp_path / "1") == _episodes(tmp_path / "8")
    bench.run_bench("core", "tests.test_bench_run:_slow_async", games=games[:1], concurrency=1,
                    out=tmp_path / "a1", **KW)  # fmt: skip
    start = time.perf_counter()
    res = bench.run_bench("core", "tests.test_bench_run:_slow_async", games=games[:1],
                          concurrency=3, out=tmp_path / "a3", **KW)  # fmt: skip
    assert _episodes(tmp_path / "a1") == _episodes(tmp_path / "a3")
    assert res.results["concurrency"] == 3 and time.perf_counter() - start < 10


def test_episode_lines_are_rollout_episodes(tmp_path):
    from langgames.rollout import Episode

    bench.run_bench("core", "reference", games=["BugHunt-v0"], out=tmp_path, **KW)
    line = (tmp_path / "episodes.jsonl").read_text().splitlines()[0]
    ep = Episode.from_json(line)
    assert ep.game == "langgames/BugHunt-v0" and {t.role for t in ep.turns} == {"coder", "tester"}
    record = json.loads(line)
    assert [s["role"] for s in record["steps"]] == [t.role for t in ep.turns]


def test_bench_and_record_episodes_write_one_schema(tmp_path):
    """A bench line holds every field of a `RecordEpisodes` line, with the same values."""
    from langgames.policies import reference
    from langgames.recording import RecordEpisodes
    from langgames.registry import make_game

    bench.run_bench("core", "reference", games=["NumberHunt-v0"], out=tmp_path / "b", **KW)
    line = json.loads((tmp_path / "b" / "episodes.jsonl").read_text().splitlines()[0])
    env = RecordEpisodes(make_game("langgames/NumberHunt-v0"), tmp_path / "r.jsonl")
    obs, info = env.reset(seed=line["seed"])
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(reference(obs, info, env.unwrapped))
        done = terminated or truncated
    env.close()
    recorded = json.loads((tmp_path / "r.jsonl").read_text())
    assert set(recorded) <= set(line)
    assert {k: line[k] for k in recorded} == recorded
    assert all(set(s) >= {"role", "observation", "action", "reward", "rewards", "verdict",
                          "parsed_action"} for s in line["steps"])  # fmt: skip
    assert isinstance(line["steps"][0]["verdict"]["details"], str)  # as datasets needs it


def test_out_directory_is_protected(tmp_path, capsys):
    kw = {**KW, "episodes": 1, "games": ["BaseConvert-v0"]}
    bench.run_bench("core", "reference", out=tmp_path / "o", **kw)
    with pytest.raises(InvalidArgument, match=r"not empty.*--resume.*--overwrite"):
        bench.run_bench("core", "reference", out=tmp_path / "o", **kw)
    bench.run_bench("core", "reference", out=tmp_path / "o", overwrite=True, **kw)
    with pytest.raises(InvalidArgument, match=r"settings differ.*seed"):
        bench.run_bench("core", "reference", out=tmp_path / "o", resume=True, seed=1, **kw)
    (tmp_path / "file").write_text("x")
    argv = ["bench", "--suite", "core", "--policy", "reference", "--episodes", "1", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "file")]) == 2
    err = capsys.readouterr().err
    flat = " ".join(err.split())  # the message may be wrapped to the terminal width
    assert err.startswith("error: --out") and "is a file" in flat and "Traceback" not in err
    assert main([*argv, "--out", str(tmp_path / "file" / "sub")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_resume_replays_only_missing_and_failed_episodes(tmp_path):
    kw = {**KW, "games": ["NumberHunt-v0"]}
    full = bench.run_bench("core", "reference", out=tmp_path / "full", **kw)
    out = tmp_path / "part"
    bench.run_bench("core", "reference", out=out, **kw)
    lines = (out / "episodes.jsonl").read_text().splitlines()
    broken = json.loads(lines[1])
    broken["error"] = "RuntimeError: server down"
    # episode 0 finished, episode 1 failed, episode 2 missing; plus a line cut by a kill
    (out / "episodes.jsonl").write_text(lines[0] + "\n" + json.dumps(broken) + '\n{"poli')
    res = bench.run_bench("core", "reference", out=out, resume=True, **kw)
    assert res.results["resumed"] == 1 and res.results["missing"] == 0
    assert _episodes(out) == _episodes(tmp_path / "full")
    assert [r["success_rate"] for r in res.results["rows"]] == [
        r["success_rate"] for r in full.results["rows"]
    ]


def test_failed_and_unloadable_policies_exit_non_zero(tmp_path, capsys, monkeypatch):
    argv = ["bench", "--suite", "core", "--episodes", "1", "--games", "BaseConvert-v0"]
    argv += ["--quiet", "--no-plots"]
    code = main([*argv, "--policy", "reference,tests.test_bench:_broken", "--out",
                 str(tmp_path / "a")])  # fmt: skip
    assert code == 1
    out = capsys.readouterr().out
    assert "| 1 | reference |" in out and "| - | tests.test_bench:_broken | FAILED" in out
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "torch" else real(n, *a)
    )
    with pytest.raises(MissingExtra, match=r"langgames\[hf\]"):
        load_policy(f"hf:{tmp_path}")
    assert main([*argv, "--policy", f"hf:{tmp_path}", "--out", str(tmp_path / "b")]) == 2
    assert "pip install" in capsys.readouterr().err
    assert not (tmp_path / "b").exists()


def test_policy_specs_from_cwd_files_and_options(tmp_path, monkeypatch):
    (tmp_path / "my_agents.py").write_text(
        textwrap.dedent(
            """
            class Guesser:
                def __init__(self, seed=0, guess=50):
                    self.guess = guess
                def __call__(self, observation, info):
                    return f"guess: {self.guess}"
            def act(observation, info):
                return "guess: 7"
            """
        )
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    sys.modules.pop("my_agents", None)
    [named] = load_policy("my_agents:Guesser?guess=12")
    assert named.build(None, 0)("", {}) == "guess: 12"
    [named] = load_policy("my_agents.py:act")
    assert named.build(None, 0)("", {}) == "guess: 7"
    with pytest.raises(InvalidArgument, match="no such file"):
        load_policy("nope.py:act")
    with pytest.raises(InvalidArgument, match="takes no options"):
        load_policy("reference?x=1")
    assert split_policies('a,openai:m?stop=[",", "."],b') == ["a", 'openai:m?stop=[",", "."]', "b"]
    assert parse_options("temperature=0.7&seed=false") == {"temperature": 0.7, "seed": False}


def _cli(*args, cwd=ROOT, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "langgames", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the test sends "Ctrl-C" to the group, as a terminal does
        **kw,
    )


SLOW = """
import time
def act(observation, info):
    time.sleep({delay})
    return "guess: 50"
"""


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_first_ctrl_c_writes_the_report_and_resume_finishes(tmp_path, workers):
    (tmp_path / "slow.py").write_text(SLOW.format(delay=0.05))
    out = tmp_path / "out"
    args = ["bench", "--suite", "core", "--games", "NumberHunt-v0,CodeBreaker-v0", "--episodes",
            "12", "--policy", "slow.py:act", "--out", str(out), "--quiet", "--no-plots",
            "--workers", str(workers), "--concurrency", "2"]  # fmt: skip
    proc = _cli(*args, cwd=tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline:
        path = out / "episodes.jsonl"
        if path.exists() and len(path.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    start = time.time()
    stdout, stderr = proc.communicate(timeout=30)
    assert time.time() - start < 10, "the first Ctrl-C must stop the run within seconds"
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "desynchron" not in stderr
    results = json.loads((out / "results.json").read_text())
    assert results["interrupted"] and 0 < results["missing"] < 24
    assert "are missing" in (out / "report.md").read_text()
    done = len((out / "episodes.jsonl").read_text().splitlines())
    assert done + results["missing"] == 24
    proc = _cli(*args, "--resume", cwd=tmp_path)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    results = json.loads((out / "results.json").read_text())
    assert results["missing"] == 0 and results["resumed"] == done


@pytest.mark.slow
def test_second_ctrl_c_exits_at_once(tmp_path):
    (tmp_path / "slow.py").write_text(SLOW.format(delay=3.0))
    out = tmp_path / "out"
    proc = _cli("bench", "--suite", "core", "--games", "NumberHunt-v0", "--episodes", "2",
                "--policy", "slow.py:act", "--out", str(out), "--quiet", cwd=tmp_path)  # fmt: skip
    deadline = time.time() + 30
    while not (out / "run.json").exists() and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.3)
    start = time.time()
    os.killpg(proc.pid, signal.SIGINT)
    proc.communicate(timeout=10)
    # 130 from the handler, or killed by SIGINT when the second Ctrl-C lands after the
    # interpreter restored the default handler at its very end (a shell reports 130 for both).
    assert time.time() - start < 2 and proc.returncode in (130, -signal.SIGINT)
