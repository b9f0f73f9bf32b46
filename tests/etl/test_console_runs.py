"""Runs index, run form, re-run from the live page, and the job page without a fake save."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from etl.models import Job, Status

pytestmark = pytest.mark.django_db


def test_runs_index_lists_running_first_and_links_each_row_to_its_live_page(
    admin_client_: Any, make_system: Any
) -> None:
    make_system("maps")
    now = timezone.now()
    done = Job.objects.create(kind="single", systems=["maps"], status=Status.SUCCESS, created_at=now)
    running = Job.objects.create(
        kind="single", systems=["maps"], status=Status.RUNNING, created_at=now - timezone.timedelta(days=1)
    )
    html = admin_client_.get("/console/").content.decode()
    assert html.index(f'data-job="{running.pk}"') < html.index(f'data-job="{done.pk}"')
    assert f'href="/console/jobs/{done.pk}/"' in html
    filtered = admin_client_.get("/console/?status=success").content.decode()
    assert f'data-job="{running.pk}"' not in filtered
    assert f'data-job="{done.pk}"' in filtered


def test_run_form_shows_errors_next_to_the_fields_and_starts_nothing(
    admin_client_: Any, make_system: Any, no_enqueue: None
) -> None:
    make_system("maps")
    make_system("fidc", active=False)
    response = admin_client_.post(
        "/console/run/", {"sistemas": ["maps", "fidc"], "data_inicial": "2025-01-15", "data_final": "2025-01-10"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "sistemas" in form.errors
    assert "data_final" in form.errors
    assert 'value="2025-01-15"' in response.content.decode()  # the input is kept
    assert not Job.objects.exists()


def test_run_form_starts_a_run_over_two_systems_and_links_its_live_page(
    admin_client_: Any, make_system: Any, no_enqueue: None
) -> None:
    make_system("maps")
    make_system("fidc")
    response = admin_client_.post(
        "/console/run/",
        {"sistemas": ["maps", "fidc"], "data_inicial": "2025-01-10", "data_final": "2025-01-12"},
        follow=True,
    )
    job = Job.objects.get()
    assert sorted(job.systems) == ["fidc", "maps"]
    assert job.options == {"data_inicial": "2025-01-10", "data_final": "2025-01-12"}
    assert response.redirect_chain[-1][0] == f"/console/jobs/{job.pk}/"
    assert f'<a href="/console/jobs/{job.pk}/">' in response.content.decode()


def test_job_page_has_no_save_and_one_log_view(
    admin_client_: Any, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system("maps")
    job = start_job("maps")
    html = admin_client_.get(f"/admin/etl/job/{job.pk}/change/").content.decode()
    assert 'name="_save"' not in html
    assert 'name="_continue"' not in html
    assert html.count('data-role="viewport"') == 1
    assert 'data-role="cancel"' in html


def test_cancel_action_says_what_happened_to_each_job(
    admin_client_: Any, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system("maps")
    job = start_job("maps")
    response = admin_client_.post(
        "/admin/etl/job/", {"action": "cancel_jobs", "_selected_action": [job.pk]}, follow=True
    )
    shown = [str(m) for m in response.context["messages"]]
    assert any(str(job.pk) in m for m in shown), shown


def test_rerun_of_only_the_failed_system_from_the_live_page(
    admin_client_: Any, make_system: Any, start_job: Any, no_enqueue: None
) -> None:
    make_system("maps")
    make_system("fidc")
    job = start_job("maps", "fidc")
    steps = {s.system.code: s for s in job.steps.select_related("system")}
    steps["maps"].status = Status.SUCCESS
    steps["maps"].save()
    steps["fidc"].status = Status.ERROR
    steps["fidc"].save()
    Job.objects.filter(pk=job.pk).update(status=Status.ERROR)
    page = admin_client_.get(f"/console/jobs/{job.pk}/").content.decode()
    assert 'data-role="rerun-failed"' in page
    response = admin_client_.post(f"/console/jobs/{job.pk}/rerun/", {"only": "failed"})
    new = Job.objects.exclude(pk=job.pk).get()
    assert new.systems == ["fidc"]
    assert new.rerun_of_id == job.pk
    assert response["Location"] == f"/console/jobs/{new.pk}/"
    assert f'href="/console/jobs/{job.pk}/"' in admin_client_.get(response["Location"]).content.decode()
