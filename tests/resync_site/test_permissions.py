"""Permission sets kept per process: fewer queries per request, and a change in the process applies at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from resync_site import permissions

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cache_on(settings: Any) -> None:
    settings.RESYNC_PERMISSION_CACHE_SECONDS = 5
    permissions.forget_all()


def _fresh(user: Any) -> Any:
    """The user as the next request sees it: a new object, without Django's per-object cache."""
    return type(user).objects.get(pk=user.pk)


def _queries_for_check(user: Any, perm: str) -> tuple[bool, int]:
    fresh = _fresh(user)
    with CaptureQueriesContext(connection) as captured:
        allowed = fresh.has_perm(perm)
    return allowed, len(captured)


def test_a_second_request_checks_permissions_without_a_query(viewer: Any) -> None:
    assert _queries_for_check(viewer, "etl.view_job") == (True, 2)  # user permissions, group permissions
    assert _queries_for_check(viewer, "etl.view_job") == (True, 0)
    assert _queries_for_check(viewer, "etl.cancel_job") == (False, 0)


def test_a_token_request_costs_two_queries_less_the_second_time(viewer: Any) -> None:
    from resync_site.services import token_create

    _, raw = token_create(user=viewer, name="perm", acting_user=viewer)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get("/api/tws/workstations").status_code == 200  # notes the token's first use (a write)
    permissions.forget_all()
    with CaptureQueriesContext(connection) as first:
        assert client.get("/api/tws/workstations").status_code == 200
    with CaptureQueriesContext(connection) as second:
        assert client.get("/api/tws/workstations").status_code == 200
    assert len(first) - len(second) == 2


def test_leaving_a_role_applies_to_the_next_check(viewer: Any) -> None:
    from django.contrib.auth.models import Group

    assert _queries_for_check(viewer, "etl.view_job")[0]
    viewer.groups.remove(Group.objects.get(name="Viewers"))
    assert _queries_for_check(viewer, "etl.view_job") == (False, 2)


def test_a_role_losing_a_permission_applies_to_the_next_check(viewer: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    assert _queries_for_check(viewer, "etl.view_job")[0]
    Group.objects.get(name="Viewers").permissions.remove(Permission.objects.get(codename="view_job"))
    assert not _queries_for_check(viewer, "etl.view_job")[0]


def test_joining_a_role_and_direct_grants_apply_to_the_next_check(viewer: Any) -> None:
    from django.contrib.auth.models import Group, Permission

    assert not _queries_for_check(viewer, "etl.cancel_job")[0]
    viewer.groups.add(Group.objects.get(name="Operators"))
    assert _queries_for_check(viewer, "etl.cancel_job")[0]
    assert not _queries_for_check(viewer, "auth.view_user")[0]
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    assert _queries_for_check(viewer, "auth.view_user")[0]


def test_superuser_status_removed_applies_to_the_next_check(django_user_model: Any) -> None:
    boss = django_user_model.objects.create_user(username="boss2", password="pw-boss2-1", is_superuser=True)
    assert _queries_for_check(boss, "audit.delete_auditentry")[0]
    boss.is_superuser = False
    boss.save()
    assert not _queries_for_check(boss, "audit.delete_auditentry")[0]


def test_a_deactivated_user_has_no_permission(viewer: Any) -> None:
    assert _queries_for_check(viewer, "etl.view_job")[0]
    viewer.is_active = False
    viewer.save()
    assert _queries_for_check(viewer, "etl.view_job") == (False, 0)


def test_a_change_made_elsewhere_applies_once_the_entry_expires(viewer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process's change fires no signal here: the bound is RESYNC_PERMISSION_CACHE_SECONDS."""
    assert _queries_for_check(viewer, "etl.view_job")[0]
    with connection.cursor() as cursor:  # as another process would: no signal in this one
        cursor.execute("DELETE FROM auth_user_groups WHERE user_id = %s", [viewer.pk])
    assert _queries_for_check(viewer, "etl.view_job") == (True, 0)  # still within the bound
    now = permissions.time.monotonic()
    monkeypatch.setattr(permissions.time, "monotonic", lambda: now + 5.5)
    assert _queries_for_check(viewer, "etl.view_job") == (False, 2)


def test_zero_seconds_turns_the_cache_off(viewer: Any, settings: Any) -> None:
    settings.RESYNC_PERMISSION_CACHE_SECONDS = 0
    assert _queries_for_check(viewer, "etl.view_job") == (True, 2)
    assert _queries_for_check(viewer, "etl.view_job") == (True, 2)


def test_the_shared_set_cannot_be_changed_by_a_caller(viewer: Any) -> None:
    perms = permissions.CachedModelBackend().get_all_permissions(_fresh(viewer))
    assert "etl.view_job" in perms
    with pytest.raises(AttributeError):
        perms.add("etl.cancel_job")  # type: ignore[attr-defined]
    assert not _fresh(viewer).has_perm("etl.cancel_job")
