"""Admin screens: pages render, writes go through the services, secrets never reach the HTML."""

from __future__ import annotations

from typing import Any

import pytest

from audit.testing import recorded_entries
from etl.models import Credential, Fund, Job, System

SECRET = "adm1n-s3cret-value"


@pytest.mark.parametrize("model", ["system", "credential", "fund", "pathconfig", "job", "position"])
def test_changelists_render(admin_client_: Any, make_system: Any, model: str) -> None:
    make_system("maps")
    assert admin_client_.get(f"/admin/etl/{model}/").status_code == 200


def test_credential_password_is_write_only_and_sealed(admin_client_: Any, make_system: Any) -> None:
    system = make_system("maps", credential=False)
    response = admin_client_.post(
        "/admin/etl/credential/add/",
        {"system": system.pk, "subaccount": "", "url": "http://maps.local", "username": "u1", "password": SECRET},
    )
    assert response.status_code == 302, response.content[:2000]
    credential = Credential.objects.get()
    assert credential.password_is_set
    assert SECRET not in credential.password_sealed
    page = admin_client_.get(f"/admin/etl/credential/{credential.pk}/change/").content.decode()
    assert SECRET not in page
    assert credential.password_sealed not in page
    assert "set" in page
    assert recorded_entries(action="credential.create")[0]["data"]["username"] == "u1"
    # Saving again with an empty password keeps the stored one.
    admin_client_.post(
        f"/admin/etl/credential/{credential.pk}/change/",
        {"system": system.pk, "subaccount": "", "url": "http://maps.local", "username": "u2", "password": ""},
    )
    credential.refresh_from_db()
    assert credential.username == "u2"
    assert credential.password_is_set


def test_job_page_shows_steps_and_actions_use_services(
    admin_client_: Any, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system("maps")
    job = start_job("maps")
    page = admin_client_.get(f"/admin/etl/job/{job.pk}/change/").content.decode()
    assert 'data-system="maps"' in page  # the step, in the live panel (which renders log lines as text)
    admin_client_.post("/admin/etl/job/", {"action": "cancel_jobs", "_selected_action": [job.pk]})
    assert Job.objects.get(pk=job.pk).status == "cancelled"
    assert recorded_entries(action="job.cancel")


def test_system_actions_toggle_and_run_now(admin_client_: Any, make_system: Any, no_enqueue: None) -> None:
    system = make_system("maps")
    admin_client_.post("/admin/etl/system/", {"action": "run_now", "_selected_action": [system.pk]})
    assert Job.objects.get().systems == ["maps"]
    admin_client_.post("/admin/etl/system/", {"action": "toggle_active", "_selected_action": [system.pk]})
    assert System.objects.get(pk=system.pk).active is False


def test_fund_bulk_deactivate(admin_client_: Any, make_system: Any) -> None:
    system = make_system("maps")
    funds = [Fund.objects.create(system=system, code=f"F{i}") for i in range(3)]
    admin_client_.post("/admin/etl/fund/", {"action": "deactivate", "_selected_action": [f.pk for f in funds[:2]]})
    assert list(Fund.objects.order_by("code").values_list("active", flat=True)) == [False, False, True]


def test_job_list_costs_the_same_queries_for_5_or_40_jobs(admin_client_: Any, django_user_model: Any) -> None:
    """Each row shows who started the job; that must not cost one query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_the_list() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client_.get("/admin/etl/job/").status_code == 200
        return len(ctx.captured_queries)

    from django.utils import timezone

    now = timezone.now()
    people = [django_user_model.objects.create_user(username=f"op{n}", password="x") for n in range(5)]
    Job.objects.bulk_create(
        Job(kind="single", systems=["maps"], created_by=people[n % 5], created_at=now) for n in range(5)
    )
    few = queries_for_the_list()
    Job.objects.bulk_create(
        Job(kind="single", systems=["maps"], created_by=people[n % 5], created_at=now) for n in range(35)
    )
    assert queries_for_the_list() == few


def test_positions_show_figures_in_the_operators_number_format(admin_client_: Any, make_system: Any) -> None:
    import datetime as dt
    from decimal import Decimal

    from etl.models import Position

    system = make_system("maps")
    fund = Fund.objects.create(system=system, code="F1")
    Position.objects.create(
        system=system,
        fund=fund,
        asset="PETR4",
        quantity=Decimal("1234567"),
        price=Decimal("12.5"),
        value=Decimal("15432087.50"),
        date=dt.date(2025, 1, 15),
    )
    html = admin_client_.get("/admin/etl/position/", HTTP_ACCEPT_LANGUAGE="pt-br").content.decode()
    assert "1.234.567" in html
    assert "15.432.087,50" in html


def test_admin_runs_draw_on_the_api_rate_budget(admin_client_: Any, settings: Any) -> None:
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    from etl.models import Job, System

    settings.ETL_RATE_LIMIT_REQUESTS = 1
    admin_client_.cookies["django_language"] = "en"
    system = System.objects.create(code="ratedemo", name="RATEDEMO")
    assert admin_client_.post("/api/cancel/999999").status_code == 404  # spends nothing of 'execute'
    for _ in range(2):
        admin_client_.post("/admin/etl/system/", {"action": "run_now", ACTION_CHECKBOX_NAME: [system.pk]}, follow=True)
    page = admin_client_.post(
        "/admin/etl/system/", {"action": "run_now", ACTION_CHECKBOX_NAME: [system.pk]}, follow=True
    ).content.decode()
    assert "Too many execute requests" in page
    assert Job.objects.count() <= 1
