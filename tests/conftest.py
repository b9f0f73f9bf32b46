"""Fixtures shared by every test: users per role, API clients, real Redis."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.test import Client

CI = os.environ.get("CI", "").lower() == "true"
TEST_REDIS_URL = os.environ.get("RESYNC_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """Skip PostgreSQL tests when the run is not on PostgreSQL (never silently under CI)."""
    from django.conf import settings

    on_pg = "postgresql" in settings.DATABASES["default"]["ENGINE"]
    for item in items:
        if item.get_closest_marker("postgres") and not on_pg:
            item.add_marker(
                pytest.mark.skip(reason="needs PostgreSQL: run `make test-postgres` or set DATABASE_URL=postgres://...")
            )


@pytest.fixture(autouse=True)
def _isolated_var(settings: Any, tmp_path: Any) -> Any:
    """Give each test its own var/ (key ring, files), out of the developer's, and forget it after."""
    from django.core.cache import caches

    from core.keyring import reset_keyring_cache

    settings.VAR_DIR = tmp_path / "var"
    settings.VAR_DIR.mkdir()
    settings.RESYNC_DASHBOARD_CACHE_SECONDS = 0  # tests read the cards right after changing state
    reset_keyring_cache()
    caches["legacy"].clear()  # rate budgets are counted there: each test starts with its own
    yield settings.VAR_DIR
    reset_keyring_cache()


@pytest.fixture
def redis_url() -> str:
    """Return the URL of a reachable Redis; skip (or fail under CI) without one."""
    import redis

    try:
        client = redis.Redis.from_url(TEST_REDIS_URL, socket_connect_timeout=1)
        client.ping()
        client.flushdb()
        client.close()
    except redis.RedisError as exc:
        if CI:
            pytest.fail(f"CI=true but Redis is not reachable at {TEST_REDIS_URL}: {exc}")
        pytest.skip(f"needs Redis at {TEST_REDIS_URL} (set RESYNC_TEST_REDIS_URL): {exc}")
    return TEST_REDIS_URL


@pytest.fixture
def worker_redis_url(redis_url: str) -> str:
    """Return a Redis URL whose database only this xdist worker uses (10 or 11), flushed for the test.

    The shared ``redis_url`` database is flushed by every test that takes it, on any worker:
    a test whose keys must outlive a few steps (a contract, figures shared across processes) takes this one.
    """
    import redis

    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    number = int(worker[2:]) if worker[2:].isdigit() else 0
    url = urlunsplit(urlsplit(redis_url)._replace(path=f"/{10 + number % 2}"))
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    return url


@pytest.fixture
def cache_redis_url(worker_redis_url: str) -> str:
    """Return the worker's own Redis database for the new cache's tests."""
    return worker_redis_url


def _user(django_user_model: Any, username: str, role: str | None, **extra: Any) -> Any:
    from django.contrib.auth.models import Group

    from resync_site.roles import roles_sync

    roles_sync()
    user = django_user_model.objects.create_user(username=username, password="pw-" + username, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def viewer(db: None, django_user_model: Any) -> Any:
    return _user(django_user_model, "viewer", "Viewers")


@pytest.fixture
def operator(db: None, django_user_model: Any) -> Any:
    return _user(django_user_model, "operator", "Operators")


@pytest.fixture
def admin_user(db: None, django_user_model: Any) -> Any:
    return _user(django_user_model, "boss", "Admins", is_staff=True, is_superuser=True)


def _client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def viewer_client(viewer: Any) -> Client:
    return _client_for(viewer)


@pytest.fixture
def operator_client(operator: Any) -> Client:
    return _client_for(operator)


@pytest.fixture
def admin_client_(admin_user: Any) -> Client:
    return _client_for(admin_user)


@pytest.fixture
def api_token(operator: Any) -> str:
    """Return a plaintext API token of the operator."""
    from resync_site.services import token_create

    _, raw = token_create(user=operator, name="test", acting_user=operator)
    return raw
