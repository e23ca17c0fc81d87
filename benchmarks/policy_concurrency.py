"""Episodes/s of an ``openai:`` policy at concurrency 1, 4 and 16.

Two servers, each started and stopped by this script, on 127.0.0.1:

* **a load harness** (not a model): a local OpenAI-compatible endpoint that answers every chat
  completion after a fixed delay (200 ms by default) with a deterministic reply, concurrently (a
  thread per keep-alive connection, in a process of its own). It measures what overlapping
  episodes buys when a run is bound by request latency; the target is >= 10x at 16.
* **``transformers serve``** with a tiny random-weight GPT-2 built offline in a temp directory
  (``--no-serve`` skips it). CPU-bound, so overlap helps far less; the ratio is reported as
  measured.

Each level runs ``langgames bench --policy openai:... --concurrency N`` on NumberHunt after one
warm-up run (imports, the server's first request); ``--trials`` interleaves the levels and
reports medians. Every line also says whether the episodes (timing fields aside) are identical
to those of the first level: results must not depend on concurrency.

Usage::

    python benchmarks/policy_concurrency.py                 # harness + transformers serve
    python benchmarks/policy_concurrency.py --delay 0.2 --episodes 16 --no-serve --trials 2

Arguments: ``--delay`` harness delay in seconds, ``--episodes`` NumberHunt episodes per setting
(16), ``--levels`` concurrency levels (1,4,16), ``--trials`` (1), ``--no-serve``,
``--no-harness``, ``--serve-game`` (BaseConvert-v0), ``--serve-episodes`` (32),
``--continuous-batching`` (start the server with it).

Measured (2 shared cores, load average ~9 from other jobs; harness: 16 NumberHunt episodes of
42 moves, 672 requests per level, ``--trials 2``; serve: ``--trials 2``, continuous batching 1):

==================================  ========  =====  ===========  ==================
server                              c=1 ep/s  c=4    c=16         identical episodes
==================================  ========  =====  ===========  ==================
harness, NumberHunt, before fixes   0.09      4.0x   11.0x [1]_   yes
harness, NumberHunt, after          0.11      3.7x   11.4x        yes
transformers serve, BaseConvert     2.43      0.8x   1.0x [2]_    yes
same, ``--continuous-batching``     2.14      2.7x   2.7x         yes
==================================  ========  =====  ===========  ==================

.. [1] with keep-alive already on; 4.2x before it. A second run after the fixes gave 14.5x at
   16; the ceiling is 16x (16 episodes of equal length) and what is lost is the client's CPU
   time per request on a loaded machine (mean latency 211 ms at c=1, 295 ms at c=16).
.. [2] the server generates for one request at a time: its latency grows with the queue (117 ms
   at c=1, 666 ms at 4, 1876 ms at 16), so overlap buys nothing; with continuous batching it
   batches in-flight requests (820 ms at 16). 32 episodes of 3 moves, no errors. NumberHunt is
   not used here: its conversation outgrows the tiny model's 2048 byte-level positions at the
   4th request (~2,090 bytes), and every episode ended in HTTP 500 after its retries.

Causes found: (1) the harness answered with headers and body in two writes without
``TCP_NODELAY``, so Nagle's algorithm and the client's delayed ACK added ~40 ms to *every*
request (against a 0 ms harness, 70 ms per request at c=1 before all fixes, 8 ms after);
(2) the SDK's ``chat.completions.create`` runs each request through a TypedDict transform that
walks every message of the conversation (58 ms per request at 40 turns under cProfile, 70% of
the client's CPU, quadratic over an episode), bypassed with the client's documented ``post``
(same JSON on the wire, checked by a test): at c=16 against a 0 ms harness, 672 requests took
17.8 s before and 2.5 s after; (3) the in-process harness competed with the client for the
GIL; (4) the first level paid the imports (0.39 vs 1.63 episodes/s at c=1, 0 ms harness).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FakeServer", "TransformersServer", "build_tiny_chat_model", "free_port", "main"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fake_reply(messages: list[dict[str, str]]) -> str:
    """The harness's deterministic answer: a NumberHunt-style guess derived from the prompt."""
    text = messages[-1]["content"] if messages else ""
    return f"guess: {1 + zlib.crc32(text.encode()) % 100}"


