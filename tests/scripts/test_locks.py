"""`make run` installs what running needs; `make test` adds the dev tools at the same pins."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEV_TOOLS = {"pytest", "mypy", "pylint", "playwright", "ruff", "schemathesis", "import-linter"}


def _pins(name: str) -> dict[str, str]:
    text = (ROOT / name).read_text()
    return dict(re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==(\S+)", text, flags=re.MULTILINE))


def _prerequisites(makefile: str, target: str) -> set[str]:
    match = re.search(rf"^{re.escape(target)}:([^\n]*)", makefile, flags=re.MULTILINE)
    assert match, target
    return set(match.group(1).split())


def test_the_runtime_lock_has_no_dev_tool_and_the_dev_lock_keeps_its_pins() -> None:
    runtime, dev = _pins("requirements.lock"), _pins("requirements-dev.lock")
    assert DEV_TOOLS.isdisjoint(runtime)
    assert set(dev) >= DEV_TOOLS
    assert {name: dev[name] for name in runtime} == runtime


def test_make_run_never_reaches_the_dev_install_and_make_test_always_does() -> None:
    makefile = (ROOT / "Makefile").read_text()

    def reaches(target: str, seen: set[str]) -> set[str]:
        for prerequisite in _prerequisites(makefile, target) - seen:
            seen.add(prerequisite)
            if re.search(rf"^{re.escape(prerequisite)}:", makefile, flags=re.MULTILINE):
                reaches(prerequisite, seen)
        return seen

    assert "install-dev" not in reaches("run", set())
    assert "install-dev" in reaches("test", set())
    assert "requirements-dev.lock" in makefile.split("install-dev:", 1)[1].split("\n\n", 1)[0]
