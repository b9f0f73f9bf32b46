"""Realtime events of jobs (DESIGN.md §4.2), published to the channel layer after commit.

Every event goes through :func:`publish` (or :func:`publish_many`), so the
transport can change in one place. Groups: ``etl.jobs`` (everything) and
``etl.job.<id>`` (one job). Channel-layer messages are envelopes
``{"type": "etl.events", "messages": [...]}`` holding the client-facing
messages in order; a consumer relays each one to its websocket.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction

log = logging.getLogger("resync.etl.events")

ALL_JOBS_GROUP = "etl.jobs"
# Events travel in envelopes of up to this many messages (a batch of log lines is one send).
LINES_PER_MESSAGE = 1000
ENVELOPE_SIZE = 200


def job_group(job_id: int) -> str:
    """Return the channel-layer group of one job."""
    return f"etl.job.{job_id}"


@functools.lru_cache(maxsize=64)  # lines read together share one timestamp
def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def log_message(*, job_id: int, seq: int, level: str, system: str, message: str, timestamp: datetime) -> dict[str, Any]:
    """Return a ``log`` event (``seq`` lets late subscribers resume without gap or duplicate)."""
    return {
        "type": "log",
        "payload": {
            "job_id": job_id,
            "level": level,
            "sistema": system.upper(),
            "mensagem": message,
            "timestamp": _iso(timestamp),
            "seq": seq,
        },
    }


def status_message(*, job_id: int, system: str, status: str, progress: int, message: str) -> dict[str, Any]:
    """Return a ``status`` event."""
    return {
        "type": "status",
        "payload": {
            "job_id": job_id,
            "sistema_id": system,
            "status": status.upper(),
            "progresso": progress,
            "mensagem": message,
        },
    }


def job_complete_message(*, job_id: int, status: str, duration_seconds: float | None) -> dict[str, Any]:
    """Return a ``job_complete`` event."""
    return {
        "type": "job_complete",
        "payload": {
            "job_id": job_id,
            "status": status.upper(),
            "duracao_segundos": round(duration_seconds) if duration_seconds is not None else None,
        },
    }


def _send(job_id: int, messages: Sequence[dict[str, Any]]) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    # Log lines travel as one pre-serialised run per batch: the in-memory layer deep-copies every
    # message for every subscriber, and a JSON string copies for nothing (bench/ws_fanout.py).
    lines = [m["payload"] for m in messages if m["type"] == "log"]
    others = [m for m in messages if m["type"] != "log"]
    batch: list[dict[str, Any]] = []
    for start in range(0, len(lines), LINES_PER_MESSAGE):
        run = lines[start : start + LINES_PER_MESSAGE]
        batch.append(
            {
                "type": "etl.lines",
                "job_id": job_id,
                "first_seq": run[0]["seq"],
                "last_seq": run[-1]["seq"],
                "lines": json.dumps(run, separators=(",", ":"), ensure_ascii=False),
            }
        )
    for start in range(0, len(others), ENVELOPE_SIZE):
        batch.append({"type": "etl.events", "messages": others[start : start + ENVELOPE_SIZE]})

    async def send_all() -> None:
        for event in batch:
            await layer.group_send(ALL_JOBS_GROUP, event)
            await layer.group_send(job_group(job_id), event)

    try:
        async_to_sync(send_all)()
    except Exception:  # a realtime hiccup must never fail the job; lines stay in the database
        log.warning("etl: publishing %s event(s) of job %s failed", len(messages), job_id, exc_info=True)


def publish_many(job_id: int, messages: Sequence[dict[str, Any]]) -> None:
    """Send ``messages`` of job ``job_id`` once the current transaction commits."""
    if messages:
        batch = list(messages)
        transaction.on_commit(lambda: _send(job_id, batch))


def publish(job_id: int, message: dict[str, Any]) -> None:
    """Send one event of job ``job_id`` once the current transaction commits."""
    publish_many(job_id, [message])