class _HarnessHandler(BaseHTTPRequestHandler):
    """``POST /v1/chat/completions``: sleep ``delay``, answer `fake_reply` with token usage."""

    protocol_version = "HTTP/1.1"  # keep-alive: one connection per client slot, no reconnects
    # Without TCP_NODELAY, a reply written as headers then body stalls ~40 ms on every request
    # (Nagle's algorithm waits for the client's delayed ACK of the headers). A buffered writer
    # also sends headers and body in one segment (handle_one_request flushes it).
    disable_nagle_algorithm = True
    wbufsize = 1 << 16
    server: _HarnessHTTPServer

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        harness = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with harness.lock:
            harness.requests += 1
            n = harness.requests
            if harness.bodies is not None:
                harness.bodies.append(body)
        time.sleep(harness.delay)  # one thread per connection: sleeping blocks no other request
        if harness.fail_first < 0 or n <= harness.fail_first:
            status = harness.fail_status
            payload = json.dumps({"error": {"message": "harness failure"}}).encode()
        else:
            status = 200
            content = fake_reply(body["messages"])
            prompt = sum(len(m["content"]) for m in body["messages"]) // 4
            completion = len(content) // 4 + 1
            payload = json.dumps(
                {
                    "id": f"h{n}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body["model"],
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": content},
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    },
                }
            ).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _HarnessHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, delay: float, fail_first: int, fail_status: int, record: bool = False
    ) -> None:
        super().__init__(("127.0.0.1", 0), _HarnessHandler)
        self.delay, self.fail_first, self.fail_status = delay, fail_first, fail_status
        self.requests = 0
        self.bodies: list[Any] | None = [] if record else None
        self.lock = threading.Lock()


def _serve_harness(conn: Any, delay: float, fail_first: int, fail_status: int) -> None:
    """The harness in a process of its own (``FakeServer(process=True)``)."""
    httpd = _HarnessHTTPServer(delay, fail_first, fail_status)
    conn.send(httpd.server_address[1])
    conn.close()
    httpd.serve_forever()


class FakeServer:
    """An OpenAI-compatible load harness on 127.0.0.1 (``with FakeServer(delay) as url: ...``).

    Every request is answered after ``delay`` seconds, concurrently (a thread per keep-alive
    connection). ``fail_first``: answer that many requests with ``fail_status`` first (tests
    retries); ``fail_status`` with ``fail_first=-1`` fails every request. ``record=True`` keeps
    every request's JSON in ``bodies`` (in-process harness only). ``process=True`` runs
    the harness in a process of its own, so that its work never competes with the client for
    this process's GIL (the benchmark does this; a real server is another process too).
    """

    def __init__(
        self,
        delay: float = 0.2,
        *,
        fail_first: int = 0,
        fail_status: int = 503,
        process: bool = False,
        record: bool = False,
    ) -> None:
        self.delay = delay
        self.record = record
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.process = process
        self.httpd: _HarnessHTTPServer | None = None
        self._proc: Any = None
        self.url = ""

    @property
    def requests(self) -> int:
        """Requests served so far (in-process harness only)."""
        return self.httpd.requests if self.httpd is not None else 0

    @property
    def bodies(self) -> list[Any]:
        """The JSON of every request so far (``record=True``, in-process harness only)."""
        return list(self.httpd.bodies or []) if self.httpd is not None else []

    def __enter__(self) -> str:
        if self.process:
            import multiprocessing as mp

            ctx = mp.get_context("spawn")
            parent, child = ctx.Pipe()
            self._proc = ctx.Process(
                target=_serve_harness,
                args=(child, self.delay, self.fail_first, self.fail_status),
                daemon=True,
            )
            self._proc.start()
            if not parent.poll(60):
                self._proc.terminate()
                raise RuntimeError("the load harness process did not start within 60 s")
            port = parent.recv()
        else:
            self.httpd = _HarnessHTTPServer(
                self.delay, self.fail_first, self.fail_status, self.record
            )
            port = self.httpd.server_address[1]
            threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{port}/v1"
        return self.url

    def __exit__(self, *exc: object) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
        if self._proc is not None:
            self._proc.terminate()
            self._proc.join(10)
            self._proc = None


CHAT_TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


