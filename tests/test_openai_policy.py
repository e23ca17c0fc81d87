"""`openai:<model>` policies against local OpenAI-compatible servers (loopback only).

A load harness (benchmarks/policy_concurrency.py) checks concurrency, usage and retries fast; the
slow tests start a real ``transformers serve`` with a tiny random model built offline.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest

pytest.importorskip("openai")

from langgames import bench
from langgames.cli import main
from langgames.verifiers.verdict import TIMING_KEYS


def _load_benchmark():
    # by path: the repository root is not on sys.path under the ``pytest`` entry point
    import importlib.util
    import sys
    from pathlib import Path

    if "policy_concurrency" in sys.modules:
        return sys.modules["policy_concurrency"]
    script = Path(__file__).resolve().parent.parent / "benchmarks" / "policy_concurrency.py"
    spec = importlib.util.spec_from_file_location("policy_concurrency", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["policy_concurrency"] = module
    spec.loader.exec_module(module)
    return module


_bench = _load_benchmark()
FakeServer = _bench.FakeServer
TransformersServer = _bench.TransformersServer
build_tiny_chat_model = _bench.build_tiny_chat_model

KW = {"progress": False, "plots": False}


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in TIMING_KEYS | {"seconds"}}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _episodes(path):
    return [_strip(json.loads(x)) for x in (path / "episodes.jsonl").read_text().splitlines()]


def test_harness_concurrency_usage_and_report(tmp_path):
    with FakeServer(delay=0.01) as url:
        opts = {"api_base": url, "max_new_tokens": 8}
        for n in (1, 8):
            bench.run_bench("core", "openai:harness", games=["NumberHunt-v0", "BugHunt-v0"],
                            episodes=2, concurrency=n, out=tmp_path / str(n),
                            policy_options=opts, **KW)  # fmt: skip
    one, eight = _episodes(tmp_path / "1"), _episodes(tmp_path / "8")
    assert one == eight
    step = one[0]["steps"][0]
    assert step["finish_reason"] == "stop" and step["prompt_tokens"] > 0
    assert step["completion_tokens"] > 0 and step["retries"] == 0
    res = json.loads((tmp_path / "8" / "results.json").read_text())
    usage = res["usage"]["openai:harness"]
    assert usage["requests"] == sum(len(e["steps"]) for e in one)
    assert usage["prompt_tokens"] == sum(s["prompt_tokens"] for e in one for s in e["steps"])
    assert usage["mean_latency"] > 0
    report = (tmp_path / "8" / "report.md").read_text()
    assert "## Requests" in report and "| openai:harness |" in report


def test_requests_are_what_the_sdk_create_call_sends():
    import openai

    from langgames.openai_policy import OpenAIPolicy

    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": "h\u00e9llo\n"},
            {"role": "assistant", "content": "x"}, {"role": "user", "content": "y"}]  # fmt: skip
    server = FakeServer(delay=0.0, record=True)
    with server as url:
        policy = OpenAIPolicy("m", api_base=url, stop="\n", top_p=0.9, extra_body={"top_k": 3})

        async def both():
            reply = await policy.complete(msgs, seed=7)
            await policy.aclose()
            client = openai.AsyncOpenAI(base_url=url, api_key="EMPTY", max_retries=0)
            await client.chat.completions.create(
                model="m", messages=msgs, temperature=0.0, max_tokens=256, top_p=0.9,
                stop=["\n"], seed=7, extra_body={"top_k": 3},
            )  # fmt: skip
            await client.close()
            return reply

        reply = asyncio.run(both())
    ours, sdk = server.bodies
    assert ours == sdk
    assert reply.usage["finish_reason"] == "stop" and reply.usage["completion_tokens"] > 0


def test_harness_answers_requests_concurrently():
    from langgames.openai_policy import OpenAIPolicy

    with FakeServer(delay=0.5) as url:
        policy = OpenAIPolicy("m", api_base=url)

        async def eight():
            start = time.perf_counter()
            msgs = [[{"role": "user", "content": str(i)}] for i in range(8)]
            await asyncio.gather(*(policy.complete(m) for m in msgs))
            await policy.aclose()
            return time.perf_counter() - start

        assert asyncio.run(eight()) < 2.5  # 4 s if the harness answered one request at a time


def test_retries_then_loud_errors(tmp_path):
    games = {"games": ["BaseConvert-v0"], "episodes": 1}
    with FakeServer(delay=0.0, fail_first=2, fail_status=503) as url:
        opts = {"api_base": url, "backoff": 0.01}
        res = bench.run_bench("core", "openai:m", out=tmp_path / "a", policy_options=opts,
                              **games, **KW)  # fmt: skip
    (ep,) = _episodes(tmp_path / "a")
    assert "error" not in ep and ep["steps"][0]["retries"] == 2
    with FakeServer(delay=0.0, fail_first=-1, fail_status=500) as url:
        opts = {"api_base": url, "backoff": 0.01, "max_retries": 1}
        res = bench.run_bench("core", "openai:m", out=tmp_path / "b", policy_options=opts,
                              **games, **KW)  # fmt: skip
    (ep,) = _episodes(tmp_path / "b")
    assert ep["error_kind"] == "server_error" and "after 2 attempt(s)" in ep["error"]
    assert res.failed_policies == ["openai:m"]
    assert res.results["usage"]["openai:m"]["errors"] == {"server_error": 1}
    with FakeServer(delay=0.0, fail_first=-1, fail_status=400) as url:
        opts = {"api_base": url, "backoff": 0.01}
        bench.run_bench("core", "openai:m", out=tmp_path / "c", policy_options=opts, **games, **KW)
    (ep,) = _episodes(tmp_path / "c")
    assert ep["error_kind"] == "http_400" and "after 1 attempt(s)" in ep["error"]


def test_openai_policy_needs_a_server(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    argv = ["bench", "--suite", "core", "--policy", "openai:m", "--out", str(tmp_path / "x")]
    assert main(argv) == 2
    assert "--api-base" in capsys.readouterr().err
    assert main([*argv, "--policy-options", '{"temprature": 1}', "--api-base", "http://x/v1"]) == 2
    assert main(["bench", "--suite", "core", "--policy", "openai:m?temprature=1",
                 "--api-base", "http://x/v1", "--out", str(tmp_path / "y")]) == 2  # fmt: skip
    assert "Did you mean: `temperature`" in capsys.readouterr().err


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("fastapi")
    return build_tiny_chat_model(tmp_path_factory.mktemp("tiny-chat"))


@pytest.mark.slow
def test_transformers_serve_end_to_end(tiny_model, tmp_path):
    argv = ["bench", "--suite", "core", "--policy", f"openai:{tiny_model}", "--episodes", "2",
            "--games", "BaseConvert-v0,Algebra-v0", "--max-new-tokens", "8", "--quiet",
            "--no-plots"]  # fmt: skip
    with TransformersServer(tiny_model) as url:
        for n in ("1", "8"):
            code = main([*argv, "--api-base", url, "--concurrency", n, "--out", str(tmp_path / n)])
            assert code == 0
    one, eight = _episodes(tmp_path / "1"), _episodes(tmp_path / "8")
    assert one == eight and all("error" not in e for e in one)
    tokens = [(s["prompt_tokens"], s["completion_tokens"]) for e in one for s in e["steps"]]
    assert tokens and all(p > 0 and c > 0 for p, c in tokens)


@pytest.mark.slow
def test_server_stopped_mid_run_then_resume(tiny_model, tmp_path):
    # where the episodes.jsonl records are made (langgames.bench became a package)
    where = getattr(bench, "execute", bench)
    real = where._record
    calls = {"n": 0}
    server = TransformersServer(tiny_model)
    url = server.start()  # stopped in the finally below, whatever fails first
    opts = {"api_base": url, "max_new_tokens": 4, "max_retries": 1, "backoff": 0.05,
            "timeout": 5}  # fmt: skip
    kw = {"games": ["BaseConvert-v0"], "episodes": 6, **KW, "policy_options": opts}

    def stop_after_two(*args, **kwargs):  # the server goes away after two episodes
        calls["n"] += 1
        if calls["n"] == 2:
            server.stop()
        return real(*args, **kwargs)

    try:
        where._record = stop_after_two
        res = bench.run_bench("core", f"openai:{tiny_model}", out=tmp_path, **kw)
    finally:
        where._record = real
        server.stop()
    eps = [json.loads(x) for x in (tmp_path / "episodes.jsonl").read_text().splitlines()]
    failed = [e for e in eps if "error" in e]
    assert len(eps) == 6 and 0 < len(failed) <= 4
    assert {e["error_kind"] for e in failed} == {"connection"}
    assert "127.0.0.1" in failed[0]["error"]
    assert res.results["usage"][f"openai:{tiny_model}"]["errors"] == {"connection": len(failed)}
    with TransformersServer(tiny_model, port=server.port):
        res = bench.run_bench("core", f"openai:{tiny_model}", out=tmp_path, resume=True, **kw)
    assert res.results["resumed"] == 6 - len(failed) and not res.failed_policies
    eps = [json.loads(x) for x in (tmp_path / "episodes.jsonl").read_text().splitlines()]
    assert len(eps) == 6 and not any("error" in e for e in eps)
