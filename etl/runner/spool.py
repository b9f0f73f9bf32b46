"""A step's output spools: the files its stdout and stderr go to, tailed live and ingested after a crash."""

from __future__ import annotations

import asyncio
import contextlib
import os
from datetime import datetime

from django.utils import timezone

from core.redaction import redact_text
from etl import jobfiles
from etl.runner import protocol

Row = tuple[int, datetime, str, str, str]  # seq, timestamp, level, system, message (etl.services.steps.Row)
POLL_SECONDS = 0.05


class SpoolTail:
    """Read a spool file as it grows, like a pipe: ``read`` returns b"" only once the writers are done."""

    def __init__(self, path: os.PathLike[str] | str) -> None:
        self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        self.finished = asyncio.Event()

    def _read_ready(self, size: int) -> bytes:
        # What the child wrote is in the page cache: reading it never waits on the disk or on the writer.
        return os.read(self.fd, size)

    async def read(self, size: int = -1, /) -> bytes:
        """Return the next bytes (at most ``size``), waiting for the writer while it may still write."""
        size = size if size > 0 else 1 << 16
        while True:
            chunk = self._read_ready(size)
            if chunk:
                return chunk
            if self.finished.is_set():
                return b""
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.finished.wait(), POLL_SECONDS)

    def close(self) -> None:
        """Close the file."""
        os.close(self.fd)


def spool_open_for_child(job_id: int, step_id: int, stream: str) -> int:
    """Create step ``step_id``'s spool of ``stream`` and return a descriptor the child writes to."""
    path = jobfiles.spool_path(job_id, step_id, stream)
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC | os.O_CLOEXEC, 0o600)


def spool_rows(
    *, job_id: int, step_id: int, system: str, offsets: dict[str, int], next_seq: int, max_bytes: int
) -> tuple[list[Row], dict[str, int]]:
    """Return the lines of step ``step_id``'s spools past ``offsets`` numbered from ``next_seq``, and the new offsets.

    stdout's lines come before stderr's: once the worker is gone nothing tells how they interleaved.
    """
    rows: list[Row] = []
    ended = dict(offsets)
    now = timezone.now()
    seq = next_seq
    for stream in jobfiles.STREAMS:
        path = jobfiles.spool_path(job_id, step_id, stream)
        try:
            with open(path, "rb") as spool:
                spool.seek(int(offsets.get(stream, 0)))
                data = spool.read()
        except FileNotFoundError:
            continue
        ended[stream] = int(offsets.get(stream, 0)) + len(data)
        pieces = data.split(b"\n")
        if pieces and pieces[-1] == b"":
            pieces.pop()
        for raw in pieces:
            text = redact_text(protocol.decode(raw[:max_bytes], len(raw), max_bytes))
            parsed = protocol.parse(text, system)
            rows.append((seq, now, parsed.level, parsed.system, parsed.message))
            seq += 1
    return rows, ended
