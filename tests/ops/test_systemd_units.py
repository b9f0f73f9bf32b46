"""The shipped systemd units agree with where report folders are created: by the worker, under ETL_REPORT_ROOTS."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNITS = ROOT / "ops" / "systemd"


def _directives(unit: str, name: str) -> list[str]:
    values: list[str] = []
    for line in (UNITS / unit).read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            values.extend(value.split())
    return values


def _env_example(name: str) -> str:
    for line in (UNITS / "resync.env.example").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == name:
            return value.strip()
    raise AssertionError(f"{name} is not in resync.env.example")


def _covered(path: str, writable: list[str]) -> bool:
    return any(Path(path).is_relative_to(allowed) for allowed in writable)


def test_every_report_root_is_writable_by_the_worker_and_not_by_the_web() -> None:
    roots = [r for r in _env_example("ETL_REPORT_ROOTS").split(",") if r]
    assert roots, "resync.env.example sets no report root"
    worker = _directives("resync-worker@.service", "ReadWritePaths")
    web = _directives("resync-web@.service", "ReadWritePaths")
    for root in roots:
        assert _covered(root, worker), f"the worker unit cannot write {root} (ReadWritePaths={worker})"
        assert not _covered(root, web), f"the web unit may write {root}, but it must not create report folders"


def test_both_units_sandbox_the_file_system() -> None:
    for unit in ("resync-web@.service", "resync-worker@.service"):
        assert _directives(unit, "ProtectSystem") == ["strict"], unit
        assert _directives(unit, "PrivateTmp") == ["true"], unit  # steps hand positions over in the worker's /tmp


def test_the_operations_guide_says_who_creates_report_folders() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    assert "validated by the web, created by the worker" in guide
    assert "ETL_REPORT_ROOTS" in guide
