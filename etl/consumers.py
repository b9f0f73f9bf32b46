"""Websocket consumers of live jobs: ``/ws`` (every job) and ``/ws/jobs/<id>`` (one job), DESIGN.md §4.2.

The consumer authenticates, joins groups and relays what ``etl.events`` publishes: runs of log
lines go through the connection's ``etl.logstream.LogStream`` (sequence, gap-fill from the
database, batching), every other message straight to the client.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any
from urllib.parse import parse_qs

from autobahn.exception import Disconnected
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from core.errors import RateLimited, ResyncError
from etl import console_selectors, events
from etl.logstream import LogStream, dumps
from etl.ratelimit import rate_check

log = logging.getLogger("resync.etl.consumers")


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
    """Relay job events to one browser or app; its log lines go through a ``LogStream``."""

    groups: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups = []
        self.single_job: int | None = None
        self.is_open = False
        self.closing = asyncio.Event()
        self.stream = LogStream(
            send=self._send_text, read_page=database_sync_to_async(console_selectors.log_page_after)
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        # The batch flusher lives exactly as long as the connection, owned by a TaskGroup.
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.stream.flush_until(self.closing))
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
            self.stream.batch = query.get("batch", ["0"])[0] in ("1", "true")
            await self._subscribe(self.single_job, int(raw) if raw.isdigit() else 0)

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
            self.stream.batch = frame.get("batch") is True
            can_cancel = await _has_perm(self.scope["user"], "etl.cancel_job")
            await self._send_json({"type": "hello", "payload": {"batch": self.stream.batch, "can_cancel": can_cancel}})
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
            self.stream.unsubscribe(_job_id(frame.get("job_id")))
        elif kind == "cancel":
            job_id = _job_id(frame.get("job_id"))
            if not await _has_perm(self.scope["user"], "etl.cancel_job"):
                raise ClientError("forbidden", "cancelling a job needs the etl.cancel_job permission (Operators)")
            status = await _cancel(job_id, self.scope["user"])
            await self._send_json({"type": "cancel_requested", "payload": {"job_id": job_id, "status": status.upper()}})
        else:
            raise ClientError("unknown_type", f"unknown frame type {kind[:40]!r}")

    async def _subscribe(self, job_id: int, last_seq: int) -> None:
        """Send the lines after ``last_seq`` from the database, then the job's state; live lines follow."""
        await self.stream.subscribe(job_id, last_seq)
        for message in await database_sync_to_async(console_selectors.job_state_messages)(job_id=job_id):
            await self._send_json(message)

    # --- what etl.events publishes --------------------------------------------------------
    async def etl_lines(self, event: dict[str, Any]) -> None:
        """Hand a run of one job's log lines to the stream (it sends only those the client follows)."""
        if self.is_open:
            await self.stream.live(
                job_id=event["job_id"], first_seq=event["first_seq"], last_seq=event["last_seq"], lines=event["lines"]
            )

    async def etl_events(self, event: dict[str, Any]) -> None:
        """Relay ``status`` and ``job_complete`` messages, in order, after the lines sent before them."""
        for message in event["messages"]:
            if not self.is_open:
                return
            job_id = message["payload"]["job_id"]
            if message["type"] == "job_complete" and self.stream.follows(job_id):
                # The last lines' live messages may have been dropped and no later line will reveal
                # the gap: read the tail from the database before saying the job is over.
                await self.stream.catch_up(job_id)
            await self.stream.flush()  # a status never overtakes the lines before it
            await self._send_json(message)

    # --- sending -------------------------------------------------------------------------
    async def _send_json(self, message: dict[str, Any]) -> None:
        await self._send_text(dumps(message))

    async def _send_text(self, text: str) -> None:
        if self.is_open:
            await self.send(text_data=text)

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
