"""Systems, their options, funds and report folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.db import transaction

import audit
from etl import catalog
from etl.exceptions import InvalidInput, SystemNotFound
from etl.models import Fund, PathConfig, System


def _system(system_id: int | str, *, lock: bool = False) -> System:
    qs = System.objects.select_for_update() if lock else System.objects.all()
    found = qs.filter(pk=system_id).first() if str(system_id).isdigit() else qs.filter(code=system_id).first()
    if found is None:
        raise SystemNotFound(f"system {system_id!r} not found")
    return found


def system_validate(*, code: str, command: list[str] | None) -> None:
    """Check a system's code and command before anything is written, or raise naming the field."""
    if not code or not code.replace("_", "").replace("-", "").isalnum() or code != code.lower():
        raise InvalidInput("code", "must be a lower-case slug such as 'amplis'")
    if command is not None and not all(isinstance(a, str) and a for a in command):
        raise InvalidInput("command", "must be a list of non-empty arguments")


@transaction.atomic
def system_save(
    *,
    code: str,
    name: str,
    active: bool = True,
    base_url: str = "",
    command: list[str] | None = None,
    acting_user: Any,
) -> System:
    """Create or update system ``code`` (its options start at the system's defaults)."""
    system_validate(code=code, command=command)
    system, created = System.objects.select_for_update().get_or_create(
        code=code, defaults={"name": name, "options": catalog.default_options(code)}
    )
    system.name, system.active, system.base_url = name, active, base_url
    if command is not None:
        system.command = command
    system.save()
    audit.record(
        "system.create" if created else "system.update",
        actor=acting_user,
        target=f"system:{system.pk}",
        data={"code": code, "name": name, "active": active, "base_url": base_url, "command": system.command},
    )
    return system


@transaction.atomic
def system_toggle(*, system_id: int | str, acting_user: Any) -> System:
    """Flip whether system ``system_id`` is active."""
    system = _system(system_id, lock=True)
    system.active = not system.active
    system.save(update_fields=["active", "updated_at"])
    audit.record("system.toggle", actor=acting_user, target=f"system:{system.pk}", data={"active": system.active})
    return system


@transaction.atomic
def system_option_update(*, system_id: int | str, option: str, value: Any, acting_user: Any) -> System:
    """Set option ``option`` of a system to ``value`` (validated per system)."""
    system = _system(system_id, lock=True)
    clean = catalog.validate_option(system.code, option, value)
    before = system.options.get(option)
    system.options = {**system.options, option: clean}
    system.save(update_fields=["options", "updated_at"])
    audit.record(
        "system.option",
        actor=acting_user,
        target=f"system:{system.pk}",
        data={"option": option, "before": before, "after": clean},
    )
    return system


@transaction.atomic
def fund_save(*, system_id: int | str, code: str, name: str = "", active: bool = True, acting_user: Any) -> Fund:
    """Create or update fund ``code`` of a system."""
    code = code.strip()
    if not code:
        raise InvalidInput("code", "is required")
    system = _system(system_id)
    fund, created = Fund.objects.update_or_create(system=system, code=code, defaults={"name": name, "active": active})
    audit.record(
        "fund.create" if created else "fund.update",
        actor=acting_user,
        target=f"fund:{fund.pk}",
        data={"system": system.code, "code": code, "name": name, "active": active},
    )
    return fund


@transaction.atomic
def funds_set_active(*, fund_ids: list[int], active: bool, acting_user: Any) -> int:
    """Activate or deactivate the funds ``fund_ids``; return how many changed."""
    changed = Fund.objects.filter(pk__in=fund_ids).exclude(active=active).update(active=active)
    audit.record(
        "fund.activate" if active else "fund.deactivate",
        actor=acting_user,
        target="fund:" + ",".join(str(i) for i in sorted(fund_ids)),
        data={"count": changed, "active": active},
    )
    return changed


def validate_folder(field: str, raw: str) -> Path:
    """Return ``raw`` as an absolute, existing (created on demand), writable folder, or raise naming ``field``."""
    path = Path(raw)
    if not raw or not path.is_absolute():
        raise InvalidInput(field, f"{raw!r} must be an absolute path")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(field, f"cannot create {raw!r}: {exc.strerror}") from None
    if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
        raise InvalidInput(field, f"{raw!r} is not a writable folder")
    return path


@transaction.atomic
def path_save(*, kind: str, path: str, acting_user: Any) -> PathConfig:
    """Set the folder of report ``kind`` (csv, pdf, excel)."""
    if kind not in PathConfig.Kind.values:
        raise InvalidInput("kind", f"must be one of {PathConfig.Kind.values}")
    folder = validate_folder(kind, path)
    config, _ = PathConfig.objects.update_or_create(kind=kind, defaults={"path": str(folder)})
    audit.record("path.update", actor=acting_user, target=f"path:{kind}", data={"path": str(folder)})
    return config


@transaction.atomic
def fund_delete(*, fund_id: int, acting_user: Any) -> None:
    """Delete a fund (and its positions)."""
    fund = Fund.objects.select_related("system").filter(pk=fund_id).first()
    if fund is None:
        return
    audit.record(
        "fund.delete", actor=acting_user, target=f"fund:{fund_id}", data={"system": fund.system.code, "code": fund.code}
    )
    fund.delete()


@transaction.atomic
def path_delete(*, kind: str, acting_user: Any) -> None:
    """Forget the folder of report ``kind`` (the pipeline falls back to VAR_DIR/etl/<kind>)."""
    if PathConfig.objects.filter(kind=kind).delete()[0]:
        audit.record("path.delete", actor=acting_user, target=f"path:{kind}", data={})
