"""Create the five flags of record (DESIGN.md §4.5), all off except MIGRATION_ENABLE_METRICS."""

from django.db import migrations
from django.utils import timezone

# Frozen here on purpose: a data migration replays history, so it must not change when the live table
# (cachemig.flags.record) does; tests/cachemig/flags/test_record.py checks that the two still agree.
# MIGRATION_USE_NEW_TWS is retired by 0003.
FLAGS = {
    "TWS_UNIFIED_V2_ENABLED": ("5,25,50,100", "TWS client: the unified v2 client instead of the legacy one."),
    "MIGRATION_USE_NEW_CACHE": ("10,25,50,100", "Cache: read and write the new backend (legacy as fallback)."),
    "MIGRATION_USE_NEW_TWS": ("10,25,50,100", "TWS: route calls through the new HWA adapter."),
    "MIGRATION_USE_NEW_RATE_LIMIT": ("10,25,50,100", "Rate limiting: the new limiter instead of the legacy one."),
    "MIGRATION_ENABLE_METRICS": ("10,25,50,100", "Migration metrics (hits, fallbacks, errors) on /metrics."),
}


def create(apps, schema_editor):
    FeatureFlag = apps.get_model("cachemig", "FeatureFlag")
    RolloutEvent = apps.get_model("cachemig", "RolloutEvent")
    now = timezone.now()
    for name, (plan, description) in FLAGS.items():
        on = name == "MIGRATION_ENABLE_METRICS"
        flag, created = FeatureFlag.objects.get_or_create(
            name=name,
            defaults={
                "description": description,
                "state": "on" if on else "off",
                "percent": 100 if on else 0,
                "rollout_plan": plan,
                "updated_by": "migration",
                "reason": "flag of record",
                "stage_started_at": now,
            },
        )
        if created:
            RolloutEvent.objects.create(
                flag=flag,
                flag_name=name,
                kind="create",
                to_state=flag.state,
                to_percent=flag.percent,
                actor="migration",
                reason="flag of record (DESIGN.md §4.5)",
            )


def remove(apps, schema_editor):
    apps.get_model("cachemig", "FeatureFlag").objects.filter(name__in=FLAGS, updated_by="migration").delete()


class Migration(migrations.Migration):
    dependencies = [("cachemig", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