def build_tiny_chat_model(path: str | os.PathLike[str], seed: int = 0) -> Path:
    """A random-weight 1-layer GPT-2 with the byte-level ByT5 tokenizer and a chat template,
    saved to ``path`` (nothing is downloaded)."""
    import torch
    import transformers

    tokenizer = transformers.ByT5Tokenizer()
    tokenizer.chat_template = CHAT_TEMPLATE
    config = transformers.GPT2Config(
        vocab_size=len(tokenizer), n_positions=2048, n_embd=32, n_layer=1, n_head=2,
        bos_token_id=tokenizer.eos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )  # fmt: skip
    torch.manual_seed(seed)
    transformers.GPT2LMHeadModel(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return Path(path)


class TransformersServer:
    """``transformers serve <model>`` on 127.0.0.1, offline; ``start()`` waits for /health."""

    def __init__(
        self, model: str | os.PathLike[str], port: int | None = None, extra: Sequence[str] = ()
    ) -> None:
        self.model = str(model)
        self.extra = list(extra)  # more ``transformers serve`` options
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> str:
        import urllib.request

        exe = Path(sys.executable).with_name("transformers")
        cmd = [str(exe), "serve", self.model, "--host", "127.0.0.1", "--port", str(self.port),
               "--device", "cpu", "--log-level", "warning", *self.extra]  # fmt: skip
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
               "HF_HUB_DISABLE_TELEMETRY": "1"}  # fmt: skip
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"transformers serve exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=1):
                    return self.url
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"transformers serve did not answer /health within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _run_level(
    url: str, model: str, n: int, episodes: int, out: Path, game: str = "NumberHunt-v0"
) -> dict[str, Any]:
    """One bench run at concurrency ``n``: episodes/s, the usage summary, the episodes."""
    from langgames.bench import run_bench

    start = time.perf_counter()
    res = run_bench(
        "core", f"openai:{model}", games=[game], episodes=episodes,
        concurrency=n, out=out, progress=False, plots=False, overwrite=True,
        policy_options={"api_base": url, "max_new_tokens": 8},
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    usage = res.results.get("usage", {}).get(f"openai:{model}", {})
    lines = (out / "episodes.jsonl").read_text().splitlines()
    timing = {"latency", "seconds", "retries"}
    episodes_ = [
        [{k: v for k, v in step.items() if k not in timing} for step in json.loads(x)["steps"]]
        for x in sorted(lines)
    ]
    return {"rate": episodes / elapsed, "usage": usage, "episodes": episodes_}


def measure(
    url: str,
    model: str,
    levels: list[int],
    episodes: int,
    out: Path,
    trials: int = 1,
    game: str = "NumberHunt-v0",
) -> dict[int, dict[str, Any]]:
    """Episodes/s per concurrency level: the median of ``trials`` interleaved runs."""
    runs: dict[int, list[dict[str, Any]]] = {n: [] for n in levels}
    _run_level(url, model, 1, 1, out / "warmup", game)  # imports, the server's first request
    for t in range(trials):
        for n in levels:
            runs[n].append(_run_level(url, model, n, episodes, out / f"t{t}c{n}", game))
    first = runs[levels[0]][0]["episodes"]
    out_: dict[int, dict[str, Any]] = {}
    for n, rs in runs.items():
        usage = rs[0]["usage"]
        out_[n] = {
            "rate": statistics.median(r["rate"] for r in rs),
            "rates": [r["rate"] for r in rs],
            "requests": usage.get("requests"),
            "mean_latency": usage.get("mean_latency"),
            "errors": usage.get("errors"),
            # results must not depend on concurrency (greedy, deterministic server)
            "same_episodes": all(r["episodes"] == first for r in rs),
        }
    return out_


def report(title: str, rates: dict[int, dict[str, Any]]) -> None:
    print(title)
    base = next(iter(rates.values()))["rate"]
    for n, r in rates.items():
        latency = r["mean_latency"]
        print(
            f"  concurrency {n:3d}: {r['rate']:7.2f} episodes/s  ({r['rate'] / base:5.1f}x)  "
            f"requests {r['requests']}, mean latency "
            f"{'-' if latency is None else f'{latency * 1000:.0f} ms'}, errors {r['errors'] or 0}, "
            f"episodes identical to c={next(iter(rates))}: {r['same_episodes']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.2, help="harness delay (s)")
    parser.add_argument("--episodes", type=int, default=16, help="episodes per setting")
    parser.add_argument("--levels", default="1,4,16", help="concurrency levels")
    parser.add_argument("--trials", type=int, default=1, help="interleaved trials (median)")
    parser.add_argument("--no-serve", action="store_true", help="skip transformers serve")
    parser.add_argument(
        "--serve-game",
        default="BaseConvert-v0",
        help="game for transformers serve (short prompts: the tiny model has "
        "2048 positions, a NumberHunt conversation outgrows them)",
    )
    parser.add_argument("--serve-episodes", type=int, default=32, help="episodes per setting")
    parser.add_argument("--continuous-batching", action="store_true",
                        help="start transformers serve with --continuous-batching")  # fmt: skip
    parser.add_argument("--no-harness", action="store_true", help="skip the load harness")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        if not args.no_harness:
            with FakeServer(args.delay, process=True) as url:
                rates = measure(url, "harness", levels, args.episodes, out / "h", args.trials)
            title = (f"load harness ({args.delay * 1000:.0f} ms per request, not a model), "
                     f"NumberHunt, {args.episodes} episodes, median of {args.trials}:")  # fmt: skip
            report(title, rates)
        if not args.no_serve:
            model = build_tiny_chat_model(out / "tiny")
            extra = ["--continuous-batching"] if args.continuous_batching else []
            with TransformersServer(model, extra=extra) as url:
                rates = measure(url, str(model), levels, args.serve_episodes, out / "s",
                                args.trials, args.serve_game)  # fmt: skip
            report(f"transformers serve {' '.join(extra)}, tiny random GPT-2 (CPU), "
                   f"{args.serve_game}, "
                   f"{args.serve_episodes} episodes, median of {args.trials}:", rates)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
