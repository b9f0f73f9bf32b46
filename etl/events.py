"""Realtime events of jobs (DESIGN.md §4.2), published to the channel layer after commit.

Every event goes through :func:`publish` (or :func:`publish_many`), so the transport can change
in one place. Groups: ``etl.jobs`` (everything) and ``etl.job.<id>`` (one job). One publish
becomes at most two kinds of channel-layer message, each sent to both groups:

- ``{"type": "etl.lines", "job_id", "first_seq", "last_seq", "lines": "<JSON array>"}``: a
  contiguous run of the job's log lines (up to ``LINES_PER_MESSAGE``), shaped by
  :func:`etl.shapes.log_line_out` and serialised once for every subscriber;
- ``{"type": "etl.events", "messages": [...]}``: the other client-facing messages (``status``,
  ``job_complete``), in order.

A consumer hands ``etl.lines`` to its ``etl.logstream.LogStream`` and relays ``etl.events``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from asgiref.sync import async_to_sync
from django.db import transaction

from etl.shapes import LineRow, log_lines_out

log = logging.getLogger("resync.etl.events")

ALL_JOBS_GROUP = "etl.jobs"
# Events travel in envelopes of up to this many messages (a batch of log lines is one send).
LINES_PER_MESSAGE = 1000
ENVELOPE_SIZE = 200


def job_group(job_id: int) -> str:
    """Return the channel-layer group of one job."""
    return f"etl.job.{job_id}"


def log_message(*, job_id: int, seq: int, level: str, system: str, message: str, timestamp: datetime) -> dict[str, Any]:
    """Return a ``log`` event of a line just stored (its payload is shaped when it is published)."""
    return {"type": "log", "line": LineRow(job_id, seq, level, system, message, timestamp)}


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


def _layer_messages(job_id: int, messages: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    # Log lines travel as one pre-serialised run per batch: the in-memory layer deep-copies every
    # message for every subscriber, and a JSON string copies for nothing (bench/ws_fanout.py).
    lines = log_lines_out([m["line"] for m in messages if m["type"] == "log"])
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
    return batch


def _send(job_id: int, messages: Sequence[dict[str, Any]]) -> None:
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return

    async def send_all(batch: list[dict[str, Any]]) -> None:
        for event in batch:
            await layer.group_send(ALL_JOBS_GROUP, event)
            await layer.group_send(job_group(job_id), event)

    try:
        async_to_sync(send_all)(_layer_messages(job_id, messages))
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
