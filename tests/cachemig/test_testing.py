"""override_flag works as a context manager and as a decorator on sync and async tests."""

from __future__ import annotations

import pytest

from cachemig import flags
from cachemig.testing import override_flag

pytestmark = pytest.mark.django_db
FLAG = "MIGRATION_USE_NEW_RATE_LIMIT"


def test_as_a_context_manager_it_forces_then_restores() -> None:
    assert not flags.is_enabled(FLAG, "k")
    with override_flag(FLAG, active=True):
        assert flags.is_enabled(FLAG, "k")
        with override_flag(FLAG, active=False):
            assert not flags.is_enabled(FLAG, "k")
        assert flags.is_enabled(FLAG, "k")
    assert not flags.is_enabled(FLAG, "k")


def test_it_beats_the_environment_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"APP_{FLAG}", "true")
    with override_flag(FLAG, active=False):
        assert not flags.is_enabled(FLAG, "k")


@override_flag(FLAG, active=True)
def test_as_a_decorator_on_a_sync_test() -> None:
    assert flags.is_enabled(FLAG, "k")


@override_flag("MIGRATION_ENABLE_METRICS", active=False)
async def test_as_a_decorator_on_an_async_test() -> None:
    assert not flags.is_enabled("MIGRATION_ENABLE_METRICS")


def test_the_decorator_restores_after_the_call() -> None:
    @override_flag(FLAG)
    def inner() -> bool:
        return flags.is_enabled(FLAG, "k")

    assert inner()
    assert not flags.is_enabled(FLAG, "k")
