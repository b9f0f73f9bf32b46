"""Split a child's byte stream into lines without ever holding more than one line's cap in memory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

LineSink = Callable[[bytes, int], None]
_CHUNK = 1 << 16


class ByteStream(Protocol):
    """What lines are read from: a pipe (``asyncio.StreamReader``) or a spool being tailed."""

    async def read(self, n: int = -1, /) -> bytes: ...


async def pump_lines(stream: ByteStream, max_bytes: int, sink: LineSink) -> None:
    """Call ``sink(raw, total_bytes)`` for each line of ``stream``; lines over ``max_bytes`` keep their head."""
    pending = bytearray()
    cut: bytes | None = None  # head of an over-long line whose tail is being discarded
    cut_total = 0
    while True:
        chunk = await stream.read(_CHUNK)
        if not chunk:
            break
        start = 0
        while True:
            newline = chunk.find(b"\n", start)
            if newline < 0:
                piece = chunk[start:]
                if cut is not None:
                    cut_total += len(piece)
                else:
                    pending += piece
                    if len(pending) > max_bytes:
                        cut, cut_total = bytes(pending[:max_bytes]), len(pending)
                        pending.clear()
                break
            piece = chunk[start:newline]
            if cut is not None:
                sink(cut, cut_total + len(piece))
                cut = None
            elif pending:
                pending += piece
                line = bytes(pending)
                pending.clear()
                sink(line[:max_bytes], len(line))
            else:
                sink(piece[:max_bytes], len(piece))
            start = newline + 1
    if cut is not None:
        sink(cut, cut_total)
    elif pending:
        sink(bytes(pending[:max_bytes]), len(pending))
