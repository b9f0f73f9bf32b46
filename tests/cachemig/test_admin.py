"""Admin: the flag list, the advance action with its confirmation page, roll back, edits through services."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from audit.testing import recorded_entries
from cachemig.models import FeatureFlag, RolloutEvent
from cachemig.testing import InjectedFigures
from tests.cachemig.conftest import at_percent

pytestmark = pytest.mark.django_db
FLAG = "TWS_UNIFIED_V2_ENABLED"
CHANGELIST = "/admin/cachemig/featureflag/"


def pk(name: str) -> int:
    return FeatureFlag.objects.get(name=name).pk


def test_the_list_shows_state_percent_override_and_guard(
    admin_client_: Client, tws_guard: InjectedFigures, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"APP_{FLAG}", "false")
    at_percent(FLAG, 25)
    tws_guard.set(calls=400, errors=100)
    html = admin_client_.get(CHANGELIST).content.decode().lower()
    for text in (
        FLAG.lower(),
        "percentage",
        "25",
        "env override",
        "guard status",
        "breached: error ratio 25.0% &gt; 5.0%",
    ):
        assert text in html


def test_advance_shows_the_gate_figures_before_changing_anything(
    admin_client_: Client, tws_guard: InjectedFigures
) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=400, errors=100)
    page = admin_client_.post(CHANGELIST, {"action": "advance_to_next_stage", ACTION_CHECKBOX_NAME: [pk(FLAG)]})
    html = page.content.decode()
    assert page.status_code == 200
    assert "Advance to the next stage?" in html
    assert "refused" in html
    assert "error_ratio=0.25" in html
    assert "Force past the refused gates" in html
    assert FeatureFlag.objects.get(name=FLAG).exposure == 25


def test_confirming_advance_applies_it_and_a_refusal_is_shown(
    admin_client_: Client, tws_guard: InjectedFigures
) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=400, errors=100)
    data = {"action": "advance_to_next_stage", ACTION_CHECKBOX_NAME: [pk(FLAG)], "confirm": "yes"}
    refused = admin_client_.post(CHANGELIST, data, follow=True)
    assert "refused" in refused.content.decode()
    assert FeatureFlag.objects.get(name=FLAG).exposure == 25
    admin_client_.post(CHANGELIST, {**data, "force": "yes", "reason": "accepted"}, follow=True)
    assert FeatureFlag.objects.get(name=FLAG).exposure == 50
    assert RolloutEvent.objects.filter(kind="rollout", forced=True, actor="boss").exists()


def test_roll_back_action(admin_client_: Client) -> None:
    at_percent(FLAG, 50)
    admin_client_.post(CHANGELIST, {"action": "roll_back", ACTION_CHECKBOX_NAME: [pk(FLAG)]}, follow=True)
    assert FeatureFlag.objects.get(name=FLAG).exposure == 0
    assert recorded_entries(action="flag.rollback")[-1]["actor"] == "boss"


def test_the_change_page_shows_history_and_edits_go_through_services(admin_client_: Client) -> None:
    at_percent(FLAG, 5)
    url = f"{CHANGELIST}{pk(FLAG)}/change/"
    assert "test setup" in admin_client_.get(url).content.decode()
    response = admin_client_.post(
        url,
        {
            "description": "v2 client",
            "state": "percentage",
            "percent": "10",
            "rollout_plan": "5,10,50,100",
            "group_id": "",
            "guard": "",
            "reason": "tuning the plan",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    flag = FeatureFlag.objects.get(name=FLAG)
    assert (flag.rollout_plan, flag.exposure, flag.description) == ("5,10,50,100", 10, "v2 client")
    assert [e["action"] for e in recorded_entries(target=f"flag:{FLAG}")][-2:] == ["flag.update", "flag.set"]


def test_adding_a_flag_creates_it_off_and_records_it(admin_client_: Client) -> None:
    response = admin_client_.post(
        f"{CHANGELIST}add/",
        {
            "name": "ETL_NEW_RUNNER",
            "description": "",
            "state": "off",
            "percent": "0",
            "rollout_plan": "10,50,100",
            "group_id": "",
            "guard": "",
            "reason": "new flag",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert FeatureFlag.objects.get(name="ETL_NEW_RUNNER").exposure == 0
    assert recorded_entries(action="flag.create")[-1]["target"] == "flag:ETL_NEW_RUNNER"


def test_deleting_keeps_the_history(admin_client_: Client) -> None:
    at_percent("MIGRATION_USE_NEW_RATE_LIMIT", 10)
    admin_client_.post(f"{CHANGELIST}{pk('MIGRATION_USE_NEW_RATE_LIMIT')}/delete/", {"post": "yes"})
    assert not FeatureFlag.objects.filter(name="MIGRATION_USE_NEW_RATE_LIMIT").exists()
    assert RolloutEvent.objects.filter(flag_name="MIGRATION_USE_NEW_RATE_LIMIT", kind="delete").exists()
