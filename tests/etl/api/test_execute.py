"""POST /api/execute and /api/execute/{id}: the bad-input matrix, conflicts, permissions, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from etl.models import Job


def _post(client: Any, path: str, body: Any, **extra: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **extra)


@pytest.fixture
def systems(make_system: Any, no_enqueue: None) -> None:
    make_system("maps")
    make_system("fidc")
    make_system("amplis")
    make_system("legacy", active=False)
    make_system("nocreds", credential=False)


GOOD = {"sistemas": ["maps"], "data_inicial": "2025-01-15"}


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"sistemas": ["nope"], "data_inicial": "2025-01-15"}, 422, "sistemas"),
        ({"sistemas": ["legacy"], "data_inicial": "2025-01-15"}, 422, "sistemas"),
        ({"sistemas": [], "data_inicial": "2025-01-15"}, 422, "sistemas"),
        ({"sistemas": ["maps"], "data_inicial": "15/01/2025"}, 422, "data_inicial"),
        ({"sistemas": ["maps"], "data_inicial": "2025-02-30"}, 422, "data_inicial"),
        ({"sistemas": ["maps"], "data_inicial": "2025-01-15", "data_final": "2025-01-14"}, 422, "data_final"),
        ({"sistemas": ["nocreds"], "data_inicial": "2025-01-15"}, 422, "credentials"),
        ({"sistemas": "maps", "data_inicial": "2025-01-15"}, 422, "sistemas"),
        ({"sistemas": ["maps"], "data_inicial": 20250115}, 422, "data_inicial"),
        ({"sistemas": ["maps"]}, 422, "data_inicial"),
        ({"sistemas": ["maps"], "data_inicial": "2025-01-15", "extra": 1}, 422, "extra"),
        ("{not json", 400, ""),
    ],
)
def test_bad_input_names_the_field_and_creates_no_job(
    operator_client: Any, systems: None, body: Any, status: int, field: str
) -> None:
    response = _post(operator_client, "/api/execute", body)
    assert response.status_code == status, response.content
    answer = response.json()
    assert field in answer["detail"]
    assert answer["code"]
    assert Job.objects.count() == 0


def test_an_oversized_body_is_refused_with_413(operator_client: Any, systems: None) -> None:
    body = {**GOOD, "padding": "x" * 200_000}
    response = _post(operator_client, "/api/execute", body)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert Job.objects.count() == 0


def test_a_valid_request_creates_a_pending_job_with_its_steps(
    operator_client: Any, systems: None, operator: Any
) -> None:
    response = _post(
        operator_client, "/api/execute", {**GOOD, "sistemas": ["maps", "fidc"], "data_final": "2025-01-16"}
    )
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == "pending"
    assert job.created_by == operator
    assert job.kind == "pipeline"
    assert job.options == {"data_inicial": "2025-01-15", "data_final": "2025-01-16"}
    assert list(job.steps.values_list("system__code", flat=True)) == ["maps", "fidc"]


def test_one_system_by_id_or_code(operator_client: Any, systems: None) -> None:
    from etl.models import System

    by_code = _post(operator_client, "/api/execute/maps", {"data_inicial": "2025-01-15"})
    by_id = _post(operator_client, f"/api/execute/{System.objects.get(code='fidc').pk}", {"data_inicial": "2025-01-15"})
    assert (by_code.status_code, by_id.status_code) == (202, 202)
    assert by_code.json()["kind"] == "single"
    assert by_id.json()["sistemas"] == ["fidc"]
    missing = _post(operator_client, "/api/execute/nope", {"data_inicial": "2025-01-15"})
    assert missing.status_code == 404
    assert "nope" in missing.json()["detail"]


def test_a_second_run_of_a_busy_system_is_a_conflict_naming_the_job(operator_client: Any, systems: None) -> None:
    first = _post(operator_client, "/api/execute", GOOD).json()["id"]
    second = _post(operator_client, "/api/execute", {**GOOD, "sistemas": ["fidc", "maps"]})
    assert second.status_code == 409
    assert second.json()["code"] == "system_busy"
    assert f"job {first}" in second.json()["detail"]
    assert Job.objects.count() == 1
    assert _post(operator_client, "/api/execute", {**GOOD, "sistemas": ["fidc"]}).status_code == 202


def test_the_database_refuses_two_active_steps_of_one_system(systems: None, operator: Any) -> None:
    from django.db import IntegrityError, transaction

    from etl.models import JobStep, System
    from etl.services import job_execute

    job = job_execute(systems=["maps"], options={"data_inicial": "2025-01-15"}, acting_user=operator)
    with pytest.raises(IntegrityError), transaction.atomic():
        JobStep.objects.create(job=job, system=System.objects.get(code="maps"), order=2)


def test_viewers_cannot_execute(viewer_client: Any, systems: None) -> None:
    response = _post(viewer_client, "/api/execute", GOOD)
    assert response.status_code == 403
    assert "etl.execute_job" in response.json()["detail"]


def test_anonymous_requests_are_refused(client: Any, systems: None) -> None:
    assert _post(client, "/api/execute", GOOD).status_code == 401


def test_execute_is_rate_limited_per_user(operator_client: Any, systems: None, settings: Any) -> None:
    from django.core.cache import caches

    caches["legacy"].clear()
    settings.ETL_RATE_LIMIT_REQUESTS = 2
    answers = [_post(operator_client, "/api/execute", {**GOOD, "sistemas": ["nope"]}) for _ in range(3)]
    assert [a.status_code for a in answers] == [422, 422, 429]
    assert answers[-1].json()["code"] == "rate_limited"
    assert int(answers[-1]["Retry-After"]) >= 1


def test_a_job_is_enqueued_once_the_transaction_commits(
    make_system: Any, operator_client: Any, django_capture_on_commit_callbacks: Any, enqueued: list[int]
) -> None:
    make_system("maps")
    with django_capture_on_commit_callbacks(execute=True):
        job_id = _post(operator_client, "/api/execute", GOOD).json()["id"]
    assert enqueued == [job_id]
