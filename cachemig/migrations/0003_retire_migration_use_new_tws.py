"""Retire MIGRATION_USE_NEW_TWS: nothing reads it (docs/decisions/flags-retire-migration-use-new-tws.md)."""

from django.db import migrations
from django.utils import timezone

# Frozen here on purpose, as in 0002: a migration replays history, so it never reads the live table
# (cachemig.flags.record), which will change; tests/cachemig/flags/test_record.py pins the two together.
NAME = "MIGRATION_USE_NEW_TWS"
PLAN = "10,25,50,100"
DESCRIPTION = "TWS: route calls through the new HWA adapter."
REASON = "retired: no code reads it; TWS_UNIFIED_V2_ENABLED chooses the TWS client"


def retire(apps, schema_editor):
    FeatureFlag = apps.get_model("cachemig", "FeatureFlag")
    RolloutEvent = apps.get_model("cachemig", "RolloutEvent")
    for flag in FeatureFlag.objects.filter(name=NAME):
        exposure = 100 if flag.state == "on" else 0 if flag.state == "off" else flag.percent
        RolloutEvent.objects.create(
            flag=None,
            flag_name=NAME,
            kind="delete",
            from_state=flag.state,
            from_percent=exposure,
            to_state="off",
            to_percent=0,
            actor="migration",
            reason=REASON,
        )
        flag.delete()


def restore(apps, schema_editor):
    apps.get_model("cachemig", "FeatureFlag").objects.get_or_create(
        name=NAME,
        defaults={
            "description": DESCRIPTION,
            "state": "off",
            "percent": 0,
            "rollout_plan": PLAN,
            "updated_by": "migration",
            "reason": "flag of record",
            "stage_started_at": timezone.now(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("cachemig", "0002_flags_of_record")]

    operations = [migrations.RunPython(retire, restore)]
