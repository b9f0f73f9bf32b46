"""Websocket consumers of live jobs: ``/ws`` (every job) and ``/ws/jobs/<id>`` (one job), DESIGN.md §4.2.

The consumer authenticates, joins groups and relays the events that ``etl.events``
publishes; the database is the source of truth for log lines. Each subscription
remembers the last ``seq`` it sent: older live lines are dropped (duplicates),
a jump in ``seq`` (a channel-layer message lost under load) is filled from the
database before the live line goes out, so a client never sees a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from core.errors import RateLimited, ResyncError
from etl import console_selectors, events
from etl.ratelimit import rate_check

log = logging.getLogger("resync.etl.consumers")


PAGE = 1000  # lines per database page when catching up
FLUSH_SECONDS = 0.075  # batched clients get at most ~13 frames/s per job
MAX_BATCH = 2000  # a fuller buffer is flushed at once
MAX_FRAME_BYTES = 16 * 1024
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


class ClientError(Exception):
    """A client frame that cannot be honoured; answered with an error frame."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


def _job_id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ClientError("invalid_job_id", "job_id must be a positive integer")
    return value


def _last_seq(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ClientError("invalid_last_seq", "last_seq must be a non-negative integer")
    return value


@database_sync_to_async
def _has_perm(user: Any, perm: str) -> bool:
    return bool(user.has_perm(perm))


@database_sync_to_async
def _cancel(job_id: int, user: Any) -> str:
    from etl.services import job_cancel

    # The same budget as POST /api/cancel/{id}: a socket is not a way around the limit.
    try:
        rate_check(user, "cancel")
    except RateLimited as exc:
        raise ClientError(exc.code, str(exc)) from exc
    return str(job_cancel(job_id=job_id, acting_user=user).status)


class JobEventsConsumer(AsyncWebsocketConsumer):
    """Relay job events to one browser or app; resume log streams without gap or duplicate."""

    groups: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = []
        self.single_job: int | None = None
        self.batch = False
        self.sent_seq: dict[int, int] = {}  # subscribed job -> last seq handed to the client
        # Batched clients: per job, JSON fragments of lines (``{..},{..}``) and how many lines they hold.
        self.buffer: dict[int, list[str]] = {}
        self.buffered = 0
        self.is_open = False
        self.closing = asyncio.Event()
        self.flush_lock = asyncio.Lock()  # batches and the status after them leave in order

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # The batch flusher lives exactly as long as the connection, owned by a TaskGroup.
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._flush_loop())
            try:
                await super().__call__(scope, receive, send)
            finally:
                self.closing.set()

    # --- connection -------------------------------------------------------------------
    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if not await _has_perm(user, "etl.view_job"):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        kwargs = self.scope.get("url_route", {}).get("kwargs", {})
        if "job_id" in kwargs:
            self.single_job = int(kwargs["job_id"])
            if not await database_sync_to_async(console_selectors.job_exists)(job_id=self.single_job):
                await self.close(code=4404)
                return
            group = events.job_group(self.single_job)
        else:
            group = events.ALL_JOBS_GROUP
        # Join before reading the database: anything committed later arrives live.
        if self.channel_layer is not None:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups.append(group)
        await self.accept()
        self.is_open = True
        if self.single_job is not None:
            query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
            raw = query.get("last_seq", ["0"])[0]
            last = int(raw) if raw.isdigit() else 0
            self.batch = query.get("batch", ["0"])[0] in ("1", "true")
            await self._subscribe(self.single_job, last)

    async def disconnect(self, code: int) -> None:
        self.is_open = False
        self.closing.set()

    # --- client frames ----------------------------------------------------------------
    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = self._parse(text_data, bytes_data)
            await self._handle(frame)
        except ClientError as exc:
            await self._send_json({"type": "error", "payload": {"code": exc.code, "detail": exc.detail}})
        except ResyncError as exc:
            await self._send_json({"type": "error", "payload": {"code": exc.code, "detail": str(exc)}})
        except Exception:  # a bug must cost the client one answer, not the connection
            log.exception("etl: websocket frame failed")
            await self._send_json(
                {"type": "error", "payload": {"code": "internal", "detail": "the frame could not be handled"}}
            )

    def _parse(self, text_data: str | None, bytes_data: bytes | None) -> dict[str, Any]:
        raw = text_data if text_data is not None else (bytes_data or b"").decode("utf-8", "replace")
        if len(raw) > MAX_FRAME_BYTES:
            raise ClientError("frame_too_large", f"frames are limited to {MAX_FRAME_BYTES} bytes")
        try:
            frame = json.loads(raw)
        except ValueError:
            raise ClientError("malformed", "frames must be JSON objects") from None
        if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
            raise ClientError("malformed", "frames must be JSON objects with a string 'type'")
        return frame

    async def _handle(self, frame: dict[str, Any]) -> None:
        kind = frame["type"]
        if kind == "hello":
            self.batch = frame.get("batch") is True
            can_cancel = await _has_perm(self.scope["user"], "etl.cancel_job")
            await self._send_json({"type": "hello", "payload": {"batch": self.batch, "can_cancel": can_cancel}})
        elif kind == "ping":
            await self._send_json({"type": "pong", "payload": {}})
        elif kind == "subscribe":
            job_id, last_seq = _job_id(frame.get("job_id")), _last_seq(frame.get("last_seq"))
            if self.single_job is not None and job_id != self.single_job:
                raise ClientError("wrong_job", f"this socket follows job {self.single_job}; use /ws to follow others")
            if not await database_sync_to_async(console_selectors.job_exists)(job_id=job_id):
                raise ClientError("job_not_found", f"job {job_id} not found")
            await self._subscribe(job_id, last_seq)
        elif kind == "unsubscribe":
            job_id = _job_id(frame.get("job_id"))
            self.sent_seq.pop(job_id, None)
            self.buffer.pop(job_id, None)
        elif kind == "cancel":
            job_id = _job_id(frame.get("job_id"))
            if not await _has_perm(self.scope["user"], "etl.cancel_job"):
                raise ClientError("forbidden", "cancelling a job needs the etl.cancel_job permission (Operators)")
            status = await _cancel(job_id, self.scope["user"])
            await self._send_json({"type": "cancel_requested", "payload": {"job_id": job_id, "status": status.upper()}})
        else:
            raise ClientError("unknown_type", f"unknown frame type {kind[:40]!r}")

    # --- log streams --------------------------------------------------------------------
    async def _subscribe(self, job_id: int, last_seq: int) -> None:
        """Send the lines after ``last_seq`` from the database, then the job's state; live lines follow."""
        await self._flush()
        self.buffer.pop(job_id, None)
        self.sent_seq[job_id] = last_seq
        await self._fill(job_id, until_seq=None)
        await self._flush()
        for message in await database_sync_to_async(console_selectors.job_state_messages)(job_id=job_id):
            await self._send_json(message)

    async def _fill(self, job_id: int, *, until_seq: int | None) -> None:
        """Send the stored lines after the last one sent (up to ``until_seq``), page by page."""
        while True:
            after = self.sent_seq[job_id]
            page = await database_sync_to_async(console_selectors.log_page_after)(
                job_id=job_id, after_seq=after, limit=PAGE, until_seq=until_seq
            )
            if not page:
                return
            await self._emit_lines(job_id, page)
            if len(page) < PAGE:
                return

    async def _emit_lines(self, job_id: int, lines: list[dict[str, Any]]) -> None:
        self.sent_seq[job_id] = lines[-1]["seq"]
        if self.batch:
            await self._buffer(job_id, _dumps(lines)[1:-1], len(lines))
            return
        for line in lines:
            await self._send_json({"type": "log", "payload": line})

    async def _buffer(self, job_id: int, fragment: str, count: int) -> None:
        self.buffer.setdefault(job_id, []).append(fragment)
        self.buffered += count
        if self.buffered >= MAX_BATCH:
            await self._flush()

    async def etl_lines(self, event: dict[str, Any]) -> None:
        """Relay a contiguous run of log lines published pre-serialised (``lines``: a JSON array).

        The common case (the next lines of a followed job, batched client) costs one string append per
        client: the lines are neither parsed nor serialised again, so fan-out stays cheap.
        """
        job_id, first, last, raw = (
            event.get("job_id"),
            event.get("first_seq"),
            event.get("last_seq"),
            event.get("lines"),
        )
        if not (isinstance(job_id, int) and isinstance(first, int) and isinstance(last, int) and isinstance(raw, str)):
            return
        if not self.is_open or job_id not in self.sent_seq or last <= self.sent_seq[job_id]:
            return
        if self.batch and first == self.sent_seq[job_id] + 1 and raw.startswith("[") and raw.endswith("]"):
            self.sent_seq[job_id] = last
            await self._buffer(job_id, raw[1:-1], last - first + 1)
            return
        payloads = json.loads(raw)  # overlap, gap or a seed-format client: the general path
        if isinstance(payloads, list) and payloads:
            await self._live_lines(payloads)

    async def _live_line(self, payload: dict[str, Any]) -> None:
        job_id = payload.get("job_id")
        if not isinstance(job_id, int) or job_id not in self.sent_seq:
            return  # /ws relays logs only of subscribed jobs
        seq = int(payload.get("seq", 0))
        last = self.sent_seq[job_id]
        if seq <= last:
            return  # already sent from the database
        if seq > last + 1:
            # A live message was lost (layer capacity, expiry): the database has the gap.
            await self._fill(job_id, until_seq=seq - 1)
            if seq <= self.sent_seq[job_id]:
                return
        await self._emit_lines(job_id, [payload])

    async def etl_event(self, event: dict[str, Any]) -> None:
        """Relay one event published by ``etl.events``."""
        await self._relay(event.get("message"))

    async def etl_events(self, event: dict[str, Any]) -> None:
        """Relay a runner batch published as one channel-layer message (one layer hop per batch, not per line)."""
        messages = event.get("messages")
        run: list[dict[str, Any]] = []  # consecutive log lines of one job, handled together
        for message in messages if isinstance(messages, list) else ():
            payload = message.get("payload") if isinstance(message, dict) else None
            if message.get("type") == "log" and isinstance(payload, dict) and isinstance(payload.get("seq"), int):
                if run and run[0].get("job_id") != payload.get("job_id"):
                    await self._live_lines(run)
                    run = []
                run.append(payload)
                continue
            if run:
                await self._live_lines(run)
                run = []
            await self._relay(message)
        if run:
            await self._live_lines(run)

    async def _live_lines(self, payloads: list[dict[str, Any]]) -> None:
        job_id = payloads[0].get("job_id")
        if not self.is_open or not isinstance(job_id, int) or job_id not in self.sent_seq:
            return
        last = self.sent_seq[job_id]
        fresh = [p for p in payloads if p["seq"] > last]
        contiguous = all(b["seq"] == a["seq"] + 1 for a, b in itertools.pairwise(fresh))
        if not fresh or not contiguous:
            for payload in fresh:
                await self._live_line(payload)
            return
        if fresh[0]["seq"] > last + 1:
            await self._fill(job_id, until_seq=fresh[0]["seq"] - 1)
            fresh = [p for p in fresh if p["seq"] > self.sent_seq[job_id]]
        if fresh:
            await self._emit_lines(job_id, fresh)

    async def _relay(self, message: Any) -> None:
        if not isinstance(message, dict) or not self.is_open:
            return
        if message.get("type") == "log":
            await self._live_line(message.get("payload") or {})
            return
        job_id = (message.get("payload") or {}).get("job_id")
        if message.get("type") == "job_complete" and job_id in self.sent_seq:
            # The last lines' live messages may have been dropped and no later line will reveal
            # the gap: read the tail from the database before saying the job is over.
            await self._fill(job_id, until_seq=None)
        await self._flush()  # a status never overtakes the lines before it
        await self._send_json(message)

    # --- sending -------------------------------------------------------------------------
    async def _flush(self) -> None:
        async with self.flush_lock:
            if not self.buffer:
                return
            pending, self.buffer, self.buffered = self.buffer, {}, 0
            for job_id, fragments in pending.items():
                lines = ",".join(f for f in fragments if f)
                if lines and self.is_open:
                    await self.send(
                        text_data=f'{{"type":"log_batch","payload":{{"job_id":{job_id},"lines":[{lines}]}}}}'
                    )

    async def _flush_loop(self) -> None:
        while not self.closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.closing.wait(), FLUSH_SECONDS)
            if self.is_open:
                await self._flush()

    async def _send_json(self, message: dict[str, Any]) -> None:
        if self.is_open:
            await self.send(text_data=_dumps(message))

    async def send(self, text_data: str | None = None, bytes_data: bytes | None = None, close: bool = False) -> None:
        """Send a frame; a client gone before its disconnect event arrives is the same as gone after it.

        The server refuses a send on a closed socket (Daphne: autobahn's ``Disconnected``; the ASGI
        spec: an ``OSError``). The relay stops quietly instead of failing the connection with a traceback.
        """
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except (Disconnected, OSError):
            self.is_open = False
            self.closing.set()


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
