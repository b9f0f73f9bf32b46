"""Production channel layer: a line stored and published by another OS process reaches a websocket client."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from tests.console.conftest import append_lines, communicator, receive_until, seqs

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.redis]

ROOT = Path(__file__).resolve().parents[2]

# What a Huey worker does for a running step: store a batch of lines, publish after commit.
PUBLISHER = textwrap.dedent(
    """
    import os, sys
    import django
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "resync_site.settings")
    django.setup()
    from django.utils import timezone
    from etl.services import step_lines_append
    job_id, step_id, first, last = map(int, sys.argv[1:5])
    now = timezone.now()
    rows = [(seq, now, "INFO", "maps", f"from worker {os.getpid()} line {seq}") for seq in range(first, last + 1)]
    step_lines_append(job_id=job_id, step_id=step_id, rows=rows, progress=50, line_count=last, status_text="worker")
    print("published", flush=True)
    """
)


def _database_url() -> str:
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        return f"sqlite:///{os.path.abspath(name)}"
    pytest.skip("the two-process drill runs in the SQLite pass")
    return ""


async def _publish_from_another_process(redis_url: str, job: Any, first: int, last: int, var_dir: Path) -> str:
    step_id = await sync_to_async(lambda: job.steps.get().pk)()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "REDIS_URL", "RESYNC_"))}
    env.update(
        DATABASE_URL=await sync_to_async(_database_url)(),
        REDIS_URL=redis_url,
        RESYNC_VAR_DIR=str(var_dir),
        PYTHONPATH=str(ROOT),
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        PUBLISHER,
        str(job.pk),
        str(step_id),
        str(first),
        str(last),
        cwd=str(ROOT),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, err.decode()[-2000:]
    return out.decode()


# redis-py 8 reads with a 5 s socket timeout, exactly channels_redis's 5 s BZPOPMIN: an idle
# consumer then dies with "Timeout reading". The production layer needs a longer socket timeout.
LAYER_SOCKET_TIMEOUT = 15


async def test_lines_published_by_another_process_reach_the_client_through_redis(
    redis_url: str, settings: Any, running_job: Any, viewer: Any, token_for: Any, tmp_path: Path
) -> None:
    host = {"address": redis_url, "socket_timeout": LAYER_SOCKET_TIMEOUT}
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [host]}}
    }
    token = await sync_to_async(token_for)(viewer)
    await sync_to_async(append_lines)(running_job, 1, 5, publish=False)

    comm = communicator(f"/ws/jobs/{running_job.pk}?last_seq=2&batch=1", token)
    assert (await comm.connect())[0]
    backlog = await receive_until(comm, lambda f: f["type"] == "status")
    assert seqs(backlog) == [3, 4, 5]

    out = await _publish_from_another_process(redis_url, running_job, 6, 40, tmp_path)
    assert "published" in out
    live = await receive_until(comm, lambda f: 40 in seqs([f]))
    assert seqs(live) == list(range(6, 41))
    messages = [line["mensagem"] for f in live if f["type"] == "log_batch" for line in f["payload"]["lines"]]
    assert all(m.startswith("from worker ") for m in messages)
    assert str(os.getpid()) not in messages[0].split()[2]  # really another process
    await comm.disconnect()
