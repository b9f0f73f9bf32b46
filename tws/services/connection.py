"""Writes of the TWS connection (the password is sealed, never logged or audited)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from pydantic import SecretStr

import audit
from core.redaction import register_secret
from tws.hwa.settings import TWSSettings
from tws.models import TWSConnection
from tws.services.bridge import run_async

AUDITED_FIELDS = ("name", "base_url", "username", "verify_tls", "timeout_seconds", "is_active")


def _forget_clients() -> None:
    from tws.hwa.client import forget_tws_clients

    forget_tws_clients()


@transaction.atomic
def connection_save(
    *,
    acting_user: Any,
    connection: TWSConnection | None = None,
    name: str,
    base_url: str,
    username: str,
    password: str | None = None,
    verify_tls: bool = True,
    timeout_seconds: float = 10.0,
    is_active: bool = True,
) -> TWSConnection:
    """Create or update a connection; ``password=None`` keeps the stored one."""
    conn = connection or TWSConnection()
    before = {f: getattr(conn, f) for f in AUDITED_FIELDS} if conn.pk else {}
    conn.name, conn.base_url, conn.username = name, base_url, username
    conn.verify_tls, conn.timeout_seconds, conn.is_active = verify_tls, timeout_seconds, is_active
    password_changed = password is not None and password != ""
    if password_changed and password is not None:
        register_secret(password)
        conn.seal_password(password)
    conn.full_clean(exclude=["password_sealed"])
    conn.save()
    if is_active:
        TWSConnection.objects.exclude(pk=conn.pk).filter(is_active=True).update(is_active=False)
    changed = sorted(f for f in AUDITED_FIELDS if before.get(f) != getattr(conn, f))
    audit.record(
        "tws_connection.saved" if before else "tws_connection.created",
        actor=acting_user,
        target=f"tws_connection:{conn.pk}",
        data={"changed": changed, "password_changed": password_changed, "base_url": conn.base_url},
    )
    transaction.on_commit(_forget_clients)
    return conn


@transaction.atomic
def connection_delete(*, acting_user: Any, connection: TWSConnection) -> None:
    """Delete a connection (the client falls back to env/.env/defaults)."""
    pk, name = connection.pk, connection.name
    connection.delete()
    audit.record("tws_connection.deleted", actor=acting_user, target=f"tws_connection:{pk}", data={"name": name})
    transaction.on_commit(_forget_clients)


def connection_test(*, connection: TWSConnection) -> tuple[bool, str]:
    """Try the connection (engine info); return (ok, an operator-readable outcome without secrets)."""
    from tws.exceptions import TWSError
    from tws.hwa.client import UnifiedTWSClient

    password = connection.password()
    register_secret(password)
    # Test exactly this connection (init values outrank env and .env), with one attempt.
    settings = TWSSettings(
        base_url=connection.base_url,
        username=connection.username,
        password=SecretStr(password),
        verify_tls=connection.verify_tls,
        timeout_seconds=connection.timeout_seconds,
        retry_attempts=1,
    )

    async def probe() -> str:
        async with UnifiedTWSClient(settings) as client:
            return (await (await client.backend()).get_engine_info()).version  # uncached: test the server itself

    try:
        version = run_async(probe)
    except TWSError as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, f"connected: engine {version}"


def reencrypt_connections() -> int:
    """Re-seal every stored TWS password under the active key; return the count."""
    count = 0
    for conn in TWSConnection.objects.exclude(password_sealed=""):
        conn.seal_password(conn.password())
        conn.save(update_fields=["password_sealed"])
        count += 1
    return count
