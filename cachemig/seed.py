"""Keep the five flags of record present (DESIGN.md §4.5) after every migrate or flush."""

from __future__ import annotations

from typing import Any

from django.db import transaction

# Same values as migration 0002, which created them first; this only re-creates a missing one
# (a database flushed by tests or by hand) and never changes an existing flag.
FLAGS_OF_RECORD_DEFAULTS = {
    "TWS_UNIFIED_V2_ENABLED": ("5,25,50,100", "TWS client: the unified v2 client instead of the legacy one."),
    "MIGRATION_USE_NEW_CACHE": ("10,25,50,100", "Cache: read and write the new backend (legacy as fallback)."),
    "MIGRATION_USE_NEW_TWS": ("10,25,50,100", "TWS: route calls through the new HWA adapter."),
    "MIGRATION_USE_NEW_RATE_LIMIT": ("10,25,50,100", "Rate limiting: the new limiter instead of the legacy one."),
    "MIGRATION_ENABLE_METRICS": ("10,25,50,100", "Migration metrics (hits, fallbacks, errors) on /metrics."),
}


def flags_of_record_ensure(**kwargs: Any) -> int:
    """Create any missing flag of record with its default state; return how many were created."""
    from django.utils import timezone

    from cachemig.models import FeatureFlag

    created = 0
    with transaction.atomic(using=kwargs.get("using", "default")):
        for name, (plan, description) in FLAGS_OF_RECORD_DEFAULTS.items():
            on = name == "MIGRATION_ENABLE_METRICS"
            _, made = FeatureFlag.objects.using(kwargs.get("using", "default")).get_or_create(
                name=name,
                defaults={
                    "description": description,
                    "state": "on" if on else "off",
                    "percent": 100 if on else 0,
                    "rollout_plan": plan,
                    "updated_by": "migration",
                    "reason": "flag of record",
                    "stage_started_at": timezone.now(),
                },
            )
            created += made
    return created
