"""Length-prefixed frames for worker pipes: the public name of the sandbox's own wire format.

A frame is a 4-byte big-endian length and a body (UTF-8 JSON with an object at the top, or raw
bytes). The Python sandbox and the math worker pool speak it; a game that keeps a worker process
of its own (the regex matcher of the SQL/regex games) uses these names, so there is one framing,
one set of size limits and one set of errors on every pipe of the project:

- `send_frame` / `read_frame` (blocking, with a size limit) and `FrameReader` (waits until a
  deadline and returns ``None`` then, for a worker that may hang);
- `WireError` for a frame over its limit or a malformed body, `PeerClosed` for a closed stream,
  `TimeoutError` for a send the peer did not take before its deadline;
- `child_bootstrap` loads the same implementation into a child started with ``python -I -S``,
  which cannot import langgames.

Standard library only: importing it starts nothing.

>>> import os
>>> read_end, write_end = os.pipe()
>>> send_frame(write_end, {"pattern": "a+b", "strings": ["aab"]})
>>> read_frame(read_end, limit=1024)
{'pattern': 'a+b', 'strings': ['aab']}
>>> os.close(read_end); os.close(write_end)
"""

from __future__ import annotations

from langgames.verifiers import _wire
from langgames.verifiers._wire import *  # noqa: F403 - this module is _wire's public name

__all__ = list(_wire.__all__)
