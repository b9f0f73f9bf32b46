"""Jobs with log lines, API tokens and websocket communicators for the console tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.utils import timezone

ORIGIN = (b"origin", b"http://localhost")
HOST = (b"host", b"localhost")  # browsers always send it; the origin check compares the two


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """Give every test its own in-memory channel layer (no groups left over from other tests)."""
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def running_job(db: None) -> Any:
    """Return a running job with one running step of system ``maps``."""
    from etl.models import Job, JobStep, Status, System

    system = System.objects.create(code="maps", name="MAPS", base_url="http://127.0.0.1:9")
    job = Job.objects.create(
        kind=Job.Kind.PIPELINE,
        systems=["maps"],
        options={"data_inicial": "2025-01-15"},
        status=Status.RUNNING,
        created_at=timezone.now(),
        started_at=timezone.now(),
    )
    JobStep.objects.create(job=job, system=system, order=1, status=Status.RUNNING, started_at=timezone.now())
    return job


def rows(first: int, last: int, level: str = "INFO") -> list[tuple[int, dt.datetime, str, str, str]]:
    """Return runner rows ``first..last`` (seq, timestamp, level, system, message)."""
    now = timezone.now()
    return [(seq, now, level, "maps", f"line {seq}") for seq in range(first, last + 1)]


def append_lines(job: Any, first: int, last: int, *, publish: bool = True) -> None:
    """Store lines ``first..last`` of ``job`` as the runner does (published after commit unless ``publish`` is off)."""
    from etl.models import LogLine
    from etl.services import step_lines_append

    step = job.steps.get()
    if publish:
        step_lines_append(
            job_id=job.pk, step_id=step.pk, rows=rows(first, last), progress=10, line_count=last, status_text="ok"
        )
        return
    LogLine.objects.bulk_create(
        [
            LogLine(job=job, step=step, seq=s, timestamp=t, level=lv, system=sy, message=m)
            for s, t, lv, sy, m in rows(first, last)
        ]
    )


def publish_stored(job: Any, first: int, last: int) -> None:
    """Publish stored lines ``first..last`` of ``job`` again through the real publisher (a repeated delivery)."""
    from etl import events
    from etl.models import LogLine

    lines = LogLine.objects.filter(job=job, seq__range=(first, last)).order_by("seq")
    events.publish_many(
        job.pk,
        [
            events.log_message(
                job_id=line.job_id,
                seq=line.seq,
                level=line.level,
                system=line.system,
                message=line.message,
                timestamp=line.timestamp,
            )
            for line in lines
        ],
    )


@pytest.fixture
def token_for(db: None) -> Callable[[Any], str]:
    """Return a function giving a plaintext API token of a user."""
    from resync_site.services import token_create

    def make(user: Any) -> str:
        _, raw = token_create(user=user, name="ws", acting_user=user)
        return raw

    return make


def communicator(path: str, token: str | None = None, *, cookie: str | None = None) -> WebsocketCommunicator:
    """Return a communicator on the real ASGI stack (origin check, session and token auth)."""
    from resync_site.asgi import application

    headers = [ORIGIN, HOST]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if cookie:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, path, headers=headers)


async def receive_until(
    comm: WebsocketCommunicator, predicate: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """Collect frames until one satisfies ``predicate`` (generous timeout: not a timing assertion)."""
    frames = []
    while True:
        frame = await comm.receive_json_from(timeout=10)
        frames.append(frame)
        if predicate(frame):
            return frames


def seqs(frames: list[dict[str, Any]]) -> list[int]:
    """Return the seqs of every log line in ``frames`` (``log`` and ``log_batch``), in order."""
    found: list[int] = []
    for frame in frames:
        if frame["type"] == "log":
            found.append(frame["payload"]["seq"])
        elif frame["type"] == "log_batch":
            found.extend(line["seq"] for line in frame["payload"]["lines"])
    return found
