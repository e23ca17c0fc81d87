"""Length-prefixed frames: the one message format on every worker pipe of langgames.

A *frame* is a 4-byte big-endian length followed by a body of that many bytes. A message body is
UTF-8 JSON of plain data with an object at the top (`encode` / `decode`); a frame may also carry
raw bytes (`pack`), e.g. the pickled jobs the math host sends its own workers.

Who speaks it:

* the Python sandbox: the job goes into a snippet's input pipe as one frame, its results come back
  as frames that `split_frames` parses strictly (they are untrusted); its control socket is a
  ``SOCK_SEQPACKET`` socket, which keeps message boundaries itself, so each socket message is one
  `encode`-d body without the length;
* the math worker pool: pickled jobs in, JSON replies out;
* the regex worker of the SQL/regex games, through the public ``langgames.verifiers.wire``.

Limits and errors: every read takes a size limit, and a frame above it raises `WireError` (as does
a malformed body); a stream that closes before or inside a frame raises `PeerClosed`; a
`FrameReader` waits until a deadline and returns ``None`` when it passes; a send with a deadline
raises `TimeoutError` when the peer does not take the bytes in time.

This module is standard library only and imports nothing of langgames: the sandbox worker and the
regex worker load it from its file (`child_bootstrap`) in processes that cannot import langgames.

>>> frame = pack_frame({"op": "ping"})
>>> frame[:4], split_frames(frame, limit=1024)
(b'\\x00\\x00\\x00\\r', ([{'op': 'ping'}], None))
"""

from __future__ import annotations

import json
import os
import select
import struct
import time
from typing import Any

__all__ = [
    "HEADER",
    "MAX_FRAME",
    "FrameReader",
    "PeerClosed",
    "WireError",
    "child_bootstrap",
    "decode",
    "encode",
    "pack",
    "pack_frame",
    "read_exact",
    "read_frame",
    "recv_bytes",
    "send_bytes",
    "send_frame",
    "split_frames",
    "write_all",
]

#: The length prefix of every frame: 4 bytes, big-endian, unsigned.
HEADER = struct.Struct(">I")
#: The default size limit of one frame body, in bytes.
MAX_FRAME = 64 * 1024 * 1024
_CHUNK = 1 << 16


class WireError(ValueError):
    """A frame is larger than its limit, or its body is not what the protocol allows."""


class PeerClosed(EOFError):
    """The other end closed the stream before a whole frame arrived."""


# ---------------------------------------------------------------------------------------------
# Bodies.


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-finite number literal {name} is not allowed in a frame")


# Built once: `json.dumps` / `json.loads` with any non-default option build a new coder per call.
_ENCODER = json.JSONEncoder(separators=(",", ":"), allow_nan=False)
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def encode(obj: Any) -> bytes:
    """A message body: compact UTF-8 JSON of plain data (no NaN or infinity)."""
    return _ENCODER.encode(obj).encode("utf-8")


