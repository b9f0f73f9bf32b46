"""TWS admin screens: the alert list does not cost a query per acknowledged alert."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tws.models import Alert

pytestmark = pytest.mark.django_db


def test_alert_list_shows_who_acknowledged_without_a_query_per_row(admin_client_: Any, django_user_model: Any) -> None:
    def queries_for_the_list() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            page = admin_client_.get("/admin/tws/alert/")
        assert page.status_code == 200
        return len(ctx.captured_queries), page.content.decode()

    people = [django_user_model.objects.create_user(username=f"ack{n}", password="x") for n in range(4)]
    now = timezone.now()

    def add(count: int, start: int) -> None:
        for n in range(start, start + count):
            Alert.objects.create(
                kind="job_error", target=f"job-{n}", message="ABEND", acknowledged_at=now, acknowledged_by=people[n % 4]
            )

    add(4, 0)
    few, _ = queries_for_the_list()
    add(30, 4)
    many, page = queries_for_the_list()
    assert many == few
    assert "ack3" in page
