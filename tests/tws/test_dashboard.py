"""The TWS dashboard card: every count links to the admin list that shows exactly those rows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from tws.dashboard import card
from tws.models import Alert, JobInPlan, Workstation

pytestmark = pytest.mark.django_db


def _rows_listed(client: Client, url: str) -> int:
    page = client.get(url)
    assert page.status_code == 200, url
    return len(re.findall(r'<tr[^>]*>\s*<td class="action-checkbox">|<tr>\s*<th class="field-', page.content.decode()))


def test_every_count_of_the_card_opens_the_list_it_counts(admin_client_: Client) -> None:
    now = timezone.now()
    for n, status in enumerate(["ERROR", "ERROR", "SUCCESSFUL", "HELD", "SUCCESSFUL", "SUCCESSFUL"]):
        JobInPlan.objects.create(
            hwa_id=f"id-{n}", name=f"J{n}", job_stream="S", workstation="W", status=status, synced_at=now
        )
    Workstation.objects.create(name="W1", link_state="unlinked", synced_at=now)
    Workstation.objects.create(name="W2", link_state="linked", synced_at=now)
    Alert.objects.create(kind="job_error", target="job:id-0", message="ABEND")
    Alert.objects.create(kind="job_error", target="job:old", message="ABEND", acknowledged_at=now)
    Alert.objects.create(kind="workstation_unlinked", target="ws:W1", message="down")
    built: dict[str, Any] = card()
    counted = [(m["key"], m["value"], m["url"]) for m in built["metrics"] if "url" in m]
    counted += [(r["label"], r["value"], r["url"]) for r in built["rows"]]
    assert {key for key, _, _ in counted} >= {"jobs_in_plan", "errors_today", "unlinked", "open_alerts", "ERROR"}
    for key, value, url in counted:
        assert _rows_listed(admin_client_, url) == value, (key, url)
