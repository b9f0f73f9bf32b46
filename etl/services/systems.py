"""Systems, their options, funds and report folders."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.db import transaction

import audit
from core.fields import unsafe_character
from etl import catalog, conf
from etl.exceptions import InvalidInput
from etl.models import Fund, PathConfig, System
from etl.selectors import system_get
from etl.services.inputs import clean_system_code, clean_text


def _system(system_id: int | str, *, lock: bool = False) -> System:
    return system_get(system_id=system_id, queryset=System.objects.select_for_update() if lock else None)


def system_validate(*, code: str, name: str = "", base_url: str = "", command_name: str | None = None) -> None:
    """Check a system's fields before anything is written, or raise naming the field."""
    clean_system_code("code", code)
    clean_text("name", name, model=System, column="name")
    clean_text("base_url", base_url, model=System, column="base_url")
    if command_name and command_name not in conf.commands():
        raise InvalidInput("command_name", f"must be one of the commands in ETL_COMMANDS: {sorted(conf.commands())}")


@transaction.atomic
def system_save(
    *,
    code: str,
    name: str,
    active: bool = True,
    base_url: str = "",
    command_name: str | None = None,
    acting_user: Any,
) -> System:
    """Create or update system ``code`` (its options start at the system's defaults)."""
    system_validate(code=code, name=name, base_url=base_url, command_name=command_name)
    system, created = System.objects.select_for_update().get_or_create(
        code=code, defaults={"name": name, "options": catalog.default_options(code)}
    )
    system.name, system.active, system.base_url = name, active, base_url
    if command_name is not None:
        system.command_name = command_name
    system.save()
    audit.record(
        "system.create" if created else "system.update",
        actor=acting_user,
        target=f"system:{system.pk}",
        data={"code": code, "name": name, "active": active, "base_url": base_url, "command_name": system.command_name},
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
    code = clean_text("code", code.strip(), model=Fund, column="code")
    if not code:
        raise InvalidInput("code", "is required")
    clean_text("name", name, model=Fund, column="name")
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
    """Return ``raw`` normalised if it is an acceptable report folder, else raise naming ``field``.

    Absolute, no ``..``, no control or invisible character, at most the column's length, under one of
    ``ETL_REPORT_ROOTS``. Nothing is created or read on disk here (the web process): the worker, which
    writes the reports, creates and checks the folder on first use (:func:`folders_prepare`).
    """
    if not isinstance(raw, str) or not raw:
        raise InvalidInput(field, "is required")
    problem = unsafe_character(raw, invisible=True)
    if problem:
        raise InvalidInput(field, f"must not contain a {problem}")
    clean_text(field, raw, model=PathConfig, column="path")
    if not raw.startswith("/"):
        raise InvalidInput(field, f"{raw!r} must be an absolute path")
    if ".." in raw.split("/"):
        raise InvalidInput(field, f"{raw!r} must not contain '..'")
    folder = Path(os.path.normpath(raw))
    roots = conf.report_roots()
    if not any(folder.is_relative_to(root) for root in roots):
        raise InvalidInput(field, f"{str(folder)!r} is not under a report root ({', '.join(map(str, roots))})")
    return folder


def folder_prepare(raw: str) -> Path:
    """Create folder ``raw`` if needed and check it in this process (the worker's); raise naming ``path``.

    The real path (symbolic links resolved) must still lie under a report root, and be a writable folder.
    """
    folder = validate_folder("path", raw)
    roots = [Path(os.path.realpath(root)) for root in conf.report_roots()]

    def inside() -> Path:
        real = Path(os.path.realpath(folder))  # links of the parts that exist resolved
        if not any(real.is_relative_to(root) for root in roots):
            raise InvalidInput("path", f"{str(folder)!r} leads out of the report roots (to {str(real)!r})")
        return real

    inside()  # before creating anything: a link must not make us create folders elsewhere
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput("path", f"cannot create {str(folder)!r}: {exc.strerror}") from None
    real = inside()
    if not real.is_dir() or not os.access(real, os.W_OK | os.X_OK):
        raise InvalidInput("path", f"{str(folder)!r} is not a writable folder")
    return folder


def folders_problem() -> str:
    """Prepare every configured report folder in this process; return what is wrong ("" when nothing is)."""
    for config in PathConfig.objects.order_by("kind"):
        try:
            folder_prepare(config.path)
        except InvalidInput as exc:
            return f"report folder {config.kind}: {str(exc).split(': ', 1)[-1]}"
    return ""


@transaction.atomic
def path_save(*, kind: str, path: str, acting_user: Any) -> PathConfig:
    """Set the folder of report ``kind`` (csv, pdf, excel): validated here, created by the worker on first use."""
    if kind not in PathConfig.Kind.values:
        raise InvalidInput("kind", f"must be one of {PathConfig.Kind.values}")
    folder = validate_folder("path", path)  # created and checked by the worker on first use
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
