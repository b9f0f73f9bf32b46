"""The OPTIONS of a migrating cache, read and checked in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class MigratingOptions:
    """How a ``MigratingCache`` routes, mirrors, compares and protects its two sides."""

    legacy_alias: str = "legacy"
    new_alias: str = "new"
    flag: str = "MIGRATION_USE_NEW_CACHE"
    dual_write: bool = True
    warm_on_miss: bool = False
    warm_timeout: int = 300
    shadow_sample_rate: float = 0.0
    breaker_failure_threshold: int = 5
    breaker_reset_seconds: float = 5.0
    guard_window_seconds: int = 60
    guard_min_samples: int = 20
    guard_max_error_ratio: float = 0.05
    guard_max_fallback_ratio: float = 0.05
    guard_probe: bool = True
    dirty_keys_max: int = 50_000

    @classmethod
    def from_params(cls, options: Mapping[str, Any]) -> MigratingOptions:
        """Return the options named in upper case in ``options``, or raise naming the bad one."""
        known = {f.name.upper(): f for f in fields(cls)}
        values: dict[str, Any] = {}
        for raw_name, raw in options.items():
            spec = known.get(raw_name.upper())
            if spec is None:
                raise ImproperlyConfigured(
                    f"MigratingCache OPTIONS: unknown option {raw_name!r} (known: {', '.join(sorted(known))})"
                )
            values[spec.name] = _coerce(raw_name, raw, spec.type)
        found = cls(**values)
        found.check()
        return found

    def check(self) -> None:
        """Raise ``ImproperlyConfigured`` naming the first value out of range."""
        if self.legacy_alias == self.new_alias:
            raise ImproperlyConfigured("MigratingCache OPTIONS: LEGACY_ALIAS and NEW_ALIAS must differ")
        ratios = ("shadow_sample_rate", "guard_max_error_ratio", "guard_max_fallback_ratio")
        for name in ratios:
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ImproperlyConfigured(f"MigratingCache OPTIONS: {name.upper()} must be between 0 and 1")
        positive = (
            "warm_timeout",
            "breaker_failure_threshold",
            "breaker_reset_seconds",
            "guard_window_seconds",
            "guard_min_samples",
            "dirty_keys_max",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ImproperlyConfigured(f"MigratingCache OPTIONS: {name.upper()} must be greater than 0")


def _coerce(name: str, raw: Any, kind: object) -> Any:
    try:
        if kind == "bool":
            if isinstance(raw, str):
                return raw.strip().lower() in {"1", "true", "yes", "on"}
            return bool(raw)
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        return str(raw)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"MigratingCache OPTIONS: {name} must be a {kind}, not {raw!r}") from exc
