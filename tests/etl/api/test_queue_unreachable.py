"""A committed job survives an unreachable queue: 202 with the job pending, queued by the reaper once Redis is back."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from etl.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # nothing listens there once the socket is closed


@pytest.fixture
def queue(redis_url: str) -> Iterator[Any]:
    """Give Huey a Redis storage that the test points at a closed port, then at a live Redis."""
    from huey.contrib.djhuey import HUEY
    from huey.storage import RedisStorage

    before = HUEY.storage

    class Queue:
        def down(self) -> None:
            HUEY.storage = RedisStorage(HUEY.name, url=f"redis://127.0.0.1:{_closed_port()}/0")

        def back(self) -> None:
            HUEY.storage = RedisStorage(HUEY.name, url=redis_url)

        def size(self) -> int:
            return int(HUEY.storage.queue_size())

        def run_next(self) -> None:
            HUEY.execute(HUEY.dequeue())

    yield Queue()
    HUEY.storage = before


def _execute(client: Any, **body: Any) -> Any:
    payload = {"sistemas": ["maps"], "data_inicial": "2025-01-15", **body}
    return client.post("/api/execute", data=json.dumps(payload), content_type="application/json")


def test_execute_with_redis_down_answers_202_and_the_job_runs_once_redis_is_back(
    operator_client: Any, make_system: Any, queue: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from etl.services import jobs_reap

    make_system("maps", script="print('[INFO] [MAPS] ran after the outage')")
    queue.down()

    response = _execute(operator_client)

    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "pending"
    assert any("queue is unreachable" in r.getMessage() for r in caplog.records)
    assert not any(r.levelname == "ERROR" for r in caplog.records)

    assert jobs_reap() == {"reaped": 0, "requeued": 1}  # the reaper tries while Redis is still down...
    job.refresh_from_db()
    assert (job.status, job.enqueued_at) == ("pending", None)  # ...and the job waits for the next run

    queue.back()
    assert jobs_reap()["requeued"] == 1  # the first run with the queue back hands it over, no waiting period
    assert queue.size() == 1
    queue.run_next()

    job.refresh_from_db()
    assert job.status == "success"
    assert job.log_lines.get().message == "ran after the outage"
    assert queue.size() == 0


def test_rerun_with_redis_down_answers_202_with_the_new_job_pending(
    operator_client: Any, make_system: Any, queue: Any
) -> None:
    from etl.services import job_finish

    make_system("maps")
    queue.down()
    first = _execute(operator_client).json()["id"]
    job_finish(job_id=first, status="error", summary="failed")

    response = operator_client.post(f"/api/jobs/{first}/rerun")

    assert response.status_code == 202, response.content
    rerun = Job.objects.get(pk=response.json()["id"])
    assert (rerun.status, rerun.rerun_of_id, rerun.enqueued_at) == ("pending", first, None)
