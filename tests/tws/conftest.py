"""Fixtures of the tws tests: a real simulator over HTTP and fast client settings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tws.hwa.settings import TWSSettings
from tws.simulator.threaded import ThreadedSimulator

SIM_USER = "twsuser"
SIM_PASSWORD = "S3cr3t-tws-Pa55word!"  # searched for in every leak test


@pytest.fixture(scope="session")
def simulator() -> Iterator[ThreadedSimulator]:
    """Serve a 300-job plan for the whole session (faults reset by ``sim``)."""
    sim = ThreadedSimulator(jobs=300, seed=11, username=SIM_USER, password=SIM_PASSWORD)
    yield sim
    sim.close()


@pytest.fixture
def sim(simulator: ThreadedSimulator) -> Iterator[ThreadedSimulator]:
    """Return the session simulator with no faults, a frozen clock and an empty request log."""
    simulator.set_faults()
    simulator.server.plan.freeze(True)
    simulator.server.requests.clear()
    if not simulator.server.url:
        simulator.start_listening()
    yield simulator
    simulator.set_faults()
    if not simulator.server.url or simulator.server._runner is None:
        simulator.start_listening()


def fast_settings(url: str, **overrides: Any) -> TWSSettings:
    """Return client settings with short timeouts and backoff (tests stay quick)."""
    values: dict[str, Any] = {
        "base_url": url,
        "username": SIM_USER,
        "password": SIM_PASSWORD,
        "timeout_seconds": 0.5,
        "connect_timeout_seconds": 0.5,
        "retry_attempts": 6,
        "retry_backoff_base_seconds": 0.005,
        "retry_backoff_max_seconds": 0.05,
        "retry_after_cap_seconds": 3,
        "breaker_window": 100,
        "breaker_min_calls": 20,
        "breaker_consecutive_failures": 10,
        "breaker_reset_seconds": 0.3,
    }
    values.update(overrides)
    return TWSSettings(**values)


@pytest.fixture
def tws_settings(sim: ThreadedSimulator) -> TWSSettings:
    return fast_settings(sim.url)


def client_env(monkeypatch: pytest.MonkeyPatch, settings: Any, sim: ThreadedSimulator, *, v2: bool) -> None:
    """Point the TWS client of this process at ``sim`` with the v2 flag forced ``v2`` (and no client cached)."""
    from tws.hwa.client import forget_tws_clients

    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true" if v2 else "false")
    monkeypatch.setenv("TWS_BASE_URL", sim.url)
    monkeypatch.setenv("TWS_USERNAME", SIM_USER)
    monkeypatch.setenv("TWS_PASSWORD", SIM_PASSWORD)
    monkeypatch.setenv("TWS_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("TWS_TIMEOUT_SECONDS", "2")
    settings.TWS_FLAG_CACHE_SECONDS = 0
    forget_tws_clients()
