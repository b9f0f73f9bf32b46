"""The flags, rollout and rollback commands: thin, clear, non-zero on refusal."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from audit.testing import recorded_entries
from cachemig.models import FeatureFlag, RolloutEvent
from cachemig.testing import InjectedFigures
from tests.cachemig.conftest import at_percent

pytestmark = pytest.mark.django_db
FLAG = "TWS_UNIFIED_V2_ENABLED"


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_flags_prints_every_flag_with_state_percent_override_and_guard(
    tws_guard: InjectedFigures, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_MIGRATION_USE_NEW_CACHE", "false")
    at_percent(FLAG, 25)
    tws_guard.set(calls=10, errors=5)
    lines = {line.split()[0]: line for line in run("flags").splitlines()[1:]}
    assert set(lines) == set(FeatureFlag.objects.values_list("name", flat=True))
    assert lines[FLAG].split()[1:5] == ["percentage", "25", "unset", "ok"]
    assert lines["MIGRATION_USE_NEW_CACHE"].split()[1:5] == ["off", "0", "off", "ok"]
    assert "test setup" in lines[FLAG]


def test_flags_json_is_machine_readable() -> None:
    rows = json.loads(run("flags", "--json"))
    assert {r["name"]: r["percent"] for r in rows}["MIGRATION_ENABLE_METRICS"] == 100


def test_rollout_refuses_with_the_figures_and_a_nonzero_exit(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=500, errors=60)
    with pytest.raises(CommandError) as refused:
        run("rollout", FLAG)
    assert refused.value.returncode == 3
    assert "guard breached: error ratio 12.0% > 5.0%" in str(refused.value)
    assert "calls=500" in str(refused.value)
    assert FeatureFlag.objects.get(name=FLAG).exposure == 25


def test_rollout_force_advances_and_records_who(tws_guard: InjectedFigures) -> None:
    at_percent(FLAG, 25)
    tws_guard.set(calls=500, errors=60)
    out = run("rollout", FLAG, "--force", "--reason", "accepted risk")
    assert "advanced 25% -> 50%" in out
    assert "forced past the gates" in out
    event = RolloutEvent.objects.filter(kind="rollout").get()
    assert event.forced
    assert event.actor.startswith("cli:")
    assert recorded_entries(action="flag.rollout")[-1]["actor"].startswith("cli:")


def test_rollout_dry_run_changes_nothing() -> None:
    out = run("rollout", FLAG, "--dry-run")
    assert "would advance 0% -> 5%" in out
    assert FeatureFlag.objects.get(name=FLAG).exposure == 0


def test_rollout_of_an_unknown_flag_fails_clearly() -> None:
    with pytest.raises(CommandError, match="no feature flag named 'NOPE'"):
        run("rollout", "NOPE")


def test_rollback_sets_zero_and_is_audited() -> None:
    at_percent(FLAG, 50)
    out = run("rollback", FLAG, "--reason", "p99 latency doubled")
    assert "rolled back 50% -> 0%" in out
    assert FeatureFlag.objects.get(name=FLAG).exposure == 0
    assert recorded_entries(action="flag.rollback")[-1]["data"]["reason"] == "p99 latency doubled"


def test_rollback_run_through_sudo_records_the_person_not_the_service_account(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOGNAME", "resync")  # what `sudo -u resync` leaves in the environment
    monkeypatch.setenv("USER", "resync")
    monkeypatch.setenv("SUDO_USER", "alice")
    at_percent(FLAG, 50)
    run("rollback", FLAG, "--reason", "fallbacks at 12 %")
    assert RolloutEvent.objects.filter(kind="rollback").get().actor == "cli:alice (as resync)"
    assert recorded_entries(action="flag.rollback")[-1]["actor"] == "cli:alice (as resync)"
