"""Websocket consumers: authentication, permissions, resume without gap or duplicate, malformed frames."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from tests.console.conftest import append_lines, communicator, publish_stored, receive_until, seqs

pytestmark = pytest.mark.django_db(transaction=True)


def _is_line(seq: int) -> Any:
    return lambda f: seq in seqs([f])


async def test_unauthenticated_connection_is_refused(running_job: Any) -> None:
    for path in ("/ws", f"/ws/jobs/{running_job.pk}"):
        comm = communicator(path)
        connected, _ = await comm.connect()
        assert not connected


async def test_invalid_token_is_refused(running_job: Any) -> None:
    comm = communicator("/ws", token="rsy_not-a-real-token")
    connected, _ = await comm.connect()
    assert not connected


async def test_foreign_origin_is_refused(running_job: Any, viewer: Any, token_for: Any) -> None:
    from channels.testing import WebsocketCommunicator

    from resync_site.asgi import application

    token = await sync_to_async(token_for)(viewer)
    comm = WebsocketCommunicator(
        application,
        "/ws",
        headers=[(b"origin", b"http://evil.example"), (b"authorization", f"Bearer {token}".encode())],
    )
    connected, _ = await comm.connect()
    assert not connected


async def test_user_without_view_right_is_refused(running_job: Any, django_user_model: Any, token_for: Any) -> None:
    nobody = await sync_to_async(django_user_model.objects.create_user)(username="nobody", password="pw-nobody-1")
    token = await sync_to_async(token_for)(nobody)
    comm = communicator("/ws", token)
    connected, _ = await comm.connect()
    assert not connected


async def test_viewer_receives_logs_but_cancel_is_refused(running_job: Any, viewer: Any, token_for: Any) -> None:
    token = await sync_to_async(token_for)(viewer)
    comm = communicator("/ws", token)
    connected, _ = await comm.connect()
    assert connected
    await comm.send_json_to({"type": "subscribe", "job_id": running_job.pk, "last_seq": 0})
    await receive_until(comm, lambda f: f["type"] == "status")  # the job's state after the (empty) backlog

    await sync_to_async(append_lines)(running_job, 1, 3)
    frames = await receive_until(comm, _is_line(3))
    log = next(f for f in frames if f["type"] == "log")
    assert set(log["payload"]) == {"job_id", "level", "sistema", "sistema_id", "mensagem", "timestamp", "seq"}
    assert (log["payload"]["sistema"], log["payload"]["sistema_id"]) == ("MAPS", "maps")
    assert seqs(frames) == [1, 2, 3]

    await comm.send_json_to({"type": "cancel", "job_id": running_job.pk})
    error = await receive_until(comm, lambda f: f["type"] == "error")
    assert error[-1]["payload"]["code"] == "forbidden"
    await running_job.arefresh_from_db()
    assert running_job.cancel_requested_at is None
    await comm.disconnect()


async def test_operator_cancel_is_accepted_and_audited(running_job: Any, operator: Any, token_for: Any) -> None:
    from audit.testing import recorded_entries

    token = await sync_to_async(token_for)(operator)
    comm = communicator("/ws", token)
    assert (await comm.connect())[0]
    await comm.send_json_to({"type": "cancel", "job_id": running_job.pk})
    frames = await receive_until(comm, lambda f: f["type"] in ("cancel_requested", "error"))
    assert frames[-1] == {"type": "cancel_requested", "payload": {"job_id": running_job.pk, "status": "RUNNING"}}
    await running_job.arefresh_from_db()
    assert running_job.cancel_requested_at is not None
    entries = await sync_to_async(recorded_entries)()
    assert any(e["action"] == "job.cancel" and e["target"] == f"job:{running_job.pk}" for e in entries)

    await comm.send_json_to({"type": "cancel", "job_id": 987654})
    frames = await receive_until(comm, lambda f: f["type"] == "error")
    assert frames[-1]["payload"]["code"] == "job_not_found"
    await comm.disconnect()


async def test_session_cookie_authenticates(running_job: Any, viewer: Any) -> None:
    from django.test import Client

    client = Client()
    await sync_to_async(client.force_login)(viewer)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    comm = communicator(f"/ws/jobs/{running_job.pk}", cookie=cookie)
    connected, _ = await comm.connect()
    assert connected
    await comm.disconnect()


async def test_reconnect_with_last_seq_gets_exactly_the_missing_lines_then_live(
    running_job: Any, viewer: Any, token_for: Any
) -> None:
    token = await sync_to_async(token_for)(viewer)
    await sync_to_async(append_lines)(running_job, 1, 2500)  # more than one database page

    comm = communicator(f"/ws/jobs/{running_job.pk}?last_seq=1200", token)
    assert (await comm.connect())[0]
    backlog = await receive_until(comm, lambda f: f["type"] == "status")
    assert seqs(backlog) == list(range(1201, 2501))

    await sync_to_async(append_lines)(running_job, 2501, 2510)
    live = await receive_until(comm, _is_line(2510))
    assert seqs(live) == list(range(2501, 2511))
    await comm.disconnect()


async def test_lost_live_messages_are_filled_from_the_database(running_job: Any, viewer: Any, token_for: Any) -> None:
    token = await sync_to_async(token_for)(viewer)
    comm = communicator("/ws", token)
    assert (await comm.connect())[0]
    await comm.send_json_to({"type": "hello", "batch": True})
    await receive_until(comm, lambda f: f["type"] == "hello")
    await comm.send_json_to({"type": "subscribe", "job_id": running_job.pk, "last_seq": 0})
    await receive_until(comm, lambda f: f["type"] == "status")

    await sync_to_async(append_lines)(running_job, 1, 5)
    await sync_to_async(append_lines)(running_job, 6, 9, publish=False)  # their channel messages were lost
    await sync_to_async(append_lines)(running_job, 10, 12)
    frames = await receive_until(comm, _is_line(12))
    assert seqs(frames) == list(range(1, 13))
    assert {f["type"] for f in frames} <= {"log_batch", "status"}
    await comm.disconnect()


async def test_logs_of_unsubscribed_jobs_are_not_relayed_but_status_is(
    running_job: Any, viewer: Any, token_for: Any
) -> None:
    token = await sync_to_async(token_for)(viewer)
    comm = communicator("/ws", token)
    assert (await comm.connect())[0]
    await sync_to_async(append_lines)(running_job, 1, 3)
    frames = await receive_until(comm, lambda f: f["type"] == "status")
    assert seqs(frames) == []
    assert frames[-1]["payload"]["job_id"] == running_job.pk
    await comm.disconnect()


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "malformed"),
        ("[1, 2]", "malformed"),
        ('{"no": "type"}', "malformed"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "subscribe", "job_id": "1"}', "invalid_job_id"),
        ('{"type": "subscribe", "job_id": 1, "last_seq": -4}', "invalid_last_seq"),
        ('{"type": "subscribe", "job_id": 424242}', "job_not_found"),
        ('{"type": "cancel"}', "invalid_job_id"),
        ("x" * 20000, "frame_too_large"),
    ],
)
async def test_malformed_frames_get_an_error_frame_and_the_socket_stays_usable(
    running_job: Any, viewer: Any, token_for: Any, frame: str, code: str
) -> None:
    token = await sync_to_async(token_for)(viewer)
    comm = communicator("/ws", token)
    assert (await comm.connect())[0]
    await comm.send_to(text_data=frame)
    reply = await comm.receive_json_from(timeout=10)
    assert reply["type"] == "error"
    assert reply["payload"]["code"] == code
    await comm.send_json_to({"type": "ping"})
    assert (await comm.receive_json_from(timeout=10))["type"] == "pong"
    await comm.disconnect()


async def test_one_job_socket_refuses_another_job(running_job: Any, viewer: Any, token_for: Any) -> None:
    token = await sync_to_async(token_for)(viewer)
    comm = communicator(f"/ws/jobs/{running_job.pk}", token)
    assert (await comm.connect())[0]
    await receive_until(comm, lambda f: f["type"] == "status")
    await comm.send_json_to({"type": "subscribe", "job_id": running_job.pk + 1})
    frames = await receive_until(comm, lambda f: f["type"] == "error")
    assert frames[-1]["payload"]["code"] == "wrong_job"
    await comm.disconnect()


async def test_finished_job_sends_backlog_then_completion(running_job: Any, viewer: Any, token_for: Any) -> None:
    from etl.services import job_finish

    token = await sync_to_async(token_for)(viewer)
    await sync_to_async(append_lines)(running_job, 1, 4, publish=False)
    await sync_to_async(job_finish)(job_id=running_job.pk, status="success", exit_code=0, summary="")
    comm = communicator(f"/ws/jobs/{running_job.pk}?batch=1", token)
    assert (await comm.connect())[0]
    frames = await receive_until(comm, lambda f: f["type"] == "job_complete")
    assert seqs(frames) == [1, 2, 3, 4]
    assert frames[-1]["payload"]["status"] == "SUCCESS"
    await comm.disconnect()


async def test_lines_delivered_again_are_not_sent_twice(running_job: Any, viewer: Any, token_for: Any) -> None:
    token = await sync_to_async(token_for)(viewer)
    await sync_to_async(append_lines)(running_job, 1, 3, publish=False)
    comm = communicator(f"/ws/jobs/{running_job.pk}", token)
    assert (await comm.connect())[0]
    backlog = await receive_until(comm, lambda f: f["type"] == "status")
    assert seqs(backlog) == [1, 2, 3]
    await sync_to_async(append_lines)(running_job, 4, 6, publish=False)
    await sync_to_async(publish_stored)(running_job, 1, 6)  # 1-3 are duplicates the consumer must drop
    frames = await receive_until(comm, _is_line(6))
    assert seqs(frames) == [4, 5, 6]
    await comm.disconnect()


@pytest.mark.parametrize("batch", [True, False])
async def test_published_runs_are_relayed_once_each_without_gap(
    running_job: Any, viewer: Any, token_for: Any, batch: bool
) -> None:
    token = await sync_to_async(token_for)(viewer)
    await sync_to_async(append_lines)(running_job, 1, 12, publish=False)
    comm = communicator(f"/ws/jobs/{running_job.pk}?last_seq=2" + ("&batch=1" if batch else ""), token)
    assert (await comm.connect())[0]
    backlog = await receive_until(comm, lambda f: f["type"] == "status")
    assert seqs(backlog) == list(range(3, 13))
    await sync_to_async(append_lines)(running_job, 13, 20, publish=False)
    await sync_to_async(publish_stored)(running_job, 9, 12)  # again: duplicates, dropped
    await sync_to_async(publish_stored)(running_job, 13, 15)  # the next lines
    await sync_to_async(publish_stored)(running_job, 18, 20)  # 16 and 17 were lost: read from the database
    frames = await receive_until(comm, _is_line(20))
    assert seqs(frames) == list(range(13, 21))
    assert {f["type"] for f in frames if f["type"] != "status"} == ({"log_batch"} if batch else {"log"})
    await comm.disconnect()


async def test_lines_whose_messages_were_lost_at_the_end_arrive_before_job_complete(
    running_job: Any, viewer: Any, token_for: Any
) -> None:
    from etl.services import job_finish

    token = await sync_to_async(token_for)(viewer)
    comm = communicator(f"/ws/jobs/{running_job.pk}?batch=1", token)
    assert (await comm.connect())[0]
    await receive_until(comm, lambda f: f["type"] == "status")
    await sync_to_async(append_lines)(running_job, 1, 5)
    await sync_to_async(append_lines)(running_job, 6, 8, publish=False)  # the last messages were dropped
    await sync_to_async(job_finish)(job_id=running_job.pk, status="success", exit_code=0, summary="")
    frames = await receive_until(comm, lambda f: f["type"] == "job_complete")
    assert seqs(frames) == list(range(1, 9))
    await comm.disconnect()


async def test_cancel_over_the_socket_shares_the_api_rate_limit(
    running_job: Any, operator: Any, token_for: Any, settings: Any
) -> None:
    from django.core.cache import caches
    from django.test import Client

    from cachemig.ratelimit import CACHE_ALIAS

    await sync_to_async(caches[CACHE_ALIAS].clear)()  # no budget left over from an earlier test
    settings.ETL_RATE_LIMIT_REQUESTS = 2
    token = await sync_to_async(token_for)(operator)
    # One cancel through the REST API uses the budget the socket draws from too.
    answer = await sync_to_async(Client().post)(
        f"/api/cancel/{running_job.pk}", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 202, answer.content
    comm = communicator("/ws", token)
    assert (await comm.connect())[0]
    await comm.send_json_to({"type": "cancel", "job_id": running_job.pk})
    frames = await receive_until(comm, lambda f: f["type"] in ("cancel_requested", "error"))
    assert frames[-1]["type"] == "cancel_requested"
    await comm.send_json_to({"type": "cancel", "job_id": running_job.pk})
    frames = await receive_until(comm, lambda f: f["type"] == "error")
    assert frames[-1]["payload"]["code"] == "rate_limited"
    assert "retry in" in frames[-1]["payload"]["detail"]
    await comm.disconnect()


async def test_one_sockets_slow_query_does_not_hold_up_another_sockets_handshake_and_backlog(
    running_job: Any, viewer: Any, token_for: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each connection's database work runs on its own thread: one stuck query freezes one socket only.

    The first socket's query does not return until the second socket has authenticated, been accepted
    and read its backlog and state. Were the database calls of both sockets on one thread, the second
    socket's calls would queue behind the stuck one and the release would never come (the wait gives
    up after a bound, and the test fails on what it recorded, not on how long anything took).
    """
    import asyncio
    import threading

    from etl import console_selectors
    from etl.models import Job, Status

    token = await sync_to_async(token_for)(viewer)
    other_job = await Job.objects.acreate(
        kind=Job.Kind.PIPELINE, systems=["maps"], options={}, status=Status.PENDING, created_at=running_job.created_at
    )
    stuck, other_served = threading.Event(), threading.Event()
    served_while_stuck: list[bool] = []
    real_exists, real_state = console_selectors.job_exists, console_selectors.job_state_messages

    def job_exists(*, job_id: int) -> bool:
        if job_id == running_job.pk:  # the slow socket: a lock wait, a slow disk
            stuck.set()
            served_while_stuck.append(other_served.wait(timeout=60))
        return real_exists(job_id=job_id)

    def job_state_messages(*, job_id: int) -> list[dict[str, Any]]:
        messages = real_state(job_id=job_id)
        if job_id == other_job.pk:  # the other socket's last database call of its handshake and backlog
            other_served.set()
        return messages

    monkeypatch.setattr(console_selectors, "job_exists", job_exists)
    monkeypatch.setattr(console_selectors, "job_state_messages", job_state_messages)
    slow = communicator(f"/ws/jobs/{running_job.pk}", token)
    other = communicator(f"/ws/jobs/{other_job.pk}", token)
    async with asyncio.TaskGroup() as tg:
        slow_connect = tg.create_task(slow.connect(timeout=120))
        assert await asyncio.to_thread(stuck.wait, 60), "the slow socket never reached its query"
        assert (await other.connect(timeout=120))[0]
        other_frames = await receive_until(other, lambda f: f["type"] == "status")
    assert served_while_stuck == [True], "the other socket was not served while the slow one was stuck"
    assert other_frames[-1]["payload"]["job_id"] == other_job.pk
    assert slow_connect.result()[0]
    slow_frames = await receive_until(slow, lambda f: f["type"] == "status")
    assert slow_frames[-1]["payload"]["job_id"] == running_job.pk
    await other.disconnect()
    await slow.disconnect()


async def test_a_send_to_a_client_already_gone_ends_the_relay_quietly() -> None:
    """The server refuses a send on a socket closed before its disconnect event arrived: no traceback."""
    from autobahn.exception import Disconnected

    from etl.consumers import JobEventsConsumer

    consumer = JobEventsConsumer()
    sent: list[dict[str, Any]] = []

    async def gone(message: dict[str, Any]) -> None:
        sent.append(message)
        raise Disconnected("Attempt to send on a closed protocol")

    consumer.base_send = gone
    consumer.is_open = True
    await consumer._send_json({"type": "status", "payload": {"job_id": 1}})
    assert len(sent) == 1  # it was tried once
    assert not consumer.is_open
    assert consumer.closing.is_set()  # the batch flusher stops too
    await consumer._send_json({"type": "status", "payload": {"job_id": 1}})
    assert len(sent) == 1  # and nothing more is sent to a closed socket
