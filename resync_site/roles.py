"""The four roles and their permissions, declared once for every app."""

from __future__ import annotations

import fnmatch

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

ADMINS, OPERATORS, VIEWERS, AUDITORS = "Admins", "Operators", "Viewers", "Auditors"
ROLES = (ADMINS, OPERATORS, VIEWERS, AUDITORS)

# Patterns over "app_label.codename"; new models of the apps fall under them.
_APPS = ("audit", "cachemig", "tws", "etl", "resync_site")
ROLE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    VIEWERS: tuple(f"{app}.view_*" for app in _APPS if app != "resync_site"),
    OPERATORS: (
        *(f"{app}.view_*" for app in _APPS if app != "resync_site"),
        "etl.execute_*",
        "etl.cancel_*",
        "etl.rerun_*",
        "tws.acknowledge_*",
        "tws.act_*",
    ),
    ADMINS: (*(f"{app}.*" for app in _APPS), "auth.*"),
    # Read everything, verify the trail, list and export it, read payloads (each decryption is audited).
    AUDITORS: (
        *(f"{app}.view_*" for app in _APPS if app != "resync_site"),
        "audit.verify_auditentry",
        "audit.export_auditentry",
        "audit.decrypt_auditentry",
    ),
}


def roles_sync() -> dict[str, int]:
    """Create the role groups and give each the permissions its patterns match."""
    perms = list(
        Permission.objects.filter(Q(content_type__app_label__in=(*_APPS, "auth"))).select_related("content_type")
    )
    counts: dict[str, int] = {}
    for role, patterns in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        chosen = [
            p
            for p in perms
            if any(fnmatch.fnmatchcase(f"{p.content_type.app_label}.{p.codename}", pat) for pat in patterns)
        ]
        group.permissions.set(chosen)
        counts[role] = len(chosen)
    return counts
