"""Admin: the flag list, the advance action with its confirmation page, roll back, edits through services."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client

from audit.testing import recorded_entries
from cachemig.models import FeatureFlag, RolloutEvent
from cachemig.testing import InjectedFigures
from tests.cachemig.conftest import at_percent, stage_began_ago

pytestmark = pytest.mark.django_db
FLAG = "TWS_UNIFIED_V2_ENABLED"
CHANGELIST = "/admin/cachemig/featureflag/"


def pk(name: str) -> int:
    return FeatureFlag.objects.get(name=name).pk


@pytest.fixture(autouse=True)
def _english(admin_client_: Client) -> None:
    admin_client_.cookies["django_language"] = "en"


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
    assert "Advance the rollout?" in html
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


def test_roll_back_asks_for_confirmation_and_a_reason(admin_client_: Client) -> None:
    at_percent(FLAG, 50)
    data = {"action": "roll_back", ACTION_CHECKBOX_NAME: [pk(FLAG)]}
    page = admin_client_.post(CHANGELIST, data).content.decode()
    assert "Roll back to 0%?" in page
    assert FeatureFlag.objects.get(name=FLAG).exposure == 50

    without_reason = admin_client_.post(CHANGELIST, {**data, "confirm": "yes", "reason": " "}).content.decode()
    assert "Say why" in without_reason
    assert FeatureFlag.objects.get(name=FLAG).exposure == 50

    done = admin_client_.post(CHANGELIST, {**data, "confirm": "yes", "reason": "v2 errors in prod"}, follow=True)
    assert "rolled back from 50% to 0%" in done.content.decode()
    assert FeatureFlag.objects.get(name=FLAG).exposure == 0
    entry = recorded_entries(action="flag.rollback")[-1]
    assert entry["actor"] == "boss"
    assert RolloutEvent.objects.filter(kind="rollback").first().reason == "v2 errors in prod"


def test_the_operator_chooses_the_target_stage(admin_client_: Client, tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 5)
    stage_began_ago(FLAG, 600)
    tws_guard.set(calls=1000, errors=0)
    data = {"action": "advance_to_next_stage", ACTION_CHECKBOX_NAME: [pk(FLAG)]}
    page = admin_client_.post(CHANGELIST, data).content.decode()
    assert '<option value="25" selected>' in page
    assert '<option value="50">' in page
    admin_client_.post(CHANGELIST, {**data, "confirm": "yes", "to": "50", "reason": "canary fine"}, follow=True)
    assert FeatureFlag.objects.get(name=FLAG).exposure == 50


def test_a_rollout_with_no_traffic_is_refused_with_the_reason(
    admin_client_: Client, tws_guard: InjectedFigures
) -> None:
    at_percent(FLAG, 5)
    tws_guard.set(calls=0, errors=0)
    data = {"action": "advance_to_next_stage", ACTION_CHECKBOX_NAME: [pk(FLAG)], "confirm": "yes"}
    page = admin_client_.post(CHANGELIST, data, follow=True).content.decode()
    assert "not enough calls since the last stage: 0 &lt; 100" in page
    assert FeatureFlag.objects.get(name=FLAG).exposure == 5


def test_a_flag_of_record_cannot_be_deleted_and_shows_its_guard(admin_client_: Client) -> None:
    change = admin_client_.get(f"{CHANGELIST}{pk(FLAG)}/change/").content.decode()
    assert "deletelink" not in change
    assert "over at least 20 calls per stage" in change  # the TWS v2 guard in force
    assert admin_client_.post(f"{CHANGELIST}{pk(FLAG)}/delete/", {"post": "yes"}).status_code == 403
    assert "delete_selected" not in admin_client_.get(CHANGELIST).content.decode()
    assert FeatureFlag.objects.filter(name=FLAG).exists()


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


def test_deleting_a_flag_not_of_record_keeps_the_history(admin_client_: Client) -> None:
    from cachemig.services import flag_create

    flag_create(name="ETL_EXPERIMENT", acting_user="tests", reason="trying something")
    at_percent("ETL_EXPERIMENT", 10)
    admin_client_.post(f"{CHANGELIST}{pk('ETL_EXPERIMENT')}/delete/", {"post": "yes"})
    assert not FeatureFlag.objects.filter(name="ETL_EXPERIMENT").exists()
    assert RolloutEvent.objects.filter(flag_name="ETL_EXPERIMENT", kind="delete").exists()
