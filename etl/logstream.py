"""The log lines one websocket client follows: sequence per job, gap-fill from the database, batching.

Channels-free: the consumer gives it a coroutine that sends one text frame and one that reads a
page of stored lines, hands it each live run that ``etl.events`` publishes, and relays everything
else itself. Per followed job the stream remembers the last ``seq`` it handed to the client: older
live lines are dropped (duplicates), and a jump in ``seq`` (a channel-layer message lost under
load) is filled from the database before the live lines go out, so a client never sees a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

PAGE = 1000  # lines per database page when catching up
FLUSH_SECONDS = 0.075  # batched clients get at most ~13 frames/s per job
MAX_BATCH = 2000  # a fuller buffer is flushed at once


class PageReader(Protocol):
    """Read stored log payloads of a job with ``after_seq < seq [<= until_seq]``, in order."""

    def __call__(
        self, *, job_id: int, after_seq: int, limit: int, until_seq: int | None
    ) -> Awaitable[list[dict[str, Any]]]: ...


def dumps(value: Any) -> str:
    """Return ``value`` as compact JSON (the frames' one encoding)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class LogStream:
    """The followed jobs of one client and the lines on their way to it."""

    def __init__(self, *, send: Callable[[str], Awaitable[None]], read_page: PageReader) -> None:
        self._send = send
        self._read_page = read_page
        self.batch = False  # batched ``log_batch`` frames, negotiated by the client
        self.sent_seq: dict[int, int] = {}  # followed job -> last seq handed to the client
        # Batched clients: per job, JSON fragments of lines (``{..},{..}``) and how many lines they hold.
        self._buffer: dict[int, list[str]] = {}
        self._buffered = 0
        self._lock = asyncio.Lock()  # batches and the messages after them leave in order

    def follows(self, job_id: int) -> bool:
        """Return whether the client follows the lines of job ``job_id``."""
        return job_id in self.sent_seq

    async def subscribe(self, job_id: int, last_seq: int) -> None:
        """Follow job ``job_id`` from ``last_seq``: send the stored lines after it now; live lines follow."""
        await self.flush()
        self._buffer.pop(job_id, None)
        self.sent_seq[job_id] = last_seq
        await self.catch_up(job_id)
        await self.flush()

    def unsubscribe(self, job_id: int) -> None:
        """Stop following job ``job_id``."""
        self.sent_seq.pop(job_id, None)
        self._buffer.pop(job_id, None)

    async def catch_up(self, job_id: int, *, until_seq: int | None = None) -> None:
        """Send the stored lines after the last one sent (up to ``until_seq``), page by page."""
        while self.follows(job_id):
            page = await self._read_page(
                job_id=job_id, after_seq=self.sent_seq[job_id], limit=PAGE, until_seq=until_seq
            )
            if not page:
                return
            await self._emit(job_id, page)
            if len(page) < PAGE:
                return

    async def live(self, *, job_id: int, first_seq: int, last_seq: int, lines: str) -> None:
        """Take a contiguous run ``first_seq..last_seq`` of live lines (``lines``: their JSON array).

        The common case (the next lines, batched client) costs one string append: the lines are
        neither parsed nor serialised again, so fan-out to many clients stays cheap.
        """
        if not self.follows(job_id) or last_seq <= self.sent_seq[job_id]:
            return
        if self.batch and first_seq == self.sent_seq[job_id] + 1:
            self.sent_seq[job_id] = last_seq
            await self._append(job_id, lines[1:-1], last_seq - first_seq + 1)
            return
        if first_seq > self.sent_seq[job_id] + 1:
            await self.catch_up(job_id, until_seq=first_seq - 1)  # the database has the lost lines
        fresh = [line for line in json.loads(lines) if line["seq"] > self.sent_seq.get(job_id, last_seq)]
        if fresh:
            await self._emit(job_id, fresh)

    async def flush(self) -> None:
        """Send the buffered lines of batched clients now, one ``log_batch`` frame per job."""
        async with self._lock:
            pending, self._buffer, self._buffered = self._buffer, {}, 0
            for job_id, fragments in pending.items():
                lines = ",".join(f for f in fragments if f)
                if lines:
                    await self._send(f'{{"type":"log_batch","payload":{{"job_id":{job_id},"lines":[{lines}]}}}}')

    async def flush_until(self, stop: asyncio.Event) -> None:
        """Flush every ``FLUSH_SECONDS`` until ``stop`` is set."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), FLUSH_SECONDS)
            await self.flush()

    async def _emit(self, job_id: int, lines: list[dict[str, Any]]) -> None:
        self.sent_seq[job_id] = lines[-1]["seq"]
        if self.batch:
            await self._append(job_id, dumps(lines)[1:-1], len(lines))
            return
        for line in lines:
            await self._send(dumps({"type": "log", "payload": line}))

    async def _append(self, job_id: int, fragment: str, count: int) -> None:
        self._buffer.setdefault(job_id, []).append(fragment)
        self._buffered += count
        if self._buffered >= MAX_BATCH:
            await self.flush()
