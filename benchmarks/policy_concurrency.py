"""Episodes/s of an ``openai:`` policy at concurrency 1, 4 and 16.

Two servers, each started and stopped by this script, on 127.0.0.1:

* **a load harness** (not a model): a local OpenAI-compatible endpoint that answers every chat
  completion after a fixed delay (200 ms by default) with a deterministic reply. It measures what
  overlapping episodes buys when a run is bound by request latency; the target is >= 10x at 16.
* **``transformers serve``** with a tiny random-weight GPT-2 built offline in a temp directory
  (``--no-serve`` skips it). CPU-bound, so overlap helps far less; the ratio is reported as
  measured.

Usage::

    python benchmarks/policy_concurrency.py                 # harness + transformers serve
    python benchmarks/policy_concurrency.py --delay 0.2 --episodes 16 --no-serve

Arguments: ``--delay`` harness delay in seconds, ``--episodes`` NumberHunt episodes per setting
(16), ``--levels`` concurrency levels (1,4,16), ``--no-serve``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
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


class FakeServer:
    """An OpenAI-compatible load harness on 127.0.0.1 (``with FakeServer(delay) as url: ...``).

    ``fail_first``: answer that many requests with ``fail_status`` first (tests retries);
    ``fail_status`` with ``fail_first=-1`` fails every request.
    """

    def __init__(self, delay: float = 0.2, *, fail_first: int = 0, fail_status: int = 503) -> None:
        self.delay = delay
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.requests = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive: one connection per client slot

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests += 1
                    n = server.requests
                time.sleep(server.delay)
                if server.fail_first < 0 or n <= server.fail_first:
                    payload = json.dumps({"error": {"message": "harness failure"}}).encode()
                    self.send_response(server.fail_status)
                else:
                    content = fake_reply(body["messages"])
                    prompt = sum(len(m["content"]) for m in body["messages"])
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
                                "prompt_tokens": prompt // 4,
                                "completion_tokens": len(content) // 4 + 1,
                                "total_tokens": prompt // 4 + len(content) // 4 + 1,
                            },
                        }
                    ).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        return self.url

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


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

    def __init__(self, model: str | os.PathLike[str], port: int | None = None) -> None:
        self.model = str(model)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120.0) -> str:
        import urllib.request

        exe = Path(sys.executable).with_name("transformers")
        cmd = [str(exe), "serve", self.model, "--host", "127.0.0.1", "--port", str(self.port),
               "--device", "cpu", "--log-level", "warning"]  # fmt: skip
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


def measure(url: str, model: str, levels: list[int], episodes: int, out: Path) -> dict[int, float]:
    from langgames.bench import run_bench

    rates = {}
    for n in levels:
        start = time.perf_counter()
        run_bench(
            "core", f"openai:{model}", games=["NumberHunt-v0"], episodes=episodes,
            concurrency=n, out=out / f"c{n}", progress=False, plots=False, overwrite=True,
            policy_options={"api_base": url, "max_new_tokens": 8},
        )  # fmt: skip
        rates[n] = episodes / (time.perf_counter() - start)
    return rates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay", type=float, default=0.2, help="harness delay (s)")
    parser.add_argument("--episodes", type=int, default=16, help="episodes per setting")
    parser.add_argument("--levels", default="1,4,16", help="concurrency levels")
    parser.add_argument("--no-serve", action="store_true", help="skip transformers serve")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.levels.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        with FakeServer(args.delay) as url:
            rates = measure(url, "harness", levels, args.episodes, out / "harness")
        print(f"load harness ({args.delay * 1000:.0f} ms per request, not a model), NumberHunt, "
              f"{args.episodes} episodes:")  # fmt: skip
        for n, r in rates.items():
            print(f"  concurrency {n:3d}: {r:7.2f} episodes/s  ({r / rates[levels[0]]:.1f}x)")
        if not args.no_serve:
            model = build_tiny_chat_model(out / "tiny")
            with TransformersServer(model) as url:
                rates = measure(url, str(model), levels, args.episodes, out / "serve")
            print("transformers serve, tiny random GPT-2 (CPU), NumberHunt:")
            for n, r in rates.items():
                print(f"  concurrency {n:3d}: {r:7.2f} episodes/s  ({r / rates[levels[0]]:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
