"""One log line has one payload: REST ``GET /api/jobs/{id}/logs``, the websocket backlog and the live tail."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.console.conftest import append_lines, communicator, receive_until, seqs

pytestmark = pytest.mark.django_db(transaction=True)


def _rest_lines(job_id: int, token: str) -> list[dict[str, Any]]:
    from django.test import Client

    answer = Client().get(f"/api/jobs/{job_id}/logs", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.content
    lines: list[dict[str, Any]] = answer.json()
    return lines


def _lines(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for frame in frames:
        if frame["type"] == "log":
            found.append(frame["payload"])
        elif frame["type"] == "log_batch":
            found.extend(frame["payload"]["lines"])
    return found


@pytest.mark.parametrize("batch", [False, True])
async def test_rest_and_the_websocket_give_the_same_payload_for_the_same_line(
    running_job: Any, viewer: Any, token_for: Any, batch: bool
) -> None:
    from etl.models import System

    # A name that is not the code upper-cased: the payload must carry the name as stored.
    await System.objects.filter(code="maps").aupdate(name="MAPS Itaú")
    token = await sync_to_async(token_for)(viewer)
    await sync_to_async(append_lines)(running_job, 1, 2)  # stored, and published to nobody yet
    comm = communicator(f"/ws/jobs/{running_job.pk}" + ("?batch=1" if batch else ""), token)
    assert (await comm.connect())[0]
    frames = await receive_until(comm, lambda f: f["type"] == "status")  # the backlog, from the database
    await sync_to_async(append_lines)(running_job, 3, 3)  # live, through the runner's publisher
    frames += await receive_until(comm, lambda f: 3 in seqs([f]))
    await comm.disconnect()

    over_the_socket = _lines(frames)
    over_rest = await sync_to_async(_rest_lines)(running_job.pk, token)
    assert [line["seq"] for line in over_the_socket] == [1, 2, 3]
    assert over_the_socket == over_rest
    assert over_rest[2] == {
        "job_id": running_job.pk,
        "seq": 3,
        "level": "INFO",
        "sistema": "MAPS Itaú",
        "sistema_id": "maps",
        "mensagem": "line 3",
        "timestamp": over_rest[2]["timestamp"],
    }
    assert over_rest[2]["timestamp"].endswith("Z")
    assert len(over_rest[2]["timestamp"]) == len("2025-01-15T10:30:00.000Z")  # milliseconds, always
