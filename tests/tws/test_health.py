"""The tws health component goes through the unified client: the routing flag, the breaker, the timeout."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.tws.conftest import SIM_PASSWORD, SIM_USER
from tws.exceptions import CircuitOpenError
from tws.health import check
from tws.hwa.client import get_tws_client, reset_tws_client
from tws.simulator.threaded import ThreadedSimulator

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, settings: Any, sim: ThreadedSimulator) -> None:
    monkeypatch.setenv("TWS_BASE_URL", sim.url)
    monkeypatch.setenv("TWS_USERNAME", SIM_USER)
    monkeypatch.setenv("TWS_PASSWORD", SIM_PASSWORD)
    monkeypatch.setenv("TWS_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("TWS_RETRY_BACKOFF_BASE_SECONDS", "0.01")
    settings.TWS_FLAG_CACHE_SECONDS = 0


@pytest.mark.parametrize(("flag", "path"), [("true", "/twsd/api/v2/engine/info"), ("false", "/twsd/engine/info")])
async def test_the_probe_follows_the_routing_flag(
    sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch, flag: str, path: str
) -> None:
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", flag)
    await reset_tws_client()
    report = await sync_to_async(check, thread_sensitive=False)()  # as the health view calls it
    assert report["status"] == "ok"
    assert report["api"] == ("v2" if flag == "true" else "v1")
    assert {r.path for r in sim.requests("/engine/info")} == {path}
    await reset_tws_client()


async def test_with_the_v2_flag_on_and_the_breaker_open_the_probe_reaches_nothing(
    sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    await reset_tws_client()
    client = await get_tws_client()  # the loop's client: the one the API and the health probe share
    sim.set_faults(error_503=1.0)
    for _ in range(60):
        try:
            await client.get_engine_info()
        except CircuitOpenError:
            break
        except Exception:  # noqa: S112 — 503s until the breaker opens
            continue
    assert client.breaker_state == "open"
    sim.set_faults()
    sim.server.requests.clear()
    report = await sync_to_async(check, thread_sensitive=False)()
    assert report["status"] == "degraded"
    assert report["detail"] == "TWS unreachable (tws_circuit_open)"
    assert sim.requests() == []  # the open breaker kept the probe off the server
    await reset_tws_client()
