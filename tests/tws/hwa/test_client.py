"""The unified client against the simulator over real HTTP: singleton, connect, resilience, routing."""

from __future__ import annotations

import asyncio
import random
import threading
from typing import Any

import pytest

from tests.tws.conftest import fast_settings
from tws.exceptions import CircuitOpenError, TWSAuthenticationError, TWSConnectionError, TWSTimeoutError
from tws.hwa import client as client_module
from tws.hwa.client import ClientState, UnifiedTWSClient, get_tws_client, reset_tws_client
from tws.hwa.contract import ITWSUnifiedClient, Job
from tws.hwa.settings import TWSSettings
from tws.simulator.threaded import ThreadedSimulator


@pytest.fixture(autouse=True)
def _v2_routing(monkeypatch: pytest.MonkeyPatch, settings: Any) -> None:
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    settings.TWS_FLAG_CACHE_SECONDS = 0
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


@pytest.fixture
async def client(tws_settings: TWSSettings) -> Any:
    c = UnifiedTWSClient(tws_settings)
    yield c
    await c.disconnect()


def _job_id(sim: ThreadedSimulator, index: int = 0) -> str:
    return sim.server.plan.jobs[index].id


async def test_200_concurrent_first_calls_construct_exactly_one_client(
    tws_settings: TWSSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await reset_tws_client()
    constructed: list[int] = []
    original = UnifiedTWSClient.__init__

    def counting_init(self: UnifiedTWSClient, settings: TWSSettings) -> None:
        constructed.append(1)
        original(self, settings)

    monkeypatch.setattr(UnifiedTWSClient, "__init__", counting_init)
    clients = await asyncio.gather(*(get_tws_client(settings=tws_settings) for _ in range(200)))
    assert len(constructed) == 1
    assert len({id(c) for c in clients}) == 1

    other: list[UnifiedTWSClient] = []
    thread = threading.Thread(target=lambda: other.append(asyncio.run(get_tws_client(settings=tws_settings))))
    thread.start()
    thread.join()
    assert other[0] is not clients[0]  # one instance per event loop
    await reset_tws_client()


async def test_1000_interleaved_connects_and_disconnects_finish_without_deadlock(client: UnifiedTWSClient) -> None:
    rng = random.Random(5)
    calls = [client.connect() if rng.random() < 0.5 else client.disconnect() for _ in range(1000)]
    await asyncio.wait_for(asyncio.gather(*calls), timeout=60)
    await client.connect()
    assert client.state == ClientState.CONNECTED
    await client.disconnect()
    assert client.state == ClientState.DISCONNECTED
    assert client._client is None


async def test_a_failed_connect_leaves_no_client_and_state_error(sim: ThreadedSimulator) -> None:
    sim.stop_listening()
    try:
        c = UnifiedTWSClient(fast_settings(sim.url, retry_attempts=2))
        with pytest.raises(TWSConnectionError):
            await c.connect()
        assert c._client is None
        assert c.state == ClientState.ERROR
    finally:
        sim.start_listening()
    await c.connect()  # the next connect works once the server is back
    assert c.state == ClientState.CONNECTED
    await c.disconnect()


@pytest.mark.slow
async def test_99_percent_of_1000_calls_succeed_with_20_percent_503_and_5_percent_hangs(sim: ThreadedSimulator) -> None:
    c = UnifiedTWSClient(fast_settings(sim.url, timeout_seconds=1.5, retry_attempts=6))
    await c.connect()
    sim.set_faults(error_503=0.2, hang=0.05, hang_seconds=2)
    gate = asyncio.Semaphore(20)
    ids = [_job_id(sim, i % 300) for i in range(1000)]

    async def one(job_id: str) -> bool:
        async with gate:
            try:
                job = await c.get_job(job_id)
            except Exception:
                return False
            return job.id == job_id

    results = await asyncio.gather(*(one(i) for i in ids))
    sim.set_faults()
    await c.disconnect()
    outcomes = [r.outcome for r in sim.requests("/plan/job/")]
    # The faults really were injected (as shares of what the simulator logged: ~20 % and ~5 %).
    assert outcomes.count("503") >= 0.1 * len(outcomes)
    assert outcomes.count("hang") >= 0.02 * len(outcomes)
    assert c.resilience.breaker.open_count == 0  # the faults stayed below what opens the circuit
    assert sum(results) >= 990


async def test_the_breaker_opens_rejects_without_reaching_the_server_and_closes_after_recovery(
    sim: ThreadedSimulator,
) -> None:
    c = UnifiedTWSClient(fast_settings(sim.url, retry_attempts=2, breaker_reset_seconds=0.3))
    await c.connect()
    sim.set_faults(error_503=1.0)
    for _ in range(50):
        try:
            await c.get_job(_job_id(sim))
        except CircuitOpenError:
            break
        except Exception:  # noqa: S112 — 503s until the breaker opens
            continue
    assert c.breaker_state == "open"
    reached = len(sim.requests())
    for _ in range(20):
        with pytest.raises(CircuitOpenError):
            await c.get_job(_job_id(sim))
    assert len(sim.requests()) == reached  # rejected without any request reaching the simulator

    sim.set_faults()
    await asyncio.sleep(0.35)
    for _ in range(3):
        assert (await c.get_job(_job_id(sim))).id == _job_id(sim)
    assert c.breaker_state == "closed"
    await c.disconnect()


async def test_the_breaker_opens_when_the_simulator_is_down_and_closes_when_it_is_back(sim: ThreadedSimulator) -> None:
    c = UnifiedTWSClient(fast_settings(sim.url, retry_attempts=2, breaker_reset_seconds=0.3))
    await c.connect()
    sim.stop_listening()
    try:
        for _ in range(30):
            try:
                await c.get_job(_job_id(sim))
            except CircuitOpenError:
                break
            except TWSConnectionError:
                continue
        assert c.breaker_state == "open"
        with pytest.raises(CircuitOpenError):
            await c.get_engine_info()
    finally:
        sim.start_listening()
    await asyncio.sleep(0.35)
    for _ in range(3):
        await c.get_job(_job_id(sim))
    assert c.breaker_state == "closed"
    await c.disconnect()


async def test_401_raises_authentication_error_without_retrying(sim: ThreadedSimulator) -> None:
    c = UnifiedTWSClient(fast_settings(sim.url, password="not-the-right-password"))
    with pytest.raises(TWSAuthenticationError):
        await c.connect()
    assert len(sim.requests()) == 1

    good = UnifiedTWSClient(fast_settings(sim.url))
    await good.connect()
    sim.server.requests.clear()
    sim.set_faults(unauthorized_401=1.0)
    with pytest.raises(TWSAuthenticationError):
        await good.get_job(_job_id(sim))
    assert [r.outcome for r in sim.requests()] == ["401"]
    await good.disconnect()


async def test_429_waits_for_retry_after_before_retrying(sim: ThreadedSimulator) -> None:
    c = UnifiedTWSClient(fast_settings(sim.url, retry_after_cap_seconds=5))
    await c.connect()
    sim.server.requests.clear()
    sim.set_faults(throttle_429=1.0, retry_after=1)
    call = asyncio.create_task(c.get_job(_job_id(sim)))
    while not sim.requests("/plan/job/"):  # noqa: ASYNC110 — polling another thread's log
        await asyncio.sleep(0.01)
    sim.set_faults()
    job = await call
    assert job.id == _job_id(sim)
    first, second = sim.requests("/plan/job/")[:2]
    assert (first.outcome, first.retry_after, second.outcome) == ("429", 1, "200")
    assert second.at - first.at >= 1.0  # the simulator saw the retry only after Retry-After
    await c.disconnect()


async def test_flipping_the_flag_routes_the_next_calls_to_the_legacy_client(
    client: UnifiedTWSClient, sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_id, v1_id = _job_id(sim, 3), sim.server.plan.jobs[3].v1_id
    v2 = await client.get_job(job_id)
    assert sim.requests()[-1].path.startswith("/twsd/api/v2/")
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "false")
    legacy = await client.get_job(v1_id)  # v1 names the job WORKSTATION;JOBSTREAM_ID;JOBNAME
    assert sim.requests()[-1].raw_path == f"/twsd/plan/current/job/{v1_id.replace(';', '%3B')}"
    assert legacy.model_dump(exclude={"id", "job_stream_id"}) == v2.model_dump(exclude={"id", "job_stream_id"})
    monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", "true")
    await client.get_job(job_id)
    assert sim.requests()[-1].path.startswith("/twsd/api/v2/")


async def test_the_unified_client_satisfies_the_contract(client: UnifiedTWSClient, sim: ThreadedSimulator) -> None:
    assert isinstance(client, ITWSUnifiedClient)
    status = await client.get_system_status()
    assert status.reachable
    assert status.api_version == "v2"
    page = await client.get_jobs(limit=10)
    assert page.total == 300
    assert all(isinstance(j, Job) for j in page.items)
    log = await client.get_joblog(page.items[0].id)
    assert page.items[0].name in log.text


async def test_every_call_has_a_timeout(sim: ThreadedSimulator) -> None:
    c = UnifiedTWSClient(fast_settings(sim.url, timeout_seconds=0.3, retry_attempts=2))
    await c.connect()
    sim.set_faults(hang=1.0, hang_seconds=2)
    with pytest.raises(TWSTimeoutError):
        await c.get_job(_job_id(sim))
    outcomes = [r.outcome for r in sim.requests("/plan/job/")]
    assert outcomes
    assert set(outcomes) == {"hang"}  # the server never answered; the client gave up on its own
    await c.disconnect()


async def test_reset_forgets_the_instance(tws_settings: TWSSettings) -> None:
    first = await get_tws_client(settings=tws_settings)
    await reset_tws_client()
    assert await get_tws_client(settings=tws_settings) is not first
    await reset_tws_client()
    assert client_module._instances == {}


async def test_transient_failures_are_retried_up_to_the_attempts_and_404_is_not(sim: ThreadedSimulator) -> None:
    from tws.exceptions import TWSNotFoundError, TWSTransientError

    c = UnifiedTWSClient(fast_settings(sim.url, retry_attempts=3))
    await c.connect()
    sim.server.requests.clear()
    sim.set_faults(error_503=1.0)
    with pytest.raises(TWSTransientError):
        await c.get_job(_job_id(sim))
    assert [r.outcome for r in sim.requests("/plan/job/")] == ["503", "503", "503"]
    sim.set_faults()
    sim.server.requests.clear()
    with pytest.raises(TWSNotFoundError):
        await c.get_job("no-such-job")
    assert [r.outcome for r in sim.requests("/plan/job/")] == ["404"]
    await c.disconnect()


async def test_an_id_goes_to_the_api_that_issued_it_whatever_the_flag_says(
    client: UnifiedTWSClient, sim: ThreadedSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = sim.server.plan.jobs[5]
    for flag in ("false", "true"):
        monkeypatch.setenv("APP_TWS_UNIFIED_V2_ENABLED", flag)
        sim.server.requests.clear()
        by_uuid = await client.get_job_status(job.id)  # synced while v2 served, asked while v1 is chosen
        by_v1 = await client.get_job_status(job.v1_id)
        assert (by_uuid.job_id, by_v1.job_id) == (job.id, job.v1_id)
        assert by_uuid.model_dump(exclude={"job_id"}) == by_v1.model_dump(exclude={"job_id"})
        assert [r.path for r in sim.requests("/job/")] == [
            f"/twsd/api/v2/plan/job/{job.id}",
            f"/twsd/plan/current/job/{job.v1_id}",
        ]
        await client.get_jobs(limit=1)  # calls without an id follow the flag
        assert sim.requests()[-1].path == (
            "/twsd/api/v2/plan/job" if flag == "true" else "/twsd/plan/current/job/query"
        )
