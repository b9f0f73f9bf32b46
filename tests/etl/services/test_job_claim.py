"""Claiming and beating: a pending job runs once, on the host that claimed it, and learns of a cancel request."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from etl.services import job_cancel, job_claim, job_heartbeat

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_pending_job_is_claimed_once_by_this_host(make_system: Any, start_job: Any, no_enqueue: None) -> None:
    make_system("maps")
    job = start_job("maps")
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None
    assert (claimed.status, claimed.hostname) == ("running", socket.gethostname())
    assert claimed.started_at is not None
    assert job_claim(job_id=job.pk) is None  # a duplicate task is a no-op


def test_a_cancelled_job_is_never_claimed(make_system: Any, start_job: Any, no_enqueue: None, operator: Any) -> None:
    make_system("maps")
    job = start_job("maps")
    job_cancel(job_id=job.pk, acting_user=operator)
    assert job_claim(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == "cancelled"


def test_the_heartbeat_tells_the_runner_of_a_cancel_request(
    make_system: Any, start_job: Any, no_enqueue: None, operator: Any
) -> None:
    make_system("maps")
    job = start_job("maps")
    job_claim(job_id=job.pk)
    assert job_heartbeat(job_id=job.pk) is False
    job_cancel(job_id=job.pk, acting_user=operator)
    assert job_heartbeat(job_id=job.pk) is True
    job.refresh_from_db()
    assert job.status == "running"  # the runner stops it and records the end
    assert job.heartbeat_at is not None
