"""A tiny progress bar on stderr (stdlib only). Redraws at most ten times a second."""

from __future__ import annotations

import sys
import time
from typing import IO


class Progress:
    """``with Progress(total, "bench") as bar: bar.update(n)``; silent when ``enabled`` is False."""

    def __init__(
        self, total: int, label: str = "", *, stream: IO[str] | None = None, enabled: bool = True
    ) -> None:
        self.total = max(0, total)
        self.label = label
        self.done = 0
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self._start = time.perf_counter()
        self._last = 0.0

    def __enter__(self) -> Progress:
        self._draw(force=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self._draw(force=True)
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()

    def update(self, n: int = 1) -> None:
        self.done += n
        self._draw()

    def _draw(self, force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        frac = self.done / self.total if self.total else 1.0
        width = 30
        bar = "#" * int(frac * width)
        elapsed = now - self._start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
        self.stream.write(
            f"\r{self.label} [{bar:<{width}}] {self.done}/{self.total} "
            f"{rate:5.1f}/s eta {eta:4.0f}s"
        )
        self.stream.flush()
