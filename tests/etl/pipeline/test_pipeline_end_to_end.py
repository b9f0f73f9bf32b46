"""The bundled pipeline against the demo reports server, run by the runner as operators run it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from etl.models import Credential, Fund, Job, LogLine, PathConfig, Position
from etl.runner.job import run_job


def _demo(demo_server: str) -> None:
    from etl.demo.loader import load

    load()


def _drill_success(operator: Any, demo_server: str) -> None:
    from etl.services import job_execute

    _demo(demo_server)
    job = job_execute(
        systems=["maps", "amplis"],
        options={"data_inicial": "2025-01-15", "data_final": "2025-01-16"},
        acting_user=operator,
    )
    assert run_job(job.pk) == "success"
    job.refresh_from_db()
    assert job.status == "success", job.error_summary
    lines = list(LogLine.objects.filter(job=job).order_by("seq"))
    assert [line.seq for line in lines] == list(range(1, len(lines) + 1))
    assert lines[0].message.startswith("iniciando maps")
    assert {line.system for line in lines} == {"maps", "amplis"}
    # The child validates and hands the positions over; the worker, which alone opens the database, loads them.
    assert not any(line.message.startswith("[PROGRESS]") for line in lines)  # progress markers drive the bars
    # 2 MAPS funds x 5 assets x 2 days. AMPLIS reports its funds per account (AMP-RF-01-REAG, ...), which
    # nobody configured: they are reported in the log and on the step, not created behind the operator's back.
    assert Position.objects.filter(system__code="maps").count() == 20
    assert Position.objects.filter(system__code="amplis").count() == 0
    assert Position.objects.filter(job=job).count() == 20
    assert Fund.objects.count() == 7
    warned = [line.message for line in lines if line.level == "WARNING"]
    assert any("AMP-RF-01-REAG" in m and "não configurado" in m for m in warned), warned
    amplis = job.steps.get(system__code="amplis")
    assert "AMP-RF-01-REAG" in amplis.error_summary
    csv_dir = Path(PathConfig.objects.get(kind="csv").path)
    assert sorted(p.name for p in csv_dir.glob("maps_*.csv")) == ["maps_2025-01-15.csv", "maps_2025-01-16.csv"]
    assert job.steps.filter(status="success").count() == 2


def _drill_failures(operator: Any, demo_server: str) -> None:
    from etl.services import credential_save, job_execute

    _demo(demo_server)
    bad = job_execute(systems=["maps"], options={"data_inicial": "1999-12-31"}, acting_user=operator)
    assert run_job(bad.pk) == "error"
    bad.refresh_from_db()
    assert bad.exit_code == 3
    assert "line 4" in bad.error_summary
    assert "quantidade" in bad.error_summary
    assert not Position.objects.filter(date="1999-12-31").exists()  # nothing half-loaded

    credential = Credential.objects.get(system__code="maps")
    credential_save(
        system_id="maps", url=credential.url, username=credential.username, password="wrong", acting_user=None
    )
    denied = job_execute(systems=["maps"], options={"data_inicial": "2025-01-15"}, acting_user=operator)
    assert run_job(denied.pk) == "error"
    denied.refresh_from_db()
    assert denied.exit_code == 2
    assert "authentication failed (HTTP 401)" in denied.error_summary
    assert Job.objects.count() == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_pipeline_loads_positions_and_succeeds(shared_database_url: str, operator: Any, demo_server: str) -> None:
    _drill_success(operator, demo_server)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_bad_credentials_and_malformed_rows_fail_clearly(
    shared_database_url: str, operator: Any, demo_server: str
) -> None:
    _drill_failures(operator, demo_server)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_pipeline_loads_positions_and_succeeds_on_postgresql(
    shared_database_url: str, operator: Any, demo_server: str
) -> None:
    _drill_success(operator, demo_server)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_bad_credentials_and_malformed_rows_fail_clearly_on_postgresql(
    shared_database_url: str, operator: Any, demo_server: str
) -> None:
    _drill_failures(operator, demo_server)