def decode(body: bytes, what: str = "frame") -> dict[str, Any]:
    """Parse a message body strictly: UTF-8 JSON, finite numbers only, an object at the top.

    Raises `WireError` saying what was wrong (the body may come from an untrusted program).
    """
    try:
        obj = _DECODER.decode(body.decode("utf-8"))
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        raise WireError(f"{what} is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(obj, dict):
        raise WireError(f"{what} is not a JSON object (got {type(obj).__name__})")
    return obj


def pack(body: bytes) -> bytes:
    """One frame around raw ``body`` bytes."""
    if len(body) > 0xFFFFFFFF:
        raise WireError(f"a frame body of {len(body)} bytes does not fit a 4-byte length")
    return HEADER.pack(len(body)) + body


def pack_frame(obj: Any) -> bytes:
    """One frame holding ``obj`` (plain JSON data, no NaN) as its body."""
    return pack(encode(obj))


def _check_size(size: int, limit: int) -> None:
    if size > limit:
        raise WireError(f"a frame of {size} bytes exceeds the {limit}-byte limit")


# ---------------------------------------------------------------------------------------------
# Blocking descriptors (a trusted peer, or a child that has nothing else to do).


def write_all(fd: int, data: bytes, deadline: float | None = None) -> None:
    """Write every byte of ``data`` to ``fd``.

    Without a ``deadline`` (a `time.monotonic` value) this blocks as long as the peer does; with
    one it writes at most ``select.PIPE_BUF`` bytes per ready signal, so it never blocks past the
    deadline, and raises `TimeoutError` when the deadline passes first.
    """
    view = memoryview(data)
    if deadline is None:
        while view:
            view = view[os.write(fd, view) :]
        return
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    while view:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not poller.poll(max(1, int(remaining * 1000) + 1)):
            raise TimeoutError(
                f"the peer took {len(data) - len(view)} of {len(data)} bytes in time"
            )
        view = view[os.write(fd, view[: select.PIPE_BUF]) :]


def send_bytes(fd: int, body: bytes, deadline: float | None = None) -> None:
    """Send one frame of raw bytes (see `write_all` for the deadline)."""
    write_all(fd, pack(body), deadline)


def send_frame(fd: int, obj: Any, deadline: float | None = None) -> None:
    """Send one JSON message frame (see `write_all` for the deadline)."""
    write_all(fd, pack_frame(obj), deadline)


def read_exact(fd: int, n: int) -> bytes:
    """Read exactly ``n`` bytes from a blocking ``fd``; raise `PeerClosed` on a short stream."""
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            raise PeerClosed("stream closed")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_bytes(fd: int, limit: int = MAX_FRAME) -> bytes:
    """Read one frame's body from a blocking ``fd``.

    Raises `PeerClosed` if the stream ends first, `WireError` if the frame is over ``limit``.
    """
    (size,) = HEADER.unpack(read_exact(fd, HEADER.size))
    _check_size(size, limit)
    return read_exact(fd, size)


def read_frame(fd: int, limit: int = MAX_FRAME) -> dict[str, Any]:
    """Read one JSON message frame from a blocking ``fd`` (see `recv_bytes` and `decode`)."""
    return decode(recv_bytes(fd, limit))


# ---------------------------------------------------------------------------------------------
# Reading with a deadline (a worker that may hang or die).


class FrameReader:
    """Reads frames from ``fd`` until a deadline, keeping any partial frame for the next call.

    ``fd`` stays blocking; the reader reads only what `select.poll` says is there.
    """

    def __init__(self, fd: int, limit: int = MAX_FRAME) -> None:
        self.fd = fd
        self.limit = limit
        self.buffer = bytearray()
        self._poller = select.poll()
        self._poller.register(fd, select.POLLIN)

    def _take(self) -> bytes | None:
        if len(self.buffer) < HEADER.size:
            return None
        (size,) = HEADER.unpack_from(self.buffer)
        _check_size(size, self.limit)
        end = HEADER.size + size
        if len(self.buffer) < end:
            return None
        body = bytes(self.buffer[HEADER.size : end])
        del self.buffer[:end]
        return body

    def read_bytes(self, deadline: float | None) -> bytes | None:
        """The next frame's body, or ``None`` once ``deadline`` (a `time.monotonic` value; None:
        no limit) has passed without a whole frame. A deadline already past still looks once.

        Raises `PeerClosed` when the peer closes its end, `WireError` for a frame over the limit.
        """
        while True:
            body = self._take()
            if body is not None:
                return body
            if deadline is None:
                wait_ms = -1
            else:
                wait_ms = max(0, int((deadline - time.monotonic()) * 1000) + 1)
            if not self._poller.poll(wait_ms):
                return None
            chunk = os.read(self.fd, _CHUNK)
            if not chunk:
                raise PeerClosed("the peer closed its end of the pipe")
            self.buffer += chunk

    def read(self, deadline: float | None) -> dict[str, Any] | None:
        """The next JSON message (see `read_bytes` and `decode`), or ``None`` at the deadline."""
        body = self.read_bytes(deadline)
        return None if body is None else decode(body)


# ---------------------------------------------------------------------------------------------
# Untrusted bytes (what a sandboxed program wrote into its result pipe).


def split_frames(data: bytes, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Parse untrusted bytes into frames: ``(frames, problem)``, problem naming any tampering."""
    frames: list[dict[str, Any]] = []
    pos = 0
    while pos < len(data):
        if len(data) - pos < HEADER.size:
            return frames, "truncated frame header"
        (size,) = HEADER.unpack_from(data, pos)
        pos += HEADER.size
        if size > limit or pos + size > len(data):
            return frames, "frame length does not match the data"
        try:
            frames.append(decode(data[pos : pos + size]))
        except WireError as exc:
            return frames, str(exc)
        pos += size
    return frames, None


# ---------------------------------------------------------------------------------------------
# Children that cannot import langgames.


def child_bootstrap(name: str = "wire") -> str:
    """Python source that loads this module, from its file, as the global ``name``.

    For a child interpreter started with ``-I -S`` (so it cannot import langgames) whose program
    is given with ``-c``: put this in front of the program and it speaks the same frames.
    """
    if not name.isidentifier():
        raise ValueError(f"name must be a Python identifier (got {name!r})")
    return (
        "import importlib.util as _wire_util\n"
        f"_wire_spec = _wire_util.spec_from_file_location('_langgames_wire', {__file__!r})\n"
        f"{name} = _wire_util.module_from_spec(_wire_spec)\n"
        f"_wire_spec.loader.exec_module({name})\n"
    )
