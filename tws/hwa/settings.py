"""Connection settings of the TWS client (pydantic-settings, ``TWS_`` prefix).

Precedence, highest first: environment variables > ``.env`` file > the TWS
connection saved in the admin > defaults. The password is a ``SecretStr``:
it is revealed only where the HTTP basic auth is built (``tws.hwa.http``).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from django.conf import settings as django_settings
from pydantic import Field, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from core.redaction import register_secret

DEFAULT_BASE_URL = "http://127.0.0.1:31116"
DEFAULT_USERNAME = "twsuser"
DEFAULT_PASSWORD = "tws-simulator-pass"  # noqa: S105 — the embedded simulator's; real servers get theirs from env/admin
# Where the saved-connection layer comes from while load_tws_settings runs (none for a bare TWSSettings()).
_saved_source: ContextVar[Callable[[], dict[str, Any]] | None] = ContextVar("tws_saved_source", default=None)


class SavedConnectionSource(PydanticBaseSettingsSource):
    """Read the connection saved in the admin (below env and .env, above defaults)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.__call__().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        read = _saved_source.get()
        return dict(read()) if read is not None else {}


def saved_connection_values() -> dict[str, Any]:
    """Return the fields of the active saved connection (password decrypted), or {} without one."""
    from django.db import DatabaseError

    from tws.models import TWSConnection

    try:
        conn = TWSConnection.objects.filter(is_active=True).order_by("-updated_at").first()
    except DatabaseError:
        return {}  # no table yet (before migrate) or database down: fall back to env/defaults
    if conn is None:
        return {}
    values: dict[str, Any] = {
        "base_url": conn.base_url,
        "username": conn.username,
        "verify_tls": conn.verify_tls,
        "timeout_seconds": conn.timeout_seconds,
    }
    if conn.password_sealed:
        values["password"] = conn.password()
    return values


class TWSSettings(BaseSettings):
    """Where and how to reach HWA, plus the resilience knobs."""

    model_config = SettingsConfigDict(env_prefix="TWS_", env_file=None, extra="ignore", hide_input_in_errors=True)

    base_url: str = DEFAULT_BASE_URL
    username: str = DEFAULT_USERNAME
    password: SecretStr = SecretStr(DEFAULT_PASSWORD)
    verify_tls: bool = True
    plan_id: str = "current"
    timeout_seconds: float = Field(default=10.0, gt=0)
    connect_timeout_seconds: float = Field(default=3.0, gt=0)
    retry_attempts: int = Field(default=4, ge=1, le=20)
    retry_backoff_base_seconds: float = Field(default=0.2, ge=0)
    retry_backoff_max_seconds: float = Field(default=5.0, ge=0)
    retry_after_cap_seconds: float = Field(default=30.0, ge=0)
    breaker_window: int = Field(default=50, ge=1)
    breaker_min_calls: int = Field(default=20, ge=1)
    breaker_failure_ratio: float = Field(default=0.5, gt=0, le=1)
    breaker_consecutive_failures: int = Field(default=10, ge=1)
    breaker_reset_seconds: float = Field(default=30.0, gt=0)
    breaker_half_open_calls: int = Field(default=2, ge=1)
    max_connections: int = Field(default=50, ge=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, dotenv_settings, SavedConnectionSource(settings_cls))

    def __repr_args__(self) -> Any:
        # SecretStr already masks itself; keep the repr explicit anyway.
        return [(k, v) for k, v in super().__repr_args__() if k != "password"] + [("password", "**********")]


def default_env_file() -> Path:
    """Return the project's ``.env`` file."""
    return Path(django_settings.BASE_DIR) / ".env"


def load_tws_settings(*, env_file: Path | None = None, saved: dict[str, Any] | None = None) -> TWSSettings:
    """Return the effective settings (env > .env > saved connection > defaults); register the password."""
    path = env_file if env_file is not None else default_env_file()
    token = _saved_source.set((lambda: saved) if saved is not None else saved_connection_values)
    try:
        loaded = TWSSettings(_env_file=path if path.exists() else None)  # type: ignore[call-arg]
    finally:
        _saved_source.reset(token)
    register_secret(loaded.password.get_secret_value())
    return loaded
