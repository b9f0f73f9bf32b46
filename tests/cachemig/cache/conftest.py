"""Fixtures of the cache migration tests: migrating caches over locmem and real Redis, flag stages."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from redis.backoff import NoBackoff
from redis.retry import Retry

from cachemig import flags
from cachemig.backends import MigratingCache
from cachemig.backends.state import drop_state

FLAG = "MIGRATION_USE_NEW_CACHE"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
REDIS = "django.core.cache.backends.redis.RedisCache"
# As resync_site/settings.py configures the new cache: short timeouts, no client-side retries.
FAST_FAIL = {"socket_connect_timeout": 0.25, "socket_timeout": 0.25, "retry": Retry(NoBackoff(), 0)}


@pytest.fixture
def flag_percent(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Put MIGRATION_USE_NEW_CACHE at a percentage.

    0 % and 100 % use the real environment override. A percentage would need the
    flag's row, which threads and event loops outside the test's transaction do
    not see; so ``flags.is_enabled`` answers for this one flag with the flags'
    own bucketing (``flags.normalized_value``, group id = the flag name).
    """
    real = flags.is_enabled

    def put(percent: int) -> None:
        monkeypatch.setattr(flags, "is_enabled", real)
        if percent in (0, 100):
            monkeypatch.setenv(f"APP_{FLAG}", "true" if percent == 100 else "false")
            return
        monkeypatch.delenv(f"APP_{FLAG}", raising=False)

        def bucketed(name: str, key: str | None = None) -> bool:
            if name != FLAG:
                return real(name, key=key)
            if key is None:
                return False
            return flags.normalized_value(name, key) <= percent

        monkeypatch.setattr(flags, "is_enabled", bucketed)

    return put


@pytest.fixture
def build_cache(settings: Any) -> Iterator[Callable[..., MigratingCache]]:
    """Return a factory of migrating caches over fresh sides; ``new`` is a locmem or a Redis URL."""
    names: list[str] = []

    def build(new: str = "locmem", *, options: dict[str, Any] | None = None, **params: Any) -> MigratingCache:
        name = f"mig-{uuid.uuid4().hex[:8]}"
        names.append(name)
        new_alias = f"{name}-new"
        legacy_alias = f"{name}-legacy"
        if new == "locmem":
            new_conf: dict[str, Any] = {"BACKEND": LOCMEM, "LOCATION": new_alias}
        else:
            new_conf = {"BACKEND": REDIS, "LOCATION": new, "OPTIONS": dict(FAST_FAIL)}
        settings.CACHES = {
            **settings.CACHES,
            legacy_alias: {"BACKEND": LOCMEM, "LOCATION": legacy_alias},
            new_alias: new_conf,
        }
        opts = {"LEGACY_ALIAS": legacy_alias, "NEW_ALIAS": new_alias, **(options or {})}
        return MigratingCache(name, {**params, "OPTIONS": opts})

    yield build
    for name in names:
        drop_state(name)


def free_port() -> int:
    """Return a TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisProcess:
    """A dedicated redis-server this test may kill and restart."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no", "--daemonize", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not listen on {self.port}")

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_process() -> Iterator[RedisProcess]:
    """Start a dedicated redis-server on a free port (skip when the binary is absent)."""
    if not any(os.access(os.path.join(d, "redis-server"), os.X_OK) for d in os.environ["PATH"].split(os.pathsep)):
        pytest.skip("needs the redis-server binary")
    server = RedisProcess(free_port())
    server.start()
    yield server
    server.kill()
