"""One rate budget per user across processes in production: a Redis sliding window, whatever the rollout flag says."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = "cachemig.ratelimit.check_rate_shared"


def _settings_of(env: dict[str, str], expression: str) -> str:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "RESYNC_", "APP_"))}
    done = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print({expression})"],
        env={**base, "DJANGO_SETTINGS_MODULE": "resync_site.settings", "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def test_production_counts_in_the_shared_sliding_window_and_development_follows_the_flag(tmp_path: Path) -> None:
    production = {
        "RESYNC_ENV": "production",
        "SECRET_KEY": "x" * 50,
        "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/db",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "ALLOWED_HOSTS": "resync.example.com",
        "RESYNC_VAR_DIR": str(tmp_path),
        "APP_MIGRATION_USE_NEW_RATE_LIMIT": "false",  # the flag off: production still shares the budget
    }
    assert _settings_of(production, "settings.RESYNC_RATE_LIMITER") == SHARED
    rolled_back = {**production, "RESYNC_RATE_LIMIT_SHARED": "false"}
    assert _settings_of(rolled_back, "settings.RESYNC_RATE_LIMITER") == "cachemig.ratelimit.check_rate"
    assert _settings_of({"RESYNC_VAR_DIR": str(tmp_path)}, "settings.RESYNC_RATE_LIMITER") == (
        "cachemig.ratelimit.check_rate"
    )


@pytest.fixture
def shared_budget(settings: Any, worker_redis_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """This process as production runs it: the shared limiter over Redis, the rollout flag off, 4 per minute."""
    from cachemig.ratelimit import sliding_window

    settings.CACHES = {
        **settings.CACHES,
        "new": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": worker_redis_url},
    }
    monkeypatch.setattr(sliding_window, "_default", None)  # built again over the Redis cache above
    monkeypatch.setenv("APP_MIGRATION_USE_NEW_RATE_LIMIT", "false")
    settings.RESYNC_RATE_LIMITER = SHARED
    settings.ETL_RATE_LIMIT_REQUESTS = 4
    settings.ETL_RATE_LIMIT_WINDOW_SECONDS = 60
    return worker_redis_url


SECOND_PROCESS = """
import sys
import django
django.setup()
from core.errors import RateLimited
from core.rates import rate_check
for _ in range(2):
    try:
        rate_check("cancel", sys.argv[1], limit=4, window_seconds=60)
        print("allowed")
    except RateLimited:
        print("refused")
"""


@pytest.mark.django_db
def test_two_processes_draw_on_one_budget(
    shared_budget: str, operator: Any, operator_client: Any, tmp_path: Path
) -> None:
    assert [operator_client.post("/api/cancel/424242").status_code for _ in range(2)] == [404, 404]

    # Another process (a second web process), configured from its environment alone, spends the rest.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "RESYNC_", "APP_"))}
    other = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, f"user:{operator.pk}"],
        env={
            **base,
            "DJANGO_SETTINGS_MODULE": "resync_site.settings",
            "PYTHONPATH": str(ROOT),
            "RESYNC_VAR_DIR": str(tmp_path),
            "REDIS_URL": shared_budget,
            "RESYNC_RATE_LIMIT_SHARED": "true",
            "APP_MIGRATION_USE_NEW_RATE_LIMIT": "false",
        },
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert other.returncode == 0, other.stderr[-2000:]
    assert other.stdout.split() == ["allowed", "allowed"]

    refused = operator_client.post("/api/cancel/424242")
    assert refused.status_code == 429  # 2 here + 2 there: the budget of 4 is spent for both
    assert int(refused["Retry-After"]) >= 1


@pytest.mark.django_db
def test_the_admins_helper_draws_on_the_api_budget(shared_budget: str, operator: Any, operator_client: Any) -> None:
    from core.errors import RateLimited
    from etl.ratelimit import rate_check

    for _ in range(3):
        rate_check(operator, "cancel")  # what the admin's Cancel action calls before the service
    assert operator_client.post("/api/cancel/424242").status_code == 404
    with pytest.raises(RateLimited):
        rate_check(operator, "cancel")
    assert operator_client.post("/api/cancel/424242").status_code == 429
