"""flag_rollback turns a flag off for everyone in one audited step."""

from __future__ import annotations

import pytest

from audit.testing import recorded_entries
from cachemig import flags
from cachemig.models import FeatureFlag, RolloutEvent
from cachemig.services import flag_rollback
from tests.cachemig.conftest import at_percent

pytestmark = pytest.mark.django_db
FLAG = "MIGRATION_USE_NEW_CACHE"


def test_rollback_from_fifty_percent_to_zero_is_immediate_and_audited(admin_user: object) -> None:
    at_percent(FLAG, 50)
    keys = [f"k{i}" for i in range(200)]
    assert any(flags.is_enabled(FLAG, k) for k in keys)
    event = flag_rollback(name=FLAG, reason="errors on the new cache", acting_user=admin_user)
    assert not any(flags.is_enabled(FLAG, k) for k in keys)
    flag = FeatureFlag.objects.get(name=FLAG)
    assert (flag.state, flag.percent, flag.updated_by, flag.reason) == ("off", 0, "boss", "errors on the new cache")
    assert (event.kind, event.from_percent, event.to_percent, event.actor) == ("rollback", 50, 0, "boss")
    entry = recorded_entries(action="flag.rollback")[-1]
    assert entry["actor"] == "boss"
    assert entry["target"] == f"flag:{FLAG}"
    assert entry["data"]["from"] == {"state": "percentage", "percent": 50}
    assert entry["data"]["to"] == {"state": "off", "percent": 0}
    assert entry["data"]["reason"] == "errors on the new cache"


def test_rolling_back_an_off_flag_is_still_recorded() -> None:
    flag_rollback(name=FLAG, reason="belt and braces", acting_user="ops")
    assert RolloutEvent.objects.filter(flag_name=FLAG, kind="rollback").count() == 1
