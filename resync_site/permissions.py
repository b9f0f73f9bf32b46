"""Each user's permission set, kept per process for a few seconds instead of read on every request.

Django's ``ModelBackend`` caches a user's permissions on the user object, which lives for one
request; an API request authenticates by token and loads a fresh user, so every permission check
cost two joined queries (user permissions, group permissions). On the small endpoints that was half
of the request (docs/performance.md). :class:`CachedModelBackend` keeps the set per user id:

- a change made in this process (a user saved or deleted, group membership, a group's or a user's
  permissions, a permission or group deleted) drops every entry at once, and again when its
  transaction commits, so a reader that raced the change cannot keep the old set;
- a change made by another process (another web process, the admin of a second host, a shell)
  reaches this one within ``RESYNC_PERMISSION_CACHE_SECONDS`` (default 5; 0 turns the cache off),
  as a flag change reaches it within the flag snapshot's refresh (cachemig/flags.py).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.db import transaction

MAX_USERS = 10_000  # a bound, not a tuning knob: past it the map starts over

_lock = threading.Lock()
_generation = 0
_entries: dict[int, tuple[float, int, frozenset[str]]] = {}  # user id -> (expires at, generation, permissions)


def forget_all() -> None:
    """Drop every cached permission set of this process (called on any change that can alter one)."""
    global _generation  # one process-wide counter, guarded by the lock
    with _lock:
        _generation += 1
        _entries.clear()


def _changed(**kwargs: Any) -> None:
    forget_all()
    # A thread that read the old rows between the change and its commit may store them again: forget after commit too.
    transaction.on_commit(forget_all, using=kwargs.get("using"))


class CachedModelBackend(ModelBackend):
    """Django's ``ModelBackend`` with each user's permission set kept per process (see the module)."""

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> Any:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if hasattr(user_obj, "_perm_cache"):
            return user_obj._perm_cache
        seconds = float(settings.RESYNC_PERMISSION_CACHE_SECONDS)
        if seconds <= 0:
            return super().get_all_permissions(user_obj, obj)
        now = time.monotonic()
        with _lock:
            generation = _generation
            entry = _entries.get(user_obj.pk)
        if entry is not None and entry[0] > now and entry[1] == generation:
            user_obj._perm_cache = entry[2]
            return entry[2]
        perms = frozenset(super().get_all_permissions(user_obj, obj))  # shared between requests: read-only
        user_obj._perm_cache = perms
        with _lock:
            if generation == _generation:  # no change arrived while reading: the set is current
                if len(_entries) >= MAX_USERS:
                    _entries.clear()
                _entries[user_obj.pk] = (now + seconds, generation, perms)
        return perms


def connect_signals() -> None:
    """Forget cached permission sets on every change that can alter one (called from the app's ready)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save

    user_model = get_user_model()
    for through in (user_model.groups.through, user_model.user_permissions.through, Group.permissions.through):
        m2m_changed.connect(_changed, sender=through, dispatch_uid=f"resync-perms-{through._meta.label}")
    for model in (user_model, Group, Permission):
        post_save.connect(_changed, sender=model, dispatch_uid=f"resync-perms-save-{model._meta.label}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"resync-perms-delete-{model._meta.label}")
