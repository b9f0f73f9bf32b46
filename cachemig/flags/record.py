"""The flags of record (DESIGN.md §4.5): one table read by the seed, the registry and the data-migration tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction


@dataclass(frozen=True)
class FlagOfRecord:
    """A flag every installation has: its name, the state it is created in, its canary plan, what it switches."""

    name: str
    default: bool
    plan: str
    description: str


FLAGS_OF_RECORD_TABLE: tuple[FlagOfRecord, ...] = (
    FlagOfRecord(
        name="TWS_UNIFIED_V2_ENABLED",
        default=False,
        plan="5,25,50,100",
        description="TWS client: the unified v2 client instead of the legacy one.",
    ),
    FlagOfRecord(
        name="MIGRATION_USE_NEW_CACHE",
        default=False,
        plan="10,25,50,100",
        description="Cache: read and write the new backend (legacy as fallback).",
    ),
    FlagOfRecord(
        name="MIGRATION_USE_NEW_RATE_LIMIT",
        default=False,
        plan="10,25,50,100",
        description="Rate limiting: the new limiter instead of the legacy one.",
    ),
    FlagOfRecord(
        name="MIGRATION_ENABLE_METRICS",
        default=True,
        plan="10,25,50,100",
        description="Migration metrics (hits, fallbacks, errors) on /metrics.",
    ),
)

FLAGS_OF_RECORD: tuple[str, ...] = tuple(flag.name for flag in FLAGS_OF_RECORD_TABLE)
# What a flag of record evaluates to when its row is missing or the database is unreachable.
DEFAULTS_OF_RECORD: dict[str, bool] = {flag.name: flag.default for flag in FLAGS_OF_RECORD_TABLE}
PLANS_OF_RECORD: dict[str, str] = {flag.name: flag.plan for flag in FLAGS_OF_RECORD_TABLE}


def flags_of_record_ensure(**kwargs: Any) -> int:
    """Create any missing flag of record in its default state (never change an existing one); return how many."""
    from django.utils import timezone

    from cachemig.models import FeatureFlag

    using = kwargs.get("using", "default")
    created = 0
    with transaction.atomic(using=using):
        for flag in FLAGS_OF_RECORD_TABLE:
            _, made = FeatureFlag.objects.using(using).get_or_create(
                name=flag.name,
                defaults={
                    "description": flag.description,
                    "state": "on" if flag.default else "off",
                    "percent": 100 if flag.default else 0,
                    "rollout_plan": flag.plan,
                    "updated_by": "migration",
                    "reason": "flag of record",
                    "stage_started_at": timezone.now(),
                },
            )
            created += made
    return created
