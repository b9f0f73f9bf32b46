"""Read queries of the feature flags: the operator table, history, flags the code uses."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.models import QuerySet

from cachemig import flags
from cachemig.exceptions import FlagNotFound
from cachemig.flags.evaluation import Override
from cachemig.models import FeatureFlag, RolloutEvent

# Literal flag names passed to the public API anywhere in the project's code.
_REFERENCE = re.compile(r"""(?:is_enabled|register_guard|override_flag)\(\s*["']([A-Z][A-Z0-9_]+)["']""")


@dataclass(frozen=True)
class FlagRow:
    """One line of the operator table (command, admin, API)."""

    name: str
    state: str
    percent: int
    plan: str
    override: Override
    guard_status: str
    guard_figures: dict[str, float] = field(default_factory=dict)
    updated_at: datetime | None = None
    updated_by: str = ""
    reason: str = ""


def guard_status(name: str) -> tuple[str, dict[str, float]]:
    """Return ("ok" | "breached: why" | "no guard", figures) from the guard of ``name`` now."""
    report = flags.evaluate_guard(name)
    if report is None:
        return "no guard", {}
    return ("ok" if report.ok else f"breached: {report.reason}"), dict(report.figures)


def guard_description(name: str) -> str:
    """Return what the guard registered for ``name`` checks, in words (or that none is registered)."""
    from django.utils.translation import gettext as _

    guard = flags.guard_for(name)
    if guard is None:
        return _("no guard registered: the rollout gates of this flag cannot pass")
    if isinstance(guard, flags.RatioGuard):
        return _(
            "errors at most %(errors)s%%, fallbacks at most %(fallbacks)s%%, circuit opens at most %(opens)s, "
            "over at least %(calls)s calls per stage"
        ) % {
            "errors": f"{guard.max_error_ratio * 100:g}",
            "fallbacks": f"{guard.max_fallback_ratio * 100:g}",
            "opens": guard.max_circuit_opens,
            "calls": guard.min_calls,
        }
    return (guard.__doc__ or type(guard).__name__).strip().splitlines()[0]


def flag_rows() -> list[FlagRow]:
    """Return every flag with its environment override and its guard's status now."""
    rows = []
    for flag in FeatureFlag.objects.order_by("name"):
        status, figures = guard_status(flag.name)
        rows.append(
            FlagRow(
                name=flag.name,
                state=flag.state,
                percent=flag.exposure,
                plan=flag.rollout_plan,
                override=flags.env_override(flag.name),
                guard_status=status,
                guard_figures=figures,
                updated_at=flag.updated_at,
                updated_by=flag.updated_by,
                reason=flag.reason,
            )
        )
    return rows


def flag_get(*, name: str) -> FeatureFlag:
    """Return flag ``name`` or raise FlagNotFound."""
    try:
        return FeatureFlag.objects.get(name=name)
    except FeatureFlag.DoesNotExist:
        raise FlagNotFound(f"no feature flag named {name!r}") from None


def flag_events(*, name: str) -> QuerySet[RolloutEvent]:
    """Return the history of ``name``, newest first."""
    return RolloutEvent.objects.filter(flag_name=name).order_by("-created_at", "-id")


def _source_files() -> list[Path]:
    base = Path(settings.BASE_DIR).resolve()
    found: list[Path] = []
    for config in apps.get_app_configs():
        root = Path(config.path).resolve()
        if base not in root.parents:
            continue  # Django's and third-party apps
        found += [p for p in root.rglob("*.py") if "migrations" not in p.parts and "tests" not in p.parts]
    return found


def flags_referenced_in_code() -> dict[str, list[str]]:
    """Return each literal flag name used by the project's code, with where it is used."""
    base = Path(settings.BASE_DIR).resolve()
    refs: dict[str, list[str]] = {}
    for path in _source_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _REFERENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            shown = path.relative_to(base) if base in path.parents else path
            refs.setdefault(match.group(1), []).append(f"{shown}:{line}")
    return refs


def flags_missing_in_database() -> dict[str, list[str]]:
    """Return the flags the code uses that have no row (they evaluate to False, or their default of record)."""
    known = set(FeatureFlag.objects.values_list("name", flat=True))
    return {name: where for name, where in flags_referenced_in_code().items() if name not in known}
