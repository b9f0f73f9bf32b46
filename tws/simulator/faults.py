"""Fault injection of the simulator: what goes wrong, how often."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

_ALIASES = {
    "500": "error_500",
    "503": "error_503",
    "429": "throttle_429",
    "401": "unauthorized_401",
    "hang": "hang",
    "reset": "reset",
    "latency": "latency_ms",
    "latency_ms": "latency_ms",
    "retry_after": "retry_after",
    "hang_seconds": "hang_seconds",
}


@dataclass(frozen=True)
class Faults:
    """Probabilities (0..1) of each failure per API request, plus latency and timings."""

    error_500: float = 0.0
    error_503: float = 0.0
    throttle_429: float = 0.0
    unauthorized_401: float = 0.0
    hang: float = 0.0
    reset: float = 0.0
    latency_ms: float = 0.0
    retry_after: int = 1
    hang_seconds: float = 30.0

    def as_dict(self) -> dict[str, Any]:
        """Return the faults as JSON-ready data."""
        return asdict(self)

    def updated(self, changes: dict[str, Any]) -> Faults:
        """Return a copy with ``changes`` (names or aliases) applied; raise ValueError on a bad one."""
        known = {f.name: f.type for f in fields(self)}
        values: dict[str, Any] = {}
        for raw_name, raw_value in changes.items():
            name = _ALIASES.get(str(raw_name).strip(), str(raw_name).strip())
            if name not in known:
                raise ValueError(f"unknown fault {raw_name!r} (known: {', '.join(sorted(_ALIASES))})")
            value = float(raw_value)
            if name in {"error_500", "error_503", "throttle_429", "unauthorized_401", "hang", "reset"} and not (
                0.0 <= value <= 1.0
            ):
                raise ValueError(f"fault {raw_name!r} is a probability between 0 and 1, not {raw_value!r}")
            if value < 0:
                raise ValueError(f"fault {raw_name!r} must not be negative")
            values[name] = int(value) if name == "retry_after" else value
        return replace(self, **values)


def parse_faults(spec: str) -> Faults:
    """Return the faults of a spec like ``"503=0.2,hang=0.05,latency=20"``."""
    changes: dict[str, str] = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, value = item.partition("=")
        if not sep:
            raise ValueError(f"fault {item!r} must be written name=value")
        changes[name] = value
    return Faults().updated(changes)
