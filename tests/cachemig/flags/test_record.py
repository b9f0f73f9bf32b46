"""The flags of record: one table, which the database, the seed and the frozen migrations agree with."""

from __future__ import annotations

import importlib

import pytest

from cachemig import flags
from cachemig.flags.record import FLAGS_OF_RECORD_TABLE, flags_of_record_ensure
from cachemig.models import FeatureFlag, RolloutEvent

RETIRED = "MIGRATION_USE_NEW_TWS"

pytestmark = pytest.mark.django_db


def _rows() -> dict[str, tuple[str, int, str, str]]:
    return {
        name: (state, percent, plan, description)
        for name, state, percent, plan, description in FeatureFlag.objects.values_list(
            "name", "state", "percent", "rollout_plan", "description"
        )
    }


def _table() -> dict[str, tuple[str, int, str, str]]:
    return {
        f.name: ("on" if f.default else "off", 100 if f.default else 0, f.plan, f.description)
        for f in FLAGS_OF_RECORD_TABLE
    }


def test_a_migrated_database_holds_exactly_the_flags_of_the_table() -> None:
    assert _rows() == _table()
    assert tuple(_table()) == flags.FLAGS_OF_RECORD


def test_the_frozen_copies_in_the_migrations_agree_with_the_table() -> None:
    created = importlib.import_module("cachemig.migrations.0002_flags_of_record").FLAGS
    retired = importlib.import_module("cachemig.migrations.0003_retire_migration_use_new_tws")
    after_migrations = {name: value for name, value in created.items() if name != retired.NAME}
    assert after_migrations == {f.name: (f.plan, f.description) for f in FLAGS_OF_RECORD_TABLE}


def test_the_seed_recreates_a_missing_flag_from_the_table_and_leaves_the_others_alone() -> None:
    FeatureFlag.objects.filter(name="MIGRATION_USE_NEW_CACHE").delete()
    FeatureFlag.objects.filter(name="MIGRATION_ENABLE_METRICS").update(state="off", percent=0)
    assert flags_of_record_ensure() == 1
    rows = _rows()
    assert rows["MIGRATION_USE_NEW_CACHE"] == _table()["MIGRATION_USE_NEW_CACHE"]
    assert rows["MIGRATION_ENABLE_METRICS"][:2] == ("off", 0), "an operator's change is never undone"


def test_the_retired_flag_is_not_seeded_again() -> None:
    flags_of_record_ensure()
    assert not FeatureFlag.objects.filter(name=RETIRED).exists()
    assert RETIRED not in flags.DEFAULTS_OF_RECORD


def test_retiring_migration_deletes_the_flag_in_any_state_and_leaves_its_history() -> None:
    from django.apps import apps

    migration = importlib.import_module("cachemig.migrations.0003_retire_migration_use_new_tws")
    FeatureFlag.objects.create(name=RETIRED, state="percentage", percent=25, rollout_plan="10,25,50,100")
    migration.retire(apps, None)
    assert not FeatureFlag.objects.filter(name=RETIRED).exists()
    event = RolloutEvent.objects.filter(flag_name=RETIRED, kind="delete").latest("id")
    assert (event.from_percent, event.to_percent, event.actor) == (25, 0, "migration")
    assert "retired" in event.reason
    migration.restore(apps, None)
    assert FeatureFlag.objects.get(name=RETIRED).state == "off"
