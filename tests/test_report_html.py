"""report.html in a real browser: headless Chromium, started and stopped by the test.

The browser is driven through the Chrome DevTools protocol over ``--remote-debugging-pipe``
(file descriptors 3 and 4, messages separated by NUL bytes): no port is opened, not even on
loopback, and no client library is needed. The test checks that the page loads without console
errors or network requests, that a table sorts on a click of its header, and that a score opens
its transcripts; it saves a screenshot (``LANGGAMES_UPDATE_SCREENSHOT=1`` also writes it to
``docs/report.png``).

Run by hand on any run directory::

    python tests/test_report_html.py bench-out shot.png
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
GAMES = ["BaseConvert-v0", "Countdown-v0"]


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None


def _high(fd: int) -> int:
    """``fd`` moved to a number >= 10 (close-on-exec), so that 3 and 4 are free in the child."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


class Browser:
    """Headless Chromium over the DevTools pipe; one page, its events collected."""

    def __init__(self, binary: str, profile: str, width: int = 1100, height: int = 900) -> None:
        cmd_r, self._cmd_w = map(_high, os.pipe())
        self._res_r, res_w = map(_high, os.pipe())

        def fds() -> None:  # in the child: the protocol's fds 3 (commands) and 4 (replies)
            os.dup2(cmd_r, 3)
            os.dup2(res_w, 4)

        args = [binary, "--headless=new", "--remote-debugging-pipe", f"--user-data-dir={profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-gpu",
                "--disable-extensions", "--disable-background-networking", "--disable-sync",
                "--disable-component-update", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "about:blank"]  # fmt: skip
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
        self.proc = subprocess.Popen(
            args,
            preexec_fn=fds,  # runs in the child before exec: puts the pipes on fds 3 and 4
            close_fds=False,  # the pipes are close-on-exec; only fds 3 and 4 reach Chromium
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its renderer and GPU processes stop with the group
        )
        os.close(cmd_r)
        os.close(res_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None
        target = self.call("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.call(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True},
            session=False,
        )  # fmt: skip
        self.session = attached["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable")
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )

    def _read(self, timeout: float) -> dict[str, Any]:
        end = time.monotonic() + timeout
        while b"\0" not in self._buf:
            ready, _, _ = select.select([self._res_r], [], [], max(0.0, end - time.monotonic()))
            if not ready:
                raise TimeoutError("no message from Chromium in time")
            chunk = os.read(self._res_r, 1 << 16)
            if not chunk:
                raise EOFError("Chromium closed the DevTools pipe")
            self._buf += chunk
        message, self._buf = self._buf.split(b"\0", 1)
        return json.loads(message)

    def call(
        self, method: str, params: dict[str, Any] | None = None, *, session: bool = True,
        timeout: float = 30.0,
    ) -> dict[str, Any]:  # fmt: skip
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._cmd_w, json.dumps(msg).encode() + b"\0")
        while True:
            reply = self._read(timeout)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30.0) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        end = time.monotonic() + timeout
        while True:
            event = self._read(max(0.0, end - time.monotonic()))
            self.events.append(event)
            if event.get("method") == method:
                return event

    def js(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url: str) -> None:
        self.call("Page.navigate", {"url": url})
        self.wait_for("Page.loadEventFired")

    def screenshot(self, path: Path) -> None:
        shot = self.call("Page.captureScreenshot", {"format": "png"})
        path.write_bytes(base64.b64decode(shot["data"]))

    def errors(self) -> list[str]:
        out = []
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Runtime.exceptionThrown":
                out.append(json.dumps(params.get("exceptionDetails", {}))[:500])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                out.append(json.dumps(params.get("args", []))[:500])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                out.append(params["entry"].get("text", ""))
        return out

    def requests(self) -> list[str]:
        return [
            e["params"]["request"]["url"]
            for e in self.events
            if e.get("method") == "Network.requestWillBeSent"
        ]

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.session = None
            os.write(self._cmd_w, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this test started, only
            self.proc.wait(timeout=10)
        for fd in (self._cmd_w, self._res_r):
            with contextlib.suppress(OSError):
                os.close(fd)


@contextlib.contextmanager
def browser(profile: str):
    binary = _chromium()
    if binary is None:
        pytest.skip(
            "SKIPPED LOUDLY: Chromium is not installed, so report.html was not checked in a "
            "browser. Install it with `apt-get install chromium` (bash .ci/setup does, as root)."
        )
    b = Browser(binary, profile)
    try:
        yield b
    finally:
        b.close()


# ------------------------------------------------------------------------------------- page
def _column(b: Browser, table: str, index: int) -> list[str]:
    return b.js(
        f"[...document.querySelectorAll('#{table} > tbody > tr')]"
        ".filter(r => !r.classList.contains('group'))"
        f".map(r => r.cells[{index}].getAttribute('data-v'))"
    )


def _header(b: Browser, table: str, text: str) -> None:
    clicked = b.js(
        f"(() => {{ const th = [...document.querySelectorAll('#{table} > thead th')]"
        f".find(h => h.textContent.trim() === {json.dumps(text)});"
        " if (!th) return false; th.click(); return th.getAttribute('aria-sort'); })()"
    )
    assert clicked, f"no header {text!r} in #{table}"


def check_page(b: Browser, report: Path, screenshot: Path) -> None:
    b.open(report.resolve().as_uri())
    assert b.js("document.querySelector('h1').textContent").startswith("langgames benchmark")
    # sorting: the leaderboard by score, descending then ascending
    _header(b, "leaderboard", "score")
    down = [float(v) for v in _column(b, "leaderboard", 2)]
    assert down == sorted(down, reverse=True) and len(down) >= 2
    _header(b, "leaderboard", "score")
    up = [float(v) for v in _column(b, "leaderboard", 2)]
    assert up == sorted(up) and up == down[::-1]
    # the games table sorts inside each family, family headers staying on top
    _header(b, "games", "game")
    names = _column(b, "games", 0)
    groups = b.js(
        "[...document.querySelectorAll('#games > tbody')].map(t => "
        "[...t.rows].filter(r => !r.classList.contains('group')).map(r => r.cells[0].textContent))"
    )
    assert all(g == sorted(g, key=str.lower) for g in groups) and len(names) >= 2
    assert b.js("[...document.querySelectorAll('#games > tbody')]"
                ".every(t => t.rows[0].classList.contains('group'))")  # fmt: skip
    b.screenshot(screenshot)
    # a score opens its transcripts: verdicts and parsed actions
    assert not b.js("document.getElementById('episodes').open")
    b.js("document.querySelector('button.cell').click()")
    assert b.js("document.getElementById('episodes').open")
    text = b.js("document.querySelector('#episodes').innerText")
    assert "episode 0" in text and "action" in text
    assert b.js("document.querySelectorAll('#episodes .ep').length") >= 1
    assert b.js("document.querySelectorAll('#episodes .st').length") >= 1  # verdict statuses
    assert "parsed_action" in b.js(
        "[...document.querySelectorAll('#episodes .ep')].map(e => e.innerText).join(' ')"
    )
    b.js("document.querySelector('#episodes button.close').click()")
    assert not b.js("document.getElementById('episodes').open")
    assert b.errors() == [], b.errors()
    outside = [u for u in b.requests() if not u.startswith(("file:", "data:", "about:"))]
    assert outside == [], f"the page asked the network for {outside}"


@pytest.mark.slow  # starts a real browser: the full tier
def test_report_html_sorts_and_opens_transcripts_in_chromium(tmp_path):
    from langgames import bench

    kw = {"episodes": 2, "games": GAMES, "progress": False}
    bench.run_bench("core", "reference,random,empty", out=tmp_path / "run", **kw)
    report = tmp_path / "run" / "report.html"
    page = report.read_text()
    # one self-contained file: nothing is fetched when it is viewed
    assert "<script src" not in page and "<link" not in page and 'src="http' not in page
    assert "data:image/png;base64," in page
    shot = tmp_path / "report.png"
    with browser(str(tmp_path / "profile")) as b:
        check_page(b, report, shot)
    assert shot.read_bytes()[:4] == b"\x89PNG"
    if os.environ.get("LANGGAMES_UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        shutil.copy(shot, ROOT / "docs" / "report.png")


if __name__ == "__main__":  # python tests/test_report_html.py RUN_DIR OUT.png
    run_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    binary = _chromium()
    if binary is None:
        raise SystemExit("Chromium is not installed")
    with tempfile.TemporaryDirectory() as profile:
        b = Browser(binary, profile, width=int(os.environ.get("WIDTH", "1100")),
                    height=int(os.environ.get("HEIGHT", "900")))  # fmt: skip
        try:
            b.open((run_dir / "report.html").resolve().as_uri())
            if os.environ.get("CELL"):  # open the transcripts of the N-th score
                b.js(f"document.querySelectorAll('button.cell')[{int(os.environ['CELL'])}].click()")
            b.screenshot(out)
        finally:
            b.close()
