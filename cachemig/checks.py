"""System checks of cachemig: its settings, and flags the code uses that the database lacks."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.db.utils import DatabaseError

from cachemig import conf


@register()
def check_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Reject refresh and guard intervals the flags cannot honour."""
    errors: list[CheckMessage] = []
    refresh = conf.get_setting("CACHEMIG_FLAGS_REFRESH_SECONDS")
    if not isinstance(refresh, int | float) or not 0 < refresh <= 2:
        errors.append(
            Error(
                f"CACHEMIG_FLAGS_REFRESH_SECONDS must be a number in (0, 2] (got {refresh!r}): "
                "a flag change must reach every process within 5 s",
                id="cachemig.E001",
            )
        )
    interval = conf.get_setting("CACHEMIG_GUARD_INTERVAL_SECONDS")
    if not isinstance(interval, int) or not 1 <= interval <= 60 or 60 % interval:
        errors.append(
            Error(
                f"CACHEMIG_GUARD_INTERVAL_SECONDS must be a whole number of seconds dividing 60 (got {interval!r}), "
                "e.g. 5, 10, 15, 30",
                id="cachemig.E002",
            )
        )
    return errors


@register(Tags.database)
def check_flags_in_database(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn about flags referenced in code that no database row defines."""
    if not databases:
        return []
    from django.db import connection

    from cachemig.models import FeatureFlag
    from cachemig.selectors import flags_missing_in_database

    try:
        if FeatureFlag._meta.db_table not in connection.introspection.table_names():
            return []  # not migrated yet: migrate creates the flags of record
        missing = flags_missing_in_database()
    except DatabaseError as exc:
        return [Warning(f"cannot read the feature flags: {exc}", id="cachemig.W002")]
    return [
        Warning(
            f"feature flag {name} is used in code ({', '.join(where[:3])}) but missing in the database: "
            "it evaluates to False until created (admin, or a data migration)",
            id="cachemig.W001",
        )
        for name, where in sorted(missing.items())
    ]
